// SPDX-License-Identifier: MIT
// `execmark session open|close` (for shell hooks) and `execmark shell` (wrapper mode).
// Never fails a shell start: every problem degrades to an unsigned marker and exit 0.
#include <agent/cli/commands.hpp>
#include <agent/cli/logging.hpp>
#include <agent/cli/po_parse.hpp>
#include <agent/client/exchange.hpp>
#include <agent/client/session_marker.hpp>
#include <agent/recorder/child.hpp>
#include <agent/recorder/pty_relay.hpp>
#include <agent/recorder/typed_ahead.hpp>
#include <agent/util/io.hpp>
#include <agent/util/proc.hpp>
#include <agent/util/text.hpp>

#include <boost/program_options.hpp>

#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace execmark::cli {

namespace {

namespace po = boost::program_options;

struct SessionArgs {
    std::string socket = client::k_default_socket_path;
    std::string mode = "hook";
    std::string reason;
    std::string fin = "exit";
    std::int64_t rc = 0;
    bool compact = false;
    // PID 1 already let this session's client time out once: no second wait (one deadline per
    // shell start, whatever path it takes).
    bool agent_timed_out = false;
};

client::BannerStyle banner_style(const Environment& env, bool compact)
{
    const auto v = env.get(env_names::k_banner);
    if (v == "off") {
        return client::BannerStyle::off;
    }
    if (compact || v == "compact") {
        return client::BannerStyle::compact;
    }
    return client::BannerStyle::full;
}

// EXECMARK_TIMEOUT_MS, clamped; a bad value falls back to the default (never blocks a shell).
int client_deadline_ms(const Environment& env)
{
    const auto v = env.get(env_names::k_timeout_ms);
    if (!v) {
        return client::k_client_deadline_ms;
    }
    const auto ms = util::parse_uint(*v, client::k_max_client_deadline_ms);
    if (!ms) {
        return client::k_client_deadline_ms;
    }
    return std::max(static_cast<int>(*ms), client::k_min_client_deadline_ms);
}

// The terminal the session runs on, as a claim ("" when none).
std::string tty_name()
{
    for (const int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO}) {
        char buf[128];
        if (::ttyname_r(fd, buf, sizeof buf) == 0) {
            return buf;
        }
    }
    return {};
}

// The shell that runs the hook: our parent's command name (a claim).
std::string parent_shell()
{
    const auto st = util::read_proc_stat(::getppid());
    return st ? st->comm : std::string();
}

// Asks PID 1 for the marker and writes banner + marker in one write. Always "succeeds".
void emit_session_marker(client::Op op,
                         const SessionArgs& args,
                         const Environment& env,
                         std::string shell)
{
    marker::Claims raw;
    raw.user = env.get(env.claim_var()).value_or("");
    raw.reason = args.reason;
    raw.shell = std::move(shell);
    raw.tty = tty_name();
    client::Request req = client::session_request(op, args.mode, raw);
    req.fin = args.fin;
    req.rc = args.rc;
    client::SessionMarkerOptions options;
    options.socket_path = args.socket;
    options.deadline_ms = client_deadline_ms(env);
    options.style = banner_style(env, args.compact);
    options.claim_var = env.claim_var();
    if (args.agent_timed_out) {
        client::ExchangeResult timed_out;
        timed_out.error = {client::ClientFailure::timeout, "PID 1 did not answer this session"};
        [[maybe_unused]] auto st =
            util::write_all(STDOUT_FILENO, client::render_session_marker(req, options, timed_out));
        return;
    }
    // One write(2): banner and marker reach the terminal (and the session log) together.
    [[maybe_unused]] auto st =
        util::write_all(STDOUT_FILENO, client::session_marker_text(req, options));
}

