// SPDX-License-Identifier: MIT
#pragma once

// The findings verify and audit report per session (docs/auditing.md, "Statuses").

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace execmark::audit {

// In order of severity, most severe first: a session's primary status is its first finding.
enum class Finding : std::uint8_t {
    forged,       // a marker's signature fails, or its key is not trusted
    key_injected, // a boot marker in a container log that is not the stream's (container)
    fake_worker,  // a marker PID 1 signed for a process under an imitation session worker
    replayed,     // a verified marker of another session sits in this session's log
    bypassed,     // PID 1 saw the session (exec.seen), its log has none of its markers
    interfered,   // a process outside the session opened its terminal (the session is the victim)
    edited,       // the transcript differs from what the recorder relayed (a checkpoint differs)
    truncated,    // the transcript ends before the last checkpoint
    altered,      // chain links contradict (two markers for one seq, prev mismatch)
    reordered,    // markers out of seq order
    gap,          // seq numbers missing
    mismatch,     // the claim (or owner, task, container) does not match CloudTrail
    late_open,    // the open was signed long after the session worker started
    early_close,  // the last close was signed while the session's shell still ran
    unrecorded,   // audit: no recording, or recording began late or ended early
    key_unproven, // signed by a later boot key of a stream with no shutdown before it
    mangled,      // a marker that does not parse
    no_close,     // the session's last open has no close
    unmarked,     // a session without any of its own markers
    orphan,       // markers but no CloudTrail ExecuteCommand event
    duplicate,    // a marker repeated byte for byte
    unsigned_marker, // a marker carrying unsigned=<reason>
    unbound,         // the log's own session id is unknown, so REPLAYED could not be checked
};

inline constexpr std::size_t k_finding_count = 23;

std::string_view finding_name(Finding finding);

// A set of findings, iterated in severity order.
class FindingSet {
public:
    void add(Finding f) { m_bits |= bit(f); }

    void merge(const FindingSet& other) { m_bits |= other.m_bits; }

    [[nodiscard]] bool has(Finding f) const { return (m_bits & bit(f)) != 0; }

    [[nodiscard]] bool empty() const { return m_bits == 0; }

    void remove(Finding f) { m_bits &= ~bit(f); }

    [[nodiscard]] std::vector<Finding> list() const;

    // "FORGED,NO-CLOSE"; clean_name when empty.
    [[nodiscard]] std::string joined(std::string_view clean_name) const;

private:
    static std::uint32_t bit(Finding f) { return std::uint32_t{1} << static_cast<unsigned>(f); }

    std::uint32_t m_bits = 0;
};

// One finding with where and why, for the detail lines of a report.
struct Problem {
    Finding finding = Finding::mangled;
    std::string where;  // "file:line 12", "stream X event 3"
    std::string detail; // human text
};

} // namespace execmark::audit
