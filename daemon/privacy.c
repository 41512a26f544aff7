/* privacy.c: erasure on request and by retention (privacy.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "changes.h"
#include "contact.h"
#include "deadlines.h"
#include "log.h"
#include "macro.h"
#include "privacy.h"

#define ERASED STORE_ERASED_TEXT

/* Whether history entry h holds the intake's words: the complaint's first entry, or a note
 * its owner wrote. */
static bool
s_intake_entry(const pb_complaint_t *c, const pb_history_t *h)
{
        return h->action == A(CREATE) || strcmp(h->actor, c->owner) == 0;
}

/* The events of one change that are still kept: the primary one (h->event_seq) and the others
 * a change writes beside it (an old department's, the centre's after it). */
static int
s_erase_events(struct ctx *x, const pb_complaint_t *c, const pb_history_t *h, bool note)
{
        uint64_t first = h->event_seq > 2 ? h->event_seq - 2 : 1;

        for (uint64_t seq = first; h->event_seq && seq <= h->event_seq + 2; seq++) {
                pb_event_t *ev = NULL;
                int r = store_get_event(x->txn, seq, &ev);

                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return r;
                if (ev->entry && ev->entry->complaint_id == c->id && ev->entry->seq == h->seq) {
                        if (ev->complaint)
                                r = request_set_string(&ev->complaint->description, ERASED);
                        if (r == 0 && ev->complaint)
                                ev->complaint->text_erased = true;
                        if (r == 0 && note && ev->entry->note[0])
                                r = request_set_string(&ev->entry->note, ERASED);
                        if (r == 0)
                                r = store_rewrite_event(x->txn, ev);
                }
                complaint__v1__event__free_unpacked(ev, NULL);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The free text the complainant gave, in the history and the events of complaint c. */
static int
s_erase_text(struct ctx *x, const pb_complaint_t *c)
{
        pb_history_t **h = NULL;
        size_t n = 0;
        int r = store_get_history(x->txn, c->id, &h, &n);

        for (size_t i = 0; i < n && r == 0; i++) {
                bool intake = s_intake_entry(c, h[i]) && h[i]->note[0] != '\0';

                if (intake && strcmp(h[i]->note, ERASED) != 0) {
                        r = request_set_string(&h[i]->note, ERASED);
                        if (r == 0)
                                r = store_rewrite_history(x->txn, h[i]);
                }
                if (r == 0)
                        r = s_erase_events(x, c, h[i], intake);
        }
        store_free_history(&h, n);
        return r;
}

/* Erases complaint id: its contact details, and its free text when text is set. *ret_done
 * says whether there was anything left to erase. Returns 0, or -1 with the error reply set. */
static int
s_erase_one(struct ctx *x, uint64_t id, bool text, const char *reason, bool *ret_done)
{
        pb_complaint_t *old = NULL;
        pb_complainant_t *who = NULL;
        char keys[2][CONTACT_KEY_MAX];
        bool contact, words;
        size_t n_keys;
        int r;

        *ret_done = false;
        r = store_get_complaint(x->txn, id, &x->c);
        if (r < 0)
                return request_store_fail(x, r, "reading a complaint to erase");
        contact = x->c->sealed_contact.len > 0;
        words = text && !x->c->text_erased;
        if (!contact && !words)
                goto done;
        if ((r = changes_snapshot(x, &old)) < 0)
                goto done;
        if (contact) {
                r = store_open_contact(x->txn, x->c, &who);
                if (r < 0 && r != -ENOENT) {
                        r = request_store_fail(x, r, "opening the contact details to erase");
                        goto done;
                }
                n_keys = changes_contact_keys(x->s, who, keys);
                for (size_t i = 0; i < n_keys; i++) {
                        r = store_del_contact(x->txn, keys[i], x->c->created_at_ms, id);
                        if (r < 0 && r != -ENOENT) {
                                r = request_store_fail(x, r, "erasing from the contact index");
                                goto done;
                        }
                }
                free(x->c->sealed_contact.data);
                x->c->sealed_contact = (ProtobufCBinaryData){0, NULL};
                x->c->erased_at_ms = x->now;
                /* Its sealed bytes may stay in free pages: the key is replaced in a while. */
                if ((r = store_note_erasure(x->txn)) < 0) {
                        r = request_store_fail(x, r, "counting the erasure");
                        goto done;
                }
        }
        if (words) {
                r = request_set_string(&x->c->description, ERASED);
                if (r == 0)
                        r = s_erase_text(x, x->c);
                if (r < 0) {
                        r = request_store_fail(x, r, "erasing the complaint's text");
                        goto done;
                }
                x->c->text_erased = true;
        }
        r = changes_record(
            x, old,
            &(struct changes_entry){
                .action = A(ERASE), .from = x->c->status, .note = reason, .kind = "erased"});
        *ret_done = r == 0;
done:
        if (who)
                complaint__v1__complainant__free_unpacked(who, NULL);
        if (old)
                complaint__v1__complaint__free_unpacked(old, NULL);
        complaint__v1__complaint__free_unpacked(x->c, NULL);
        x->c = NULL;
        return r < 0 ? r : 0;
}

/* The complaints of the complainant named by q, at most max (+1 to tell there are more). */
static int
s_select(struct ctx *x, const Complaint__V1__EraseRequest *q, uint64_t *ids, size_t max,
         size_t *ret_n)
{
        char keys[2][CONTACT_KEY_MAX];
        size_t n_keys = 0, n = 0;
        pb_complaint_t *c = NULL;
        pb_complainant_t *who = NULL;
        int r;

        if (q->phone[0]) {
                if (contact_phone_key(q->phone, x->s->cfg->country_code, keys[0]) == 0)
                        return request_fail(x, E_INVALID_ARGUMENT, "phone",
                                            "\"%s\" is no phone number a complaint can be filed "
                                            "under (too short, or a placeholder)",
                                            q->phone);
                n_keys = 1;
        } else if (q->email[0]) {
                if (contact_email_key(q->email, keys[0]) == 0)
                        return request_fail(x, E_INVALID_ARGUMENT, "email",
                                            "\"%s\" is no e-mail address", q->email);
                n_keys = 1;
        } else {
                r = store_get_complaint(x->txn, q->id, &c);
                if (r == -ENOENT)
                        return request_fail(x, E_NOT_FOUND, "id", "no complaint %" PRIu64, q->id);
                if (r < 0)
                        return request_store_fail(x, r, "reading the complaint");
                r = store_open_contact(x->txn, c, &who);
                complaint__v1__complaint__free_unpacked(c, NULL);
                if (r < 0 && r != -ENOENT)
                        return request_store_fail(x, r, "opening the complainant's details");
                n_keys = changes_contact_keys(x->s, who, keys);
                if (who)
                        complaint__v1__complainant__free_unpacked(who, NULL);
                ids[n++] = q->id;
        }
        for (size_t i = 0; i < n_keys; i++) {
                size_t m = 0;

                r = store_contact_ids(x->txn, keys[i], INT64_MIN, ids + n, max - n, &m);
                if (r < 0)
                        return request_store_fail(x, r, "reading the contact index");
                /* An id found under both keys, or the named complaint again, counts once. The
                 * new ids sit at ids[n .. n + m); kept ones are moved down to ids[n] on. */
                size_t end = n + m, kept = n;

                for (size_t j = n; j < end; j++) {
                        bool seen = false;

                        for (size_t k = 0; k < kept && !seen; k++)
                                seen = ids[k] == ids[j];
                        if (!seen)
                                ids[kept++] = ids[j];
                }
                n = kept;
        }
        *ret_n = n;
        return 0;
}

int
privacy_erase(struct ctx *x)
{
        const Complaint__V1__EraseRequest *q = x->req->erase;
        const struct config_limits *lim = &x->s->cfg->limits;
        size_t n = 0, done = 0;
        uint64_t *ids;
        int r;

        if (request_check_text(x, "phone", q->phone, lim->phone, 0) < 0 ||
            request_check_text(x, "email", q->email, lim->email, 0) < 0 ||
            request_check_text(x, "reason", q->reason, lim->note, TEXT_MULTILINE | TEXT_REQUIRED) <
                0)
                return -1;
        if ((q->phone[0] != '\0') + (q->email[0] != '\0') + (q->id != 0) != 1)
                return request_fail(x, E_INVALID_ARGUMENT, NULL,
                                    "name the complainant by exactly one of phone, email and id");
        ids = malloc((ERASE_MAX + 2) * sizeof(*ids));
        if (ids == NULL)
                return request_store_fail(x, -ENOMEM, "erasing");
        x->erased_ids = ids;
        if ((r = s_select(x, q, ids, ERASE_MAX + 1, &n)) < 0)
                return r;
        for (size_t i = 0; i < n && i < ERASE_MAX; i++) {
                bool erased;

                if ((r = s_erase_one(x, ids[i], q->text, q->reason, &erased)) < 0)
                        return r;
                if (erased)
                        ids[done++] = ids[i];
        }
        x->erase.erased = (uint32_t)done;
        x->erase.ids = ids;
        x->erase.n_ids = done;
        x->erase.more = n > ERASE_MAX;
        x->reply.erase = &x->erase;
        return 0;
}

/* ------------------------------------------------------------------ retention */

int
service_retain(service_t *s, int64_t now, uint32_t max, struct service_outbox *out, uint32_t *ret_n)
{
        int64_t keep = s->cfg->privacy_retention_ms;
        size_t mark = out->n, n = 0;
        uint32_t done = 0;
        store_txn_t *txn = NULL;
        char reason[96];
        uint64_t *ids;
        int r;

        *ret_n = 0;
        if (keep <= 0)
                return 0;
        ids = malloc(max * sizeof(*ids));
        if (ids == NULL)
                return -ENOMEM;
        r = store_begin(s->store, true, &txn);
        if (r == 0)
                r = store_retain_due(txn, now - keep, ids, max, &n);
        snprintf(reason, sizeof(reason), "privacy.retention: %" PRId64 " days after it ended",
                 keep / 86400000);
        for (size_t i = 0; i < n && r == 0; i++) {
                struct ctx x;
                bool erased = false;

                request_init(&x, s, NULL, out);
                x.kind = "retention";
                x.now = now;
                r = store_begin_nested(txn, &x.txn);
                if (r == 0 && s_erase_one(&x, ids[i], false, reason, &erased) == 0 &&
                    x.reply.error == 0)
                        r = store_commit(&x.txn);
                else if (r == 0)
                        r = x.reply.error == E_STORAGE_FULL ? -ENOSPC : -EIO;
                store_abort(&x.txn);
                free(request_finish(&x, &(size_t){0}));
                done += erased;
        }
        if (r == 0 && n > 0)
                r = store_commit(&txn);
        store_abort(&txn);
        free(ids);
        if (r < 0) {
                request_outbox_truncate(out, mark);
                return r;
        }
        if (out->n > mark) {
                pb_event_t *last = complaint__v1__event__unpack(NULL, out->items[out->n - 1].len,
                                                                out->items[out->n - 1].data);
                if (last) {
                        s->last_event_seq = last->seq;
                        complaint__v1__event__free_unpacked(last, NULL);
                }
        }
        *ret_n = done;
        return 0;
}

/* ------------------------------------------------------------------- rotation */

int
service_rekey(service_t *s, int64_t now, uint32_t max, uint32_t *ret_n, bool *ret_done)
{
        store_txn_t *txn = NULL;
        bool due = false, done = false;
        uint32_t n = 0;
        int r;

        *ret_n = 0;
        *ret_done = false;
        if (!store_rekeying(s->store)) {
                r = store_begin(s->store, true, &txn);
                if (r == 0)
                        r = store_rekey_due(txn, now, s->cfg->privacy_rekey_ms, &due);
                if (r == 0 && due)
                        r = store_rekey_start(txn, now);
                if (r == 0 && due)
                        r = store_commit(&txn);
                store_abort(&txn);
                if (r < 0 || !due)
                        return r;
        }
        r = store_begin(s->store, true, &txn);
        if (r == 0)
                r = store_rekey_step(txn, max, &n, &done);
        if (r == 0)
                r = store_commit(&txn);
        store_abort(&txn);
        if (r == 0 && done)
                r = store_rekey_finish(s->store);
        if (r == 0) {
                *ret_n = n;
                *ret_done = done;
        }
        return r;
}
