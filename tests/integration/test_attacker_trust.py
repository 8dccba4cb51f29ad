# SPDX-License-Identifier: MIT
"""A root user in an ECS Exec shell attacks the trust the auditor places in markers
(docs/threat-model.md, "The attacker"), through the real PID 1, the SSM agent stand-in
(ssm_agent.Task) and `execmark audit`; and honest sessions stay clean.

Contract:
- only the first boot key of a container-log stream is trusted: a boot marker appended through
  the application's stdout (alone, or inside one of its log lines) is KEY-INJECTED, and what its
  key signs is FORGED, never ATTRIBUTED;
- a session id is taken only from the SSM agent's own chain: a copy of the worker and the genuine
  worker binary run from a shell with another session's id give markers with a local id and the
  failed check (FAKE-WORKER in the attacker's log), and the victim's session stays ATTRIBUTED;
- `owner` read from the SSM agent's state file is a claim: a forged SessionOwner is MISMATCH;
- an open signed long after the worker started is LATE-OPEN; a close signed while the shell goes
  on is EARLY-CLOSE, and a second close (or one from outside the shell) is refused;
- hooked bash, dash via ENV, zsh and wrapper mode stay ATTRIBUTED with no finding.
"""
import base64
import hashlib
import json
import os
import shutil
import subprocess
import threading
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from audit_corpus import exec_record, json_rows, role_arn
from pid1 import BIN, markers_in
from shells import ENV_SHELLS, PROMPT, SHELLS, Image, missing_shells, overlay_works
from ssm_agent import GENUINE_WORKER, Task, missing

pytestmark = [
    pytest.mark.skipif(not BIN, reason="EXECMARK_BIN not set"),
    pytest.mark.skipif(os.geteuid() != 0, reason="PID and mount namespaces need root"),
    pytest.mark.skipif(bool(missing()), reason=f"SSM agent stand-in: {missing()}"),
    pytest.mark.skipif(bool(missing_shells()),
                       reason=f"shells not installed: {', '.join(missing_shells())}"),
]

ALICE = "alice@example.com"
VICTIM = "ecs-execute-command-0v1c71m5e5510n001"
ATTACKER = "ecs-execute-command-0a77ac4e7000000a1"


@pytest.fixture(scope="module", autouse=True)
def overlay_available(tmp_path_factory):
    if not overlay_works(str(tmp_path_factory.mktemp("probe"))):
        pytest.skip("cannot overlay a directory on /etc in a mount namespace here")


@pytest.fixture()
def task(tmp_path):
    """A task whose image has the hooks installed (bash, zsh via rc files; POSIX shells via
    ENV), the container's environment claiming alice."""
    image = Image(tmp_path)
    image.install()
    # A generous client deadline: these tests are not about PID 1's deadline (the suite runs them
    # under asan next to 500-client tests).
    env = image.env("bash", {"EXECMARK_SOCKET": None, "AWS_USER": ALICE,
                             "EXECMARK_TIMEOUT_MS": "5000"})
    t = Task(tmp_path, container_env=env, etc_overlay=image.path("/etc"))
    t.image = image
    yield t
    t.stop()


def audit(task, tmp_path, sessions, principals=None):
    """Stops the task, then audits its container log, the transcripts of `sessions` (as the
    agent made them) and CloudTrail ExecuteCommand records made here (principal: alice unless
    `principals` names another). Returns (rows by session id, summary, the process)."""
    task.stop()
    logs = tmp_path / "session-logs"
    logs.mkdir(exist_ok=True)
    records = []
    for n, sid in enumerate(sessions):
        shutil.copy(task.transcript_path(sid), logs / f"{sid}.log")
        who = (principals or {}).get(sid, ALICE)
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 600))
        records.append(exec_record(sid, role_arn(who), when, f"evt-{n}", task_arn="",
                                   container=""))
    trail = tmp_path / "trail.json"
    trail.write_text(json.dumps({"Records": records}))
    container = tmp_path / "container.log"
    container.write_bytes(task.container_log())
    r = subprocess.run([BIN, "audit", "--json", "--cloudtrail", str(trail), "--container-log",
                        str(container), str(logs)], capture_output=True, timeout=120)
    rows, summary = json_rows(r)
    return rows, summary, r


def forged_marker(key, payload):
    sig = key.sign(b"execmark/1\n" + payload.encode())
    return "EXECMARK1 " + payload + " ed25519=" + base64.urlsafe_b64encode(sig).rstrip(b"=").decode()


