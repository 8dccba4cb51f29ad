// SPDX-License-Identifier: MIT
#include <agent/cli/cli.hpp>
#include <agent/cli/commands.hpp>
#include <agent/cli/version.hpp>

#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace execmark::cli {

namespace {

int cmd_init(const std::vector<std::string>& args, const Environment& env)
{
    return run_init(args, env, false);
}

constexpr Command k_commands[] = {
    {"init", "run PROGRAM as PID 1: reap, forward signals, graceful shutdown", &cmd_init},
    {"metadata", "print this task's ECS metadata (task, cluster, container)", &run_metadata},
    {"session", "open/close a signed session marker (called by the shell hooks)", &run_session},
    {"shell", "wrapper mode: signed open marker, run a shell, signed close marker", &run_shell},
    {"hook", "install the shell hooks into an image; print a hook", &run_hook},
    {"doctor", "check this container's prerequisites for signed session markers", &run_doctor},
    {"verify", "check the signed markers in ECS Exec session logs", &run_verify},
    {"audit", "verify plus the exact CloudTrail join: who opened each session", &run_audit},
};

void print_help(std::FILE* out)
{
    std::fprintf(out,
                 "Usage: execmark COMMAND [OPTIONS] [ARGS...]\n\n"
                 "Signed attribution for ECS Exec sessions, and a PID 1 for containers.\n\n"
                 "Commands:\n");
    for (const auto& c : k_commands) {
        std::fprintf(out, "  %-10s %s\n", c.name, c.summary);
    }
    std::fprintf(out,
                 "\n  execmark COMMAND --help   shows a command's options and examples.\n"
                 "  execmark --version        prints the version.\n\n"
                 "Invoked as `tini` or `docker-init` (a link to this binary) it is `execmark "
                 "init`\nwith tini's command line.\n");
}

std::string_view basename_of(const char* path)
{
    const std::string_view p(path == nullptr ? "" : path);
    const auto slash = p.rfind('/');
    return slash == std::string_view::npos ? p : p.substr(slash + 1);
}

} // namespace

int run(int argc, char** argv)
{
    const Environment env = Environment::capture();
    std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
    const std::string_view self = basename_of(argc > 0 ? argv[0] : nullptr);
    if (self == "tini" || self == "docker-init" || self == "tini-static") {
        return run_init(args, env, true);
    }
    if (args.empty()) {
        print_help(stderr);
        return k_exit_usage;
    }
    const std::string& first = args.front();
    if (first == "--version" || first == "-V" || first == "version") {
        std::printf("%s\n", version_line().c_str());
        return k_exit_ok;
    }
    if (first == "--help" || first == "-h" || first == "help") {
        print_help(stdout);
        return k_exit_ok;
    }
    for (const auto& c : k_commands) {
        if (first == c.name) {
            args.erase(args.begin());
            return c.run(args, env);
        }
    }
    std::fprintf(stderr, "execmark: unknown command '%s'\n\n", first.c_str());
    print_help(stderr);
    return k_exit_usage;
}

} // namespace execmark::cli
