# SPDX-License-Identifier: MIT
"""The attribution service in PID 1, end to end, with ECS Exec sessions played through the SSM
agent stand-in (ssm_agent.py: amazon-ssm-agent -> ssm-agent-worker -> ssm-session-worker).

Contract (docs/markers.md, docs/threat-model.md): `execmark init` as PID 1 writes a signed
`boot` marker with its public key to its stdout (the container log); a shell started by an
`ssm-session-worker <session-id>` process gets, through `execmark session open|close` or
`execmark shell`, a banner whose marker verifies against that key and carries the session id
PID 1 read from the worker's argv — never one the client claims; claims are sanitized and can
never produce a second marker; the client never hangs a shell start (≤ 600 ms with a dead,
hung or lying agent); garbage on the socket never hurts PID 1; 500 concurrent opens are all
answered with unique tseq; the key cannot be read from PID 1 without CAP_SYS_PTRACE; the
session watcher writes exec.seen / exec.gone; the shutdown marker closes the boot chain.
"""
import json
import os
import socket
import subprocess
import threading
import time

import pytest

from pid1 import BIN, Marker, Pid1, markers_in
from ssm_agent import Task, missing

pytestmark = [
    pytest.mark.skipif(not BIN, reason="EXECMARK_BIN not set"),
    pytest.mark.skipif(os.geteuid() != 0, reason="PID namespaces need root"),
    pytest.mark.skipif(bool(missing()), reason=f"SSM agent stand-in: {missing()}"),
]

SID = "ecs-execute-command-0123456789abcdef0"
# Process start-up of a sanitizer build under a loaded CI machine is several times that of a
# release build; the deadlines themselves are not scaled.
STARTUP_FACTOR = 2.5 if "asan" in os.environ.get("EXECMARK_BUILD_DIR", "") else 1.0


@pytest.fixture()
def pid1(tmp_path):
    p = Task(tmp_path)
    yield p
    p.stop()


def sim_session(task, command, sid=SID, env=None, input_bytes=b"", timeout=30):
    """Runs `command` as an ECS Exec session through the agent stand-in (on a new pty under
    ssm-session-worker SID); env: variables set for the command on top of the container's."""
    return task.run_session(sid, command, input=input_bytes, env=env, timeout=timeout)


def session_markers(output):
    return [m for m in markers_in(output) if m["ev"] in ("open", "close")]


def test_boot_marker_on_pid1_stdout_verifies(pid1):
    assert pid1.boot["pid"] == 1
    assert pid1.boot["sid"] == "boot-" + pid1.boot["kid"]
    assert pid1.boot["seq"] == 1 and pid1.boot["prev"] == "-"
    assert pid1.boot.verify(pid1.public_key)


def test_hook_style_session_is_signed_with_the_worker_session_id(pid1):
    out = sim_session(pid1, f"{BIN} session open --reason TICKET-7",
                      env={"AWS_USER": "alice@example.com"})
    assert out.returncode == 0, out.stderr
    text = out.stdout.decode()
    assert "execmark | ECS Exec session " + SID in text
    assert "alice@example.com" in text
    (m,) = session_markers(out.stdout)
    assert m.verify(pid1.public_key)
    assert m["ev"] == "open" and m["sid"] == SID and m["seq"] == 1
    assert m["user"] == "alice@example.com" and m["reason"] == "TICKET-7"
    assert m["kid"] == pid1.boot["kid"]
    assert m["tseq"] > pid1.boot["tseq"]


def test_wrapper_mode_opens_runs_and_closes_with_status(pid1):
    out = sim_session(pid1, f"{BIN} shell --reason INC-42 -- /bin/sh -c 'exit 7'",
                      env={"AWS_USER": "bob"})
    assert out.returncode == 7
    opened, closed = session_markers(out.stdout)
    for m in (opened, closed):
        assert m.verify(pid1.public_key)
        assert m["sid"] == SID and m["mode"] == "wrapper" and m["reason"] == "INC-42"
    assert closed["ev"] == "close" and closed["seq"] == 2 and closed["rc"] == 7
    assert closed["fin"] == "exit"
    # The chain: close's prev is the hash of open's payload (BLAKE2b-128).
    import hashlib
    assert closed["prev"] == hashlib.blake2b(opened.payload, digest_size=16).hexdigest()


