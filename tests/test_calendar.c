/* test_calendar.c: unit tests of tz (offsets across DST changes, gaps and overlaps, the POSIX
 * footer past the last transition, TZif parsing) and calendar (office hours, holidays, make-up
 * days, overnight shifts, DST days, long allowances, pauses, runs of closed days), and the
 * clock arithmetic on calendars (warning instants, priority scales). Every expected value is
 * worked out by hand in the comments; instants are built by test-local arithmetic, never by
 * the code under test. */
#ifndef _GNU_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "calendar.h"
#include "check.h"
#include "clock.h"
#include "tz.h"

CHECK_DEFINE_COUNTERS();

#define SEC 1000LL
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)
/* Minutes after midnight of a wall time. */
#define HM(h, m) ((h)*60 + (m))

enum { SUN, MON, TUE, WED, THU, FRI, SAT };

/* Seconds since the epoch of a UTC civil time, counted year by year and month by month, so
 * the tests do not depend on tz's own date arithmetic. */
static int64_t
utc_s(int y, int mo, int d, int h, int mi, int s)
{
        static const int len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        int64_t days = 0;

        for (int yy = 1970; yy < y; yy++)
                days += (yy % 4 == 0 && (yy % 100 != 0 || yy % 400 == 0)) ? 366 : 365;
        for (int yy = y; yy < 1970; yy++)
                days -= (yy % 4 == 0 && (yy % 100 != 0 || yy % 400 == 0)) ? 366 : 365;
        for (int m = 1; m < mo; m++)
                days += len[m - 1] + (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0));
        days += d - 1;
        return days * 86400 + h * 3600 + mi * 60 + s;
}

static int64_t
utc_ms(int y, int mo, int d, int h, int mi)
{
        return utc_s(y, mo, d, h, mi, 0) * SEC;
}

static tz_t *
load(const char *name)
{
        tz_t *tz = NULL;

        REQUIRE(tz_load(name, &tz) == 0);
        return tz;
}

static tz_t *
posix(const char *spec)
{
        tz_t *tz = NULL;

        REQUIRE(tz_load_posix(spec, &tz) == 0);
        return tz;
}

static calendar_t *
new_cal(const char *zone)
{
        calendar_t *cal = NULL;

        REQUIRE(calendar_new(zone, &cal) == 0);
        return cal;
}

/* The same hours on weekdays first..last. */
static void
hours(calendar_t *cal, int first, int last, int start_min, int end_min)
{
        for (int wd = first; wd <= last; wd++)
                REQUIRE(calendar_add_hours(cal, wd, start_min, end_min) == 0);
}

static int64_t
add(const calendar_t *cal, int64_t start, int64_t allowance)
{
        int64_t due = INT64_MIN;

        CHECK_INT(calendar_add_business_time(cal, start, allowance, &due), 0);
        return due;
}

static int64_t
between(const calendar_t *cal, int64_t from, int64_t to)
{
        int64_t ms = INT64_MIN;

        CHECK_INT(calendar_business_time_between(cal, from, to, &ms), 0);
        return ms;
}

static void
test_helpers(void)
{
        /* The test's own arithmetic against `date -u -d ... +%s`. */
        CHECK_INT(utc_s(2026, 3, 29, 1, 0, 0), 1774746000);
        CHECK_INT(utc_s(2026, 1, 1, 0, 0, 0), 1767225600);
        CHECK_INT(utc_s(2000, 3, 1, 0, 0, 0), 951868800);
        CHECK_INT(utc_s(1969, 12, 31, 23, 59, 59), -1);
}

static void
test_civil(void)
{
        int64_t y;
        int m, d;

        /* Day numbers from `date -u -d ... +%s` / 86400. */
        CHECK_INT(tz_days_from_civil(1970, 1, 1), 0);
        CHECK_INT(tz_days_from_civil(1969, 12, 31), -1);
        CHECK_INT(tz_days_from_civil(2000, 3, 1), 11017);
        CHECK_INT(tz_days_from_civil(2026, 3, 29), 20541);
        CHECK_INT(tz_days_from_civil(1, 1, 1), -719162);
        CHECK_INT(tz_days_from_civil(9999, 12, 31), 2932896);

        /* The day before 2000-03-01 is the leap day of a year divisible by 400. */
        tz_civil_from_days(11016, &y, &m, &d);
        CHECK_INT(y, 2000);
        CHECK_INT(m, 2);
        CHECK_INT(d, 29);
        tz_civil_from_days(-719162, &y, &m, &d);
        CHECK_INT(y, 1);
        CHECK_INT(m, 1);
        CHECK_INT(d, 1);
        tz_civil_from_days(-1, &y, &m, &d);
        CHECK_INT(y, 1969);
        CHECK_INT(m, 12);
        CHECK_INT(d, 31);

        /* 1970-01-01 was a Thursday, 1969-12-31 a Wednesday, 2026-03-29 a Sunday. */
        CHECK_INT(tz_weekday_from_days(0), THU);
        CHECK_INT(tz_weekday_from_days(-1), WED);
        CHECK_INT(tz_weekday_from_days(-7), THU);
        CHECK_INT(tz_weekday_from_days(20541), SUN);

        CHECK(tz_is_leap_year(2000));
        CHECK(!tz_is_leap_year(1900));
        CHECK(tz_is_leap_year(2028));
        CHECK_INT(tz_days_in_month(2028, 2), 29);
        CHECK_INT(tz_days_in_month(2026, 2), 28);
        CHECK_INT(tz_days_in_month(2026, 4), 30);
}

static void
test_tz_berlin(void)
{
        tz_t *tz = load("Europe/Berlin");

        CHECK_STR(tz_name(tz), "Europe/Berlin");
        /* CET (+1) in winter, CEST (+2) in summer. */
        CHECK_INT(tz_offset_at(tz, utc_s(2026, 1, 15, 12, 0, 0)), 3600);
        CHECK_INT(tz_offset_at(tz, utc_s(2026, 7, 1, 12, 0, 0)), 7200);
        /* EU rule: the change is at 01:00 UTC on the last Sundays of March and October,
         * 2026-03-29 and 2026-10-25. */
        CHECK_INT(tz_offset_at(tz, utc_s(2026, 3, 29, 0, 59, 59)), 3600);
        CHECK_INT(tz_offset_at(tz, utc_s(2026, 3, 29, 1, 0, 0)), 7200);
        CHECK_INT(tz_offset_at(tz, utc_s(2026, 10, 25, 0, 59, 59)), 7200);
        CHECK_INT(tz_offset_at(tz, utc_s(2026, 10, 25, 1, 0, 0)), 3600);
        /* 2040 lies past the last explicit transition (2037 in a "fat" file, 1996 in a
         * "slim" one), so the footer CET-1CEST,M3.5.0,M10.5.0/3 decides: last Sunday of
         * March 2040 is the 25th (March 1 2040 is a Thursday: Sundays 4, 11, 18, 25), of
         * October the 28th (October 1 is a Monday: Sundays 7, 14, 21, 28). */
        CHECK_INT(tz_offset_at(tz, utc_s(2040, 3, 25, 0, 59, 59)), 3600);
        CHECK_INT(tz_offset_at(tz, utc_s(2040, 3, 25, 1, 0, 0)), 7200);
        CHECK_INT(tz_offset_at(tz, utc_s(2040, 10, 28, 0, 59, 59)), 7200);
        CHECK_INT(tz_offset_at(tz, utc_s(2040, 10, 28, 1, 0, 0)), 3600);
        /* Before 1980, no DST in (West) Germany: 1975-07-01 was +1. */
        CHECK_INT(tz_offset_at(tz, utc_s(1975, 7, 1, 12, 0, 0)), 3600);
        /* The next change after New Year 2026 is the March one. */
        int64_t next = 0;
        CHECK_INT(tz_next_transition(tz, utc_s(2026, 1, 1, 0, 0, 0), &next), 0);
        CHECK_INT(next, utc_s(2026, 3, 29, 1, 0, 0));
        CHECK_INT(tz_next_transition(tz, utc_s(2040, 3, 25, 1, 0, 0), &next), 0);
        CHECK_INT(next, utc_s(2040, 10, 28, 1, 0, 0));

        /* Wall times to UTC, local seconds written as utc_s() of the wall-clock reading. An
         * ordinary summer time: 12:00 CEST = 10:00 UTC. */
        CHECK_INT(tz_utc_of_local(tz, utc_s(2026, 7, 1, 12, 0, 0)), utc_s(2026, 7, 1, 10, 0, 0));
        /* Spring forward: 02:00..02:59:59 does not exist on 2026-03-29; every wall time in it
         * maps to the end of the gap, 03:00 CEST = 01:00 UTC. 01:59:59 CET is 00:59:59 UTC,
         * 03:00 CEST is 01:00 UTC. */
        CHECK_INT(tz_utc_of_local(tz, utc_s(2026, 3, 29, 1, 59, 59)),
                  utc_s(2026, 3, 29, 0, 59, 59));
        CHECK_INT(tz_utc_of_local(tz, utc_s(2026, 3, 29, 2, 0, 0)), utc_s(2026, 3, 29, 1, 0, 0));
        CHECK_INT(tz_utc_of_local(tz, utc_s(2026, 3, 29, 2, 30, 0)), utc_s(2026, 3, 29, 1, 0, 0));
        CHECK_INT(tz_utc_of_local(tz, utc_s(2026, 3, 29, 3, 0, 0)), utc_s(2026, 3, 29, 1, 0, 0));
        CHECK_INT(tz_utc_of_local(tz, utc_s(2026, 3, 29, 3, 30, 0)), utc_s(2026, 3, 29, 1, 30, 0));
        /* Fall back: 02:00..02:59:59 occurs twice on 2026-10-25, first in CEST; 02:30 maps to
         * the earlier 02:30 CEST = 00:30 UTC. 01:59 CEST is 23:59 UTC the day before; 03:00
         * exists once, in CET: 02:00 UTC. */
        CHECK_INT(tz_utc_of_local(tz, utc_s(2026, 10, 25, 2, 30, 0)),
                  utc_s(2026, 10, 25, 0, 30, 0));
        CHECK_INT(tz_utc_of_local(tz, utc_s(2026, 10, 25, 2, 0, 0)), utc_s(2026, 10, 25, 0, 0, 0));
        CHECK_INT(tz_utc_of_local(tz, utc_s(2026, 10, 25, 1, 59, 0)),
                  utc_s(2026, 10, 24, 23, 59, 0));
        CHECK_INT(tz_utc_of_local(tz, utc_s(2026, 10, 25, 3, 0, 0)), utc_s(2026, 10, 25, 2, 0, 0));
        /* The same rules from the footer in 2040. */
        CHECK_INT(tz_utc_of_local(tz, utc_s(2040, 3, 25, 2, 30, 0)), utc_s(2040, 3, 25, 1, 0, 0));
        CHECK_INT(tz_utc_of_local(tz, utc_s(2040, 10, 28, 2, 30, 0)),
                  utc_s(2040, 10, 28, 0, 30, 0));
        CHECK_INT(tz_local_of_utc(tz, utc_s(2040, 7, 1, 10, 0, 0)), utc_s(2040, 7, 1, 12, 0, 0));
        tz_free(&tz);
        CHECK(tz == NULL);
}

