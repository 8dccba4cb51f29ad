// SPDX-License-Identifier: MIT
#include <agent/audit/render.hpp>

#include <catch2/catch.hpp>

using namespace execmark::audit;

namespace {

LogVerdict verdict(const std::string& sid, std::uint64_t own, const std::string& claim = "dana")
{
    LogVerdict v;
    v.id.key = "file:" + sid;
    v.id.source = sid + ".log";
    v.id.own_sid = sid;
    v.sid = sid;
    v.own = own;
    v.verified = own;
    v.markers = own;
    if (own > 0) {
        v.facts.has_open = true;
        v.facts.claim = claim;
        v.facts.open_ts = "2026-03-02T09:15:43.000Z";
        v.facts.task = "arn:aws:ecs:r:1:task/payments/t1";
        v.facts.ctr = "api";
        if (own > 1) {
            v.facts.has_close = true;
            v.facts.close_ts = "2026-03-02T09:27:43.500Z";
        }
    }
    return v;
}

ExecEvent exec(const std::string& sid, const std::string& session_name = "dana")
{
    ExecEvent e;
    e.session_id = sid;
    e.event_time = "2026-03-02T09:15:41Z";
    e.container = "api";
    e.task_arn = "arn:aws:ecs:r:1:task/payments/t1";
    e.principal.arn = "arn:aws:sts::1:assumed-role/Oncall/" + session_name;
    return e;
}

} // namespace

TEST_CASE("render: table and JSON of one attributed session")
{
    TrailIndex trail;
    trail.add(exec("s-ok"));
    JoinInputs in;
    in.verdicts = {verdict("s-ok", 2)};
    in.trail = &trail;
    const Assessment a = assess(std::move(in), Totals{});
    REQUIRE(a.totals.sessions == 1);
    REQUIRE(a.totals.clean == 1);
    const std::string table = render_table(a);
    CHECK(table.find("SESSION  ACCOUNT  REGION  PRINCIPAL") == 0);
    CHECK(table.find("assumed-role/Oncall/dana") != std::string::npos);
    CHECK(table.find("ATTRIBUTED") != std::string::npos);
    CHECK(table.find("12m00s") != std::string::npos);
    const std::string json = render_json(a);
    const auto first = Json::parse(json.substr(0, json.find('\n')));
    CHECK(first["type"] == "session");
    CHECK(first["status"] == "ATTRIBUTED");
    CHECK(first["principal"]["arn"] == "arn:aws:sts::1:assumed-role/Oncall/dana");
    CHECK(first["duration_s"] == 720);
}
