/* SPDX-License-Identifier: MIT */
/*
 * The user's side of a stand-in ECS Exec session (what `aws ecs execute-command` and the
 * session-manager-plugin are to the real agent): connects to the stand-in agent's socket, asks
 * for session SID running COMMAND, and relays its own terminal to it — raw mode when stdin is a
 * terminal, window-size changes (SIGWINCH) sent as resize messages.
 *
 * usage: ssm-session-client [--owner ARN] [--size ROWSxCOLS] [--no-logging] SOCKET SID COMMAND
 *   --owner       the SessionOwner the agent records in its document state file
 *   --size        initial window size (default: stdin's, when it is a terminal)
 *   --no-logging  no ipcTempFile.log and no transcript (no log destination configured)
 *
 * Exit status: the session's command status (128+N when killed by signal N); 255 when the
 * agent refused the session or the connection failed or closed early; 2 on a usage error.
 */
#define _GNU_SOURCE
#include "standin.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

static struct termios saved_termios;
static int restore_termios;

static void restore_stdin(void)
{
    if (restore_termios) {
        tcsetattr(STDIN_FILENO, TCSANOW, &saved_termios);
        restore_termios = 0;
    }
}

static int usage(void)
{
    fprintf(stderr,
            "usage: ssm-session-client [--owner ARN] [--size ROWSxCOLS] [--no-logging] "
            "SOCKET SID COMMAND\n");
    return 2;
}

static int send_size(int conn, unsigned rows, unsigned cols)
{
    unsigned char s[4] = {(unsigned char)(rows >> 8),
                          (unsigned char)rows,
                          (unsigned char)(cols >> 8),
                          (unsigned char)cols};
    return standin_send_frame(conn, 'S', s, sizeof s);
}

int main(int argc, char** argv)
{
    const char* owner = "";
    unsigned rows = 0;
    unsigned cols = 0;
    int logging = 1;
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; ++i) {
        if (strcmp(argv[i], "--owner") == 0 && i + 1 < argc) {
            owner = argv[++i];
        } else if (strcmp(argv[i], "--size") == 0 && i + 1 < argc) {
            if (sscanf(argv[++i], "%ux%u", &rows, &cols) != 2 || rows == 0 || cols == 0
                || rows > 65535 || cols > 65535) {
                return usage();
            }
        } else if (strcmp(argv[i], "--no-logging") == 0) {
            logging = 0;
        } else {
            return usage();
        }
    }
    if (argc - i != 3) {
        return usage();
    }
    const char* path = argv[i];
    const char* sid = argv[i + 1];
    const char* command = argv[i + 2];
    if (strchr(sid, '\n') != NULL || strchr(command, '\n') != NULL || strchr(owner, '\n') != NULL) {
        fprintf(stderr, "ssm-session-client: no newline allowed in SID, COMMAND or --owner\n");
        return 2;
    }
    struct winsize ws;
    int tty = isatty(STDIN_FILENO);
    if (rows == 0 && tty && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0) {
        rows = ws.ws_row;
        cols = ws.ws_col;
    }

    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof addr.sun_path) {
        fprintf(stderr, "ssm-session-client: socket path too long\n");
        return 2;
    }
    memcpy(addr.sun_path, path, strlen(path) + 1);
    int conn = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (conn < 0 || connect(conn, (struct sockaddr*)&addr, sizeof addr) != 0) {
        fprintf(stderr, "ssm-session-client: cannot connect to %s: %s\n", path, strerror(errno));
        return 255;
    }
    char open_req[STANDIN_MAX_OPEN];
    int n = snprintf(open_req,
                     sizeof open_req,
                     "sid=%s\ncommand=%s\nowner=%s\nrows=%u\ncols=%u\nlogging=%d\n",
                     sid,
                     command,
                     owner,
                     rows,
                     cols,
                     logging);
    if (n <= 0 || (size_t)n >= sizeof open_req) {
        fprintf(stderr, "ssm-session-client: request too long\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    if (standin_send_frame(conn, 'O', open_req, (size_t)n) != 0) {
        fprintf(stderr, "ssm-session-client: cannot send the request: %s\n", strerror(errno));
        return 255;
    }

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGWINCH);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (tty && tcgetattr(STDIN_FILENO, &saved_termios) == 0) {
        struct termios raw = saved_termios;
        cfmakeraw(&raw);
        if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0) {
            restore_termios = 1;
            atexit(restore_stdin);
        }
    }

    static struct standin_frames frames;
    static char buf[STANDIN_MAX_FRAME];
    int in_open = 1;
    for (;;) {
        struct pollfd fds[3] = {
            {conn, POLLIN, 0}, {in_open ? STDIN_FILENO : -1, POLLIN, 0}, {sfd, POLLIN, 0}};
        if (poll(fds, 3, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            break;
        }
        if (fds[2].revents & POLLIN) {
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof si) > 0) {
            }
            if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0) {
                send_size(conn, ws.ws_row, ws.ws_col);
            }
        }
        if (in_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t r = read(STDIN_FILENO, buf, sizeof buf);
            if (r > 0) {
                standin_send_frame(conn, 'D', buf, (size_t)r);
            } else if (r == 0 || errno != EINTR) {
                in_open = 0; /* end of input: the session goes on until its command ends */
            }
        }
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t r = standin_frames_fill(&frames, conn);
            if (r < 0 && errno == EINTR) {
                continue;
            }
            char type;
            const char* payload;
            size_t len;
            int got;
            while ((got = standin_frames_next(&frames, &type, &payload, &len)) == 1) {
                if (type == 'D') {
                    standin_write_all(STDOUT_FILENO, payload, len);
                } else if (type == 'X' && len == 4) {
                    const unsigned char* x = (const unsigned char*)payload;
                    int code = (x[0] << 24) | (x[1] << 16) | (x[2] << 8) | x[3];
                    restore_stdin();
                    return code & 0xff;
                } else if (type == 'R') {
                    restore_stdin();
                    fprintf(
                        stderr, "ssm-session-client: session refused: %.*s\n", (int)len, payload);
                    return 255;
                }
            }
            if (got < 0 || r <= 0) {
                restore_stdin();
                fprintf(stderr, "ssm-session-client: the session closed without an exit status\n");
                return 255;
            }
        }
    }
    restore_stdin();
    return 255;
}
