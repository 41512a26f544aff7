/* deadlines.c: warnings and escalations as they fall due. See deadlines.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "changes.h"
#include "clock.h"
#include "deadlines.h"
#include "log.h"
#include "macro.h"

int
deadlines_refresh(service_t *s)
{
        struct store_deadline d;
        store_txn_t *txn;
        int r = store_begin(s->store, false, &txn);

        if (r < 0)
                return r;
        r = store_first_deadline(txn, &d);
        store_abort(&txn);
        if (r == -ENOENT) {
                s->next_due = 0;
                return 0;
        }
        if (r < 0)
                return r;
        s->next_due = d.due_ms;
        return 0;
}

int64_t
service_next_deadline(const service_t *s)
{
        /* After a failed batch, not before its retry: a failure does not spin the loop. */
        return s->next_due > 0 && s->next_due < s->fire_retry_at ? s->fire_retry_at : s->next_due;
}

/* The complaint as it was before a deadline moved it. Firing changes the record's scalar fields
 * and its clocks only (clock.c replaces a clock's role as it enters a level), so the snapshot
 * shares everything else with x->c, which outlives it, and owns copies of the clocks: no copy
 * of a record of kilobytes (description, sealed contact, ...) per escalation. */
struct before {
        pb_complaint_t c;
        pb_clock_t clocks[3];
};

static int
s_clock_copy(pb_clock_t **slot, pb_clock_t *copy)
{
        const pb_clock_t *k = *slot;

        if (k == NULL)
                return 0;
        *copy = *k;
        copy->department = strdup(k->department);
        copy->role = strdup(k->role);
        *slot = copy;
        return copy->department && copy->role ? 0 : -ENOMEM;
}

static void
s_before_free(struct before *b)
{
        for (size_t i = 0; i < ELEMENTSOF(b->clocks); i++) {
                free(b->clocks[i].department);
                free(b->clocks[i].role);
        }
}

static int
s_before_take(struct before *b, const pb_complaint_t *c)
{
        int r;

        memset(b, 0, sizeof(*b));
        b->c = *c;
        r = s_clock_copy(&b->c.response_clock, &b->clocks[0]);
        if (r == 0)
                r = s_clock_copy(&b->c.resolution_clock, &b->clocks[1]);
        if (r == 0)
                r = s_clock_copy(&b->c.follow_up_clock, &b->clocks[2]);
        if (r < 0)
                s_before_free(b);
        return r;
}

/* Fires one due deadline: a warning, or an escalation one level up (or a re-alert past the
 * top), recorded at the time it was due. A stale index entry is removed without an event. */