void print_session_help(std::FILE* out, const po::options_description& desc)
{
    std::fprintf(out,
                 "Usage: execmark session open [--reason R] [--compact] [--mode hook|wrapper]\n"
                 "       execmark session close [--rc N] [--fin exit|signal|hangup]\n\n"
                 "Ask PID 1 (execmark init) for a signed session marker and print the banner and\n"
                 "the marker line on stdout. Called by the shell hooks; always exits 0 (a shell\n"
                 "start must never fail): without an answer within 500 ms the marker is written\n"
                 "unsigned, with the reason.\n\n");
    std::string text;
    for (const auto& opt : desc.options()) {
        text += "  " + opt->format_name() + "  " + opt->description() + "\n";
    }
    std::fprintf(out,
                 "%s\nEnvironment:\n"
                 "  AWS_USER              the claimed user (variable name: EXECMARK_CLAIM_VAR)\n"
                 "  EXECMARK_SOCKET       agent socket (default /run/execmark/agent.sock)\n"
                 "  EXECMARK_BANNER       full | compact | off (off: marker line only)\n\n"
                 "Examples:\n"
                 "  execmark session open --reason INC-1234\n"
                 "  trap 'execmark session close --rc $?' EXIT\n",
                 text.c_str());
}

constexpr const char* k_words = "command";

} // namespace

int run_session(const std::vector<std::string>& args, const Environment& env)
{
    setup_logging("session", 1);
    SessionArgs a;
    a.agent_timed_out = env.get(env_names::k_agent_timed_out) == "1";
    a.socket = env.get(env_names::k_socket).value_or(client::k_default_socket_path);
    po::options_description desc("Options");
    desc.add_options()("help,h",
                       "show this help")("socket", po::value(&a.socket), "agent socket path")(
        "reason", po::value(&a.reason), "why the session is opened (a claim, e.g. a ticket)")(
        "mode", po::value(&a.mode), "hook (default) or wrapper")(
        "compact", po::bool_switch(&a.compact), "one human line instead of the full banner")(
        "rc", po::value(&a.rc), "close: the shell's exit status")(
        "fin", po::value(&a.fin), "close: exit, signal or hangup");
    if (args.empty() || args[0] == "--help" || args[0] == "-h") {
        print_session_help(args.empty() ? stderr : stdout, desc);
        return args.empty() ? k_exit_usage : k_exit_ok;
    }
    const std::string& verb = args[0];
    if (verb != "open" && verb != "close") {
        return usage_error("session", "unknown action '" + verb + "' (open or close)");
    }
    const auto vm = parse_with_words({args.begin() + 1, args.end()}, desc, k_words);
    if (!vm) {
        return usage_error("session", vm.error().message);
    }
    if (vm->count("help") != 0) {
        print_session_help(stdout, desc);
        return k_exit_ok;
    }
    if (!words_of(*vm, k_words).empty()) {
        return usage_error("session",
                           "unexpected argument '" + words_of(*vm, k_words).front() + "'");
    }
    if ((a.mode != "hook" && a.mode != "wrapper")
        || (a.fin != "exit" && a.fin != "signal" && a.fin != "hangup") || a.rc < 0 || a.rc > 383) {
        return usage_error("session", "bad --mode, --fin or --rc value");
    }
    emit_session_marker(
        verb == "open" ? client::Op::open : client::Op::close, a, env, parent_shell());
    return k_exit_ok;
}

