/* reads.c: get, list, status, replay and backup. See reads.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "access.h"
#include "changes.h"
#include "clock.h"
#include "log.h"
#include "macro.h"
#include "reads.h"

#define RELATED_MAX 100  /* other complaints of the complainant in a get reply */
#define HISTORY_PAGE 100 /* history entries in a get reply unless asked otherwise */

/* A department or supervisor principal replays its own departments' streams; a supervisor
 * only with prefixes it may subscribe to. */
static bool
s_may_replay(const struct config_principal *p, const Complaint__V1__ReplayRequest *q)
{
        if (p->role != ROLE_DEPARTMENT && p->role != ROLE_SUPERVISOR)
                return true;
        if (q->stream[0] == '\0' || !config_principal_covers(p, q->stream))
                return false;
        if (p->role == ROLE_SUPERVISOR && q->n_topic_prefixes == 0)
                return false;
        for (size_t i = 0; i < q->n_topic_prefixes; i++)
                if (!access_may_topic(p, q->topic_prefixes[i], strlen(q->topic_prefixes[i])))
                        return false;
        return true;
}

/* Clock.business_left_ms of a running clock that is not paused: the business time from now to
 * the clock's limit (limit_due_at_ms, the department's limit, which an escalation does not
 * move; due_at_ms for a clock stored before it had one), on the calendar of the clock's own
 * policy; negative, the business time by which the limit is overdue. 0 for any other clock,
 * and when the policy cannot be read (a read does not fail for it). */
static void
s_business_left(struct ctx *x, pb_clock_t *k)
{
        const policy_t *pol = NULL;
        int64_t due, ms = 0;

        if (k == NULL)
                return;
        k->business_left_ms = 0;
        due = k->limit_due_at_ms > 0 ? k->limit_due_at_ms : k->due_at_ms;
        if (!k->running || k->paused || due <= 0)
                return;
        if (store_get_policy(x->txn, x->s->policies, k->policy_id, &pol) < 0 || pol->cal == NULL)
                return;
        if (x->now <= due && calendar_business_time_between(pol->cal, x->now, due, &ms) == 0)
                k->business_left_ms = ms;
        else if (x->now > due && calendar_business_time_between(pol->cal, due, x->now, &ms) == 0)
                k->business_left_ms = -ms;
}

/* Fills business_left_ms in the clocks of a complaint being answered (never stored). */
static void
s_clocks_left(struct ctx *x, pb_complaint_t *c)
{
        s_business_left(x, c->response_clock);
        s_business_left(x, c->resolution_clock);
        s_business_left(x, c->follow_up_clock);
}

int
reads_get(struct ctx *x)
{
        const char *what = NULL;
        int r = store_get_complaint(x->txn, x->req->get->id, &x->c);

        if (r == -ENOENT)
                return request_fail(x, E_NOT_FOUND, "id", "no complaint %" PRIu64, x->req->get->id);
        if (r == 0 && x->principal &&
            !access_may_complaint(x->principal, x->req->body_case, x->c, &what))
                return request_fail(
                    x, E_FORBIDDEN, NULL, "%s (%s) may not %s: complaint %" PRIu64 " is with %s",
                    x->principal->name, config_role_name(x->principal->role), what, x->c->id,
                    x->c->department[0] ? x->c->department : "the centre");
        if (r == 0) {
                const struct config_limits *lim = &x->s->cfg->limits;
                const Complaint__V1__GetRequest *q = x->req->get;
                uint32_t n = q->history_limit ? q->history_limit : HISTORY_PAGE;

                /* A complaint with thousands of notes is read in pages: one get never builds
                 * a reply of megabytes. */
                r = store_get_history_page(x->txn, x->c->id, q->history_after,
                                           n < lim->list_max ? n : lim->list_max, lim->reply,
                                           &x->hist, &x->n_hist, &x->reply.history_next_after);
        }
        if (r == 0)
                r = request_contact_view(x, x->c);
        if (r == 0) {
                char keys[2][CONTACT_KEY_MAX];
                size_t n_keys = changes_contact_keys(x->s, x->c->complainant, keys), n = 0;

                x->related = malloc(2 * CONTACT_SCAN_MAX * sizeof(*x->related));
                r = x->related ? 0 : -ENOMEM;
                if (r == 0)
                        r = changes_complainant_ids(x, keys, n_keys, INT64_MIN, x->c->id,
                                                    x->related, RELATED_MAX, &n);
                /* Who else this complainant is: linkage by phone and e-mail, which is for those
                 * who may see contact details. */
                x->reply.complainant_complaints = x->related;
                x->reply.n_complainant_complaints =
                    r == 0 && (x->principal == NULL || x->principal->contact) ? n : 0;
        }
        if (r < 0)
                return request_store_fail(x, r, "reading a complaint");
        s_clocks_left(x, x->c);
        x->reply.complaint = x->c;
        x->reply.history = x->hist;
        x->reply.n_history = x->n_hist;
        return 0;
}

