// SPDX-License-Identifier: MIT
#pragma once

// Finding the lines that may hold a marker, in bounded memory.
//
// A marker line ends with the marker (text before EXECMARK1 is ignored, trailing CRs too) and a
// marker is at most 1024 bytes, so only the end of a line matters. A line is a candidate when it
// contains "EXECMARK1"; the scanners hand over the line from its first EXECMARK1 to its end, of
// which at most k_window_bytes (the tail) are kept. Lines without EXECMARK1 are skipped without
// being copied, which is what makes the auditor about as fast as grep.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace execmark::audit {

// Tail of a candidate line that is kept: a marker (1024 bytes) plus room for trailing CRs and
// terminal noise after the marker.
inline constexpr std::size_t k_window_bytes = 4096;

// Where a line came from: its 1-based line number for text inputs, or the 1-based index of the
// CloudWatch event in which it ends (line is then 0).
struct LineLocation {
    std::uint64_t line = 0;
    std::uint64_t event = 0;
};

struct CandidateLine {
    std::string_view text; // raw bytes, terminal controls not yet removed
    LineLocation where;
    // The line was longer than the window and an "EXECMARK1 {" fell out of it.
    bool lost_marker = false;
};

class LineSink {
public:
    virtual ~LineSink() = default;
    virtual void on_candidate(const CandidateLine& line) = 0;

    // The log's bytes as read, for the content check: a text input's chunks (on_raw) or a
    // CloudWatch stream's event messages in order (on_event). Ignored unless wanted.
    virtual void on_raw(std::string_view /*bytes*/) {}

    virtual void on_event(std::string_view /*message*/) {}
};

// The kept tail of a candidate line being assembled.
class LineWindow {
public:
    void start()
    {
        m_text.clear();
        m_lost = false;
    }

    // Appends bytes of the line; keeps the last k_window_bytes, noting a dropped "EXECMARK1 {".
    void append(std::string_view bytes);

    [[nodiscard]] std::string_view text() const { return m_text; }

    [[nodiscard]] bool lost_marker() const { return m_lost; }

private:
    void trim();

    std::string m_text;
    bool m_lost = false;
};

// Newline-separated text (transcripts, plain logs): feed chunks of any size, then finish().
class TextScanner {
public:
    explicit TextScanner(LineSink& sink)
        : m_sink(sink)
    {}

    void feed(std::string_view data);

    // End of input: a last line without a newline is still a line.
    void finish();

    // Lines completed so far (newlines seen).
    [[nodiscard]] std::uint64_t lines() const { return m_line - 1; }

private:
    void emit();

    LineSink& m_sink;
    LineWindow m_window;
    bool m_in_candidate = false;
    // Outside a candidate: the last bytes of the current line (fewer than the magic's size), so
    // an EXECMARK1 split between two chunks is still found.
    std::string m_carry;
    std::uint64_t m_line = 1;
};

// CloudWatch events of one log stream, in order. The SSM agent uploads a transcript as events
// of whole lines, except that a line longer than an event (200,000 bytes) is cut into several
// consecutive events at arbitrary byte positions; it also drops each event's trailing newline.
// So an event boundary is a line boundary, or not, and the bytes cannot tell which. The rule
// (docs/auditing.md, "Split events"): the last line of an event is held back; when it contains
// EXECMARK1 (or ends with a beginning of it) and is not itself a well-formed marker, it is
// joined with the first line of the next event if, and only if, the joined line is a
// well-formed marker (or still has no newline, so the line goes on). Everything else is an
// ordinary line boundary. A genuine marker is never lost to a split, and a boundary after a
// complete marker never glues the next line onto it.
class EventLines {
public:
    explicit EventLines(LineSink& sink)
        : m_sink(sink)
    {}

    // One event's message, in stream order.
    void event(std::string_view message);

    // End of the stream.
    void finish();

    [[nodiscard]] std::uint64_t events() const { return m_event; }

private:
    // Complete lines of text (each ended by a newline), then its held-back last line.
    void lines_of(std::string_view text);
    void emit(std::string_view text, bool lost);
    void hold(std::string_view text);

    LineSink& m_sink;
    std::string m_pending; // held-back last line (window of it when it is a candidate)
    bool m_pending_candidate = false;
    bool m_pending_lost = false;
    std::uint64_t m_event = 0;
};

// Position of the first "EXECMARK1" in text at or after from (npos when none).
std::size_t find_magic(std::string_view text, std::size_t from = 0);

// Newlines in bytes (SSE2 where available: this runs over every byte of every input).
std::uint64_t count_newlines(std::string_view bytes);

// Whether a well-formed marker (signed or unsigned, before any signature check) ends this line
// once terminal controls are removed.
bool ends_with_wellformed_marker(std::string_view raw_line);

} // namespace execmark::audit
