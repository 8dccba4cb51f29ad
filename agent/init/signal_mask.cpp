// SPDX-License-Identifier: MIT
#include <agent/init/signal_mask.hpp>
#include <agent/util/signals.hpp>

#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

namespace execmark::init {

KernelSigMask block_all_signals()
{
    return util::block_all_signals_raw();
}

sigset_t to_sigset(KernelSigMask mask)
{
    sigset_t set;
    sigemptyset(&set);
    for (int sig = 1; sig <= 64; ++sig) {
        if ((mask >> (sig - 1)) & 1U) {
            // glibc rejects its reserved signals here, which is what the child wants anyway.
            sigaddset(&set, sig);
        }
    }
    return set;
}

sigset_t full_sigset()
{
    sigset_t set;
    std::memset(&set, 0xff, sizeof set);
    return set;
}

} // namespace execmark::init
