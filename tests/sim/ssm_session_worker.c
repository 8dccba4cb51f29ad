/* SPDX-License-Identifier: MIT */
/*
 * Stand-in for the SSM agent's `ssm-session-worker <session-id>` running an ECS Exec
 * (InteractiveCommands, container mode) session. What it reproduces:
 *   - argv is exactly [path, session id]; the worker is started by ssm-agent-worker from the
 *     agent directory, in its own process group (standin.h has the whole chain);
 *   - the session's command is shlex-split (google/shlex rules: blanks separate, '...' literal,
 *     "..." and \ escape, # starts a comment) and exec'd directly — no `sh -c` — with PATH
 *     lookup, the worker's environment plus TERM=xterm-256color and LANG=C.UTF-8 when LANG is
 *     unset, on a new pty: the command is a session leader with the pty as controlling terminal;
 *     an empty command runs `sh`;
 *   - the pty output is relayed to the client and appended to
 *     <ssm_root>/<instance>/session/orchestration/<sid>/InteractiveCommands/ipcTempFile.log;
 *     input and window-size changes from the client go to the pty;
 *   - the document state file <ssm_root>/<instance>/document/state/current/<sid> (mode 0600,
 *     JSON with DocumentInformation.SessionOwner and the plugin Configuration's SessionOwner)
 *     exists while the session runs (state_file=1 in the configuration);
 *   - when the command exits (its remaining output drained) the transcript is made as the agent
 *     makes it, with the container's `script` found on PATH:
 *     `script <dir>/<sid>.log -c "cat <dir>/ipcTempFile.log"`, stdin/stdout/stderr /dev/null.
 *     When the client goes away first the pty is hung up (SIGHUP) and the command killed after
 *     2 s, as a terminated session is.
 *
 * Where the session comes from:
 *   - started by ssm-agent-worker: fd 3 is the client connection (framed, see standin.h), fd 4 a
 *     pipe with the open request;
 *   - started any other way (fd 3 not a socket): the request is read from the agent's IPC
 *     channel directory, <ssm_root>/<instance>/channels/<sid>/request (same key=value text),
 *     and the pty is relayed to stdin/stdout unframed. This is what a root user in the
 *     container can do with the genuine binary: write the channel file and run it.
 *
 * Request keys: sid (must equal argv[1]), command, owner (SessionOwner), rows, cols (initial
 * window size), logging (0: no ipcTempFile.log and no transcript; default 1).
 *
 * Exit status: 0 when the session ran (the command's status went to the client) in agent mode,
 * the command's status in channel mode (128+N when killed by signal N); 2 on a usage error;
 * 1 when the session cannot start.
 */
#define _GNU_SOURCE
#include "standin.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define MAX_ARGS 256
#define HANGUP_GRACE_MS 2000

struct request {
    char sid[STANDIN_MAX_SID + 2];
    char command[STANDIN_MAX_OPEN];
    char owner[2048];
    int rows;
    int cols;
    int logging;
};

static struct termios saved_termios;
static int restore_termios;

/* google/shlex: returns the number of words, -1 on an unterminated quote or escape. */
static int shlex_split(const char* s, char* storage, size_t size, char** argv, int max)
{
    int n = 0;
    size_t used = 0;
    const char* p = s;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
            ++p;
        }
        if (*p == '\0') {
            break;
        }
        if (*p == '#') {
            while (*p != '\0' && *p != '\n') {
                ++p;
            }
            continue;
        }
        if (n == max || used >= size) {
            return -1;
        }
        argv[n++] = storage + used;
        while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n') {
            if (used + 2 >= size) {
                return -1;
            }
            if (*p == '\\') {
                if (p[1] == '\0') {
                    return -1;
                }
                storage[used++] = p[1];
                p += 2;
            } else if (*p == '\'') {
                const char* end = strchr(p + 1, '\'');
                if (end == NULL || used + (size_t)(end - p) + 1 >= size) {
                    return -1;
                }
                memcpy(storage + used, p + 1, (size_t)(end - p - 1));
                used += (size_t)(end - p - 1);
                p = end + 1;
            } else if (*p == '"') {
                ++p;
                while (*p != '"') {
                    if (*p == '\0' || used + 2 >= size) {
                        return -1;
                    }
                    if (*p == '\\') {
                        if (p[1] == '\0') {
                            return -1;
                        }
                        ++p;
                    }
                    storage[used++] = *p++;
                }
                ++p;
            } else {
                storage[used++] = *p++;
            }
        }
        storage[used++] = '\0';
    }
    argv[n] = NULL;
    return n;
}

