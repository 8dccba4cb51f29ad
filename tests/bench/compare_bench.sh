#!/bin/bash
# SPDX-License-Identifier: MIT
# compare_bench.sh OLD NEW — does a change slow execmark down? Two builds, same inputs, same run,
# measured in ways a busy machine does not blur:
#   - instructions (valgrind --tool=callgrind, which counts them; the same binary and input give
#     the same count whatever else runs) of `execmark verify` over a session corpus
#     (tests/tools/mksession, BENCH_BYTES, default 32 MiB; each build verifies the corpus of its
#     own tree's mksession, MKSESSION_OLD and MKSESSION_NEW, since the marker fields differ
#     between versions: same sizes, same text, same number of markers) and of `execmark audit --cloudtrail`
#     over a CloudTrail trail file (BENCH_RECORDS records, default 60,000: ExecuteCommand
#     sessions, denied calls, unrelated events, built with tests/integration/audit_corpus.py);
#   - wall time of `execmark session open` (hook -> socket -> PID 1 signs -> banner), old and new
#     interleaved one call each, BENCH_RUNS rounds (default 300), each against its own PID 1
#     (`execmark init` in its own PID namespace): load hits both alike; medians and their ratio;
#   - the hook's cost at interactive bash start (session_bench.sh's measure: `bash --rcfile RC -i
#     -c true`, RC sourcing the build's own `hook print bash`, stdin not a terminal, so open and
#     close, no recorder), minus the same bash without the hook, interleaved likewise
#     (BENCH_HOOK_RUNS rounds, default BENCH_RUNS), with the per-round differences new - old and
#     a bootstrap 95 % interval of their median;
#   - `unshare --pid --fork EXECMARK init --socket S -- /bin/true` (PID 1 with attribution, as
#     shipped: start, key, socket, the child, shutdown marker, exit), interleaved likewise, and
#     the resident memory of each build's PID 1 supervising `sleep` (VmRSS, RssAnon);
#   - the start as a subreaper (`EXECMARK init --socket S -- /bin/true`, not PID 1): its
#     instructions, and its wall time interleaved likewise, with the median of the per-round
#     differences new - old and a bootstrap 95 % interval of that median.
# Both builds run from fresh copies in the temporary directory, not from where the linker wrote
# them: the same bytes exec 0.3-0.45 ms faster from a copy than from the linker's output file
# (measured 2026-12-06, docs/benchmarks.md "Where the linker leaves the binary"), a difference
# that follows the file, not the code; a container image's binary is a copy too.
# Prints Markdown (docs/benchmarks.md quotes it). Needs root (unshare, nsenter) and valgrind.
# MKSESSION_NEW defaults to build/dev/tests/tools/mksession; MKSESSION_OLD to it as well.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -eq 2 ] || { echo "usage: compare_bench.sh OLD_EXECMARK NEW_EXECMARK" >&2; exit 2; }
old_src=$(readlink -f "$1")
new_src=$(readlink -f "$2")
mk_new=$(readlink -f "${MKSESSION_NEW:-build/dev/tests/tools/mksession}")
mk_old=$(readlink -f "${MKSESSION_OLD:-$mk_new}")
bytes=${BENCH_BYTES:-33554432}
records=${BENCH_RECORDS:-60000}
runs=${BENCH_RUNS:-300}
hook_runs=${BENCH_HOOK_RUNS:-$runs}
for tool in "$old_src" "$new_src" "$mk_old" "$mk_new"; do
    [ -x "$tool" ] || { echo "compare_bench: $tool is not built" >&2; exit 1; }
