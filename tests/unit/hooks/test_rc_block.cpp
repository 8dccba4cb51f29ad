// SPDX-License-Identifier: MIT
#include <agent/hooks/hooks.hpp>

#include <catch2/catch.hpp>

using namespace execmark::hooks;

namespace {

const std::string k_old_block =
    std::string(k_block_begin) + "\n. /etc/old-execmark.sh\n" + std::string(k_block_end) + "\n";

} // namespace

TEST_CASE("rc_block sources the installed hook between the marker lines")
{
    const auto posix = rc_block(HookKind::posix);
    REQUIRE(posix.rfind(std::string(k_block_begin) + "\n", 0) == 0);
    REQUIRE(posix.ends_with(std::string(k_block_end) + "\n"));
    REQUIRE(posix.find(". /etc/execmark/hook.sh;") != std::string::npos);
    REQUIRE(rc_block(HookKind::zsh).find(". /etc/execmark/hook.zsh;") != std::string::npos);
    REQUIRE(block_state(posix, posix) == BlockState::current);
}

TEST_CASE("put_block appends to content without a block and keeps every byte")
{
    const auto block = rc_block(HookKind::posix);
    SECTION("empty file")
    {
        auto edit = put_block("", block);
        REQUIRE(edit);
        REQUIRE(edit->action == BlockAction::appended);
        REQUIRE(edit->content == block);
    }
    SECTION("content ending in a newline")
    {
        auto edit = put_block("alias ll='ls -l'\n", block);
        REQUIRE(edit);
        REQUIRE(edit->content == "alias ll='ls -l'\n\n" + block);
    }
    SECTION("content without a final newline, CRs and non-UTF-8 bytes")
    {
        const std::string user("PS1='\\u> '\r\n\xff\xfe\x01 tail", 20);
        auto edit = put_block(user, block);
        REQUIRE(edit);
        REQUIRE(edit->content == user + "\n\n" + block);
    }
}

TEST_CASE("put_block leaves a current block alone and replaces an older one in place")
{
    const auto block = rc_block(HookKind::posix);
    const std::string before = "# top\nexport A=1\n";
    const std::string after = "\n# bottom\nexport B=2\n";

    auto same = put_block(before + block + after, block);
    REQUIRE(same);
    REQUIRE(same->action == BlockAction::unchanged);
    REQUIRE(same->content == before + block + after);

    REQUIRE(block_state(before + k_old_block + after, block) == BlockState::outdated);
    auto updated = put_block(before + k_old_block + after, block);
    REQUIRE(updated);
    REQUIRE(updated->action == BlockAction::replaced);
    REQUIRE(updated->content == before + block + after);

    // A block that ends the file without a newline is replaced as a whole.
    auto tail = k_old_block;
    tail.pop_back();
    auto fixed = put_block(before + tail, block);
    REQUIRE(fixed);
    REQUIRE(fixed->content == before + block);
}

TEST_CASE("put_block refuses damaged markers and changes nothing")
{
    const auto block = rc_block(HookKind::posix);
    const std::string begin = std::string(k_block_begin) + "\n";
    const std::string end = std::string(k_block_end) + "\n";
    for (const auto& content : {begin + "x\n",
                                end + "x\n",
                                end + begin,
                                begin + end + begin + end,
                                begin + begin + end}) {
        INFO(content);
        REQUIRE(block_state(content, block) == BlockState::damaged);
        const auto edit = put_block(content, block);
        REQUIRE_FALSE(edit);
        REQUIRE(edit.error().message.find("damaged") != std::string::npos);
    }
    // Marker text inside a longer line is not a marker.
    const std::string quoted = "echo '" + std::string(k_block_begin) + "'\n";
    REQUIRE(block_state(quoted, block) == BlockState::absent);
}
