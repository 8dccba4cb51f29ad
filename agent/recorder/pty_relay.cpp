// SPDX-License-Identifier: MIT
#include <agent/client/exchange.hpp>
#include <agent/init/exit_status.hpp>
#include <agent/recorder/observer.hpp>
#include <agent/recorder/policy.hpp>
#include <agent/recorder/pty_relay.hpp>
#include <agent/recorder/reporter.hpp>
#include <agent/transcript/transcript.hpp>
#include <agent/util/clock.hpp>
#include <agent/util/error.hpp>
#include <agent/util/io.hpp>
#include <agent/util/proc.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <optional>
#include <set>
#include <utility>

namespace execmark::recorder {

namespace {

// Relay buffers, fixed: a hung reader stops the writer instead of growing memory. Input is read
// only when the inner terminal took everything read before. Output is read ahead while the outer
// terminal is full, up to the buffer's end, so that the next write hands it everything at once.
constexpr std::size_t k_output_buffer = 65536;
constexpr std::size_t k_input_buffer = 16384;
// Room the output buffer must have at its end for another read of the inner terminal.
constexpr std::size_t k_min_read = 4096;
// A pty read returns at most one n_tty buffer's worth (4095 bytes). A read that long may have
// left more behind: the relay reads again (after writing and hashing what it got, which gives the
// kernel time to refill the buffer) instead of polling first; a shorter one emptied it.
constexpr std::size_t k_full_pty_read = 4095;
// Reads of the inner terminal in a row before the relay polls again: keystrokes and signals wait
// at most this many chunks during a flood. 16 cost the same CPU with 7 % fewer system calls
// (tests/bench/recorder_cpu.py); 4 keeps the wait short.
constexpr int k_reads_per_poll = 4;
// After the shell exited: output still arriving is relayed until none came for this long (jobs
// left in the background may keep the pty open, so EIO may never come).
constexpr std::int64_t k_drain_quiet_ms = 100;
// After the shell exited, how long an outer terminal that takes nothing is waited for.
constexpr std::int64_t k_drain_stuck_ms = 10000;
// Between two /proc scans for the opener of a terminal.
constexpr std::int64_t k_scan_gap_ms = 50;
// Enter checkpoints taken at the keystroke and waiting for the reporter. An Enter typed while
// this many wait is coalesced into the next checkpoint instead (taken when it can be sent).
constexpr std::size_t k_max_queued_enters = 8;
// How long the close text may wait for a terminal that takes nothing.
constexpr std::int64_t k_close_write_ms = 5000;
// Interference reports waiting for the reporter; more are dropped (PID 1 would refuse a flood).
constexpr std::size_t k_max_pending_interference = 16;

// The signals the recorder reads from its signalfd. Blocked before the shell is forked; the shell
// gets the original mask back.
sigset_t relay_signals()
{
    sigset_t set;
    sigemptyset(&set);
    for (const int sig : {SIGCHLD,
                          SIGWINCH,
                          SIGTERM,
                          SIGHUP,
                          SIGINT,
                          SIGQUIT,
                          SIGTSTP,
                          SIGTTIN,
                          SIGTTOU,
                          SIGPIPE}) {
        sigaddset(&set, sig);
    }
    return set;
}

// Fills req as the report of checkpoint cp of the given kind (docs/markers.md §12).
void set_checkpoint(client::Request& req,
                    const std::string& mode,
                    std::string_view kind,
                    const transcript::Checkpoint& cp)
{
    req.op = client::Op::rec;
    req.mode = mode;
    req.rec.kind = std::string(kind);
    req.rec.idx = cp.index;
    req.rec.off = cp.offset;
    req.rec.hash = transcript::to_hex(cp.hash);
}

// The outer terminal as the recorder found it; restored by restore() and on destruction, so
// every way out of run_recorded (signals arrive on the signalfd, never asynchronously) restores.
class OuterTerminal {
public:
    // found: the settings the session's terminal had before the recorder took over its typed-ahead
    // input (which changes them; typed_ahead.hpp), else read here.
    explicit OuterTerminal(const std::optional<termios>& found)
    {
        if (found) {
            m_saved = *found;
            m_have_termios = true;
        } else {
            m_have_termios = ::tcgetattr(STDIN_FILENO, &m_saved) == 0;
        }
        m_in_flags = ::fcntl(STDIN_FILENO, F_GETFL);
        m_out_flags = ::fcntl(STDOUT_FILENO, F_GETFL);
    }

