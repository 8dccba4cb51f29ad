#!/bin/bash
# SPDX-License-Identifier: MIT
# watcher_idle.sh EXECMARK [EXECMARK...] — PID 1's idle cost with the session watcher on: system
# calls per minute of `execmark init` (all its threads, strace -c -f) inside a PID namespace
# holding 50 processes, nothing else happening. Each binary is measured in the same run, one
# after the other, for BENCH_SECONDS (default 60) at --watch-interval BENCH_INTERVAL (default 2).
# Prints Markdown (docs/benchmarks.md quotes it). Needs root and strace.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${BENCH_SECONDS:-60}
interval=${BENCH_INTERVAL:-2}
[ $# -ge 1 ] || set -- build/release-static/agent/execmark
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

measure() {
    local em=$1
    # 49 sleepers + PID 1 = 50 processes in the namespace.
    # shellcheck disable=SC2016 # the loop runs in the namespace
    unshare --pid --fork --mount-proc "$em" init --socket "$tmp/agent.sock" \
        --watch-interval "$interval" -- \
        sh -c 'i=0; while [ $i -lt 48 ]; do sleep 3600 & i=$((i+1)); done; exec sleep 3600' \
        >"$tmp/container.log" 2>&1 &
    local outer=$! init_pid=""
    for _ in $(seq 500); do
        init_pid=$(awk '{print $1}' "/proc/$outer/task/$outer/children" 2>/dev/null || true)
        [ -n "$init_pid" ] && [ "$(pgrep -c -P "$init_pid" 2>/dev/null || echo 0)" -ge 1 ] \
            && [ "$(pgrep -c -x sleep 2>/dev/null || echo 0)" -ge 49 ] && break
        sleep 0.02
    done
    sleep "$interval" # the first scan sees every process once; the idle state comes after
    timeout -s INT "$seconds" strace -c -f -p "$init_pid" -o "$tmp/strace.txt" 2>/dev/null || true
    kill -TERM "$init_pid" 2>/dev/null || true
    wait "$outer" 2>/dev/null || true
    local calls
    # strace's total line: "100.00 SECONDS USECS/CALL CALLS [ERRORS] total".
    calls=$(awk '$NF=="total"{print $4}' "$tmp/strace.txt")
    awk -v c="${calls:-0}" -v s="$seconds" -v b="$em" \
        'BEGIN{printf "| `%s` | %d | %.0f |\n", b, c, c*60/s}'
}

echo "Session watcher idle cost: PID namespace with 50 processes, --watch-interval $interval s,"
echo "strace -c -f on PID 1 for $seconds s ($(date -u +%F))."
echo
echo "| binary | system calls in ${seconds} s | per minute |"
echo "|---|---:|---:|"
for em in "$@"; do
    measure "$(readlink -f "$em")"
done
