#!/bin/sh
# SPDX-License-Identifier: MIT
# install-deps.sh [build|test|container|all|arm64|arm64-check] — install the Debian 12 packages
# execmark needs (build: the build; test: + what the tests and the demo run; container: + podman
# and what the container tier and its base image need; all: test + container + clang for
# fuzzing; arm64: build + the aarch64 cross build; arm64-check: + its qemu smoke test), and the
# deb-src entries that let the static build fetch Debian's curl source. Idempotent; quick when
# everything is there. Used by README's commands, .ci/run and docker/Dockerfile.
set -eu
what=${1:-all}

build_pkgs="ca-certificates git cmake ninja-build g++ make pkg-config dpkg-dev file
libboost-program-options-dev libspdlog-dev libfmt-dev nlohmann-json3-dev libcurl4-openssl-dev
libsodium-dev zlib1g-dev catch2 clang-format ccache"
test_pkgs="python3 python3-pytest python3-pexpect bash dash busybox zsh mksh tini dumb-init less vim-tiny
strace util-linux libcap2-bin procps bsdutils hyperfine gzip coreutils
python3-cryptography gcc shellcheck"
# The short fuzz run of the test suite (tests/fuzz/run.sh): clang with libFuzzer.
fuzz_pkgs="clang libclang-rt-14-dev"
# The container tier (tests/container/): podman with both OCI runtimes (crun is podman's
# default; runc where crun cannot run, e.g. on hosts with hybrid cgroups), CNI networking for
# the image builds' RUN steps, catatonit (podman's --init, a benchmark peer), debootstrap for
# the base image made without a registry (tests/container/base-image.sh), uidmap.
container_pkgs="podman crun runc conmon catatonit debootstrap uidmap containernetworking-plugins
iptables slirp4netns fuse-overlayfs"
# The aarch64 cross build (docker/build-static-arm64.sh): Debian's cross compiler and the
# target's static libraries from Debian's arm64 archive (multiarch, beside the amd64 -dev
# packages). spdlog and fmt are used header-only in the static build and nlohmann-json is
# architecture-independent, so the build set's headers serve both architectures.
arm64_pkgs="g++-aarch64-linux-gnu libboost-program-options-dev:arm64 libsodium-dev:arm64
zlib1g-dev:arm64"
# Its smoke test under qemu (tests/integration/test_arm64.py).
arm64_check_pkgs="qemu-user-static file util-linux python3 python3-pytest python3-cryptography"

case $what in
    build) pkgs=$build_pkgs ;;
    test) pkgs="$build_pkgs $test_pkgs" ;;
    container) pkgs="$build_pkgs $test_pkgs $container_pkgs" ;;
    all) pkgs="$build_pkgs $test_pkgs $container_pkgs $fuzz_pkgs" ;;
    arm64) pkgs="$build_pkgs $arm64_pkgs" ;;
    arm64-check) pkgs="$build_pkgs $arm64_pkgs $arm64_check_pkgs" ;;
    *) echo "usage: install-deps.sh [build|test|container|all|arm64|arm64-check]" >&2; exit 2 ;;
esac

sudo=""
if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "install-deps: run as root (or install sudo)" >&2; exit 1; }
    sudo=sudo
fi

src_list=/etc/apt/sources.list.d/execmark-deb-src.sources
need_update=0
if ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ && ! grep -qs '^deb-src' /etc/apt/sources.list; then
    # shellcheck source=/dev/null
    . /etc/os-release
    $sudo tee "$src_list" >/dev/null <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: ${VERSION_CODENAME} ${VERSION_CODENAME}-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: ${VERSION_CODENAME}-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    need_update=1
fi

# The Terraform examples are parsed by HashiCorp's HCL parser from npm (tests/integration/
# test_examples.py): Debian's npm, unless node and npm are already there (e.g. NodeSource's
# nodejs, which bundles npm and conflicts with Debian's npm package).
if [ "$what" != build ] && ! command -v npm >/dev/null 2>&1; then
    pkgs="$pkgs npm"
fi

case $what in
    arm64*)
        if ! dpkg --print-foreign-architectures | grep -qx arm64; then
            echo "install-deps: dpkg --add-architecture arm64"
            $sudo dpkg --add-architecture arm64
            need_update=1
        fi
        if ! ls /var/lib/apt/lists/*_binary-arm64_Packages* >/dev/null 2>&1; then
            need_update=1
        fi
        ;;
esac

missing=""
for p in $pkgs; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $p"
    fi
done
# Source indexes are needed for `apt-get source curl`.
if ! ls /var/lib/apt/lists/*_source_Sources* >/dev/null 2>&1; then
    need_update=1
fi

if [ -n "$missing" ] || [ "$need_update" = 1 ]; then
    echo "install-deps: apt-get update"
    $sudo apt-get update -q
fi
if [ -n "$missing" ]; then
    echo "install-deps: installing$missing"
    # shellcheck disable=SC2086
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
fi
echo "install-deps: ok ($what)"
