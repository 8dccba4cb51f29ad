// SPDX-License-Identifier: MIT
#include <agent/init/exit_status.hpp>
#include <agent/init/signal_mask.hpp>
#include <agent/init/signals.hpp>
#include <agent/init/supervisor.hpp>
#include <agent/util/error.hpp>
#include <agent/util/fd.hpp>
#include <agent/util/proc.hpp>

#include <spdlog/spdlog.h>

#include <spawn.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

extern char** environ;

namespace execmark::init {

namespace {

// How many /proc sweeps a kill of all descendants makes (new forks can race a sweep).
constexpr int k_kill_sweeps = 5;

// The fd among stdin/stdout/stderr that is our controlling terminal while our process group
// is its foreground group; nullopt otherwise. Only then is the terminal handed to the child:
// an init started in the background must not steal the terminal from the shell that ran it.
std::optional<int> foreground_tty_fd()
{
    for (const int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO}) {
        const pid_t fg = ::tcgetpgrp(fd);
        if (fg >= 0) {
            if (fg == ::getpgrp()) {
                return fd;
            }
            return std::nullopt;
        }
    }
    return std::nullopt;
}

// glibc's posix_spawn sets its reserved signals 32 and 33 to SIG_IGN in the child, and an ignored
// signal stays ignored across exec: ask for SIG_DFL instead, unless we inherited them ignored.
// sigaddset refuses these two, so the bits are set directly; the raw syscall reads the
// disposition (glibc's sigaction refuses them too).
sigset_t reserved_signal_defaults()
{
    struct KernelSigaction {
        void (*handler)(int);
        unsigned long flags;
        void (*restorer)();
        KernelSigMask mask;
    };

    sigset_t set;
    sigemptyset(&set);
    for (const int sig : {32, 33}) {
        KernelSigaction old{};
        if (::syscall(SYS_rt_sigaction, sig, nullptr, &old, sizeof(KernelSigMask)) == 0
            && old.handler != SIG_IGN) {
            set.__val[0] |= 1UL << static_cast<unsigned>(sig - 1);
        }
    }
    return set;
}

// The file execvp would run for name: name itself when it has a '/', else the first
// executable regular file of that name on $PATH.
std::optional<std::string> find_in_path(const std::string& name)
{
    if (name.find('/') != std::string::npos) {
        return name;
    }
    const char* path = ::getenv("PATH");
    std::string_view dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
    while (true) {
        const auto colon = dirs.find(':');
        std::string dir(dirs.substr(0, colon));
        const std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + name;
        if (::access(candidate.c_str(), X_OK) == 0) {
            return candidate;
        }
        if (colon == std::string_view::npos) {
            return std::nullopt;
        }
        dirs.remove_prefix(colon + 1);
    }
}

struct SpawnResult {
    pid_t pid = -1;
    int error = 0;
};

// posix_spawn keeps fork-to-exec async-signal-safe: new process group, the terminal's foreground
// (if we hold it), the original signal mask. Dispositions are inherited untouched, so SIG_IGN
// from our parent reaches the child. Every fd of ours is close-on-exec.
SpawnResult spawn_child(const std::vector<std::string>& command, KernelSigMask original_mask)
{
    posix_spawnattr_t attr;
    posix_spawn_file_actions_t actions;
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_setflags(
        &attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&attr, 0);
    const sigset_t mask = to_sigset(original_mask);
    posix_spawnattr_setsigmask(&attr, &mask);
    const sigset_t defaults = reserved_signal_defaults();
    posix_spawnattr_setsigdefault(&attr, &defaults);
    if (const auto tty = foreground_tty_fd()) {
        posix_spawn_file_actions_addtcsetpgrp_np(&actions, *tty);
    }
    std::vector<char*> argv;
    argv.reserve(command.size() + 1);
    for (const auto& arg : command) {
        argv.push_back(const_cast<char*>(arg.c_str()));
    }
    argv.push_back(nullptr);
    SpawnResult result;
    result.error = ::posix_spawnp(&result.pid, argv[0], &actions, &attr, argv.data(), environ);
    if (result.error == ENOEXEC) {
        // A script without "#!": run it with /bin/sh, as execvp and tini do.
        if (const auto path = find_in_path(command.front())) {
            std::vector<char*> sh_argv{const_cast<char*>("/bin/sh"),
                                       const_cast<char*>(path->c_str())};
            sh_argv.insert(sh_argv.end(), argv.begin() + 1, argv.end());
            result.error =
                ::posix_spawn(&result.pid, "/bin/sh", &actions, &attr, sh_argv.data(), environ);
        }
    }
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    return result;
}

class Supervisor {
public:
    Supervisor(const InitOptions& options, const SupervisorHooks& hooks, EventLoop loop)
        : m_options(options)
        , m_hooks(hooks)
        , m_loop(std::move(loop))
    {}

