/* fuzz_calendar.c: business calendars (daemon/calendar.h). Each input builds a calendar, in a
 * real zone or in one made of a fuzzed POSIX TZ rule, with fuzzed working hours, holidays and
 * make-up days, then adds business time to fuzzed instants and measures business time between
 * them, checking what calendar.h promises:
 *   - a due instant is never before its start, and the business time from the start to it is
 *     the allowance, one millisecond less a millisecond earlier (it is the earliest such);
 *   - due instants never decrease as the allowance or the start grows;
 *   - business time between two instants is at most the real time between them, and adds up
 *     over neighbouring ranges;
 *   - the builders accept exactly the arguments calendar.h calls valid.
 * Allowances and ranges stay within a year or two: calendar.h says that centuries take long,
 * and a fuzzer would only time out on them. */
#include <errno.h>
#include <inttypes.h>

#include "calendar.h"
#include "fuzz.h"
#include "tz.h"

#define DAY_MS ((int64_t)86400 * 1000)

/* Zones with something to test: DST of half an hour or two hours, negative DST, a skipped
 * day, DST all year, offsets of quarter hours, no DST at all. */
static const char *const zones[] = {
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Shanghai",
    "Pacific/Apia",
    "America/St_Johns",
    "Africa/Casablanca",
    "Europe/Dublin",
    "Asia/Kathmandu",
    "Pacific/Kiritimati",
    "America/Sao_Paulo",
    "Antarctica/Troll",
    "Pacific/Chatham",
    "Asia/Gaza",
};

/* The zoneinfo directory the calendars load from: links to the system's, beside the zone
 * "Fuzz" that an input may write. */
static char zoneinfo[4200];
static char fuzz_zone[4300];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
        const char *sys = getenv("COMPLAINTD_ZONEINFO");
        char link[4400], target[4400];

        (void)argc;
        (void)argv;
        if (sys == NULL || sys[0] == '\0')
                sys = TZ_DEFAULT_ZONEINFO;
        snprintf(zoneinfo, sizeof(zoneinfo), "%s/zoneinfo", fuzz_scratch("fuzz_calendar"));
        snprintf(fuzz_zone, sizeof(fuzz_zone), "%s/Fuzz", zoneinfo);
        if (mkdir(zoneinfo, 0700) < 0) {
                perror(zoneinfo);
                exit(1);
        }
        for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
                /* Link the area ("Europe"), or the zone itself when it has none ("UTC"). */
                const char *slash = strchr(zones[i], '/');
                int n = slash ? (int)(slash - zones[i]) : (int)strlen(zones[i]);

                snprintf(link, sizeof(link), "%s/%.*s", zoneinfo, n, zones[i]);
                snprintf(target, sizeof(target), "%s/%.*s", sys, n, zones[i]);
                if (symlink(target, link) < 0 && errno != EEXIST) {
                        perror(link);
                        exit(1);
                }
        }
        setenv("COMPLAINTD_ZONEINFO", zoneinfo, 1);
        return 0;
}

static void
s_be32(uint8_t *p, uint32_t v)
{
        p[0] = (uint8_t)(v >> 24);
        p[1] = (uint8_t)(v >> 16);
        p[2] = (uint8_t)(v >> 8);
        p[3] = (uint8_t)v;
}

/* Writes the zone "Fuzz": a TZif file without transitions whose footer is the rule spec. */
static int
s_write_rule_zone(const char *spec, size_t len)
{
        /* A version 2 header with one time type and one abbreviation byte, its data block
         * (type: offset 0, not DST, abbreviation 0; the abbreviation ""), twice. */
        uint8_t head[44 + 7] = "TZif2", file[2 * sizeof(head) + 2 + 64];
        size_t n = 0;

        s_be32(head + 36, 1);
        s_be32(head + 40, 1);
        memcpy(file, head, sizeof(head));
        memcpy(file + sizeof(head), head, sizeof(head));
        n = 2 * sizeof(head);
        file[n++] = '\n';
        memcpy(file + n, spec, len);
        n += len;
        file[n++] = '\n';
        return fuzz_write_file(fuzz_zone, file, n);
}

static bool
s_valid_date(int year, int month, int day)
{
        return year >= 1 && year <= 9999 && month >= 1 && month <= 12 && day >= 1 &&
               day <= tz_days_in_month(year, month);
}

