// SPDX-License-Identifier: MIT
#include <agent/audit/render.hpp>
#include <agent/audit/terminal.hpp>

#include <algorithm>

namespace execmark::audit {

namespace {

// Output objects keep their fields in the documented order.
using OJson = nlohmann::ordered_json;

constexpr std::size_t k_max_problems_shown = 8; // per session in the table

// ---- table ---------------------------------------------------------------------------------

std::string short_time(const std::string& iso)
{
    // "2026-11-24T05:40:04.123Z" -> "2026-11-24 05:40:04Z"
    if (iso.size() < 19) {
        return iso.empty() ? "-" : iso;
    }
    std::string out = iso.substr(0, 19);
    out[10] = ' ';
    return out + "Z";
}

std::string task_container(const SessionRecord& row)
{
    std::string task(task_id_of(row.task()));
    const std::string ctr = row.container();
    if (task.empty() && ctr.empty()) {
        return "-";
    }
    if (task.size() > 12) {
        task = task.substr(0, 12);
    }
    return (task.empty() ? "?" : task) + "/" + (ctr.empty() ? "?" : ctr);
}

std::string claim_text(const SessionRecord& row)
{
    if (row.facts.claim.empty()) {
        return "-";
    }
    return row.facts_verified ? row.facts.claim : row.facts.claim + " (unsigned)";
}

std::string status_text(const SessionRecord& row, bool audit)
{
    return row.findings.empty() ? row.primary_status(audit) : row.findings.joined("");
}

std::string plural(std::size_t n, std::string_view word)
{
    return std::to_string(n) + " " + std::string(word) + (n == 1 ? "" : "s");
}

std::string problem_line(const Problem& p)
{
    return "    " + std::string(finding_name(p.finding)) + "  " + p.where + ": " + p.detail + "\n";
}

// Columns padded to the widest cell by display width (é is one column, 漢 two), two spaces
// apart.
std::string aligned(const std::vector<std::vector<std::string>>& cells)
{
    std::vector<std::size_t> width(cells.front().size(), 0);
    for (const auto& line : cells) {
        for (std::size_t i = 0; i < line.size(); ++i) {
            width[i] = std::max(width[i], display_width(line[i]));
        }
    }
    std::string out;
    for (const auto& line : cells) {
        for (std::size_t i = 0; i < line.size(); ++i) {
            out += line[i];
            if (i + 1 < line.size()) {
                out.append(width[i] - display_width(line[i]) + 2, ' ');
            }
        }
        out += "\n";
    }
    return out;
}

std::string or_dash(const std::string& s)
{
    return s.empty() ? "-" : s;
}

// The principal, and the Identity Center user it is when the directory names one.
std::string principal_text(const Principal& p, const std::optional<PersonMatch>& person)
{
    std::string out = principal_display(p);
    if (p.type == "AssumedRole" && !p.source_identity.empty()) {
        out += " (source " + p.source_identity + ")";
    }
    if (person) {
        out += " = " + person->user.user_name;
    }
    return out;
}

std::string session_table(const Assessment& a)
{
    std::vector<std::vector<std::string>> cells;
    if (a.audit) {
        cells.push_back({"SESSION",
                         "ACCOUNT",
                         "REGION",
                         "PRINCIPAL",
                         "CLAIM",
                         "TASK/CONTAINER",
                         "START",
                         "DURATION",
                         "STATUS"});
    } else {
        cells.push_back(
            {"SESSION", "CLAIM", "TASK/CONTAINER", "START", "DURATION", "MARKERS", "STATUS"});
    }
    for (const SessionRecord& row : a.sessions) {
        const std::string duration = row.duration_ms ? format_duration(*row.duration_ms) : "-";
        if (a.audit) {
            cells.push_back({row.session,
                             or_dash(row.account()),
                             or_dash(row.region()),
                             row.exec ? principal_text(row.exec->principal, row.person) : "-",
                             claim_text(row),
                             task_container(row),
                             short_time(row.start),
                             duration,
                             status_text(row, true)});
        } else {
            cells.push_back({row.session,
                             claim_text(row),
                             task_container(row),
                             short_time(row.start),
                             duration,
                             std::to_string(row.own) + "/" + std::to_string(row.markers),
                             status_text(row, false)});
        }
    }
    return aligned(cells);
}

std::string findings_section(const Assessment& a)
{
    std::string out;
    for (const SessionRecord& row : a.sessions) {
        if (row.problems.empty()) {
            continue;
        }
        if (out.empty()) {
            out = "\nFindings:\n";
        }
        out += "  " + row.session + "\n";
        std::size_t shown = 0;
        for (const Problem& p : row.problems) {
            if (shown++ == k_max_problems_shown) {
                break;
            }
            out += problem_line(p);
        }
        const std::size_t more = row.more_problems
                                 + (row.problems.size() > k_max_problems_shown
                                        ? row.problems.size() - k_max_problems_shown
                                        : 0);
        if (more > 0) {
            out += "    ... and " + std::to_string(more) + " more\n";
        }
    }
    return out;
}

// Which Identity Center user each mapped principal is, and how the claim matched.
std::string identity_section(const Assessment& a)
{
    std::string out;
    for (const SessionRecord& row : a.sessions) {
        if (!row.person) {
            continue;
        }
        if (out.empty()) {
            out = "\nIdentity Center users:\n";
        }
        const DirectoryUser& u = row.person->user;
        std::string emails;
        for (const auto& e : u.emails) {
            emails += (emails.empty() ? "" : ", ") + e;
        }
        out += "  " + row.session + "  " + principal_display(row.exec->principal) + " is "
               + u.user_name + (emails.empty() ? "" : " (" + emails + ")") + ", by "
               + row.person->how;
        if (row.claim_match) {
            out += "; claim \"" + row.facts.claim + "\" matched the " + row.claim_match->rule;
        }
        out += "\n";
    }
    return out;
}

std::string denied_section(const Assessment& a)
{
    if (a.denied.empty()) {
        return {};
    }
    std::vector<std::vector<std::string>> cells;
    cells.push_back(
        {"FIRST", "LAST", "CALLS", "ACCOUNT", "REGION", "PRINCIPAL", "TASK/CONTAINER", "ERROR"});
    for (const DeniedRecord& d : a.denied) {
        const DeniedExec& c = d.calls.call;
        std::string task(task_id_of(c.task));
        if (task.size() > 12) {
            task = task.substr(0, 12);
        }
        std::string error = c.error_code.empty() ? "(no error code)" : c.error_code;
        if (!c.error_message.empty()) {
            error += ": " + c.error_message;
        }
        cells.push_back({short_time(c.event_time),
                         short_time(d.calls.last_time),
                         std::to_string(d.calls.count),
                         or_dash(c.account),
                         or_dash(c.region),
                         principal_text(c.principal, d.person),
                         or_dash(task) + "/" + or_dash(c.container),
                         error});
    }
    std::string table = aligned(cells);
    std::string out = "\nDenied or failed ExecuteCommand calls (no session was opened):\n";
    std::size_t start = 0;
    while (start < table.size()) {
        const std::size_t nl = table.find('\n', start);
        out += "  " + table.substr(start, nl - start + 1);
        start = nl + 1;
    }
    return out;
}

std::string keys_section(const Assessment& a)
{
    if (a.keys.empty()) {
        return {};
    }
    std::string out = "\nTrusted keys:\n";
    for (const KeyRecord& key : a.keys) {
        std::string line = "  " + key.kid + "  " + key.trust + ": " + key.origin;
        if (!key.task.empty() || !key.ctr.empty()) {
            line += "  task " + std::string(task_id_of(key.task)) + " container " + key.ctr;
        }
        for (const KeyBoot& b : key.boots) {
            line += "  " + std::to_string(b.markers) + " markers";
            line += b.problems.empty() ? ", chain OK" : ", chain has findings";
        }
        out += line + "\n";
    }
    return out;
}

std::string container_section(const Assessment& a)
{
    if (a.totals.container_problems == 0) {
        return {};
    }
    std::string out = "\nContainer log findings:\n";
    for (const Problem& p : a.boot_problems) {
        out += problem_line(p);
    }
    for (const Problem& p : a.container_problems) {
        out += problem_line(p);
    }
    return out;
}

std::string totals_section(const Assessment& a)
{
    const Totals& t = a.totals;
    std::string out = "\n" + plural(t.sessions, "session") + ": " + std::to_string(t.clean)
                      + " clean, " + std::to_string(t.sessions - t.clean) + " with findings";
    if (!t.by_finding.empty()) {
        std::string list;
        for (const auto& [f, n] : t.by_finding) {
            list +=
                (list.empty() ? "" : ", ") + std::string(finding_name(f)) + " " + std::to_string(n);
        }
        out += " (" + list + ")";
    }
    out += ".\n" + std::to_string(t.markers) + " markers, " + std::to_string(t.signatures)
           + " signatures checked, " + plural(t.trusted_keys, "trusted key");
    if (a.audit) {
        out += ", " + std::to_string(t.exec_events) + " ExecuteCommand and "
               + std::to_string(t.run_task_events) + " RunTask events in "
               + std::to_string(t.trail_records) + " CloudTrail records";
    }
    out += ".\n";
    if (t.container_problems > 0) {
        out += plural(t.container_problems, "container log finding") + ".\n";
    }
    if (t.denied > 0) {
        out += plural(t.denied, "denied or failed ExecuteCommand call") + ".\n";
    }
    if (t.digest_files > 0) {
        out += plural(t.digest_files, "CloudTrail digest file")
               + " skipped (check them with `aws cloudtrail validate-logs`).\n";
    }
    if (t.out_of_scope_sessions + t.out_of_scope_denied > 0) {
        out += "Outside the filters, skipped: " + plural(t.out_of_scope_sessions, "session") + ", "
               + plural(t.out_of_scope_denied, "denied call") + ".\n";
    }
    for (const auto& role : t.incomplete) {
        out += "The " + role
               + " input is incomplete: a page's next page was not given (see the errors "
                 "above).\n";
    }
    if (!t.input_errors.empty()) {
        out += plural(t.input_errors.size(), "input")
               + " could not be read completely (see the errors above).\n";
    }
    return out;
}

// ---- JSON ----------------------------------------------------------------------------------

OJson nullable(const std::string& s)
{
    return s.empty() ? OJson(nullptr) : OJson(s);
}

OJson problems_json(const std::vector<Problem>& problems)
{
    OJson out = OJson::array();
    for (const Problem& p : problems) {
        out.push_back({{"status", std::string(finding_name(p.finding))},
                       {"where", p.where},
                       {"detail", p.detail}});
    }
    return out;
}

std::string line(const OJson& j)
{
    return j.dump(-1, ' ', false, OJson::error_handler_t::replace) + "\n";
}

// userIdentity, every member kept (docs/auditing.md, "JSON output").
OJson principal_json(const Principal& p)
{
    OJson issuer = nullptr;
    if (!p.issuer_arn.empty() || !p.issuer_name.empty() || !p.issuer_type.empty()) {
        issuer = {{"type", nullable(p.issuer_type)},
                  {"arn", nullable(p.issuer_arn)},
                  {"name", nullable(p.issuer_name)}};
    }
    OJson on_behalf_of = nullptr;
    if (!p.on_behalf_of.empty() || !p.identity_store_arn.empty()) {
        on_behalf_of = {{"user_id", nullable(p.on_behalf_of)},
                        {"identity_store_arn", nullable(p.identity_store_arn)}};
    }
    return {{"arn", nullable(p.arn)},
            {"type", nullable(p.type)},
            {"principal_id", nullable(p.principal_id)},
            {"account", nullable(p.account)},
            {"display", principal_display(p)},
            {"user_name", nullable(p.user_name)},
            {"session_issuer", issuer},
            {"source_identity", nullable(p.source_identity)},
            {"invoked_by", nullable(p.invoked_by)},
            {"on_behalf_of", on_behalf_of},
            {"credential_id", nullable(p.credential_id)},
            {"identity_provider", nullable(p.identity_provider)}};
}

OJson person_json(const std::optional<PersonMatch>& person)
{
    if (!person) {
        return nullptr;
    }
    const DirectoryUser& u = person->user;
    return {{"user_id", u.user_id},
            {"user_name", nullable(u.user_name)},
            {"display_name", nullable(u.display_name)},
            {"emails", u.emails},
            {"identity_store_id", nullable(u.store_id)},
            {"mapped_by", person->how}};
}

// The CloudTrail fields of a session: principal and the ExecuteCommand event.
void exec_json(OJson& j, const SessionRecord& row)
{
    if (!row.exec) {
        for (const char* k :
             {"principal", "identity_center", "event_time", "event_id", "source_ip", "command"}) {
            j[k] = nullptr;
        }
        return;
    }
    j["principal"] = principal_json(row.exec->principal);
    j["identity_center"] = person_json(row.person);
    j["event_time"] = nullable(row.exec->event_time);
    j["event_id"] = nullable(row.exec->event_id);
    j["source_ip"] = nullable(row.exec->source_ip);
    j["command"] = nullable(row.exec->command);
}

// The claim, its comparison and the task's RunTask override.
void claim_json(OJson& j, const SessionRecord& row)
{
    j["claim"] = nullable(row.facts.claim);
    j["claim_verified"] = row.facts_verified;
    j["claim_matches"] = row.claim_matches ? OJson(*row.claim_matches) : OJson(nullptr);
    j["claim_matched_by"] = row.claim_match ? OJson(row.claim_match->rule) : OJson(nullptr);
    const auto& o = row.claim_override;
    j["claim_override"] = o ? OJson(o->value) : OJson(nullptr);
    j["claim_override_set_by"] = o ? nullable(o->set_by) : OJson(nullptr);
    j["claim_equals_override"] = o && o->claim_equals ? OJson(*o->claim_equals) : OJson(nullptr);
    j["task_started_by"] = row.run_task ? nullable(row.run_task->principal.arn) : OJson(nullptr);
    j["owner"] = nullable(row.facts.owner);
    j["owner_source"] = nullable(row.facts.osrc);
}

OJson session_json(const SessionRecord& row, bool audit)
{
    OJson j = OJson::object();
    j["type"] = "session";
    j["session"] = row.session;
    j["status"] = row.primary_status(audit);
    OJson statuses = OJson::array();
    for (const Finding f : row.findings.list()) {
        statuses.push_back(std::string(finding_name(f)));
    }
    j["statuses"] = statuses;
    j["attribution"] =
        audit ? OJson(std::string(attribution_name(row.attribution))) : OJson(nullptr);
    j["account"] = nullable(row.account());
    j["region"] = nullable(row.region());
    exec_json(j, row);
    claim_json(j, row);
    j["task"] = nullable(row.task());
    j["cluster"] = nullable(row.cluster());
    j["container"] = nullable(row.container());
    j["start"] = nullable(row.start);
    j["end"] = nullable(row.end);
    j["duration_s"] = row.duration_ms ? OJson(*row.duration_ms / 1000) : OJson(nullptr);
    j["open_ts"] = nullable(row.facts.open_ts);
    j["close_ts"] = nullable(row.facts.close_ts);
    j["fin"] = nullable(row.facts.fin);
    j["rc"] = row.facts.rc ? OJson(*row.facts.rc) : OJson(nullptr);
    j["mode"] = nullable(row.facts.mode);
    j["reason"] = nullable(row.facts.reason);
    j["shell"] = nullable(row.facts.shell);
    j["kid"] = nullable(row.facts.kid);
    j["exec_seen"] = row.seen ? nullable(row.seen->seen_ts) : OJson(nullptr);
    j["exec_gone"] = row.seen ? nullable(row.seen->gone_ts) : OJson(nullptr);
    if (row.recording) {
        const RecordingFacts& r = *row.recording;
        j["recording"] = {
            {"checkpoints", r.checkpoints},
            {"verified", r.verified},
            {"interference", r.interference},
            {"start_ts", nullable(r.start_ts)},
            {"end_ts", nullable(r.end_ts)},
            {"end_off", r.end_off ? OJson(*r.end_off) : OJson(nullptr)},
            {"region_bytes", r.region_bytes ? OJson(*r.region_bytes) : OJson(nullptr)},
        };
    } else {
        j["recording"] = nullptr;
    }
    j["markers"] = row.markers;
    j["verified"] = row.verified;
    j["chain"] = row.own;
    j["logs"] = row.logs;
    j["problems"] = problems_json(row.problems);
    j["more_problems"] = row.more_problems;
    return j;
}

OJson denied_json(const DeniedRecord& d)
{
    const DeniedExec& c = d.calls.call;
    return {{"type", "denied"},
            {"event_time", nullable(c.event_time)},
            {"last_event_time", nullable(d.calls.last_time)},
            {"count", d.calls.count},
            {"event_id", nullable(c.event_id)},
            {"account", nullable(c.account)},
            {"region", nullable(c.region)},
            {"principal", principal_json(c.principal)},
            {"identity_center", person_json(d.person)},
            {"error_code", nullable(c.error_code)},
            {"error_message", nullable(c.error_message)},
            {"cluster", nullable(c.cluster)},
            {"task", nullable(c.task)},
            {"container", nullable(c.container)},
            {"command", nullable(c.command)},
            {"source_ip", nullable(c.source_ip)},
            {"user_agent", nullable(c.user_agent)},
            {"origin", nullable(c.origin)}};
}

OJson key_json(const KeyRecord& key)
{
    OJson j = {{"type", "key"},
               {"kid", key.kid},
               {"pub", key.pub},
               {"trust", key.trust},
               {"origin", key.origin},
               {"boot_ts", nullable(key.boot_ts)},
               {"task", nullable(key.task)},
               {"container", nullable(key.ctr)}};
    std::uint64_t markers = 0;
    OJson problems = OJson::array();
    for (const KeyBoot& b : key.boots) {
        markers += b.markers;
        for (auto& p : problems_json(b.problems)) {
            problems.push_back(std::move(p));
        }
    }
    j["markers"] = markers;
    j["problems"] = problems;
    return j;
}

OJson summary_json(const Assessment& a)
{
    const Totals& t = a.totals;
    OJson summary = {{"type", "summary"},
                     {"command", a.audit ? "audit" : "verify"},
                     {"sessions", t.sessions},
                     {"clean", t.clean},
                     {"markers", t.markers},
                     {"signatures", t.signatures},
                     {"trusted_keys", t.trusted_keys},
                     {"container_findings", t.container_problems},
                     {"inputs", t.inputs},
                     {"bytes", t.bytes}};
    OJson counts = OJson::object();
    for (const auto& [f, n] : t.by_finding) {
        counts[std::string(finding_name(f))] = n;
    }
    summary["findings"] = counts;
    if (a.audit) {
        summary["cloudtrail_records"] = t.trail_records;
        summary["execute_command_events"] = t.exec_events;
        summary["run_task_events"] = t.run_task_events;
        summary["denied_execute_command"] = t.denied;
        summary["digest_files_skipped"] = t.digest_files;
    }
    summary["out_of_scope"] = {{"sessions", t.out_of_scope_sessions},
                               {"denied", t.out_of_scope_denied}};
    summary["incomplete"] = t.incomplete;
    summary["container_problems"] = problems_json(a.container_problems);
    summary["input_errors"] = t.input_errors;
    return summary;
}

} // namespace

std::string render_table(const Assessment& a)
{
    return session_table(a) + findings_section(a) + identity_section(a) + denied_section(a)
           + keys_section(a) + container_section(a) + totals_section(a);
}

std::string render_json(const Assessment& a)
{
    std::string out;
    for (const SessionRecord& row : a.sessions) {
        out += line(session_json(row, a.audit));
    }
    for (const DeniedRecord& d : a.denied) {
        out += line(denied_json(d));
    }
    for (const KeyRecord& key : a.keys) {
        out += line(key_json(key));
    }
    return out + line(summary_json(a));
}

} // namespace execmark::audit
