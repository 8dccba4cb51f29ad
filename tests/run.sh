#!/bin/sh
# SPDX-License-Identifier: MIT
# run.sh — the whole test suite, from a clean clone on Debian 12 (run as root: the PID 1 tests
# use PID namespaces). Installs the Debian packages it needs, checks formatting, then builds and
# runs every unit and integration test under three builds:
#   dev             Debug, -Werror
#   asan            Debug with AddressSanitizer + UndefinedBehaviorSanitizer
#   release-static  the shipped static binary (integration tests + empty-root checks)
# and then a short libFuzzer run of every fuzz target (tests/fuzz/run.sh, clang).
# EXECMARK_PRESETS="dev asan release-static" selects builds; EXECMARK_FUZZ_SECONDS=0 skips the
# fuzz run (default 20 s per target).
set -eu
cd "$(dirname "$0")/.."
presets=${EXECMARK_PRESETS:-dev asan release-static}

step() { printf '\n=== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }

step "dependencies"
./docker/install-deps.sh all

step "format check"
./cmake/format.sh check

status=0
for preset in $presets; do
    step "configure + build: $preset"
    cmake --preset "$preset" >/dev/null
    cmake --build --preset "$preset" -j"$(nproc)"
    step "tests: $preset"
    if ! ctest --preset "$preset" -j"$(nproc)"; then
        status=1
    fi
done

# The short fuzz run: every libFuzzer target for EXECMARK_FUZZ_SECONDS (default 20; 0 skips).
if [ "${EXECMARK_FUZZ_SECONDS:-20}" != 0 ]; then
    step "fuzz: ${EXECMARK_FUZZ_SECONDS:-20} s per target"
    if ! ./tests/fuzz/run.sh "${EXECMARK_FUZZ_SECONDS:-20}"; then
        status=1
    fi
fi

if [ "$status" = 0 ]; then
    step "all test runs passed"
else
    step "SOME TESTS FAILED"
fi
exit "$status"