static void
test_tz_new_york(void)
{
        tz_t *tz = load("America/New_York");

        /* US rule since 2007: second Sunday of March (2026-03-08) at 02:00 EST = 07:00 UTC,
         * first Sunday of November (2026-11-01) at 02:00 EDT = 06:00 UTC. */
        CHECK_INT(tz_offset_at(tz, utc_s(2026, 3, 8, 6, 59, 59)), -18000);
        CHECK_INT(tz_offset_at(tz, utc_s(2026, 3, 8, 7, 0, 0)), -14400);
        CHECK_INT(tz_offset_at(tz, utc_s(2026, 11, 1, 5, 59, 59)), -14400);
        CHECK_INT(tz_offset_at(tz, utc_s(2026, 11, 1, 6, 0, 0)), -18000);
        /* The 1987-2006 rule, first Sunday of April: 2006-04-02 at 07:00 UTC. */
        CHECK_INT(tz_offset_at(tz, utc_s(2006, 4, 2, 6, 59, 59)), -18000);
        CHECK_INT(tz_offset_at(tz, utc_s(2006, 4, 2, 7, 0, 0)), -14400);
        /* Footer EST5EDT,M3.2.0,M11.1.0 in 2040: March 1 2040 is a Thursday, so the second
         * Sunday is the 11th; November 1 is a Thursday, so the first Sunday is the 4th. */
        CHECK_INT(tz_offset_at(tz, utc_s(2040, 3, 11, 6, 59, 59)), -18000);
        CHECK_INT(tz_offset_at(tz, utc_s(2040, 3, 11, 7, 0, 0)), -14400);
        CHECK_INT(tz_offset_at(tz, utc_s(2040, 11, 4, 5, 59, 59)), -14400);
        CHECK_INT(tz_offset_at(tz, utc_s(2040, 11, 4, 6, 0, 0)), -18000);

        /* Gap: 02:30 on 2026-03-08 does not exist; the gap ends at 03:00 EDT = 07:00 UTC. */
        CHECK_INT(tz_utc_of_local(tz, utc_s(2026, 3, 8, 2, 30, 0)), utc_s(2026, 3, 8, 7, 0, 0));
        /* Overlap: 01:30 on 2026-11-01 occurs in EDT (05:30 UTC) and EST (06:30 UTC). */
        CHECK_INT(tz_utc_of_local(tz, utc_s(2026, 11, 1, 1, 30, 0)), utc_s(2026, 11, 1, 5, 30, 0));
        CHECK_INT(tz_utc_of_local(tz, utc_s(2026, 11, 1, 2, 0, 0)), utc_s(2026, 11, 1, 7, 0, 0));
        CHECK_INT(tz_utc_of_local(tz, utc_s(2040, 3, 11, 2, 30, 0)), utc_s(2040, 3, 11, 7, 0, 0));
        CHECK_INT(tz_utc_of_local(tz, utc_s(2040, 11, 4, 1, 30, 0)), utc_s(2040, 11, 4, 5, 30, 0));
        tz_free(&tz);
}

static void
test_tz_shanghai(void)
{
        tz_t *tz = load("Asia/Shanghai");

        /* CST, +8, all year now and in 2040 (footer "CST-8"). */
        CHECK_INT(tz_offset_at(tz, utc_s(2026, 1, 15, 0, 0, 0)), 28800);
        CHECK_INT(tz_offset_at(tz, utc_s(2026, 7, 15, 0, 0, 0)), 28800);
        CHECK_INT(tz_offset_at(tz, utc_s(2040, 7, 15, 0, 0, 0)), 28800);
        /* China had DST 1986-1991. In 1986 it began Sunday May 4 at 02:00 CST (Saturday
         * 18:00 UTC) and ended Sunday September 14 at 02:00 CDT (Saturday 17:00 UTC). */
        CHECK_INT(tz_offset_at(tz, utc_s(1986, 5, 3, 17, 59, 59)), 28800);
        CHECK_INT(tz_offset_at(tz, utc_s(1986, 5, 3, 18, 0, 0)), 32400);
        CHECK_INT(tz_offset_at(tz, utc_s(1986, 9, 13, 16, 59, 59)), 32400);
        CHECK_INT(tz_offset_at(tz, utc_s(1986, 9, 13, 17, 0, 0)), 28800);
        /* 08:00 CST is midnight UTC; 02:30 on 1986-05-04 fell into the gap, which ended at
         * 18:00 UTC the day before. */
        CHECK_INT(tz_utc_of_local(tz, utc_s(2026, 6, 1, 8, 0, 0)), utc_s(2026, 6, 1, 0, 0, 0));
        CHECK_INT(tz_utc_of_local(tz, utc_s(1986, 5, 4, 2, 30, 0)), utc_s(1986, 5, 3, 18, 0, 0));
        /* No change ever again. */
        int64_t next = 0;
        CHECK_INT(tz_next_transition(tz, utc_s(2026, 1, 1, 0, 0, 0), &next), -ENOENT);
        tz_free(&tz);
}

static void
test_tz_posix_rules(void)
{
        tz_t *tz;

        /* Southern hemisphere, end time in DST: Sydney AEST-10AEDT,M10.1.0,M4.1.0/3. 2026:
         * April 1 is a Wednesday, so DST ends Sunday April 5 at 03:00 AEDT = 16:00 UTC on
         * April 4; October 1 is a Thursday, so it starts Sunday October 4 at 02:00 AEST =
         * 16:00 UTC on October 3. January is summer. */
        tz = posix("AEST-10AEDT,M10.1.0,M4.1.0/3");
        CHECK_INT(tz_offset_at(tz, utc_s(2026, 1, 15, 0, 0, 0)), 39600);
        CHECK_INT(tz_offset_at(tz, utc_s(2026, 6, 15, 0, 0, 0)), 36000);
        CHECK_INT(tz_offset_at(tz, utc_s(2026, 4, 4, 15, 59, 59)), 39600);
        CHECK_INT(tz_offset_at(tz, utc_s(2026, 4, 4, 16, 0, 0)), 36000);
        CHECK_INT(tz_offset_at(tz, utc_s(2026, 10, 3, 15, 59, 59)), 36000);
        CHECK_INT(tz_offset_at(tz, utc_s(2026, 10, 3, 16, 0, 0)), 39600);
        CHECK_INT(tz_offset_at(tz, utc_s(2026, 12, 31, 23, 0, 0)), 39600);
        tz_free(&tz);

        /* Negative rule times (RFC 8536 extension), as in Greenland's footers: -03 standard,
         * -02 daylight; start on the last Sunday of March (2026-03-29) at -2:00 local
         * standard time, i.e. 22:00 -03 on the 28th = 01:00 UTC on the 29th; end on the last
         * Sunday of October (the 25th) at -1:00 local daylight time, i.e. 23:00 -02 on the
         * 24th = 01:00 UTC on the 25th. */
        tz = posix("<-03>3<-02>,M3.5.0/-2,M10.5.0/-1");
        CHECK_INT(tz_offset_at(tz, utc_s(2026, 3, 29, 0, 59, 59)), -10800);
        CHECK_INT(tz_offset_at(tz, utc_s(2026, 3, 29, 1, 0, 0)), -7200);
        CHECK_INT(tz_offset_at(tz, utc_s(2026, 10, 25, 0, 59, 59)), -7200);
        CHECK_INT(tz_offset_at(tz, utc_s(2026, 10, 25, 1, 0, 0)), -10800);
        tz_free(&tz);

        /* Jn never counts February 29: J60 is March 1 and J300 October 27 (31+28+31+30+31+30
         * +31+31+30 = 273 days to the end of September, +27) in every year, leap or not.
         * XST is -3, XDT -2. In 2028 (leap): start 2028-03-01 02:00 XST = 05:00 UTC, end
         * 2028-10-27 02:00 XDT = 04:00 UTC. */
        tz = posix("XST3XDT,J60/2,J300/2");
        CHECK_INT(tz_offset_at(tz, utc_s(2028, 3, 1, 4, 59, 59)), -10800);
        CHECK_INT(tz_offset_at(tz, utc_s(2028, 3, 1, 5, 0, 0)), -7200);
        CHECK_INT(tz_offset_at(tz, utc_s(2028, 10, 27, 3, 59, 59)), -7200);
        CHECK_INT(tz_offset_at(tz, utc_s(2028, 10, 27, 4, 0, 0)), -10800);
        tz_free(&tz);

        /* n is zero-based and counts February 29: in 2028 (leap) day 59 is February 29 and
         * day 299 October 26 (274 days to the end of September, +26 = the 300th day); in 2027
         * day 59 is March 1. */
        tz = posix("XST3XDT,59/2,299/2");
        CHECK_INT(tz_offset_at(tz, utc_s(2028, 2, 29, 4, 59, 59)), -10800);
        CHECK_INT(tz_offset_at(tz, utc_s(2028, 2, 29, 5, 0, 0)), -7200);
        CHECK_INT(tz_offset_at(tz, utc_s(2028, 10, 26, 3, 59, 59)), -7200);
        CHECK_INT(tz_offset_at(tz, utc_s(2028, 10, 26, 4, 0, 0)), -10800);
        CHECK_INT(tz_offset_at(tz, utc_s(2027, 3, 1, 4, 59, 59)), -10800);
        CHECK_INT(tz_offset_at(tz, utc_s(2027, 3, 1, 5, 0, 0)), -7200);
        tz_free(&tz);

        /* DST all year (RFC 8536's example): starts January 1 at 00:00 standard time, ends
         * December 31 at 25:00 daylight time, which is the next start. Always -4. */
        tz = posix("EST5EDT,0/0,J365/25");
        CHECK_INT(tz_offset_at(tz, utc_s(2026, 1, 1, 0, 0, 0)), -14400);
        CHECK_INT(tz_offset_at(tz, utc_s(2026, 7, 1, 0, 0, 0)), -14400);
        CHECK_INT(tz_offset_at(tz, utc_s(2026, 12, 31, 23, 59, 59)), -14400);
        CHECK_INT(tz_offset_at(tz, utc_s(2027, 1, 1, 5, 0, 0)), -14400);
        tz_free(&tz);

        /* Half-hour offsets with minutes, no DST: India +5:30. */
        tz = posix("IST-5:30");
        CHECK_INT(tz_offset_at(tz, utc_s(2026, 7, 1, 0, 0, 0)), 19800);
        CHECK_INT(tz_utc_of_local(tz, utc_s(2026, 7, 1, 5, 30, 0)), utc_s(2026, 7, 1, 0, 0, 0));
        tz_free(&tz);

        /* DST without rules gets the US rules: July is daylight time. */
        tz = posix("EST5EDT");
        CHECK_INT(tz_offset_at(tz, utc_s(2026, 7, 1, 0, 0, 0)), -14400);
        CHECK_INT(tz_offset_at(tz, utc_s(2026, 1, 1, 0, 0, 0)), -18000);
        tz_free(&tz);

        /* Malformed strings. */
        const char *bad[] = {"",
                             "E5",
                             "EST",
                             "EST5EDT,M13.1.0,M11.1.0",
                             "EST5EDT,M3.2.0",
                             "EST5EDT,M3.6.0,M11.1.0",
                             "EST5EDT,J0,J365",
                             "EST25",
                             "EST5EDT,M3.2.0,M11.1.0x",
                             "<EST5"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                tz = NULL;
                CHECK_INT(tz_load_posix(bad[i], &tz), -EINVAL);
                CHECK(tz == NULL);
        }
}

