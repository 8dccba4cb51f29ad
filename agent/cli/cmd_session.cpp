// SPDX-License-Identifier: MIT
// `execmark session open|close` (for shell hooks) and `execmark shell` (wrapper mode).
// Never fails a shell start: every problem degrades to an unsigned marker and exit 0.
#include <agent/cli/commands.hpp>
#include <agent/cli/logging.hpp>
#include <agent/marker/marker.hpp>
#include <agent/session/origin.hpp>
#include <agent/signer/banner.hpp>
#include <agent/signer/client.hpp>
#include <agent/signer/protocol.hpp>
#include <agent/util/io.hpp>
#include <agent/util/proc.hpp>
#include <agent/util/text.hpp>

#include <boost/program_options.hpp>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

extern char** environ;

namespace execmark::cli {

namespace {

namespace po = boost::program_options;

constexpr const char* k_default_claim_var = "AWS_USER";
constexpr const char* k_active_var = "EXECMARK_ACTIVE";

struct SessionArgs {
    std::string socket = signer::k_default_socket_path;
    std::string mode = "hook";
    std::string reason;
    std::string fin = "exit";
    std::int64_t rc = 0;
    bool compact = false;
    std::vector<std::string> command; // shell: the shell and its arguments
};

std::int64_t now_unix_ms()
{
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

signer::BannerStyle banner_style(const Environment& env, bool compact)
{
    const auto v = env.get("EXECMARK_BANNER");
    if (v == "off") {
        return signer::BannerStyle::off;
    }
    if (compact || v == "compact") {
        return signer::BannerStyle::compact;
    }
    return signer::BannerStyle::full;
}

// EXECMARK_TIMEOUT_MS, clamped; a bad value falls back to the default (never blocks a shell).
int client_deadline_ms(const Environment& env)
{
    const auto v = env.get("EXECMARK_TIMEOUT_MS");
    if (!v) {
        return signer::k_client_deadline_ms;
    }
    const auto ms = util::parse_uint(*v, signer::k_max_client_deadline_ms);
    if (!ms) {
        return signer::k_client_deadline_ms;
    }
    return std::max(static_cast<int>(*ms), signer::k_min_client_deadline_ms);
}

std::string claim_var(const Environment& env)
{
    const auto v = env.get("EXECMARK_CLAIM_VAR");
    return v && !v->empty() ? *v : std::string(k_default_claim_var);
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

// A marker PID 1 did not sign: same payload shape, kid "-", tseq 0, a chain of its own.
std::string unsigned_marker(const signer::Request& req,
                            const std::string& sid,
                            std::int64_t cpid,
                            std::string_view reason)
{
    marker::PayloadWriter w;
    std::string cfix;
    const auto claim = [&](const char* key, const std::string& raw) {
        auto s = marker::sanitize_claim(raw, marker::k_max_claim_bytes);
        const bool before = std::find(req.client_fixed.begin(), req.client_fixed.end(), key)
                            != req.client_fixed.end();
        if (s.altered || s.truncated || before) {
            cfix += (cfix.empty() ? "" : ",");
            cfix += key;
        }
        return s.value;
    };
    const std::string user = claim("user", req.claims.user);
    const std::string why = claim("reason", req.claims.reason);
    const std::string shell = claim("shell", req.claims.shell);
    const std::string tty = claim("tty", req.claims.tty);
    const bool is_close = req.op == signer::Op::close;
    w.add("v", marker::k_version)
        .add("ev", is_close ? marker::k_ev_close : marker::k_ev_open)
        .add("ts", marker::format_timestamp(now_unix_ms()))
        .add("kid", marker::k_none)
        .add("tseq", 0)
        .add("sid", sid)
        .add("seq", 1)
        .add("prev", marker::k_none)
        .add("task", "")
        .add("cluster", "")
        .add("ctr", "")
        .add("user", user)
        .add("owner", "")
        .add("osrc", "")
        .add("reason", why)
        .add("shell", shell)
        .add("tty", tty)
        .add("cpid", cpid)
        .add("mode", req.mode)
        .add("cfix", cfix);
    if (is_close) {
        w.add("fin", req.fin).add("rc", req.rc);
    }
    return marker::format_unsigned(w.finish(), reason);
}

// Asks PID 1 for the marker and writes banner + marker in one write. Always "succeeds".
void emit_session_marker(const signer::Request& req,
                         const SessionArgs& args,
                         const Environment& env)
{
    signer::BannerInput banner;
    banner.event = req.op == signer::Op::close ? "close" : "open";
    banner.claim_var = claim_var(env);
    banner.rc = req.rc;
    const auto result =
        signer::exchange(args.socket, signer::format_request(req), client_deadline_ms(env));
    std::optional<signer::MarkerResponse> response;
    if (result.ok) {
        auto parsed = signer::parse_marker_response(result.response);
        if (parsed) {
            response = std::move(*parsed);
        } else {
            // An {"ok":false} answer is PID 1 refusing; anything else is an answer we can't use.
            const std::string& why = parsed.error().message;
            banner.unsigned_reason = why.starts_with("agent request: no signing key") ? "no-key"
                                     : why.starts_with("agent request:") ? "agent-error"
                                                                         : "bad-response";
            banner.unsigned_detail = why;
        }
    } else {
        banner.unsigned_reason = std::string(signer::failure_reason(result.error.kind));
        banner.unsigned_detail = result.error.message;
    }
    if (response) {
        banner.marker_line = response->marker;
        banner.sid = response->sid;
        banner.ts = response->ts;
        banner.user = response->user;
        banner.task = response->task;
        banner.ctr = response->ctr;
        banner.kid = response->kid;
        banner.owner = response->owner;
    } else {
        const auto origin = session::find_session_origin(::getpid());
        banner.marker_line =
            unsigned_marker(req, origin.sid, origin.command_pid, banner.unsigned_reason);
        banner.sid = origin.sid;
        banner.user = req.claims.user;
        const auto ex = marker::extract(banner.marker_line);
        std::string error;
        if (const auto f = marker::parse_fields(ex.payload, &error)) {
            banner.ts = f->ts;
        }
    }
    const std::string text = signer::render_banner(banner, banner_style(env, args.compact));
    // One write(2): banner and marker reach the terminal (and the session log) together.
    [[maybe_unused]] auto st = util::write_all(STDOUT_FILENO, text);
}

signer::Request
make_request(signer::Op op, const SessionArgs& args, const Environment& env, std::string shell)
{
    signer::Request req;
    req.op = op;
    req.mode = args.mode;
    // Claims travel sanitized and capped, so the request always fits and is valid JSON;
    // what had to change is flagged for the marker's cfix.
    const auto prepare = [&req](const char* name, const std::string& raw) {
        auto s = marker::sanitize_claim(raw, signer::k_max_sent_claim_bytes);
        if (s.altered || s.truncated) {
            req.client_fixed.emplace_back(name);
        }
        return std::move(s.value);
    };
    req.claims.user = prepare("user", env.get(claim_var(env)).value_or(""));
    req.claims.reason = prepare("reason", args.reason);
    req.claims.shell = prepare("shell", shell);
    req.claims.tty = prepare("tty", tty_name());
    req.fin = args.fin;
    req.rc = args.rc;
    return req;
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

int parse_common(const std::vector<std::string>& args,
                 po::options_description& desc,
                 po::variables_map& vm,
                 std::vector<std::string>* rest)
{
    // The parser keeps a reference to the positional description: it must outlive run().
    po::positional_options_description pos;
    pos.add("command", -1);
    try {
        auto parser = po::command_line_parser(args).options(desc);
        if (rest != nullptr) {
            parser.positional(pos);
        }
        po::store(parser.run(), vm);
        po::notify(vm);
        if (rest != nullptr && vm.count("command") != 0) {
            *rest = vm["command"].as<std::vector<std::string>>();
        }
    } catch (const po::error& e) {
        std::fprintf(stderr, "execmark: %s\n", e.what());
        return k_exit_usage;
    }
    return -1;
}

} // namespace

int run_session(const std::vector<std::string>& args, const Environment& env)
{
    setup_logging("session", 1);
    SessionArgs a;
    a.socket = env.get("EXECMARK_SOCKET").value_or(signer::k_default_socket_path);
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
        std::fprintf(
            stderr, "execmark session: unknown action '%s' (open or close)\n", verb.c_str());
        return k_exit_usage;
    }
    po::variables_map vm;
    if (const int rc = parse_common({args.begin() + 1, args.end()}, desc, vm, nullptr); rc >= 0) {
        return rc;
    }
    if (vm.count("help") != 0) {
        print_session_help(stdout, desc);
        return k_exit_ok;
    }
    if ((a.mode != "hook" && a.mode != "wrapper")
        || (a.fin != "exit" && a.fin != "signal" && a.fin != "hangup") || a.rc < 0 || a.rc > 383) {
        std::fprintf(stderr, "execmark session: bad --mode, --fin or --rc value\n");
        return k_exit_usage;
    }
    const auto op = verb == "open" ? signer::Op::open : signer::Op::close;
    emit_session_marker(make_request(op, a, env, parent_shell()), a, env);
    return k_exit_ok;
}

int run_shell(const std::vector<std::string>& args, const Environment& env)
{
    setup_logging("shell", 1);
    SessionArgs a;
    a.mode = "wrapper";
    a.socket = env.get("EXECMARK_SOCKET").value_or(signer::k_default_socket_path);
    po::options_description desc("Options");
    desc.add_options()("help,h",
                       "show this help")("socket", po::value(&a.socket), "agent socket path")(
        "reason", po::value(&a.reason), "why the session is opened (a claim, e.g. a ticket)")(
        "compact", po::bool_switch(&a.compact), "one human line instead of the full banner");
    po::options_description all;
    all.add(desc).add_options()("command", po::value<std::vector<std::string>>(), "");
    po::variables_map vm;
    if (const int rc = parse_common(args, all, vm, &a.command); rc >= 0) {
        return rc;
    }
    if (vm.count("help") != 0) {
        std::fprintf(
            stdout,
            "Usage: execmark shell [--reason R] [--compact] [-- SHELL [ARGS...]]\n\n"
            "Wrapper mode for `aws ecs execute-command --command`: writes the signed open\n"
            "marker, runs SHELL (default: bash if present, else sh) on the same terminal,\n"
            "then writes the close marker with its exit status. Needs no rc file.\n\n"
            "Example:\n"
            "  aws ecs execute-command --interactive --cluster prod --task $T \\\n"
            "    --command \"/usr/local/bin/execmark shell --reason INC-1234 -- /bin/bash\"\n");
        return k_exit_ok;
    }
    if (a.command.empty()) {
        a.command = {::access("/bin/bash", X_OK) == 0 ? "/bin/bash" : "/bin/sh"};
    }
    // A nested wrapper (or a hook under it) must not open a second session.
    const bool nested = env.has(k_active_var);
    if (!nested) {
        emit_session_marker(make_request(signer::Op::open, a, env, a.command.front()), a, env);
        ::setenv(k_active_var, "wrapper", 1);
    }

    // The wrapper waits; the shell gets the terminal signals. INT/QUIT are ignored here like
    // system(3) does and reset to default in the shell; HUP/TERM are passed on.
    sigset_t wait_set;
    sigemptyset(&wait_set);
    for (const int sig : {SIGCHLD, SIGHUP, SIGTERM}) {
        sigaddset(&wait_set, sig);
    }
    sigset_t original;
    ::sigprocmask(SIG_BLOCK, &wait_set, &original);
    ::signal(SIGINT, SIG_IGN);
    ::signal(SIGQUIT, SIG_IGN);

    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGQUIT);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setsigmask(&attr, &original);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    std::vector<char*> argv;
    for (auto& s : a.command) {
        argv.push_back(s.data());
    }
    argv.push_back(nullptr);
    pid_t child = -1;
    const int err = ::posix_spawnp(&child, argv[0], nullptr, &attr, argv.data(), environ);
    posix_spawnattr_destroy(&attr);
    int exit_code = 0;
    std::string fin = "exit";
    if (err != 0) {
        std::fprintf(stderr, "execmark shell: execute %s: %s\n", argv[0], std::strerror(err));
        exit_code = err == ENOENT ? 127 : 126;
    } else {
        for (;;) {
            siginfo_t info{};
            const int sig = ::sigwaitinfo(&wait_set, &info);
            if (sig == SIGHUP || sig == SIGTERM) {
                fin = sig == SIGHUP ? "hangup" : "signal";
                ::kill(child, sig);
                continue;
            }
            int status = 0;
            const pid_t done = ::waitpid(child, &status, WNOHANG);
            if (done == child) {
                if (WIFSIGNALED(status)) {
                    exit_code = 128 + WTERMSIG(status);
                    if (fin == "exit") {
                        fin = "signal";
                    }
                } else {
                    exit_code = WEXITSTATUS(status);
                }
                break;
            }
            if (done < 0 && errno != EINTR) {
                break;
            }
        }
    }
    if (!nested) {
        a.fin = fin;
        a.rc = exit_code;
        emit_session_marker(make_request(signer::Op::close, a, env, a.command.front()), a, env);
    }
    return exit_code;
}

} // namespace execmark::cli
