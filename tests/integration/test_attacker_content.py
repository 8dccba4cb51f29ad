# SPDX-License-Identifier: MIT
"""A root user in an ECS Exec shell attacks the **content** of session transcripts (issue 10,
docs/auditing.md "Content", docs/markers.md §11-12), through real sessions: the real binary as
PID 1 of a task, the SSM agent stand-in (ssm_agent.Task) with the hooks installed in the image,
the recorder, and `execmark audit` over the agent's own S3-style transcripts (and the CloudWatch
forms of one). Nothing here is a synthetic marker (test_audit_content.py covers the same
statuses on a synthetic corpus).

Contract:
- a command and its output edited after the session (same and different length) is EDITED,
  naming the first checkpoint past the edit; deleted middle lines are EDITED; a transcript
  whose tail (and close line) is cut is TRUNCATED;
- `session close` typed by hand in a recorded session is refused and the close is PID 1's own,
  from the recorder's end; deleting the tail after the refused close is TRUNCATED;
- work in an unhooked shell followed by a manual `session open` (or a shell that does not exec
  the recorder, or a recorder started by hand later) is UNRECORDED, never ATTRIBUTED;
- text written into another operator's terminal (inner pty, or the worker's outer pty; a bash,
  zsh or dash victim) makes the victim's session INTERFERED, naming the writer's pid and command
  and the victim as the victim; the attacker's own session is not blamed for it (it stays
  ATTRIBUTED: its own content is verified, the write command is in its timeline);
- honest hooked bash, zsh, dash (ENV) and wrapper sessions running `less`, `vi`, `top` and
  coloured output are ATTRIBUTED with no finding, and their timeline shows the typed lines
  without escape codes;
- a real transcript in its CloudWatch forms (the SSM agent's events, with a piece of a line
  longer than an event, as get-log-events, filter-log-events and an export) is ATTRIBUTED; an
  edited event message is EDITED, a dropped last event TRUNCATED, a dropped middle event EDITED.

All sessions are played concurrently in one task (module fixture); each test audits its own
copy of the transcripts.
"""
import json
import os
import re
import subprocess
import threading
import time

import pytest

import audit_corpus as ac
from audit_corpus import exec_record, json_rows, role_arn
from pid1 import BIN, markers_in
from shells import PROMPT, SHELLS, Image, missing_shells, overlay_works
from ssm_agent import Task, missing, transcript_body

pytestmark = [
    pytest.mark.skipif(not BIN, reason="EXECMARK_BIN not set"),
    pytest.mark.skipif(os.geteuid() != 0, reason="PID and mount namespaces need root"),
    pytest.mark.skipif(bool(missing()), reason=f"SSM agent stand-in: {missing()}"),
]

ALICE = "alice@example.com"
MALLORY = "mallory@example.com"
HONEST = ("bash", "zsh", "dash", "wrapper")


# The victims of the interference scenario: (the terminal written to, the victim's shell).
VICTIMS = {"victim_inner": ("inner", "bash"), "victim_outer": ("outer", "bash"),
           "victim_zsh": ("inner", "zsh"), "victim_dash": ("inner", "dash")}


def sid_of(name):
    n = ["content", "early", "late_open", "record_off", "nested_shell", "late_shell",
         "victim_inner", "victim_outer", "attacker", *HONEST, "quick_shell", "victim_zsh",
         "victim_dash", "cloudwatch", "typed_ahead"].index(name)
    return f"ecs-execute-command-0c0ec7e47{n:08x}"


# -- playing the sessions


def prompt(s, timeout=30):
    s.expect_exact(PROMPT, timeout=timeout)


def typed(s, line):
    """Types a line as an operator does: Enter only once the shell has echoed the text (a line
    sent whole, like a paste, has its Enter read before its echo; see the report's notes)."""
    time.sleep(0.6)  # Enter checkpoints are coalesced while a report is in flight
    s.send(line)
    s.expect_exact(line[-6:])
    s.send("\r")


def run(s, line, expect=None, timeout=30):
    s.sendline(line)
    if expect is not None:
        s.expect(expect, timeout=timeout)
    prompt(s, timeout)


def play_content(task, tmp):
    """An honest hooked bash whose transcript the tests then edit."""
    s = task.session(sid_of("content"), "/usr/bin/bash", timeout=30)
    prompt(s)
    run(s, "echo hello-$((6*7))", "hello-42")
    run(s, "seq 101 106", "106")
    run(s, "echo done-$((1+1))", "done-2")
    assert s.finish() == 0
    return {}


def play_early(task, tmp):
    """`session close` by hand, then more work."""
    s = task.session(sid_of("early"), "/usr/bin/bash", timeout=30)
    prompt(s)
    run(s, f"{BIN} session close", "unsigned=refused")
    run(s, "echo after-close-$((5*5))", "after-close-25")
    assert s.finish() == 0
    return {"output": s.output()}


def play_late_open(task, tmp):
    """An unhooked shell works, then opens and closes by hand."""
    s = task.session(sid_of("late_open"), "/usr/bin/bash --norc -i", env={"PS1": PROMPT},
                     timeout=30)
    prompt(s)
    run(s, "echo unhooked-$((2+3))", "unhooked-5")
    run(s, f"{BIN} session open --reason after-the-fact", '"ev":"open"')
    run(s, "echo inside-$((4+4))", "inside-8")
    run(s, f"{BIN} session close", '"ev":"close"')
    assert s.finish() == 0
    return {"output": s.output()}


