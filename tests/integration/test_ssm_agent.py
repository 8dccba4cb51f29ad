# SPDX-License-Identifier: MIT
"""The SSM agent stand-in (ssm_agent.py, tests/sim) is faithful to what ECS Exec puts in a
container, as seen from inside the task's namespaces.

Contract (../shared/reference/ecs-exec-internals.md §1–3): amazon-ssm-agent has parent pid 0 in
PID 1's namespace and no arguments; ssm-agent-worker is its child, ssm-session-worker <sid>
(argv exactly path and sid) the agent worker's child, each in its own process group; the three
executables are in one read-only directory (same device and directory; writing there fails with
EROFS); the session's command is the worker's child, a session leader whose controlling terminal
is a pty (/dev/pts/N), shlex-split and exec'd directly with TERM=xterm-256color; window-size
changes reach the pty; ipcTempFile.log and the document state file (SessionOwner) are at the
agent's paths while the session runs, the state file is gone after it, and the transcript is
util-linux script's, header and footer included, around the pty output.
"""
import errno
import json
import os
import re
import subprocess

import pytest

from pid1 import markers_in
from ssm_agent import AGENT_DIR, BIN, GENUINE_WORKER, SSM_ROOT, Task, missing, transcript_body

pytestmark = [
    pytest.mark.skipif(not BIN, reason="EXECMARK_BIN not set"),
    pytest.mark.skipif(os.geteuid() != 0, reason="PID and mount namespaces need root"),
    pytest.mark.skipif(bool(missing()), reason=f"SSM agent stand-in: {missing()}"),
]

SID = "ecs-execute-command-0abcdef0123456789"

# Run as the session's command inside the task: the ancestry of the process, as /proc shows
# it inside PID 1's namespace, and the facts of its terminal and of the agent directory.
PROBE = r'''
import json, os, sys
def stat(pid):
    raw = open(f"/proc/{pid}/stat").read()
    head, _, rest = raw.rpartition(")")
    f = rest.split()
    return {"pid": pid, "comm": head.split("(", 1)[1], "ppid": int(f[1]), "pgrp": int(f[2]),
            "session": int(f[3]), "tty_nr": int(f[4])}
chain, pid = [], os.getppid()   # the session's command is this process's parent (sh -c)
while pid:
    st = stat(pid)
    st["argv"] = open(f"/proc/{pid}/cmdline", "rb").read().decode().split("\0")[:-1]
    st["exe"] = os.readlink(f"/proc/{pid}/exe")
    s = os.stat(st["exe"])
    st["dev"], st["dir"] = s.st_dev, os.path.dirname(st["exe"])
    chain.append(st)
    pid = st["ppid"]
try:
    open(sys.argv[1] + "/planted", "w")
    write = "written"
except OSError as e:
    write = e.errno
print("PROBE " + json.dumps({"chain": chain, "tty": os.ttyname(0), "write": write,
      "env": {k: os.environ.get(k) for k in ("TERM", "LANG", "AWS_USER")},
      "args": sys.argv[2:], "statvfs_ro": bool(os.statvfs(sys.argv[1]).f_flag & os.ST_RDONLY)}))
'''


@pytest.fixture()
def task(tmp_path):
    t = Task(tmp_path, container_env={"PATH": "/usr/bin:/bin", "HOME": "/root",
                                      "AWS_USER": "alice"})
    yield t
    t.stop()


def probe(task, tmp_path, sid=SID, extra="'two words' \"x\\\"y\""):
    script = tmp_path / "probe.py"
    script.write_text(PROBE)
    # python3 under sh -c so the session's command is the shell (python's parent).
    command = f"/bin/sh -c 'python3 {script} {AGENT_DIR} \"$@\"; exit 0' sh {extra}"
    out = task.run_session(sid, command)
    assert out.returncode == 0, (out.stdout, out.stderr, task.agent_log())
    line = [l for l in out.stdout.decode().splitlines() if l.startswith("PROBE ")][0]
    return json.loads(line[len("PROBE "):])


def test_the_process_chain_is_the_agents(task, tmp_path):
    got = probe(task, tmp_path)
    shell, worker, agent_worker, agent = got["chain"][:4]
    assert len(got["chain"]) == 4, got["chain"]  # nothing above the agent: its parent is 0
    assert agent["argv"] == [AGENT_DIR + "/amazon-ssm-agent"] and agent["ppid"] == 0
    assert agent_worker["argv"] == [AGENT_DIR + "/ssm-agent-worker"]
    assert agent_worker["ppid"] == agent["pid"]
    assert worker["argv"] == [GENUINE_WORKER, SID] and worker["ppid"] == agent_worker["pid"]
    assert worker["comm"] == "ssm-session-wor"
    for p in (agent_worker, worker):
        assert p["pgrp"] == p["pid"], p  # own process group (Setpgid)
    # The three executables: one directory, one device, the read-only agent mount.
    assert {p["dir"] for p in (agent, agent_worker, worker)} == {AGENT_DIR}
    assert len({p["dev"] for p in (agent, agent_worker, worker)}) == 1
    assert got["write"] == errno.EROFS and got["statvfs_ro"]
    # The command: the worker's child, session leader on a pty that is its controlling tty.
    assert shell["ppid"] == worker["pid"] and shell["argv"][:2] == ["/bin/sh", "-c"]
    assert shell["session"] == shell["pid"] and shell["pgrp"] == shell["pid"]
    assert re.fullmatch(r"/dev/pts/\d+", got["tty"])
    assert shell["tty_nr"] != 0
    # shlex-split, exec'd directly; the container's env plus TERM.
    assert got["args"] == ["two words", 'x"y']
    assert got["env"] == {"TERM": "xterm-256color", "LANG": "C.UTF-8", "AWS_USER": "alice"}
    assert task.agent.poll() is None


