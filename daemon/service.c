/* service.c: the batch behind service.h: decoding, the envelope checks, one nested transaction
 * per change with idempotency by request id, group commit, the replies and the outbox; and the
 * service's own life (new, free, reload), heartbeats, pruning and counts. The handlers are in
 * changes.c, reads.c and analysis.c, the firing of deadlines in deadlines.c. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "access.h"
#include "analysis.h"
#include "changes.h"
#include "deadlines.h"
#include "log.h"
#include "macro.h"
#include "policy.h"
#include "reads.h"
#include "request.h"
#include "service.h"

/* ------------------------------------------------------------------- batch */

/* One info line that sums up the commits of changes since the last: how many changes a commit
 * held and how long the longest took, what explains a rate or a stall (the benchmark reads the
 * batch size it achieved from these lines). Written every COMMIT_LOG_MS while changes come, and
 * for the rest when the service ends: a few lines a minute at most. */
static void
s_commits_log(service_t *s)
{
        struct service_commits *c = &s->commits;

        if (c->commits == 0)
                return;
        log_info("store: %" PRIu64 " commits, %" PRIu64 " changes in %.1f s (%.1f a commit, at "
                 "most %" PRIu64 "; the longest commit %.1f ms)",
                 c->commits, c->changes, (double)(mono_ms() - c->since) / 1e3,
                 (double)c->changes / (double)c->commits, c->max_changes,
                 (double)c->longest_us / 1e3);
        *c = (struct service_commits){0};
}

static void
s_commits_note(service_t *s, size_t n_changes, int64_t commit_us)
{
        struct service_commits *c = &s->commits;

        if (c->commits == 0)
                c->since = mono_ms();
        c->commits++;
        c->changes += n_changes;
        if (n_changes > c->max_changes)
                c->max_changes = n_changes;
        if (commit_us > c->longest_us)
                c->longest_us = commit_us;
        if (mono_ms() - c->since >= COMMIT_LOG_MS)
                s_commits_log(s);
}

static bool
s_is_change(const pb_request_t *q)
{
        return q->body_case != BODY(GET) && q->body_case != BODY(LIST) &&
               q->body_case != BODY(STATUS) && q->body_case != BODY(REPLAY) &&
               q->body_case != BODY(BACKUP) && q->body_case != BODY(REPORT) &&
               q->body_case != BODY(LEDGER) && q->body_case != BODY(WHOAMI) &&
               q->body_case != COMPLAINT__V1__REQUEST__BODY__NOT_SET;
}

/* Checks what every request needs before it is looked at: version, actor, request id. */
static int
s_check_envelope(struct ctx *x, bool change, const char *principal_key)
{
        const pb_request_t *q = x->req;
        const struct config_limits *lim = &x->s->cfg->limits;
        const char *kind = x->kind, *what = NULL;

        x->kind = "request";
        if (q->schema_version > PB_SCHEMA_VERSION)
                return request_fail(x, E_UNSUPPORTED_VERSION, "schema_version",
                                    "schema_version %u is newer than this daemon's %d",
                                    q->schema_version, PB_SCHEMA_VERSION);
        if (q->body_case == COMPLAINT__V1__REQUEST__BODY__NOT_SET)
                return request_fail(x, E_BAD_REQUEST, NULL,
                                    "the request has no body (create, get, ...)");
        /* With access control the actor is the principal (or principal:person), whatever the
         * client wrote; so the request's actor is required only without it. */
        x->access = x->s->cfg->access != NULL;
        if (request_check_text(x, "request_id", q->request_id, lim->request_id,
                               change ? TEXT_REQUIRED : 0) < 0 ||
            request_check_text(x, "actor", q->actor, lim->actor,
                               change && !x->access ? TEXT_REQUIRED : 0) < 0)
                return -1;
        if (x->access) {
                x->principal = config_find_principal(x->s->cfg, principal_key);
                if (x->principal == NULL)
                        return request_fail(x, E_FORBIDDEN, NULL,
                                            "the key of this connection is not a principal "
                                            "(any more): every request is refused");
                if (!access_may_request(x->principal, q->body_case, &what))
                        return request_fail(x, E_FORBIDDEN, NULL, "%s (%s) may not %s",
                                            x->principal->name,
                                            config_role_name(x->principal->role), what);
                x->actor = access_actor(x->principal, q->actor, x->actor_buf, sizeof(x->actor_buf));
                if (x->actor == NULL)
                        return request_fail(x, E_TOO_LARGE, "actor", "the actor is too long");
        }
        x->kind = kind;
        return 0;
}