namespace {

// Sends one report of the recorder to PID 1 (`rec`); true when PID 1 took it. A timeout is
// remembered (in a and in the environment of the shell started next), so that the session's open
// and close do not wait for PID 1 again.
bool send_record(SessionArgs& a, const Environment& env, const client::RecordReport& rec)
{
    if (a.agent_timed_out) {
        return false;
    }
    client::Request req;
    req.op = client::Op::rec;
    req.mode = a.mode;
    req.rec = rec;
    const auto result =
        client::exchange(a.socket, client::format_request(req), client_deadline_ms(env));
    if (!result.ok && result.error.kind == client::ClientFailure::timeout) {
        a.agent_timed_out = true;
        ::setenv(env_names::k_agent_timed_out, "1", 1);
    }
    return result.ok && client::is_ok_response(result.response);
}

// Asks PID 1 to start recording this session (`rec start`): only the session's command, running
// PID 1's own executable, untraced, gets a yes (docs/markers.md §12).
bool start_recording(SessionArgs& a, const Environment& env)
{
    client::RecordReport start;
    start.kind = "start";
    return send_record(a, env, start);
}

// Reports the input typed ahead of the recorder (`rec typed`: how many bytes, the digest of their
// echo), when there was any. Unanswered, the session is still recorded; the auditor then takes
// the echo before the open for unrecorded output.
void report_typed_ahead(SessionArgs& a, const Environment& env, const recorder::TypedAhead& typed)
{
    if (typed.bytes.empty()) {
        return;
    }
    client::RecordReport report;
    report.kind = "typed";
    report.off = typed.bytes.size();
    report.hash = typed.echo_digest;
    send_record(a, env, report);
}

// The close request of this session (claims as the open's), for the recorder's end report.
client::Request close_request(const SessionArgs& a, const Environment& env, std::string shell)
{
    marker::Claims raw;
    raw.user = env.get(env.claim_var()).value_or("");
    raw.reason = a.reason;
    raw.shell = std::move(shell);
    raw.tty = tty_name();
    return client::session_request(client::Op::close, a.mode, raw);
}

// Replaces this process with the shell (hook mode, when it cannot record): the hook in it then
// opens the session unrecorded, as without the recorder. Falls back to /bin/sh: the operator
// always gets a shell.
int exec_shell(const std::vector<std::string>& command, const std::string& exec_path)
{
    std::vector<std::string> args = command;
    std::vector<char*> argv;
    for (auto& s : args) {
        argv.push_back(s.data());
    }
    argv.push_back(nullptr);
    if (!exec_path.empty()) {
        ::execv(exec_path.c_str(), argv.data());
    }
    ::execvp(argv[0], argv.data());
    const int err = errno;
    std::fprintf(stderr, "execmark shell: execute %s: %s\n", argv[0], std::strerror(err));
    char sh[] = "/bin/sh";
    char interactive[] = "-i";
    char* fallback[] = {sh, interactive, nullptr};
    ::execv(sh, fallback);
    return 127;
}

} // namespace

