# SPDX-License-Identifier: MIT
"""Shell hooks, installed with `execmark hook install`, in real shells; and `execmark doctor`.

Contract (shell-hooks/execmark.sh, shell-hooks/execmark.zsh, docs/image-builders.md): in an
image prepared by `hook install`, bash (/etc/bash.bashrc), zsh (/etc/zsh/zshrc) and dash,
busybox ash and mksh (ENV) started interactively the way ECS Exec starts them — argv as given,
not a login shell, on a pty — print the session banner ending in exactly one `open` marker, and
one `close` marker with the exit status when they end; never for a non-interactive shell, never
again in a nested shell, never without the binary; the user's $?, PS1, shell options and an
earlier EXIT trap survive. No PID 1 agent runs here, so the markers are the unsigned=no-agent
ones (the signed path through PID 1 is test_attribution.py's). `hook print` gives the installed
texts; install is idempotent; doctor names what is missing and passes once it is in place.
"""
import json
import os
import shutil
import subprocess

import pytest

from shells import BIN, ENV_SHELLS, PROMPT, SHELLS, Image, Shell, missing_shells, overlay_works

pytestmark = [
    pytest.mark.skipif(not BIN, reason="EXECMARK_BIN not set"),
    pytest.mark.skipif(os.geteuid() != 0, reason="mount namespaces and overlays need root"),
    pytest.mark.skipif(bool(missing_shells()),
                       reason=f"shells not installed: {', '.join(missing_shells())}"),
]

ALL = list(SHELLS)


@pytest.fixture(scope="module", autouse=True)
def overlay_available(tmp_path_factory):
    if not overlay_works(str(tmp_path_factory.mktemp("probe"))):
        pytest.skip("cannot overlay a directory on /etc in a mount namespace here")


@pytest.fixture()
def image(tmp_path):
    return Image(tmp_path)


@pytest.fixture()
def started():
    """Shells started by a test; any still running at the end are killed."""
    shells = []
    yield shells
    for s in shells:
        s.kill()


def start(image, started, shell, env_extra=None, argv=None):
    s = Shell(image, argv or SHELLS[shell], image.env(shell, env_extra))
    started.append(s)
    return s


def assert_marker_is_whole(m, ev):
    assert m["ev"] == ev
    assert m.unsigned == "no-agent"
    assert m["mode"] == "hook"


@pytest.mark.parametrize("shell", ALL)
def test_interactive_shell_opens_one_session_and_closes_it_on_exit(image, started, shell):
    """The banner ends in one open marker before the first prompt; `exit 3` closes with rc 3."""
    image.install()
    s = start(image, started, shell)
    s.expect_prompt()
    (opened,) = s.markers()
    assert_marker_is_whole(opened, "open")
    assert opened["user"] == "alice@example.com"
    assert "execmark | " in s.output()
    assert s.finish("exit 3") == 3
    opened_again, closed = s.markers()
    assert opened_again.fields == opened.fields
    assert_marker_is_whole(closed, "close")
    assert closed["rc"] == 3
    assert closed["sid"] == opened["sid"]


@pytest.mark.parametrize("shell,argv", [("dash", None), ("ash", None), ("mksh", None),
                                        ("bash-posix", ["/usr/bin/bash", "--posix"])])
def test_posix_shells_read_the_hook_from_ENV(image, started, shell, argv):
    """With the Dockerfile's ENV=/etc/execmark/hook.sh, and nothing else, the hook runs.

    bash --posix stands for Amazon Linux's /bin/sh (bash as sh reads only ENV).
    """
    image.install()
    s = start(image, started, shell, {"ENV": "/etc/execmark/hook.sh"}, argv=argv)
    s.expect_marker("open")
    s.run(f"PS1='{PROMPT}'")
    assert len(s.markers("open")) == 1
    assert s.finish("exit 4") == 4
    (closed,) = s.markers("close")
    assert closed["rc"] == 4


@pytest.mark.parametrize("shell", ALL)
def test_nested_shell_opens_no_second_session(image, started, shell):
    """A shell started inside a session sees EXECMARK_ACTIVE: no banner, no close of its own."""
    image.install()
    s = start(image, started, shell)
    s.expect_prompt()
    active = s.values('echo "STATE active=$EXECMARK_ACTIVE"', "STATE")
    assert active == {"active": "1"}
    s.run(" ".join(SHELLS[shell]))
    s.run("exit 0")
    assert len(s.markers("open")) == 1
    assert s.markers("close") == []
    assert s.finish("exit") == 0
    assert len(s.markers("open")) == 1
    assert len(s.markers("close")) == 1


