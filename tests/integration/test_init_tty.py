# SPDX-License-Identifier: MIT
"""Terminal behaviour of `execmark init` under a pseudo-terminal (what `docker run -it` gives):
when the init's process group holds the terminal's foreground, the child's own process group
gets it, so Ctrl-C goes to the child and an interactive shell under the init has job control.

pexpect provides the pty (the init is then a session leader owning the terminal); `script -qec`
provides the other common shape (the init is a plain foreground job of a non-interactive sh).
"""

from __future__ import annotations

import os
import time

import pexpect
import pytest

from conftest import UNSHARE_PID1, all_stats, descendants_of, exe_of, kill_tree, proc_stat, wait_until

PROMPT = "EXM$ "
NO_JOB_CONTROL = ("no job control", "cannot set terminal process group")


@pytest.fixture
def tty(tmp_path):
    """Factory for pexpect children; every one (and its tree) is killed at the end."""
    spawned = []
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "TERM": "dumb",
        "PS1": PROMPT,
        "HISTFILE": "/dev/null",
        "INPUTRC": "/dev/null",
        "SHELL": "/bin/sh",
        "LC_ALL": "C",
    }
    for var in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if var in os.environ:
            env[var] = os.environ[var]

    def spawn(argv, extra_env=None):
        child = pexpect.spawn(argv[0], argv[1:], env={**env, **(extra_env or {})}, timeout=10,
                              encoding="utf-8", codec_errors="replace", dimensions=(24, 200))
        spawned.append(child)
        return child

    yield spawn
    for child in spawned:
        kill_tree(child.pid)
        child.close(force=True)


def child_named(parent: int, comm: str) -> int | None:
    for st in all_stats():
        if st.ppid == parent and st.comm == comm:
            return st.pid
    return None


def wait_for_readline(child) -> None:
    """bash prints its prompt around the time readline switches the terminal to raw mode and
    loses a Ctrl-C that comes in between (bash alone, without any init, does that too): wait
    until raw mode has held for a moment."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if child.waitnoecho(1):
            time.sleep(0.3)
            if not child.getecho():
                return
    raise AssertionError("bash never settled in readline")


def find_init_below(root: int, binary: str) -> int | None:
    """The first descendant of ROOT running BINARY."""
    binary = os.path.realpath(binary)
    return next((p for p in descendants_of(root) if exe_of(p) == binary), None)


def wait_foreground(pid: int, timeout: float = 10.0) -> None:
    """Wait until PID's process group is the foreground group of its terminal."""
    ok = wait_until(lambda: (st := proc_stat(pid)) is not None and st.tpgid == st.pgrp
                    and st.state != "T", timeout)
    assert ok, f"pid {pid} never became the terminal's foreground: {proc_stat(pid)}"


def bash_job_control_session(child, shell_parent: int) -> None:
    """At an interactive bash prompt: run `sleep 100`, stop it with Ctrl-Z, list it with `jobs`,
    resume it with `fg`, end it with Ctrl-C. SHELL_PARENT is the pid whose child is bash."""
    child.expect_exact(PROMPT)
    for complaint in NO_JOB_CONTROL:
        assert complaint not in child.before, child.before
    bash = wait_until(lambda: child_named(shell_parent, "bash"), 10)
    assert bash, "no bash under the init"

    child.sendline("sleep 100")
    sleep = wait_until(lambda: child_named(bash, "sleep"), 10)
    assert sleep, "sleep did not start"
    wait_foreground(sleep)
    child.sendcontrol("z")
    child.expect(r"Stopped\s+sleep 100")
    child.expect_exact(PROMPT)
    assert proc_stat(sleep).state == "T"

    child.sendline("jobs")
    child.expect(r"\[1\]\+\s+Stopped\s+sleep 100")
    child.expect_exact(PROMPT)

    child.sendline("fg")
    child.expect("sleep 100")
    wait_foreground(sleep)
    child.sendcontrol("c")
    child.expect_exact(PROMPT)
    assert wait_until(lambda: proc_stat(sleep) is None, 5), "sleep survived Ctrl-C"


def test_interactive_bash_has_job_control(tty, execmark_bin):
    """Contract: `execmark init -- bash --norc -i` on a terminal gives bash job control: no
    "no job control" complaint, Ctrl-Z stops a foreground job (Stopped), `jobs` lists it, `fg`
    resumes it, Ctrl-C ends it; `exit 7` ends bash and the init with status 7."""
    child = tty([execmark_bin, "init", "--", "bash", "--norc", "-i"])
    bash_job_control_session(child, child.pid)
    child.sendline("exit 7")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 7, (child.exitstatus, child.signalstatus)


