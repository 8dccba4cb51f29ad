// SPDX-License-Identifier: MIT
#include "temp_root.hpp"

#include <agent/hooks/install.hpp>

#include <catch2/catch.hpp>

#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

using namespace execmark::hooks;
using execmark::test::TempRoot;

namespace {

// A stand-in shell binary: executable, with the compiled-in rc paths as C strings (what the
// installer looks for), like Debian's bash holds "/etc/bash.bashrc".
std::string fake_shell(std::initializer_list<std::string_view> rc_paths)
{
    std::string image("\x7f"
                      "ELF fake shell",
                      15);
    for (const auto path : rc_paths) {
        image.push_back('\0');
        image.append(path);
        image.push_back('\0');
    }
    return image;
}

// A Debian-like image: bash reading /etc/bash.bashrc, zsh reading /etc/zsh/zshrc, dash as sh.
void debian_like(const TempRoot& tmp)
{
    tmp.write("/usr/bin/bash", fake_shell({"/etc/bash.bashrc", "/etc/profile"}), 0755);
    tmp.write("/usr/bin/zsh", fake_shell({"/etc/zsh/zshrc", "/etc/zsh/zshenv"}), 0755);
    tmp.write("/usr/bin/dash", fake_shell({}), 0755);
    tmp.symlink("usr/bin", "/bin");
    tmp.symlink("/usr/bin/dash", "/usr/bin/sh");
    tmp.write("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n");
}

const FileChange* change_for(const InstallReport& report, std::string_view path)
{
    for (const auto& c : report.changes) {
        if (c.path == path) {
            return &c;
        }
    }
    return nullptr;
}

std::string snapshot(const TempRoot& tmp)
{
    std::string out;
    for (const auto& e : std::filesystem::recursive_directory_iterator(tmp.path())) {
        struct stat st {};

        ::lstat(e.path().c_str(), &st);
        out += e.path().string() + " " + std::to_string(st.st_mode) + " "
               + std::to_string(st.st_ino) + " " + std::to_string(st.st_size) + "\n";
        if (e.is_regular_file() && !e.is_symlink()) {
            out += tmp.read(e.path().string().substr(tmp.path().size())) + "\n";
        }
    }
    return out;
}

} // namespace

TEST_CASE("probe_image finds the shells and the rc files compiled into them")
{
    const TempRoot tmp;
    debian_like(tmp);
    tmp.write("/etc/bash.bashrc", "# debian\n");
    const auto facts = probe_image(RootFs(tmp.path()));
    std::vector<std::string> names;
    for (const auto& s : facts.shells) {
        names.push_back(s.name);
    }
    REQUIRE(names == std::vector<std::string>{"bash", "zsh", "dash", "sh"});
    REQUIRE(facts.bash_builtin_rc == std::vector<std::string>{"/etc/bash.bashrc"});
    REQUIRE(facts.zsh_builtin_rc == std::vector<std::string>{"/etc/zsh/zshrc"});
    REQUIRE(facts.existing_rc == std::vector<std::string>{"/etc/bash.bashrc"});
    REQUIRE(facts.root_home == "/root");
    REQUIRE(env_shells(facts) == std::vector<std::string>{"dash", "sh"});
}

TEST_CASE("plan_rc_targets per distribution")
{
    ImageFacts facts;
    SECTION("Debian: the compiled-in files, created when missing")
    {
        facts.shells = {{"bash", "/bin/bash"}, {"zsh", "/bin/zsh"}};
        facts.bash_builtin_rc = {"/etc/bash.bashrc"};
        facts.zsh_builtin_rc = {"/etc/zsh/zshrc"};
        const auto targets = plan_rc_targets(facts);
        REQUIRE(targets.size() == 2);
        REQUIRE(targets[0].path == "/etc/bash.bashrc");
        REQUIRE(targets[0].kind == HookKind::posix);
        REQUIRE(targets[1].path == "/etc/zsh/zshrc");
        REQUIRE(targets[1].kind == HookKind::zsh);
    }
    SECTION("Alpine: /etc/bash/bashrc")
    {
        facts.shells = {{"bash", "/bin/bash"}, {"ash", "/bin/busybox"}};
        facts.bash_builtin_rc = {"/etc/bash/bashrc"};
        facts.existing_rc = {"/etc/bash/bashrc"};
        const auto targets = plan_rc_targets(facts);
        REQUIRE(targets.size() == 1);
        REQUIRE(targets[0].path == "/etc/bash/bashrc");
    }
    SECTION("Amazon Linux: bash reads no system file, so /etc/bashrc and root's ~/.bashrc")
    {
        facts.shells = {{"bash", "/bin/bash"}, {"zsh", "/bin/zsh"}};
        facts.zsh_builtin_rc = {"/etc/zshrc"};
        facts.existing_rc = {"/etc/bashrc"};
        facts.root_home = "/root/";
        const auto targets = plan_rc_targets(facts);
        REQUIRE(targets.size() == 3);
        REQUIRE(targets[0].path == "/etc/bashrc");
        REQUIRE(targets[1].path == "/root/.bashrc");
        REQUIRE(targets[2].path == "/etc/zshrc");
    }
    SECTION("zsh whose binary names no known file gets zsh's default")
    {
        facts.shells = {{"zsh", "/bin/zsh"}};
        const auto targets = plan_rc_targets(facts);
        REQUIRE(targets.size() == 1);
        REQUIRE(targets[0].path == "/etc/zshrc");
    }
    SECTION("rc files of shells that are not there are left alone")
    {
        facts.shells = {{"dash", "/bin/dash"}};
        facts.existing_rc = {"/etc/bash.bashrc", "/etc/zsh/zshrc"};
        REQUIRE(plan_rc_targets(facts).empty());
    }
}