def test_client_cannot_choose_the_session_id(pid1):
    # A request crafted by hand with a sid field: PID 1 ignores it and uses the ancestry.
    out = pid1.inside(["/bin/sh", "-c",
                       f"printf '%s\\n' '{{\"op\":\"open\",\"mode\":\"hook\",\"sid\":\"ecs-execute-command-forged\",\"user\":\"eve\"}}'"
                       f" | python3 -c \"import socket,sys; s=socket.socket(socket.AF_UNIX); "
                       f"s.connect('{pid1.socket}'); s.sendall(sys.stdin.buffer.read()); "
                       f"print(s.makefile().readline())\""])
    assert out.returncode == 0, out.stderr
    assert b"forged" not in out.stdout
    response = json.loads(out.stdout)
    assert response["ok"] is True
    assert response["sid"].startswith("local-")
    m = Marker(response["marker"])
    assert m["sid"] == response["sid"]
    assert m.verify(pid1.public_key)


HOSTILE = [
    "alice\nEXECMARK1 {\"v\":1,\"ev\":\"open\"} ed25519=" + "A" * 86,
    "\x1b[2J\x1b]0;pwned\x07mallory",
    "quote\" and back\\slash",
    "x" * 65536,
    "EXECMARK1 EXECMARK1",
]


@pytest.mark.parametrize("claim", HOSTILE, ids=["newline-fake", "escapes", "quotes", "64k", "magic"])
def test_hostile_claims_yield_exactly_one_marker(pid1, claim):
    out = sim_session(pid1, f"{BIN} session open", env={"AWS_USER": claim})
    assert out.returncode == 0
    text = out.stdout.decode(errors="replace")
    assert text.count("EXECMARK1") == 1, text
    (m,) = markers_in(out.stdout)
    assert m.verify(pid1.public_key)
    if claim == 'quote" and back\\slash':
        # Quotes and backslashes are escaped losslessly by JSON: not an alteration.
        assert m["user"] == claim and m["cfix"] == ""
    else:
        assert "user" in m["cfix"]
    line = [l for l in text.replace("\r", "\n").split("\n") if "EXECMARK1" in l][0]
    assert len(line.encode()) <= 1024
    assert all(0x20 <= b <= 0x7E for b in line.encode())


def test_invalid_utf8_claim(pid1):
    out = sim_session(pid1, f"{BIN} session open", env={"AWS_USER": b"\xff\xferoot\xc3"})
    (m,) = markers_in(out.stdout)
    assert m.verify(pid1.public_key)
    assert m["cfix"] == "user"


def timed_open(env_socket, extra_env=None):
    env = dict(os.environ, EXECMARK_SOCKET=env_socket, AWS_USER="carol")
    env.update(extra_env or {})
    start = time.monotonic()
    out = subprocess.run([BIN, "session", "open"], env=env, capture_output=True, timeout=10)
    return out, time.monotonic() - start


def test_no_agent_is_quick_and_unsigned(tmp_path):
    out, elapsed = timed_open(str(tmp_path / "nothing.sock"))
    assert out.returncode == 0
    assert elapsed < 0.6 * STARTUP_FACTOR
    (m,) = markers_in(out.stdout)
    assert m.unsigned == "no-agent" and m["kid"] == "-" and m["tseq"] == 0
    assert b"WARNING: marker not signed (no-agent)" in out.stdout


def serve(path, behaviour):
    """A fake agent: hangs, drips, or answers garbage."""
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(16)
    stop = threading.Event()

    def run():
        conns = []
        srv.settimeout(0.1)
        while not stop.is_set():
            try:
                c, _ = srv.accept()
            except socket.timeout:
                continue
            conns.append(c)
            if behaviour == "garbage":
                c.sendall(b"\x1b[2J{not json at all}\n")
            elif behaviour == "fake-marker":
                c.sendall(b'{"ok":true,"marker":"EXECMARK1 {} ed25519=x\\nEXECMARK1 evil"}\n')
            elif behaviour == "drip":
                try:
                    c.sendall(b"{")
                except OSError:
                    pass
        for c in conns:
            c.close()
        srv.close()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return stop


