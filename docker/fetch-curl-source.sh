#!/bin/sh
# SPDX-License-Identifier: MIT
# fetch-curl-source.sh DEST — unpack Debian's curl source package (patches applied) into DEST
# and write the source directory's path to DEST/.done. Needs deb-src entries (install-deps.sh).
set -eu
dest=${1:?usage: fetch-curl-source.sh DEST}
mkdir -p "$dest"
cd "$dest"
if ! ls -d curl-*/ >/dev/null 2>&1; then
    # Works as root or not; apt warns when the _apt user cannot write here, harmlessly.
    apt-get source -q curl >apt-source.log 2>&1 || {
        echo "fetch-curl-source: 'apt-get source curl' failed; see $dest/apt-source.log" >&2
        echo "fetch-curl-source: run docker/install-deps.sh first (it adds deb-src entries)" >&2
        exit 1
    }
fi
src=$(ls -d "$dest"/curl-*/ | head -n 1)
printf '%s\n' "${src%/}" >"$dest/.done"
echo "fetch-curl-source: ${src%/}"
