# SPDX-License-Identifier: MIT
"""The container tier: the images built from our Dockerfiles, run by podman.

Session set-up, once per pytest session (printed to the terminal as it goes):
1. the Debian base image without a registry (`base-image.sh`: debootstrap + podman import,
   cached in podman's storage between runs);
2. what podman needs on this machine (`podman-config.sh`: the machine's own configuration
   first, then runc / cgroupfs / empty default_ulimits in a containers.conf that is exported as
   CONTAINERS_CONF for every podman command of the session);
3. the execmark image from docker/Dockerfile and the Debian application image from
   examples/images/Dockerfile.debian, built as README and the Dockerfile's comment tell users
   (`podman build -f docker/Dockerfile -t execmark .` at the repository root, then `podman build
   -f Dockerfile.debian -t app:debian .` in examples/images). In a linked git worktree the
   build context's `.git` is a pointer file that means nothing inside the build, so the tree's
   version is passed as the documented VERSION build argument (and said so).

When podman cannot run here (not installed, not root, no OCI runtime that starts a container,
no Debian mirror for the base image) every test is skipped with that reason; with
EXECMARK_REQUIRE_CONTAINER=1 (CI on machines that must run the tier) it fails instead.

Fixtures:
- `podman`: a Podman helper (run commands, detached containers removed after the test).
- `images`: the built images' names and the tree's version line.
- `image_execmark`: the static binary copied out of the execmark image (for host-side checks).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
EXECMARK_IMAGE = "execmark"  # README: docker build -f docker/Dockerfile -t execmark .
APP_IMAGE = "app:debian"  # examples/images/Dockerfile.debian: -t app:debian
MARKER = "EXECMARK1 "


_config = None
_said: list[str] = []


def say(text: str) -> None:
    """A line on the terminal at once (pytest captures the test's own output) and again in the
    summary at the end: what the tier found and chose, how long the builds took."""
    line = f"container tier: {text}"
    _said.append(line)
    reporter = _config.pluginmanager.getplugin("terminalreporter") if _config else None
    if reporter is not None:
        reporter.write_line(line)
    else:
        sys.stderr.write(line + "\n")


def pytest_configure(config):
    global _config
    _config = config
    config.addinivalue_line("markers", "container: runs the images under podman "
                                       "(tests/container; skipped with the reason without podman)")


def pytest_terminal_summary(terminalreporter):
    if _said:
        terminalreporter.section("container tier")
        for line in _said:
            terminalreporter.write_line(line)


def pytest_collection_modifyitems(items):
    for item in items:
        item.add_marker(pytest.mark.container)


# ---------------------------------------------------------------------------------------------
# Set-up: base image, podman configuration, images


class Unavailable(Exception):
    """Podman cannot run containers here; the message is the reason."""


def _run(argv, *, timeout: float, cwd=None, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd, env=env)


def tree_version() -> tuple[str, str]:
    """(version, short sha) of the working tree, computed as cmake/Version.cmake does."""
    base = re.search(r'EXECMARK_BASE_VERSION "([^"]+)"',
                     (REPO / "cmake" / "Version.cmake").read_text()).group(1)
    describe = _run(["git", "describe", "--tags", "--always", "--dirty"], cwd=REPO, timeout=30)
    sha = _run(["git", "rev-parse", "--short=7", "HEAD"], cwd=REPO, timeout=30)
    if describe.returncode != 0 or sha.returncode != 0:
        return base, "unknown"
    d = describe.stdout.strip()
    version = re.sub(r"^v", "", d) if re.match(r"^v?[0-9]+\.[0-9]+", d) else f"{base}+g{d}"
    return version, sha.stdout.strip()


def _set_up(tmp: Path) -> dict:
    if shutil.which("podman") is None:
        raise Unavailable("podman is not installed (docker/install-deps.sh container)")
    if os.geteuid() != 0:
        raise Unavailable("the container tier runs rootful podman and debootstrap: run as root")
    started = time.monotonic()
    r = _run([HERE / "base-image.sh"], timeout=1800)
    if r.returncode != 0:
        raise Unavailable(f"no base image (tests/container/base-image.sh exit {r.returncode}): "
                          f"{(r.stderr or r.stdout).strip()[-1500:]}")
    say(r.stdout.strip().splitlines()[0] + f" ({time.monotonic() - started:.0f} s)")

    r = _run([HERE / "podman-config.sh", tmp / "podman"], timeout=1200)
    for line in r.stderr.strip().splitlines():
        say(line)
    if r.returncode != 0:
        raise Unavailable("podman cannot start a container here: "
                          + (tmp / "podman" / "podman-config.errors").read_text().strip()
                          if (tmp / "podman" / "podman-config.errors").exists()
                          else r.stderr.strip()[-1500:])
    conf = r.stdout.strip()
    if conf:
        os.environ["CONTAINERS_CONF"] = conf
        say(f"CONTAINERS_CONF={conf}: {' '.join(Path(conf).read_text().split())}")
    else:
        os.environ.pop("CONTAINERS_CONF", None)
        say("podman runs with this machine's own configuration")
    return {"conf": conf}


@pytest.fixture(scope="session")
def container_env(tmp_path_factory):
    try:
        return _set_up(tmp_path_factory.mktemp("container"))
    except Unavailable as e:
        if os.environ.get("EXECMARK_REQUIRE_CONTAINER") == "1":
            pytest.fail(f"EXECMARK_REQUIRE_CONTAINER=1 but: {e}", pytrace=False)
        say(f"SKIPPED: {e}")
        pytest.skip(f"container tier: {e}")


@dataclass(frozen=True)
class Images:
    execmark: str
    app: str
    version_line: str  # what `execmark --version` of this tree prints
    build_seconds: float


def _build(argv, cwd: Path, what: str) -> None:
    started = time.monotonic()
    r = _run(["podman", "build"] + argv, cwd=cwd, timeout=3600)
    if r.returncode != 0:
        pytest.fail(f"building {what} failed (exit {r.returncode}):\n"
                    f"podman build {' '.join(argv)}\n{(r.stdout + r.stderr)[-6000:]}",
                    pytrace=False)
    say(f"built {what} in {time.monotonic() - started:.0f} s: podman build {' '.join(argv)}")


@pytest.fixture(scope="session")
def images(container_env) -> Images:
    started = time.monotonic()
    version, sha = tree_version()
    args = ["-f", "docker/Dockerfile", "-t", EXECMARK_IMAGE]
    if (REPO / ".git").is_file():
        # A linked worktree: its .git names a directory outside the build context.
        args += ["--build-arg", f"VERSION={version}"]
        say(f"linked git worktree: passing the tree's version as VERSION={version}")
        sha = "unknown"
    _build(args + ["."], REPO, f"{EXECMARK_IMAGE} from docker/Dockerfile")
    _build(["-f", "Dockerfile.debian", "-t", APP_IMAGE, "."], REPO / "examples" / "images",
           f"{APP_IMAGE} from examples/images/Dockerfile.debian")
    return Images(EXECMARK_IMAGE, APP_IMAGE, f"execmark version {version} - git.{sha}",
                  time.monotonic() - started)


@pytest.fixture(scope="session")
def image_execmark(images, tmp_path_factory) -> str:
    """The static binary of the execmark image, copied out (`podman create` + `podman cp`)."""
    out = tmp_path_factory.mktemp("image-bin") / "execmark"
    name = f"execmark-test-cp-{uuid.uuid4().hex[:8]}"
    r = _run(["podman", "create", "--name", name, images.execmark], timeout=60)
    assert r.returncode == 0, r.stderr
    try:
        r = _run(["podman", "cp", f"{name}:/execmark", out], timeout=60)
        assert r.returncode == 0, r.stderr
    finally:
        _run(["podman", "rm", "-f", name], timeout=60)
    return str(out)


# ---------------------------------------------------------------------------------------------
# Running containers


@dataclass
class Container:
    name: str
    podman: "Podman"

    def logs(self) -> list[str]:
        """`podman logs`: the container log (PID 1's stdout and stderr), line by line."""
        r = self.podman.run(["logs", self.name], timeout=30)
        assert r.returncode == 0, r.stderr
        return (r.stdout + r.stderr).splitlines() if r.stderr.strip() else r.stdout.splitlines()

    def stdout_log(self) -> list[str]:
        """Only PID 1's stdout stream of the container log (what awslogs ships as the stream)."""
        r = self.podman.run(["logs", self.name], timeout=30)
        assert r.returncode == 0, r.stderr
        return r.stdout.splitlines()

    def wait_log(self, pattern: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            for line in self.stdout_log():
                if re.search(pattern, line):
                    return line
            if time.monotonic() > deadline:
                raise AssertionError(f"no line matching {pattern!r} in the log of {self.name}:\n"
                                     + "\n".join(self.logs()[-40:]))
            time.sleep(0.1)

    def inspect(self, fmt: str) -> str:
        r = self.podman.run(["inspect", "--format", fmt, self.name], timeout=30)
        assert r.returncode == 0, r.stderr
        return r.stdout.strip()

    def host_pid(self) -> int:
        """Host pid of the container's PID 1."""
        return int(self.inspect("{{.State.Pid}}"))

    def running(self) -> bool:
        return self.inspect("{{.State.Running}}") == "true"

    def exit_code(self) -> int:
        return int(self.inspect("{{.State.ExitCode}}"))

    def exec(self, argv, *, timeout: float = 60, user_env: dict | None = None):
        env_args = [a for k, v in (user_env or {}).items() for a in ("-e", f"{k}={v}")]
        return self.podman.run(["exec"] + env_args + [self.name] + list(argv), timeout=timeout)


class Podman:
    def __init__(self):
        self._names: list[str] = []

    def run(self, argv, *, timeout: float = 120, input: str | None = None):
        return subprocess.run(["podman"] + [str(a) for a in argv], capture_output=True,
                              text=True, timeout=timeout, input=input)

    def name(self, stem: str) -> str:
        """A fresh container name, removed at the end of the test."""
        n = f"execmark-test-{stem}-{uuid.uuid4().hex[:8]}"
        self._names.append(n)
        return n

    def start(self, image: str, cmd=(), *, stem: str = "c", options=()) -> Container:
        """`podman run -d` IMAGE CMD; the container runs until the test stops it."""
        name = self.name(stem)
        r = self.run(["run", "-d", "--name", name, *options, image, *cmd], timeout=120)
        assert r.returncode == 0, f"podman run failed:\n{r.stderr}"
        return Container(name, self)

    def cleanup(self) -> None:
        for n in self._names:
            self.run(["rm", "-f", "-t", "0", n], timeout=120)


@pytest.fixture
def podman(container_env):
    p = Podman()
    yield p
    p.cleanup()