/* Reads a whole file into a new buffer. */
static unsigned char *
slurp(const char *path, size_t *ret_size)
{
        FILE *f = fopen(path, "rb");
        unsigned char *buf = malloc(1 << 20);
        size_t n;

        REQUIRE(f && buf);
        n = fread(buf, 1, 1 << 20, f);
        fclose(f);
        *ret_size = n;
        return buf;
}

static void
write_file(const char *path, const void *data, size_t size)
{
        FILE *f = fopen(path, "wb");

        REQUIRE(f);
        REQUIRE(fwrite(data, 1, size, f) == size);
        REQUIRE(fclose(f) == 0);
}

static void
test_tz_load_errors(void)
{
        char dir[] = "/tmp/test_calendar.XXXXXX", path[4096];
        const char *env = getenv("COMPLAINTD_ZONEINFO");
        char *saved = env ? strdup(env) : NULL;
        const char *zoneinfo = env && env[0] ? saved : TZ_DEFAULT_ZONEINFO;
        unsigned char *berlin;
        size_t size;
        tz_t *tz = NULL;

        CHECK_INT(tz_load("Nowhere/Atlantis", &tz), -ENOENT);
        CHECK_INT(tz_load("Europe", &tz), -ENOENT); /* a directory */
        CHECK_INT(tz_load("../../etc/passwd", &tz), -EINVAL);
        CHECK_INT(tz_load("Europe/../Europe/Berlin", &tz), -EINVAL);
        CHECK_INT(tz_load("/etc/localtime", &tz), -EINVAL);
        CHECK_INT(tz_load("", &tz), -EINVAL);
        CHECK(tz == NULL);

        /* Every proper prefix of a real file is refused cleanly, the whole file accepted. */
        snprintf(path, sizeof(path), "%s/Europe/Berlin", zoneinfo);
        berlin = slurp(path, &size);
        REQUIRE(size > 44);
        int refused = 0;
        for (size_t n = 0; n < size; n++) {
                if (tz_parse_tzif("cut", berlin, n, &tz) == -EINVAL)
                        refused++;
        }
        CHECK_INT(refused, size);
        CHECK(tz == NULL);
        CHECK_INT(tz_parse_tzif("whole", berlin, size, &tz), 0);
        CHECK_INT(tz_offset_at(tz, utc_s(2026, 7, 1, 0, 0, 0)), 7200);
        tz_free(&tz);

        /* The version 1 part alone (32-bit times, no footer), as an old file would hold it:
         * its length follows from the six big-endian counts at offset 20 (isutcnt, isstdcnt,
         * leapcnt, timecnt, typecnt, charcnt). "Fat" files carry transitions up to 2037
         * there; "slim" ones leave it empty, and then there is nothing to check. */
        uint32_t cnt[6];
        for (int i = 0; i < 6; i++) {
                const unsigned char *c = berlin + 20 + 4 * i;

                cnt[i] = (uint32_t)c[0] << 24 | (uint32_t)c[1] << 16 | (uint32_t)c[2] << 8 | c[3];
        }
        size_t v1 = 44 + (size_t)cnt[3] * 5 + (size_t)cnt[4] * 6 + cnt[5] + (size_t)cnt[2] * 8 +
                    cnt[1] + cnt[0];
        if (cnt[3] > 0 && v1 <= size) {
                unsigned char *old = malloc(v1);

                REQUIRE(old);
                memcpy(old, berlin, v1);
                old[4] = '\0';
                CHECK_INT(tz_parse_tzif("v1", old, v1, &tz), 0);
                CHECK_INT(tz_offset_at(tz, utc_s(2026, 3, 29, 0, 59, 59)), 3600);
                CHECK_INT(tz_offset_at(tz, utc_s(2026, 3, 29, 1, 0, 0)), 7200);
                CHECK_INT(tz_utc_of_local(tz, utc_s(2026, 10, 25, 2, 30, 0)),
                          utc_s(2026, 10, 25, 0, 30, 0));
                tz_free(&tz);
                free(old);
        }

        /* Corrupted bytes never crash (ASan would tell); they are refused or parsed. */
        unsigned seed = 7;
        unsigned char *copy = malloc(size);
        REQUIRE(copy);
        for (int i = 0; i < 2000; i++) {
                memcpy(copy, berlin, size);
                seed = seed * 1103515245u + 12345u;
                copy[(seed >> 8) % size] ^= (unsigned char)(1u << ((seed >> 4) % 8));
                if (tz_parse_tzif("flipped", copy, size, &tz) == 0) {
                        (void)tz_offset_at(tz, utc_s(2026, 7, 1, 0, 0, 0));
                        (void)tz_utc_of_local(tz, utc_s(2026, 3, 29, 2, 30, 0));
                        tz_free(&tz);
                }
        }
        free(copy);
        CHECK(tz == NULL);

        /* COMPLAINTD_ZONEINFO names the directory. */
        REQUIRE(mkdtemp(dir));
        REQUIRE(setenv("COMPLAINTD_ZONEINFO", dir, 1) == 0);
        snprintf(path, sizeof(path), "%s/Good", dir);
        write_file(path, berlin, size);
        snprintf(path, sizeof(path), "%s/Bogus", dir);
        write_file(path, "not a zone\n", 11);
        CHECK_INT(tz_load("Good", &tz), 0);
        CHECK_INT(tz_offset_at(tz, utc_s(2026, 1, 1, 0, 0, 0)), 3600);
        tz_free(&tz);
        CHECK_INT(tz_load("Bogus", &tz), -EINVAL);
        CHECK_INT(tz_load("Europe/Berlin", &tz), -ENOENT);
        /* No UTC file there: the built-in one. */
        CHECK_INT(tz_load("UTC", &tz), 0);
        CHECK_INT(tz_offset_at(tz, utc_s(2026, 7, 1, 0, 0, 0)), 0);
        tz_free(&tz);
        if (saved)
                REQUIRE(setenv("COMPLAINTD_ZONEINFO", saved, 1) == 0);
        else
                REQUIRE(unsetenv("COMPLAINTD_ZONEINFO") == 0);
        snprintf(path, sizeof(path), "%s/Good", dir);
        unlink(path);
        snprintf(path, sizeof(path), "%s/Bogus", dir);
        unlink(path);
        rmdir(dir);
        free(berlin);
        free(saved);

        tz_free(&tz);
        tz_free(NULL);
}

