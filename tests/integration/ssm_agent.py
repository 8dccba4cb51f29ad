# SPDX-License-Identifier: MIT
"""An ECS task with the SSM agent stand-in, for every test that plays an ECS Exec session.

`Task` is `execmark init` as real PID 1 of a new PID and mount namespace (pid1.Pid1) set up the
way ECS sets up a container for ECS Exec:

- the stand-in's three executables (tests/sim: amazon-ssm-agent, ssm-agent-worker,
  ssm-session-worker) are copied with their configuration into a temporary directory that is
  bind-mounted **read-only** at /managed-agents/execute-command inside the task's mount
  namespace (writes there fail with EROFS);
- the agent's data directory /var/lib/amazon/ssm is, in the task's mount namespace, a bind mount
  of a temporary directory (`ssm_root_host`), so the test reads transcripts, ipcTempFile.log and
  state files there and the host's /var/lib is untouched;
- `amazon-ssm-agent` is started from outside the namespaces with `nsenter --target <PID 1>
  --pid --mount` (parent pid 0 inside, as docker exec makes it), with the container's
  environment (`container_env`); it starts ssm-agent-worker, which starts one
  `ssm-session-worker <sid>` per session, which runs the command on a new pty;
- a session is opened with `session()` (interactive, pexpect, through ssm-session-client: the
  test's pty relayed raw, window-size changes forwarded) or `run_session()` (input given at
  once, output collected), both from outside the task, as the SSM service is;
- the container log is PID 1's stdout (and stderr) captured to `log_path`.

`attacker()`/`attacker_popen()`/`attacker_spawn()` run a program inside the task the way a
process of the container's own does it: in its namespaces, under a plain `/bin/sh`, not under
the agent. `write_channel()` writes the agent's IPC channel request for a session, which is how a
root user makes the genuine ssm-session-worker binary run a command (see ssm_session_worker.c).

Two empty directories are created on the host if missing, as mount points only:
/managed-agents/execute-command and /var/lib/amazon/ssm (nothing is ever mounted there outside
a task's own mount namespace).
"""
import io
import os
import re
import secrets
import shlex
import shutil
import subprocess
import time

import pexpect

from pid1 import BIN, Pid1, markers_in

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
_BUILD = os.environ.get("EXECMARK_BUILD_DIR") or os.path.join(REPO, "build", "dev")
# The built stand-in: the agent directory (three binaries) and the client.
AGENT_BUILD_DIR = os.environ.get("EXECMARK_SSM_AGENT_DIR") or os.path.join(_BUILD, "tests", "sim",
                                                                          "agent")
CLIENT = os.environ.get("EXECMARK_SSM_CLIENT") or os.path.join(_BUILD, "tests", "sim",
                                                              "ssm-session-client")
AGENT_BINARIES = ("amazon-ssm-agent", "ssm-agent-worker", "ssm-session-worker")

# Where ECS Exec puts things inside a (Fargate) container.
AGENT_DIR = "/managed-agents/execute-command"
SSM_ROOT = "/var/lib/amazon/ssm"
GENUINE_WORKER = AGENT_DIR + "/ssm-session-worker"