/* A date near year (mostly valid, sometimes just out of range). */
static void
s_date(struct fuzz_in *in, int year, int *ret_year, int *ret_month, int *ret_day)
{
        *ret_year = year + (int)fuzz_range(in, -1, 1);
        *ret_month = (int)fuzz_range(in, 0, 13);
        *ret_day = (int)fuzz_range(in, 0, 32);
}

static calendar_t *
s_build(struct fuzz_in *in, int year)
{
        calendar_t *cal = NULL;
        uint8_t zone = fuzz_u8(in);
        const char *name;
        int n, r;

        /* One of zones[], UTC or Berlin more often, or (from 64 on) a rule of the input's. */
        if (zone < sizeof(zones) / sizeof(zones[0])) {
                name = zones[zone];
        } else if (zone < 64) {
                name = zones[zone % 2];
        } else {
                size_t len = (size_t)fuzz_range(in, 1, 48);
                char spec[49];

                len = len < in->n ? len : in->n;
                memcpy(spec, in->p, len);
                in->p += len;
                in->n -= len;
                if (memchr(spec, '\n', len) || memchr(spec, '\0', len) ||
                    s_write_rule_zone(spec, len) < 0)
                        return NULL;
                name = "Fuzz";
        }
        r = calendar_new(name, &cal);
        if (r < 0) {
                /* A rule that does not parse; or a zone this machine lacks. */
                FUZZ_CHECK(cal == NULL && (r == -EINVAL || r == -ENOENT), "%s: r = %d", name, r);
                return NULL;
        }
        if (fuzz_u8(in) < 32)
                FUZZ_CHECK(calendar_set_always_open(cal) == 0, "always open");
        n = fuzz_u8(in) % 48;
        for (int i = 0; i < n; i++) {
                int wd = (int)fuzz_range(in, -1, 7);
                int start = (int)fuzz_range(in, -1, 1440), end = (int)fuzz_range(in, -1, 1441);
                bool valid =
                    wd >= 0 && wd <= 6 && start >= 0 && start < 1440 && end >= 0 && end <= 1440;

                /* Coarse times most of the time: intervals that meet and overlap. */
                if (fuzz_u8(in) < 192 && valid) {
                        start -= start % 30;
                        end -= end % 30;
                }
                r = calendar_add_hours(cal, wd, start, end);
                FUZZ_CHECK(valid ? r == 0 || r == -E2BIG : r == -EINVAL, "hours %d %d-%d: r = %d",
                           wd, start, end, r);
        }
        n = fuzz_u8(in) % 33;
        for (int i = 0; i < n; i++) {
                int y, m, d;

                s_date(in, year, &y, &m, &d);
                r = calendar_add_holiday(cal, y, m, d);
                FUZZ_CHECK(r == (s_valid_date(y, m, d) ? 0 : -EINVAL), "holiday %d-%d-%d: r = %d",
                           y, m, d, r);
        }
        n = fuzz_u8(in) % 17;
        for (int i = 0; i < n; i++) {
                int y, m, d, wd = (int)fuzz_range(in, -1, 7);

                s_date(in, year, &y, &m, &d);
                r = calendar_add_workday(cal, y, m, d, wd);
                FUZZ_CHECK(r == (s_valid_date(y, m, d) && wd >= 0 && wd <= 6 ? 0 : -EINVAL),
                           "workday %d-%d-%d=%d: r = %d", y, m, d, wd, r);
        }
        return cal;
}

/* An allowance: mostly hours or days, sometimes weeks, now and then a negative one. */
static int64_t
s_allowance(struct fuzz_in *in)
{
        uint8_t k = fuzz_u8(in);

        if (k < 8)
                return -fuzz_range(in, 1, DAY_MS);
        if (k < 160)
                return fuzz_range(in, 0, 3 * DAY_MS);
        return fuzz_range(in, 0, 400 * DAY_MS);
}