def self_signed_boot(key):
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    pub = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    kid = "k" + hashlib.blake2b(raw, digest_size=8).hexdigest()
    ts = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    payload = json.dumps({"v": 1, "ev": "boot", "ts": ts, "kid": kid, "tseq": 1,
                          "sid": "boot-" + kid, "seq": 1, "prev": "-", "pub": pub,
                          "ver": "0.1.0", "pid": 1, "host": "attacker"}, separators=(",", ":"))
    return kid, forged_marker(key, payload)


def self_signed_open(key, kid, sid):
    ts = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    fields = {"v": 1, "ev": "open", "ts": ts, "kid": kid, "tseq": 2, "sid": sid, "seq": 1,
              "prev": "-", "task": "", "cluster": "", "ctr": "", "user": ALICE, "owner": "",
              "osrc": "", "reason": "", "shell": "/bin/bash", "tty": "/dev/pts/0", "cpid": 9,
              "mode": "hook", "cfix": "", "wchk": "ok", "wsid": "", "wst": 0, "sst": 0}
    return forged_marker(key, json.dumps(fields, separators=(",", ":")))


def app_pid(task):
    """The host pid of the application PID 1 supervises (its stdout is the container log)."""
    with open(f"/proc/{task.init_pid}/task/{task.init_pid}/children") as f:
        return int(f.read().split()[0])


def statuses(row):
    return set(row["statuses"])


@pytest.mark.parametrize("embedded", [False, True], ids=["own-line", "inside-app-log-line"])
def test_boot_marker_appended_to_the_container_log_is_key_injected(task, tmp_path, embedded):
    key = Ed25519PrivateKey.generate()
    kid, boot = self_signed_boot(key)
    # Embedded: the application logs a request field the attacker chose (marker text is found
    # after any prefix on its line, so a log line ending in the attacker's text carries it).
    line = ("2026-12-05 INFO GET /search from 10.0.0.7 q=" + boot) if embedded else boot
    # Root in the container writes to the application's stdout: the container log.
    r = task.attacker(["/bin/sh", "-c", 'printf "%s\\n" "$1" > "/proc/$2/fd/1"', "sh", line,
                       str(app_pid_inside(task))])
    assert r.returncode == 0, r.stderr
    # The attacker's session prints markers "signed" by that key: a forged open for itself.
    forged = self_signed_open(key, kid, ATTACKER)
    out = task.run_session(ATTACKER, "/bin/sh", input=f"echo '{forged}'\nexit\n".encode())
    assert out.returncode == 0, out.stderr
    time.sleep(0.5)  # the watcher signs exec.gone with the first key after the injection
    rows, summary, r = audit(task, tmp_path, [ATTACKER])
    assert r.returncode == 1, r.stderr
    keys = [json.loads(l) for l in r.stdout.decode().splitlines() if '"type":"key"' in l]
    injected = [k for k in keys if k["kid"] == kid]
    assert injected and injected[0]["trust"] == "KEY-INJECTED", keys
    assert summary["container_findings"] >= 1 or summary.get("container_problems"), summary
    assert "KEY-INJECTED" in r.stdout.decode()
    row = rows[ATTACKER]
    assert "FORGED" in statuses(row) and row["attribution"] != "ATTRIBUTED", row


def app_pid_inside(task):
    """The application's pid inside the task's PID namespace."""
    host = app_pid(task)
    with open(f"/proc/{host}/status") as f:
        for line in f:
            if line.startswith("NSpid:"):
                return int(line.split()[-1])
    raise AssertionError("no NSpid")