    OuterTerminal(const OuterTerminal&) = delete;
    OuterTerminal& operator=(const OuterTerminal&) = delete;

    ~OuterTerminal() { restore(); }

    // Raw, like cfmakeraw(3): no echo, no line editing, no signals from keys, no output
    // processing; the inner terminal does all of that for the shell. Non-blocking both ways.
    void make_raw()
    {
        if (m_have_termios) {
            termios raw = m_saved;
            raw.c_iflag &= ~static_cast<tcflag_t>(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR
                                                  | ICRNL | IXON);
            raw.c_oflag &= ~static_cast<tcflag_t>(OPOST);
            raw.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
            raw.c_cflag &= ~static_cast<tcflag_t>(CSIZE | PARENB);
            raw.c_cflag |= CS8;
            raw.c_cc[VMIN] = 1;
            raw.c_cc[VTIME] = 0;
            m_raw = ::tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
        }
        if (m_in_flags >= 0) {
            ::fcntl(STDIN_FILENO, F_SETFL, m_in_flags | O_NONBLOCK);
        }
        if (m_out_flags >= 0) {
            ::fcntl(STDOUT_FILENO, F_SETFL, m_out_flags | O_NONBLOCK);
        }
    }

    // The settings as found; TCSANOW, not TCSADRAIN: output processing happened when the bytes
    // were written, and a hung terminal must not hang the recorder here. The descriptors stay
    // non-blocking until restore_flags().
    void restore_settings()
    {
        if (m_raw) {
            ::tcsetattr(STDIN_FILENO, TCSANOW, &m_saved);
            m_raw = false;
        }
    }

    void restore()
    {
        restore_settings();
        if (m_in_flags >= 0) {
            ::fcntl(STDIN_FILENO, F_SETFL, m_in_flags);
        }
        if (m_out_flags >= 0) {
            ::fcntl(STDOUT_FILENO, F_SETFL, m_out_flags);
        }
    }

private:
    termios m_saved{};
    bool m_have_termios = false;
    bool m_raw = false;
    int m_in_flags = -1;
    int m_out_flags = -1;
};

// A fixed buffer of bytes read from one side and not yet written to the other.
struct Pending {
    explicit Pending(std::size_t size)
        : data(size)
    {}

    std::vector<char> data;
    std::size_t begin = 0;
    std::size_t end = 0;

    [[nodiscard]] bool empty() const { return begin == end; }

    [[nodiscard]] std::size_t room() const { return data.size() - end; }

    void clear() { begin = end = 0; }
};

struct Interference {
    std::string side;
    pid_t pid = 0;
    std::string comm;
};

// In the forked child (single-threaded parent, so any call is safe here; only what exec needs).
[[noreturn]] void
exec_shell(const Pty& pty, const sigset_t& original, const char* path, char* const* argv)
{
    ::setsid();
    // The pty becomes the controlling terminal of the new session; its foreground process group
    // is the shell's, so job control and Ctrl-C work as on any terminal.
    ::ioctl(pty.slave.get(), TIOCSCTTY, 0);
    for (const int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO}) {
        ::dup2(pty.slave.get(), fd);
    }
    ::sigprocmask(SIG_SETMASK, &original, nullptr);
    if (path != nullptr) {
        ::execv(path, argv);
    }
    ::execvp(argv[0], argv);
    const int err = errno;
    std::fprintf(stderr, "execmark shell: execute %s: %s\n", argv[0], std::strerror(err));
    ::_exit(init::exit_code_for_exec_error(err));
}

class Relay {
public:
    Relay(Pty pty, const RecordOptions& options)
        : m_pty(std::move(pty))
        , m_options(options)
        , m_reporter(options.socket_path, options.report_deadline_ms)
        , m_policy(PolicyTimes{}, util::monotonic_ms())
        , m_outer(options.outer_found)
    {}

    ChildOutcome run();

private:
    void loop();
    // One read of the inner terminal, appended to the output buffer; the bytes read.
    std::size_t read_master(std::int64_t now);
    void write_outer(std::int64_t now);
    void read_outer(std::int64_t now);
    void write_master();
    void on_signals();
    void scan_openers(std::int64_t now);
    void report(std::int64_t now);
    // The oldest Enter checkpoint taken at its keystroke, as the report to send next.
    client::Request next_queued_enter();
    void finish_close(const ChildOutcome& outcome);

