// SPDX-License-Identifier: MIT
#pragma once

// CloudTrail: ExecuteCommand and RunTask events from CloudTrail S3 files ({"Records":[...]},
// plain or gzip), `aws cloudtrail lookup-events` output (each event a JSON string in
// CloudTrailEvent), CloudTrail Lake `get-query-results` output (rows of one-member objects)
// and EventBridge events (the record in "detail"); and the rule that matches a marker's claim
// to the CloudTrail principal (docs/auditing.md, "Identities and the matching rule").

#include <agent/audit/input.hpp>
#include <agent/audit/json_input.hpp>
#include <agent/audit/pages.hpp>
#include <agent/util/result.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace execmark::audit {

// userIdentity of a CloudTrail record: every member the CloudTrail userIdentity documentation
// names for the types IAMUser, AssumedRole, Root, FederatedUser, AWSAccount, AWSService,
// IdentityCenterUser and Unknown (empty when absent).
struct Principal {
    std::string type; // the types above; anything else is kept as given
    std::string arn;
    std::string principal_id;
    std::string account;            // accountId
    std::string user_name;          // IAMUser, Unknown (and some Root/FederatedUser): userName
    std::string issuer_type;        // sessionContext.sessionIssuer.type (Role, IAMUser, Root)
    std::string issuer_arn;         // sessionContext.sessionIssuer.arn
    std::string issuer_name;        // sessionContext.sessionIssuer.userName (role name)
    std::string source_identity;    // sessionContext.sourceIdentity (set by the role's caller)
    std::string invoked_by;         // invokedBy: the AWS service that made the call
    std::string on_behalf_of;       // IdentityCenterUser: onBehalfOf.userId
    std::string identity_store_arn; // IdentityCenterUser: onBehalfOf.identityStoreArn
    std::string credential_id;      // IdentityCenterUser: credentialId
    std::string identity_provider;  // identityProvider (web identity, SAML)
};

// An ExecuteCommand call that opened a session.
struct ExecEvent {
    std::string session_id; // responseElements.session.sessionId: the join key
    std::string event_id, event_time, region, source_ip, user_agent;
    std::string account; // recipientAccountId: the account of the cluster (organization trails)
    std::string cluster, container, task, task_arn, command;
    Principal principal;
    std::string origin; // where it was read
};

// An ExecuteCommand call that failed (errorCode: AccessDenied, InvalidParameterException,
// TargetNotConnectedException, ...) or opened no session: no session id, so no session.
struct DeniedExec {
    std::string event_id, event_time, region, account, source_ip, user_agent;
    std::string cluster, container, task, command;
    std::string error_code, error_message; // error_code "" when the response has no session
    Principal principal;
    std::string origin;
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

// The filters --account, --region, --cluster, --since, --until: a session (or denied call) is
// out of scope when a filter is given and its value is known and not among the given ones (time:
// its start before since or not before until). Unknown values stay in scope.
struct Scope {
    std::vector<std::string> accounts, regions, clusters; // clusters: names or ARNs
    std::optional<std::int64_t> since_ms, until_ms;