TEST_CASE("install into a fresh image creates the hooks and the missing rc files")
{
    const TempRoot tmp;
    debian_like(tmp);
    const RootFs fs(tmp.path());
    const auto report = install(fs, InstallOptions{});
    REQUIRE(report);
    REQUIRE(report->changes.size() == 4);
    REQUIRE(change_for(*report, "/etc/execmark/hook.sh")->action == FileAction::written);
    REQUIRE(change_for(*report, "/etc/execmark/hook.zsh")->action == FileAction::written);
    REQUIRE(change_for(*report, "/etc/bash.bashrc")->action == FileAction::created);
    REQUIRE(change_for(*report, "/etc/zsh/zshrc")->action == FileAction::created);

    REQUIRE(tmp.read("/etc/execmark/hook.sh") == hook_text(HookKind::posix));
    REQUIRE(tmp.read("/etc/execmark/hook.zsh") == hook_text(HookKind::zsh));
    REQUIRE(tmp.read("/etc/bash.bashrc") == rc_block(HookKind::posix));
    REQUIRE(tmp.read("/etc/zsh/zshrc") == rc_block(HookKind::zsh));
    for (const char* path : {"/etc/execmark/hook.sh", "/etc/bash.bashrc", "/etc/zsh/zshrc"}) {
        struct stat st {};

        REQUIRE(::stat(tmp.host(path).c_str(), &st) == 0);
        REQUIRE((st.st_mode & 07777) == 0644);
    }
}

TEST_CASE("install keeps an existing rc file byte for byte, with its mode and owner")
{
    const TempRoot tmp;
    debian_like(tmp);
    const std::string user("# user's\r\nalias x='y'\n\xff\x00 binary\tno final newline", 45);
    tmp.write("/etc/bash.bashrc", user, 0600);
    const bool root = ::geteuid() == 0;
    if (root) {
        REQUIRE(::chown(tmp.host("/etc/bash.bashrc").c_str(), 4321, 8765) == 0);
    }
    const auto report = install(RootFs(tmp.path()), InstallOptions{});
    REQUIRE(report);
    REQUIRE(change_for(*report, "/etc/bash.bashrc")->action == FileAction::appended);
    const auto now = tmp.read("/etc/bash.bashrc");
    REQUIRE(now.substr(0, user.size()) == user);
    REQUIRE(now.substr(user.size()) == "\n\n" + rc_block(HookKind::posix));

    struct stat st {};

    REQUIRE(::stat(tmp.host("/etc/bash.bashrc").c_str(), &st) == 0);
    REQUIRE((st.st_mode & 07777) == 0600);
    if (root) {
        REQUIRE(st.st_uid == 4321U);
        REQUIRE(st.st_gid == 8765U);
    }
}

TEST_CASE("installing twice changes nothing, not even an inode")
{
    const TempRoot tmp;
    debian_like(tmp);
    tmp.write("/etc/bash.bashrc", "# debian\n");
    REQUIRE(install(RootFs(tmp.path()), InstallOptions{}));
    const auto first = snapshot(tmp);
    const auto again = install(RootFs(tmp.path()), InstallOptions{});
    REQUIRE(again);
    for (const auto& c : again->changes) {
        INFO(c.path);
        REQUIRE(c.action == FileAction::unchanged);
    }
    REQUIRE(snapshot(tmp) == first);
}

TEST_CASE("install updates an older block in place and a changed --bin in the hook")
{
    const TempRoot tmp;
    debian_like(tmp);
    const std::string before = "# before\n";
    const std::string after = "# after: the user's lines below our block stay below it\n";
    tmp.write("/etc/bash.bashrc",
              before + std::string(k_block_begin) + "\n. /old/path\n" + std::string(k_block_end)
                  + "\n" + after);
    InstallOptions options;
    options.bin = "/opt/execmark/bin/execmark";
    const auto report = install(RootFs(tmp.path()), options);
    REQUIRE(report);
    REQUIRE(change_for(*report, "/etc/bash.bashrc")->action == FileAction::replaced);
    REQUIRE(tmp.read("/etc/bash.bashrc") == before + rc_block(HookKind::posix) + after);
    REQUIRE(tmp.read("/etc/execmark/hook.sh")
            == hook_text(HookKind::posix, "/opt/execmark/bin/execmark"));

    const auto back = install(RootFs(tmp.path()), InstallOptions{});
    REQUIRE(back);
    REQUIRE(change_for(*back, "/etc/execmark/hook.sh")->action == FileAction::written);
    REQUIRE(change_for(*back, "/etc/bash.bashrc")->action == FileAction::unchanged);
}

