// SPDX-License-Identifier: MIT
#include <agent/audit/cloudtrail.hpp>

#include <catch2/catch.hpp>

using namespace execmark::audit;

namespace {

// A CloudTrail ExecuteCommand record written for these tests (values invented).
Json exec_record(const std::string& sid, const std::string& arn, const std::string& event_id)
{
    return Json{
        {"eventVersion", "1.09"},
        {"userIdentity",
         {{"type", "AssumedRole"},
          {"principalId", "AROAZZTESTROLE0000001:dana.ops"},
          {"arn", arn},
          {"accountId", "210987654321"},
          {"sessionContext",
           {{"sessionIssuer",
             {{"type", "Role"},
              {"arn", "arn:aws:iam::210987654321:role/PlatformOncall"},
              {"userName", "PlatformOncall"}}}}}}},
        {"eventTime", "2026-03-02T09:15:41Z"},
        {"eventSource", "ecs.amazonaws.com"},
        {"eventName", "ExecuteCommand"},
        {"awsRegion", "ap-southeast-2"},
        {"sourceIPAddress", "198.51.100.77"},
        {"requestParameters",
         {{"cluster", "payments"},
          {"container", "api"},
          {"command", "/bin/bash"},
          {"interactive", true},
          {"task", "9f8e7d6c5b4a39281706f5e4d3c2b1a0"}}},
        {"responseElements",
         {{"clusterArn", "arn:aws:ecs:ap-southeast-2:210987654321:cluster/payments"},
          {"containerName", "api"},
          {"interactive", true},
          {"session", {{"sessionId", sid}, {"tokenValue", "HIDDEN_DUE_TO_SECURITY_REASONS"}}},
          {"taskArn",
           "arn:aws:ecs:ap-southeast-2:210987654321:task/payments/"
           "9f8e7d6c5b4a39281706f5e4d3c2b1a0"}}},
        {"eventID", event_id}};
}

const std::string k_arn = "arn:aws:sts::210987654321:assumed-role/PlatformOncall/dana.ops";

} // namespace

TEST_CASE("cloudtrail: the three shapes give the same ExecuteCommand event")
{
    const Json record = exec_record("ecs-execute-command-q1", k_arn, "e-1");
    const Json lookup = {
        {"EventId", "e-1"}, {"EventName", "ExecuteCommand"}, {"CloudTrailEvent", record.dump()}};
    const Json bridge = {{"version", "0"},
                         {"detail-type", "AWS API Call via CloudTrail"},
                         {"source", "aws.ecs"},
                         {"detail", record}};
    for (const Json* shape : {&record, &lookup, &bridge}) {
        const TrailRecord r = classify_trail_record(*shape, "AWS_USER");
        const auto* ev = std::get_if<ExecEvent>(&r);
        REQUIRE(ev != nullptr);
        CHECK(ev->session_id == "ecs-execute-command-q1");
        CHECK(ev->principal.arn == k_arn);
        CHECK(ev->container == "api");
        CHECK(ev->task_arn.find("/payments/9f8e7d6c") != std::string::npos);
        CHECK(ev->event_time == "2026-03-02T09:15:41Z");
    }
}

TEST_CASE("cloudtrail: failed calls are denied records, other events are other records, "
          "anything else is not a record")
{
    Json failed = exec_record("x", k_arn, "e-2");
    failed.erase("responseElements");
    failed["errorCode"] = "AccessDeniedException";
    const TrailRecord denied = classify_trail_record(failed, "AWS_USER");
    REQUIRE(std::holds_alternative<DeniedExec>(denied));
    CHECK(std::get<DeniedExec>(denied).error_code == "AccessDeniedException");
    CHECK(std::get<DeniedExec>(denied).principal.arn == k_arn);
    Json other = exec_record("x", k_arn, "e-3");
    other["eventName"] = "DescribeTasks";
    CHECK(std::holds_alternative<std::monostate>(classify_trail_record(other, "AWS_USER")));
    Json s3 = exec_record("x", k_arn, "e-4");
    s3["eventSource"] = "s3.amazonaws.com";
    CHECK(std::holds_alternative<std::monostate>(classify_trail_record(s3, "AWS_USER")));
    CHECK(std::holds_alternative<NotARecord>(classify_trail_record(Json("str"), "AWS_USER")));
    CHECK(std::holds_alternative<NotARecord>(
        classify_trail_record(Json{{"CloudTrailEvent", "{not json"}}, "AWS_USER")));
    CHECK(std::holds_alternative<NotARecord>(
        classify_trail_record(Json{{"eventName", 7}, {"userIdentity", "x"}}, "AWS_USER")));
}