/* Ends the transaction of a change: its own when careful, nothing when it ran straight in the
 * batch's (x->txn is then borrowed). */
static void
s_change_abort(struct ctx *x, bool careful)
{
        if (careful)
                store_abort(&x->txn);
        x->txn = NULL;
}

/* Handles one change, in a nested transaction of parent when careful, else straight in parent.
 * -ENOSPC: the batch must grow. -ECANCELED (only when not careful): the change failed after it
 * had written to parent, or on the store, so the batch must be handled again, carefully. */
static int
s_handle_change(service_t *s, store_txn_t *parent, struct service_request *rq,
                const pb_request_t *q, struct service_outbox *out, bool careful)
{
        struct ctx x;
        uint64_t hash = hash_fnv1a(rq->data, rq->len), stored_hash, writes = store_writes(parent);
        uint8_t *stored = NULL;
        size_t stored_len, mark = out->n;
        int r = 0;

        request_init(&x, s, q, out);
        if (s_check_envelope(&x, true, rq->principal_key) < 0)
                goto reply;
        if (careful)
                r = store_begin_nested(parent, &x.txn);
        else
                x.txn = parent;
        if (r < 0) {
                request_store_fail(&x, r, "starting a transaction");
                goto reply;
        }
        r = store_get_request(x.txn, x.actor, q->request_id, &stored_hash, &stored, &stored_len);
        if (r == 0) {
                pb_reply_t *first;

                s_change_abort(&x, careful);
                if (stored_hash != hash) {
                        free(stored);
                        request_fail(
                            &x, E_REQUEST_ID_REUSED, NULL,
                            "request id \"%s\" of %s was used before for a different request",
                            q->request_id, x.actor);
                        goto reply;
                }
                first = complaint__v1__reply__unpack(NULL, stored_len, stored);
                free(stored);
                if (first == NULL) {
                        request_store_fail(&x, -EBADMSG, "reading a stored reply");
                        goto reply;
                }
                first->replayed = true;
                /* Judged by the principals in force now, not when it was first answered: a
                 * reload may have narrowed what this principal may read. */
                if (x.principal && first->complaint &&
                    !access_may_complaint(x.principal, COMPLAINT__V1__REQUEST__BODY_GET,
                                          first->complaint, &(const char *){NULL})) {
                        complaint__v1__reply__free_unpacked(first, NULL);
                        request_fail(&x, E_FORBIDDEN, NULL,
                                     "%s (%s) may no longer read the complaint this request "
                                     "changed",
                                     x.principal->name, config_role_name(x.principal->role));
                        goto reply;
                }
                /* The complainant as the record has it now, read in the batch's transaction. */
                x.txn = parent;
                r = first->complaint ? request_reply_refill(&x, first->complaint) : 0;
                x.txn = NULL;
                if (r < 0) {
                        complaint__v1__reply__free_unpacked(first, NULL);
                        request_store_fail(&x, r, "opening a complainant's details");
                        goto reply;
                }
                free(request_finish(&x, &rq->reply_len));
                free(rq->reply);
                rq->reply_len = protobuf_c_message_get_packed_size(&first->base);
                rq->reply = malloc(rq->reply_len ? rq->reply_len : 1);
                if (rq->reply)
                        protobuf_c_message_pack(&first->base, rq->reply);
                complaint__v1__reply__free_unpacked(first, NULL);
                return 0;
        }
        if (r != -ENOENT) {
                s_change_abort(&x, careful);
                request_store_fail(&x, r, "reading request ids");
                goto reply;
        }
        r = changes_apply(&x);
        if (r == -ENOSPC) {
                s_change_abort(&x, careful);
                free(request_finish(&x, &rq->reply_len));
                return -ENOSPC;
        }
        if (x.reply.error == E_OK) {
                /* Store the reply as the client will see it, then commit into the batch. */
                size_t len;
                uint8_t *buf;

                x.reply.schema_version = PB_SCHEMA_VERSION;
                x.reply.request_id = q->request_id;
                /* The record after the change, without its complainant and description:
                 * stored replies hold no personal data (a replay takes both from the record as
                 * it is then, so an erasure reaches them too). */
                pb_complaint_t bare = COMPLAINT__V1__COMPLAINT__INIT;
                static char none[1];

                if (x.c) {
                        bare = *x.c;
                        bare.complainant = NULL;
                        bare.description = none;
                        bare.sealed_contact = (ProtobufCBinaryData){0, NULL};
                        x.reply.complaint = &bare;
                }
                x.reply.field = x.field;
                len = protobuf_c_message_get_packed_size(&x.reply.base);
                buf = malloc(len ? len : 1);
                r = buf ? 0 : -ENOMEM;
                if (buf) {
                        protobuf_c_message_pack(&x.reply.base, buf);
                        r = store_put_request(x.txn, x.actor, q->request_id, hash, buf, len, x.now);
                        free(buf);
                }
                /* The live reply: the record as this principal may read it. */
                x.reply.complaint = NULL;
                if (r == 0)
                        r = request_contact_view(&x, x.c);
                if (r == 0 && careful)
                        r = store_commit(&x.txn);
                if (r == -ENOSPC) {
                        s_change_abort(&x, careful);
                        free(request_finish(&x, &rq->reply_len));
                        return -ENOSPC;
                }
                if (r < 0)
                        request_store_fail(&x, r, careful ? "committing" : "storing the reply");
        }
        s_change_abort(&x, careful);
        if (x.reply.error != E_OK)
                request_outbox_truncate(out, mark);
reply:
        /* Straight in the batch's transaction, a change that failed after it wrote, or on the
         * store (LMDB may have marked the transaction failed even on a read), takes the batch
         * round again the careful way. */
        if (!careful && x.reply.error != E_OK &&
            (store_writes(parent) != writes || x.reply.error == E_INTERNAL)) {
                request_outbox_truncate(out, mark);
                free(request_finish(&x, &rq->reply_len));
                return -ECANCELED;
        }
        free(rq->reply);
        rq->reply = request_finish(&x, &rq->reply_len);
        return 0;
}

