# SPDX-License-Identifier: MIT
"""Exit status of `execmark init`: the child's code, 128+N for a signal death, 126/127 when
the program cannot be executed, -e remaps, 1 for usage errors."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time

import pytest

from conftest import SANITIZER_REPORT, UNSHARE_PID1, require_pid_namespace

# Signals whose default action does not terminate (ignore or stop): no death to observe.
NON_TERMINATING = {signal.SIGCHLD, signal.SIGCONT, signal.SIGURG, signal.SIGWINCH,
                   signal.SIGSTOP, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU}
TERMINATING = [s for s in range(1, 65) if s not in NON_TERMINATING]

INIT_LOG = r"\[execmark init\] \w+: "


def die_of(sig: int) -> list[str]:
    """A child that kills itself with SIG (no core files)."""
    return ["sh", "-c", f"ulimit -c 0; kill -{sig} $$; exit 99"]


def test_exit_codes_0_to_255_pass_through(init):
    """Contract: whatever code 0..255 the child exits with is the init's exit status."""
    got = init.statuses([["--", "sh", "-c", f"exit {code}"] for code in range(256)])
    wrong = {code: rc for code, rc in enumerate(got) if rc != code}
    assert not wrong, f"child code -> init status mismatches: {wrong}"


@pytest.mark.parametrize("code", [0, 1, 2, 42, 127, 128, 254, 255])
def test_exit_code_passes_through_as_pid1(init, code):
    """Contract: as real PID 1 too, the child's exit code is the init's (and so the namespace
    creator's) exit status."""
    r = init.run(["--", "sh", "-c", f"exit {code}"], pid1=True)
    assert r.rc == code, r.stderr


def test_signal_deaths_are_128_plus_n(init, as_pid1):
    """Contract: a child killed by signal N makes the init exit 128+N, for every signal whose
    default action terminates — real-time signals and glibc's reserved 32/33 included."""
    got = init.statuses([["--", *die_of(sig)] for sig in TERMINATING], pid1=as_pid1)
    wrong = {sig: rc for sig, rc in zip(TERMINATING, got) if rc != 128 + sig}
    assert not wrong, f"signal -> init status (expected 128+signal): {wrong}"


@pytest.mark.parametrize("flags, child, expected", [
    (["-e", "3"], ["sh", "-c", "exit 3"], 0),
    (["-e", "3"], ["sh", "-c", "exit 4"], 4),
    (["-e3"], ["sh", "-c", "exit 3"], 0),
    (["--remap-exit=3"], ["sh", "-c", "exit 3"], 0),
    (["-e", "3", "-e", "4"], ["sh", "-c", "exit 4"], 0),
    (["-e", "3", "-e", "4"], ["sh", "-c", "exit 3"], 0),
    (["-e", "3", "-e", "4"], ["sh", "-c", "exit 5"], 5),
    (["-e", "143"], die_of(signal.SIGTERM), 0),
    (["-e", "143"], die_of(signal.SIGKILL), 137),
    (["-e", "0"], ["true"], 0),
    (["-e", "255"], ["sh", "-c", "exit 255"], 0),
], ids=["single", "other-code-kept", "attached-value", "long-form", "second-of-two",
        "first-of-two", "neither-of-two", "signal-death-143", "other-death-kept", "zero",
        "255"])
def test_remap_exit_codes_to_zero(init, flags, child, expected):
    """Contract: each -e CODE (repeatable, also -eCODE and --remap-exit=CODE) makes the init
    exit 0 when it would have exited CODE — signal deaths (128+N) included; other codes are
    untouched."""
    r = init.run([*flags, "--", *child])
    assert r.rc == expected, r.stderr


@pytest.mark.parametrize("prog", ["/nonexistent/program", "no-such-program-on-path-42"])
def test_program_not_found_exits_127_with_message(init, as_pid1, prog):
    """Contract: a program that does not exist (absolute path or PATH lookup) makes the init
    exit 127 and say why on stderr, naming the program; nothing on stdout."""
    r = init.run(["--", prog, "arg"], pid1=as_pid1)
    assert r.rc == 127
    assert r.stdout == ""
    assert f"{prog}: No such file or directory" in r.stderr, r.stderr


