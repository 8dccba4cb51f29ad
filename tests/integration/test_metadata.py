# SPDX-License-Identifier: MIT
"""`execmark metadata` against a real HTTP metadata endpoint on loopback (metadata_server.py).

Contract (docs/configuration.md, "Task metadata"): v4 from ECS_CONTAINER_METADATA_URI_V4, else
v3 from ECS_CONTAINER_METADATA_URI; exit 0 with the metadata, 1 when the endpoint fails (reason
on stderr), 2 for usage errors, 3 (silently) when neither variable is set. Every request and
retry fits in --timeout; bodies over 1 MiB are refused; proxies in the environment are ignored.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time

import pytest

from metadata_server import DEFAULT_ENDPOINT_ID, MetadataServer

ENV_V4 = "ECS_CONTAINER_METADATA_URI_V4"
ENV_V3 = "ECS_CONTAINER_METADATA_URI"
PROXY_VARS = ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
              "ALL_PROXY", "no_proxy", "NO_PROXY")

# Slack over --timeout for process start-up and slow (sanitizer) builds.
SLACK = 3.0

FARGATE_TASK_ARN = ("arn:aws:ecs:eu-west-1:314159265358:task/checkout-prod/"
                    "7c0f5e2a91d34b6f8a2e4c1d9b3f6a05")
EC2_TASK_ARN = ("arn:aws-us-gov:ecs:us-gov-west-1:271828182845:task/batch-workers/"
                "0d6c3a9f5e2b47d18c4f7a0e3b6d9c21")
V3_TASK_ARN = "arn:aws-cn:ecs:cn-north-1:161803398874:task/3f9d2c71-5b8e-4a06-9c1d-e27f4b8a6d53"

JSON_KEYS = ["source", "task_arn", "task_id", "cluster", "cluster_name", "cluster_arn",
             "container_name", "container_id", "container_arn", "image", "family", "revision",
             "launch_type", "availability_zone", "service_name", "region", "account",
             "partition", "log_driver", "log_group", "log_stream", "log_region", "complete",
             "notes"]


class Run:
    def __init__(self, rc: int, stdout: str, stderr: str, elapsed: float):
        self.rc, self.stdout, self.stderr, self.elapsed = rc, stdout, stderr, elapsed

    def __repr__(self) -> str:
        return (f"Run(rc={self.rc}, elapsed={self.elapsed:.2f}s, stdout={self.stdout!r}, "
                f"stderr={self.stderr!r})")

    def fields(self) -> dict[str, str]:
        """The text output's `key: value` lines."""
        out = {}
        for line in self.stdout.splitlines():
            key, sep, value = line.partition(":")
            assert sep, f"not a key: value line: {line!r}\n{self!r}"
            out[key] = value.strip()
        return out

    def json(self) -> dict:
        return json.loads(self.stdout)


def base_env(extra: dict | None = None) -> dict:
    """This process's environment without metadata or proxy variables, plus EXTRA."""
    env = {k: v for k, v in os.environ.items()
           if k not in (ENV_V4, ENV_V3) and k not in PROXY_VARS}
    env.update(extra or {})
    return env


@pytest.fixture
def run(execmark_bin):
    def _run(*args, env: dict | None = None, limit: float = 60.0) -> Run:
        start = time.monotonic()
        p = subprocess.run([execmark_bin, "metadata", *args], env=base_env(env),
                           stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=limit)
        return Run(p.returncode, p.stdout, p.stderr, time.monotonic() - start)
    return _run


@pytest.fixture
def server():
    with MetadataServer() as s:
        yield s


# ---------------------------------------------------------------------------------------------
# Values


def test_fargate_v4_text(run, server):
    """Fargate v4: cluster given as an ARN, long task ARN; text output has every field."""
    r = run(env=server.env())
    assert r.rc == 0, r
    f = r.fields()
    assert f["source"] == "v4"
    assert f["task_arn"] == FARGATE_TASK_ARN
    assert f["task_id"] == "7c0f5e2a91d34b6f8a2e4c1d9b3f6a05"
    assert f["cluster"] == "arn:aws:ecs:eu-west-1:314159265358:cluster/checkout-prod"
    assert f["cluster_name"] == "checkout-prod"
    assert f["container_name"] == "api"
    assert f["container_id"] == "7c0f5e2a91d34b6f8a2e4c1d9b3f6a05-3141592653"
    assert f["launch_type"] == "FARGATE"
    assert f["availability_zone"] == "eu-west-1b"
    assert (f["region"], f["account"], f["partition"]) == ("eu-west-1", "314159265358", "aws")
    assert f["log_group"] == "/ecs/checkout-api"
    assert f["log_stream"] == "app/api/7c0f5e2a91d34b6f8a2e4c1d9b3f6a05"
    assert f["service_name"] == "-"
    assert f["complete"] == "yes"
    assert r.stderr == ""
    assert server.paths() == [f"/v4/{server.endpoint_id}", f"/v4/{server.endpoint_id}/task"]