static void
s_handle_read(service_t *s, store_txn_t *txn, struct service_request *rq, const pb_request_t *q)
{
        struct ctx x;

        request_init(&x, s, q, NULL);
        x.txn = txn;
        if (s_check_envelope(&x, false, rq->principal_key) == 0) {
                if (txn == NULL)
                        request_fail(&x, E_INTERNAL, NULL, "the store cannot be read");
                else if (q->body_case == BODY(GET))
                        reads_get(&x);
                else if (q->body_case == BODY(LIST))
                        reads_list(&x);
                else if (q->body_case == BODY(REPLAY))
                        reads_replay(&x);
                else if (q->body_case == BODY(REPORT))
                        analysis_report(&x);
                else if (q->body_case == BODY(LEDGER))
                        analysis_ledger(&x);
                else if (q->body_case == BODY(BACKUP) && reads_backup(&x, rq) == 0)
                        return; /* answered when the copy is done */
                else if (q->body_case == BODY(WHOAMI))
                        reads_whoami(&x);
                else
                        reads_status(&x);
        }
        free(rq->reply);
        rq->reply = request_finish(&x, &rq->reply_len);
}

static void
s_fail_request(service_t *s, struct service_request *rq, const pb_request_t *q, int code,
               const char *msg)
{
        struct ctx x;

        request_init(&x, s, q, NULL);
        request_fail(&x, code, NULL, "%s", msg);
        free(rq->reply);
        rq->reply = request_finish(&x, &rq->reply_len);
}

