// SPDX-License-Identifier: MIT
#pragma once

namespace execmark::init {

// What PID 1 does to its own process once its child runs (never before: nothing delays the
// child): not dumpable (its memory, environ and ptrace then need CAP_SYS_PTRACE; no core
// dumps), its environment strings wiped (the child has its copy), and RLIMIT_NOFILE raised
// towards k_wanted_nofile so that many clients can be served. Failures are logged, not fatal.
void harden_process();

} // namespace execmark::init