def test_text_output_is_aligned(run, server):
    """Text output: one `key: value` per line, values starting in one column."""
    r = run(env=server.env())
    assert r.rc == 0, r
    lines = r.stdout.splitlines()
    assert len(lines) == len(JSON_KEYS) - 1  # every field and "complete"; notes go to stderr
    columns = {len(line) - len(line.split(":", 1)[1].lstrip()) for line in lines}
    assert len(columns) == 1, lines
    assert [line.split(":", 1)[0] for line in lines] == JSON_KEYS[:-1]


def test_fargate_v4_json(run, server):
    """--json: one object with the documented keys in a fixed order; unknown values are null."""
    r = run("--json", env=server.env())
    assert r.rc == 0, r
    j = r.json()
    assert list(j) == JSON_KEYS
    assert j["task_arn"] == FARGATE_TASK_ARN
    assert j["cluster_arn"] == "arn:aws:ecs:eu-west-1:314159265358:cluster/checkout-prod"
    assert j["container_arn"].endswith("/2b7e4d19-8c3a-4f60-a5d2-91e7c0b4f836")
    assert j["service_name"] is None
    assert j["complete"] is True
    assert j["notes"] == []


def test_ec2_v4_govcloud(run, server):
    """EC2 v4: short cluster name; the cluster ARN is built in the task's partition."""
    server.configure(fixture="ec2")
    r = run("--json", env=server.env())
    assert r.rc == 0, r
    j = r.json()
    assert j["task_arn"] == EC2_TASK_ARN
    assert j["cluster"] == "batch-workers"
    assert j["cluster_arn"] == "arn:aws-us-gov:ecs:us-gov-west-1:271828182845:cluster/batch-workers"
    assert j["container_name"] == "worker"  # second in Containers: matched by DockerId
    assert j["container_id"].startswith("e4b81f07c2d95a3e")
    assert j["launch_type"] == "EC2"
    assert j["service_name"] == "reportgen-svc"
    assert j["partition"] == "aws-us-gov"
    assert j["complete"] is True


def test_v3_fallback_when_v4_unset(run, server):
    """Only the v3 variable set: v3 documents (old short task ARN, no launch type)."""
    r = run("--json", env=server.env(v4=False))
    assert r.rc == 0, r
    j = r.json()
    assert j["source"] == "v3"
    assert j["task_arn"] == V3_TASK_ARN
    assert j["task_id"] == "3f9d2c71-5b8e-4a06-9c1d-e27f4b8a6d53"
    assert j["cluster_arn"] == "arn:aws-cn:ecs:cn-north-1:161803398874:cluster/default"
    assert j["launch_type"] is None
    assert j["complete"] is True
    assert all(p.startswith("/v3/") for p in server.paths()), server.paths()


def test_v4_preferred_when_both_set(run, server):
    """Both variables set (as ECS does): only v4 is asked."""
    r = run("--json", env=server.env())
    assert r.rc == 0, r
    assert r.json()["source"] == "v4"
    assert server.paths() and all(p.startswith("/v4/") for p in server.paths()), server.paths()


def test_uri_whitespace_and_trailing_slash(run, server):
    """The variable is an opaque base URL: surrounding blanks and a trailing '/' are dropped."""
    r = run(env={ENV_V4: f"  {server.uri_v4}/\n"})
    assert r.rc == 0, r
    assert server.paths() == [f"/v4/{server.endpoint_id}", f"/v4/{server.endpoint_id}/task"]


def test_wrong_types_are_tolerated(run, server):
    """Fields of the wrong JSON type are ignored with a note; the rest still comes through."""
    server.configure(mode="wrong-types")
    r = run("--json", env=server.env())
    assert r.rc == 0, r
    j = r.json()
    # TaskARN is a number in /task: the container's label stands in.
    assert j["task_arn"] == ("arn:aws:ecs:ap-southeast-2:577215664901:task/staging/"
                             "41d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1")
    assert j["container_name"] == "web"
    assert j["cluster_name"] == "staging"
    assert j["revision"] is None
    assert any("TaskARN: expected a string, got number" in n for n in j["notes"]), j["notes"]
    assert any("Containers[0]: expected an object" in n for n in j["notes"]), j["notes"]


