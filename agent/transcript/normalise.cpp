// SPDX-License-Identifier: MIT
#include <agent/transcript/transcript.hpp>

#include <algorithm>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace execmark::transcript {

std::size_t utf8_sequence_length(unsigned char lead)
{
    if (lead < 0x80) {
        return 1;
    }
    if (lead >= 0xC2 && lead <= 0xDF) {
        return 2;
    }
    if (lead >= 0xE0 && lead <= 0xEF) {
        return 3;
    }
    if (lead >= 0xF0 && lead <= 0xF4) {
        return 4;
    }
    return 0;
}

namespace {

// Whether byte may stand at position pos (1..3) of a sequence led by lead (Unicode Table 3-7:
// no overlong forms, no surrogates, nothing above U+10FFFF).
bool continuation_ok(unsigned char lead, std::size_t pos, unsigned char byte)
{
    unsigned char low = 0x80;
    unsigned char high = 0xBF;
    if (pos == 1) {
        if (lead == 0xE0) {
            low = 0xA0;
        } else if (lead == 0xED) {
            high = 0x9F;
        } else if (lead == 0xF0) {
            low = 0x90;
        } else if (lead == 0xF4) {
            high = 0x8F;
        }
    }
    return byte >= low && byte <= high;
}

// Index of the first byte in [i, n) that the rules may change: a CR or a non-ASCII byte
// (n when none). Everything before it is copied as is. 16 bytes a step with SSE2 (baseline
// x86-64).
std::size_t find_special(const char* data, std::size_t i, std::size_t n)
{
#if defined(__SSE2__)
    const __m128i cr = _mm_set1_epi8('\r');
    while (n - i >= 16) {
        const __m128i bytes =
            _mm_loadu_si128(static_cast<const __m128i*>(static_cast<const void*>(data + i)));
        // The top bit of each byte is set for non-ASCII bytes and for CRs (0xFF after cmpeq).
        const int mask = _mm_movemask_epi8(_mm_or_si128(bytes, _mm_cmpeq_epi8(bytes, cr)));
        if (mask != 0) {
            return i + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
        }
        i += 16;
    }
#endif
    while (i < n) {
        const auto byte = static_cast<unsigned char>(data[i]);
        if (byte >= 0x80 || byte == '\r') {
            return i;
        }
        ++i;
    }
    return n;
}

} // namespace

char* ByteBuffer::reserve_tail(std::size_t n)
{
    if (m_capacity - m_size < n) {
        const std::size_t want = std::max({m_capacity * 2, m_size + n, std::size_t{4096}});
        auto grown = std::make_unique_for_overwrite<char[]>(want);
        if (m_size > 0) {
            std::memcpy(grown.get(), m_data.get(), m_size);
        }
        m_data = std::move(grown);
        m_capacity = want;
    }
    return m_data.get() + m_size;
}

void ByteBuffer::append(std::string_view bytes)
{
    char* at = reserve_tail(bytes.size());
    if (!bytes.empty()) {
        std::memcpy(at, bytes.data(), bytes.size());
    }
    commit(at + bytes.size());
}

// Writes into a ByteBuffer through a cursor; done() fixes the buffer's size.
class Normaliser::Writer {
public:
    explicit Writer(ByteBuffer& buffer)
        : m_buffer(buffer)
        , m_at(buffer.reserve_tail(0))
        , m_end(m_at)
    {}

    // At least n bytes of room at the cursor; returns the cursor.
    char* room(std::uint64_t n)
    {
        if (static_cast<std::uint64_t>(m_end - m_at) < n) {
            m_buffer.commit(m_at);
            const auto want = static_cast<std::size_t>(std::max<std::uint64_t>(n, 4096));
            m_at = m_buffer.reserve_tail(want);
            m_end = m_at + want;
        }
        return m_at;
    }

    void advance(char* to) { m_at = to; }

    void put(std::string_view bytes)
    {
        char* at = room(bytes.size());
        if (!bytes.empty()) {
            std::memcpy(at, bytes.data(), bytes.size());
        }
        m_at = at + bytes.size();
    }

    void put_repeated(std::uint64_t n, char c)
    {
        char* at = room(n);
        std::memset(at, c, static_cast<std::size_t>(n));
        m_at = at + n;
    }

    void done() { m_buffer.commit(m_at); }

private:
    ByteBuffer& m_buffer;
    char* m_at;
    char* m_end;
};

void Normaliser::emit_replacement(Writer& out)
{
    if (m_pending_cr > 0) {
        // CRs not followed by LF are ordinary characters.
        out.put_repeated(m_pending_cr, '\r');
        m_pending_cr = 0;
        m_in_bad_run = false;
    }
    if (!m_in_bad_run) {
        out.put(k_replacement);
        m_in_bad_run = true;
    }
}

void Normaliser::emit_char(std::string_view bytes, Writer& out)
{
    if (bytes.size() == 1 && bytes[0] == '\n') {
        m_pending_cr = 0; // rule 2: CR+ LF -> LF
    } else if (m_pending_cr > 0) {
        out.put_repeated(m_pending_cr, '\r');
        m_pending_cr = 0;
    }
    out.put(bytes);
    m_in_bad_run = false;
}

