#!/bin/sh
# SPDX-License-Identifier: MIT
# podman-config.sh DIR [IMAGE] — find out what podman needs to run a container on this machine,
# by trying: `podman run --rm --network none IMAGE true` (IMAGE: docker.io/library/debian:12,
# made by base-image.sh) first with the machine's own configuration, then with a
# containers.conf written to DIR that changes one thing after another:
#   runtime         crun, runc (podman's default is crun; crun refuses hosts with hybrid
#                   cgroups, v1 controllers beside a v2 mount)
#   cgroup_manager  cgroupfs (when systemd is not PID 1 of the machine, podman's systemd
#                   manager cannot create scopes)
#   default_ulimits empty (podman raises RLIMIT_NOFILE/NPROC above the host's hard limit, which
#                   fails where the engine lacks CAP_SYS_RESOURCE, e.g. inside another container)
#
# stdout: one line, the containers.conf to export as CONTAINERS_CONF, or nothing when the
# machine's own configuration works. stderr: each attempt, and what was chosen (the test tier
# prints it). Exit 0 when a configuration works; 3 when none does, with every attempt's error
# on stderr (the tier then skips with that reason); 2 on usage errors.
# Note: a containers.conf named by CONTAINERS_CONF replaces /etc/containers/containers.conf.
set -u
dir=${1:?usage: podman-config.sh DIR [IMAGE]}
image=${2:-docker.io/library/debian:12}

say() { printf 'podman-config: %s\n' "$*" >&2; }

command -v podman >/dev/null 2>&1 || {
    say "podman is not installed (docker/install-deps.sh container)"
    exit 3
}
podman image exists "$image" 2>/dev/null || {
    say "image $image is missing (tests/container/base-image.sh makes it)"
    exit 3
}
mkdir -p "$dir" || exit 2
conf=$dir/containers.conf
errors=$dir/podman-config.errors
: >"$errors"

# try LABEL [CONF]: run the probe container, with CONTAINERS_CONF=CONF when given.
try() {
    label=$1
    if [ -n "${2:-}" ]; then
        out=$(CONTAINERS_CONF=$2 timeout 120 podman run --rm --network none "$image" true 2>&1)
    else
        out=$(env -u CONTAINERS_CONF timeout 120 podman run --rm --network none "$image" true 2>&1)
    fi
    rc=$?
    if [ "$rc" = 0 ]; then
        say "works: $label"
        return 0
    fi
    first=$(printf '%s\n' "$out" | grep -m1 . | cut -c1-300)
    say "fails: $label (exit $rc: $first)"
    printf '%s: exit %s: %s\n' "$label" "$rc" "$first" >>"$errors"
    return 1
}

if try "the machine's own configuration"; then
    exit 0
fi

runtimes=""
for r in crun runc; do
    command -v "$r" >/dev/null 2>&1 && runtimes="$runtimes $r"
done
[ -n "$runtimes" ] || {
    say "no OCI runtime (crun or runc) is installed"
    exit 3
}

for ulimits in keep empty; do
    for cgm in default cgroupfs; do
        for r in $runtimes; do
            {
                if [ "$ulimits" = empty ]; then
                    printf '[containers]\ndefault_ulimits = []\n'
                fi
                printf '[engine]\nruntime = "%s"\n' "$r"
                if [ "$cgm" = cgroupfs ]; then
                    printf 'cgroup_manager = "cgroupfs"\n'
                fi
            } >"$conf.try"
            label="runtime $r, cgroup manager $cgm, default_ulimits $ulimits"
            if try "$label" "$conf.try"; then
                mv "$conf.try" "$conf"
                say "chosen: $label ($conf)"
                printf '%s\n' "$conf"
                exit 0
            fi
        done
    done
done
rm -f "$conf.try"
say "podman cannot run a container here; every attempt failed (above)"
exit 3
