// SPDX-License-Identifier: MIT
#pragma once

#include <agent/util/result.hpp>

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace execmark::hooks {

// An image's file system under a host directory (`hook install --root DIR`; "/" inside a
// `docker build`). Image paths ("/etc/bashrc") are resolved as the image sees them: symlinks are
// followed, an absolute target restarts at the root and ".." stops there, so a link such as
// /bin/sh -> /bin/dash never escapes to the host's files.
class RootFs {
public:
    explicit RootFs(std::string root);

    // The root directory as given ("/" for the running system).
    [[nodiscard]] const std::string& root() const { return m_root_given; }

    // The image path with every symlink followed (also in the last component; missing
    // components are kept as they are). Error after 40 links (ELOOP).
    [[nodiscard]] util::Result<std::string> resolve(std::string_view image_path) const;

    // Host path of an image path, resolved; errors as resolve().
    [[nodiscard]] util::Result<std::string> host_path(std::string_view image_path) const;

    // Host path without resolving (for messages and for paths known to be plain).
    [[nodiscard]] std::string host_path_unresolved(std::string_view image_path) const;

    [[nodiscard]] bool exists(std::string_view image_path) const;
    [[nodiscard]] bool is_directory(std::string_view image_path) const;
    // A regular file with an execute bit.
    [[nodiscard]] bool is_executable(std::string_view image_path) const;

    // The file's content; errors for missing, non-regular or larger than max_bytes.
    [[nodiscard]] util::Result<std::string> read(std::string_view image_path,
                                                 std::size_t max_bytes) const;

    // Creates the directory and its missing parents with mode (before umask).
    [[nodiscard]] util::Status make_dirs(std::string_view image_path, mode_t mode) const;

    // Replaces the file's content so that a reader sees the old or the new file, never a part:
    // a temporary file in the same directory, fsync, rename over the target, fsync of the
    // directory. An existing file keeps its mode and owner (a symlink is followed and its target
    // replaced); a new file gets new_mode. On any error the target is untouched.
    [[nodiscard]] util::Status
    write_atomic(std::string_view image_path, std::string_view content, mode_t new_mode) const;

private:
    std::string m_root_given;
    std::string m_prefix; // root without its trailing '/', "" for "/"
};

} // namespace execmark::hooks
