# SPDX-License-Identifier: MIT
"""Graceful shutdown of `execmark init`: SIGTERM/SIGINT are forwarded and start the grace timer
(--grace, EXECMARK_GRACE, default 10 s); when the main child exits while descendants live,
they get SIGTERM and the init waits up to the grace for all of them, then SIGKILLs the rest,
exiting with the main child's status. Nothing of the tree outlives the init.

Timing bounds are generous (shared 2-core machine): lower bounds are what the contract
promises, upper bounds only catch "waited for nothing" or "never gave up".
"""

from __future__ import annotations

import os
import signal
import sys
import time

import pytest

from conftest import descendants_of, proc_stat, wait_until

MARGIN = 3.0  # seconds of slack above a grace period

# Main child: traps TERM, takes 1 s to clean up, exits 42.
SLOW_TERM_HANDLER = r"""
import signal, sys, time
def on_term(*_):
    time.sleep(1)
    sys.exit(42)
signal.signal(signal.SIGTERM, on_term)
print('ready', flush=True)
while True:
    signal.pause()
"""

IGNORES_TERM = ["sh", "-c", "trap '' TERM; echo ready; exec sleep 120"]

# Grandchildren, started by MAIN below. argv[1]: file to write on TERM.
GRANDCHILD_TRAPS_TERM = r"""
import os, signal, sys, time
def on_term(*_):
    time.sleep(0.5)
    with open(sys.argv[1], 'w') as f:
        f.write('done')
    os._exit(0)
signal.signal(signal.SIGTERM, on_term)
print(f'G ready {os.getpid()}', flush=True)
while True:
    signal.pause()
"""

GRANDCHILD_IGNORES_TERM = r"""
import os, signal, sys
signal.signal(signal.SIGTERM, signal.SIG_IGN)
print(f'G ready {os.getpid()}', flush=True)
while True:
    signal.pause()
"""

# Main child: starts a grandchild (argv[1] = its program, argv[3] = its argument), relays its
# ready line, then exits with argv[2] — or, for "wait", waits to be killed by a signal.
MAIN_WITH_GRANDCHILD = r"""
import os, signal, subprocess, sys
g = subprocess.Popen([sys.executable, '-c', sys.argv[1], sys.argv[3]], stdout=subprocess.PIPE,
                     text=True)
print(g.stdout.readline().strip(), flush=True)
print('main ready', flush=True)
if sys.argv[2] == 'wait':
    while True:
        signal.pause()
os._exit(int(sys.argv[2]))
"""


def start_tree(init, grandchild: str, main_exit: str, out_file, *, pid1: bool, flags=()):
    proc = init.start([*flags, "--", sys.executable, "-c", MAIN_WITH_GRANDCHILD, grandchild,
                       main_exit, str(out_file)], pid1=pid1)
    g_pid = int(proc.expect(r"^G ready (\d+)$").group(1))
    proc.expect("^main ready$")
    return proc, g_pid


def snapshot_tree(proc) -> list[int]:
    """Host pids of the init and everything below it."""
    return [proc.init_pid, *descendants_of(proc.init_pid)]


def assert_nothing_survives(pids, proc) -> None:
    """Every pid of the tree is gone — not running, not a zombie adopted by someone else."""
    survivors = {p: proc_stat(p) for p in pids if proc_stat(p) is not None}
    assert not survivors, f"left behind: {survivors}\n{proc.describe()}"


def test_term_trapping_child_exits_with_its_own_code_before_the_grace(init):
    """Contract: SIGTERM to the init (PID 1) is forwarded; a child that handles it and exits
    after 1 s makes the init exit with the child's own code at once — it does not sit out the
    (default 10 s) grace period."""
    proc = init.start(["--", sys.executable, "-c", SLOW_TERM_HANDLER], pid1=True)
    proc.expect("^ready$")
    t0 = time.monotonic()
    os.kill(proc.init_pid, signal.SIGTERM)
    rc, end = proc.poll_exit(15)
    assert rc == 42, proc.stderr
    assert 0.9 <= end - t0 < 5.0, f"exited {end - t0:.2f}s after SIGTERM"


