/* clock.h: the arithmetic of a complaint's clocks (DESIGN §3): starting a clock at level 0 of
 * a department's policy, stopping it, pausing and resuming it without counting the paused
 * business time, warning once per level, and moving it up the management chain on a breach,
 * with re-alerts past the top. A clock is a complaint.v1.Clock inside the complaint record;
 * these functions change only the clock they are given and never touch the store. */
#ifndef COMPLAINTD_CLOCK_H
#define COMPLAINTD_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "policy.h"

typedef Complaint__V1__Clock pb_clock_t;

/* Starts (or restarts) *slot as a clock of kind for department dept under policy pol: level 0,
 * an allowance of limit_ms scaled by scale, counted from now on the policy's calendar. A scaled
 * allowance, here and at every level of the chain, is limit x scale exactly (scale taken to six
 * decimals, as the configuration writes it), rounded up to a whole millisecond, and at least
 * 1 ms. Each level's warning is due once ceil(allowance x the policy's warning fraction) of
 * business time has passed, the fraction taken to six decimals too: never before the fraction
 * has passed, and none when that is the deadline itself. A clock already in *slot is replaced
 * (freed). Returns -ENOMEM, or the calendar's -ERANGE when it has no business time ahead or the
 * deadline would lie past the year 9999. */
int clock_start(pb_clock_t **slot, int kind, const policy_t *pol, const char *dept,
                int64_t limit_ms, double scale, int64_t now);

/* Stops a running clock at now because of action (an Action value, kept in stopped_by); it
 * keeps its level and whether it was met, and records in elapsed_ms the business time it ran on
 * pol's calendar, paused time left out. pol is the clock's own policy; NULL (it could not be
 * read) counts elapsed real time instead. */
void clock_stop(pb_clock_t *k, const policy_t *pol, int action, int64_t now);

/* Whether a stopped clock was stopped by the answer it measures: an acceptance, a pend or a
 * resolution for the response clock, a resolution for the resolution clock, the call for the
 * follow-up. A clock stopped by a dismissal, or replaced by a reassignment, was not answered:
 * it is neither met nor missed. False for NULL and for a running clock. */
bool clock_answered(const pb_clock_t *k);

/* Whether the clock is within its limit at now (the department's allowance at level 0, scaled
 * and moved by pauses): what `met` records when it stops, and what a running clock's limit
 * stands at. An escalation by hand moves the clock up its chain, not its limit. */
bool clock_within_limit(const pb_clock_t *k, int64_t now);

/* Whether action (an Action value) stops a running clock of kind (a ClockKind) in the life of a
 * complaint (DESIGN §3): a dispatch, reassignment or reopening replaces both department
 * clocks and ends the follow-up; an acceptance, a pend or a resolution answers the response
 * clock; a resolution ends the resolution clock; a close ends the follow-up; a dismissal ends
 * them all; and a clock that cannot be moved up its chain is stopped by its escalation. */
bool clock_action_stops(int kind, int action);

/* Completes a clock stopped by a daemon that did not record why or for how long (store schema
 * 2 and before): sets stopped_by to action and elapsed_ms to the business time it ran until
 * stopped_at_ms, computed exactly as clock_stop() computes it (on pol's calendar, paused time
 * left out; pol NULL counts real time). Does nothing to a running clock. */
void clock_backfill(pb_clock_t *k, const policy_t *pol, int action);

/* Pauses a running clock: its remaining business time is kept and its deadlines leave the
 * index. Resuming counts the remaining time from now and adds the paused business time to
 * paused_total_ms. Both return 0 when there is nothing to do, or the calendar's -errno. */
int clock_pause(pb_clock_t *k, const policy_t *pol, int64_t now);
int clock_resume(pb_clock_t *k, const policy_t *pol, int64_t now);

/* The warning of the current level was sent. */
void clock_warned(pb_clock_t *k);

/* The deadline due at `at` passed: the clock goes one level up its chain with the allowance of
 * that level counted from `at`, or, at the top, is due again after the policy's re-alert
 * interval. *ret_realert says which. */
int clock_breach(pb_clock_t *k, const policy_t *pol, int64_t at, bool *ret_realert);

/* A supervisor escalates by hand at now: one level up, counted from now. -EDOM when the clock
 * is already at the top of its chain. */
int clock_escalate(pb_clock_t *k, const policy_t *pol, int64_t now);

/* The word for a ClockKind ("response", "resolution", "follow_up"). */
const char *clock_kind_name(int kind);

#endif
