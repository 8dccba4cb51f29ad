// SPDX-License-Identifier: MIT
#include <agent/transcript/transcript.hpp>

#include <catch2/catch.hpp>
#include <sodium.h>

#include <cstring>
#include <string>

using namespace execmark::transcript;

namespace {

// The chain step written out from its definition in docs/markers.md.
Hash step(const Hash& prev, std::string_view segment, std::uint64_t offset, std::uint64_t index)
{
    std::string input(k_chain_context);
    input.push_back('\0');
    input.append(reinterpret_cast<const char*>(prev.data()), prev.size());
    input.append(segment);
    for (int i = 0; i < 8; ++i) {
        input.push_back(static_cast<char>(offset >> (8 * i)));
    }
    for (int i = 0; i < 8; ++i) {
        input.push_back(static_cast<char>(index >> (8 * i)));
    }
    Hash out{};
    crypto_generichash(out.data(),
                       out.size(),
                       reinterpret_cast<const unsigned char*>(input.data()),
                       input.size(),
                       nullptr,
                       0);
    return out;
}

} // namespace

TEST_CASE("chain: each checkpoint hashes the previous one, its segment, offset and index")
{
    Chain chain;
    chain.update("hello ");
    chain.update("world\n");
    const Checkpoint one = chain.checkpoint();
    const Checkpoint two = chain.checkpoint(); // empty segment
    chain.update("$ ");
    const Checkpoint three = chain.checkpoint();

    const Hash h1 = step(Hash{}, "hello world\n", 12, 1);
    const Hash h2 = step(h1, "", 12, 2);
    const Hash h3 = step(h2, "$ ", 14, 3);
    CHECK(one == Checkpoint{1, 12, h1});
    CHECK(two == Checkpoint{2, 12, h2});
    CHECK(three == Checkpoint{3, 14, h3});
    CHECK(to_hex(h1).size() == 64);
}

TEST_CASE("chain: the same bytes with checkpoints at other offsets give other hashes")
{
    Chain a;
    a.update("abcdef");
    a.checkpoint();
    Chain b;
    b.update("abc");
    b.checkpoint();
    b.update("def");
    CHECK(a.checkpoint().hash != b.checkpoint().hash);
}

TEST_CASE("fingerprint: checkpoints cover only what is normalised so far")
{
    Fingerprint fp;
    fp.feed("line\r");
    const Checkpoint mid = fp.checkpoint();
    CHECK(mid.offset == 4); // the CR waits for what follows
    fp.feed("\n");
    const Checkpoint end = fp.finish();
    CHECK(end.offset == 5);
    CHECK(fp.raw_bytes() == 0); // reset by finish

    Recomputer again({4, 5});
    again.normalised("line\n");
    REQUIRE(again.checkpoints().size() == 2);
    CHECK(again.checkpoints()[0] == mid);
    CHECK(again.checkpoints()[1] == end);
}

TEST_CASE("recomputer: offsets at 0, repeated offsets, and offsets beyond the data")
{
    Chain chain;
    const Checkpoint c1 = chain.checkpoint();
    chain.update("ab");
    const Checkpoint c2 = chain.checkpoint();
    const Checkpoint c3 = chain.checkpoint();

    Recomputer re({0, 2, 2, 10});
    CHECK(re.checkpoints().size() == 1);
    re.normalised("a");
    re.normalised("bcd");
    REQUIRE(re.checkpoints().size() == 3);
    CHECK(re.checkpoints()[0] == c1);
    CHECK(re.checkpoints()[1] == c2);
    CHECK(re.checkpoints()[2] == c3);
    CHECK(re.offset() == 4);
}