def test_term_ignoring_child_is_killed_when_the_grace_ends(init):
    """Contract: a child that ignores SIGTERM is SIGKILLed when --grace SECONDS have passed since
    the SIGTERM, not before; the init then exits 137 and says so on stderr."""
    grace = 2.0
    proc = init.start(["--grace", "2", "--", *IGNORES_TERM], pid1=True)
    proc.expect("^ready$")
    t0 = time.monotonic()
    os.kill(proc.init_pid, signal.SIGTERM)
    rc, end = proc.poll_exit(grace + 15)
    assert rc == 137, proc.stderr
    assert grace - 0.05 <= end - t0 < grace + MARGIN, f"exited {end - t0:.2f}s after SIGTERM"
    assert "grace period of 2000 ms over: killed 1 remaining" in proc.stderr, proc.stderr


def test_sigint_starts_the_grace_too(init):
    """Contract: SIGINT is a shutdown signal like SIGTERM: forwarded, and a child that survives
    it is SIGKILLed when the grace ends."""
    proc = init.start(["--grace", "1", "--", "sh", "-c", "trap '' INT; echo ready; exec sleep 120"],
                      pid1=True)
    proc.expect("^ready$")
    t0 = time.monotonic()
    os.kill(proc.init_pid, signal.SIGINT)
    rc, end = proc.poll_exit(15)
    assert rc == 137, proc.stderr
    assert 0.95 <= end - t0 < 1 + MARGIN, f"exited {end - t0:.2f}s after SIGINT"


def test_grace_zero_kills_at_once(init):
    """Contract: --grace 0 means no grace: SIGTERM is forwarded and whatever survives it is
    SIGKILLed immediately."""
    proc = init.start(["--grace", "0", "--", *IGNORES_TERM], pid1=True)
    proc.expect("^ready$")
    t0 = time.monotonic()
    os.kill(proc.init_pid, signal.SIGTERM)
    rc, end = proc.poll_exit(15)
    assert rc == 137, proc.stderr
    assert end - t0 < 1.0, f"exited {end - t0:.2f}s after SIGTERM"


@pytest.mark.parametrize("flags, env, grace", [
    ([], {"EXECMARK_GRACE": "1"}, 1.0),
    ([], {"EXECMARK_GRACE": "0.5"}, 0.5),
    (["--grace", "1"], {"EXECMARK_GRACE": "30"}, 1.0),
], ids=["env", "env-fraction", "flag-wins-over-env"])
def test_grace_from_environment(init, flags, env, grace):
    """Contract: EXECMARK_GRACE=SECONDS sets the grace when --grace is absent (fractions
    allowed); --grace wins over it."""
    proc = init.start([*flags, "--", *IGNORES_TERM], pid1=True, env=env)
    proc.expect("^ready$")
    t0 = time.monotonic()
    os.kill(proc.init_pid, signal.SIGTERM)
    rc, end = proc.poll_exit(40)
    assert rc == 137, proc.stderr
    assert grace - 0.05 <= end - t0 < grace + MARGIN, f"exited {end - t0:.2f}s after SIGTERM"


def test_main_child_exiting_alone_ends_the_init_at_once(init, as_pid1):
    """Contract: when the main child exits and nothing else lives, the init exits immediately
    with its status — well under the grace period."""
    r = init.run(["--grace", "30", "--", "sh", "-c", "sleep 0.2; exit 5"], pid1=as_pid1)
    assert r.rc == 5, r.stderr
    assert r.elapsed < 3.0, f"took {r.elapsed:.2f}s"


def test_grandchild_trapping_term_finishes_its_handler(init, as_pid1, tmp_path):
    """Contract: when the main child exits (status 3) leaving a background grandchild, the
    grandchild gets SIGTERM and its handler runs to completion (it writes a file 0.5 s later)
    instead of being SIGKILLed; then the init exits with the main child's status, well before
    the grace, leaving nothing of the tree behind."""
    out = tmp_path / "handler-ran"
    proc, _ = start_tree(init, GRANDCHILD_TRAPS_TERM, "3", out, pid1=as_pid1)
    tree = snapshot_tree(proc)
    rc, end = proc.poll_exit(15)
    assert rc == 3, proc.stderr
    assert out.exists() and out.read_text() == "done", "grandchild's TERM handler did not finish"
    assert end - proc.started < 8.0
    assert_nothing_survives(tree, proc)


