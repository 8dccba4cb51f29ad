// SPDX-License-Identifier: MIT
#include <agent/util/error.hpp>
#include <agent/util/fd.hpp>
#include <agent/util/io.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace execmark::util {

Status write_all(int fd, std::string_view data)
{
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return sys_error("write", "fd " + std::to_string(fd), errno);
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return {};
}

Result<std::string> read_file(const std::string& path, std::size_t max_bytes)
{
    const Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (!fd) {
        return sys_error("open", path, errno);
    }
    std::string out;
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return sys_error("read", path, errno);
        }
        if (n == 0) {
            break;
        }
        if (out.size() + static_cast<std::size_t>(n) > max_bytes) {
            return make_error("read", path, "larger than " + std::to_string(max_bytes) + " bytes");
        }
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

} // namespace execmark::util
