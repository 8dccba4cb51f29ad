/* SPDX-License-Identifier: MIT */
/*
 * A stand-in for the SSM agent's `ssm-session-worker <session-id>` in an ECS Exec session, for
 * the tests and the demo. What execmark relies on is reproduced: the binary is named
 * ssm-session-worker (so /proc/<pid>/comm is "ssm-session-wor"), its argv is exactly the path and
 * the session id, and it starts the command as a session leader on a new pty with the pty as
 * controlling terminal and TERM=xterm-256color, as the agent does. The pty output is relayed to
 * stdout and appended to an ipc log; when the command ends the transcript is made the way the
 * agent makes it: `script -q <dir>/<session-id>.log -c "cat <ipc log>"`.
 *
 * Environment:
 *   EXECMARK_SIM_COMMAND  the command, split on spaces (default: /bin/sh)
 *   EXECMARK_SIM_LOG_DIR  where ipcTempFile-<sid>.log and <sid>.log go (default: no logs)
 * Exit status: the command's (128+N when killed by signal N).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define MAX_ARGS 64

static struct termios saved_termios;
static int restore_termios = 0;

static void restore_stdin(void)
{
    if (restore_termios) {
        tcsetattr(STDIN_FILENO, TCSANOW, &saved_termios);
    }
}

static int write_all(int fd, const char* buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

int main(int argc, char** argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: ssm-session-worker SESSION-ID\n");
        return 2;
    }
    const char* sid = argv[1];
    const char* command = getenv("EXECMARK_SIM_COMMAND");
    char* cmdcopy = strdup(command != NULL && command[0] != '\0' ? command : "/bin/sh");
    char* args[MAX_ARGS + 1];
    int nargs = 0;
    for (char* tok = strtok(cmdcopy, " "); tok != NULL && nargs < MAX_ARGS; tok = strtok(NULL, " ")) {
        args[nargs++] = tok;
    }
    args[nargs] = NULL;

    const char* log_dir = getenv("EXECMARK_SIM_LOG_DIR");
    char ipc_path[4096] = "";
    int ipc_fd = -1;
    if (log_dir != NULL && log_dir[0] != '\0') {
        snprintf(ipc_path, sizeof ipc_path, "%s/ipcTempFile-%s.log", log_dir, sid);
        ipc_fd = open(ipc_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (ipc_fd < 0) {
            perror("ssm-session-worker: open ipc log");
            return 1;
        }
    }

    int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) {
        perror("ssm-session-worker: pty");
        return 1;
    }
    const char* slave_name = ptsname(master);
    struct winsize ws;
    if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0) {
        ioctl(master, TIOCSWINSZ, &ws);
    }

    pid_t child = fork();
    if (child < 0) {
        perror("ssm-session-worker: fork");
        return 1;
    }
    if (child == 0) {
        setsid();
        int slave = open(slave_name, O_RDWR);
        if (slave < 0) {
            _exit(126);
        }
        ioctl(slave, TIOCSCTTY, 0);
        dup2(slave, 0);
        dup2(slave, 1);
        dup2(slave, 2);
        if (slave > 2) {
            close(slave);
        }
        setenv("TERM", "xterm-256color", 1);
        if (getenv("LANG") == NULL) {
            setenv("LANG", "C.UTF-8", 1);
        }
        execvp(args[0], args);
        _exit(errno == ENOENT ? 127 : 126);
    }

    if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved_termios) == 0) {
        struct termios raw = saved_termios;
        cfmakeraw(&raw);
        if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0) {
            restore_termios = 1;
            atexit(restore_stdin);
        }
    }
    signal(SIGPIPE, SIG_IGN);

    int stdin_open = 1;
    char buf[8192];
    for (;;) {
        struct pollfd fds[2] = {{master, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
        int n = poll(fds, stdin_open ? 2 : 1, -1);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            break;
        }
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t r = read(master, buf, sizeof buf);
            if (r <= 0) {
                break; /* EIO: the command and everything on the pty are gone */
            }
            write_all(STDOUT_FILENO, buf, (size_t)r);
            if (ipc_fd >= 0) {
                write_all(ipc_fd, buf, (size_t)r);
            }
        }
        if (stdin_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t r = read(STDIN_FILENO, buf, sizeof buf);
            if (r <= 0) {
                stdin_open = 0;
            } else {
                write_all(master, buf, (size_t)r);
            }
        }
    }
    int status = 0;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    restore_stdin();
    restore_termios = 0;

    if (ipc_fd >= 0) {
        close(ipc_fd);
        char transcript[4096];
        char cat_cmd[4200];
        snprintf(transcript, sizeof transcript, "%s/%s.log", log_dir, sid);
        snprintf(cat_cmd, sizeof cat_cmd, "cat %s", ipc_path);
        pid_t s = fork();
        if (s == 0) {
            int devnull = open("/dev/null", O_RDWR);
            dup2(devnull, 0);
            dup2(devnull, 1);
            dup2(devnull, 2);
            execlp("script", "script", "-q", transcript, "-c", cat_cmd, (char*)NULL);
            _exit(127);
        }
        int sst = 0;
        while (s > 0 && waitpid(s, &sst, 0) < 0 && errno == EINTR) {
        }
    }
    free(cmdcopy);
    if (WIFSIGNALED(status)) {
        return 128 + WTERMSIG(status);
    }
    return WEXITSTATUS(status);
}
