#!/bin/sh
# SPDX-License-Identifier: MIT
# base-image.sh [--force] — make the Debian 12 base image the Dockerfiles start from, without a
# registry: `debootstrap --variant=minbase bookworm` from Debian's mirror, apt sources and apt
# settings as in Docker Hub's debian image, imported with `podman import` and tagged with every
# name our Dockerfiles and docs use (docker.io/library/debian:12, :12-slim, :bookworm,
# :bookworm-slim), so `FROM debian:12` resolves locally and podman never asks a registry.
#
# Cached: when the image exists and carries this recipe's version label, nothing is done (a
# second or so). --force rebuilds. Mirror: $EXECMARK_DEBIAN_MIRROR (default
# http://deb.debian.org/debian). Needs root, debootstrap and podman (docker/install-deps.sh
# container). Prints the image id on the last line.
set -eu

# Bump when the recipe below changes: a cached image with another value is rebuilt.
recipe=1
names="docker.io/library/debian:12 docker.io/library/debian:12-slim \
docker.io/library/debian:bookworm docker.io/library/debian:bookworm-slim"
primary=docker.io/library/debian:12
mirror=${EXECMARK_DEBIAN_MIRROR:-http://deb.debian.org/debian}

force=0
case ${1:-} in
    --force) force=1 ;;
    "") ;;
    *) echo "usage: base-image.sh [--force]" >&2; exit 2 ;;
esac

for tool in podman debootstrap; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "base-image: $tool is not installed (docker/install-deps.sh container)" >&2
        exit 1
    }
done
[ "$(id -u)" = 0 ] || { echo "base-image: run as root (debootstrap)" >&2; exit 1; }

tag_all() {
    for n in $names; do
        podman tag "$1" "$n"
    done
}

if [ "$force" = 0 ] && podman image exists "$primary"; then
    have=$(podman image inspect --format '{{index .Config.Labels "org.execmark.base-recipe"}}' \
        "$primary" 2>/dev/null || true)
    if [ "$have" = "$recipe" ]; then
        id=$(podman image inspect --format '{{.Id}}' "$primary")
        tag_all "$id"
        echo "base-image: cached $primary (recipe $recipe)"
        echo "$id"
        exit 0
    fi
    echo "base-image: $primary exists but is not from this recipe (label '$have'); rebuilding"
fi

work=$(mktemp -d /var/tmp/execmark-base.XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/root
echo "base-image: debootstrap --variant=minbase bookworm from $mirror"
if ! debootstrap --variant=minbase bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1; then
    tail -n 30 "$work/debootstrap.log" >&2
    echo "base-image: debootstrap failed (log above)" >&2
    exit 1
fi

# As in Docker Hub's debian:12: deb822 sources with updates and security, no sources.list, no
# package lists or caches in the image, apt settings that keep images small.
rm -f "$root/etc/apt/sources.list"
cat >"$root/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
printf 'Acquire::GzipIndexes "true";\n' >"$root/etc/apt/apt.conf.d/docker-gzip-indexes"
printf 'APT::AutoRemove::SuggestsImportant "false";\n' \
    >"$root/etc/apt/apt.conf.d/docker-autoremove-suggests"
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin \
    "$root"/var/cache/apt/archives/*.deb "$root"/var/log/* "$root"/tmp/*
# The image gets its hostname and resolver from the engine.
: >"$root/etc/hostname"
: >"$root/etc/resolv.conf"

echo "base-image: podman import"
id=$(tar --numeric-owner -C "$root" -c . |
    podman import --change 'CMD ["bash"]' \
        --change "LABEL org.execmark.base-recipe=$recipe" - "$primary")
tag_all "$id"
echo "base-image: tagged $names"
echo "$id"
