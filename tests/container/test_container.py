# SPDX-License-Identifier: MIT
"""The images users build from docker/Dockerfile and examples/images/Dockerfile.debian, run
by a real container engine (podman, under whichever OCI runtime conftest found to work).

Contracts:
- both images build as README says, and `execmark --version` in them is this tree's;
- in the application image execmark is PID 1 and the application its child, the boot marker
  is the first line of the container log (`podman logs`), orphans reparented to PID 1 are
  reaped (no zombies);
- `podman kill -s HUP` reaches the application; `podman stop -t N` with a `--grace` below N
  ends the container with the application's status and the `shutdown` marker in the log; an
  application that ignores SIGTERM is SIGKILLed when the grace period ends, well before
  podman's own SIGKILL at N;
- `podman run -it` on a terminal: Ctrl-C reaches the application, and an interactive bash has
  job control (Ctrl-Z, jobs, fg, Ctrl-C);
- `execmark doctor` inside the running container reports PID 1, the agent, the hooks, `script`
  and `cat`, and `ENV` as ok, and names what is wrong in a container without them.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pexpect
import pytest

from conftest import MARKER

GRACE_ENV = "EXECMARK_GRACE"
# The application of most tests: bash handling signals between short sleeps (bash runs a trap
# only once its foreground command returned).
LOOP = "while :; do sleep 0.1; done"


def marker_payload(line: str) -> dict:
    """The JSON payload of a marker line (signature checked elsewhere: `execmark verify`)."""
    start = line.index(MARKER) + len(MARKER)
    end = line.rindex(" ed25519=")
    return json.loads(line[start:end])


def proc_children(host_pid: int) -> list[tuple[int, str, str]]:
    """(pid, comm, state) of every child of HOST_PID, read from the host's /proc."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        head, _, rest = raw.rpartition(")")
        fields = rest.split()
        if int(fields[1]) == host_pid:
            out.append((int(entry), head.split("(", 1)[1], fields[0]))
    return out


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


# ---------------------------------------------------------------------------------------------
# Images


def test_images_carry_this_trees_execmark(podman, images):
    """`execmark --version` in the execmark image and in the application image (built from it
    with COPY --from) is the version this tree builds."""
    r = podman.run(["run", "--rm", images.execmark, "--version"])
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == images.version_line
    r = podman.run(["run", "--rm", "--entrypoint", "/usr/local/bin/execmark", images.app,
                    "--version"])
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == images.version_line
    # The execmark image holds the binary and the reviewed hook copies, nothing else to run.
    r = podman.run(["image", "inspect", "--format", "{{json .Config.Entrypoint}}",
                    images.execmark])
    assert json.loads(r.stdout) == ["/execmark"]


# ---------------------------------------------------------------------------------------------
# PID 1


def test_pid1_boot_marker_first_and_orphans_reaped(podman, images):
    """execmark is PID 1, the application (the image's CMD replaced by a script) its child; the
    boot marker is the first line of `podman logs`; five orphans reparented to PID 1 are seen
    under it and, once they exit, none is left a zombie."""
    app = ("for i in 1 2 3 4 5; do sh -c 'sleep 2 &'; done; echo app-started; "
           "exec sleep 1000")
    c = podman.start(images.app, ["/bin/sh", "-c", app], stem="pid1")
    c.wait_log(r"^app-started$")
    lines = c.stdout_log()
    assert lines[0].startswith(MARKER), f"first log line is not a marker: {lines[:3]}"
    boot = marker_payload(lines[0])
    assert boot["ev"] == "boot" and boot["pid"] == 1 and boot["seq"] == 1, boot
    assert boot["ver"] == images.version_line.split()[2]

    # PID 1 makes itself non-dumpable (its memory holds the key): /proc/1/exe is readable only
    # from the host; its command line is readable inside.
    r = c.exec(["cat", "/proc/1/cmdline"])
    assert r.stdout.split("\0")[:3] == ["/usr/local/bin/execmark", "init", "--"], r.stdout
    pid1 = c.host_pid()
    assert os.readlink(f"/proc/{pid1}/exe").endswith("/usr/local/bin/execmark")
    assert Path(f"/proc/{pid1}/status").read_text().count("NSpid:") == 1
    nspid = next(line for line in Path(f"/proc/{pid1}/status").read_text().splitlines()
                 if line.startswith("NSpid:")).split()
    assert nspid[-1] == "1", nspid
    # The orphans: the five `sleep 2` whose shells exited are now PID 1's children.
    orphans = wait_for(lambda: [p for p, comm, _ in proc_children(pid1) if comm == "sleep"
                                and len(proc_children(pid1)) >= 6] or None,
                       10, "the orphaned sleeps under PID 1")
    assert len([p for p, comm, _ in proc_children(pid1) if comm == "sleep"]) >= 6, orphans

    def settled():
        kids = proc_children(pid1)
        return kids if len(kids) == 1 else None

    kids = wait_for(settled, 15, "the orphans to exit and be reaped")
    assert kids[0][1] == "sleep" and kids[0][2] != "Z", kids
    zombies = [k for k in proc_children(pid1) if k[2] == "Z"]
    assert not zombies


