# SPDX-License-Identifier: MIT
"""Fixtures for the auditor's integration tests, built the way AWS builds the real thing.

- Markers are GENUINE: tests/tools/mksession signs them with a fresh per-boot key, using the
  marker library's v1 schema and PID 1's chain rules.
- A session's terminal bytes come from a real interactive bash on a pty (pexpect), which prints
  ordinary output and, where the hook would, the marker lines. The capture is then passed through
  util-linux `script -q <sid>.log -c "cat <capture>"` with stdin not a terminal, exactly as the SSM
  agent builds the file it uploads to S3 (header, CR CR LF from the second pty, footer).
- CloudWatch events are cut from that file by the SSM agent's rules: whole lines up to
  200,000 bytes per event, longer lines in 200,000-byte pieces, CR LF turned into LF and each
  event's trailing LF dropped. They are written as `aws logs get-log-events` and
  `filter-log-events` print them, and as a CloudWatch export to S3 (gzip, "<ISO time> <message>").
- CloudTrail records (ExecuteCommand, RunTask, and many unrelated ones) are invented here, with
  the field layout of the CloudTrail record format; written as CloudTrail S3 files (a gzip
  tree), as `aws cloudtrail lookup-events` output, and as EventBridge events.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import random
import re
import shutil
import string
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent

PROMPT = "root@ip-10-0-1-23:/srv# "
OPEN_PLACEHOLDER = "@@OPEN@@"
CLOSE_PLACEHOLDER = "@@CLOSE@@"
EVENT_BYTES = 200_000  # the SSM agent's MessageLengthThresholdInBytes

ACCOUNT = "210987654321"
REGION = "ap-southeast-2"
CLUSTER = "payments"
TASK_ID = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
TASK_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/{CLUSTER}/{TASK_ID}"
CONTAINER = "api"
CONTAINER_STREAM = f"ecs/{CONTAINER}/{TASK_ID}"
META = {
    "task": TASK_ARN,
    "cluster": CLUSTER,
    "ctr": CONTAINER,
    "cid": f"{TASK_ID}-1234567890",
    "az": f"{REGION}b",
    "lt": "FARGATE",
    "src": "v4",
}


def role_arn(session_name: str, role: str = "PlatformOncall") -> str:
    return f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session_name}"


# ---------------------------------------------------------------------------------------------
# Binaries


def execmark_bin() -> str:
    path = os.environ.get("EXECMARK_BIN")
    if not path:
        raise RuntimeError("EXECMARK_BIN is not set (run through ctest, or export it)")
    return path


def mksession_bin() -> str:
    build = os.environ.get("EXECMARK_BUILD_DIR")
    if build:
        candidate = Path(build) / "tests" / "tools" / "mksession"
    else:
        # <build>/agent/execmark -> <build>/tests/tools/mksession
        candidate = Path(execmark_bin()).resolve().parent.parent / "tests" / "tools" / "mksession"
    return str(candidate)


def prerequisites_missing() -> str | None:
    """Why the auditor's fixtures cannot be built here, or None."""
    if shutil.which("script") is None:
        return "util-linux `script` is needed to build transcripts as the SSM agent does"
    if not os.environ.get("EXECMARK_BIN"):
        return "EXECMARK_BIN is not set"
    if not Path(mksession_bin()).is_file():
        return (f"the test generator {mksession_bin()} is not built (tests/tools; the static "
                "build does not build it)")
    try:
        import pexpect  # noqa: F401
    except ImportError:
        return "python3-pexpect is needed to drive a shell on a pty"
    return None


def session_id(rng: random.Random) -> str:
    alphabet = string.ascii_lowercase + string.digits
    return "ecs-execute-command-" + "".join(rng.choice(alphabet) for _ in range(26))


def mksession(spec: dict) -> dict:
    """Runs the generator; returns its manifest: boots with kid, pub and marker lines."""
    out = subprocess.run(
        [mksession_bin(), "-"], input=json.dumps(spec).encode(), capture_output=True, check=True
    )
    return json.loads(out.stdout)


