// SPDX-License-Identifier: MIT
#pragma once

// The assessment of verify and audit, as plain data: joining session-log verdicts, container-log
// evidence and CloudTrail by session id, and the status rules (docs/auditing.md, "Statuses").
// Nothing here formats text for people; render.hpp turns an Assessment into a table or JSON
// lines.
//
// Extending it: a new per-session fact is a member of SessionRecord, filled by the join
// (build_records) and shown by both renderers; a new kind of finding is a Finding (status.hpp)
// with its rule in the join; a new kind of record outside sessions (like the keys) is a vector
// of its own struct in Assessment, rendered as its own table section and its own JSON "type".

#include <agent/audit/cloudtrail.hpp>
#include <agent/audit/identity_center.hpp>
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
// An open signed this long after its session worker started is LATE-OPEN: a shell runs its rc
// file within a second of starting, 30 s covers a starved machine (docs/auditing.md).
inline constexpr std::int64_t k_max_open_delay_ms = 30 * 1000;
// A last close signed this long before PID 1 last saw the shell alive is EARLY-CLOSE: the close
// is sent by the exiting shell (or the wrapper after it), so an honest one comes after that
// sighting; 5 s covers scheduling.
inline constexpr std::int64_t k_max_close_lead_ms = 5 * 1000;

// Recording that began this long after the session worker started is UNRECORDED: the same
// bound as LATE-OPEN (the recorder starts with the session's shell).
inline constexpr std::int64_t k_max_record_delay_ms = k_max_open_delay_ms;
// Recording that ended this long before PID 1 last saw the session's shell alive is UNRECORDED
// (the same bound as EARLY-CLOSE).
inline constexpr std::int64_t k_max_record_lead_ms = k_max_close_lead_ms;

// What the container log says about a session's recording and what the content check found.
struct RecordingFacts {
    std::size_t checkpoints = 0;               // rec checkpoints PID 1 signed
    std::size_t verified = 0;                  // of them, recomputed equal from a session log
    std::size_t interference = 0;              // interference reports
    std::string start_ts, end_ts;              // the start and end reports
    std::optional<std::uint64_t> end_off;      // bytes the recorder relayed in all
    std::optional<std::uint64_t> region_bytes; // bytes of the recorded region in the log
};

enum class Attribution {
    none,       // verify: no CloudTrail
    attributed, // CloudTrail event, verified markers, claim consistent with the principal
    mismatch,   // claim, task, container or time contradicts the CloudTrail event
    unmarked,   // CloudTrail event, none of the session's own markers
    orphan,     // a session log without a CloudTrail event
    bypassed,   // PID 1 saw the session, the session log has none of its markers
};

std::string_view attribution_name(Attribution a);

// The person behind a principal, from the Identity Center directory (--identity-center-users).
struct PersonMatch {
    DirectoryUser user;
    std::string how; // "user id", "session name = user name", "session name = e-mail"
};

// The claim variable's value in the RunTask call that started the session's task.
struct ClaimOverride {
    std::string value;
    std::string set_by;               // the RunTask caller: its ARN (else its display form)
    std::string set_by_display;       // ... as principal_display shows it
    std::optional<bool> claim_equals; // the marker's claim equals value (null without a claim)
};

// Everything known about one session: one table row, one {"type":"session"} JSON line.
struct SessionRecord {
    std::string session;           // SSM session id ("-" when unknown)
    std::vector<std::string> logs; // the inputs this session was read from
    FindingSet findings;           // every finding, the status is the most severe
    std::vector<Problem> problems; // where and why, per finding
    std::size_t more_problems = 0; // problems not kept (per-log cap of the verifier)
    Attribution attribution = Attribution::none;
    std::uint64_t markers = 0, verified = 0, own = 0; // well-formed, verified, own chain
    SessionFacts facts;                               // from the markers
    bool facts_verified = false;                      // facts come from verified markers
    std::optional<ExecEvent> exec;                    // audit: the ExecuteCommand event
    std::optional<RunTaskEvent> run_task;             // audit: the RunTask that started the task
    std::optional<ExecEvidence> seen;                 // PID 1's exec.seen / exec.gone
    std::optional<RecordingFacts> recording;          // audit: rec markers and content check
    std::optional<bool> claim_matches;                // audit, with a claim and a CloudTrail event
    std::optional<NameMatch> claim_match;             // which principal name the claim equals
    std::optional<PersonMatch> person;           // audit: the Identity Center user of the principal
    std::optional<ClaimOverride> claim_override; // audit: the RunTask override of the container
    std::string start, end;                      // RFC 3339 (docs/auditing.md, JSON "start", "end")
    std::optional<std::int64_t> duration_ms;