int
reads_list(struct ctx *x)
{
        const Complaint__V1__ListRequest *q = x->req->list;
        struct store_filter f = {.status = q->status,
                                 .overdue = q->overdue,
                                 .level = q->level,
                                 .max_bytes = x->s->cfg->limits.reply};
        uint32_t limit = q->limit ? q->limit : 50;
        int r;

        if (request_check_text(x, "department", q->department, 64, 0) < 0 ||
            request_check_text(x, "category", q->category, 64, 0) < 0 ||
            request_check_enum(x, "status", q->status, 0, ST_COUNT - 1) < 0)
                return -1;
        if (limit > x->s->cfg->limits.list_max)
                limit = x->s->cfg->limits.list_max;
        f.department = q->department[0] ? q->department : NULL;
        f.category = q->category[0] ? q->category : NULL;
        /* A principal limited to departments lists one of them at a time. */
        if (x->principal &&
            (x->principal->role == ROLE_DEPARTMENT || x->principal->role == ROLE_SUPERVISOR) &&
            (f.department == NULL || !config_principal_covers(x->principal, f.department)))
                return request_fail(x, E_FORBIDDEN, "department",
                                    "%s (%s) may not list complaints outside its departments: "
                                    "name one of them",
                                    x->principal->name, config_role_name(x->principal->role));
        r = store_list(x->txn, &f, q->before_id, limit, x->s->cfg->limits.scan_max, &x->list,
                       &x->n_list, &x->list_reply.next_before_id);
        if (r < 0)
                return request_store_fail(x, r, "listing complaints");
        for (size_t i = 0; i < x->n_list && r == 0; i++) {
                r = request_contact_view(x, x->list[i]);
                s_clocks_left(x, x->list[i]);
        }
        if (r < 0)
                return request_store_fail(x, r, "opening a complainant's details");
        x->list_reply.complaints = x->list;
        x->list_reply.n_complaints = x->n_list;
        x->reply.list = &x->list_reply;
        return 0;
}

int
reads_stream_heads(service_t *s, store_txn_t *txn, Complaint__V1__StreamHead **ret_heads,
                   Complaint__V1__StreamHead ***ret_ptrs, size_t *ret_n)
{
        size_t n = s->cfg->n_departments + 1;
        Complaint__V1__StreamHead *heads = calloc(n, sizeof(*heads));
        Complaint__V1__StreamHead **ptrs = calloc(n, sizeof(*ptrs));
        int r = heads && ptrs ? 0 : -ENOMEM;

        for (size_t i = 0; i < n && r == 0; i++) {
                complaint__v1__stream_head__init(&heads[i]);
                heads[i].stream = i == 0 ? (char *)"" : s->cfg->departments[i - 1].id;
                r = store_stream_head(txn, heads[i].stream, &heads[i].offset);
                ptrs[i] = &heads[i];
        }
        if (r < 0) {
                free(heads);
                free(ptrs);
                return r;
        }
        *ret_heads = heads;
        *ret_ptrs = ptrs;
        *ret_n = n;
        return 0;
}

