// SPDX-License-Identifier: MIT
#include <agent/transcript/transcript.hpp>
#include <agent/transcript/typed.hpp>

#include <sodium.h>

namespace execmark::transcript {

namespace {

constexpr std::string_view k_typed_context = "execmark/typed/1";
constexpr std::string_view k_erase = "\b \b";

bool is_utf8_continuation(unsigned char c)
{
    return (c & 0xC0U) == 0x80U;
}

} // namespace

std::string typed_echo_text(std::string_view typed, bool echo, bool echoctl)
{
    std::string out;
    if (!echo) {
        return out;
    }
    out.reserve(typed.size() * 2);
    for (const char ch : typed) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '\r' || c == '\n') {
            out.push_back('\n');
        } else if (c == '\t') {
            out.push_back('\t');
        } else if (c < 0x20 || c == 0x7F) {
            if (echoctl && c != 0) { // 0: the queue's mark of an EOF key, never echoed
                out.push_back('^');
                out.push_back(static_cast<char>(c ^ 0x40U));
            }
        } else {
            out.push_back(ch);
        }
    }
    return out;
}

std::optional<std::string> echo_left(std::string_view shown)
{
    std::string out;
    std::size_t line_start = 0; // where the current line starts in out
    std::size_t i = 0;
    while (i < shown.size()) {
        // A control sequence (ESC [ parameters, intermediates, final byte) shows no text: shells
        // switch modes with them as they start (bracketed paste, cursor keys).
        if (shown[i] == '\x1b' && i + 1 < shown.size() && shown[i + 1] == '[') {
            std::size_t j = i + 2;
            while (j < shown.size() && shown[j] >= 0x30 && shown[j] <= 0x3F) {
                ++j;
            }
            while (j < shown.size() && shown[j] >= 0x20 && shown[j] <= 0x2F) {
                ++j;
            }
            if (j < shown.size() && shown[j] >= 0x40 && shown[j] <= 0x7E) {
                i = j + 1;
                continue;
            }
            return std::nullopt;
        }
        if (shown.substr(i, k_erase.size()) == k_erase) {
            if (out.size() == line_start) {
                return std::nullopt; // nothing on this line to erase
            }
            std::size_t cut = out.size() - 1;
            while (cut > line_start && is_utf8_continuation(static_cast<unsigned char>(out[cut]))) {
                --cut;
            }
            out.resize(cut);
            i += k_erase.size();
            continue;
        }
        const auto c = static_cast<unsigned char>(shown[i]);
        if (c == '\n') {
            out.push_back('\n');
            line_start = out.size();
        } else if (c == '\t' || (c >= 0x20 && c != 0x7F)) {
            out.push_back(shown[i]);
        } else {
            return std::nullopt;
        }
        ++i;
    }
    return out;
}

std::string typed_digest(std::string_view echo_text)
{
    // Empty lines do not count: a line end typed ahead and a blank line a shell wrote at its
    // start look alike.
    std::string text;
    text.reserve(echo_text.size());
    for (const char c : echo_text) {
        if (c != '\n' || (!text.empty() && text.back() != '\n')) {
            text.push_back(c);
        }
    }
    if (!text.empty() && text.back() == '\n') {
        text.pop_back();
    }
    echo_text = text;
    Hash hash{};
    crypto_generichash_state state;
    crypto_generichash_init(&state, nullptr, 0, hash.size());
    const unsigned char zero = 0;
    crypto_generichash_update(&state,
                              reinterpret_cast<const unsigned char*>(k_typed_context.data()),
                              k_typed_context.size());
    crypto_generichash_update(&state, &zero, 1);
    crypto_generichash_update(
        &state, reinterpret_cast<const unsigned char*>(echo_text.data()), echo_text.size());
    crypto_generichash_final(&state, hash.data(), hash.size());
    return to_hex(hash);
}

} // namespace execmark::transcript
