// SPDX-License-Identifier: MIT
#include <agent/init/exit_status.hpp>

#include <sys/wait.h>

#include <cerrno>

namespace execmark::init {

int exit_code_from_wait_status(int wait_status)
{
    if (WIFEXITED(wait_status)) {
        return WEXITSTATUS(wait_status);
    }
    if (WIFSIGNALED(wait_status)) {
        return (128 + WTERMSIG(wait_status)) % 256;
    }
    // Stopped/continued are never reported (no WUNTRACED); treat as a generic failure.
    return 1;
}

int apply_remap(int code, const ExitRemap& remap)
{
    if (code >= 0 && code < 256 && remap.test(static_cast<std::size_t>(code))) {
        return 0;
    }
    return code;
}

int exit_code_for_exec_error(int err)
{
    return (err == ENOENT || err == ENOTDIR || err == ENAMETOOLONG) ? 127 : 126;
}

} // namespace execmark::init
