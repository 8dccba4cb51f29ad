# SPDX-License-Identifier: MIT
"""`execmark audit` on an organization's data (issue 12), through the real binary.

Contract: a CloudTrail Lake result set (get-query-results, two pages) is read like any trail;
digest files are skipped and not counted; JSON of no known shape is named on stderr, exits 3 and
is never a record; an Identity Center directory (`aws identitystore list-users`) maps an
AWSReservedSSO session name to the user so that the claim `carol` matches and the report says
how; denied ExecuteCommand calls are listed (exit 0, or 1 with --fail-on-denied); sessions carry
account and region, and the filters skip and count sessions instead of reporting them; a
lookup-events or filter-log-events page whose NextToken was not followed is named, the report
says the input is incomplete and the exit status is 3; the table pads names like "Zoë" by
display width.

Fixture shapes: the CloudTrail userIdentity element and GetQueryResults response (CloudTrail
User Guide and API Reference), the digest file structure (CloudTrail log file integrity
validation), the ListUsers response (IAM Identity Center Identity Store API Reference) and the
AWS CLI's output of lookup-events and filter-log-events; all values are invented here.
"""

from __future__ import annotations

import copy
import gzip
import json
import random

import pytest

import audit_corpus as ac

_missing = ac.prerequisites_missing()
pytestmark = pytest.mark.skipif(_missing is not None, reason=_missing or "")

SSO_ROLE = "AWSReservedSSO_PlatformAdmin_0a1b2c3d4e5f6a7b"
CAROL_ARN = f"arn:aws:sts::{ac.ACCOUNT}:assumed-role/{SSO_ROLE}/carol@example.com"
ZOE_ARN = ac.role_arn("zoë")
OTHER_ACCOUNT = "111122223333"


def session_fields(user: str) -> dict:
    return {"user": user, "shell": "/bin/bash", "tty": "/dev/pts/0", "cpid": 4250, "mode": "hook"}


def sso_exec(sid: str, minute: int, event_id: str) -> dict:
    rec = ac.exec_record(sid, CAROL_ARN, f"2026-03-02T09:{minute:02d}:00Z", event_id)
    ctx = rec["userIdentity"]["sessionContext"]["sessionIssuer"]
    ctx["arn"] = (f"arn:aws:iam::{ac.ACCOUNT}:role/aws-reserved/sso.amazonaws.com/"
                  f"{ac.REGION}/{SSO_ROLE}")
    ctx["userName"] = SSO_ROLE
    return rec


def denied_exec(minute: int, event_id: str) -> dict:
    rec = ac.exec_record("", ac.role_arn("lee.dev"), f"2026-03-02T09:{minute:02d}:30Z", event_id)
    rec["errorCode"] = "AccessDenied"
    rec["errorMessage"] = ("User: arn:aws:sts::210987654321:assumed-role/PlatformOncall/lee.dev "
                           "is not authorized to perform: ecs:ExecuteCommand")
    rec["responseElements"] = None
    return rec


def lake_rows(records: list[dict]) -> list[list[dict]]:
    """get-query-results rows: one single-member object per column; structured values as JSON
    strings (how a `SELECT *` of an event data store returns them through the CLI)."""
    rows = []
    for r in records:
        rows.append([{k: v if isinstance(v, str) else json.dumps(v)} for k, v in r.items()
                     if v is not None])
    return rows


