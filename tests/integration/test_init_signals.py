# SPDX-License-Identifier: MIT
"""Signal forwarding and child hygiene of `execmark init`, as real PID 1 and as a subreaper.

The observed child is helpers/sigcatch.c: it blocks all 64 signals with the raw syscall and
prints every signal it reads from a signalfd, so glibc's reserved 32/33, real-time signals and
the job-control signals can be observed without the child stopping or dying.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import signal
import subprocess
import sys

import pytest

from conftest import UNSHARE_PID1, fd_targets, is_alive, proc_stat

NOT_FORWARDED = {signal.SIGKILL, signal.SIGSTOP, signal.SIGCHLD}
FORWARDED = [s for s in range(1, 65) if s not in NOT_FORWARDED]
SYNCHRONOUS = [signal.SIGSEGV, signal.SIGBUS, signal.SIGFPE, signal.SIGILL, signal.SIGABRT,
               signal.SIGTRAP, signal.SIGSYS]
JOB_CONTROL = [signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU]

# Long enough that forwarding SIGTERM/SIGINT (which starts the shutdown grace) never ends a test.
LONG_GRACE = ["--grace", "300"]


def start_sigcatch(init, helpers, as_pid1, flags=(), env=None):
    proc = init.start([*LONG_GRACE, *flags, "--", helpers.sigcatch, "-t", "C"], pid1=as_pid1,
                      env=env)
    proc.expect(r"^C ready \d+$")
    return proc


def sigqueue(pid: int, sig: int) -> None:
    """Send SIG with sigqueue(3): si_code SI_QUEUE (-1) instead of kill's SI_USER (0)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.sigqueue(ctypes.c_int(pid), ctypes.c_int(sig), ctypes.c_void_p(0)) != 0:
        raise OSError(ctypes.get_errno(), f"sigqueue({pid}, {sig})")


@pytest.mark.parametrize("attribution", ["on", "off"], ids=["attribution", "no-attribution"])
def test_every_catchable_signal_reaches_the_child(init, helpers, as_pid1, attribution):
    """Contract: every signal 1..64 except KILL, STOP and CHLD sent to the init arrives at the
    child — real-time signals, glibc's reserved 32/33, TSTP/TTIN/TTOU, INT/TERM included — one
    delivery per signal sent, nothing else in between; the init survives all of them. Holds
    with the attribution service (and its threads) running as well as without it."""
    proc = start_sigcatch(init, helpers, as_pid1, env={"EXECMARK_ATTRIBUTION": attribution})
    missing = []
    for sig in FORWARDED:
        os.kill(proc.init_pid, sig)
        try:
            line = proc.read_line(3)
        except AssertionError:
            line = "nothing"
        if line != f"C {sig} 0":
            missing.append((sig, line))
        if proc.popen.poll() is not None or not is_alive(proc.init_pid):
            missing.append((sig, f"init died, exit status {proc.wait(5)}"))
            break
    assert not missing, f"signals not forwarded as sent (signal, child saw): {missing}"


def test_sigchld_is_not_forwarded(init, helpers, as_pid1):
    """Contract: SIGCHLD sent to the init is the init's own business (it reaps); the child never
    sees it. A following USR1 is the first thing the child gets."""
    proc = start_sigcatch(init, helpers, as_pid1)
    os.kill(proc.init_pid, signal.SIGCHLD)
    os.kill(proc.init_pid, signal.SIGUSR1)
    assert proc.read_line(5) == f"C {int(signal.SIGUSR1)} 0"


def test_synchronous_signals_sent_by_a_process_are_forwarded(init, helpers, as_pid1):
    """Contract: SEGV BUS FPE ILL ABRT TRAP SYS sent with kill() (si_code SI_USER) or sigqueue()
    (SI_QUEUE) by another process are forwarded like any other signal, and the init survives
    them (tini and catatonit die of an external SEGV when not PID 1)."""
    proc = start_sigcatch(init, helpers, as_pid1)
    for sig in SYNCHRONOUS:
        os.kill(proc.init_pid, sig)
        assert proc.read_line(5) == f"C {int(sig)} 0", f"kill {sig!r}"
        sigqueue(proc.init_pid, sig)
        assert proc.read_line(5) == f"C {int(sig)} 0", f"sigqueue {sig!r}"
    assert proc.popen.poll() is None and is_alive(proc.init_pid)


def test_init_never_stops_on_job_control_signals(init, helpers, as_pid1):
    """Contract: TSTP, TTIN and TTOU sent to the init are forwarded to the child and do not stop
    the init: it stays runnable/sleeping and keeps forwarding afterwards."""
    proc = start_sigcatch(init, helpers, as_pid1)
    for sig in JOB_CONTROL:
        os.kill(proc.init_pid, sig)
        assert proc.read_line(5) == f"C {int(sig)} 0"
    proc.assert_quiet(0.3)
    state = proc_stat(proc.init_pid).state
    assert state in ("S", "R"), f"init state after TSTP/TTIN/TTOU is {state!r}"
    os.kill(proc.init_pid, signal.SIGUSR2)
    assert proc.read_line(5) == f"C {int(signal.SIGUSR2)} 0"


GROUP_CHILD = 'sc="$1"; "$sc" -t G & exec "$sc" -t C'


