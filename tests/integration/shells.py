# SPDX-License-Identifier: MIT
"""Real shells started the way ECS Exec starts them, reading the rc files of a test image.

`Image` is a directory laid out like a container image: the real shell binaries (so that
`execmark hook install --root` finds their compiled-in rc paths), a passwd, base rc files with
a known prompt. `Shell` starts one of the shells on a pty (pexpect) — argv as given, not a login
shell, like the SSM session worker — in a private mount namespace where the image's /etc is
overlaid on the host's (`mount -t overlay -o lowerdir=IMAGE/etc:/etc`), so /etc/bash.bashrc,
/etc/zsh/zshrc and /etc/execmark/hook.sh are read at their real paths, as in an image, and the
host's /etc is never touched.
"""
import io
import os
import re
import shutil
import subprocess

import pexpect

from pid1 import markers_in

BIN = os.environ.get("EXECMARK_BIN", "")
PROMPT = "PROMPT> "

# How ECS Exec would be told to start each shell (--command), and the binaries they need.
SHELLS = {
    "bash": ["/usr/bin/bash"],
    "dash": ["/usr/bin/dash"],
    "ash": ["/usr/bin/busybox", "sh"],
    "mksh": ["/usr/bin/mksh"],
    "zsh": ["/usr/bin/zsh"],
}
# Shells that read only ENV when started by ECS Exec.
ENV_SHELLS = ("dash", "ash", "mksh")

BASE_BASHRC = """\
# System-wide .bashrc of the test image (Debian's starts the same way).
[ -z "$PS1" ] && return
PS1='PROMPT> '
"""
BASE_ZSHRC = """\
# Global zshrc of the test image.
PS1='PROMPT> '
"""
# The ENV file the POSIX shells get in most tests: the image's own, sourcing the hook, as
# docs/image-builders.md shows for images that already set ENV.
BASE_SHINIT = """\
# ENV file of the test image.
PS1='PROMPT> '
. /etc/execmark/hook.sh
"""

OVERLAY_SCRIPT = (
    'mount -t overlay execmark-test -o "lowerdir=$1/etc:/etc" /etc || exit 125\n'
    'shift\n'
    'exec "$@"\n'
)


def missing_shells():
    return [name for name, argv in SHELLS.items() if not os.access(argv[0], os.X_OK)]


def overlay_works(tmp_dir):
    """Whether this host lets us overlay a directory on /etc in a private mount namespace."""
    probe = os.path.join(tmp_dir, "overlay-probe")
    os.makedirs(os.path.join(probe, "etc", "execmark-probe"), exist_ok=True)
    r = subprocess.run(["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c",
                        OVERLAY_SCRIPT, "sh", probe, "test", "-d", "/etc/execmark-probe"],
                       capture_output=True, timeout=30)
    return r.returncode == 0


def _link_or_copy(src, dst):
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