def play_record_off(task, tmp):
    """A hooked shell told not to exec the recorder (EXECMARK_RECORD set): open, no recording."""
    s = task.session(sid_of("record_off"), "/usr/bin/bash", env={"EXECMARK_RECORD": "1"},
                     timeout=30)
    prompt(s)
    run(s, "echo unrecorded-$((3+4))", "unrecorded-7")
    assert s.finish() == 0
    return {"output": s.output()}


def play_nested_shell(task, tmp):
    """An unhooked shell works, then starts the recorder by hand (not the session's command)."""
    s = task.session(sid_of("nested_shell"), "/usr/bin/bash --norc -i", env={"PS1": PROMPT},
                     timeout=30)
    prompt(s)
    run(s, "echo unhooked-$((2+7))", "unhooked-9")
    run(s, f"{BIN} shell -- /usr/bin/bash --norc -i")
    run(s, "echo in-nested-$((8+8))", "in-nested-16")
    run(s, "exit")
    assert s.finish() == 0
    return {"output": s.output()}


def play_late_shell(task, tmp):
    """An unhooked shell works for more than 30 s, then execs the recorder by hand (the session's
    command becomes the recorder: PID 1 accepts it, but the recording begins late)."""
    s = task.session(sid_of("late_shell"), "/usr/bin/bash --norc -i", env={"PS1": PROMPT},
                     timeout=60)
    prompt(s)
    run(s, "echo unhooked-$((9+9)); sleep 32", "unhooked-18", timeout=90)
    run(s, f"exec {BIN} shell -- /usr/bin/bash --norc -i")
    run(s, "echo recorded-late-$((1+2))", "recorded-late-3")
    assert s.finish() == 0
    return {"output": s.output()}


def play_quick_shell(task, tmp):
    """An unhooked shell works, then execs the recorder by hand within the 30 s bound."""
    s = task.session(sid_of("quick_shell"), "/usr/bin/bash --norc -i", env={"PS1": PROMPT},
                     timeout=30)
    prompt(s)
    run(s, "echo unhooked-work-$((2+3))", "unhooked-work-5")
    run(s, f"exec {BIN} shell -- /usr/bin/bash --norc -i")
    run(s, "echo recorded-$((1+2))", "recorded-3")
    assert s.finish() == 0
    return {}


TYPED_AHEAD = "echo typed-ahead-$((3*3))"


def play_typed_ahead(task, tmp):
    """An honest operator types a command while the hooked shell is still starting (the session's
    command sleeps a second, then execs the hooked bash): the session's terminal echoes it before
    the recorder takes over, so the echo precedes the open line; the recorder takes the queued
    input over, reports it (`rec typed`) and hands it to the shell, which runs it. The command
    waits for a go file, made once the terminal has echoed the keys (they are then in its input
    queue), so that a slow machine cannot let the hooked shell start before they arrive."""
    go = tmp / "typed-ahead.go"
    s = task.session(sid_of("typed_ahead"),
                     f"/usr/bin/bash -c 'until [ -e {go} ]; do sleep 0.05; done; "
                     "exec /usr/bin/bash -i'", timeout=30)
    s.send(TYPED_AHEAD + "\r")
    s.expect_exact(TYPED_AHEAD, timeout=30)
    go.touch()
    s.expect_exact("typed-ahead-9", timeout=30)
    prompt(s)
    assert s.finish() == 0
    return {}


LONG_LINE = 230_000  # bytes of one output line: a 200,000-byte CloudWatch piece and the rest


def play_cloudwatch(task, tmp):
    """An honest hooked bash with output long enough for several CloudWatch events: one line
    longer than an event (split into pieces), then 40,000 short lines."""
    s = task.session(sid_of("cloudwatch"), "/usr/bin/bash", timeout=60)
    prompt(s)
    run(s, f"head -c {LONG_LINE} /dev/zero | tr '\\0' y; echo")
    run(s, "seq 100000 139999", "139999")
    run(s, "echo cw-done-$((6*7))", "cw-done-42")
    assert s.finish() == 0
    return {}


WRITER = """\
# writer.sh SIDE SHELL-PID TEXT: opens the victim's terminal (inner: the shell's pty through
# /proc/PID/fd/0; outer: the recorder's stdin, the SSM worker's pty) and writes TEXT to it.
target=/proc/$2/fd/0
if [ "$1" = outer ]; then
    rec=$(sed -n 's/^PPid:[[:space:]]*//p' /proc/$2/status)
    target=/proc/$rec/fd/0
fi
echo "WRITER=$$ TARGET=$(readlink "$target")"
exec 3>"$target"
printf '%s\\r\\n' "$3" >&3
sleep 2
"""


def hooked(shell):
    """The session command and environment of a hooked shell of the image (dash reads ENV)."""
    return " ".join(SHELLS[shell]), ({"ENV": "/etc/shinit"} if shell == "dash" else None)