TEST_CASE("cloudtrail: RunTask tells who set the claim override")
{
    const Json run = {
        {"eventSource", "ecs.amazonaws.com"},
        {"eventName", "RunTask"},
        {"eventTime", "2026-03-02T08:00:00Z"},
        {"eventID", "r-1"},
        {"userIdentity", {{"type", "IAMUser"}, {"arn", "arn:aws:iam::210987654321:user/ci-bot"}}},
        {"requestParameters",
         {{"overrides",
           {{"containerOverrides",
             Json::array({{{"name", "api"},
                           {"environment",
                            Json::array({{{"name", "LOG_LEVEL"}, {"value", "debug"}},
                                         {{"name", "AWS_USER"}, {"value", "dana.ops"}}})}}})}}}}},
        {"responseElements",
         {{"tasks",
           Json::array({{{"taskArn",
                          "arn:aws:ecs:ap-southeast-2:210987654321:task/payments/"
                          "9f8e7d6c5b4a39281706f5e4d3c2b1a0"}}})}}}};
    const TrailRecord r = classify_trail_record(run, "AWS_USER");
    const auto* ev = std::get_if<RunTaskEvent>(&r);
    REQUIRE(ev != nullptr);
    REQUIRE(ev->claim_overrides.size() == 1);
    CHECK(ev->claim_overrides[0] == std::make_pair(std::string("api"), std::string("dana.ops")));
    TrailIndex index;
    index.add(*ev);
    REQUIRE(index.find_run_task("9f8e7d6c5b4a39281706f5e4d3c2b1a0") != nullptr);
    CHECK(index.find_run_task("arn:aws:ecs:x:1:task/payments/9f8e7d6c5b4a39281706f5e4d3c2b1a0")
          != nullptr);
}

TEST_CASE("cloudtrail: matching rule between claim and principal")
{
    Principal role;
    role.arn = k_arn;
    role.principal_id = "AROAZZTESTROLE0000001:dana.ops";
    CHECK(claim_matches("dana.ops", role));
    CHECK(claim_matches("DANA.OPS", role));
    CHECK(claim_matches("PlatformOncall/dana.ops", role));
    CHECK(claim_matches(k_arn, role));
    CHECK_FALSE(claim_matches("PlatformOncall", role));
    CHECK_FALSE(claim_matches("dana", role));
    CHECK_FALSE(claim_matches("", role));
    CHECK(principal_display(role) == "assumed-role/PlatformOncall/dana.ops");

    Principal user;
    user.type = "IAMUser";
    user.arn = "arn:aws:iam::210987654321:user/eng/lee";
    user.user_name = "lee";
    CHECK(claim_matches("lee", user));
    CHECK_FALSE(claim_matches("eng", user));
    CHECK(principal_display(user) == "user/lee");

    Principal root;
    root.arn = "arn:aws:iam::210987654321:root";
    CHECK(principal_display(root) == "root");
    CHECK(claim_matches("arn:aws:iam::210987654321:root", root));
}

TEST_CASE("cloudtrail: index deduplicates by eventID and counts conflicts")
{
    TrailIndex index;
    auto a =
        std::get<ExecEvent>(classify_trail_record(exec_record("s1", k_arn, "e-1"), "AWS_USER"));
    index.add(a);
    index.add(a);
    CHECK(index.execs().size() == 1);
    CHECK(index.conflicts() == 0);
    auto b =
        std::get<ExecEvent>(classify_trail_record(exec_record("s1", k_arn, "e-9"), "AWS_USER"));
    index.add(b);
    CHECK(index.conflicts() == 1);
    CHECK(index.find_exec("s1")->event_id == "e-1");
}

TEST_CASE("cloudtrail: streaming reader over all shapes in one input")
{
    std::string text;
    Json records = Json::array();
    for (int i = 0; i < 50; ++i) {
        records.push_back({{"eventSource", "s3.amazonaws.com"},
                           {"eventName", "GetObject"},
                           {"eventID", "n" + std::to_string(i)}});
    }
    records.push_back(exec_record("ecs-execute-command-a", k_arn, "e-a"));
    text += Json{{"Records", records}}.dump(2) + "\n";
    text += Json{{"Events",
                  Json::array({{{"EventId", "e-b"},
                                {"CloudTrailEvent",
                                 exec_record("ecs-execute-command-b", k_arn, "e-b").dump()}}})},
                 {"NextToken", "abc"}}
                .dump()
            + "\n";
    text += Json{{"detail-type", "AWS API Call via CloudTrail"},
                 {"detail", exec_record("ecs-execute-command-c", k_arn, "e-c")}}
                .dump()
            + "\n";
    text += Json::array({{{"detail", exec_record("ecs-execute-command-d", k_arn, "e-d")}}}).dump();
    auto in = Input::from_memory("trail.json", text);
    REQUIRE(in.ok());
    TrailIndex index;
    REQUIRE(read_trail_input(*in, "AWS_USER", index).ok());
    CHECK(index.execs().size() == 4);
    for (const char* sid : {"ecs-execute-command-a",
                            "ecs-execute-command-b",
                            "ecs-execute-command-c",
                            "ecs-execute-command-d"}) {
        CHECK(index.find_exec(sid) != nullptr);
    }
    CHECK(index.records() == 54);

    auto bad = Input::from_memory("bad.json", "{\"Records\":[{\"eventName\":");
    REQUIRE(bad.ok());
    TrailIndex none;
    const auto st = read_trail_input(*bad, "AWS_USER", none);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().message.rfind("parse bad.json: ", 0) == 0);
}
