/* clock.c: see clock.h. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

#define K(x) COMPLAINT__V1__CLOCK_KIND__CLOCK_KIND_##x
#define A(x) COMPLAINT__V1__ACTION__ACTION_##x

const char *
clock_kind_name(int kind)
{
        switch (kind) {
        case K(RESPONSE):
                return "response";
        case K(RESOLUTION):
                return "resolution";
        case K(FOLLOW_UP):
                return "follow_up";
        default:
                return "?";
        }
}

/* A fraction or scale of the configuration in millionths, the finest it accepts (config.c):
 * the double holds the decimal written in the file only to within a rounding error, which a
 * product in floating point carries into the result (10 x 0.3 is 3.0000000000000004). */
static int64_t
s_millionths(double v)
{
        if (!(v > 0))
                return 0;
        /* Far above what the configuration allows: a damaged record, kept from overflowing. */
        if (v > 1000)
                return 1000000000;
        return llround(v * 1e6);
}

/* ceil(ms x ppm / 10^6) for ms >= 0 and ppm of at most 10^9, exactly, in integers; INT64_MAX
 * when it does not fit, which the calendar refuses as lying past the year 9999. */
static int64_t
s_mul_ceil(int64_t ms, int64_t ppm)
{
        int64_t whole, part = (ms % 1000000 * ppm + 999999) / 1000000;

        if (__builtin_mul_overflow(ms / 1000000, ppm, &whole) ||
            __builtin_add_overflow(whole, part, &whole))
                return INT64_MAX;
        return whole;
}

/* An allowance scaled by a priority, rounded up to a whole millisecond. No scale (0, a clock
 * of an older store) is 1. At least 1 ms: an allowance of 0 would be due the instant it
 * starts, and a chain of them would climb to its top at once. */
static int64_t
s_scaled(int64_t ms, double scale)
{
        int64_t v = s_mul_ceil(ms, scale > 0 ? s_millionths(scale) : 1000000);

        return v < 1 ? 1 : v;
}

/* Replaces a string of a message freed with free_unpacked(). */
static int
s_set_string(char **field, const char *v)
{
        char *copy = strdup(v);

        if (copy == NULL)
                return -ENOMEM;
        if (*field != protobuf_c_empty_string)
                free(*field);
        *field = copy;
        return 0;
}

/* Puts the clock at level with allowance counted from `from`. */
static int
s_enter_level(pb_clock_t *k, const policy_t *pol, uint32_t level, int64_t allowance, int64_t from)
{
        /* Never before the fraction has passed: ceil, exactly (a truncated floating-point
         * product, 11000 x 0.7 = 7699.999999999999, warned a millisecond early). */
        int64_t warn = s_mul_ceil(allowance, s_millionths(pol->pb->warning));
        int r;

        k->level = level;
        k->allowance_ms = allowance;
        k->level_started_at_ms = from;
        r = s_set_string(&k->role, level == 0 ? "" : pol->pb->chain[level - 1]->role);
        if (r < 0)
                return r;
        if (k->paused) {
                k->remaining_ms = allowance;
                k->warn_remaining_ms = warn;
                k->due_at_ms = 0;
                k->warn_at_ms = 0;
                return 0;
        }
        r = calendar_add_business_time(pol->cal, from, allowance, &k->due_at_ms);
        k->warn_at_ms = 0;
        if (r == 0 && warn > 0)
                r = calendar_add_business_time(pol->cal, from, warn, &k->warn_at_ms);
        if (k->warn_at_ms >= k->due_at_ms)
                k->warn_at_ms = 0;
        return r;
}

int
clock_start(pb_clock_t **slot, int kind, const policy_t *pol, const char *dept, int64_t limit_ms,
            double scale, int64_t now)
{
        pb_clock_t *k = malloc(sizeof(*k));
        int r;

        if (k == NULL)
                return -ENOMEM;
        complaint__v1__clock__init(k);
        k->kind = kind;
        k->running = true;
        k->policy_id = pol->id;
        k->started_at_ms = now;
        k->scale = scale;
        k->chain_levels = (uint32_t)pol->pb->n_chain;
        r = s_set_string(&k->department, dept);
        if (r < 0) {
                complaint__v1__clock__free_unpacked(k, NULL);
                return r;
        }
        r = s_enter_level(k, pol, 0, s_scaled(limit_ms, scale), now);
        if (r < 0) {
                complaint__v1__clock__free_unpacked(k, NULL);
                return r;
        }
        k->limit_due_at_ms = k->due_at_ms;
        if (*slot)
                complaint__v1__clock__free_unpacked(*slot, NULL);
        *slot = k;
        return 0;
}

/* The business time a clock stopped at now ran, paused time left out. */
static int64_t
s_elapsed(const pb_clock_t *k, const policy_t *pol, int64_t now)
{
        int64_t end, ran = 0;

        /* A paused clock stopped: its time ran until the pause. */
        end = k->paused && k->paused_at_ms > 0 ? k->paused_at_ms : now;
        if (pol == NULL ||
            calendar_business_time_between(pol->cal, k->started_at_ms, end, &ran) < 0)
                ran = end - k->started_at_ms;
        ran -= k->paused_total_ms;
        return ran > 0 ? ran : 0;
}

