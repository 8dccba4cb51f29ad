// SPDX-License-Identifier: MIT
// Test helper: make COUNT orphans quickly. Each orphan is forked by a short-lived intermediate
// that exits at once (and is reaped here), so the orphan is reparented to the nearest subreaper
// or PID 1. Orphans are named NAME (comm, so a test can find them, zombies included) and live
// (i % (MAX_HOLD_MS + 1)) ms before exiting, a mix of immediate and delayed exits.
// Prints "orphans COUNT" when all intermediates are gone.
// Usage: orphans COUNT NAME MAX_HOLD_MS
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char** argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: orphans COUNT NAME MAX_HOLD_MS\n");
        return 2;
    }
    const int count = atoi(argv[1]);
    const char* name = argv[2];
    const int max_hold = atoi(argv[3]);
    for (int i = 0; i < count; ++i) {
        const pid_t mid = fork();
        if (mid < 0) {
            perror("orphans: fork");
            return 1;
        }
        if (mid == 0) {
            const pid_t orphan = fork();
            if (orphan == 0) {
                prctl(PR_SET_NAME, name, 0, 0, 0);
                const int hold = max_hold > 0 ? i % (max_hold + 1) : 0;
                if (hold > 0) {
                    const struct timespec ts = {hold / 1000, (long)(hold % 1000) * 1000000L};
                    nanosleep(&ts, NULL);
                }
            }
            _exit(0);
        }
        int status = 0;
        while (waitpid(mid, &status, 0) < 0) {
        }
    }
    printf("orphans %d\n", count);
    return 0;
}
