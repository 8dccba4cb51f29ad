# SPDX-License-Identifier: MIT
"""Shared fixtures for the integration suite (drives the real binary named by EXECMARK_BIN).

Generic on purpose: other test files add their own fixtures below the marked section.

- `execmark_bin`: path of the binary under test.
- `helpers`: small C programs from helpers/ compiled once per session (sigcatch, orphans).
- `procs`: starts processes with a line reader on stdout and stderr captured to a file; every
  process tree it started is SIGKILLed and reaped at the end of the test.
- `init`: starts `execmark init ...` as a plain child (subreaper mode) or as real PID 1 of a
  new PID namespace (`unshare --pid --fork --mount-proc`), and finds the init's host pid.
- `as_pid1`: parametrizes a test over both modes; the PID 1 variant skips with a clear reason
  when a PID namespace cannot be created here.
- A session whose tests were all skipped exits 125 (CTest's SKIP_RETURN_CODE).
"""

from __future__ import annotations

import ctypes
import os
import re
import select
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
HELPER_SOURCES = HERE / "helpers"

# Environment variables that change the init's behaviour; tests set them explicitly.
INIT_ENV_VARS = ("TINI_SUBREAPER", "TINI_KILL_PROCESS_GROUP", "TINI_VERBOSITY", "EXECMARK_GRACE")

PR_SET_CHILD_SUBREAPER = 36

UNSHARE_PID1 = ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child"]


# ---------------------------------------------------------------------------------------------
# /proc helpers


@dataclass(frozen=True)
class ProcStat:
    pid: int
    comm: str
    state: str
    ppid: int
    pgrp: int
    session: int
    tpgid: int
    starttime: int


def proc_stat(pid: int) -> ProcStat | None:
    """Fields of /proc/PID/stat, or None when the process is gone (reaped)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # comm may contain spaces and parentheses: split at the last ')'.
    head, _, rest = raw.rpartition(")")
    comm = head.split("(", 1)[1]
    f = rest.split()
    return ProcStat(pid, comm, f[0], int(f[1]), int(f[2]), int(f[3]), int(f[5]), int(f[19]))


def all_stats() -> list[ProcStat]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = proc_stat(int(entry))
            if st is not None:
                out.append(st)
    return out


def children_of(pid: int) -> list[int]:
    return [st.pid for st in all_stats() if st.ppid == pid]


def descendants_of(pid: int) -> list[int]:
    """Every live or zombie descendant of PID (by ppid), deepest last."""
    by_parent: dict[int, list[int]] = {}
    for st in all_stats():
        by_parent.setdefault(st.ppid, []).append(st.pid)
    out, todo = [], [pid]
    while todo:
        for child in by_parent.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def exe_of(pid: int) -> str | None:
    """Resolved path of PID's executable, or None (gone, kernel thread, no permission)."""
    try:
        return os.path.realpath(os.readlink(f"/proc/{pid}/exe"))
    except OSError:
        return None


def is_alive(pid: int) -> bool:
    """True while PID exists and is not a zombie."""
    st = proc_stat(pid)
    return st is not None and st.state not in ("Z", "X")


def wait_until(predicate, timeout: float, interval: float = 0.02):
    """Poll PREDICATE until it returns a truthy value (returned) or TIMEOUT passes (None)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)


def fd_targets(pid: int) -> dict[int, str]:
    """fd number -> readlink target for every open fd of PID."""
    out = {}
    base = f"/proc/{pid}/fd"
    for name in os.listdir(base):
        try:
            out[int(name)] = os.readlink(f"{base}/{name}")
        except FileNotFoundError:
            pass
    return out


def become_subreaper() -> None:
    """Make the test process a child subreaper, so orphans left by a killed process tree come
    back to us and are reaped here rather than lingering as zombies under the host's init
    (which, on some machines, never reaps adopted children)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def reap_if_ours(pids) -> None:
    for pid in pids:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass


def kill_tree(root: int) -> None:
    """SIGKILL ROOT and everything below it, descendants first (so they cannot be reparented
    out of sight), then reap whatever was reparented to us."""
    seen: set[int] = set()
    for _ in range(50):
        victims = descendants_of(root)
        if is_alive(root):
            victims.append(root)
        live = [p for p in victims if is_alive(p)]
        seen.update(victims)
        if not live:
            break
        for pid in live:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.01)
        reap_if_ours(seen - {root})
    reap_if_ours(seen - {root})


# ---------------------------------------------------------------------------------------------
# Processes with a line-oriented stdout


class LineTimeout(AssertionError):
    pass


MARKER_PREFIX = "EXECMARK1 "


