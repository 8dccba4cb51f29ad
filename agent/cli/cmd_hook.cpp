// SPDX-License-Identifier: MIT
#include <agent/cli/commands.hpp>
#include <agent/cli/po_parse.hpp>
#include <agent/hooks/hooks.hpp>
#include <agent/hooks/install.hpp>
#include <agent/util/error.hpp>
#include <agent/util/io.hpp>

#include <boost/program_options.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace execmark::cli {

namespace {

namespace po = boost::program_options;

struct HookArgs {
    std::string action; // "print" | "install"
    std::string shell;  // print
    std::string root = "/";
    std::string bin = std::string(hooks::k_default_bin);
    bool dry_run = false;
    bool help = false;
};

void print_hook_help(std::FILE* out, const po::options_description& desc)
{
    std::ostringstream options;
    options << desc;
    std::fprintf(out,
                 R"(Usage: execmark hook install [--root DIR] [--bin PATH] [--dry-run]
       execmark hook print SHELL [--bin PATH]

install  Put the shell hooks into an image (run it in the Dockerfile): writes %s
         and %s, and adds one block sourcing them to the rc files of the shells
         present: bash's system bashrc (/etc/bash.bashrc, /etc/bash/bashrc, /etc/bashrc, or
         root's ~/.bashrc where bash reads none), zsh's global zshrc (/etc/zsh/zshrc,
         /etc/zshrc). Installing again changes nothing; an older block is updated in place;
         rc files keep every other byte, their mode and owner. dash, busybox ash and mksh read
         no rc file when ECS Exec starts them: the image needs ENV=%s.
print    Print the hook for SHELL (bash, sh, dash, ash, mksh, zsh) on stdout.

%s
Exit status: 0 done, 1 install failed (nothing or only complete files written; the reason on
stderr), 2 usage error.

Examples:
  RUN ["/usr/local/bin/execmark", "hook", "install"]
  ENV ENV=%s
  execmark hook install --root /tmp/rootfs --dry-run
  execmark hook print zsh > /etc/execmark/hook.zsh
)",
                 std::string(hooks::k_posix_hook_path).c_str(),
                 std::string(hooks::k_zsh_hook_path).c_str(),
                 std::string(hooks::k_posix_hook_path).c_str(),
                 options.str().c_str(),
                 std::string(hooks::k_posix_hook_path).c_str());
}

util::Result<HookArgs> parse_hook_args(const std::vector<std::string>& args,
                                       const po::options_description& desc)
{
    auto parsed = parse_with_words(args, desc, "words");
    if (!parsed) {
        return parsed.error();
    }
    const po::variables_map& vm = *parsed;
    HookArgs a;
    a.help = vm.count("help") > 0;
    if (a.help) {
        return a;
    }
    const auto words = words_of(vm, "words");
    if (words.empty()) {
        return util::make_error("parse", "arguments", "missing action: install or print");
    }
    a.action = words.front();
    a.dry_run = vm.count("dry-run") > 0;
    if (vm.count("root") > 0) {
        a.root = vm["root"].as<std::string>();
    }
    if (vm.count("bin") > 0) {
        a.bin = vm["bin"].as<std::string>();
    }
    if (!hooks::is_valid_bin_path(a.bin)) {
        return util::make_error("parse",
                                "--bin",
                                "'" + a.bin
                                    + "' must be an absolute path of A-Z a-z 0-9 . _ + @ / -");
    }
    if (a.action == "print") {
        if (words.size() != 2) {
            return util::make_error("parse", "hook print", "expects one SHELL");
        }
        a.shell = words[1];
        if (!hooks::hook_kind_for_shell(a.shell)) {
            return util::make_error(
                "parse", "SHELL", "'" + a.shell + "' is not one of bash, sh, dash, ash, mksh, zsh");
        }
        if (vm.count("root") > 0 || a.dry_run) {
            return util::make_error("parse", "hook print", "takes no --root or --dry-run");
        }
    } else if (a.action == "install") {
        if (words.size() != 1) {
            return util::make_error("parse", "hook install", "takes no arguments");
        }
        if (a.root.empty()) {
            return util::make_error("parse", "--root", "is empty");
        }
    } else {
        return util::make_error(
            "parse", "arguments", "unknown action '" + a.action + "': install or print");
    }
    return a;
}

std::string join_names(const std::vector<std::string>& names)
{
    std::string out;
    for (const auto& n : names) {
        out.append(out.empty() ? "" : ", ").append(n);
    }
    return out;
}

void print_report(const hooks::InstallReport& report, const HookArgs& args)
{
    std::printf(
        "execmark hook install%s (root %s)\n", args.dry_run ? " --dry-run" : "", args.root.c_str());
    std::string shells;
    for (const auto& s : report.facts.shells) {
        shells.append(shells.empty() ? "" : ", ")
            .append(s.name)
            .append(" (")
            .append(s.path)
            .append(")");
    }
    std::printf("  shells found: %s\n", shells.empty() ? "none" : shells.c_str());
    std::size_t width = 0;
    for (const auto& change : report.changes) {
        width = std::max(width, change.path.size());
    }
    for (const auto& change : report.changes) {
        const auto action = hooks::file_action_name(change.action, args.dry_run);
        std::printf("  %-12.*s %-*s  %s\n",
                    static_cast<int>(action.size()),
                    action.data(),
                    static_cast<int>(width),
                    change.path.c_str(),
                    change.why.c_str());
    }
    const auto posix = hooks::env_shells(report.facts);
    std::printf("POSIX shells%s%s%s read only $ENV when ECS Exec starts them: the image needs\n"
                "  ENV ENV=%s\n"
                "in its Dockerfile (execmark cannot set an image's environment).\n",
                posix.empty() ? "" : " (",
                join_names(posix).c_str(),
                posix.empty() ? "" : ")",
                std::string(hooks::k_posix_hook_path).c_str());
}

} // namespace

int run_hook(const std::vector<std::string>& args, const Environment& /*env*/)
{
    po::options_description desc("Options");
    desc.add_options()("root", po::value<std::string>(), "install into the image rooted at DIR")(
        "bin",
        po::value<std::string>(),
        "the binary's path inside the image (default /usr/local/bin/execmark)")(
        "dry-run", "show what install would change, change nothing")("help,h", "show this help");
    auto parsed = parse_hook_args(args, desc);
    if (!parsed) {
        std::fprintf(stderr, "execmark hook: %s\n\n", parsed.error().message.c_str());
        print_hook_help(stderr, desc);
        return k_exit_usage;
    }
    const HookArgs& a = *parsed;
    if (a.help) {
        print_hook_help(stdout, desc);
        return k_exit_ok;
    }
    if (a.action == "print") {
        const auto text = hooks::hook_text(*hooks::hook_kind_for_shell(a.shell), a.bin);
        if (auto w = util::write_all(STDOUT_FILENO, text); !w) {
            std::fprintf(stderr, "execmark hook: %s\n", w.error().message.c_str());
            return k_exit_failure;
        }
        return k_exit_ok;
    }
    const hooks::RootFs fs(a.root);
    hooks::InstallOptions options;
    options.bin = a.bin;
    options.dry_run = a.dry_run;
    auto report = hooks::install(fs, options);
    if (!report) {
        std::fprintf(stderr, "execmark hook: %s\n", report.error().message.c_str());
        return k_exit_failure;
    }
    print_report(*report, a);
    return k_exit_ok;
}

} // namespace execmark::cli
