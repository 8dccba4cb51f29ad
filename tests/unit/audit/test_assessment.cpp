// SPDX-License-Identifier: MIT
#include "records.hpp"

#include <agent/audit/assessment.hpp>

#include <catch2/catch.hpp>

using namespace execmark::audit;
using execmark::audit::test::exec;
using execmark::audit::test::verdict;

namespace {

const SessionRecord& row_of(const std::vector<SessionRecord>& rows, const std::string& sid)
{
    for (const auto& r : rows) {
        if (r.session == sid) {
            return r;
        }
    }
    FAIL("no row for " << sid);
    return rows.front();
}

} // namespace

TEST_CASE("assessment: time parsing and durations")
{
    CHECK(parse_utc_time("1970-01-01T00:00:00Z") == 0);
    CHECK(parse_utc_time("2026-11-24T05:40:04.123Z") == 1795498804123);
    CHECK(parse_utc_time("2026-11-24T05:40:04.5Z") == 1795498804500);
    CHECK_FALSE(parse_utc_time("2026-11-24T05:40:04"));
    CHECK_FALSE(parse_utc_time("2026-13-24T05:40:04Z"));
    CHECK(format_duration(45'900) == "45s");
    CHECK(format_duration(723'000) == "12m03s");
    CHECK(format_duration(7'500'000) == "2h05m00s");
}

TEST_CASE("assessment: verify rows are per session, UNMARKED and BYPASSED")
{
    std::map<std::string, ExecEvidence, std::less<>> evidence;
    evidence["s-bypass"] =
        ExecEvidence{"s-bypass", "2026-03-02T10:00:00.000Z", "", "k1", "c.log:9"};
    evidence["s-nolog"] = ExecEvidence{"s-nolog", "2026-03-02T10:00:00.000Z", "", "k1", "c.log:10"};
    JoinInputs in;
    in.verdicts = {verdict("s-clean", 2), verdict("s-empty", 0), verdict("s-bypass", 0)};
    in.evidence = &evidence;
    const auto rows = build_records(std::move(in));
    REQUIRE(rows.size() == 3); // verify lists session logs only
    CHECK(row_of(rows, "s-clean").clean());
    CHECK(row_of(rows, "s-clean").duration_ms == 720'500);
    CHECK(row_of(rows, "s-empty").findings.list() == std::vector<Finding>{Finding::unmarked});
    CHECK(row_of(rows, "s-bypass").findings.list() == std::vector<Finding>{Finding::bypassed});
}

TEST_CASE("assessment: audit join and attribution statuses")
{
    TrailIndex trail;
    trail.add(exec("s-ok"));
    trail.add(exec("s-mismatch", "someone.else"));
    trail.add(exec("s-unmarked"));
    trail.add(exec("s-bypass"));
    ExecEvent other_task = exec("s-task");
    other_task.task_arn = "arn:aws:ecs:r:1:task/payments/t2";
    trail.add(other_task);
    ExecEvent late = exec("s-early");
    late.event_time = "2026-03-02T11:00:00Z";
    trail.add(late);
    std::map<std::string, ExecEvidence, std::less<>> evidence;
    evidence["s-bypass"] =
        ExecEvidence{"s-bypass", "2026-03-02T10:00:00.000Z", "", "k1", "c.log:9"};
    evidence["s-direct"] =
        ExecEvidence{"s-direct", "2026-03-02T10:00:00.000Z", "", "k1", "c.log:10"};
    JoinInputs in;
    in.verdicts = {verdict("s-ok", 2),
                   verdict("s-mismatch", 2),
                   verdict("s-orphan", 2),
                   verdict("s-task", 2),
                   verdict("s-early", 2),
                   verdict("s-noclaim", 2, "")};
    trail.add(exec("s-noclaim"));
    in.evidence = &evidence;
    in.trail = &trail;
    const auto rows = build_records(std::move(in));
    const auto& ok = row_of(rows, "s-ok");
    CHECK(ok.clean());
    CHECK(ok.attribution == Attribution::attributed);
    CHECK(ok.claim_matches == true);
    CHECK(ok.start == "2026-03-02T09:15:41Z");
    CHECK(row_of(rows, "s-mismatch").findings.list() == std::vector<Finding>{Finding::mismatch});
    CHECK(row_of(rows, "s-mismatch").claim_matches == false);
    CHECK(row_of(rows, "s-task").findings.list() == std::vector<Finding>{Finding::mismatch});
    CHECK(row_of(rows, "s-early").findings.list() == std::vector<Finding>{Finding::mismatch});
    CHECK(row_of(rows, "s-orphan").findings.list() == std::vector<Finding>{Finding::orphan});
    CHECK(row_of(rows, "s-unmarked").findings.list() == std::vector<Finding>{Finding::unmarked});
    CHECK(row_of(rows, "s-bypass").findings.list() == std::vector<Finding>{Finding::bypassed});
    CHECK(row_of(rows, "s-direct").findings.list() == std::vector<Finding>{Finding::bypassed});
    CHECK(row_of(rows, "s-noclaim").clean());
    CHECK(row_of(rows, "s-noclaim").claim_matches == std::nullopt);
}

TEST_CASE("assessment: an unbound log stands for its session in the join")
{
    TrailIndex trail;
    trail.add(exec("s-stdin"));
    LogVerdict v = verdict("s-stdin", 2);
    v.id.own_sid.clear();
    v.id.source = "standard input";
    v.findings.add(Finding::unbound);
    JoinInputs in;
    in.verdicts = {v};
    in.trail = &trail;
    const auto rows = build_records(std::move(in));
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].session == "s-stdin");
    CHECK(rows[0].exec.has_value());
    CHECK(rows[0].findings.list() == std::vector<Finding>{Finding::unbound});
}

TEST_CASE("assessment: an open long after the worker started, a close long before the shell ended")
{
    const std::int64_t open_ms = *parse_utc_time("2026-03-02T09:15:43Z");
    const std::int64_t close_ms = *parse_utc_time("2026-03-02T09:27:43.5Z");
    TrailIndex trail;
    for (const char* sid : {"s-honest", "s-late", "s-early", "s-owner"}) {
        trail.add(exec(sid));
    }
    std::map<std::string, ExecEvidence, std::less<>> evidence;
    JoinInputs in;
    LogVerdict honest = verdict("s-honest", 2);
    honest.facts.wst = open_ms - 800; // the hook ran 0.8 s after the worker started
    LogVerdict late = verdict("s-late", 2);
    late.facts.wst = open_ms - (k_max_open_delay_ms + 60'000);
    LogVerdict early = verdict("s-early", 2);
    early.facts.wst = open_ms - 500;
    LogVerdict owner = verdict("s-owner", 2);
    owner.facts.owner = "arn:aws:sts::1:assumed-role/Oncall/mallory";
    owner.facts.osrc = "claim:ssm-state-file";
    // PID 1 saw the honest shell alive last 1 s before its close was signed (the close comes
    // first: the shell's EXIT trap), the early one's 10 minutes after.
    evidence["s-honest"] = ExecEvidence{"s-honest", "", "", "k1", "c.log:3", "ok", close_ms + 900};
    evidence["s-early"] =
        ExecEvidence{"s-early", "", "", "k1", "c.log:4", "ok", close_ms + 600'000};
    in.verdicts = {honest, late, early, owner};
    in.evidence = &evidence;
    in.trail = &trail;
    const auto rows = build_records(std::move(in));
    CHECK(row_of(rows, "s-honest").clean());
    CHECK(row_of(rows, "s-late").findings.list() == std::vector<Finding>{Finding::late_open});
    CHECK(row_of(rows, "s-early").findings.list() == std::vector<Finding>{Finding::early_close});
    const auto& o = row_of(rows, "s-owner");
    CHECK(o.findings.list() == std::vector<Finding>{Finding::mismatch});
    CHECK(o.problems.at(0).detail.find("owner") != std::string::npos);
}
