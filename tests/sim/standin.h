/* SPDX-License-Identifier: MIT */
/*
 * Shared pieces of the SSM agent stand-in (amazon-ssm-agent, ssm-agent-worker,
 * ssm-session-worker) and its client (ssm-session-client): the agent directory and its
 * configuration file, the framed protocol on the session connection, session-id rules, logging.
 *
 * Configuration: <agent dir>/configuration/standin.conf, `key=value` lines (# comments):
 *   socket       path of the Unix socket ssm-agent-worker listens on for session requests
 *                (stands in for the SSM service's data channel). Required.
 *   ssm_root     the agent's data directory (default /var/lib/amazon/ssm)
 *   instance_id  the short instance id, the directory under ssm_root (default: 64 hex digits,
 *                the form ShortInstanceID takes on ECS: the container's runtime id)
 *   state_file   1: write the document state file of each session (default 1)
 *   session_limit  sessions at once, 0 for no limit (default 0; the real default is 2)
 *
 * Protocol on a session connection: frames of one type byte, a 4-byte big-endian length and
 * that many bytes (at most STANDIN_MAX_FRAME).
 *   client -> worker: 'O' open request (key=value lines: sid, command, owner, rows, cols,
 *                     logging), first and once; 'D' input bytes; 'S' window size (rows, cols as
 *                     two 16-bit big-endian numbers)
 *   worker -> client: 'D' output bytes; 'X' end: the command's status (4-byte big-endian,
 *                     128+N when killed by signal N), sent after the transcript is written;
 *                     'R' refused: a reason text, then the connection closes
 */
#ifndef EXECMARK_STANDIN_H
#define EXECMARK_STANDIN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define STANDIN_MAX_FRAME 65536
#define STANDIN_MAX_OPEN 16384
#define STANDIN_MAX_SID 128
#define STANDIN_PATH_MAX 4096

#define STANDIN_AGENT "amazon-ssm-agent"
#define STANDIN_AGENT_WORKER "ssm-agent-worker"
#define STANDIN_SESSION_WORKER "ssm-session-worker"
#define STANDIN_CONFIG "configuration/standin.conf"
#define STANDIN_DEFAULT_SSM_ROOT "/var/lib/amazon/ssm"
#define STANDIN_DEFAULT_INSTANCE "5f0c1e2d3b4a59687766554433221100ffeeddccbbaa99887766554433221100"

struct standin_config {
    char dir[STANDIN_PATH_MAX]; /* the agent directory (where the three binaries are) */
    char socket[STANDIN_PATH_MAX];
    char ssm_root[1024];
    char instance_id[256];
    int state_file;
    int session_limit;
};

/* Names the program in log lines ("amazon-ssm-agent", ...) and, when set, the session. */
void standin_log_init(const char* program, const char* sid);
/* One log line on stderr: "<time> <LEVEL> [program] [sid] message". */
void standin_log(const char* level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

/* The directory of this executable as started: dirname(argv0) when argv0 is absolute (the
 * agent does filepath.Dir(os.Args[0])), else the directory of /proc/self/exe. 0 or -1. */
int standin_self_dir(const char* argv0, char* out, size_t size);
/* Reads <dir>/configuration/standin.conf. 0, or -1 with a message logged. */
int standin_load_config(const char* dir, struct standin_config* cfg);

/* [A-Za-z0-9._@-], starting with a letter or digit, 1..STANDIN_MAX_SID characters. */
int standin_valid_sid(const char* sid);

/* Value of `key` in key=value lines (text of length len) copied into out; 1 found, 0 not. */
int standin_kv(const char* text, size_t len, const char* key, char* out, size_t size);

int standin_write_all(int fd, const void* buf, size_t len);
/* Reads exactly len bytes; 0, or -1 on error or end of file. */
int standin_read_full(int fd, void* buf, size_t len);
int standin_send_frame(int fd, char type, const void* payload, size_t len);
/* Reads one whole frame (blocking). Returns its length with *type set, or -1. */
ssize_t standin_recv_frame(int fd, char* type, char* payload, size_t size);

/* Incremental frame reader for a poll loop. */
struct standin_frames {
    char buf[STANDIN_MAX_FRAME + 5];
    size_t len;
    size_t consumed; /* bytes of the frame handed out last, dropped on the next call */
};

/* Reads what is available into the buffer: >0 bytes read, 0 end of file, -1 error. */
ssize_t standin_frames_fill(struct standin_frames* f, int fd);
/* Next complete frame in the buffer: 1 with type/payload/len set (payload points into the
 * buffer, valid until the next call), 0 when incomplete, -1 when the peer broke the format. */
int standin_frames_next(struct standin_frames* f, char* type, const char** payload, size_t* len);

/* mkdir -p with mode for the directories created. 0 or -1. */
int standin_mkdirs(const char* path, mode_t mode);

#endif
