#!/bin/sh
# SPDX-License-Identifier: MIT
# run.sh — the whole test suite, from a clean clone on Debian 12 (run as root: the PID 1 tests
# use PID namespaces). Installs the Debian packages it needs, checks formatting, then builds and
# runs the unit and integration tests under three builds:
#   dev             Debug, -Werror: unit tests (its integration tests are the asan build's, without
#                   the sanitizers: EXECMARK_DEV_INTEGRATION=1 runs them here too)
#   asan            Debug with AddressSanitizer + UndefinedBehaviorSanitizer: every test
#   release-static  the shipped static binary (integration tests + empty-root checks)
# then the container tier (tests/container: the images of docker/Dockerfile and
# examples/images built and run under podman; skipped, with the reason printed, where podman
# cannot run a container) and a short libFuzzer run of every fuzz target (tests/fuzz/run.sh).
# EXECMARK_PRESETS="dev asan release-static" selects builds; EXECMARK_CONTAINER=0 skips the
# container tier, EXECMARK_REQUIRE_CONTAINER=1 makes it fail instead of skipping;
# EXECMARK_FUZZ_SECONDS=0 skips the fuzz run (default 10 s per target).
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
    only=""
    if [ "$preset" = dev ] && [ "${EXECMARK_DEV_INTEGRATION:-0}" != 1 ] \
        && [ "${presets#*asan}" != "$presets" ]; then
        only="-L unit" # the integration tests run under asan next
    fi
    # shellcheck disable=SC2086 # "" or two words
    if ! ctest --preset "$preset" -j"$(nproc)" $only; then
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

# The short fuzz run: every libFuzzer target for EXECMARK_FUZZ_SECONDS (default 10; 0 skips).
if [ "${EXECMARK_FUZZ_SECONDS:-10}" != 0 ]; then
    step "fuzz: ${EXECMARK_FUZZ_SECONDS:-10} s per target"
    if ! ./tests/fuzz/run.sh "${EXECMARK_FUZZ_SECONDS:-10}"; then
        status=1
    fi
fi

if [ "$status" = 0 ]; then
    step "all test runs passed"
else
    step "SOME TESTS FAILED"
fi
exit "$status"
