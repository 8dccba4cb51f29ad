// SPDX-License-Identifier: MIT
// The auditor on an organization's data (issue 12): CloudTrail Lake results, digest files and
// unrecognised JSON, every userIdentity type, the Identity Center directory, denied calls,
// filters, unfollowed pages, the override fields and the table's display width.
//
// Fixtures follow the shapes of AWS's documentation — the CloudTrail userIdentity element
// (awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html), the
// GetQueryResults response (awscloudtrail/latest/APIReference/API_GetQueryResults.html), the
// digest file structure (cloudtrail-log-file-validation-digest-file-structure.html) and the
// identitystore ListUsers response (singlesignon/latest/IdentityStoreAPIReference) — with
// values written for these tests.

#include <agent/audit/assessment.hpp>
#include <agent/audit/identity_center.hpp>
#include <agent/audit/pages.hpp>
#include <agent/audit/render.hpp>
#include <agent/audit/terminal.hpp>

#include <catch2/catch.hpp>

using namespace execmark::audit;

namespace {

constexpr const char* k_account = "210987654321";
constexpr const char* k_task =
    "arn:aws:ecs:ap-southeast-2:210987654321:task/payments/9f8e7d6c5b4a39281706f5e4d3c2b1a0";

Json exec_record(const std::string& sid, const Json& identity, const std::string& event_id)
{
    return Json{
        {"eventVersion", "1.09"},
        {"userIdentity", identity},
        {"eventTime", "2026-03-02T09:15:41Z"},
        {"eventSource", "ecs.amazonaws.com"},
        {"eventName", "ExecuteCommand"},
        {"awsRegion", "ap-southeast-2"},
        {"recipientAccountId", k_account},
        {"requestParameters",
         {{"cluster", "payments"},
          {"container", "api"},
          {"command", "/bin/bash"},
          {"interactive", true},
          {"task", "9f8e7d6c5b4a39281706f5e4d3c2b1a0"}}},
        {"responseElements",
         {{"containerName", "api"},
          {"session", {{"sessionId", sid}, {"tokenValue", "HIDDEN_DUE_TO_SECURITY_REASONS"}}},
          {"taskArn", k_task}}},
        {"eventID", event_id}};
}

const Json k_role = {{"type", "AssumedRole"},
                     {"principalId", "AROAZZTESTROLE0000001:dana.ops"},
                     {"arn", "arn:aws:sts::210987654321:assumed-role/PlatformOncall/dana.ops"},
                     {"accountId", k_account}};

Principal principal_of(const Json& identity)
{
    const TrailRecord r = classify_trail_record(exec_record("s-1", identity, "e-1"), "AWS_USER");
    REQUIRE(std::holds_alternative<ExecEvent>(r));
    return std::get<ExecEvent>(r).principal;
}

execmark::util::Status read(const std::string& text, TrailIndex& index, PageSet* pages = nullptr)
{
    auto in = Input::from_memory("trail.json", text);
    REQUIRE(in.ok());
    return read_trail_input(*in, "AWS_USER", index, pages);
}

IdentityDirectory directory()
{
    // `aws identitystore list-users` output (ListUsers response shape).
    const std::string text = R"({"Users":[
      {"UserName":"carol","UserId":"9067a1b2c3-4d5e6f70-8192-a3b4-c5d6e7f80912",
       "Name":{"FamilyName":"Nguyen","GivenName":"Carol"},"DisplayName":"Carol Nguyen",
       "Emails":[{"Value":"carol@example.com","Type":"work","Primary":true}],
       "IdentityStoreId":"d-9067642ac7"},
      {"UserName":"eve@example.com","UserId":"9067ffee00-1111-2222-3333-444455556666",
       "Emails":[{"Value":"eve@example.com","Type":"work","Primary":true}],
       "IdentityStoreId":"d-9067642ac7"}]})";
    auto in = Input::from_memory("users.json", text);
    REQUIRE(in.ok());
    IdentityDirectory dir;
    REQUIRE(dir.read(*in).ok());
    return dir;
}

