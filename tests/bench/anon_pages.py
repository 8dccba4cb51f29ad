#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""anon_pages.py [--runs N] [--stack-sweep FROM:TO:STEP] BIN... — PID 1's own memory, page by
page: each BIN (a fresh copy, read once so that all of it is in the page cache) starts as PID 1
of a new PID namespace (`init --socket S --watch-interval 0 -- sleep`, and `--no-attribution`),
and the pages of each mapping that are present and not file-backed are counted in
/proc/PID/pagemap: the binary's data and .bss, the heap, the main stack, other (thread stacks).
RssAnon is the sum. N starts per build and mode, interleaved; prints the counts seen and how
often (docs/benchmarks.md "PID 1's own memory and start instructions back under 96e9681").

--stack-sweep: instead, starts PID 1 with address randomisation off (setarch -R) and an
environment variable padded from FROM to TO bytes in STEP steps, and prints the stack's pages
at each padding: the padding at which the stack takes one more page moves by as much as PID 1's
deepest stack moved. Needs root (unshare, pagemap)."""
import argparse
import collections
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

from pid1ns import children, start_pid1

PRESENT, FILE_OR_SHARED = 1 << 63, 1 << 61


def anon_pages(pid, binary):
    """{class: pages} for pid's mappings."""
    counts = collections.Counter()
    prev_was_binary = False
    with open(f"/proc/{pid}/maps", encoding="ascii") as maps, \
            open(f"/proc/{pid}/pagemap", "rb") as pagemap:
        for line in maps:
            fields = line.split()
            lo, hi = (int(x, 16) for x in fields[0].split("-"))
            name = fields[5] if len(fields) > 5 else ""
            if hi - lo > 1 << 30:  # the guard or reserved regions: nothing present
                continue
            pagemap.seek(lo // 4096 * 8)
            data = pagemap.read((hi - lo) // 4096 * 8)
            n = sum(1 for (e,) in struct.iter_unpack("<Q", data)
                    if e & PRESENT and not e & FILE_OR_SHARED)
            if name == binary or (not name and prev_was_binary):
                kind = "binary"  # its mappings, and the .bss right after them
            elif name in ("[heap]", "[stack]"):
                kind = name.strip("[]")
            else:
                kind = "other"
            prev_was_binary = name == binary
            counts[kind] += n
    return counts


def measure(binary, tmp, args, env=None, prefix=()):
    sock = os.path.join(tmp, "pid1.sock")
    argv = [*prefix, binary, "init", *(a.replace("SOCK", sock) for a in args),
            "--watch-interval", "0", "--", "sleep", "3600"]
    outer, pid = start_pid1(argv, lambda p: bool(children(p)), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=env)
    try:
        if pid is None:
            sys.exit(f"anon_pages: {binary}: PID 1 did not start its child")
        time.sleep(0.3)
        return anon_pages(pid, binary)
    finally:
        if pid is not None:
            os.kill(pid, 15)
        outer.wait(timeout=30)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=12)
    ap.add_argument("--stack-sweep", help="FROM:TO:STEP bytes of environment padding")
    ap.add_argument("bins", nargs="+")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="anon-pages.") as tmp:
        copies = []
        for i, b in enumerate(a.bins):
            # Names of one length: the path is on the stack too (argv[0], AT_EXECFN).
            c = os.path.join(tmp, f"execmark-{i:02d}")
            shutil.copy2(b, c)
            with open(c, "rb") as f:
                while f.read(1 << 20):
                    pass
            copies.append(c)
        if a.stack_sweep:
            lo, hi, step = (int(x) for x in a.stack_sweep.split(":"))
            print("| padding bytes | " + " | ".join(a.bins) + " |")
            print("|---" * (len(a.bins) + 1) + "|")
            for pad in range(lo, hi + 1, step):
                env = dict(os.environ, PAD="x" * pad)
                row = [str(measure(c, tmp, ["--socket", "SOCK"], env=env,
                                   prefix=("setarch", "-R"))["stack"]) for c in copies]
                print(f"| {pad} | " + " | ".join(row) + " |")
            return 0
        seen = collections.defaultdict(collections.Counter)
        for _ in range(a.runs):
            for b, c in zip(a.bins, copies):
                for mode, args in (("no attribution", ["--no-attribution"]),
                                   ("attribution", ["--socket", "SOCK"])):
                    k = measure(c, tmp, args)
                    key = (k["binary"], k["heap"], k["stack"], k["other"])
                    seen[(b, mode)][key] += 1
        print("| PID 1 | binary's data and .bss | heap | stack | other | RssAnon kB | starts |")
        print("|---|---|---|---|---|---|---|")
        for (b, mode), keys in seen.items():
            for key, n in sorted(keys.items()):
                print(f"| {b}, {mode} | " + " | ".join(map(str, key)) +
                      f" | {sum(key) * 4} | {n} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
