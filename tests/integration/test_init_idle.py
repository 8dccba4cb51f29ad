# SPDX-License-Identifier: MIT
"""An idle `execmark init` makes no system calls: signals and child exits are fd events in one
epoll loop with no timeout, so while it supervises `sleep 30` strace sees nothing but the
epoll_wait it sits in (tini, for contrast, wakes every second: wait4 + rt_sigtimedwait).

The session watcher of the attribution service scans /proc every --watch-interval (default
2 s) by design (design brief §5, §9: "zero wake-ups with the watcher off"), so the tests run
with the watcher off, and with the attribution service off altogether.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import time

import pytest

from conftest import proc_stat, wait_until

WINDOW = 1.5  # seconds of tracing: tini's 1 Hz polling shows up at least once
WAITING = {"epoll_wait", "epoll_pwait", "epoll_pwait2", "restart_syscall"}

_strace_problem: str | None = None
_strace_checked = False


def require_strace() -> None:
    """Skip unless strace exists and may attach to a process of ours (ptrace can be forbidden
    by seccomp, yama or missing CAP_SYS_PTRACE in containers)."""
    global _strace_checked, _strace_problem
    if not _strace_checked:
        _strace_checked = True
        if shutil.which("strace") is None:
            _strace_problem = "strace is not installed"
        else:
            victim = subprocess.Popen(["sleep", "10"])
            try:
                r = subprocess.run(["timeout", "-s", "INT", "0.5", "strace", "-p",
                                    str(victim.pid), "-o", "/dev/null"],
                                   capture_output=True, text=True, timeout=10)
                if "attach" in r.stderr and ("not permitted" in r.stderr
                                             or "denied" in r.stderr):
                    _strace_problem = f"strace cannot attach here: {r.stderr.strip()}"
            finally:
                victim.kill()
                victim.wait()
    if _strace_problem:
        pytest.skip(_strace_problem)


def trace_syscalls(pid: int, out_path) -> list[tuple[str, str]]:
    """(syscall, line) for everything PID (all threads, -f) does during WINDOW seconds."""
    strace = subprocess.Popen(["strace", "-f", "-qq", "-p", str(pid), "-o", str(out_path)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(WINDOW)
    strace.send_signal(signal.SIGINT)
    try:
        _, err = strace.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        strace.kill()
        _, err = strace.communicate()
    calls = []
    for line in out_path.read_text().splitlines():
        m = re.match(r"^\d+\s+(?:<\.\.\. )?(\w+)", line)
        if m:
            calls.append((m.group(1), line))
    assert calls, f"strace recorded nothing (did it attach?): {err}"
    return calls


def settle(proc) -> None:
    """Wait until the init runs its child and sleeps (no start-up work left)."""
    proc.child_pid()
    assert wait_until(lambda: proc_stat(proc.init_pid).state == "S", 5)
    time.sleep(0.3)


@pytest.mark.parametrize("env", [{"EXECMARK_WATCH_INTERVAL": "0"},
                                 {"EXECMARK_ATTRIBUTION": "off"}],
                         ids=["attribution-watcher-off", "no-attribution"])
def test_idle_init_makes_no_system_calls(init, as_pid1, tmp_path, env):
    """Contract: while supervising `sleep 30` and receiving nothing, the init (all its threads)
    makes no system call: strace -f over ~2 s shows only the waits its threads were blocked in
    (epoll_wait, futex without timeout) and their restarts."""
    require_strace()
    proc = init.start(["--", "sleep", "30"], pid1=as_pid1, env=env)
    settle(proc)
    calls = trace_syscalls(proc.init_pid, tmp_path / "strace.txt")
    busy = [line for name, line in calls if name not in WAITING
            and not (name == "futex" and "FUTEX_WAIT" in line and "NULL" in line)]
    assert not busy, "idle init made system calls:\n" + "\n".join(busy)
    assert any(name.startswith("epoll") or name == "restart_syscall" for name, _ in calls)


def test_measurement_detects_polling(procs, tmp_path):
    """Control for the test above: the same measurement on Debian's tini (1 s sigtimedwait
    timeout) does record periodic system calls, so "nothing recorded" means "no wake-ups"."""
    require_strace()
    tini = shutil.which("tini")
    if tini is None:
        pytest.skip("Debian's tini is not installed; the control needs a polling init")
    proc = procs.start([tini, "-s", "--", "sleep", "30"])
    time.sleep(0.3)
    calls = trace_syscalls(proc.pid, tmp_path / "strace.txt")
    busy = [name for name, _ in calls if name not in WAITING]
    assert "wait4" in busy and "rt_sigtimedwait" in busy, calls