@pytest.mark.parametrize("behaviour,reason", [("hang", "agent-timeout"), ("drip", "agent-timeout"),
                                              ("garbage", "bad-response"),
                                              ("fake-marker", "bad-response")])
def test_misbehaving_agent_never_hangs_the_shell(tmp_path, behaviour, reason):
    path = str(tmp_path / "fake.sock")
    stop = serve(path, behaviour)
    try:
        out, elapsed = timed_open(path)
    finally:
        stop.set()
    assert out.returncode == 0
    # The 500 ms deadline plus process start-up, generously.
    assert elapsed < 0.5 + 0.5 * STARTUP_FACTOR
    text = out.stdout.decode(errors="replace")
    assert text.count("EXECMARK1") == 1, text
    (m,) = markers_in(out.stdout)
    assert m.unsigned == reason


def raw_exchange(path, data, read=True, timeout=3):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    try:
        if data:
            s.sendall(data)
        if not read:
            return b""
        chunks = b""
        while True:
            try:
                got = s.recv(65536)
            except socket.timeout:
                break
            if not got:
                break
            chunks += got
        return chunks
    finally:
        s.close()


def test_garbage_on_the_socket_does_not_hurt_pid1(pid1):
    # The socket lives in the shared mount namespace, so these come from outside the PID
    # namespace (peer pid 0): PID 1 refuses them unanswered. Run the hostile clients inside.
    script = (
        "import socket,sys,time\n"
        f"p={pid1.socket!r}\n"
        "def ex(d, wait=True):\n"
        "    s=socket.socket(socket.AF_UNIX); s.settimeout(3); s.connect(p)\n"
        "    try:\n"
        "        try: s.sendall(d)\n"
        # PID 1 answers an over-long request and closes before reading it all: the send may
        # fail with EPIPE, the answer is still there to read (Unix sockets keep it).
        "        except BrokenPipeError: pass\n"
        "        return s.recv(65536) if wait else b''\n"
        "    except OSError as e: return repr(e).encode()\n"
        "    finally: s.close()\n"
        "print(ex(b'\\x00\\xff garbage\\n'))\n"
        "print(ex(b'{\"op\":\"open\",\"mode\":[1,2]}\\n'))\n"
        "print(ex(b'A'*100000))\n"
        "print(ex(b'{\"op\":\"open\"', wait=False))\n"
        "held=[socket.socket(socket.AF_UNIX) for _ in range(50)]\n"
        "[h.connect(p) for h in held]\n"
        "print(ex(b'{\"op\":\"ping\"}\\n'))\n"
    )
    out = pid1.inside(["python3", "-c", script])
    assert out.returncode == 0, out.stderr
    lines = out.stdout.decode().splitlines()
    assert "not a JSON object" in lines[0]
    assert "must be a string" in lines[1]
    assert "too long" in lines[2]
    assert '"ok": true' in lines[4] or '"ok":true' in lines[4]
    # PID 1 is alive and still signs.
    ok = sim_session(pid1, f"{BIN} session open")
    (m,) = session_markers(ok.stdout)
    assert m.verify(pid1.public_key)
    assert pid1.proc.poll() is None


def test_500_concurrent_connections_all_answered(pid1):
    # 500 clients connected at once from one process (no CPU starvation of 500 client
    # processes): every one gets a signed marker, tseq unique, none lost or duplicated.
    script = (
        "import socket, selectors\n"
        f"p={pid1.socket!r}\n"
        "socks=[]\n"
        "for i in range(500):\n"
        "    s=socket.socket(socket.AF_UNIX); s.connect(p); socks.append(s)\n"
        "for s in socks:\n"
        "    s.sendall(b'{\"op\":\"open\",\"mode\":\"hook\",\"user\":\"u\"}\\n')\n"
        "out=[]\n"
        "for s in socks:\n"
        "    s.settimeout(30); out.append(s.makefile().readline().strip())\n"
        "print('\\n'.join(out))\n"
    )
    out = pid1.inside(["python3", "-c", script], timeout=120)
    assert out.returncode == 0, out.stderr
    replies = [json.loads(l) for l in out.stdout.decode().splitlines()]
    assert len(replies) == 500 and all(r["ok"] for r in replies)
    found = [Marker(r["marker"]) for r in replies]
    assert all(m.verify(pid1.public_key) for m in found)
    assert len({m["tseq"] for m in found}) == 500
    assert len({m.payload for m in found}) == 500