    [[nodiscard]] bool contains(std::string_view account,
                                std::string_view region,
                                std::string_view cluster,
                                std::string_view start) const;
};

// Denied or failed calls alike — same account, region, principal, error code, cluster, task
// and container — kept once with how many there were, the earliest call (call) and the latest
// time: memory grows with the distinct kinds of attempt, not with their number.
struct DeniedGroup {
    DeniedExec call;       // the earliest call
    std::string last_time; // eventTime of the latest call
    std::size_t count = 0;
};

// A CloudTrail digest file (CloudTrail-Digest/...): evidence of the trail's own integrity
// (`aws cloudtrail validate-logs`), not records. Skipped and not counted.
struct DigestFile {};

// JSON that is none of the documented shapes: named as an input error, never a record.
struct NotARecord {
    std::string what; // "an object with keys a, b, c", "a string", ...
};

// monostate: a CloudTrail record (or EventBridge event) of another kind; counted as a record.
using TrailRecord =
    std::variant<std::monostate, ExecEvent, RunTaskEvent, DeniedExec, DigestFile, NotARecord>;

// Classifies one JSON object from a CloudTrail-ish input: a CloudTrail record, an EventBridge
// event ("detail" holds the record), a lookup-events entry (CloudTrailEvent holds the record
// as a string) or a digest file. claim_var names the environment variable of the claim
// (AWS_USER).
TrailRecord classify_trail_record(const Json& object, std::string_view claim_var);
// The same, of a record held flat (as read_trail_input streams them).
TrailRecord classify_trail_record(const FlatRecord& object, std::string_view claim_var);

// A CloudTrail Lake result row ([{"eventID":"…"},{"userIdentity":"{…}"},…]) as the record it
// holds: each one-member object a member; a string value that holds JSON (or the Lake's own
// "{key=value, …}" notation) parsed. nullopt when row is not such a row.
std::optional<Json> lake_row_record(const Json& row);

class IdentityDirectory; // identity_center.hpp

// How a claim matched a principal: the name it equals and the rule that gave that name
// ("role session name", "Identity Center e-mail", ...; docs/auditing.md).
struct NameMatch {
    std::string name;
    std::string rule;
};

// The names a claim may use for a principal, each with its rule (docs/auditing.md, "Identities
// and the matching rule"): the full ARN; AssumedRole: the role session name, "role/session"
// and the source identity; IAMUser: the user name; FederatedUser: its name; the principalId
// part after ':' (AssumedRole, FederatedUser); IdentityCenterUser: the user id. With a
// directory, an Identity Center user found by user id or by the session name of an
// AWSReservedSSO role adds the user name and e-mails. Root, AWSAccount, AWSService and Unknown
// have only the ARN (when there is one).
std::vector<NameMatch> principal_names(const Principal& principal,
                                       const IdentityDirectory* directory = nullptr);

// The first principal name the claim equals, ignoring ASCII case.
std::optional<NameMatch> match_claim(std::string_view claim,
                                     const Principal& principal,
                                     const IdentityDirectory* directory = nullptr);

inline bool claim_matches(std::string_view claim, const Principal& principal)
{
    return match_claim(claim, principal).has_value();
}

// Short display form per type: "assumed-role/ROLE/SESSION", "user/NAME", "root",
// "federated-user/NAME", "account/ID", "service/NAME", "identity-center/USER-ID",
// "unknown/NAME"; else the ARN, principalId or type.
std::string principal_display(const Principal& principal);

// The task id: the last path component of a task ARN (or the value itself).
std::string_view task_id_of(std::string_view task);

// Fields of an ARN ("arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE"): region and account, ""
// when text is not an ARN.
std::string arn_region(std::string_view arn);
std::string arn_account(std::string_view arn);

// A cluster's name: the last component of a cluster ARN, or the value itself.
std::string_view cluster_name(std::string_view cluster);

// The CloudTrail events read so far, deduplicated by eventID.
class TrailIndex {
public:
    void add(ExecEvent event);
    void add(RunTaskEvent event);
    void add(DeniedExec event);

    [[nodiscard]] const ExecEvent* find_exec(std::string_view session_id) const;
    // The latest RunTask that started this task (by task id).
    [[nodiscard]] const RunTaskEvent* find_run_task(std::string_view task) const;

    [[nodiscard]] const std::map<std::string, ExecEvent, std::less<>>& execs() const
    {
        return m_execs;
    }

    [[nodiscard]] std::size_t run_tasks() const { return m_runs.size(); }

    // Denied calls outside this scope are not kept, only counted (before any add).
    void set_scope(Scope scope) { m_scope = std::move(scope); }

    [[nodiscard]] const std::vector<DeniedGroup>& denied() const { return m_denied; }

    [[nodiscard]] std::size_t denied_out_of_scope() const { return m_denied_out_of_scope; }

    void count_digest() { ++m_digests; }

    // Digest files skipped.
    [[nodiscard]] std::size_t digests() const { return m_digests; }

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
    Scope m_scope;
    std::vector<DeniedGroup> m_denied;
    std::map<std::string, std::size_t, std::less<>> m_denied_by_key; // -> m_denied index
    std::size_t m_denied_out_of_scope = 0;
    std::size_t m_digests = 0;
    std::map<std::string, std::size_t, std::less<>> m_run_by_task; // task id -> m_runs index
    std::map<std::string, bool, std::less<>> m_event_ids;
    std::size_t m_conflicts = 0;
    std::size_t m_records = 0;
    std::size_t m_skipped = 0;
};

// The members of a record that classify_trail_record reads, for RecordStreamer::keep_only: a
// record streamed with only these built is classified as the whole record is.
std::span<const RecordMember> trail_record_members();

// Reads every record of one CloudTrail input into index. lookup-events and get-query-results
// pages are recorded in pages (when given). Errors: I/O, invalid JSON, a Lake query that did
// not finish, and JSON that is none of the shapes (named; none of it is counted).
util::Status read_trail_input(Input& in,
                              std::string_view claim_var,
                              TrailIndex& index,
                              PageSet* pages = nullptr);

} // namespace execmark::audit
