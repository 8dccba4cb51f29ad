// SPDX-License-Identifier: MIT
#include <agent/audit/input.hpp>

#include <catch2/catch.hpp>
#include <zlib.h>

#include <string>

using namespace execmark::audit;

namespace {

std::string gzip(const std::string& data)
{
    z_stream z{};
    REQUIRE(deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    std::string out(deflateBound(&z, static_cast<uLong>(data.size())) + 64, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(data.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

std::string read_all(Input& in)
{
    std::string out;
    std::array<char, 7> buf{}; // small reads on purpose
    for (;;) {
        auto got = in.read(buf);
        REQUIRE(got.ok());
        if (*got == 0) {
            return out;
        }
        out.append(buf.data(), *got);
    }
}

} // namespace

TEST_CASE("input: plain bytes pass through, peek does not consume")
{
    const std::string text = "Script started on x\nhello\n";
    auto in = Input::from_memory("mem", text);
    REQUIRE(in.ok());
    CHECK_FALSE(in->gzip());
    auto head = in->peek(6);
    REQUIRE(head.ok());
    CHECK(*head == "Script");
    CHECK(read_all(*in) == text);
}

TEST_CASE("input: gzip is detected by its magic, whatever the name")
{
    std::string big;
    for (int i = 0; i < 20000; ++i) {
        big += "line " + std::to_string(i) + "\n";
    }
    const std::string gz = gzip(big);
    auto in = Input::from_memory("no-extension", gz);
    REQUIRE(in.ok());
    CHECK(in->gzip());
    auto head = in->peek(6);
    REQUIRE(head.ok());
    CHECK(*head == "line 0");
    CHECK(read_all(*in) == big);
    CHECK(in->raw_bytes() == gz.size());
}

TEST_CASE("input: multi-member gzip is read whole, and garbage after it is an error")
{
    const std::string two = gzip("first\n") + gzip("second\n");
    auto in = Input::from_memory("two.gz", two);
    REQUIRE(in.ok());
    CHECK(read_all(*in) == "first\nsecond\n");

    const std::string bad = gzip("first\n") + "trailing";
    auto in2 = Input::from_memory("bad.gz", bad);
    REQUIRE(in2.ok());
    std::array<char, 4096> buf{};
    bool failed = false;
    for (int i = 0; i < 10 && !failed; ++i) {
        auto got = in2->read(buf);
        if (!got) {
            failed = true;
            CHECK(got.error().message.find("decompress bad.gz") == 0);
        } else if (*got == 0) {
            break;
        }
    }
    CHECK(failed);
}

TEST_CASE("input: truncated and corrupt gzip are errors")
{
    const std::string gz = gzip(std::string(10000, 'a') + "tail");
    auto cut = Input::from_memory("cut.gz", std::string_view(gz).substr(0, gz.size() / 2));
    REQUIRE(cut.ok());
    std::array<char, 65536> buf{};
    auto got = cut->read(buf);
    while (got.ok() && *got > 0) {
        got = cut->read(buf);
    }
    CHECK_FALSE(got.ok());

    std::string corrupt = gz;
    corrupt[12] = static_cast<char>(corrupt[12] ^ 0x55);
    corrupt[13] = static_cast<char>(corrupt[13] ^ 0x55);
    auto bad = Input::from_memory("corrupt.gz", corrupt);
    REQUIRE(bad.ok());
    got = bad->read(buf);
    while (got.ok() && *got > 0) {
        got = bad->read(buf);
    }
    CHECK_FALSE(got.ok());
}

TEST_CASE("input: a missing file is an error in the house shape")
{
    auto in = Input::open("/nonexistent/ecs-execute-command-x.log");
    REQUIRE_FALSE(in.ok());
    CHECK(in.error().message.rfind("open /nonexistent/ecs-execute-command-x.log: ", 0) == 0);
}