/* What the changes of a batch that failed as a whole with r are told, and the log line. An
 * I/O error may have left the commit's outcome unknown: the daemon stops (server.c) and the
 * client retries with the same id, which applies the change once. A full store or disk goes
 * on serving reads, said at most once a minute. */
static const char *
s_batch_failed(service_t *s, int r, size_t n_changes, int *ret_code)
{
        const char *msg;

        if (store_failed(s->store)) {
                *ret_code = E_UNAVAILABLE;
                log_error("store: a batch of %zu changes failed on an I/O error (%s): their "
                          "outcome is unknown",
                          n_changes, strerror(-r));
                return "the store failed while committing: the outcome is unknown; the daemon "
                       "stops and restarts: retry with the same request id";
        }
        if (r != -ENOSPC && r != -EBUSY) {
                *ret_code = E_INTERNAL;
                log_error("store: a batch of %zu changes failed: %s", n_changes, strerror(-r));
                return "the store failed: nothing was changed";
        }
        *ret_code = E_STORAGE_FULL;
        if (store_disk_full(s->store))
                msg = "the disk of the store is full: nothing was changed; reads go on, and "
                      "changes are taken again once there is room";
        else if (r == -EBUSY)
                msg = "the store needs a larger map, which waits for the running backup to "
                      "end: nothing was changed; retry when it is done";
        else
                msg = "the store reached its maximum size (daemon.store_max): nothing was "
                      "changed; reads go on";
        if (mono_ms() >= s->next_full_log) {
                s->next_full_log = mono_ms() + FULL_LOG_INTERVAL_MS;
                log_struct(LOG_ERR, 0, NULL, "store-full", "store: %s (said at most once a minute)",
                           msg);
        }
        return msg;
}

int
service_handle_batch(service_t *s, struct service_request *reqs, size_t n,
                     struct service_outbox *out)
{
        pb_request_t **decoded = calloc(n ? n : 1, sizeof(*decoded));
        size_t n_changes = 0, mark = out->n;
        store_txn_t *txn = NULL;
        int64_t reads_start, commit_us = 0;
        bool careful = false;
        int r = 0;

