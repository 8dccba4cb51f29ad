// SPDX-License-Identifier: MIT
#include <agent/init/exit_status.hpp>

#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cerrno>
#include <csignal>

using namespace execmark::init;

namespace {
// Builds a wait status the way the kernel encodes it.
int exited(int code)
{
    return (code & 0xff) << 8;
}

int signaled(int sig)
{
    return sig & 0x7f;
}
} // namespace

TEST_CASE("exit codes pass through for every value 0..255")
{
    for (int code = 0; code < 256; ++code) {
        REQUIRE(exit_code_from_wait_status(exited(code)) == code);
    }
}

TEST_CASE("signal deaths map to 128 + signal")
{
    REQUIRE(exit_code_from_wait_status(signaled(SIGTERM)) == 143);
    REQUIRE(exit_code_from_wait_status(signaled(SIGKILL)) == 137);
    REQUIRE(exit_code_from_wait_status(signaled(SIGSEGV)) == 139);
    REQUIRE(exit_code_from_wait_status(signaled(64)) == 192);
    REQUIRE(exit_code_from_wait_status(signaled(SIGINT) | 0x80) == 130); // core dumped
}

TEST_CASE("exit-code remap (-e) changes only the listed codes")
{
    ExitRemap remap;
    remap.set(143);
    remap.set(3);
    REQUIRE(apply_remap(143, remap) == 0);
    REQUIRE(apply_remap(3, remap) == 0);
    REQUIRE(apply_remap(137, remap) == 137);
    REQUIRE(apply_remap(0, remap) == 0);
    REQUIRE(apply_remap(-1, remap) == -1);
}

TEST_CASE("exec errors: 127 not found, 126 not executable")
{
    REQUIRE(exit_code_for_exec_error(ENOENT) == 127);
    REQUIRE(exit_code_for_exec_error(ENOTDIR) == 127);
    REQUIRE(exit_code_for_exec_error(EACCES) == 126);
    REQUIRE(exit_code_for_exec_error(ENOEXEC) == 126);
    REQUIRE(exit_code_for_exec_error(EPERM) == 126);
}
