/* faultshim.c: an LD_PRELOAD library for the fault-injection tests (tests/it_faults.c). It fails
 * the daemon's writes or flushes of its store's data file, on demand, so that a test can see
 * what the daemon does with an I/O error, a full disk or a short write that the real disk
 * would not produce. Built as a module by tests/CMakeLists.txt, never installed.
 *
 * It wraps pwrite, pwrite64, pwritev, pwritev64, writev, write, fdatasync, fsync and msync;
 * each looks the real function up with dlsym(RTLD_NEXT) and calls it unless a fault is due.
 * A call matches when all of these hold:
 *   - its name is in FAULTSHIM_CALL, a comma-separated list of: pwrite (pwrite and pwrite64,
 *     one function on LP64), pwritev (pwritev and pwritev64), writev, write, fdatasync, fsync,
 *     msync. Unset or empty: the shim does nothing.
 *   - the file FAULTSHIM_ARM names exists (checked on every call that could match): a test
 *     starts the daemon unarmed and creates the file once the daemon serves. Unset: never.
 *   - the call is on the store's data file: the descriptor's target (readlink of
 *     /proc/self/fd/N, cached per descriptor and checked again against its device and inode)
 *     ends in FAULTSHIM_FILE, "/data.mdb" by default. For msync, the mapping that holds the
 *     address is looked up in /proc/self/maps instead.
 *   - for the writes, it asks for at least FAULTSHIM_MIN_SIZE bytes (default 0). LMDB writes
 *     whole pages of data but only part of a meta page; 4096 spares the meta page, whose
 *     write a sector makes atomic on a real disk.
 * The first FAULTSHIM_AFTER matching calls (default 0) go through; after them, FAULTSHIM_TIMES
 * calls fail (default 0: every one from then on, as a disk that died would). A failing call
 * does what FAULTSHIM_ERROR says:
 *   EIO, ENOSPC, EDQUOT or EFBIG   returns -1 with that errno, writing nothing;
 *   short                          writes (for real) the first half of what it was asked to
 *                                  and returns that count; for a flush or a write of one
 *                                  byte, fails with EIO.
 * Each fault is said on stderr ("faultshim: injected ... "), which is the daemon's log in the
 * tests, so that a test can tell a fault was injected at all.
 *
 * Calls inside the C library (fclose, the dynamic loader) do not go through these wrappers;
 * the ones LMDB and the daemon make do. Thread-safe: the backup writes from its own thread. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

enum call {
        CALL_PWRITE,
        CALL_PWRITEV,
        CALL_WRITEV,
        CALL_WRITE,
        CALL_FDATASYNC,
        CALL_FSYNC,
        CALL_MSYNC,
        CALL_COUNT,
};

static const char *const call_names[CALL_COUNT] = {"pwrite",    "pwritev", "writev", "write",
                                                   "fdatasync", "fsync",   "msync"};

/* The descriptors whose target is cached. */
#define FD_CACHE 4096

struct fd_entry {
        dev_t dev;
        ino_t ino;
        signed char state; /* 0: unknown, 1: the data file, -1: another file */
};

static struct {
        pthread_once_t once;
        bool calls[CALL_COUNT];
        const char *arm;
        const char *file; /* the suffix a matching path ends in */
        size_t min_size;
        unsigned long after;
        unsigned long times; /* 0: no end */
        int error;           /* an errno, or 0 for a short write */
        unsigned long matched;
        pthread_mutex_t lock; /* matched and the cache */
        struct fd_entry fds[FD_CACHE];
} shim = {.once = PTHREAD_ONCE_INIT, .lock = PTHREAD_MUTEX_INITIALIZER};

/* The real functions, from the next object in the lookup order. */
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off64_t);
static ssize_t (*real_pwritev)(int, const struct iovec *, int, off_t);
static ssize_t (*real_pwritev64)(int, const struct iovec *, int, off64_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_write)(int, const void *, size_t);
static int (*real_fdatasync)(int);
static int (*real_fsync)(int);
static int (*real_msync)(void *, size_t, int);

/* dlsym() gives an object pointer; POSIX guarantees it converts to the function's. */
#define RESOLVE(fn) (*(void **)&real_##fn = dlsym(RTLD_NEXT, #fn))

static unsigned long
s_env_ulong(const char *name, unsigned long dflt)
{
        const char *v = getenv(name);
        char *end;
        unsigned long n;

        if (v == NULL || v[0] == '\0')
                return dflt;
        n = strtoul(v, &end, 10);
        return *end == '\0' ? n : dflt;
}

