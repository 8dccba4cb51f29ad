#!/bin/bash
# SPDX-License-Identifier: MIT
# init_bench.sh [EXECMARK] — execmark init against Debian's tini, tini-static, dumb-init and
# catatonit (podman's --init), in one run: start+teardown wall time of `<init> true` (hyperfine, as subreaper and as PID 1),
# the init's own memory while supervising `sleep`, system calls while idle, binary sizes.
# Prints a Markdown report (docs/benchmarks.md quotes it). Needs root (PID namespaces, strace).
# Every init runs from a fresh copy in a temporary directory (the peers too, found first on
# PATH): the same bytes exec 0.3-0.45 ms faster from a copy than from the file the linker wrote
# (docs/benchmarks.md "Where the linker leaves the binary"), so all of them start from files in
# the same state, as a container image's would.
set -euo pipefail
cd "$(dirname "$0")/../.."
em=${1:-build/release-static/agent/execmark}
em=$(readlink -f "$em")
runs=${BENCH_RUNS:-1000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for tool in hyperfine strace tini tini-static dumb-init catatonit; do
    command -v "$tool" >/dev/null || { echo "init_bench: $tool missing (docker/install-deps.sh)" >&2; exit 1; }
done
mkdir "$tmp/bin"
for tool in tini tini-static dumb-init catatonit; do
    cp "$(command -v "$tool")" "$tmp/bin/$tool"
done
cp "$em" "$tmp/bin/execmark"
em_src=$em
em=$tmp/bin/execmark
export PATH="$tmp/bin:$PATH"

echo "## PID 1: execmark init vs tini, tini-static, dumb-init, catatonit"
echo
echo "Machine: $(nproc) cores, $(uname -r), $(date -u +%Y-%m-%d). Binary: \`$em_src\`, $(stat -c %s "$em") bytes (run from a copy)."
echo "Command: \`tests/bench/init_bench.sh\` (BENCH_RUNS=$runs, BENCH_ROUNDS=${BENCH_ROUNDS:-3})."
echo

# 1. Wall time of start + supervise + teardown of /bin/true, not PID 1 (subreaper mode), and
# 2. the same as PID 1 of a new PID namespace. BENCH_ROUNDS rounds (default 3), each with every
# init, so that the run-to-run spread of a shared machine shows next to the ratios.
rounds=${BENCH_ROUNDS:-3}
for r in $(seq "$rounds"); do
    hyperfine -N --warmup 50 --runs "$runs" --export-json "$tmp/sub.$r.json" \
        -n tini-static "tini-static -s -- /bin/true" \
        -n tini "tini -s -- /bin/true" \
        -n dumb-init "dumb-init /bin/true" \
        -n catatonit "catatonit -- /bin/true" \
        -n "execmark (no attribution)" "$em init --no-attribution -- /bin/true" \
        -n "execmark (attribution on)" "$em init --socket $tmp/a.sock -- /bin/true" \
        >/dev/null 2>&1
    hyperfine -N --warmup 20 --runs "$(( runs / 2 ))" --export-json "$tmp/pid1.$r.json" \
        -n "unshare only" "unshare --pid --fork /bin/true" \
        -n tini-static "unshare --pid --fork tini-static -- /bin/true" \
        -n tini "unshare --pid --fork tini -- /bin/true" \
        -n dumb-init "unshare --pid --fork dumb-init /bin/true" \
        -n catatonit "unshare --pid --fork catatonit -- /bin/true" \
        -n "execmark (no attribution)" "unshare --pid --fork $em init --no-attribution -- /bin/true" \
        -n "execmark (attribution on)" "unshare --pid --fork $em init --socket $tmp/b.sock -- /bin/true" \
        >/dev/null 2>&1
done

/usr/bin/python3 - "$tmp" "$rounds" <<'PY'
import json, statistics, sys
tmp, rounds = sys.argv[1], int(sys.argv[2])
for stem, title in (("sub", "`<init> /bin/true`, init not PID 1 (subreaper)"),
                    ("pid1", "`unshare --pid --fork <init> /bin/true`, init as PID 1")):
    per_round = [json.load(open(f"{tmp}/{stem}.{r}.json"))["results"] for r in range(1, rounds + 1)]
    names = [x["command"] for x in per_round[0]]
    print(f"### Wall time: {title}\n")
    print(f"{rounds} rounds; in each, every init ran the same number of times. Median of each "
          "round, and the ratio to tini-static's median **of the same round**.\n")
    print("| init | median ms per round | ratio to tini-static per round | median ratio |")
    print("|---|---|---|---|")
    for name in names:
        medians, ratios = [], []
        for res in per_round:
            mine = next(x for x in res if x["command"] == name)["median"]
            base = next(x for x in res if x["command"] == "tini-static")["median"]
            medians.append(mine * 1000)
            ratios.append(mine / base)
        print(f"| {name} | {' / '.join(f'{m:.3f}' for m in medians)} "
              f"| {' / '.join(f'{q:.3f}' for q in ratios)} | {statistics.median(ratios):.3f} |")
    print()
PY

# 3. The init's own memory as PID 1 supervising sleep, and idle system calls (strace, 3 s).
echo "### Memory of the init as PID 1 supervising \`sleep\`, and system calls in 3 idle seconds"
echo
echo "| init | VmRSS kB | RssAnon kB | syscalls while idle |"
echo "|---|---|---|---|"
measure() {
    local name=$1; shift
    unshare --pid --fork --mount-proc "$@" sleep 30 >/dev/null 2>&1 &
    local outer=$!
    local pid=""
    for _ in $(seq 200); do
        pid=$(awk '{print $1}' "/proc/$outer/task/$outer/children" 2>/dev/null)
        [ -n "$pid" ] && [ -n "$(cat "/proc/$pid/task/$pid/children" 2>/dev/null)" ] && break
        sleep 0.01
    done
    sleep 0.5
    local rss anon
    rss=$(awk '/^VmRSS/{print $2}' "/proc/$pid/status")
    anon=$(awk '/^RssAnon/{print $2}' "/proc/$pid/status")
    timeout -s INT 3 strace -f -qq -p "$pid" -o "$tmp/strace.$$" >/dev/null 2>&1 || true
    # Lines strace prints for the syscall it found a thread in are not new calls: with several
    # threads one such call is printed "<unfinished ...>" and the last "<detached ...>",
    # whichever thread it is (PID 1's log writer sits in a futex wait).
    local calls
    calls=$(grep -v -e 'resumed>' -e '<unfinished' -e '<detached' -e '^$' "$tmp/strace.$$" | grep -vc 'epoll_wait\|rt_sigtimedwait\|wait4' || true)
    local waits
    waits=$(grep -c . "$tmp/strace.$$" || true)
    echo "| $name | $rss | $anon | $waits lines ($calls other than the wait it sits in) |"
    kill -TERM "$pid" 2>/dev/null || true
    wait "$outer" 2>/dev/null || true
}
measure tini-static tini-static --
measure tini tini --
measure dumb-init dumb-init
measure catatonit catatonit --
measure "execmark (no attribution)" "$em" init --no-attribution --
measure "execmark (attribution, watcher off)" "$em" init --socket "$tmp/c.sock" --watch-interval 0 --
measure "execmark (attribution, watcher 2 s)" "$em" init --socket "$tmp/d.sock" --
echo

echo "### Binary sizes"
echo
echo "| binary | bytes | linkage |"
echo "|---|---|---|"
for b in "$em_src" /usr/bin/tini-static /usr/bin/tini /usr/bin/dumb-init /usr/bin/catatonit; do
    echo "| $(basename "$b") | $(stat -c %s "$b") | $(file -b "$b" | grep -o 'statically linked\|dynamically linked') |"
done
