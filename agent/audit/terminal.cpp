// SPDX-License-Identifier: MIT
#include <agent/audit/terminal.hpp>

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

} // namespace execmark::audit
