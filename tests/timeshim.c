/* timeshim.c: an LD_PRELOAD library that moves the daemon's wall clock, so that a test can
 * reach a date (a month's last night in another zone, the end of a retention period) without
 * waiting for it. Built as a module by tests/CMakeLists.txt, never installed.
 *
 * TIMESHIM_FILE names a file of 8 bytes: a signed offset in milliseconds, in this machine's
 * byte order, added to every CLOCK_REALTIME reading (clock_gettime with CLOCK_REALTIME or
 * CLOCK_REALTIME_COARSE, gettimeofday, time). The file is mapped shared on first use, so a
 * test moves the clock by writing the file (timeshim.h) and the next reading sees it; the
 * monotonic clocks are left alone, so timeouts and polls run in real time. Unset, or a file
 * that cannot be mapped or is shorter than 8 bytes: no offset (so a test writes the file, with
 * timeshim_set(path, 0), before it starts the daemon). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

typedef int (*gettime_fn)(clockid_t, struct timespec *);

static pthread_once_t once = PTHREAD_ONCE_INIT;
static gettime_fn real_gettime;
static const volatile int64_t *offset;

static void
s_init(void)
{
        const char *path = getenv("TIMESHIM_FILE");
        struct stat st;
        int fd;
        void *p;

        real_gettime = (gettime_fn)dlsym(RTLD_NEXT, "clock_gettime");
        if (path == NULL || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
                return;
        /* A shorter file would fault on reading: it counts as none. */
        p = fstat(fd, &st) == 0 && st.st_size >= (off_t)sizeof(int64_t)
                ? mmap(NULL, sizeof(int64_t), PROT_READ, MAP_SHARED, fd, 0)
                : MAP_FAILED;
        close(fd);
        if (p != MAP_FAILED)
                offset = p;
}

static int64_t
s_offset_ms(void)
{
        pthread_once(&once, s_init);
        return offset ? __atomic_load_n(offset, __ATOMIC_RELAXED) : 0;
}

int
clock_gettime(clockid_t id, struct timespec *ts)
{
        int64_t off = s_offset_ms(), ns;
        int r = real_gettime ? real_gettime(id, ts) : -1;

        if (r != 0 || off == 0 || (id != CLOCK_REALTIME && id != CLOCK_REALTIME_COARSE))
                return r;
        ns = (int64_t)ts->tv_nsec + (off % 1000) * 1000000;
        ts->tv_sec += off / 1000 + (ns < 0 ? -1 : ns / 1000000000);
        ts->tv_nsec = (long)((ns % 1000000000 + 1000000000) % 1000000000);
        return 0;
}

int
gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
        struct timespec ts;

        (void)tz;
        if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
                return -1;
        tv->tv_sec = ts.tv_sec;
        tv->tv_usec = ts.tv_nsec / 1000;
        return 0;
}

time_t
time(time_t *t)
{
        struct timespec ts;

        if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
                return (time_t)-1;
        if (t)
                *t = ts.tv_sec;
        return ts.tv_sec;
}
