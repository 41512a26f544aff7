/* render.h: how complaintctl shows complaint.v1 records, as JSON for scripts and as text for
 * people. JSON field names are the proto field names, enums are their words (pb.h), 64-bit
 * integers are JSON numbers, and every field is present (an absent sub-record is null), so a
 * script never has to guess. Text output replaces control characters in stored strings, which
 * come from complainants, so that nothing they typed can drive the operator's terminal.
 * Records are borrowed for each call. */
#ifndef COMPLAINTD_RENDER_H
#define COMPLAINTD_RENDER_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "json.h"
#include "pb.h"

/* Formats ms since the epoch into buf (at least 32 bytes); "-" for 0. By default as ISO-8601 UTC
 * ("2024-05-01T09:30:00Z"), as scripts and --utc want it; after render_set_zone(), as local
 * time in that zone with its offset ("2024-05-01 11:30 +02:00", zone.h). */
const char *render_time(int64_t ms, char *buf, size_t size);

/* Makes render_time() print local times in tz (NULL: UTC, "+00:00"). tz is borrowed and must
 * outlive every later call: complaintctl sets it once, for the whole run, like a locale. */
struct tz;
void render_set_zone(const struct tz *tz);

/* Formats a duration as "2d3h", "1h20m", "3m12s", "0s" (sign dropped) into buf. */
const char *render_duration(int64_t ms, char *buf, size_t size);

/* The same, with days left out when days is false ("26h30m"): for business time, where a "day"
 * of 24 hours would read as a working day. */
const char *render_duration_in(int64_t ms, bool days, char *buf, size_t size);

/* The word of a ClockKind: "response", "resolution", "follow_up"; "" when unspecified. */
const char *render_clock_kind(int kind);

/* Formats cents as currency units with two decimals ("12.50", "-0.05") into buf. */
const char *render_cents(int64_t cents, char *buf, size_t size);

/* Writes the members of a complaint (without the braces, so the caller may add its own). */
void render_complaint_members_json(json_t *j, const pb_complaint_t *c);

/* Writes a complaint, a history entry, a status reply or an event as one JSON object. */
void render_complaint_json(json_t *j, const pb_complaint_t *c);
void render_history_json(json_t *j, const pb_history_t *h);
void render_status_members_json(json_t *j, const pb_status_reply_t *s);
void render_event_json(json_t *j, const pb_event_t *e);

/* Text: a complaint's fields, one per line; its history as a table; a list of complaints as a
 * table; the daemon's status; one line per event. */
void render_complaint_text(FILE *f, const pb_complaint_t *c);
void render_history_text(FILE *f, pb_history_t *const *h, size_t n);
void render_list_text(FILE *f, pb_complaint_t *const *c, size_t n);
void render_status_text(FILE *f, const pb_status_reply_t *s);
void render_event_text(FILE *f, const pb_event_t *e);

/* A refused request, as complaintctl reports it: "complaintctl: CODE: message (field F)". */
void render_error_text(FILE *f, const pb_reply_t *reply);

#endif