def play_interference(task, tmp):
    """Four victims (alice: bash inner and outer, zsh and dash inner) and an attacker (mallory),
    all recorded: the attacker writes a fake command line into each victim's terminal."""
    writer = tmp / "writer.sh"
    writer.write_text(WRITER)
    victims = {}
    for name, (side, shell) in VICTIMS.items():
        command, env = hooked(shell)
        victims[name] = task.session(sid_of(name), command, env=env, timeout=30)
    att = task.session(sid_of("attacker"), "/usr/bin/bash", env={"AWS_USER": MALLORY},
                       timeout=30)
    pids, writers, targets = {}, {}, {}
    for name, v in victims.items():
        prompt(v)
        v.sendline("echo VPID=$$")
        v.expect(r"VPID=(\d+)")
        pids[name] = int(v.child.match.group(1))
        prompt(v)
    prompt(att)
    for name, v in victims.items():
        side = VICTIMS[name][0]
        fake = f"rm -rf /srv/payments-{name}  # typed by alice"
        typed(att, f"/bin/sh {writer} {side} {pids[name]} '{fake}'")
        att.expect(r"WRITER=(\d+) TARGET=(\S+)")
        writers[name], targets[name] = int(att.child.match.group(1)), att.child.match.group(2)
        v.expect_exact(fake)  # the victim's screen shows it
        prompt(att)
    for name, v in victims.items():
        run(v, "echo after-$((3*3))", "after-9")
        assert v.finish() == 0
    assert att.finish() == 0
    assert all(t.startswith("/dev/pts/") for t in targets.values()), targets
    assert len(set(targets.values())) == len(targets), targets
    return {"writers": writers}


LESS_FILE_LINE = "notes-line-1 of the honest session"


def vi_edit(s, path, shell):
    """`vi PATH` (vim-tiny): shown, a line appended, moves, a word added to line 6, `:wq`."""
    typed(s, f"vi {path}")
    s.expect_exact("draft-line-5")
    for keys in ("G", "o", f"vi-added-by-{shell}", "\x1b", "gg", "6j", "k", "A",
                 " (amended)", "\x1b", ":wq\r"):
        time.sleep(0.3)  # ESC alone, not the start of a key sequence
        s.send(keys)
    prompt(s)


def play_honest(shell):
    def play(task, tmp):
        notes = tmp / f"notes-{shell}.txt"
        notes.write_text("".join(f"notes-line-{i} of the honest session\n" for i in range(1, 80)))
        draft = tmp / f"draft-{shell}.txt"
        draft.write_text("".join(f"draft-line-{i}\n" for i in range(1, 21)))
        if shell == "wrapper":
            command, env = f"{BIN} shell --reason INC-7 -- /usr/bin/bash", None
        else:
            command, env = hooked(shell)
        s = task.session(sid_of(shell), command, env=env, timeout=30)
        prompt(s)
        typed(s, f"less {notes}")
        s.expect_exact(LESS_FILE_LINE)
        time.sleep(0.5)
        s.send("q")
        prompt(s)
        typed(s, "printf '\\033[1;31mred-%s\\033[0m\\n' alert")
        s.expect_exact("red-alert")
        prompt(s)
        typed(s, "ls --color=always /")
        s.expect_exact("usr")
        prompt(s)
        vi_edit(s, draft, shell)
        typed(s, "top -n 1")
        s.expect_exact("load average")
        prompt(s)
        assert s.finish("exit 0") == 0
        lines = draft.read_text().splitlines()
        assert lines[-1] == f"vi-added-by-{shell}" and lines[5] == "draft-line-6 (amended)", lines
        return {"draft": draft}
    return play


PLAYS = {
    "content": play_content, "early": play_early, "late_open": play_late_open,
    "record_off": play_record_off, "nested_shell": play_nested_shell,
    "late_shell": play_late_shell, "interference": play_interference,
    "quick_shell": play_quick_shell, "typed_ahead": play_typed_ahead,
    "cloudwatch": play_cloudwatch,
    **{shell: play_honest(shell) for shell in HONEST},
}


@pytest.fixture(scope="module")
def played(tmp_path_factory):
    """One task with the hooks installed; every scenario's sessions played concurrently; the
    task stopped (PID 1's shutdown, every exec.gone written)."""
    tmp = tmp_path_factory.mktemp("content")
    if missing_shells():
        pytest.skip(f"shells not installed: {', '.join(missing_shells())}")
    if not overlay_works(str(tmp)):
        pytest.skip("cannot overlay a directory on /etc in a mount namespace here")
    image = Image(tmp)
    image.install()
    # A generous client deadline: these tests are about content, not about PID 1's deadline
    # (test_attribution.py), and the suite runs them under asan next to 500-client tests.
    env = image.env("bash", {"EXECMARK_SOCKET": None, "AWS_USER": ALICE,
                             "EXECMARK_TIMEOUT_MS": "5000"})
    # Two tasks: the honest sessions get one of their own, so that their audit can be clean as a
    # whole (exit status 0: the attacks' sessions are rows of the other task's container log).
    tasks = {}
    for where in ("attacks", "honest"):
        (tmp / where).mkdir()
        tasks[where] = Task(tmp / where, container_env=env, etc_overlay=image.path("/etc"))
    results, errors = {}, {}

    def runner(name):
        try:
            results[name] = PLAYS[name](tasks[task_of(name)], tmp)
        except BaseException as e:  # reported by scenario(), with the scenario's name
            errors[name] = e

    threads = [threading.Thread(target=runner, args=(name,)) for name in PLAYS]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=180)
        time.sleep(1.0)  # the watcher's last sightings (exec.gone)
    finally:
        for t in tasks.values():
            t.stop()
    containers = {}
    for where, t in tasks.items():
        containers[where] = tmp / f"container-{where}.log"
        containers[where].write_bytes(t.container_log())
    yield {"tasks": tasks, "tmp": tmp, "results": results, "errors": errors,
           "containers": containers}