static void json_string(FILE* f, const char* s)
{
    fputc('"', f);
    for (const unsigned char* p = (const unsigned char*)s; *p != '\0'; ++p) {
        if (*p == '"' || *p == '\\') {
            fprintf(f, "\\%c", *p);
        } else if (*p < 0x20) {
            fprintf(f, "\\u%04x", *p);
        } else {
            fputc(*p, f);
        }
    }
    fputc('"', f);
}

/* The agent's persisted document state (contracts.DocumentState, keys as Go marshals them). */
static int write_state_file(const char* path,
                            const struct standin_config* cfg,
                            const struct request* rq,
                            const char* orchestration)
{
    char tmp[2 * STANDIN_PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return -1;
    }
    FILE* f = fdopen(fd, "w");
    if (f == NULL) {
        close(fd);
        return -1;
    }
    char created[40];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
    fputs("{\"DocumentInformation\":{\"DocumentID\":", f);
    json_string(f, rq->sid);
    fputs(",\"CommandID\":", f);
    json_string(f, rq->sid);
    fputs(",\"AssociationID\":\"\",\"InstanceID\":", f);
    json_string(f, cfg->instance_id);
    fputs(",\"MessageID\":", f);
    json_string(f, rq->sid);
    fprintf(f, ",\"RunID\":\"%s\",\"CreatedDate\":\"%s\"", created, created);
    fputs(",\"DocumentName\":\"AmazonECS-ExecuteInteractiveCommand\",\"DocumentVersion\":\"\""
          ",\"DocumentStatus\":\"InProgress\",\"RunCount\":0",
          f);
    fprintf(f, ",\"ProcInfo\":{\"Pid\":%d,\"StartTime\":\"%s\"}", (int)getpid(), created);
    fputs(",\"ClientId\":\"\",\"RunAsUser\":\"\",\"SessionOwner\":", f);
    json_string(f, rq->owner);
    fputs("},\"DocumentType\":\"StartSession\",\"SchemaVersion\":\"1.0\"", f);
    fputs(",\"InstancePluginsInformation\":[{\"Configuration\":{\"Settings\":null"
          ",\"Properties\":{\"commands\":",
          f);
    json_string(f, rq->command);
    fputs(",\"runAsElevated\":true},\"OutputS3KeyPrefix\":\"\",\"OutputS3BucketName\":\"\""
          ",\"S3EncryptionEnabled\":false,\"CloudWatchLogGroup\":\"\""
          ",\"CloudWatchEncryptionEnabled\":false,\"CloudWatchStreamingEnabled\":false"
          ",\"OrchestrationDirectory\":",
          f);
    json_string(f, orchestration);
    fputs(",\"MessageId\":", f);
    json_string(f, rq->sid);
    fputs(",\"BookKeepingFileName\":", f);
    json_string(f, rq->sid);
    fputs(",\"PluginName\":\"InteractiveCommands\",\"PluginID\":\"InteractiveCommands\""
          ",\"DefaultWorkingDirectory\":\"\",\"SessionId\":",
          f);
    json_string(f, rq->sid);
    fputs(",\"RunAsEnabled\":false,\"RunAsUser\":\"\",\"SessionOwner\":", f);
    json_string(f, rq->owner);
    fputs("},\"Name\":\"InteractiveCommands\",\"Id\":\"InteractiveCommands\"}]}\n", f);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        unlink(tmp);
        return -1;
    }
    return rename(tmp, path);
}

