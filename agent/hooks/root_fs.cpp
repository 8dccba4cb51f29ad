// SPDX-License-Identifier: MIT
#include <agent/hooks/root_fs.hpp>
#include <agent/util/error.hpp>
#include <agent/util/fd.hpp>
#include <agent/util/io.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <deque>
#include <vector>

namespace execmark::hooks {

namespace {

constexpr int k_max_links = 40; // as the kernel's MAXSYMLINKS

void split_into(std::string_view path, std::deque<std::string>& out, bool front)
{
    std::vector<std::string> parts;
    std::size_t pos = 0;
    while (pos <= path.size()) {
        auto slash = path.find('/', pos);
        if (slash == std::string_view::npos) {
            slash = path.size();
        }
        if (slash > pos) {
            parts.emplace_back(path.substr(pos, slash - pos));
        }
        pos = slash + 1;
    }
    if (front) {
        out.insert(out.begin(), parts.begin(), parts.end());
    } else {
        out.insert(out.end(), parts.begin(), parts.end());
    }
}

std::string join(const std::vector<std::string>& parts)
{
    if (parts.empty()) {
        return "/";
    }
    std::string out;
    for (const auto& p : parts) {
        out.push_back('/');
        out.append(p);
    }
    return out;
}

std::string dir_of(const std::string& path)
{
    const auto slash = path.rfind('/');
    if (slash == std::string::npos) {
        return ".";
    }
    return slash == 0 ? std::string("/") : path.substr(0, slash);
}

std::string base_of(const std::string& path)
{
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Makes the rename durable; file systems that cannot fsync a directory (EINVAL) are fine.
util::Status sync_directory(const std::string& dir)
{
    const util::Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) {
        return util::sys_error("open", dir, errno);
    }
    if (::fsync(fd.get()) != 0 && errno != EINVAL) {
        return util::sys_error("fsync", dir, errno);
    }
    return {};
}

std::string without_trailing_slashes(std::string path)
{
    while (!path.empty() && path.back() == '/') {
        path.pop_back();
    }
    return path;
}

} // namespace

RootFs::RootFs(std::string root)
    : m_root_given(std::move(root))
    , m_prefix(without_trailing_slashes(m_root_given))
{}

util::Result<std::string> RootFs::resolve(std::string_view image_path) const
{
    std::deque<std::string> todo;
    split_into(image_path, todo, false);
    std::vector<std::string> done;
    int links = 0;
    while (!todo.empty()) {
        std::string part = std::move(todo.front());
        todo.pop_front();
        if (part == ".") {
            continue;
        }
        if (part == "..") {
            if (!done.empty()) {
                done.pop_back();
            }
            continue;
        }
        done.push_back(std::move(part));
        const std::string host = m_prefix + join(done);
        std::string target(PATH_MAX, '\0');
        const ssize_t n = ::readlink(host.c_str(), target.data(), target.size());
        if (n < 0) {
            // Not a symlink, or missing: the component stays as it is.
            continue;
        }
        if (++links > k_max_links) {
            return util::sys_error("resolve", std::string(image_path), ELOOP);
        }
        target.resize(static_cast<std::size_t>(n));
        done.pop_back();
        if (!target.empty() && target.front() == '/') {
            done.clear();
        }
        split_into(target, todo, true);
    }
    return join(done);
}

util::Result<std::string> RootFs::host_path(std::string_view image_path) const
{
    auto resolved = resolve(image_path);
    if (!resolved) {
        return resolved.error();
    }
    return m_prefix + *resolved;
}

std::string RootFs::host_path_unresolved(std::string_view image_path) const
{
    std::string out = m_prefix;
    if (image_path.empty() || image_path.front() != '/') {
        out.push_back('/');
    }
    out.append(image_path);
    return out;
}

bool RootFs::exists(std::string_view image_path) const
{
    const auto host = host_path(image_path);

    struct stat st {};

    return host && ::stat(host->c_str(), &st) == 0;
}

bool RootFs::is_directory(std::string_view image_path) const
{
    const auto host = host_path(image_path);

    struct stat st {};

    return host && ::stat(host->c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool RootFs::is_executable(std::string_view image_path) const
{
    const auto host = host_path(image_path);

    struct stat st {};

    return host && ::stat(host->c_str(), &st) == 0 && S_ISREG(st.st_mode)
           && (st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)) != 0;
}

util::Result<std::string> RootFs::read(std::string_view image_path, std::size_t max_bytes) const
{
    const auto host = host_path(image_path);
    if (!host) {
        return host.error();
    }

    struct stat st {};

    if (::stat(host->c_str(), &st) != 0) {
        return util::sys_error("read", *host, errno);
    }
    if (!S_ISREG(st.st_mode)) {
        return util::make_error("read", *host, "not a regular file");
    }
    return util::read_file(*host, max_bytes);
}

util::Status RootFs::make_dirs(std::string_view image_path, mode_t mode) const
{
    const auto resolved = resolve(image_path);
    if (!resolved) {
        return resolved.error();
    }
    std::string host = m_prefix;
    std::deque<std::string> parts;
    split_into(*resolved, parts, false);
    for (const auto& part : parts) {
        host.push_back('/');
        host.append(part);
        if (::mkdir(host.c_str(), mode) != 0 && errno != EEXIST) {
            return util::sys_error("create directory", host, errno);
        }
    }

    struct stat st {};

    if (::stat(host.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        return util::make_error("create directory", host, "exists and is not a directory");
    }
    return {};
}

util::Status
RootFs::write_atomic(std::string_view image_path, std::string_view content, mode_t new_mode) const
{
    const auto resolved_host = host_path(image_path);
    if (!resolved_host) {
        return resolved_host.error();
    }
    const std::string& host = *resolved_host;
    mode_t mode = new_mode;
    auto uid = static_cast<uid_t>(-1);
    auto gid = static_cast<gid_t>(-1);

    struct stat st {};

    if (::stat(host.c_str(), &st) == 0) {
        if (!S_ISREG(st.st_mode)) {
            return util::make_error("write", host, "not a regular file");
        }
        mode = st.st_mode & 07777;
        uid = st.st_uid;
        gid = st.st_gid;
    } else if (errno != ENOENT) {
        return util::sys_error("stat", host, errno);
    }

    const std::string dir = dir_of(host);
    std::string temp = dir + "/." + base_of(host) + ".execmark-XXXXXX";
    const util::Fd fd(::mkostemp(temp.data(), O_CLOEXEC));
    if (!fd) {
        return util::sys_error("create temporary file in", dir, errno);
    }
    const auto fail = [&](util::Error error) -> util::Status {
        ::unlink(temp.c_str());
        return error;
    };
    if (auto w = util::write_all(fd.get(), content); !w) {
        return fail(util::sys_error("write", temp, w.error().code));
    }
    // mkostemp creates 0600: give the new file the old file's mode and owner.
    if (::fchmod(fd.get(), mode) != 0) {
        return fail(util::sys_error("chmod", temp, errno));
    }
    if ((uid != static_cast<uid_t>(-1) || gid != static_cast<gid_t>(-1))
        && ::fchown(fd.get(), uid, gid) != 0) {
        // Not allowed to give it away (not root): fine only if it is ours already.
        const int err = errno;

        struct stat mine {};

        if (::fstat(fd.get(), &mine) != 0 || mine.st_uid != uid || mine.st_gid != gid) {
            return fail(util::sys_error("keep owner of", host, err));
        }
    }
    if (::fsync(fd.get()) != 0) {
        return fail(util::sys_error("fsync", temp, errno));
    }
    if (::rename(temp.c_str(), host.c_str()) != 0) {
        return fail(util::sys_error("rename", temp + " to " + host, errno));
    }
    return sync_directory(dir);
}

} // namespace execmark::hooks