        if (decoded == NULL)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                reqs[i].reply = NULL;
                decoded[i] = complaint__v1__request__unpack(NULL, reqs[i].len, reqs[i].data);
                if (decoded[i] == NULL)
                        s_fail_request(s, &reqs[i], NULL, E_BAD_REQUEST,
                                       "not a complaint.v1.Request: the bytes do not decode");
                else if (s_is_change(decoded[i]))
                        n_changes++;
        }

        /* Changes: one write transaction for the whole batch, grown and retried when full.
         * Each change needs a nested transaction only so that one that fails after it wrote
         * leaves nothing behind; beginning and merging them (LMDB copies every page the change
         * touches that the batch had written already) was a third of the intake's CPU. Almost
         * every change either succeeds or fails before it writes, so a batch is first handled
         * straight in its transaction; when a change fails after writing, the batch is
         * abandoned and handled again from the start the careful way, which gives what it would
         * have given from the first. */
        for (int tries = 0; n_changes > 0 && tries < GROW_TRIES; tries++) {
                bool full = false, redo = false;

                r = store_begin(s->store, true, &txn);
                for (size_t i = 0; r == 0 && i < n && !full && !redo; i++) {
                        if (decoded[i] == NULL || !s_is_change(decoded[i]))
                                continue;
                        int rc = s_handle_change(s, txn, &reqs[i], decoded[i], out, careful);
                        full = rc == -ENOSPC;
                        redo = rc == -ECANCELED;
                }
                if (redo) {
                        store_abort(&txn);
                        request_outbox_truncate(out, mark);
                        careful = true;
                        s->batches_redone++;
                        tries--; /* not a try at growing the map */
                        continue;
                }
                if (r == 0 && !full) {
                        commit_us = mono_us();
                        r = store_commit(&txn);
                        commit_us = mono_us() - commit_us;
                        full = r == -ENOSPC;
                } else {
                        store_abort(&txn);
                }
                if (r == 0 && !full)
                        break;
                request_outbox_truncate(out, mark);
                if (!full)
                        break;
                /* The last try found the map full again: the batch does not fit. */
                r = tries + 1 < GROW_TRIES ? store_grow(s->store) : -ENOSPC;
                if (r < 0)
                        break;
                log_info("store: grew the map to make room");
        }
        if (n_changes > 0 && r < 0) {
                int code;
                const char *msg = s_batch_failed(s, r, n_changes, &code);

                for (size_t i = 0; i < n; i++)
                        if (decoded[i] && s_is_change(decoded[i]))
                                s_fail_request(s, &reqs[i], decoded[i], code, msg);
        } else if (out->n > mark) {
                pb_event_t *last = NULL;

                /* Remember the head for heartbeats without another read. */
                last = complaint__v1__event__unpack(NULL, out->items[out->n - 1].len,
                                                    out->items[out->n - 1].data);
                if (last) {
                        s->last_event_seq = last->seq;
                        complaint__v1__event__free_unpacked(last, NULL);
                }
        }

        if (n_changes > 0 && r == 0) {
                s_commits_note(s, n_changes, commit_us);
                deadlines_refresh(s);
        }
        reads_start = mono_ms();

        /* Reads: after the changes commit, so a client sees its own writes. Each is bounded
         * (pages, scan limits), and together they get a budget of time, so that a burst of
         * expensive reads holds up deadlines and heartbeats by tens of milliseconds at most;
         * what is left waits for the next turn of the loop. */
        txn = NULL;
        for (size_t i = 0, done = 0; i < n; i++) {
                reqs[i].deferred = false;
                if (decoded[i] == NULL || s_is_change(decoded[i]))
                        continue;
                if (done > 0 && mono_ms() - reads_start >= s->cfg->read_budget_ms) {
                        reqs[i].deferred = true;
                        continue;
                }
                if (txn == NULL && store_begin(s->store, false, &txn) < 0)
                        txn = NULL;
                s_handle_read(s, txn, &reqs[i], decoded[i]);
                done++;
        }
        store_abort(&txn);
        for (size_t i = 0; i < n; i++)
                if (decoded[i])
                        complaint__v1__request__free_unpacked(decoded[i], NULL);
        free(decoded);
        return n_changes > 0 && r < 0 ? r : 0;
}

/* ------------------------------------------------------------------- misc */

void
service_outbox_clear(struct service_outbox *out)
{
        request_outbox_truncate(out, 0);
}

uint8_t *
service_error_reply(int code, const char *message, const uint8_t *request, size_t request_len,
                    size_t *ret_len)
{
        pb_reply_t reply = COMPLAINT__V1__REPLY__INIT;
        pb_request_t *q = NULL;
        uint8_t *buf;

        /* A request refused whole may still decode: its id lets a DEALER client match the
         * answer. Decoding is bounded by what ZeroMQ lets in (ZMQ_MAXMSGSIZE). */
        if (request)
                q = complaint__v1__request__unpack(NULL, request_len, request);
        reply.schema_version = PB_SCHEMA_VERSION;
        reply.error = code;
        reply.message = (char *)(uintptr_t)message;
        if (q && q->request_id && request_utf8_valid(q->request_id))
                reply.request_id = q->request_id;
        *ret_len = protobuf_c_message_get_packed_size(&reply.base);
        buf = malloc(*ret_len ? *ret_len : 1);
        if (buf)
                protobuf_c_message_pack(&reply.base, buf);
        if (q)
                complaint__v1__request__free_unpacked(q, NULL);
        return buf;
}

