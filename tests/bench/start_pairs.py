#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""start_pairs.py [--runs N] [--no-attribution] BIN BIN... — is one build's start slower than
another's, on a machine whose speed drifts by milliseconds from one minute to the next?

Runs `BIN init --socket S -- /bin/true` (a subreaper, attribution on; `--no-attribution` for the
bare init) for every BIN in turn, N rounds (default 1000), the order rotated every round, and
reports each BIN's median wall time and, against the first BIN, the median of the per-round
differences with a bootstrap 95 % interval: drift hits every BIN of a round alike, so the
differences keep what hyperfine's blocks of one command after another lose.

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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--no-attribution", action="store_true")
    ap.add_argument("bins", nargs="+")
    args = ap.parse_args()
    if args.runs < 10:
        ap.error("--runs: at least 10")
    for b in args.bins:
        if not os.access(b, os.X_OK):
            ap.error(f"{b}: not an executable file")
    with tempfile.TemporaryDirectory(prefix="start-pairs.") as tmp:
        sock = os.path.join(tmp, "s.sock")
        times = [[] for _ in args.bins]
        order = list(range(len(args.bins)))
        for r in range(args.runs):
            k = r % len(order)
            for i in order[k:] + order[:k]:
                cmd = [args.bins[i], "init"]
                cmd += ["--no-attribution"] if args.no_attribution else ["--socket", sock]
                cmd += ["--", "/bin/true"]
                if os.path.exists(sock):
                    os.unlink(sock)
                start = time.perf_counter()
                done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                      check=False)
                end = time.perf_counter()
                if done.returncode != 0:
                    sys.stderr.write(f"start_pairs: {' '.join(cmd)} exited "
                                     f"{done.returncode}: {done.stderr.decode(errors='replace')}")
                    return 1
                times[i].append((end - start) * 1000)
    rng = random.Random(20261206)
    mode = "--no-attribution" if args.no_attribution else "--socket S"
    load = open("/proc/loadavg").read().split()[:3]
    print(f"`BIN init {mode} -- /bin/true`, {args.runs} rounds, every BIN once per round "
          f"(order rotated); {os.cpu_count()} cores, load average {' '.join(load)} at the end.\n")
    print("| BIN | median ms | per round minus the first BIN: median, 95 % interval | "
          "rounds faster than the first |")
    print("|---|---|---|---|")
    for i, b in enumerate(args.bins):
        med = statistics.median(times[i])
        if i == 0:
            print(f"| `{b}` | {med:.3f} | — | — |")
            continue
        diffs = [x - y for x, y in zip(times[i], times[0])]
        boot = sorted(statistics.median(rng.choices(diffs, k=len(diffs))) for _ in range(1000))
        faster = sum(d < 0 for d in diffs)
        print(f"| `{b}` | {med:.3f} | {statistics.median(diffs):+.3f} ms "
              f"[{boot[25]:+.3f}, {boot[974]:+.3f}] | {faster} of {len(diffs)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
