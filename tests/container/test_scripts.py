# SPDX-License-Identifier: MIT
"""The container tier's own scripts and the benchmark scripts pass shellcheck (needs no podman)."""
import shutil
import subprocess

import pytest

from conftest import HERE, REPO

SCRIPTS = sorted(HERE.glob("*.sh")) + [REPO / "tests" / "bench" / "container_bench.sh",
                                       REPO / "tests" / "bench" / "init_bench.sh",
                                       REPO / "docker" / "install-deps.sh",
                                       REPO / "tests" / "run.sh"]


@pytest.mark.skipif(not shutil.which("shellcheck"), reason="shellcheck not installed (Debian: "
                                                           "apt-get install shellcheck)")
def test_scripts_pass_shellcheck():
    assert len(SCRIPTS) >= 6
    r = subprocess.run(["shellcheck", "-x"] + [str(p) for p in SCRIPTS], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
