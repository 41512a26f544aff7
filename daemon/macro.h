/* macro.h: small helpers shared by every daemon module: cleanup attributes for local
 * resources, array sizes, a clock in milliseconds, and one hash. */
#ifndef COMPLAINTD_MACRO_H
#define COMPLAINTD_MACRO_H

#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

static inline void
freep(void *p)
{
        free(*(void **)p);
}

/* A local pointer freed with free() when it leaves scope. */
#define _cleanup_free_ __attribute__((cleanup(freep)))

/* Wall-clock time, UTC, in milliseconds since the epoch: the time of record. */
static inline int64_t
now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* FNV-1a, 64 bits: stored (a request's hash, a policy's id), so it must never change. */
static inline uint64_t
hash_fnv1a(const void *data, size_t n)
{
        const uint8_t *b = data;
        uint64_t h = 0xcbf29ce484222325ull;

        for (size_t i = 0; i < n; i++)
                h = (h ^ b[i]) * 0x100000001b3ull;
        return h;
}

/* Monotonic time in milliseconds: for timeouts and intervals. */
static inline int64_t
mono_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Monotonic time in microseconds: for timing commits and batches in the log. */
static inline int64_t
mono_us(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

#endif
