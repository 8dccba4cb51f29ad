// SPDX-License-Identifier: MIT
#include <agent/audit/report.hpp>
#include <agent/marker/marker.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <set>

namespace execmark::audit {

namespace {

// Output objects keep their fields in the documented order.
using OJson = nlohmann::ordered_json;

constexpr std::size_t k_max_problems_shown = 8; // per session in the table

bool two_digits(std::string_view s, std::size_t at, int& out)
{
    if (at + 2 > s.size() || s[at] < '0' || s[at] > '9' || s[at + 1] < '0' || s[at + 1] > '9') {
        return false;
    }
    out = (s[at] - '0') * 10 + (s[at + 1] - '0');
    return true;
}

// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2 ? 1 : 0;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned mp = m > 2 ? m - 3 : m + 9; // March = 0
    const unsigned doy = (153 * mp + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

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

std::string task_container(const SessionRow& row)
{
    std::string task;
    std::string ctr;
    if (row.exec) {
        task = std::string(
            task_id_of(!row.exec->task_arn.empty() ? row.exec->task_arn : row.exec->task));
        ctr = row.exec->container;
    }
    if (task.empty()) {
        task = std::string(task_id_of(row.facts.task));
    }
    if (ctr.empty()) {
        ctr = row.facts.ctr;
    }
    if (task.empty() && ctr.empty()) {
        return "-";
    }
    if (task.size() > 12) {
        task = task.substr(0, 12);
    }
    return (task.empty() ? "?" : task) + "/" + (ctr.empty() ? "?" : ctr);
}

std::string claim_text(const SessionRow& row)
{
    if (row.facts.claim.empty()) {
        return "-";
    }
    return row.facts_verified ? row.facts.claim : row.facts.claim + " (unsigned)";
}

std::string status_text(const SessionRow& row, bool audit)
{
    if (row.findings.empty()) {
        return audit ? std::string(attribution_name(row.attribution)) : "OK";
    }
    return row.findings.joined("");
}

OJson nullable(const std::string& s)
{
    return s.empty() ? OJson(nullptr) : OJson(s);
}

void add_problem(SessionRow& row, Finding f, std::string where, std::string detail)
{
    row.findings.add(f);
    row.problems.push_back({f, std::move(where), std::move(detail)});
}

void assess(SessionRow& row, bool audit)
{
    const bool genuine = row.own > 0 || row.findings.has(Finding::unsigned_marker);
    const bool tampered = row.findings.has(Finding::forged) || row.findings.has(Finding::replayed)
                          || row.findings.has(Finding::mangled);
    const std::string where = row.logs.empty() ? row.session : row.logs.front();
    if (!genuine) {
        if (row.seen) {
            row.attribution = Attribution::bypassed;
            add_problem(
                row,
                Finding::bypassed,
                row.seen->where,
                row.logs.empty()
                    ? "PID 1 saw this session (exec.seen) and no session log was given"
                    : "PID 1 saw this session (exec.seen); its log has none of its markers");
        } else if (!tampered && !(audit && !row.exec && row.logs.empty())) {
            row.attribution = Attribution::unmarked;
            add_problem(row,
                        Finding::unmarked,
                        where,
                        row.logs.empty() ? "no session log was given for this session"
                                         : "the session log has none of the session's markers");
        }
    }
    if (!audit) {
        return;
    }
    if (!row.exec) {
        if (!row.logs.empty()) {
            row.attribution = Attribution::orphan;
            add_problem(row, Finding::orphan, where, "no ExecuteCommand event for this session id");
        }
        return;
    }
    if (row.own == 0) {
        return;
    }
    const ExecEvent& ev = *row.exec;
    bool mismatch = false;
    if (row.facts_verified && !row.facts.claim.empty()) {
        row.claim_matches = claim_matches(row.facts.claim, ev.principal);
        if (!*row.claim_matches) {
            mismatch = true;
            add_problem(row,
                        Finding::mismatch,
                        where,
                        "claim \"" + row.facts.claim + "\" is not the principal "
                            + (ev.principal.arn.empty() ? principal_display(ev.principal)
                                                        : ev.principal.arn));
        }
    }
    const std::string ct_task = !ev.task_arn.empty() ? ev.task_arn : ev.task;
    if (!row.facts.task.empty() && !ct_task.empty()
        && task_id_of(row.facts.task) != task_id_of(ct_task)) {
        mismatch = true;
        add_problem(row,
                    Finding::mismatch,
                    where,
                    "markers name task " + row.facts.task + ", CloudTrail " + ct_task);
    }
    if (!row.facts.ctr.empty() && !ev.container.empty() && row.facts.ctr != ev.container) {
        mismatch = true;
        add_problem(row,
                    Finding::mismatch,
                    where,
                    "markers name container " + row.facts.ctr + ", CloudTrail " + ev.container);
    }
    const auto open_ms = marker::parse_timestamp(row.facts.open_ts);
    const auto call_ms = parse_utc_time(ev.event_time);
    if (open_ms && call_ms && *open_ms + k_max_clock_skew_ms < *call_ms) {
        mismatch = true;
        add_problem(row,
                    Finding::mismatch,
                    where,
                    "open marker (" + row.facts.open_ts
                        + ") is older than the ExecuteCommand call (" + ev.event_time + ")");
    }
    row.attribution = mismatch ? Attribution::mismatch : Attribution::attributed;
}

void fill_times(SessionRow& row)
{
    if (row.exec && !row.exec->event_time.empty()) {
        row.start = row.exec->event_time;
    } else if (!row.facts.open_ts.empty()) {
        row.start = row.facts.open_ts;
    } else if (row.seen) {
        row.start = row.seen->seen_ts;
    }
    if (!row.facts.close_ts.empty()) {
        row.end = row.facts.close_ts;
    } else if (row.seen) {
        row.end = row.seen->gone_ts;
    }
    const auto open = marker::parse_timestamp(row.facts.open_ts);
    const auto close = marker::parse_timestamp(row.facts.close_ts);
    if (open && close && *close >= *open) {
        row.duration_ms = *close - *open;
    } else if (row.seen) {
        const auto seen = marker::parse_timestamp(row.seen->seen_ts);
        const auto gone = marker::parse_timestamp(row.seen->gone_ts);
        if (seen && gone && *gone >= *seen) {
            row.duration_ms = *gone - *seen;
        }
    }
}

} // namespace

std::string_view attribution_name(Attribution a)
{
    switch (a) {
    case Attribution::none:
        return "-";
    case Attribution::attributed:
        return "ATTRIBUTED";
    case Attribution::mismatch:
        return "MISMATCH";
    case Attribution::unmarked:
        return "UNMARKED";
    case Attribution::orphan:
        return "ORPHAN";
    case Attribution::bypassed:
        return "BYPASSED";
    }
    return "-";
}

std::optional<std::int64_t> parse_utc_time(std::string_view s)
{
    int year_hi = 0;
    int year_lo = 0;
    int month = 0;
    int day = 0;
    int hour = 0;
    int minute = 0;
    int second = 0;
    if (s.size() < 20 || !two_digits(s, 0, year_hi) || !two_digits(s, 2, year_lo) || s[4] != '-'
        || !two_digits(s, 5, month) || s[7] != '-' || !two_digits(s, 8, day)
        || (s[10] != 'T' && s[10] != ' ') || !two_digits(s, 11, hour) || s[13] != ':'
        || !two_digits(s, 14, minute) || s[16] != ':' || !two_digits(s, 17, second)) {
        return std::nullopt;
    }
    std::size_t i = 19;
    std::int64_t ms = 0;
    if (s[i] == '.') {
        ++i;
        std::int64_t scale = 100;
        const std::size_t start = i;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
            ms += (s[i] - '0') * scale;
            scale /= 10;
            ++i;
        }
        if (i == start) {
            return std::nullopt;
        }
    }
    if (i + 1 != s.size() || s[i] != 'Z') {
        return std::nullopt;
    }
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
        return std::nullopt;
    }
    const std::int64_t days = days_from_civil(
        year_hi * 100 + year_lo, static_cast<unsigned>(month), static_cast<unsigned>(day));
    return ((days * 24 + hour) * 60 + minute) * 60000 + second * 1000 + ms;
}

