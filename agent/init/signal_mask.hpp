// SPDX-License-Identifier: MIT
#pragma once

#include <signal.h>

#include <cstdint>

namespace execmark::init {

// The kernel's 64-bit signal mask (bit n-1 for signal n).
using KernelSigMask = std::uint64_t;

// Blocks every signal, glibc's reserved 32 and 33 included (glibc's sigprocmask filters them, so
// this uses the raw syscall), and returns the previous mask. Must run before any thread exists.
KernelSigMask block_all_signals();

// The glibc sigset_t holding the signals of mask (for posix_spawn's SETSIGMASK).
sigset_t to_sigset(KernelSigMask mask);

// A sigset_t with every signal 1..64, for signalfd (sigfillset would leave out 32 and 33).
sigset_t full_sigset();

} // namespace execmark::init