LogVerdict verdict(const std::string& sid, const std::string& claim)
{
    LogVerdict v;
    v.id.key = "file:" + sid;
    v.id.source = sid + ".log";
    v.id.own_sid = sid;
    v.sid = sid;
    v.own = v.verified = v.markers = 2;
    v.facts.has_open = v.facts.has_close = true;
    v.facts.claim = claim;
    v.facts.open_ts = "2026-03-02T09:15:43.000Z";
    v.facts.close_ts = "2026-03-02T09:20:43.000Z";
    v.facts.task = k_task;
    v.facts.ctr = "api";
    return v;
}

} // namespace

TEST_CASE("org: a CloudTrail Lake result set is read, its JSON strings and notation parsed")
{
    // get-query-results: rows of one-member objects; structured columns as JSON strings (page
    // 1) or in the Lake's {key=value} notation (page 2).
    const Json identity = {{"type", "IAMUser"},
                           {"principalId", "AIDAZZTESTUSER0000001"},
                           {"arn", "arn:aws:iam::210987654321:user/lee"},
                           {"accountId", k_account},
                           {"userName", "lee"}};
    const Json rec = exec_record("ecs-execute-command-lake1", identity, "lake-1");
    Json row = Json::array();
    for (const auto& [k, v] : rec.items()) {
        row.push_back(Json{{k, v.is_string() ? v : Json(v.dump())}});
    }
    const Json page1 = {{"QueryStatus", "FINISHED"},
                        {"QueryStatistics", {{"ResultsCount", 1}, {"BytesScanned", 4096}}},
                        {"QueryResultRows", Json::array({row})},
                        {"NextToken", "page-2-token"}};
    const std::string page2 = R"({"QueryStatus":"FINISHED","QueryResultRows":[[
      {"eventID":"lake-2"},{"eventTime":"2026-03-02T10:00:00Z"},
      {"eventSource":"ecs.amazonaws.com"},{"eventName":"ExecuteCommand"},
      {"awsRegion":"eu-west-1"},{"recipientAccountId":"123456789012"},
      {"userIdentity":"{type=AssumedRole, principalid=AROAZZ:carol@example.com, arn=arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_0a1b2c3d4e5f6a7b/carol@example.com, accountid=123456789012, accesskeyid=ASIAZZ, username=null, sessioncontext={attributes={creationdate=2026-03-02 09:59:00.000, mfaauthenticated=false}, sessionissuer={type=Role, principalid=AROAZZ, arn=arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_0a1b2c3d4e5f6a7b, accountid=123456789012, username=AWSReservedSSO_Admin_0a1b2c3d4e5f6a7b}, sourceidentity=null}, invokedby=null}"},
      {"requestParameters":"{cluster=web, task=abc, container=app, command=/bin/sh, interactive=true}"},
      {"responseElements":"{\"containerName\":\"app\",\"session\":{\"sessionId\":\"ecs-execute-command-lake2\"},\"taskArn\":\"arn:aws:ecs:eu-west-1:123456789012:task/web/abc\"}"}
    ]]})";
    TrailIndex index;
    PageSet pages;
    REQUIRE(read(page1.dump() + "\n" + page2, index, &pages).ok());
    CHECK(index.records() == 2);
    const ExecEvent* one = index.find_exec("ecs-execute-command-lake1");
    REQUIRE(one != nullptr);
    CHECK(one->principal.user_name == "lee");
    CHECK(one->container == "api");
    const ExecEvent* two = index.find_exec("ecs-execute-command-lake2");
    REQUIRE(two != nullptr);
    CHECK(two->principal.type == "AssumedRole");
    CHECK(two->principal.issuer_arn.find("aws-reserved/sso.amazonaws.com") != std::string::npos);
    CHECK(two->cluster == "web");
    CHECK(two->account == "123456789012");
    CHECK(pages.unfollowed().empty()); // page 1's token is followed by page 2

    // Page 1 alone: its NextToken is not followed.
    TrailIndex alone;
    PageSet alone_pages;
    REQUIRE(read(page1.dump(), alone, &alone_pages).ok());
    REQUIRE(alone_pages.unfollowed().size() == 1);
    CHECK(alone_pages.unfollowed()[0].find("NextToken") != std::string::npos);
    CHECK(alone_pages.incomplete_roles() == std::vector<std::string>{"CloudTrail"});

    // A query that did not finish is an error, not an empty result.
    TrailIndex running;
    const auto st = read(R"({"QueryStatus":"RUNNING","QueryResultRows":[]})", running);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().message.find("RUNNING") != std::string::npos);
}