static void
test_always_open(void)
{
        calendar_t *cal = new_cal("UTC");

        CHECK_STR(calendar_zone(cal), "UTC");
        CHECK_INT(calendar_set_always_open(cal), 0);
        /* 24x7: business time is real time. 36 h after 2026-01-01 00:00 is 01-02 12:00. */
        CHECK_INT(add(cal, utc_ms(2026, 1, 1, 0, 0), 36 * HOUR), utc_ms(2026, 1, 2, 12, 0));
        CHECK_INT(add(cal, utc_ms(2026, 1, 1, 0, 0) + 123, 0), utc_ms(2026, 1, 1, 0, 0) + 123);
        CHECK_INT(between(cal, utc_ms(2026, 1, 1, 0, 0), utc_ms(2026, 1, 2, 12, 0)), 36 * HOUR);
        /* 30 days: January 1 + 30 = January 31. */
        CHECK_INT(add(cal, utc_ms(2026, 1, 1, 0, 0), 30 * DAY), utc_ms(2026, 1, 31, 0, 0));
        calendar_free(&cal);
        CHECK(cal == NULL);

        /* In Berlin across spring forward and fall back, 24 business hours are still 24 real
         * hours (the wall clock moves 25 h or 23 h). */
        cal = new_cal("Europe/Berlin");
        calendar_set_always_open(cal);
        CHECK_INT(add(cal, utc_ms(2026, 3, 28, 12, 0), 24 * HOUR), utc_ms(2026, 3, 29, 12, 0));
        CHECK_INT(add(cal, utc_ms(2026, 10, 24, 12, 0), 24 * HOUR), utc_ms(2026, 10, 25, 12, 0));
        CHECK_INT(between(cal, utc_ms(2026, 3, 1, 0, 0), utc_ms(2026, 4, 1, 0, 0)), 31 * DAY);
        calendar_free(&cal);
}

static void
test_lunch_break(void)
{
        /* Asia/Shanghai (+8, no DST): Monday to Friday 09:00-12:00 and 13:00-18:00, 8 h a day.
         * 2026-01-05 is a Monday (January 1 2026 was a Thursday). CST = UTC + 8. */
        calendar_t *cal = new_cal("Asia/Shanghai");
        hours(cal, MON, FRI, HM(9, 0), HM(12, 0));
        hours(cal, MON, FRI, HM(13, 0), HM(18, 0));

        /* Mon 10:00 + 4 h: 10-12 (2 h), lunch, 13-15 (2 h) -> 15:00 CST = 07:00 UTC. */
        CHECK_INT(add(cal, utc_ms(2026, 1, 5, 2, 0), 4 * HOUR), utc_ms(2026, 1, 5, 7, 0));
        /* At lunch, 12:30 CST: the next business instant is 13:00 CST = 05:00 UTC. */
        CHECK_INT(add(cal, utc_ms(2026, 1, 5, 4, 30), 0), utc_ms(2026, 1, 5, 5, 0));
        /* 12:30 + 1 h -> 14:00 CST. */
        CHECK_INT(add(cal, utc_ms(2026, 1, 5, 4, 30), HOUR), utc_ms(2026, 1, 5, 6, 0));
        /* 11:00 + 1 h runs out exactly at 12:00 CST (04:00 UTC), not after lunch. */
        CHECK_INT(add(cal, utc_ms(2026, 1, 5, 3, 0), HOUR), utc_ms(2026, 1, 5, 4, 0));
        /* 18:00 CST + 0 -> Tuesday 09:00 CST = 01:00 UTC. */
        CHECK_INT(add(cal, utc_ms(2026, 1, 5, 10, 0), 0), utc_ms(2026, 1, 6, 1, 0));
        /* A whole Monday, 00:00 to 00:00 CST, holds 8 h; 11:30-13:30 holds 30 + 30 min. */
        CHECK_INT(between(cal, utc_ms(2026, 1, 4, 16, 0), utc_ms(2026, 1, 5, 16, 0)), 8 * HOUR);
        CHECK_INT(between(cal, utc_ms(2026, 1, 5, 3, 30), utc_ms(2026, 1, 5, 5, 30)), HOUR);
        calendar_free(&cal);
}

static void
test_weekend(void)
{
        calendar_t *cal = new_cal("Asia/Shanghai");
        hours(cal, MON, FRI, HM(9, 0), HM(12, 0));
        hours(cal, MON, FRI, HM(13, 0), HM(18, 0));

        /* Friday 2026-01-09 16:00 CST + 4 h: 16-18 (2 h), weekend, Monday 01-12 09-11 ->
         * 11:00 CST = 03:00 UTC. */
        CHECK_INT(add(cal, utc_ms(2026, 1, 9, 8, 0), 4 * HOUR), utc_ms(2026, 1, 12, 3, 0));
        /* Saturday 10:00 CST + 0 -> Monday 09:00 CST = 01:00 UTC. */
        CHECK_INT(add(cal, utc_ms(2026, 1, 10, 2, 0), 0), utc_ms(2026, 1, 12, 1, 0));
        /* Friday 00:00 to Monday 00:00 CST: only Friday's 8 h. */
        CHECK_INT(between(cal, utc_ms(2026, 1, 8, 16, 0), utc_ms(2026, 1, 11, 16, 0)), 8 * HOUR);
        calendar_free(&cal);
}

static void
test_year_end(void)
{
        /* Europe/Berlin in winter (CET = UTC + 1), Monday to Friday 08:00-16:00, holidays
         * 2025-12-25 (Thu), 2025-12-26 (Fri) and 2026-01-01 (Thu). */
        calendar_t *cal = new_cal("Europe/Berlin");
        hours(cal, MON, FRI, HM(8, 0), HM(16, 0));
        CHECK_INT(calendar_add_holiday(cal, 2025, 12, 25), 0);
        CHECK_INT(calendar_add_holiday(cal, 2025, 12, 26), 0);
        CHECK_INT(calendar_add_holiday(cal, 2026, 1, 1), 0);
        CHECK_INT(calendar_add_holiday(cal, 2026, 1, 1), 0); /* twice is harmless */

        /* Wednesday 2025-12-24 10:00 CET + 40 h:
         *   Wed 24 10-16   6 h  (6)
         *   Thu 25, Fri 26 holidays; weekend
         *   Mon 29, Tue 30, Wed 31   3 x 8 h  (30)
         *   Thu 2026-01-01 holiday
         *   Fri 01-02   8 h  (38)
         *   weekend; Mon 01-05 08-10   2 h  (40) -> 10:00 CET = 09:00 UTC. */
        int64_t start = utc_ms(2025, 12, 24, 9, 0);
        CHECK_INT(add(cal, start, 40 * HOUR), utc_ms(2026, 1, 5, 9, 0));
        CHECK_INT(between(cal, start, utc_ms(2026, 1, 5, 9, 0)), 40 * HOUR);
        /* The holidays hold nothing: Christmas Day 00:00 CET to Saturday 00:00 CET. */
        CHECK_INT(between(cal, utc_ms(2025, 12, 24, 23, 0), utc_ms(2025, 12, 26, 23, 0)), 0);
        /* Wed 31 15:00 CET + 2 h: 1 h on the 31st, then Friday 08-09 -> 08:00 UTC. */
        CHECK_INT(add(cal, utc_ms(2025, 12, 31, 14, 0), 2 * HOUR), utc_ms(2026, 1, 2, 8, 0));
        calendar_free(&cal);
}

static void
test_holiday_week(void)
{
        /* Europe/Berlin in April (CEST = UTC + 2), Monday to Friday 09:00-17:00, the whole
         * week 2026-04-06 (Mon) to 04-10 (Fri) off. April 3 2026 is a Friday. */
        calendar_t *cal = new_cal("Europe/Berlin");
        hours(cal, MON, FRI, HM(9, 0), HM(17, 0));
        for (int d = 6; d <= 10; d++)
                CHECK_INT(calendar_add_holiday(cal, 2026, 4, d), 0);

        /* Friday 15:00 CEST + 4 h: 15-17 (2 h), nothing until Monday 04-13 09-11 -> 11:00
         * CEST = 09:00 UTC. */
        CHECK_INT(add(cal, utc_ms(2026, 4, 3, 13, 0), 4 * HOUR), utc_ms(2026, 4, 13, 9, 0));
        CHECK_INT(between(cal, utc_ms(2026, 4, 4, 0, 0), utc_ms(2026, 4, 13, 0, 0)), 0);
        /* The week after is ordinary: 40 h from Monday 04-13 00:00 to Monday 04-20 00:00. */
        CHECK_INT(between(cal, utc_ms(2026, 4, 12, 22, 0), utc_ms(2026, 4, 19, 22, 0)), 40 * HOUR);
        calendar_free(&cal);
}

static void
test_overnight(void)
{
        /* UTC, a night shift every day 22:00-06:00. 2026-01-05 is a Monday. */
        calendar_t *cal = new_cal("UTC");
        hours(cal, SUN, SAT, HM(22, 0), HM(6, 0));

        /* Monday 05:00 + 3 h: 05-06 (1 h, Sunday's shift), then Monday 22:00 + 2 h ->
         * Tuesday 00:00. */
        CHECK_INT(add(cal, utc_ms(2026, 1, 5, 5, 0), 3 * HOUR), utc_ms(2026, 1, 6, 0, 0));
        /* Monday 00:00 to Tuesday 00:00: Sunday's shift 00-06 (6 h) and Monday's 22-24 (2 h). */
        CHECK_INT(between(cal, utc_ms(2026, 1, 5, 0, 0), utc_ms(2026, 1, 6, 0, 0)), 8 * HOUR);

        /* Tuesday 2026-01-06 a holiday: Monday's shift (it started Monday) still runs until
         * Tuesday 06:00, Tuesday's 22:00 shift does not happen. Monday 23:00 + 10 h: 23-06
         * (7 h), Wednesday 22:00 + 3 h -> Thursday 01:00. */
        CHECK_INT(calendar_add_holiday(cal, 2026, 1, 6), 0);
        CHECK_INT(add(cal, utc_ms(2026, 1, 5, 23, 0), 10 * HOUR), utc_ms(2026, 1, 8, 1, 0));
        /* Tuesday 03:00 is inside Monday's shift, so open. */
        CHECK_INT(add(cal, utc_ms(2026, 1, 6, 3, 0), 0), utc_ms(2026, 1, 6, 3, 0));
        /* Monday 00:00 to Wednesday 00:00: 00-06 Monday (6 h) + Monday's shift (8 h). */
        CHECK_INT(between(cal, utc_ms(2026, 1, 5, 0, 0), utc_ms(2026, 1, 7, 0, 0)), 14 * HOUR);
        calendar_free(&cal);
}

