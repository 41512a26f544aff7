/* tz.h: a reentrant time-zone reader: parses TZif files (RFC 8536, versions 1 to 4) from the
 * zoneinfo directory into an immutable tz_t, and answers "what offset is in force at this UTC
 * instant" and "which UTC instant does this local wall time map to", using the 64-bit data and,
 * past the last transition, the POSIX TZ rule in the file's footer. It also owns the proleptic
 * Gregorian civil-date arithmetic the calendar module builds on.
 *
 * No global state, no setenv("TZ"), no localtime(): a loaded tz_t is read-only, so any number
 * of threads may query the same one concurrently. All instants are whole seconds since
 * 1970-01-01 00:00:00 UTC, leap seconds ignored; "local seconds" count the same way from
 * 1970-01-01 00:00:00 on the local wall clock. Offsets are seconds east of UTC. */
#ifndef COMPLAINTD_TZ_H
#define COMPLAINTD_TZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The directory searched when the environment variable COMPLAINTD_ZONEINFO is unset or empty. */
#define TZ_DEFAULT_ZONEINFO "/usr/share/zoneinfo"

typedef struct tz tz_t;

/* Loads the zone called name ("Europe/Berlin", "UTC") from the directory named by
 * COMPLAINTD_ZONEINFO, else TZ_DEFAULT_ZONEINFO. "UTC" falls back to a built-in zone when no
 * file of that name exists. On success *ret is a new zone the caller frees with tz_free().
 * Returns -EINVAL for an empty name, one over 255 bytes, one that starts with "/" or contains
 * "..", or a file that is not a well-formed TZif file; -ENOENT for an unknown zone (also a
 * directory such as "Europe"); -ENAMETOOLONG when directory and name exceed PATH_MAX; -ENOMEM;
 * or another -errno from open() or read(). */
int tz_load(const char *name, tz_t **ret);

/* Parses a TZif image of size bytes held in memory (the bytes of a zoneinfo file) and names
 * the zone name. The data is not kept. On success *ret is the caller's, freed with tz_free().
 * Returns -EINVAL for malformed data, -ENOMEM. */
int tz_parse_tzif(const char *name, const void *data, size_t size, tz_t **ret);

/* Builds a zone from a POSIX TZ string alone, such as "EST5EDT,M3.2.0,M11.1.0" or
 * "<+0330>-3:30" (the TZif footer syntax, including the RFC 8536 extensions: hours up to 167
 * and negative rule times). A DST zone without rules uses the US rules M3.2.0,M11.1.0. On
 * success *ret is the caller's, freed with tz_free(). Returns -EINVAL for a malformed string,
 * -ENOMEM. */
int tz_load_posix(const char *spec, tz_t **ret);

/* Frees a zone. Accepts NULL and a pointer to NULL; sets *tz to NULL. */
void tz_free(tz_t **tz);

/* A digest of the zone's rules (its offsets and when they change, the footer rule), the same on
 * every host: a tzdata update that changes a zone's rules changes it; the same rules under
 * another spelling of the file do not. For telling whether what was computed in a zone still
 * holds. Never 0. */
uint64_t tz_rules_digest(const tz_t *tz);

/* The name the zone was loaded under; borrowed, valid as long as the zone. */
const char *tz_name(const tz_t *tz);

/* The offset from UTC, in seconds east, in force at the instant utc_s. Instants before the
 * first transition use the file's first time type. */
int32_t tz_offset_at(const tz_t *tz, int64_t utc_s);

/* The local wall time (local seconds) at the instant utc_s. */
int64_t tz_local_of_utc(const tz_t *tz, int64_t utc_s);

/* The UTC instant at which the local wall clock first reads local_s or later: a wall time
 * that occurs once maps to that instant; one in a spring-forward gap maps to the instant the
 * gap ends (the transition); an ambiguous fall-back wall time maps to its earlier instant.
 * The mapping never decreases as local_s grows. */
int64_t tz_utc_of_local(const tz_t *tz, int64_t local_s);

/* The first instant after utc_s (strictly) at which the zone's rules change, explicit or
 * computed from the footer rule, stored in *ret_utc_s. Such a change usually, though not
 * always, changes the offset. Returns -ENOENT when the zone never changes again. */
int tz_next_transition(const tz_t *tz, int64_t utc_s, int64_t *ret_utc_s);

/* Civil-date arithmetic on the proleptic Gregorian calendar; days count from 1970-01-01
 * (day 0), negative before it. Months are 1..12, days 1..31, weekdays 0 = Sunday .. 6. */
bool tz_is_leap_year(int64_t year);
int tz_days_in_month(int64_t year, int month);
int64_t tz_days_from_civil(int64_t year, int month, int day);
void tz_civil_from_days(int64_t days, int64_t *ret_year, int *ret_month, int *ret_day);
int tz_weekday_from_days(int64_t days);

#endif
