// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>

namespace execmark::util {

// Milliseconds since the Unix epoch (CLOCK_REALTIME): for timestamps that are shown or signed.
std::int64_t unix_ms();

// Milliseconds on CLOCK_MONOTONIC: for deadlines and durations (never jumps with the wall clock).
std::int64_t monotonic_ms();

} // namespace execmark::util
