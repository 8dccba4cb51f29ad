// SPDX-License-Identifier: MIT
#include <agent/audit/content.hpp>
#include <agent/audit/screen.hpp>
#include <agent/audit/timeline.hpp>

#include <catch2/catch.hpp>

using namespace execmark::audit;
using Lines = std::vector<std::string>;

TEST_CASE("screen: CR, backspace, tab and erase apply, colours and titles are dropped")
{
    CHECK(render_screen("progress 10%\rprogress 20%\rdone\n") == Lines{"doneress 20%"});
    CHECK(render_screen("abc\b\bX\n") == Lines{"aXc"});
    CHECK(render_screen("a\tb\n") == Lines{"a       b"});
    CHECK(render_screen("\x1b[1;31mERROR\x1b[0m disk\n") == Lines{"ERROR disk"});
    CHECK(render_screen("\x1b]0;title\x07prompt$ \x1b]2;t\x1b\\ls\n") == Lines{"prompt$ ls"});
    CHECK(render_screen("hello world\r\x1b[6C\x1b[Kthere\n") == Lines{"hello there"});
    CHECK(render_screen("abcdef\x1b[3D\x1b[1P\n") == Lines{"abcef"});
    CHECK(render_screen("tail\x1b[2K\rnew\n") == Lines{"new"});
    CHECK(render_screen("Zo\xC3\xAB \xE6\xBC\xA2\n") == Lines{"Zo\xC3\xAB \xE6\xBC\xA2"});
    CHECK(render_screen("bad \xFF byte") == Lines{"bad \xEF\xBF\xBD byte"});
    CHECK(render_screen(std::string_view("\x07\x00x", 3)) == Lines{"x"});
}

TEST_CASE("screen: a full-screen program is one line")
{
    const Lines lines =
        render_screen("$ vi x\n\x1b[?1049h\x1b[H\x1b[2Jfile text\n~\n\x1b[?1049l$ next");
    REQUIRE(lines.size() == 3);
    CHECK(lines[0] == "$ vi x");
    CHECK(lines[1].starts_with("[full-screen program: "));
    CHECK(lines[2] == "$ next");
    CHECK(render_screen("\x1b[?1049hstill").back().find("still running") != std::string::npos);
}

TEST_CASE("screen: long lines are bounded")
{
    const Lines lines = render_screen(std::string(10000, 'y') + "\n");
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].size() == k_max_line_cells + 3); // and "…"
}

TEST_CASE("timeline: commands at Enter checkpoints, output between, states")
{
    ContentVerdict v;
    v.checked = true;
    v.region = "motd\n$ ls\nREADME\n\x1b[32mgreen\x1b[0m\n$ vi\n\x1b[?1049hxx\x1b[?1049l$ exit";
    v.region_bytes = v.region.size();
    const auto at = [&](const std::string& needle, std::size_t extra) {
        return static_cast<std::uint64_t>(v.region.find(needle) + extra);
    };
    const auto point = [](std::uint64_t idx, const char* kind, std::uint64_t off, CheckState s) {
        CheckedPoint c;
        c.point.idx = idx;
        c.point.kind = kind;
        c.point.off = off;
        c.point.ts = "2026-03-02T09:00:0" + std::to_string(idx) + ".000Z";
        c.state = s;
        return c;
    };
    v.points = {point(1, "enter", at("$ ls", 4), CheckState::verified),
                point(2, "idle", at("$ vi", 2), CheckState::verified),
                point(3, "enter", at("$ vi", 4), CheckState::diverged),
                point(4, "enter", v.region.size(), CheckState::diverged),
                point(5, "end", v.region.size(), CheckState::diverged)};
    const Timeline t = build_timeline("sid", "s.log", v, nullptr);
    REQUIRE(t.entries.size() == 4);
    CHECK_FALSE(t.entries[0].enter);
    CHECK(t.entries[0].output == Lines{"motd"});
    CHECK(t.entries[1].command == "$ ls");
    CHECK(t.entries[1].output == Lines{"README", "green"});
    CHECK(t.entries[1].output_state == CheckState::verified);
    CHECK(t.entries[2].command == "$ vi");
    CHECK(t.entries[2].enter->state == CheckState::diverged);
    CHECK(t.entries[2].output.size() == 1);
    CHECK(t.entries[2].output[0].starts_with("[full-screen program: "));
    CHECK(t.entries[3].command == "$ exit");
    const std::string text = render_timeline_text(t);
    CHECK(text.find('\x1b') == std::string::npos);
    CHECK(text.find("2026-03-02T09:00:01.000Z  #1 verified  $ ls") != std::string::npos);
    const std::string json = render_timeline_json(t);
    CHECK(json.find("\"type\":\"timeline\"") != std::string::npos);
    CHECK(json.find("\"state\":\"diverged\"") != std::string::npos);
}

TEST_CASE("timeline: a line typed ahead is echoed after its Enter and still is the command")
{
    // Pasted (or typed faster than the shell reads): at the Enter's offset the screen shows only
    // the prompt; the shell echoes the line after reading it. The command is that line.
    ContentVerdict v;
    v.checked = true;
    v.region = "$ echo hi\r\nhi\r\n$ ";
    v.region_bytes = v.region.size();
    CheckedPoint enter;
    enter.point.idx = 1;
    enter.point.kind = "enter";
    enter.point.off = 2; // right after "$ "
    enter.point.ts = "2026-03-02T09:00:01.000Z";
    enter.state = CheckState::verified;
    v.points = {enter};
    const Timeline t = build_timeline("sid", "s.log", v, nullptr);
    REQUIRE(t.entries.size() == 1);
    CHECK(t.entries[0].command == "$ echo hi");
    CHECK(t.entries[0].output == Lines{"hi", "$"}); // trailing blanks are not shown
}