def task_of(name):
    return "honest" if name in HONEST or name == "typed_ahead" else "attacks"


def scenario(played, name):
    if name in played["errors"]:
        raise AssertionError(f"playing {name} failed") from played["errors"][name]
    assert name in played["results"], f"{name} did not finish"
    return played["results"][name]


def original(played, name):
    with open(played["tasks"][task_of(name)].transcript_path(sid_of(name)), "rb") as f:
        return f.read()


def audit(played, tmp_path, logs, principals=None, extra=()):
    """Audits the container log and the given session logs ({session name: the S3 transcript's
    bytes, or {path: bytes} of the files of another form}), with a CloudTrail ExecuteCommand
    record per session (alice unless `principals` says otherwise).
    Returns (rows by session id, summary, the process)."""
    d = tmp_path / "session-logs"
    d.mkdir(exist_ok=True)
    records = []
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 600))
    for n, (name, data) in enumerate(logs.items()):
        files = data if isinstance(data, dict) else {f"{sid_of(name)}.log": data}
        for path, content in files.items():
            (d / path).parent.mkdir(parents=True, exist_ok=True)
            (d / path).write_bytes(content)
        who = (principals or {}).get(name, ALICE)
        records.append(exec_record(sid_of(name), role_arn(who), when, f"evt-{n}", task_arn="",
                                   container=""))
    trail = tmp_path / "trail.json"
    trail.write_text(json.dumps({"Records": records}))
    container = played["containers"][task_of(next(iter(logs)))]
    r = subprocess.run([BIN, "audit", "--cloudtrail", str(trail), "--container-log",
                        str(container), *extra, str(d)], capture_output=True,
                       timeout=120)
    if "--timeline" in extra:
        return r
    rows, summary = json_rows(r)
    return rows, summary, r


def audit_json(played, tmp_path, logs, principals=None):
    return audit(played, tmp_path, logs, principals, extra=("--json",))


def detail(row, status):
    found = [p["detail"] for p in row["problems"] if p["status"] == status]
    assert found, (status, row["statuses"], row["problems"])
    return found[0]


def recs(played, name):
    return [m for m in markers_in(played["containers"][task_of(name)].read_bytes())
            if m["ev"] == "rec" and m["ssid"] == sid_of(name)]


def checkpoints(played, name):
    return [m for m in recs(played, name) if m["kind"] not in ("start", "typed", "interference")]


def normalise(data):
    """docs/markers.md §11.2 for well-formed UTF-8 (every session's output here is)."""
    data.decode("utf-8")
    return re.sub(rb"\r+\Z", b"", re.sub(rb"\r+\n", b"\n", data))


def region(data, name):
    """The recorded region of a transcript (§12): after the open line, before the close line."""
    lines = normalise(transcript_body(data)).split(b"\n")
    sid = sid_of(name).encode()
    opened = next(i for i, l in enumerate(lines) if b'"ev":"open"' in l and sid in l)
    closed = max(i for i, l in enumerate(lines) if b'"ev":"close"' in l and sid in l)
    return b"\n".join(lines[opened + 1:closed])


def first_checkpoint_after(played, name, needle):
    """The idx of the first checkpoint whose offset lies past `needle` in the honest region:
    the first whose hash an edit of `needle` changes."""
    return first_checkpoint_past(played, name, region(original(played, name), name).index(needle))


def first_checkpoint_past(played, name, at):
    """The idx of the first checkpoint whose offset lies past byte `at` of the region."""
    return next(m["idx"] for m in checkpoints(played, name) if m["off"] > at)


def replace_once(data, old, new):
    assert data.count(old) == 1, (old, data.count(old))
    return data.replace(old, new)


def honest_logs(played):
    """The transcripts of every session of the honest task: its audit exits 0 only when all
    are clean."""
    return {name: original(played, name) for name in (*HONEST, "typed_ahead")
            if name in played["results"]}


def not_clean(row):
    assert row["statuses"] and row["status"] != "ATTRIBUTED", row


# -- 1. an edited command


