// SPDX-License-Identifier: MIT
#include <agent/util/text.hpp>

#include <catch2/catch.hpp>

using namespace execmark::util;

TEST_CASE("parse_uint is strict")
{
    REQUIRE(parse_uint("0") == 0U);
    REQUIRE(parse_uint("255", 255) == 255U);
    REQUIRE_FALSE(parse_uint("256", 255));
    REQUIRE_FALSE(parse_uint(""));
    REQUIRE_FALSE(parse_uint("-1"));
    REQUIRE_FALSE(parse_uint("+1"));
    REQUIRE_FALSE(parse_uint(" 1"));
    REQUIRE_FALSE(parse_uint("1x"));
    REQUIRE_FALSE(parse_uint("99999999999999999999999"));
    REQUIRE(parse_uint("18446744073709551615") == UINT64_MAX);
    REQUIRE_FALSE(parse_uint("18446744073709551616"));
}

TEST_CASE("parse_seconds_ms")
{
    REQUIRE(parse_seconds_ms("10", 60000) == 10000U);
    REQUIRE(parse_seconds_ms("0", 60000) == 0U);
    REQUIRE(parse_seconds_ms("2.5", 60000) == 2500U);
    REQUIRE(parse_seconds_ms("0.25", 60000) == 250U);
    REQUIRE(parse_seconds_ms("1.001", 60000) == 1001U);
    REQUIRE_FALSE(parse_seconds_ms("1.0001", 60000));
    REQUIRE_FALSE(parse_seconds_ms("61", 60000));
    REQUIRE_FALSE(parse_seconds_ms("1.", 60000));
    REQUIRE_FALSE(parse_seconds_ms(".5", 60000));
    REQUIRE_FALSE(parse_seconds_ms("-1", 60000));
    REQUIRE_FALSE(parse_seconds_ms("1e3", 60000));
}
