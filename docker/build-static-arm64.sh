#!/bin/sh
# SPDX-License-Identifier: MIT
# build-static-arm64.sh [--check] — cross-build the fully static, stripped aarch64 execmark
# (Fargate on Graviton) on a Debian 12 amd64 machine with the release-static-arm64 preset: the
# release-static recipe (same flags, same HTTP-only libcurl from Debian's curl source) with
# cmake/toolchain-aarch64.cmake. Installs what it needs first (idempotent). With --check,
# smoke-tests the binary under qemu-aarch64-static (tests/integration/test_arm64.py: version,
# supervising a program as PID 1, exit statuses, SIGTERM, empty root, markers signed by the
# aarch64 PID 1 verified with python3-cryptography and by its own `verify`).
# Prints the time of each step, the binary's size, and its path on the last line.
set -eu
cd "$(dirname "$0")/.."
check=0
case ${1:-} in
    --check) check=1 ;;
    "") ;;
    *) echo "usage: build-static-arm64.sh [--check]" >&2; exit 2 ;;
esac

now() { date +%s; }
t_start=$(now)

# The cross compiler, the arm64 static libraries and (with --check) qemu: install-deps.sh's
# arm64 sets, which also enable the arm64 architecture in dpkg.
if [ "$check" = 1 ]; then
    ./docker/install-deps.sh arm64-check
else
    ./docker/install-deps.sh arm64
fi
t_deps=$(now)

cmake --preset release-static-arm64 >/dev/null
cmake --build --preset release-static-arm64 -j"$(nproc)"
bin=$PWD/build/release-static-arm64/agent/execmark
t_build=$(now)

desc=$(file -b "$bin")
size=$(stat -c %s "$bin")
echo "build-static-arm64: $desc"
echo "build-static-arm64: size $size bytes"
case $desc in
    *"ARM aarch64"*) ;;
    *) echo "build-static-arm64: not an aarch64 binary: $desc" >&2; exit 1 ;;
esac
case $desc in
    *"statically linked"* | *"static-pie linked"*) ;;
    *) echo "build-static-arm64: not a static binary: $desc" >&2; exit 1 ;;
esac
if [ "$size" -gt 2097152 ]; then
    echo "build-static-arm64: warning: larger than the 2 MiB target" >&2
fi

status=0
if [ "$check" = 1 ]; then
    EXECMARK_ARM64_BIN=$bin /usr/bin/python3 -m pytest -v -p no:cacheprovider -rs \
        tests/integration/test_arm64.py || status=$?
fi
t_check=$(now)

echo "build-static-arm64: packages $((t_deps - t_start)) s, build $((t_build - t_deps)) s," \
    "checks $((t_check - t_build)) s"
if [ "$status" != 0 ]; then
    echo "build-static-arm64: smoke tests FAILED" >&2
    exit "$status"
fi
echo "$bin"