@pytest.mark.parametrize("variant", ["same-length", "other-length"])
def test_an_edited_command_and_its_output_are_edited(played, tmp_path, variant):
    """The command `echo hello-$((6*7))` and its output `hello-42` rewritten in the S3
    transcript: EDITED, naming the first checkpoint past the edit (an enter or idle checkpoint
    of PID 1), and not blaming the operator."""
    scenario(played, "content")
    data = original(played, "content")
    cmd, out = {"same-length": (b"6*8", b"hello-48"), "other-length": (b"6*70", b"hello-420")}[
        variant]
    edited = replace_once(data, b"echo hello-$((6*7))", b"echo hello-$((" + cmd + b"))")
    edited = replace_once(edited, b"hello-42\r", out + b"\r")
    assert len(edited) - len(data) == (0 if variant == "same-length" else 2)
    rows, _, r = audit_json(played, tmp_path, {"content": edited})
    row = rows[sid_of("content")]
    assert r.returncode == 1, r.stderr
    assert row["status"] == "EDITED", (row["statuses"], row["problems"])
    want = first_checkpoint_after(played, "content", b"6*7")
    text = detail(row, "EDITED")
    assert re.match(rf"checkpoint {want} \((enter|idle|flow|end) at 20\d\d-", text), (want, text)
    assert re.search(r"the text in lines? \d+", text), text
    assert "does not implicate the session's operator" in text
    assert row["recording"]["verified"] < row["recording"]["checkpoints"], row["recording"]


# -- 2. deleted middle lines


def test_deleted_middle_lines_are_edited(played, tmp_path):
    """Lines 102-105 of `seq 101 106` removed from the middle of the transcript: the region is
    shorter, but the first checkpoint past the cut is reached and differs: EDITED (docs/auditing.md:
    the first diverging checkpoint decides; TRUNCATED is a region that ends before one)."""
    scenario(played, "content")
    data = original(played, "content")
    edited = replace_once(data, b"102\r\r\n103\r\r\n104\r\r\n105\r\r\n", b"")
    rows, _, r = audit_json(played, tmp_path, {"content": edited})
    row = rows[sid_of("content")]
    assert row["status"] == "EDITED", (row["statuses"], row["problems"])
    assert "TRUNCATED" not in row["statuses"]
    want = first_checkpoint_after(played, "content", b"102\n")
    assert detail(row, "EDITED").startswith(f"checkpoint {want} ")


# -- 3. a truncated transcript


def test_a_transcript_cut_after_a_command_is_truncated(played, tmp_path):
    """The upload ends after `hello-42`: the later checkpoints, the close line and script's footer
    are gone: TRUNCATED (and NO-CLOSE)."""
    scenario(played, "content")
    data = original(played, "content")
    cut = data[:data.index(b"hello-42\r\r\n") + len(b"hello-42\r\r\n")]
    rows, _, r = audit_json(played, tmp_path, {"content": cut})
    row = rows[sid_of("content")]
    assert row["status"] == "TRUNCATED", (row["statuses"], row["problems"])
    assert "NO-CLOSE" in row["statuses"] and "EDITED" not in row["statuses"]
    assert "the rest was cut" in detail(row, "TRUNCATED")


def test_the_untouched_transcript_is_attributed(played, tmp_path):
    """The baseline of tests 1-3: the same transcript as the agent made it is clean (the exit
    status is 1: the task's other sessions have no log here, BYPASSED)."""
    scenario(played, "content")
    rows, _, r = audit_json(played, tmp_path, {"content": original(played, "content")})
    row = rows[sid_of("content")]
    assert row["status"] == "ATTRIBUTED" and row["statuses"] == [], row
    assert row["recording"]["verified"] == row["recording"]["checkpoints"] >= 4


# -- 4. an early close followed by work


def early_close_parts(played):
    data = original(played, "early")
    refused = data.index(b"unsigned=refused")
    refused_end = data.index(b"\n", refused) + 1
    close = data.rindex(b'"ev":"close"')
    close_line = data.rindex(b"\n", 0, close) + 1
    assert close_line > refused_end and b"after-close-25" in data[refused_end:close_line]
    return data, refused_end, close_line


def test_a_hand_typed_close_is_refused_and_the_recorders_end_closes(played, tmp_path):
    """`session close` typed in a recorded session is refused (unsigned), the work after it is
    recorded, and the only signed close is PID 1's from the recorder's end report."""
    out = scenario(played, "early")["output"]
    closes = [m for m in markers_in(out) if m["ev"] == "close"]
    assert [m.unsigned for m in closes] == ["refused", None], [m.fields for m in closes]
    end = [m for m in recs(played, "early") if m["kind"] == "end"]
    assert len(end) == 1 and closes[1]["ts"] >= end[0]["ts"]
    assert closes[1]["fin"] == end[0]["fin"] == "exit"
    rows, _, r = audit_json(played, tmp_path, {"early": original(played, "early")})
    row = rows[sid_of("early")]
    # The refused close is in the transcript as an unsigned marker (UNSIGNED); the content is
    # whole: every checkpoint verified, the close the one PID 1 signed at the end.
    assert row["statuses"] == ["UNSIGNED"] and row["close_ts"] == closes[1]["ts"], row
    assert row["recording"]["verified"] == row["recording"]["checkpoints"] >= 3, row


@pytest.mark.parametrize("variant", ["tail-gone", "close-line-kept"])
def test_deleting_the_work_after_an_early_close_is_not_clean(played, tmp_path, variant):
    """The attacker deletes everything after the refused close (tail-gone), or only the work
    between it and the real close line (close-line-kept): the region ends before the later
    checkpoints: TRUNCATED."""
    scenario(played, "early")
    data, refused_end, close_line = early_close_parts(played)
    cut = data[:refused_end] + (data[close_line:] if variant == "close-line-kept" else b"")
    rows, _, r = audit_json(played, tmp_path, {"early": cut})
    row = rows[sid_of("early")]
    not_clean(row)
    assert row["status"] == "TRUNCATED", (row["statuses"], row["problems"])
    if variant == "tail-gone":
        assert "NO-CLOSE" in row["statuses"]


