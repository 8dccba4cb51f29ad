// SPDX-License-Identifier: MIT
#include <agent/util/fd.hpp>

#include <unistd.h>

namespace execmark::util {

void Fd::reset(int fd)
{
    if (m_fd >= 0) {
        // EINTR after close on Linux still means the descriptor is gone: never retry.
        ::close(m_fd);
    }
    m_fd = fd;
}

} // namespace execmark::util