std::string format_duration(std::int64_t ms)
{
    const std::int64_t s = ms / 1000;
    char buf[48];
    if (s < 60) {
        std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(s));
    } else if (s < 3600) {
        std::snprintf(buf,
                      sizeof buf,
                      "%lldm%02llds",
                      static_cast<long long>(s / 60),
                      static_cast<long long>(s % 60));
    } else {
        std::snprintf(buf,
                      sizeof buf,
                      "%lldh%02lldm%02llds",
                      static_cast<long long>(s / 3600),
                      static_cast<long long>((s / 60) % 60),
                      static_cast<long long>(s % 60));
    }
    return buf;
}

std::vector<SessionRow> build_rows(JoinInputs inputs)
{
    const bool audit = inputs.trail != nullptr;
    std::map<std::string, SessionRow> rows; // key: session id ("?<source>" for unbound logs)
    for (LogVerdict& v : inputs.verdicts) {
        const std::string key = v.id.own_sid.empty() ? "?" + v.id.source : v.sid;
        SessionRow& row = rows[key];
        row.session = v.sid.empty() ? "-" : v.sid;
        row.logs.push_back(v.id.source);
        row.findings.merge(v.findings);
        for (auto& p : v.problems) {
            row.problems.push_back(std::move(p));
        }
        row.more_problems += v.more_problems;
        row.markers += v.markers;
        row.verified += v.verified;
        row.own += v.own;
        const bool verified_facts = v.facts.has_open || v.facts.has_close;
        if (verified_facts && !row.facts_verified) {
            row.facts = v.facts;
            row.facts_verified = true;
        } else if (!row.facts_verified && row.facts.claim.empty()) {
            row.facts.claim = v.facts.claim;
        } else if (verified_facts && !row.facts.has_close && v.facts.has_close) {
            row.facts.has_close = true;
            row.facts.close_ts = v.facts.close_ts;
            row.facts.fin = v.facts.fin;
            row.facts.rc = v.facts.rc;
        }
    }
    // Sessions known only from CloudTrail or the container log get rows of their own, unless an
    // unbound log (stdin without --session) already stands for them.
    std::set<std::string> unbound_sessions;
    for (const auto& [key, row] : rows) {
        if (key.starts_with('?')) {
            unbound_sessions.insert(row.session);
        }
    }
    const auto add_session = [&](const std::string& sid) {
        if (!unbound_sessions.contains(sid)) {
            rows[sid].session = sid;
        }
    };
    if (audit) {
        for (const auto& [sid, ev] : inputs.trail->execs()) {
            add_session(sid);
        }
    }
    if (audit && inputs.evidence != nullptr) {
        for (const auto& [sid, ev] : *inputs.evidence) {
            add_session(sid);
        }
    }
    std::vector<SessionRow> out;
    out.reserve(rows.size());
    for (auto& [key, row] : rows) {
        if (inputs.evidence != nullptr) {
            if (const auto it = inputs.evidence->find(row.session); it != inputs.evidence->end()) {
                row.seen = it->second;
            }
        }
        if (audit) {
            if (const ExecEvent* ev = inputs.trail->find_exec(row.session)) {
                row.exec = *ev;
                const std::string task = !ev->task_arn.empty() ? ev->task_arn : ev->task;
                if (const RunTaskEvent* run = inputs.trail->find_run_task(task)) {
                    row.run_task = *run;
                }
            }
        }
        assess(row, audit);
        fill_times(row);
        out.push_back(std::move(row));
    }
    std::sort(out.begin(), out.end(), [](const SessionRow& a, const SessionRow& b) {
        const auto ta = parse_utc_time(a.start).value_or(INT64_MAX);
        const auto tb = parse_utc_time(b.start).value_or(INT64_MAX);
        return ta != tb ? ta < tb : a.session < b.session;
    });
    return out;
}