def test_wrong_types_notes_go_to_stderr_in_text_mode(run, server):
    """Text mode: the notes are warnings on stderr, the values on stdout."""
    server.configure(mode="wrong-types")
    r = run(env=server.env())
    assert r.rc == 0, r
    assert "warning: task document TaskARN: expected a string, got number" in r.stderr
    assert "TaskARN" not in r.stdout


def test_task_document_failure_gives_partial_result(run, server):
    """/task failing until the deadline: the container labels stand in, "complete: no"."""
    server.configure(mode="task-500")
    r = run("--timeout", "1.5", env=server.env())
    assert r.rc == 0, r
    f = r.fields()
    assert f["task_arn"] == FARGATE_TASK_ARN
    assert f["launch_type"] == "-"
    assert f["complete"] == "no"
    assert "task document unavailable" in r.stderr and "HTTP 500" in r.stderr
    assert r.elapsed < 1.5 + SLACK


# ---------------------------------------------------------------------------------------------
# Not on ECS, usage


def test_not_on_ecs_exits_3_quietly(run):
    """No endpoint variable (a local `docker run`): exit 3, nothing printed."""
    r = run()
    assert (r.rc, r.stdout, r.stderr) == (3, "", ""), r


def test_blank_variables_mean_not_on_ecs(run):
    """Variables that are set but blank count as unset."""
    r = run("--json", env={ENV_V4: "", ENV_V3: "  "})
    assert (r.rc, r.stdout, r.stderr) == (3, "", ""), r


@pytest.mark.parametrize("args", [["--timeout", "abc"], ["--timeout", "0"], ["--timeout", "-1"],
                                  ["--timeout", "301"], ["--timeout"], ["--bogus"], ["extra"]],
                         ids=["abc", "zero", "negative", "too-long", "missing", "unknown",
                              "positional"])
def test_usage_errors_exit_2(run, server, args):
    """Bad arguments: exit 2, the reason and the usage on stderr, no request made."""
    r = run(*args, env=server.env())
    assert r.rc == 2, r
    assert r.stdout == ""
    assert "error:" in r.stderr and "Usage: execmark metadata" in r.stderr
    assert server.paths() == []


def test_help(run):
    """--help: usage with exit codes and examples on stdout, exit 0."""
    r = run("--help")
    assert r.rc == 0, r
    assert r.stdout.startswith("Usage: execmark metadata")
    assert "--timeout SECONDS" in r.stdout and "3 not on ECS" in r.stdout


# ---------------------------------------------------------------------------------------------
# Failures are bounded and explained


def test_hang_is_bounded_by_the_timeout(run, server):
    """An endpoint that accepts and never answers: exit 1 within --timeout (plus slack)."""
    server.configure(mode="hang")
    r = run("--timeout", "2", env=server.env())
    assert r.rc == 1, r
    assert r.elapsed < 2 + SLACK, r
    assert r.elapsed > 1.5, r  # it did wait for the endpoint
    assert "fetch container metadata http://127.0.0.1:" in r.stderr
    assert "timed out" in r.stderr


def test_slow_drip_is_bounded_by_the_timeout(run, server):
    """A body dripping at 1 byte/s: the low-speed limit or the deadline ends it."""
    server.configure(mode="drip")
    r = run("--timeout", "3", env=server.env())
    assert r.rc == 1, r
    assert r.elapsed < 3 + SLACK, r
    assert "timed out" in r.stderr


@pytest.mark.parametrize("status", [500, 404])
def test_error_status_fails_after_retries(run, server, status):
    """5xx and 404 (start-up window) are retried with backoff until the deadline, then exit 1
    naming the status and the agent's message; the request rate stays far below 40/s."""
    server.configure(mode=str(status))
    r = run("--timeout", "2", env=server.env())
    assert r.rc == 1, r
    assert r.elapsed < 2 + SLACK, r
    assert f": HTTP {status} (" in r.stderr
    assert "metadata handler" in r.stderr or "Unable to generate metadata" in r.stderr
    n = len(server.paths())
    assert 3 <= n <= 12, server.requests


