/* bench.c: the helpers behind bench.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

int64_t
bench_mono_us(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
bench_wall_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
bench_samples_add(struct bench_samples *s, int64_t v)
{
        if (s->n == s->cap) {
                size_t cap = s->cap ? s->cap * 2 : 1024;
                int64_t *p = realloc(s->v, cap * sizeof(*p));

                if (p == NULL)
                        bench_die("out of memory for %zu samples", cap);
                s->v = p;
                s->cap = cap;
        }
        s->v[s->n++] = v;
        s->sorted = false;
}

void
bench_samples_merge(struct bench_samples *into, struct bench_samples *from)
{
        for (size_t i = 0; i < from->n; i++)
                bench_samples_add(into, from->v[i]);
        bench_samples_free(from);
}

static int
s_cmp(const void *a, const void *b)
{
        int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

        return (x > y) - (x < y);
}

int64_t
bench_samples_quantile(struct bench_samples *s, double q)
{
        size_t i;

        if (s->n == 0)
                return 0;
        if (!s->sorted) {
                qsort(s->v, s->n, sizeof(*s->v), s_cmp);
                s->sorted = true;
        }
        /* Nearest rank: the smallest sample with at least q of all samples at or below it. */
        i = (size_t)(q * (double)s->n + 0.999999);
        i = i == 0 ? 0 : i - 1;
        return s->v[i < s->n ? i : s->n - 1];
}

void
bench_samples_free(struct bench_samples *s)
{
        free(s->v);
        *s = (struct bench_samples){0};
}

void
bench_figure(const char *name, double value)
{
        printf("%s %.6g\n", name, value);
        fflush(stdout);
}

void
bench_figure_quantiles(const char *name, const char *unit, struct bench_samples *s)
{
        static const struct {
                const char *suffix;
                double q;
        } qs[] = {{"p50", 0.5}, {"p99", 0.99}, {"p999", 0.999}, {"max", 1.0}};
        char key[128];

        for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
                snprintf(key, sizeof(key), "%s.%s_%s", name, qs[i].suffix, unit);
                bench_figure(key, (double)bench_samples_quantile(s, qs[i].q));
        }
}

void
bench_latch_arrive(struct bench_latch *l)
{
        pthread_mutex_lock(&l->lock);
        l->count++;
        pthread_cond_broadcast(&l->cond);
        pthread_mutex_unlock(&l->lock);
}

bool
bench_latch_wait(struct bench_latch *l, int n, long timeout_ms)
{
        struct timespec until;
        int r = 0;

        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += timeout_ms / 1000;
        until.tv_nsec += (timeout_ms % 1000) * 1000000;
        if (until.tv_nsec >= 1000000000) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000;
        }
        pthread_mutex_lock(&l->lock);
        while (l->count < n && r == 0)
                r = pthread_cond_timedwait(&l->cond, &l->lock, &until);
        r = l->count >= n;
        pthread_mutex_unlock(&l->lock);
        return r;
}

int
bench_run_command(const char *cmd)
{
        pid_t pid;
        int status;

        fflush(stdout);
        fflush(stderr);
        pid = fork();
        if (pid < 0)
                return -1;
        if (pid == 0) {
                execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
                _exit(127);
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void
bench_die(const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        fputs("bench: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
        exit(1);
}

void
bench_note(const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        fputs("bench: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
}
