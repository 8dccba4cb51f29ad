// SPDX-License-Identifier: MIT
#include <agent/init/signals.hpp>

#include <catch2/catch.hpp>

#include <csignal>

using namespace execmark::init;

TEST_CASE("signal names: tini's forms and numbers")
{
    REQUIRE(signal_from_name("SIGTERM") == SIGTERM);
    REQUIRE(signal_from_name("TERM") == SIGTERM);
    REQUIRE(signal_from_name("sigkill") == SIGKILL);
    REQUIRE(signal_from_name("15") == 15);
    REQUIRE(signal_from_name("SIGUSR1") == SIGUSR1);
    REQUIRE(signal_from_name("SIGPWR") == SIGPWR);
    REQUIRE(signal_from_name("RTMIN") == 32);
    REQUIRE(signal_from_name("SIGRTMIN+3") == 35);
    REQUIRE(signal_from_name("RTMAX") == 64);
    REQUIRE(signal_from_name("SIGRTMAX-2") == 62);
}

TEST_CASE("bad signal names are refused")
{
    REQUIRE_FALSE(signal_from_name(""));
    REQUIRE_FALSE(signal_from_name("0"));
    REQUIRE_FALSE(signal_from_name("65"));
    REQUIRE_FALSE(signal_from_name("SIGFOO"));
    REQUIRE_FALSE(signal_from_name("RTMIN+40"));
    REQUIRE_FALSE(signal_from_name("RTMAX+1"));
    REQUIRE_FALSE(signal_from_name("-15"));
    REQUIRE_FALSE(signal_from_name("SIG"));
}

TEST_CASE("every signal 1..64 has a name that parses back to it")
{
    for (int sig = 1; sig <= k_max_signal; ++sig) {
        const auto name = signal_name(sig);
        INFO(name);
        REQUIRE(signal_from_name(name) == sig);
    }
}

TEST_CASE("forwarding policy")
{
    // Ordinary signals always, whatever their origin (SIGWINCH/SIGHUP come from the tty driver).
    REQUIRE(should_forward(SIGTERM, 0));
    REQUIRE(should_forward(SIGWINCH, 0x80));
    REQUIRE(should_forward(SIGHUP, 0x80));
    REQUIRE(should_forward(SIGTSTP, 0));
    REQUIRE(should_forward(SIGTTIN, 0));
    REQUIRE(should_forward(SIGTTOU, 0));
    REQUIRE(should_forward(32, 0));
    REQUIRE(should_forward(64, -1));
    // Synchronous signals only when a process sent them.
    for (const int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS}) {
        REQUIRE(is_synchronous_signal(sig));
        REQUIRE(should_forward(sig, 0));  // SI_USER
        REQUIRE(should_forward(sig, -1)); // SI_QUEUE
        REQUIRE(should_forward(sig, -6)); // SI_TKILL
        REQUIRE_FALSE(should_forward(sig, 1));
    }
    REQUIRE_FALSE(should_forward(SIGCHLD, 0));
    REQUIRE_FALSE(should_forward(SIGKILL, 0));
    REQUIRE_FALSE(should_forward(SIGSTOP, 0));
    REQUIRE_FALSE(should_forward(0, 0));
    REQUIRE_FALSE(should_forward(65, 0));
}