void Normaliser::flush_partial_as_invalid(Writer& out)
{
    if (m_partial_len > 0) {
        m_partial_len = 0;
        emit_replacement(out);
    }
}

std::size_t Normaliser::step(std::string_view raw, std::size_t i, Writer& out)
{
    const auto byte = static_cast<unsigned char>(raw[i]);
    if (m_partial_len > 0) {
        if (!continuation_ok(m_partial[0], m_partial_len, byte)) {
            // The sequence so far is ill-formed; this byte starts afresh.
            flush_partial_as_invalid(out);
            return i;
        }
        m_partial[m_partial_len++] = byte;
        if (m_partial_len == utf8_sequence_length(m_partial[0])) {
            const std::string_view character(reinterpret_cast<const char*>(m_partial.data()),
                                             m_partial_len);
            m_partial_len = 0;
            if (character == k_replacement) {
                emit_replacement(out);
            } else {
                emit_char(character, out);
            }
        }
        return i + 1;
    }
    if (byte == '\r') {
        std::size_t end = i + 1;
        while (end < raw.size() && raw[end] == '\r') {
            ++end;
        }
        m_pending_cr += end - i;
        return end;
    }
    if (byte < 0x80) {
        // A run of ASCII other than CR goes out in one piece.
        const std::size_t end = find_special(raw.data(), i + 1, raw.size());
        if (byte == '\n' || m_pending_cr == 0) {
            emit_char(raw.substr(i, 1), out);
            out.put(raw.substr(i + 1, end - i - 1));
        } else {
            emit_char(raw.substr(i, end - i), out);
        }
        return end;
    }
    if (utf8_sequence_length(byte) == 0) {
        emit_replacement(out);
        return i + 1;
    }
    m_partial[0] = byte;
    m_partial_len = 1;
    return i + 1;
}

void Normaliser::feed(std::string_view raw, ByteBuffer& buffer)
{
    m_raw_bytes += raw.size();
    Writer out(buffer);
    const char* data = raw.data();
    const std::size_t n = raw.size();
    std::size_t i = 0;
    while (i < n) {
        if (m_partial_len == 0 && m_pending_cr == 0) {
            // Fast path while nothing is held back: runs of bytes the rules leave alone are
            // copied, CR+ LF becomes LF, well-formed non-ASCII characters other than U+FFFD
            // are copied; the output is never longer than the input here. Anything else (a
            // CR run not followed by LF in this piece, ill-formed or incomplete UTF-8, U+FFFD)
            // goes to step().
            char* at = out.room(n - i);
            while (i < n) {
                const std::size_t s = find_special(data, i, n);
                if (s > i) {
                    std::memcpy(at, data + i, s - i);
                    at += s - i;
                    m_in_bad_run = false;
                    i = s;
                    if (i == n) {
                        break;
                    }
                }
                const auto byte = static_cast<unsigned char>(data[i]);
                if (byte == '\r') {
                    std::size_t j = i + 1;
                    while (j < n && data[j] == '\r') {
                        ++j;
                    }
                    if (j == n || data[j] != '\n') {
                        break;
                    }
                    *at++ = '\n';
                    m_in_bad_run = false;
                    i = j + 1;
                    continue;
                }
                const std::size_t len = utf8_sequence_length(byte);
                if (len < 2 || n - i < len) {
                    break;
                }
                const auto b1 = static_cast<unsigned char>(data[i + 1]);
                if (!continuation_ok(byte, 1, b1)) {
                    break;
                }
                if (len >= 3) {
                    const auto b2 = static_cast<unsigned char>(data[i + 2]);
                    if (!continuation_ok(byte, 2, b2)
                        || (len == 3 && byte == 0xEF && b1 == 0xBF && b2 == 0xBD)) {
                        break;
                    }
                    if (len == 4
                        && !continuation_ok(byte, 3, static_cast<unsigned char>(data[i + 3]))) {
                        break;
                    }
                }
                std::memcpy(at, data + i, len);
                at += len;
                m_in_bad_run = false;
                i += len;
            }
            out.advance(at);
            if (i == n) {
                break;
            }
        }
        i = step(raw, i, out);
    }
    out.done();
}

void Normaliser::feed(std::string_view raw, std::string& out)
{
    ByteBuffer buffer;
    feed(raw, buffer);
    out.append(buffer.view());
}

void Normaliser::finish(ByteBuffer& buffer)
{
    Writer out(buffer);
    flush_partial_as_invalid(out);
    out.done();
    m_pending_cr = 0; // rule 3: a CR run at the end is dropped
    m_in_bad_run = false;
    m_raw_bytes = 0;
}

void Normaliser::finish(std::string& out)
{
    ByteBuffer buffer;
    finish(buffer);
    out.append(buffer.view());
}

std::string normalise(std::string_view raw)
{
    Normaliser normaliser;
    ByteBuffer out;
    normaliser.feed(raw, out);
    normaliser.finish(out);
    return std::string(out.view());
}

} // namespace execmark::transcript