def test_hup_reaches_the_application(podman, images):
    """`podman kill -s HUP` is forwarded by PID 1 to the application, which keeps running."""
    app = f"trap 'echo app-got-HUP' HUP; echo ready; {LOOP}"
    c = podman.start(images.app, ["/bin/bash", "-c", app], stem="hup")
    c.wait_log(r"^ready$")
    r = podman.run(["kill", "-s", "HUP", c.name])
    assert r.returncode == 0, r.stderr
    c.wait_log(r"^app-got-HUP$", 10)
    time.sleep(0.3)
    assert c.running()


def test_stop_ends_with_the_applications_status_and_shutdown_marker(podman, images):
    """`podman stop -t 20` with EXECMARK_GRACE=5: SIGTERM reaches the application, which exits
    42 at once; the container exits 42, long before either limit, and the last line of the
    container log is the `shutdown` marker with rc 42."""
    app = f"trap 'echo app-got-TERM; exit 42' TERM; echo ready; {LOOP}"
    c = podman.start(images.app, ["/bin/bash", "-c", app], stem="stop",
                     options=["-e", f"{GRACE_ENV}=5"])
    c.wait_log(r"^ready$")
    started = time.monotonic()
    r = podman.run(["stop", "-t", "20", c.name], timeout=60)
    elapsed = time.monotonic() - started
    assert r.returncode == 0, r.stderr
    assert elapsed < 4, f"podman stop took {elapsed:.1f} s"
    assert c.exit_code() == 42
    lines = c.stdout_log()
    assert "app-got-TERM" in lines
    last = marker_payload(lines[-1])
    assert last["ev"] == "shutdown" and last["rc"] == 42, lines[-3:]


def test_term_ignored_is_killed_at_the_grace_period(podman, images):
    """An application that ignores SIGTERM: `podman stop -t 30` with EXECMARK_GRACE=2 ends at
    about 2 s — PID 1 SIGKILLs it when its grace period ends, writes the shutdown marker (rc
    137) and exits 137 — not at podman's 30 s, when podman's SIGKILL would leave no marker."""
    app = f"trap '' TERM; echo ready; {LOOP}"
    c = podman.start(images.app, ["/bin/bash", "-c", app], stem="grace",
                     options=["-e", f"{GRACE_ENV}=2"])
    c.wait_log(r"^ready$")
    started = time.monotonic()
    r = podman.run(["stop", "-t", "30", c.name], timeout=90)
    elapsed = time.monotonic() - started
    assert r.returncode == 0, r.stderr
    assert 1.9 <= elapsed < 12, f"podman stop took {elapsed:.1f} s (grace 2 s, podman 30 s)"
    assert c.exit_code() == 137
    last = marker_payload(c.stdout_log()[-1])
    assert last["ev"] == "shutdown" and last["rc"] == 137, last


# ---------------------------------------------------------------------------------------------
# Terminal: podman run -it

PROMPT = "EXM$ "


@pytest.fixture
def tty(podman):
    """`podman run -it --rm --name NAME IMAGE ARGS` on a pty of the test (pexpect)."""
    spawned = []

    def spawn(image, args, stem):
        name = podman.name(stem)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TERM": "dumb", "LC_ALL": "C"}
        if "CONTAINERS_CONF" in os.environ:
            env["CONTAINERS_CONF"] = os.environ["CONTAINERS_CONF"]
        child = pexpect.spawn("podman", ["run", "-it", "--rm", "--name", name,
                                         "-e", f"PS1={PROMPT}", "-e", "TERM=dumb", image, *args],
                              env=env, timeout=30, encoding="utf-8", codec_errors="replace",
                              dimensions=(24, 200))
        spawned.append(child)
        return child, name

    yield spawn
    for child in spawned:
        child.close(force=True)


def container_descendant(podman, name: str, comm: str, timeout: float = 15) -> int:
    """Host pid of a process named COMM below the PID 1 of container NAME."""
    def find():
        r = podman.run(["inspect", "--format", "{{.State.Pid}}", name], timeout=30)
        if r.returncode != 0 or not r.stdout.strip().isdigit() or r.stdout.strip() == "0":
            return None
        todo, seen = [int(r.stdout.strip())], []
        while todo:
            for pid, c, state in proc_children(todo.pop()):
                if c == comm and state != "Z":
                    return pid
                todo.append(pid)
                seen.append(pid)
        return None

    return wait_for(find, timeout, f"{comm} in container {name}")


def stat_state(pid: int) -> tuple[str, int, int]:
    """(state, pgrp, tpgid) of host PID."""
    f = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return f[0], int(f[2]), int(f[5])


