#!/bin/sh
# SPDX-License-Identifier: MIT
# build-static.sh [--check] — build the fully static, stripped execmark with the release-static
# preset (the one recipe shared by CI, the demo and docker/Dockerfile), then optionally check it:
# statically linked, and runs `--version` and supervises a program in an empty root.
# Prints the binary's path on the last line.
set -eu
cd "$(dirname "$0")/.."
check=0
[ "${1:-}" = "--check" ] && check=1

cmake --preset release-static >/dev/null
cmake --build --preset release-static -j"$(nproc)"
bin=$PWD/build/release-static/agent/execmark

if [ "$check" = 1 ]; then
    desc=$(file -b "$bin")
    case $desc in
        *"statically linked"* | *"static-pie linked"*) ;;
        *) echo "build-static: not a static binary: $desc" >&2; exit 1 ;;
    esac
    size=$(stat -c %s "$bin")
    echo "build-static: $desc"
    echo "build-static: size $size bytes"
    if [ "$size" -gt 2097152 ]; then
        echo "build-static: warning: larger than the 2 MiB target" >&2
    fi
    # An empty root: only the binary, as in a scratch or distroless image.
    root=$(mktemp -d)
    trap 'rm -rf "$root"' EXIT
    cp "$bin" "$root/execmark"
    if [ "$(id -u)" = 0 ]; then
        chroot "$root" /execmark --version
        # Supervise a program (the binary itself is the only one there) as real PID 1.
        unshare --pid --fork --root="$root" /execmark init -- /execmark --version
        set +e
        unshare --pid --fork --root="$root" /execmark init -- /execmark init -- /missing 2>/dev/null
        rc=$?
        set -e
        [ "$rc" = 127 ] || { echo "build-static: expected 127 in empty root, got $rc" >&2; exit 1; }
        echo "build-static: runs in an empty root (chroot and PID namespace): ok"
    else
        echo "build-static: not root; empty-root check skipped" >&2
    fi
fi
echo "$bin"
