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

# Debian's cross compiler, the target's static libraries from Debian's arm64 archive (multiarch;
# they install beside the amd64 -dev packages), qemu-user for the smoke test. spdlog and fmt are
# used header-only in the static build and nlohmann-json is architecture-independent, so the
# headers install-deps.sh installs serve both architectures.
arm64_pkgs="g++-aarch64-linux-gnu libboost-program-options-dev:arm64 libsodium-dev:arm64
zlib1g-dev:arm64"
check_pkgs="qemu-user-static file util-linux python3 python3-pytest python3-cryptography"

now() { date +%s; }
t_start=$(now)

./docker/install-deps.sh build
sudo=""
if [ "$(id -u)" != 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "build-static-arm64: run as root (or install sudo)" >&2
        exit 1
    fi
    sudo=sudo
fi
need_update=0
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    echo "build-static-arm64: dpkg --add-architecture arm64"
    $sudo dpkg --add-architecture arm64
    need_update=1
fi
if ! ls /var/lib/apt/lists/*_binary-arm64_Packages* >/dev/null 2>&1; then
    need_update=1
fi
pkgs=$arm64_pkgs
[ "$check" = 1 ] && pkgs="$pkgs $check_pkgs"
missing=""
for p in $pkgs; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $p"
    fi
done
if [ -n "$missing" ] || [ "$need_update" = 1 ]; then
    echo "build-static-arm64: apt-get update"
    $sudo apt-get update -q
fi
if [ -n "$missing" ]; then
    echo "build-static-arm64: installing$missing"
    # shellcheck disable=SC2086
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
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