def test_500_concurrent_session_processes_all_signed_unique(pid1):
    # The real client, 500 processes at once. On a 2-core machine 500 starting processes can
    # starve each other past the 500 ms default deadline, which is a client-side bound, not the
    # service's capacity: the test gives them EXECMARK_TIMEOUT_MS=10000.
    script = (
        f"export EXECMARK_TIMEOUT_MS=10000; "
        f"for i in $(seq 500); do {BIN} session open --compact > /tmp/em-open-$$-$i.out & done; "
        "wait; cat /tmp/em-open-$$-*.out; rm -f /tmp/em-open-$$-*.out"
    )
    script_file = pid1.socket + ".opens.sh"
    with open(script_file, "w") as f:
        f.write(script)
    out = sim_session(pid1, f"/bin/sh {script_file}", timeout=240)
    found = session_markers(out.stdout)
    assert len(found) == 500
    unsigned = [m.unsigned for m in found if m.signature is None]
    details = sorted({l for l in out.stdout.decode(errors="replace").splitlines() if "WARNING" in l})
    assert unsigned == [], f"{len(unsigned)} unsigned: {details[:5]}"
    assert all(m.signature is not None and m.verify(pid1.public_key) for m in found)
    assert len({m["tseq"] for m in found}) == 500
    assert all(m["sid"] == SID for m in found)
    # Supervision went on: PID 1 is alive and still answers.
    assert pid1.proc.poll() is None


def test_session_watcher_sees_the_worker_come_and_go(pid1):
    out = sim_session(pid1, "/bin/sleep 1", sid="ecs-execute-command-watchme")
    assert out.returncode == 0
    seen = pid1.wait_for(lambda m: m["ev"] == "exec.seen"
                         and m["wsid"] == "ecs-execute-command-watchme")
    gone = pid1.wait_for(lambda m: m["ev"] == "exec.gone"
                         and m["wsid"] == "ecs-execute-command-watchme")
    assert seen.verify(pid1.public_key) and gone.verify(pid1.public_key)
    assert gone["dur"] >= 500
    assert gone["wpid"] == seen["wpid"]


def test_shutdown_marker_closes_the_boot_chain(tmp_path):
    p = Pid1(tmp_path, child=("/bin/sh", "-c", "sleep 0.5; exit 3"))
    rc = p.proc.wait(timeout=30)
    p._reader.join(timeout=5)
    assert rc == 3
    down = p.wait_for(lambda m: m["ev"] == "shutdown")
    assert down["rc"] == 3 and down.verify(p.public_key)
    chain = [m for m in p.markers() if m["sid"] == p.boot["sid"]]
    assert [m["seq"] for m in chain] == list(range(1, len(chain) + 1))
    assert chain[-1]["ev"] == "shutdown"


def test_supervised_program_output_and_status_unchanged(tmp_path):
    # Attribution adds marker lines to PID 1's stdout, nothing else: the child's own output
    # and exit status pass through untouched.
    p = Pid1(tmp_path, child=("/bin/sh", "-c", "echo app-line-1; echo app-err >&2; exit 42"))
    rc = p.proc.wait(timeout=30)
    p._reader.join(timeout=5)
    assert rc == 42
    non_marker = [l for l in p.lines if "EXECMARK1" not in l]
    assert non_marker == ["app-line-1\n"]
    assert b"app-err" in p.stderr


NEEDS_PTRACE_DROP = ["setpriv", "--inh-caps=-sys_ptrace", "--bounding-set=-sys_ptrace"]