void
clock_stop(pb_clock_t *k, const policy_t *pol, int action, int64_t now)
{
        if (k == NULL || !k->running)
                return;
        k->elapsed_ms = s_elapsed(k, pol, now);
        k->stopped_by = action;
        k->met = clock_within_limit(k, now);
        k->running = false;
        k->stopped_at_ms = now;
        k->due_at_ms = 0;
        k->warn_at_ms = 0;
}

bool
clock_answered(const pb_clock_t *k)
{
        if (k == NULL || k->running)
                return false;
        switch (k->kind) {
        case K(RESPONSE):
                return k->stopped_by == A(ACCEPT) || k->stopped_by == A(PEND) ||
                       k->stopped_by == A(RESOLVE);
        case K(RESOLUTION):
                return k->stopped_by == A(RESOLVE);
        default:
                return k->stopped_by == A(CLOSE);
        }
}

bool
clock_within_limit(const pb_clock_t *k, int64_t now)
{
        if (k->limit_due_at_ms > 0)
                return k->paused ? k->limit_remaining_ms >= 0 : now <= k->limit_due_at_ms;
        /* Started by a daemon that did not record its limit: the limit is level 0's
         * deadline, passed once the clock went up its chain. */
        return k->level == 0 && (k->paused || k->due_at_ms == 0 || now <= k->due_at_ms);
}

bool
clock_action_stops(int kind, int action)
{
        switch (action) {
        case A(ASSIGN):
        case A(REASSIGN):
        case A(REOPEN):
        case A(DISMISS):
        case A(ESCALATE):
                return true;
        case A(ACCEPT):
        case A(PEND):
                return kind == K(RESPONSE);
        case A(RESOLVE):
                return kind == K(RESPONSE) || kind == K(RESOLUTION);
        case A(CLOSE):
                return kind == K(FOLLOW_UP);
        default:
                return false;
        }
}

void
clock_backfill(pb_clock_t *k, const policy_t *pol, int action)
{
        if (k == NULL || k->running)
                return;
        k->elapsed_ms = s_elapsed(k, pol, k->stopped_at_ms);
        k->stopped_by = action;
}

int
clock_pause(pb_clock_t *k, const policy_t *pol, int64_t now)
{
        int r;

        if (k == NULL || !k->running || k->paused)
                return 0;
        r = calendar_business_time_between(pol->cal, now, k->due_at_ms, &k->remaining_ms);
        k->warn_remaining_ms = 0;
        if (r == 0 && k->warn_at_ms > 0)
                r = calendar_business_time_between(pol->cal, now, k->warn_at_ms,
                                                   &k->warn_remaining_ms);
        /* The limit, when the deadlines have moved on from it (escalated by hand). */
        k->limit_remaining_ms = 0;
        if (r == 0 && k->limit_due_at_ms > 0) {
                if (now > k->limit_due_at_ms)
                        k->limit_remaining_ms = -1;
                else
                        r = calendar_business_time_between(pol->cal, now, k->limit_due_at_ms,
                                                           &k->limit_remaining_ms);
        }
        if (r < 0)
                return r;
        k->paused = true;
        k->paused_at_ms = now;
        k->due_at_ms = 0;
        k->warn_at_ms = 0;
        return 0;
}

int
clock_resume(pb_clock_t *k, const policy_t *pol, int64_t now)
{
        int64_t paused = 0;
        int r;

        if (k == NULL || !k->running || !k->paused)
                return 0;
        r = calendar_business_time_between(pol->cal, k->paused_at_ms, now, &paused);
        if (r == 0)
                r = calendar_add_business_time(pol->cal, now, k->remaining_ms, &k->due_at_ms);
        /* A limit that had passed stays passed, at its instant. */
        if (r == 0 && k->limit_due_at_ms > 0 && k->limit_remaining_ms >= 0)
                r = calendar_add_business_time(pol->cal, now, k->limit_remaining_ms,
                                               &k->limit_due_at_ms);
        k->warn_at_ms = 0;
        if (r == 0 && k->warn_remaining_ms > 0)
                r = calendar_add_business_time(pol->cal, now, k->warn_remaining_ms, &k->warn_at_ms);
        if (r < 0)
                return r;
        k->paused_total_ms += paused;
        k->paused = false;
        k->paused_at_ms = 0;
        k->remaining_ms = 0;
        k->warn_remaining_ms = 0;
        k->limit_remaining_ms = 0;
        return 0;
}

void
clock_warned(pb_clock_t *k)
{
        k->warn_at_ms = 0;
        k->warn_remaining_ms = 0;
}

int
clock_breach(pb_clock_t *k, const policy_t *pol, int64_t at, bool *ret_realert)
{
        if (k->level < pol->pb->n_chain) {
                *ret_realert = false;
                return s_enter_level(k, pol, k->level + 1,
                                     s_scaled(pol->pb->chain[k->level]->allowance_ms, k->scale),
                                     at);
        }
        /* Past the top: the same level is alerted again, on business time, until resolved. */
        *ret_realert = true;
        k->alerts++;
        k->warn_at_ms = 0;
        return calendar_add_business_time(pol->cal, at, pol->pb->realert_ms, &k->due_at_ms);
}

int
clock_escalate(pb_clock_t *k, const policy_t *pol, int64_t now)
{
        if (k->level >= pol->pb->n_chain)
                return -EDOM;
        return s_enter_level(k, pol, k->level + 1,
                             s_scaled(pol->pb->chain[k->level]->allowance_ms, k->scale), now);
}
