# SPDX-License-Identifier: MIT
"""The recorder (`execmark shell`, and the hooks that exec it): a pty relay like script(1) whose
output fingerprint PID 1 anchors in the container log (docs/markers.md §11, §12).

Every session here goes through the SSM agent stand-in (ssm_agent.Task): the recorder is the
session's command, under the agent's own ssm-session-worker, so PID 1 accepts its reports. The
checks read what an operator sees (the client's terminal), the container log (PID 1's `rec`
markers) and the agent's S3-style transcript, whose recorded region is recomputed here from the
§11 rules to prove the checkpoints describe what was relayed.
"""
import hashlib
import json
import os
import re
import secrets
import shlex
import time

import pytest

from pid1 import BIN, markers_in
from shells import ENV_SHELLS, SHELLS, Image, Shell, missing_shells, overlay_works
from ssm_agent import Task, _children, missing, transcript_body

pytestmark = pytest.mark.skipif(bool(missing()), reason=f"SSM agent stand-in: {missing()}")

PROMPT = "PROMPT> "
WRAPPER = f"{BIN} shell -- /bin/bash --norc --noprofile -i"
ALICE = "alice@example.com"


def sid_of(n):
    return f"ecs-execute-command-0rec{n:013x}"


@pytest.fixture()
def task(tmp_path):
    # A generous client deadline (these tests are not about PID 1's deadline, and the suite runs
    # them under asan next to 500-client tests).
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/root", "LANG": "C.UTF-8",
           "AWS_USER": ALICE, "PS1": PROMPT, "EXECMARK_TIMEOUT_MS": "5000"}
    t = Task(tmp_path, container_env=env)
    yield t
    t.stop()


def open_session(task, sid, command=WRAPPER, **kw):
    return task.session(sid, command, **kw)


def prompt(s, timeout=15):
    s.expect_exact(PROMPT, timeout=timeout)


def recs(task, sid):
    return [m for m in markers_in(task.container_log()) if m["ev"] == "rec" and m["ssid"] == sid]


