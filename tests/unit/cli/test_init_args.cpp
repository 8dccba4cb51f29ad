// SPDX-License-Identifier: MIT
#include <agent/cli/init_args.hpp>

#include <catch2/catch.hpp>

#include <csignal>

using namespace execmark::cli;

namespace {
using Args = std::vector<std::string>;

InitArgs parse_ok(const Args& args, const Environment& env = {})
{
    auto r = parse_init_args(args, env);
    INFO((r ? std::string("ok") : r.error().message));
    REQUIRE(r);
    return *r;
}

std::string parse_err(const Args& args, const Environment& env = {})
{
    auto r = parse_init_args(args, env);
    REQUIRE_FALSE(r);
    return r.error().message;
}

Environment env_of(std::initializer_list<std::pair<const char*, const char*>> kv)
{
    Environment e;
    for (const auto& [k, v] : kv) {
        e.add(k, v);
    }
    return e;
}
} // namespace

TEST_CASE("defaults")
{
    const auto a = parse_ok({"sleep", "1"});
    REQUIRE(a.options.command == Args{"sleep", "1"});
    REQUIRE_FALSE(a.options.subreaper);
    REQUIRE_FALSE(a.options.kill_process_group);
    REQUIRE(a.options.verbosity == 1);
    REQUIRE(a.options.grace_ms == 10000);
    REQUIRE(a.options.pdeath_signal == 0);
    REQUIRE(a.options.remap.none());
}

TEST_CASE("tini flags, grouped and separate")
{
    const auto a = parse_ok({"-sgvvw", "-e", "143", "-e3", "-p", "SIGTERM", "--", "prog", "-x"});
    REQUIRE(a.options.subreaper);
    REQUIRE(a.options.kill_process_group);
    REQUIRE(a.options.verbosity == 3);
    REQUIRE(a.options.warn_on_reap);
    REQUIRE(a.options.remap.test(143));
    REQUIRE(a.options.remap.test(3));
    REQUIRE(a.options.remap.count() == 2);
    REQUIRE(a.options.pdeath_signal == SIGTERM);
    REQUIRE(a.options.command == Args{"prog", "-x"});
}

TEST_CASE("options stop at the first non-option (unlike glibc getopt)")
{
    const auto a = parse_ok({"-s", "sleep", "-l", "--version", "--", "x"});
    REQUIRE_FALSE(a.license);
    REQUIRE_FALSE(a.version);
    REQUIRE(a.options.command == Args{"sleep", "-l", "--version", "--", "x"});
    // "--" ends options; what follows is the program even if it looks like an option.
    const auto b = parse_ok({"--", "-weird-prog"});
    REQUIRE(b.options.command == Args{"-weird-prog"});
}

TEST_CASE("help, version, licence need no program")
{
    REQUIRE(parse_ok({"-h"}).help);
    REQUIRE(parse_ok({"--help"}).help);
    REQUIRE(parse_ok({"--version"}).version);
    REQUIRE(parse_ok({"-l"}).license);
}

TEST_CASE("usage errors")
{
    REQUIRE(parse_err({}).find("PROGRAM") != std::string::npos);
    REQUIRE(parse_err({"-s"}).find("PROGRAM") != std::string::npos);
    REQUIRE(parse_err({"-x", "prog"}).find("-x") != std::string::npos);
    REQUIRE(parse_err({"--bogus", "prog"}).find("--bogus") != std::string::npos);
    REQUIRE(parse_err({"-e", "256", "prog"}).find("-e") != std::string::npos);
    REQUIRE(parse_err({"-e", "x", "prog"}).find("-e") != std::string::npos);
    REQUIRE(parse_err({"-e"}).find("needs a value") != std::string::npos);
    REQUIRE(parse_err({"-p", "SIGNOPE", "prog"}).find("unknown signal") != std::string::npos);
    REQUIRE(parse_err({"--grace", "-1", "prog"}).find("--grace") != std::string::npos);
    REQUIRE(parse_err({"--grace=abc", "prog"}).find("--grace") != std::string::npos);
    REQUIRE(parse_err({"--help=yes"}).find("takes no value") != std::string::npos);
}

TEST_CASE("grace from option and environment")
{
    REQUIRE(parse_ok({"--grace", "2.5", "p"}).options.grace_ms == 2500);
    REQUIRE(parse_ok({"--grace=0", "p"}).options.grace_ms == 0);
    REQUIRE(parse_ok({"p"}, env_of({{"EXECMARK_GRACE", "3"}})).options.grace_ms == 3000);
    REQUIRE(parse_ok({"--grace", "1", "p"}, env_of({{"EXECMARK_GRACE", "3"}})).options.grace_ms
            == 1000);
    REQUIRE(parse_err({"p"}, env_of({{"EXECMARK_GRACE", "soon"}})).find("EXECMARK_GRACE")
            != std::string::npos);
}

TEST_CASE("tini environment variables")
{
    const auto a =
        parse_ok({"p"}, env_of({{"TINI_SUBREAPER", ""}, {"TINI_KILL_PROCESS_GROUP", "0"}}));
    REQUIRE(a.options.subreaper);          // presence is enough, as in tini
    REQUIRE(a.options.kill_process_group); // even "0"
    // TINI_VERBOSITY is absolute and wins over -v.
    REQUIRE(parse_ok({"-vvv", "p"}, env_of({{"TINI_VERBOSITY", "0"}})).options.verbosity == 0);
    REQUIRE(parse_ok({"p"}, env_of({{"TINI_VERBOSITY", "2"}})).options.verbosity == 2);
    REQUIRE(parse_ok({"p"}, env_of({{"TINI_VERBOSITY", "99"}})).options.verbosity == 4);
    REQUIRE(parse_err({"p"}, env_of({{"TINI_VERBOSITY", "loud"}})).find("TINI_VERBOSITY")
            != std::string::npos);
}