static void
test_workday(void)
{
        /* Asia/Shanghai, Monday to Friday 09:00-18:00; Saturday 2026-01-10 worked with
         * Monday's hours. */
        calendar_t *cal = new_cal("Asia/Shanghai");
        hours(cal, MON, FRI, HM(9, 0), HM(18, 0));
        CHECK_INT(calendar_add_workday(cal, 2026, 1, 10, MON), 0);

        /* Friday 01-09 17:00 CST + 3 h: 1 h Friday, Saturday 09-11 -> 11:00 CST = 03:00 UTC. */
        CHECK_INT(add(cal, utc_ms(2026, 1, 9, 9, 0), 3 * HOUR), utc_ms(2026, 1, 10, 3, 0));
        /* Saturday 00:00 to Sunday 00:00 CST: 9 h. Sunday stays closed. */
        CHECK_INT(between(cal, utc_ms(2026, 1, 9, 16, 0), utc_ms(2026, 1, 10, 16, 0)), 9 * HOUR);
        CHECK_INT(between(cal, utc_ms(2026, 1, 10, 16, 0), utc_ms(2026, 1, 11, 16, 0)), 0);

        /* Wednesday 2026-01-14 worked "as a Sunday", which has no hours: closed. */
        CHECK_INT(calendar_add_workday(cal, 2026, 1, 14, SUN), 0);
        CHECK_INT(between(cal, utc_ms(2026, 1, 13, 16, 0), utc_ms(2026, 1, 14, 16, 0)), 0);
        /* Re-adding the date replaces its weekday: now Wednesday as a Tuesday, 9 h. */
        CHECK_INT(calendar_add_workday(cal, 2026, 1, 14, TUE), 0);
        CHECK_INT(between(cal, utc_ms(2026, 1, 13, 16, 0), utc_ms(2026, 1, 14, 16, 0)), 9 * HOUR);
        /* A date both holiday and make-up day is a holiday: Saturday 2026-01-17. */
        CHECK_INT(calendar_add_workday(cal, 2026, 1, 17, MON), 0);
        CHECK_INT(calendar_add_holiday(cal, 2026, 1, 17), 0);
        CHECK_INT(between(cal, utc_ms(2026, 1, 16, 16, 0), utc_ms(2026, 1, 17, 16, 0)), 0);
        calendar_free(&cal);
}

static void
test_long_allowance(void)
{
        /* UTC, Monday to Friday 09:00-17:00: 40 h a week. 2026-02-02 is a Monday (February 1
         * is day 32 of 2026, 31 days after Thursday January 1: a Sunday). */
        calendar_t *cal = new_cal("UTC");
        hours(cal, MON, FRI, HM(9, 0), HM(17, 0));

        /* 100 h = two weeks (80 h, to Friday 02-13) + Mon 02-16 8 h + Tue 02-17 8 h + 4 h on
         * Wednesday 02-18 -> 13:00. */
        int64_t start = utc_ms(2026, 2, 2, 9, 0);
        CHECK_INT(add(cal, start, 100 * HOUR), utc_ms(2026, 2, 18, 13, 0));
        /* 720 h (30 days) = exactly 18 weeks: it runs out at the close of the 18th Friday,
         * 02-06 + 17 x 7 days = 02-06 + 119 days = 06-05 (22 days to 02-28, 31 in March, 30
         * in April, 31 in May: 114, then 5 more), 17:00 — not the Monday after. */
        CHECK_INT(add(cal, start, 720 * HOUR), utc_ms(2026, 6, 5, 17, 0));
        CHECK_INT(between(cal, start, utc_ms(2026, 6, 5, 17, 0)), 720 * HOUR);
        /* Half a year holds 26 weeks: Monday 2026-02-02 to Monday 2026-08-03 (182 days). */
        CHECK_INT(between(cal, utc_ms(2026, 2, 2, 0, 0), utc_ms(2026, 8, 3, 0, 0)), 26 * 40 * HOUR);
        calendar_free(&cal);

        /* Europe/Berlin, same hours, three weeks from Monday 2026-03-16 09:00 CET (08:00 UTC)
         * across the change of Sunday 03-29: weeks of 03-16, 03-23 and 03-30, the last in
         * CEST, end Friday 04-03 17:00 CEST = 15:00 UTC. */
        cal = new_cal("Europe/Berlin");
        hours(cal, MON, FRI, HM(9, 0), HM(17, 0));
        CHECK_INT(add(cal, utc_ms(2026, 3, 16, 8, 0), 120 * HOUR), utc_ms(2026, 4, 3, 15, 0));
        calendar_free(&cal);
}

static void
test_dst_days(void)
{
        calendar_t *cal;

        /* Europe/Berlin, Sundays 01:00-04:00 only. */
        cal = new_cal("Europe/Berlin");
        hours(cal, SUN, SUN, HM(1, 0), HM(4, 0));
        /* Spring forward, 2026-03-29: 01:00 CET = 00:00 UTC, 04:00 CEST = 02:00 UTC: 2 h. */
        CHECK_INT(between(cal, utc_ms(2026, 3, 28, 0, 0), utc_ms(2026, 3, 30, 0, 0)), 2 * HOUR);
        CHECK_INT(add(cal, utc_ms(2026, 3, 29, 0, 0), 90 * MIN), utc_ms(2026, 3, 29, 1, 30));
        CHECK_INT(add(cal, utc_ms(2026, 3, 28, 12, 0), 0), utc_ms(2026, 3, 29, 0, 0));
        CHECK_INT(add(cal, utc_ms(2026, 3, 29, 0, 0), 2 * HOUR), utc_ms(2026, 3, 29, 2, 0));
        /* An ordinary Sunday, 2026-03-22 (CET): 3 h. */
        CHECK_INT(between(cal, utc_ms(2026, 3, 21, 0, 0), utc_ms(2026, 3, 23, 0, 0)), 3 * HOUR);
        /* Fall back, 2026-10-25: 01:00 CEST = 23:00 UTC the day before, 04:00 CET = 03:00
         * UTC: 4 h. 3 h after its start is 02:00 UTC (03:00 CET). */
        CHECK_INT(between(cal, utc_ms(2026, 10, 24, 0, 0), utc_ms(2026, 10, 26, 0, 0)), 4 * HOUR);
        CHECK_INT(add(cal, utc_ms(2026, 10, 24, 23, 0), 3 * HOUR), utc_ms(2026, 10, 25, 2, 0));
        CHECK_INT(add(cal, utc_ms(2026, 10, 24, 12, 0), 4 * HOUR), utc_ms(2026, 10, 25, 3, 0));
        calendar_free(&cal);

        /* An interval starting inside the gap, Sunday 02:30-05:00: it opens when the gap
         * ends, 03:00 CEST = 01:00 UTC, and closes at 05:00 CEST = 03:00 UTC: 2 h. */
        cal = new_cal("Europe/Berlin");
        hours(cal, SUN, SUN, HM(2, 30), HM(5, 0));
        CHECK_INT(between(cal, utc_ms(2026, 3, 28, 0, 0), utc_ms(2026, 3, 30, 0, 0)), 2 * HOUR);
        CHECK_INT(add(cal, utc_ms(2026, 3, 28, 0, 0), 0), utc_ms(2026, 3, 29, 1, 0));
        calendar_free(&cal);

        /* A night shift across the change, Saturday 22:00-06:00. Spring: Saturday 03-28 22:00
         * CET = 21:00 UTC to Sunday 06:00 CEST = 04:00 UTC: 7 h. Autumn: Saturday 10-24 22:00
         * CEST = 20:00 UTC to Sunday 06:00 CET = 05:00 UTC: 9 h. */
        cal = new_cal("Europe/Berlin");
        hours(cal, SAT, SAT, HM(22, 0), HM(6, 0));
        CHECK_INT(between(cal, utc_ms(2026, 3, 28, 0, 0), utc_ms(2026, 3, 30, 0, 0)), 7 * HOUR);
        CHECK_INT(between(cal, utc_ms(2026, 10, 24, 0, 0), utc_ms(2026, 10, 26, 0, 0)), 9 * HOUR);
        /* 8 h after Saturday 10-24 21:00 UTC (23:00 CEST) is Sunday 05:00 UTC, the shift's
         * last instant. */
        CHECK_INT(add(cal, utc_ms(2026, 10, 24, 20, 0), 9 * HOUR), utc_ms(2026, 10, 25, 5, 0));
        calendar_free(&cal);

        /* America/New_York, Sundays 00:00-06:00. */
        cal = new_cal("America/New_York");
        hours(cal, SUN, SUN, HM(0, 0), HM(6, 0));
        /* Spring forward, 2026-03-08: 00:00 EST = 05:00 UTC, 06:00 EDT = 10:00 UTC: 5 h.
         * 3 h after the start is 08:00 UTC (04:00 EDT). */
        CHECK_INT(between(cal, utc_ms(2026, 3, 7, 0, 0), utc_ms(2026, 3, 9, 0, 0)), 5 * HOUR);
        CHECK_INT(add(cal, utc_ms(2026, 3, 8, 5, 0), 3 * HOUR), utc_ms(2026, 3, 8, 8, 0));
        CHECK_INT(add(cal, utc_ms(2026, 3, 8, 5, 0), 5 * HOUR), utc_ms(2026, 3, 8, 10, 0));
        /* Fall back, 2026-11-01: 00:00 EDT = 04:00 UTC, 06:00 EST = 11:00 UTC: 7 h. */
        CHECK_INT(between(cal, utc_ms(2026, 10, 31, 0, 0), utc_ms(2026, 11, 2, 0, 0)), 7 * HOUR);
        CHECK_INT(add(cal, utc_ms(2026, 11, 1, 4, 0), 6 * HOUR + 30 * MIN),
                  utc_ms(2026, 11, 1, 10, 30));
        /* The same in 2040 from the footer: 2040-03-11 00:00 EST = 05:00 UTC to 06:00 EDT =
         * 10:00 UTC, 5 h; 2040-11-04 00:00 EDT = 04:00 UTC to 06:00 EST = 11:00 UTC, 7 h. */
        CHECK_INT(between(cal, utc_ms(2040, 3, 10, 0, 0), utc_ms(2040, 3, 12, 0, 0)), 5 * HOUR);
        CHECK_INT(between(cal, utc_ms(2040, 11, 3, 0, 0), utc_ms(2040, 11, 5, 0, 0)), 7 * HOUR);
        calendar_free(&cal);
}

