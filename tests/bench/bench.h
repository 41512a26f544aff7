/* bench.h: what the benchmark programs share: clocks, latency samples and their percentiles,
 * the figures they print, and fatal errors. Each program prints its figures on stdout as
 * "name value" lines (tests/bench/run gathers them) and its progress on stderr. */
#ifndef COMPLAINTD_BENCH_H
#define COMPLAINTD_BENCH_H

#include <pthread.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

/* Monotonic time in microseconds: for intervals. */
int64_t bench_mono_us(void);

/* Wall-clock time, UTC, in milliseconds since the epoch: what the daemon stamps events with. */
int64_t bench_wall_ms(void);

/* A growing list of samples (latencies in microseconds, lateness in milliseconds). */
struct bench_samples {
        int64_t *v;
        size_t n;
        size_t cap;
        bool sorted;
};

/* Appends one sample; fatal when out of memory. */
void bench_samples_add(struct bench_samples *s, int64_t v);

/* Moves every sample of *from into *into and empties *from. */
void bench_samples_merge(struct bench_samples *into, struct bench_samples *from);

/* The q-quantile (0 <= q <= 1, nearest rank) of the samples, 0 when there are none. Sorts. */
int64_t bench_samples_quantile(struct bench_samples *s, double q);

/* Frees the samples; the struct is empty afterwards. */
void bench_samples_free(struct bench_samples *s);

/* Prints one figure, "name value", on stdout. */
void bench_figure(const char *name, double value);

/* Prints the p50, p99, p99.9 and max of the samples as name.p50 ... with the unit suffix. */
void bench_figure_quantiles(const char *name, const char *unit, struct bench_samples *s);

/* A count that threads raise and another waits on: "every subscriber is live". */
struct bench_latch {
        pthread_mutex_t lock;
        pthread_cond_t cond;
        int count;
};

#define BENCH_LATCH_INIT                                               \
        {                                                              \
                PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0 \
        }

/* Raises the count by one and wakes the waiter. */
void bench_latch_arrive(struct bench_latch *l);

/* Waits until the count reaches n or timeout_ms pass; true when it reached n. */
bool bench_latch_wait(struct bench_latch *l, int n, long timeout_ms);

/* Runs cmd with /bin/sh -c, its stdout and stderr this process's, and waits for it. Returns
 * its exit status, or -1 when it could not be run or was killed. */
int bench_run_command(const char *cmd);

/* Prints a message on stderr and exits with status 1: for set-up failures only. */
_Noreturn void bench_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints a progress message on stderr. */
void bench_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
