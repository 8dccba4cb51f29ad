# SPDX-License-Identifier: MIT
"""The static aarch64 binary works: smoke tests under qemu-user (Fargate on Graviton).

Contract: the aarch64 execmark named by EXECMARK_ARM64_BIN (docker/build-static-arm64.sh builds
it and runs this file) is a static, stripped ARM aarch64 ELF under the 3 MiB size regression
guard (as the x86_64 binary: the 2 MiB design target is missed today, see docs/benchmarks.md)
that, run under Debian's qemu-aarch64-static, prints its version, supervises a program as PID 1
(the program's output and exit status come through; 127 for a program that cannot be run),
forwards SIGTERM, runs in an empty root next to nothing but qemu, and signs markers that verify:
the boot marker on PID 1's stdout verifies with Ed25519 over b"execmark/1\\n" + payload under the
key it carries (checked here independently of execmark, with python3-cryptography), the chains
link, and the aarch64 binary's own `verify` accepts the session and rejects an altered marker.

Skips (with the reason) when EXECMARK_ARM64_BIN is not set: the CTest runs of the native
builds do not cross-build. qemu-user does not re-emulate execve, and binfmt_misc is usually not
available in CI sandboxes, so an aarch64 program started by the aarch64 init is started through
qemu explicitly (`init -- qemu-aarch64-static execmark ...`).
"""
import base64
import hashlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from elf_segments import assert_only_code_executable, file_gaps

BIN = os.environ.get("EXECMARK_ARM64_BIN", "")
QEMU = shutil.which("qemu-aarch64-static") or shutil.which("qemu-aarch64") or ""
SIZE_GUARD = 3 * 1024 * 1024
CONTEXT = b"execmark/1\n"

pytestmark = [
    pytest.mark.skipif(not BIN, reason="EXECMARK_ARM64_BIN not set (docker/build-static-arm64.sh "
                                       "--check sets it after the cross build)"),
    pytest.mark.skipif(bool(BIN) and not os.path.isfile(BIN),
                       reason=f"EXECMARK_ARM64_BIN={BIN} does not exist"),
    pytest.mark.skipif(bool(BIN) and not QEMU,
                       reason="qemu-aarch64-static not installed (Debian: qemu-user-static)"),
]

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="PID namespaces and chroot need root")


def pid1(argv):
    """ARGV run as PID 1 of a new PID namespace (as in a container), under qemu."""
    return ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child", QEMU, BIN] + argv


def run(argv, timeout=60, env=None):
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def split_marker(line):
    """(payload, signature) of a signed marker line: the exact bytes, never re-serialized."""
    start = line.rindex("EXECMARK1 ") + len("EXECMARK1 ")
    sep = line.rindex(" ed25519=")
    return line[start:sep].encode("ascii"), line[sep + len(" ed25519="):].rstrip("\r\n ")


def field(payload, name):
    """A string or integer field of a payload (parsed only after its signature verified)."""
    import json
    return json.loads(payload)[name]


def markers(stdout):
    return [line for line in stdout.splitlines() if line.startswith("EXECMARK1 ")]


