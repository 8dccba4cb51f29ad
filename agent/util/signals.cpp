// SPDX-License-Identifier: MIT
#include <agent/util/signals.hpp>

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace execmark::util {

std::uint64_t block_all_signals_raw()
{
    std::uint64_t all = ~std::uint64_t{0};
    std::uint64_t old = 0;
    // The kernel's sigset is 8 bytes; glibc's wrapper would filter 32 and 33.
    ::syscall(SYS_rt_sigprocmask, SIG_BLOCK, &all, &old, sizeof all);
    return old;
}

void set_signal_mask_raw(std::uint64_t mask)
{
    ::syscall(SYS_rt_sigprocmask, SIG_SETMASK, &mask, nullptr, sizeof mask);
}

} // namespace execmark::util
