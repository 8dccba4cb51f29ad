#!/bin/sh
# SPDX-License-Identifier: MIT
# format.sh check|fix — clang-format over every first-party C++ file.
set -eu
mode=${1:-check}
cd "$(dirname "$0")/.."
files=$(git ls-files 'agent/*.cpp' 'agent/*.hpp' 'tests/*.cpp' 'tests/*.hpp' 2>/dev/null || true)
[ -n "$files" ] || { echo "format: no files"; exit 0; }
if [ "$mode" = fix ]; then
    # shellcheck disable=SC2086
    clang-format -i $files
else
    # shellcheck disable=SC2086
    clang-format --dry-run -Werror $files
    echo "format: $(echo "$files" | wc -l) files clean"
fi
