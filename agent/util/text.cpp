// SPDX-License-Identifier: MIT
#include <agent/util/text.hpp>

namespace execmark::util {

std::optional<std::uint64_t> parse_uint(std::string_view text, std::uint64_t max)
{
    if (text.empty() || text.size() > 20) {
        return std::nullopt;
    }
    std::uint64_t value = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        const auto digit = static_cast<std::uint64_t>(c - '0');
        if (value > (max - digit) / 10) {
            return std::nullopt;
        }
        value = value * 10 + digit;
    }
    return value;
}

std::optional<std::uint64_t> parse_seconds_ms(std::string_view text, std::uint64_t max_ms)
{
    const auto dot = text.find('.');
    const auto whole = parse_uint(text.substr(0, dot), max_ms / 1000);
    if (!whole) {
        return std::nullopt;
    }
    std::uint64_t ms = *whole * 1000;
    if (dot != std::string_view::npos) {
        const auto frac = text.substr(dot + 1);
        if (frac.empty() || frac.size() > 3) {
            return std::nullopt;
        }
        auto digits = parse_uint(frac);
        if (!digits) {
            return std::nullopt;
        }
        for (std::size_t i = frac.size(); i < 3; ++i) {
            *digits *= 10;
        }
        ms += *digits;
    }
    if (ms > max_ms) {
        return std::nullopt;
    }
    return ms;
}

} // namespace execmark::util
