// SPDX-License-Identifier: MIT
#include <agent/audit/render.hpp>

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

// Columns padded to the widest cell, two spaces apart.
std::string aligned(const std::vector<std::vector<std::string>>& cells)
{
    std::vector<std::size_t> width(cells.front().size(), 0);
    for (const auto& line : cells) {
        for (std::size_t i = 0; i < line.size(); ++i) {
            width[i] = std::max(width[i], line[i].size());
        }
    }
    std::string out;
    for (const auto& line : cells) {
        for (std::size_t i = 0; i < line.size(); ++i) {
            out += line[i];
            if (i + 1 < line.size()) {
                out.append(width[i] - line[i].size() + 2, ' ');
            }
        }
        out += "\n";
    }
    return out;
}

std::string session_table(const Assessment& a)
{
    std::vector<std::vector<std::string>> cells;
    if (a.audit) {
        cells.push_back(
            {"SESSION", "PRINCIPAL", "CLAIM", "TASK/CONTAINER", "START", "DURATION", "STATUS"});
    } else {
        cells.push_back(
            {"SESSION", "CLAIM", "TASK/CONTAINER", "START", "DURATION", "MARKERS", "STATUS"});
    }
    for (const SessionRecord& row : a.sessions) {
        const std::string duration = row.duration_ms ? format_duration(*row.duration_ms) : "-";
        if (a.audit) {
            cells.push_back({row.session,
                             row.exec ? principal_display(row.exec->principal) : "-",
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

// The CloudTrail fields of a session: principal and the ExecuteCommand event.
void exec_json(OJson& j, const SessionRecord& row)
{
    if (!row.exec) {
        for (const char* k :
             {"principal", "event_time", "event_id", "source_ip", "command", "region"}) {
            j[k] = nullptr;
        }
        return;
    }
    const Principal& p = row.exec->principal;
    j["principal"] = {{"arn", nullable(p.arn)},
                      {"type", nullable(p.type)},
                      {"principal_id", nullable(p.principal_id)},
                      {"account", nullable(p.account)},
                      {"display", principal_display(p)}};
    j["event_time"] = nullable(row.exec->event_time);
    j["event_id"] = nullable(row.exec->event_id);
    j["source_ip"] = nullable(row.exec->source_ip);
    j["command"] = nullable(row.exec->command);
    j["region"] = nullable(row.exec->region);
}

// The claim, its comparison and the task's RunTask override.
void claim_json(OJson& j, const SessionRecord& row)
{
    j["claim"] = nullable(row.facts.claim);
    j["claim_verified"] = row.facts_verified;
    j["claim_matches"] = row.claim_matches ? OJson(*row.claim_matches) : OJson(nullptr);
    std::string set_by;
    std::string override_value;
    if (row.run_task) {
        set_by = row.run_task->principal.arn;
        for (const auto& [ctr, value] : row.run_task->claim_overrides) {
            const std::string want = row.exec ? row.exec->container : row.facts.ctr;
            if (want.empty() || ctr == want) {
                override_value = value;
                break;
            }
        }
    }
    j["claim_set_by"] = override_value.empty() ? OJson(nullptr) : nullable(set_by);
    j["claim_override"] = nullable(override_value);
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
    j["markers"] = row.markers;
    j["verified"] = row.verified;
    j["chain"] = row.own;
    j["logs"] = row.logs;
    j["problems"] = problems_json(row.problems);
    j["more_problems"] = row.more_problems;
    return j;
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
    }
    summary["container_problems"] = problems_json(a.container_problems);
    summary["input_errors"] = t.input_errors;
    return summary;
}

} // namespace

std::string render_table(const Assessment& a)
{
    return session_table(a) + findings_section(a) + keys_section(a) + container_section(a)
           + totals_section(a);
}

std::string render_json(const Assessment& a)
{
    std::string out;
    for (const SessionRecord& row : a.sessions) {
        out += line(session_json(row, a.audit));
    }
    for (const KeyRecord& key : a.keys) {
        out += line(key_json(key));
    }
    return out + line(summary_json(a));
}

} // namespace execmark::audit
