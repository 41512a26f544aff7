/* zone.h: how complaintctl writes an instant for people: in the centre's time zone, to the
 * minute, with the offset from UTC ("2026-12-04 15:30 +08:00"), or in UTC as RFC 3339
 * ("2026-12-04T07:30:00Z") for scripts and --utc. The zone comes from the system's tzdata
 * through the daemon's own TZif reader (daemon/tz.c, linked in, not copied), so the answer
 * does not depend on TZ or on the locales installed. */
#ifndef COMPLAINTD_ZONE_H
#define COMPLAINTD_ZONE_H

#include <stddef.h>
#include <stdint.h>

struct tz;

/* Loads the zone called name ("Asia/Shanghai"); NULL or "" is UTC. On success *ret is the
 * caller's, freed with zone_free(). Returns 0 or tz_load()'s negative errno (-ENOENT for an
 * unknown zone, -EINVAL for a malformed name or file), leaving *ret untouched. */
int zone_load(const char *name, struct tz **ret);

/* Frees a zone loaded by zone_load(); accepts NULL and a pointer to NULL. */
void zone_free(struct tz **tz);

/* Formats ms since the epoch as local wall time to the minute with the offset in force then,
 * "2026-12-04 15:30 +08:00", into buf (at least ZONE_TIME_SIZE bytes); tz NULL is UTC
 * ("+00:00"). Seconds are dropped, not rounded. Returns buf. */
#define ZONE_TIME_SIZE 32
const char *zone_format(const struct tz *tz, int64_t ms, char *buf, size_t size);

/* Formats ms as RFC 3339 UTC, "2026-12-04T07:30:00Z", into buf. Returns buf. */
const char *zone_format_utc(int64_t ms, char *buf, size_t size);

#endif