static void
test_paused_clock(void)
{
        /* Asia/Shanghai office hours with lunch. Assigned Monday 2026-01-05 16:00 CST with a
         * 12 h resolution allowance; pending from Tuesday 10:00 CST: elapsed 16-18 Monday
         * (2 h) + 09-10 Tuesday (1 h) = 3 h. Resumed Thursday 01-08 15:00 CST; the 9 h left
         * run 15-18 Thursday (3 h), 09-12 Friday (6 h), 13-16 Friday (9 h): due Friday 01-09
         * 16:00 CST = 08:00 UTC. */
        calendar_t *cal = new_cal("Asia/Shanghai");
        hours(cal, MON, FRI, HM(9, 0), HM(12, 0));
        hours(cal, MON, FRI, HM(13, 0), HM(18, 0));
        int64_t assigned = utc_ms(2026, 1, 5, 8, 0), paused = utc_ms(2026, 1, 6, 2, 0);
        int64_t resumed = utc_ms(2026, 1, 8, 7, 0);
        int64_t elapsed = between(cal, assigned, paused);

        CHECK_INT(elapsed, 3 * HOUR);
        CHECK_INT(add(cal, resumed, 12 * HOUR - elapsed), utc_ms(2026, 1, 9, 8, 0));
        /* Without the pause it would have been due Wednesday 01-07 11:00 CST: 2 h Monday,
         * 8 h Tuesday, 09-11 Wednesday. */
        CHECK_INT(add(cal, assigned, 12 * HOUR), utc_ms(2026, 1, 7, 3, 0));
        calendar_free(&cal);
}

static void
test_hours_rules(void)
{
        calendar_t *cal = new_cal("UTC");
        int64_t mon = utc_ms(2026, 1, 5, 0, 0), due = 42;

        /* Out of range. */
        CHECK_INT(calendar_add_hours(cal, -1, 0, 60), -EINVAL);
        CHECK_INT(calendar_add_hours(cal, 7, 0, 60), -EINVAL);
        CHECK_INT(calendar_add_hours(cal, MON, -1, 60), -EINVAL);
        CHECK_INT(calendar_add_hours(cal, MON, 1440, 60), -EINVAL);
        CHECK_INT(calendar_add_hours(cal, MON, 0, 1441), -EINVAL);
        CHECK_INT(calendar_add_holiday(cal, 2026, 2, 29), -EINVAL);
        CHECK_INT(calendar_add_holiday(cal, 2026, 13, 1), -EINVAL);
        CHECK_INT(calendar_add_holiday(cal, 0, 1, 1), -EINVAL);
        CHECK_INT(calendar_add_workday(cal, 2026, 1, 10, 7), -EINVAL);
        CHECK_INT(calendar_add_workday(cal, 2026, 4, 31, MON), -EINVAL);

        /* No hours at all: no business time within 400 days, *ret untouched. */
        CHECK_INT(calendar_add_business_time(cal, mon, HOUR, &due), -ERANGE);
        CHECK_INT(calendar_add_business_time(cal, mon, 0, &due), -ERANGE);
        CHECK_INT(due, 42);
        CHECK_INT(calendar_add_business_time(cal, mon, -1, &due), -EINVAL);
        CHECK_INT(due, 42);
        CHECK_INT(between(cal, mon, mon + 30 * DAY), 0);
        CHECK_INT(calendar_add_hours(cal, MON, HM(9, 0), HM(10, 0)), 0);
        CHECK_INT(add(cal, mon + 1, 30 * MIN), utc_ms(2026, 1, 5, 9, 30));
        /* An allowance longer than the time left to the year 9999 is refused at once. */
        CHECK_INT(calendar_add_business_time(cal, mon, INT64_MAX, &due), -ERANGE);
        CHECK_INT(calendar_add_business_time(cal, INT64_MAX, 0, &due), -EINVAL);
        CHECK_INT(due, 42);
        calendar_free(&cal);

        /* Only Saturdays 09-10, and the first 50 Saturdays from 2026-01-10 holidays: the
         * first open one is 01-10 + 350 days = 12-26 (01-10 is day 10 of the year, 12-26 day
         * 360), a Saturday as 12-25 2026 is a Friday. With 60 holidays the first open
         * Saturday lies 420 days on, past the 400-day limit. */
        cal = new_cal("UTC");
        CHECK_INT(calendar_add_hours(cal, SAT, HM(9, 0), HM(10, 0)), 0);
        int y = 2026, m = 1, d = 10;
        for (int k = 0; k < 60; k++) {
                static const int len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

                CHECK_INT(calendar_add_holiday(cal, y, m, d), 0);
                if (k == 49)
                        CHECK_INT(add(cal, mon, 0), utc_ms(2026, 12, 26, 9, 0));
                d += 7;
                if (d > len[m - 1]) { /* no leap day between 2026 and 2027-03 */
                        d -= len[m - 1];
                        if (++m > 12) {
                                m = 1;
                                y++;
                        }
                }
        }
        due = 42;
        CHECK_INT(calendar_add_business_time(cal, mon, 0, &due), -ERANGE);
        CHECK_INT(due, 42);
        calendar_free(&cal);

        cal = new_cal("UTC");
        /* Overlapping intervals of one day merge: 09-12 and 11-14 are 09-14, 5 h; touching
         * 14-15 extends it to 6 h. */
        CHECK_INT(calendar_add_hours(cal, MON, HM(9, 0), HM(12, 0)), 0);
        CHECK_INT(calendar_add_hours(cal, MON, HM(11, 0), HM(14, 0)), 0);
        CHECK_INT(between(cal, mon, mon + DAY), 5 * HOUR);
        CHECK_INT(calendar_add_hours(cal, MON, HM(14, 0), HM(15, 0)), 0);
        CHECK_INT(between(cal, mon, mon + DAY), 6 * HOUR);
        /* Overlap across midnight counts once: Monday 22:00-06:00 and Tuesday 00:00-08:00
         * make Tuesday 00-08 (8 h, not 14), plus Monday 22-24. */
        CHECK_INT(calendar_add_hours(cal, MON, HM(22, 0), HM(6, 0)), 0);
        CHECK_INT(calendar_add_hours(cal, TUE, HM(0, 0), HM(8, 0)), 0);
        CHECK_INT(between(cal, mon + DAY, mon + 2 * DAY), 8 * HOUR);
        CHECK_INT(between(cal, mon, mon + 2 * DAY), 6 * HOUR + 2 * HOUR + 8 * HOUR);
        /* end == start is a whole day from start: Wednesday 09:00 to Thursday 09:00. 0, 0 is
         * all of Friday. */
        CHECK_INT(calendar_add_hours(cal, WED, HM(9, 0), HM(9, 0)), 0);
        CHECK_INT(between(cal, mon + 2 * DAY, mon + 4 * DAY), 24 * HOUR);
        CHECK_INT(calendar_add_hours(cal, FRI, 0, 0), 0);
        CHECK_INT(between(cal, mon + 4 * DAY, mon + 5 * DAY), 24 * HOUR);
        CHECK_INT(calendar_add_hours(cal, SAT, 0, 1440), 0);
        CHECK_INT(between(cal, mon + 5 * DAY, mon + 6 * DAY), 24 * HOUR);
        /* Empty and reversed ranges. */
        CHECK_INT(between(cal, mon + DAY, mon), 0);
        CHECK_INT(between(cal, mon, mon), 0);
        calendar_free(&cal);

        /* A weekday holds at most CALENDAR_MAX_INTERVALS separate intervals: 10-minute
         * intervals every 20 minutes. */
        cal = new_cal("UTC");
        int i, r = 0;
        for (i = 0; i <= CALENDAR_MAX_INTERVALS; i++) {
                r = calendar_add_hours(cal, MON, i * 20, i * 20 + 10);
                if (r < 0)
                        break;
        }
        CHECK_INT(i, CALENDAR_MAX_INTERVALS);
        CHECK_INT(r, -E2BIG);
        CHECK_INT(between(cal, mon, mon + DAY), CALENDAR_MAX_INTERVALS * 10 * MIN);
        /* One covering them all merges them. */
        CHECK_INT(calendar_add_hours(cal, MON, 0, HM(12, 0)), 0);
        CHECK_INT(between(cal, mon, mon + DAY), 12 * HOUR);
        calendar_free(&cal);

        /* Unknown and invalid zones. */
        cal = NULL;
        CHECK_INT(calendar_new("Nowhere/Atlantis", &cal), -ENOENT);
        CHECK_INT(calendar_new("../UTC", &cal), -EINVAL);
        CHECK(cal == NULL);
        calendar_free(&cal);
        calendar_free(NULL);
}

/* Days since 1970-01-01 of a date, by test-local arithmetic. */
static int64_t
days_of(int y, int mo, int d)
{
        return utc_s(y, mo, d, 0, 0, 0) / 86400;
}

/* n holidays, every step days from y-mo-d (test-local date arithmetic). */
static void
holidays_from(calendar_t *cal, int y, int mo, int d, int n, int step)
{
        static const int len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

        for (int k = 0; k < n; k++) {
                REQUIRE(calendar_add_holiday(cal, y, mo, d) == 0);
                d += step;
                for (;;) {
                        int l =
                            len[mo - 1] + (mo == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0));

                        if (d <= l)
                                break;
                        d -= l;
                        if (++mo > 12) {
                                mo = 1;
                                y++;
                        }
                }
        }
}

/* The search for business time gives up after CALENDAR_MAX_CLOSED_DAYS closed days in a row,
 * and calendar_check_closed_days() refuses exactly the calendars on which it could: a run of
 * that many closed days is searched across from any start, one day more is refused by both. */
