// SPDX-License-Identifier: MIT
#include <agent/init/exit_status.hpp>
#include <agent/recorder/child.hpp>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

extern char** environ;

namespace execmark::recorder {

ChildOutcome run_child(const std::vector<std::string>& command)
{
    ChildOutcome out;
    if (command.empty()) {
        out.exit_code = 127;
        return out;
    }
    // The caller waits; the shell gets the terminal signals. INT/QUIT are ignored here like
    // system(3) does and reset to default in the shell; HUP/TERM are passed on.
    sigset_t wait_set;
    sigemptyset(&wait_set);
    for (const int sig : {SIGCHLD, SIGHUP, SIGTERM}) {
        sigaddset(&wait_set, sig);
    }
    sigset_t original;
    ::sigprocmask(SIG_BLOCK, &wait_set, &original);

    struct sigaction ignore {};

    ignore.sa_handler = SIG_IGN;

    struct sigaction old_int {};

    struct sigaction old_quit {};

    ::sigaction(SIGINT, &ignore, &old_int);
    ::sigaction(SIGQUIT, &ignore, &old_quit);

    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGQUIT);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setsigmask(&attr, &original);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    std::vector<std::string> args = command;
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (auto& s : args) {
        argv.push_back(s.data());
    }
    argv.push_back(nullptr);
    pid_t child = -1;
    const int err = ::posix_spawnp(&child, argv[0], nullptr, &attr, argv.data(), environ);
    posix_spawnattr_destroy(&attr);
    if (err != 0) {
        std::fprintf(stderr, "execmark shell: execute %s: %s\n", argv[0], std::strerror(err));
        out.exit_code = init::exit_code_for_exec_error(err);
    } else {
        for (;;) {
            siginfo_t info{};
            const int sig = ::sigwaitinfo(&wait_set, &info);
            if (sig == SIGHUP || sig == SIGTERM) {
                out.fin = sig == SIGHUP ? "hangup" : "signal";
                ::kill(child, sig);
                continue;
            }
            int status = 0;
            const pid_t done = ::waitpid(child, &status, WNOHANG);
            if (done == child) {
                out.exit_code = init::exit_code_from_wait_status(status);
                if (WIFSIGNALED(status) && out.fin == "exit") {
                    out.fin = "signal";
                }
                break;
            }
            if (done < 0 && errno != EINTR) {
                break;
            }
        }
    }
    ::sigaction(SIGINT, &old_int, nullptr);
    ::sigaction(SIGQUIT, &old_quit, nullptr);
    ::sigprocmask(SIG_SETMASK, &original, nullptr);
    return out;
}

} // namespace execmark::recorder