def test_grandchild_ignoring_term_is_killed_at_grace_end(init, as_pid1, tmp_path):
    """Contract: a grandchild that ignores SIGTERM keeps the init waiting until the grace ends
    (measured from the main child's exit), then it is SIGKILLed and the init exits with the main
    child's status (3, not 137); nothing of the tree survives."""
    grace = 2.0
    proc, g_pid = start_tree(init, GRANDCHILD_IGNORES_TERM, "3", tmp_path / "unused",
                             pid1=as_pid1, flags=["--grace", "2"])
    t0 = time.monotonic()
    tree = snapshot_tree(proc)
    rc, end = proc.poll_exit(grace + 15)
    assert rc == 3, proc.stderr
    assert grace - 0.1 <= end - t0 < grace + MARGIN, f"exited {end - t0:.2f}s after main child"
    assert "killed 1 remaining" in proc.stderr, proc.stderr
    assert_nothing_survives(tree, proc)


def test_term_to_init_waits_for_all_descendants(init, tmp_path):
    """Contract: after SIGTERM to the init, the grace covers all descendants, not just the main
    child: the main child dies of the TERM at once, a grandchild ignoring TERM keeps the init
    until the grace (counted from the SIGTERM) ends; exit status is the main child's (143)."""
    grace = 2.0
    proc, _ = start_tree(init, GRANDCHILD_IGNORES_TERM, "wait", tmp_path / "unused", pid1=True,
                         flags=["--grace", "2"])
    tree = snapshot_tree(proc)
    t0 = time.monotonic()
    os.kill(proc.init_pid, signal.SIGTERM)
    rc, end = proc.poll_exit(grace + 15)
    assert rc == 143, proc.stderr
    assert grace - 0.05 <= end - t0 < grace + MARGIN, f"exited {end - t0:.2f}s after SIGTERM"
    assert_nothing_survives(tree, proc)


# Main child: double-forks a daemon (setsid, stdio on /dev/null) that takes 0.3 s to write
# argv[1] on SIGTERM; prints the daemon's pid and exits 0.
MAIN_WITH_DAEMON = r"""
import os, signal, sys, time
r, w = os.pipe()
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.close(r)
        null = os.open('/dev/null', os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        def on_term(*_):
            time.sleep(0.3)
            with open(sys.argv[1], 'w') as f:
                f.write('done')
            os._exit(0)
        signal.signal(signal.SIGTERM, on_term)
        os.write(w, f'{os.getpid()}\n'.encode())
        os.close(w)
        while True:
            signal.pause()
    os._exit(0)
os.close(w)
os.wait()
print('daemon', os.read(r, 64).decode().strip(), flush=True)
"""


def test_subreaper_terms_and_reaps_a_daemonized_grandchild(init, tmp_path):
    """Contract: not being PID 1, the init still adopts a daemon its child double-forked into a
    new session (it is a child subreaper), sends it SIGTERM when the main child exits, lets its
    handler finish, reaps it, and exits with the main child's status well before the grace."""
    out = tmp_path / "daemon-handler-ran"
    proc = init.start(["--", sys.executable, "-c", MAIN_WITH_DAEMON, str(out)])
    daemon = int(proc.expect(r"^daemon (\d+)$").group(1))
    adopted = wait_until(lambda: (st := proc_stat(daemon)) is None or st.ppid == proc.init_pid,
                         5)
    assert adopted and proc_stat(daemon) is not None, \
        f"daemon not adopted by the init: {proc_stat(daemon)}"
    assert proc_stat(daemon).session != proc_stat(proc.init_pid).session, "not daemonized"
    rc, end = proc.poll_exit(15)
    assert rc == 0, proc.stderr
    assert out.exists() and out.read_text() == "done", "daemon's TERM handler did not finish"
    assert end - proc.started < 8.0
    assert proc_stat(daemon) is None, f"daemon left behind: {proc_stat(daemon)}"
