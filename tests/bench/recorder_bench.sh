#!/bin/bash
# SPDX-License-Identifier: MIT
# recorder_bench.sh [EXECMARK] [PART...] — the session recorder's costs, peers in the same run:
#   throughput  `cat` of a BENCH_BYTES (256 MiB) text file to the terminal: recorder
#               (`execmark shell`) vs util-linux `script -q` vs no recorder, through the SSM
#               agent stand-in, and directly on a pty (`execmark shell` with no PID 1, unrecorded);
#               BENCH_TPUT_RUNS (3) runs of each, interleaved;
#   latency     keystroke to echo in bash with and without the recorder, BENCH_KEYS (2000)
#               keystrokes each, alternating between two open sessions;
#   start       hook-mode bash start to first prompt: plain, hook recorded, hook unrecorded,
#               hook with no agent; BENCH_START_RUNS (40) of each, interleaved;
#   logbytes    container-log bytes of `rec` markers per session-minute, typing
#               (BENCH_TYPING_SECONDS, 60) and a flood (BENCH_FLOOD_SECONDS, 30);
#   load        PID 1's CPU and a CPU-bound application's iterations/s with BENCH_SESSIONS (20)
#               sessions streaming `yes` (recorded, then unrecorded), phases of
#               BENCH_PHASE_SECONDS (15), BENCH_LOAD_ROUNDS (1) rounds;
#   load-pinned the same with PID 1 and the application on CPU 0 and the sessions on CPU 1: the
#               application's loss is then PID 1's own cost, not the sessions' CPU.
# Default: all parts (≈ 7 min on a loaded 2-core machine, throughput ≈ 5 of them; run parts
# separately, or BENCH_TPUT_RUNS=1, to stay short). Every recorded
# session is a session of the SSM agent stand-in (tests/sim, built in build/dev; see
# tests/integration/ssm_agent.py): PID 1 accepts a recorder only as the session's command under
# the stand-in's ssm-session-worker. PID 1 and the recorder are EXECMARK (default: the shipped
# build/release-static binary). Prints Markdown (docs/benchmarks.md quotes it). Needs root
# (unshare, nsenter, mounts in the task's namespace) and python3-pexpect, python3-cryptography.
set -euo pipefail
cd "$(dirname "$0")/../.."
em=$(readlink -f "${1:-build/release-static/agent/execmark}")
[ -x "$em" ] || { echo "recorder_bench: $em is not built" >&2; exit 1; }
shift || true
parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(throughput latency start logbytes load load-pinned)
echo "## Session recorder: throughput, echo latency, start, log volume, PID 1 under load"
echo
echo "Machine: $(nproc) cores, $(uname -r), $(date -u +%Y-%m-%d). Binary: $(stat -c %s "$em") bytes ($em)."
echo "Command: \`tests/bench/recorder_bench.sh ${em#"$PWD/"} ${parts[*]}\`. Load average at start: $(cut -d' ' -f1-3 /proc/loadavg)."
echo
exec /usr/bin/python3 tests/bench/recorder_bench.py "$em" "${parts[@]}"
