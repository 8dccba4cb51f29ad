// SPDX-License-Identifier: MIT
// Test helper: observe every signal a process receives, including glibc's reserved 32 and 33.
// Blocks all 64 signals with the raw rt_sigprocmask syscall (glibc's wrappers refuse 32/33),
// reads them from a signalfd and prints one line per signal: "<tag> <signo> <si_code>".
// Prints "<tag> ready <pid>" once everything is blocked, so a test knows when to send.
// Usage: sigcatch [-t TAG] [-x SIGNO]...   (-x: exit 0 after printing that signal)
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char** argv)
{
    const char* tag = "C";
    uint64_t exit_on = 0;
    int opt;
    while ((opt = getopt(argc, argv, "+t:x:")) != -1) {
        if (opt == 't') {
            tag = optarg;
        } else if (opt == 'x') {
            const int sig = atoi(optarg);
            if (sig < 1 || sig > 64) {
                fprintf(stderr, "sigcatch: bad signal %s\n", optarg);
                return 2;
            }
            exit_on |= UINT64_C(1) << (sig - 1);
        } else {
            fprintf(stderr, "usage: sigcatch [-t TAG] [-x SIGNO]...\n");
            return 2;
        }
    }
    // The kernel's sigset is 8 bytes; passing it raw reaches every signal 1..64.
    uint64_t all = ~UINT64_C(0);
    if (syscall(SYS_rt_sigprocmask, SIG_BLOCK, &all, NULL, sizeof all) != 0) {
        perror("sigcatch: rt_sigprocmask");
        return 2;
    }
    const int fd = (int)syscall(SYS_signalfd4, -1, &all, sizeof all, SFD_CLOEXEC);
    if (fd < 0) {
        perror("sigcatch: signalfd4");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("%s ready %d\n", tag, (int)getpid());
    for (;;) {
        struct signalfd_siginfo si;
        const ssize_t n = read(fd, &si, sizeof si);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n != (ssize_t)sizeof si) {
            perror("sigcatch: read");
            return 3;
        }
        // SIGPIPE is blocked too: a vanished reader shows up as a failed write; just leave.
        if (printf("%s %u %d\n", tag, si.ssi_signo, si.ssi_code) < 0 || fflush(stdout) != 0) {
            return 0;
        }
        if (si.ssi_signo >= 1 && si.ssi_signo <= 64
            && (exit_on & (UINT64_C(1) << (si.ssi_signo - 1))) != 0) {
            return 0;
        }
    }
}