def test_transcript_ipc_and_state_file_at_the_agents_paths(task):
    s = task.session(SID, "/bin/sh", owner="arn:aws:iam::314159265358:user/alice")
    s.sendline("echo hello-$((6*7))")
    s.expect_exact("hello-42")
    assert s.ipc_path == (f"{task.ssm_root_host}/{task.instance_id}/session/orchestration/"
                          f"{SID}/InteractiveCommands/ipcTempFile.log")
    assert b"hello-42" in open(s.ipc_path, "rb").read()
    state = json.load(open(s.state_path))
    assert state["DocumentInformation"]["SessionOwner"] == "arn:aws:iam::314159265358:user/alice"
    assert state["InstancePluginsInformation"][0]["Configuration"]["SessionOwner"] == \
        "arn:aws:iam::314159265358:user/alice"
    assert state["DocumentInformation"]["DocumentID"] == SID
    assert oct(os.stat(s.state_path).st_mode & 0o777) == "0o600"
    # The same files inside the task, at /var/lib/amazon/ssm.
    r = task.attacker(["cat", task.state_path(SID, inside=True)])
    assert r.returncode == 0 and b"SessionOwner" in r.stdout
    assert task.state_path(SID, inside=True).startswith(SSM_ROOT + "/")
    assert s.finish("exit 5") == 5
    assert not os.path.exists(s.state_path)
    transcript = s.transcript()
    first, last = transcript.split(b"\n")[0], transcript.rstrip(b"\n").split(b"\n")[-1]
    ipc_inside = task.ipc_path(SID, inside=True).encode()
    assert first.startswith(b"Script started on ")
    assert b'COMMAND="cat ' + ipc_inside + b'"' in first
    assert b"<not executed on terminal>" in first
    assert re.fullmatch(rb'Script done on \S+ \S+ \[COMMAND_EXIT_CODE="0"\]', last), last
    assert b"hello-42" in transcript_body(transcript)


def test_window_size_changes_reach_the_pty(task):
    s = task.session(SID, "/bin/sh", size=(30, 100))
    s.sendline("stty size")
    s.expect_exact("30 100")
    s.resize(51, 163)
    s.sendline("stty size")
    s.expect_exact("51 163")
    # The foreground job gets SIGWINCH, as from a terminal.
    s.sendline("sh -c 'trap \"echo GOT-WINCH; exit\" WINCH; echo waiting; "
               "while :; do sleep 0.05; done'")
    s.expect_exact("waiting\r\n")
    s.resize(52, 170)
    s.expect_exact("GOT-WINCH")
    s.sendline("stty size")
    s.expect_exact("52 170")
    assert s.finish() == 0


def test_session_ids_are_refused_when_invalid_or_live(task):
    s = task.session(SID, "/bin/sh")
    s.sendline("echo up")
    s.expect_exact("up")
    again = task.run_session(SID, "/bin/true")
    assert again.returncode == 255 and b"already live" in again.stderr
    bad = task.run_session("../etc", "/bin/true")
    assert bad.returncode == 255 and b"invalid session id" in bad.stderr
    assert s.finish() == 0


def test_client_going_away_ends_the_session(task):
    s = task.session(SID, "/bin/sh")
    s.sendline("echo up")
    s.expect_exact("up")
    s.kill()
    log = None
    for _ in range(200):
        log = task.agent_log()
        if "worker" in log and "ended with status" in log:
            break
        subprocess.run(["sleep", "0.05"])
    assert "client disconnected" in log and "ended with status" in log, log
    assert os.path.exists(s.transcript_path)


def test_genuine_worker_run_by_hand_reads_the_channel(task, tmp_path):
    # What a root user in the container can do: write the channel request, run the binary.
    sid = "ecs-execute-command-0ffffffffffffffff"
    task.write_channel(sid, "/bin/sh -c 'echo via-channel; exit 4'")
    r = task.attacker([GENUINE_WORKER, sid])
    assert r.returncode == 4, r.stderr
    assert b"via-channel" in r.stdout
    assert b"via-channel" in open(task.transcript_path(sid), "rb").read()
    # Without a channel it refuses, and with any other argv it is a usage error.
    assert task.attacker([GENUINE_WORKER, "ecs-execute-command-none"]).returncode == 1
    assert task.attacker([GENUINE_WORKER, sid, "x"]).returncode == 2


def test_pid1_reads_the_owner_and_session_id_the_agent_gives(task):
    # The marker's sid is the worker's argv[1]; owner comes from the state file PID 1 finds at
    # /var/lib/amazon/ssm in the task (a claim: docs/markers.md).
    out = task.run_session(SID, f"{BIN} session open", owner="arn:aws:iam::314159265358:user/al")
    (m,) = [m for m in markers_in(out.stdout) if m["ev"] == "open"]
    assert m.verify(task.public_key)
    assert m["sid"] == SID
    assert m["owner"] == "arn:aws:iam::314159265358:user/al" and m["osrc"] == "ssm-state-file"
    # Without an owner the state file names none, and the marker has none.
    out = task.run_session("ecs-execute-command-0no0owner0000000", f"{BIN} session open")
    (m,) = [m for m in markers_in(out.stdout) if m["ev"] == "open"]
    assert m["owner"] == ""