    Pty m_pty;
    const RecordOptions& m_options;
    Reporter m_reporter;
    CheckpointPolicy m_policy;
    transcript::Fingerprint m_fingerprint;
    TerminalWatch m_watch;
    OuterTerminal m_outer;
    util::Fd m_signals;
    std::string m_outer_path;
    pid_t m_child = -1;
    ChildOutcome m_outcome;
    bool m_child_done = false;
    std::int64_t m_last_master_data = 0;
    bool m_master_eof = false;
    bool m_outer_in_eof = false;
    bool m_outer_dead = false;
    std::int64_t m_outer_blocked_since = 0;
    // The last write to the outer terminal took only part of what was offered: the next one waits
    // for POLLOUT instead of failing with EAGAIN at once.
    bool m_outer_full = false;
    Pending m_to_outer{k_output_buffer};
    Pending m_to_inner{k_input_buffer};
    std::uint64_t m_last_index = 0;
    // Enter checkpoints taken at the keystroke (so that "Enter at output offset O" is the offset
    // of the keystroke, not of a later moment the reporter was free), sent in order, before any
    // later checkpoint or interference report.
    std::deque<transcript::Checkpoint> m_queued_enters;
    bool m_scan_inner = false;
    bool m_scan_outer = false;
    std::int64_t m_last_scan = 0;
    std::set<std::pair<std::string, pid_t>> m_reported;
    std::vector<Holder> m_inner_holders; // at the last scan
    std::vector<Holder> m_outer_holders;
    std::deque<Interference> m_interference;
};

ChildOutcome Relay::run()
{
    const sigset_t signals = relay_signals();
    sigset_t original;
    ::sigprocmask(SIG_BLOCK, &signals, &original);
    m_signals.reset(::signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK));

    std::vector<std::string> args = m_options.argv;
    std::vector<char*> argv;
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    std::array<char, 128> outer{};
    if (::ttyname_r(STDIN_FILENO, outer.data(), outer.size()) == 0) {
        m_outer_path = outer.data();
    }

    m_outer.make_raw();
    // Forked while the recorder has one thread: the child may then call anything before exec.
    m_child = ::fork();
    if (m_child == 0) {
        exec_shell(m_pty,
                   original,
                   m_options.exec_path.empty() ? nullptr : m_options.exec_path.c_str(),
                   argv.data());
    }
    if (m_child < 0) {
        const int err = errno;
        m_outer.restore();
        std::fprintf(stderr, "execmark shell: start %s: %s\n", argv[0], std::strerror(err));
        m_outcome.exit_code = init::exit_code_for_exec_error(err);
        m_child_done = true;
    } else {
        // The shell holds the slave now; without our copy, EIO on the master means it is gone.
        m_pty.slave.reset();
        // Without a reporter there are no reports; the relay goes on (the close falls back to
        // unsigned: stop() tells finish_close).
        [[maybe_unused]] const auto started = m_reporter.start();
        // Opens of either terminal by name from now on are interference candidates.
        [[maybe_unused]] auto watched = m_watch.start(m_pty.slave_path, m_outer_path);
        m_inner_holders = terminal_holders(m_pty.slave_path);
        if (!m_outer_path.empty()) {
            m_outer_holders = terminal_holders(m_outer_path);
        }
        // An open since the watch began may have its descriptor in that first look already (the
        // shell opening its terminal by name as it starts): the first scan then judges against
        // the session's standard descriptors alone (startup_baseline). Read after the look, so
        // that no open falls between the two unjudged.
        const TerminalWatch::Opened early = m_watch.read_events();
        if (early.inner || early.outer) {
            const auto procs = util::snapshot_processes();
            const pid_t self = ::getpid();
            if (early.inner) {
                m_inner_holders = startup_baseline(m_inner_holders, procs, self, m_child);
                m_scan_inner = true;
            }
            if (early.outer) {
                m_outer_holders = startup_baseline(m_outer_holders, procs, self, m_child);
                m_scan_outer = true;
            }
        }
        loop();
    }
    m_outer.restore_settings();
    finish_close(m_outcome);
    m_outer.restore();
    ::sigprocmask(SIG_SETMASK, &original, nullptr);
    return m_outcome;
}

