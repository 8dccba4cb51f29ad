/* SPDX-License-Identifier: MIT */
/*
 * Stand-in for the SSM agent's core process, `amazon-ssm-agent`, as ECS Exec runs it in a
 * container: started with no arguments from outside the container (docker exec: parent pid 0 in
 * the container's PID namespace), it starts `ssm-agent-worker` from its own directory (the
 * directory of argv[0], as the agent's appconfig does) in the worker's own process group, with
 * its own environment, restarts it when it dies, reaps, and stays up until SIGTERM/SIGINT, which
 * it passes on to the worker before exiting.
 *
 * Exit status: 0 after SIGTERM/SIGINT; 2 on a usage error (any argument); 1 when it cannot
 * start (configuration unreadable, signals).
 */
#define _GNU_SOURCE
#include "standin.h"

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

static pid_t start_worker(const char* path)
{
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);
    char* argv[] = {(char*)path, NULL};
    pid_t pid = 0;
    int err = posix_spawn(&pid, path, NULL, &attr, argv, environ);
    posix_spawnattr_destroy(&attr);
    if (err != 0) {
        standin_log("ERROR", "cannot start %s: %s", path, strerror(err));
        return -1;
    }
    standin_log("INFO", "started %s, pid %d", path, (int)pid);
    return pid;
}

int main(int argc, char** argv)
{
    standin_log_init(STANDIN_AGENT, NULL);
    if (argc != 1) {
        standin_log("ERROR", "usage: amazon-ssm-agent (no arguments)");
        return 2;
    }
    char dir[STANDIN_PATH_MAX];
    struct standin_config cfg;
    if (standin_self_dir(argv[0], dir, sizeof dir) != 0 || standin_load_config(dir, &cfg) != 0) {
        return 1;
    }
    char worker[STANDIN_PATH_MAX + 32];
    snprintf(worker, sizeof worker, "%s/%s", dir, STANDIN_AGENT_WORKER);

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    if (sigprocmask(SIG_BLOCK, &mask, NULL) != 0) {
        return 1;
    }
    int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
    if (sfd < 0) {
        standin_log("ERROR", "signalfd: %s", strerror(errno));
        return 1;
    }
    standin_log(
        "INFO", "agent started in %s, pid %d, parent %d", dir, (int)getpid(), (int)getppid());

    pid_t worker_pid = start_worker(worker);
    for (;;) {
        struct signalfd_siginfo si;
        ssize_t n = read(sfd, &si, sizeof si);
        if (n != (ssize_t)sizeof si) {
            if (n < 0 && errno == EINTR) {
                continue;
            }
            standin_log("ERROR", "signalfd read: %s", strerror(errno));
            return 1;
        }
        if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
            standin_log("INFO", "stopping (signal %u)", si.ssi_signo);
            if (worker_pid > 0) {
                kill(worker_pid, SIGTERM);
                int status;
                while (waitpid(worker_pid, &status, 0) < 0 && errno == EINTR) {
                }
            }
            return 0;
        }
        if (si.ssi_signo != SIGCHLD) {
            continue;
        }
        int status;
        pid_t pid;
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
            if (pid == worker_pid) {
                standin_log("WARN",
                            "%s (pid %d) ended with status 0x%x; restarting",
                            STANDIN_AGENT_WORKER,
                            (int)pid,
                            status);
                worker_pid = -1;
            }
        }
        if (worker_pid < 0) {
            sleep(1);
            worker_pid = start_worker(worker);
        }
    }
}
