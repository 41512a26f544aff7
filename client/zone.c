/* zone.c: instants in the centre's zone or in UTC, as complaintctl prints them (zone.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "tz.h"
#include "zone.h"

int
zone_load(const char *name, struct tz **ret)
{
        return tz_load(name && name[0] ? name : "UTC", ret);
}

void
zone_free(struct tz **tz)
{
        tz_free(tz);
}

/* Floor division of a signed count by a positive divisor. */
static int64_t
s_floor_div(int64_t a, int64_t b)
{
        return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* The civil date and time of t, whole seconds on some wall clock since 1970-01-01 00:00. */
static void
s_civil(int64_t t, int64_t *year, int *month, int *day, int *hour, int *min, int *sec)
{
        int64_t days = s_floor_div(t, 86400), rest = t - days * 86400;

        tz_civil_from_days(days, year, month, day);
        *hour = (int)(rest / 3600);
        *min = (int)(rest % 3600 / 60);
        *sec = (int)(rest % 60);
}

const char *
zone_format(const struct tz *tz, int64_t ms, char *buf, size_t size)
{
        int64_t utc = s_floor_div(ms, 1000), year;
        int32_t off = tz ? tz_offset_at(tz, utc) : 0;
        int month, day, hour, min, sec;
        int32_t a = off < 0 ? -off : off;

        s_civil(utc + off, &year, &month, &day, &hour, &min, &sec);
        snprintf(buf, size, "%04" PRId64 "-%02d-%02d %02d:%02d %c%02d:%02d", year, month, day, hour,
                 min, off < 0 ? '-' : '+', (int)(a / 3600), (int)(a % 3600 / 60));
        return buf;
}

const char *
zone_format_utc(int64_t ms, char *buf, size_t size)
{
        int64_t year;
        int month, day, hour, min, sec;

        s_civil(s_floor_div(ms, 1000), &year, &month, &day, &hour, &min, &sec);
        snprintf(buf, size, "%04" PRId64 "-%02d-%02dT%02d:%02d:%02dZ", year, month, day, hour, min,
                 sec);
        return buf;
}
