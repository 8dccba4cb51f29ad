# SPDX-License-Identifier: MIT
"""`execmark verify`: every input shape, the tamper corpus, exit codes.

Contracts:
- Genuine sessions are clean in every shape AWS delivers them: S3 transcripts (plain, gzip with
  and without a .gz name), get-log-events JSON (stream from the file name or --session, and on
  stdin), filter-log-events JSON of a whole log group (given as container log and as session
  logs at once), a CloudWatch export to S3 (gzip tree), plain terminal text, and directories.
  A marker at the end of a terminal line longer than a CloudWatch event is rejoined.
- The tamper corpus, generated from a genuine session: every field of both markers edited, the
  signature edited, the magic and separator broken, markers deleted / reordered / duplicated /
  moved to another session, a fake boot key, truncation at several points, claims changed and
  re-signed, and container-log tampering — each detected with its status.
- Exit codes: 0 clean, 1 findings, 2 usage, 3 unreadable input.
"""

from __future__ import annotations

import gzip
import os
import random
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

import audit_corpus as ac

_missing = ac.prerequisites_missing()
pytestmark = pytest.mark.skipif(_missing is not None, reason=_missing or "")

# Output bytes before the marker on its terminal line: the first 200,000-byte CloudWatch piece
# of that line ends 300 bytes into the marker.
LONG_LINE = ac.EVENT_BYTES - 300


def fields(user: str) -> dict:
    return {"user": user, "shell": "/bin/bash", "tty": "/dev/pts/1", "cpid": 77, "mode": "wrapper",
            "reason": "INC-2201"}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("verify")
    rng = random.Random(11)
    sids = [ac.session_id(rng) for _ in range(4)]
    events = []
    for sid in sids:
        events += [{"ev": "exec.seen", "wsid": sid, "wpid": 31},
                   {"ev": "open", "sid": sid, **fields("dana.ops")},
                   {"ev": "close", "sid": sid, "fin": "exit", "rc": 0, "advance_ms": 60000},
                   {"ev": "exec.gone", "wsid": sid, "wpid": 31, "dur": 60000}]
    manifest = ac.mksession({"boots": [
        {"id": "genuine", "meta": ac.META, "events": events},
        {"id": "attacker", "meta": ac.META, "events": [
            {"ev": "open", "sid": sids[0], **fields("mallory")},
            {"ev": "close", "sid": sids[0], "fin": "exit", "rc": 0}]},
    ]})
    genuine, attacker = manifest["boots"]
    markers = {(m["sid"], m["ev"]): m["line"] for m in genuine["markers"]}
    container_markers = [m["line"] for m in genuine["markers"] if m["sid"].startswith("boot-")]

    capture = ac.pty_capture(root / "pty")
    long_capture = ac.pty_capture(root / "pty-long", long_line_before_open=LONG_LINE)
    work = root / "work"
    s3 = root / "s3"
    transcripts = {}
    for i, sid in enumerate(sids):
        cap = long_capture if i == 1 else capture
        data = ac.fill_capture(cap, markers[(sid, "open")], markers[(sid, "close")])
        transcripts[sid] = ac.script_transcript(data, s3 / f"{sid}.log", work)
    container = root / "container.log"
    container.write_text("\n".join(ac.container_messages(container_markers)) + "\n")
    return {
        "root": root,
        "sids": sids,
        "markers": markers,
        "attacker": attacker,
        "genuine": genuine,
        "capture": capture,
        "transcripts": transcripts,
        "container": container,
        "container_markers": container_markers,
        "s3": s3,
    }


def verify(*args, stdin: bytes | None = None):
    proc = ac.run_execmark(["verify", *args], stdin=stdin)
    rows, summary = ac.json_rows(proc) if "--json" in args else ({}, {})
    return proc, rows, summary


def assert_clean(proc, rows, expected_sessions):
    out = proc.stdout.decode() + proc.stderr.decode()
    assert proc.returncode == 0, out
    assert set(rows) == set(expected_sessions), out
    for sid, row in rows.items():
        assert row["statuses"] == [] and row["status"] == "OK", row
        assert row["chain"] == 2 and row["claim"] == "dana.ops", row


# --------------------------------------------------------------------------------------------
# Shapes: genuine logs are never flagged


def test_s3_transcripts_and_directory(corpus):
    """S3 transcripts, given as a directory (recursively): all clean."""
    proc, rows, _ = verify("--container-log", corpus["container"], "--json", corpus["s3"])
    assert_clean(proc, rows, corpus["sids"])


