// SPDX-License-Identifier: MIT
#pragma once

// The content check of one session log (docs/auditing.md, "Content"): the transcript is read
// back to the normalised stream (agent/transcript), the recorded region is found in it
// (docs/markers.md §12) and the chain is recomputed at the offsets PID 1's `rec` markers
// report. Streaming: memory is one line window, the checkpoint list and, only for --timeline,
// the region's text (capped).

#include <agent/audit/pre_open.hpp>
#include <agent/audit/recording.hpp>
#include <agent/audit/status.hpp>
#include <agent/audit/verifier.hpp>
#include <agent/transcript/transcript.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace execmark::audit {

// Finds the region and recomputes the checkpoints. Feed either raw transcript bytes (S3, plain
// text) or CloudWatch event messages, in order, then finish().
class ContentCheck final : public transcript::Sink {
public:
    // own_sid: the log's session; recording: its rec markers (may be empty); capture: keep the
    // region's text for a timeline.
    ContentCheck(std::string own_sid,
                 std::string source,
                 const TrustStore& trust,
                 const RecSession* recording,
                 bool capture);

    ContentCheck(const ContentCheck&) = delete;
    ContentCheck& operator=(const ContentCheck&) = delete;
    ContentCheck(ContentCheck&&) = delete;
    ContentCheck& operator=(ContentCheck&&) = delete;
    ~ContentCheck() override = default;

    void raw(std::string_view bytes);
    void event(std::string_view message);

    ContentVerdict finish();

    void normalised(std::string_view bytes) override;

private:
    enum class Where { before_open, in_region };

    void line_end(std::string_view line);
    void open_found(std::string_view line);
    void region_bytes(std::string_view bytes);
    void take(std::string_view bytes);
    void judge();
    [[nodiscard]] bool own_marker(std::string_view line, std::string_view ev) const;

    std::string m_sid;
    std::string m_source;
    const TrustStore& m_trust;
    bool m_capture;
    std::unique_ptr<transcript::TypescriptReader> m_typescript;
    std::unique_ptr<transcript::CloudWatchReader> m_cloudwatch;
    Where m_where = Where::before_open;
    std::string m_line;                      // tail of the current line (at most k_window_bytes)
    std::uint64_t m_lines = 0;               // LFs seen in the normalised stream
    std::uint64_t m_line_start = 0;          // region offset where the current line starts
    std::optional<std::uint64_t> m_close_at; // region offset of the LF before the last close
    std::uint64_t m_region_start_lines = 0;  // LFs before the region
    std::uint64_t m_region_lines = 0;        // LFs inside the region so far
    // Before the open: its lines (normalised, at most k_max_pre_open_bytes; m_pre_cut beyond),
    // and the session's typed-ahead report, for pre_open_problem.
    std::string m_pre;
    bool m_pre_cut = false;
    bool m_line_cut = false;   // m_line lost the start of its line (longer than the window)
    std::string m_pre_problem; // pre_open_problem's finding
    std::optional<RecPoint> m_typed;
    bool m_index_gap = false;
    transcript::Chain m_chain;
    std::vector<CheckedPoint> m_points;
    std::size_t m_next = 0; // next checkpoint to take
    ContentVerdict m_verdict;
};

} // namespace execmark::audit
