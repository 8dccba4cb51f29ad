# SPDX-License-Identifier: MIT
"""Zombie reaping by `execmark init`: as real PID 1 every orphan of the namespace is its child;
as a plain process it makes itself a child subreaper so orphans of its tree come to it.

helpers/orphans.c makes N orphans quickly (each forked by an intermediate that exits at once),
named with a unique comm so they can be found in /proc, zombies included.
"""

from __future__ import annotations

import re
import sys
import uuid

from conftest import all_stats, wait_until

ORPHANS = 1000

# Runs inside the PID namespace as the init's child: makes the orphans, then waits until /proc
# (the namespace's own, thanks to --mount-proc) shows no zombie at all. Prints the count seen.
COUNT_ZOMBIES_IN_NAMESPACE = r"""
import os, subprocess, sys, time
orphans, count, name = sys.argv[1], sys.argv[2], sys.argv[3]
assert os.getpid() == 2 and open('/proc/1/comm').read().strip(), 'not in the PID namespace'
subprocess.run([orphans, count, name, '20'], check=True, stdout=subprocess.DEVNULL)
def zombies():
    n = 0
    for pid in filter(str.isdigit, os.listdir('/proc')):
        try:
            stat = open(f'/proc/{pid}/stat').read()
        except OSError:
            continue
        if stat.rpartition(')')[2].split()[0] == 'Z':
            n += 1
    return n
deadline = time.monotonic() + 20
while (n := zombies()) and time.monotonic() < deadline:
    time.sleep(0.05)
print(f'zombies {n}', flush=True)
sys.exit(0 if n == 0 else 1)
"""


def test_pid1_reaps_a_thousand_orphans(init, helpers):
    """Contract: as real PID 1 the init reaps every orphan reparented to it: after 1,000 orphans
    (half exiting at once, half a few ms later, so SIGCHLDs coalesce) /proc inside the namespace
    shows no zombie, and the init then exits with the child's status."""
    name = "orph" + uuid.uuid4().hex[:8]
    proc = init.start(["--", sys.executable, "-c", COUNT_ZOMBIES_IN_NAMESPACE, helpers.orphans,
                       str(ORPHANS), name], pid1=True)
    assert proc.expect(r"^zombies (\d+)$", timeout=60).group(1) == "0"
    assert proc.wait(30) == 0, proc.stderr


def tagged(name: str) -> list[str]:
    """States of every process on the host named NAME (zombies included)."""
    return [st.state for st in all_stats() if st.comm == name]


def test_subreaper_reaps_orphans_of_its_tree(init, helpers):
    """Contract: not being PID 1, the init makes itself a child subreaper without being asked:
    orphans of its tree are reparented to it (not to the host's init) and reaped, so none of
    them is left, not even as a zombie."""
    name = "orph" + uuid.uuid4().hex[:8]
    proc = init.start(["--", "sh", "-c", f'"$0" 200 {name} 300 && echo made && exec sleep 30',
                       helpers.orphans])
    proc.expect("^made$", timeout=30)
    # While some orphans still live (up to 300 ms), they must be the init's children.
    parents = {st.ppid for st in all_stats() if st.comm == name and st.state != "Z"}
    assert parents <= {proc.init_pid}, f"orphans adopted by {parents}, init is {proc.init_pid}"
    left = wait_until(lambda: not tagged(name), 20)
    assert left, f"orphans still present (states): {tagged(name)}"
    assert proc.popen.poll() is None


def test_warn_flag_logs_each_reaped_zombie(init, helpers):
    """Contract: with -w every reaped process other than the main child is reported as a warning
    on stderr (one line per zombie, with its pid) in tini's words, "Reaped zombie process with
    pid=N", which users grep for; the main child's exit is not."""
    name = "orph" + uuid.uuid4().hex[:8]
    r = init.run(["-w", "--", helpers.orphans, "3", name, "0"])
    assert r.rc == 0, r.stderr
    lines = re.findall(r"^\[execmark init\] warning: Reaped zombie process with pid=(\d+)$",
                       r.stderr, re.M)
    assert len(lines) == 3, r.stderr


def test_without_warn_flag_reaping_is_silent(init, helpers):
    """Contract: without -w, reaping orphans logs nothing at the default verbosity."""
    name = "orph" + uuid.uuid4().hex[:8]
    r = init.run(["--", helpers.orphans, "3", name, "0"])
    assert r.rc == 0, r.stderr
    assert "[execmark init]" not in r.stderr, r.stderr