class Proc:
    """A started process: stdout read line by line (with timeouts), stderr kept in a file.

    With set_markers_aside, attribution marker lines (`EXECMARK1 ...`, written by `execmark
    init` to its stdout) are collected in `markers` instead of being returned as output, so a
    test sees only what the supervised program printed."""

    def __init__(self, argv, *, stderr_path: Path, env=None, stdin=subprocess.DEVNULL,
                 pass_fds=(), preexec_fn=None, cwd=None, set_markers_aside: bool = False):
        self.argv = [str(a) for a in argv]
        self.set_markers_aside = set_markers_aside
        self.markers: list[str] = []
        self._stderr_path = stderr_path
        with open(stderr_path, "wb") as err:
            self.popen = subprocess.Popen(self.argv, stdin=stdin, stdout=subprocess.PIPE,
                                          stderr=err, env=env, pass_fds=pass_fds,
                                          preexec_fn=preexec_fn, cwd=cwd)
        self.pid = self.popen.pid
        self.started = time.monotonic()
        self.ended: float | None = None
        self.lines: list[str] = []
        self._buf = b""
        self._eof = False

    # -- stdout
    def read_line(self, timeout: float = 10.0) -> str | None:
        """Next stdout line; None at EOF; LineTimeout if nothing complete arrives in time."""
        deadline = time.monotonic() + timeout
        while True:
            line = self._read_raw_line(deadline, timeout)
            if line is None or not (self.set_markers_aside and line.startswith(MARKER_PREFIX)):
                if line is not None:
                    self.lines.append(line)
                return line
            self.markers.append(line)

    def _read_raw_line(self, deadline: float, timeout: float) -> str | None:
        fd = self.popen.stdout.fileno()
        while b"\n" not in self._buf:
            if self._eof:
                if not self._buf:
                    return None
                line, self._buf = self._buf, b""
                return self._record(line)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LineTimeout(f"no stdout line within {timeout}s\n{self.describe()}")
            ready, _, _ = select.select([fd], [], [], remaining)
            if ready:
                chunk = os.read(fd, 65536)
                if chunk:
                    self._buf += chunk
                else:
                    self._eof = True
        line, self._buf = self._buf.split(b"\n", 1)
        return self._record(line)

    def _record(self, raw: bytes) -> str:
        return raw.decode(errors="replace").rstrip("\r")

    def expect(self, pattern: str, timeout: float = 10.0) -> re.Match:
        """Read lines until one matches PATTERN (re.search); fail on EOF or timeout."""
        deadline = time.monotonic() + timeout
        while True:
            line = self.read_line(max(0.0, deadline - time.monotonic()))
            if line is None:
                raise AssertionError(f"EOF before a line matching {pattern!r}\n{self.describe()}")
            m = re.search(pattern, line)
            if m:
                return m

    def read_all(self, timeout: float = 20.0) -> list[str]:
        """Every remaining stdout line up to EOF."""
        deadline = time.monotonic() + timeout
        out = []
        while (line := self.read_line(max(0.0, deadline - time.monotonic()))) is not None:
            out.append(line)
        return out

    def assert_quiet(self, seconds: float) -> None:
        """No stdout line for SECONDS (EOF is fine)."""
        try:
            line = self.read_line(seconds)
        except LineTimeout:
            return
        assert line is None, f"unexpected stdout line {line!r}\n{self.describe()}"

    # -- lifetime
    def wait(self, timeout: float = 20.0) -> int:
        try:
            rc = self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"did not exit within {timeout}s\n{self.describe()}") from None
        if self.ended is None:
            self.ended = time.monotonic()
        return rc

    def poll_exit(self, timeout: float) -> tuple[int, float]:
        """(exit status, monotonic time it was noticed) — polls finely for timing tests."""
        deadline = time.monotonic() + timeout
        while (rc := self.popen.poll()) is None:
            if time.monotonic() >= deadline:
                raise AssertionError(f"did not exit within {timeout}s\n{self.describe()}")
            time.sleep(0.005)
        if self.ended is None:
            self.ended = time.monotonic()
        return rc, self.ended

    @property
    def stderr(self) -> str:
        return self._stderr_path.read_text(errors="replace")

    def describe(self) -> str:
        return (f"argv: {self.argv}\nstdout so far: {self.lines!r}\n"
                f"stderr: {self.stderr[-4000:]!r}")

    def kill_tree(self) -> None:
        kill_tree(self.pid)
        try:
            self.popen.wait(10)
        except subprocess.TimeoutExpired:
            pass
        if self.popen.stdout:
            self.popen.stdout.close()


