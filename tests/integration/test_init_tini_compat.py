# SPDX-License-Identifier: MIT
"""tini compatibility: the binary invoked through a link named `tini` or `docker-init` takes
tini's flags and environment and exits like Debian's /usr/bin/tini (0.19.0) wherever the
semantics are meant to match: child codes, 126/127, -e remaps, signal deaths, usage errors.

Deliberate differences (not compared):
- Options stop at the first non-option: `tini echo -l` runs `echo -l`. Debian's tini uses glibc's
  permuting getopt and prints its licence instead (tini issues #55, #132, #217).
- `-p` also accepts signal numbers (tini: names only); garbage in TINI_VERBOSITY is a usage
  error (tini's atoi silently means 0).
- Log lines of every level go to stderr; tini prints INFO and below on stdout.
"""

from __future__ import annotations

import os
import re
import signal
import time

import pytest

from conftest import clean_env, wait_until

DEBIAN_TINI = "/usr/bin/tini"
DOCKER_INFO_VERSION = re.compile(r"^tini version (\S+) - git\.(\S+)$")
NAMES = ["tini", "docker-init"]


@pytest.fixture(scope="module")
def links(tmp_path_factory, execmark_bin) -> dict[str, str]:
    """name -> path of a symlink with that name pointing at the binary under test."""
    d = tmp_path_factory.mktemp("links")
    out = {}
    for name in NAMES:
        (d / name).symlink_to(execmark_bin)
        out[name] = str(d / name)
    return out


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, str]:
    d = tmp_path_factory.mktemp("progs")
    plain = d / "not-executable"
    plain.write_text("#!/bin/sh\nexit 0\n")
    plain.chmod(0o644)
    no_shebang = d / "no-shebang"
    no_shebang.write_text("exit 5\n")
    no_shebang.chmod(0o755)
    exit9 = d / "exit9"
    exit9.write_text("#!/bin/sh\nexit 9\n")
    exit9.chmod(0o755)
    return {"{plain}": str(plain), "{no_shebang}": str(no_shebang), "{exit9}": str(exit9)}


SH = ["sh", "-c"]
MATRIX = [
    ("exit-0", ["--", *SH, "exit 0"], None),
    ("exit-7", ["--", *SH, "exit 7"], None),
    ("exit-9-no-dashdash", ["{exit9}"], None),
    ("s", ["-s", "--", *SH, "exit 3"], None),
    ("g", ["-g", "--", *SH, "exit 4"], None),
    ("v", ["-v", "--", *SH, "exit 5"], None),
    ("w", ["-w", "--", *SH, "exit 6"], None),
    ("grouped-sgw", ["-sgw", "--", *SH, "exit 8"], None),
    ("p-SIGTERM", ["-p", "SIGTERM", "--", *SH, "exit 2"], None),
    ("p-SIGKILL", ["-p", "SIGKILL", "--", "true"], None),
    ("not-found-abs", ["--", "/nonexistent/program"], None),
    ("not-found-path", ["--", "no-such-program-on-path-42"], None),
    ("directory", ["--", "/etc"], None),
    ("not-executable", ["--", "{plain}"], None),
    ("script-without-shebang", ["--", "{no_shebang}"], None),
    ("death-TERM", ["--", *SH, "kill -TERM $$"], None),
    ("death-KILL", ["--", *SH, "kill -KILL $$"], None),
    ("death-USR1", ["--", *SH, "kill -USR1 $$"], None),
    ("death-SEGV", ["--", *SH, "ulimit -c 0; kill -SEGV $$"], None),
    ("death-RT34", ["--", *SH, "kill -34 $$"], None),
    ("death-32", ["--", *SH, "kill -32 $$"], None),
    ("death-33", ["--", *SH, "kill -33 $$"], None),
    ("e-143-TERM", ["-e", "143", "--", *SH, "kill -TERM $$"], None),
    ("e-two-second", ["-e", "3", "-e", "4", "--", *SH, "exit 4"], None),
    ("e-other-code", ["-e", "3", "--", *SH, "exit 4"], None),
    ("e-attached", ["-e4", "--", *SH, "exit 4"], None),
    ("no-program", [], None),
    ("only-flags", ["-s", "-g"], None),
    ("w-no-program", ["-w"], None),
    ("unknown-option", ["-Z", "--", "true"], None),
    ("e-missing-value", ["-e"], None),
    ("e-out-of-range", ["-e", "300", "--", "true"], None),
    ("e-not-number", ["-e", "abc", "--", "true"], None),
    ("p-unknown-name", ["-p", "SIGFOO", "--", "true"], None),
    ("h", ["-h"], None),
    ("version", ["--version"], None),
    ("l", ["-l"], None),
    ("env-SUBREAPER", ["--", *SH, "exit 3"], {"TINI_SUBREAPER": ""}),
    ("env-KILL_PROCESS_GROUP", ["--", *SH, "exit 3"], {"TINI_KILL_PROCESS_GROUP": "1"}),
    ("env-VERBOSITY-0", ["--", *SH, "exit 3"], {"TINI_VERBOSITY": "0"}),
    ("env-VERBOSITY-3", ["--", *SH, "exit 3"], {"TINI_VERBOSITY": "3"}),
    ("env-VERBOSITY-0-not-found", ["--", "/nonexistent/program"], {"TINI_VERBOSITY": "0"}),
]