class Image:
    """A test image root with the five shells, base rc files and no hooks yet."""

    def __init__(self, tmp_path):
        self.tmp = tmp_path
        self.root = str(tmp_path / "image")
        usr_bin = os.path.join(self.root, "usr", "bin")
        os.makedirs(usr_bin)
        os.symlink("usr/bin", os.path.join(self.root, "bin"))
        for name in ("bash", "dash", "busybox", "mksh", "zsh"):
            if os.path.exists(f"/usr/bin/{name}"):
                _link_or_copy(os.path.realpath(f"/usr/bin/{name}"), os.path.join(usr_bin, name))
        os.symlink("dash", os.path.join(usr_bin, "sh"))
        self.write("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n")
        self.write("/etc/bash.bashrc", BASE_BASHRC)
        self.write("/etc/zsh/zshrc", BASE_ZSHRC)
        self.write("/etc/shinit", BASE_SHINIT)
        self.home = str(tmp_path / "home")
        os.makedirs(self.home)
        # An empty ~/.zshenv keeps zsh's new-user wizard away (read before the global zshrc, so
        # the status that zshrc leaves reaches the prompt); nothing else is in HOME.
        open(os.path.join(self.home, ".zshenv"), "w").close()
        self.no_agent = str(tmp_path / "no-agent.sock")

    def path(self, image_path):
        return self.root + image_path

    def write(self, image_path, text, mode=0o644):
        p = self.path(image_path)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, mode)

    def read(self, image_path, binary=False):
        with open(self.path(image_path), "rb" if binary else "r") as f:
            return f.read()

    def install(self, *extra, bin_path=None, check=True):
        r = subprocess.run([BIN, "hook", "install", "--root", self.root,
                            "--bin", bin_path or BIN, *extra],
                           capture_output=True, text=True, timeout=60)
        if check:
            assert r.returncode == 0, r.stderr
        return r

    def env(self, shell, extra=None):
        """The environment of an ECS Exec session in this image (the container's, plus TERM)."""
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": self.home,
            "TERM": "xterm-256color",
            "LANG": "C.UTF-8",
            "AWS_USER": "alice@example.com",
            "EXECMARK_SOCKET": self.no_agent,
        }
        if shell in ENV_SHELLS:
            env["ENV"] = "/etc/shinit"
        env.update(extra or {})
        return {k: v for k, v in env.items() if v is not None}

    def command(self, argv):
        """argv run in a private mount namespace with the image's /etc over the host's."""
        return ["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c",
                OVERLAY_SCRIPT, "sh", self.root, *argv]

    def run(self, argv, env, **kwargs):
        """argv without a terminal (a script, `sh -c`), inside the overlay."""
        kwargs.setdefault("timeout", 30)
        return subprocess.run(self.command(argv), env=env, capture_output=True, text=True,
                              **kwargs)


class Shell:
    """One shell on a pty, everything it wrote kept in `output`."""

    def __init__(self, image, argv, env, timeout=60):
        self.log = io.StringIO()
        cmd = image.command(argv)
        self.child = pexpect.spawn(cmd[0], cmd[1:], env=env, encoding="utf-8",
                                   codec_errors="replace", timeout=timeout,
                                   dimensions=(40, 250))
        self.child.logfile_read = self.log
        self.status = None

    def output(self):
        return self.log.getvalue()

    def markers(self, ev=None):
        return [m for m in markers_in(self.output()) if ev is None or m["ev"] == ev]

    def expect_prompt(self):
        self.child.expect_exact(PROMPT)

    def expect_marker(self, ev):
        """Waits for a whole marker line of event ev."""
        self.child.expect(r'EXECMARK1 \{"v":1,"ev":"' + re.escape(ev) + r'"[^\r\n]*\r?\n')

    def run(self, line):
        """Sends one command line, waits for the next prompt, returns what came in between."""
        start = len(self.output())
        self.child.sendline(line)
        self.expect_prompt()
        return self.output()[start:]

    def values(self, line, tag):
        """Runs `line`, which prints `TAG k=v k=v ...`; returns the dict of its output line.

        The terminal echoes the typed command too; only a line starting with TAG is output.
        """
        text = self.run(line)
        for raw in re.split(r"[\r\n]+", text):
            raw = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", raw).strip()
            if raw.startswith(tag + " "):
                return dict(kv.split("=", 1) for kv in raw[len(tag) + 1:].split(" ") if "=" in kv)
        raise AssertionError(f"no {tag} line in {text!r}")

    def finish(self, line="exit", eof=False):
        """Ends the shell with a command line (or end of input); returns its exit status."""
        if eof:
            self.child.sendeof()
        else:
            self.child.sendline(line)
        self.child.expect(pexpect.EOF)
        self.child.close()
        self.status = self.child.exitstatus
        return self.status

    def wait(self):
        """Waits for a shell that ends by itself; returns its exit status."""
        self.child.expect(pexpect.EOF)
        self.child.close()
        self.status = self.child.exitstatus
        return self.status

    def kill(self):
        if self.child.isalive():
            self.child.close(force=True)