def run_execmark(args: list[str], stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [execmark_bin(), *map(str, args)],
        input=stdin,
        capture_output=True,
        timeout=120,
    )


def json_rows(proc: subprocess.CompletedProcess) -> tuple[dict, dict]:
    """(session -> row, summary) from `--json` output."""
    rows: dict = {}
    summary: dict = {}
    for line in proc.stdout.decode().splitlines():
        obj = json.loads(line)
        if obj["type"] == "session":
            rows[obj["session"]] = obj
        elif obj["type"] == "summary":
            summary = obj
    return rows, summary


# ---------------------------------------------------------------------------------------------
# Terminal capture and `script`


def pty_capture(workdir: Path, long_line_before_open: int = 0, full_screen: bool = False,
                extra_commands: tuple[str, ...] = ()) -> bytes:
    """Bytes a real interactive bash writes to its pty during a short session.

    The marker lines are printed with `cat` of files holding placeholders, so one capture serves
    many sessions: substituting a marker for its placeholder gives the bytes the terminal would
    have carried (markers are printable ASCII, one line, written in one write).
    long_line_before_open: that many bytes of output on the marker's line before the open marker
    (so that the marker sits at the end of a very long terminal line); without it the capture
    starts with the banner, as a recorded session's does.
    full_screen: also run `less` (the alternate screen); extra_commands: more commands.
    """
    import pexpect  # Debian's python3-pexpect

    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "open.txt").write_text("execmark | session opened (banner, display only)\n"
                                      + OPEN_PLACEHOLDER + "\n")
    (workdir / "close.txt").write_text(CLOSE_PLACEHOLDER + "\n")
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(workdir),
        "PS1": PROMPT,
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
    }
    buf = io.BytesIO()
    child = pexpect.spawn(
        "bash", ["--norc", "--noprofile", "-i"], env=env, cwd=str(workdir), dimensions=(40, 120)
    )
    child.logfile_read = buf
    child.expect_exact(PROMPT, timeout=20)

    def run(command: str) -> None:
        child.sendline(command)
        child.expect_exact(PROMPT, timeout=60)

    if long_line_before_open:
        run(f"head -c {long_line_before_open} /dev/zero | tr '\\0' x; cat open.txt | tail -n 1")
    else:
        run("cat open.txt")
    run("ls -la --color=always /usr | head -n 8")
    run("printf '\\033[1;31mERROR\\033[0m disk 91%% full\\n'; seq 1 40 | paste -sd' '")
    run("for i in 1 2 3; do printf 'progress %d0%%\\r' $i; done; echo done")
    if full_screen:
        # A real full-screen program on the alternate screen: less, quit with q.
        (workdir / "notes.txt").write_text("".join(f"note {i}\n" for i in range(200)))
        child.sendline("less notes.txt")
        child.expect_exact("note 1", timeout=20)
        child.send("q")
        child.expect_exact(PROMPT, timeout=20)
    for command in extra_commands:
        run(command)
    run("cat close.txt")
    child.sendline("exit")
    child.expect(pexpect.EOF, timeout=20)
    child.close()
    capture = buf.getvalue()
    if not long_line_before_open:
        # As a recorder writes it: nothing before the banner and the open (docs/markers.md §12;
        # text there would be work before the recording began). The prompt and the `cat
        # open.txt` that printed them are cut.
        capture = capture[capture.index(b"execmark | session opened"):]
    return capture


def fill_capture(capture: bytes, open_line: str | None, close_line: str | None) -> bytes:
    """The capture with the placeholders replaced (None: the marker was never printed)."""
    out = capture
    for placeholder, line in ((OPEN_PLACEHOLDER, open_line), (CLOSE_PLACEHOLDER, close_line)):
        # Replace only printed output, never the command line that was typed (it has no '@@').
        out = out.replace(placeholder.encode(), (line or "").encode())
    return out