def test_transcript_really_is_scripts_output(corpus):
    """The fixture is what `script` writes: header, CR CR LF, colours, footer."""
    data = corpus["transcripts"][corpus["sids"][0]].read_bytes()
    assert data.startswith(b"Script started on ")
    assert b"<not executed on terminal>" in data
    assert b"\r\r\n" in data and b"\x1b[" in data
    assert re.search(rb"\nScript done on .*COMMAND_EXIT_CODE=\"0\"\]\n$", data)


def test_gzip_by_magic_with_and_without_extension(corpus, tmp_path):
    """gzip is detected by its magic bytes; a .gz name is optional."""
    a, b = corpus["sids"][:2]
    (tmp_path / f"{a}.log.gz").write_bytes(gzip.compress(corpus["transcripts"][a].read_bytes()))
    (tmp_path / f"{b}.log").write_bytes(gzip.compress(corpus["transcripts"][b].read_bytes()))
    proc, rows, _ = verify("--container-log", corpus["container"], "--json", tmp_path)
    assert_clean(proc, rows, [a, b])


def test_get_log_events_json(corpus, tmp_path):
    """get-log-events output: stream from the file name, or --session on stdin; the marker split
    across two 200,000-byte events is rejoined."""
    for sid in corpus["sids"][:2]:
        messages = ac.ssm_cloudwatch_messages(corpus["transcripts"][sid].read_bytes())
        (tmp_path / f"{sid}.json").write_text(ac.get_log_events(messages))
    long_sid = corpus["sids"][1]
    long_messages = ac.ssm_cloudwatch_messages(corpus["transcripts"][long_sid].read_bytes())
    assert any(len(m) == ac.EVENT_BYTES and "EXECMARK1" in m[-300:] for m in long_messages)
    proc, rows, _ = verify("--container-log", corpus["container"], "--json", tmp_path)
    assert_clean(proc, rows, corpus["sids"][:2])

    stdin = (tmp_path / f"{long_sid}.json").read_bytes()
    proc, rows, _ = verify("--container-log", corpus["container"], "--json", "--session",
                           long_sid, "-", stdin=stdin)
    assert_clean(proc, rows, [long_sid])


def test_filter_log_events_whole_group(corpus, tmp_path):
    """filter-log-events of a log group holding the container stream and the session streams,
    given as --container-log and as the session input at once."""
    streams = {ac.CONTAINER_STREAM: ac.container_messages(corpus["container_markers"])}
    for sid in corpus["sids"]:
        streams[sid] = ac.ssm_cloudwatch_messages(corpus["transcripts"][sid].read_bytes())
    group = tmp_path / "group.json"
    group.write_text(ac.filter_log_events(streams))
    proc, rows, summary = verify("--container-log", group, "--json", group)
    assert_clean(proc, rows, corpus["sids"])
    assert summary["trusted_keys"] == 1


def test_cloudwatch_export_to_s3(corpus, tmp_path):
    """A CloudWatch export (gzip objects under <task>/<stream>/), container stream included."""
    export = tmp_path / "export"
    ac.write_export(export, ac.CONTAINER_STREAM, ac.container_messages(corpus["container_markers"]))
    for sid in corpus["sids"]:
        ac.write_export(export, sid,
                        ac.ssm_cloudwatch_messages(corpus["transcripts"][sid].read_bytes()))
    proc, rows, _ = verify("--container-log", export / "3b1f9d3e-0c8a-4e51-9a2f-5d7c1e8b6a40"
                           / "ecs", "--json", *[
                               export / "3b1f9d3e-0c8a-4e51-9a2f-5d7c1e8b6a40" / sid
                               for sid in corpus["sids"]])
    assert_clean(proc, rows, corpus["sids"])


def test_plain_terminal_text_on_stdin(corpus):
    """Raw terminal bytes (no `script`) on stdin, named with --session."""
    sid = corpus["sids"][2]
    data = ac.fill_capture(corpus["capture"], corpus["markers"][(sid, "open")],
                           corpus["markers"][(sid, "close")])
    proc, rows, _ = verify("--container-log", corpus["container"], "--json", "--session", sid,
                           "-", stdin=data)
    assert_clean(proc, rows, [sid])


def test_explicit_key_instead_of_container_log(corpus):
    """--key trusts a boot key given by hand."""
    sid = corpus["sids"][0]
    proc, rows, _ = verify("--key", corpus["genuine"]["pub"], "--json", corpus["transcripts"][sid])
    assert_clean(proc, rows, [sid])


# --------------------------------------------------------------------------------------------
# The tamper corpus