static int
s_fire(struct ctx *x, const struct store_deadline *d)
{
        struct before old;
        pb_clock_t *k = NULL;
        const policy_t *pol;
        struct changes_entry e = {.clock = d->clock, .at = d->due_ms, .note = ""};
        char kind[40], note[160];
        int r = store_get_complaint(x->txn, d->id, &x->c);

        if (r == 0) {
                k = d->clock == K(RESPONSE)     ? x->c->response_clock
                    : d->clock == K(RESOLUTION) ? x->c->resolution_clock
                    : d->clock == K(FOLLOW_UP)  ? x->c->follow_up_clock
                                                : NULL;
        }
        /* Only a complaint read and found not to hold this deadline makes the entry stale: a
         * store that failed to read it must not cost the complaint its escalation. */
        if (r < 0 && r != -ENOENT)
                return request_store_fail(x, r, "reading a complaint");
        if (r == -ENOENT || k == NULL || !k->running || k->paused ||
            (d->type == STORE_DEADLINE_WARN ? k->warn_at_ms : k->due_at_ms) != d->due_ms) {
                log_struct(LOG_WARNING, d->id, NULL, "deadline-stale",
                           "deadline index: stale entry for complaint %" PRIu64 " removed", d->id);
                r = store_delete_deadline(x->txn, d);
                return r < 0 ? request_store_fail(x, r, "cleaning the deadline index") : 0;
        }
        r = store_get_policy(x->txn, x->s->policies, k->policy_id, &pol);
        /* A policy stored nowhere, or that no longer compiles, never will: the entry goes. */
        if (r == -ENOENT || r == -EBADMSG || r == -EINVAL || r == -ERANGE)
                return request_fail(x, E_MISCONFIGURED, NULL,
                                    "the clock's policy %" PRIx64 " cannot be read: %s",
                                    k->policy_id, strerror(-r));
        if (r < 0)
                return request_store_fail(x, r, "reading the clock's policy");
        if (s_before_take(&old, x->c) < 0)
                return request_store_fail(x, -ENOMEM, "copying the complaint");
        e.from = x->c->status;
        if (d->type == STORE_DEADLINE_WARN) {
                clock_warned(k);
                e.action = A(WARN);
                e.level = k->level;
                e.role = k->role;
                e.due_at = k->due_at_ms;
                snprintf(kind, sizeof(kind), "warning/%u", k->level);
                snprintf(note, sizeof(note), "the %s deadline is near", clock_kind_name(k->kind));
        } else {
                bool realert = false;

                r = clock_breach(k, pol, d->due_ms, &realert);
                if (r < 0) {
                        log_struct(LOG_ERR, x->c->id, k->department, "clock-stopped",
                                   "complaint %" PRIu64 ": the %s clock cannot be moved on: %s; "
                                   "it is stopped",
                                   x->c->id, clock_kind_name(k->kind), strerror(-r));
                        clock_stop(k, pol, A(ESCALATE), x->now);
                }
                e.action = A(ESCALATE);
                e.level = k->level;
                e.role = k->role;
                e.realert = realert;
                e.due_at = k->due_at_ms;
                snprintf(kind, sizeof(kind), "escalated/%u", k->level);
                snprintf(note, sizeof(note), "%s the %s deadline passed",
                         realert ? "still open:" : "", clock_kind_name(k->kind));
        }
        e.kind = kind;
        e.note = note[0] == ' ' ? note + 1 : note;
        changes_update_level(x->c);
        r = changes_record(x, &old.c, &e);
        s_before_free(&old);
        /* Debug: a storm fires thousands a second; service_fire_due() sums each batch up. */
        if (r == 0)
                log_struct(LOG_DEBUG, x->c->id, k->department, kind,
                           "complaint %" PRIu64 " (%s): %s %s%s", x->c->id, k->department, kind,
                           clock_kind_name(k->kind), d->due_ms < x->s->started_at ? " (late)" : "");
        return r;
}

