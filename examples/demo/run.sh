#!/bin/bash
# SPDX-License-Identifier: MIT
# The end-to-end demo (README's first command). On a fresh Debian 12 machine, as root: installs
# the packages, builds the static execmark, then plays (1) a container's life with execmark as
# PID 1 — reaping, signal forwarding, graceful shutdown — and (2) an ECS Exec story: a task with
# a local metadata endpoint, sessions through the hook and in wrapper mode, a bypass attempt,
# transcripts made as the SSM agent makes them, CloudTrail events, and `execmark audit`.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
note() { printf '   %s\n' "$*"; }

if [ "$(id -u)" != 0 ]; then
    echo "demo: run as root (it creates PID namespaces, as a container runtime does)" >&2
    exit 1
fi

say "Setting up: Debian packages and the static execmark binary"
./docker/install-deps.sh test | tail -n 1
bin=$(./docker/build-static.sh --check | tail -n 1)
note "binary: $bin ($(stat -c %s "$bin") bytes, $(file -b "$bin" | cut -d, -f1,5 | tr -s ' '))"

work=$(mktemp -d /tmp/execmark-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp examples/demo/app.sh "$work/app.sh"

say "1. A container starts: execmark init is PID 1 of a new PID namespace"
note "unshare --pid --fork --mount-proc execmark init --grace 3 -- /app.sh"
unshare --pid --fork --mount-proc "$bin" init --socket "$work/agent.sock" --grace 3 -- \
    /bin/sh "$work/app.sh" "$work" \
    >"$work/container.log" 2>&1 &
unshare_pid=$!
for _ in $(seq 100); do
    grep -q 'app: ready' "$work/container.log" 2>/dev/null && break
    sleep 0.1
done
init_pid=$(awk '{print $1}' "/proc/$unshare_pid/task/$unshare_pid/children")
note "PID 1 of the container is host pid $init_pid"
in_container() { nsenter --target "$init_pid" --pid --mount "$@"; }
in_container ps -eo pid,ppid,pgid,stat,args | sed 's/^/   | /'

say "2. Zombie reaping: the app left 200 orphans that exited; PID 1 reaped them all"
sleep 0.5
zombies=$(in_container ps -eo stat= | grep -c '^Z' || true)
note "zombies in the container now: $zombies"

say "3. Signal forwarding: SIGHUP to PID 1 reaches the app (which reloads)"
kill -HUP "$init_pid"
sleep 0.5
grep 'app: got SIGHUP' "$work/container.log" | sed 's/^/   | /'

say "4. Graceful shutdown: SIGTERM to PID 1 (what 'docker stop' / ECS StopTask send)"
note "the app traps TERM and exits after 1 s; its detached worker (re-parented to PID 1)"
note "gets TERM when the app is gone and flushes; a stuck helper ignoring TERM is SIGKILLed"
note "when the 3 s grace period ends. PID 1 exits with the app's status."
start=$(date +%s%N)
kill -TERM "$init_pid"
set +e
wait "$unshare_pid"
rc=$?
set -e
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
sed 's/^/   | /' "$work/container.log"
note "container exited with status $rc after ${elapsed} ms"

say "What you saw (part 1: PID 1)"
note "- execmark ran as PID 1 and started the app at once, in its own process group."
note "- Orphans were reaped as they exited: $zombies zombies."
note "- Signals sent to PID 1 were forwarded to the app."
note "- On SIGTERM everyone got a chance to finish within the grace period; what ignored TERM"
note "  was killed at the end of it; the exit status is the app's own ($rc)."

say "Part 2: an ECS Exec story — signed sessions, a bypass, and the audit report"
sim=$repo/build/release-static/tests/sim
mkdir -p "$work/story"
/usr/bin/python3 examples/demo/story.py --bin "$bin" --agent-dir "$sim/agent" \
    --client "$sim/ssm-session-client" --work "$work/story"