# -- 5. a late manual open after an unhooked start


@pytest.mark.parametrize("name", ["late_open", "record_off", "nested_shell", "late_shell"])
def test_work_before_a_manual_open_is_unrecorded(played, tmp_path, name):
    """late_open: `bash --norc -i`, work, then `session open`/`close` by hand; record_off: the
    hooked shell with EXECMARK_RECORD set (opened, not recorded); nested_shell: the recorder
    started by hand inside the unhooked shell (not the session's command: PID 1 refuses its
    recording); late_shell: the recorder exec'd by hand 32 s after the start. UNRECORDED, never
    ATTRIBUTED."""
    scenario(played, name)
    rows, _, r = audit_json(played, tmp_path, {name: original(played, name)})
    row = rows[sid_of(name)]
    not_clean(row)
    assert "UNRECORDED" in row["statuses"], (row["statuses"], row["problems"])
    text = " | ".join(p["detail"] for p in row["problems"] if p["status"] == "UNRECORDED")
    if name == "late_shell":
        assert re.search(r"recording began \d+s after the session worker started", text), text
        assert "LATE-OPEN" in row["statuses"]
    elif name != "nested_shell":
        assert "no recording checkpoints" in text, text


def test_work_before_a_recorder_execd_by_hand_soon_after_the_start_is_not_clean(played,
                                                                                 tmp_path):
    """`bash --norc -i`, `echo unhooked-work-5`, then `exec execmark shell` a second later: the
    recorder is the session's command, PID 1 records it, the recording starts within the 30 s
    bound; but the unhooked work sits in the transcript before the open line, covered by no
    checkpoint: UNRECORDED (docs/auditing.md: ATTRIBUTED only when the whole transcript is
    covered)."""
    scenario(played, "quick_shell")
    data = original(played, "quick_shell")
    assert data.index(b"unhooked-work-5") < data.index(b'"ev":"open"')
    rows, _, r = audit_json(played, tmp_path, {"quick_shell": data})
    row = rows[sid_of("quick_shell")]
    not_clean(row)
    assert "UNRECORDED" in row["statuses"], row
    assert "before the recording began" in json.dumps(row["problems"]), row["problems"]


def test_an_honest_operators_typed_ahead_command_is_attributed(played, tmp_path):
    """Typed while the hooked shell started: the session's terminal echoed it before the
    recorder took over, so the echo precedes the open line, covered by no checkpoint. The
    recorder took that input over and PID 1 signed its size and the digest of its echo
    (`rec typed`); the auditor accepts exactly that echo: ATTRIBUTED, no false alarm."""
    scenario(played, "typed_ahead")
    data = original(played, "typed_ahead")
    assert data.index(TYPED_AHEAD.encode()) < data.index(b'"ev":"open"'), data[:2000]
    typed = [m for m in recs(played, "typed_ahead") if m["kind"] == "typed"]
    assert len(typed) == 1 and typed[0]["off"] == len(TYPED_AHEAD) + 1, typed
    assert typed[0]["idx"] == 0 and re.fullmatch(r"[0-9a-f]{64}", typed[0]["hash"]), typed
    rows, _, r = audit_json(played, tmp_path, honest_logs(played))
    row = rows[sid_of("typed_ahead")]
    assert row["status"] == "ATTRIBUTED" and row["statuses"] == [], row
    assert r.returncode == 0, (row, r.stderr)


@pytest.mark.parametrize("edit", ["other text", "work added"])
def test_text_before_the_open_other_than_the_typed_ahead_echo_is_unrecorded(played, tmp_path,
                                                                            edit):
    """The same session with the text before its open line changed (the echo edited, or an
    unhooked shell's work added in front of it): not the echo PID 1 anchored, so UNRECORDED."""
    scenario(played, "typed_ahead")
    data = original(played, "typed_ahead")
    at = data.index(TYPED_AHEAD.encode())
    if edit == "other text":
        data = data[:at] + b"echo TYPED-ahead-$((3*3))" + data[at + len(TYPED_AHEAD):]
    else:
        data = data[:at] + b"# cat /etc/shadow\r\r\nroot:*:19000:0:99999:7:::\r\r\n# " + data[at:]
    rows, _, r = audit_json(played, tmp_path, {"typed_ahead": data})
    row = rows[sid_of("typed_ahead")]
    not_clean(row)
    assert row["statuses"] == ["UNRECORDED"], row
    text = detail(row, "UNRECORDED")
    assert "before the recording began" in text and f"not the echo of the {len(TYPED_AHEAD) + 1} bytes" in text, text


def test_the_timeline_shows_a_line_sent_at_once(played, tmp_path):
    """The content session's lines were sent whole (pexpect sendline, as a paste or a batched
    SSM input message): the shell echoes such a line only after reading its Enter; the timeline
    still shows it as the entry's command."""
    scenario(played, "content")
    r = audit(played, tmp_path, {"content": original(played, "content")},
              extra=("--timeline", sid_of("content")))
    assert "echo hello-$((6*7))" in r.stdout.decode(), r.stdout.decode()


