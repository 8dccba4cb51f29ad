# SPDX-License-Identifier: MIT
"""A program as PID 1 of a new PID namespace, for the Python benchmarks (start_pairs.py,
hot_sections.py): `unshare --pid --fork --mount-proc ARGV`, and the host pid of the PID 1 it
started, found among unshare's children. Needs root."""
import subprocess
import time


def children(pid):
    """The pids /proc lists as pid's children ([] when it is gone)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def start_pid1(argv, ready, timeout=10.0, **popen_args):
    """Starts argv as PID 1 of a new PID namespace; waits until ready(pid) holds for its host
    pid. Returns (unshare's Popen, pid), or (Popen, None) when unshare ended or the time ran out
    first: the caller says what did not come up."""
    outer = subprocess.Popen(["unshare", "--pid", "--fork", "--mount-proc", *argv], **popen_args)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        kids = children(outer.pid)
        if kids and ready(kids[0]):
            return outer, kids[0]
        if outer.poll() is not None:
            break
        time.sleep(0.01)
    return outer, None