def test_ctrl_c_at_the_prompt_does_not_reach_the_init(tty, execmark_bin):
    """Contract: Ctrl-C goes to the terminal's foreground group — the child's, not the init's:
    at an interactive bash prompt it only gives a new prompt, the init keeps running, and the
    shell still works afterwards."""
    child = tty([execmark_bin, "init", "--", "bash", "--norc", "-i"])
    child.expect_exact(PROMPT)
    for _ in range(2):
        wait_for_readline(child)
        child.sendcontrol("c")
        child.expect_exact(PROMPT)
    assert child.isalive() and proc_stat(child.pid).state in ("S", "R")
    child.sendline("echo still-$((6*7))")
    child.expect("still-42")
    child.sendline("exit 0")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_ctrl_c_ends_cat_with_130(tty, execmark_bin, as_pid1):
    """Contract: `execmark init -- cat` on a terminal (as PID 1 too, like `docker run -it`):
    Ctrl-C interrupts cat (it is the foreground), and the init exits 130 (128 + SIGINT)."""
    child = tty([*(UNSHARE_PID1 if as_pid1 else []), execmark_bin, "init", "--", "cat"])
    init_pid = wait_until(lambda: child.pid if not as_pid1
                          else find_init_below(child.pid, execmark_bin), 10)
    assert init_pid
    cat = wait_until(lambda: child_named(init_pid, "cat"), 10)
    assert cat
    wait_foreground(cat)
    child.sendcontrol("c")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130, (child.exitstatus, child.signalstatus)


def test_child_is_the_terminals_foreground_group(tty, execmark_bin):
    """Contract: the child runs in its own process group, and that group — not the init's — is
    the terminal's foreground process group (tpgid in /proc/PID/stat)."""
    child = tty([execmark_bin, "init", "--", "sleep", "30"])
    sleep = wait_until(lambda: child_named(child.pid, "sleep"), 10)
    assert sleep
    wait_foreground(sleep)
    st_child, st_init = proc_stat(sleep), proc_stat(child.pid)
    assert st_child.pgrp == sleep, "child is not its own process group leader"
    assert st_init.pgrp != st_child.pgrp
    assert st_init.tpgid == st_child.tpgid == st_child.pgrp
    assert st_init.session == st_child.session


def test_background_init_leaves_the_terminal_alone(tty, execmark_bin):
    """Contract: an init started in the background (its group does not hold the foreground)
    does not take the terminal: the interactive shell that started it stays in the foreground
    and keeps working."""
    child = tty(["bash", "--norc", "-i"], {"EXM": execmark_bin})
    child.expect_exact(PROMPT)
    child.sendline('"$EXM" init -- sleep 30 &')
    child.expect_exact(PROMPT)
    bash = child.pid
    init_pid = wait_until(lambda: find_init_below(bash, execmark_bin), 10)
    assert init_pid, "init did not start"
    sleep = wait_until(lambda: child_named(init_pid, "sleep"), 10)
    assert sleep
    child.sendline("echo fg-$((6*7))")
    child.expect("fg-42")
    st_bash, st_sleep = proc_stat(bash), proc_stat(sleep)
    assert st_bash.tpgid == st_bash.pgrp, "the shell lost the terminal to the background init"
    assert st_sleep.tpgid != st_sleep.pgrp


def test_job_control_when_started_by_a_non_interactive_shell(tty, execmark_bin):
    """Contract: started as an ordinary foreground command of a non-interactive sh on a
    terminal (`script -qec "sh -c 'init ...; echo ...'"`: the init is not a session leader, but
    its group holds the foreground), the init still hands the terminal to bash: job control
    works, and the init's exit status (bash's `exit 3`) reaches the calling shell."""
    command = "sh -c '\"$EXM\" init -- bash --norc -i; echo init-exit=$?'"
    child = tty(["script", "-qec", command, "/dev/null"], {"EXM": execmark_bin})
    init_pid = wait_until(lambda: find_init_below(child.pid, execmark_bin), 10)
    assert init_pid, "init did not start under script"
    assert proc_stat(init_pid).session != init_pid, "init is a session leader here"
    bash_job_control_session(child, init_pid)
    child.sendline("exit 3")
    child.expect("init-exit=3")
    child.expect(pexpect.EOF)