def run(init, prog: str, args, env=None):
    return init.run(args, prog=prog, env=env)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("case, args, env", MATRIX, ids=[c[0] for c in MATRIX])
def test_exit_status_matches_debian_tini(init, links, files, name, case, args, env):
    """Contract: for each case the link exits with the same status as Debian's tini run with the
    same arguments and environment (child codes, 126/127, -e, signal deaths incl. 32/33 and RT,
    usage errors 1, -h/--version/-l 0)."""
    if not os.access(DEBIAN_TINI, os.X_OK):
        pytest.skip(f"{DEBIAN_TINI} (Debian's tini) is not installed: nothing to compare with")
    args = [files.get(a, a) for a in args]
    ours = run(init, links[name], args, env)
    theirs = run(init, DEBIAN_TINI, args, env)
    assert ours.rc == theirs.rc, (f"{name} {args}: execmark {ours.rc}, tini {theirs.rc}\n"
                                  f"execmark stderr: {ours.stderr[-800:]}\n"
                                  f"tini stderr: {theirs.stderr[-800:]}")


@pytest.mark.parametrize("name", NAMES)
def test_version_matches_docker_info_format(init, links, name):
    """Contract: `--version` prints one line that docker info's parser accepts:
    `tini version <v> - git.<sha>` (ours: `<v>_execmark`), exit 0."""
    r = run(init, links[name], ["--version"])
    assert r.rc == 0
    lines = r.stdout.splitlines()
    assert len(lines) == 1 and DOCKER_INFO_VERSION.match(lines[0]), r.stdout
    assert DOCKER_INFO_VERSION.match(lines[0]).group(1).endswith("_execmark")


def test_options_stop_at_the_first_non_option(init, links):
    """Contract: everything after the program name belongs to the program: `tini echo -l -s`
    runs `echo -l -s` (Debian's tini would print its licence instead — deliberate difference)."""
    r = run(init, links["tini"], ["echo", "-l", "-s"])
    assert r.rc == 0, r.stderr
    assert r.stdout == "-l -s\n"


def test_license_flag_prints_a_licence(init, links):
    """Contract: `-l` prints the licence text on stdout and exits 0 without running anything."""
    r = run(init, links["tini"], ["-l"])
    assert r.rc == 0
    assert "Permission is hereby granted" in r.stdout and "License" in r.stdout


