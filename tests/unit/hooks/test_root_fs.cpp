// SPDX-License-Identifier: MIT
#include "temp_root.hpp"

#include <agent/hooks/root_fs.hpp>

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

using execmark::hooks::RootFs;
using execmark::test::TempRoot;

TEST_CASE("RootFs resolves symlinks inside the root, never on the host")
{
    const TempRoot tmp;
    tmp.write("/usr/bin/dash", "#!fake\n", 0755);
    tmp.symlink("/usr/bin/dash", "/bin/sh");         // absolute: restarts at the root
    tmp.symlink("../../usr/bin", "/usr/local/bin");  // relative
    tmp.symlink("../../../../../../etc", "/up/etc"); // ".." stops at the root
    tmp.symlink("/loop/b", "/loop/a");
    tmp.symlink("/loop/a", "/loop/b");
    const RootFs fs(tmp.path() + "/");

    REQUIRE(fs.resolve("/bin/sh").value() == "/usr/bin/dash");
    REQUIRE(fs.host_path("/bin/sh").value() == tmp.host("/usr/bin/dash"));
    REQUIRE(fs.resolve("/usr/local/bin/dash").value() == "/usr/bin/dash");
    REQUIRE(fs.resolve("/up/etc/passwd").value() == "/etc/passwd");
    REQUIRE(fs.resolve("/a/./b/../c").value() == "/a/c");
    REQUIRE(fs.resolve("/missing/file").value() == "/missing/file");
    const auto loop = fs.resolve("/loop/a");
    REQUIRE_FALSE(loop);
    REQUIRE(loop.error().code == ELOOP);

    REQUIRE(fs.is_executable("/bin/sh"));
    REQUIRE_FALSE(fs.is_executable("/usr/bin"));
    REQUIRE(fs.is_directory("/usr/bin"));
    REQUIRE(fs.read("/bin/sh", 100).value() == "#!fake\n");
    REQUIRE_FALSE(fs.read("/bin/sh", 3));
    REQUIRE_FALSE(fs.read("/usr/bin", 100));
}

TEST_CASE("RootFs with root / is the running system")
{
    const RootFs fs("/");
    REQUIRE(fs.host_path_unresolved("/etc/passwd") == "/etc/passwd");
    REQUIRE(fs.is_directory("/"));
}

TEST_CASE("write_atomic keeps mode and owner, follows a symlink, leaves no temporary file")
{
    const TempRoot tmp;
    tmp.write("/etc/zsh/zshrc", "old\n", 0640);
    tmp.symlink("/etc/zsh/zshrc", "/etc/zshrc");
    const bool root = ::geteuid() == 0;
    if (root) {
        REQUIRE(::chown(tmp.host("/etc/zsh/zshrc").c_str(), 1234, 5678) == 0);
    }
    const RootFs fs(tmp.path());

    REQUIRE(fs.write_atomic("/etc/zshrc", "new\n", 0600));
    REQUIRE(tmp.read("/etc/zsh/zshrc") == "new\n");

    struct stat link {};

    REQUIRE(::lstat(tmp.host("/etc/zshrc").c_str(), &link) == 0);
    REQUIRE(S_ISLNK(link.st_mode));

    struct stat st {};

    REQUIRE(::stat(tmp.host("/etc/zsh/zshrc").c_str(), &st) == 0);
    REQUIRE((st.st_mode & 07777) == 0640);
    if (root) {
        REQUIRE(st.st_uid == 1234U);
        REQUIRE(st.st_gid == 5678U);
    }

    REQUIRE(fs.write_atomic("/etc/new.rc", "x", 0644));
    REQUIRE(::stat(tmp.host("/etc/new.rc").c_str(), &st) == 0);
    REQUIRE((st.st_mode & 07777) == 0644);

    std::size_t entries = 0;
    for (const auto& e : std::filesystem::directory_iterator(tmp.host("/etc/zsh"))) {
        (void)e;
        ++entries;
    }
    REQUIRE(entries == 1);
}

TEST_CASE("write_atomic refuses what is not a regular file, make_dirs what is not a directory")
{
    const TempRoot tmp;
    tmp.write("/etc/file", "x");
    std::filesystem::create_directories(tmp.host("/etc/dir"));
    const RootFs fs(tmp.path());
    const auto not_file = fs.write_atomic("/etc/dir", "x", 0644);
    REQUIRE_FALSE(not_file);
    REQUIRE(not_file.error().message.find("not a regular file") != std::string::npos);
    const auto not_dir = fs.make_dirs("/etc/file/sub", 0755);
    REQUIRE_FALSE(not_dir);
    REQUIRE(not_dir.error().message.find(tmp.host("/etc/file/sub")) != std::string::npos);
    REQUIRE(fs.make_dirs("/a/b/c", 0755));
    REQUIRE(fs.is_directory("/a/b/c"));
}
