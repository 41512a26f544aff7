/* fuzz_seeds.c: writes the binary seeds of tests/fuzz/corpus that cannot be written by hand:
 * calendars for fuzz_calendar, in the layout that target reads (see its header comment).
 * Built with the fuzz targets; run it again after changing a layout:
 *
 *     build-fuzz/tests/fuzz/fuzz_seeds tests/fuzz/corpus */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS ((int64_t)86400 * 1000)

/* A growing input file. */
struct seed {
        uint8_t buf[8192];
        size_t n;
};

static void
s_put(struct seed *s, const void *data, size_t n)
{
        if (s->n + n > sizeof(s->buf)) {
                fprintf(stderr, "fuzz_seeds: a seed over %zu bytes\n", sizeof(s->buf));
                exit(1);
        }
        memcpy(s->buf + s->n, data, n);
        s->n += n;
}

static void
s_write(const char *dir, const char *target, const char *name, const struct seed *s)
{
        char path[4096];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s/%s", dir, target, name);
        f = fopen(path, "wb");
        if (f == NULL || fwrite(s->buf, 1, s->n, f) != s->n || fclose(f) != 0) {
                perror(path);
                exit(1);
        }
}

/* ---------------------------------------------------------------- fuzz_calendar */

/* Appends v as fuzz_range(lo, hi) reads it: as many big-endian bytes as the range needs. */
static void
s_range(struct seed *s, int64_t lo, int64_t hi, int64_t v)
{
        uint64_t span = (uint64_t)hi - (uint64_t)lo, x = (uint64_t)v - (uint64_t)lo;
        unsigned bytes = span <= 0xff ? 1 : span <= 0xffff ? 2 : span <= 0xffffffff ? 4 : 8;

        for (unsigned i = bytes; i > 0; i--)
                s_put(s, (uint8_t[]){(uint8_t)(x >> (8 * (i - 1)))}, 1);
}

static void
s_u8(struct seed *s, uint8_t v)
{
        s_put(s, &v, 1);
}

struct hours {
        int wd, start, end;
};

struct date {
        int year_delta, month, day, wd;
};

/* A calendar as fuzz_calendar builds it, then n query blocks of (start days into the year,
 * allowance in minutes). zone is an index into its zones[] table, or a POSIX rule. */
static void
s_calendar(const char *dir, const char *name, int year, int zone, const char *rule, bool always,
           const struct hours *h, size_t nh, const struct date *hol, size_t nhol,
           const struct date *wdays, size_t nw)
{
        static const struct {
                int64_t start_day, start_min, allowance_min;
        } queries[] = {{0, 9 * 60, 120},
                       {85, 1 * 60 + 30, 600},
                       {300, 23 * 60, 3 * 24 * 60},
                       {358, 16 * 60 + 30, 45}};
        struct seed s = {.n = 0};

        s_u8(&s, 0);
        s_range(&s, 1990, 2060, year);
        if (rule) {
                s_u8(&s, 200);
                s_range(&s, 1, 48, (int64_t)strlen(rule));
                s_put(&s, rule, strlen(rule));
        } else {
                s_u8(&s, (uint8_t)zone);
        }
        s_u8(&s, always ? 0 : 255);
        s_u8(&s, (uint8_t)nh);
        for (size_t i = 0; i < nh; i++) {
                s_range(&s, -1, 7, h[i].wd);
                s_range(&s, -1, 1440, h[i].start);
                s_range(&s, -1, 1441, h[i].end);
                s_u8(&s, 255);
        }
        s_u8(&s, (uint8_t)nhol);
        for (size_t i = 0; i < nhol; i++) {
                s_range(&s, -1, 1, hol[i].year_delta);
                s_range(&s, 0, 13, hol[i].month);
                s_range(&s, 0, 32, hol[i].day);
        }
        s_u8(&s, (uint8_t)nw);
        for (size_t i = 0; i < nw; i++) {
                s_range(&s, -1, 7, wdays[i].wd);
                s_range(&s, -1, 1, wdays[i].year_delta);
                s_range(&s, 0, 13, wdays[i].month);
                s_range(&s, 0, 32, wdays[i].day);
        }
        for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
                /* start, allowance (kind 8..159: up to three days), a2 and s2 deltas, no
                 * random start, the third point of the between check. */
                s_range(&s, -DAY_MS, 367 * DAY_MS,
                        queries[i].start_day * DAY_MS + queries[i].start_min * 60000);
                s_u8(&s, 100);
                s_range(&s, 0, 3 * DAY_MS, queries[i].allowance_min * 60000);
                s_range(&s, 0, 2 * DAY_MS, 3600 * 1000);
                s_range(&s, 0, 2 * DAY_MS, DAY_MS / 2);
                s_u8(&s, 255);
                s_range(&s, 0, 60 * DAY_MS, 7 * DAY_MS);
        }
        s_write(dir, "fuzz_calendar", name, &s);
}

static void
s_calendars(const char *dir)
{
        const struct hours office[] = {
            {1, 480, 720},  {1, 780, 1020}, {2, 480, 1020},
            {3, 480, 1020}, {4, 480, 1020}, {5, 480, 900},
        };
        const struct hours night[] = {{0, 1320, 360}, {1, 1320, 360}, {6, 600, 840}};
        const struct hours breaks[] = {{1, 0, 0}, {3, 60, 90}, {3, 90, 120}, {3, 100, 30}};
        const struct date holidays[] = {{0, 1, 1, 0}, {0, 3, 29, 0}, {0, 12, 24, 0}, {0, 12, 25, 0},
                                        {1, 1, 1, 0}, {0, 2, 29, 0}, {0, 13, 1, 0}};
        const struct date workdays[] = {{0, 12, 19, 1}, {0, 3, 30, 6}, {0, 12, 25, 3}};

        /* Europe/Berlin: an office week with holidays and a make-up Saturday. */
        s_calendar(dir, "berlin_office", 2026, 1, NULL, false, office, 6, holidays, 7, workdays, 3);
        /* America/New_York: overnight shifts across the DST changes. */
        s_calendar(dir, "newyork_night", 2027, 2, NULL, false, night, 3, holidays, 2, NULL, 0);
        /* Australia/Lord_Howe, half-hour DST, always open but for Christmas. */
        s_calendar(dir, "lordhowe_always", 2024, 3, NULL, true, NULL, 0, holidays + 2, 2, NULL, 0);
        /* Pacific/Apia skipped 2011-12-30. */
        s_calendar(dir, "apia_2011", 2011, 5, NULL, false, office, 6, NULL, 0, NULL, 0);
        /* Rules: whole days and touching intervals in a zone of its own. */
        s_calendar(dir, "rule_iran", 2030, 0, "<+0330>-3:30", false, breaks, 4, NULL, 0, workdays,
                   1);
        /* A rule whose changes fall into the next January (tz.c looked one year too few back). */
        s_calendar(dir, "rule_late_new_year", 2026, 0, "AAA0BBB,J365/167,J365/166", false, office,
                   6, holidays, 3, NULL, 0);
}

int
main(int argc, char **argv)
{
        if (argc != 2) {
                fprintf(stderr, "usage: fuzz_seeds CORPUS_DIR (tests/fuzz/corpus)\n");
                return 2;
        }
        s_calendars(argv[1]);
        return 0;
}