@pytest.mark.parametrize("worker", ["copy", "genuine-binary"])
def test_a_worker_run_from_a_shell_never_takes_another_session(task, tmp_path, worker):
    # The victim's honest session first.
    victim = task.run_session(VICTIM, "/usr/bin/bash -i", input=b"echo hello\nexit\n")
    assert victim.returncode == 0, victim.stderr
    # The attacker, in their own session, makes a worker run with the victim's id: a copy of
    # the binary, or the genuine one from the read-only agent directory, and the agent's IPC
    # request written by hand (no logging: the victim's transcript is another test's matter).
    task.write_channel(VICTIM, f"{BIN} session open --reason sneaky", logging=False)
    path = GENUINE_WORKER
    if worker == "copy":
        path = "/tmp/x/ssm-session-worker"
        # The whole agent directory (binaries and configuration), copied somewhere writable.
        prep = "rm -rf /tmp/x && cp -r /managed-agents/execute-command /tmp/x && "
    else:
        prep = ""
    attack = task.session(ATTACKER, "/usr/bin/bash -i", timeout=30)
    attack.expect_exact(PROMPT)
    attack.sendline(f"{prep}{path} {VICTIM}")
    attack.expect_exact('"reason":"sneaky"')
    attack.expect_exact(PROMPT)
    assert attack.finish("exit 0") == 0, attack.output()[-2000:]
    sneaky = [m for m in attack.markers("open") if m["reason"] == "sneaky"]
    assert sneaky, attack.output()[-2000:]
    assert sneaky[0]["sid"].startswith("local-")
    assert sneaky[0]["wsid"] == VICTIM
    assert sneaky[0]["wchk"] in ("parent", "dir")
    rows, _, r = audit(task, tmp_path, [VICTIM, ATTACKER])
    assert rows[VICTIM]["statuses"] == [] and rows[VICTIM]["attribution"] == "ATTRIBUTED", rows
    assert "FAKE-WORKER" in statuses(rows[ATTACKER]), rows[ATTACKER]


def test_a_forged_session_owner_is_a_mismatch(task, tmp_path):
    # The state file names alice; mallory (the real caller) rewrites it before the hook reads it.
    sid = "ecs-execute-command-0f0e0d0c0b0a09080"
    state = f"/var/lib/amazon/ssm/{task.instance_id}/document/state/current/{sid}"
    forged = json.dumps({"SessionOwner": "arn:aws:sts::210987654321:assumed-role/Admin/alice"})
    rewrite = tmp_path / "rewrite.sh"
    rewrite.write_text(f"printf '%s' '{forged}' > {state}\nexec /usr/bin/bash -i\n")
    out = task.run_session(sid, f"/bin/sh {rewrite}", input=b"exit\n",
                           owner="arn:aws:sts::210987654321:assumed-role/Admin/mallory")
    assert out.returncode == 0, out.stderr
    (opened,) = [m for m in markers_in(out.stdout) if m["ev"] == "open"]
    assert opened["owner"].endswith("/alice") and opened["osrc"] == "claim:ssm-state-file"
    rows, _, r = audit(task, tmp_path, [sid], principals={sid: "mallory"})
    assert "MISMATCH" in statuses(rows[sid]), rows[sid]
    assert any("owner" in p["detail"] for p in rows[sid]["problems"]), rows[sid]