int
service_heartbeat(service_t *s, struct service_event *ret)
{
        pb_event_t ev = COMPLAINT__V1__EVENT__INIT;
        Complaint__V1__StreamHead *heads = NULL, **ptrs = NULL;
        store_txn_t *txn;
        int r;

        ev.schema_version = PB_SCHEMA_VERSION;
        ev.seq = s->last_event_seq;
        ev.topic = (char *)"_heartbeat";
        ev.at_ms = now_ms();
        ev.heartbeat = true;
        r = store_begin(s->store, false, &txn);
        if (r == 0) {
                r = reads_stream_heads(s, txn, &heads, &ptrs, &ev.n_heads);
                store_abort(&txn);
        }
        if (r < 0)
                return r;
        ev.heads = ptrs;
        ret->len = protobuf_c_message_get_packed_size(&ev.base);
        ret->data = malloc(ret->len);
        ret->topic = strdup(ev.topic);
        if (ret->data == NULL || ret->topic == NULL) {
                free(ret->data);
                free(ret->topic);
                r = -ENOMEM;
        } else {
                protobuf_c_message_pack(&ev.base, ret->data);
        }
        free(heads);
        free(ptrs);
        return r;
}

int
service_prune_events(service_t *s, uint32_t max, uint32_t *ret_n)
{
        store_txn_t *txn;
        int64_t keep;
        int r = store_begin(s->store, true, &txn);

        *ret_n = 0;
        if (r < 0)
                return r;
        /* No event outlives privacy.retention: they carry the intake's notes. */
        keep = s->cfg->keep_events_ms;
        if (s->cfg->privacy_retention_ms > 0 && s->cfg->privacy_retention_ms < keep)
                keep = s->cfg->privacy_retention_ms;
        r = store_prune_events(txn, s->cfg->keep_events, now_ms() - keep, max, ret_n);
        if (r == 0 && *ret_n > 0)
                r = store_commit(&txn);
        store_abort(&txn);
        return r;
}

int
service_prune_requests(service_t *s, uint32_t max, uint32_t *ret_n)
{
        store_txn_t *txn;
        uint32_t n = 0;
        int r = store_begin(s->store, true, &txn);

        if (r < 0)
                return r;
        r = store_prune_requests(txn, now_ms() - s->cfg->idempotency_window_ms, max, &n);
        if (r == 0 && n > 0)
                r = store_commit(&txn);
        store_abort(&txn);
        if (r == 0)
                *ret_n = n;
        return r;
}

uint64_t
service_last_event_seq(const service_t *s)
{
        return s->last_event_seq;
}

int
service_new(store_t *store, const conf_t *cfg, service_t **ret)
{
        service_t *s = calloc(1, sizeof(*s));
        store_txn_t *txn;
        int r;

        if (s == NULL)
                return -ENOMEM;
        s->store = store;
        s->cfg = cfg;
        s->started_at = now_ms();
        r = policies_new(&s->policies);
        if (r == 0)
                r = store_begin(store, false, &txn);
        if (r == 0) {
                r = store_last_event_seq(txn, &s->last_event_seq);
                store_abort(&txn);
        }
        if (r == 0)
                r = deadlines_refresh(s);
        if (r < 0) {
                policies_free(&s->policies);
                free(s);
                return r;
        }
        *ret = s;
        return 0;
}

void
service_free(service_t **s)
{
        if (*s == NULL)
                return;
        s_commits_log(*s);
        policies_free(&(*s)->policies);
        free(*s);
        *s = NULL;
}

void
service_set_config(service_t *s, const conf_t *cfg)
{
        s->cfg = cfg;
}

int
service_counts(service_t *s, uint64_t *ret_open, uint64_t *ret_overdue)
{
        store_txn_t *txn = NULL;
        uint64_t all = 0, closed = 0, dismissed = 0, overdue = 0;
        int r = store_begin(s->store, false, &txn);

        if (r < 0)
                return r;
        r = store_count(txn, ST_NONE, &all);
        if (r == 0)
                r = store_count(txn, ST_CLOSED, &closed);
        if (r == 0)
                r = store_count(txn, ST_DISMISSED, &dismissed);
        if (r == 0)
                r = store_count_overdue(txn, &overdue);
        store_abort(&txn);
        if (r < 0)
                return r;
        *ret_open = all - closed - dismissed;
        *ret_overdue = overdue;
        return 0;
}
