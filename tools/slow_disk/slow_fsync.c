/* A slow disk for the test suite: every fsync/fdatasync/sync_file_range/msync waits
 * SLOW_FSYNC_MS milliseconds (default 10) before doing the real call.
 *
 * Why: a machine of the same kind with a slower disk ran the suite twice as long and a
 * test that was fine here timed out there (issue 31, item 4). Durable commits cost a
 * flush each, so delaying the flush reproduces that machine here, deterministically,
 * for every process a test starts (SQLite in the test process, gunicorn, the worker,
 * the PostgreSQL server): see tools/slow_disk/run.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

static long delay_ns(void) {
    static long ns = -1;
    if (ns < 0) {
        const char *ms = getenv("SLOW_FSYNC_MS");
        ns = (ms ? atol(ms) : 10) * 1000000L;
    }
    return ns;
}

static void wait_like_a_slow_disk(void) {
    struct timespec t = {delay_ns() / 1000000000L, delay_ns() % 1000000000L};
    while (nanosleep(&t, &t) != 0) {}
}

#define FORWARD(ret, name, params, args)                           \
    ret name params {                                              \
        static ret (*real) params = NULL;                          \
        if (!real) real = (ret (*) params) dlsym(RTLD_NEXT, #name); \
        wait_like_a_slow_disk();                                   \
        return real args;                                          \
    }

FORWARD(int, fsync, (int fd), (fd))
FORWARD(int, fdatasync, (int fd), (fd))
FORWARD(int, sync_file_range, (int fd, off64_t offset, off64_t nbytes, unsigned int flags),
        (fd, offset, nbytes, flags))
FORWARD(int, msync, (void *addr, size_t length, int flags), (addr, length, flags))
