// SPDX-License-Identifier: MIT
#pragma once

#include <agent/util/result.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace execmark::hooks {

// The two hook files: one for every POSIX shell (bash, dash, busybox ash, mksh), one for zsh.
enum class HookKind { posix, zsh };

// Where the binary is unless `hook install --bin` says otherwise; the hooks try it first.
inline constexpr std::string_view k_default_bin = "/usr/local/bin/execmark";
// Installed hook files, as paths inside the image.
inline constexpr std::string_view k_hook_dir = "/etc/execmark";
inline constexpr std::string_view k_posix_hook_path = "/etc/execmark/hook.sh";
inline constexpr std::string_view k_zsh_hook_path = "/etc/execmark/hook.zsh";
// The lines that delimit execmark's block in an rc file.
inline constexpr std::string_view k_block_begin = "# >>> execmark hook >>>";
inline constexpr std::string_view k_block_end = "# <<< execmark hook <<<";
// rc files larger than this are not ours to rewrite.
inline constexpr std::size_t k_max_rc_bytes = std::size_t{1024} * 1024;

// The hook kind for a shell name given to `hook print`: bash, sh, dash, ash, mksh → posix;
// zsh → zsh; anything else → nullopt.
std::optional<HookKind> hook_kind_for_shell(std::string_view shell);

// Installed path of the hook file of a kind (k_posix_hook_path or k_zsh_hook_path).
std::string_view hook_path(HookKind kind);

// Whether path can be written into a hook as the binary's default location: absolute, made of
// [A-Za-z0-9._+@/-] only (no shell quoting needed), no "." or ".." component, at most 256 bytes.
bool is_valid_bin_path(std::string_view path);

// The hook file's text with bin as the default binary path (bin must be is_valid_bin_path).
std::string hook_text(HookKind kind, std::string_view bin = k_default_bin);

// The default binary path written into an installed hook text; nullopt if it is not a hook text
// this version could have written (it is then outdated or foreign).
std::optional<std::string> hook_text_bin(HookKind kind, std::string_view text);

// The block an rc file gets: the begin line, a comment, one line sourcing the installed hook of
// kind, the end line; each line ends in '\n'.
std::string rc_block(HookKind kind);

// What an rc file holds of execmark: no block, exactly `block`, another (older) block, or
// begin/end lines that do not pair up (or more than one block).
enum class BlockState { absent, current, outdated, damaged };

BlockState block_state(std::string_view content, std::string_view block);

enum class BlockAction { unchanged, appended, replaced };

struct BlockEdit {
    std::string content;
    BlockAction action = BlockAction::unchanged;
};

// content with `block` in it: an existing block is replaced in place, else block is appended
// (after a '\n' if content does not end in one, and a blank line if content is not empty).
// Every byte outside the block is kept. A damaged content is an error, never rewritten.
util::Result<BlockEdit> put_block(std::string_view content, std::string_view block);

} // namespace execmark::hooks
