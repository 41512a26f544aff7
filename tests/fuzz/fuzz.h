/* fuzz.h: what the libFuzzer targets share: the entry point's prototype, a reader that takes
 * numbers from the front of an input (zeros once it runs dry, so every input is usable), a
 * scratch directory that is removed at exit, and a check that aborts with a message when an
 * invariant fails. Header-only: each target is one .c file. */
#ifndef COMPLAINTD_FUZZ_H
#define COMPLAINTD_FUZZ_H

#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* An invariant that must hold whatever the input: a failure is a bug, reported and ended
 * with abort() so that libFuzzer keeps the input. */
#define FUZZ_CHECK(cond, ...)                                                                \
        do {                                                                                 \
                if (!(cond)) {                                                               \
                        fprintf(stderr, "%s:%d: invariant failed: %s: ", __FILE__, __LINE__, \
                                #cond);                                                      \
                        fprintf(stderr, __VA_ARGS__);                                        \
                        fputc('\n', stderr);                                                 \
                        abort();                                                             \
                }                                                                            \
        } while (0)

/* The unread part of an input. */
struct fuzz_in {
        const uint8_t *p;
        size_t n;
};

static inline uint64_t
fuzz_bits(struct fuzz_in *in, unsigned bytes)
{
        uint64_t v = 0;

        for (unsigned i = 0; i < bytes; i++) {
                v = v << 8 | (in->n ? *in->p : 0);
                if (in->n) {
                        in->p++;
                        in->n--;
                }
        }
        return v;
}

static inline uint8_t
fuzz_u8(struct fuzz_in *in)
{
        return (uint8_t)fuzz_bits(in, 1);
}

static inline uint16_t
fuzz_u16(struct fuzz_in *in)
{
        return (uint16_t)fuzz_bits(in, 2);
}

static inline uint32_t
fuzz_u32(struct fuzz_in *in)
{
        return (uint32_t)fuzz_bits(in, 4);
}

static inline uint64_t
fuzz_u64(struct fuzz_in *in)
{
        return fuzz_bits(in, 8);
}

/* A number in [lo, hi] (lo <= hi), from as many bytes as the range needs. */
static inline int64_t
fuzz_range(struct fuzz_in *in, int64_t lo, int64_t hi)
{
        uint64_t span = (uint64_t)hi - (uint64_t)lo, v;

        if (span == 0)
                return lo;
        v = span <= 0xff         ? fuzz_u8(in)
            : span <= 0xffff     ? fuzz_u16(in)
            : span <= 0xffffffff ? fuzz_u32(in)
                                 : fuzz_u64(in);
        if (span != UINT64_MAX)
                v %= span + 1;
        return (int64_t)((uint64_t)lo + v);
}

/* The scratch directory made by fuzz_scratch(), removed at exit. */
static char fuzz_scratch_dir[4096];

static inline int
fuzz_rm_entry_(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st;
        (void)flag;
        (void)ftw;
        return remove(path);
}

/* Removes the tree at path; quietly does nothing when it is not there. */
static inline void
fuzz_rm_tree(const char *path)
{
        nftw(path, fuzz_rm_entry_, 16, FTW_DEPTH | FTW_PHYS);
}

static inline void
fuzz_scratch_remove_(void)
{
        if (fuzz_scratch_dir[0])
                fuzz_rm_tree(fuzz_scratch_dir);
}

/* Makes a fresh directory for a target's files under $TMPDIR, else /dev/shm (a store there
 * commits without touching a disk), else /tmp, and removes it at exit. Fatal on failure: a
 * target cannot run without it. Returns its path, valid until exit. */
static inline const char *
fuzz_scratch(const char *target)
{
        const char *base = getenv("TMPDIR");
        struct stat st;

        if (base == NULL || base[0] == '\0')
                base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" : "/tmp";
        snprintf(fuzz_scratch_dir, sizeof(fuzz_scratch_dir), "%s/%s.XXXXXX", base, target);
        if (mkdtemp(fuzz_scratch_dir) == NULL) {
                fprintf(stderr, "%s: cannot make a directory in %s: %m\n", target, base);
                exit(1);
        }
        atexit(fuzz_scratch_remove_);
        return fuzz_scratch_dir;
}

/* Writes size bytes to path, replacing it. Returns 0 or -errno. */
static inline int
fuzz_write_file(const char *path, const void *data, size_t size)
{
        FILE *f = fopen(path, "wb");
        int r = 0;

        if (f == NULL)
                return -errno;
        if (size > 0 && fwrite(data, 1, size, f) != size)
                r = -EIO;
        if (fclose(f) != 0 && r == 0)
                r = -errno;
        return r;
}

#endif
