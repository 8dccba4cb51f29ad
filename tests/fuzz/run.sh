#!/bin/sh
# SPDX-License-Identifier: MIT
# run.sh [SECONDS] — the short fuzz run of the test suite (tests/run.sh calls it): builds every
# libFuzzer target with clang (ASan+UBSan, AGENT_FUZZ=ON) into build/fuzz and runs each for
# SECONDS (default: $EXECMARK_FUZZ_SECONDS, else 20) from a copy of its seed corpus
# tests/fuzz/corpus/<name> (new inputs stay in build/fuzz/corpus, out of the tree). Fails on the
# first crash, sanitizer report, leak or per-input timeout; the reproducer is kept in
# build/fuzz/artifacts/. A longer run: docs/auditing.md, "Fuzzing the readers".
set -eu
cd "$(dirname "$0")/../.."
secs=${1:-${EXECMARK_FUZZ_SECONDS:-20}}
out=build/fuzz

CC=clang CXX=clang++ cmake -S . -B "$out" -G Ninja -DAGENT_FUZZ=ON -DAGENT_TESTS=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
# Only the fuzz targets (and the libraries they link), not the whole agent.
targets=""
for src in tests/fuzz/fuzz_*.cpp; do
    name=${src##*/}
    targets="$targets ${name%.cpp}"
done
# shellcheck disable=SC2086 # one word per target
cmake --build "$out" -j"$(nproc)" --target $targets

mkdir -p "$out/artifacts"
found=0
for bin in "$out"/tests/fuzz/fuzz_*; do
    [ -x "$bin" ] || continue
    found=$((found + 1))
    name=${bin##*/fuzz_}
    work=$out/corpus/$name
    mkdir -p "$work"
    if [ -d "tests/fuzz/corpus/$name" ]; then
        cp tests/fuzz/corpus/"$name"/* "$work"/
    fi
    log=$out/$name.log
    if ! "$bin" -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$out/artifacts/$name-" -print_final_stats=1 "$work" >"$log" 2>&1; then
        tail -n 60 "$log"
        echo "fuzz: $name FAILED (reproducer in $out/artifacts/, log $log)" >&2
        exit 1
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    echo "fuzz: $name ok, ${runs:-?} inputs in ${secs} s, corpus $(find "$work" -type f | wc -l) files"
done
if [ "$found" -eq 0 ]; then
    echo "fuzz: no fuzz targets were built in $out/tests/fuzz" >&2
    exit 1
fi
