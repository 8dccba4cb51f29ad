# SPDX-License-Identifier: MIT
"""Helpers for tests that need execmark init as a real PID 1 with its attribution service.

`Pid1` starts `execmark init` in a new PID and mount namespace (`unshare --pid --fork
--mount-proc`), keeps its stdout (the container log, where boot/meta/shutdown markers go) as
lines and, like a log driver, in a file (`log_path`, stdout and stderr lines in arrival order),
and runs commands inside the namespaces with nsenter (PPID 0 there, like a `docker exec`).
ECS Exec sessions go through the SSM agent stand-in of ssm_agent.py (`Task`), which builds on
this class. Markers are verified here with an independent Ed25519 implementation
(python3-cryptography).
"""
import base64
import json
import os
import re
import signal
import subprocess
import threading
import time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

BIN = os.environ.get("EXECMARK_BIN", "")
CONTEXT = b"execmark/1\n"
# A report of a sanitizer build (asan preset) on PID 1's stderr fails the test at stop().
SANITIZER_REPORT = re.compile(rb"ERROR: (Address|Leak|Memory|Thread)Sanitizer|runtime error: ")


def b64url_decode(text):
    # Strict: a signature followed by anything that is not base64url is a parse error here,
    # not silently skipped characters.
    padded = text + "=" * (-len(text) % 4)
    return base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)


class Marker:
    """One marker line split the way the spec says: exact payload bytes, never re-serialized."""

    def __init__(self, line):
        raw = line.encode() if isinstance(line, str) else line
        raw = raw.rstrip(b"\r\n ")
        start = raw.index(b"EXECMARK1 ")
        body = raw[start + len(b"EXECMARK1 "):]
        if b" ed25519=" in body:
            cut = body.rindex(b" ed25519=")
            self.signature = b64url_decode(body[cut + 9:].decode())
            self.unsigned = None
        else:
            cut = body.rindex(b" unsigned=")
            self.signature = None
            self.unsigned = body[cut + 10:].decode()
        self.payload = body[:cut]
        self.fields = json.loads(self.payload)

    def __getitem__(self, key):
        return self.fields[key]

    def verify(self, public_key_b64):
        if self.signature is None:
            return False
        key = Ed25519PublicKey.from_public_bytes(b64url_decode(public_key_b64))
        try:
            key.verify(self.signature, CONTEXT + self.payload)
            return True
        except Exception:  # InvalidSignature
            return False


def markers_in(text):
    """Every marker line in a blob of terminal or log output."""
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    out = []
    for line in text.replace("\r", "\n").split("\n"):
        if "EXECMARK1 " in line:
            out.append(Marker(line))
    return out


def children_of(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


class Pid1:
    """execmark init as PID 1 of a fresh PID namespace, supervising `child`."""

    def __init__(self, tmp_path, child=("sleep", "600"), args=(), env=None,
                 watch_interval="0.2", binary=None):
        self.socket = str(tmp_path / "run" / "agent.sock")
        self.log_path = str(tmp_path / "container.log")
        self._log = open(self.log_path, "wb")
        cmd = ["unshare", "--pid", "--fork", "--mount-proc", binary or BIN, "init",
               "--socket", self.socket, "--watch-interval", watch_interval, *args,
               "--", *child]
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=full_env)
        self.lines = []
        self.stderr = b""
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._err_reader = threading.Thread(target=self._read_err, daemon=True)
        self._err_reader.start()
        self.init_pid = None
        deadline = time.time() + 10
        while time.time() < deadline and self.init_pid is None:
            kids = children_of(self.proc.pid)
            if kids:
                self.init_pid = kids[0]
            elif self.proc.poll() is not None:
                break  # a short-lived container can be over before we look: its log remains
            else:
                time.sleep(0.01)
        assert self.init_pid or self.proc.poll() is not None, "execmark init did not start"
        self.boot = self.wait_for(lambda m: m["ev"] == "boot", timeout=10)
        self.public_key = self.boot["pub"]
        deadline = time.time() + 10
        while (self.proc.poll() is None and not os.path.exists(self.socket)
               and time.time() < deadline):
            time.sleep(0.01)

    def _read(self):
        for line in self.proc.stdout:
            with self._lock:
                self.lines.append(line.decode(errors="replace"))
                self._log.write(line)
                self._log.flush()

    def _read_err(self):
        for line in self.proc.stderr:
            with self._lock:
                self.stderr += line
                self._log.write(line)
                self._log.flush()

    def container_log(self):
        """The container log so far (PID 1's stdout and stderr, as a log driver keeps them)."""
        with self._lock:
            self._log.flush()
        with open(self.log_path, "rb") as f:
            return f.read()

    def markers(self):
        with self._lock:
            return [Marker(l) for l in self.lines if "EXECMARK1 " in l]

    def wait_for(self, predicate, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for m in self.markers():
                if predicate(m):
                    return m
            if self.proc.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.02)
        raise AssertionError(f"no matching marker; container log: {self.lines!r}; "
                             f"stderr: {self.stderr!r}")

    def inside(self, argv, **kwargs):
        """Runs argv inside the namespace (PPID 0 there, like the SSM agent's processes)."""
        kwargs.setdefault("timeout", 30)
        kwargs.setdefault("capture_output", True)
        return subprocess.run(["nsenter", "-t", str(self.init_pid), "-p", "-m", *argv],
                              **kwargs)

    def popen_inside(self, argv, **kwargs):
        return subprocess.Popen(["nsenter", "-t", str(self.init_pid), "-p", "-m", *argv],
                                **kwargs)

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc.poll() is None and self.init_pid:
            try:
                os.kill(self.init_pid, sig)
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(timeout=5)
        self._err_reader.join(timeout=5)
        with self._lock:
            self._log.flush()
        assert not SANITIZER_REPORT.search(self.stderr), \
            f"sanitizer report on PID 1's stderr:\n{self.stderr[-6000:].decode(errors='replace')}"
        return self.proc.returncode
