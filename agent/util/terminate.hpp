// SPDX-License-Identifier: MIT
#pragma once

namespace execmark::util {

// Writes why the process terminates to stderr (fd 2, with write(2) only: no allocation, no
// stdio) and aborts: "terminate called after throwing an exception of type '<mangled name>'",
// then "  what():  <what()>" for a std::exception, or "terminate called without an active
// exception". A second call while the first runs says "terminate called recursively".
// The type name stays mangled (`c++filt -t` reads it): demangling is what this replaces.
[[noreturn]] void report_terminate() noexcept;

} // namespace execmark::util