void Relay::loop()
{
    for (;;) {
        const std::int64_t now = util::monotonic_ms();
        if (m_child_done && m_to_outer.empty()
            && (m_master_eof || now - m_last_master_data >= k_drain_quiet_ms)) {
            return;
        }
        if (m_child_done && !m_to_outer.empty() && m_outer_blocked_since != 0
            && now - m_outer_blocked_since >= k_drain_stuck_ms) {
            return;
        }
        report(now);

        std::array<pollfd, 7> fds{};
        std::size_t n = 0;
        // A descriptor with nothing wanted is left out (-1): a hung-up pty reports POLLHUP
        // whatever is asked, and the relay must not spin while the other side is blocked.
        const auto add = [&](int fd, short events) {
            fds[n] = pollfd{events != 0 ? fd : -1, events, 0};
            return n++;
        };
        const std::size_t sig_i = add(m_signals.get(), POLLIN);
        const std::size_t master_i =
            add(m_pty.master.get(),
                static_cast<short>((!m_master_eof && m_to_outer.room() >= k_min_read ? POLLIN : 0)
                                   | (!m_master_eof && !m_to_inner.empty() ? POLLOUT : 0)));
        const std::size_t out_i =
            add(STDOUT_FILENO, static_cast<short>(!m_to_outer.empty() ? POLLOUT : 0));
        const std::size_t in_i =
            add(STDIN_FILENO,
                static_cast<short>(!m_outer_in_eof && m_to_inner.empty() && !m_child_done ? POLLIN
                                                                                          : 0));
        const std::size_t rep_i = add(m_reporter.done_fd(), POLLIN);
        const std::size_t watch_i = add(m_watch.fd(), POLLIN);

        std::int64_t timeout = -1;
        const auto at_most = [&timeout](std::int64_t ms) {
            timeout = timeout < 0 ? ms : std::min(timeout, ms);
        };
        if (m_reporter.ready()) {
            if (!m_interference.empty() || !m_queued_enters.empty()) {
                at_most(m_policy.may_send(now) ? 0 : 20);
            } else if (const auto wait = m_policy.wait_ms(now); wait >= 0) {
                at_most(wait);
            }
        }
        if (m_scan_inner || m_scan_outer) {
            at_most(std::max<std::int64_t>(0, m_last_scan + k_scan_gap_ms - now));
        }
        if (m_child_done) {
            at_most(k_drain_quiet_ms);
        }
        const int ready = ::poll(fds.data(), n, static_cast<int>(timeout));
        if (ready < 0 && errno != EINTR) {
            return; // nothing sensible left to wait for
        }
        const std::int64_t t = util::monotonic_ms();
        if (ready > 0) {
            if ((fds[sig_i].revents & POLLIN) != 0) {
                on_signals();
            }
            if ((fds[out_i].revents & (POLLOUT | POLLERR | POLLHUP)) != 0) {
                write_outer(t);
            }
            if ((fds[master_i].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
                // Each chunk goes out (and into the fingerprint) at once unless the outer terminal
                // is full; while it is, chunks are read ahead into the buffer's room.
                for (int i = 0; i < k_reads_per_poll && m_to_outer.room() >= k_min_read; ++i) {
                    const std::size_t got = read_master(t);
                    if (!m_to_outer.empty() && !m_outer_full) {
                        write_outer(t);
                    }
                    if (got < k_full_pty_read) {
                        break;
                    }
                }
            }
            if ((fds[master_i].revents & POLLOUT) != 0) {
                write_master();
            }
            if ((fds[in_i].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
                read_outer(t);
                if (!m_to_inner.empty()) {
                    write_master();
                }
            }
            if ((fds[rep_i].revents & POLLIN) != 0) {
                m_reporter.acknowledge();
            }
            if ((fds[watch_i].revents & POLLIN) != 0) {
                const auto opened = m_watch.read_events();
                m_scan_inner = m_scan_inner || opened.inner;
                m_scan_outer = m_scan_outer || opened.outer;
            }
        }
        if ((m_scan_inner || m_scan_outer) && t - m_last_scan >= k_scan_gap_ms) {
            scan_openers(t);
        }
    }
}

std::size_t Relay::read_master(std::int64_t now)
{
    for (;;) {
        const ssize_t r =
            ::read(m_pty.master.get(), m_to_outer.data.data() + m_to_outer.end, m_to_outer.room());
        if (r > 0) {
            m_last_master_data = now;
            if (!m_outer_dead) { // else nobody to show it to: never fed, never counted
                m_to_outer.end += static_cast<std::size_t>(r);
            }
            return static_cast<std::size_t>(r);
        }
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0 && errno == EAGAIN) {
            return 0;
        }
        // EIO: every slave descriptor is closed (the shell and its jobs are gone).
        m_master_eof = true;
        return 0;
    }
}

void Relay::write_outer(std::int64_t now)
{
    m_outer_full = false;
    while (!m_to_outer.empty()) {
        const std::size_t offered = m_to_outer.end - m_to_outer.begin;
        const ssize_t w =
            ::write(STDOUT_FILENO, m_to_outer.data.data() + m_to_outer.begin, offered);
        if (w > 0) {
            // The fingerprint covers exactly the bytes the outer terminal took (§12).
            m_fingerprint.feed(std::string_view(m_to_outer.data.data() + m_to_outer.begin,
                                                static_cast<std::size_t>(w)));
            m_policy.output(now);
            m_to_outer.begin += static_cast<std::size_t>(w);
            m_outer_blocked_since = 0;
            if (static_cast<std::size_t>(w) < offered) {
                // Full: trying again now would only fail with EAGAIN. Progress was made now.
                m_outer_full = true;
                m_outer_blocked_since = now;
                return;
            }
            continue;
        }
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w < 0 && errno == EAGAIN) {
            m_outer_full = true;
            if (m_outer_blocked_since == 0) {
                m_outer_blocked_since = now;
            }
            return;
        }
        // EIO, EPIPE: the session's terminal is gone.
        m_outer_dead = true;
        m_to_outer.clear();
        return;
    }
    m_to_outer.clear();
}

