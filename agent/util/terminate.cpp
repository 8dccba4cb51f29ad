// SPDX-License-Identifier: MIT
// The terminate handler of every execmark binary. libstdc++'s default handler
// (__gnu_cxx::__verbose_terminate_handler) demangles the exception's type name, which links
// the whole demangler (cp-demangle.o, 46 KiB of the static binary) for a message that is
// never meant to be seen. This file defines that symbol itself, so the linker takes this
// definition and never pulls libstdc++'s vterminate.o (and cp-demangle.o with it); what is
// printed is the same apart from the mangled type name. It must be linked as an object file
// (the execmark_terminate OBJECT library), never from an archive: libstdc++ asks for the
// symbol only after our archives have been scanned.
#include <agent/util/terminate.hpp>

#include <cxxabi.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <typeinfo>

namespace execmark::util {

namespace {

void write_all(const char* text) noexcept
{
    std::size_t left = std::strlen(text);
    while (left > 0) {
        const ssize_t n = ::write(STDERR_FILENO, text, left);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return; // stderr is gone: nothing else can be said
        }
        text += n;
        left -= static_cast<std::size_t>(n);
    }
}

} // namespace

void report_terminate() noexcept
{
    static std::atomic<bool> s_terminating{false};
    if (s_terminating.exchange(true)) {
        write_all("terminate called recursively\n");
        std::abort();
    }
    const std::type_info* type = abi::__cxa_current_exception_type();
    if (type == nullptr) {
        write_all("terminate called without an active exception\n");
        std::abort();
    }
    write_all("terminate called after throwing an exception of type '");
    write_all(type->name());
    write_all("'\n");
    // Rethrown only to reach what(); a throwing what() ends in "called recursively" above.
    try {
        throw;
    } catch (const std::exception& e) {
        write_all("  what():  ");
        write_all(e.what());
        write_all("\n");
    } catch (...) { // not a std::exception: the type name is all there is
    }
    std::abort();
}

} // namespace execmark::util

namespace __gnu_cxx {

// Replaces libstdc++'s definition (see the top of this file); std::terminate calls it through
// the default handler pointer. Reserved name: it is the implementation's hook, used as such.
void __verbose_terminate_handler()
{
    execmark::util::report_terminate();
}

} // namespace __gnu_cxx