@pytest.mark.parametrize("shell", ALL)
def test_non_interactive_shells_run_no_hook(image, started, shell):
    """`SHELL -c`, on a pty as `--command "bash -c ..."` would be, and `SHELL script`: no marker."""
    image.install()
    argv = SHELLS[shell]
    c = start(image, started, shell, argv=[*argv, "-c", "echo command-ran"])
    assert c.wait() == 0
    assert "command-ran" in c.output()
    assert "EXECMARK1" not in c.output()

    image.write("/etc/script.sh", "echo script-ran\n")
    r = image.run([*argv, "/etc/script.sh"], image.env(shell))
    assert r.returncode == 0, r.stderr
    assert r.stdout == "script-ran\n"
    assert "EXECMARK1" not in r.stderr


@pytest.mark.parametrize("shell", ["dash", "ash", "mksh", "bash"])
def test_sourcing_the_hook_in_a_script_defines_nothing(image, shell):
    """The POSIX hook, sourced by a non-interactive shell, defines and prints nothing."""
    image.install()
    hook = "/etc/execmark/hook.sh"
    script = (f"false; . {hook}; echo rc=$?; "
              "command -v _execmark_hook >/dev/null && echo defined; "
              'echo "active=${EXECMARK_ACTIVE-unset}"')
    r = image.run([*SHELLS[shell], "-c", script], image.env(shell))
    assert r.returncode == 0, r.stderr
    assert r.stdout == "rc=0\nactive=unset\n"
    assert r.stderr == ""


def user_config(image, shell, lines, hooked):
    """Puts the user's start-up lines where the shell reads them, then the hook (if hooked)."""
    if shell == "bash":
        image.write("/etc/bash.bashrc", '[ -z "$PS1" ] && return\n' + lines)
    elif shell == "zsh":
        image.write("/etc/zsh/zshrc", lines)
    else:
        image.write("/etc/shinit", lines + (". /etc/execmark/hook.sh\n" if hooked else ""))
    if hooked:
        image.install()


def state_after_start(image, started, shell, lines, hooked):
    user_config(image, shell, lines, hooked)
    s = start(image, started, shell)
    s.expect_prompt()
    state = s.values('echo "STATE rc=$? opts=$- ps1=${PS1%> } leak=${_execmark_hook_status-none}"',
                     "STATE")
    s.finish("exit 0")
    assert len(s.markers("open")) == len(s.markers("close")) == (1 if hooked else 0)
    return state


@pytest.mark.parametrize("shell", ALL)
def test_users_status_prompt_and_options_survive(image, started, shell):
    """$? from before the hook, PS1 and `set -u` are what they are without the hook."""
    nounset = "setopt nounset" if shell == "zsh" else "set -u"
    lines = f"PS1='PROMPT> '\n{nounset}\nfalse\n"
    without = state_after_start(image, started, shell, lines, hooked=False)
    assert without["rc"] == "1" and "u" in without["opts"] and without["ps1"] == "PROMPT"
    assert state_after_start(image, started, shell, lines, hooked=True) == without


@pytest.mark.parametrize("shell", ALL)
def test_set_e_shell_still_starts_with_its_options(image, started, shell):
    """Under `set -e` (ERR_EXIT) the hook neither fails nor ends the shell nor changes options.

    (mksh itself drops errexit after the ENV file; the comparison is with the shell alone.)
    """
    errexit = "setopt errexit" if shell == "zsh" else "set -e"
    lines = f"PS1='PROMPT> '\n{errexit}\n"
    without = state_after_start(image, started, shell, lines, hooked=False)
    assert state_after_start(image, started, shell, lines, hooked=True) == without


@pytest.mark.parametrize("shell", ["bash", "ash"])
def test_an_earlier_exit_trap_still_runs_after_close(image, started, shell):
    """bash and busybox ash show the hook an EXIT trap set before it: both run, status kept."""
    trap = "trap 'echo USER-TRAP rc=$?' EXIT\n"
    if shell == "bash":
        image.write("/etc/bash.bashrc", '[ -z "$PS1" ] && return\nPS1=\'PROMPT> \'\n' + trap)
    else:
        image.write("/etc/shinit", "PS1='PROMPT> '\n" + trap + ". /etc/execmark/hook.sh\n")
    image.install()
    s = start(image, started, shell)
    s.expect_prompt()
    assert s.finish("exit 5") == 5
    (closed,) = s.markers("close")
    assert closed["rc"] == 5
    out = s.output()
    assert "USER-TRAP rc=5" in out
    assert out.index("USER-TRAP rc=5") > out.index('"ev":"close"')


