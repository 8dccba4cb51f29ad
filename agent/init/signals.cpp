// SPDX-License-Identifier: MIT
#include <agent/init/signals.hpp>
#include <agent/util/text.hpp>

#include <array>
#include <cctype>
#include <csignal>
#include <utility>

namespace execmark::init {

namespace {

// Kernel numbering of the real-time range. glibc reserves 32 and 33 for itself and reports
// SIGRTMIN as 34; names here follow the kernel so that every number 1..64 has one name.
constexpr int k_kernel_rtmin = 32;

// No pointers in the table: it stays in read-only data, where a table of string_views (which
// the -fPIE build relocates) would grow RELRO, whose end aarch64's gold aligns to 64 KiB in the
// file (docs/benchmarks.md "Binary size").
struct NamedSignal {
    char name[8]; // NUL-terminated; the longest, STKFLT and VTALRM, have 6 letters
    int number;
};

constexpr auto k_signals = std::to_array<NamedSignal>({
    NamedSignal{"HUP", SIGHUP},       NamedSignal{"INT", SIGINT},
    NamedSignal{"QUIT", SIGQUIT},     NamedSignal{"ILL", SIGILL},
    NamedSignal{"TRAP", SIGTRAP},     NamedSignal{"ABRT", SIGABRT},
    NamedSignal{"IOT", SIGIOT},       NamedSignal{"BUS", SIGBUS},
    NamedSignal{"FPE", SIGFPE},       NamedSignal{"KILL", SIGKILL},
    NamedSignal{"USR1", SIGUSR1},     NamedSignal{"SEGV", SIGSEGV},
    NamedSignal{"USR2", SIGUSR2},     NamedSignal{"PIPE", SIGPIPE},
    NamedSignal{"ALRM", SIGALRM},     NamedSignal{"TERM", SIGTERM},
    NamedSignal{"STKFLT", SIGSTKFLT}, NamedSignal{"CHLD", SIGCHLD},
    NamedSignal{"CLD", SIGCHLD},      NamedSignal{"CONT", SIGCONT},
    NamedSignal{"STOP", SIGSTOP},     NamedSignal{"TSTP", SIGTSTP},
    NamedSignal{"TTIN", SIGTTIN},     NamedSignal{"TTOU", SIGTTOU},
    NamedSignal{"URG", SIGURG},       NamedSignal{"XCPU", SIGXCPU},
    NamedSignal{"XFSZ", SIGXFSZ},     NamedSignal{"VTALRM", SIGVTALRM},
    NamedSignal{"PROF", SIGPROF},     NamedSignal{"WINCH", SIGWINCH},
    NamedSignal{"IO", SIGIO},         NamedSignal{"POLL", SIGPOLL},
    NamedSignal{"PWR", SIGPWR},       NamedSignal{"SYS", SIGSYS},
});

std::string upper(std::string_view s)
{
    std::string out(s);
    for (char& c : out) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return out;
}

std::optional<int> parse_rt(std::string_view rest)
{
    // rest is what follows "RTMIN"/"RTMAX" handling done by the caller: "", "+N", "-N".
    if (rest.empty()) {
        return 0;
    }
    if (rest.size() < 2 || (rest[0] != '+' && rest[0] != '-')) {
        return std::nullopt;
    }
    const auto n = util::parse_uint(rest.substr(1), k_max_signal);
    if (!n) {
        return std::nullopt;
    }
    return rest[0] == '+' ? static_cast<int>(*n) : -static_cast<int>(*n);
}

} // namespace

std::optional<int> signal_from_name(std::string_view name)
{
    if (const auto n = util::parse_uint(name, k_max_signal)) {
        if (*n >= 1) {
            return static_cast<int>(*n);
        }
        return std::nullopt;
    }
    std::string up = upper(name);
    std::string_view s = up;
    if (s.starts_with("SIG")) {
        s.remove_prefix(3);
    }
    for (const auto& entry : k_signals) {
        if (std::string_view(entry.name) == s) {
            return entry.number;
        }
    }
    if (s.starts_with("RTMIN") || s.starts_with("RTMAX")) {
        const auto offset = parse_rt(s.substr(5));
        if (!offset) {
            return std::nullopt;
        }
        const int sig = (s.starts_with("RTMIN") ? k_kernel_rtmin : k_max_signal) + *offset;
        if (sig >= k_kernel_rtmin && sig <= k_max_signal) {
            return sig;
        }
    }
    return std::nullopt;
}

std::string signal_name(int sig)
{
    for (const auto& entry : k_signals) {
        // First entry wins for aliases (IOT/ABRT, CLD/CHLD, POLL/IO).
        const std::string_view name(entry.name);
        if (entry.number == sig && name != "IOT" && name != "CLD" && name != "POLL") {
            return "SIG" + std::string(name);
        }
    }
    if (sig >= k_kernel_rtmin && sig <= k_max_signal) {
        return "SIGRTMIN+" + std::to_string(sig - k_kernel_rtmin);
    }
    return "SIG" + std::to_string(sig);
}

bool is_synchronous_signal(int sig)
{
    switch (sig) {
    case SIGSEGV:
    case SIGBUS:
    case SIGFPE:
    case SIGILL:
    case SIGABRT:
    case SIGTRAP:
    case SIGSYS:
        return true;
    default:
        return false;
    }
}

bool should_forward(int sig, int si_code)
{
    if (sig == SIGCHLD || sig == SIGKILL || sig == SIGSTOP || sig < 1 || sig > k_max_signal) {
        return false;
    }
    if (is_synchronous_signal(sig)) {
        return si_code <= 0;
    }
    return true;
}

} // namespace execmark::init