def test_help_flag_prints_usage_and_exits_0(init, links):
    """Contract: `-h` prints usage (naming tini, as invoked) on stdout and exits 0."""
    r = run(init, links["tini"], ["-h"])
    assert r.rc == 0
    assert r.stdout.startswith("Usage: tini ")


def test_missing_program_is_a_usage_error(init, links):
    """Contract: no program to run: exit 1 with the usage on stderr, nothing on stdout."""
    r = run(init, links["docker-init"], [])
    assert r.rc == 1
    assert r.stdout == ""
    assert "Usage:" in r.stderr


def test_tini_verbosity_is_absolute_and_wins_over_v(init, links):
    """Contract: TINI_VERBOSITY=N sets the level outright, applied after -v: TINI_VERBOSITY=2
    shows info lines, `-vvv` with TINI_VERBOSITY=1 shows none; all log lines go to stderr."""
    loud = run(init, links["tini"], ["--", "true"], {"TINI_VERBOSITY": "2"})
    assert loud.rc == 0
    assert "[execmark init] info:" in loud.stderr, loud.stderr
    assert loud.stdout == ""
    quiet = run(init, links["tini"], ["-vvv", "--", "true"], {"TINI_VERBOSITY": "1"})
    assert quiet.rc == 0
    assert "[execmark init] info:" not in quiet.stderr, quiet.stderr
    assert "[execmark init] debug:" not in quiet.stderr


def test_logs_never_go_to_stdout(init, links):
    """Contract: even at the highest verbosity (trace) the init prints nothing on stdout — it is
    the application's (tini would print INFO/DEBUG/TRACE there)."""
    r = run(init, links["tini"], ["-vvvv", "--", "sh", "-c", "exit 0"])
    assert r.rc == 0
    assert r.stdout == ""
    assert "[execmark init] info:" in r.stderr, r.stderr


# The init's parent: starts TINI -p SIG -- sigcatch in the background, reports the init's pid,
# then waits to be killed.
PARENT = '"$1" "$@" & echo "init $!"; exec sleep 60'


def start_under_parent(procs, tini: str, flags, sigcatch: str):
    parent = procs.start(["sh", "-c", PARENT.replace('"$1" "$@"', '"$@"'), "sh", tini, *flags,
                          "--", sigcatch, "-t", "C", "-x", "15"], env=clean_env())
    lines = {parent.read_line(10), parent.read_line(10)}
    init_pid = next(int(x.split()[1]) for x in lines if x.startswith("init "))
    assert any(re.match(r"^C ready \d+$", x) for x in lines), lines
    return parent, init_pid


def wait_status(pid: int, timeout: float) -> int | None:
    """Exit status of PID once it was reparented to us (the test process is a subreaper)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            got, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            got, status = 0, 0  # not (yet) ours
        if got == pid:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.02)
    return None


def test_parent_death_signal_reaches_the_init_and_is_forwarded(procs, links, helpers):
    """Contract: `-p SIGTERM` makes the kernel send SIGTERM to the init when its parent dies;
    the init forwards it to the child like any SIGTERM (the child, which exits on TERM, reports
    it), and the init then exits with the child's status 0."""
    parent, init_pid = start_under_parent(procs, links["tini"], ["-p", "SIGTERM"],
                                          helpers.sigcatch)
    os.kill(parent.pid, signal.SIGKILL)
    assert parent.read_line(10) == "C 15 0", parent.describe()
    assert wait_status(init_pid, 10) == 0


def test_without_parent_death_signal_the_parents_death_goes_unnoticed(procs, links, helpers):
    """Contract (control for -p): without -p the init is merely reparented when its parent
    dies; the child is not signalled and keeps running."""
    parent, init_pid = start_under_parent(procs, links["tini"], [], helpers.sigcatch)
    os.kill(parent.pid, signal.SIGKILL)
    parent.assert_quiet(1.0)
    assert wait_until(lambda: os.path.exists(f"/proc/{init_pid}"), 1)
    assert wait_status(init_pid, 0.1) is None