TEST_CASE("org: digest files are skipped uncounted, unknown JSON is an error and never a record")
{
    const Json digest = {{"awsAccountId", k_account},
                         {"digestStartTime", "2026-03-02T09:00:00Z"},
                         {"digestEndTime", "2026-03-02T10:00:00Z"},
                         {"digestS3Bucket", "org-trail"},
                         {"digestS3Object", "AWSLogs/x_CloudTrail-Digest_x.json.gz"},
                         {"logFiles", Json::array({{{"s3Bucket", "org-trail"}}})}};
    TrailIndex index;
    REQUIRE(read(digest.dump(), index).ok());
    CHECK(index.records() == 0);
    CHECK(index.digests() == 1);

    TrailIndex other;
    const auto st = read(R"({"QueryId":"q-1"} {"Records":[{"eventName":"GetObject"}, 5]})", other);
    REQUIRE_FALSE(st.ok());
    INFO(st.error().message);
    CHECK(st.error().message.find("2 JSON values are not CloudTrail") != std::string::npos);
    CHECK(st.error().message.find("QueryId") != std::string::npos);
    CHECK(other.records() == 1); // the GetObject record only
}

TEST_CASE("org: every documented userIdentity type is kept and shown")
{
    // IAMUser
    Principal p = principal_of({{"type", "IAMUser"},
                                {"principalId", "AIDAZZ"},
                                {"arn", "arn:aws:iam::210987654321:user/ops/lee"},
                                {"accountId", k_account},
                                {"userName", "lee"}});
    CHECK(principal_display(p) == "user/lee");
    CHECK(match_claim("lee", p)->rule == "IAM user name");

    // AssumedRole with sessionContext and sourceIdentity
    Json role = k_role;
    role["sessionContext"] = {
        {"sessionIssuer",
         {{"type", "Role"},
          {"arn", "arn:aws:iam::210987654321:role/PlatformOncall"},
          {"userName", "PlatformOncall"}}},
        {"sourceIdentity", "dana@corp.example"},
        {"attributes", {{"creationDate", "2026-03-02T09:00:00Z"}, {"mfaAuthenticated", "true"}}}};
    p = principal_of(role);
    CHECK(p.issuer_type == "Role");
    CHECK(p.source_identity == "dana@corp.example");
    CHECK(match_claim("dana.ops", p)->rule == "role session name");
    CHECK(match_claim("dana@corp.example", p)->rule == "source identity");
    CHECK_FALSE(match_claim("PlatformOncall", p));

    // Root
    p = principal_of({{"type", "Root"},
                      {"principalId", k_account},
                      {"arn", "arn:aws:iam::210987654321:root"},
                      {"accountId", k_account}});
    CHECK(principal_display(p) == "root");
    CHECK_FALSE(match_claim("root", p));

    // FederatedUser
    p = principal_of({{"type", "FederatedUser"},
                      {"principalId", "210987654321:Alice"},
                      {"arn", "arn:aws:sts::210987654321:federated-user/Alice"},
                      {"accountId", k_account},
                      {"sessionContext",
                       {{"sessionIssuer",
                         {{"type", "IAMUser"},
                          {"arn", "arn:aws:iam::210987654321:user/Bob"},
                          {"userName", "Bob"}}}}}});
    CHECK(principal_display(p) == "federated-user/Alice");
    CHECK(match_claim("alice", p));
    CHECK_FALSE(match_claim("Bob", p));

    // AWSAccount
    p = principal_of(
        {{"type", "AWSAccount"}, {"principalId", "AIDAZZOTHER"}, {"accountId", "111122223333"}});
    CHECK(principal_display(p) == "account/111122223333");
    CHECK_FALSE(match_claim("AIDAZZOTHER", p));

    // AWSService with invokedBy
    p = principal_of({{"type", "AWSService"}, {"invokedBy", "ecs.amazonaws.com"}});
    CHECK(p.invoked_by == "ecs.amazonaws.com");
    CHECK(principal_display(p) == "service/ecs.amazonaws.com");

    // IdentityCenterUser with onBehalfOf and credentialId
    p = principal_of(
        {{"type", "IdentityCenterUser"},
         {"accountId", k_account},
         {"onBehalfOf",
          {{"userId", "9067a1b2c3-4d5e6f70-8192-a3b4-c5d6e7f80912"},
           {"identityStoreArn", "arn:aws:identitystore::210987654321:identitystore/d-9067642ac7"}}},
         {"credentialId", "EXAMPLEcredentialIdEXAMPLE"}});
    CHECK(p.on_behalf_of == "9067a1b2c3-4d5e6f70-8192-a3b4-c5d6e7f80912");
    CHECK(p.identity_store_arn.ends_with("d-9067642ac7"));
    CHECK(p.credential_id == "EXAMPLEcredentialIdEXAMPLE");
    CHECK(principal_display(p) == "identity-center/9067a1b2c3-4d5e6f70-8192-a3b4-c5d6e7f80912");
    CHECK(match_claim("9067a1b2c3-4d5e6f70-8192-a3b4-c5d6e7f80912", p)->rule
          == "Identity Center user id");
    const IdentityDirectory dir = directory();
    const auto carol = match_claim("carol", p, &dir);
    REQUIRE(carol);
    CHECK(carol->rule == "Identity Center user name (user id)");

    // Unknown
    p = principal_of({{"type", "Unknown"},
                      {"principalId", "210987654321"},
                      {"accountId", k_account},
                      {"userName", "someone"}});
    CHECK(principal_display(p) == "unknown/someone");
    CHECK_FALSE(match_claim("someone", p));
}

