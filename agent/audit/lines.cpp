// SPDX-License-Identifier: MIT
#include <agent/audit/lines.hpp>
#include <agent/audit/terminal.hpp>
#include <agent/marker/marker.hpp>

#include <algorithm>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace execmark::audit {

namespace {

constexpr std::string_view k_magic = marker::k_magic;
// What a marker starts with; a bare mention of the word (a user grepping for markers) is not.
constexpr std::string_view k_marker_start = "EXECMARK1 {";

// Length of the longest proper beginning of the magic that text ends with (0 when none).
std::size_t partial_magic_suffix(std::string_view text)
{
    for (std::size_t n = std::min(text.size(), k_magic.size() - 1); n > 0; --n) {
        if (text.substr(text.size() - n) == k_magic.substr(0, n)) {
            return n;
        }
    }
    return 0;
}

} // namespace

std::size_t find_magic(std::string_view text, std::size_t from)
{
    if (from >= text.size() || text.size() - from < k_magic.size()) {
        return std::string_view::npos;
    }
    const char* p = text.data();
    const std::size_t n = text.size();
    std::size_t i = from;
#if defined(__SSE2__)
    // 16 positions a step: a candidate has the magic's first byte at i and its last at i + 8;
    // only candidates are compared in full. This runs over every byte of every input.
    constexpr std::size_t last = k_magic.size() - 1;
    const __m128i first_byte = _mm_set1_epi8(k_magic.front());
    const __m128i last_byte = _mm_set1_epi8(k_magic.back());
    while (n - i >= 16 + last) {
        const __m128i a =
            _mm_loadu_si128(static_cast<const __m128i*>(static_cast<const void*>(p + i)));
        const __m128i b =
            _mm_loadu_si128(static_cast<const __m128i*>(static_cast<const void*>(p + i + last)));
        auto mask = static_cast<unsigned>(_mm_movemask_epi8(
            _mm_and_si128(_mm_cmpeq_epi8(a, first_byte), _mm_cmpeq_epi8(b, last_byte))));
        while (mask != 0) {
            const auto bit = static_cast<std::size_t>(__builtin_ctz(mask));
            if (std::memcmp(p + i + bit + 1, k_magic.data() + 1, last - 1) == 0) {
                return i + bit;
            }
            mask &= mask - 1;
        }
        i += 16;
    }
#endif
    const void* at = ::memmem(p + i, n - i, k_magic.data(), k_magic.size());
    return at == nullptr ? std::string_view::npos
                         : static_cast<std::size_t>(static_cast<const char*>(at) - p);
}

// Line numbers need every newline counted, so this runs over all the
// input: 16 bytes a step (SSE2, baseline x86-64), byte counters folded every 255 steps.
std::uint64_t count_newlines(std::string_view bytes)
{
    const char* p = bytes.data();
    const std::size_t n = bytes.size();
    std::uint64_t total = 0;
    std::size_t i = 0;
#if defined(__SSE2__)
    const __m128i newline = _mm_set1_epi8('\n');
    const __m128i zero = _mm_setzero_si128();
    while (n - i >= 16) {
        __m128i counts = zero;
        const std::size_t steps = std::min<std::size_t>((n - i) / 16, 255);
        for (std::size_t s = 0; s < steps; ++s, i += 16) {
            const __m128i block =
                _mm_loadu_si128(static_cast<const __m128i*>(static_cast<const void*>(p + i)));
            // A match is 0xFF, i.e. -1: subtracting it adds one to that byte's counter.
            counts = _mm_sub_epi8(counts, _mm_cmpeq_epi8(block, newline));
        }
        const __m128i sums = _mm_sad_epu8(counts, zero);
        total += static_cast<std::uint64_t>(_mm_cvtsi128_si64(sums))
                 + static_cast<std::uint64_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(sums, sums)));
    }
#endif
    for (; i < n; ++i) {
        total += p[i] == '\n' ? 1 : 0;
    }
    return total;
}

void LineWindow::append(std::string_view bytes)
{
    m_text.append(bytes);
    if (m_text.size() > k_window_bytes) {
        trim();
    }
}

void LineWindow::trim()
{
    const std::size_t drop = m_text.size() - k_window_bytes;
    if (!m_lost) {
        // A marker start beginning in the dropped part (it may reach into the kept part).
        const std::size_t span = std::min(m_text.size(), drop + k_marker_start.size() - 1);
        m_lost =
            ::memmem(m_text.data(), span, k_marker_start.data(), k_marker_start.size()) != nullptr;
    }
    m_text.erase(0, drop);
}

