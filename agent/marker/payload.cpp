// SPDX-License-Identifier: MIT
#include "utf8.hpp"

#include <agent/marker/marker.hpp>

#include <charconv>

namespace execmark::marker {

namespace detail {

namespace {

bool in_range(unsigned char byte, unsigned lo, unsigned hi)
{
    return byte >= lo && byte <= hi;
}

} // namespace

Decoded decode_utf8(std::string_view text, std::size_t pos)
{
    const auto b0 = static_cast<unsigned char>(text[pos]);
    if (b0 < 0x80) {
        return {b0, 1, true};
    }
    // Table 3-7 of the Unicode standard: the allowed range of the second byte depends on the
    // first; every later byte is 80..BF.
    std::size_t length = 0;
    unsigned lo = 0x80;
    unsigned hi = 0xBF;
    char32_t cp = 0;
    if (in_range(b0, 0xC2, 0xDF)) {
        length = 2;
        cp = b0 & 0x1FU;
    } else if (in_range(b0, 0xE0, 0xEF)) {
        length = 3;
        cp = b0 & 0x0FU;
        lo = b0 == 0xE0 ? 0xA0 : 0x80;
        hi = b0 == 0xED ? 0x9F : 0xBF;
    } else if (in_range(b0, 0xF0, 0xF4)) {
        length = 4;
        cp = b0 & 0x07U;
        lo = b0 == 0xF0 ? 0x90 : 0x80;
        hi = b0 == 0xF4 ? 0x8F : 0xBF;
    } else {
        return {};
    }
    for (std::size_t i = 1; i < length; ++i) {
        if (pos + i >= text.size()) {
            return {};
        }
        const auto byte = static_cast<unsigned char>(text[pos + i]);
        if (!in_range(byte, i == 1 ? lo : 0x80, i == 1 ? hi : 0xBF)) {
            return {};
        }
        cp = (cp << 6U) | (byte & 0x3FU);
    }
    return {cp, length, true};
}

void append_utf8(std::string& out, char32_t cp)
{
    const auto put = [&](char32_t bits) {
        out.push_back(static_cast<char>(bits));
    };
    if (cp < 0x80) {
        put(cp);
    } else if (cp < 0x800) {
        put(0xC0U | (cp >> 6U));
        put(0x80U | (cp & 0x3FU));
    } else if (cp < 0x10000) {
        put(0xE0U | (cp >> 12U));
        put(0x80U | ((cp >> 6U) & 0x3FU));
        put(0x80U | (cp & 0x3FU));
    } else {
        put(0xF0U | (cp >> 18U));
        put(0x80U | ((cp >> 12U) & 0x3FU));
        put(0x80U | ((cp >> 6U) & 0x3FU));
        put(0x80U | (cp & 0x3FU));
    }
}

std::size_t encoded_size(char32_t cp)
{
    if (cp >= 0x20 && cp <= 0x7E) {
        return cp == U'"' || cp == U'\\' ? 2 : 1;
    }
    return cp < 0x10000 ? 6 : 12;
}

bool would_spell_magic(std::string_view out)
{
    return out.ends_with(k_magic_stem.substr(0, k_magic_stem.size() - 1));
}

} // namespace detail

namespace {

// Control characters: C0, DEL and C1 (ESC, CR, LF and TAB among them).
bool is_control(char32_t cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

// Invisible characters that can make displayed text lie: line/paragraph separators, zero-width
// characters and bidirectional overrides/isolates (the "Trojan Source" set).
bool is_format_control(char32_t cp)
{
    return cp == 0x061C || (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x2028 && cp <= 0x202E)
           || (cp >= 0x2060 && cp <= 0x206F) || cp == 0xFEFF;
}

void append_escape(std::string& out, char32_t unit)
{
    static constexpr std::string_view k_hex = "0123456789abcdef";
    out += "\\u";
    for (unsigned shift = 12;; shift -= 4) {
        out.push_back(k_hex[(unit >> shift) & 0xFU]);
        if (shift == 0) {
            break;
        }
    }
}

template <typename Int>
std::string to_decimal(Int value)
{
    std::array<char, 24> buffer{};
    const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
    return {buffer.data(), result.ptr};
}

} // namespace

void detail::append_json_string_body(std::string& out, std::string_view value)
{
    const std::size_t start = out.size();
    for (std::size_t pos = 0; pos < value.size();) {
        const detail::Decoded decoded = detail::decode_utf8(value, pos);
        pos += decoded.length;
        const char32_t cp = decoded.valid ? decoded.cp : detail::k_replacement;
        if (cp >= 0x20 && cp <= 0x7E) {
            const std::string_view written(out.data() + start, out.size() - start);
            if (cp == U'"' || cp == U'\\') {
                out.push_back('\\');
                out.push_back(static_cast<char>(cp));
            } else if (cp == U'K' && detail::would_spell_magic(written)) {
                append_escape(out, cp);
            } else {
                out.push_back(static_cast<char>(cp));
            }
        } else if (cp < 0x10000) {
            append_escape(out, cp);
        } else {
            const char32_t offset = cp - 0x10000;
            append_escape(out, 0xD800 + (offset >> 10U));
            append_escape(out, 0xDC00 + (offset & 0x3FFU));
        }
    }
}

void PayloadWriter::add_key(std::string_view key)
{
    if (m_out.size() > 1) {
        m_out.push_back(',');
    }
    m_out.push_back('"');
    detail::append_json_string_body(m_out, key);
    m_out += "\":";
}

PayloadWriter& PayloadWriter::add(std::string_view key, std::string_view value)
{
    add_key(key);
    m_out.push_back('"');
    detail::append_json_string_body(m_out, value);
    m_out.push_back('"');
    return *this;
}

PayloadWriter& PayloadWriter::add_signed(std::string_view key, std::int64_t value)
{
    add_key(key);
    m_out += to_decimal(value);
    return *this;
}

PayloadWriter& PayloadWriter::add_unsigned(std::string_view key, std::uint64_t value)
{
    add_key(key);
    m_out += to_decimal(value);
    return *this;
}

std::string PayloadWriter::finish() const
{
    return m_out + "}";
}

SanitizedClaim sanitize_claim(std::string_view raw, std::size_t max_bytes)
{
    SanitizedClaim claim;
    std::size_t encoded = 0;
    for (std::size_t pos = 0; pos < raw.size();) {
        const detail::Decoded decoded = detail::decode_utf8(raw, pos);
        char32_t cp = decoded.cp;
        bool replace = !decoded.valid || is_control(cp) || is_format_control(cp);
        // Break "EXECMARK" here too, so a banner that shows the claim never looks like a marker.
        if (!replace && cp == U'K' && detail::would_spell_magic(claim.value)) {
            replace = true;
        }
        if (replace) {
            cp = detail::k_replacement;
        }
        const std::size_t cost = detail::encoded_size(cp);
        if (encoded + cost > max_bytes) {
            claim.truncated = true;
            break;
        }
        claim.altered = claim.altered || replace;
        detail::append_utf8(claim.value, cp);
        encoded += cost;
        pos += decoded.length;
    }
    return claim;
}

} // namespace execmark::marker
