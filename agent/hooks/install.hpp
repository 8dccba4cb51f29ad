// SPDX-License-Identifier: MIT
#pragma once

#include <agent/hooks/hooks.hpp>
#include <agent/hooks/root_fs.hpp>
#include <agent/util/result.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace execmark::hooks {

// A shell found in the image: its name (bash, zsh, dash, ash, mksh, sh) and where.
struct ShellFound {
    std::string name;
    std::string path;
};

// What the installer and doctor need to know about an image.
struct ImageFacts {
    std::vector<ShellFound> shells;
    // System rc files whose path is compiled into the shell binary (bash's SYS_BASHRC, zsh's
    // GLOBAL_ZSHRC): the file the shell really reads. Empty when the binary names none of the
    // known candidates (Amazon Linux's and Fedora's bash read no system file by themselves).
    std::vector<std::string> bash_builtin_rc;
    std::vector<std::string> zsh_builtin_rc;
    // Known system rc files that exist.
    std::vector<std::string> existing_rc;
    // uid 0's home directory from /etc/passwd ("/root" when not found): ECS Exec runs as root.
    std::string root_home = "/root";

    [[nodiscard]] bool has_shell(std::string_view name) const;
    [[nodiscard]] bool rc_exists(std::string_view path) const;
};

// Looks at the image: shell binaries in the usual directories, the rc file paths compiled into
// bash and zsh, which candidate rc files exist, root's home.
ImageFacts probe_image(const RootFs& fs);

// An rc file that must source a hook, and why (for the report).
struct RcTarget {
    std::string path;
    HookKind kind = HookKind::posix;
    std::string why;
};

// Which rc files get the block (pure): for bash, every candidate (/etc/bash.bashrc,
// /etc/bash/bashrc, /etc/bashrc) that exists or is compiled in, plus root's ~/.bashrc when bash
// reads no system file itself; for zsh, every candidate (/etc/zsh/zshrc, /etc/zshrc) that exists
// or is compiled in, else zsh's default /etc/zshrc. Shells not present get nothing.
std::vector<RcTarget> plan_rc_targets(const ImageFacts& facts);

// The shells present that read no rc file of their own when ECS Exec starts them and so need
// ENV (dash, ash, mksh, sh), in probe order.
std::vector<std::string> env_shells(const ImageFacts& facts);

enum class FileAction {
    written,   // hook file created or replaced
    created,   // rc file did not exist: created with the block
    appended,  // block appended to an existing rc file
    replaced,  // an older block replaced in place
    unchanged, // already as it should be
};

std::string_view file_action_name(FileAction action, bool dry_run);

struct FileChange {
    std::string path; // image path
    FileAction action = FileAction::unchanged;
    std::string why;
};

struct InstallOptions {
    std::string bin = std::string(k_default_bin); // must be is_valid_bin_path
    bool dry_run = false;
};

struct InstallReport {
    ImageFacts facts;
    std::vector<FileChange> changes;
};

// Installs the hook files under /etc/execmark and the block into every planned rc file. Every
// file is read and its new content computed before anything is written, so a damaged rc file
// or an unreadable one stops the install with nothing changed; each write is atomic and keeps
// mode and owner (RootFs::write_atomic). Running it again changes nothing.
util::Result<InstallReport> install(const RootFs& fs, const InstallOptions& options);

} // namespace execmark::hooks
