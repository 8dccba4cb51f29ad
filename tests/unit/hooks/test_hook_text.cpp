// SPDX-License-Identifier: MIT
#include <agent/hooks/hooks.hpp>

#include <catch2/catch.hpp>

using namespace execmark::hooks;

TEST_CASE("hook_kind_for_shell maps the shells hook print accepts")
{
    for (const char* shell : {"bash", "sh", "dash", "ash", "mksh"}) {
        REQUIRE(hook_kind_for_shell(shell) == HookKind::posix);
    }
    REQUIRE(hook_kind_for_shell("zsh") == HookKind::zsh);
    REQUIRE_FALSE(hook_kind_for_shell("fish"));
    REQUIRE_FALSE(hook_kind_for_shell(""));
    REQUIRE_FALSE(hook_kind_for_shell("BASH"));
}

TEST_CASE("the embedded hooks are the shell-hooks files with the default binary path")
{
    for (const auto kind : {HookKind::posix, HookKind::zsh}) {
        const auto text = hook_text(kind);
        REQUIRE(text.rfind("# SPDX-License-Identifier: MIT\n", 0) == 0);
        REQUIRE(text.find("${EXECMARK_BIN_PATH:-/usr/local/bin/execmark}") != std::string::npos);
        REQUIRE(text.find("session open --mode hook") != std::string::npos);
        REQUIRE(text.find("EXECMARK_ACTIVE") != std::string::npos);
        REQUIRE(text.back() == '\n');
        REQUIRE(hook_text_bin(kind, text) == std::string(k_default_bin));
    }
    REQUIRE(hook_text(HookKind::zsh).find("zshexit_functions") != std::string::npos);
    REQUIRE(hook_text(HookKind::posix).find("EXIT") != std::string::npos);
}

TEST_CASE("hook_text puts --bin into every default and hook_text_bin reads it back")
{
    for (const auto kind : {HookKind::posix, HookKind::zsh}) {
        const auto text = hook_text(kind, "/opt/tools/execmark-1.2");
        REQUIRE(text.find("/usr/local/bin/execmark") == std::string::npos);
        REQUIRE(text.find("${EXECMARK_BIN_PATH:-/opt/tools/execmark-1.2}") != std::string::npos);
        REQUIRE(hook_text_bin(kind, text) == std::string("/opt/tools/execmark-1.2"));
    }
    // The two kinds are not interchangeable, and an edited hook is not ours.
    REQUIRE_FALSE(hook_text_bin(HookKind::zsh, hook_text(HookKind::posix)));
    auto edited = hook_text(HookKind::posix);
    edited.append("echo hi\n");
    REQUIRE_FALSE(hook_text_bin(HookKind::posix, edited));
    REQUIRE_FALSE(hook_text_bin(HookKind::posix, ""));
}

TEST_CASE("is_valid_bin_path accepts only absolute paths that need no shell quoting")
{
    REQUIRE(is_valid_bin_path("/usr/local/bin/execmark"));
    REQUIRE(is_valid_bin_path("/opt/x_y/execmark-1.2+3@a"));
    REQUIRE_FALSE(is_valid_bin_path(""));
    REQUIRE_FALSE(is_valid_bin_path("execmark"));
    REQUIRE_FALSE(is_valid_bin_path("./execmark"));
    REQUIRE_FALSE(is_valid_bin_path("/usr/local/bin/"));
    REQUIRE_FALSE(is_valid_bin_path("/opt/my tools/execmark"));
    REQUIRE_FALSE(is_valid_bin_path("/opt/$(reboot)/execmark"));
    REQUIRE_FALSE(is_valid_bin_path("/opt/a}b/execmark"));
    REQUIRE_FALSE(is_valid_bin_path("/opt/'x'/execmark"));
    REQUIRE_FALSE(is_valid_bin_path("/opt/../bin/execmark"));
    REQUIRE_FALSE(is_valid_bin_path("/opt/./execmark"));
    REQUIRE_FALSE(is_valid_bin_path("/" + std::string(300, 'a')));
}
