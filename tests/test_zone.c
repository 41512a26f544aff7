/* test_zone.c: client/zone.c, the instants complaintctl prints: local wall time to the minute
 * with the offset in force then, across the DST transitions of Europe/Berlin (2026-03-29 and
 * 2026-10-25, both at 01:00 UTC), in zones east and west of UTC with half-hour offsets, for
 * instants before 1970, and RFC 3339 UTC. Reads the system's tzdata (/usr/share/zoneinfo, or
 * $COMPLAINTD_ZONEINFO). */
#include <errno.h>
#include <stdio.h>

#include "check.h"
#include "zone.h"

CHECK_DEFINE_COUNTERS();

#define H (3600 * 1000LL)

/* ms since the epoch of a UTC date and time, for the readers of the cases below. */
static int64_t
s_utc(int y, int mo, int d, int h, int mi)
{
        /* Days from civil (Howard Hinnant's algorithm). */
        int64_t yy = mo <= 2 ? y - 1 : y;
        int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
        int64_t yoe = yy - era * 400;
        int64_t doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        int64_t days = era * 146097 + doe - 719468;

        return ((days * 24 + h) * 60 + mi) * 60 * 1000LL;
}

static void
s_check(const struct tz *tz, int64_t ms, const char *want)
{
        char buf[ZONE_TIME_SIZE];

        CHECK_STR(zone_format(tz, ms, buf, sizeof(buf)), want);
}

int
main(void)
{
        struct tz *berlin = NULL, *shanghai = NULL, *kolkata = NULL, *stjohns = NULL, *utc = NULL,
                  *none = NULL;
        char buf[ZONE_TIME_SIZE];

        REQUIRE(zone_load("Europe/Berlin", &berlin) == 0);
        REQUIRE(zone_load("Asia/Shanghai", &shanghai) == 0);
        REQUIRE(zone_load("Asia/Kolkata", &kolkata) == 0);
        REQUIRE(zone_load("America/St_Johns", &stjohns) == 0);
        REQUIRE(zone_load("", &utc) == 0);
        CHECK_INT(zone_load("Mars/Olympus_Mons", &none), -ENOENT);
        CHECK(none == NULL);
        CHECK_INT(zone_load("../etc/passwd", &none), -EINVAL);

        /* The example. */
        s_check(shanghai, s_utc(2026, 12, 4, 7, 30), "2026-12-04 15:30 +08:00");
        s_check(shanghai, s_utc(2026, 10, 31, 15, 30), "2026-10-31 23:30 +08:00");
        s_check(shanghai, s_utc(2026, 10, 31, 16, 30), "2026-11-01 00:30 +08:00");
        s_check(utc, s_utc(2026, 12, 4, 7, 30), "2026-12-04 07:30 +00:00");
        s_check(NULL, s_utc(2026, 12, 4, 7, 30), "2026-12-04 07:30 +00:00");

        /* Berlin, spring: 02:00 CET becomes 03:00 CEST at 01:00 UTC. */
        s_check(berlin, s_utc(2026, 3, 29, 0, 59), "2026-03-29 01:59 +01:00");
        s_check(berlin, s_utc(2026, 3, 29, 1, 0) - 1, "2026-03-29 01:59 +01:00");
        s_check(berlin, s_utc(2026, 3, 29, 1, 0), "2026-03-29 03:00 +02:00");
        s_check(berlin, s_utc(2026, 3, 29, 1, 0) + H, "2026-03-29 04:00 +02:00");
        /* Berlin, autumn: 03:00 CEST becomes 02:00 CET at 01:00 UTC; 02:30 happens twice. */
        s_check(berlin, s_utc(2026, 10, 25, 0, 30), "2026-10-25 02:30 +02:00");
        s_check(berlin, s_utc(2026, 10, 25, 1, 0) - 1, "2026-10-25 02:59 +02:00");
        s_check(berlin, s_utc(2026, 10, 25, 1, 0), "2026-10-25 02:00 +01:00");
        s_check(berlin, s_utc(2026, 10, 25, 1, 30), "2026-10-25 02:30 +01:00");
        s_check(berlin, s_utc(2026, 12, 31, 23, 30), "2027-01-01 00:30 +01:00");
        /* Far in the future: the footer rule, past the file's last transition. */
        s_check(berlin, s_utc(2100, 7, 1, 12, 0), "2100-07-01 14:00 +02:00");

        /* Half-hour offsets, east and west. */
        s_check(kolkata, s_utc(2026, 12, 4, 7, 30), "2026-12-04 13:00 +05:30");
        s_check(stjohns, s_utc(2026, 1, 15, 12, 0), "2026-01-15 08:30 -03:30");
        s_check(stjohns, s_utc(2026, 1, 1, 2, 0), "2025-12-31 22:30 -03:30");

        /* Seconds are dropped, also before 1970 (floor, not truncation toward zero). */
        s_check(utc, s_utc(2026, 12, 4, 7, 30) + 59999, "2026-12-04 07:30 +00:00");
        s_check(utc, -1, "1969-12-31 23:59 +00:00");
        s_check(utc, s_utc(1969, 7, 20, 20, 17), "1969-07-20 20:17 +00:00");

        CHECK_STR(zone_format_utc(s_utc(2026, 12, 4, 7, 30) + 15000, buf, sizeof(buf)),
                  "2026-12-04T07:30:15Z");
        CHECK_STR(zone_format_utc(-1000, buf, sizeof(buf)), "1969-12-31T23:59:59Z");

        zone_free(&berlin);
        zone_free(&shanghai);
        zone_free(&kolkata);
        zone_free(&stjohns);
        zone_free(&utc);
        zone_free(&utc);
        CHECK(utc == NULL);
        return check_summary();
}
