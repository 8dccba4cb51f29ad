#!/bin/bash
# SPDX-License-Identifier: MIT
# container_bench.sh — container start-to-exit wall time under podman, in one run: `podman run
# --rm IMAGE true` with execmark as the entry point (attribution on, as shipped, and off),
# with podman's own `--init` (catatonit) and with no init at all, all on the same image (the
# Debian application image of examples/images, whose entry point is `execmark init --`; the
# other variants replace the entry point with /bin/true). Prints a Markdown report
# (docs/benchmarks.md quotes it). Needs root and what the container tier needs: it makes the base
# image and finds podman's configuration the same way (tests/container/), and builds the images
# as README says when they are missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${BENCH_RUNS:-20}
rounds=${BENCH_ROUNDS:-3}
image=app:debian
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for tool in hyperfine podman catatonit; do
    command -v "$tool" >/dev/null || { echo "container_bench: $tool missing (docker/install-deps.sh container)" >&2; exit 1; }
done

./tests/container/base-image.sh >/dev/null
conf=$(./tests/container/podman-config.sh "$tmp/podman" 2>"$tmp/config.log") || {
    cat "$tmp/config.log" >&2
    echo "container_bench: podman cannot run a container here" >&2
    exit 1
}
if [ -n "$conf" ]; then
    # Kept for the runs below (the temporary directory goes at exit).
    cp "$conf" "$tmp/containers.conf"
    export CONTAINERS_CONF=$tmp/containers.conf
fi
# "works: <what>" names the configuration in use (the machine's own, or the one chosen).
chosen=$(sed -n 's/^podman-config: works: //p' "$tmp/config.log" | head -n 1)
if ! podman image exists "$image"; then
    echo "container_bench: building the images as README says" >&2
    podman build -q -f docker/Dockerfile -t execmark . >/dev/null
    (cd examples/images && podman build -q -f Dockerfile.debian -t "$image" . >/dev/null)
fi
version=$(podman run --rm --entrypoint /usr/local/bin/execmark "$image" --version)

echo "## Container start to exit: execmark vs podman --init (catatonit) vs no init"
echo
echo "Machine: $(nproc) cores, $(uname -r), $(date -u +%Y-%m-%d); $(podman --version), podman configuration: ${chosen:-?}."
echo "Image: \`$image\` (examples/images/Dockerfile.debian, $version)."
echo "Command: \`tests/bench/container_bench.sh\` (BENCH_RUNS=$runs, BENCH_ROUNDS=$rounds)."
echo

for r in $(seq "$rounds"); do
    hyperfine -N --warmup 3 --runs "$runs" --export-json "$tmp/run.$r.json" \
        -n "no init" "podman run --rm --network none --entrypoint /bin/true $image" \
        -n "podman --init (catatonit)" "podman run --rm --network none --init --entrypoint /bin/true $image" \
        -n "execmark (entry point, no attribution)" "podman run --rm --network none -e EXECMARK_ATTRIBUTION=off $image true" \
        -n "execmark (entry point, as shipped)" "podman run --rm --network none $image true" \
        >/dev/null 2>&1
done

/usr/bin/python3 - "$tmp" "$rounds" <<'PY'
import json, statistics, sys
tmp, rounds = sys.argv[1], int(sys.argv[2])
per_round = [json.load(open(f"{tmp}/run.{r}.json"))["results"] for r in range(1, rounds + 1)]
names = [x["command"] for x in per_round[0]]
print("### Wall time: `podman run --rm --network none IMAGE true`\n")
print(f"{rounds} rounds; in each, every variant ran the same number of times. Median of each "
      "round, and the difference to no init's median **of the same round**.\n")
print("| PID 1 | median ms per round | minus no init, ms per round | median difference ms |")
print("|---|---|---|---|")
for name in names:
    medians, diffs = [], []
    for res in per_round:
        mine = next(x for x in res if x["command"] == name)["median"]
        base = next(x for x in res if x["command"] == "no init")["median"]
        medians.append(mine * 1000)
        diffs.append((mine - base) * 1000)
    print(f"| {name} | {' / '.join(f'{m:.0f}' for m in medians)} "
          f"| {' / '.join(f'{d:+.0f}' for d in diffs)} | {statistics.median(diffs):+.0f} |")
print()
PY
