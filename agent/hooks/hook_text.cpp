// SPDX-License-Identifier: MIT
#include <agent/hooks/embedded.hpp>
#include <agent/hooks/hooks.hpp>

#include <array>

namespace execmark::hooks {

namespace {

// The one spelling of the default binary path in both hook files: the installer swaps the part
// after ":-" for --bin.
constexpr std::string_view k_bin_prefix = "${EXECMARK_BIN_PATH:-";
constexpr std::size_t k_max_bin_path = 256;

std::string_view embedded_text(HookKind kind)
{
    return kind == HookKind::zsh ? std::string_view(embedded::k_zsh_hook)
                                 : std::string_view(embedded::k_posix_hook);
}

bool is_bin_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.'
           || c == '_' || c == '+' || c == '@' || c == '/' || c == '-';
}

// Replaces the default path in every `${EXECMARK_BIN_PATH:-DEFAULT}` of text by bin.
std::string with_bin(std::string_view text, std::string_view bin)
{
    std::string out;
    out.reserve(text.size() + 64);
    std::size_t pos = 0;
    for (;;) {
        const auto at = text.find(k_bin_prefix, pos);
        if (at == std::string_view::npos) {
            break;
        }
        const auto value = at + k_bin_prefix.size();
        const auto close = text.find('}', value);
        if (close == std::string_view::npos) {
            break;
        }
        out.append(text.substr(pos, value - pos));
        out.append(bin);
        pos = close;
    }
    out.append(text.substr(pos));
    return out;
}

} // namespace

std::optional<HookKind> hook_kind_for_shell(std::string_view shell)
{
    constexpr std::array<std::string_view, 5> k_posix_shells = {
        "bash", "sh", "dash", "ash", "mksh"};
    for (const auto name : k_posix_shells) {
        if (shell == name) {
            return HookKind::posix;
        }
    }
    if (shell == "zsh") {
        return HookKind::zsh;
    }
    return std::nullopt;
}

std::string_view hook_path(HookKind kind)
{
    return kind == HookKind::zsh ? k_zsh_hook_path : k_posix_hook_path;
}

bool is_valid_bin_path(std::string_view path)
{
    if (path.empty() || path.size() > k_max_bin_path || path.front() != '/') {
        return false;
    }
    for (const char c : path) {
        if (!is_bin_char(c)) {
            return false;
        }
    }
    // Components "." and ".." would make the path mean something else than it says.
    std::size_t start = 1;
    while (start <= path.size()) {
        auto end = path.find('/', start);
        if (end == std::string_view::npos) {
            end = path.size();
        }
        const auto part = path.substr(start, end - start);
        if (part == "." || part == "..") {
            return false;
        }
        start = end + 1;
    }
    return path.back() != '/';
}

std::string hook_text(HookKind kind, std::string_view bin)
{
    return with_bin(embedded_text(kind), bin);
}

std::optional<std::string> hook_text_bin(HookKind kind, std::string_view text)
{
    const auto at = text.find(k_bin_prefix);
    if (at == std::string_view::npos) {
        return std::nullopt;
    }
    const auto value = at + k_bin_prefix.size();
    const auto close = text.find('}', value);
    if (close == std::string_view::npos) {
        return std::nullopt;
    }
    std::string bin(text.substr(value, close - value));
    if (!is_valid_bin_path(bin) || hook_text(kind, bin) != text) {
        return std::nullopt;
    }
    return bin;
}

} // namespace execmark::hooks
