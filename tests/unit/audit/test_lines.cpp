// SPDX-License-Identifier: MIT
#include "helpers.hpp"

#include <agent/audit/lines.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <string>

using namespace execmark::audit;
using execmark::audit::test::Collect;
using execmark::audit::test::TestBoot;

namespace {

Collect scan_in_chunks(const std::string& text, std::size_t chunk)
{
    Collect out;
    TextScanner scanner(out);
    for (std::size_t i = 0; i < text.size(); i += chunk) {
        scanner.feed(std::string_view(text).substr(i, chunk));
    }
    scanner.finish();
    return out;
}

} // namespace

TEST_CASE("lines: candidates are the tails of lines holding EXECMARK1, at any chunking")
{
    const std::string text =
        "Script started on x\n$ ls\r\r\nfoo EXECMARK1 {\"a\":1} ed25519=x\r\r\n"
        "plain\nEXECMARK1 second\nlast EXECMARK1 no newline";
    for (std::size_t chunk : {1, 2, 3, 7, 9, 10, 64, 4096}) {
        INFO("chunk " << chunk);
        const Collect c = scan_in_chunks(text, chunk);
        REQUIRE(c.lines.size() == 3);
        CHECK(c.lines[0] == "EXECMARK1 {\"a\":1} ed25519=x\r\r");
        CHECK(c.where[0].line == 3);
        CHECK(c.lines[1] == "EXECMARK1 second");
        CHECK(c.where[1].line == 5);
        CHECK(c.lines[2] == "EXECMARK1 no newline");
        CHECK(c.where[2].line == 6);
    }
}

TEST_CASE("lines: a magic split between chunks is found, partial magics are not")
{
    const Collect c = scan_in_chunks("abcEXECMA", 100);
    CHECK(c.lines.empty());
    Collect d;
    TextScanner s(d);
    s.feed("xxEXEC");
    s.feed("MA");
    s.feed("RK1 tail\nEXECMARK");
    s.feed("\n");
    s.finish();
    REQUIRE(d.lines.size() == 1);
    CHECK(d.lines[0] == "EXECMARK1 tail");
}

TEST_CASE("lines: very long lines keep only a bounded tail")
{
    std::string line = "EXECMARK1 {" + std::string(100000, 'a') + "}\n";
    const Collect c = scan_in_chunks(line, 8192);
    REQUIRE(c.lines.size() == 1);
    CHECK(c.lines[0].size() == k_window_bytes);
    CHECK(c.lost[0]);

    // A marker at the end of a huge line survives.
    std::string tail_marker =
        std::string(300000, 'x') + "EXECMARK1 {\"v\":1} unsigned=no-agent\r\r\n";
    const Collect d = scan_in_chunks(tail_marker, 65536);
    REQUIRE(d.lines.size() == 1);
    CHECK(d.lines[0] == "EXECMARK1 {\"v\":1} unsigned=no-agent\r\r");
    CHECK_FALSE(d.lost[0]);
}

TEST_CASE("events: a marker split across CloudWatch events is rejoined")
{
    TestBoot boot;
    const std::string marker = boot.next("open", "ecs-execute-command-x");
    for (std::size_t cut = 1; cut < marker.size(); cut += 13) {
        INFO("cut at " << cut);
        Collect c;
        EventLines ev(c);
        ev.event("line one\r\n$ prompt " + marker.substr(0, cut));
        ev.event(marker.substr(cut) + "\r\nnext line");
        ev.event("EXECMARK1 {\"other\":1} unsigned=no-agent");
        ev.finish();
        REQUIRE(c.lines.size() == 2);
        CHECK(c.lines[0] == marker + "\r");
        CHECK(c.where[0].event == 2);
        CHECK(c.lines[1] == "EXECMARK1 {\"other\":1} unsigned=no-agent");
    }
}

TEST_CASE("events: a split inside the magic itself, and a three-way split")
{
    TestBoot boot;
    const std::string marker = boot.next("open", "ecs-execute-command-x");
    Collect c;
    EventLines ev(c);
    ev.event("prompt EXEC");
    ev.event(marker.substr(4, 300));
    ev.event(marker.substr(304) + "\nafter");
    ev.finish();
    REQUIRE(c.lines.size() == 1);
    CHECK(c.lines[0] == marker);
}

TEST_CASE("events: a boundary after a complete marker is a line boundary")
{
    TestBoot boot;
    const std::string open = boot.next("open", "ecs-execute-command-x");
    const std::string close = boot.next("close", "ecs-execute-command-x");
    Collect c;
    EventLines ev(c);
    ev.event("banner\n" + open + "\r");
    ev.event("root@host:/# ls\nfile");
    ev.event(close);
    ev.event("Script done on x");
    ev.finish();
    REQUIRE(c.lines.size() == 2);
    CHECK(c.lines[0] == open + "\r");
    CHECK(c.lines[1] == close);
}

TEST_CASE("events: a mangled tail that the next event does not complete stays alone")
{
    Collect c;
    EventLines ev(c);
    ev.event("EXECMARK1 {\"a\":1} ed25519=short");
    ev.event("unrelated\nmore");
    ev.finish();
    REQUIRE(c.lines.size() == 1);
    CHECK(c.lines[0] == "EXECMARK1 {\"a\":1} ed25519=short");
}

TEST_CASE("lines: line numbers stay exact over large inputs")
{
    std::string text;
    for (int i = 1; i <= 20000; ++i) {
        text +=
            i == 7777 || i == 19999 ? "x EXECMARK1 here\r\n" : "line " + std::to_string(i) + "\n";
    }
    for (std::size_t chunk : {4096, 65536, 1 << 20, 333}) {
        INFO("chunk " << chunk);
        const Collect c = scan_in_chunks(text, chunk);
        REQUIRE(c.lines.size() == 2);
        CHECK(c.where[0].line == 7777);
        CHECK(c.where[1].line == 19999);
    }
}

TEST_CASE("find_magic and count_newlines agree with the plain searches at every alignment")
{
    std::mt19937 rng(91);
    const std::string alphabet = "EXECMARK1 \n\r{}ab";
    for (int round = 0; round < 3000; ++round) {
        std::string text;
        const std::size_t size = std::uniform_int_distribution<std::size_t>(0, 120)(rng);
        while (text.size() < size) {
            if (rng() % 9 == 0) {
                text += rng() % 2 == 0 ? "EXECMARK1" : "EXECMARK"; // whole, or one short
            } else {
                text.push_back(alphabet[rng() % alphabet.size()]);
            }
        }
        const std::size_t from = std::uniform_int_distribution<std::size_t>(0, size + 1)(rng);
        CAPTURE(text, from);
        const std::size_t want =
            from > text.size() ? std::string::npos : text.find("EXECMARK1", from);
        CHECK(find_magic(text, from) == want);
        CHECK(count_newlines(text)
              == static_cast<std::uint64_t>(std::count(text.begin(), text.end(), '\n')));
    }
}
