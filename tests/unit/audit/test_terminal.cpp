// SPDX-License-Identifier: MIT
#include <agent/audit/terminal.hpp>

#include <catch2/catch.hpp>

using execmark::audit::strip_terminal_controls;

TEST_CASE("terminal: CSI, OSC and CRs are removed")
{
    CHECK(strip_terminal_controls("\x1b[01;34mdir\x1b[0m\r\r") == "dir");
    CHECK(strip_terminal_controls("\x1b]0;root@host: ~\x07$ ls") == "$ ls");
    CHECK(strip_terminal_controls("\x1b]0;title\x1b\\after") == "after");
    CHECK(strip_terminal_controls("\x1b[?2004hroot# \x1b[?2004l\r") == "root# ");
    CHECK(strip_terminal_controls("a\x1b(Bb\x1b=c") == "abc");
    CHECK(strip_terminal_controls("\x1bPdcs data\x1b\\x") == "x");
    CHECK(strip_terminal_controls("progress 50%\rdone") == "progress 50%done");
}

TEST_CASE("terminal: UTF-8 and C1-looking bytes are kept")
{
    const std::string text = "caf\xc3\xa9 \xe2\x80\x9cq\xe2\x80\x9d \xc2\x85";
    CHECK(strip_terminal_controls(text) == text);
}

TEST_CASE("terminal: an unterminated sequence never swallows what follows")
{
    CHECK(strip_terminal_controls("\x1b]0;no terminator EXECMARK1 {}")
          == "0;no terminator EXECMARK1 {}");
    CHECK(strip_terminal_controls("x\x1b") == "x");
    CHECK(strip_terminal_controls("\x1b[12") == "");
    CHECK(strip_terminal_controls("\x1b[1\x01m") == "\x01m");
}
