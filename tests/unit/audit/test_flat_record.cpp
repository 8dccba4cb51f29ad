// SPDX-License-Identifier: MIT
// The flat CloudTrail record reader (FlatRecord, RecordStreamer::keep_only and deliver_flat):
// every record is classified as the whole DOM of it is, hostile records included, and a broken
// trail file fails as nlohmann's parser says, at the same byte.
#include <agent/audit/cloudtrail.hpp>
#include <agent/audit/flat_record.hpp>
#include <agent/audit/json_input.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <tests/unit/audit/trail_describe.hpp>
#include <vector>

using namespace execmark::audit;
using execmark::audit::testing::describe;

namespace {

// The records of a {"Records":[...]} text, each classified twice: from a full DOM (as before
// the flat reader) and flat with only trail_record_members() built.
struct Both {
    std::vector<std::string> dom, flat;
    std::size_t dom_skipped = 0, flat_skipped = 0;
};

Both classify_both(const std::string& text)
{
    Both out;
    {
        RecordStreamer dom({"Records"}, false, [&](Json& record) {
            out.dom.push_back(describe(classify_trail_record(record, "AWS_USER")));
        });
        auto in = Input::from_memory("t.json", text);
        REQUIRE(in.ok());
        REQUIRE(parse_json_stream(*in, dom).ok());
        out.dom_skipped = dom.skipped_records();
    }
    {
        RecordStreamer flat({"Records"}, false, [&](Json& record) {
            out.flat.push_back("DOM delivered: " + record.dump());
        });
        flat.keep_only(trail_record_members());
        flat.deliver_flat([&](const FlatRecord& record) {
            out.flat.push_back(describe(classify_trail_record(record, "AWS_USER")));
        });
        auto in = Input::from_memory("t.json", text);
        REQUIRE(in.ok());
        REQUIRE(parse_json_stream(*in, flat).ok());
        out.flat_skipped = flat.skipped_records();
    }
    return out;
}

const std::string k_exec = R"({"eventVersion":"1.09","userIdentity":{"type":"AssumedRole",
"principalId":"AROAZZ:dana","arn":"arn:aws:sts::210987654321:assumed-role/Oncall/dana",
"accountId":"210987654321","accessKeyId":"ASIAZZ","sessionContext":{"sessionIssuer":{
"type":"Role","principalId":"AROAZZ","arn":"arn:aws:iam::210987654321:role/Oncall",
"accountId":"210987654321","userName":"Oncall"},"attributes":{"mfaAuthenticated":"true"},
"sourceIdentity":"dana@example.com"}},"eventTime":"2026-03-02T09:15:41Z",
"eventSource":"ecs.amazonaws.com","eventName":"ExecuteCommand","awsRegion":"ap-southeast-2",
"sourceIPAddress":"198.51.100.77","userAgent":"aws-cli/2","requestParameters":{
"cluster":"payments","container":"api","command":"/bin/bash","interactive":true,"task":"9f8e"},
"responseElements":{"clusterArn":"arn:aws:ecs:ap-southeast-2:210987654321:cluster/payments",
"containerName":"api","session":{"sessionId":"ecs-execute-command-abc","streamUrl":"wss://x",
"tokenValue":"HIDDEN"},"taskArn":"arn:aws:ecs:ap-southeast-2:210987654321:task/payments/9f8e"},
"eventID":"e-1","readOnly":false,"recipientAccountId":"210987654321"})";

const std::string k_run_task = R"({"userIdentity":{"type":"IdentityCenterUser",
"onBehalfOf":{"userId":"u-1","identityStoreArn":"arn:aws:identitystore::1:identitystore/d-1"},
"credentialId":"c-1"},"eventTime":"2026-03-02T09:00:00Z","eventSource":"ecs.amazonaws.com",
"eventName":"RunTask","requestParameters":{"cluster":"payments","overrides":{
"containerOverrides":[{"name":"api","environment":[{"name":"LOG","value":"1"},
{"name":"AWS_USER","value":"dana"}]},{"name":"side","environment":"not an array"},7]}},
"responseElements":{"tasks":[{"taskArn":"arn:aws:ecs:r:1:task/c/t1","lastStatus":"PENDING"},
{"taskArn":12},"x",{"taskArn":"arn:aws:ecs:r:1:task/c/t2"}],"failures":[]},"eventID":"r-1"})";

std::string records(const std::vector<std::string>& list)
{
    std::string out = "{\"Records\":[";
    for (std::size_t i = 0; i < list.size(); ++i) {
        out += (i == 0 ? "" : ",") + list[i];
    }
    return out + "]}";
}

std::string nested(std::size_t depth, const std::string& inner)
{
    return std::string(depth, '[') + inner + std::string(depth, ']');
}

} // namespace