TEST_CASE("org: Identity Center directory maps AWSReservedSSO session names, and only those")
{
    const IdentityDirectory dir = directory();
    REQUIRE(dir.size() == 2);
    Principal sso;
    sso.type = "AssumedRole";
    sso.arn = "arn:aws:sts::210987654321:assumed-role/AWSReservedSSO_Admin_0a1b2c3d4e5f6a7b/"
              "carol@example.com";
    sso.issuer_arn = "arn:aws:iam::210987654321:role/aws-reserved/sso.amazonaws.com/"
                     "ap-southeast-2/AWSReservedSSO_Admin_0a1b2c3d4e5f6a7b";
    const auto found = dir.find(sso);
    REQUIRE(found);
    CHECK(found->user->user_name == "carol");
    CHECK(found->how == "session name = e-mail");
    CHECK(match_claim("carol", sso, &dir)->rule
          == "Identity Center user name (session name = e-mail)");
    CHECK_FALSE(match_claim("carol", sso)); // without the directory, as documented

    // A role the caller names the session of himself is never mapped.
    Principal own = sso;
    own.arn = "arn:aws:sts::210987654321:assumed-role/PlatformOncall/carol@example.com";
    own.issuer_arn = "arn:aws:iam::210987654321:role/PlatformOncall";
    CHECK_FALSE(dir.find(own));
    // An AWSReservedSSO_ name outside Identity Center's path is not one either.
    Principal fake = sso;
    fake.issuer_arn = "arn:aws:iam::210987654321:role/AWSReservedSSO_Admin_0a1b2c3d4e5f6a7b";
    CHECK_FALSE(dir.find(fake));
    // Another identity store's user id is another person.
    Principal other;
    other.type = "IdentityCenterUser";
    other.on_behalf_of = "9067a1b2c3-4d5e6f70-8192-a3b4-c5d6e7f80912";
    other.identity_store_arn = "arn:aws:identitystore::111122223333:identitystore/d-0000000000";
    CHECK_FALSE(dir.find(other));

    auto bad = Input::from_memory("bad.json", R"({"Groups":[]})");
    REQUIRE(bad.ok());
    IdentityDirectory none;
    CHECK_FALSE(none.read(*bad).ok());
}