class InitProc(Proc):
    """`execmark init` started directly (subreaper) or under unshare (real PID 1)."""

    def __init__(self, argv, *, pid1: bool, binary: str, **kw):
        super().__init__(argv, set_markers_aside=True, **kw)
        self.pid1 = pid1
        self._binary = os.path.realpath(binary)
        self._init_pid: int | None = None

    @property
    def init_pid(self) -> int:
        """Host pid of the init process itself (for PID 1 mode: unshare's child, once it has
        exec'd the binary)."""
        if self._init_pid is None:
            if not self.pid1:
                self._init_pid = self.pid
            else:
                self._init_pid = wait_until(self._find_pid1, 10.0)
                assert self._init_pid, f"init never started under unshare\n{self.describe()}"
        return self._init_pid

    def _find_pid1(self) -> int | None:
        for child in children_of(self.pid):
            if exe_of(child) == self._binary:
                return child
        return None

    def child_pid(self, timeout: float = 10.0) -> int:
        """Host pid of the init's main child (its oldest child)."""
        def oldest():
            kids = [st for st in all_stats() if st.ppid == self.init_pid]
            return min(kids, key=lambda st: (st.starttime, st.pid)).pid if kids else None
        pid = wait_until(oldest, timeout)
        assert pid, f"init has no child\n{self.describe()}"
        return pid


@dataclass
class RunResult:
    rc: int
    stdout: str  # the program's output; attribution markers are in `markers`
    stderr: str
    elapsed: float
    markers: list[str]


class Procs:
    def __init__(self, tmp_path: Path):
        self._tmp = tmp_path
        self._started: list[Proc] = []
        self._n = 0

    def _stderr_path(self) -> Path:
        self._n += 1
        return self._tmp / f"stderr-{self._n}.txt"

    def start(self, argv, cls=Proc, **kw) -> Proc:
        become_subreaper()
        proc = cls(argv, stderr_path=self._stderr_path(), **kw)
        self._started.append(proc)
        return proc

    def cleanup(self) -> None:
        for proc in reversed(self._started):
            if proc.popen.returncode is None:
                proc.kill_tree()
            elif proc.popen.stdout:
                # Exited and reaped: whatever it left behind was reparented to us and is swept
                # up at session end.
                proc.popen.stdout.close()


def clean_env(extra: dict | None = None, drop=()) -> dict:
    """The test process's environment minus the init's own knobs, plus EXTRA."""
    env = {k: v for k, v in os.environ.items() if k not in INIT_ENV_VARS and k not in drop}
    env.update(extra or {})
    return env