TEST_CASE("flat record: members, the last of equal names, sorted keys, texts")
{
    RecordStreamer streamer({"Records"}, false, [](Json&) {});
    std::vector<std::string> seen;
    streamer.deliver_flat([&](const FlatRecord& r) {
        const auto root = r.root();
        std::string line;
        for (const auto k : r.keys(root)) {
            line += std::string(k) + ",";
        }
        line += "|" + r.text(r.member(root, "a")) + "|" + r.text(r.member(root, "n")) + "|"
                + r.text(r.member(root, "u")) + "|" + r.text(r.member(root, "b")) + "|"
                + r.text(r.member(root, "f")) + "|" + r.text(r.member(root, "o")) + "|"
                + r.type_name(r.member(root, "o")) + "|" + r.text(r.member(root, "missing"));
        seen.push_back(line);
    });
    auto in = Input::from_memory(
        "t.json",
        R"({"Records":[{"b":true,"a":"first","n":-42,"u":18446744073709551615,"f":1.5,)"
        R"("o":{"x":1},"a":"second","é":null}]})");
    REQUIRE(in.ok());
    REQUIRE(parse_json_stream(*in, streamer).ok());
    REQUIRE(seen.size() == 1);
    CHECK(seen[0] == "a,b,f,n,o,u,é,|second|-42|18446744073709551615|true|||object|");

    const Json dom = Json::parse(R"({"z":[1,{"k":"v"}],"a":"t"})");
    const FlatRecord flat = FlatRecord::of(dom);
    const auto z = flat.member(flat.root(), "z");
    REQUIRE(flat.is(z, FlatRecord::Kind::array));
    const auto one = flat.first(z);
    CHECK(flat.text(one) == "1");
    CHECK(flat.text(flat.member(flat.next(one), "k")) == "v");
    CHECK(flat.next(flat.next(one)) == FlatRecord::k_none);
    CHECK(flat.member(z, "k") == FlatRecord::k_none); // not an object
}

TEST_CASE("flat record: every record is classified as its whole DOM is")
{
    const std::string huge(1 << 20, 'x');
    const std::vector<std::string> list = {
        k_exec,
        k_run_task,
        // Denied, failed, and other events.
        R"({"eventSource":"ecs.amazonaws.com","eventName":"ExecuteCommand","errorCode":"AccessDenied",)"
        R"("errorMessage":"no","requestParameters":{"task":"arn:aws:ecs:r:9:task/c/t"},)"
        R"("responseElements":null,"eventID":"d-1","eventTime":"2026-03-02T09:00:00Z"})",
        R"({"eventSource":"ecs.amazonaws.com","eventName":"ExecuteCommand","responseElements":{}})",
        R"({"eventSource":"s3.amazonaws.com","eventName":"GetObject","requestParameters":{"k":[1,2]}})",
        // Wrong types wherever classify looks.
        R"({"eventSource":"ecs.amazonaws.com","eventName":"ExecuteCommand","userIdentity":"root",)"
        R"("requestParameters":[1],"responseElements":{"session":"s","taskArn":{"a":1}},"eventID":5})",
        R"({"eventSource":"ecs.amazonaws.com","eventName":"ExecuteCommand","userIdentity":{)"
        R"("type":7,"arn":true,"sessionContext":[{"sessionIssuer":{"arn":"x"}}],"onBehalfOf":"u"},)"
        R"("responseElements":{"session":{"sessionId":123456789012}},"eventTime":1.5})",
        R"({"eventSource":"ecs.amazonaws.com","eventName":"RunTask","responseElements":{"tasks":{)"
        R"("taskArn":"t"}},"requestParameters":{"overrides":{"containerOverrides":{"name":"a"}}}})",
        R"({"eventName":["ExecuteCommand"],"eventSource":"ecs.amazonaws.com"})",
        R"({"eventName":null})",
        // Names given twice: the last one counts, whole.
        R"({"eventSource":"ecs.amazonaws.com","eventName":"GetObject","eventName":"ExecuteCommand",)"
        R"("userIdentity":{"arn":"first","type":"IAMUser"},"userIdentity":{"userName":"second"},)"
        R"("responseElements":{"session":{"sessionId":"a"}},"responseElements":{"taskArn":"t"}})",
        R"({"eventSource":"ecs.amazonaws.com","eventName":"ExecuteCommand","responseElements":{)"
        R"("session":{"sessionId":"s-dup"}},"eventSource":"s3.amazonaws.com"})",
        // The record inside: EventBridge detail, lookup-events CloudTrailEvent.
        R"({"detail-type":"AWS API Call via CloudTrail","source":"aws.ecs","detail":)" + k_exec
            + "}",
        R"({"detail-type":"ECS Task State Change","source":"aws.ecs","detail":{"lastStatus":"x"}})",
        R"({"EventId":"e-1","CloudTrailEvent":)" + Json(k_exec).dump() + "}",
        R"({"CloudTrailEvent":"{not json","eventName":"ExecuteCommand"})",
        R"({"CloudTrailEvent":{"eventName":"ExecuteCommand"}})",
        R"({"detail":{"eventName":5},"eventName":"RunTask","eventSource":"ecs.amazonaws.com"})",
        // Digest files and what is no record at all.
        R"({"digestStartTime":"2026-03-02T09:00:00Z","logFiles":[]})",
        R"({"digestStartTime":"2026-03-02T09:00:00Z"})",
        R"({"zeta":1,"alpha":{"deep":[1,2]},"beta":null,"gamma":"x","delta":[],"eps":2})",
        R"({})",
        R"({"b":1,"a":{"x":1},"b":[2],"c":null,"a":3})",
        // Huge strings and deep nesting, where nothing is built and where everything is.
        R"({"eventSource":"ecs.amazonaws.com","eventName":"ExecuteCommand","noise":")" + huge
            + R"(","requestParameters":{"command":")" + huge + R"(","junk":")" + huge
            + R"("},"responseElements":{"session":{"sessionId":"s-huge"}}})",
        R"({"eventSource":"ecs.amazonaws.com","eventName":"RunTask","deep":)" + nested(20000, "1")
            + R"(,"requestParameters":{"overrides":{"containerOverrides":)"
            + nested(20000, R"({"name":"a"})") + R"(}},"responseElements":{"tasks":[)"
            + R"({"taskArn":"t","x":)" + nested(20000, "2") + "}]}}",
    };
    const Both both = classify_both(records(list));
    REQUIRE(both.dom.size() == list.size());
    CHECK(both.flat == both.dom);
    CHECK(both.flat_skipped == both.dom_skipped);
    // A sample of what the DOM says, so that the comparison is not of two empty answers.
    CHECK(both.dom[0].rfind("exec ecs-execute-command-abc|e-1|", 0) == 0);
    CHECK(both.dom[1].find("|override api=dana") != std::string::npos);
    CHECK(both.dom[10].rfind("denied ", 0) == 0);
    CHECK(both.dom[11] == "other");
    CHECK(both.dom[20] == "not a record: an object with keys alpha, beta, delta, eps, ...");
    CHECK(both.dom[22] == "not a record: an object with keys a, b, c");
    CHECK(both.dom[23].rfind("exec s-huge|", 0) == 0);
}