TEST_CASE("org: denied calls, account and region, filters, the override fields")
{
    TrailIndex trail;
    Json sso_identity = k_role;
    sso_identity["arn"] =
        "arn:aws:sts::210987654321:assumed-role/AWSReservedSSO_Admin_0a1b2c3d4e5f6a7b/carol";
    trail.add(std::get<ExecEvent>(
        classify_trail_record(exec_record("s-carol", sso_identity, "e-1"), "AWS_USER")));
    Json denied = exec_record("", k_role, "e-2");
    denied.erase("responseElements");
    denied["errorCode"] = "AccessDenied";
    denied["errorMessage"] = "User is not authorized to perform: ecs:ExecuteCommand";
    trail.add(std::get<DeniedExec>(classify_trail_record(denied, "AWS_USER")));
    Json other_account = exec_record("s-other", k_role, "e-3");
    other_account["recipientAccountId"] = "111122223333";
    trail.add(std::get<ExecEvent>(classify_trail_record(other_account, "AWS_USER")));
    RunTaskEvent run;
    run.event_id = "e-4";
    run.principal.arn = "arn:aws:sts::210987654321:assumed-role/DeployBot/gha-run-881";
    run.task_arns = {k_task};
    run.claim_overrides = {{"api", "carol"}};
    trail.add(run);

    const IdentityDirectory dir = directory();
    JoinInputs in;
    in.verdicts = {verdict("s-carol", "carol"), verdict("s-other", "dana.ops")};
    in.trail = &trail;
    in.directory = &dir;
    in.scope.accounts = {k_account};
    const Assessment a = assess(std::move(in), Totals{});
    REQUIRE(a.sessions.size() == 1);
    const SessionRecord& row = a.sessions[0];
    CHECK(row.session == "s-carol");
    CHECK(row.clean());
    CHECK(row.account() == k_account);
    CHECK(row.region() == "ap-southeast-2");
    REQUIRE(row.person);
    CHECK(row.person->how == "session name = user name");
    REQUIRE(row.claim_override);
    CHECK(row.claim_override->claim_equals == true);
    CHECK(a.totals.out_of_scope_sessions == 1);
    REQUIRE(a.denied.size() == 1);
    CHECK(a.denied[0].calls.call.error_code == "AccessDenied");
    CHECK(a.denied[0].calls.count == 1);
    CHECK(a.totals.denied == 1);

    const std::string json = render_json(a);
    const auto session = Json::parse(json.substr(0, json.find('\n')));
    CHECK(session["account"] == k_account);
    CHECK(session["region"] == "ap-southeast-2");
    CHECK(session["claim_matched_by"] == "role session name"); // the first rule that fits
    CHECK(session["identity_center"]["user_name"] == "carol");
    CHECK(session["identity_center"]["emails"][0] == "carol@example.com");
    CHECK(session["claim_override_set_by"]
          == "arn:aws:sts::210987654321:assumed-role/DeployBot/gha-run-881");
    CHECK(session["claim_equals_override"] == true);
    CHECK_FALSE(session.contains("claim_set_by"));
    CHECK(json.find("{\"type\":\"denied\"") != std::string::npos);
    CHECK(json.find("\"error_code\":\"AccessDenied\"") != std::string::npos);
    const std::string table = render_table(a);
    CHECK(table.find("Denied or failed ExecuteCommand calls") != std::string::npos);
    CHECK(table.find("AccessDenied: User is not authorized") != std::string::npos);
    CHECK(table.find("Identity Center users:") != std::string::npos);
    CHECK(table.find("Outside the filters, skipped: 1 session") != std::string::npos);
}

