#!/bin/sh
# SPDX-License-Identifier: MIT
# A stand-in application for the demo: reloads on HUP, shuts down on TERM in 1 s, and leaves
# behind what real apps leave behind — short-lived orphans, a detached worker, a stuck helper.
work=$1
trap 'echo "app: got SIGHUP, reloading configuration"' HUP
trap 'echo "app: got SIGTERM, draining for 1 s"; sleep 1; echo "app: bye"; exit 0' TERM

# 200 orphans: each subshell forks a child and exits at once, so the child is re-parented to
# PID 1 and must be reaped there when it ends.
i=0
while [ $i -lt 200 ]; do
    (sleep 0.1 &)
    i=$((i + 1))
done

# A detached worker (double fork): PID 1 is its parent; it flushes when told to stop.
(sh -c 'trap "echo worker: got SIGTERM, flushing; sleep 0.5; echo worker: flushed; exit 0" TERM
        while :; do sleep 0.2; done' &)
# A stuck helper that ignores TERM: only the grace period's SIGKILL ends it.
(sh -c 'trap "" TERM; while :; do sleep 0.2; done' &)

echo "app: ready (pid $$)"
while :; do
    sleep 0.2 &
    wait $!
done