def test_late_open_and_early_close_are_not_clean(task, tmp_path):
    late, early = "ecs-execute-command-0a1a7e0be9000001", "ecs-execute-command-0ea71c10e0000001"
    results = {}

    def play(sid, command, typed, env=None):
        results[sid] = task.run_session(sid, command, input=typed, env=env, timeout=90)

    threads = [
        # An unhooked shell (--norc) works first, then opens and closes by hand.
        threading.Thread(target=play, args=(late, "/usr/bin/bash --norc -i", (
            f"sleep 33\n{BIN} session open\necho work\n{BIN} session close\nexit\n").encode())),
        # A hooked shell closes early, works on; its exit trap's second close is refused. Kept
        # unrecorded (EXECMARK_RECORD set: the hook does not exec the recorder), the way a session
        # without PID 1's recording is; a recorded one refuses the early close itself
        # (test_recorder.py).
        threading.Thread(target=play, args=(early, "/usr/bin/bash -i", (
            f"{BIN} session close\nsleep 8\necho after-close\nexit\n").encode(),
            {"EXECMARK_RECORD": "1"})),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for sid in (late, early):
        assert results[sid].returncode == 0, results[sid].stderr
    assert b"unsigned=refused" in results[early].stdout
    rows, _, r = audit(task, tmp_path, [late, early])
    assert "LATE-OPEN" in statuses(rows[late]), rows[late]
    assert "EARLY-CLOSE" in statuses(rows[early]), rows[early]
    for sid in (late, early):
        assert rows[sid]["attribution"] != "ATTRIBUTED" or rows[sid]["statuses"], rows[sid]


def test_a_close_from_outside_the_sessions_shell_is_refused(task, tmp_path):
    sid = "ecs-execute-command-0c105e0075140001"
    out = task.run_session(sid, "/usr/bin/bash -i",
                           input=f"/bin/sh -c '{BIN} session close'\nexit\n".encode())
    assert out.returncode == 0, out.stderr
    closes = [m for m in markers_in(out.stdout) if m["ev"] == "close"]
    # The grandchild's close is refused (unsigned); the shell's own close is signed.
    assert [m.unsigned for m in closes] == ["refused", None], out.stdout[-3000:]


@pytest.mark.parametrize("shell", ["bash", "dash", "zsh", "wrapper"])
def test_honest_sessions_stay_attributed(task, tmp_path, shell):
    sid = "ecs-execute-command-0h0ne57" + {"bash": "0001", "dash": "0002", "zsh": "0003",
                                            "wrapper": "0004"}[shell]
    if shell == "wrapper":
        command = f"{BIN} shell --reason INC-1 -- /usr/bin/bash"
        env = None
    else:
        command = " ".join(SHELLS[shell])
        env = {"ENV": "/etc/execmark/hook.sh"} if shell in ENV_SHELLS else None
    out = task.run_session(sid, command, input=b"echo honest\nexit 0\n", env=env)
    assert out.returncode == 0, out.stderr
    opened = [m for m in markers_in(out.stdout) if m["ev"] == "open"]
    assert opened and opened[0]["wchk"] == "ok" and opened[0]["wst"] > 0, out.stdout[-2000:]
    time.sleep(0.6)  # the watcher signs exec.gone
    rows, summary, r = audit(task, tmp_path, [sid])
    assert r.returncode == 0, (r.stdout.decode()[-3000:], r.stderr)
    assert rows[sid]["statuses"] == [] and rows[sid]["attribution"] == "ATTRIBUTED", rows[sid]


def test_only_pid1s_own_executable_may_report_a_recording(task, tmp_path):
    """A root user cannot feed PID 1 fingerprints: a `rec` report from the session's command
    that is not execmark's own executable (here python3, the worker's direct child) is refused,
    and nothing is signed for it."""
    sid = "ecs-execute-command-0fa6ec0de7000001"
    script = (
        "import json,os,socket\n"
        "s=socket.socket(socket.AF_UNIX); s.connect(os.environ['EXECMARK_SOCKET'])\n"
        "s.sendall(json.dumps({'op':'rec','mode':'wrapper','kind':'start','idx':0,'off':0,"
        "'hash':''}).encode()+b'\\n')\n"
        "print(s.recv(4096).decode())\n"
    )
    path = tmp_path / "fake_recorder.py"
    path.write_text(script)
    out = task.run_session(sid, f"/usr/bin/python3 {path}")
    assert out.returncode == 0, out.stderr
    reply = out.stdout.decode()
    assert '"ok":false' in reply and "own executable" in reply, reply
    task.stop()
    assert not [m for m in markers_in(task.container_log()) if m["ev"] == "rec"]


def test_a_binary_renamed_over_pid1s_path_may_not_record(tmp_path):
    """PID 1 looks its own executable up when the first recording starts (/proc/self/exe), not
    by path: a root user who renames another build over PID 1's path before any recording
    cannot record with it (refused, no `rec` marker), while the file PID 1 runs still can."""
    image_bin = str(tmp_path / "execmark")
    shutil.copy2(BIN, image_bin)
    (tmp_path / "task").mkdir()
    t = Task(tmp_path / "task", binary=image_bin, container_env={"AWS_USER": ALICE})
    try:
        replacement = str(tmp_path / "execmark.new")
        shutil.copy2(BIN, replacement)  # the same bytes, another file
        os.rename(replacement, image_bin)
        sid_new = "ecs-execute-command-0renamed000001"
        sid_own = "ecs-execute-command-0renamed000002"
        for sid, exe in ((sid_new, image_bin), (sid_own, "/proc/1/exe")):
            out = t.run_session(sid, f"{exe} shell --reason rename -- /bin/sh",
                                input=b"echo still-a-shell\nexit 0\n")
            assert out.returncode == 0, out.stderr
            assert b"still-a-shell" in out.stdout, out.stdout[-2000:]
        t.stop()
        recs = [m for m in markers_in(t.container_log()) if m["ev"] == "rec"]
        assert not [m for m in recs if m["ssid"] == sid_new], recs
        assert f"({sid_new}): a recorder must run PID 1's own executable".encode() in \
            t.container_log()
        assert [m for m in recs if m["ssid"] == sid_own and m["kind"] == "end"], recs
    finally:
        t.stop()