void Relay::read_outer(std::int64_t now)
{
    const ssize_t r = ::read(STDIN_FILENO, m_to_inner.data.data(), m_to_inner.data.size());
    if (r > 0) {
        m_to_inner.begin = 0;
        m_to_inner.end = static_cast<std::size_t>(r);
        const std::string_view typed(m_to_inner.data.data(), static_cast<std::size_t>(r));
        if (typed.find_first_of("\r\n") != std::string_view::npos) {
            if (m_queued_enters.size() < k_max_queued_enters && !m_reporter.broken()) {
                m_queued_enters.push_back(m_fingerprint.checkpoint());
            } else {
                m_policy.enter(now);
            }
        }
        return;
    }
    if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
        return;
    }
    // End of input (or the terminal is gone): stop reading it; the shell decides what is next.
    m_outer_in_eof = true;
}

void Relay::write_master()
{
    while (!m_to_inner.empty()) {
        const ssize_t w = ::write(m_pty.master.get(),
                                  m_to_inner.data.data() + m_to_inner.begin,
                                  m_to_inner.end - m_to_inner.begin);
        if (w > 0) {
            m_to_inner.begin += static_cast<std::size_t>(w);
            continue;
        }
        if (w < 0 && (errno == EINTR)) {
            continue;
        }
        if (w < 0 && errno == EAGAIN) {
            return;
        }
        m_to_inner.clear(); // the inner terminal is gone
        return;
    }
    m_to_inner.clear();
}

