/* SPDX-License-Identifier: MIT */
/*
 * Stand-in for the SSM agent's `ssm-agent-worker`, started by amazon-ssm-agent with no
 * arguments in its own process group. It accepts session requests on the Unix socket named by
 * the configuration (in place of the SSM service's data channel): the first frame of a
 * connection is the open request (see standin.h); for each it starts
 * `<agent dir>/ssm-session-worker <sid>` — argv exactly the path and the session id, as the
 * agent's out-of-process executer does — as its child in its own process group, with the
 * worker's environment, the connection as fd 3 and the request as a pipe on fd 4. It reaps the
 * session workers and refuses (an 'R' frame) invalid session ids, a session id already live and
 * requests past session_limit.
 *
 * Exit status: 0 after SIGTERM/SIGINT (session workers get SIGHUP); 2 on a usage error;
 * 1 when it cannot start (configuration, socket).
 */
#define _GNU_SOURCE
#include "standin.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

#define MAX_SESSIONS 256
/* How long a new connection may take to send its open request. */
#define OPEN_TIMEOUT_S 5

struct session {
    pid_t pid;
    char sid[STANDIN_MAX_SID + 2];
};

static struct session sessions[MAX_SESSIONS];
static int live;

static void refuse(int conn, const char* sid, const char* why)
{
    standin_log("WARN", "session %s refused: %s", sid, why);
    standin_send_frame(conn, 'R', why, strlen(why));
}

static int high_fd(int fd)
{
    int moved = fcntl(fd, F_DUPFD_CLOEXEC, 10);
    close(fd);
    return moved;
}

static void start_session(const struct standin_config* cfg, int conn)
{
    struct timeval tv = {OPEN_TIMEOUT_S, 0};
    setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char request[STANDIN_MAX_OPEN];
    char type = 0;
    ssize_t len = standin_recv_frame(conn, &type, request, sizeof request);
    if (len < 0 || type != 'O') {
        standin_log("WARN", "connection without an open request dropped");
        return;
    }
    char sid[STANDIN_MAX_SID + 2];
    standin_kv(request, (size_t)len, "sid", sid, sizeof sid);
    if (!standin_valid_sid(sid)) {
        refuse(conn, "-", "invalid session id");
        return;
    }
    for (int i = 0; i < MAX_SESSIONS; ++i) {
        if (sessions[i].pid > 0 && strcmp(sessions[i].sid, sid) == 0) {
            refuse(conn, sid, "session id already live");
            return;
        }
    }
    if ((cfg->session_limit > 0 && live >= cfg->session_limit) || live >= MAX_SESSIONS) {
        refuse(conn, sid, "session limit reached");
        return;
    }
    tv.tv_sec = 0;
    setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0) {
        refuse(conn, sid, "internal error (pipe)");
        return;
    }
    /* The request fits the pipe buffer (STANDIN_MAX_OPEN < 64 KiB): this never blocks. */
    standin_write_all(pipefd[1], request, (size_t)len);
    close(pipefd[1]);
    int req = high_fd(pipefd[0]);
    int sock = fcntl(conn, F_DUPFD_CLOEXEC, 10);

    char path[STANDIN_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/%s", cfg->dir, STANDIN_SESSION_WORKER);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, sock, 3);
    posix_spawn_file_actions_adddup2(&fa, req, 4);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);
    char* argv[] = {path, sid, NULL};
    pid_t pid = 0;
    int err = posix_spawn(&pid, path, &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(req);
    close(sock);
    if (err != 0) {
        standin_log("ERROR", "cannot start %s: %s", path, strerror(err));
        refuse(conn, sid, "cannot start the session worker");
        return;
    }
    for (int i = 0; i < MAX_SESSIONS; ++i) {
        if (sessions[i].pid <= 0) {
            sessions[i].pid = pid;
            snprintf(sessions[i].sid, sizeof sessions[i].sid, "%s", sid);
            ++live;
            break;
        }
    }
    standin_log("INFO", "session %s: started %s, pid %d", sid, STANDIN_SESSION_WORKER, (int)pid);
}

static int listen_on(const char* path)
{
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof addr.sun_path) {
        standin_log("ERROR", "socket path too long: %s", path);
        return -1;
    }
    memcpy(addr.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    unlink(path);
    mode_t old = umask(077);
    int rc = bind(fd, (struct sockaddr*)&addr, sizeof addr);
    umask(old);
    if (rc != 0 || listen(fd, 64) != 0) {
        standin_log("ERROR", "cannot listen on %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

int main(int argc, char** argv)
{
    standin_log_init(STANDIN_AGENT_WORKER, NULL);
    if (argc != 1) {
        standin_log("ERROR", "usage: ssm-agent-worker (no arguments)");
        return 2;
    }
    char dir[STANDIN_PATH_MAX];
    struct standin_config cfg;
    if (standin_self_dir(argv[0], dir, sizeof dir) != 0 || standin_load_config(dir, &cfg) != 0) {
        return 1;
    }
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);
    int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
    int lfd = listen_on(cfg.socket);
    if (sfd < 0 || lfd < 0) {
        return 1;
    }
    standin_log("INFO", "listening on %s", cfg.socket);

    for (;;) {
        struct pollfd fds[2] = {{sfd, POLLIN, 0}, {lfd, POLLIN, 0}};
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            standin_log("ERROR", "poll: %s", strerror(errno));
            return 1;
        }
        if (fds[0].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof si) == (ssize_t)sizeof si && si.ssi_signo != SIGCHLD) {
                standin_log("INFO", "stopping (signal %u)", si.ssi_signo);
                for (int i = 0; i < MAX_SESSIONS; ++i) {
                    if (sessions[i].pid > 0) {
                        kill(sessions[i].pid, SIGHUP);
                    }
                }
                unlink(cfg.socket);
                return 0;
            }
            int status;
            pid_t pid;
            while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
                for (int i = 0; i < MAX_SESSIONS; ++i) {
                    if (sessions[i].pid == pid) {
                        standin_log("INFO",
                                    "session %s: worker %d ended with status 0x%x",
                                    sessions[i].sid,
                                    (int)pid,
                                    status);
                        sessions[i].pid = 0;
                        --live;
                    }
                }
            }
        }
        if (fds[1].revents & POLLIN) {
            int conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
            if (conn >= 0) {
                start_session(&cfg, conn);
                close(conn);
            }
        }
    }
}