TEST_CASE("org: a claim that equals the override but not the caller says who set it")
{
    TrailIndex trail;
    trail.add(
        std::get<ExecEvent>(classify_trail_record(exec_record("s-1", k_role, "e-1"), "AWS_USER")));
    RunTaskEvent run;
    run.event_id = "e-4";
    run.principal.arn = "arn:aws:sts::210987654321:assumed-role/DeployBot/gha-run-881";
    run.task_arns = {k_task};
    run.claim_overrides = {{"api", "lee.dev"}};
    trail.add(run);
    JoinInputs in;
    in.verdicts = {verdict("s-1", "lee.dev")};
    in.trail = &trail;
    const Assessment a = assess(std::move(in), Totals{});
    REQUIRE(a.sessions.size() == 1);
    CHECK(a.sessions[0].findings.has(Finding::mismatch));
    CHECK(a.sessions[0].problems[0].detail.find("set by RunTask caller "
                                                "assumed-role/DeployBot/gha-run-881")
          != std::string::npos);
    const auto j = Json::parse(render_json(a).substr(0, render_json(a).find('\n')));
    CHECK(j["claim_override"] == "lee.dev");
    CHECK(j["claim_equals_override"] == true);
    CHECK(j["claim_matches"] == false);
}

TEST_CASE("org: lookup-events and filter-log-events pages follow each other in time")
{
    const auto page =
        [](std::string shape, PageOrder order, bool token, std::int64_t a, std::int64_t b) {
            Page p;
            p.input = shape + std::to_string(a);
            p.role = "CloudTrail";
            p.shape = std::move(shape);
            p.order = order;
            p.has_token = token;
            p.saw_time(a);
            p.saw_time(b);
            return p;
        };
    PageSet chain; // newest first: 30..20, then 20..10, then 9..1
    chain.add(page("lookup-events", PageOrder::newest_first, false, 9, 1));
    chain.add(page("lookup-events", PageOrder::newest_first, true, 30, 20));
    chain.add(page("lookup-events", PageOrder::newest_first, true, 20, 10));
    CHECK(chain.unfollowed().empty());
    PageSet cut; // the last page is missing
    cut.add(page("lookup-events", PageOrder::newest_first, true, 30, 20));
    cut.add(page("lookup-events", PageOrder::newest_first, true, 20, 10));
    CHECK(cut.unfollowed().size() == 1);
    PageSet wrong; // a later page cannot follow an earlier one in filter-log-events
    wrong.add(page("filter-log-events", PageOrder::oldest_first, true, 50, 60));
    wrong.add(page("filter-log-events", PageOrder::oldest_first, false, 10, 20));
    CHECK(wrong.unfollowed().size() == 1);
}

TEST_CASE("org: table columns are padded by display width")
{
    CHECK(display_width("dana") == 4);
    CHECK(display_width("Zoë Müller") == 10);
    CHECK(display_width("e\xcc\x81") == 1);                // e + combining acute
    CHECK(display_width("\xe6\xbc\xa2\xe5\xad\x97") == 4); // 漢字
    CHECK(display_width("\xff\xfe") == 2);                 // invalid bytes: one column each

    TrailIndex trail;
    trail.add(
        std::get<ExecEvent>(classify_trail_record(exec_record("s-a", k_role, "e-1"), "AWS_USER")));
    trail.add(
        std::get<ExecEvent>(classify_trail_record(exec_record("s-b", k_role, "e-2"), "AWS_USER")));
    JoinInputs in;
    in.verdicts = {verdict("s-a", "Zoë Müller"), verdict("s-b", "dana")};
    in.trail = &trail;
    const std::string table = render_table(assess(std::move(in), Totals{}));
    // The column after the claim starts at the same display column on every row.
    std::vector<std::size_t> starts;
    std::size_t at = 0;
    for (int line = 0; line < 3; ++line) {
        const std::size_t end = table.find('\n', at);
        const std::string text = table.substr(at, end - at);
        const std::size_t task = text.find(line == 0 ? "TASK/CONTAINER" : "9f8e7d6c5b4a/api");
        REQUIRE(task != std::string::npos);
        starts.push_back(display_width(text.substr(0, task)));
        at = end + 1;
    }
    CHECK(starts[0] == starts[1]);
    CHECK(starts[1] == starts[2]);
}
