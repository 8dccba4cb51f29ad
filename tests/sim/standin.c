/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "standin.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char* log_program = "standin";
static char log_sid[STANDIN_MAX_SID + 1];

void standin_log_init(const char* program, const char* sid)
{
    log_program = program;
    snprintf(log_sid, sizeof log_sid, "%s", sid != NULL ? sid : "");
}

void standin_log(const char* level, const char* fmt, ...)
{
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char line[1400];
    int n;
    if (log_sid[0] != '\0') {
        n = snprintf(
            line, sizeof line, "%s %s [%s] [%s] %s\n", when, level, log_program, log_sid, msg);
    } else {
        n = snprintf(line, sizeof line, "%s %s [%s] %s\n", when, level, log_program, msg);
    }
    if (n > 0) {
        standin_write_all(STDERR_FILENO, line, strnlen(line, sizeof line));
    }
}

int standin_self_dir(const char* argv0, char* out, size_t size)
{
    char path[STANDIN_PATH_MAX];
    if (argv0 != NULL && argv0[0] == '/') {
        snprintf(path, sizeof path, "%s", argv0);
    } else {
        ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
        if (n <= 0) {
            return -1;
        }
        path[n] = '\0';
    }
    int n = snprintf(out, size, "%s", dirname(path));
    return n > 0 && (size_t)n < size ? 0 : -1;
}

static void trim(char* s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) {
        s[--n] = '\0';
    }
}

int standin_load_config(const char* dir, struct standin_config* cfg)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->dir, sizeof cfg->dir, "%s", dir);
    snprintf(cfg->ssm_root, sizeof cfg->ssm_root, "%s", STANDIN_DEFAULT_SSM_ROOT);
    snprintf(cfg->instance_id, sizeof cfg->instance_id, "%s", STANDIN_DEFAULT_INSTANCE);
    cfg->state_file = 1;
    char path[STANDIN_PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, STANDIN_CONFIG);
    FILE* f = fopen(path, "re");
    if (f == NULL) {
        standin_log("ERROR", "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    char line[STANDIN_PATH_MAX + 64];
    int lineno = 0;
    int rc = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        ++lineno;
        line[strcspn(line, "\n")] = '\0';
        trim(line);
        const char* p = line + strspn(line, " \t");
        if (*p == '\0' || *p == '#') {
            continue;
        }
        char* eq = strchr(p, '=');
        if (eq == NULL) {
            standin_log("ERROR", "%s:%d: not key=value", path, lineno);
            rc = -1;
            continue;
        }
        *eq = '\0';
        const char* value = eq + 1;
        if (strlen(value) >= sizeof cfg->ssm_root) {
            standin_log("ERROR", "%s:%d: value of %s too long", path, lineno, p);
            rc = -1;
            continue;
        }
        if (strcmp(p, "socket") == 0) {
            snprintf(cfg->socket, sizeof cfg->socket, "%s", value);
        } else if (strcmp(p, "ssm_root") == 0) {
            snprintf(cfg->ssm_root, sizeof cfg->ssm_root, "%s", value);
        } else if (strcmp(p, "instance_id") == 0) {
            if (value[0] == '\0' || strchr(value, '/') != NULL || strcmp(value, "..") == 0
                || strcmp(value, ".") == 0 || strlen(value) >= sizeof cfg->instance_id) {
                standin_log("ERROR", "%s:%d: bad instance_id", path, lineno);
                rc = -1;
            }
            snprintf(cfg->instance_id, sizeof cfg->instance_id, "%s", value);
        } else if (strcmp(p, "state_file") == 0) {
            cfg->state_file = atoi(value) != 0;
        } else if (strcmp(p, "session_limit") == 0) {
            cfg->session_limit = atoi(value);
        } else {
            standin_log("ERROR", "%s:%d: unknown key %s", path, lineno, p);
            rc = -1;
        }
    }
    fclose(f);
    if (cfg->socket[0] == '\0') {
        standin_log("ERROR", "%s: no socket= line", path);
        rc = -1;
    }
    return rc;
}

int standin_valid_sid(const char* sid)
{
    size_t n = strlen(sid);
    if (n == 0 || n > STANDIN_MAX_SID) {
        return 0;
    }
    for (size_t i = 0; i < n; ++i) {
        char c = sid[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '@' && c != '-'))) {
            return 0;
        }
    }
    return 1;
}