def start_group(init, helpers, flags=(), env=None):
    """Main child C (sigcatch, exec'd by sh) plus a grandchild G in the same process group."""
    proc = init.start([*LONG_GRACE, *flags, "--", "sh", "-c", GROUP_CHILD, "sh",
                       helpers.sigcatch], env=env)
    ready = {}
    for _ in range(2):
        m = proc.expect(r"^([CG]) ready (\d+)$")
        ready[m.group(1)] = int(m.group(2))
    assert proc_stat(ready["G"]).pgrp == proc_stat(ready["C"]).pgrp == ready["C"]
    return proc, ready


@pytest.mark.parametrize("how", ["-g", "TINI_KILL_PROCESS_GROUP"])
def test_process_group_mode_reaches_grandchild_in_childs_group(init, helpers, how):
    """Contract: with -g (or TINI_KILL_PROCESS_GROUP set, any value) a forwarded signal goes to
    the child's whole process group, so a grandchild in that group receives it too."""
    flags, env = (["-g"], None) if how == "-g" else ([], {"TINI_KILL_PROCESS_GROUP": ""})
    proc, _ = start_group(init, helpers, flags, env)
    os.kill(proc.init_pid, signal.SIGUSR1)
    got = {proc.read_line(5), proc.read_line(5)}
    assert got == {"C 10 0", "G 10 0"}


def test_default_mode_signals_only_the_child(init, helpers):
    """Contract: without -g / TINI_KILL_PROCESS_GROUP only the main child gets a forwarded
    signal; a grandchild in its process group does not (it is alive and listening: a signal sent
    to it directly is seen)."""
    proc, ready = start_group(init, helpers)
    os.kill(proc.init_pid, signal.SIGUSR1)
    assert proc.read_line(5) == "C 10 0"
    proc.assert_quiet(0.5)
    os.kill(ready["G"], signal.SIGUSR2)
    assert proc.read_line(5) == "G 12 0"


SHOW_SIGNAL_STATE = ["grep", "-E", "^Sig(Blk|Ign):", "/proc/self/status"]


def blocked_usr1_ignored_hup_pipe():
    # Runs in the forked parent just before exec: the state the init inherits.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)


def parse_signal_state(text: str) -> dict[str, int]:
    return {m.group(1): int(m.group(2), 16)
            for m in re.finditer(r"^(SigBlk|SigIgn):\s*([0-9a-f]+)$", text, re.M)}


def test_child_gets_the_parents_signal_mask_and_ignored_signals(init, as_pid1):
    """Contract: the init blocks every signal for itself, but its child starts with the mask the
    init was started with and keeps inherited SIG_IGN dispositions: a parent that blocks USR1
    and ignores HUP and PIPE gives the child exactly the SigBlk/SigIgn it would have had without
    the init in between."""
    baseline = subprocess.run((UNSHARE_PID1 if as_pid1 else []) + SHOW_SIGNAL_STATE,
                              capture_output=True, text=True, timeout=20,
                              preexec_fn=blocked_usr1_ignored_hup_pipe)
    expected = parse_signal_state(baseline.stdout)
    usr1 = 1 << (signal.SIGUSR1 - 1)
    hup_pipe = (1 << (signal.SIGHUP - 1)) | (1 << (signal.SIGPIPE - 1))
    assert expected["SigBlk"] & usr1 and expected["SigIgn"] & hup_pipe == hup_pipe, baseline

    result = init.run(["--", *SHOW_SIGNAL_STATE], pid1=as_pid1,
                      preexec_fn=blocked_usr1_ignored_hup_pipe)
    assert result.rc == 0, result.stderr
    got = parse_signal_state(result.stdout)
    assert got == expected, (f"child SigBlk={got.get('SigBlk', 0):#x} SigIgn="
                             f"{got.get('SigIgn', 0):#x}; without the init: "
                             f"SigBlk={expected['SigBlk']:#x} SigIgn={expected['SigIgn']:#x}")


LIST_FDS = r"""
import json, os, sys
fds = {}
for name in os.listdir('/proc/self/fd'):
    try:
        fds[name] = os.readlink('/proc/self/fd/' + name)
    except OSError:
        pass  # the directory fd listdir used, already closed
print(json.dumps(fds), flush=True)
sys.stdin.readline()
"""


def test_no_init_fd_leaks_and_inherited_fds_pass_through(init, as_pid1, tmp_path):
    """Contract: the child gets exactly the fds the init inherited (0-2 plus an extra inherited
    fd) and none of the init's own (signalfd, timerfd, epoll); the init itself closes the
    inherited extra fd after spawning, so it keeps no file of its parent alive."""
    marker = tmp_path / "inherited-fd-marker"
    fd = os.open(marker, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        baseline = subprocess.run([sys.executable, "-c", LIST_FDS], pass_fds=(fd,),
                                  input="\n", capture_output=True, text=True, timeout=20)
        expected = json.loads(baseline.stdout)
        proc = init.start(["--", sys.executable, "-c", LIST_FDS], pid1=as_pid1,
                          pass_fds=(fd,), stdin=subprocess.PIPE)
        got = json.loads(proc.read_line(15))
        init_fds = fd_targets(proc.init_pid)
        proc.popen.stdin.close()
        assert proc.wait(15) == 0, proc.stderr
    finally:
        os.close(fd)

    assert got.get(str(fd)) == str(marker), f"inherited fd {fd} missing in the child: {got}"
    assert sorted(got, key=int) == sorted(expected, key=int), \
        f"child fds {got} differ from the same program's without the init: {expected}"
    leaked = {n: t for n, t in got.items() if "anon_inode" in t or "eventpoll" in t}
    assert not leaked, f"init fds leaked into the child: {leaked}"
    assert str(marker) not in init_fds.values(), f"init still holds the inherited fd: {init_fds}"
