// SPDX-License-Identifier: MIT
#include "records.hpp"

#include <agent/audit/render.hpp>

#include <catch2/catch.hpp>

using namespace execmark::audit;
using execmark::audit::test::exec;
using execmark::audit::test::verdict;

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
