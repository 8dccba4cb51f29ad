#!/bin/sh
# SPDX-License-Identifier: MIT
# run.sh — the whole test suite, from a clean clone on Debian 12 (run as root: the PID 1 tests
# use PID namespaces). Installs the Debian packages it needs, checks formatting, then builds and
# runs every unit and integration test under three builds:
#   dev             Debug, -Werror
#   asan            Debug with AddressSanitizer + UndefinedBehaviorSanitizer
#   release-static  the shipped static binary (integration tests + empty-root checks)
# then the container tier (tests/container: the images of docker/Dockerfile and
# examples/images built and run under podman; skipped, with the reason printed, where podman
# cannot run a container) and a short libFuzzer run of every fuzz target (tests/fuzz/run.sh).
# EXECMARK_PRESETS="dev asan release-static" selects builds; EXECMARK_CONTAINER=0 skips the
# container tier, EXECMARK_REQUIRE_CONTAINER=1 makes it fail instead of skipping;
# EXECMARK_FUZZ_SECONDS=0 skips the fuzz run (default 20 s per target).
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

# The container tier: builds both images (the static build runs inside the execmark image's
# build stage) and runs them under podman.
if [ "${EXECMARK_CONTAINER:-1}" != 0 ]; then
    step "container tier (podman)"
    if ! PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 -m pytest -q -p no:cacheprovider -rs -m container \
        tests/container; then
        status=1
    fi
fi

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
