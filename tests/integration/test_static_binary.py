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
import shutil
import subprocess
import tempfile

import pytest

from elf_segments import assert_only_code_executable

BIN = os.environ.get("EXECMARK_BIN", "")
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