int
reads_replay(struct ctx *x)
{
        const Complaint__V1__ReplayRequest *q = x->req->replay;
        Complaint__V1__ReplayReply *rp = &x->replay;
        uint32_t limit = q->limit ? q->limit : 256;
        int r;

        if (request_check_text(x, "stream", q->stream, 64, 0) < 0)
                return -1;
        if (q->n_topic_prefixes > 16)
                return request_fail(x, E_TOO_LARGE, "topic_prefixes", "at most 16 topic prefixes");
        for (size_t i = 0; i < q->n_topic_prefixes; i++)
                if (request_check_text(x, "topic_prefixes", q->topic_prefixes[i], 200, 0) < 0)
                        return -1;
        if (limit > x->s->cfg->limits.replay_max)
                limit = x->s->cfg->limits.replay_max;
        if (x->principal && !s_may_replay(x->principal, q))
                return request_fail(x, E_FORBIDDEN, "stream",
                                    "%s (%s) may not replay stream \"%s\"%s", x->principal->name,
                                    config_role_name(x->principal->role), q->stream,
                                    x->principal->role == ROLE_SUPERVISOR
                                        ? " with these prefixes: a supervisor replays its "
                                          "departments' warnings and escalations, by prefix"
                                        : ": a department principal replays its departments'");
        r = store_stream_head(x->txn, q->stream, &rp->head);
        if (r == 0)
                r = store_stream_first(x->txn, q->stream, &rp->first_kept);
        if (r < 0)
                return request_store_fail(x, r, "reading a stream");
        x->reply.replay = rp;
        /* Events after `after_offset` were pruned when the oldest kept is further on. */
        if (rp->first_kept > q->after_offset + 1 ||
            (rp->first_kept == 0 && rp->head > q->after_offset)) {
                rp->next_after = rp->first_kept ? rp->first_kept - 1 : rp->head;
                return request_fail(x, E_GONE, "after_offset",
                                    "events of stream \"%s\" after %" PRIu64 " are no longer kept; "
                                    "resume after %" PRIu64,
                                    q->stream, q->after_offset, rp->next_after);
        }
        r = store_replay(x->txn, q->stream, q->after_offset, q->topic_prefixes, q->n_topic_prefixes,
                         limit, limit * 64, x->s->cfg->limits.reply, &x->events, &x->n_events,
                         &rp->next_after);
        if (r < 0)
                return request_store_fail(x, r, "replaying events");
        rp->events = x->events;
        rp->n_events = x->n_events;
        return 0;
}

int
reads_backup(struct ctx *x, struct service_request *rq)
{
        const char *name = x->req->backup->name;
        const char *dir = x->s->cfg->backup_dir;
        char path[4096];

        if (request_check_text(x, "actor", x->req->actor, x->s->cfg->limits.actor,
                               x->access ? 0 : TEXT_REQUIRED) < 0 ||
            request_check_text(x, "name", name, 100, TEXT_REQUIRED) < 0)
                return -1;
        if (name[0] == '.' || strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                           "0123456789._-") != strlen(name))
                return request_fail(
                    x, E_INVALID_ARGUMENT, "name",
                    "name \"%s\" must be letters, digits, '.', '_' or '-', not starting "
                    "with '.': backups are written inside daemon.backup_dir",
                    name);
        if (dir)
                snprintf(path, sizeof(path), "%s/%s", dir, name);
        else
                snprintf(path, sizeof(path), "%s/backups/%s", x->s->cfg->state_dir, name);
        rq->backup_path = strdup(path);
        rq->request_id = strdup(x->req->request_id);
        if (rq->backup_path == NULL || rq->request_id == NULL) {
                free(rq->backup_path);
                free(rq->request_id);
                rq->backup_path = rq->request_id = NULL;
                return request_fail(x, E_INTERNAL, NULL, "out of memory");
        }
        log_notice("backup to %s requested by %s", path, x->actor);
        free(request_finish(x, &(size_t){0}));
        return 0;
}