def script_transcript(terminal_bytes: bytes, path: Path, workdir: Path) -> Path:
    """Runs `script` over the terminal bytes as the SSM agent does; path is <sid>.log."""
    workdir.mkdir(parents=True, exist_ok=True)
    capture = workdir / f"ipcTempFile-{path.stem}.log"
    capture.write_bytes(terminal_bytes)
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["script", "-q", str(path), "-c", f"cat {capture}"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        check=True,
        timeout=60,
    )
    return path


# ---------------------------------------------------------------------------------------------
# CloudWatch


def ssm_cloudwatch_messages(transcript: bytes) -> list[str]:
    """Event messages as the SSM agent uploads a finished session file (see module doc)."""
    pieces: list[bytes] = []
    pos = 0
    while pos < len(transcript):
        nl = transcript.find(b"\n", pos)
        end = len(transcript) if nl < 0 else nl + 1
        if end - pos > EVENT_BYTES:
            end = pos + EVENT_BYTES  # bufio.ErrBufferFull: a piece of a longer line
        pieces.append(transcript[pos:end])
        pos = end
    events: list[bytes] = []
    current = b""
    for piece in pieces:
        if current and len(current) + len(piece) > EVENT_BYTES:
            events.append(current)
            current = b""
        current += piece
        if len(piece) == EVENT_BYTES and not piece.endswith(b"\n"):
            events.append(current)
            current = b""
    if current:
        events.append(current)
    messages = []
    for raw in events:
        text = raw.decode("utf-8", errors="replace").replace("\r\n", "\n")
        if raw.endswith(b"\n"):
            text = text[:-1]
        messages.append(text)
    return messages


def get_log_events(messages: list[str], start_ms: int = 1772442943000) -> str:
    events = [
        {"timestamp": start_ms + i, "message": m, "ingestionTime": start_ms + i + 31}
        for i, m in enumerate(messages)
    ]
    doc = {
        "events": events,
        "nextForwardToken": "f/38401234567890123456789012345678901234567890123456789012",
        "nextBackwardToken": "b/38401234567890123456789012345678901234567890123456789011",
    }
    return json.dumps(doc, indent=4) + "\n"


def filter_log_events(streams: dict[str, list[str]], start_ms: int = 1772442943000) -> str:
    """All events of several streams, interleaved by time as filter-log-events returns them."""
    events = []
    for n, (stream, messages) in enumerate(streams.items()):
        for i, m in enumerate(messages):
            ts = start_ms + i * 10 + n
            events.append(
                {
                    "logStreamName": stream,
                    "timestamp": ts,
                    "message": m,
                    "ingestionTime": ts + 40,
                    "eventId": f"3840{ts:020d}{n:04d}{i:012d}",
                }
            )
    events.sort(key=lambda e: (e["timestamp"], e["logStreamName"]))
    doc = {
        "events": events,
        "searchedLogStreams": [
            {"logStreamName": s, "searchedCompletely": True} for s in streams
        ],
    }
    return json.dumps(doc, indent=4) + "\n"


