// SPDX-License-Identifier: MIT
#include <agent/transcript/transcript.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <tests/unit/transcript/ssm_model.hpp>
#include <vector>

using namespace execmark::transcript;

TEST_CASE("typescript: header, ONLCR and footer of real util-linux script output are undone")
{
    // Bytes of `script t.log -c "cat r.bin" </dev/null` (util-linux 2.38.1) for r.bin =
    // "a\r\nb\nc\r\r\nd\re\x04\xff\xe2\x82" (recorded on Debian 12).
    const std::string file =
        "Script started on 2026-12-05 14:32:08+00:00 [COMMAND=\"cat /tmp/r.bin\" <not executed "
        "on terminal>]\na\r\r\nb\r\nc\r\r\r\nd\re\x04\xff\xe2\x82\nScript done on 2026-12-05 "
        "14:32:08+00:00 [COMMAND_EXIT_CODE=\"0\"]\n";
    StringSink sink;
    TypescriptReader reader(sink);
    reader.feed(file);
    reader.finish();
    CHECK(reader.header_seen());
    CHECK(reader.footer_seen());
    CHECK(sink.text() == normalise("a\r\nb\nc\r\r\nd\re\x04\xff\xe2\x82"));
}

TEST_CASE("typescript: a file without framing is normalised whole")
{
    CHECK(normalise_typescript("no header\r\n") == "no header\n");
    CHECK(normalise_typescript("Script started on x") == "Script started on x");
    // Only the footer at the very end is framing; one in the middle is output.
    CHECK(normalise_typescript("a\nScript done on x\nb\n") == "a\nScript done on x\nb\n");
}

TEST_CASE("typescript: chunked feeding finds header and footer across chunk boundaries")
{
    const std::string raw = std::string(20000, 'x') + "\r\nend\r\n";
    const std::string file = model::typescript(raw);
    for (const std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{4096}}) {
        StringSink sink;
        TypescriptReader reader(sink);
        for (std::size_t pos = 0; pos < file.size(); pos += chunk) {
            reader.feed(std::string_view(file).substr(pos, chunk));
        }
        reader.finish();
        CHECK(reader.header_seen());
        CHECK(reader.footer_seen());
        CHECK(sink.text() == normalise(raw));
    }
}

TEST_CASE("cloudwatch: events of whole lines get their dropped LF back")
{
    const std::string raw = "$ ls\r\nA  B\r\n$ exit\r\n";
    const auto events = model::cloudwatch_events(model::typescript(raw));
    REQUIRE(events.size() == 1);
    CHECK(events[0].find("\r\r") == std::string::npos); // CR CR LF -> CR LF
    CHECK(normalise_cloudwatch(events) == normalise(raw));
}

TEST_CASE("cloudwatch: a line cut into 200,000-byte pieces is joined without LF")
{
    // In the typescript the z line is 399,998 bytes + CR CR LF, the w line 399,999 + CR LF:
    // both second pieces end in CR and the next event starts with LF.
    const std::string raw = "$ cat big\r\n" + std::string(399998, 'z') + "\r\n"
                            + std::string(399999, 'w') + "\n" + "tail\r";
    const std::string file = model::typescript(raw);
    const auto events = model::cloudwatch_events(file);
    int cut_before_lf = 0;
    for (std::size_t i = 0; i + 1 < events.size(); ++i) {
        if (is_cloudwatch_piece(events[i]) && events[i].back() == '\r'
            && (events[i + 1].empty() || events[i + 1].front() == '\n')) {
            ++cut_before_lf;
        }
    }
    CHECK(cut_before_lf == 2);
    CHECK(normalise_cloudwatch(events) == normalise(raw));
}

TEST_CASE("cloudwatch: an event that is not a piece is never taken for one")
{
    CHECK_FALSE(is_cloudwatch_piece(std::string(k_cloudwatch_event_bytes - 1, 'a')));
    CHECK_FALSE(is_cloudwatch_piece(std::string(k_cloudwatch_event_bytes, 'a') + "\n"));
    CHECK(is_cloudwatch_piece(std::string(k_cloudwatch_event_bytes, 'a')));
}

TEST_CASE("cloudwatch: known limit: a character cut by a piece boundary is lost to U+FFFD")
{
    // CloudWatch replaces each half of the cut character separately; nothing can restore it,
    // so the fingerprint of that region differs (docs/markers.md, "Content fingerprint").
    const std::string raw =
        std::string(k_cloudwatch_event_bytes - 1, 'e') + "\xE2\x82\xAC" + "more\r\n";
    const auto events = model::cloudwatch_events(model::typescript(raw));
    CHECK(normalise_cloudwatch(events) != normalise(raw));
    CHECK(normalise_typescript(model::typescript(raw)) == normalise(raw));
}
