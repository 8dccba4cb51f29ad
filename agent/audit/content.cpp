// SPDX-License-Identifier: MIT
#include <agent/audit/content.hpp>
#include <agent/audit/lines.hpp>
#include <agent/audit/terminal.hpp>
#include <agent/marker/marker.hpp>

#include <algorithm>
#include <cstring>

namespace execmark::audit {

namespace {

std::string lines_text(std::uint64_t from, std::uint64_t to)
{
    if (to <= from) {
        return "line " + std::to_string(from);
    }
    return "lines " + std::to_string(from) + "-" + std::to_string(to);
}

} // namespace

std::string_view check_state_name(CheckState s)
{
    switch (s) {
    case CheckState::verified:
        return "verified";
    case CheckState::diverged:
        return "diverged";
    case CheckState::not_reached:
        return "not-reached";
    }
    return "not-reached";
}

ContentCheck::ContentCheck(std::string own_sid,
                           std::string source,
                           const TrustStore& trust,
                           const RecSession* recording,
                           bool capture)
    : m_sid(std::move(own_sid))
    , m_source(std::move(source))
    , m_trust(trust)
    , m_capture(capture)
{
    if (recording != nullptr) {
        if (const RecPoint* typed = recording->first("typed")) {
            m_typed = *typed;
        }
        for (RecPoint& p : recording->checkpoints()) {
            CheckedPoint c;
            c.point = std::move(p);
            m_points.push_back(std::move(c));
        }
    }
}

void ContentCheck::raw(std::string_view bytes)
{
    if (m_cloudwatch) {
        return; // one shape per log
    }
    if (!m_typescript) {
        m_typescript = std::make_unique<transcript::TypescriptReader>(*this);
    }
    m_typescript->feed(bytes);
}

void ContentCheck::event(std::string_view message)
{
    if (m_typescript) {
        return;
    }
    if (!m_cloudwatch) {
        m_cloudwatch = std::make_unique<transcript::CloudWatchReader>(*this);
    }
    m_cloudwatch->event(message);
}

bool ContentCheck::own_marker(std::string_view line, std::string_view ev) const
{
    if (line.find(marker::k_magic) == std::string_view::npos) {
        return false;
    }
    const std::string clean = strip_terminal_controls(line);
    const marker::Extracted ex = marker::extract(clean);
    if (ex.status != marker::ExtractStatus::ok || !ex.is_signed) {
        return false;
    }
    const TrustedKey* key = m_trust.find(kid_hint(ex.payload));
    if (key == nullptr || !marker::verify(ex.payload, ex.signature, key->pub)) {
        return false;
    }
    std::string err;
    const auto fields = marker::parse_fields(ex.payload, &err);
    return fields && fields->kid == key->kid && fields->ev == ev && fields->sid == m_sid;
}

namespace {

// Appends bytes to the window of a line: it keeps the line's last k_window_bytes.
void window_append(std::string& window, std::string_view bytes)
{
    if (bytes.size() >= k_window_bytes) {
        window.assign(bytes.substr(bytes.size() - k_window_bytes));
        return;
    }
    window.append(bytes);
    if (window.size() > k_window_bytes) {
        window.erase(0, window.size() - k_window_bytes);
    }
}

std::string_view window_of(std::string_view line)
{
    return line.size() > k_window_bytes ? line.substr(line.size() - k_window_bytes) : line;
}

std::size_t find_lf(std::string_view bytes, std::size_t from)
{
    const void* nl = std::memchr(bytes.data() + from, '\n', bytes.size() - from);
    return nl == nullptr ? std::string_view::npos
                         : static_cast<std::size_t>(static_cast<const char*>(nl) - bytes.data());
}

} // namespace

void ContentCheck::normalised(std::string_view bytes)
{
    // Before the region, line by line: the open marker is near the top.
    while (!bytes.empty() && m_where == Where::before_open) {
        const std::size_t nl = find_lf(bytes, 0);
        if (nl == std::string_view::npos) {
            m_line_cut = m_line_cut || m_line.size() + bytes.size() > k_window_bytes;
            window_append(m_line, bytes);
            return;
        }
        const std::string_view text = bytes.substr(0, nl);
        std::string_view line;
        m_line_cut = m_line_cut || m_line.size() + text.size() > k_window_bytes;
        if (m_line.empty()) {
            line = window_of(text);
        } else {
            window_append(m_line, text);
            line = m_line;
        }
        bytes.remove_prefix(nl + 1);
        ++m_lines;
        line_end(line);
        m_line.clear();
        m_line_cut = false;
    }
    if (bytes.empty()) {
        return;
    }
    // In the region every byte is hashed, in as few pieces as the checkpoints allow; only lines
    // holding EXECMARK1 (close markers) and where the last line starts matter of the lines.
    // (m_lines is not counted here: nothing reads it once the region has begun.)
    const std::uint64_t base = m_chain.offset();
    region_bytes(bytes);
    const std::size_t first_nl = find_lf(bytes, 0);
    if (first_nl == std::string_view::npos) {
        window_append(m_line, bytes);
        return;
    }
    // The line that began before these bytes (or at their start).
    const std::string_view first = bytes.substr(0, first_nl);
    if (m_line.empty()) {
        line_end(window_of(first));
    } else {
        window_append(m_line, first);
        line_end(m_line);
    }
    m_line.clear();
    m_line_start = base + first_nl + 1;
    // Complete lines inside these bytes: only those with EXECMARK1 in them are looked at.
    const std::size_t last_nl = bytes.rfind('\n');
    const std::string_view body = bytes.substr(0, last_nl + 1);
    std::size_t pos = first_nl + 1;
    while (pos < body.size()) {
        const std::size_t at = find_magic(body, pos);
        if (at == std::string_view::npos) {
            break;
        }
        const std::size_t line_begin = body.rfind('\n', at) + 1; // there is one before `at`
        const std::size_t line_end_at = find_lf(body, at);
        m_line_start = base + line_begin;
        line_end(window_of(body.substr(line_begin, line_end_at - line_begin)));
        pos = line_end_at + 1;
    }
    m_line_start = base + last_nl + 1;
    window_append(m_line, bytes.substr(last_nl + 1));
}

void ContentCheck::line_end(std::string_view line)
{
    if (m_where == Where::before_open) {
        if (own_marker(line, marker::k_ev_open)) {
            open_found(line);
            m_line_start = 0;
        } else if (m_pre_cut || m_line_cut || m_pre.size() + line.size() >= k_max_pre_open_bytes) {
            m_pre_cut = true;
        } else {
            m_pre.append(line);
            m_pre.push_back('\n');
        }
    } else if (own_marker(line, marker::k_ev_close)) {
        m_close_at = m_line_start == 0 ? 0 : m_line_start - 1;
        m_verdict.close_found = true;
    }
}

// line holds the session's open: the region starts after it; what came before is judged
// (pre_open_problem).
void ContentCheck::open_found(std::string_view line)
{
    m_where = Where::in_region;
    m_verdict.checked = true;
    m_region_start_lines = m_lines;
    if (auto why = pre_open_problem(m_pre,
                                    line.substr(0, line.find(marker::k_magic)),
                                    m_pre_cut || m_line_cut,
                                    m_typed ? &*m_typed : nullptr)) {
        m_pre_problem = std::move(*why);
    }
    m_pre.clear();
    m_pre.shrink_to_fit();
    take({}); // checkpoints at offset 0
}

void ContentCheck::take(std::string_view bytes)
{
    m_chain.update(bytes);
    m_region_lines += count_newlines(bytes);
    if (m_capture) {
        const std::size_t room =
            k_max_timeline_bytes - std::min(k_max_timeline_bytes, m_verdict.region.size());
        m_verdict.region.append(bytes.substr(0, std::min(room, bytes.size())));
        m_verdict.region_cut = m_verdict.region_cut || bytes.size() > room;
    }
    // Every checkpoint due at the offset now reached.
    while (m_next < m_points.size() && m_points[m_next].point.off <= m_chain.offset()) {
        CheckedPoint& c = m_points[m_next];
        if (c.point.off < m_chain.offset() || m_index_gap
            || c.point.idx != m_chain.checkpoints() + 1) {
            // Offsets go back, or a checkpoint is missing from the container log: the chain
            // cannot be recomputed from here on.
            m_index_gap = true;
            break;
        }
        const transcript::Checkpoint cp = m_chain.checkpoint();
        c.state = transcript::to_hex(cp.hash) == c.point.hash ? CheckState::verified
                                                              : CheckState::diverged;
        c.line = m_region_start_lines + m_region_lines + 1;
        ++m_next;
    }
}

void ContentCheck::region_bytes(std::string_view bytes)
{
    while (!bytes.empty()) {
        if (!m_index_gap && m_next < m_points.size()
            && m_points[m_next].point.off < m_chain.offset() + bytes.size()) {
            const std::uint64_t want = m_points[m_next].point.off;
            const std::size_t n =
                want > m_chain.offset() ? static_cast<std::size_t>(want - m_chain.offset()) : 0;
            take(bytes.substr(0, n));
            bytes.remove_prefix(n);
            if (n == 0 && !m_index_gap && m_next < m_points.size()
                && m_points[m_next].point.off <= m_chain.offset()) {
                m_index_gap = true; // no progress possible
            }
            continue;
        }
        take(bytes);
        break;
    }
}

ContentVerdict ContentCheck::finish()
{
    if (m_typescript) {
        m_typescript->finish();
    } else if (m_cloudwatch) {
        m_cloudwatch->finish();
    }
    if (m_where == Where::before_open && own_marker(m_line, marker::k_ev_open)) {
        open_found(m_line); // the open line is the last one: an empty region
    } else if (m_where == Where::in_region && !m_line.empty()
               && own_marker(m_line, marker::k_ev_close)) {
        m_close_at = m_line_start == 0 ? 0 : m_line_start - 1;
        m_verdict.close_found = true;
    }
    const bool header = (m_typescript && m_typescript->header_seen())
                        || (m_cloudwatch && m_cloudwatch->header_seen());
    m_verdict.region_bytes = m_close_at ? *m_close_at : m_chain.offset();
    m_verdict.first_line = m_region_start_lines + 1 + (header ? 1 : 0);
    for (CheckedPoint& c : m_points) {
        if (c.point.off > m_verdict.region_bytes) {
            c.state = CheckState::not_reached; // beyond the region (the close line is not in it)
        }
        if (header && c.line != 0) {
            ++c.line;
        }
    }
    if (m_capture && m_verdict.region.size() > m_verdict.region_bytes) {
        m_verdict.region.resize(m_verdict.region_bytes);
    }
    judge();
    m_verdict.checkpoints = m_points.size();
    for (const CheckedPoint& c : m_points) {
        m_verdict.verified += c.state == CheckState::verified ? 1 : 0;
    }
    if (m_capture) {
        // Only a timeline needs every point; memory stays with the number of logs otherwise.
        m_verdict.points = std::move(m_points);
    }
    return std::move(m_verdict);
}

void ContentCheck::judge()
{
    if (!m_verdict.checked || m_points.empty()) {
        return;
    }
    if (!m_pre_problem.empty()) {
        const std::uint64_t open_line = m_verdict.first_line - 1;
        const std::uint64_t from = m_verdict.first_line - m_region_start_lines; // after a header
        m_verdict.problems.push_back({Finding::unrecorded,
                                      m_source,
                                      lines_text(from, std::max(from, open_line - 1))
                                          + " (before the session's open at line "
                                          + std::to_string(open_line) + "): " + m_pre_problem});
    }
    std::uint64_t prev_line = m_verdict.first_line;
    for (const CheckedPoint& c : m_points) {
        if (c.state == CheckState::diverged) {
            m_verdict.problems.push_back(
                {Finding::edited,
                 m_source,
                 "checkpoint " + std::to_string(c.point.idx) + " (" + c.point.kind + " at "
                     + c.point.ts + ", " + c.point.where
                     + ") does not match the transcript: the text in "
                     + lines_text(prev_line, c.line)
                     + " is not what the session's shell produced, whether the log was edited "
                       "or text was written into the session's terminal from outside the "
                       "recorder; this does not implicate the session's operator"});
            return;
        }
        if (c.state == CheckState::not_reached) {
            if (m_index_gap && c.point.off <= m_verdict.region_bytes) {
                m_verdict.problems.push_back(
                    {Finding::unrecorded,
                     m_source,
                     "checkpoint " + std::to_string(c.point.idx)
                         + " cannot be checked: an earlier checkpoint is missing from the "
                           "container logs given"});
                return;
            }
            m_verdict.problems.push_back(
                {Finding::truncated,
                 m_source,
                 "the recorded transcript ends after " + std::to_string(m_verdict.region_bytes)
                     + " bytes (line " + std::to_string(prev_line) + "), before checkpoint "
                     + std::to_string(c.point.idx) + " (" + c.point.kind + " at " + c.point.ts
                     + ") at " + std::to_string(c.point.off) + " bytes: "
                     + (m_verdict.close_found
                            ? "bytes are missing before its close line (cut from the middle "
                              "or the end; the close line itself is there)"
                            : "the rest was cut")});
            return;
        }
        prev_line = c.line;
    }
    const CheckedPoint& last = m_points.back();
    if (last.point.kind == "end" && m_verdict.close_found
        && m_verdict.region_bytes != last.point.off) {
        m_verdict.problems.push_back(
            {Finding::edited,
             m_source,
             "the transcript holds " + std::to_string(m_verdict.region_bytes - last.point.off)
                 + " bytes after the recording's end (" + last.point.ts
                 + ") before its close marker, from line " + std::to_string(prev_line)
                 + ": text the session's shell did not produce; this does not implicate the "
                   "session's operator"});
    }
}

} // namespace execmark::audit
