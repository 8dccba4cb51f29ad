// SPDX-License-Identifier: MIT
#pragma once

// The auditor's use of more than one core (docs/ARCHITECTURE.md, "Auditor threads"): pure work
// (signature checks, content checks) runs on worker threads; everything that decides a verdict
// or an order stays on the calling thread, so that the report is the same byte for byte
// whatever the number of threads.

#include <cstddef>
#include <functional>

namespace execmark::audit {

// Threads the auditor uses, the caller's included: EXECMARK_AUDIT_THREADS when set (1 = none
// besides the caller), else the number of cores (at most 8).
unsigned audit_threads();

// Runs fn(i) for every i in [0, n) on up to `threads` threads, the caller's included, and
// returns when all are done. fn must not touch shared state without its own synchronisation.
// The first exception thrown by fn is rethrown here (after all threads are joined).
void parallel_for(std::size_t n, unsigned threads, const std::function<void(std::size_t)>& fn);

} // namespace execmark::audit
