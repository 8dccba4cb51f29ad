// SPDX-License-Identifier: MIT
#include <agent/audit/terminal.hpp>

#include <array>
#include <cstdint>
#include <utility>

namespace execmark::audit {

namespace {

constexpr char k_esc = '\x1b';
constexpr char k_bel = '\x07';
constexpr char k_cr = '\r';

bool is_csi_final(char c)
{
    return c >= 0x40 && c <= 0x7E;
}

// Index just past the string terminator (BEL, or ESC \) at or after i. Unterminated: only the
// two-byte introducer is dropped (i itself), so a marker later in the line is never swallowed.
std::size_t skip_string_sequence(std::string_view s, std::size_t i, bool bel_ends)
{
    for (std::size_t j = i; j < s.size(); ++j) {
        if (bel_ends && s[j] == k_bel) {
            return j + 1;
        }
        if (s[j] == k_esc && j + 1 < s.size() && s[j + 1] == '\\') {
            return j + 2;
        }
    }
    return i;
}

// Index just past the escape sequence that starts with ESC at position i.
std::size_t skip_escape(std::string_view s, std::size_t i)
{
    std::size_t j = i + 1;
    if (j >= s.size()) {
        return s.size();
    }
    const char kind = s[j];
    if (kind == '[') {
        // CSI: parameter bytes 0x30-0x3F, intermediates 0x20-0x2F, one final byte 0x40-0x7E.
        ++j;
        while (j < s.size() && s[j] >= 0x20 && s[j] <= 0x3F) {
            ++j;
        }
        if (j < s.size() && is_csi_final(s[j])) {
            return j + 1;
        }
        // Malformed: drop ESC [ and what was consumed; the rest is text again.
        return j;
    }
    if (kind == ']') {
        return skip_string_sequence(s, j + 1, true);
    }
    if (kind == 'P' || kind == 'X' || kind == '^' || kind == '_') {
        return skip_string_sequence(s, j + 1, false);
    }
    // nF / Fp / Fe / Fs: intermediates 0x20-0x2F then one final byte 0x30-0x7E.
    while (j < s.size() && s[j] >= 0x20 && s[j] <= 0x2F) {
        ++j;
    }
    if (j < s.size() && s[j] >= 0x30 && s[j] <= 0x7E) {
        return j + 1;
    }
    return j;
}

} // namespace

std::string strip_terminal_controls(std::string_view line)
{
    std::string out;
    out.reserve(line.size());
    std::size_t i = 0;
    while (i < line.size()) {
        // Copy the run of ordinary bytes up to the next ESC or CR in one go.
        std::size_t end = i;
        while (end < line.size() && line[end] != k_esc && line[end] != k_cr) {
            ++end;
        }
        out.append(line.substr(i, end - i));
        if (end == line.size()) {
            break;
        }
        i = line[end] == k_esc ? skip_escape(line, end) : end + 1;
    }
    return out;
}

namespace {

using Range = std::pair<char32_t, char32_t>;

// Zero-width: combining marks, zero-width space/joiners, variation selectors.
// Both tables start above U+007F: display_width counts ASCII without looking them up.
constexpr std::array<Range, 9> k_zero_width = {{{0x0300, 0x036F},
                                                {0x0483, 0x0489},
                                                {0x0591, 0x05BD},
                                                {0x1AB0, 0x1AFF},
                                                {0x1DC0, 0x1DFF},
                                                {0x200B, 0x200F},
                                                {0x20D0, 0x20FF},
                                                {0xFE00, 0xFE0F},
                                                {0xFE20, 0xFE2F}}};

// East Asian Wide and Fullwidth blocks (Unicode's EastAsianWidth W/F, by block), and emoji.
constexpr std::array<Range, 15> k_wide = {{{0x1100, 0x115F},
                                           {0x2E80, 0x303E},
                                           {0x3041, 0x33FF},
                                           {0x3400, 0x4DBF},
                                           {0x4E00, 0x9FFF},
                                           {0xA000, 0xA4CF},
                                           {0xAC00, 0xD7A3},
                                           {0xF900, 0xFAFF},
                                           {0xFE30, 0xFE4F},
                                           {0xFF00, 0xFF60},
                                           {0xFFE0, 0xFFE6},
                                           {0x1F300, 0x1F64F},
                                           {0x1F900, 0x1F9FF},
                                           {0x20000, 0x2FFFD},
                                           {0x30000, 0x3FFFD}}};

template <std::size_t N>
bool in(const std::array<Range, N>& ranges, char32_t c)
{
    for (const auto& [lo, hi] : ranges) {
        if (c >= lo && c <= hi) {
            return true;
        }
    }
    return false;
}

// Decodes one UTF-8 sequence at s[i]; advances i. An invalid or cut sequence is one byte,
// decoded as U+FFFD.
char32_t next_code_point(std::string_view s, std::size_t& i)
{
    const auto byte = [&](std::size_t at) {
        return static_cast<unsigned char>(s[at]);
    };
    const unsigned char b0 = byte(i);
    std::size_t len = 0;
    char32_t c = 0;
    if (b0 < 0x80) {
        ++i;
        return b0;
    }
    if ((b0 & 0xE0) == 0xC0 && b0 >= 0xC2) {
        len = 2;
        c = b0 & 0x1F;
    } else if ((b0 & 0xF0) == 0xE0) {
        len = 3;
        c = b0 & 0x0F;
    } else if ((b0 & 0xF8) == 0xF0 && b0 <= 0xF4) {
        len = 4;
        c = b0 & 0x07;
    } else {
        ++i;
        return 0xFFFD;
    }
    if (i + len > s.size()) {
        ++i;
        return 0xFFFD;
    }
    for (std::size_t k = 1; k < len; ++k) {
        if ((byte(i + k) & 0xC0) != 0x80) {
            ++i;
            return 0xFFFD;
        }
        c = (c << 6) | (byte(i + k) & 0x3F);
    }
    const bool overlong = (len == 3 && c < 0x800) || (len == 4 && c < 0x10000);
    if (overlong || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
        ++i;
        return 0xFFFD;
    }
    i += len;
    return c;
}

} // namespace

std::size_t display_width(std::string_view text)
{
    std::size_t width = 0;
    for (std::size_t i = 0; i < text.size();) {
        // ASCII, the common case: one column, no table below U+0300 (no decoding, no search).
        if (static_cast<unsigned char>(text[i]) < 0x80) {
            ++width;
            ++i;
            continue;
        }
        const char32_t c = next_code_point(text, i);
        if (in(k_zero_width, c)) {
            continue;
        }
        width += in(k_wide, c) ? 2 : 1;
    }
    return width;
}

} // namespace execmark::audit