void Relay::on_signals()
{
    signalfd_siginfo info{};
    while (::read(m_signals.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
        switch (static_cast<int>(info.ssi_signo)) {
        case SIGWINCH: {
            // The outer terminal changed size: the inner one follows, which signals the shell's
            // foreground job.
            winsize ws{};
            if (::ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0) {
                ::ioctl(m_pty.master.get(), TIOCSWINSZ, &ws);
            }
            break;
        }
        case SIGHUP:
            // The session's terminal hung up: the shell gets what a hangup gives it.
            m_outcome.fin = "hangup";
            ::kill(m_child, SIGHUP);
            break;
        case SIGTERM:
            // An interactive shell ignores TERM; a hangup ends it and its jobs.
            if (m_outcome.fin == "exit") {
                m_outcome.fin = "signal";
            }
            ::kill(m_child, SIGTERM);
            ::kill(m_child, SIGHUP);
            ::kill(m_child, SIGCONT);
            break;
        default:
            break; // INT, QUIT, TSTP, TTIN, TTOU, PIPE: not ours (the outer terminal is raw)
        }
    }
    if (m_child_done) {
        return;
    }
    int status = 0;
    const pid_t done = ::waitpid(m_child, &status, WNOHANG);
    if (done == m_child) {
        m_outcome.exit_code = init::exit_code_from_wait_status(status);
        if (WIFSIGNALED(status) && m_outcome.fin == "exit") {
            m_outcome.fin = "signal";
        }
        m_child_done = true;
        m_last_master_data = util::monotonic_ms();
    }
}

void Relay::scan_openers(std::int64_t now)
{
    m_last_scan = now;
    const auto procs = util::snapshot_processes();
    const auto look = [&](bool& wanted,
                          const std::string& path,
                          std::vector<Holder>& baseline,
                          const char* side) {
        if (!wanted || path.empty()) {
            wanted = false;
            return;
        }
        wanted = false;
        auto holders = terminal_holders(path);
        const OpenVerdict verdict = judge_open(baseline, holders, procs, ::getpid(), m_child);
        baseline = std::move(holders);
        std::vector<Interference> found;
        for (const pid_t pid : verdict.outside) {
            if (m_reported.insert({side, pid}).second) {
                std::string comm;
                for (const auto& p : procs) {
                    if (p.pid == pid) {
                        comm = p.comm;
                    }
                }
                found.push_back({side, pid, comm});
            }
        }
        if (verdict.outside.empty() && !verdict.explained) {
            // The opener is gone already (or its descriptors are not readable): reported
            // without a name, at most one waiting per side.
            const bool waiting =
                std::any_of(m_interference.begin(), m_interference.end(), [&](const auto& i) {
                    return i.side == side && i.pid == 0;
                });
            if (!waiting) {
                found.push_back({side, 0, ""});
            }
        }
        for (auto& f : found) {
            if (m_interference.size() < k_max_pending_interference) {
                m_interference.push_back(std::move(f));
            }
        }
    };
    // A new descriptor inside the session (less opening ttyname) explains an open; a new one
    // outside it is interference; an open nobody explains is reported without a pid.
    look(m_scan_inner, m_pty.slave_path, m_inner_holders, "inner");
    look(m_scan_outer, m_outer_path, m_outer_holders, "outer");
}

client::Request Relay::next_queued_enter()
{
    const transcript::Checkpoint cp = m_queued_enters.front();
    m_queued_enters.pop_front();
    client::Request req;
    set_checkpoint(req, m_options.mode, "enter", cp);
    m_last_index = cp.index;
    return req;
}

void Relay::report(std::int64_t now)
{
    if (!m_reporter.ready() || !m_policy.may_send(now)) {
        return;
    }
    client::Request req;
    req.op = client::Op::rec;
    req.mode = m_options.mode;
    if (!m_queued_enters.empty()) {
        req = next_queued_enter();
        m_reporter.submit(req);
        // Not a checkpoint of everything shown so far: output after the keystroke still waits
        // for its idle (or flow) checkpoint.
        m_policy.sent(now, false);
        return;
    }
    if (!m_interference.empty()) {
        Interference i = std::move(m_interference.front());
        m_interference.pop_front();
        req.rec.kind = "interference";
        req.rec.idx = m_last_index;
        req.rec.off = m_fingerprint.offset();
        req.rec.opid = i.pid;
        req.rec.ocomm = i.comm.substr(0, client::k_max_rec_comm_bytes);
        req.rec.side = i.side;
        m_reporter.submit(req);
        m_policy.sent(now, false);
        return;
    }
    const auto kind = m_policy.due(now);
    if (!kind) {
        return;
    }
    // Taken only now that it will be sent: indices stay consecutive among those PID 1 got.
    const transcript::Checkpoint cp = m_fingerprint.checkpoint();
    set_checkpoint(req, m_options.mode, *kind, cp);
    m_last_index = cp.index;
    m_reporter.submit(req);
    m_policy.sent(now, true);
}

// The close text to the (still non-blocking) outer terminal, waiting at most
// k_close_write_ms for it: a hung terminal must not keep the recorder from exiting.
void write_bounded(std::string_view text)
{
    const std::int64_t deadline = util::monotonic_ms() + k_close_write_ms;
    while (!text.empty()) {
        const ssize_t w = ::write(STDOUT_FILENO, text.data(), text.size());
        if (w > 0) {
            text.remove_prefix(static_cast<std::size_t>(w));
            continue;
        }
        if (w < 0 && errno == EINTR) {
            continue;
        }
        const std::int64_t left = deadline - util::monotonic_ms();
        if (w < 0 && errno == EAGAIN && left > 0) {
            pollfd p{STDOUT_FILENO, POLLOUT, 0};
            ::poll(&p, 1, static_cast<int>(left));
            continue;
        }
        return;
    }
}

void Relay::finish_close(const ChildOutcome& outcome)
{
    client::Request close = m_options.close_request;
    close.op = client::Op::close;
    close.fin = outcome.fin;
    close.rc = outcome.exit_code;
    client::ExchangeResult result;
    std::optional<client::ExchangeResult> failure = m_reporter.stop();
    // Enter checkpoints still waiting go first, in order (the end's index follows theirs).
    while (!failure && !m_queued_enters.empty()) {
        const client::Request enter = next_queued_enter();
        auto sent = client::exchange(
            m_options.socket_path, client::format_request(enter), m_options.end_deadline_ms);
        if (!sent.ok || !client::is_ok_response(sent.response)) {
            failure = std::move(sent);
        }
    }
    if (failure) {
        result = std::move(*failure);
    } else {
        const transcript::Checkpoint cp = m_fingerprint.finish();
        client::Request end = close;
        set_checkpoint(end, m_options.mode, "end", cp);
        result = client::exchange(
            m_options.socket_path, client::format_request(end), m_options.end_deadline_ms);
    }
    // The outer terminal is as the recorder found it again: "\r\n" ends the recorded region
    // (docs/markers.md §12) and the close marker line follows it at once, so the region ends
    // right before the LF that precedes the marker's line; the banner's human lines come after
    // the marker here. One write.
    const std::string rendered =
        client::render_session_marker(close, m_options.marker_options, result);
    const std::string_view body = std::string_view(rendered).substr(
        0, rendered.ends_with('\n') ? rendered.size() - 1 : rendered.size());
    const std::size_t cut = body.rfind('\n');
    const std::string_view human =
        cut == std::string_view::npos ? std::string_view() : body.substr(0, cut + 1);
    const std::string_view marker_line =
        cut == std::string_view::npos ? body : body.substr(cut + 1);
    std::string text = "\r\n";
    text.append(marker_line).append("\n").append(human);
    if (!m_outer_dead) {
        write_bounded(text);
    }
}

} // namespace