    int run(pid_t child, util::Fd signal_fd, util::Fd timer_fd);

private:
    void on_signals();
    void handle_signal(const signalfd_siginfo& info);
    void reap();
    void on_main_exit(int wait_status);
    void begin_grace(int sig);
    void on_grace_expired();
    int deliver_to_descendants(int sig, bool skip_child_group);

    [[nodiscard]] bool finished() const { return m_main_exited && m_no_children; }

    const InitOptions& m_options;
    const SupervisorHooks& m_hooks;
    EventLoop m_loop;
    util::Fd m_signal_fd;
    util::Fd m_timer_fd;
    pid_t m_child = -1;
    bool m_main_exited = false;
    bool m_no_children = false;
    int m_exit_code = 0;
    bool m_grace_armed = false;
    bool m_told_descendants = false;
    bool m_killed_all = false;
    int m_shutdown_signal = SIGTERM;
    bool m_group_signalled = false;
};

int Supervisor::run(pid_t child, util::Fd signal_fd, util::Fd timer_fd)
{
    m_child = child;
    m_signal_fd = std::move(signal_fd);
    m_timer_fd = std::move(timer_fd);
    auto st = m_loop.add(m_signal_fd.get(), EPOLLIN, [this](std::uint32_t) { on_signals(); });
    if (!st) {
        spdlog::critical("{}", st.error().message);
        return 1;
    }
    st = m_loop.add(m_timer_fd.get(), EPOLLIN, [this](std::uint32_t) { on_grace_expired(); });
    if (!st) {
        spdlog::critical("{}", st.error().message);
        return 1;
    }
    if (m_hooks.on_started) {
        m_hooks.on_started(m_loop, m_child);
        // glibc's pthread_create gives the creating thread back a mask without its reserved
        // 32/33: re-block all 64 so they still arrive through the signalfd.
        block_all_signals();
    }
    // A child that died before the signalfd existed left SIGCHLD pending: reap now anyway.
    reap();
    while (!finished()) {
        // Once running, the loop never exits on an internal error: log and keep supervising.
        if (auto waited = m_loop.wait_once(); !waited) {
            spdlog::error("{}", waited.error().message);
        }
    }
    if (m_hooks.on_exit) {
        m_hooks.on_exit(m_exit_code);
    }
    spdlog::info("exiting with status {}", m_exit_code);
    return m_exit_code;
}

void Supervisor::on_signals()
{
    for (;;) {
        signalfd_siginfo info{};
        const ssize_t n = ::read(m_signal_fd.get(), &info, sizeof info);
        if (n != static_cast<ssize_t>(sizeof info)) {
            if (n < 0 && errno == EINTR) {
                continue;
            }
            break; // EAGAIN: drained
        }
        handle_signal(info);
    }
}

void Supervisor::handle_signal(const signalfd_siginfo& info)
{
    const int sig = static_cast<int>(info.ssi_signo);
    if (sig == SIGCHLD) {
        reap();
        return;
    }
    if (!should_forward(sig, info.ssi_code)) {
        spdlog::warn(
            "not forwarding {} raised by the kernel (si_code {})", signal_name(sig), info.ssi_code);
        return;
    }
    const bool shutdown_signal = sig == SIGTERM || sig == SIGINT;
    if (m_main_exited) {
        // The main child is gone; the remaining descendants are being shut down.
        const int n = deliver_to_descendants(sig, false);
        spdlog::debug("delivered {} to {} remaining processes", signal_name(sig), n);
        return;
    }
    const pid_t target = m_options.kill_process_group ? -m_child : m_child;
    if (::kill(target, sig) != 0) {
        spdlog::debug("forward {} to {}: {}", signal_name(sig), target, util::errno_text(errno));
    } else {
        spdlog::debug("forwarded {} to {}", signal_name(sig), target);
    }
    if (shutdown_signal && !m_grace_armed) {
        m_group_signalled = m_options.kill_process_group;
        begin_grace(sig);
    }
}

void Supervisor::reap()
{
    for (;;) {
        int status = 0;
        const pid_t pid = ::waitpid(-1, &status, WNOHANG);
        if (pid > 0) {
            if (pid == m_child) {
                on_main_exit(status);
            } else if (m_options.warn_on_reap) {
                spdlog::warn("Reaped zombie process with pid={}", pid);
            } else {
                spdlog::trace("reaped pid={}", pid);
            }
            continue;
        }
        if (pid < 0 && errno == EINTR) {
            continue;
        }
        m_no_children = pid < 0 && errno == ECHILD;
        break;
    }
    if (m_main_exited && !m_no_children && !m_told_descendants) {
        // The main child left descendants behind: ask them to stop, then wait the grace period.
        // (Only here, never on the common path: a /proc sweep is not free.)
        m_told_descendants = true;
        const int n = deliver_to_descendants(m_shutdown_signal, m_group_signalled);
        spdlog::info("main child exited; sent {} to {} remaining processes, grace {} ms",
                     signal_name(m_shutdown_signal),
                     n,
                     m_options.grace_ms);
        if (!m_grace_armed) {
            begin_grace(m_shutdown_signal);
        }
    }
}

void Supervisor::on_main_exit(int wait_status)
{
    m_main_exited = true;
    m_exit_code = apply_remap(exit_code_from_wait_status(wait_status), m_options.remap);
    if (WIFSIGNALED(wait_status)) {
        spdlog::info("child {} killed by {}", m_child, signal_name(WTERMSIG(wait_status)));
    } else {
        spdlog::info("child {} exited with {}", m_child, WEXITSTATUS(wait_status));
    }
}

void Supervisor::begin_grace(int sig)
{
    m_grace_armed = true;
    m_shutdown_signal = sig;
    if (m_options.grace_ms == 0) {
        on_grace_expired();
        return;
    }
    itimerspec spec{};
    spec.it_value.tv_sec = static_cast<time_t>(m_options.grace_ms / 1000);
    spec.it_value.tv_nsec = static_cast<long>((m_options.grace_ms % 1000) * 1'000'000);
    if (::timerfd_settime(m_timer_fd.get(), 0, &spec, nullptr) != 0) {
        spdlog::error("arm grace timer: {}", util::errno_text(errno));
    }
}

void Supervisor::on_grace_expired()
{
    std::uint64_t expirations = 0;
    // Drain the timerfd (nonblocking); a zero-grace call comes without an expiration.
    [[maybe_unused]] const auto n = ::read(m_timer_fd.get(), &expirations, sizeof expirations);
    if (m_killed_all) {
        return;
    }
    m_killed_all = true;
    const int killed = deliver_to_descendants(SIGKILL, false);
    if (killed > 0) {
        spdlog::warn("grace period of {} ms over: killed {} remaining processes",
                     m_options.grace_ms,
                     killed);
    }
}

int Supervisor::deliver_to_descendants(int sig, bool skip_child_group)
{
    std::set<pid_t> signalled;
    const pid_t self = ::getpid();
    for (int sweep = 0; sweep < k_kill_sweeps; ++sweep) {
        const auto procs = util::snapshot_processes();
        bool any_new = false;
        for (const pid_t pid : util::descendants_of(self, procs)) {
            if (signalled.contains(pid)) {
                continue;
            }
            if (skip_child_group) {
                const auto st = util::read_proc_stat(pid);
                if (st && st->pgrp == m_child) {
                    continue;
                }
            }
            signalled.insert(pid);
            any_new = true;
            if (::kill(pid, sig) != 0 && errno != ESRCH) {
                spdlog::debug("signal pid {}: {}", pid, util::errno_text(errno));
            }
            if (sig != SIGKILL && sig != SIGCONT) {
                // A stopped process (Ctrl-Z) would sit on its TERM until the grace ends.
                ::kill(pid, SIGCONT);
            }
        }
        // Only SIGKILL needs to chase processes forked while we sweep.
        if (!any_new || sig != SIGKILL) {
            break;
        }
    }
    return static_cast<int>(signalled.size());
}

} // namespace