static void
test_closed_days(void)
{
        calendar_t *cal;
        int64_t first = 42, days = 42, due = 42;

        /* 24x7 in UTC with the 400 days from 2027-01-01 holidays. Business time resumes 400
         * days on: 365 days to 2028-01-01, then 35 to 2028-02-05. */
        cal = new_cal("UTC");
        calendar_set_always_open(cal);
        holidays_from(cal, 2027, 1, 1, CALENDAR_MAX_CLOSED_DAYS, 1);
        CHECK_INT(calendar_check_closed_days(cal, &first, &days), 0);
        CHECK_INT(first, 42);
        CHECK_INT(days, 42);
        /* From the end of the last open day, from before it, from inside the run. */
        CHECK_INT(add(cal, utc_ms(2027, 1, 1, 0, 0), 0), utc_ms(2028, 2, 5, 0, 0));
        CHECK_INT(add(cal, utc_ms(2026, 12, 31, 23, 0), 2 * HOUR), utc_ms(2028, 2, 5, 1, 0));
        CHECK_INT(add(cal, utc_ms(2027, 7, 1, 12, 0), 0), utc_ms(2028, 2, 5, 0, 0));
        /* One holiday more: 401 days, refused by the check and by the search. */
        CHECK_INT(calendar_add_holiday(cal, 2028, 2, 5), 0);
        CHECK_INT(calendar_check_closed_days(cal, &first, &days), -ERANGE);
        CHECK_INT(first, days_of(2027, 1, 1));
        CHECK_INT(days, CALENDAR_MAX_CLOSED_DAYS + 1);
        CHECK_INT(calendar_add_business_time(cal, utc_ms(2027, 1, 1, 0, 0), 0, &due), -ERANGE);
        CHECK_INT(due, 42);
        calendar_free(&cal);

        /* Saturdays 09:00-10:00 only, and Saturday holidays from 2027-01-02 (2027-01-01 is a
         * Friday). With 56 the run lasts from Sunday 2026-12-27 to Friday 2028-01-28: 398
         * days, and the next business time is Saturday 2028-01-29 09:00. With 57, 405 days. */
        cal = new_cal("UTC");
        hours(cal, SAT, SAT, HM(9, 0), HM(10, 0));
        CHECK_INT(calendar_check_closed_days(cal, &first, &days), 0);
        holidays_from(cal, 2027, 1, 2, 56, 7);
        CHECK_INT(calendar_check_closed_days(cal, &first, &days), 0);
        CHECK_INT(add(cal, utc_ms(2026, 12, 26, 10, 0), 0), utc_ms(2028, 1, 29, 9, 0));
        CHECK_INT(calendar_add_holiday(cal, 2028, 1, 29), 0);
        CHECK_INT(calendar_check_closed_days(cal, &first, &days), -ERANGE);
        CHECK_INT(first, days_of(2026, 12, 27));
        CHECK_INT(days, 405);
        CHECK_INT(calendar_add_business_time(cal, utc_ms(2026, 12, 26, 10, 0), 0, &due), -ERANGE);
        /* A make-up day in between, Wednesday 2027-06-02 worked as a Saturday, splits it. */
        CHECK_INT(calendar_add_workday(cal, 2027, 6, 2, SAT), 0);
        CHECK_INT(calendar_check_closed_days(cal, &first, &days), 0);
        CHECK_INT(add(cal, utc_ms(2026, 12, 26, 10, 0), 0), utc_ms(2027, 6, 2, 9, 0));
        calendar_free(&cal);

        /* Europe/Berlin, Sundays 02:00-02:30 only: on the spring-forward Sunday that half hour
         * does not exist, so that day is closed too. 56 Sunday holidays from 2026-03-01 to
         * 2027-03-21 close Monday 2026-02-23 to Saturday 2027-03-27 (398 days); the next
         * Sunday, 2027-03-28, is the change, so the run reaches Saturday 2027-04-03: 405 days. */
        cal = new_cal("Europe/Berlin");
        hours(cal, SUN, SUN, HM(2, 0), HM(2, 30));
        holidays_from(cal, 2026, 3, 1, 56, 7);
        CHECK_INT(calendar_check_closed_days(cal, &first, &days), -ERANGE);
        CHECK_INT(first, days_of(2026, 2, 23));
        CHECK_INT(days, 405);
        CHECK_INT(calendar_add_business_time(cal, utc_ms(2026, 2, 23, 0, 0), 0, &due), -ERANGE);
        calendar_free(&cal);
        /* The same at 10:00, which exists that day: 398 days, and 10:00 CEST = 08:00 UTC. */
        cal = new_cal("Europe/Berlin");
        hours(cal, SUN, SUN, HM(10, 0), HM(10, 30));
        holidays_from(cal, 2026, 3, 1, 56, 7);
        CHECK_INT(calendar_check_closed_days(cal, &first, &days), 0);
        CHECK_INT(add(cal, utc_ms(2026, 2, 23, 0, 0), 0), utc_ms(2027, 3, 28, 8, 0));
        calendar_free(&cal);

        /* Holidays at both ends of time on office hours: only the days near them are walked,
         * and the rest of the span week by week. */
        cal = new_cal("Europe/Berlin");
        hours(cal, MON, FRI, HM(9, 0), HM(17, 0));
        holidays_from(cal, 1970, 1, 1, 3, 1);
        holidays_from(cal, 9999, 12, 27, 5, 1);
        CHECK_INT(calendar_check_closed_days(cal, &first, &days), 0);
        calendar_free(&cal);

        /* No hours at all: every day is closed, for ever. */
        cal = new_cal("UTC");
        CHECK_INT(calendar_check_closed_days(cal, &first, &days), -ERANGE);
        CHECK_INT(days, INT64_MAX);
        calendar_free(&cal);
}

/* ------------------------------------------------------------------ clocks on calendars */

#define RESPONSE COMPLAINT__V1__CLOCK_KIND__CLOCK_KIND_RESPONSE

/* A policy on a 24x7 UTC calendar (business time is real time) with the warning fraction
 * warning and one level above the start, its allowance level1_ms. */
struct test_policy {
        pb_policy_t pb;
        Complaint__V1__Policy__Level level, *chain[1];
        policy_t pol;
};

static void
test_policy_init(struct test_policy *t, double warning, int64_t level1_ms)
{
        complaint__v1__policy__init(&t->pb);
        complaint__v1__policy__level__init(&t->level);
        t->level.role = (char *)"Section chief";
        t->level.allowance_ms = level1_ms;
        t->chain[0] = &t->level;
        t->pb.warning = warning;
        t->pb.realert_ms = HOUR;
        t->pb.chain = t->chain;
        t->pb.n_chain = 1;
        t->pol = (policy_t){.id = 1, .pb = &t->pb, .cal = new_cal("UTC")};
        calendar_set_always_open(t->pol.cal);
}

/* The warning is due when the warning fraction of the allowance has passed, never before:
 * ceil(allowance x fraction) in whole milliseconds, computed in integers. The product in
 * floating point falls short of the exact value for many pairs (11000 x 0.7 is
 * 7699.999999999999), and truncating it warned a millisecond early. */
static void
test_clock_warning(void)
{
        static const int64_t ppm[] = {50000,  100000, 150000, 300000, 350000,
                                      550000, 650000, 700000, 800000, 850000,
                                      900000, 950000, 123457, 999999, 1};
        struct test_policy t;
        int64_t now = utc_ms(2026, 1, 5, 9, 0), due;
        pb_clock_t *k = NULL;
        bool realert = true;
        int bad = 0;

        test_policy_init(&t, 0.7, 11 * SEC);
        CHECK_INT(clock_start(&k, RESPONSE, &t.pol, "billing", 11 * SEC, 1.0, now), 0);
        CHECK_INT(k->allowance_ms, 11 * SEC);
        CHECK_INT(k->due_at_ms, now + 11 * SEC);
        CHECK_INT(k->warn_at_ms, now + 7700);
        /* Each level of the chain warns the same way, from the breach. */
        due = k->due_at_ms;
        CHECK_INT(clock_breach(k, &t.pol, due, &realert), 0);
        CHECK(!realert);
        CHECK_INT(k->level, 1);
        CHECK_INT(k->warn_at_ms, due + 7700);
        /* 0.7 of 2 h and of 90 s are exact too. */
        CHECK_INT(clock_start(&k, RESPONSE, &t.pol, "billing", 2 * HOUR, 1.0, now), 0);
        CHECK_INT(k->warn_at_ms, now + 84 * MIN);
        CHECK_INT(clock_start(&k, RESPONSE, &t.pol, "billing", 90 * SEC, 1.0, now), 0);
        CHECK_INT(k->warn_at_ms, now + 63 * SEC);
        /* 0.8 of 7 ms is 5.6 ms: the warning goes at 6 ms, not at 5. */
        t.pb.warning = 0.8;
        CHECK_INT(clock_start(&k, RESPONSE, &t.pol, "billing", 7, 1.0, now), 0);
        CHECK_INT(k->warn_at_ms, now + 6);
        CHECK_INT(k->due_at_ms, now + 7);
        /* 0.8 of 1 ms rounds up to the deadline itself: no warning then. */
        CHECK_INT(clock_start(&k, RESPONSE, &t.pol, "billing", 1, 1.0, now), 0);
        CHECK_INT(k->warn_at_ms, 0);

        /* Allowances of 1 ms to 3 s, and some long ones, at fractions of up to six decimals. */
        for (size_t f = 0; f < sizeof(ppm) / sizeof(ppm[0]); f++) {
                t.pb.warning = (double)ppm[f] / 1e6;
                for (int64_t a = 1; a <= 3 * SEC + 40; a++) {
                        int64_t allowance = a <= 3 * SEC ? a : (a - 3 * SEC) * 7 * HOUR + 13;
                        /* ceil(allowance x ppm / 10^6), in integers that cannot overflow. */
                        int64_t want = allowance / 1000000 * ppm[f] +
                                       (allowance % 1000000 * ppm[f] + 999999) / 1000000;

                        if (clock_start(&k, RESPONSE, &t.pol, "billing", allowance, 1.0, now) !=
                                0 ||
                            k->warn_at_ms != (want < allowance ? now + want : 0)) {
                                if (bad++ == 0)
                                        fprintf(stderr,
                                                "warning: allowance %" PRId64 " ms at %" PRId64
                                                " ppm warned at +%" PRId64 ", expected +%" PRId64
                                                "\n",
                                                allowance, ppm[f], k->warn_at_ms - now, want);
                        }
                }
        }
        CHECK_INT(bad, 0);
        complaint__v1__clock__free_unpacked(k, NULL);
        calendar_free(&t.pol.cal);
}