TEST_CASE("install on Amazon Linux hooks /etc/bashrc and root's ~/.bashrc")
{
    const TempRoot tmp;
    tmp.write("/usr/bin/bash", fake_shell({"/etc/profile"}), 0755);
    tmp.write("/etc/bashrc", "# /etc/bashrc\n");
    tmp.write("/etc/passwd",
              "bin:x:1:1::/bin:/sbin/nologin\nroot:x:0:0:root:/var/root:/bin/bash\n");
    const auto report = install(RootFs(tmp.path()), InstallOptions{});
    REQUIRE(report);
    REQUIRE(change_for(*report, "/etc/bashrc")->action == FileAction::appended);
    REQUIRE(change_for(*report, "/var/root/.bashrc")->action == FileAction::created);
    REQUIRE(tmp.read("/var/root/.bashrc") == rc_block(HookKind::posix));
    REQUIRE_FALSE(tmp.exists("/etc/bash.bashrc"));
    REQUIRE_FALSE(tmp.exists("/etc/zshrc"));
}

TEST_CASE("an rc file linked to another is updated once, through the link")
{
    const TempRoot tmp;
    tmp.write("/usr/bin/zsh", fake_shell({"/etc/zshrc"}), 0755);
    tmp.write("/etc/zsh/zshrc", "# zsh\n");
    tmp.symlink("/etc/zsh/zshrc", "/etc/zshrc");
    const auto report = install(RootFs(tmp.path()), InstallOptions{});
    REQUIRE(report);
    REQUIRE(tmp.read("/etc/zsh/zshrc") == "# zsh\n\n" + rc_block(HookKind::zsh));

    struct stat st {};

    REQUIRE(::lstat(tmp.host("/etc/zshrc").c_str(), &st) == 0);
    REQUIRE(S_ISLNK(st.st_mode));
}

TEST_CASE("a dry run writes nothing")
{
    const TempRoot tmp;
    debian_like(tmp);
    tmp.write("/etc/bash.bashrc", "# debian\n");
    const auto before = snapshot(tmp);
    InstallOptions options;
    options.dry_run = true;
    const auto report = install(RootFs(tmp.path()), options);
    REQUIRE(report);
    REQUIRE(change_for(*report, "/etc/bash.bashrc")->action == FileAction::appended);
    REQUIRE(file_action_name(FileAction::appended, true) == "would append");
    REQUIRE(snapshot(tmp) == before);
}

TEST_CASE("a damaged block stops the install before anything is written")
{
    const TempRoot tmp;
    debian_like(tmp);
    tmp.write("/etc/zsh/zshrc", std::string(k_block_begin) + "\n# lost its end line\n");
    const auto before = snapshot(tmp);
    const auto report = install(RootFs(tmp.path()), InstallOptions{});
    REQUIRE_FALSE(report);
    REQUIRE(report.error().message.rfind("install /etc/zsh/zshrc: ", 0) == 0);
    REQUIRE(report.error().message.find("damaged") != std::string::npos);
    REQUIRE(snapshot(tmp) == before);
}

TEST_CASE("install refuses a bad --bin and a missing root")
{
    const TempRoot tmp;
    InstallOptions options;
    options.bin = "relative/execmark";
    const auto bad = install(RootFs(tmp.path()), options);
    REQUIRE_FALSE(bad);
    REQUIRE(bad.error().message.find("must be absolute") != std::string::npos);
    const auto missing = install(RootFs(tmp.path() + "/nope"), InstallOptions{});
    REQUIRE_FALSE(missing);
    REQUIRE(missing.error().message == "install into " + tmp.path() + "/nope: no such directory");
}

TEST_CASE("install on a read-only root fails with the file and the reason")
{
    const TempRoot tmp;
    debian_like(tmp);
    tmp.write("/etc/bash.bashrc", "# debian\n");
    // A read-only bind mount needs a private mount namespace (root, CAP_SYS_ADMIN). Permission
    // bits would not do: root ignores them.
    if (::unshare(CLONE_NEWNS) != 0) {
        WARN("skipped: cannot create a mount namespace here: " << std::strerror(errno));
        return;
    }
    REQUIRE(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0);
    REQUIRE(::mount(tmp.path().c_str(), tmp.path().c_str(), nullptr, MS_BIND, nullptr) == 0);
    REQUIRE(::mount(nullptr, tmp.path().c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr)
            == 0);
    const auto before = snapshot(tmp);
    const auto report = install(RootFs(tmp.path()), InstallOptions{});
    ::umount2(tmp.path().c_str(), MNT_DETACH);
    REQUIRE_FALSE(report);
    INFO(report.error().message);
    REQUIRE(report.error().message.rfind("install /etc/execmark/hook.sh: ", 0) == 0);
    REQUIRE(report.error().message.find("Read-only file system") != std::string::npos);
    REQUIRE(report.error().code == EROFS);
    REQUIRE(snapshot(tmp) == before);
}