def edit_field(line: str, key: str) -> str:
    """The marker line with one payload field's value changed (signature untouched)."""
    payload = line[len("EXECMARK1 "):line.rindex(" ed25519=")]
    m = re.search(r'"%s":("(?:[^"\\]|\\.)*"|-?\d+)' % re.escape(key), payload)
    assert m, key
    value = m.group(1)
    if value.startswith('"'):
        inner = value[1:-1]
        new = '"' + (inner[:-1] + ("y" if inner[-1:] != "y" else "z") if inner else "x") + '"'
    else:
        new = str(int(value) + 1)
    payload = payload[:m.start(1)] + new + payload[m.end(1):]
    return "EXECMARK1 " + payload + line[line.rindex(" ed25519="):]


def variants(corpus) -> list[tuple[str, bytes, str]]:
    """(name, transcript bytes, expected status) for the first session."""
    sid = corpus["sids"][0]
    t = corpus["transcripts"][sid].read_bytes()
    o = corpus["markers"][(sid, "open")].encode()
    c = corpus["markers"][(sid, "close")].encode()
    out: list[tuple[str, bytes, str]] = []
    for which, line in (("open", o), ("close", c)):
        text = line.decode()
        payload = text[len("EXECMARK1 "):text.rindex(" ed25519=")]
        keys = re.findall(r'"([a-z]+)":', payload)
        for key in keys:
            out.append((f"{which}.{key}", t.replace(line, edit_field(text, key).encode()),
                        "FORGED"))
        sig_at = text.rindex("ed25519=") + len("ed25519=") + 10
        flipped = text[:sig_at] + ("A" if text[sig_at] != "A" else "B") + text[sig_at + 1:]
        out.append((f"{which}.signature", t.replace(line, flipped.encode()), "FORGED"))
        out.append((f"{which}.separator", t.replace(line, line.replace(b" ed25519=", b" ed25519:")),
                    "MANGLED"))
    out.append(("open.magic", t.replace(o, o.replace(b"EXECMARK1", b"EXECMARK2")), "GAP"))
    out.append(("close.magic", t.replace(c, c.replace(b"EXECMARK1", b"EXECMARK2")), "NO-CLOSE"))
    out.append(("delete.open", t.replace(o, b""), "GAP"))
    out.append(("delete.close", t.replace(c, b""), "NO-CLOSE"))
    out.append(("reorder", t.replace(o, b"@@O@@").replace(c, o).replace(b"@@O@@", c), "REORDERED"))
    out.append(("duplicate.open", t.replace(o, o + b"\r\r\n" + o), "DUPLICATE"))
    out.append(("duplicate.close", t.replace(c, c + b"\r\r\n" + c), "DUPLICATE"))
    # No marker left: PID 1's exec.seen for the session makes that BYPASSED.
    out.append(("truncate.before-open", t[: t.index(o) - 1], "BYPASSED"))
    out.append(("truncate.after-open", t[: t.index(o) + len(o) + 3], "NO-CLOSE"))
    out.append(("truncate.mid-close", t[: t.index(c) + len(c) // 2], "NO-CLOSE"))
    out.append(("truncate.mid-close-signature", t[: t.index(c) + len(c) - 5], "NO-CLOSE"))
    # Claims changed and re-signed with a key of the attacker's own, boot marker injected.
    att = {m["ev"]: m["line"].encode() for m in corpus["attacker"]["markers"]}
    out.append(("claims.resigned", t.replace(o, att["open"]).replace(c, att["close"]), "FORGED"))
    out.append(("fake-boot-key", t.replace(o, att["boot"] + b"\r\r\n" + att["open"])
                .replace(c, att["close"]), "FORGED"))
    # Another genuine session's markers put in this session's log.
    other = corpus["sids"][3]
    oo = corpus["markers"][(other, "open")].encode()
    oc = corpus["markers"][(other, "close")].encode()
    out.append(("moved-in", t.replace(o, oo).replace(c, oc), "REPLAYED"))
    out.append(("moved-in.extra", t.replace(c, c + b"\r\r\n" + oo), "REPLAYED"))
    return out


def test_tamper_corpus_every_kind_detected(corpus, tmp_path):
    """Each tampered copy of a genuine session is flagged with its status, exit 1."""
    sid = corpus["sids"][0]
    cases = variants(corpus)
    assert len(cases) > 50
    failures = []
    for name, data, expected in cases:
        d = tmp_path / name
        d.mkdir()
        (d / f"{sid}.log").write_bytes(data)
        proc, rows, _ = verify("--container-log", corpus["container"], "--json", d)
        statuses = rows.get(sid, {}).get("statuses", [])
        if proc.returncode != 1 or expected not in statuses:
            failures.append((name, expected, statuses, proc.returncode))
    assert not failures, failures


def test_markers_moved_to_another_session(corpus, tmp_path):
    """Moving a session's markers away leaves it BYPASSED (its exec.seen stays) and the
    receiving log REPLAYED."""
    a, b = corpus["sids"][0], corpus["sids"][3]
    ta = corpus["transcripts"][a].read_bytes()
    tb = corpus["transcripts"][b].read_bytes()
    oa, ca = (corpus["markers"][(a, e)].encode() for e in ("open", "close"))
    ob, cb = (corpus["markers"][(b, e)].encode() for e in ("open", "close"))
    (tmp_path / f"{a}.log").write_bytes(ta.replace(oa, b"").replace(ca, b""))
    (tmp_path / f"{b}.log").write_bytes(tb.replace(ob, oa).replace(cb, ca))
    proc, rows, _ = verify("--container-log", corpus["container"], "--json", tmp_path)
    assert proc.returncode == 1
    assert rows[a]["statuses"] == ["BYPASSED"]
    assert "REPLAYED" in rows[b]["statuses"]


def test_container_log_tampering(corpus, tmp_path):
    """A deleted exec.seen, or a forged one, in the container log is a finding (exit 1)."""
    lines = corpus["container"].read_text().splitlines()
    seen = next(i for i, l in enumerate(lines) if '"ev":"exec.seen"' in l)
    deleted = tmp_path / "deleted.log"
    deleted.write_text("\n".join(lines[:seen] + lines[seen + 1:]) + "\n")
    sid = corpus["sids"][0]
    proc, _, summary = verify("--container-log", deleted, "--json", corpus["transcripts"][sid])
    assert proc.returncode == 1
    assert summary["container_findings"] >= 1

    forged = tmp_path / "forged.log"
    fake = corpus["attacker"]["markers"][1]["line"]  # meta of a key no container log vouches for
    forged.write_text(corpus["container"].read_text() + fake + "\n")
    proc, _, summary = verify("--container-log", forged, "--json", corpus["transcripts"][sid])
    assert proc.returncode == 1
    assert any(p["status"] == "FORGED" for p in summary["container_problems"])


def test_typed_mention_is_not_a_finding(corpus, tmp_path):
    """A user grepping for markers (EXECMARK1 without a payload) is not MANGLED."""
    sid = corpus["sids"][2]
    t = corpus["transcripts"][sid].read_bytes()
    t = t.replace(b"ls -la", b"grep -c EXECMARK1 /var/log/app.log; ls -la", 1)
    (tmp_path / f"{sid}.log").write_bytes(t)
    proc, rows, _ = verify("--container-log", corpus["container"], "--json", tmp_path)
    assert_clean(proc, rows, [sid])


# --------------------------------------------------------------------------------------------
# Exit codes and usage


def test_exit_codes(corpus, tmp_path):
    """0 clean, 1 findings, 2 usage, 3 unreadable input; --help 0."""
    sid = corpus["sids"][0]
    log = corpus["transcripts"][sid]
    assert verify("--container-log", corpus["container"], log)[0].returncode == 0
    assert verify(log)[0].returncode == 1  # no trusted key: FORGED
    assert verify()[0].returncode == 2
    assert verify("--bogus", log)[0].returncode == 2
    proc = verify("--key", "not-a-key", log)[0]
    assert proc.returncode == 2 and b"read key" in proc.stderr
    proc = verify("--container-log", corpus["container"], log, tmp_path / "missing.log")[0]
    assert proc.returncode == 3
    assert b"missing.log: No such file or directory" in proc.stderr
    bad = tmp_path / f"{sid}.log.gz"
    bad.write_bytes(gzip.compress(log.read_bytes())[:200])
    assert verify("--container-log", corpus["container"], bad)[0].returncode == 3
    (tmp_path / "empty-dir").mkdir()
    assert verify("--container-log", corpus["container"], tmp_path / "empty-dir")[0].returncode == 3
    help_proc = verify("--help")[0]
    assert help_proc.returncode == 0 and b"Usage: execmark verify" in help_proc.stdout


def test_directory_entries_that_cannot_be_read_are_named(corpus, tmp_path):
    """A directory tree is never reported as complete when part of it was not read: a FIFO, a
    dangling link and a link to a directory (not followed) are each named on stderr and make the
    exit status 3, while every readable session log in the tree is still verified (clean).
    Dot files stay skipped quietly."""
    a, b = corpus["sids"][:2]
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    shutil.copy(corpus["transcripts"][a], tree / f"{a}.log")
    shutil.copy(corpus["transcripts"][b], tree / "sub" / f"{b}.log")
    os.mkfifo(tree / "pipe.log")
    (tree / "gone.log").symlink_to(tmp_path / "nowhere.log")
    (tree / "linked").symlink_to(tree / "sub")
    (tree / ".partial").write_text("an unfinished download")
    proc, rows, _ = verify("--container-log", corpus["container"], "--json", tree)
    err = proc.stderr.decode()
    assert proc.returncode == 3, err
    assert f"{tree / 'pipe.log'}: not a regular file" in err, err
    assert f"{tree / 'gone.log'}: No such file or directory" in err, err
    assert f"{tree / 'linked'}: a link to a directory is not followed" in err, err
    assert ".partial" not in err
    assert set(rows) == {a, b}, err
    assert all(row["status"] == "OK" for row in rows.values()), rows


@pytest.mark.skipif(not shutil.which("setpriv"), reason="setpriv (util-linux) not installed")
def test_unreadable_subdirectory_is_named(corpus):
    """An auditor's account that cannot enter a subdirectory of the tree gets that directory
    named (Permission denied) and exit status 3; the rest is still read. Run as `nobody`
    (root would read it), in a directory of its own that nobody can traverse."""
    as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    if subprocess.run([*as_nobody, ac.execmark_bin(), "--version"],
                      capture_output=True).returncode != 0:
        pytest.skip(f"{ac.execmark_bin()} cannot be run by nobody (a parent directory is private)")
    shared = next((d for d in ("/var/tmp", "/dev/shm")
                   if subprocess.run([*as_nobody, "test", "-w", d]).returncode == 0), None)
    if shared is None:
        pytest.skip("no directory both root and nobody can use (/var/tmp, /dev/shm)")
    a, b = corpus["sids"][:2]
    base = Path(tempfile.mkdtemp(prefix="execmark-verify-", dir=shared))
    locked = base / "logs" / "locked"
    try:
        base.chmod(0o755)
        locked.mkdir(parents=True)
        shutil.copy(corpus["transcripts"][a], base / "logs" / f"{a}.log")
        shutil.copy(corpus["container"], base / "container.log")
        (base / "logs").chmod(0o755)
        shutil.copy(corpus["transcripts"][b], locked / f"{b}.log")
        locked.chmod(0o700)  # root's: nobody cannot enter
        for f in base.rglob("*"):
            if f.is_file():
                f.chmod(0o644)
        proc = subprocess.run(
            [*as_nobody, ac.execmark_bin(), "verify", "--container-log", str(base / "container.log"), "--json",
             str(base / "logs")],
            capture_output=True, timeout=120)
        err = proc.stderr.decode()
        assert proc.returncode == 3, err
        assert f"{locked}: Permission denied" in err, err
        rows, _ = ac.json_rows(proc)
        assert set(rows) == {a} and rows[a]["status"] == "OK", (rows, err)
    finally:
        if locked.exists():
            locked.chmod(0o755)
        shutil.rmtree(base)


def test_table_output(corpus):
    """The default output is an aligned table, then keys and totals."""
    proc, _, _ = verify("--container-log", corpus["container"], corpus["s3"])
    out = proc.stdout.decode()
    lines = out.splitlines()
    assert lines[0].split() == ["SESSION", "CLAIM", "TASK/CONTAINER", "START", "DURATION",
                                "MARKERS", "STATUS"]
    status_col = lines[0].index("STATUS")
    for sid in corpus["sids"]:
        line = next(l for l in lines if l.startswith(sid))
        assert line[status_col:] == "OK"
    assert "4 sessions: 4 clean, 0 with findings." in out
    assert "Trusted keys:" in out


def test_progress_only_on_a_terminal(corpus, tmp_path):
    """With 20 or more files, a progress line goes to stderr when it is a terminal, and
    nothing when it is not."""
    import pexpect

    sid = corpus["sids"][0]
    for i in range(24):
        (tmp_path / f"copy{i:02d}").mkdir()
        shutil.copy(corpus["transcripts"][sid], tmp_path / f"copy{i:02d}" / f"{sid}.log")
    proc, _, _ = verify("--container-log", corpus["container"], tmp_path)
    assert proc.returncode == 0 and proc.stderr == b""
    child = pexpect.spawn(ac.execmark_bin(), ["verify", "--container-log",
                                              str(corpus["container"]), str(tmp_path)],
                          timeout=60)
    child.expect(r"\[execmark\] \d+/25 files")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