void TextScanner::feed(std::string_view data)
{
    std::size_t pos = 0;
    std::string carried;
    if (!m_in_candidate && !m_carry.empty()) {
        // Does an EXECMARK1 begin in the carried bytes and end in this chunk?
        std::string probe = m_carry;
        probe.append(data.substr(0, k_magic.size()));
        const std::size_t at = probe.find(k_magic);
        if (at != std::string::npos && at < m_carry.size()) {
            m_in_candidate = true;
            m_window.start();
            m_window.append(std::string_view(m_carry).substr(at));
        } else {
            carried = m_carry;
        }
        m_carry.clear();
    }
    while (pos < data.size()) {
        if (m_in_candidate) {
            const void* nl = std::memchr(data.data() + pos, '\n', data.size() - pos);
            const std::size_t end =
                nl == nullptr
                    ? data.size()
                    : static_cast<std::size_t>(static_cast<const char*>(nl) - data.data());
            m_window.append(data.substr(pos, end - pos));
            if (nl == nullptr) {
                return;
            }
            emit();
            m_in_candidate = false;
            ++m_line;
            pos = end + 1;
            continue;
        }
        const std::size_t at = find_magic(data, pos);
        const std::size_t region_end = at == std::string_view::npos ? data.size() : at;
        m_line += count_newlines(data.substr(pos, region_end - pos));
        if (at != std::string_view::npos) {
            m_in_candidate = true;
            m_window.start();
            pos = at;
            continue;
        }
        // No marker in the rest: carry a possible beginning of one at the end of the line.
        const void* last_nl = ::memrchr(data.data() + pos, '\n', data.size() - pos);
        const std::size_t line_start =
            last_nl == nullptr
                ? pos
                : static_cast<std::size_t>(static_cast<const char*>(last_nl) - data.data()) + 1;
        std::string tail;
        if (last_nl == nullptr && pos == 0) {
            // Still the line of the carried bytes (tiny chunks): they count too.
            tail = carried;
        }
        tail.append(data.substr(line_start));
        const std::size_t keep = partial_magic_suffix(tail);
        m_carry.assign(tail, tail.size() - keep, keep);
        return;
    }
}

void TextScanner::finish()
{
    if (m_in_candidate) {
        emit();
        m_in_candidate = false;
    }
    m_carry.clear();
}

void TextScanner::emit()
{
    CandidateLine line;
    line.text = m_window.text();
    line.where.line = m_line;
    line.lost_marker = m_window.lost_marker();
    m_sink.on_candidate(line);
}

bool ends_with_wellformed_marker(std::string_view raw_line)
{
    const std::string clean = strip_terminal_controls(raw_line);
    return marker::extract(clean).status == marker::ExtractStatus::ok;
}

void EventLines::emit(std::string_view text, bool lost)
{
    CandidateLine line;
    line.text = text;
    line.where.event = m_event;
    line.lost_marker = lost;
    m_sink.on_candidate(line);
}

void EventLines::hold(std::string_view text)
{
    const std::size_t at = find_magic(text);
    if (at != std::string_view::npos) {
        LineWindow window;
        window.start();
        window.append(text.substr(at));
        m_pending.assign(window.text());
        m_pending_candidate = true;
        m_pending_lost = window.lost_marker();
        return;
    }
    const std::size_t keep = partial_magic_suffix(text);
    m_pending.assign(text.substr(text.size() - keep));
    m_pending_candidate = false;
    m_pending_lost = false;
}

void EventLines::lines_of(std::string_view text)
{
    // text: zero or more complete lines ("...\n"), then the held-back last line.
    std::size_t pos = 0;
    for (;;) {
        const std::size_t nl = text.find('\n', pos);
        if (nl == std::string_view::npos) {
            hold(text.substr(pos));
            return;
        }
        const std::string_view line = text.substr(pos, nl - pos);
        const std::size_t at = find_magic(line);
        if (at != std::string_view::npos) {
            LineWindow window;
            window.start();
            window.append(line.substr(at));
            emit(window.text(), window.lost_marker());
        }
        pos = nl + 1;
    }
}

void EventLines::event(std::string_view message)
{
    ++m_event;
    const std::size_t first_nl = message.find('\n');
    const bool has_nl = first_nl != std::string_view::npos;
    const std::string_view first = message.substr(0, first_nl);

    bool first_taken = false;
    if (m_pending_candidate) {
        if (!ends_with_wellformed_marker(m_pending)) {
            LineWindow joined;
            joined.start();
            joined.append(m_pending);
            joined.append(first);
            const bool lost = m_pending_lost || joined.lost_marker();
            if (!has_nl) {
                // The line goes on in the next event: keep joining.
                m_pending.assign(joined.text());
                m_pending_lost = lost;
                return;
            }
            if (ends_with_wellformed_marker(joined.text())) {
                emit(joined.text(), lost);
                first_taken = true;
            } else {
                emit(m_pending, m_pending_lost);
            }
        } else {
            emit(m_pending, m_pending_lost);
        }
    } else if (!m_pending.empty()) {
        // The previous event ended with the beginning of EXECMARK1: a split inside the magic.
        std::string probe = m_pending;
        probe.append(first);
        const std::size_t at = find_magic(probe);
        if (at != std::string::npos && at < m_pending.size()) {
            first_taken = true;
            const std::string_view joined = std::string_view(probe).substr(at);
            if (has_nl) {
                LineWindow window;
                window.start();
                window.append(joined);
                emit(window.text(), window.lost_marker());
            } else {
                hold(joined);
                return;
            }
        }
    }
    m_pending.clear();
    m_pending_candidate = false;
    m_pending_lost = false;

    if (!has_nl) {
        hold(message);
        return;
    }
    lines_of(first_taken ? message.substr(first_nl + 1) : message);
}

void EventLines::finish()
{
    if (m_pending_candidate) {
        emit(m_pending, m_pending_lost);
    }
    m_pending.clear();
    m_pending_candidate = false;
    m_pending_lost = false;
}

} // namespace execmark::audit
