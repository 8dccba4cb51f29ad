#!/bin/bash
# SPDX-License-Identifier: MIT
# session_bench.sh [EXECMARK] — the cost of attribution at shell start, in one run:
#   - `execmark session open` round trip to PID 1 (hook -> socket -> signed marker -> banner);
#   - interactive bash start with the execmark hook vs without (median, p99);
#   - the bound with a dead agent (no socket) and a hung agent (accepts, never answers).
# PID 1 is `execmark init` in its own PID namespace; the clients run inside it (nsenter), as
# they do in a container. Prints Markdown (docs/benchmarks.md quotes it). Needs root.
set -euo pipefail
cd "$(dirname "$0")/../.."
em=$(readlink -f "${1:-build/release-static/agent/execmark}")
runs=${BENCH_RUNS:-300}
tmp=$(mktemp -d)
cleanup() {
    if [ -n "${init_pid:-}" ]; then kill -TERM "$init_pid" 2>/dev/null || true; fi
    if [ -n "${hung_pid:-}" ]; then kill "$hung_pid" 2>/dev/null || true; fi
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

sock=$tmp/agent.sock
unshare --pid --fork --mount-proc "$em" init --socket "$sock" --watch-interval 0 -- sleep 3600 \
    >"$tmp/container.log" 2>&1 &
outer=$!
for _ in $(seq 300); do
    init_pid=$(awk '{print $1}' "/proc/$outer/task/$outer/children" 2>/dev/null)
    [ -n "$init_pid" ] && [ -S "$sock" ] && break
    sleep 0.01
done
inside() { nsenter -t "$init_pid" -p -m env EXECMARK_SOCKET="$sock" EXECMARK_BIN_PATH="$em" \
    AWS_USER=bench "$@"; }

"$em" hook print bash >"$tmp/hook.sh"
printf '. %s\n' "$tmp/hook.sh" >"$tmp/rc-hook"
: >"$tmp/rc-plain"

# A hung agent: accepts connections and never answers.
/usr/bin/python3 -c "
import socket, time
s = socket.socket(socket.AF_UNIX); s.bind('$tmp/hung.sock'); s.listen(64)
held = []
while True:
    c, _ = s.accept(); held.append(c)
" &
hung_pid=$!
for _ in $(seq 100); do [ -S "$tmp/hung.sock" ] && break; sleep 0.01; done

# The measured command must really be signed by PID 1, not fall back to an unsigned marker.
if ! inside "$em" session open | grep -q ' ed25519='; then
    echo "session_bench: \`session open\` did not get a signed marker from PID 1" >&2
    exit 1
fi

inside hyperfine -N --warmup 20 --runs "$runs" --export-json "$tmp/open.json" \
    -n "session open (signed by PID 1)" "$em session open" \
    -n "bash -i, no hook" "bash --rcfile $tmp/rc-plain -i -c true" \
    -n "bash -i, execmark hook" "bash --rcfile $tmp/rc-hook -i -c true" >/dev/null 2>&1
hyperfine -N --warmup 3 --runs 20 --export-json "$tmp/dead.json" \
    -n "session open, no agent" "env EXECMARK_SOCKET=$tmp/none.sock $em session open" \
    -n "session open, hung agent" "env EXECMARK_SOCKET=$tmp/hung.sock $em session open" \
    >/dev/null 2>&1

echo "## Session start: hook, round trip, dead-agent bound"
echo
echo "Machine: $(nproc) cores, $(uname -r), $(date -u +%Y-%m-%d). Command: \`tests/bench/session_bench.sh\` (BENCH_RUNS=$runs)."
echo
/usr/bin/python3 - "$tmp/open.json" "$tmp/dead.json" <<'PY'
import json, sys
print("| what | median ms | p99 ms | mean ms ± sd |")
print("|---|---|---|---|")
rows = {}
for path in sys.argv[1:]:
    for r in json.load(open(path))["results"]:
        t = sorted(r["times"])
        p99 = t[min(len(t) - 1, int(round(0.99 * (len(t) - 1))))]
        rows[r["command"]] = r
        print(f"| {r['command']} | {r['median']*1000:.2f} | {p99*1000:.2f} | "
              f"{r['mean']*1000:.2f} ± {r['stddev']*1000:.2f} |")
hook = rows["bash -i, execmark hook"]["median"] - rows["bash -i, no hook"]["median"]
print()
print(f"Hook cost at bash start (median difference): {hook*1000:.2f} ms (target ≤ 5 ms).")
worst = max(max(rows[k]["times"]) for k in ("session open, no agent", "session open, hung agent"))
print(f"Slowest shell-start bound with a dead or hung agent: {worst*1000:.0f} ms (target ≤ 600 ms).")
PY
