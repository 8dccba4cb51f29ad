# SPDX-License-Identifier: MIT
"""ECS Exec sessions entered into the application image the way ECS enters them, and audited.

The SSM agent stand-in (tests/sim: amazon-ssm-agent, ssm-agent-worker, ssm-session-worker,
static binaries) is copied with its configuration into a directory bind-mounted **read-only** at
/managed-agents/execute-command/, as ECS does on Fargate. `amazon-ssm-agent` is started with
`podman exec` (its parent, conmon, is outside the container: parent pid 0 inside, as on ECS),
with the container's environment. Sessions are opened from the host with the stand-in's
ssm-session-client, as the SSM service opens them: the agent's worker runs the command on a new
pty under `ssm-session-worker <sid>` and writes the transcript as the agent does (with the
container's own `script`), into /var/lib/amazon/ssm (a bind mount the test reads). The task
metadata endpoint is tests/integration/metadata_server.py on the host's loopback (the container
shares the host's network). The container log is `podman logs`; the CloudTrail records
(RunTask with the claim override, one ExecuteCommand per session) are made by the test.

Contracts: through the image as built from examples/images/Dockerfile.debian —
- `bash -i` (the hook in /etc/bash.bashrc), `/bin/sh` (dash, the hook through `ENV`) and wrapper
  mode (`execmark shell --reason … -- /bin/bash`) each print the signed banner with the SSM
  session id into the session, and their transcripts hold an `open` and a `close`;
- a session whose shell skips the hook (`bash --norc -i`) leaves no marker in its transcript,
  but PID 1 records it (`exec.seen`) in the container log;
- `execmark audit` (the image's binary) over the transcripts, the container log and the
  CloudTrail records reports the three hooked sessions ATTRIBUTED and the bypassed one BYPASSED.
"""

from __future__ import annotations

import datetime
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pexpect
import pytest

from conftest import MARKER, REPO

sys.path.insert(0, str(REPO / "tests" / "integration"))
from metadata_server import MetadataServer  # noqa: E402

SIM = REPO / "tests" / "sim"
AGENT_BINARIES = ("amazon-ssm-agent", "ssm-agent-worker", "ssm-session-worker")
AGENT_DIR = "/managed-agents/execute-command"
SSM_ROOT = "/var/lib/amazon/ssm"
SOCKET_DIR = "/run/ssm-standin"

# The fargate fixture of tests/fixtures/metadata: the task, its cluster and container.
ACCOUNT = "314159265358"
REGION = "eu-west-1"
CLUSTER = "checkout-prod"
TASK = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/{CLUSTER}/7c0f5e2a91d34b6f8a2e4c1d9b3f6a05"
CONTAINER = "api"
PRINCIPAL = f"arn:aws:sts::{ACCOUNT}:assumed-role/Developers/alice"
PROMPT = r"[#$] $"


