#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""start_pairs.py [--runs N] [--no-attribution | --session] BIN BIN... — is one build's start
(or session open and close) slower than another's, on a machine whose speed drifts by
milliseconds from one minute to the next?

Runs `BIN init --socket S -- /bin/true` (a subreaper, attribution on; `--no-attribution` for the
bare init) for every BIN in turn, N rounds (default 1000), the order rotated every round, and
reports each BIN's median wall time and, against the first BIN, the median of the per-round
differences with a bootstrap 95 % interval: drift hits every BIN of a round alike, so the
differences keep what hyperfine's blocks of one command after another lose.

--session: each BIN gets its own PID 1 (`unshare --pid --fork BIN init --socket S_i -- sleep`),
and a round runs, per BIN, the hook's two client calls inside that PID 1's namespace (`nsenter
-p -m`): `BIN session open --mode hook`, then `BIN session close --rc 0`, each checked for PID
1's signature and timed on its own. Needs root.

The BINs are run where they are: pass the same build from two places (the linker's output and
a copy) to see what the file itself costs (docs/benchmarks.md "Where the linker leaves the
binary"). Prints Markdown.
"""
import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

from pid1ns import start_pid1


def pid1s(bins, tmp):
    """One `init --socket` per BIN, each PID 1 of its own namespace: [(unshare, pid, socket)]."""
    out = []
    for i, b in enumerate(bins):
        sock = os.path.join(tmp, f"pid1-{i}.sock")
        outer, pid = start_pid1([b, "init", "--socket", sock, "--watch-interval", "0", "--",
                                 "sleep", "3600"], lambda _pid, s=sock: os.path.exists(s),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        out.append((outer, pid, sock))
        if pid is None:
            raise RuntimeError(f"{b}: PID 1 did not open its socket")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1000)
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--no-attribution", action="store_true")
    mode.add_argument("--session", action="store_true")
    ap.add_argument("bins", nargs="+")
    args = ap.parse_args()
    if args.runs < 10:
        ap.error("--runs: at least 10")
    for b in args.bins:
        if not os.access(b, os.X_OK):
            ap.error(f"{b}: not an executable file")
    with tempfile.TemporaryDirectory(prefix="start-pairs.") as tmp:
        sock = os.path.join(tmp, "s.sock")
        inits = []
        if args.session:
            measures = {"`BIN session open --mode hook` against BIN's own PID 1":
                        ["session", "open", "--mode", "hook"],
                        "`BIN session close --rc 0` against BIN's own PID 1":
                        ["session", "close", "--rc", "0"]}
        else:
            mode_args = ["--no-attribution"] if args.no_attribution else ["--socket", sock]
            measures = {f"`BIN init {' '.join(mode_args[:1])}{' S' if len(mode_args) > 1 else ''}"
                        " -- /bin/true`": ["init", *mode_args, "--", "/bin/true"]}
        times = {m: [[] for _ in args.bins] for m in measures}
        try:
            if args.session:
                inits = pid1s(args.bins, tmp)
            order = list(range(len(args.bins)))
            for r in range(args.runs):
                k = r % len(order)
                for i in order[k:] + order[:k]:
                    for m, margs in measures.items():
                        prefix = []
                        if args.session:
                            _, pid, s = inits[i]
                            prefix = ["nsenter", "-t", str(pid), "-p", "-m", "env",
                                      f"EXECMARK_SOCKET={s}", "AWS_USER=bench"]
                        elif os.path.exists(sock):
                            os.unlink(sock)
                        cmd = [*prefix, args.bins[i], *margs]
                        start = time.perf_counter()
                        done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                              check=False)
                        end = time.perf_counter()
                        signed = b" ed25519=" in done.stdout
                        if done.returncode != 0 or (args.session and not signed):
                            sys.stderr.write(f"start_pairs: {' '.join(cmd)} exited "
                                             f"{done.returncode} (a signed marker expected with "
                                             f"--session): "
                                             f"{done.stderr.decode(errors='replace')}")
                            return 1
                        times[m][i].append((end - start) * 1000)
        finally:
            for outer, pid, _ in inits:
                if pid:
                    os.kill(pid, 15)  # PID 1 ends on TERM, and unshare with it
                outer.wait(timeout=30)
    rng = random.Random(20261206)
    load = open("/proc/loadavg").read().split()[:3]
    for m in measures:
        print(f"{m}, {args.runs} rounds, every BIN once per round (order rotated); "
              f"{os.cpu_count()} cores, load average {' '.join(load)} at the end.\n")
        print("| BIN | median ms | per round minus the first BIN: median, 95 % interval | "
              "rounds faster than the first |")
        print("|---|---|---|---|")
        for i, b in enumerate(args.bins):
            med = statistics.median(times[m][i])
            if i == 0:
                print(f"| `{b}` | {med:.3f} | — | — |")
                continue
            diffs = [x - y for x, y in zip(times[m][i], times[m][0])]
            boot = sorted(statistics.median(rng.choices(diffs, k=len(diffs)))
                          for _ in range(1000))
            faster = sum(d < 0 for d in diffs)
            print(f"| `{b}` | {med:.3f} | {statistics.median(diffs):+.3f} ms "
                  f"[{boot[25]:+.3f}, {boot[974]:+.3f}] | {faster} of {len(diffs)} |")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