def test_throttling_429_backs_off(run, server):
    """429: retried no sooner than a second later each time."""
    server.configure(mode="429")
    r = run("--timeout", "3.5", env=server.env())
    assert r.rc == 1, r
    assert ": HTTP 429 (You have reached maximum request limit.)" in r.stderr
    times = [t for t, _, _ in server.requests]
    assert 2 <= len(times) <= 4, server.requests
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert min(gaps) >= 0.9, gaps


def test_unknown_endpoint_id_is_404(run, server):
    """A v4 URI with an id the agent does not know: 404 until the deadline, exit 1."""
    r = run("--timeout", "1", env={ENV_V4: f"{server.base_url}/v4/0000-unknown"})
    assert r.rc == 1, r
    assert ": HTTP 404 (" in r.stderr


def test_garbage_body_is_rejected_without_retry(run, server):
    """A 200 whose body is not JSON: exit 1 at once (the endpoint answered; retrying the same
    answer helps nobody)."""
    server.configure(mode="garbage")
    r = run("--timeout", "5", env=server.env())
    assert r.rc == 1, r
    assert "parse container metadata: invalid JSON at byte" in r.stderr
    assert len(server.paths()) == 1
    assert r.elapsed < SLACK


def test_truncated_json_is_rejected(run, server):
    """A complete HTTP response carrying half a JSON document: exit 1, a parse error."""
    server.configure(mode="truncated")
    r = run("--timeout", "5", env=server.env())
    assert r.rc == 1, r
    assert "parse container metadata: invalid JSON at byte" in r.stderr


def test_short_body_is_a_transport_error_and_retried(run, server):
    """A connection closed before Content-Length bytes arrived: retried, then exit 1."""
    server.configure(mode="short-body")
    r = run("--timeout", "1.5", env=server.env())
    assert r.rc == 1, r
    assert len(server.paths()) >= 2
    assert "fetch container metadata" in r.stderr


@pytest.mark.parametrize("mode", ["huge", "huge-chunked"])
def test_10_mib_body_is_rejected(run, server, mode):
    """10 MiB (announced by Content-Length, or chunked without one): refused past 1 MiB,
    without retry, long before the timeout."""
    server.configure(mode=mode)
    r = run("--timeout", "10", env=server.env())
    assert r.rc == 1, r
    assert "response larger than 1048576 bytes" in r.stderr
    assert len(server.paths()) == 1
    assert r.elapsed < SLACK, r


def test_only_http_urls(run):
    """An https:// (or any non-http) endpoint is refused without a request."""
    r = run("--timeout", "5", env={ENV_V4: "https://127.0.0.1:1/v4/x"})
    assert r.rc == 1, r
    assert "only http:// URLs are allowed" in r.stderr
    assert r.elapsed < SLACK


# ---------------------------------------------------------------------------------------------
# Recovery


def test_retries_succeed_after_transient_failures(run, server):
    """The first three requests fail (500); the fetch retries and succeeds."""
    server.configure(mode="fail-first")
    r = run("-v", "--timeout", "5", env=server.env())
    assert r.rc == 0, r
    assert r.fields()["task_arn"] == FARGATE_TASK_ARN
    statuses = [s for _, _, s in server.requests]
    assert statuses[:3] == [500, 500, 500] and statuses[3:] == [200, 200], server.requests
    assert r.stderr.count("retrying in") == 3


def test_refused_connections_then_endpoint_comes_up(run, execmark_bin):
    """Nothing listening at first (the agent not yet serving): retried until it answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started: list[MetadataServer] = []

    def start_later():
        time.sleep(1.5)
        started.append(MetadataServer(port=port).start())

    t = threading.Thread(target=start_later)
    t.start()
    try:
        uri = f"http://127.0.0.1:{port}/v4/{DEFAULT_ENDPOINT_ID}"
        r = run("-v", "--timeout", "8", env={ENV_V4: uri})
    finally:
        t.join()
        for s in started:
            s.stop()
    assert r.rc == 0, r
    assert r.elapsed >= 1.4, r
    assert "connection refused" in r.stderr
    assert r.fields()["container_name"] == "api"


def test_proxy_variables_are_ignored(run, server):
    """HTTP_PROXY/http_proxy/ALL_PROXY pointing at a dead proxy must not capture the request."""
    dead = "http://127.0.0.1:9"
    r = run("--timeout", "3", env={**server.env(), "HTTP_PROXY": dead, "http_proxy": dead,
                                   "ALL_PROXY": dead, "all_proxy": dead})
    assert r.rc == 0, r
    assert r.fields()["task_arn"] == FARGATE_TASK_ARN
    assert len(server.paths()) == 2