static int parse_request(const char* text, size_t len, const char* sid, struct request* rq)
{
    memset(rq, 0, sizeof *rq);
    char num[32];
    standin_kv(text, len, "sid", rq->sid, sizeof rq->sid);
    standin_kv(text, len, "command", rq->command, sizeof rq->command);
    standin_kv(text, len, "owner", rq->owner, sizeof rq->owner);
    rq->rows = standin_kv(text, len, "rows", num, sizeof num) ? atoi(num) : 0;
    rq->cols = standin_kv(text, len, "cols", num, sizeof num) ? atoi(num) : 0;
    rq->logging = standin_kv(text, len, "logging", num, sizeof num) ? atoi(num) != 0 : 1;
    if (strcmp(rq->sid, sid) != 0) {
        standin_log("ERROR", "the request is for session '%s', not this one", rq->sid);
        return -1;
    }
    return 0;
}

static void restore_stdin(void)
{
    if (restore_termios) {
        tcsetattr(STDIN_FILENO, TCSANOW, &saved_termios);
        restore_termios = 0;
    }
}

/* Runs `script <transcript> -c "cat <ipc>"` as the agent does; waits for it. */
static void make_transcript(const char* transcript, const char* ipc)
{
    char cat_cmd[2 * STANDIN_PATH_MAX];
    snprintf(cat_cmd, sizeof cat_cmd, "cat %s", ipc);
    pid_t pid = fork();
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        int devnull = open("/dev/null", O_RDWR);
        dup2(devnull, 0);
        dup2(devnull, 1);
        dup2(devnull, 2);
        execlp("script", "script", transcript, "-c", cat_cmd, (char*)NULL);
        _exit(127);
    }
    int status = 0;
    while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        standin_log("ERROR", "unable to generate log data: script exited with status 0x%x", status);
    }
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char** argv)
{
    if (argc != 2) {
        standin_log_init(STANDIN_SESSION_WORKER, NULL);
        standin_log("ERROR", "usage: ssm-session-worker SESSION-ID");
        return 2;
    }
    const char* sid = argv[1];
    standin_log_init(STANDIN_SESSION_WORKER, standin_valid_sid(sid) ? sid : "-");
    if (!standin_valid_sid(sid)) {
        standin_log("ERROR", "invalid session id");
        return 2;
    }
    char dir[STANDIN_PATH_MAX];
    struct standin_config cfg;
    if (standin_self_dir(argv[0], dir, sizeof dir) != 0 || standin_load_config(dir, &cfg) != 0) {
        return 1;
    }

    /* Agent mode (fd 3 a socket from ssm-agent-worker) or channel mode. */
    struct stat st3;
    int agent_mode = fstat(3, &st3) == 0 && S_ISSOCK(st3.st_mode);
    int conn = agent_mode ? 3 : -1;
    struct request rq;
    char text[STANDIN_MAX_OPEN];
    ssize_t len = 0;
    if (agent_mode) {
        fcntl(3, F_SETFD, FD_CLOEXEC);
        fcntl(4, F_SETFD, FD_CLOEXEC);
        size_t got = 0;
        ssize_t n;
        while (got < sizeof text && (n = read(4, text + got, sizeof text - got)) != 0) {
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n < 0) {
                break;
            }
            got += (size_t)n;
        }
        close(4);
        len = (ssize_t)got;
    } else {
        char path[STANDIN_PATH_MAX];
        snprintf(
            path, sizeof path, "%s/%s/channels/%s/request", cfg.ssm_root, cfg.instance_id, sid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        len = fd >= 0 ? read(fd, text, sizeof text) : -1;
        if (fd >= 0) {
            close(fd);
        }
        if (len < 0) {
            standin_log("ERROR", "no IPC channel for this session (%s): %s", path, strerror(errno));
            return 1;
        }
    }
    if (parse_request(text, (size_t)len, sid, &rq) != 0) {
        return 1;
    }

    char storage[STANDIN_MAX_OPEN + MAX_ARGS];
    char* args[MAX_ARGS + 1];
    int nargs = shlex_split(rq.command, storage, sizeof storage, args, MAX_ARGS);
    if (nargs < 0) {
        standin_log("ERROR", "cannot split the command: %s", rq.command);
        if (agent_mode) {
            const char* why = "command cannot be parsed";
            standin_send_frame(conn, 'R', why, strlen(why));
        }
        return 1;
    }
    if (nargs == 0) {
        args[0] = "sh";
        args[1] = NULL;
    }

    char orchestration[STANDIN_PATH_MAX];
    char ipc[STANDIN_PATH_MAX + 32];
    char transcript[STANDIN_PATH_MAX + STANDIN_MAX_SID + 8];
    char state[STANDIN_PATH_MAX + STANDIN_MAX_SID];
    snprintf(orchestration,
             sizeof orchestration,
             "%s/%s/session/orchestration/%s/InteractiveCommands",
             cfg.ssm_root,
             cfg.instance_id,
             sid);
    snprintf(ipc, sizeof ipc, "%s/ipcTempFile.log", orchestration);
    snprintf(transcript, sizeof transcript, "%s/%s.log", orchestration, sid);
    int ipc_fd = -1;
    if (rq.logging) {
        if (standin_mkdirs(orchestration, 0750) != 0
            || (ipc_fd = open(ipc, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600))
                   < 0) {
            standin_log("ERROR", "cannot create %s: %s", ipc, strerror(errno));
            return 1;
        }
    }
    state[0] = '\0';
    if (cfg.state_file) {
        char state_dir[STANDIN_PATH_MAX];
        snprintf(state_dir,
                 sizeof state_dir,
                 "%s/%s/document/state/current",
                 cfg.ssm_root,
                 cfg.instance_id);
        snprintf(state, sizeof state, "%s/%s", state_dir, sid);
        if (standin_mkdirs(state_dir, 0750) != 0
            || write_state_file(state, &cfg, &rq, orchestration) != 0) {
            standin_log("ERROR", "cannot write the document state %s: %s", state, strerror(errno));
            return 1;
        }
    }

    int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) {
        standin_log("ERROR", "pty: %s", strerror(errno));
        return 1;
    }
    const char* slave_name = ptsname(master);
    struct winsize ws;
    memset(&ws, 0, sizeof ws);
    if (rq.rows > 0 && rq.cols > 0) {
        ws.ws_row = (unsigned short)rq.rows;
        ws.ws_col = (unsigned short)rq.cols;
        ioctl(master, TIOCSWINSZ, &ws);
    } else if (!agent_mode && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0) {
        ioctl(master, TIOCSWINSZ, &ws);
    }

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    signal(SIGPIPE, SIG_IGN);

    pid_t child = fork();
    if (child < 0) {
        standin_log("ERROR", "fork: %s", strerror(errno));
        return 1;
    }
    if (child == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
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
        if (getenv("LANG") == NULL || getenv("LANG")[0] == '\0') {
            setenv("LANG", "C.UTF-8", 1);
        }
        execvp(args[0], args);
        _exit(errno == ENOENT ? 127 : 126);
    }
    standin_log(
        "INFO", "session started: command %s, pid %d on %s", args[0], (int)child, slave_name);
    fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);

    int in_fd = agent_mode ? conn : STDIN_FILENO;
    if (!agent_mode && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved_termios) == 0) {
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
    int pty_open = 1;
    int status = 0;
    int exited = 0;
    long long kill_at = -1;
    while (!exited) {
        struct pollfd fds[3] = {{sfd, POLLIN, 0}, {master, POLLIN, 0}, {in_fd, POLLIN, 0}};
        fds[1].fd = pty_open ? master : -1;
        fds[2].fd = in_open ? in_fd : -1;
        int timeout = -1;
        if (kill_at >= 0) {
            long long left = kill_at - now_ms();
            timeout = left > 0 ? (int)left : 0;
        }
        int n = poll(fds, 3, timeout);
        if (n < 0 && errno != EINTR) {
            standin_log("ERROR", "poll: %s", strerror(errno));
            break;
        }
        if (kill_at >= 0 && now_ms() >= kill_at) {
            kill(child, SIGKILL);
            kill_at = -1;
        }
        if (n <= 0) {
            continue;
        }
        if (fds[0].revents & POLLIN) {
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof si) > 0) {
            }
            if (waitpid(child, &status, WNOHANG) == child) {
                exited = 1;
            }
        }
        if (pty_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t r = read(master, buf, sizeof buf);
            if (r > 0) {
                if (agent_mode) {
                    standin_send_frame(conn, 'D', buf, (size_t)r);
                } else {
                    standin_write_all(STDOUT_FILENO, buf, (size_t)r);
                }
                if (ipc_fd >= 0) {
                    standin_write_all(ipc_fd, buf, (size_t)r);
                }
            } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
                pty_open = 0; /* EIO: no slave open any more; wait for the command */
            }
        }
        if (in_open && (fds[2].revents & (POLLIN | POLLHUP | POLLERR))) {
            if (!agent_mode) {
                ssize_t r = read(STDIN_FILENO, buf, sizeof buf);
                if (r > 0) {
                    standin_write_all(master, buf, (size_t)r);
                } else if (r == 0 || errno != EINTR) {
                    in_open = 0;
                }
                continue;
            }
            ssize_t r = standin_frames_fill(&frames, conn);
            if (r <= 0 && !(r < 0 && errno == EINTR)) {
                /* The client is gone: the session is terminated. Hang up the pty. */
                standin_log("INFO", "client disconnected: terminating the session");
                in_open = 0;
                kill(-child, SIGHUP);
                kill(child, SIGHUP);
                kill_at = now_ms() + HANGUP_GRACE_MS;
                continue;
            }
            char type;
            const char* payload;
            size_t plen;
            int got;
            while ((got = standin_frames_next(&frames, &type, &payload, &plen)) == 1) {
                if (type == 'D') {
                    /* The master is non-blocking: wait for room rather than drop input. */
                    size_t off = 0;
                    while (off < plen) {
                        ssize_t w = write(master, payload + off, plen - off);
                        if (w > 0) {
                            off += (size_t)w;
                        } else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
                            struct pollfd out = {master, POLLOUT, 0};
                            poll(&out, 1, 100);
                        } else {
                            break;
                        }
                    }
                } else if (type == 'S' && plen == 4) {
                    const unsigned char* s = (const unsigned char*)payload;
                    ws.ws_row = (unsigned short)((s[0] << 8) | s[1]);
                    ws.ws_col = (unsigned short)((s[2] << 8) | s[3]);
                    ioctl(master, TIOCSWINSZ, &ws);
                }
            }
            if (got < 0) {
                standin_log("WARN", "malformed frame from the client: input closed");
                in_open = 0;
            }
        }
    }
    /* The command is gone: what it wrote last is still in the pty. */
    for (;;) {
        ssize_t r = read(master, buf, sizeof buf);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            break;
        }
        if (agent_mode && in_open) {
            standin_send_frame(conn, 'D', buf, (size_t)r);
        } else if (!agent_mode) {
            standin_write_all(STDOUT_FILENO, buf, (size_t)r);
        }
        if (ipc_fd >= 0) {
            standin_write_all(ipc_fd, buf, (size_t)r);
        }
    }
    close(master);
    restore_stdin();
    int code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
    standin_log("INFO", "command ended with status %d", code);
    if (ipc_fd >= 0) {
        close(ipc_fd);
        make_transcript(transcript, ipc);
    }
    if (state[0] != '\0') {
        unlink(state);
    }
    if (agent_mode) {
        unsigned char x[4] = {(unsigned char)(code >> 24),
                              (unsigned char)(code >> 16),
                              (unsigned char)(code >> 8),
                              (unsigned char)code};
        standin_send_frame(conn, 'X', x, sizeof x);
        return 0;
    }
    return code;
}