std::string
render_table(const std::vector<SessionRow>& rows, const Totals& totals, const RenderContext& ctx)
{
    std::vector<std::vector<std::string>> cells;
    if (ctx.audit) {
        cells.push_back(
            {"SESSION", "PRINCIPAL", "CLAIM", "TASK/CONTAINER", "START", "DURATION", "STATUS"});
    } else {
        cells.push_back(
            {"SESSION", "CLAIM", "TASK/CONTAINER", "START", "DURATION", "MARKERS", "STATUS"});
    }
    for (const SessionRow& row : rows) {
        const std::string duration = row.duration_ms ? format_duration(*row.duration_ms) : "-";
        if (ctx.audit) {
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
    std::vector<std::size_t> width(cells.front().size(), 0);
    for (const auto& line : cells) {
        for (std::size_t i = 0; i < line.size(); ++i) {
            width[i] = std::max(width[i], line[i].size());
        }
    }
    std::string out;
    for (const auto& line : cells) {
        std::string text;
        for (std::size_t i = 0; i < line.size(); ++i) {
            text += line[i];
            if (i + 1 < line.size()) {
                text.append(width[i] - line[i].size() + 2, ' ');
            }
        }
        out += text + "\n";
    }

    bool header = false;
    for (const SessionRow& row : rows) {
        if (row.problems.empty()) {
            continue;
        }
        if (!header) {
            out += "\nFindings:\n";
            header = true;
        }
        out += "  " + row.session + "\n";
        std::size_t shown = 0;
        for (const Problem& p : row.problems) {
            if (shown++ == k_max_problems_shown) {
                break;
            }
            out += "    " + std::string(finding_name(p.finding)) + "  " + p.where + ": " + p.detail
                   + "\n";
        }
        const std::size_t more = row.more_problems
                                 + (row.problems.size() > k_max_problems_shown
                                        ? row.problems.size() - k_max_problems_shown
                                        : 0);
        if (more > 0) {
            out += "    ... and " + std::to_string(more) + " more\n";
        }
    }

    if (ctx.trust != nullptr && !ctx.trust->keys().empty()) {
        out += "\nTrusted keys:\n";
        for (const auto& [kid, key] : ctx.trust->keys()) {
            std::string line = "  " + kid + "  " + key.origin;
            if (!key.task.empty() || !key.ctr.empty()) {
                line += "  task " + std::string(task_id_of(key.task)) + " container " + key.ctr;
            }
            if (ctx.boots != nullptr) {
                for (const BootReport& b : *ctx.boots) {
                    if (b.kid == kid) {
                        line += "  " + std::to_string(b.markers) + " markers";
                        line += b.problems.empty() ? ", chain OK" : ", chain has findings";
                    }
                }
            }
            out += line + "\n";
        }
    }
    const auto container_problem_lines = [&](const std::vector<Problem>& problems) {
        for (const Problem& p : problems) {
            out += "    " + std::string(finding_name(p.finding)) + "  " + p.where + ": " + p.detail
                   + "\n";
        }
    };
    if (totals.container_problems > 0) {
        out += "\nContainer log findings:\n";
        if (ctx.boots != nullptr) {
            for (const BootReport& b : *ctx.boots) {
                container_problem_lines(b.problems);
            }
        }
        if (ctx.container_problems != nullptr) {
            container_problem_lines(*ctx.container_problems);
        }
    }

    out += "\n" + std::to_string(totals.sessions) + " session" + (totals.sessions == 1 ? "" : "s")
           + ": " + std::to_string(totals.clean) + " clean, "
           + std::to_string(totals.sessions - totals.clean) + " with findings";
    if (!totals.by_finding.empty()) {
        std::string list;
        for (const auto& [f, n] : totals.by_finding) {
            list +=
                (list.empty() ? "" : ", ") + std::string(finding_name(f)) + " " + std::to_string(n);
        }
        out += " (" + list + ")";
    }
    out += ".\n" + std::to_string(totals.markers) + " markers, " + std::to_string(totals.signatures)
           + " signatures checked, " + std::to_string(totals.trusted_keys) + " trusted key"
           + (totals.trusted_keys == 1 ? "" : "s");
    if (ctx.audit) {
        out += ", " + std::to_string(totals.exec_events) + " ExecuteCommand and "
               + std::to_string(totals.run_task_events) + " RunTask events in "
               + std::to_string(totals.trail_records) + " CloudTrail records";
    }
    out += ".\n";
    if (totals.container_problems > 0) {
        out += std::to_string(totals.container_problems) + " container log finding"
               + (totals.container_problems == 1 ? "" : "s") + ".\n";
    }
    if (!totals.input_errors.empty()) {
        out += std::to_string(totals.input_errors.size()) + " input"
               + (totals.input_errors.size() == 1 ? "" : "s")
               + " could not be read completely (see the errors above).\n";
    }
    return out;
}

std::string
render_json(const std::vector<SessionRow>& rows, const Totals& totals, const RenderContext& ctx)
{
    std::string out;
    for (const SessionRow& row : rows) {
        OJson j = OJson::object();
        j["type"] = "session";
        j["session"] = row.session;
        j["status"] = status_text(row, ctx.audit).substr(0, status_text(row, ctx.audit).find(','));
        OJson statuses = OJson::array();
        for (const Finding f : row.findings.list()) {
            statuses.push_back(std::string(finding_name(f)));
        }
        j["statuses"] = statuses;
        j["attribution"] =
            ctx.audit ? OJson(std::string(attribution_name(row.attribution))) : OJson(nullptr);
        if (row.exec) {
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
        } else {
            j["principal"] = nullptr;
            j["event_time"] = nullptr;
            j["event_id"] = nullptr;
            j["source_ip"] = nullptr;
            j["command"] = nullptr;
            j["region"] = nullptr;
        }
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
        j["task_started_by"] =
            row.run_task ? nullable(row.run_task->principal.arn) : OJson(nullptr);
        j["owner"] = nullable(row.facts.owner);
        j["owner_source"] = nullable(row.facts.osrc);
        std::string task = row.facts.task;
        std::string ctr = row.facts.ctr;
        std::string cluster = row.facts.cluster;
        if (row.exec) {
            if (!row.exec->task_arn.empty()) {
                task = row.exec->task_arn;
            } else if (task.empty()) {
                task = row.exec->task;
            }
            if (!row.exec->container.empty()) {
                ctr = row.exec->container;
            }
            if (cluster.empty()) {
                cluster = row.exec->cluster;
            }
        }
        j["task"] = nullable(task);
        j["cluster"] = nullable(cluster);
        j["container"] = nullable(ctr);
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
        OJson problems = OJson::array();
        for (const Problem& p : row.problems) {
            problems.push_back({{"status", std::string(finding_name(p.finding))},
                                {"where", p.where},
                                {"detail", p.detail}});
        }
        j["problems"] = problems;
        j["more_problems"] = row.more_problems;
        out += j.dump(-1, ' ', false, OJson::error_handler_t::replace) + "\n";
    }
    if (ctx.trust != nullptr) {
        for (const auto& [kid, key] : ctx.trust->keys()) {
            OJson j = {{"type", "key"},
                       {"kid", kid},
                       {"pub", marker::base64url(key.pub)},
                       {"origin", key.origin},
                       {"boot_ts", nullable(key.boot_ts)},
                       {"task", nullable(key.task)},
                       {"container", nullable(key.ctr)}};
            OJson problems = OJson::array();
            std::uint64_t markers = 0;
            if (ctx.boots != nullptr) {
                for (const BootReport& b : *ctx.boots) {
                    if (b.kid != kid) {
                        continue;
                    }
                    markers += b.markers;
                    for (const Problem& p : b.problems) {
                        problems.push_back({{"status", std::string(finding_name(p.finding))},
                                            {"where", p.where},
                                            {"detail", p.detail}});
                    }
                }
            }
            j["markers"] = markers;
            j["problems"] = problems;
            out += j.dump(-1, ' ', false, OJson::error_handler_t::replace) + "\n";
        }
    }
    OJson summary = {{"type", "summary"},
                     {"command", ctx.audit ? "audit" : "verify"},
                     {"sessions", totals.sessions},
                     {"clean", totals.clean},
                     {"markers", totals.markers},
                     {"signatures", totals.signatures},
                     {"trusted_keys", totals.trusted_keys},
                     {"container_findings", totals.container_problems},
                     {"inputs", totals.inputs},
                     {"bytes", totals.bytes}};
    OJson counts = OJson::object();
    for (const auto& [f, n] : totals.by_finding) {
        counts[std::string(finding_name(f))] = n;
    }
    summary["findings"] = counts;
    if (ctx.audit) {
        summary["cloudtrail_records"] = totals.trail_records;
        summary["execute_command_events"] = totals.exec_events;
        summary["run_task_events"] = totals.run_task_events;
    }
    OJson container = OJson::array();
    if (ctx.container_problems != nullptr) {
        for (const Problem& p : *ctx.container_problems) {
            container.push_back({{"status", std::string(finding_name(p.finding))},
                                 {"where", p.where},
                                 {"detail", p.detail}});
        }
    }
    summary["container_problems"] = container;
    summary["input_errors"] = totals.input_errors;
    out += summary.dump(-1, ' ', false, OJson::error_handler_t::replace) + "\n";
    return out;
}

} // namespace execmark::audit