static void
s_init(void)
{
        const char *calls = getenv("FAULTSHIM_CALL"), *err = getenv("FAULTSHIM_ERROR");

        RESOLVE(pwrite);
        RESOLVE(pwrite64);
        RESOLVE(pwritev);
        RESOLVE(pwritev64);
        RESOLVE(writev);
        RESOLVE(write);
        RESOLVE(fdatasync);
        RESOLVE(fsync);
        RESOLVE(msync);
        shim.arm = getenv("FAULTSHIM_ARM");
        shim.file = getenv("FAULTSHIM_FILE");
        if (shim.file == NULL || shim.file[0] == '\0')
                shim.file = "/data.mdb";
        shim.min_size = s_env_ulong("FAULTSHIM_MIN_SIZE", 0);
        shim.after = s_env_ulong("FAULTSHIM_AFTER", 0);
        shim.times = s_env_ulong("FAULTSHIM_TIMES", 0);
        shim.error = EIO;
        if (err && strcmp(err, "ENOSPC") == 0)
                shim.error = ENOSPC;
        else if (err && strcmp(err, "EDQUOT") == 0)
                shim.error = EDQUOT;
        else if (err && strcmp(err, "EFBIG") == 0)
                shim.error = EFBIG;
        else if (err && strcmp(err, "short") == 0)
                shim.error = 0;
        /* Each name of the list, compared whole: "write" is not "pwrite". */
        for (const char *p = calls; p && *p;) {
                size_t len = strcspn(p, ",");

                for (int i = 0; i < CALL_COUNT; i++)
                        if (strlen(call_names[i]) == len && strncmp(p, call_names[i], len) == 0)
                                shim.calls[i] = true;
                p += len + (p[len] == ',');
        }
}

