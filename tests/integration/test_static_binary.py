# SPDX-License-Identifier: MIT
"""The shipped binary is fully static and needs nothing from the image.

Contract: the release-static build of execmark is a statically linked ELF that runs
`--version` and supervises a program as PID 1 inside an empty root (a directory holding only
the binary), the way it runs in scratch, distroless or Alpine images. Its size stays under a
3 MiB regression guard. The design target is 2 MiB, which the binary misses today (about 2.9 MB:
Boost.Program_options pulls in libstdc++'s locale and iostream machinery; see
docs/benchmarks.md "Binary size"), so the guard catches growth without pretending the target is
met. Runs only against the static build (EXECMARK_BIN from the release-static preset); the dev
and asan builds are dynamic by design.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

import pytest

from elf_segments import assert_only_code_executable

BIN = os.environ.get("EXECMARK_BIN", "")
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SIZE_GUARD = 3 * 1024 * 1024


def file_description(path):
    return subprocess.run(["file", "-b", path], capture_output=True, text=True,
                          check=True, timeout=30).stdout


def is_static(path):
    desc = file_description(path)
    return "statically linked" in desc or "static-pie linked" in desc


pytestmark = [
    pytest.mark.skipif(not BIN or not os.path.exists(BIN), reason="EXECMARK_BIN not set"),
    pytest.mark.skipif(bool(BIN) and os.path.exists(BIN) and not is_static(BIN),
                       reason="dynamic build under test; the static checks run in the "
                              "release-static build"),
]

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="chroot/unshare need root")


@pytest.fixture()
def empty_root():
    root = tempfile.mkdtemp(prefix="execmark-root-")
    shutil.copy2(BIN, os.path.join(root, "execmark"))
    assert sorted(os.listdir(root)) == ["execmark"]
    yield root
    shutil.rmtree(root)


def test_file_says_static_and_stripped():
    desc = file_description(BIN)
    assert "statically linked" in desc or "static-pie linked" in desc, desc
    assert "stripped" in desc and "not stripped" not in desc, desc


def test_size_within_regression_guard():
    size = os.path.getsize(BIN)
    assert size <= SIZE_GUARD, f"{size} bytes > {SIZE_GUARD}"


def test_the_code_pid1_runs_sits_together():
    """The input sections recorded as run by PID 1 and the client exist in the link and sit in
    one block of .text (the section order), so that PID 1 maps few 64 KiB windows of the binary
    (docs/benchmarks.md "The code PID 1 and the client run, first and together")."""
    map_path = BIN + ".map"
    if not os.path.exists(map_path):
        pytest.skip(f"no linker map next to {BIN}")
    sys.path.insert(0, os.path.join(ROOT, "tests", "bench"))
    from hot_sections import recorded_names, text_sections
    text = {}
    for addr, size, name in text_sections(map_path):
        text.setdefault(name, []).append((addr, size))
    names = recorded_names()
    assert len(names) > 500, "the recorded list is missing from cmake/section-order.txt"
    found = [n for n in names if n in text]
    # Renamed or removed code drops out of the list; regenerate it before much of it has.
    assert len(found) >= 0.95 * len(names), \
        f"only {len(found)} of {len(names)} recorded sections are in the link: " \
        "run tests/bench/hot_sections.py --write"
    hot = sorted(span for n in found for span in text[n])
    lo, hi = hot[0][0], hot[-1][0] + hot[-1][1]
    hot_bytes = sum(size for _, size in hot)
    others = sum(size for spans in text.values() for addr, size in spans
                 if lo <= addr < hi) - hot_bytes
    assert others <= 0.02 * hot_bytes, \
        f"{others} bytes of other code between the recorded sections ({hot_bytes} bytes)"


def test_constant_tables_are_not_in_writable_data():
    """execmark's constant tables (k_*) are in read-only memory, not in .data. GCC 12 puts a
    constexpr std::array whose type is deduced from its initialiser (`constexpr std::array k{...}`)
    into writable .data; spelled with its element type (std::to_array<T>, a C array) it is
    read-only. In .data such tables cost PID 1 resident memory (docs/benchmarks.md "PID 1's
    anonymous memory") and are writable for no reason."""
    map_path = BIN + ".map"
    if not os.path.exists(map_path):
        pytest.skip(f"no linker map next to {BIN}")
    sys.path.insert(0, os.path.join(ROOT, "tests", "bench"))
    from size_breakdown import map_entries
    table = re.compile(r"^\.data\S*\._Z\S*8execmark\S*?\d+k_[a-z0-9_]+(E|$|\.)")
    output, found = None, []
    for kind, name, _, size, _ in map_entries(map_path):
        if kind == "output":
            output = name
        elif output == ".data" and name and size and table.match(name):
            found.append(f"{name} ({size} bytes)")
    assert not found, "constant tables in writable .data (spell the element type):\n" + \
        "\n".join(found)


def test_only_code_is_executable():
    # gold puts read-only data into the code segment unless told otherwise (--rosegment).
    assert_only_code_executable(BIN)


@needs_root
def test_version_in_empty_root(empty_root):
    out = subprocess.run(["chroot", empty_root, "/execmark", "--version"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("execmark version ")


@needs_root
def test_supervises_as_pid1_in_empty_root(empty_root):
    # The only program in the root is execmark itself: PID 1 runs it as its child.
    out = subprocess.run(["unshare", "--pid", "--fork", f"--root={empty_root}",
                          "/execmark", "init", "--", "/execmark", "init", "--version"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    # PID 1 signs in a scratch root too. The child starts at once, not after the boot marker
    # (the log writer is a thread), so the child's line may come before or after it; the
    # shutdown marker is written after the child ended, so it is last.
    lines = out.stdout.splitlines()
    assert sorted(line.split(" ")[0] for line in lines) == ["EXECMARK1", "EXECMARK1", "tini"], \
        out.stdout
    assert [line for line in lines if line.startswith("tini version ")], out.stdout
    assert [line for line in lines if line.startswith('EXECMARK1 {"v":1,"ev":"boot"')], out.stdout
    assert lines[-1].startswith('EXECMARK1 {"v":1,"ev":"shutdown"'), out.stdout


@needs_root
def test_exit_codes_in_empty_root(empty_root):
    missing = subprocess.run(["unshare", "--pid", "--fork", f"--root={empty_root}",
                              "/execmark", "init", "--", "/no/such/program"],
                             capture_output=True, text=True, timeout=30)
    assert missing.returncode == 127
    assert "No such file or directory" in missing.stderr
    usage = subprocess.run(["unshare", "--pid", "--fork", f"--root={empty_root}",
                            "/execmark", "init", "--", "/execmark", "init"],
                           capture_output=True, text=True, timeout=30)
    assert usage.returncode == 1