class InitRunner:
    def __init__(self, procs: Procs, binary: str):
        self._procs = procs
        self.binary = binary

    def argv(self, args, pid1: bool = False, prog: str | None = None) -> list[str]:
        """[unshare ...] BINARY init ARGS — or PROG ARGS when PROG (a tini symlink) is given."""
        head = [prog] if prog else [self.binary, "init"]
        cmd = head + [str(a) for a in args]
        return (UNSHARE_PID1 + cmd) if pid1 else cmd

    def start(self, args, *, pid1: bool = False, env: dict | None = None, prog: str | None = None,
              **kw) -> InitProc:
        if pid1:
            require_pid_namespace()
        return self._procs.start(self.argv(args, pid1, prog), cls=InitProc, pid1=pid1,
                                 binary=self.binary, env=clean_env(env), **kw)

    def statuses(self, arg_lists, *, pid1: bool = False, env: dict | None = None,
                 parallel: int = 8, timeout: float = 30.0) -> list[int]:
        """Exit status of `init ARGS` for each ARGS in ARG_LISTS, PARALLEL at a time (output
        discarded) — for large exit-status matrices."""
        if pid1:
            require_pid_namespace()
        become_subreaper()
        full_env = clean_env(env)
        out: list[int] = []
        for i in range(0, len(arg_lists), parallel):
            batch = [subprocess.Popen(self.argv(a, pid1), env=full_env, stdin=subprocess.DEVNULL,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                     for a in arg_lists[i:i + parallel]]
            try:
                out.extend(p.wait(timeout) for p in batch)
            finally:
                for p in batch:
                    if p.poll() is None:
                        kill_tree(p.pid)
                        p.wait()
        return out

    def run(self, args, *, timeout: float = 20.0, **kw) -> RunResult:
        proc = self.start(args, **kw)
        out = proc.read_all(timeout)
        rc = proc.wait(timeout)
        return RunResult(rc, "\n".join(out) + ("\n" if out else ""), proc.stderr,
                         proc.ended - proc.started, proc.markers)


# ---------------------------------------------------------------------------------------------
# Prerequisites


_pid_ns_error: str | None = None
_pid_ns_checked = False


def require_pid_namespace() -> None:
    """Skip unless `unshare --pid --fork --mount-proc` works here (needs root or user
    namespaces); the reason names the failure."""
    global _pid_ns_checked, _pid_ns_error
    if not _pid_ns_checked:
        _pid_ns_checked = True
        if shutil.which("unshare") is None:
            _pid_ns_error = "unshare(1) is not installed"
        else:
            try:
                r = subprocess.run(UNSHARE_PID1 + ["sh", "-c", "test $$ = 1"],
                                   capture_output=True, text=True, timeout=15)
                if r.returncode != 0:
                    _pid_ns_error = (f"cannot create a PID namespace (unshare exit "
                                     f"{r.returncode}: {r.stderr.strip()})")
            except (OSError, subprocess.TimeoutExpired) as e:
                _pid_ns_error = f"cannot create a PID namespace: {e}"
    if _pid_ns_error:
        pytest.skip(f"real-PID-1 test needs a PID namespace: {_pid_ns_error}")


def _find_binary() -> str:
    path = os.environ.get("EXECMARK_BIN")
    if not path:
        fallback = REPO / "build" / "dev" / "agent" / "execmark"
        if not fallback.exists():
            pytest.fail("EXECMARK_BIN is not set and build/dev/agent/execmark does not exist; "
                        "build first or set EXECMARK_BIN", pytrace=False)
        path = str(fallback)
    if not os.access(path, os.X_OK):
        pytest.fail(f"EXECMARK_BIN={path} is not an executable file", pytrace=False)
    return os.path.abspath(path)


# ---------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="session")
def execmark_bin() -> str:
    return _find_binary()


@dataclass(frozen=True)
class Helpers:
    sigcatch: str
    orphans: str


@pytest.fixture(scope="session")
def helpers(tmp_path_factory) -> Helpers:
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        pytest.skip("no C compiler (cc) to build the test helpers in tests/integration/helpers")
    out = tmp_path_factory.mktemp("helpers")
    built = {}
    for src in sorted(HELPER_SOURCES.glob("*.c")):
        exe = out / src.stem
        r = subprocess.run([cc, "-O2", "-Wall", "-Wextra", "-o", str(exe), str(src)],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, f"compiling {src.name} failed:\n{r.stderr}"
        built[src.stem] = str(exe)
    return Helpers(sigcatch=built["sigcatch"], orphans=built["orphans"])


SANITIZER_REPORT = re.compile(r"ERROR: (Address|Leak|Memory|Thread)Sanitizer|runtime error: ")


@pytest.fixture
def procs(tmp_path):
    p = Procs(tmp_path)
    yield p
    p.cleanup()
    # A sanitizer build (asan preset) reports on stderr; fail the test even if the exit status
    # and output happened to look right.
    for path in sorted(tmp_path.glob("stderr-*.txt")):
        text = path.read_text(errors="replace")
        if SANITIZER_REPORT.search(text):
            pytest.fail(f"sanitizer report in {path.name}:\n{text[-6000:]}", pytrace=False)


@pytest.fixture
def init(procs, execmark_bin) -> InitRunner:
    return InitRunner(procs, execmark_bin)


@pytest.fixture(params=[True, False], ids=["pid1", "subreaper"])
def as_pid1(request) -> bool:
    """Run the test twice: as real PID 1 of a PID namespace, and as a plain child (where the
    init makes itself a child subreaper)."""
    if request.param:
        require_pid_namespace()
    return request.param


# ---------------------------------------------------------------------------------------------
# Session outcome: all skipped -> 125, which CTest reports as "skipped" (SKIP_RETURN_CODE).

_outcomes = {"passed": 0, "failed": 0, "skipped": 0}


def pytest_runtest_logreport(report):
    if report.failed:
        _outcomes["failed"] += 1
    elif report.skipped:
        _outcomes["skipped"] += 1
    elif report.passed and report.when == "call":
        _outcomes["passed"] += 1


def pytest_sessionfinish(session, exitstatus):
    # Anything still our child now escaped its test's cleanup (orphans adopted by us as
    # subreaper): kill and reap it so nothing outlives the session.
    try:
        leftovers = [int(p) for p in
                     Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read_text().split()]
    except OSError:
        leftovers = []
    for pid in leftovers:
        kill_tree(pid)
        reap_if_ours([pid])
    if exitstatus == 0 and _outcomes["skipped"] and not _outcomes["passed"] \
            and not _outcomes["failed"]:
        session.exitstatus = 125


# ---------------------------------------------------------------------------------------------
# Fixtures of other test files go below.