int
service_fire_due(service_t *s, int64_t now, uint32_t max, struct service_outbox *out,
                 uint32_t *ret_fired)
{
        size_t mark = out->n;
        uint32_t fired = 0;
        int64_t start_us = mono_us(), commit_us = 0, first_due = 0;
        /* Each deadline in a nested transaction of its own, so that one that cannot be fired
         * is dropped without the rest of the batch: a tenth of a storm's CPU (LMDB copies and
         * merges the dirty list of each). Almost every batch fires every deadline, so a batch
         * is first fired straight in its transaction; when a deadline fails in a way that
         * drops it, the batch is abandoned and fired again from the start the careful way,
         * with the same outcome as if it had been from the first. */
        bool careful = false;
        int r = 0;

        if (now < s->fire_retry_at) {
                *ret_fired = 0;
                return 0;
        }
        for (int tries = 0; tries < GROW_TRIES;) {
                store_txn_t *txn = NULL;
                bool full = false, redo = false;

                int64_t batch_us = mono_us();

                fired = 0;
                r = store_begin(s->store, true, &txn);
                while (r == 0 && fired < max &&
                       (fired == 0 || mono_us() - batch_us < FIRE_BUDGET_MS * 1000)) {
                        struct store_deadline d;
                        struct ctx x;
                        size_t before = out->n;
                        int rf;

                        r = store_first_deadline(txn, &d);
                        if (r == -ENOENT || (r == 0 && d.due_ms > now)) {
                                r = 0;
                                break;
                        }
                        if (r < 0)
                                break;
                        if (fired == 0)
                                first_due = d.due_ms;
                        request_init(&x, s, NULL, out);
                        x.kind = "deadline";
                        x.now = now;
                        if (careful) {
                                r = store_begin_nested(txn, &x.txn);
                        } else {
                                /* Borrowed: request_release() leaves it alone. */
                                x.txn = txn;
                        }
                        if (r < 0) {
                                request_release(&x);
                                break;
                        }
                        rf = s_fire(&x, &d);
                        if (rf == 0 && x.reply.error == E_OK) {
                                if (careful)
                                        r = store_commit(&x.txn);
                        } else if (rf != -ENOSPC && x.reply.error == E_INTERNAL) {
                                /* The store or memory failed, not the entry: keep it, and try
                                 * the batch again later (an I/O error stops the daemon). */
                                if (careful)
                                        store_abort(&x.txn);
                                request_outbox_truncate(out, before);
                                request_release(&x);
                                r = -EAGAIN;
                                break;
                        } else if (!careful) {
                                /* A full map ends the batch either way; anything else drops
                                 * the entry, which takes a nested transaction. */
                                request_release(&x);
                                redo = rf != -ENOSPC;
                                r = rf == -ENOSPC ? -ENOSPC : -ECANCELED;
                                break;
                        } else {
                                /* Never loop on an entry that cannot be fired (its complaint
                                 * or its calendar cannot time it): drop it, and say so. */
                                store_abort(&x.txn);
                                request_outbox_truncate(out, before);
                                r = rf == -ENOSPC ? -ENOSPC : store_delete_deadline(txn, &d);
                                if (rf != -ENOSPC)
                                        log_struct(LOG_ERR, d.id, NULL, "deadline-dropped",
                                                   "complaint %" PRIu64 ": a deadline could not "
                                                   "be fired and was dropped: %s",
                                                   d.id, x.message ? x.message : "store error");
                        }
                        request_release(&x);
                        fired++;
                }
                if (r == 0) {
                        commit_us = mono_us();
                        r = store_commit(&txn);
                        commit_us = mono_us() - commit_us;
                } else {
                        store_abort(&txn);
                }
                full = r == -ENOSPC;
                if (r == 0)
                        break;
                request_outbox_truncate(out, mark);
                if (redo) {
                        careful = true;
                        continue;
                }
                if (!full || store_grow(s->store) < 0)
                        break;
                tries++;
        }
        if (r < 0) {
                log_error("deadlines: a batch could not be %s: %s; trying again in %d ms",
                          r == -EAGAIN ? "fired" : "committed",
                          r == -EAGAIN ? "the store or memory failed" : strerror(-r),
                          FIRE_RETRY_MS);
                s->fire_retry_at = now + FIRE_RETRY_MS;
                fired = 0;
        } else if (out->n > mark) {
                pb_event_t *last = complaint__v1__event__unpack(NULL, out->items[out->n - 1].len,
                                                                out->items[out->n - 1].data);
                if (last) {
                        s->last_event_seq = last->seq;
                        complaint__v1__event__free_unpacked(last, NULL);
                }
        }
        /* One line a batch (of up to FIRE_BATCH), not one a deadline: what a stall needs
         * explained is whether the batch started late (the loop was held up) or took long
         * (CPU or the disk, told apart by the commit's time). */
        if (r == 0 && fired > 0)
                log_info("deadlines: %" PRIu32 " fired, %zu events in %.1f ms (the commit %.1f "
                         "ms), the first %" PRId64 " ms after it fell due",
                         fired, out->n - mark, (double)(mono_us() - start_us) / 1e3,
                         (double)commit_us / 1e3, now - first_due);
        deadlines_refresh(s);
        *ret_fired = fired;
        return r;
}