def export_lines(messages: list[str], start_ms: int = 1772442943000) -> bytes:
    from datetime import datetime, timezone

    out = io.StringIO()
    for i, m in enumerate(messages):
        t = datetime.fromtimestamp((start_ms + i) / 1000, tz=timezone.utc)
        out.write(t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{(start_ms + i) % 1000:03d}Z {m}\n")
    return out.getvalue().encode()


def write_export(root: Path, stream: str, messages: list[str]) -> Path:
    """A CloudWatch export to S3: <prefix>/<export-task-id>/<stream>/000000.gz."""
    directory = root / "3b1f9d3e-0c8a-4e51-9a2f-5d7c1e8b6a40" / stream
    directory.mkdir(parents=True, exist_ok=True)
    (root / "aws-logs-write-test").write_text("Permission Check Successful")
    path = directory / "000000.gz"
    path.write_bytes(gzip.compress(export_lines(messages)))
    return path


# ---------------------------------------------------------------------------------------------
# Container log


def container_messages(markers: list[str], app_lines: int = 30, seed: int = 7) -> list[str]:
    """The container's awslogs stream: application lines with PID 1's marker lines between them
    (each a CloudWatch event, as awslogs ships one event per line)."""
    rng = random.Random(seed)
    out = []
    for i, marker in enumerate(markers):
        for _ in range(rng.randint(1, 4) if i else 0):
            out.append(
                json.dumps(
                    {"level": "info", "msg": "request", "status": 200, "ms": rng.randint(1, 90)}
                )
            )
        out.append(marker)
    for _ in range(app_lines):
        out.append(json.dumps({"level": "info", "msg": "tick"}))
    return out


# ---------------------------------------------------------------------------------------------
# CloudTrail


def exec_record(sid: str, principal_arn: str, event_time: str, event_id: str,
                task_arn: str = TASK_ARN, container: str = CONTAINER,
                command: str = "/bin/bash") -> dict:
    session_name = principal_arn.rsplit("/", 1)[-1]
    return {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": f"AROAZZTESTROLE0000001:{session_name}",
            "arn": principal_arn,
            "accountId": ACCOUNT,
            "accessKeyId": "ASIAZZTESTKEY0000001",
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": "AROAZZTESTROLE0000001",
                    "arn": f"arn:aws:iam::{ACCOUNT}:role/PlatformOncall",
                    "accountId": ACCOUNT,
                    "userName": "PlatformOncall",
                },
                "attributes": {"creationDate": event_time, "mfaAuthenticated": "true"},
            },
        },
        "eventTime": event_time,
        "eventSource": "ecs.amazonaws.com",
        "eventName": "ExecuteCommand",
        "awsRegion": REGION,
        "sourceIPAddress": "198.51.100.77",
        "userAgent": "aws-cli/2.15.30 md/command#ecs.execute-command",
        "requestParameters": {
            "cluster": CLUSTER,
            "container": container,
            "command": command,
            "interactive": True,
            "task": task_arn.rsplit("/", 1)[-1],
        },
        "responseElements": {
            "clusterArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{CLUSTER}",
            "containerArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:container/{CLUSTER}/{TASK_ID}/c0ffee",
            "containerName": container,
            "interactive": True,
            "session": {
                "sessionId": sid,
                "streamUrl": f"wss://ssmmessages.{REGION}.amazonaws.com/v1/data-channel/{sid}"
                "?role=publish_subscribe",
                "tokenValue": "HIDDEN_DUE_TO_SECURITY_REASONS",
            },
            "taskArn": task_arn,
        },
        "requestID": f"req-{event_id}",
        "eventID": event_id,
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
    }


def run_task_record(principal_arn: str, claim: str, event_time: str, event_id: str) -> dict:
    return {
        "eventVersion": "1.09",
        "userIdentity": {"type": "AssumedRole", "arn": principal_arn, "accountId": ACCOUNT},
        "eventTime": event_time,
        "eventSource": "ecs.amazonaws.com",
        "eventName": "RunTask",
        "awsRegion": REGION,
        "requestParameters": {
            "cluster": CLUSTER,
            "taskDefinition": "payments-api:42",
            "enableExecuteCommand": True,
            "overrides": {
                "containerOverrides": [
                    {"name": CONTAINER, "environment": [
                        {"name": "LOG_LEVEL", "value": "debug"},
                        {"name": "AWS_USER", "value": claim},
                    ]}
                ]
            },
        },
        "responseElements": {"tasks": [{"taskArn": TASK_ARN, "lastStatus": "PROVISIONING"}],
                             "failures": []},
        "eventID": event_id,
        "eventType": "AwsApiCall",
        "recipientAccountId": ACCOUNT,
    }


