// SPDX-License-Identifier: MIT
#include <agent/util/clock.hpp>

#include <time.h>

namespace execmark::util {

namespace {

std::int64_t clock_ms(clockid_t clock)
{
    timespec ts{};
    ::clock_gettime(clock, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

} // namespace

std::int64_t unix_ms()
{
    return clock_ms(CLOCK_REALTIME);
}

std::int64_t monotonic_ms()
{
    return clock_ms(CLOCK_MONOTONIC);
}

} // namespace execmark::util
