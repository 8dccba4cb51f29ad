// SPDX-License-Identifier: MIT
#include <agent/transcript/typed.hpp>

#include <catch2/catch.hpp>

namespace tr = execmark::transcript;

TEST_CASE("typed ahead: the echo text of queued input, as a terminal shows it")
{
    CHECK(tr::typed_echo_text("ls -l\n", true, true) == "ls -l\n");
    CHECK(tr::typed_echo_text("a\rb\tc", true, true) == "a\nb\tc");
    CHECK(tr::typed_echo_text("x\x01y\x7f", true, true) == "x^Ay^?");
    CHECK(tr::typed_echo_text("x\x01y", true, false) == "xy");
    CHECK(tr::typed_echo_text(std::string("x\0y", 3), true, true) == "xy"); // an EOF key's mark
    CHECK(tr::typed_echo_text("secret\n", false, true).empty());            // no ECHO: not shown
}

TEST_CASE("typed ahead: what the echo left, erases applied")
{
    CHECK(tr::echo_left("ls\r") == std::nullopt); // a CR not ending a line is output
    CHECK(tr::echo_left("lx\b \bs -l\n") == std::optional<std::string>("ls -l\n"));
    // An erase removes one character, a whole UTF-8 sequence.
    CHECK(tr::echo_left("caf\xC3\xA9\b \be") == std::optional<std::string>("cafe"));
    // Control sequences show nothing; other escapes and controls are output, not echo.
    CHECK(tr::echo_left("\x1b[?2004hls\x1b[?2004l\n") == std::optional<std::string>("ls\n"));
    CHECK(tr::echo_left("\x1b]0;title\x07") == std::nullopt);
    CHECK(tr::echo_left("a\x07") == std::nullopt);
    CHECK(tr::echo_left("\x1b[3") == std::nullopt); // cut sequence
    // An erase cannot cross a line end (a terminal's echo never does).
    CHECK(tr::echo_left("ab\n\b \b") == std::nullopt);
    CHECK(tr::echo_left("") == std::optional<std::string>(""));
}

TEST_CASE("typed ahead: the digest ignores empty lines, and changes with any text")
{
    const std::string d = tr::typed_digest("ls\nid");
    CHECK(d.size() == 64);
    CHECK(tr::typed_digest("\nls\n\n\nid\n") == d);
    CHECK(tr::typed_digest("ls\nid ") != d);
    CHECK(tr::typed_digest("lsid") != d);
    CHECK(tr::typed_digest("") == tr::typed_digest("\n\n"));
    // The recorder's side and the auditor's meet: queued input, its echo shown with an erase.
    const std::string queued = "whoami\nls";
    const auto left = tr::echo_left("whoamx\b \bi\nls");
    REQUIRE(left);
    CHECK(tr::typed_digest(*left) == tr::typed_digest(tr::typed_echo_text(queued, true, true)));
}