/* A priority scale scales every allowance exactly, rounded up to a whole millisecond: urgent
 * (0.25) gets a quarter of every allowance, however short, and never 0. */
static void
test_clock_scale(void)
{
        struct test_policy t;
        int64_t now = utc_ms(2026, 1, 5, 9, 0), due;
        pb_clock_t *k = NULL;
        bool realert = true;

        test_policy_init(&t, 0.8, 11 * SEC);
        /* A quarter of 2 s is 500 ms, of 2 h 30 min; the warning at 0.8 of that. */
        CHECK_INT(clock_start(&k, RESPONSE, &t.pol, "billing", 2 * SEC, 0.25, now), 0);
        CHECK_INT(k->allowance_ms, 500);
        CHECK_INT(k->due_at_ms, now + 500);
        CHECK_INT(k->warn_at_ms, now + 400);
        CHECK_INT(clock_start(&k, RESPONSE, &t.pol, "billing", 2 * HOUR, 0.25, now), 0);
        CHECK_INT(k->allowance_ms, 30 * MIN);
        /* The chain's levels too: a quarter of 11 s is 2.75 s. */
        due = k->due_at_ms;
        CHECK_INT(clock_breach(k, &t.pol, due, &realert), 0);
        CHECK_INT(k->allowance_ms, 2750);
        CHECK_INT(k->due_at_ms, due + 2750);
        /* Rounded up: half of 3 ms is 2 ms, a quarter of 1 ms is 1 ms. */
        CHECK_INT(clock_start(&k, RESPONSE, &t.pol, "billing", 3, 0.5, now), 0);
        CHECK_INT(k->allowance_ms, 2);
        CHECK_INT(clock_start(&k, RESPONSE, &t.pol, "billing", 1, 0.25, now), 0);
        CHECK_INT(k->allowance_ms, 1);
        CHECK_INT(k->due_at_ms, now + 1);
        /* Exact: 0.3 of 10 ms is 3 ms (3.0000000000000004 in floating point). */
        CHECK_INT(clock_start(&k, RESPONSE, &t.pol, "billing", 10, 0.3, now), 0);
        CHECK_INT(k->allowance_ms, 3);
        /* No scale recorded (a clock of an old store) is 1; 100 x 30 days fits easily. */
        CHECK_INT(clock_start(&k, RESPONSE, &t.pol, "billing", 7, 0, now), 0);
        CHECK_INT(k->allowance_ms, 7);
        CHECK_INT(clock_start(&k, RESPONSE, &t.pol, "billing", 30 * DAY, 100, now), 0);
        CHECK_INT(k->allowance_ms, 3000 * DAY);
        /* A product past the year 9999 is the calendar's -ERANGE, not an overflow. */
        CHECK_INT(clock_start(&k, RESPONSE, &t.pol, "billing", INT64_MAX / 4, 100, now), -ERANGE);
        complaint__v1__clock__free_unpacked(k, NULL);
        calendar_free(&t.pol.cal);
}

/* A deterministic generator, so failures reproduce. */
static uint64_t
rnd(uint64_t *state, uint64_t n)
{
        *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
        return (*state >> 17) % n;
}

static void
check_inverse(const calendar_t *cal, uint64_t seed, int64_t max_allowance)
{
        /* Instants from 2024 to 2042, so some lie past the zones' explicit transitions. */
        int64_t lo = utc_ms(2024, 1, 1, 0, 0), span = utc_ms(2042, 1, 1, 0, 0) - lo;
        uint64_t st = seed;
        int bad_inverse = 0, bad_floor = 0, bad_additive = 0;

        for (int i = 0; i < 400; i++) {
                int64_t start = lo + (int64_t)rnd(&st, (uint64_t)span);
                int64_t allowance = (int64_t)rnd(&st, (uint64_t)max_allowance);
                int64_t t = start + (int64_t)rnd(&st, 60 * DAY);
                int64_t mid = start + (t - start) / 3;
                int64_t due = 0, b = 0, d = 0, b1 = 0, b2 = 0, rest = -1;

                if (i % 10 == 0)
                        allowance = 0;
                if (i % 7 == 0)
                        allowance = allowance / MIN * MIN;
                /* between(start, add(start, a)) == a. */
                if (calendar_add_business_time(cal, start, allowance, &due) < 0 ||
                    calendar_business_time_between(cal, start, due, &b) < 0 || b != allowance) {
                        if (bad_inverse++ == 0)
                                fprintf(stderr,
                                        "inverse: start %" PRId64 " allowance %" PRId64
                                        " due %" PRId64 " between %" PRId64 "\n",
                                        start, allowance, due, b);
                }
                /* add(start, between(start, t)) is at most t, with no business time left
                 * between it and t; when there was none, the next business instant is not
                 * before t. */
                if (calendar_business_time_between(cal, start, t, &b) < 0 ||
                    calendar_add_business_time(cal, start, b, &d) < 0 || (b == 0 && d < t) ||
                    (b > 0 && (d > t || calendar_business_time_between(cal, d, t, &rest) < 0 ||
                               rest != 0))) {
                        if (bad_floor++ == 0)
                                fprintf(stderr, "floor: start %" PRId64 " t %" PRId64 "\n", start,
                                        t);
                }
                /* Additivity over a split point. */
                if (calendar_business_time_between(cal, start, mid, &b1) < 0 ||
                    calendar_business_time_between(cal, mid, t, &b2) < 0 || b1 + b2 != b) {
                        if (bad_additive++ == 0)
                                fprintf(stderr, "additive: start %" PRId64 " t %" PRId64 "\n",
                                        start, t);
                }
        }
        CHECK_INT(bad_inverse, 0);
        CHECK_INT(bad_floor, 0);
        CHECK_INT(bad_additive, 0);
}

static void
test_randomized_inverse(void)
{
        calendar_t *cal;

        /* Office hours with lunch and holidays in Europe/Berlin. */
        cal = new_cal("Europe/Berlin");
        hours(cal, MON, FRI, HM(9, 0), HM(12, 0));
        hours(cal, MON, FRI, HM(13, 0), HM(18, 0));
        for (int y = 2024; y <= 2042; y++) {
                calendar_add_holiday(cal, y, 1, 1);
                calendar_add_holiday(cal, y, 5, 1);
                calendar_add_holiday(cal, y, 12, 25);
                calendar_add_holiday(cal, y, 12, 26);
                calendar_add_workday(cal, y, 6, 6, MON);
        }
        check_inverse(cal, 1, 300 * HOUR);
        calendar_free(&cal);

        /* Night shifts in America/New_York, an early shift across the change hour. */
        cal = new_cal("America/New_York");
        hours(cal, SUN, SAT, HM(22, 0), HM(6, 0));
        hours(cal, SUN, SUN, HM(1, 30), HM(2, 30));
        calendar_add_holiday(cal, 2030, 7, 4);
        check_inverse(cal, 2, 300 * HOUR);
        calendar_free(&cal);

        /* 24x7 in Australia/Sydney (southern hemisphere). */
        cal = new_cal("Australia/Sydney");
        calendar_set_always_open(cal);
        check_inverse(cal, 3, 300 * HOUR);
        calendar_free(&cal);

        /* Short odd intervals in Asia/Shanghai. */
        cal = new_cal("Asia/Shanghai");
        hours(cal, TUE, TUE, HM(10, 17), HM(10, 18));
        hours(cal, THU, FRI, HM(23, 59), HM(0, 1));
        check_inverse(cal, 4, 300 * HOUR);
        calendar_free(&cal);

        /* The benchmark's storm: one evening a week, allowances of up to 30 days of business
         * time (years of weeks, taken many at a time: calendar.c's s_plain_weeks()), across
         * DST changes, holidays and make-up days, measured against the week-by-week walk of
         * calendar_business_time_between(). */
        cal = new_cal("Europe/Berlin");
        hours(cal, WED, WED, HM(15, 41), HM(0, 0));
        hours(cal, SUN, SUN, HM(1, 30), HM(3, 30));
        for (int y = 2024; y <= 2200; y += 3) {
                calendar_add_holiday(cal, y, 3, 5 + y % 20);
                calendar_add_holiday(cal, y, 10, 1 + y % 28);
                calendar_add_workday(cal, y, 7, 4 + y % 7, WED);
        }
        check_inverse(cal, 5, 30 * DAY);
        calendar_free(&cal);

        /* The same in a zone without DST, whose rule never changes again. */
        cal = new_cal("Asia/Shanghai");
        hours(cal, FRI, FRI, HM(20, 0), HM(2, 0));
        check_inverse(cal, 6, 30 * DAY);
        calendar_free(&cal);
}

int
main(void)
{
        test_helpers();
        test_civil();
        test_tz_berlin();
        test_tz_new_york();
        test_tz_shanghai();
        test_tz_posix_rules();
        test_tz_load_errors();
        test_always_open();
        test_lunch_break();
        test_weekend();
        test_year_end();
        test_holiday_week();
        test_overnight();
        test_workday();
        test_long_allowance();
        test_dst_days();
        test_paused_clock();
        test_hours_rules();
        test_closed_days();
        test_clock_warning();
        test_clock_scale();
        test_randomized_inverse();
        return check_summary();
}