@pytest.fixture(scope="session")
def standin(tmp_path_factory) -> dict:
    """The stand-in's executables: EXECMARK_SSM_AGENT_DIR / EXECMARK_SSM_CLIENT when set (a
    cmake build), else compiled here from tests/sim (static, so they run in any image)."""
    agent_dir = os.environ.get("EXECMARK_SSM_AGENT_DIR")
    client = os.environ.get("EXECMARK_SSM_CLIENT")
    if agent_dir and client:
        return {"agent_dir": Path(agent_dir), "client": Path(client)}
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler to build the SSM agent stand-in (tests/sim)")
    out = tmp_path_factory.mktemp("standin")
    (out / "agent").mkdir()
    for prog in AGENT_BINARIES + ("ssm-session-client",):
        dest = out / ("agent" if prog != "ssm-session-client" else "") / prog
        r = subprocess.run([cc, "-std=gnu11", "-O2", "-Wall", "-Wextra", "-Werror", "-static",
                            "-o", str(dest), str(SIM / (prog.replace("-", "_") + ".c")),
                            str(SIM / "standin.c")], capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, f"building {prog} failed:\n{r.stderr}"
    return {"agent_dir": out / "agent", "client": out / "ssm-session-client"}


class EcsTask:
    """The application image running like an ECS task with ECS Exec enabled."""

    def __init__(self, podman, image, standin, tmp: Path, metadata_env: dict):
        self.podman = podman
        self.client = str(standin["client"])
        self.instance_id = secrets.token_hex(32)
        self.agent_src = tmp / "managed-agents"
        self.ssm_root = tmp / "ssm-root"
        self.socket_dir = tmp / "ssm-socket"
        conf = self.agent_src / "configuration"
        conf.mkdir(parents=True)
        self.ssm_root.mkdir()
        self.socket_dir.mkdir()
        for name in AGENT_BINARIES:
            shutil.copy2(standin["agent_dir"] / name, self.agent_src / name)
        (conf / "standin.conf").write_text(
            "# SSM agent stand-in (tests/sim/standin.h)\n"
            f"socket={SOCKET_DIR}/ssm.sock\nssm_root={SSM_ROOT}\n"
            f"instance_id={self.instance_id}\nstate_file=1\n")
        self.socket = self.socket_dir / "ssm.sock"
        env = {"AWS_USER": "alice", "EXECMARK_WATCH_INTERVAL": "0.2", **metadata_env}
        options = ["--network", "host",
                   "-v", f"{self.agent_src}:{AGENT_DIR}:ro",
                   "-v", f"{self.ssm_root}:{SSM_ROOT}",
                   "-v", f"{self.socket_dir}:{SOCKET_DIR}"]
        for k, v in env.items():
            options += ["-e", f"{k}={v}"]
        self.container = podman.start(image, stem="ecs", options=options)
        self.container.wait_log(r'"ev":"meta"', 20)

    def start_agent(self):
        """`podman exec -d` the agent: conmon, outside the container, is its parent."""
        r = self.podman.run(["exec", "-d", self.container.name, f"{AGENT_DIR}/amazon-ssm-agent"])
        assert r.returncode == 0, r.stderr
        deadline = time.monotonic() + 15
        while not self.socket.exists():
            assert time.monotonic() < deadline, "the SSM agent stand-in did not start"
            time.sleep(0.05)

    def session(self, sid: str, command: str) -> pexpect.spawn:
        return pexpect.spawn(self.client, ["--owner", PRINCIPAL, "--size", "40x200",
                                           str(self.socket), sid, command],
                             encoding="utf-8", codec_errors="replace", timeout=20,
                             dimensions=(40, 200))

    def transcript(self, sid: str) -> Path:
        return (self.ssm_root / self.instance_id / "session" / "orchestration" / sid
                / "InteractiveCommands" / f"{sid}.log")


def cloudtrail(sessions: list[tuple[str, str, datetime.datetime]], run_at) -> dict:
    def base(name, when, n):
        return {"eventVersion": "1.08",
                "userIdentity": {"type": "AssumedRole", "principalId": "AROAEXAMPLEDEV01:alice",
                                 "arn": PRINCIPAL, "accountId": ACCOUNT,
                                 "sessionContext": {"sessionIssuer": {
                                     "type": "Role", "userName": "Developers",
                                     "arn": f"arn:aws:iam::{ACCOUNT}:role/Developers"}}},
                "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "eventSource": "ecs.amazonaws.com", "eventName": name, "awsRegion": REGION,
                "sourceIPAddress": "198.51.100.7", "userAgent": "aws-cli/2.15.0",
                "requestID": f"req-{n:04d}", "eventID": f"0000{n:04d}-test-4000-8000-00000000",
                "readOnly": False, "eventType": "AwsApiCall", "managementEvent": True,
                "recipientAccountId": ACCOUNT, "eventCategory": "Management"}

    run = base("RunTask", run_at, 1)
    run["requestParameters"] = {
        "cluster": CLUSTER, "taskDefinition": "checkout-api:42", "enableExecuteCommand": True,
        "overrides": {"containerOverrides": [
            {"name": CONTAINER, "environment": [{"name": "AWS_USER", "value": "alice"}]}]}}
    run["responseElements"] = {"tasks": [{"taskArn": TASK}]}
    records = [run]
    for n, (sid, command, when) in enumerate(sessions, start=2):
        r = base("ExecuteCommand", when, n)
        r["requestParameters"] = {"cluster": CLUSTER, "container": CONTAINER,
                                  "command": command, "interactive": True, "task": TASK}
        r["responseElements"] = {
            "clusterArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{CLUSTER}",
            "containerName": CONTAINER, "interactive": True, "taskArn": TASK,
            "session": {"sessionId": sid, "tokenValue": "HIDDEN_DUE_TO_SECURITY_REASONS",
                        "streamUrl": f"wss://ssmmessages.{REGION}.amazonaws.com/v1/"
                                     f"data-channel/{sid}"}}
        records.append(r)
    return {"Records": records}


def signed_open_shown(output: str, sid: str) -> bool:
    """The session showed a signed `open` marker for SID (and the banner naming it)."""
    for line in output.splitlines():
        if MARKER in line and '"ev":"open"' in line and f'"sid":"{sid}"' in line:
            return " ed25519=" in line and f"ECS Exec session {sid}" in output
    return False


def test_ecs_exec_sessions_are_attributed_and_a_bypass_is_caught(podman, images, image_execmark,
                                                                  standin, tmp_path):
    run_at = datetime.datetime.now(datetime.timezone.utc)
    with MetadataServer(fixture="fargate") as metadata:
        task = EcsTask(podman, images.app, standin, tmp_path, metadata.env())
        # The agent directory is read-only inside, as on ECS.
        r = task.container.exec(["sh", "-c", f"touch {AGENT_DIR}/x"])
        assert r.returncode != 0 and "Read-only" in r.stderr, r
        task.start_agent()
        r = task.container.exec(["sh", "-c", "for p in /proc/[0-9]*; do "
                                 "[ \"$(cat $p/comm)\" = amazon-ssm-agen ] && "
                                 "awk '/^PPid/{print $2}' $p/status; done"])
        assert r.stdout.split() == ["0"], f"the agent's parent pid inside: {r.stdout!r}"

        stamp = secrets.token_hex(8)
        hooked = {
            f"ecs-execute-command-bash{stamp}": "/bin/bash -i",
            f"ecs-execute-command-dash{stamp}": "/bin/sh",
            f"ecs-execute-command-wrap{stamp}":
                "/usr/local/bin/execmark shell --reason INC-1234 -- /bin/bash",
        }
        bypass_sid = f"ecs-execute-command-skip{stamp}"
        sessions = []
        for sid, command in list(hooked.items()) + [(bypass_sid, "/bin/bash --norc -i")]:
            sessions.append((sid, command, datetime.datetime.now(datetime.timezone.utc)))
            s = task.session(sid, command)
            s.expect(PROMPT)
            s.sendline("echo in-session-$((6*7))")
            s.expect("in-session-42")
            s.expect(PROMPT)
            time.sleep(0.6)  # PID 1's watcher (0.2 s here) sees the session worker
            s.sendline("exit")
            s.expect(pexpect.EOF)
            shown = s.before
            s.close()
            assert s.exitstatus == 0, (sid, s.exitstatus, shown)
            transcript = task.transcript(sid).read_text(errors="replace")
            if sid == bypass_sid:
                assert MARKER not in transcript, transcript
            else:
                # The whole session output went through the client: banner and marker shown.
                assert signed_open_shown(transcript, sid), transcript
                assert '"ev":"close"' in transcript, transcript

        r = podman.run(["stop", "-t", "20", task.container.name], timeout=60)
        assert r.returncode == 0, r.stderr

    container_log = tmp_path / "container.log"
    container_log.write_text("\n".join(task.container.stdout_log()) + "\n")
    seen = [json.loads(line[line.index("{"):line.rindex(" ed25519=")])
            for line in container_log.read_text().splitlines() if '"ev":"exec.seen"' in line]
    assert {m["wsid"] for m in seen} == {sid for sid, _, _ in sessions}, seen
    uploads = tmp_path / "s3"
    uploads.mkdir()
    for sid, _, _ in sessions:
        shutil.copyfile(task.transcript(sid), uploads / f"{sid}.log")
    trail = tmp_path / "cloudtrail"
    trail.mkdir()
    (trail / f"{ACCOUNT}_CloudTrail_{REGION}_test.json").write_text(
        json.dumps(cloudtrail(sessions, run_at)))

    r = subprocess.run([image_execmark, "audit", "--json", "--cloudtrail", str(trail),
                        "--container-log", str(container_log), str(uploads)],
                       capture_output=True, text=True, timeout=60)
    rows = {}
    for line in r.stdout.splitlines():
        obj = json.loads(line)
        if obj.get("type") == "session":
            rows[obj["session"]] = obj
    report = r.stdout + r.stderr
    for sid in hooked:
        assert rows[sid]["status"] == "ATTRIBUTED", (sid, rows.get(sid), report)
    assert rows[bypass_sid]["status"] == "BYPASSED", (rows.get(bypass_sid), report)
    assert r.returncode == 1, report  # not every session is clean