    [[nodiscard]] bool clean() const { return findings.empty(); }

    // The status word: the first finding, else ATTRIBUTED (audit) or OK (verify).
    [[nodiscard]] std::string primary_status(bool audit) const;

    // Task and container: CloudTrail's when known, else the markers'.
    [[nodiscard]] std::string task() const;
    [[nodiscard]] std::string container() const;
    [[nodiscard]] std::string cluster() const;
    // Account and region: the ExecuteCommand event's (recipientAccountId, awsRegion), else
    // those of the task ARN.
    [[nodiscard]] std::string account() const;
    [[nodiscard]] std::string region() const;
};

// A failed or denied ExecuteCommand call: one line of "Denied or failed ExecuteCommand calls",
// one {"type":"denied"} JSON line. Not a session (there is none), no finding by itself.
struct DeniedRecord {
    DeniedGroup calls; // calls alike (who, error, where), first and last time, how many
    std::optional<PersonMatch> person;
};

// One boot chain of a trusted key, as the container logs show it.
struct KeyBoot {
    std::uint64_t markers = 0;
    std::vector<Problem> problems;
};

// One trusted key: one "Trusted keys" line, one {"type":"key"} JSON line.
struct KeyRecord {
    std::string kid, pub; // pub: base64url
    std::string trust;    // key_trust_name: given, first-boot, restart, KEY-UNPROVEN, KEY-INJECTED
    std::string origin, boot_ts, task, ctr; // origin: why it is trusted
    std::vector<KeyBoot> boots;             // the container logs' boots under this key
};

struct Totals {
    std::size_t sessions = 0, clean = 0;
    std::map<Finding, std::size_t> by_finding;
    std::uint64_t signatures = 0, markers = 0;
    std::size_t trusted_keys = 0, container_problems = 0;
    std::size_t trail_records = 0, exec_events = 0, run_task_events = 0;
    std::size_t denied = 0;       // failed or denied ExecuteCommand calls in scope
    std::size_t digest_files = 0; // CloudTrail digest files skipped
    std::size_t out_of_scope_sessions = 0, out_of_scope_denied = 0; // skipped by the filters
    std::vector<std::string> incomplete; // roles with an unfollowed page ("CloudTrail", ...)
    std::size_t inputs = 0;
    std::vector<std::string> input_errors;
    std::uint64_t bytes = 0;
};

// The whole result: what both renderers show, nothing else.
struct Assessment {
    bool audit = false;
    std::vector<SessionRecord> sessions;     // sorted by start time, then session id
    std::vector<DeniedRecord> denied;        // by time
    std::vector<KeyRecord> keys;             // by kid
    std::vector<Problem> boot_problems;      // the boot chains' findings, in reading order
    std::vector<Problem> container_problems; // other container-log findings
    Totals totals;
};

struct JoinInputs {
    std::vector<LogVerdict> verdicts;
    const std::map<std::string, ExecEvidence, std::less<>>* evidence = nullptr; // container logs
    // audit: the container logs' rec markers; null leaves the recording rules out (run_audit
    // always gives it in audit, empty when no container log was given)
    const RecIndex* recordings = nullptr;
    bool container_logs = true;        // a container log was given (else --key only)
    const TrailIndex* trail = nullptr; // audit only
    const TrustStore* trust = nullptr;
    const std::vector<BootReport>* boots = nullptr;
    const std::vector<Problem>* container_problems = nullptr;
    const IdentityDirectory* directory = nullptr; // --identity-center-users
    std::string claim_var = "AWS_USER";           // for the override's wording
    Scope scope;
};

// Builds one record per session (docs/auditing.md, "Statuses"), sorted by start time then id.
// verify: one record per session log (grouped by session id). audit: also CloudTrail sessions
// without logs, and sessions only the container log saw.
// Sessions out of inputs.scope are left out (and counted in out_of_scope when given).
std::vector<SessionRecord> build_records(JoinInputs inputs, std::size_t* out_of_scope = nullptr);

// The records, keys and totals. Records out of scope are counted in totals (out_of_scope_*).
// reading carries what the readers counted (inputs, bytes, input_errors, signatures, markers, trail
// counts); the session and key totals are added here.
Assessment assess(JoinInputs inputs, Totals reading);

// RFC 3339 UTC ("2026-11-24T05:40:04Z", optional fraction) to ms since the epoch.
std::optional<std::int64_t> parse_utc_time(std::string_view text);

// "45s", "12m03s", "2h05m00s".
std::string format_duration(std::int64_t ms);

} // namespace execmark::audit