static void s_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One line on stderr through the real write, which the wrapper of write would not fail. */
static void
s_say(const char *fmt, ...)
{
        char line[512];
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        if (n > 0 && real_write)
                (void)!real_write(2, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

/* Whether path ends in the configured suffix. */
static bool
s_path_matches(const char *path, size_t len)
{
        size_t sl = strlen(shim.file);

        return len >= sl && memcmp(path + len - sl, shim.file, sl) == 0;
}

/* Whether fd is the data file. */
static bool
s_fd_matches(int fd)
{
        char link[64], path[4096];
        struct stat st;
        ssize_t n;
        bool match;

        if (fd < 0 || fstat(fd, &st) < 0)
                return false;
        if (fd < FD_CACHE) {
                struct fd_entry e;

                pthread_mutex_lock(&shim.lock);
                e = shim.fds[fd];
                pthread_mutex_unlock(&shim.lock);
                if (e.state != 0 && e.dev == st.st_dev && e.ino == st.st_ino)
                        return e.state > 0;
        }
        snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
        n = readlink(link, path, sizeof(path) - 1);
        match = n > 0 && s_path_matches(path, (size_t)n);
        if (fd < FD_CACHE) {
                pthread_mutex_lock(&shim.lock);
                shim.fds[fd] = (struct fd_entry){st.st_dev, st.st_ino, match ? 1 : -1};
                pthread_mutex_unlock(&shim.lock);
        }
        return match;
}

/* Whether addr lies in a mapping of the data file. */
static bool
s_addr_matches(const void *addr)
{
        FILE *f = fopen("/proc/self/maps", "re");
        char line[4400];
        bool match = false;

        if (f == NULL)
                return false;
        /* One line per mapping: the loop ends with the file. */
        while (!match && fgets(line, sizeof(line), f)) {
                unsigned long lo, hi;
                int path_at = 0;
                size_t len;

                if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %n", &lo, &hi, &path_at) < 2 ||
                    path_at == 0)
                        continue;
                len = strcspn(line + path_at, "\n");
                match = (uintptr_t)addr >= lo && (uintptr_t)addr < hi &&
                        s_path_matches(line + path_at, len);
        }
        fclose(f);
        return match;
}

/* Whether this call (what, on fd or at addr, of size bytes) is to fail. */
static bool
s_due(enum call what, int fd, const void *addr, size_t size)
{
        unsigned long nth;

        pthread_once(&shim.once, s_init);
        if (!shim.calls[what] || shim.arm == NULL || access(shim.arm, F_OK) < 0)
                return false;
        if (what != CALL_FDATASYNC && what != CALL_FSYNC && what != CALL_MSYNC &&
            size < shim.min_size)
                return false;
        if (what == CALL_MSYNC ? !s_addr_matches(addr) : !s_fd_matches(fd))
                return false;
        pthread_mutex_lock(&shim.lock);
        nth = ++shim.matched;
        pthread_mutex_unlock(&shim.lock);
        if (nth <= shim.after || (shim.times > 0 && nth > shim.after + shim.times))
                return false;
        s_say("faultshim: injected %s into %s of %zu bytes on fd %d (matching call %lu)\n",
              shim.error ? strerrorname_np(shim.error) : "a short write", call_names[what], size,
              fd, nth);
        return true;
}

/* The count a short write reports: half of size, at least one byte less than asked. */
static size_t
s_short(size_t size)
{
        return size / 2;
}

static size_t
s_iov_size(const struct iovec *iov, int n)
{
        size_t total = 0;

        for (int i = 0; i < n; i++)
                total += iov[i].iov_len;
        return total;
}

/* The first size bytes of iov as a vector of its own in out (at most n entries). */
static int
s_iov_head(const struct iovec *iov, int n, size_t size, struct iovec *out)
{
        int k = 0;

        for (int i = 0; i < n && size > 0; i++) {
                out[k] = iov[i];
                if (out[k].iov_len > size)
                        out[k].iov_len = size;
                size -= out[k].iov_len;
                k++;
        }
        return k;
}

/* Fails a flush, or a write when no short write can be made of it. */
static int
s_fail(void)
{
        errno = shim.error ? shim.error : EIO;
        return -1;
}

ssize_t
pwrite(int fd, const void *buf, size_t size, off_t off)
{
        if (s_due(CALL_PWRITE, fd, NULL, size)) {
                if (shim.error || s_short(size) == 0)
                        return s_fail();
                return real_pwrite(fd, buf, s_short(size), off);
        }
        return real_pwrite(fd, buf, size, off);
}

ssize_t
pwrite64(int fd, const void *buf, size_t size, off64_t off)
{
        if (s_due(CALL_PWRITE, fd, NULL, size)) {
                if (shim.error || s_short(size) == 0)
                        return s_fail();
                return real_pwrite64(fd, buf, s_short(size), off);
        }
        return real_pwrite64(fd, buf, size, off);
}

ssize_t
write(int fd, const void *buf, size_t size)
{
        if (s_due(CALL_WRITE, fd, NULL, size)) {
                if (shim.error || s_short(size) == 0)
                        return s_fail();
                return real_write(fd, buf, s_short(size));
        }
        return real_write(fd, buf, size);
}

/* The vector writes: n is at most IOV_MAX (1024), so the head fits on the stack. */
#define IOV_HEAD_MAX 1024

ssize_t
writev(int fd, const struct iovec *iov, int n)
{
        size_t size = n > 0 ? s_iov_size(iov, n) : 0;

        if (s_due(CALL_WRITEV, fd, NULL, size)) {
                struct iovec head[IOV_HEAD_MAX];

                if (shim.error || s_short(size) == 0 || n > IOV_HEAD_MAX)
                        return s_fail();
                return real_writev(fd, head, s_iov_head(iov, n, s_short(size), head));
        }
        return real_writev(fd, iov, n);
}

ssize_t
pwritev(int fd, const struct iovec *iov, int n, off_t off)
{
        size_t size = n > 0 ? s_iov_size(iov, n) : 0;

        if (s_due(CALL_PWRITEV, fd, NULL, size)) {
                struct iovec head[IOV_HEAD_MAX];

                if (shim.error || s_short(size) == 0 || n > IOV_HEAD_MAX)
                        return s_fail();
                return real_pwritev(fd, head, s_iov_head(iov, n, s_short(size), head), off);
        }
        return real_pwritev(fd, iov, n, off);
}

ssize_t
pwritev64(int fd, const struct iovec *iov, int n, off64_t off)
{
        size_t size = n > 0 ? s_iov_size(iov, n) : 0;

        if (s_due(CALL_PWRITEV, fd, NULL, size)) {
                struct iovec head[IOV_HEAD_MAX];

                if (shim.error || s_short(size) == 0 || n > IOV_HEAD_MAX)
                        return s_fail();
                return real_pwritev64(fd, head, s_iov_head(iov, n, s_short(size), head), off);
        }
        return real_pwritev64(fd, iov, n, off);
}

int
fdatasync(int fd)
{
        if (s_due(CALL_FDATASYNC, fd, NULL, 0))
                return s_fail();
        return real_fdatasync(fd);
}

int
fsync(int fd)
{
        if (s_due(CALL_FSYNC, fd, NULL, 0))
                return s_fail();
        return real_fsync(fd);
}

int
msync(void *addr, size_t size, int flags)
{
        if (s_due(CALL_MSYNC, -1, addr, 0))
                return s_fail();
        return real_msync(addr, size, flags);
}
