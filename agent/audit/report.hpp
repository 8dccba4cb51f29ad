// SPDX-License-Identifier: MIT
#pragma once

// The per-session result of verify and audit: joining session-log verdicts, container-log
// evidence and CloudTrail by session id, the status rules, and rendering (table or JSON lines).

#include <agent/audit/cloudtrail.hpp>
#include <agent/audit/status.hpp>
#include <agent/audit/verifier.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace execmark::audit {

// A marker's open time may be this much earlier than its ExecuteCommand call (clock skew
// between the container and CloudTrail) before it is a MISMATCH.
inline constexpr std::int64_t k_max_clock_skew_ms = 5 * 60 * 1000;

enum class Attribution {
    none,       // verify: no CloudTrail
    attributed, // CloudTrail event, verified markers, claim consistent with the principal
    mismatch,   // claim, task, container or time contradicts the CloudTrail event
    unmarked,   // CloudTrail event, none of the session's own markers
    orphan,     // a session log without a CloudTrail event
    bypassed,   // PID 1 saw the session, the session log has none of its markers
};

std::string_view attribution_name(Attribution a);

struct SessionRow {
    std::string session;
    std::vector<std::string> logs; // sources
    FindingSet findings;
    std::vector<Problem> problems;
    std::size_t more_problems = 0;
    Attribution attribution = Attribution::none;
    std::uint64_t markers = 0, verified = 0, own = 0;
    SessionFacts facts;
    bool facts_verified = false; // facts come from verified markers
    std::optional<ExecEvent> exec;
    std::optional<RunTaskEvent> run_task;
    std::optional<ExecEvidence> seen;
    std::optional<bool> claim_matches; // audit, with a claim and a CloudTrail event
    std::string start, end;
    std::optional<std::int64_t> duration_ms;

    [[nodiscard]] bool clean() const { return findings.empty(); }
};

struct JoinInputs {
    std::vector<LogVerdict> verdicts;
    const std::map<std::string, ExecEvidence, std::less<>>* evidence = nullptr; // container logs
    const TrailIndex* trail = nullptr;                                          // audit only
};

// Builds one row per session (docs/auditing.md, "Statuses"), sorted by start time then id.
// verify: one row per session log (grouped by session id). audit: also CloudTrail sessions
// without logs, and sessions only the container log saw.
std::vector<SessionRow> build_rows(JoinInputs inputs);

// RFC 3339 UTC ("2026-11-24T05:40:04Z", optional fraction) to ms since the epoch.
std::optional<std::int64_t> parse_utc_time(std::string_view text);

// "45s", "12m03s", "2h05m00s".
std::string format_duration(std::int64_t ms);

struct Totals {
    std::size_t sessions = 0, clean = 0;
    std::map<Finding, std::size_t> by_finding;
    std::uint64_t signatures = 0, markers = 0;
    std::size_t trusted_keys = 0, container_problems = 0;
    std::size_t trail_records = 0, exec_events = 0, run_task_events = 0;
    std::size_t inputs = 0;
    std::vector<std::string> input_errors;
    std::uint64_t bytes = 0;
};

struct RenderContext {
    bool audit = false;
    const std::vector<BootReport>* boots = nullptr;
    const std::vector<Problem>* container_problems = nullptr;
    const TrustStore* trust = nullptr;
};

// Aligned table, findings, keys and totals for people.
std::string
render_table(const std::vector<SessionRow>& rows, const Totals& totals, const RenderContext& ctx);

// JSON lines: {"type":"session",...} per row, {"type":"key",...} per trusted key, then one
// {"type":"summary",...}. Field names are documented in docs/auditing.md.
std::string
render_json(const std::vector<SessionRow>& rows, const Totals& totals, const RenderContext& ctx);

} // namespace execmark::audit
