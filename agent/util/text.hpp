// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace execmark::util {

// Strict decimal parse: digits only, no sign, no spaces, no overflow past max.
std::optional<std::uint64_t> parse_uint(std::string_view text, std::uint64_t max = UINT64_MAX);

// Decimal seconds with up to 3 fractional digits ("10", "2.5") to milliseconds.
std::optional<std::uint64_t> parse_seconds_ms(std::string_view text, std::uint64_t max_ms);

} // namespace execmark::util
