// SPDX-License-Identifier: MIT
#include <agent/init/hardening.hpp>
#include <agent/util/error.hpp>

#include <spdlog/spdlog.h>

#include <sys/prctl.h>
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

extern char** environ;

namespace execmark::init {

namespace {

// PID 1 may hold many client sockets at once; the child keeps the limit it was started with.
constexpr rlim_t k_wanted_nofile = 8192;

// Overwrites the environment strings in place (they live on the initial stack, which is what
// /proc/<pid>/environ reads) and empties environ.
void wipe_environment()
{
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
        explicit_bzero(*e, std::strlen(*e));
    }
    ::clearenv();
}

} // namespace

void harden_process()
{
    if (::prctl(PR_SET_DUMPABLE, 0) != 0) {
        spdlog::warn("make PID 1 non-dumpable: {}", util::errno_text(errno));
    }
    // Some kernels still let root without CAP_SYS_PTRACE read /proc/1/environ of a non-dumpable
    // process (seen on 6.18). The child has its copy; PID 1 wipes its own, so nothing is there.
    wipe_environment();
    rlimit nofile{};
    if (::getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < k_wanted_nofile) {
        nofile.rlim_cur = std::min(k_wanted_nofile, nofile.rlim_max);
        if (::setrlimit(RLIMIT_NOFILE, &nofile) != 0) {
            spdlog::debug("raise RLIMIT_NOFILE: {}", util::errno_text(errno));
        }
    }
}

} // namespace execmark::init