def missing():
    """Why the stand-in cannot run here, or None."""
    for name in AGENT_BINARIES:
        if not os.access(os.path.join(AGENT_BUILD_DIR, name), os.X_OK):
            return f"{AGENT_BUILD_DIR}/{name} not built (EXECMARK_SSM_AGENT_DIR)"
    if not os.access(CLIENT, os.X_OK):
        return f"{CLIENT} not built (EXECMARK_SSM_CLIENT)"
    for tool in ("unshare", "nsenter", "script"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    return None


def default_container_env():
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/root", "LANG": "C.UTF-8"}


class Task(Pid1):
    """execmark init as PID 1 of an ECS-Exec-enabled container with the SSM agent stand-in.

    container_env: the container's environment (the agent's, hence every session's); it gets
    EXECMARK_SOCKET (PID 1's socket) unless it names one. etc_overlay: a directory overlaid on
    /etc inside the task (an image's /etc). agent_build_dir, client: the built stand-in (default
    from EXECMARK_SSM_AGENT_DIR, EXECMARK_SSM_CLIENT). Other arguments as for Pid1.
    """

    def __init__(self, tmp_path, child=("sleep", "600"), args=(), env=None,
                 watch_interval="0.2", container_env=None, etc_overlay=None, state_file=True,
                 instance_id=None, binary=None, agent_build_dir=None, client=None):
        self.tmp = str(tmp_path)
        self.agent_build_dir = agent_build_dir or AGENT_BUILD_DIR
        self.client = client or CLIENT
        super().__init__(tmp_path, child=child, args=args, env=env,
                         watch_interval=watch_interval, binary=binary)
        self.instance_id = instance_id or secrets.token_hex(32)
        self.agent_src = os.path.join(self.tmp, "managed-agents")
        self.ssm_root_host = os.path.join(self.tmp, "ssm-root")
        self.agent_socket = os.path.join(self.tmp, "ssm.sock")
        self.agent_log_path = os.path.join(self.tmp, "ssm-agent.log")
        self.container_env = dict(default_container_env() if container_env is None
                                  else container_env)
        self.container_env.setdefault("EXECMARK_SOCKET", self.socket)
        self.agent = None
        self._n = 0
        if self.proc.poll() is not None:
            return  # the container is already over (a short-lived child): no agent
        self._prepare_agent_dir(state_file)
        os.makedirs(self.ssm_root_host, mode=0o755)
        for mountpoint in (AGENT_DIR, SSM_ROOT):
            os.makedirs(mountpoint, exist_ok=True)
        setup = [
            f"mount --bind {shlex.quote(self.agent_src)} {AGENT_DIR}",
            f"mount -o remount,bind,ro {AGENT_DIR}",
            f"mount --bind {shlex.quote(self.ssm_root_host)} {SSM_ROOT}",
        ]
        if etc_overlay:
            setup.append(f"mount -t overlay execmark-test -o lowerdir={shlex.quote(etc_overlay)}"
                         f":/etc /etc")
        r = subprocess.run(["nsenter", "--target", str(self.init_pid), "--mount", "/bin/sh",
                            "-ec", "\n".join(setup)], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, f"task mount setup failed: {r.stderr}"
        self.start_agent()

    # -- the agent
    def _prepare_agent_dir(self, state_file):
        conf = os.path.join(self.agent_src, "configuration")
        os.makedirs(conf)
        for name in AGENT_BINARIES:
            shutil.copy2(os.path.join(self.agent_build_dir, name),
                         os.path.join(self.agent_src, name))
        with open(os.path.join(conf, "standin.conf"), "w") as f:
            f.write("# SSM agent stand-in (tests/sim/standin.h)\n"
                    f"socket={self.agent_socket}\n"
                    f"ssm_root={SSM_ROOT}\n"
                    f"instance_id={self.instance_id}\n"
                    f"state_file={1 if state_file else 0}\n")

    def start_agent(self):
        """Starts amazon-ssm-agent from outside the namespaces (parent pid 0 inside)."""
        if os.path.exists(self.agent_socket):
            os.unlink(self.agent_socket)
        with open(self.agent_log_path, "ab") as log:
            self.agent = subprocess.Popen(
                ["nsenter", "--target", str(self.init_pid), "--pid", "--mount", "--",
                 AGENT_DIR + "/amazon-ssm-agent"],
                env=self.container_env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                start_new_session=True)
        deadline = time.time() + 10
        while not os.path.exists(self.agent_socket):
            assert time.time() < deadline and self.agent.poll() is None, \
                f"the SSM agent stand-in did not start:\n{self.agent_log()}"
            time.sleep(0.01)

    def agent_log(self):
        with open(self.agent_log_path, errors="replace") as f:
            return f.read()

    def agent_pids(self):
        """Host pids of amazon-ssm-agent and ssm-agent-worker (the agent: nsenter's child)."""
        agent = _children(self.agent.pid)
        worker = _children(agent[0]) if agent else []
        return (agent[0] if agent else None, worker[0] if worker else None)

    def stop(self, *a, **kw):
        rc = super().stop(*a, **kw)
        if self.agent is not None:
            try:
                self.agent.wait(timeout=10)  # PID 1's end kills everything in the namespace
            except subprocess.TimeoutExpired:
                self.agent.kill()
                self.agent.wait()
        return rc

    # -- paths of a session, on the host and inside the task
    def orchestration(self, sid, inside=False):
        root = SSM_ROOT if inside else self.ssm_root_host
        return f"{root}/{self.instance_id}/session/orchestration/{sid}/InteractiveCommands"

    def ipc_path(self, sid, inside=False):
        return self.orchestration(sid, inside) + "/ipcTempFile.log"

    def transcript_path(self, sid, inside=False):
        return f"{self.orchestration(sid, inside)}/{sid}.log"

    def state_path(self, sid, inside=False):
        root = SSM_ROOT if inside else self.ssm_root_host
        return f"{root}/{self.instance_id}/document/state/current/{sid}"

    # -- sessions
    def _wrap(self, command, env):
        """The command, or (when env is given) `/bin/sh <file>` exporting env and exec'ing the
        command: the same process then runs the command with those variables, as a user's
        `VAR=value command` would; values may be any bytes."""
        if not env:
            return command
        self._n += 1
        path = os.path.join(self.tmp, f"session-env-{self._n}.sh")
        with open(path, "wb") as f:
            for key, value in env.items():
                key = key.decode() if isinstance(key, bytes) else key
                value = value if isinstance(value, bytes) else value.encode()
                assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key), key
                f.write(b"export " + key.encode() + b"='" + value.replace(b"'", b"'\\''")
                        + b"'\n")
            f.write(b"exec " + " ".join(shlex.quote(w) for w in shlex.split(command)).encode()
                    + b"\n")
        return f"/bin/sh {path}"

    def client_argv(self, sid, command, owner=None, logging=True, size=(40, 200)):
        argv = [self.client]
        if owner is not None:
            argv += ["--owner", owner]
        if size:
            argv += ["--size", f"{size[0]}x{size[1]}"]
        if not logging:
            argv.append("--no-logging")
        return argv + [self.agent_socket, sid, command]

    def session(self, sid, command, owner=None, env=None, logging=True, size=(40, 200),
                timeout=15):
        """An interactive ECS Exec session (pexpect), like `aws ecs execute-command
        --interactive --command COMMAND` with session id SID."""
        argv = self.client_argv(sid, self._wrap(command, env), owner, logging, size=None)
        return Session(self, sid, argv, size, timeout)

    def run_session(self, sid, command, input=b"", owner=None, env=None, logging=True,
                    timeout=30):
        """A session whose input is given at once; returns the client's CompletedProcess
        (returncode: the command's status; stdout: the terminal output)."""
        argv = self.client_argv(sid, self._wrap(command, env), owner, logging)
        return subprocess.run(argv, input=input, capture_output=True, timeout=timeout)

    # -- the attacker's side
    def _attacker_argv(self, argv):
        return ["nsenter", "--target", str(self.init_pid), "--pid", "--mount", "--",
                "/bin/sh", "-c", '"$@"; exit $?', "sh", *argv]

    def attacker(self, argv, **kwargs):
        """Runs argv inside the task under a plain /bin/sh (not under the agent), like a
        process of the container; subprocess.run arguments."""
        kwargs.setdefault("timeout", 30)
        kwargs.setdefault("capture_output", True)
        kwargs.setdefault("env", self.container_env)
        return subprocess.run(self._attacker_argv(argv), **kwargs)

    def attacker_popen(self, argv, **kwargs):
        kwargs.setdefault("env", self.container_env)
        return subprocess.Popen(self._attacker_argv(argv), **kwargs)

    def attacker_spawn(self, argv, timeout=15, size=(40, 200)):
        """As attacker(), on a pty (pexpect, utf-8)."""
        cmd = self._attacker_argv(argv)
        return pexpect.spawn(cmd[0], cmd[1:], env=self.container_env, encoding="utf-8",
                             codec_errors="replace", timeout=timeout, dimensions=size)

    def write_channel(self, sid, command, owner="", logging=True):
        """The agent's IPC channel request for sid: with it, the genuine ssm-session-worker
        run by hand (`GENUINE_WORKER sid`) runs command on a pty relayed to its stdin/stdout."""
        assert "\n" not in command + owner
        d = f"{self.ssm_root_host}/{self.instance_id}/channels/{sid}"
        os.makedirs(d, exist_ok=True)
        with open(f"{d}/request", "w") as f:
            f.write(f"sid={sid}\ncommand={command}\nowner={owner}\n"
                    f"logging={1 if logging else 0}\n")


class Session:
    """One interactive session: the client on a pexpect pty, everything shown kept."""

    def __init__(self, task, sid, argv, size, timeout):
        self.task = task
        self.sid = sid
        self.log = io.StringIO()
        self.child = pexpect.spawn(argv[0], argv[1:], encoding="utf-8", codec_errors="replace",
                                   timeout=timeout, dimensions=size or (24, 80))
        self.child.logfile_read = self.log
        self.status = None

    @property
    def transcript_path(self):
        return self.task.transcript_path(self.sid)

    @property
    def ipc_path(self):
        return self.task.ipc_path(self.sid)

    @property
    def state_path(self):
        return self.task.state_path(self.sid)

    def output(self):
        return self.log.getvalue()

    def markers(self, ev=None):
        return [m for m in markers_in(self.output()) if ev is None or m["ev"] == ev]

    def expect(self, pattern, timeout=-1):
        return self.child.expect(pattern, timeout=timeout)

    def expect_exact(self, text, timeout=-1):
        return self.child.expect_exact(text, timeout=timeout)

    def sendline(self, line=""):
        return self.child.sendline(line)

    def send(self, data):
        return self.child.send(data)

    def resize(self, rows, cols):
        """The user's terminal changes size: the client sends it on, the pty follows."""
        self.child.setwinsize(rows, cols)

    def wait(self, timeout=-1):
        """Waits for the session to end (the command exited, the transcript is written);
        returns the command's exit status."""
        self.child.expect(pexpect.EOF, timeout=timeout)
        self.child.close()
        self.status = self.child.exitstatus
        return self.status

    def finish(self, line="exit", timeout=-1):
        self.child.sendline(line)
        return self.wait(timeout)

    def transcript(self):
        with open(self.transcript_path, "rb") as f:
            return f.read()

    def kill(self):
        if self.child.isalive():
            self.child.close(force=True)


def _children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def transcript_body(data):
    """A transcript without util-linux script's header and footer lines (bytes)."""
    lines = data.split(b"\n")
    if lines and lines[0].startswith(b"Script started on "):
        lines = lines[1:]
    text = b"\n".join(lines)
    cut = text.rfind(b"\nScript done on ")
    return text[:cut] if cut >= 0 else text


__all__ = ["AGENT_DIR", "BIN", "CLIENT", "GENUINE_WORKER", "SSM_ROOT", "Session", "Task",
           "missing", "transcript_body"]
