// SPDX-License-Identifier: MIT
#include <agent/transcript/transcript.hpp>

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

} // namespace

void Normaliser::emit_replacement(std::string& out)
{
    if (m_pending_cr > 0) {
        // CRs not followed by LF are ordinary characters.
        out.append(m_pending_cr, '\r');
        m_pending_cr = 0;
        m_in_bad_run = false;
    }
    if (!m_in_bad_run) {
        out.append(k_replacement);
        m_in_bad_run = true;
    }
}

void Normaliser::emit_char(std::string_view bytes, std::string& out)
{
    if (bytes.size() == 1 && bytes[0] == '\n') {
        m_pending_cr = 0; // rule 2: CR+ LF -> LF
    } else if (m_pending_cr > 0) {
        out.append(m_pending_cr, '\r');
        m_pending_cr = 0;
    }
    out.append(bytes);
    m_in_bad_run = false;
}

void Normaliser::flush_partial_as_invalid(std::string& out)
{
    if (m_partial_len > 0) {
        m_partial_len = 0;
        emit_replacement(out);
    }
}

void Normaliser::feed(std::string_view raw, std::string& out)
{
    m_raw_bytes += raw.size();
    out.reserve(out.size() + raw.size() + 3);
    std::size_t i = 0;
    while (i < raw.size()) {
        const auto byte = static_cast<unsigned char>(raw[i]);
        if (m_partial_len > 0) {
            if (!continuation_ok(m_partial[0], m_partial_len, byte)) {
                // The sequence so far is ill-formed; this byte starts afresh.
                flush_partial_as_invalid(out);
                continue;
            }
            m_partial[m_partial_len++] = byte;
            ++i;
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
            continue;
        }
        if (byte < 0x80) {
            // Fast path: a run of ASCII other than CR goes out in one append.
            if (byte == '\r') {
                ++m_pending_cr;
                ++i;
                continue;
            }
            std::size_t end = i + 1;
            while (end < raw.size() && static_cast<unsigned char>(raw[end]) < 0x80
                   && raw[end] != '\r') {
                ++end;
            }
            if (byte == '\n' || m_pending_cr == 0) {
                emit_char(raw.substr(i, 1), out);
                out.append(raw.substr(i + 1, end - i - 1));
            } else {
                emit_char(raw.substr(i, end - i), out);
            }
            i = end;
            continue;
        }
        if (utf8_sequence_length(byte) == 0) {
            emit_replacement(out);
            ++i;
            continue;
        }
        m_partial[0] = byte;
        m_partial_len = 1;
        ++i;
    }
}

void Normaliser::finish(std::string& out)
{
    flush_partial_as_invalid(out);
    m_pending_cr = 0; // rule 3: a CR run at the end is dropped
    m_in_bad_run = false;
    m_raw_bytes = 0;
}

std::string normalise(std::string_view raw)
{
    Normaliser normaliser;
    std::string out;
    normaliser.feed(raw, out);
    normaliser.finish(out);
    return out;
}

} // namespace execmark::transcript