# -- 6. text written into another operator's terminal


@pytest.mark.parametrize("victim", list(VICTIMS))
def test_writing_into_another_operators_terminal_makes_the_victim_interfered(played, tmp_path,
                                                                              victim):
    """Mallory, in her own recorded session, opens alice's terminal (inner: the shell's pty via
    /proc/PID/fd/0, with a bash, zsh or dash (ENV) victim; outer: the worker's pty, the
    recorder's stdin, with a bash victim) and writes a fake command line. Alice's session is
    INTERFERED, the finding names the writer's pid and command and alice as the victim; with the
    outer terminal the text is outside the chain, so EDITED too. Mallory's own session is not
    blamed for alice's content: it is ATTRIBUTED to mallory, and its verified timeline shows the
    command that wrote. (Without the recorder's interference reports an auditor would find
    nothing wrong with an inner victim: the written text is relayed, inside the chain.)"""
    writers = scenario(played, "interference")["writers"]
    side = VICTIMS[victim][0]
    names = (*VICTIMS, "attacker")
    rows, _, r = audit_json(played, tmp_path, {n: original(played, n) for n in names},
                            principals={"attacker": MALLORY})
    row = rows[sid_of(victim)]
    assert row["status"] == "INTERFERED", (row["statuses"], row["problems"])
    texts = [p["detail"] for p in row["problems"] if p["status"] == "INTERFERED"]
    text = next((t for t in texts if f"pid {writers[victim]} (sh) outside the session" in t),
                None)
    assert text is not None, texts
    where = "own terminal (the SSM worker's pty)" if side == "outer" else "shell's terminal"
    assert where in text, text
    assert f"{ALICE} is the victim, not the culprit" in text, text
    assert row["claim"] == ALICE, row
    if side == "outer":
        assert row["statuses"][:2] == ["INTERFERED", "EDITED"], row["statuses"]
    else:
        # Relayed, inside the chain: the content itself is what the terminal showed.
        assert row["statuses"] == ["INTERFERED"], row["statuses"]
        assert row["recording"]["verified"] == row["recording"]["checkpoints"], row
    found = [m for m in recs(played, victim) if m["kind"] == "interference"]
    # The writer, and what it forked while holding the descriptor (its `sleep`), are reported.
    assert (side, writers[victim], "sh") in {(m["side"], m["opid"], m["ocomm"]) for m in found}
    assert {m["side"] for m in found} == {side}, [m.fields for m in found]
    attacker = rows[sid_of("attacker")]
    assert attacker["status"] == "ATTRIBUTED" and attacker["statuses"] == [], attacker
    assert attacker["claim"] == MALLORY and attacker["principal"]["arn"].endswith("/" + MALLORY)
    timeline = audit(played, tmp_path, {n: original(played, n) for n in names},
                     principals={"attacker": MALLORY}, extra=("--timeline", sid_of("attacker")))
    shown = timeline.stdout.decode()
    assert "diverged" not in shown, shown
    assert any(f"writer.sh {side} " in l and f"payments-{victim} " in l
               for l in shown.splitlines()), shown


# -- 7. honest sessions stay clean


@pytest.mark.parametrize("shell", HONEST)
def test_honest_sessions_with_less_vi_top_and_colour_are_attributed(played, tmp_path, shell):
    """Hooked bash, zsh, dash (ENV) and a wrapper session run `less` on a file, a coloured printf,
    `ls --color=always /`, `vi` on a file (a line appended, cursor moves, a line amended, `:wq`:
    raw mode, bare LFs, the alternate screen) and `top -n 1`: ATTRIBUTED with no finding, exit
    status 0; the timeline shows the typed lines, every checkpoint verified, the full-screen
    programs as one line each, top's screen as text, no escape code."""
    scenario(played, shell)
    data = original(played, shell)
    # All four together (their task's every session): exit status 0 only when all are clean.
    logs = honest_logs(played)
    rows, summary, r = audit_json(played, tmp_path, logs)
    row = rows[sid_of(shell)]
    assert row["status"] == "ATTRIBUTED" and row["statuses"] == [], row
    assert r.returncode == 0, ({s: rows[s]["statuses"] for s in rows}, r.stderr)
    assert row["recording"]["verified"] == row["recording"]["checkpoints"] >= 8
    assert b"\x1b[1;31mred-alert" in data  # the raw transcript is full of escape codes
    assert b"vi-added-by-" + shell.encode() in data and b"\x1b[?1049h" in data
    r = audit(played, tmp_path, logs, extra=("--timeline", sid_of(shell)))
    out = r.stdout.decode()
    assert r.returncode == 0, (out, r.stderr)
    assert out.startswith(f"Timeline of {sid_of(shell)} (ATTRIBUTED)"), out
    assert "\x1b" not in out and "\r" not in out, out
    assert "diverged" not in out and "not-reached" not in out, out
    lines = out.splitlines()
    draft = scenario(played, shell)["draft"]
    for typed in ("less ", "printf '\\033[1;31mred-%s\\033[0m\\n' alert", "ls --color=always /",
                  f"vi {draft}", "top -n 1"):
        assert any(" verified  " in l and PROMPT + typed in l for l in lines), (typed, out)
    assert any(l.strip() == "red-alert" for l in lines), out
    assert sum("[full-screen program: " in l for l in lines) >= 2, out  # less, vi
    assert any(l.strip().startswith("top - ") and "load average" in l for l in lines), out