/* add(s, a) with its promises; returns the due instant, or INT64_MIN when there is none. */
static int64_t
s_check_add(const calendar_t *cal, int64_t s, int64_t a)
{
        int64_t due = INT64_MIN, bt = -1;
        int r = calendar_add_business_time(cal, s, a, &due);

        if (a < 0)
                FUZZ_CHECK(r == -EINVAL, "allowance %" PRId64 ": r = %d", a, r);
        FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ERANGE, "r = %d", r);
        if (r < 0) {
                FUZZ_CHECK(due == INT64_MIN, "the out-parameter was set on failure");
                return INT64_MIN;
        }
        FUZZ_CHECK(due >= s && due - s >= a, "start %" PRId64 " + %" PRId64 " -> %" PRId64, s, a,
                   due);
        r = calendar_business_time_between(cal, s, due, &bt);
        FUZZ_CHECK(r == 0 && bt == a,
                   "start %" PRId64 " + %" PRId64 " -> %" PRId64 ", but between: r = %d, %" PRId64,
                   s, a, due, r, bt);
        if (a > 0) {
                r = calendar_business_time_between(cal, s, due - 1, &bt);
                FUZZ_CHECK(r == 0 && bt == a - 1,
                           "start %" PRId64 " + %" PRId64 " -> %" PRId64
                           " is not the earliest: %" PRId64 " a millisecond before",
                           s, a, due, bt);
        } else {
                r = calendar_business_time_between(cal, due, due + 1, &bt);
                FUZZ_CHECK(r == 0 && bt == 1,
                           "start %" PRId64 " + 0 -> %" PRId64 ", not a business instant", s, due);
        }
        return due;
}

/* Puts *a and *b in order. */
static void
s_swap(int64_t *a, int64_t *b)
{
        int64_t t = *a;

        if (*a > *b) {
                *a = *b;
                *b = t;
        }
}

/* Business time over [x, z) is that over [x, y) and [y, z) (the three put in order). */
static void
s_check_between(const calendar_t *cal, int64_t x, int64_t y, int64_t z)
{
        int64_t xy = -1, yz = -1, xz = -1;
        int r1, r2, r3;

        s_swap(&x, &y);
        s_swap(&y, &z);
        s_swap(&x, &y);
        r1 = calendar_business_time_between(cal, x, y, &xy);
        r2 = calendar_business_time_between(cal, y, z, &yz);
        r3 = calendar_business_time_between(cal, x, z, &xz);
        if (r1 < 0 || r2 < 0 || r3 < 0) {
                FUZZ_CHECK((r1 == 0 || r1 == -EINVAL) && (r2 == 0 || r2 == -EINVAL) &&
                               (r3 == 0 || r3 == -EINVAL),
                           "r = %d %d %d", r1, r2, r3);
                return;
        }
        FUZZ_CHECK(xy >= 0 && xy <= y - x && yz >= 0 && yz <= z - y,
                   "%" PRId64 " in %" PRId64 "..%" PRId64 ", %" PRId64 " in %" PRId64 "..%" PRId64,
                   xy, x, y, yz, y, z);
        FUZZ_CHECK(xy + yz == xz,
                   "%" PRId64 "..%" PRId64 ": %" PRId64 " + %" PRId64 "..%" PRId64 ": %" PRId64
                   " != %" PRId64,
                   x, y, xy, y, z, yz, xz);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct fuzz_in in = {data, size};
        /* The year the instants, holidays and make-up days are around. */
        int year =
            (int)(fuzz_u8(&in) < 224 ? fuzz_range(&in, 1990, 2060) : fuzz_range(&in, 0, 10000));
        calendar_t *cal = s_build(&in, year);
        int64_t jan1 = tz_days_from_civil(year, 1, 1) * DAY_MS;

        if (cal == NULL)
                return 0;
        for (int q = 0; q < 4 && in.n > 0; q++) {
                int64_t s = jan1 + fuzz_range(&in, -DAY_MS, 367 * DAY_MS);
                int64_t a = s_allowance(&in), a2 = a + fuzz_range(&in, 0, 2 * DAY_MS);
                int64_t s2 = s + fuzz_range(&in, 0, 2 * DAY_MS);
                int64_t d = s_check_add(cal, s, a), d2;

                if (fuzz_u8(&in) < 16)
                        s_check_add(cal, (int64_t)fuzz_u64(&in), a);
                if (d == INT64_MIN || a < 0)
                        continue;
                d2 = s_check_add(cal, s, a2);
                FUZZ_CHECK(d2 == INT64_MIN || d2 >= d,
                           "start %" PRId64 ": + %" PRId64 " -> %" PRId64 " but + %" PRId64
                           " -> %" PRId64,
                           s, a, d, a2, d2);
                d2 = s_check_add(cal, s2, a);
                FUZZ_CHECK(d2 == INT64_MIN || d2 >= d,
                           "+ %" PRId64 ": from %" PRId64 " -> %" PRId64 " but from %" PRId64
                           " -> %" PRId64,
                           a, s, d, s2, d2);
                s_check_between(cal, s, s2, d);
                s_check_between(cal, s, d, s + fuzz_range(&in, 0, 60 * DAY_MS));
        }
        calendar_free(&cal);
        FUZZ_CHECK(cal == NULL, "calendar_free() left the pointer");
        return 0;
}