done
command -v valgrind >/dev/null || { echo "compare_bench: valgrind is missing" >&2; exit 1; }
tmp=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/compare-bench.XXXXXX")
init_old="" init_new=""
cleanup() {
    # Each PID 1 (the init inside its namespace) ends on TERM, and unshare with it.
    for p in $init_old $init_new; do kill -TERM "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
old=$tmp/execmark-old
new=$tmp/execmark-new
cp "$old_src" "$old"
cp "$new_src" "$new"

# Instructions executed by "$@" (callgrind's total), the command's status checked by the caller.
instructions() {
    local out=$tmp/cg.out rc=0
    valgrind --tool=callgrind --callgrind-out-file="$out" "$@" >"$tmp/cmd.out" 2>"$tmp/cg.err" ||
        rc=$?
    if [ "$rc" -ne 0 ] && [ "$rc" -ne "${ALLOWED_RC:-0}" ]; then
        tail -n 20 "$tmp/cg.err" >&2
        echo "compare_bench: '$*' exited $rc" >&2
        exit 1
    fi
    awk '/^summary:/ {print $2}' "$out"
}

# 1. verify over a session corpus.
for which in old new; do
    mkdir -p "$tmp/$which/sessions" "$tmp/$which/dense"
done
"$mk_old" --bench "$tmp/old" --bytes "$bytes" >/dev/null
"$mk_new" --bench "$tmp/new" --bytes "$bytes" >/dev/null
corpus=$(du -sb "$tmp/new/sessions" | cut -f1)
v_old=$(instructions "$old" verify --container-log "$tmp/old/container.log" "$tmp/old/sessions")
v_new=$(instructions "$new" verify --container-log "$tmp/new/container.log" "$tmp/new/sessions")

# 2. audit over one CloudTrail trail file (sessions without logs: every session is reported,
# so the exit status is the findings' 1).
/usr/bin/python3 - "$tmp/trail.json" "$records" <<'PY'
import json, random, sys
sys.path.insert(0, "tests/integration")
import audit_corpus as ac
path, total = sys.argv[1], int(sys.argv[2])
rng = random.Random(20261205)
out = []
for i in range(total // 10):
    sid = ac.session_id(rng)
    out.append(ac.exec_record(sid, ac.role_arn(f"user{i % 50}"),
                              f"2026-03-02T09:{i % 60:02d}:{i % 59:02d}Z", f"ev-{i}"))
out += ac.noise_records(rng, total - len(out))
rng.shuffle(out)
with open(path, "w") as f:
    json.dump({"Records": out}, f)
PY
trail=$(stat -c %s "$tmp/trail.json")
a_old=$(ALLOWED_RC=1 instructions "$old" audit --cloudtrail "$tmp/trail.json")
a_new=$(ALLOWED_RC=1 instructions "$new" audit --cloudtrail "$tmp/trail.json")
# ... and the start as a subreaper with attribution (key, socket, boot marker, the child,
# shutdown marker; every thread counted).
s_old=$(instructions "$old" init --socket "$tmp/cg-old.sock" -- /bin/true)
s_new=$(instructions "$new" init --socket "$tmp/cg-new.sock" -- /bin/true)

# 3. session open, interleaved, each build against its own PID 1.
start_init() { # BIN SOCKET LOG -> pid of the init inside its namespace
    unshare --pid --fork --mount-proc "$1" init --socket "$2" --watch-interval 0 -- sleep 3600 \
        >"$3" 2>&1 &
    local outer=$! inner=""
    for _ in $(seq 500); do
        inner=$(awk '{print $1}' "/proc/$outer/task/$outer/children" 2>/dev/null || true)
        [ -n "$inner" ] && [ -S "$2" ] && break
        sleep 0.01
    done
    echo "$inner"
}
init_old=$(start_init "$old" "$tmp/old.sock" "$tmp/old.log")
init_new=$(start_init "$new" "$tmp/new.sock" "$tmp/new.log")
# interleave FILE FN: BENCH_RUNS rounds of `FN old` and `FN new` (order swapped every round), each
# printing "START END"; appends "old|new START END" lines to FILE. A failed FN ends the script
# (read gets nothing, set -e).
interleave() {
    local i which s e order
    : >"$1"
    for i in $(seq "$runs"); do
        if [ $((i % 2)) -eq 0 ]; then order="old new"; else order="new old"; fi
        for which in $order; do
            read -r s e < <("$2" "$which")
            echo "$which $s $e" >>"$1"
        done
    done
}
open_once() { # old|new -> seconds
    local s e pid=$init_old sock=$tmp/old.sock bin=$old
    [ "$1" = old ] || { pid=$init_new; sock=$tmp/new.sock; bin=$new; }
    s=$EPOCHREALTIME
    nsenter -t "$pid" -p -m env EXECMARK_SOCKET="$sock" AWS_USER=bench "$bin" session open \
        >"$tmp/open.out"
    e=$EPOCHREALTIME
    grep -q ' ed25519=' "$tmp/open.out" || {
        echo "compare_bench: $bin session open was not signed by its PID 1" >&2
        exit 1
    }
    echo "$s $e"
}
interleave "$tmp/open.txt" open_once

# 4. the hook at interactive bash start: each build's hook and PID 1, and bash without a hook,
# interleaved (rotating order).
"$old" hook print bash >"$tmp/hook-old.sh"
"$new" hook print bash >"$tmp/hook-new.sh"
printf '. %s\n' "$tmp/hook-old.sh" >"$tmp/rc-old"
printf '. %s\n' "$tmp/hook-new.sh" >"$tmp/rc-new"
: >"$tmp/rc-plain"
bash_once() { # INIT SOCKET BIN RC -> seconds
    local s e
    s=$EPOCHREALTIME
    nsenter -t "$1" -p -m env EXECMARK_SOCKET="$2" EXECMARK_BIN_PATH="$3" AWS_USER=bench \
        bash --rcfile "$4" -i -c true </dev/null >"$tmp/bash.out" 2>&1
    e=$EPOCHREALTIME
    if [ "$4" != "$tmp/rc-plain" ] && [ "$(grep -c ' ed25519=' "$tmp/bash.out")" -ne 2 ]; then
        echo "compare_bench: $3's hook did not get a signed open and close from its PID 1" >&2
        exit 1
    fi
    echo "$s $e"
}
: >"$tmp/hook.txt"
for i in $(seq "$hook_runs"); do
    case $((i % 3)) in
    0) order="old new plain" ;;
    1) order="new plain old" ;;
    *) order="plain old new" ;;
    esac
    for which in $order; do
        case $which in
        old) read -r s e < <(bash_once "$init_old" "$tmp/old.sock" "$old" "$tmp/rc-old") ;;
        new) read -r s e < <(bash_once "$init_new" "$tmp/new.sock" "$new" "$tmp/rc-new") ;;
        *) read -r s e < <(bash_once "$init_new" "$tmp/new.sock" "$new" "$tmp/rc-plain") ;;
        esac
        echo "$which $s $e" >>"$tmp/hook.txt"
    done