uint8_t *
service_backup_reply(const char *request_id, int result, const char *path, uint64_t bytes,
                     int64_t took_ms, uint64_t last_event_seq, size_t *ret_len)
{
        Complaint__V1__BackupReply b = COMPLAINT__V1__BACKUP_REPLY__INIT;
        pb_reply_t reply = COMPLAINT__V1__REPLY__INIT;
        char msg[512] = "";
        uint8_t *buf;

        reply.schema_version = PB_SCHEMA_VERSION;
        reply.request_id = (char *)(uintptr_t)(request_id ? request_id : "");
        b.path = (char *)(uintptr_t)path;
        if (result == 0) {
                b.bytes = bytes;
                b.took_ms = took_ms;
                b.last_event_seq = last_event_seq;
                reply.backup = &b;
        } else {
                reply.error = result == -EEXIST   ? E_INVALID_ARGUMENT
                              : result == -EBUSY  ? COMPLAINT__V1__ERROR_CODE__ERROR_CODE_BUSY
                              : result == -ENOSPC ? E_STORAGE_FULL
                                                  : E_INTERNAL;
                snprintf(msg, sizeof(msg), "backup to %s failed: %s", path,
                         result == -EEXIST  ? "a backup is already there; choose another name"
                         : result == -EBUSY ? "another backup is running"
                                            : strerror(-result));
                reply.message = msg;
        }
        *ret_len = protobuf_c_message_get_packed_size(&reply.base);
        buf = malloc(*ret_len ? *ret_len : 1);
        if (buf)
                protobuf_c_message_pack(&reply.base, buf);
        return buf;
}

int
reads_status(struct ctx *x)
{
        pb_status_reply_t *st = &x->status;
        int r = 0;

        st->version = (char *)COMPLAINTD_VERSION;
        st->started_at_ms = x->s->started_at;
        st->now_ms = x->now;
        st->events_endpoint = x->s->cfg->events;
        st->api_endpoint = x->s->cfg->api;
        st->zone = x->s->cfg->zone;
        st->store_schema = store_schema(x->s->store);
        store_usage(x->s->store, &st->store_used_bytes, &st->store_map_bytes);
        r = store_count(x->txn, ST_NONE, &st->complaints);
        for (int i = 1; i < ST_COUNT && r == 0; i++) {
                complaint__v1__state_count__init(&x->counts[i]);
                x->counts[i].status = i;
                r = store_count(x->txn, i, &x->counts[i].count);
                x->count_ptrs[i - 1] = &x->counts[i];
        }
        if (r == 0)
                r = store_last_event_seq(x->txn, &st->last_event_seq);
        if (r == 0)
                r = store_count_overdue(x->txn, &st->overdue);
        if (r < 0)
                return request_store_fail(x, r, "reading counts");
        st->next_deadline_ms = x->s->next_due;
        r = reads_stream_heads(x->s, x->txn, &x->heads, &x->head_ptrs, &x->n_heads);
        if (r == 0)
                r = store_stream_first(x->txn, "", &st->first_kept_seq);
        if (r < 0)
                return request_store_fail(x, r, "reading stream heads");
        st->heads = x->head_ptrs;
        st->n_heads = x->n_heads;
        st->by_status = x->count_ptrs;
        st->n_by_status = ST_COUNT - 1;
        x->reply.status = st;
        return 0;
}

int
reads_whoami(struct ctx *x)
{
        Complaint__V1__WhoAmIReply *w = &x->whoami;
        const struct config_principal *p = x->principal;

        complaint__v1__who_am_ireply__init(w);
        w->access_control = x->access;
        w->actor = (char *)(uintptr_t)(x->actor ? x->actor : "");
        if (p) {
                w->principal = p->name;
                w->role = (char *)(uintptr_t)config_role_name(p->role);
                w->departments = p->departments;
                w->n_departments = p->n_departments;
                w->levels = p->levels;
                w->n_levels = p->n_levels;
                w->contact = p->contact;
                w->acts_for_people = p->acts_for_people;
        }
        x->reply.whoami = w;
        return 0;
}