def test_zsh_users_exit_trap_and_zshexit_do_not_replace_the_close(image, started):
    """zsh closes from zshexit_functions: a user's `trap ... EXIT` and zshexit both still run."""
    image.install()
    s = start(image, started, "zsh")
    s.expect_prompt()
    s.run("trap 'echo USER-TRAP' EXIT; zshexit() { echo USER-ZSHEXIT }")
    assert s.finish("exit 6") == 6
    (closed,) = s.markers("close")
    assert closed["rc"] == 6
    assert "USER-TRAP" in s.output()
    assert "USER-ZSHEXIT" in s.output()


@pytest.mark.parametrize("shell", ALL)
def test_end_of_input_closes_with_the_shell_status(image, started, shell):
    """Ctrl-D at the prompt ends the session like `exit`: one close marker, the same status."""
    image.install()
    s = start(image, started, shell)
    s.expect_prompt()
    s.run("true")
    status = s.finish(eof=True)
    (closed,) = s.markers("close")
    assert closed["rc"] == status == 0


@pytest.mark.parametrize("shell", ALL)
def test_without_the_binary_the_hook_does_nothing(image, started, shell):
    """No execmark at the installed path, none on PATH: no output, no guard, status kept. On a
    terminal the hook tries the recorder first; with nothing to exec, its recording function is
    gone again (the hook leaves _execmark_hook alone)."""
    image.install(bin_path="/nonexistent/execmark")
    s = start(image, started, shell)
    s.expect_prompt()
    # The name split in quotes: the echoed command line must not contain "execmark" (below).
    state = s.values('echo "STATE active=${EXECMARK_ACTIVE-unset} '
                     'record=$(command -v _exec""mark_record || echo none)"', "STATE")
    assert state == {"active": "unset", "record": "none"}
    assert s.finish("exit 2") == 2
    assert "EXECMARK1" not in s.output()
    assert "execmark" not in s.output().replace("EXECMARK_ACTIVE", "")


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_EXECMARK_BIN_PATH_overrides_the_installed_path(image, started, shell):
    """EXECMARK_BIN_PATH names the binary when the image keeps it elsewhere."""
    image.install(bin_path="/nonexistent/execmark")
    s = start(image, started, shell, {"EXECMARK_BIN_PATH": BIN})
    s.expect_prompt()
    assert len(s.markers("open")) == 1
    assert s.finish("exit") == 0
    assert len(s.markers("close")) == 1


SIM_SID = "ecs-execute-command-0f1e2d3c4b5a69788"


@pytest.mark.parametrize("shell", ALL)
def test_signed_session_under_pid1_and_the_ssm_agent(image, tmp_path, shell):
    """The whole path: execmark init as PID 1 of a task with the image's /etc, the SSM agent
    stand-in starting the shell as ECS Exec does (ssm-session-worker SID, new pty), the hook
    asking PID 1: open and close are signed with the boot key, carry the worker's session id
    and the exit status, and are in the transcript the agent makes for upload."""
    from pid1 import markers_in
    from ssm_agent import Task, missing

    if missing():
        pytest.skip(f"SSM agent stand-in: {missing()}")
    image.install()
    env = image.env(shell, {"ENV": "/etc/execmark/hook.sh" if shell in ENV_SHELLS else None,
                            "EXECMARK_SOCKET": None})
    task = Task(tmp_path, container_env=env, etc_overlay=image.path("/etc"))
    try:
        r = task.run_session(SIM_SID, " ".join(SHELLS[shell]), input=b"exit 3\n")
    finally:
        task.stop()
    assert r.returncode == 3, (r.stderr, task.agent_log())
    for text in (r.stdout, open(task.transcript_path(SIM_SID), "rb").read()):
        opened, closed = [m for m in markers_in(text) if m["ev"] in ("open", "close")]
        assert (opened["ev"], closed["ev"]) == ("open", "close")
        for m in (opened, closed):
            assert m.verify(task.public_key), m.payload
            assert m["sid"] == SIM_SID
            assert m["user"] == "alice@example.com"
            assert m["mode"] == "hook"
        assert closed["rc"] == 3
        assert closed["seq"] == opened["seq"] + 1