int run_shell(const std::vector<std::string>& args, const Environment& env)
{
    // First of all, for the hook: the shells started from here never exec the recorder again.
    ::setenv(env_names::k_record, "1", 1);
    setup_logging("shell", 1);
    SessionArgs a;
    a.agent_timed_out = env.get(env_names::k_agent_timed_out) == "1";
    int shell_fd = -1;
    a.mode = "wrapper";
    a.socket = env.get(env_names::k_socket).value_or(client::k_default_socket_path);
    po::options_description desc("Options");
    desc.add_options()("help,h",
                       "show this help")("socket", po::value(&a.socket), "agent socket path")(
        "reason", po::value(&a.reason), "why the session is opened (a claim, e.g. a ticket)")(
        "mode", po::value(&a.mode), "wrapper (default), or hook (run by the shell hook)")(
        "compact", po::bool_switch(&a.compact), "one human line instead of the full banner")(
        "shell-fd",
        po::value(&shell_fd),
        "hook: descriptor open on the shell's executable (argv[0] stays SHELL)");
    const auto vm = parse_with_words(args, desc, k_words);
    if (!vm) {
        return usage_error("shell", vm.error().message);
    }
    // The hook passes the shell's own executable (/proc/$$/exe) as a descriptor: its path is read
    // here, the descriptor closed, and the shell started from that file under its own argv[0]
    // (busybox picks its applet from argv[0]).
    std::string exec_path;
    if (shell_fd >= 3) {
        std::array<char, 4096> target{};
        const std::string link = "/proc/self/fd/" + std::to_string(shell_fd);
        const ssize_t n = ::readlink(link.c_str(), target.data(), target.size() - 1);
        if (n > 0 && target[0] == '/') {
            exec_path.assign(target.data(), static_cast<std::size_t>(n));
        }
        ::close(shell_fd);
    }
    if (vm->count("help") != 0) {
        std::fprintf(
            stdout,
            "Usage: execmark shell [--reason R] [--compact] [--mode wrapper|hook]\n"
            "                      [--shell-fd N] [-- SHELL [ARGS...]]\n\n"
            "Wrapper mode for `aws ecs execute-command --command`: writes the signed open\n"
            "marker, runs SHELL (default: bash if present, else sh) on the same terminal,\n"
            "then writes the close marker with its exit status. Needs no rc file.\n"
            "On a terminal, with PID 1 answering, the session is recorded: the shell runs on\n"
            "a pty of its own and PID 1 signs checkpoints of its output into the container log\n"
            "(docs/markers.md, \"Recorded sessions\"). --mode hook is the shell hook's way in.\n\n"
            "Example:\n"
            "  aws ecs execute-command --interactive --cluster prod --task $T \\\n"
            "    --command \"/usr/local/bin/execmark shell --reason INC-1234 -- /bin/bash\"\n");
        return k_exit_ok;
    }
    if (a.mode != "hook" && a.mode != "wrapper") {
        return usage_error("shell", "bad --mode value (hook or wrapper)");
    }
    const bool hook = a.mode == "hook";
    std::vector<std::string> command = words_of(*vm, k_words);
    if (command.empty()) {
        command = {::access("/bin/bash", X_OK) == 0 ? "/bin/bash" : "/bin/sh"};
    }
    // A nested wrapper (or a hook under it) must not open a second session.
    const bool nested = env.has(env_names::k_active);
    if (nested && hook) {
        return exec_shell(command, exec_path);
    }
    if (!nested && ::isatty(STDIN_FILENO) == 1 && ::isatty(STDOUT_FILENO) == 1) {
        // The pty first: if there is none, nothing is announced to PID 1.
        if (auto pty = recorder::open_pty(); pty && start_recording(a, env)) {
            // Non-dumpable from here: the exe check is done; a root user without
            // CAP_SYS_PTRACE can no longer attach, read this memory or core-dump it.
            ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
            // Keys typed while the shell started: taken from the session's terminal before the
            // open is written (their echo is all that may precede it), reported, and handed to
            // the shell's terminal.
            recorder::TypedAhead typed = recorder::take_typed_ahead();
            report_typed_ahead(a, env, typed);
            recorder::give_typed_ahead(pty->master.get(), typed.bytes);
            emit_session_marker(client::Op::open, a, env, command.front());
            ::setenv(env_names::k_active, a.mode.c_str(), 1);
            recorder::RecordOptions options;
            options.argv = command;
            options.exec_path = exec_path;
            options.socket_path = a.socket;
            options.mode = a.mode;
            options.report_deadline_ms =
                std::max(client_deadline_ms(env), recorder::k_report_deadline_ms);
            options.end_deadline_ms = client_deadline_ms(env);
            options.close_request = close_request(a, env, command.front());
            options.marker_options.socket_path = a.socket;
            options.marker_options.deadline_ms = client_deadline_ms(env);
            options.marker_options.style = banner_style(env, a.compact);
            options.marker_options.claim_var = env.claim_var();
            options.outer_found = typed.outer_found;
            return recorder::run_recorded(std::move(*pty), options).exit_code;
        }
    }
    if (hook) {
        // Not recorded: the same shell, whose hook opens the session as without the recorder.
        return exec_shell(command, exec_path);
    }
    if (!nested) {
        emit_session_marker(client::Op::open, a, env, command.front());
        ::setenv(env_names::k_active, "wrapper", 1);
    }
    const recorder::ChildOutcome outcome = recorder::run_child(command);
    if (!nested) {
        a.fin = outcome.fin;
        a.rc = outcome.exit_code;
        emit_session_marker(client::Op::close, a, env, command.front());
    }
    return outcome.exit_code;
}

} // namespace execmark::cli