# -- 8. the CloudWatch forms of a real transcript


def cloudwatch_messages(played):
    """The CloudWatch events of the cloudwatch session's transcript, cut as the SSM agent cuts
    them (audit_corpus.ssm_cloudwatch_messages): the header and the start; the long line's
    200,000-byte piece; its rest and the first part of `seq`; the rest, with the close line and
    the footer."""
    messages = ac.ssm_cloudwatch_messages(original(played, "cloudwatch"))
    assert len(messages) == 4, [len(m) for m in messages]
    assert messages[0].startswith("Script started on ") and '"ev":"open"' in messages[0]
    assert len(messages[1]) == ac.EVENT_BYTES and messages[1].endswith("y" * 199_000)
    assert "\n110000\r\n" in messages[2] and '"ev":"close"' in messages[3]
    return messages


def cloudwatch_form(form, sid, messages, tmp_path):
    """{path: bytes}: the events as `aws logs get-log-events` prints them (the file named after
    the stream), as `filter-log-events` prints them, or as a CloudWatch export to S3."""
    at = int(time.time() * 1000)  # uploaded when the session ended
    if form == "get-log-events":
        return {f"cw/{sid}.json": ac.get_log_events(messages, start_ms=at).encode()}
    if form == "filter-log-events":
        return {"cw/filter.json": ac.filter_log_events({sid: messages}, start_ms=at).encode()}
    root = tmp_path / "export-form"
    ac.write_export(root, sid, messages)
    return {"export/" + str(p.relative_to(root)): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


FORMS = ["get-log-events", "filter-log-events", "export"]


@pytest.mark.parametrize("form", FORMS)
def test_the_cloudwatch_forms_of_an_honest_transcript_are_attributed(played, tmp_path, form):
    """The transcript of a real recorded session (a 230,000-byte line, 40,000 lines of `seq`)
    uploaded to CloudWatch by the SSM agent's rules (four events, one of them a piece of the
    long line), read back from get-log-events, filter-log-events or an export: ATTRIBUTED, every
    checkpoint verified."""
    scenario(played, "cloudwatch")
    sid = sid_of("cloudwatch")
    files = cloudwatch_form(form, sid, cloudwatch_messages(played), tmp_path)
    rows, _, r = audit_json(played, tmp_path, {"cloudwatch": files})
    row = rows[sid]
    assert row["status"] == "ATTRIBUTED" and row["statuses"] == [], (row, r.stderr)
    assert row["recording"]["verified"] == row["recording"]["checkpoints"] >= 4, row


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("attack", ["edited-event", "dropped-tail", "dropped-middle"])
def test_an_edited_or_dropped_cloudwatch_event_is_not_clean(played, tmp_path, attack, form):
    """The same events, attacked in the log group: one number of `seq` changed in an event's
    message (same length) is EDITED, naming the first checkpoint past it; the last event (the
    end of `seq`, the close line, the footer) deleted is TRUNCATED and NO-CLOSE; the third event
    (the long line's rest and the first 20,000 lines of `seq`) deleted is EDITED: the close line
    is there and the first checkpoint past the gap (the prompt after the long line) is reached
    and differs (docs/auditing.md "Content"). An auditor without the content checks would find
    these sessions ATTRIBUTED: their markers are all there and genuine."""
    scenario(played, "cloudwatch")
    sid = sid_of("cloudwatch")
    messages = cloudwatch_messages(played)
    if attack == "edited-event":
        assert messages[2].count("\n110000\r") == 1
        messages[2] = messages[2].replace("\n110000\r", "\n110009\r")
        first = first_checkpoint_after(played, "cloudwatch", b"\n110000\n")
    elif attack == "dropped-tail":
        del messages[3]
    else:
        # The gap starts right after the piece (the long line's first 200,000 bytes).
        piece = messages[1].encode()
        at = region(original(played, "cloudwatch"), "cloudwatch").index(piece) + len(piece)
        first = first_checkpoint_past(played, "cloudwatch", at)
        del messages[2]
    rows, _, r = audit_json(played, tmp_path,
                            {"cloudwatch": cloudwatch_form(form, sid, messages, tmp_path)})
    row = rows[sid]
    not_clean(row)
    if attack == "dropped-tail":
        assert row["status"] == "TRUNCATED", (row["statuses"], row["problems"])
        assert "NO-CLOSE" in row["statuses"] and "EDITED" not in row["statuses"], row
        assert "the rest was cut" in detail(row, "TRUNCATED")
    else:
        assert row["status"] == "EDITED", (row["statuses"], row["problems"])
        assert "TRUNCATED" not in row["statuses"], row["statuses"]
        text = detail(row, "EDITED")
        assert text.startswith(f"checkpoint {first} "), (first, text)
        assert "does not implicate the session's operator" in text, text