int supervise(const InitOptions& options, const SupervisorHooks& hooks)
{
    // Signals become fd events: block everything before any thread, socket or child exists.
    const KernelSigMask original_mask = block_all_signals();

    if (::getpid() != 1 || options.subreaper) {
        // Orphans of our descendants must come to us, not to a host init that may not reap.
        if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
            if (options.subreaper) {
                spdlog::critical("become a child subreaper: {}", util::errno_text(errno));
                return 1;
            }
            spdlog::warn("become a child subreaper: {}; orphans will not be reaped",
                         util::errno_text(errno));
        }
    }
    if (options.pdeath_signal != 0 && ::prctl(PR_SET_PDEATHSIG, options.pdeath_signal) != 0) {
        spdlog::warn("set parent-death signal: {}", util::errno_text(errno));
    }

    const SpawnResult spawned = spawn_child(options.command, original_mask);
    if (spawned.error != 0) {
        spdlog::critical(
            "execute {}: {}", options.command.front(), util::errno_text(spawned.error));
        return exit_code_for_exec_error(spawned.error);
    }
    spdlog::info("spawned {} as pid {}", options.command.front(), spawned.pid);

    // Inherited descriptors went to the child; the init keeps none of them alive.
    ::close_range(3, ~0U, 0);

    const sigset_t all = full_sigset();
    util::Fd signal_fd(::signalfd(-1, &all, SFD_CLOEXEC | SFD_NONBLOCK));
    util::Fd timer_fd(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
    auto loop = EventLoop::create();
    if (!signal_fd || !timer_fd || !loop) {
        // Without these the init cannot supervise; the child is already running, so wait for it
        // the simple way rather than abandoning it.
        spdlog::critical("set up the event loop: {}", util::errno_text(errno));
        int status = 0;
        while (::waitpid(spawned.pid, &status, 0) < 0 && errno == EINTR) {
        }
        return apply_remap(exit_code_from_wait_status(status), options.remap);
    }
    Supervisor supervisor(options, hooks, std::move(*loop));
    return supervisor.run(spawned.pid, std::move(signal_fd), std::move(timer_fd));
}

} // namespace execmark::init
