// SPDX-License-Identifier: MIT
#include <agent/marker/marker.hpp>

#include <algorithm>
#include <chrono>

namespace execmark::marker {

namespace {

using Millis = std::chrono::milliseconds;
using std::chrono::days;
using std::chrono::sys_days;

// "YYYY-MM-DDTHH:MM:SS.mmmZ"
constexpr std::string_view k_shape = "dddd-dd-ddTdd:dd:dd.dddZ";

constexpr std::int64_t k_min_ms =
    std::chrono::duration_cast<Millis>(
        sys_days{std::chrono::year{0} / std::chrono::January / 1}.time_since_epoch())
        .count();
constexpr std::int64_t k_max_ms =
    std::chrono::duration_cast<Millis>(
        (sys_days{std::chrono::year{10000} / std::chrono::January / 1}).time_since_epoch())
        .count()
    - 1;

void put_digits(std::string& out, long value, int width)
{
    std::string digits(static_cast<std::size_t>(width), '0');
    for (auto it = digits.rbegin(); it != digits.rend() && value > 0; ++it) {
        *it = static_cast<char>('0' + value % 10);
        value /= 10;
    }
    out += digits;
}

// text[pos, pos + width) are known to be digits.
int get_digits(std::string_view text, std::size_t pos, std::size_t width)
{
    int value = 0;
    for (std::size_t i = pos; i < pos + width; ++i) {
        value = value * 10 + (text[i] - '0');
    }
    return value;
}

} // namespace

std::string format_timestamp(std::int64_t unix_ms)
{
    const std::chrono::sys_time<Millis> time{Millis{std::clamp(unix_ms, k_min_ms, k_max_ms)}};
    const sys_days day = std::chrono::floor<days>(time);
    const std::chrono::year_month_day date{day};
    const std::chrono::hh_mm_ss<Millis> clock{time - day};
    std::string out;
    out.reserve(k_shape.size());
    put_digits(out, static_cast<int>(date.year()), 4);
    out.push_back('-');
    put_digits(out, static_cast<unsigned>(date.month()), 2);
    out.push_back('-');
    put_digits(out, static_cast<unsigned>(date.day()), 2);
    out.push_back('T');
    put_digits(out, clock.hours().count(), 2);
    out.push_back(':');
    put_digits(out, clock.minutes().count(), 2);
    out.push_back(':');
    put_digits(out, clock.seconds().count(), 2);
    out.push_back('.');
    put_digits(out, clock.subseconds().count(), 3);
    out.push_back('Z');
    return out;
}

std::optional<std::int64_t> parse_timestamp(std::string_view text)
{
    if (text.size() != k_shape.size()) {
        return std::nullopt;
    }
    for (std::size_t i = 0; i < k_shape.size(); ++i) {
        const bool digit = text[i] >= '0' && text[i] <= '9';
        if (k_shape[i] == 'd' ? !digit : text[i] != k_shape[i]) {
            return std::nullopt;
        }
    }
    const auto number = [&](std::size_t pos, std::size_t width) {
        return get_digits(text, pos, width);
    };
    const std::chrono::year_month_day date{std::chrono::year{number(0, 4)},
                                           std::chrono::month{static_cast<unsigned>(number(5, 2))},
                                           std::chrono::day{static_cast<unsigned>(number(8, 2))}};
    const int hours = number(11, 2);
    const int minutes = number(14, 2);
    const int seconds = number(17, 2);
    // No leap second: ts comes from CLOCK_REALTIME, which never shows :60.
    if (!date.ok() || hours > 23 || minutes > 59 || seconds > 59) {
        return std::nullopt;
    }
    const auto time = sys_days{date} + std::chrono::hours{hours} + std::chrono::minutes{minutes}
                      + std::chrono::seconds{seconds} + Millis{number(20, 3)};
    return std::chrono::duration_cast<Millis>(time.time_since_epoch()).count();
}

} // namespace execmark::marker
