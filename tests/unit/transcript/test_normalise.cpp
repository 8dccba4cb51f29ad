// SPDX-License-Identifier: MIT
#include <agent/transcript/transcript.hpp>

#include <catch2/catch.hpp>

#include <string>

using execmark::transcript::normalise;
using execmark::transcript::Normaliser;

namespace {

const std::string k_fffd = "\xEF\xBF\xBD";

} // namespace

TEST_CASE("normalise: a run of CRs before LF becomes the LF, and other CRs stay")
{
    CHECK(normalise("a\r\nb") == "a\nb");
    CHECK(normalise("a\r\r\r\nb") == "a\nb");
    CHECK(normalise("a\nb") == "a\nb");
    // A CR that is not followed by LF overwrites the line on a terminal: visible, kept.
    CHECK(normalise("secret\rpublic\r\n") == "secret\rpublic\n");
    CHECK(normalise("a\r\rb") == "a\r\rb");
    CHECK(normalise("\n\r\n\r") == "\n\n");
}

TEST_CASE("normalise: CRs at the end of the stream are dropped")
{
    CHECK(normalise("prompt$ \r\r") == "prompt$ ");
    CHECK(normalise("\r") == "");
}

TEST_CASE("normalise: ill-formed UTF-8 and adjacent U+FFFD become one U+FFFD")
{
    CHECK(normalise("\xff") == k_fffd);
    CHECK(normalise("a\xff\xfe\x80z") == "a" + k_fffd + "z");
    CHECK(normalise("a" + k_fffd + "\xff" + k_fffd + "b") == "a" + k_fffd + "b");
    // Overlong, surrogate, above U+10FFFF, truncated.
    CHECK(normalise("\xC0\xAF") == k_fffd);
    CHECK(normalise("\xED\xA0\x80") == k_fffd);
    CHECK(normalise("\xF4\x90\x80\x80") == k_fffd);
    CHECK(normalise("\xE2\x82") == k_fffd);
    CHECK(normalise("\xE2\x82x") == k_fffd + "x");
    // Two runs separated by a character stay two.
    CHECK(normalise("\xff.\xff") == k_fffd + "." + k_fffd);
    // A CR between two bad runs is a character (not before LF).
    CHECK(normalise("\xff\r\xff") == k_fffd + "\r" + k_fffd);
    CHECK(normalise("\xff\r\n\xff") == k_fffd + "\n" + k_fffd);
}

TEST_CASE("normalise: well-formed text, escape sequences and controls are unchanged")
{
    const std::string text =
        "\x1b[1;31mERROR\x1b[0m \xC3\xA9t\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"
        "\x08\x07\t\x00\x7f\x1b[?2004h";
    CHECK(normalise(text) == text);
    const std::string with_nul("a\0b", 3);
    CHECK(normalise(with_nul) == with_nul);
}

TEST_CASE("normalise: byte-by-byte feeding gives the same result")
{
    const std::string raw = "x\r\r\ny\xE2\x82\xAC\xE2\x82\r\n\xff\xEF\xBF\xBDz\r";
    Normaliser normaliser;
    std::string out;
    for (const char c : raw) {
        normaliser.feed(std::string_view(&c, 1), out);
    }
    CHECK(normaliser.raw_bytes() == raw.size());
    normaliser.finish(out);
    CHECK(out == normalise(raw));
    CHECK(out == "x\ny\xE2\x82\xAC" + k_fffd + "\n" + k_fffd + "z");
}

TEST_CASE("normalise: held-back bytes are not emitted until decided")
{
    Normaliser normaliser;
    std::string out;
    normaliser.feed("ab\r", out);
    CHECK(out == "ab");
    normaliser.feed("\xE2\x82", out);
    CHECK(out == "ab"); // an incomplete character: still undecided
    normaliser.feed("\xAC", out);
    CHECK(out == "ab\r\xE2\x82\xAC");
}
