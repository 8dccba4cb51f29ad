// SPDX-License-Identifier: MIT
#include <agent/cli/environment.hpp>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>

using namespace execmark::cli;

TEST_CASE("Environment::capture copies the process environment, first definition wins")
{
    REQUIRE(::setenv("EXECMARK_UNIT_ENV", "a=b=c", 1) == 0);
    REQUIRE(::setenv("EXECMARK_UNIT_EMPTY", "", 1) == 0);
    const Environment env = Environment::capture();
    // A copy: changing the process environment afterwards changes nothing.
    REQUIRE(::setenv("EXECMARK_UNIT_ENV", "changed", 1) == 0);
    REQUIRE(::unsetenv("EXECMARK_UNIT_EMPTY") == 0);
    CHECK(env.get("EXECMARK_UNIT_ENV") == "a=b=c");
    CHECK(env.has("EXECMARK_UNIT_EMPTY"));
    CHECK(env.get("EXECMARK_UNIT_EMPTY") == "");
    // Neither a prefix nor an extension of a name matches it.
    CHECK_FALSE(env.has("EXECMARK_UNIT_EN"));
    CHECK_FALSE(env.has("EXECMARK_UNIT_ENVX"));
    CHECK_FALSE(env.get("EXECMARK_UNIT_MISSING"));
    ::unsetenv("EXECMARK_UNIT_ENV");
}

TEST_CASE("Environment::add: the first definition of a name counts, as with getenv")
{
    Environment env;
    CHECK_FALSE(env.has("A"));
    env.add("A", "1");
    env.add("AB", "2");
    env.add("A", "3");
    env.add("", "4");
    CHECK(env.get("A") == "1");
    CHECK(env.get("AB") == "2");
    CHECK_FALSE(env.has("B"));
    CHECK(env.claim_var() == "AWS_USER");
    env.add(env_names::k_claim_var, "OPERATOR");
    CHECK(env.claim_var() == "OPERATOR");
}
