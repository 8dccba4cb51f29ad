// SPDX-License-Identifier: MIT
// The replaced terminate handler (agent/util/terminate.cpp), exercised in a forked child that
// dies through std::terminate: what it writes to stderr, and that it aborts.
#include <agent/util/terminate.hpp>

#include <catch2/catch.hpp>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <exception>
#include <stdexcept>
#include <string>

namespace {

struct Death {
    int signal = 0;
    std::string stderr_text;
};

// Runs body in a child whose stderr is a pipe; body must end the child through terminate.
template <typename Body>
Death die_in_child(Body body)
{
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        const rlimit no_core{0, 0};
        ::setrlimit(RLIMIT_CORE, &no_core); // an abort is the expected outcome, not a crash
        ::signal(SIGABRT, SIG_DFL);         // not Catch's handler: it would report a failure
        ::dup2(fds[1], STDERR_FILENO);
        ::close(fds[0]);
        ::close(fds[1]);
        body();
        ::_exit(0); // body returned: the test sees no signal
    }
    ::close(fds[1]);
    Death d;
    char buf[512];
    ssize_t n = 0;
    while ((n = ::read(fds[0], buf, sizeof buf)) > 0) {
        d.stderr_text.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fds[0]);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    if (WIFSIGNALED(status)) {
        d.signal = WTERMSIG(status);
    }
    return d;
}

// The throws below are meant to reach std::terminate.
#pragma GCC diagnostic ignored "-Wterminate"

void throw_through_noexcept(bool std_exception) noexcept
{
    // An exception leaving a noexcept function calls std::terminate with it active.
    if (std_exception) {
        throw std::runtime_error("metadata document vanished");
    }
    throw 42;
}

// what() is noexcept: the throw inside it terminates again, in the middle of the first report.
struct ThrowingWhat : std::exception {
    const char* what() const noexcept override { throw std::runtime_error("no words"); }
};

} // namespace

TEST_CASE("terminate with a std::exception names its type and what(), then aborts")
{
    const Death d = die_in_child([] { throw_through_noexcept(true); });
    REQUIRE(d.signal == SIGABRT);
    REQUIRE(d.stderr_text
            == "terminate called after throwing an exception of type 'St13runtime_error'\n"
               "  what():  metadata document vanished\n");
}

TEST_CASE("terminate with another exception names its type only")
{
    const Death d = die_in_child([] { throw_through_noexcept(false); });
    REQUIRE(d.signal == SIGABRT);
    REQUIRE(d.stderr_text == "terminate called after throwing an exception of type 'i'\n");
}

TEST_CASE("terminate without an exception says so")
{
    const Death d = die_in_child([] { std::terminate(); });
    REQUIRE(d.signal == SIGABRT);
    REQUIRE(d.stderr_text == "terminate called without an active exception\n");
}

TEST_CASE("a what() that throws ends the report with \"called recursively\"")
{
    const Death d = die_in_child([] {
        try {
            throw ThrowingWhat();
        } catch (...) {
            std::terminate();
        }
    });
    REQUIRE(d.signal == SIGABRT);
    REQUIRE(d.stderr_text.starts_with("terminate called after throwing an exception of type '"));
    REQUIRE(d.stderr_text.ends_with("ThrowingWhatE'\n  what():  terminate called recursively\n"));
}