TEST_CASE("flat record: records over the size limit are skipped and counted alike")
{
    const std::string big(k_max_json_record_bytes / 2 + 1, 'y');
    const std::string over = R"({"eventSource":"ecs.amazonaws.com","eventName":"ExecuteCommand",)"
                             R"("a":")"
                             + big + R"(","b":")" + big + R"("})";
    const Both both = classify_both(records({over, k_exec}));
    CHECK(both.dom_skipped == 1);
    CHECK(both.flat_skipped == 1);
    CHECK(both.flat == both.dom);
    REQUIRE(both.flat.size() == 1);
}

TEST_CASE("flat record: a broken trail file fails at the byte nlohmann names")
{
    const std::string text = records({k_exec, k_run_task});

    // nlohmann's own answer for a prefix: where its parser stops.
    struct Where : nlohmann::json_sax<Json> {
        std::size_t at = 0;

        bool null() override { return true; }

        bool boolean(bool) override { return true; }

        bool number_integer(number_integer_t) override { return true; }

        bool number_unsigned(number_unsigned_t) override { return true; }

        bool number_float(number_float_t, const string_t&) override { return true; }

        bool string(string_t&) override { return true; }

        bool binary(binary_t&) override { return true; }

        bool start_object(std::size_t) override { return true; }

        bool key(string_t&) override { return true; }

        bool end_object() override { return true; }

        bool start_array(std::size_t) override { return true; }

        bool end_array() override { return true; }

        bool parse_error(std::size_t position,
                         const std::string&,
                         const nlohmann::detail::exception&) override
        {
            at = position;
            return false;
        }
    };

    std::size_t failures = 0;
    for (std::size_t n = 1; n < text.size(); n += 7) {
        const std::string prefix = text.substr(0, n);
        Where where;
        REQUIRE_FALSE(Json::sax_parse(prefix, &where, Json::input_format_t::json, false));
        auto in = Input::from_memory("cut.json", prefix);
        REQUIRE(in.ok());
        TrailIndex index;
        const auto st = read_trail_input(*in, "AWS_USER", index);
        REQUIRE_FALSE(st.ok());
        CHECK(st.error().message
              == "parse cut.json: invalid JSON at byte " + std::to_string(where.at));
        ++failures;
    }
    CHECK(failures > 100);

    // A value larger than the token budget (checked a read chunk at a time) is named as such,
    // not read.
    const std::string long_token =
        R"({"Records":[{"eventName":")"
        + std::string(k_max_json_token_bytes + 2 * k_read_chunk_bytes, 'z') + "\"}]}";
    auto in = Input::from_memory("long.json", long_token);
    REQUIRE(in.ok());
    TrailIndex index;
    const auto st = read_trail_input(*in, "AWS_USER", index);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().message
          == "parse long.json: a JSON value is larger than "
                 + std::to_string(k_max_json_token_bytes) + " bytes");
}
