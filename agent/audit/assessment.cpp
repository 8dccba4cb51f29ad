// SPDX-License-Identifier: MIT
#include <agent/audit/assessment.hpp>
#include <agent/marker/marker.hpp>

#include <algorithm>
#include <cstdio>
#include <set>

namespace execmark::audit {

namespace {

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

void add_problem(SessionRecord& row, Finding f, std::string where, std::string detail)
{
    row.findings.add(f);
    row.problems.push_back({f, std::move(where), std::move(detail)});
}

// The claim variable's override of the RunTask call for this session's container.
std::optional<ClaimOverride> override_of(const SessionRecord& row)
{
    if (!row.run_task) {
        return std::nullopt;
    }
    const std::string want = row.container();
    for (const auto& [ctr, value] : row.run_task->claim_overrides) {
        if (want.empty() || ctr == want) {
            const Principal& by = row.run_task->principal;
            ClaimOverride o{value,
                            by.arn.empty() ? principal_display(by) : by.arn,
                            principal_display(by),
                            std::nullopt};
            if (!row.facts.claim.empty()) {
                o.claim_equals = row.facts.claim == value;
            }
            return o;
        }
    }
    return std::nullopt;
}

// The recording rules of a session with its own verified open (docs/auditing.md, "Content"):
// INTERFERED per interference report, UNRECORDED without checkpoints or when recording began
// late or ended early. EDITED and TRUNCATED come from the logs' content checks.
void assess_recording(SessionRecord& row, const JoinInputs& in, const std::string& where)
{
    const RecSession* session = nullptr;
    if (in.recordings != nullptr) {
        if (const auto it = in.recordings->find(row.session); it != in.recordings->end()) {
            session = &it->second;
        }
    }
    const std::string operator_name =
        row.facts.claim.empty() ? std::string("the session's operator") : row.facts.claim;
    if (session != nullptr) {
        for (const RecPoint& p : session->points) {
            if (p.kind != "interference") {
                continue;
            }
            std::string who = p.opid != 0 ? "pid " + std::to_string(p.opid) : "a process";
            if (!p.ocomm.empty()) {
                who += " (" + p.ocomm + ")";
            }
            add_problem(row,
                        Finding::interfered,
                        p.where,
                        "at " + p.ts + " " + who + " outside the session opened its "
                            + (p.side == "outer"   ? "own terminal (the SSM worker's pty)"
                               : p.side == "inner" ? "shell's terminal"
                                                   : "terminal")
                            + ": what it wrote shows in this transcript as if the session's "
                              "shell produced it; "
                            + operator_name + " is the victim, not the culprit");
        }
    }
    if (session == nullptr || session->checkpoints().empty()) {
        add_problem(row,
                    Finding::unrecorded,
                    where,
                    in.container_logs
                        ? "PID 1 anchored no recording checkpoints of this session in the "
                          "container logs given: its transcript cannot be checked"
                        : "no container log was given: the transcript's recording checkpoints "
                          "cannot be checked (give --container-log)");
        return;
    }
    const RecPoint* start = session->first("start");
    const RecPoint* end = session->first("end");
    // The worker's start: the open's wst, else the container log's exec.seen (0: unknown).
    std::int64_t wst = 0;
    if (row.facts.wst && *row.facts.wst > 0) {
        wst = *row.facts.wst;
    } else if (row.seen && row.seen->wst) {
        wst = *row.seen->wst;
    }
    const auto start_ms = start != nullptr ? marker::parse_timestamp(start->ts) : std::nullopt;
    if (start == nullptr) {
        add_problem(row, Finding::unrecorded, where, "the recording has no start report");
    } else if (wst > 0 && start_ms && *start_ms - wst > k_max_record_delay_ms) {
        add_problem(row,
                    Finding::unrecorded,
                    start->where,
                    "recording began " + format_duration(*start_ms - wst)
                        + " after the session worker started: what came before is not recorded");
    }
    const auto end_ms = end != nullptr ? marker::parse_timestamp(end->ts) : std::nullopt;
    if (end == nullptr) {
        add_problem(row,
                    Finding::unrecorded,
                    where,
                    "the recording has no end report: its end is not covered");
    } else if (row.seen && row.seen->clast && end_ms
               && *row.seen->clast - *end_ms > k_max_record_lead_ms) {
        add_problem(row,
                    Finding::unrecorded,
                    end->where,
                    "recording ended " + format_duration(*row.seen->clast - *end_ms)
                        + " before PID 1 last saw the session's shell alive: what came after is "
                          "not recorded");
    }
    if (session->dropped > 0) {
        add_problem(row,
                    Finding::unrecorded,
                    where,
                    std::to_string(session->dropped) + " recording reports beyond "
                        + std::to_string(k_max_rec_points_per_session) + " were not checked");
    }
    if (!row.recording || !row.recording->region_bytes) {
        if (!row.logs.empty()) {
            add_problem(row,
                        Finding::unrecorded,
                        where,
                        "no session log holds this session's recorded region (no open marker "
                        "line of its own): its content cannot be checked");
        }
    }
}

// The status rules of one session (docs/auditing.md, "Statuses").
void assess_session(SessionRecord& row, bool audit, const JoinInputs& in)
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
    if (genuine && row.facts_verified) {
        // When: PID 1 signed when the session worker started, and when the shell was last
        // seen alive; a hook runs at once, and a close comes as the shell ends.
        const auto open_ms = marker::parse_timestamp(row.facts.open_ts);
        if (row.facts.wst && open_ms && *open_ms - *row.facts.wst > k_max_open_delay_ms) {
            add_problem(row,
                        Finding::late_open,
                        where,
                        "the open was signed " + format_duration(*open_ms - *row.facts.wst)
                            + " after the session worker started: the shell ran unmarked first");
        }
        const auto close_ms = marker::parse_timestamp(row.facts.close_ts);
        if (row.seen && row.seen->clast && close_ms
            && *row.seen->clast - *close_ms > k_max_close_lead_ms) {
            add_problem(row,
                        Finding::early_close,
                        where,
                        "the last close was signed " + format_duration(*row.seen->clast - *close_ms)
                            + " before PID 1 last saw the session's shell alive: work went on"
                              " after it");
        }
    }
    if (audit && in.recordings != nullptr && genuine && row.facts_verified && row.facts.has_open) {
        assess_recording(row, in, where);
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
        row.claim_match = match_claim(row.facts.claim, ev.principal, in.directory);
        row.claim_matches = row.claim_match.has_value();
        if (!*row.claim_matches) {
            mismatch = true;
            std::string detail =
                "claim \"" + row.facts.claim + "\" is not the principal "
                + (ev.principal.arn.empty() ? principal_display(ev.principal) : ev.principal.arn);
            if (row.claim_override && row.claim_override->claim_equals == true) {
                detail += "; it is the task's " + in.claim_var + " override, set by RunTask caller "
                          + row.claim_override->set_by_display;
            }
            add_problem(row, Finding::mismatch, where, std::move(detail));
        }
    }
    if (row.facts_verified && !row.facts.owner.empty() && row.facts.owner != ev.principal.arn
        && !claim_matches(row.facts.owner, ev.principal)) {
        // The SessionOwner in the SSM agent's state file is writable by root: a claim.
        mismatch = true;
        add_problem(
            row,
            Finding::mismatch,
            where,
            "owner \"" + row.facts.owner + "\" (" + row.facts.osrc + ") is not the principal "
                + (ev.principal.arn.empty() ? principal_display(ev.principal) : ev.principal.arn));
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

void fill_times(SessionRecord& row)
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

std::vector<SessionRecord> build_records(JoinInputs inputs, std::size_t* out_of_scope)
{
    const bool audit = inputs.trail != nullptr;
    std::map<std::string, SessionRecord> rows; // key: session id ("?<source>" for unbound logs)
    for (LogVerdict& v : inputs.verdicts) {
        const std::string key = v.id.own_sid.empty() ? "?" + v.id.source : v.sid;
        SessionRecord& row = rows[key];
        row.session = v.sid.empty() ? "-" : v.sid;
        row.logs.push_back(v.id.source);
        row.findings.merge(v.findings);
        for (auto& p : v.problems) {
            row.problems.push_back(std::move(p));
        }
        row.more_problems += v.more_problems;
        if (v.content.checked && (!row.recording || !row.recording->region_bytes)) {
            RecordingFacts& rec = row.recording.emplace();
            rec.region_bytes = v.content.region_bytes;
            rec.verified = v.content.verified;
        }
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
    std::vector<SessionRecord> out;
    out.reserve(rows.size());
    // Each record leaves the map as it is finished, so that it is held once, not twice.
    while (!rows.empty()) {
        auto node = rows.extract(rows.begin());
        SessionRecord& row = node.mapped();
        if (inputs.evidence != nullptr) {
            if (const auto it = inputs.evidence->find(row.session); it != inputs.evidence->end()) {
                row.seen = it->second;
            }
        }
        if (audit && inputs.recordings != nullptr) {
            if (const auto it = inputs.recordings->find(row.session);
                it != inputs.recordings->end()) {
                RecordingFacts& rec = row.recording ? *row.recording : row.recording.emplace();
                const RecSession& session = it->second;
                rec.checkpoints = session.checkpoints().size();
                for (const RecPoint& p : session.points) {
                    rec.interference += p.kind == "interference" ? 1 : 0;
                }
                if (const RecPoint* start = session.first("start")) {
                    rec.start_ts = start->ts;
                }
                if (const RecPoint* end = session.first("end")) {
                    rec.end_ts = end->ts;
                    rec.end_off = end->off;
                }
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
        if (row.exec && inputs.directory != nullptr) {
            if (const auto found = inputs.directory->find(row.exec->principal)) {
                row.person = PersonMatch{*found->user, found->how};
            }
        }
        row.claim_override = override_of(row);
        assess_session(row, audit, inputs);
        fill_times(row);
        if (!inputs.scope.contains(row.account(), row.region(), row.cluster(), row.start)) {
            if (out_of_scope != nullptr) {
                ++*out_of_scope;
            }
            continue;
        }
        out.push_back(std::move(row));
    }
    // By start time, then session id. The start times are parsed once and indices sorted, not
    // the records (large to move): std::sort takes the same steps on the same comparisons, so
    // records with equal keys come out in the same order as if the records were sorted.
    std::vector<std::int64_t> starts;
    starts.reserve(out.size());
    for (const SessionRecord& r : out) {
        starts.push_back(parse_utc_time(r.start).value_or(INT64_MAX));
    }
    std::vector<std::size_t> order(out.size());
    for (std::size_t i = 0; i < order.size(); ++i) {
        order[i] = i;
    }
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return starts[a] != starts[b] ? starts[a] < starts[b] : out[a].session < out[b].session;
    });
    std::vector<SessionRecord> sorted;
    sorted.reserve(out.size());
    for (const std::size_t i : order) {
        sorted.push_back(std::move(out[i]));
    }
    return sorted;
}

std::string SessionRecord::primary_status(bool audit) const
{
    if (findings.empty()) {
        return audit ? std::string(attribution_name(attribution)) : "OK";
    }
    return std::string(finding_name(findings.list().front()));
}

std::string SessionRecord::task() const
{
    if (exec && !exec->task_arn.empty()) {
        return exec->task_arn;
    }
    return exec && !exec->task.empty() ? exec->task : facts.task;
}

std::string SessionRecord::container() const
{
    return exec && !exec->container.empty() ? exec->container : facts.ctr;
}

std::string SessionRecord::cluster() const
{
    std::string c = facts.cluster.empty() && exec ? exec->cluster : facts.cluster;
    if (c.empty()) {
        // A task ARN of the long format names its cluster: ...:task/CLUSTER/ID.
        const std::string t = task();
        const std::size_t at = t.find(":task/");
        const std::size_t slash = at == std::string::npos ? at : t.find('/', at + 6);
        if (slash != std::string::npos) {
            c = t.substr(at + 6, slash - at - 6);
        }
    }
    return c;
}

std::string SessionRecord::account() const
{
    return exec && !exec->account.empty() ? exec->account : arn_account(task());
}

std::string SessionRecord::region() const
{
    return exec && !exec->region.empty() ? exec->region : arn_region(task());
}

Assessment assess(JoinInputs inputs, Totals reading)
{
    Assessment out;
    out.audit = inputs.trail != nullptr;
    out.totals = std::move(reading);
    Totals& totals = out.totals;
    const TrustStore* trust = inputs.trust;
    const std::vector<BootReport>* boots = inputs.boots;
    if (inputs.container_problems != nullptr) {
        out.container_problems = *inputs.container_problems;
    }
    if (inputs.trail != nullptr) {
        // The index applied the scope to denied calls as it read them (TrailIndex::set_scope).
        totals.out_of_scope_denied = inputs.trail->denied_out_of_scope();
        for (const DeniedGroup& g : inputs.trail->denied()) {
            if (!inputs.scope.contains(
                    g.call.account, g.call.region, g.call.cluster, g.call.event_time)) {
                totals.out_of_scope_denied += g.count; // an index read without the scope
                continue;
            }
            DeniedRecord r{g, std::nullopt};
            if (inputs.directory != nullptr) {
                if (const auto found = inputs.directory->find(g.call.principal)) {
                    r.person = PersonMatch{*found->user, found->how};
                }
            }
            totals.denied += g.count;
            out.denied.push_back(std::move(r));
        }
        std::stable_sort(out.denied.begin(), out.denied.end(), [](const auto& a, const auto& b) {
            return a.calls.call.event_time < b.calls.call.event_time;
        });
        totals.digest_files = inputs.trail->digests();
    }
    out.sessions = build_records(std::move(inputs), &totals.out_of_scope_sessions);

    totals.sessions = out.sessions.size();
    for (const SessionRecord& row : out.sessions) {
        if (row.clean()) {
            ++totals.clean;
        }
        for (const Finding f : row.findings.list()) {
            ++totals.by_finding[f];
        }
    }
    totals.container_problems = out.container_problems.size();
    if (boots != nullptr) {
        for (const BootReport& b : *boots) {
            totals.container_problems += b.problems.size();
            out.boot_problems.insert(out.boot_problems.end(), b.problems.begin(), b.problems.end());
        }
    }
    if (trust != nullptr) {
        totals.trusted_keys = trust->keys().size();
        // Trusted keys with their boot chains, then the injected ones (shown, never trusted).
        const auto add_key = [&out, boots](const TrustedKey& key) {
            KeyRecord k{key.kid,
                        marker::base64url(key.pub),
                        std::string(key_trust_name(key.trust)),
                        key.origin,
                        key.boot_ts,
                        key.task,
                        key.ctr,
                        {}};
            if (boots != nullptr) {
                for (const BootReport& b : *boots) {
                    if (b.kid == key.kid) {
                        k.boots.push_back({b.markers, b.problems});
                    }
                }
            }
            out.keys.push_back(std::move(k));
        };
        for (const auto& [kid, key] : trust->keys()) {
            add_key(key);
        }
        for (const auto& [kid, key] : trust->injected()) {
            add_key(key);
        }
    }
    return out;
}

} // namespace execmark::audit