done
# 5. PID 1 start to exit around /bin/true, interleaved; memory of PID 1 supervising sleep.
start_once() { # pid1|sub old|new -> seconds: `init` as PID 1 of a new namespace, or a subreaper
    local s e bin=$old wrap=(unshare --pid --fork)
    [ "$2" = old ] || bin=$new
    [ "$1" = pid1 ] || wrap=()
    rm -f "$tmp/i.sock"
    s=$EPOCHREALTIME
    "${wrap[@]}" "$bin" init --socket "$tmp/i.sock" -- /bin/true >"$tmp/i.log" 2>&1
    e=$EPOCHREALTIME
    grep -q '"ev":"shutdown"' "$tmp/i.log" || {
        echo "compare_bench: $bin init ($1) wrote no shutdown marker" >&2
        exit 1
    }
    echo "$s $e"
}
init_once() { start_once pid1 "$1"; }
sub_once() { start_once sub "$1"; }
interleave "$tmp/init.txt" init_once
interleave "$tmp/sub.txt" sub_once
rss() { # PID -> "VmRSS RssAnon" in kB
    awk '/^VmRSS:/ {r=$2} /^RssAnon:/ {a=$2} END {print r, a}' "/proc/$1/status"
}
read -r rss_old anon_old < <(rss "$init_old")
read -r rss_new anon_new < <(rss "$init_new")

/usr/bin/python3 - "$old_src" "$new_src" "$corpus" "$v_old" "$v_new" "$trail" "$records" "$a_old" \
    "$a_new" "$tmp/open.txt" "$(nproc)" "$(uname -r)" "$(date -u +%Y-%m-%d)" \
    "$(cut -d' ' -f1-3 /proc/loadavg)" "$tmp/hook.txt" "$tmp/init.txt" \
    "$rss_old $anon_old $rss_new $anon_new" "$s_old" "$s_new" "$tmp/sub.txt" <<'PY'
import random, statistics, sys
(old, new, corpus, v_old, v_new, trail, records, a_old, a_new, open_txt, cores, kernel, day,
 load, hook_txt, init_txt, mem, s_old, s_new, sub_txt) = sys.argv[1:]
v_old, v_new, a_old, a_new, s_old, s_new = map(int, (v_old, v_new, a_old, a_new, s_old, s_new))
times = {"old": [], "new": []}
for line in open(open_txt):
    which, s, e = line.split()
    times[which].append((float(e) - float(s)) * 1000)