def verify_markers(lines):
    """Verify every marker under the key of the boot marker among LINES, with an Ed25519
    implementation that is not execmark's; return the payloads by event name."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    boot = [ln for ln in lines if '"ev":"boot"' in ln]
    assert len(boot) == 1, lines
    payload, sig = split_marker(boot[0])
    pub = b64url_decode(field(payload, "pub"))
    assert len(pub) == 32
    key = Ed25519PublicKey.from_public_bytes(pub)
    kid = "k" + hashlib.blake2b(pub, digest_size=8).hexdigest()
    by_event = {}
    for line in lines:
        payload, sig = split_marker(line)
        assert len(sig) == 86, line
        key.verify(b64url_decode(sig), CONTEXT + payload)  # raises InvalidSignature
        assert field(payload, "kid") == kid
        by_event.setdefault(field(payload, "ev"), []).append(payload)
    # A verifier that accepts anything proves nothing: one changed byte must fail.
    payload, sig = split_marker(boot[0])
    with pytest.raises(InvalidSignature):
        key.verify(b64url_decode(sig), CONTEXT + payload.replace(b'"v":1', b'"v":2'))
    return by_event


def chain_hash(payload):
    return hashlib.blake2b(payload, digest_size=16).hexdigest()


def test_static_stripped_aarch64_elf():
    desc = run(["file", "-b", BIN]).stdout
    assert "ARM aarch64" in desc, desc
    assert "statically linked" in desc or "static-pie linked" in desc, desc
    assert "stripped" in desc and "not stripped" not in desc, desc


def test_only_code_is_executable():
    assert_only_code_executable(BIN)


def test_size_within_regression_guard():
    size = os.path.getsize(BIN)
    assert size <= SIZE_GUARD, f"{size} bytes > {SIZE_GUARD}"


def test_no_64k_hole_in_the_file():
    # aarch64's gold aligns the end of RELRO to 64 KiB, and the file's read-write segment must
    # start at the same offset modulo 64 KiB as its address: a few hundred bytes more of code,
    # read-only data or RELRO can put a 64 KiB hole into the file (2,633,936 bytes instead of
    # 2,568,400 once; docs/benchmarks.md "Binary size"). Below a page, the hole is alignment.
    gaps = file_gaps(BIN)
    assert gaps and max(gaps) < 4096, \
        f"{max(gaps)} bytes of padding between LOAD segments: what precedes the read-write " \
        f"segment (code, read-only data, RELRO) must shrink by {65536 - max(gaps)} bytes or " \
        "more (docs/benchmarks.md \"Binary size\")"


def test_version_under_qemu():
    out = run([QEMU, BIN, "--version"])
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("execmark version "), out.stdout


@needs_root
def test_supervises_a_program_as_pid1():
    # The aarch64 PID 1 runs the aarch64 binary as its child; the child's output comes through
    # between PID 1's boot and shutdown markers, and its status is PID 1's.
    out = run(pid1(["init", "--", QEMU, BIN, "init", "--version"]))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert [ln for ln in lines if not ln.startswith("EXECMARK1 ")] == \
        [ln for ln in lines if ln.startswith("tini version ")], out.stdout
    assert any(ln.startswith("tini version ") for ln in lines), out.stdout
    events = [field(split_marker(m)[0], "ev") for m in markers(out.stdout)]
    assert events == ["boot", "shutdown"], out.stdout
    assert field(split_marker(markers(out.stdout)[0])[0], "pid") == 1


@needs_root
@pytest.mark.parametrize("argv, status", [
    (["/nonexistent/program"], 127),
    (["/bin/sh", "-c", "exit 7"], 7),
])
def test_exit_status_through_two_inits(argv, status):
    # PID 1 -> (qemu) nested init -> program: the status passes both unchanged.
    out = run(pid1(["init", "--", QEMU, BIN, "init", "--no-attribution", "--"] + argv))
    assert out.returncode == status, (out.stdout, out.stderr)


@needs_root
def test_sigterm_is_forwarded():
    # The program dies of the forwarded SIGTERM: PID 1 exits 128+15.
    proc = subprocess.Popen(pid1(["init", "--", "/bin/sleep", "60"]),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().startswith("EXECMARK1 ")  # boot: PID 1 is up
        unshare_pid = proc.pid
        # unshare --fork: its only child is qemu running the init (PID 1 inside).
        children = Path(f"/proc/{unshare_pid}/task/{unshare_pid}/children").read_text().split()
        assert len(children) == 1, children
        deadline = time.monotonic() + 10
        while not any(Path(f"/proc/{c}/comm").read_text().strip() == "sleep"
                      for c in Path(f"/proc/{children[0]}/task/{children[0]}/children")
                      .read_text().split()):
            assert time.monotonic() < deadline, "init did not start the program"
            time.sleep(0.02)
        os.kill(int(children[0]), signal.SIGTERM)
        assert proc.wait(timeout=20) == 128 + signal.SIGTERM, proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@needs_root
def test_runs_in_an_empty_root_with_only_qemu():
    root = tempfile.mkdtemp(prefix="execmark-arm64-root-")
    try:
        shutil.copy2(BIN, os.path.join(root, "execmark"))
        shutil.copy2(QEMU, os.path.join(root, "qemu"))
        out = run(["unshare", "--pid", "--fork", f"--root={root}", "/qemu", "/execmark",
                   "init", "--", "/qemu", "/execmark", "--version"])
        assert out.returncode == 0, out.stderr
        assert "execmark version " in out.stdout
    finally:
        shutil.rmtree(root)


@needs_root
def test_signs_markers_that_verify(tmp_path):
    # PID 1 signs its boot chain and, over its socket, a session's open and close markers
    # requested by the aarch64 client.
    sock = tmp_path / "agent.sock"
    client = f"{QEMU} {BIN}"
    env = dict(os.environ, EXECMARK_SOCKET=str(sock), EXECMARK_BANNER="off",
               AWS_USER="arm64@example.com")
    env.pop("EXECMARK_ACTIVE", None)
    out = run(pid1(["init", "--watch-interval", "0", "--", "/bin/sh", "-c",
                    f"{client} session open --reason arm64-smoke && "
                    f"{client} session close --rc 0"]), env=env)
    assert out.returncode == 0, out.stderr
    lines = markers(out.stdout)
    assert "unsigned=" not in out.stdout, out.stdout
    by_event = verify_markers(lines)
    assert sorted(by_event) == ["boot", "close", "open", "shutdown"], out.stdout
    boot, shutdown = by_event["boot"][0], by_event["shutdown"][0]
    opened, closed = by_event["open"][0], by_event["close"][0]
    assert field(boot, "sid") == field(shutdown, "sid") == "boot-" + field(boot, "kid")
    assert field(shutdown, "prev") == chain_hash(boot)
    assert field(opened, "sid") == field(closed, "sid")
    assert field(closed, "prev") == chain_hash(opened)
    assert field(opened, "user") == "arm64@example.com"
    assert field(opened, "reason") == "arm64-smoke"

    # The aarch64 verifier agrees, and catches one altered byte.
    sid = field(opened, "sid")
    container = tmp_path / "container.log"
    session = tmp_path / f"{sid}.log"
    container.write_text("".join(ln + "\n" for ln in lines if '"ev":"boot"' in ln
                                 or '"ev":"shutdown"' in ln))
    session.write_text("".join(ln + "\n" for ln in lines if '"ev":"open"' in ln
                               or '"ev":"close"' in ln))
    ok = run([QEMU, BIN, "verify", "--container-log", str(container), str(session)])
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert " OK" in ok.stdout, ok.stdout
    session.write_text(session.read_text().replace("arm64-smoke", "arm64-smokf", 1))
    bad = run([QEMU, BIN, "verify", "--container-log", str(container), str(session)])
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "FORGED" in bad.stdout, bad.stdout
