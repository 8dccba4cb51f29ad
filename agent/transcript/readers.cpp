// SPDX-License-Identifier: MIT
#include <agent/transcript/transcript.hpp>

#include <algorithm>
#include <cstring>

namespace execmark::transcript {

namespace {

// The footer with the LF before it is at most this long: only the last this many bytes of the
// stream can be part of it, everything before them is normalised at once.
constexpr std::size_t k_footer_lag = k_max_frame_bytes + 1;

} // namespace

void Unframer::pass(std::string_view bytes)
{
    // m_tail keeps the last k_footer_lag bytes (at least; up to twice that between flushes);
    // the rest goes to the normaliser straight from bytes, without a copy.
    const std::size_t total = m_tail.size() + bytes.size();
    if (total <= 2 * k_footer_lag) {
        m_tail.append(bytes);
        return;
    }
    const std::size_t ready = total - k_footer_lag;
    m_out.clear();
    if (ready <= m_tail.size()) {
        m_normaliser.feed(std::string_view(m_tail).substr(0, ready), m_out);
        m_tail.erase(0, ready);
        m_tail.append(bytes);
    } else {
        const std::size_t from_bytes = ready - m_tail.size();
        m_normaliser.feed(m_tail, m_out);
        m_normaliser.feed(bytes.substr(0, from_bytes), m_out);
        m_tail.assign(bytes.substr(from_bytes));
    }
    if (!m_out.empty()) {
        m_sink.normalised(m_out.view());
    }
}

void Unframer::feed(std::string_view bytes)
{
    if (m_header != HeaderState::undecided) {
        pass(bytes);
        return;
    }
    m_head.append(bytes);
    const std::size_t common = std::min(m_head.size(), k_script_header.size());
    if (std::string_view(m_head).substr(0, common) != k_script_header.substr(0, common)) {
        m_header = HeaderState::absent;
    } else if (m_head.size() >= k_script_header.size()) {
        const std::size_t newline = m_head.find('\n');
        if (newline != std::string::npos && newline < k_max_frame_bytes) {
            m_header = HeaderState::stripped;
            m_head.erase(0, newline + 1);
        } else if (m_head.size() >= k_max_frame_bytes) {
            m_header = HeaderState::absent;
        }
    }
    if (m_header != HeaderState::undecided) {
        const std::string head = std::move(m_head);
        m_head.clear();
        pass(head);
    }
}

void Unframer::finish()
{
    if (m_header == HeaderState::undecided) {
        // A beginning of a header without its line end: not a header.
        m_header = HeaderState::absent;
        const std::string head = std::move(m_head);
        m_head.clear();
        pass(head);
    }
    const std::size_t footer = m_tail.rfind(k_script_footer);
    if (footer != std::string::npos && !m_tail.empty() && m_tail.back() == '\n'
        && m_tail.size() - footer <= k_max_frame_bytes + 1
        && m_tail.find('\n', footer + 1) == m_tail.size() - 1) {
        m_tail.resize(footer);
        m_footer_seen = true;
    }
    m_out.clear();
    m_normaliser.feed(m_tail, m_out);
    m_normaliser.finish(m_out);
    m_tail.clear();
    if (!m_out.empty()) {
        m_sink.normalised(m_out.view());
    }
}

bool is_cloudwatch_piece(std::string_view message)
{
    // A piece is exactly k_cloudwatch_event_bytes bytes of one line, so it has no LF; invalid
    // UTF-8 that CloudWatch replaced by U+FFFD only makes it longer.
    return message.size() >= k_cloudwatch_event_bytes
           && std::memchr(message.data(), '\n', message.size()) == nullptr;
}

void CloudWatchReader::event(std::string_view message)
{
    if (m_events > 0 && !m_last_was_piece) {
        m_unframer.feed("\n"); // the LF SSM dropped from the previous event
    }
    m_unframer.feed(message);
    m_last_was_piece = is_cloudwatch_piece(message);
    ++m_events;
}

void CloudWatchReader::finish()
{
    if (m_events > 0 && !m_last_was_piece) {
        m_unframer.feed("\n");
    }
    m_unframer.finish();
}

std::string normalise_typescript(std::string_view object)
{
    StringSink sink;
    TypescriptReader reader(sink);
    reader.feed(object);
    reader.finish();
    return sink.text();
}

std::string normalise_cloudwatch(std::span<const std::string> messages)
{
    StringSink sink;
    CloudWatchReader reader(sink);
    for (const auto& message : messages) {
        reader.event(message);
    }
    reader.finish();
    return sink.text();
}

} // namespace execmark::transcript
