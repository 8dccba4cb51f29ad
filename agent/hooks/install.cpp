// SPDX-License-Identifier: MIT
#include <agent/hooks/install.hpp>
#include <agent/util/error.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <array>

namespace execmark::hooks {

namespace {

// Shell binaries are larger than 1 MiB; a 32 MiB cap only guards against reading a huge file.
constexpr std::size_t k_max_shell_binary = std::size_t{32} * 1024 * 1024;
constexpr std::size_t k_max_passwd = std::size_t{1024} * 1024;
constexpr mode_t k_dir_mode = 0755;
constexpr mode_t k_file_mode = 0644;

struct ShellCandidates {
    std::string_view name;
    std::array<std::string_view, 4> paths;
};

// Probe order is report order. busybox provides ash as `busybox sh` even without an ash link.
constexpr std::array<ShellCandidates, 6> k_shells = {{
    {"bash", {"/bin/bash", "/usr/bin/bash", "/usr/local/bin/bash", ""}},
    {"zsh", {"/bin/zsh", "/usr/bin/zsh", "/usr/local/bin/zsh", ""}},
    {"dash", {"/bin/dash", "/usr/bin/dash", "", ""}},
    {"ash", {"/bin/ash", "/usr/bin/ash", "/bin/busybox", "/usr/bin/busybox"}},
    {"mksh", {"/bin/mksh", "/usr/bin/mksh", "/usr/local/bin/mksh", ""}},
    {"sh", {"/bin/sh", "/usr/bin/sh", "", ""}},
}};

// System rc files bash is built to read (SYS_BASHRC): Debian/Ubuntu, Alpine (and Gentoo), and the
// file Amazon Linux and Fedora ship for ~/.bashrc to source.
constexpr std::array<std::string_view, 3> k_bash_rc = {
    "/etc/bash.bashrc", "/etc/bash/bashrc", "/etc/bashrc"};
// zsh's global zshrc: etcdir /etc/zsh on Debian, Ubuntu and Alpine; /etc (zsh's default) on
// Amazon Linux and Fedora.
constexpr std::array<std::string_view, 2> k_zsh_rc = {"/etc/zsh/zshrc", "/etc/zshrc"};
constexpr std::string_view k_zsh_default_rc = "/etc/zshrc";

// The candidates whose path is in the binary as a C string: the compiled-in file name.
template <std::size_t N>
std::vector<std::string> builtin_paths(const RootFs& fs,
                                       std::string_view binary,
                                       const std::array<std::string_view, N>& candidates)
{
    std::vector<std::string> out;
    const auto image = fs.read(binary, k_max_shell_binary);
    if (!image) {
        return out;
    }
    for (const auto candidate : candidates) {
        std::string needle(candidate);
        needle.push_back('\0');
        if (image->find(needle) != std::string::npos) {
            out.emplace_back(candidate);
        }
    }
    return out;
}

std::string root_home_from_passwd(const RootFs& fs)
{
    const auto passwd = fs.read("/etc/passwd", k_max_passwd);
    if (!passwd) {
        return "/root";
    }
    std::size_t pos = 0;
    const std::string_view text(*passwd);
    while (pos < text.size()) {
        auto nl = text.find('\n', pos);
        if (nl == std::string_view::npos) {
            nl = text.size();
        }
        const auto line = text.substr(pos, nl - pos);
        pos = nl + 1;
        // name:password:uid:gid:gecos:home:shell
        std::array<std::string_view, 7> fields{};
        std::size_t start = 0;
        std::size_t count = 0;
        while (count < fields.size()) {
            const auto colon = line.find(':', start);
            fields[count++] = line.substr(
                start, colon == std::string_view::npos ? std::string_view::npos : colon - start);
            if (colon == std::string_view::npos) {
                break;
            }
            start = colon + 1;
        }
        if (count >= 6 && fields[2] == "0" && !fields[5].empty() && fields[5].front() == '/') {
            return std::string(fields[5]);
        }
    }
    return "/root";
}

// The error in the installer's shape, "install <path>: <reason>", keeping its errno.
util::Error install_error(std::string_view path, const util::Error& error)
{
    auto out = util::make_error("install", path, error.message);
    out.code = error.code;
    return out;
}

struct PreparedFile {
    std::string path;
    std::string content;
    FileAction action = FileAction::unchanged;
    std::string why;
    mode_t new_mode = k_file_mode;
};

util::Result<PreparedFile>
prepare_hook_file(const RootFs& fs, HookKind kind, const InstallOptions& options)
{
    PreparedFile file;
    file.path = std::string(hook_path(kind));
    file.content = hook_text(kind, options.bin);
    file.why = kind == HookKind::zsh ? "hook for zsh" : "hook for bash, dash, ash, mksh";
    if (fs.exists(file.path)) {
        const auto old = fs.read(file.path, k_max_rc_bytes);
        if (!old) {
            return install_error(file.path, old.error());
        }
        file.action = *old == file.content ? FileAction::unchanged : FileAction::written;
    } else {
        file.action = FileAction::written;
    }
    return file;
}

util::Result<PreparedFile> prepare_rc_file(const RootFs& fs, const RcTarget& target)
{
    PreparedFile file;
    file.path = target.path;
    file.why = target.why;
    const std::string block = rc_block(target.kind);
    if (!fs.exists(target.path)) {
        file.content = block;
        file.action = FileAction::created;
        return file;
    }
    const auto old = fs.read(target.path, k_max_rc_bytes);
    if (!old) {
        return install_error(target.path, old.error());
    }
    auto edit = put_block(*old, block);
    if (!edit) {
        return install_error(target.path, edit.error());
    }
    file.content = std::move(edit->content);
    switch (edit->action) {
    case BlockAction::appended:
        file.action = FileAction::appended;
        break;
    case BlockAction::replaced:
        file.action = FileAction::replaced;
        break;
    case BlockAction::unchanged:
        file.action = FileAction::unchanged;
        break;
    }
    return file;
}

std::string parent_of(std::string_view path)
{
    const auto slash = path.rfind('/');
    return slash == 0 || slash == std::string_view::npos ? std::string("/")
                                                         : std::string(path.substr(0, slash));
}

util::Status commit(const RootFs& fs, const PreparedFile& file)
{
    if (file.action == FileAction::unchanged) {
        return {};
    }
    if (auto dirs = fs.make_dirs(parent_of(file.path), k_dir_mode); !dirs) {
        return install_error(file.path, dirs.error());
    }
    if (auto written = fs.write_atomic(file.path, file.content, file.new_mode); !written) {
        return install_error(file.path, written.error());
    }
    return {};
}

} // namespace

bool ImageFacts::has_shell(std::string_view name) const
{
    return std::any_of(
        shells.begin(), shells.end(), [&](const ShellFound& s) { return s.name == name; });
}

bool ImageFacts::rc_exists(std::string_view path) const
{
    return std::find(existing_rc.begin(), existing_rc.end(), path) != existing_rc.end();
}

ImageFacts probe_image(const RootFs& fs)
{
    ImageFacts facts;
    for (const auto& shell : k_shells) {
        for (const auto path : shell.paths) {
            if (!path.empty() && fs.is_executable(path)) {
                facts.shells.push_back({std::string(shell.name), std::string(path)});
                break;
            }
        }
    }
    for (const auto& found : facts.shells) {
        if (found.name == "bash") {
            facts.bash_builtin_rc = builtin_paths(fs, found.path, k_bash_rc);
        } else if (found.name == "zsh") {
            facts.zsh_builtin_rc = builtin_paths(fs, found.path, k_zsh_rc);
        }
    }
    for (const auto path : k_bash_rc) {
        if (fs.exists(path)) {
            facts.existing_rc.emplace_back(path);
        }
    }
    for (const auto path : k_zsh_rc) {
        if (fs.exists(path)) {
            facts.existing_rc.emplace_back(path);
        }
    }
    facts.root_home = root_home_from_passwd(fs);
    return facts;
}

std::vector<RcTarget> plan_rc_targets(const ImageFacts& facts)
{
    std::vector<RcTarget> targets;
    const auto builtin = [](const std::vector<std::string>& list, std::string_view path) {
        return std::find(list.begin(), list.end(), path) != list.end();
    };
    if (facts.has_shell("bash")) {
        for (const auto path : k_bash_rc) {
            if (builtin(facts.bash_builtin_rc, path)) {
                targets.push_back({std::string(path), HookKind::posix, "read by bash"});
            } else if (facts.rc_exists(path)) {
                targets.push_back({std::string(path), HookKind::posix, "bash's system rc file"});
            }
        }
        if (facts.bash_builtin_rc.empty()) {
            std::string home = facts.root_home;
            if (home.size() > 1 && home.back() == '/') {
                home.pop_back();
            }
            targets.push_back({(home == "/" ? std::string() : home) + "/.bashrc",
                               HookKind::posix,
                               "this bash reads no system rc file, only root's ~/.bashrc"});
        }
    }
    if (facts.has_shell("zsh")) {
        const auto before = targets.size();
        for (const auto path : k_zsh_rc) {
            if (builtin(facts.zsh_builtin_rc, path)) {
                targets.push_back({std::string(path), HookKind::zsh, "read by zsh"});
            } else if (facts.rc_exists(path)) {
                targets.push_back({std::string(path), HookKind::zsh, "zsh's global zshrc"});
            }
        }
        if (targets.size() == before) {
            targets.push_back(
                {std::string(k_zsh_default_rc), HookKind::zsh, "zsh's default global zshrc"});
        }
    }
    return targets;
}

std::vector<std::string> env_shells(const ImageFacts& facts)
{
    std::vector<std::string> out;
    for (const auto& shell : facts.shells) {
        if (shell.name == "dash" || shell.name == "ash" || shell.name == "mksh"
            || shell.name == "sh") {
            out.push_back(shell.name);
        }
    }
    return out;
}

std::string_view file_action_name(FileAction action, bool dry_run)
{
    switch (action) {
    case FileAction::written:
        return dry_run ? "would write" : "written";
    case FileAction::created:
        return dry_run ? "would create" : "created";
    case FileAction::appended:
        return dry_run ? "would append" : "appended";
    case FileAction::replaced:
        return dry_run ? "would update" : "updated";
    case FileAction::unchanged:
        return "unchanged";
    }
    return "unchanged";
}

util::Result<InstallReport> install(const RootFs& fs, const InstallOptions& options)
{
    if (!is_valid_bin_path(options.bin)) {
        return util::make_error("install",
                                "hooks",
                                "binary path '" + options.bin
                                    + "' must be absolute and use only A-Z a-z 0-9 . _ + @ / -");
    }
    if (!fs.is_directory("/")) {
        return util::make_error("install", "into " + fs.root(), "no such directory");
    }
    InstallReport report;
    report.facts = probe_image(fs);

    // Phase 1: read everything and compute every new content; nothing is written yet.
    std::vector<PreparedFile> prepared;
    std::vector<std::string> seen; // resolved paths: /etc/zshrc may be a link to /etc/zsh/zshrc
    for (const auto kind : {HookKind::posix, HookKind::zsh}) {
        auto file = prepare_hook_file(fs, kind, options);
        if (!file) {
            return file.error();
        }
        prepared.push_back(std::move(*file));
    }
    for (const auto& target : plan_rc_targets(report.facts)) {
        const auto resolved = fs.resolve(target.path);
        if (!resolved) {
            return install_error(target.path, resolved.error());
        }
        if (std::find(seen.begin(), seen.end(), *resolved) != seen.end()) {
            continue;
        }
        seen.push_back(*resolved);
        auto file = prepare_rc_file(fs, target);
        if (!file) {
            return file.error();
        }
        prepared.push_back(std::move(*file));
    }

    // Phase 2: write what changes.
    for (const auto& file : prepared) {
        if (!options.dry_run) {
            if (auto done = commit(fs, file); !done) {
                return done.error();
            }
        }
        report.changes.push_back({file.path, file.action, file.why});
    }
    return report;
}

} // namespace execmark::hooks