def noise_records(rng: random.Random, count: int) -> list[dict]:
    """Unrelated CloudTrail records: S3, EC2, ECS reads, a failed ExecuteCommand."""
    out = []
    for i in range(count):
        kind = i % 5
        base = {
            "eventVersion": "1.09",
            "userIdentity": {"type": "AWSService", "invokedBy": "ecs.amazonaws.com"},
            "eventTime": f"2026-03-02T09:{i % 60:02d}:{rng.randint(0, 59):02d}Z",
            "awsRegion": REGION,
            "eventID": f"noise-{i}-{rng.randint(0, 1 << 30)}",
            "recipientAccountId": ACCOUNT,
        }
        if kind == 0:
            base.update(eventSource="s3.amazonaws.com", eventName="GetObject",
                        requestParameters={"bucketName": "artifacts", "key": f"build/{i}.tgz"})
        elif kind == 1:
            base.update(eventSource="ec2.amazonaws.com", eventName="DescribeInstances",
                        requestParameters={"filterSet": {}}, responseElements=None)
        elif kind == 2:
            base.update(eventSource="ecs.amazonaws.com", eventName="DescribeTasks",
                        requestParameters={"cluster": CLUSTER, "tasks": [TASK_ARN]})
        elif kind == 3:
            base.update(eventSource="ecs.amazonaws.com", eventName="ExecuteCommand",
                        errorCode="AccessDeniedException",
                        errorMessage="not authorized to perform: ecs:ExecuteCommand",
                        requestParameters={"cluster": CLUSTER, "task": TASK_ID,
                                           "container": CONTAINER, "interactive": True,
                                           "command": "/bin/sh"},
                        responseElements=None)
        else:
            base.update(eventSource="ssm.amazonaws.com", eventName="StartSession",
                        requestParameters={"target": "i-0abc"},
                        responseElements={"sessionId": f"someone-{i:017x}"})
        out.append(base)
    return out


def write_cloudtrail_tree(root: Path, records: list[dict], per_file: int = 25) -> Path:
    """CloudTrail's S3 layout: AWSLogs/<acct>/CloudTrail/<region>/YYYY/MM/DD/*.json.gz, plus a
    digest file (not a log file)."""
    day = root / "AWSLogs" / ACCOUNT / "CloudTrail" / REGION / "2026" / "03" / "02"
    day.mkdir(parents=True, exist_ok=True)
    for n in range(0, len(records), per_file):
        name = f"{ACCOUNT}_CloudTrail_{REGION}_20260302T09{n // per_file:02d}Z_x{n:04d}.json.gz"
        (day / name).write_bytes(
            gzip.compress(json.dumps({"Records": records[n:n + per_file]}).encode())
        )
    digest = root / "AWSLogs" / ACCOUNT / "CloudTrail-Digest" / REGION / "2026" / "03" / "02"
    digest.mkdir(parents=True, exist_ok=True)
    (digest / f"{ACCOUNT}_CloudTrail-Digest_{REGION}_trail_20260302T100000Z.json.gz").write_bytes(
        gzip.compress(json.dumps({"awsAccountId": ACCOUNT, "digestStartTime": "x",
                                  "logFiles": []}).encode())
    )
    return root


def lookup_events(records: list[dict]) -> str:
    """`aws cloudtrail lookup-events` output: the record as a JSON string in CloudTrailEvent."""
    events = []
    for r in records:
        events.append({
            "EventId": r["eventID"],
            "EventName": r["eventName"],
            "ReadOnly": "false",
            "AccessKeyId": "ASIAZZTESTKEY0000001",
            "EventTime": r["eventTime"].replace("Z", "+00:00"),
            "EventSource": r["eventSource"],
            "Username": r["userIdentity"].get("arn", "").rsplit("/", 1)[-1],
            "Resources": [{"ResourceType": "AWS::ECS::Task", "ResourceName": TASK_ARN}],
            "CloudTrailEvent": json.dumps(r, separators=(",", ":")),
        })
    return json.dumps({"Events": events}, indent=4) + "\n"


def eventbridge_lines(records: list[dict]) -> str:
    """EventBridge events (one JSON object per line, as an archive or a Firehose file has them)."""
    out = []
    for r in records:
        out.append(json.dumps({
            "version": "0",
            "id": f"eb-{r['eventID']}",
            "detail-type": "AWS API Call via CloudTrail",
            "source": "aws.ecs",
            "account": ACCOUNT,
            "time": r["eventTime"],
            "region": REGION,
            "resources": [],
            "detail": r,
        }))
    return "\n".join(out) + "\n"