print("## Old build vs new build: instructions and interleaved session open\n")
print(f"Machine: {cores} cores, {kernel}, {day}, load average {load}. Old: `{old}`; new: "
      f"`{new}`. Command: `tests/bench/compare_bench.sh OLD NEW`.\n")
print("| what | old | new | new / old |")
print("|---|---|---|---|")
print(f"| `verify`, {int(corpus):,} bytes of transcripts: instructions | {v_old:,} | {v_new:,} | "
      f"{v_new / v_old:.3f} |")
print(f"| `audit --cloudtrail`, one {int(trail):,}-byte trail file of {int(records):,} records: "
      f"instructions | {a_old:,} | {a_new:,} | {a_new / a_old:.3f} |")
med = {k: statistics.median(v) for k, v in times.items()}
p90 = {k: sorted(v)[int(0.9 * (len(v) - 1))] for k, v in times.items()}
n = len(times["new"])
print(f"| `session open` signed by PID 1, median ms ({n} interleaved calls each) | "
      f"{med['old']:.2f} | {med['new']:.2f} | {med['new'] / med['old']:.3f} |")
print(f"| `session open`, p90 ms | {p90['old']:.2f} | {p90['new']:.2f} | "
      f"{p90['new'] / p90['old']:.3f} |")
def paired(diffs):
    """Median of the per-round differences and a bootstrap 95 % interval of it (seeded)."""
    rng = random.Random(20261206)
    boot = sorted(statistics.median(rng.choices(diffs, k=len(diffs))) for _ in range(1000))
    return f"{statistics.median(diffs):+.3f} ms [{boot[25]:+.3f}, {boot[974]:+.3f}]"
# Per round (old, new and plain run back to back): each build's time minus that round's plain
# bash, so that the machine's drift between rounds cancels; the medians of those differences.
rounds, bash = [], {}
for line in open(hook_txt):
    which, s, e = line.split()
    bash[which] = (float(e) - float(s)) * 1000
    if len(bash) == 3:
        rounds.append(bash)
        bash = {}
plain = statistics.median(r["plain"] for r in rounds)
cost = {k: statistics.median(r[k] - r["plain"] for r in rounds) for k in ("old", "new")}
print(f"| hook cost at bash start (`bash -i` with the hook minus without in the same round, "
      f"medians of {len(rounds)} rounds; plain {plain:.2f} ms; per round new - old: "
      f"{paired([r['new'] - r['old'] for r in rounds])}), ms | {cost['old']:.2f} | "
      f"{cost['new']:.2f} | {cost['new'] / cost['old']:.3f} |")
def interleaved(path):
    """Each build's times, and the per-round differences new - old (a round: one of each)."""
    times, diffs, pair = {"old": [], "new": []}, [], {}
    for line in open(path):
        which, s, e = line.split()
        pair[which] = (float(e) - float(s)) * 1000
        times[which].append(pair[which])
        if len(pair) == 2:
            diffs.append(pair["new"] - pair["old"])
            pair = {}
    return times, diffs
inits, init_diffs = interleaved(init_txt)
im = {k: statistics.median(v) for k, v in inits.items()}
print(f"| `init` as PID 1 with attribution around `/bin/true`, median ms ({len(inits['new'])} "
      f"interleaved runs each; per round new - old: {paired(init_diffs)}) | {im['old']:.2f} | "
      f"{im['new']:.2f} | {im['new'] / im['old']:.3f} |")
print(f"| `init` as a subreaper with attribution around `/bin/true`: instructions | {s_old:,} | "
      f"{s_new:,} | {s_new / s_old:.3f} |")
subs, sub_diffs = interleaved(sub_txt)
sm = {k: statistics.median(v) for k, v in subs.items()}
print(f"| the same, median ms ({len(subs['new'])} interleaved runs each; per round new - old: "
      f"{paired(sub_diffs)}) | {sm['old']:.2f} | {sm['new']:.2f} | {sm['new'] / sm['old']:.3f} |")
rss_old, anon_old, rss_new, anon_new = map(int, mem.split())
print(f"| PID 1 supervising `sleep`, after the session opens above: VmRSS kB | {rss_old:,} | "
      f"{rss_new:,} | {rss_new / rss_old:.3f} |")
print(f"| the same, RssAnon kB | {anon_old:,} | {anon_new:,} | {anon_new / anon_old:.3f} |")
PY