util::Result<Pty> open_pty()
{
    Pty pty;
    pty.master.reset(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!pty.master) {
        return util::sys_error("open", "pty", errno);
    }
    if (::grantpt(pty.master.get()) != 0 || ::unlockpt(pty.master.get()) != 0) {
        return util::sys_error("unlock", "pty", errno);
    }
    std::array<char, 128> name{};
    if (::ptsname_r(pty.master.get(), name.data(), name.size()) != 0) {
        return util::sys_error("name", "pty", errno);
    }
    pty.slave_path = name.data();
    // Opened here, before the inotify watch exists: the recorder's own open is not an event.
    pty.slave.reset(::open(name.data(), O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!pty.slave) {
        return util::sys_error("open", pty.slave_path, errno);
    }
    termios tio{};
    if (::tcgetattr(STDIN_FILENO, &tio) == 0) {
        ::tcsetattr(pty.slave.get(), TCSANOW, &tio);
    }
    winsize ws{};
    if (::ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0) {
        ::ioctl(pty.slave.get(), TIOCSWINSZ, &ws);
    }
    // Non-blocking master: the relay never waits on one side while the other has work.
    const int flags = ::fcntl(pty.master.get(), F_GETFL);
    ::fcntl(pty.master.get(), F_SETFL, flags | O_NONBLOCK);
    return pty;
}

ChildOutcome run_recorded(Pty pty, const RecordOptions& options)
{
    Relay relay(std::move(pty), options);
    return relay.run();
}

} // namespace execmark::recorder
