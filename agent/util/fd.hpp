// SPDX-License-Identifier: MIT
#pragma once

#include <utility>

namespace execmark::util {

// Sole owner of a file descriptor; closes it on destruction. Move-only.
class Fd {
public:
    Fd() = default;

    explicit Fd(int fd)
        : m_fd(fd)
    {}

    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;

    Fd(Fd&& other) noexcept
        : m_fd(std::exchange(other.m_fd, -1))
    {}

    Fd& operator=(Fd&& other) noexcept
    {
        if (this != &other) {
            reset(std::exchange(other.m_fd, -1));
        }
        return *this;
    }

    ~Fd() { reset(); }

    [[nodiscard]] int get() const { return m_fd; }

    [[nodiscard]] bool valid() const { return m_fd >= 0; }

    explicit operator bool() const { return valid(); }

    // Gives up ownership without closing.
    int release() { return std::exchange(m_fd, -1); }

    // Closes the current descriptor (errors ignored: nothing useful can be done) and takes fd.
    void reset(int fd = -1);

private:
    int m_fd = -1;
};

} // namespace execmark::util
