// SPDX-License-Identifier: MIT
#include "helpers.hpp"

#include <agent/audit/json_input.hpp>
#include <agent/audit/log_reader.hpp>

#include <catch2/catch.hpp>

#include <map>
#include <memory>

using namespace execmark::audit;
using execmark::audit::test::Collect;
using execmark::audit::test::TestBoot;

namespace {

const std::string k_sid = "ecs-execute-command-7h2k9m4p1q8r5s3t6v0w";

struct Router final : LogRouter {
    std::map<std::string, LogIdentity> ids;
    std::map<std::string, Collect> lines;
    std::map<std::string, LogEnd> ends;

    LineSink* open_log(const LogIdentity& id) override
    {
        ids[id.key] = id;
        return &lines[id.key];
    }

    void end_log(const LogIdentity& id, const LogEnd& end) override { ends[id.key] = end; }
};

Router read(const std::string& path, const std::string& bytes, const std::string& session = "")
{
    auto in = Input::from_memory(path, bytes);
    REQUIRE(in.ok());
    Router r;
    ReadOptions options;
    options.session_override = session;
    REQUIRE(read_log_input(*in, path, options, r).ok());
    return r;
}

} // namespace

TEST_CASE("readers: S3 transcript with header, CR CR LF, colours and footer")
{
    TestBoot boot;
    const std::string open = boot.next("open", k_sid);
    const std::string close = boot.next("close", k_sid);
    const std::string text =
        "Script started on 2026-11-24 05:40:04+00:00 [COMMAND=\"cat ipc.log\" <not executed on "
        "terminal>]\n\r\r\n  execmark: banner\r\r\n"
        + open + "\r\r\n\x1b[?2004hroot@ip:/# ls\r\r\n\x1b[?2004l\r\x1b[01;34mapp\x1b[0m\r\r\n"
        + close + "\r\r\n\r\nScript done on 2026-11-24 05:52:17+00:00 [COMMAND_EXIT_CODE=\"0\"]\n";
    const Router r = read("bucket/prod/" + k_sid + ".log", text);
    REQUIRE(r.ids.size() == 1);
    const auto& id = r.ids.begin()->second;
    CHECK(id.own_sid == k_sid);
    CHECK(id.format == LogFormat::transcript);
    const auto& c = r.lines.begin()->second;
    REQUIRE(c.lines.size() == 2);
    CHECK(c.lines[0] == open + "\r\r");
    CHECK(c.where[0].line == 4);
    const auto& end = r.ends.begin()->second;
    CHECK(end.transcript);
    CHECK(end.footer);

    // Cut before the footer.
    const Router cut = read(k_sid + ".log", text.substr(0, text.find("\r\nScript done")));
    CHECK_FALSE(cut.ends.begin()->second.footer);
}

TEST_CASE("readers: get-log-events JSON takes the stream from --session or the file name")
{
    TestBoot boot;
    const std::string open = boot.next("open", k_sid);
    const Json doc = {
        {"events",
         Json::array(
             {{{"timestamp", 1}, {"message", "Script started on x"}, {"ingestionTime", 2}},
              {{"timestamp", 1}, {"message", "\n" + open + "\r\nls"}, {"ingestionTime", 2}}})},
        {"nextForwardToken", "f/1"},
        {"nextBackwardToken", "b/1"}};
    const Router by_name = read(k_sid + ".json", doc.dump(4));
    REQUIRE(by_name.ids.size() == 1);
    CHECK(by_name.ids.begin()->second.own_sid == k_sid);
    REQUIRE(by_name.lines.begin()->second.lines.size() == 1);
    CHECK(by_name.lines.begin()->second.lines[0] == open + "\r");

    const Router by_flag = read("-", doc.dump(), "ecs-execute-command-given");
    CHECK(by_flag.ids.begin()->second.own_sid == "ecs-execute-command-given");
}

TEST_CASE("readers: filter-log-events names each stream, and a marker split at 200,000 bytes")
{
    TestBoot boot;
    const std::string open = boot.next("open", k_sid);
    // A long terminal line, then the marker on the same line: the agent cuts it into
    // 200,000-byte events, and the cut falls inside the marker.
    const std::string line = std::string(199950, 'z') + open + "\r";
    Json events = Json::array();
    events.push_back(
        {{"logStreamName", "ecs/app/0f1e2d3c"}, {"timestamp", 1}, {"message", "app up"}});
    events.push_back(
        {{"logStreamName", k_sid}, {"timestamp", 2}, {"message", line.substr(0, 200000)}});
    events.push_back(
        {{"logStreamName", "ecs/app/0f1e2d3c"}, {"timestamp", 2}, {"message", "GET /"}});
    events.push_back(
        {{"logStreamName", k_sid}, {"timestamp", 2}, {"message", line.substr(200000) + "\nexit"}});
    const Json doc = {{"events", events}, {"searchedLogStreams", Json::array()}};
    const Router r = read("group.json.gz", doc.dump());
    REQUIRE(r.ids.size() == 2);
    const auto& session = r.lines.at("cw:" + k_sid);
    REQUIRE(session.lines.size() == 1);
    CHECK(session.lines[0] == open + "\r");
    CHECK(r.ids.at("cw:" + k_sid).own_sid == k_sid);
    CHECK(r.ids.at("cw:ecs/app/0f1e2d3c").stream == "ecs/app/0f1e2d3c");
}

TEST_CASE("readers: CloudWatch export lines, multi-line events and a split marker")
{
    TestBoot boot;
    const std::string open = boot.next("open", k_sid);
    const std::string close = boot.next("close", k_sid);
    const std::string text = "2026-11-24T05:52:20.001Z Script started on x\n\n  banner\n"
                             + open.substr(0, 100) + "\n2026-11-24T05:52:20.001Z "
                             + open.substr(100) + "\r\nroot@ip:/# exit\n" + close
                             + "\n2026-11-24T05:52:21.001Z \n";
    const Router r = read("export/0123/" + k_sid + "/000000.gz", text);
    REQUIRE(r.ids.size() == 1);
    CHECK(r.ids.begin()->second.own_sid == k_sid);
    CHECK(r.ids.begin()->second.format == LogFormat::cloudwatch_export);
    const auto& c = r.lines.begin()->second;
    REQUIRE(c.lines.size() == 2);
    CHECK(c.lines[0] == open + "\r");
    CHECK(c.lines[1] == close);
}

TEST_CASE("readers: JSON errors are reported with the input's name")
{
    auto in = Input::from_memory("broken.json", "{\"events\": [ {\"message\": \"x\" ");
    REQUIRE(in.ok());
    Router r;
    const auto st = read_log_input(*in, "broken.json", ReadOptions{}, r);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().message.rfind("parse broken.json: ", 0) == 0);
}