def test_ctrl_c_reaches_the_application(tty, podman, images):
    """`podman run -it app sleep 100`: Ctrl-C goes to sleep (the terminal's foreground process
    group inside the container), PID 1 exits with 130, and so does podman."""
    child, name = tty(images.app, ["sleep", "100"], "ctrlc")
    sleep = container_descendant(podman, name, "sleep")
    wait_for(lambda: stat_state(sleep)[1] == stat_state(sleep)[2], 10,
             "sleep in the terminal's foreground")
    child.sendcontrol("c")
    child.expect(pexpect.EOF, timeout=20)
    child.close()
    assert child.exitstatus == 130, (child.exitstatus, child.signalstatus, child.before)


def test_interactive_bash_has_job_control(tty, podman, images):
    """`podman run -it app bash --norc -i`: no "no job control" complaint; Ctrl-Z stops a
    foreground `sleep 100`, `jobs` lists it, `fg` resumes it, Ctrl-C ends it; `exit 7` ends the
    container with status 7."""
    child, name = tty(images.app, ["bash", "--norc", "-i"], "jobs")
    child.expect_exact(PROMPT)
    assert "no job control" not in child.before, child.before
    assert "cannot set terminal process group" not in child.before, child.before
    child.sendline("sleep 100")
    sleep = container_descendant(podman, name, "sleep")
    wait_for(lambda: stat_state(sleep)[1] == stat_state(sleep)[2], 10,
             "sleep in the terminal's foreground")
    child.sendcontrol("z")
    child.expect(r"Stopped\s+sleep 100")
    child.expect_exact(PROMPT)
    assert stat_state(sleep)[0] == "T"
    child.sendline("jobs")
    child.expect(r"\[1\]\+\s+Stopped\s+sleep 100")
    child.expect_exact(PROMPT)
    child.sendline("fg")
    child.expect("sleep 100")
    wait_for(lambda: stat_state(sleep)[0] != "T" and stat_state(sleep)[1] == stat_state(sleep)[2],
             10, "sleep resumed in the foreground")
    child.sendcontrol("c")
    child.expect_exact(PROMPT)
    wait_for(lambda: not Path(f"/proc/{sleep}").exists(), 10, "sleep to end at Ctrl-C")
    child.sendline("exit 7")
    child.expect(pexpect.EOF, timeout=20)
    child.close()
    assert child.exitstatus == 7, (child.exitstatus, child.before)


# ---------------------------------------------------------------------------------------------
# execmark doctor


def doctor(container) -> tuple[int, dict]:
    r = container.exec(["/usr/local/bin/execmark", "doctor", "--json"])
    assert r.stdout.strip(), f"doctor printed nothing (exit {r.returncode}): {r.stderr}"
    checks = json.loads(r.stdout)
    by_name = {c["check"]: c for c in checks["checks"]}
    return r.returncode, by_name


def test_doctor_in_the_running_container(podman, images):
    """In the application image as built (its CMD, the idle application, running as PID 1's
    child), `execmark doctor` passes: pid1, agent, hooks, env and tools ok; metadata and claim
    only warn (not on ECS here)."""
    c = podman.start(images.app, stem="doctor")
    pid1 = c.host_pid()
    wait_for(lambda: [k for k in proc_children(pid1) if k[1] == "sh"], 10,
             "the image's CMD (sh) under PID 1")
    rc, checks = doctor(c)
    for name in ("pid1", "agent", "hooks", "env", "tools", "ptrace"):
        assert checks[name]["status"] == "ok", checks[name]
    assert "while :; do sleep 3600; done" in checks["pid1"]["detail"], checks["pid1"]
    assert images.version_line.split()[2] in checks["agent"]["detail"], checks["agent"]
    for name in ("metadata", "claim"):
        assert checks[name]["status"] in ("ok", "warn"), checks[name]
    assert rc == 0, checks


def test_doctor_names_what_is_missing(podman, images):
    """A container of the same image started past execmark (another entry point), without ENV,
    with the hooks removed and with CAP_SYS_PTRACE added: doctor exits 1 with pid1, agent, env
    and hooks failing and ptrace warning."""
    c = podman.start(images.app, ["-c", "rm -rf /etc/execmark; exec sleep 1000"],
                     stem="doctor-bad",
                     options=["--entrypoint", "/bin/sh", "-e", "ENV=", "--cap-add", "SYS_PTRACE"])
    wait_for(lambda: c.exec(["test", "-e", "/etc/execmark"]).returncode == 1, 10,
             "the hooks removed")
    rc, checks = doctor(c)
    assert rc == 1
    for name in ("pid1", "agent", "env", "hooks"):
        assert checks[name]["status"] == "fail", checks[name]
    assert checks["tools"]["status"] == "ok", checks["tools"]
    assert checks["ptrace"]["status"] == "warn", checks["ptrace"]