def test_hook_print_gives_the_installed_texts(image):
    """`hook print SHELL` is what install writes; unknown shells are a usage error."""
    image.install(bin_path="/usr/local/bin/execmark")
    posix = image.read("/etc/execmark/hook.sh")
    zsh = image.read("/etc/execmark/hook.zsh")
    for name in ("bash", "sh", "dash", "ash", "mksh", "zsh"):
        r = subprocess.run([BIN, "hook", "print", name], capture_output=True, text=True,
                           timeout=30)
        assert r.returncode == 0, r.stderr
        assert r.stdout == (zsh if name == "zsh" else posix)
    r = subprocess.run([BIN, "hook", "print", "fish"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 2
    assert "fish" in r.stderr


def test_install_twice_is_byte_identical_and_keeps_user_lines(image):
    """The second install changes no byte; user lines stay; the ENV reminder is printed."""
    first = image.install()
    assert "ENV ENV=/etc/execmark/hook.sh" in first.stdout
    snapshot = {p: image.read(p, binary=True)
                for p in ("/etc/bash.bashrc", "/etc/zsh/zshrc", "/etc/execmark/hook.sh",
                          "/etc/execmark/hook.zsh")}
    assert snapshot["/etc/bash.bashrc"].startswith(BASE_BASHRC_BYTES)
    second = image.install()
    actions = [line.split()[0] for line in second.stdout.splitlines()
               if line.startswith("  ") and line.split()[0] in
               ("written", "created", "appended", "updated", "unchanged")]
    assert actions == ["unchanged"] * 4, second.stdout
    assert {p: image.read(p, binary=True) for p in snapshot} == snapshot


BASE_BASHRC_BYTES = b'# System-wide .bashrc of the test image'


def doctor(image, env, *args):
    r = subprocess.run([BIN, "doctor", "--json", "--root", image.root, *args], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode in (0, 1), r.stderr
    doc = json.loads(r.stdout)
    return r.returncode, {c["check"]: c for c in doc["checks"]}


def test_doctor_names_what_is_missing_and_passes_once_installed(image):
    """Before: hooks, ENV, script/cat fail (exit 1) with fixes; after: those checks are ok."""
    env = {"PATH": "/usr/bin:/bin", "EXECMARK_SOCKET": image.no_agent}
    code, checks = doctor(image, env)
    assert code == 1
    for name in ("hooks", "env", "tools"):
        assert checks[name]["status"] == "fail", checks[name]
        assert checks[name]["fix"]
    assert "hook" in checks["hooks"]["fix"] and "install" in checks["hooks"]["fix"]
    assert checks["env"]["fix"] == "ENV ENV=/etc/execmark/hook.sh in the Dockerfile"
    assert checks["agent"]["status"] == "fail"
    assert checks["claim"]["status"] == "warn"

    image.install()
    for tool in ("script", "cat"):
        shutil.copy2(shutil.which(tool), image.path(f"/usr/bin/{tool}"))
    env.update({"ENV": "/etc/execmark/hook.sh", "AWS_USER": "alice"})
    code, checks = doctor(image, env)
    for name in ("hooks", "env", "tools", "claim"):
        assert checks[name]["status"] == "ok", checks[name]
    assert "/etc/bash.bashrc ok" in checks["hooks"]["detail"]


def test_doctor_passes_under_execmark_init(image, tmp_path):
    """With execmark init as PID 1 and its agent answering, nothing required is missing."""
    from pid1 import Pid1

    image.install()
    for tool in ("script", "cat"):
        shutil.copy2(shutil.which(tool), image.path(f"/usr/bin/{tool}"))
    p = Pid1(tmp_path)
    try:
        env = {"PATH": "/usr/bin:/bin", "EXECMARK_SOCKET": p.socket,
               "ENV": "/etc/execmark/hook.sh", "AWS_USER": "alice"}
        r = p.inside([BIN, "doctor", "--json", "--root", image.root], env=env, text=True)
    finally:
        p.stop()
    assert r.returncode == 0, r.stdout + r.stderr
    status = {c["check"]: c["status"] for c in json.loads(r.stdout)["checks"]}
    # Root here keeps CAP_SYS_PTRACE in its bounding set: doctor warns (the key is in reach).
    assert status == {"pid1": "ok", "agent": "ok", "hooks": "ok", "env": "ok", "tools": "ok",
                      "metadata": "warn", "claim": "ok", "ptrace": "warn"}, r.stdout


def test_doctor_ptrace_check_follows_the_bounding_set(image):
    """Without CAP_SYS_PTRACE in the bounding set (Fargate's default) the ptrace check is ok."""
    env = {"PATH": "/usr/bin:/bin", "EXECMARK_SOCKET": image.no_agent}
    r = subprocess.run(["setpriv", "--inh-caps=-sys_ptrace", "--bounding-set=-sys_ptrace",
                        BIN, "doctor", "--json", "--root", image.root], env=env,
                       capture_output=True, text=True, timeout=60)
    checks = {c["check"]: c for c in json.loads(r.stdout)["checks"]}
    assert checks["ptrace"]["status"] == "ok", checks["ptrace"]
    code, with_cap = doctor(image, env)
    assert with_cap["ptrace"]["status"] == "warn" and with_cap["ptrace"]["fix"]