def test_program_not_executable_exits_126_with_message(init, as_pid1, tmp_path):
    """Contract: a program that exists but cannot be executed (no x bit; a directory) makes the
    init exit 126 and say why on stderr."""
    plain = tmp_path / "not-executable"
    plain.write_text("#!/bin/sh\nexit 0\n")
    plain.chmod(0o644)
    for prog in (str(plain), str(tmp_path)):
        r = init.run(["--", prog], pid1=as_pid1)
        assert r.rc == 126, (prog, r.stderr)
        assert r.stdout == ""
        assert f"{prog}: Permission denied" in r.stderr, r.stderr


def test_normal_run_prints_nothing_of_its_own(init):
    """Contract: at the default verbosity a run that goes well adds no log line anywhere: the
    init's only own stdout lines are attribution markers (`EXECMARK1 ...`, whole lines), stderr
    gets nothing from it; the child's own output passes through untouched."""
    r = init.run(["--", "sh", "-c", "echo out; echo err >&2; exit 3"])
    assert r.rc == 3
    assert r.stdout == "out\n"
    assert "[execmark init]" not in r.stderr, r.stderr
    assert "err" in r.stderr


@pytest.mark.parametrize("args, env", [
    ([], None),
    (["-s"], None),
    (["--"], None),
    (["-Z", "--", "true"], None),
    (["--bogus", "--", "true"], None),
    (["-e"], None),
    (["-e", "256", "--", "true"], None),
    (["-e", "x", "--", "true"], None),
    (["-p", "NOSUCHSIG", "--", "true"], None),
    (["--grace", "abc", "--", "true"], None),
    (["--grace"], None),
    (["--", "true"], {"EXECMARK_GRACE": "abc"}),
], ids=["nothing", "no-program", "only-dashdash", "unknown-short", "unknown-long",
        "e-without-value", "e-out-of-range", "e-not-a-number", "p-unknown-signal",
        "grace-not-a-number", "grace-without-value", "EXECMARK_GRACE-garbage"])
def test_usage_errors_exit_1_without_running_anything(init, tmp_path, args, env):
    """Contract: a bad command line (or a bad EXECMARK_GRACE) exits 1 as tini does, with an
    error on stderr, nothing on stdout, and no program started."""
    witness = tmp_path / "ran"
    if args and args[-1] == "true":
        args = [*args[:-1], "touch", str(witness)]
    r = init.run(args, env=env)
    assert r.rc == 1, r.stderr
    assert r.stdout == ""
    assert "[execmark init] error:" in r.stderr, r.stderr
    assert not witness.exists()


@pytest.mark.parametrize("unblock_after", [1.9, 2.1, None], ids=["unblocked-early",
                                                                "unblocked-at-exit", "never"])
def test_a_blocked_container_log_keeps_the_exit_status(execmark_bin, tmp_path, unblock_after):
    """Contract: PID 1's markers go to a container log that takes nothing (a full pipe): the
    child's status is still PID 1's, after at most the shutdown marker's 2 s, and without a
    sanitizer report or crash. Around PID 1's giving up on the log, the log takes lines again
    (the reader drains it, then closes it), so that the detached marker writer runs on while
    PID 1 exits."""
    require_pid_namespace()
    r, w = os.pipe()
    os.set_blocking(w, False)
    try:
        while True:
            os.write(w, b"x" * 65536)
    except BlockingIOError:
        pass
    os.set_blocking(w, True)

    def unblock():
        time.sleep(unblock_after)
        os.set_blocking(r, False)
        try:
            while os.read(r, 65536):
                pass
        except BlockingIOError:
            pass
        os.close(r)

    start = time.monotonic()
    proc = subprocess.Popen([*UNSHARE_PID1, execmark_bin, "init", "--socket",
                             str(tmp_path / "s.sock"), "--", "sh", "-c", "sleep 0.2; exit 7"],
                            stdout=w, stderr=subprocess.PIPE, text=True)
    os.close(w)
    reader = threading.Thread(target=unblock) if unblock_after is not None else None
    if reader:
        reader.start()
    try:
        _, err = proc.communicate(timeout=60)
    finally:
        if reader:
            reader.join()
        else:
            os.close(r)
    assert proc.returncode == 7, err
    assert time.monotonic() - start < 20, err
    assert not SANITIZER_REPORT.search(err), err
