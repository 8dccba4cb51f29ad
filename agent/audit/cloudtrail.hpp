// SPDX-License-Identifier: MIT
#pragma once

// CloudTrail: ExecuteCommand and RunTask events from CloudTrail S3 files ({"Records":[...]},
// plain or gzip), `aws cloudtrail lookup-events` output (each event a JSON string in
// CloudTrailEvent) and EventBridge events (the record in "detail"); and the rule that matches a
// marker's claim to the CloudTrail principal.

#include <agent/audit/input.hpp>
#include <agent/audit/json_input.hpp>
#include <agent/util/result.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace execmark::audit {

// userIdentity of a CloudTrail record.
struct Principal {
    std::string type; // AssumedRole, IAMUser, Root, FederatedUser, AWSService, ...
    std::string arn;
    std::string principal_id;
    std::string account;
    std::string user_name;    // IAMUser: userName
    std::string issuer_arn;   // AssumedRole: sessionContext.sessionIssuer.arn
    std::string issuer_name;  // AssumedRole: sessionContext.sessionIssuer.userName (role name)
    std::string on_behalf_of; // Identity Center: onBehalfOf.userId
};

// An ExecuteCommand call that opened a session.
struct ExecEvent {
    std::string session_id; // responseElements.session.sessionId: the join key
    std::string event_id, event_time, region, source_ip, user_agent;
    std::string cluster, container, task, task_arn, command;
    Principal principal;
    std::string origin; // where it was read
};

// A RunTask call: who started which tasks, with which claim-variable overrides.
struct RunTaskEvent {
    std::string event_id, event_time;
    Principal principal;
    std::vector<std::string> task_arns;
    // containerOverrides[].environment entries named like the claim variable: container -> value
    std::vector<std::pair<std::string, std::string>> claim_overrides;
    std::string origin;
};

using TrailRecord = std::variant<std::monostate, ExecEvent, RunTaskEvent>;

// Classifies one JSON object from a CloudTrail-ish input: a CloudTrail record, an EventBridge
// event ("detail" holds the record), or a lookup-events entry (CloudTrailEvent holds the record
// as a string). ExecuteCommand calls without a session id (failed calls) and other events give
// monostate. claim_var names the environment variable of the claim (AWS_USER).
TrailRecord classify_trail_record(const Json& object, std::string_view claim_var);

// The names a claim may use for a principal (docs/auditing.md, "Matching rule"): the full ARN;
// for an assumed role the role session name and "role/session"; for an IAM user the user name;
// for a federated user its name; the principalId part after ':'.
std::vector<std::string> principal_names(const Principal& principal);

// The claim matches the principal when it equals one of principal_names, ignoring ASCII case.
bool claim_matches(std::string_view claim, const Principal& principal);

// Short display form: "assumed-role/ROLE/SESSION", "user/NAME", "root", or the ARN.
std::string principal_display(const Principal& principal);

// The task id: the last path component of a task ARN (or the value itself).
std::string_view task_id_of(std::string_view task);

// The CloudTrail events read so far, deduplicated by eventID.
class TrailIndex {
public:
    void add(ExecEvent event);
    void add(RunTaskEvent event);

    [[nodiscard]] const ExecEvent* find_exec(std::string_view session_id) const;
    // The latest RunTask that started this task (by task id).
    [[nodiscard]] const RunTaskEvent* find_run_task(std::string_view task) const;

    [[nodiscard]] const std::map<std::string, ExecEvent, std::less<>>& execs() const
    {
        return m_execs;
    }

    [[nodiscard]] std::size_t run_tasks() const { return m_runs.size(); }

    // ExecuteCommand records seen for a session id that was already known from another record.
    [[nodiscard]] std::size_t conflicts() const { return m_conflicts; }

    void count_records(std::size_t read, std::size_t skipped)
    {
        m_records += read;
        m_skipped += skipped;
    }

    // Records read (every shape, every event name), and records too large to read.
    [[nodiscard]] std::size_t records() const { return m_records; }

    [[nodiscard]] std::size_t skipped() const { return m_skipped; }

private:
    std::map<std::string, ExecEvent, std::less<>> m_execs; // by session id
    std::vector<RunTaskEvent> m_runs;
    std::map<std::string, std::size_t, std::less<>> m_run_by_task; // task id -> m_runs index
    std::map<std::string, bool, std::less<>> m_event_ids;
    std::size_t m_conflicts = 0;
    std::size_t m_records = 0;
    std::size_t m_skipped = 0;
};

// Reads every record of one CloudTrail input into index.
util::Status read_trail_input(Input& in, std::string_view claim_var, TrailIndex& index);

} // namespace execmark::audit
