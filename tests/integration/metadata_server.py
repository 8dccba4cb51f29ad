#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A fake ECS task metadata endpoint (TMDE v4 and v3) over real HTTP on loopback.

Serves the documents in tests/fixtures/metadata/ the way the ECS agent lays them out:

    /v4/<id>        container document  <fixture>-container.json
    /v4/<id>/task   task document       <fixture>-task.json
    /v3/<id>        container document  <v3_fixture>-container.json
    /v3/<id>/task   task document       <v3_fixture>-task.json

An unknown <id> answers 404 on v4 and 500 on v3, with a JSON-string body, as the agent does.
A behaviour ("mode") is chosen per server and can be changed while it runs:

    normal        the documents
    hang          read the request, never answer (until the server stops)
    drip          status line and headers at once, then the body at 1 byte per second
    500 404 429   that status (429 with the agent's text/plain throttling body)
    garbage       200 with a body that is not JSON
    truncated     200 with the first half of the document (a complete HTTP response)
    short-body    200 whose Content-Length promises more than is sent before closing
    huge          200 with a 10 MiB body and its Content-Length
    huge-chunked  200 with a 10 MiB body, chunked (no Content-Length)
    wrong-types   the wrong-types-*.json documents (fields of the wrong JSON type)
    task-500      the container document, but 500 for /task
    fail-first    the first fail_first requests (default 3) answer fail_status (default 500),
                  then normal; with any other mode, fail_first applies before that mode

As a module (pytest):

    with MetadataServer(fixture="ec2", mode="normal") as server:
        env = server.env()          # ECS_CONTAINER_METADATA_URI_V4 / _URI
        ...
        server.configure(mode="500")
        server.requests             # [(monotonic time, path, status)]

As a script (the end-to-end demo):

    python3 metadata_server.py --port 8080 --mode normal --fixture fargate

prints the two `export` lines for the container's environment, then serves until SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import http.server
import json
import signal
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parent / "fixtures" / "metadata"

# An endpoint id shaped like Fargate's (<32 hex>-<10 digits>); the client treats it as opaque.
DEFAULT_ENDPOINT_ID = "5e0b9c4d2a7f41e8b3c6d1a9f0e27b54-2084163379"

MODES = ("normal", "hang", "drip", "500", "404", "429", "garbage", "truncated", "short-body",
         "huge", "huge-chunked", "wrong-types", "task-500", "fail-first")

HUGE_BYTES = 10 * 1024 * 1024
THROTTLE_BODY = b"You have reached maximum request limit.\n"


class _Handler(http.server.BaseHTTPRequestHandler):
    # HTTP/1.1 with keep-alive, like the agent's Go server; every response has a length or is
    # chunked.
    protocol_version = "HTTP/1.1"
    server: "_Server"

    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass

    def do_GET(self):  # noqa: N802 - the base class's naming
        owner: MetadataServer = self.server.owner
        try:
            owner._answer(self)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (its timeout, or the size cap): that is the point of the test.
            self.close_connection = True

    # -- response helpers used by MetadataServer._answer
    def send_body(self, status: int, body: bytes, content_type: str = "application/json",
                  length: int | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def send_json_string(self, status: int, message: str) -> None:
        """An agent-style error: the body is a JSON-encoded string."""
        self.send_body(status, json.dumps(message).encode())


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # hung handlers must not delay stop()
    allow_reuse_address = True
    owner: "MetadataServer"


class MetadataServer:
    """The fake endpoint; see the module docstring."""

    def __init__(self, *, fixture: str = "fargate", v3_fixture: str = "v3", mode: str = "normal",
                 fail_first: int | None = None, fail_status: int = 500, host: str = "127.0.0.1",
                 port: int = 0, endpoint_id: str = DEFAULT_ENDPOINT_ID,
                 fixtures_dir: Path = FIXTURES):
        self.host = host
        self.endpoint_id = endpoint_id
        self.fixtures_dir = Path(fixtures_dir)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.requests: list[tuple[float, str, int]] = []
        self._fixture = fixture
        self._v3_fixture = v3_fixture
        self._mode = "normal"
        self._fail_first = 0
        self._fail_status = 500
        self.configure(mode=mode, fail_first=fail_first, fail_status=fail_status)
        self._httpd = _Server((host, port), _Handler, bind_and_activate=True)
        self._httpd.owner = self
        self._thread: threading.Thread | None = None

    # -- lifetime
    def start(self) -> "MetadataServer":
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> "MetadataServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- configuration
    def configure(self, *, mode: str | None = None, fixture: str | None = None,
                  fail_first: int | None = None, fail_status: int | None = None) -> None:
        """Changes the behaviour for the following requests and clears `requests`."""
        if mode is not None and mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; one of {', '.join(MODES)}")
        with self._lock:
            if mode is not None:
                self._mode = mode
                if mode == "fail-first" and fail_first is None:
                    fail_first = 3
            if fixture is not None:
                self._fixture = fixture
            if fail_first is not None:
                self._fail_first = fail_first
            if fail_status is not None:
                self._fail_status = fail_status
            self.requests = []

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def uri_v4(self) -> str:
        return f"{self.base_url}/v4/{self.endpoint_id}"

    @property
    def uri_v3(self) -> str:
        return f"{self.base_url}/v3/{self.endpoint_id}"

    def env(self, v4: bool = True, v3: bool = True) -> dict[str, str]:
        """The variables ECS would inject into the container."""
        out = {}
        if v4:
            out["ECS_CONTAINER_METADATA_URI_V4"] = self.uri_v4
        if v3:
            out["ECS_CONTAINER_METADATA_URI"] = self.uri_v3
        return out

    def paths(self) -> list[str]:
        with self._lock:
            return [p for _, p, _ in self.requests]

    # -- serving
    def _document(self, fixture: str, kind: str) -> bytes:
        return (self.fixtures_dir / f"{fixture}-{kind}.json").read_bytes()

    def _answer(self, h: _Handler) -> None:
        path = h.path.split("?", 1)[0]
        parts = path.strip("/").split("/")
        with self._lock:
            number = len(self.requests)
            mode, fixture = self._mode, self._fixture
            failing = number < self._fail_first
            fail_status = self._fail_status

        def record(status: int) -> None:
            with self._lock:
                self.requests.append((time.monotonic(), path, status))

        # Routing: /v4/<id>[/task], /v3/<id>[/task].
        if len(parts) not in (2, 3) or parts[0] not in ("v3", "v4") or \
                (len(parts) == 3 and parts[2] != "task"):
            record(404)
            h.send_json_string(404, "404 page not found")
            return
        version, endpoint, kind = parts[0], parts[1], ("task" if len(parts) == 3 else "container")
        if endpoint != self.endpoint_id:
            # The agent: 404 on v4 for an unknown id, 500 on v3.
            status = 404 if version == "v4" else 500
            record(status)
            h.send_json_string(status, f"{version.upper()} {kind} metadata handler: unable to "
                                       f"get {kind} for endpoint ID: {endpoint}")
            return
        if version == "v3":
            fixture = self._v3_fixture
        if failing:
            record(fail_status)
            self._send_status(h, fail_status, kind)
            return

        if mode == "wrong-types":
            fixture = "wrong-types"
        if mode in ("normal", "fail-first", "wrong-types") or (mode == "task-500" and
                                                               kind == "container"):
            record(200)
            h.send_body(200, self._document(fixture, kind))
        elif mode == "task-500" or mode in ("500", "404", "429"):
            status = 500 if mode == "task-500" else int(mode)
            record(status)
            self._send_status(h, status, kind)
        elif mode == "hang":
            record(0)
            h.close_connection = True
            self._stopping.wait()
        elif mode == "drip":
            record(200)
            body = self._document(fixture, kind)
            h.close_connection = True
            h.send_response(200)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.flush()
            for i in range(len(body)):
                h.wfile.write(body[i:i + 1])
                h.wfile.flush()
                if self._stopping.wait(1.0):
                    return
        elif mode == "garbage":
            record(200)
            h.send_body(200, b"\x00\xff<html><body>502 Bad Gateway</body></html>\n",
                        content_type="text/html")
        elif mode == "truncated":
            record(200)
            body = self._document(fixture, kind)
            h.send_body(200, body[:len(body) // 2])
        elif mode == "short-body":
            record(200)
            body = self._document(fixture, kind)
            h.close_connection = True
            h.send_body(200, body[:len(body) // 2], length=len(body))
        elif mode in ("huge", "huge-chunked"):
            record(200)
            self._send_huge(h, chunked=(mode == "huge-chunked"))
        else:  # pragma: no cover - configure() validates modes
            raise AssertionError(mode)

    def _send_status(self, h: _Handler, status: int, kind: str) -> None:
        if status == 429:
            h.send_body(429, THROTTLE_BODY, content_type="text/plain; charset=utf-8")
        elif status == 404:
            h.send_json_string(404, f"V4 {kind} metadata handler: unable to get {kind} ID from "
                                    f"request: unknown endpoint ID")
        else:
            h.send_json_string(status, f"Unable to generate metadata for {kind}")

    def _send_huge(self, h: _Handler, chunked: bool) -> None:
        h.close_connection = True
        block = b'{"Padding": "' + b"x" * 65500 + b'"},'
        blocks = HUGE_BYTES // len(block) + 1
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        if chunked:
            h.send_header("Transfer-Encoding", "chunked")
        else:
            h.send_header("Content-Length", str(1 + blocks * len(block)))
        h.end_headers()
        if chunked:
            def write(data: bytes) -> None:
                h.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        else:
            write = h.wfile.write
        write(b"[")
        for _ in range(blocks):
            if self._stopping.is_set():
                return
            write(block)
        if chunked:
            h.wfile.write(b"0\r\n\r\n")
        h.wfile.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fake ECS task metadata endpoint (v4 and v3).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: any free port (printed)")
    parser.add_argument("--mode", default="normal", choices=MODES)
    parser.add_argument("--fixture", default="fargate",
                        help="v4 documents: fargate, ec2, wrong-types (default fargate)")
    parser.add_argument("--v3-fixture", default="v3")
    parser.add_argument("--fail-first", type=int, default=None,
                        help="answer --fail-status to the first N requests")
    parser.add_argument("--fail-status", type=int, default=500)
    parser.add_argument("--endpoint-id", default=DEFAULT_ENDPOINT_ID)
    parser.add_argument("--fixtures-dir", type=Path, default=FIXTURES)
    args = parser.parse_args(argv)

    server = MetadataServer(fixture=args.fixture, v3_fixture=args.v3_fixture, mode=args.mode,
                            fail_first=args.fail_first, fail_status=args.fail_status,
                            host=args.host, port=args.port, endpoint_id=args.endpoint_id,
                            fixtures_dir=args.fixtures_dir)
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    server.start()
    for name, value in server.env().items():
        print(f"export {name}={value}", flush=True)
    print(f"# serving mode={args.mode} fixture={args.fixture} on {server.base_url}; "
          f"Ctrl-C stops", file=sys.stderr, flush=True)
    done.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