@pytest.fixture(scope="module")
def org(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("org")
    rng = random.Random(12)
    names = ["carol", "zoe", "other"]
    sid = {n: ac.session_id(rng) for n in names}
    capture = ac.pty_capture(root / "pty")
    # Honest sessions are recorded: PID 1's rec checkpoints of each (docs/markers.md §12).
    region = ac.recorded_region(capture)
    events = []
    for n, user in [("carol", "carol"), ("zoe", "zoë"), ("other", "dana.ops")]:
        events.append({"ev": "open", "sid": sid[n], **session_fields(user)})
        events += ac.rec_events(sid[n], region)
        events.append({"ev": "close", "sid": sid[n], "fin": "exit", "rc": 0, "advance_ms": 60000})
    manifest = ac.mksession({"boots": [{"id": "genuine", "start": "2026-03-02T09:00:00.000Z",
                                        "meta": ac.META, "events": events}]})
    boot = manifest["boots"][0]
    sessions = root / "sessions"
    for n in names:
        lines = {m["ev"]: m["line"] for m in boot["markers"] if m["sid"] == sid[n]}
        ac.script_transcript(ac.fill_capture(capture, lines["open"], lines["close"]),
                             sessions / f"{sid[n]}.log", root / "work")
    container = root / "container.json"
    container.write_text(ac.get_log_events(ac.container_messages(
        [m["line"] for m in boot["markers"] if m["sid"].startswith("boot-")])))

    other = ac.exec_record(sid["other"], ac.role_arn("dana.ops"), "2026-03-02T09:02:00Z", "e-3")
    other["recipientAccountId"] = OTHER_ACCOUNT
    other["awsRegion"] = "eu-west-1"
    records = [sso_exec(sid["carol"], 0, "e-1"),
               ac.exec_record(sid["zoe"], ZOE_ARN, "2026-03-02T09:01:00Z", "e-2"),
               other, denied_exec(5, "e-4")]
    lake = root / "lake"
    lake.mkdir()
    (lake / "page1.json").write_text(json.dumps({
        "QueryStatus": "FINISHED",
        "QueryStatistics": {"ResultsCount": 2, "TotalResultsCount": 4, "BytesScanned": 81920},
        "QueryResultRows": lake_rows(records[:2]), "NextToken": "AAAA-page-2"}))
    (lake / "page2.json").write_text(json.dumps({
        "QueryStatus": "FINISHED",
        "QueryStatistics": {"ResultsCount": 2, "TotalResultsCount": 4, "BytesScanned": 81920},
        "QueryResultRows": lake_rows(records[2:])}))
    users = root / "users.json"
    users.write_text(json.dumps({"Users": [
        {"UserName": "carol", "UserId": "9067a1b2c3-4d5e6f70-8192-a3b4-c5d6e7f80912",
         "Name": {"FamilyName": "Nguyen", "GivenName": "Carol"}, "DisplayName": "Carol Nguyen",
         "Emails": [{"Value": "carol@example.com", "Type": "work", "Primary": True}],
         "IdentityStoreId": "d-9067642ac7"},
        {"UserName": "dana.ops", "UserId": "9067aaaa00-1111-2222-3333-444455556666",
         "Emails": [{"Value": "dana@example.com", "Type": "work", "Primary": True}],
         "IdentityStoreId": "d-9067642ac7"}]}))
    return {"root": root, "sid": sid, "sessions": sessions, "container": container,
            "lake": lake, "records": records, "users": users}


def run(org, trail, *extra):
    args = ["audit"]
    for t in trail:
        args += ["--cloudtrail", t]
    args += ["--container-log", org["container"], *extra, org["sessions"]]
    return ac.run_execmark(args)


def test_lake_results_and_identity_center(org):
    proc = run(org, [org["lake"]], "--identity-center-users", org["users"], "--json")
    assert proc.returncode == 0, proc.stderr.decode()
    rows, summary = ac.json_rows(proc)
    carol = rows[org["sid"]["carol"]]
    assert carol["status"] == "ATTRIBUTED"
    assert carol["claim_matched_by"] == "Identity Center user name (session name = e-mail)"
    assert carol["identity_center"]["user_name"] == "carol"
    assert carol["identity_center"]["mapped_by"] == "session name = e-mail"
    assert carol["principal"]["session_issuer"]["name"] == SSO_ROLE
    assert carol["account"] == ac.ACCOUNT and carol["region"] == ac.REGION
    assert rows[org["sid"]["other"]]["account"] == OTHER_ACCOUNT
    assert summary["cloudtrail_records"] == 4
    assert summary["denied_execute_command"] == 1
    # Without the directory, the claim `carol` is not the session name carol@example.com.
    proc = run(org, [org["lake"]], "--json")
    rows, _ = ac.json_rows(proc)
    assert rows[org["sid"]["carol"]]["status"] == "MISMATCH"
    table = run(org, [org["lake"]], "--identity-center-users", org["users"]).stdout.decode()
    assert "is carol (carol@example.com), by session name = e-mail" in table


def test_denied_calls_are_reported_and_counted_only_on_request(org):
    proc = run(org, [org["lake"]], "--identity-center-users", org["users"], "--json")
    denied = [json.loads(l) for l in proc.stdout.decode().splitlines()
              if json.loads(l)["type"] == "denied"]
    assert len(denied) == 1
    assert denied[0]["error_code"] == "AccessDenied"
    assert denied[0]["principal"]["arn"] == ac.role_arn("lee.dev")
    assert denied[0]["task"].endswith(ac.TASK_ID) and denied[0]["container"] == ac.CONTAINER
    assert proc.returncode == 0
    table = run(org, [org["lake"]], "--identity-center-users", org["users"]).stdout.decode()
    assert "Denied or failed ExecuteCommand calls" in table and "AccessDenied: User:" in table
    proc = run(org, [org["lake"]], "--identity-center-users", org["users"], "--fail-on-denied")
    assert proc.returncode == 1


def test_filters_skip_and_count(org):
    proc = run(org, [org["lake"]], "--identity-center-users", org["users"], "--json",
               "--account", ac.ACCOUNT, "--since", "2026-03-02T09:00:00Z",
               "--until", "2026-03-02T09:00:30Z")
    rows, summary = ac.json_rows(proc)
    assert set(rows) == {org["sid"]["carol"]}
    assert summary["out_of_scope"] == {"sessions": 2, "denied": 1}
    assert proc.returncode == 0, proc.stderr.decode()
    proc = run(org, [org["lake"]], "--json", "--region", "eu-west-1", "--cluster", "payments")
    rows, _ = ac.json_rows(proc)
    assert set(rows) == {org["sid"]["other"]}
    assert rows[org["sid"]["other"]]["status"] != "UNMARKED"
    bad = run(org, [org["lake"]], "--since", "yesterday")
    assert bad.returncode == 2 and b"--since" in bad.stderr


def test_digest_skipped_unknown_json_named(org, tmp_path):
    tree = tmp_path / "AWSLogs" / ac.ACCOUNT / "CloudTrail" / ac.REGION / "2026" / "03" / "02"
    tree.mkdir(parents=True)
    (tree / "a.json.gz").write_bytes(gzip.compress(json.dumps(
        {"Records": org["records"] + ac.noise_records(random.Random(1), 5)}).encode()))
    digest = tmp_path / "AWSLogs" / ac.ACCOUNT / "CloudTrail-Digest" / ac.REGION / "2026"
    digest.mkdir(parents=True)
    for hour in ("09", "10"):
        (digest / f"{ac.ACCOUNT}_CloudTrail-Digest_{ac.REGION}_org_{hour}0000Z.json.gz"
         ).write_bytes(gzip.compress(json.dumps({
             "awsAccountId": ac.ACCOUNT, "digestStartTime": f"2026-03-02T{hour}:00:00Z",
             "digestEndTime": f"2026-03-02T{hour}:59:59Z", "digestS3Bucket": "org-trail",
             "digestS3Object": "x", "digestPublicKeyFingerprint": "0f" * 16,
             "digestSignatureAlgorithm": "SHA256withRSA", "newestEventTime": None,
             "oldestEventTime": None, "previousDigestS3Bucket": None,
             "previousDigestHashValue": None, "logFiles": [
                 {"s3Bucket": "org-trail", "s3Object": "a.json.gz", "hashValue": "00",
                  "hashAlgorithm": "SHA-256", "newestEventTime": "2026-03-02T09:20:00Z",
                  "oldestEventTime": "2026-03-02T09:01:00Z"}]}).encode()))
    proc = run(org, [tmp_path / "AWSLogs"], "--identity-center-users", org["users"], "--json")
    _, summary = ac.json_rows(proc)
    assert summary["cloudtrail_records"] == 9  # 4 + 5 noise, not the two digests
    assert summary["digest_files_skipped"] == 2
    assert proc.returncode == 0, proc.stderr.decode()

    query = tmp_path / "start-query.json"
    query.write_text(json.dumps({"QueryId": "0d8f3bd5-27cc-4d32-a4b5-example"}))
    proc = run(org, [tmp_path / "AWSLogs", query], "--identity-center-users", org["users"],
               "--json")
    _, summary2 = ac.json_rows(proc)
    assert proc.returncode == 3
    assert str(query) in proc.stderr.decode() and "not CloudTrail" in proc.stderr.decode()
    assert summary2["cloudtrail_records"] == 9


def test_unfollowed_pages_make_the_input_incomplete(org, tmp_path):
    proc = run(org, [org["lake"] / "page1.json"], "--identity-center-users", org["users"])
    assert proc.returncode == 3
    err = proc.stderr.decode()
    assert "page1.json: get-query-results output ends with a NextToken" in err
    assert "The CloudTrail input is incomplete" in proc.stdout.decode()

    page = json.loads(ac.lookup_events(org["records"][:1]))
    page["NextToken"] = "eyJOZXh0VG9rZW4iOiBudWxsfQ=="
    lookup = tmp_path / "lookup-page1.json"
    lookup.write_text(json.dumps(page))
    proc = run(org, [org["lake"], lookup], "--identity-center-users", org["users"])
    assert proc.returncode == 3 and b"lookup-page1.json: lookup-events output" in proc.stderr
    # With its next page (older events) given too, the input is complete.
    later = tmp_path / "lookup-page2.json"
    older = copy.deepcopy(org["records"][0])
    older["eventTime"], older["eventID"] = "2026-03-02T08:00:00Z", "e-old"
    older["responseElements"]["session"]["sessionId"] = "ecs-execute-command-old"
    later.write_text(ac.lookup_events([older]))
    proc = run(org, [org["lake"], lookup, later], "--identity-center-users", org["users"])
    assert b"lookup-page1.json" not in proc.stderr, proc.stderr.decode()

    # A session log fetched with filter-log-events --max-items: its nextToken is not followed.
    sid = org["sid"]["carol"]
    text = (org["sessions"] / f"{sid}.log").read_bytes()
    fle = json.loads(ac.filter_log_events({sid: ac.ssm_cloudwatch_messages(text)}))
    fle["nextToken"] = "Bxkq6kVGFtq2y_MoigeqscPOdhXVbhiVtLoAmXb5jCrI7fXLrmTbsbJ6XkdHyRaX2C"
    cw = tmp_path / "cw"
    cw.mkdir()
    (cw / "day.json").write_text(json.dumps(fle))
    proc = ac.run_execmark(["verify", "--container-log", org["container"], cw])
    assert proc.returncode == 3
    assert b"filter-log-events output ends with a nextToken" in proc.stderr
    assert b"The session log input is incomplete" in proc.stdout


def test_table_pads_by_display_width(org):
    out = run(org, [org["lake"]], "--identity-center-users", org["users"]).stdout.decode()
    lines = [l for l in out.splitlines()[:4]]
    col = [l.index("TASK/CONTAINER") if i == 0 else l.index(ac.TASK_ID[:12])
           for i, l in enumerate(lines)]
    # Character (not byte) offsets are equal: "zoë" takes the columns of "zoe".
    assert len(set(col)) == 1, lines
