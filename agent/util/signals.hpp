// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>

namespace execmark::util {

// Blocks every signal 1..64 in the calling thread with the raw rt_sigprocmask syscall, glibc's
// reserved 32 and 33 included (pthread_sigmask silently leaves those out), and returns the old
// mask (bit n-1 for signal n). Every thread PID 1 starts calls this first, so that process
// signals only ever reach PID 1's signalfd.
std::uint64_t block_all_signals_raw();

// Sets the calling thread's mask to mask, again through the raw syscall.
void set_signal_mask_raw(std::uint64_t mask);

} // namespace execmark::util