int standin_kv(const char* text, size_t len, const char* key, char* out, size_t size)
{
    size_t klen = strlen(key);
    const char* end = text + len;
    for (const char* line = text; line < end;) {
        const char* nl = memchr(line, '\n', (size_t)(end - line));
        const char* stop = nl != NULL ? nl : end;
        if ((size_t)(stop - line) > klen && memcmp(line, key, klen) == 0 && line[klen] == '=') {
            size_t vlen = (size_t)(stop - line) - klen - 1;
            if (vlen >= size) {
                vlen = size - 1;
            }
            memcpy(out, line + klen + 1, vlen);
            out[vlen] = '\0';
            return 1;
        }
        line = stop + 1;
    }
    if (size > 0) {
        out[0] = '\0';
    }
    return 0;
}

int standin_write_all(int fd, const void* buf, size_t len)
{
    const char* p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int standin_read_full(int fd, void* buf, size_t len)
{
    char* p = buf;
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int standin_send_frame(int fd, char type, const void* payload, size_t len)
{
    if (len > STANDIN_MAX_FRAME) {
        errno = EMSGSIZE;
        return -1;
    }
    unsigned char head[5] = {(unsigned char)type,
                             (unsigned char)(len >> 24),
                             (unsigned char)(len >> 16),
                             (unsigned char)(len >> 8),
                             (unsigned char)len};
    char frame[STANDIN_MAX_FRAME + 5];
    memcpy(frame, head, 5);
    if (len > 0) {
        memcpy(frame + 5, payload, len);
    }
    return standin_write_all(fd, frame, len + 5);
}

ssize_t standin_recv_frame(int fd, char* type, char* payload, size_t size)
{
    unsigned char head[5];
    if (standin_read_full(fd, head, 5) != 0) {
        return -1;
    }
    size_t len = ((size_t)head[1] << 24) | ((size_t)head[2] << 16) | ((size_t)head[3] << 8)
                 | (size_t)head[4];
    if (len > size || len > STANDIN_MAX_FRAME) {
        errno = EMSGSIZE;
        return -1;
    }
    if (len > 0 && standin_read_full(fd, payload, len) != 0) {
        return -1;
    }
    *type = (char)head[0];
    return (ssize_t)len;
}

ssize_t standin_frames_fill(struct standin_frames* f, int fd)
{
    if (f->consumed > 0) {
        memmove(f->buf, f->buf + f->consumed, f->len - f->consumed);
        f->len -= f->consumed;
        f->consumed = 0;
    }
    if (f->len == sizeof f->buf) {
        return -1;
    }
    ssize_t n;
    do {
        n = read(fd, f->buf + f->len, sizeof f->buf - f->len);
    } while (n < 0 && errno == EINTR);
    if (n > 0) {
        f->len += (size_t)n;
    }
    return n;
}

int standin_frames_next(struct standin_frames* f, char* type, const char** payload, size_t* len)
{
    if (f->consumed > 0) {
        memmove(f->buf, f->buf + f->consumed, f->len - f->consumed);
        f->len -= f->consumed;
        f->consumed = 0;
    }
    if (f->len < 5) {
        return 0;
    }
    const unsigned char* h = (const unsigned char*)f->buf;
    size_t n = ((size_t)h[1] << 24) | ((size_t)h[2] << 16) | ((size_t)h[3] << 8) | (size_t)h[4];
    if (n > STANDIN_MAX_FRAME) {
        return -1;
    }
    if (f->len < n + 5) {
        return 0;
    }
    *type = f->buf[0];
    *payload = f->buf + 5;
    *len = n;
    f->consumed = n + 5;
    return 1;
}

int standin_mkdirs(const char* path, mode_t mode)
{
    char buf[STANDIN_PATH_MAX];
    int n = snprintf(buf, sizeof buf, "%s", path);
    if (n <= 0 || (size_t)n >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char* p = buf + 1; *p != '\0'; ++p) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, mode) != 0 && errno != EEXIST) {
                return -1;
            }
            *p = '/';
        }
    }
    if (mkdir(buf, mode) != 0 && errno != EEXIST) {
        return -1;
    }
    return 0;
}
