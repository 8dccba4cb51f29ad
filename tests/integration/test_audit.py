# SPDX-License-Identifier: MIT
"""`execmark audit`: the exact CloudTrail join over a mixed scenario.

Contract: given a directory of S3 session transcripts, the container's log stream
(get-log-events JSON) and CloudTrail in all three shapes (an S3 gzip tree with many unrelated
records, lookup-events output, EventBridge events), `execmark audit` gives each session the
right status — clean ATTRIBUTED; FORGED (untrusted key, and a fake boot key inside the session
log); NO-CLOSE (truncated, and cut mid-line); REPLAYED; BYPASSED; UNMARKED; MISMATCH; ORPHAN;
UNSIGNED — and exits 1; with only the clean session it exits 0.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest

import audit_corpus as ac

_missing = ac.prerequisites_missing()
pytestmark = pytest.mark.skipif(_missing is not None, reason=_missing or "")

ALICE = ac.role_arn("dana.ops")
LEE = ac.role_arn("lee.dev")
CI = f"arn:aws:sts::{ac.ACCOUNT}:assumed-role/DeployBot/gha-run-881"


def session_fields(user: str) -> dict:
    return {"user": user, "shell": "/bin/bash", "tty": "/dev/pts/0", "cpid": 4250, "mode": "hook"}


@pytest.fixture(scope="module")
def scenario(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("audit")
    rng = random.Random(4)
    names = ["clean", "forged", "fakeboot", "cut", "cutmid", "replay", "bypass", "unmarked",
             "mismatch", "orphan", "unsigned"]
    sid = {n: ac.session_id(rng) for n in names}

    capture = ac.pty_capture(root / "pty")
    # The genuine sessions are recorded: PID 1's rec checkpoints of each (docs/markers.md §12).
    region = ac.recorded_region(capture)
    genuine_events = []
    for n in ["clean", "forged", "fakeboot", "cut", "cutmid", "replay", "bypass", "mismatch",
              "orphan"]:
        genuine_events.append({"ev": "exec.seen", "wsid": sid[n], "wpid": 900 + len(genuine_events)})
        if n in ("clean", "cut", "cutmid", "orphan"):
            genuine_events.append({"ev": "open", "sid": sid[n], **session_fields("dana.ops")})
            genuine_events += ac.rec_events(sid[n], region)
            genuine_events.append({"ev": "close", "sid": sid[n], "fin": "exit", "rc": 0,
                                   "advance_ms": 600000})
        if n == "mismatch":
            genuine_events.append({"ev": "open", "sid": sid[n], **session_fields("dana.ops")})
            genuine_events += ac.rec_events(sid[n], region)
            genuine_events.append({"ev": "close", "sid": sid[n], "fin": "exit", "rc": 0})
        genuine_events.append({"ev": "exec.gone", "wsid": sid[n], "wpid": 900, "dur": 5000})
    spec = {"boots": [
        {"id": "genuine", "start": "2026-03-02T09:00:00.000Z", "meta": ac.META,
         "events": genuine_events},
        {"id": "attacker", "start": "2026-03-02T09:30:00.000Z", "meta": ac.META,
         "events": [
             {"ev": "open", "sid": sid["forged"], **session_fields("dana.ops")},
             {"ev": "close", "sid": sid["forged"], "fin": "exit", "rc": 0},
             {"ev": "open", "sid": sid["fakeboot"], **session_fields("dana.ops")},
             {"ev": "close", "sid": sid["fakeboot"], "fin": "exit", "rc": 0},
         ]},
        {"id": "laptop", "start": "2026-03-02T09:40:00.000Z",
         "events": [
             {"ev": "open", "sid": sid["unsigned"], "unsigned": "no-agent",
              **session_fields("dana.ops")},
             {"ev": "close", "sid": sid["unsigned"], "unsigned": "no-agent", "fin": "exit",
              "rc": 0},
         ]},
    ]}
    manifest = ac.mksession(spec)
    boots = {b["id"]: b for b in manifest["boots"]}

    def lines(boot: str, session: str) -> dict:
        return {m["ev"]: m["line"] for m in boots[boot]["markers"] if m["sid"] == sid[session]}

    sessions = root / "s3" / "exec-logs" / "payments"
    work = root / "work"

    def transcript(name: str, open_line, close_line) -> Path:
        data = ac.fill_capture(capture, open_line, close_line)
        return ac.script_transcript(data, sessions / f"{sid[name]}.log", work)

    g = {n: lines("genuine", n) for n in ["clean", "cut", "cutmid", "mismatch", "orphan"]}
    transcript("clean", g["clean"]["open"], g["clean"]["close"])
    transcript("orphan", g["orphan"]["open"], g["orphan"]["close"])
    transcript("mismatch", g["mismatch"]["open"], g["mismatch"]["close"])
    a = {n: lines("attacker", n) for n in ["forged", "fakeboot"]}
    transcript("forged", a["forged"]["open"], a["forged"]["close"])
    attacker_boot = boots["attacker"]["markers"][0]["line"]
    transcript("fakeboot", attacker_boot + "\n" + a["fakeboot"]["open"], a["fakeboot"]["close"])
    # The session's own markers replaced by copies of the clean session's.
    transcript("replay", g["clean"]["open"], g["clean"]["close"])
    transcript("bypass", None, None)
    u = lines("laptop", "unsigned")
    transcript("unsigned", u["open"], u["close"])
    # Truncated: the upload stopped after the open marker's session output.
    full = ac.fill_capture(capture, g["cut"]["open"], g["cut"]["close"])
    cut = ac.script_transcript(full, work / "full-cut" / f"{sid['cut']}.log", work).read_bytes()
    (sessions / f"{sid['cut']}.log").write_bytes(cut[: cut.index(b"ERROR")])
    full = ac.fill_capture(capture, g["cutmid"]["open"], g["cutmid"]["close"])
    whole = ac.script_transcript(full, work / "full-mid" / f"{sid['cutmid']}.log", work).read_bytes()
    at = whole.index(g["cutmid"]["close"].encode())
    (sessions / f"{sid['cutmid']}.log").write_bytes(whole[: at + 200])

    # The container's own stream, as get-log-events prints it: the trust anchor.
    container_markers = [m["line"] for m in boots["genuine"]["markers"]
                         if m["sid"].startswith("boot-")]
    container = root / "container.json"
    container.write_text(ac.get_log_events(ac.container_messages(container_markers)))

    # CloudTrail: ExecuteCommand for every session but the orphan, in three shapes.
    def call(name: str, minute: int, who: str = ALICE) -> dict:
        return ac.exec_record(sid[name], who, f"2026-03-02T09:{minute:02d}:00Z",
                              f"evt-{name}")
    tree_records = ac.noise_records(rng, 120) + [
        call("clean", 0), call("forged", 1), call("fakeboot", 2), call("cut", 3),
        call("cutmid", 4)]
    rng.shuffle(tree_records)
    ac.write_cloudtrail_tree(root / "trail", tree_records)
    (root / "lookup.json").write_text(ac.lookup_events(
        [call("replay", 5), call("bypass", 6), call("clean", 0)] + ac.noise_records(rng, 10)))
    (root / "eventbridge.jsonl").write_text(ac.eventbridge_lines(
        [call("unmarked", 7), call("mismatch", 8, LEE), call("unsigned", 9),
         ac.run_task_record(CI, "dana.ops", "2026-03-02T08:55:00Z", "evt-runtask")]))
    return {"root": root, "sid": sid, "sessions": sessions, "container": container,
            "recs": len(ac.rec_events(sid["clean"], region)),
            "trail": [root / "trail", root / "lookup.json", root / "eventbridge.jsonl"]}


def audit(scenario, *extra, sessions=None):
    args = ["audit"]
    for t in scenario["trail"]:
        args += ["--cloudtrail", t]
    args += ["--container-log", scenario["container"], *extra]
    args.append(sessions or scenario["sessions"])
    return ac.run_execmark(args)


EXPECTED = {
    "clean": "ATTRIBUTED",
    "forged": "FORGED",
    "fakeboot": "FORGED",
    "cut": "NO-CLOSE",
    "cutmid": "NO-CLOSE",
    "replay": "REPLAYED",
    "bypass": "BYPASSED",
    "unmarked": "UNMARKED",
    "mismatch": "MISMATCH",
    "orphan": "ORPHAN",
    "unsigned": "UNSIGNED",
}


def test_mixed_scenario_statuses(scenario):
    """Each session of the mixed scenario gets its status; exit status 1."""
    proc = audit(scenario, "--json")
    assert proc.returncode == 1, proc.stderr.decode()
    rows, summary = ac.json_rows(proc)
    for name, status in EXPECTED.items():
        row = rows[scenario["sid"][name]]
        got = row["statuses"] or [row["attribution"]]
        assert status in got, (name, row)
    assert rows[scenario["sid"]["clean"]]["status"] == "ATTRIBUTED"
    assert rows[scenario["sid"]["clean"]]["statuses"] == []
    assert summary["sessions"] == len(EXPECTED)
    assert summary["clean"] == 1
    assert summary["execute_command_events"] == 10


def test_clean_session_attribution_fields(scenario):
    """The clean row carries the CloudTrail principal, the verified claim, task and times."""
    rows, _ = ac.json_rows(audit(scenario, "--json"))
    row = rows[scenario["sid"]["clean"]]
    assert row["principal"]["arn"] == ALICE
    assert row["claim"] == "dana.ops" and row["claim_verified"] and row["claim_matches"]
    assert row["task"] == ac.TASK_ARN and row["container"] == ac.CONTAINER
    assert row["start"] == "2026-03-02T09:00:00Z"
    # 600 s, 1 s per marker of the generator's clock: the close and the rec markers between.
    assert row["duration_s"] == 601 + scenario["recs"]
    assert row["exec_seen"] and row["fin"] == "exit" and row["rc"] == 0


def test_mismatch_names_who_set_the_claim(scenario):
    """A MISMATCH row names the principal and the RunTask caller who set the AWS_USER override."""
    rows, _ = ac.json_rows(audit(scenario, "--json"))
    row = rows[scenario["sid"]["mismatch"]]
    assert row["principal"]["arn"] == LEE
    assert row["claim"] == "dana.ops" and row["claim_matches"] is False
    assert row["claim_override_set_by"] == CI and row["claim_override"] == "dana.ops"
    assert row["claim_equals_override"] is True
    assert any("set by RunTask caller assumed-role/DeployBot/gha-run-881" in p["detail"]
               for p in row["problems"]), row["problems"]


def test_fake_boot_key_is_named(scenario):
    """A boot marker inside a session log is never trusted, and the finding says so."""
    rows, _ = ac.json_rows(audit(scenario, "--json"))
    details = [p["detail"] for p in rows[scenario["sid"]["fakeboot"]]["problems"]]
    assert any("only inside a session log" in d for d in details), details


def test_human_table(scenario):
    """The default output is an aligned table with the statuses and a totals line."""
    proc = audit(scenario)
    out = proc.stdout.decode()
    header = out.splitlines()[0].split()
    assert header == ["SESSION", "ACCOUNT", "REGION", "PRINCIPAL", "CLAIM", "TASK/CONTAINER",
                      "START", "DURATION", "STATUS"]
    for name, status in EXPECTED.items():
        line = next(l for l in out.splitlines() if l.startswith(scenario["sid"][name]))
        assert status in line, (name, line)
    assert "assumed-role/PlatformOncall/dana.ops" in out
    assert "11 sessions: 1 clean, 10 with findings" in out
    assert proc.stderr == b""


def test_only_clean_exits_zero(scenario, tmp_path):
    """With only the clean session's log and CloudTrail event, audit exits 0."""
    sid = scenario["sid"]["clean"]
    logs = tmp_path / "logs"
    logs.mkdir()
    shutil.copy(scenario["sessions"] / f"{sid}.log", logs)
    trail = tmp_path / "trail.json"
    record = ac.exec_record(sid, ALICE, "2026-03-02T09:00:00Z", "evt-only")
    trail.write_text(json.dumps({"Records": [record]}))
    # The container log holds the session's recording checkpoints (without them the session
    # is UNRECORDED); --until leaves out the other sessions it saw, which started later.
    proc = ac.run_execmark(["audit", "--cloudtrail", trail, "--container-log",
                            scenario["container"], "--until", "2026-03-02T09:05:00Z", logs])
    assert proc.returncode == 0, proc.stdout.decode() + proc.stderr.decode()
    assert "ATTRIBUTED" in proc.stdout.decode()


def _genuine_pub(scenario) -> str:
    doc = json.loads(scenario["container"].read_text())
    for event in doc["events"]:
        if '"ev":"boot"' in event["message"]:
            return event["message"].split('"pub":"', 1)[1].split('"', 1)[0]
    raise AssertionError("no boot marker")


def test_cloudtrail_required_and_usage(scenario):
    """audit without --cloudtrail is a usage error (2); an unreadable input exits 3."""
    proc = ac.run_execmark(["audit", scenario["sessions"]])
    assert proc.returncode == 2
    assert b"--cloudtrail is required" in proc.stderr
    proc = ac.run_execmark(["audit", "--cloudtrail", "/nonexistent/trail.json",
                            scenario["sessions"]])
    assert proc.returncode == 3
    assert b"/nonexistent/trail.json" in proc.stderr
