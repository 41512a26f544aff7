/* calendar.h: business calendars (weekly working hours in a time zone, holidays, make-up
 * working days, or 24x7) and business-time arithmetic on them: when does an allowance of
 * business time run out, and how much business time lies between two instants. It owns its
 * zone (a tz_t) and its tables; it does no I/O beyond loading the zone, and never logs.
 *
 * Instants are int64 milliseconds since the Unix epoch, UTC. Working hours are wall-clock
 * times in the calendar's zone, so on a spring-forward day an interval 01:00-04:00 in
 * Europe/Berlin lasts 2 real hours and on a fall-back day 4; an allowance is real elapsed
 * business time. A wall time in a spring-forward gap counts from the instant the gap ends, an
 * ambiguous fall-back wall time as its earlier instant (see tz_utc_of_local()).
 *
 * Rules:
 * - Intervals of one weekday that overlap or touch are merged into one, and intervals of
 *   neighbouring days that overlap (Monday 22:00-06:00 and Tuesday 00:00-08:00) count once:
 *   business time is the union of all open intervals.
 * - An interval belongs to the day it starts on. A holiday removes the intervals starting on
 *   that local date; an overnight interval that started the evening before still runs into
 *   it to its end. A make-up working day uses the intervals of the weekday it is worked as,
 *   overnight ones included.
 * - A date that is both a holiday and a make-up working day is a holiday. The configuration
 *   refuses such a date (config.c); the rule stays for the policies stored before it did.
 *
 * A calendar is built once and then only read: any number of threads may call the const
 * functions on the same calendar concurrently. The add_* functions are not thread-safe. */
#ifndef COMPLAINTD_CALENDAR_H
#define COMPLAINTD_CALENDAR_H

#include <stdint.h>

#include "tz.h"

/* The most intervals a weekday can hold after merging. */
#define CALENDAR_MAX_INTERVALS 32
/* add_business_time() gives up after more than this many local days in a row without business
 * time; check_closed_days() refuses a calendar that has such a run. */
#define CALENDAR_MAX_CLOSED_DAYS 400

typedef struct calendar calendar_t;

/* Creates a calendar in the zone tz_name (an IANA name such as "Europe/Berlin", or "UTC"),
 * with no working hours, holidays or make-up days: closed until hours are added. On success
 * *ret is the caller's, freed with calendar_free(). Returns -ENOENT for an unknown zone,
 * -EINVAL for an invalid name or a malformed zone file, -ENOMEM, or another -errno from
 * tz_load(). */
int calendar_new(const char *tz_name, calendar_t **ret);

/* Frees a calendar. Accepts NULL and a pointer to NULL; sets *cal to NULL. */
void calendar_free(calendar_t **cal);

/* Makes every weekday open 00:00-24:00 (24x7), replacing any hours added before. Holidays
 * still close their dates; a 24x7 calendar usually has none. Returns 0. */
int calendar_set_always_open(calendar_t *cal);

/* Adds the interval start_min..end_min (minutes after local midnight) to weekday (0 = Sunday
 * .. 6 = Saturday). start_min is 0..1439, end_min 0..1440; end_min <= start_min means the
 * interval runs past midnight into the next day (22:00-06:00 is 1320, 360; 0, 0 is a whole
 * day). Add several intervals for a day with breaks (09:00-12:00 and 13:00-18:00). Overlapping
 * or touching intervals of the weekday are merged. Returns -EINVAL for an out-of-range
 * argument, -E2BIG when the weekday would hold more than CALENDAR_MAX_INTERVALS intervals (the
 * calendar is then unchanged). */
int calendar_add_hours(calendar_t *cal, int weekday, int start_min, int end_min);

/* Makes the local date year-month-day (year 1..9999) a holiday: no interval starts on it.
 * Adding a date twice is harmless. Returns -EINVAL for an invalid date, -ENOMEM. */
int calendar_add_holiday(calendar_t *cal, int year, int month, int day);

/* Makes the local date year-month-day a make-up working day with the hours of weekday
 * as_weekday (0..6), e.g. a Saturday worked with Monday's hours. Adding a date again replaces
 * its weekday. Returns -EINVAL for an invalid date or weekday, -ENOMEM. */
int calendar_add_workday(calendar_t *cal, int year, int month, int day, int as_weekday);

/* Stores in *ret_due_ms the instant at which allowance_ms (>= 0) of business time has elapsed
 * after start_ms: the earliest instant with that much business time in [start_ms, due). An
 * allowance of 0 gives the first business instant at or after start_ms. Returns -EINVAL for a
 * negative allowance or a start outside the years 1..9999, -ERANGE when more than
 * CALENDAR_MAX_CLOSED_DAYS days in a row pass without business time (no hours configured, say;
 * never on a calendar calendar_check_closed_days() accepts) or the due instant would lie past
 * the year 9999. */
int calendar_add_business_time(const calendar_t *cal, int64_t start_ms, int64_t allowance_ms,
                               int64_t *ret_due_ms);

/* Checks that calendar_add_business_time() finds business time from any start: that no more
 * than CALENDAR_MAX_CLOSED_DAYS local days in a row are without business time. Away from its
 * holidays and make-up days a calendar repeats its week, so only the days around those are
 * walked: microseconds per holiday, however far apart they lie. Returns 0, or -ERANGE for a longer
 * run, storing the first such run's first local day (days since 1970-01-01, a date through
 * tz_civil_from_days()) in *ret_first_day and its length in days in *ret_days; when the week
 * has no business time at all every day is closed: *ret_days is INT64_MAX, *ret_first_day 0.
 * Both are untouched on success. */
int calendar_check_closed_days(const calendar_t *cal, int64_t *ret_first_day, int64_t *ret_days);

/* Stores in *ret_ms the business time within [from_ms, to_ms); 0 if to_ms <= from_ms. For
 * every allowance a, business_time_between(s, add_business_time(s, a)) == a. Returns -EINVAL
 * for an instant outside the years 1..9999. */
int calendar_business_time_between(const calendar_t *cal, int64_t from_ms, int64_t to_ms,
                                   int64_t *ret_ms);

/* The name of the calendar's zone; borrowed, valid as long as the calendar. */
const char *calendar_zone(const calendar_t *cal);

/* The calendar's zone, for local-time questions; borrowed, valid as long as the calendar. */
const tz_t *calendar_tz(const calendar_t *cal);

#endif