def copy_tree(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


# ---------------------------------------------------------------------------------------------
# Recorded sessions (docs/markers.md §11-§12): the region, its checkpoints, the rec markers

CHAIN_CONTEXT = b"execmark/transcript/1\x00"


def normalise(raw: bytes) -> bytes:
    """docs/markers.md §11.2 for well-formed UTF-8 (the corpora here are): every run of CRs
    before an LF becomes that LF; a run of CRs at the very end is dropped."""
    raw.decode("utf-8")  # rule 1 (invalid UTF-8) is not modelled here: refuse such input
    out = re.sub(rb"\r+\n", b"\n", raw)
    return re.sub(rb"\r+\Z", b"", out)


def chain_hashes(region: bytes, offsets: list[int]) -> list[str]:
    """h_i of docs/markers.md §11.3 at each offset (ascending), as 64 hex digits."""
    h = bytes(32)
    prev = 0
    out = []
    for i, off in enumerate(offsets, 1):
        m = hashlib.blake2b(digest_size=32)
        m.update(CHAIN_CONTEXT + h + region[prev:off] + off.to_bytes(8, "little")
                 + i.to_bytes(8, "little"))
        h = m.digest()
        prev = off
        out.append(h.hex())
    return out


def recorded_region(terminal_bytes: bytes, open_text: str = OPEN_PLACEHOLDER,
                    close_text: str = CLOSE_PLACEHOLDER) -> bytes:
    """The recorded region (§12) of a terminal capture: after the LF ending the line holding
    open_text, up to the LF before the line holding close_text (to the end without one)."""
    norm = normalise(terminal_bytes)
    at = norm.index(open_text.encode())
    start = norm.index(b"\n", at) + 1
    close = norm.find(close_text.encode(), start)
    if close < 0:
        return norm[start:]
    line_start = norm.rfind(b"\n", 0, close) + 1
    return norm[start:max(start, line_start - 1)]


def checkpoint_plan(region: bytes, prompt: str = PROMPT) -> list[tuple[str, int]]:
    """(kind, offset) where a recorder would take checkpoints: idle when a prompt is shown,
    enter at the end of each line typed at a prompt, end at the end of the region."""
    plan: list[tuple[str, int]] = []
    p = prompt.encode()
    pos = region.find(p)
    while pos >= 0:
        shown = pos + len(p)
        plan.append(("idle", shown))
        nl = region.find(b"\n", shown)
        plan.append(("enter", len(region) if nl < 0 else nl))
        pos = region.find(p, shown if nl < 0 else nl)
        if nl < 0:
            break
    plan.append(("end", len(region)))
    return plan


def rec_events(sid: str, region: bytes, plan: list[tuple[str, int]] | None = None,
               interference: list[dict] | None = None, step_ms: int = 0,
               start_advance_ms: int = 0) -> list[dict]:
    """mksession events for the rec markers of one recorded session: start, the checkpoints of
    the plan with their true chain hashes, end (fin exit, rc 0). interference: extra rec
    markers ({"after": <checkpoint idx>, "opid", "ocomm", "side"}) placed after that checkpoint."""
    plan = checkpoint_plan(region) if plan is None else plan
    offsets = [off for _, off in plan]
    hashes = chain_hashes(region, offsets)
    base = {"ev": "rec", "ssid": sid, "rpid": 4300, "fin": "", "rc": 0, "opid": 0, "ocomm": "",
            "side": ""}
    events = [{**base, "kind": "start", "idx": 0, "off": 0, "hash": "",
               **({"advance_ms": start_advance_ms} if start_advance_ms else {})}]
    for i, ((kind, off), h) in enumerate(zip(plan, hashes), 1):
        ev = {**base, "kind": kind, "idx": i, "off": off, "hash": h}
        if kind == "end":
            ev["fin"] = "exit"
        if step_ms:
            ev["advance_ms"] = step_ms
        events.append(ev)
        for x in interference or []:
            if x["after"] == i:
                events.append({**base, "kind": "interference", "idx": i, "off": off, "hash": "",
                               "opid": x.get("opid", 0), "ocomm": x.get("ocomm", ""),
                               "side": x.get("side", "inner")})
    return events