def test_key_cannot_be_read_without_cap_sys_ptrace(pid1):
    probe = (
        "import ctypes,os,sys\n"
        "res=[]\n"
        "for path in ('/proc/1/mem','/proc/1/environ','/proc/1/maps'):\n"
        "    try:\n"
        "        with open(path,'rb') as f: f.read(16); res.append(path+':READ')\n"
        "    except OSError as e: res.append(path+':'+str(e.errno))\n"
        "libc=ctypes.CDLL(None, use_errno=True)\n"
        "r=libc.ptrace(16,1,None,None)\n"  # PTRACE_ATTACH
        "res.append('ptrace:'+str(r)+':'+str(ctypes.get_errno()))\n"
        "class iov(ctypes.Structure): _fields_=[('b',ctypes.c_void_p),('l',ctypes.c_size_t)]\n"
        "buf=ctypes.create_string_buffer(64)\n"
        "local=iov(ctypes.cast(buf,ctypes.c_void_p),64); remote=iov(0x400000,64)\n"
        "r=libc.process_vm_readv(1,ctypes.byref(local),1,ctypes.byref(remote),1,0)\n"
        "res.append('vm_readv:'+str(r)+':'+str(ctypes.get_errno()))\n"
        "print(' '.join(res))\n"
    )
    out = pid1.inside(NEEDS_PTRACE_DROP + ["python3", "-c", probe])
    assert out.returncode == 0, out.stderr
    res = out.stdout.decode().split()
    assert os.geteuid() == 0
    assert "/proc/1/mem:13" in res or "/proc/1/mem:1" in res, res
    # /proc/1/environ: refused, or (on kernels that let root read a non-dumpable process's
    # environ) empty, because PID 1 wipes its copy after spawning the child.
    env_probe = pid1.inside(NEEDS_PTRACE_DROP + ["python3", "-c",
        "import sys\ntry:\n    d=open('/proc/1/environ','rb').read()\n"
        "    print('READ', len(d.strip(bytes(1))))\nexcept OSError as e:\n    print('ERR', e.errno)"])
    verdict, value = env_probe.stdout.decode().split()
    assert (verdict == "ERR") or (verdict == "READ" and value == "0"), env_probe.stdout
    ptrace = [r for r in res if r.startswith("ptrace:")][0]
    assert ptrace.split(":")[1] == "-1", res
    vm = [r for r in res if r.startswith("vm_readv:")][0]
    assert vm.split(":")[1] == "-1", res


def test_task_metadata_reaches_meta_and_session_markers(tmp_path):
    # PID 1 fetches the ECS metadata in the background (a real HTTP server on loopback serving
    # a Fargate task), writes a signed meta marker, and session markers carry the task facts.
    from metadata_server import MetadataServer
    with MetadataServer(fixture="fargate", mode="normal") as server:
        p = Task(tmp_path, env=server.env())
        try:
            meta = p.wait_for(lambda m: m["ev"] == "meta")
            assert meta.verify(p.public_key)
            assert meta["task"] == ("arn:aws:ecs:eu-west-1:314159265358:task/checkout-prod/"
                                    "7c0f5e2a91d34b6f8a2e4c1d9b3f6a05")
            assert meta["cluster"] == "checkout-prod"
            assert meta["ctr"] == "api"
            assert meta["src"] == "v4"
            out = sim_session(p, f"{BIN} session open", env={"AWS_USER": "dana"})
            (m,) = session_markers(out.stdout)
            assert m.verify(p.public_key)
            assert m["task"] == meta["task"] and m["ctr"] == "api" and m["cluster"] == "checkout-prod"
            assert b"container: api" in out.stdout
        finally:
            p.stop()


def test_hung_metadata_endpoint_delays_nothing(tmp_path):
    # The endpoint accepts and never answers: the program still starts at once, sessions are
    # signed (without task data), and PID 1 exits promptly when asked.
    from metadata_server import MetadataServer
    with MetadataServer(fixture="fargate", mode="hang") as server:
        marker_file = tmp_path / "started"
        start = time.monotonic()
        p = Task(tmp_path, child=("/bin/sh", "-c", f"touch {marker_file}; exec sleep 600"),
                 env=server.env())
        try:
            deadline = time.monotonic() + 5
            while not marker_file.exists() and time.monotonic() < deadline:
                time.sleep(0.01)
            assert marker_file.exists() and time.monotonic() - start < 5
            out = sim_session(p, f"{BIN} session open")
            (m,) = session_markers(out.stdout)
            assert m.verify(p.public_key) and m["task"] == ""
        finally:
            t0 = time.monotonic()
            p.stop()
            assert time.monotonic() - t0 < 5
