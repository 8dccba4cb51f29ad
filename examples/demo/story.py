#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The end-to-end demo: one ECS Exec story, played locally with the real binary.

A task starts (a PID namespace with execmark init as PID 1, a local ECS metadata endpoint serving
its Fargate task data, AWS_USER=alice set by alice's RunTask override). Three ECS Exec sessions
follow through a stand-in for the SSM agent (tests/sim, driven by tests/integration/ssm_agent.py):
amazon-ssm-agent entered from outside the task (parent pid 0), ssm-agent-worker, and one
`ssm-session-worker <session-id>` per session, from the read-only
/managed-agents/execute-command, starting the command on a new pty; a scripted user types:

  1. alice opens bash; the image's shell hook writes the signed banner;
  2. bob uses wrapper mode (`execmark shell --reason INC-4711`) in alice's task;
  3. mallory starts `bash --norc` to dodge the hook.

When a session ends its transcript is made the way the agent makes it (`script <sid>.log -c
"cat ipcTempFile.log"` under /var/lib/amazon/ssm) and copied into an "S3 bucket" directory. CloudTrail events for the story are
written as a CloudTrail S3 file. Finally `execmark audit` prints the report.
"""
import argparse
import datetime
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

from metadata_server import MetadataServer  # noqa: E402
from ssm_agent import Task  # noqa: E402

ACCOUNT = "314159265358"
REGION = "eu-west-1"
CLUSTER = "checkout-prod"
TASK = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/{CLUSTER}/7c0f5e2a91d34b6f8a2e4c1d9b3f6a05"
CONTAINER = "api"
SESSIONS = {
    "alice": "ecs-execute-command-0a11ce5e551011a2b",
    "bob": "ecs-execute-command-0b0b5e5510112c3d4",
    "mallory": "ecs-execute-command-0ma11054e55107e5f",
}


def say(text):
    print(f"\n\033[1m== {text}\033[0m", flush=True)


def note(text):
    print(f"   {text}", flush=True)


def show_transcript(text):
    """The uploaded transcript (S3 object), escapes dropped, long lines cut for the screen."""
    import re
    note("transcript as uploaded to S3:")
    for line in text.replace("\r", "").splitlines():
        line = re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", line)
        note("| " + line[:140] + (" ..." if len(line) > 140 else ""))


class Story:
    def __init__(self, binary, agent_dir, client, work):
        self.bin = binary
        self.agent_dir = agent_dir
        self.client = client
        self.work = work
        self.s3 = os.path.join(work, "s3", "exec-logs")
        self.cloudtrail = os.path.join(work, "cloudtrail")
        self.image = os.path.join(work, "image")
        self.task_dir = os.path.join(work, "task")
        for d in (self.s3, self.cloudtrail, self.image, self.task_dir):
            os.makedirs(d, exist_ok=True)
        self.events = []

    # -- the image: /etc as an image builder leaves it after `execmark hook install`
    def build_image_etc(self):
        etc = os.path.join(self.image, "etc")
        os.makedirs(etc, exist_ok=True)
        os.makedirs(os.path.join(self.image, "usr", "bin"), exist_ok=True)
        os.symlink("usr/bin", os.path.join(self.image, "bin"))
        # The installer reads the shells of the image (under --root, links resolved inside it).
        for name in ("bash", "dash"):
            shutil.copy2(f"/usr/bin/{name}", os.path.join(self.image, "usr", "bin", name))
        with open(os.path.join(etc, "bash.bashrc"), "w") as f:
            f.write("# the image's own bashrc\nPS1='\\u@api:\\w\\$ '\n")
        with open(os.path.join(etc, "passwd"), "w") as f:
            f.write("root:x:0:0:root:/root:/bin/bash\n")
        out = subprocess.run([self.bin, "hook", "install", "--root", self.image, "--bin", self.bin],
                             capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            sys.exit(f"demo: hook install failed: {out.stderr}")
        for line in out.stdout.splitlines():
            note("| " + line)

    def start_task(self, metadata_env):
        # The container's environment: the task's, with alice's RunTask override.
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/root", "AWS_USER": "alice",
               "EXECMARK_BIN_PATH": self.bin}
        env.update(metadata_env)
        # The image's /etc, as the container sees it: an overlay in the task's mount namespace.
        self.task = Task(pathlib.Path(self.task_dir), binary=self.bin,
                         agent_build_dir=self.agent_dir, client=self.client,
                         child=("/bin/sh", "-c", "echo 'app: listening on :8080'; exec sleep 3600"),
                         args=("--grace", "3"), watch_interval="0.5",
                         env=dict(os.environ, **env), container_env=env,
                         etc_overlay=os.path.join(self.image, "etc"))
        self.container_log = self.task.log_path
        time.sleep(0.8)  # the background metadata fetch lands its meta marker

    def session(self, who, command, typed, sid=None):
        sid = sid or SESSIONS[who]
        start = datetime.datetime.now(datetime.timezone.utc)
        self.events.append(("ExecuteCommand", who, sid, command, start))
        s = self.task.session(sid, command, timeout=20)
        s.expect(r"[#$] $")
        for line in typed:
            time.sleep(0.3)
            s.sendline(line)
            if line.startswith("exit"):
                break
            s.expect(r"[#$] $")
        s.wait()
        # The agent uploads <sid>.log; its ipc file stays behind in the container.
        uploaded = os.path.join(self.s3, f"{sid}.log")
        shutil.copyfile(s.transcript_path, uploaded)
        with open(uploaded, errors="replace", newline="") as f:
            return f.read()

    def stop_task(self):
        self.task.stop()

    def write_cloudtrail(self, run_at):
        def identity(who):
            return {"type": "AssumedRole",
                    "principalId": f"AROAEXAMPLEDEVROLE01:{who}",
                    "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/Developers/{who}",
                    "accountId": ACCOUNT,
                    "sessionContext": {"sessionIssuer": {
                        "type": "Role", "arn": f"arn:aws:iam::{ACCOUNT}:role/Developers",
                        "userName": "Developers"}}}

        def base(name, who, when, n):
            return {"eventVersion": "1.08", "userIdentity": identity(who),
                    "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "eventSource": "ecs.amazonaws.com", "eventName": name,
                    "awsRegion": REGION, "sourceIPAddress": "198.51.100.7",
                    "userAgent": "aws-cli/2.15.0", "requestID": f"req-{n:04d}",
                    "eventID": f"0000{n:04d}-demo-4000-8000-000000000000",
                    "readOnly": False, "eventType": "AwsApiCall", "managementEvent": True,
                    "recipientAccountId": ACCOUNT, "eventCategory": "Management"}

        records = []
        run = base("RunTask", "alice", run_at, 1)
        run["requestParameters"] = {
            "cluster": CLUSTER, "taskDefinition": "checkout-api:42", "enableExecuteCommand": True,
            "overrides": {"containerOverrides": [
                {"name": CONTAINER, "environment": [{"name": "AWS_USER", "value": "alice"}]}]},
            "tags": [{"key": "Owner", "value": "alice"}]}
        run["responseElements"] = {"tasks": [{"taskArn": TASK, "clusterArn":
                                              f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{CLUSTER}"}]}
        records.append(run)
        for n, (name, who, sid, command, when) in enumerate(self.events, start=2):
            r = base(name, who, when, n)
            r["requestParameters"] = {"cluster": CLUSTER, "container": CONTAINER,
                                      "command": command, "interactive": True, "task": TASK}
            r["responseElements"] = {
                "clusterArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{CLUSTER}",
                "containerArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:container/{CLUSTER}/0c3f",
                "containerName": CONTAINER, "interactive": True,
                "session": {"sessionId": sid,
                            "streamUrl": f"wss://ssmmessages.{REGION}.amazonaws.com/v1/data-channel/{sid}",
                            "tokenValue": "HIDDEN_DUE_TO_SECURITY_REASONS"},
                "taskArn": TASK}
            records.append(r)
        # Unrelated traffic in the same trail file.
        for n in range(40):
            r = base("DescribeTasks", "ci-bot", run_at, 100 + n)
            r["readOnly"] = True
            r["requestParameters"] = {"cluster": CLUSTER, "tasks": [TASK]}
            r["responseElements"] = None
            records.append(r)
        path = os.path.join(self.cloudtrail, f"{ACCOUNT}_CloudTrail_{REGION}_demo.json")
        with open(path, "w") as f:
            json.dump({"Records": records}, f, indent=1)
        return path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--agent-dir", required=True,
                    help="the built SSM agent stand-in (amazon-ssm-agent, ssm-agent-worker, "
                         "ssm-session-worker)")
    ap.add_argument("--client", required=True, help="the stand-in's ssm-session-client")
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    story = Story(os.path.abspath(a.bin), os.path.abspath(a.agent_dir),
                  os.path.abspath(a.client), os.path.abspath(a.work))

    say("1. The image: execmark hook install added the hook to the image's bash.bashrc")
    story.build_image_etc()

    say("2. alice runs the task (RunTask with the AWS_USER=alice override, --enable-execute-command)")
    run_at = datetime.datetime.now(datetime.timezone.utc)
    with MetadataServer(fixture="fargate", mode="normal") as md:
        story.start_task(md.env())
        note("container log so far (PID 1's stdout — the trust anchor for the boot key):")
        with open(story.container_log) as f:
            for line in f:
                note("| " + line.rstrip()[:150] + (" ..." if len(line) > 150 else ""))

        say("3. alice: aws ecs execute-command --interactive --command /bin/bash")
        out = story.session("alice", "/bin/bash", ["id -un", "cat /proc/1/cmdline | tr '\\0' ' '; echo", "exit"])
        show_transcript(out)

        say("4. bob: --command \"execmark shell --reason INC-4711 -- /bin/bash\" in alice's task")
        out = story.session("bob", f"{story.bin} shell --reason INC-4711 -- /bin/bash",
                            ["uptime", "exit 3"])
        show_transcript(out)

        say("5. mallory: --command \"/bin/bash --norc --noprofile -i\" to dodge the hook")
        story.session("mallory", "/bin/bash --norc --noprofile -i",
                      ["PS1='mallory# '", "sleep 1.2", "head -c 60 /etc/passwd; echo", "exit"])
        note("no banner, no marker in this transcript — but PID 1's watcher saw the session worker")

        say("6. The task stops (SIGTERM to PID 1): shutdown marker, exit")
        story.stop_task()

    say("7. What an auditor fetches: session logs (S3), the container log, CloudTrail")
    trail = story.write_cloudtrail(run_at)
    for name in sorted(os.listdir(story.s3)):
        note(f"s3://exec-logs/{name}  ({os.path.getsize(os.path.join(story.s3, name))} bytes)")
    note(f"container log: {os.path.getsize(story.container_log)} bytes, "
         f"CloudTrail: {os.path.basename(trail)} ({1 + len(story.events)} relevant of "
         f"{41 + len(story.events)} events)")

    say("8. execmark audit --cloudtrail cloudtrail/ --container-log container.log s3/exec-logs/")
    rc = subprocess.run([story.bin, "audit", "--cloudtrail", story.cloudtrail,
                         "--container-log", story.container_log, story.s3],
                        timeout=60).returncode
    note(f"(exit status {rc}: non-zero because not every session is clean)")

    say("What you saw")
    note("- alice's session: signed by PID 1, bound to its SSM session id, her claim matches her")
    note("  IAM identity in CloudTrail: ATTRIBUTED.")
    note("- bob's session in alice's task: signed, but the claim (alice, from her RunTask")
    note("  override) is not bob: MISMATCH (`--json` names who set the claim).")
    note("- mallory dodged the hook: her transcript has no markers, but the container log's")
    note("  exec.seen/exec.gone markers show the session existed: BYPASSED.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