def wait_end(task, sid, timeout=15):
    """Waits until PID 1 has written the session's end report to the container log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(m["kind"] == "end" for m in recs(task, sid)):
            return
        time.sleep(0.05)
    raise AssertionError(f"no end report for {sid}")


def checkpoints_are_consecutive(rs):
    kinds = [m["kind"] for m in rs]
    assert kinds[0] == "start" and rs[0]["idx"] == 0 and rs[0]["off"] == 0, kinds
    idx = [m["idx"] for m in rs if m["kind"] not in ("start", "typed", "interference")]
    assert idx == list(range(1, len(idx) + 1)), idx
    offs = [m["off"] for m in rs]
    assert offs == sorted(offs), offs


def normalise(data):
    """docs/markers.md §11.2 for well-formed UTF-8 (every test's output here is)."""
    data.decode("utf-8")
    data = re.sub(rb"\r+\n", b"\n", data)
    return re.sub(rb"\r+\Z", b"", data)


def chain(region, points):
    """docs/markers.md §11.3: the hashes at the given (idx, off) checkpoints, as hex."""
    prev, at, out = bytes(32), 0, []
    for i, off in points:
        h = hashlib.blake2b(digest_size=32)
        h.update(b"execmark/transcript/1\x00" + prev + region[at:off]
                 + off.to_bytes(8, "little") + i.to_bytes(8, "little"))
        prev, at = h.digest(), off
        out.append(prev.hex())
    return out


def recorded_region(transcript, sid):
    """The normalised transcript between the line holding the session's open marker and the
    line holding its close (§12)."""
    text = normalise(transcript_body(transcript))
    lines = text.split(b"\n")
    opened = next(i for i, l in enumerate(lines) if b'"ev":"open"' in l and sid.encode() in l)
    closed = max(i for i, l in enumerate(lines) if b'"ev":"close"' in l and sid.encode() in l)
    return b"\n".join(lines[opened + 1:closed])


def assert_recorded(task, s, sid, fin="exit", rc=0):
    """The session's rec markers are a full recording whose checkpoints match the transcript,
    and its close was signed by PID 1 from the end report."""
    wait_end(task, sid)
    rs = recs(task, sid)
    checkpoints_are_consecutive(rs)
    end = rs[-1]
    assert end["kind"] == "end" and end["fin"] == fin and end["rc"] == rc, end.fields
    shown = s.markers("close")
    assert shown and shown[-1].signature is not None and shown[-1].verify(task.public_key)
    assert shown[-1]["sid"] == sid and shown[-1]["wchk"] == "ok"
    assert shown[-1]["fin"] == fin and shown[-1]["rc"] == rc
    opens = s.markers("open")
    assert len(opens) == 1 and opens[0].signature is not None and opens[0]["wchk"] == "ok"
    region = recorded_region(s.transcript(), sid)
    assert len(region) == end["off"], (len(region), end["off"])
    points = [(m["idx"], m["off"]) for m in rs if m["kind"] not in ("start", "typed", "interference")]
    assert chain(region, points) == [m["hash"] for m in rs
                                     if m["kind"] not in ("start", "typed", "interference")]
    return rs


def host_pids(task, comm=None, argv1=None):
    """Processes of the task (host pids), optionally by command name / second argument."""
    found, todo = [], [task.init_pid, task.agent.pid]
    while todo:
        pid = todo.pop()
        kids = _children(pid)
        todo += kids
        for k in kids:
            try:
                with open(f"/proc/{k}/comm") as f:
                    c = f.read().strip()
                with open(f"/proc/{k}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if (comm is None or c == comm) and (argv1 is None or argv[1:2] == [argv1]):
                found.append(k)
    return found


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


# -- the relay


def test_wrapper_session_is_recorded_and_its_checkpoints_match_the_transcript(task):
    """A wrapper session: rec start, enter/idle checkpoints, end with the exit status; the close
    is PID 1's, signed from the end report; the transcript's recorded region has the end's length
    and every checkpoint hash (recomputed here from §11); exit status passed through."""
    sid = sid_of(1)
    s = open_session(task, sid)
    prompt(s)
    s.sendline("printf '\\033[1;31mred\\033[0m %s\\n' $((6*7))")
    s.expect_exact("42")
    prompt(s)
    time.sleep(1.5)  # idle after output (400 ms), with room for a slow machine
    s.sendline("echo second")
    prompt(s)
    assert s.finish("exit 7") == 7
    rs = assert_recorded(task, s, sid, rc=7)
    kinds = [m["kind"] for m in rs]
    assert "enter" in kinds and "idle" in kinds, kinds
    assert task.container_log().count(b'"kind":"start"') == 1


def test_window_resize_reaches_the_inner_shell(task):
    s = open_session(task, sid_of(2), size=(40, 200))
    prompt(s)
    s.sendline("stty size")
    s.expect_exact("40 200")
    prompt(s)
    s.resize(33, 111)
    time.sleep(0.3)
    s.sendline("stty size")
    s.expect_exact("33 111")
    prompt(s)
    assert s.finish() == 0


def test_ctrl_c_interrupts_the_foreground_job(task):
    s = open_session(task, sid_of(3))
    prompt(s)
    s.sendline("sleep 30")
    time.sleep(0.5)
    started = time.monotonic()
    s.send("\x03")
    prompt(s, timeout=5)
    assert time.monotonic() - started < 5
    s.sendline("echo status=$?")
    s.expect_exact("status=130")
    prompt(s)
    assert s.finish() == 0


def test_ctrl_z_suspends_and_fg_resumes(task):
    s = open_session(task, sid_of(4))
    prompt(s)
    s.sendline("(sleep 1; echo RESUMED-$((40+2)))")
    time.sleep(0.3)
    s.send("\x1a")
    s.expect("Stopped")
    prompt(s)
    s.sendline("jobs")
    s.expect_exact("Stopped")
    prompt(s)
    s.sendline("fg")
    s.expect_exact("RESUMED-42", timeout=10)
    prompt(s)
    assert s.finish() == 0


def test_end_of_input_ends_the_shell_with_a_signed_close(task):
    sid = sid_of(5)
    s = open_session(task, sid)
    prompt(s)
    s.sendline("true")
    prompt(s)
    s.send("\x04")
    assert s.wait() == 0
    assert_recorded(task, s, sid, fin="exit", rc=0)


def test_shell_killed_with_sigkill_still_gets_a_signed_close_from_the_recorder(task):
    """The shell cannot write anything when killed: the recorder observes its end (signal 9,
    status 137) and PID 1 signs the close from that."""
    sid = sid_of(6)
    s = open_session(task, sid)
    prompt(s)
    s.sendline("echo pid=$$")
    s.expect(r"pid=(\d+)")
    shell_pid = int(s.child.match.group(1))
    prompt(s)
    r = task.attacker(["kill", "-9", str(shell_pid)])
    assert r.returncode == 0, r.stderr
    assert s.wait() == 137
    assert_recorded(task, s, sid, fin="signal", rc=137)


def test_a_hangup_of_the_session_terminal_ends_the_shell_with_fin_hangup(task):
    """The operator's side goes away (the client dies, the worker closes the pty): the recorder
    gets SIGHUP, hangs up the shell, and PID 1 signs the close from the end with fin hangup."""
    sid = sid_of(14)
    s = open_session(task, sid)
    prompt(s)
    s.sendline("echo alive")
    prompt(s)
    recorder = host_pids(task, comm="execmark", argv1=b"shell")[0]
    worker = int(open(f"/proc/{recorder}/stat").read().rsplit(")", 1)[1].split()[1])
    os.kill(worker, 1)  # the worker's pty goes: the session terminal hangs up
    wait_end(task, sid)
    end = [m for m in recs(task, sid) if m["kind"] == "end"][0]
    assert end["fin"] == "hangup", end.fields
    checkpoints_are_consecutive(recs(task, sid))
    s.kill()


def test_sigterm_to_the_recorder_ends_the_shell_with_fin_signal(task):
    sid = sid_of(15)
    s = open_session(task, sid)
    prompt(s)
    recorder = host_pids(task, comm="execmark", argv1=b"shell")[0]
    os.kill(recorder, 15)
    status = s.wait()
    assert status == 129, status  # interactive bash ignores TERM; the hangup ends it
    assert_recorded(task, s, sid, fin="signal", rc=129)


def raw_dump_script(tmp_path, data_path, tag):
    """A session command that shows a file's bytes unchanged (inner terminal raw), between two
    tags it prints with escapes (so no tag appears before it is meant to)."""
    esc = "".join("\\%03o" % b for b in tag.encode())
    script = tmp_path / "dump.sh"
    script.write_text(
        "stty raw -echo\n"
        f"printf 'BEGIN{esc}'\n"
        f"cat {shlex.quote(str(data_path))}\n"
        f"printf 'END{esc}'\n"
        "stty sane\n")
    return script


def between(out, tag):
    start = out.index(b"BEGIN" + tag.encode()) + len("BEGIN" + tag)
    end = out.index(b"END" + tag.encode(), start)
    return out[start:end]


def test_100_mib_of_binary_output_arrive_unchanged(task, tmp_path):
    """100 MiB of random bytes through the recorder: the operator's terminal gets every byte,
    in order (sha256 compared)."""
    data = tmp_path / "random.bin"
    with open(data, "wb") as f:
        for _ in range(100):
            f.write(os.urandom(1 << 20))
    want = hashlib.sha256(data.read_bytes()).hexdigest()
    tag = secrets.token_hex(16)
    script = raw_dump_script(tmp_path, data, tag)
    sid = sid_of(7)
    out = task.run_session(sid, f"{BIN} shell -- /bin/sh {script}", logging=False, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    got = between(out.stdout, tag)
    assert len(got) == 100 << 20
    assert hashlib.sha256(got).hexdigest() == want
    rs = recs(task, sid)
    assert rs[0]["kind"] == "start"
    wait_end(task, sid)
    end = [m for m in recs(task, sid) if m["kind"] == "end"][0]
    assert end["off"] > 0  # normalised bytes: each run of invalid UTF-8 counts as one U+FFFD
    checkpoints_are_consecutive(recs(task, sid))


def test_every_byte_value_passes_through(task, tmp_path):
    data = tmp_path / "bytes.bin"
    payload = bytes(range(256)) * 64
    data.write_bytes(payload)
    tag = secrets.token_hex(16)
    script = raw_dump_script(tmp_path, data, tag)
    out = task.run_session(sid_of(8), f"{BIN} shell -- /bin/sh {script}", logging=False)
    assert out.returncode == 0, out.stderr
    assert between(out.stdout, tag) == payload


def test_a_hung_outer_terminal_blocks_the_shell_without_memory_growth_or_loss(task):
    """The operator's side stops reading: the recorder stops reading the shell's pty (bounded
    buffers), so its memory stays flat and the producer blocks; when reading resumes, every line
    arrives, in order."""
    n = 2_000_000
    s = open_session(task, sid_of(9))
    prompt(s)
    recorder = host_pids(task, comm="execmark", argv1=b"shell")
    assert len(recorder) == 1, recorder
    before = rss_kib(recorder[0])
    s.sendline(f"echo BEGIN-$((1+1)); seq 1 {n}; echo END-$((2+2))")
    s.expect_exact("BEGIN-2")
    # Stop reading (pexpect reads only inside expect): the producer must block.
    time.sleep(1)
    cpu = cpu_seconds(recorder[0])
    time.sleep(2)
    assert host_pids(task, comm="seq"), "seq finished although nobody read its output"
    during = rss_kib(recorder[0])
    assert during - before < 4096, (before, during)
    assert cpu_seconds(recorder[0]) - cpu < 0.2, "the recorder spins while the terminal is hung"
    s.expect_exact("END-4", timeout=120)
    prompt(s)
    out = s.output()
    body = out[out.index("BEGIN-2") + len("BEGIN-2"):out.index("END-4")]
    numbers = body.split()
    assert numbers == [str(i) for i in range(1, n + 1)]
    assert s.finish() == 0


def test_full_screen_programs_work_and_dev_tty_opens_are_not_interference(task, tmp_path):
    """less and vi run on the inner terminal; programs that open /dev/tty (vi, less, and a
    sudo-like prompt here) open another inode than /dev/pts/N: no interference."""
    sid = sid_of(10)
    target = tmp_path / "edited.txt"
    s = open_session(task, sid)
    prompt(s)
    s.sendline("seq 1 500 | less")
    s.expect_exact("1")
    time.sleep(0.3)
    s.send("G")
    s.expect_exact("500")
    s.send("q")
    prompt(s)
    s.sendline(f"vi -u NONE {target}")
    time.sleep(0.8)
    s.send("ihello from vi\x1b")
    time.sleep(0.2)
    s.send(":wq\r")
    prompt(s)
    s.sendline("python3 -c \"t=open('/dev/tty','r+'); t.write('secret: '); t.flush()\"")
    prompt(s)
    s.sendline(f"cat {target}")
    s.expect_exact("hello from vi")
    prompt(s)
    assert s.finish() == 0
    rs = assert_recorded(task, s, sid)
    assert not [m for m in rs if m["kind"] == "interference"], \
        json.dumps([m.fields for m in rs if m["kind"] == "interference"])


def test_a_hand_typed_close_in_a_recorded_session_is_refused(task):
    """`close` called early and work done after it: in a recorded session PID 1 refuses the
    hand-typed close (only the recorder's end closes it), and the close it signs at the end
    covers the work done after the attempt."""
    sid = sid_of(13)
    s = open_session(task, sid)
    prompt(s)
    s.sendline(f"{BIN} session close")
    s.expect_exact("unsigned=refused")
    prompt(s)
    s.sendline("echo work-after-$((1+1))")
    s.expect_exact("work-after-2")
    prompt(s)
    assert s.finish() == 0
    rs = assert_recorded(task, s, sid)
    signed = [m for m in s.markers("close") if m.signature is not None]
    assert len(signed) == 1 and signed[0]["ts"] >= rs[-1]["ts"]


# -- interference


def test_writing_into_another_sessions_terminal_is_reported_as_interference(task):
    """A root process outside the session opens the session's inner pty (/dev/pts/N) and writes
    text the shell never produced: PID 1 signs an `interference` rec with side inner and the
    writer's pid; the same for the session's own (outer) terminal, side outer."""
    sid = sid_of(11)
    s = open_session(task, sid)
    prompt(s)
    s.sendline("tty")
    s.expect(r"(/dev/pts/\d+)")
    inner = s.child.match.group(1)
    prompt(s)
    recorder = host_pids(task, comm="execmark", argv1=b"shell")[0]
    outer = os.readlink(f"/proc/{recorder}/fd/0")
    assert outer.startswith("/dev/pts/") and outer != inner
    writer = ("import os,sys,time\n"
              "fd=os.open(sys.argv[1], os.O_WRONLY|os.O_NOCTTY)\n"
              "os.write(fd, b'rm -rf / # typed by alice\\r\\n')\n"
              "print(os.getpid(), flush=True)\n"
              "time.sleep(1.5)\n")
    pids = {}
    for side, path in (("inner", inner), ("outer", outer)):
        r = task.attacker(["python3", "-c", writer, path])
        assert r.returncode == 0, r.stderr
        pids[side] = int(r.stdout.split()[0])
        time.sleep(0.3)
    s.sendline("echo after")
    prompt(s)
    s.finish()
    wait_end(task, sid)
    found = [m for m in recs(task, sid) if m["kind"] == "interference"]
    assert {(m["side"], m["opid"]) for m in found} >= {("inner", pids["inner"]),
                                                       ("outer", pids["outer"])}, \
        [m.fields for m in found]
    assert all(m["ocomm"] in ("python3", "") and m["hash"] == "" for m in found)
    checkpoints_are_consecutive(recs(task, sid))


def test_a_rec_from_a_process_inside_a_recorded_session_is_refused(task, tmp_path):
    """Only the recorder reports: a process in the session's shell (not the session's command)
    sending `rec` is refused and nothing is signed for it."""
    sid = sid_of(12)
    script = tmp_path / "fake.py"
    script.write_text(
        "import json,os,socket\n"
        "s=socket.socket(socket.AF_UNIX); s.connect(os.environ['EXECMARK_SOCKET'])\n"
        "s.sendall(json.dumps({'op':'rec','mode':'wrapper','kind':'enter','idx':1,'off':0,"
        "'hash':'a'*64}).encode()+b'\\n')\n"
        "print('REPLY', s.recv(4096).decode())\n")
    s = open_session(task, sid)
    prompt(s)
    s.sendline(f"python3 {script}")
    s.expect(r"REPLY (.*)\r")
    reply = s.child.match.group(1)
    assert '"ok":false' in reply
    prompt(s)
    s.finish()
    wait_end(task, sid)
    checkpoints_are_consecutive(recs(task, sid))


# -- hooks


@pytest.fixture()
def hooked(tmp_path):
    if missing_shells():
        pytest.skip(f"shells not installed: {', '.join(missing_shells())}")
    if not overlay_works(str(tmp_path)):
        pytest.skip("cannot overlay a directory on /etc in a mount namespace here")
    image = Image(tmp_path)
    image.install()
    env = image.env("bash", {"EXECMARK_SOCKET": None, "AWS_USER": ALICE,
                             "EXECMARK_TIMEOUT_MS": "5000"})
    t = Task(tmp_path, container_env=env, etc_overlay=image.path("/etc"))
    yield t
    t.stop()


@pytest.mark.parametrize("shell", ["bash", "zsh", "dash", "ash", "mksh"])
def test_hooked_shells_are_recorded_once(hooked, shell):
    """The hook execs the recorder running the same shell: one open (the recorder's), rec
    start … end, the close signed from end; a nested shell neither opens nor records again."""
    sid = sid_of(0x20 + list(SHELLS).index(shell))
    env = {"ENV": "/etc/shinit"} if shell in ENV_SHELLS else None
    s = hooked.session(sid, " ".join(SHELLS[shell]), env=env)
    prompt(s)
    s.sendline('echo "ST""ATE rec=${EXECMARK_RECORD-unset} active=${EXECMARK_ACTIVE-unset}"')
    s.expect(r"STATE rec=(\S+) active=(\S+)")
    assert s.child.match.groups() == ("1", "hook")
    prompt(s)
    s.sendline(" ".join(SHELLS[shell]))
    prompt(s)
    s.sendline("echo nested; exit 0")
    prompt(s)
    assert s.finish("exit 3") == 3
    rs = assert_recorded(hooked, s, sid, rc=3)
    assert [m["kind"] for m in rs].count("start") == 1
    assert len(s.markers("open")) == 1 and s.markers("open")[0]["mode"] == "hook"
    assert len(s.markers("close")) == 1


def test_without_an_agent_the_hooked_shell_starts_unrecorded_and_fast(tmp_path):
    """No PID 1 (a local `docker run`): the hook's exec of the recorder comes straight back to the
    same shell, whose hook writes the unsigned open as before; the prompt is there quickly."""
    if missing_shells():
        pytest.skip(f"shells not installed: {', '.join(missing_shells())}")
    if not overlay_works(str(tmp_path)):
        pytest.skip("cannot overlay a directory on /etc in a mount namespace here")
    image = Image(tmp_path)
    image.install()
    started = time.monotonic()
    sh = Shell(image, SHELLS["bash"], image.env("bash"))
    sh.expect_prompt()
    elapsed = time.monotonic() - started
    opened = sh.markers("open")
    assert len(opened) == 1 and opened[0].unsigned == "no-agent"
    state = sh.values('echo "STATE rec=${EXECMARK_RECORD-unset} active=$EXECMARK_ACTIVE"',
                      "STATE")
    assert state == {"rec": "1", "active": "1"}, state
    assert elapsed < 3, elapsed
    sh.finish()


def test_a_hung_agent_costs_the_hooked_shell_one_deadline_not_two(tmp_path):
    """PID 1 accepts and never answers: the recorder's start times out once; the shell it then
    starts writes its open (and close) unsigned with agent-timeout at once, instead of waiting a
    second deadline in its hook. The deadline is raised to 2 s so that one wait and two waits
    are far apart whatever the machine's load."""
    if missing_shells():
        pytest.skip(f"shells not installed: {', '.join(missing_shells())}")
    if not overlay_works(str(tmp_path)):
        pytest.skip("cannot overlay a directory on /etc in a mount namespace here")
    import socket
    import threading
    path = str(tmp_path / "hung.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(16)
    held, stop = [], threading.Event()

    def accept():
        srv.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(srv.accept()[0])
            except socket.timeout:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        image = Image(tmp_path)
        image.install()
        started = time.monotonic()
        sh = Shell(image, SHELLS["bash"],
                   image.env("bash", {"EXECMARK_SOCKET": path, "EXECMARK_TIMEOUT_MS": "2000"}))
        sh.expect_prompt()
        elapsed = time.monotonic() - started
        opened = sh.markers("open")
        assert len(opened) == 1 and opened[0].unsigned == "agent-timeout", opened
        assert 2.0 <= elapsed < 3.6, elapsed  # one 2 s deadline; two would be 4 s
        sh.finish()
    finally:
        stop.set()
        thread.join()
        for c in held:
            c.close()
        srv.close()
