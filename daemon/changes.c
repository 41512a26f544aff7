/* changes.c: the changes of a complaint and the clocks they move. See changes.h. */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "access.h"
#include "changes.h"
#include "clock.h"
#include "lifecycle.h"
#include "macro.h"
#include "privacy.h"

/* ------------------------------------------------------------------ clocks */

/* The limit of a clock in department dept for this complaint: the category's override, else
 * the department's; 0 when that clock does not run there. */
static int64_t
s_limit(struct ctx *x, const struct config_department *dep, int kind)
{
        const struct config_category *cat = config_find_category(x->s->cfg, x->c->category);

        if (kind == K(FOLLOW_UP))
                return x->s->cfg->followup_ms;
        if (kind == K(RESPONSE))
                return cat && cat->response_ms ? cat->response_ms : dep->response_ms;
        return cat && cat->resolution_ms ? cat->resolution_ms : dep->resolution_ms;
}

/* Stops a running clock for action, counting the business time it ran on its own policy. */
static void
s_stop_clock(struct ctx *x, pb_clock_t *k, int action)
{
        const policy_t *pol = NULL;

        if (k == NULL || !k->running)
                return;
        if (store_get_policy(x->txn, x->s->policies, k->policy_id, &pol) < 0)
                pol = NULL;
        clock_stop(k, pol, action, x->now);
}

/* A clock that cannot be computed on its calendar: -ERANGE means the calendar has no business
 * time within the search horizon (a policy stored before such calendars were refused, or an
 * allowance past year 9999), which no retry mends; anything else is the daemon's failure. */
static int
s_clock_fail(struct ctx *x, int r, const char *what, const char *dept)
{
        if (r == -ERANGE)
                return request_fail(x, E_MISCONFIGURED, NULL,
                                    "cannot %s: the calendar of %s has no business time within "
                                    "400 days of it, or the allowance runs past year 9999; "
                                    "retrying fails until the configuration is fixed",
                                    what, dept);
        return request_fail(x, E_INTERNAL, NULL, "cannot %s on %s's calendar: %s", what, dept,
                            strerror(-r));
}

/* A clock the department now responsible does not run: the one in the slot measured another
 * department (or an earlier round) and is gone from the record; the history keeps what it
 * did. Kept, it would stand in the report and the ledger for a department that never had it. */
static int
s_drop_clock(pb_clock_t **slot)
{
        if (*slot)
                complaint__v1__clock__free_unpacked(*slot, NULL);
        *slot = NULL;
        return 0;
}

/* Starts a clock of kind for dept under the policy in force now; a department without a
 * calendar or without that limit runs no such clock (and one left from before is stopped,
 * for action). */
static int
s_start_clock(struct ctx *x, pb_clock_t **slot, int kind, const char *dept, int action)
{
        const struct config_department *dep = config_find_department(x->s->cfg, dept);
        const policy_t *pol;
        int64_t limit;
        int r;

        s_stop_clock(x, *slot, action);
        if (dep == NULL || (limit = s_limit(x, dep, kind)) == 0)
                return s_drop_clock(slot);
        r = store_current_policy(x->txn, x->s->policies, x->s->cfg, dept, &pol);
        if (r == -ENOENT)
                return s_drop_clock(slot);
        if (r < 0)
                return request_store_fail(x, r, "storing the department's policy");
        r = clock_start(slot, kind, pol, dept, limit, x->s->cfg->priority_scale[x->c->priority & 3],
                        x->now);
        if (r < 0) {
                char what[64];

                snprintf(what, sizeof(what), "compute the %s deadline", clock_kind_name(kind));
                return s_clock_fail(x, r, what, dept);
        }
        return 0;
}

static int
s_pause_clock(struct ctx *x, pb_clock_t *k, bool pause)
{
        const policy_t *pol;
        int r;

        if (k == NULL || !k->running)
                return 0;
        r = store_get_policy(x->txn, x->s->policies, k->policy_id, &pol);
        if (r < 0)
                return request_store_fail(x, r, "reading the clock's policy");
        r = pause ? clock_pause(k, pol, x->now) : clock_resume(k, pol, x->now);
        if (r < 0) {
                char what[64];

                snprintf(what, sizeof(what), "%s the %s clock", pause ? "pause" : "resume",
                         clock_kind_name(k->kind));
                return s_clock_fail(x, r, what, k->department);
        }
        return 0;
}

void
changes_update_level(pb_complaint_t *c)
{
        const pb_clock_t *clocks[] = {c->response_clock, c->resolution_clock, c->follow_up_clock};

        c->level = 0;
        for (size_t i = 0; i < ELEMENTSOF(clocks); i++)
                if (clocks[i] && clocks[i]->running && clocks[i]->level > c->level)
                        c->level = clocks[i]->level;
        if (c->level > c->max_level)
                c->max_level = c->level;
}

/* Moves the complaint's clocks for a change of state (DESIGN §3). */
static int
s_clocks(struct ctx *x, int action)
{
        pb_complaint_t *c = x->c;
        int r = 0;

        switch (action) {
        case A(ASSIGN):
        case A(REASSIGN):
        case A(REOPEN):
                /* A new department, or a fresh start: both clocks at level 0. A reopened
                 * complaint owes a new follow-up call: the last one's clock is history. */
                s_stop_clock(x, c->follow_up_clock, action);
                if (action == A(REOPEN))
                        s_drop_clock(&c->follow_up_clock);
                r = s_start_clock(x, &c->response_clock, K(RESPONSE), c->department, action);
                if (r == 0)
                        r = s_start_clock(x, &c->resolution_clock, K(RESOLUTION), c->department,
                                          action);
                break;
        case A(ACCEPT):
                s_stop_clock(x, c->response_clock, action);
                break;
        case A(PEND):
                /* Waiting on the complainant: the department has answered, and the resolution
                 * clock stops counting until it resumes. */
                s_stop_clock(x, c->response_clock, action);
                r = s_pause_clock(x, c->resolution_clock, true);
                break;
        case A(RESUME):
                r = s_pause_clock(x, c->resolution_clock, false);
                break;
        case A(RESOLVE):
                s_stop_clock(x, c->response_clock, action);
                s_stop_clock(x, c->resolution_clock, action);
                r = s_start_clock(x, &c->follow_up_clock, K(FOLLOW_UP), x->s->cfg->centre, action);
                break;
        case A(CLOSE):
                s_stop_clock(x, c->follow_up_clock, action);
                break;
        case A(DISMISS):
                s_stop_clock(x, c->response_clock, action);
                s_stop_clock(x, c->resolution_clock, action);
                s_stop_clock(x, c->follow_up_clock, action);
                break;
        default:
                break;
        }
        changes_update_level(c);
        return r;
}

/* ---------------------------------------------------------------- records */

/* The stream a complaint's events go to: its department's, the centre's before it has one. */
static const char *
s_topic_department(struct ctx *x)
{
        return x->c->department[0] ? x->c->department : x->s->cfg->centre;
}

int
changes_record(struct ctx *x, const pb_complaint_t *old, const struct changes_entry *e)
{
        pb_history_t h = COMPLAINT__V1__HISTORY_ENTRY__INIT;
        int64_t at = e->at ? e->at : x->now;
        int r;

        if ((r = s_clocks(x, e->action)) < 0)
                return r;
        /* When it ended: privacy.retention counts from here. */
        if (x->c->status != ST_CLOSED && x->c->status != ST_DISMISSED)
                x->c->ended_at_ms = 0;
        else if (old == NULL || (old->status != ST_CLOSED && old->status != ST_DISMISSED))
                x->c->ended_at_ms = x->now;
        x->c->history_count++;
        x->c->updated_at_ms = x->now;
        h.complaint_id = x->c->id;
        h.seq = x->c->history_count;
        h.at_ms = at;
        h.actor = (char *)(uintptr_t)x->actor;
        h.action = e->action;
        h.from_status = e->from;
        h.to_status = x->c->status;
        h.department = x->c->department;
        h.from_department = (char *)(uintptr_t)(e->from_dept ? e->from_dept : "");
        h.note = (char *)(uintptr_t)(e->note ? e->note : "");
        h.level = e->level;
        h.clock = e->clock;
        h.role = (char *)(uintptr_t)(e->role ? e->role : "");
        h.realert = e->realert;
        h.due_at_ms = e->due_at;
        /* Late: it fell due while the daemon was down. Recorded after its time for any reason
         * (down, or a backlog of deadlines due together): when it was recorded, so that the
         * lateness is recorded_at_ms - at_ms. */
        if (e->at && e->at < x->now)
                h.recorded_at_ms = x->now;
        h.late = e->at && e->at < x->s->started_at;
        /* Each event carries the entry with its own seq (request_event()); the entry kept in
         * the history names its primary event, the one on the department now responsible. */
        if (e->extra_dept && (r = request_event(x, &h, e->extra_dept, e->extra_kind)) < 0)
                return r;
        if ((r = request_event(x, &h,
                               e->clock == K(FOLLOW_UP) ? x->s->cfg->centre : s_topic_department(x),
                               e->kind)) < 0)
                return r;
        h.event_seq = x->reply.event_seq;
        if (e->after_kind && (r = request_event(x, &h, x->s->cfg->centre, e->after_kind)) < 0)
                return r;
        if ((r = store_put_history(x->txn, &h)) < 0)
                return request_store_fail(x, r, "appending to the history");
        if ((r = store_put_complaint(x->txn, x->c, old)) < 0)
                return request_store_fail(x, r, "writing the complaint");
        return 0;
}

/* Loads the complaint a change is about, and checks the action is allowed in its state. */
static int
s_load(struct ctx *x, uint64_t id, int action, int *ret_next)
{
        const char *what = NULL;
        char allowed[160];
        int r;

        if (id == 0)
                return request_fail(x, E_INVALID_ARGUMENT, "id", "id is required");
        r = store_get_complaint(x->txn, id, &x->c);
        if (r == -ENOENT)
                return request_fail(x, E_NOT_FOUND, "id", "no complaint %" PRIu64, id);
        if (r < 0)
                return request_store_fail(x, r, "reading the complaint");
        if (x->principal && !access_may_complaint(x->principal, x->req->body_case, x->c, &what))
                return request_fail(x, E_FORBIDDEN, NULL,
                                    "%s (%s) may not %s: complaint %" PRIu64 " is with %s",
                                    x->principal->name, config_role_name(x->principal->role), what,
                                    id, x->c->department[0] ? x->c->department : "the centre");
        r = lifecycle_next(x->c->status, action, ret_next);
        if (r < 0)
                return request_fail(x, E_INVALID_TRANSITION, NULL,
                                    "complaint %" PRIu64 " is %s: cannot %s it; allowed: %s", id,
                                    pb_status_name(x->c->status), lifecycle_action_word(action),
                                    lifecycle_allowed(x->c->status, allowed, sizeof(allowed)));
        return 0;
}

int
changes_snapshot(struct ctx *x, pb_complaint_t **ret)
{
        size_t len = protobuf_c_message_get_packed_size(&x->c->base);
        _cleanup_free_ uint8_t *buf = malloc(len ? len : 1);

        if (buf == NULL)
                return request_store_fail(x, -ENOMEM, "copying the complaint");
        protobuf_c_message_pack(&x->c->base, buf);
        *ret = complaint__v1__complaint__unpack(NULL, len, buf);
        if (*ret == NULL)
                return request_store_fail(x, -ENOMEM, "copying the complaint");
        return 0;
}

#define NOTE_MAX (x->s->cfg->limits.note)

/* The common shape of a state change: load, check, apply, record. */
struct change {
        uint64_t id;
        int action;
        const char *note;
        bool note_required;
        const char *kind;
};

static int
s_note_ok(struct ctx *x, const char *field, const char *note, bool required)
{
        return request_check_text(x, field, note, NOTE_MAX,
                                  TEXT_MULTILINE | (required ? TEXT_REQUIRED : 0));
}

/* ------------------------------------------------------ repeat complainants */

size_t
changes_contact_keys(const service_t *s, const pb_complainant_t *who, char keys[2][CONTACT_KEY_MAX])
{
        size_t n = 0;

        if (who == NULL)
                return 0;
        if (contact_phone_key(who->phone, s->cfg->country_code, keys[n]) > 0)
                n++;
        if (contact_email_key(who->email, keys[n]) > 0)
                n++;
        return n;
}

static int
s_cmp_id_desc(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

        return x < y ? 1 : x > y ? -1 : 0;
}

int
changes_complainant_ids(struct ctx *x, char keys[2][CONTACT_KEY_MAX], size_t n_keys,
                        int64_t since_ms, uint64_t self, uint64_t *ids, size_t max, size_t *ret_n)
{
        size_t n = 0, kept = 0;

        for (size_t i = 0; i < n_keys; i++) {
                size_t m = 0;
                int r = store_contact_ids(x->txn, keys[i], since_ms, ids + n, CONTACT_SCAN_MAX, &m);

                if (r < 0)
                        return r;
                n += m;
        }
        qsort(ids, n, sizeof(*ids), s_cmp_id_desc);
        for (size_t i = 0; i < n && kept < max; i++)
                if (ids[i] != self && (kept == 0 || ids[kept - 1] != ids[i]))
                        ids[kept++] = ids[i];
        *ret_n = kept;
        return 0;
}

/* At intake: links the new complaint to its complainant's earlier ones, counts those within
 * the repeat window, and flags it when there are more than the threshold (itself included). */
static int
s_repeat(struct ctx *x)
{
        char keys[2][CONTACT_KEY_MAX];
        size_t n_keys = changes_contact_keys(x->s, x->c->complainant, keys), n = 0;
        uint64_t ids[2 * CONTACT_SCAN_MAX];
        int r;

        if (n_keys == 0)
                return 0;
        r = changes_complainant_ids(x, keys, n_keys, x->now - x->s->cfg->repeat_window_ms, x->c->id,
                                    ids, ELEMENTSOF(ids), &n);
        for (size_t i = 0; i < n_keys && r == 0; i++)
                r = store_put_contact(x->txn, keys[i], x->c->created_at_ms, x->c->id);
        if (r < 0)
                return request_store_fail(x, r, "indexing the complainant's contact");
        x->c->repeat_count = (uint32_t)n + 1;
        x->c->repeat =
            x->s->cfg->repeat_threshold > 0 && x->c->repeat_count > x->s->cfg->repeat_threshold;
        return 0;
}

/* ---------------------------------------------------------------- handlers */

static int
s_create(struct ctx *x)
{
        const Complaint__V1__CreateRequest *q = x->req->create;
        const struct config_limits *lim = &x->s->cfg->limits;
        const pb_complainant_t *who = q->complainant;
        pb_complainant_t *contact;
        uint64_t id;
        int r;

        /* 0 is proto3's "not sent": the channel has no default. */
        if (q->channel == 0)
                return request_fail(x, E_INVALID_ARGUMENT, "channel", "the channel is required");
        if (request_check_enum(x, "channel", q->channel, 1, 7) < 0 ||
            request_check_enum(x, "nature", q->nature, 0, 4) < 0 ||
            request_check_enum(x, "priority", q->priority, 0, 3) < 0)
                return -1;
        if (request_check_text(x, "subject", q->subject, lim->subject, TEXT_REQUIRED) < 0 ||
            request_check_text(x, "description", q->description, lim->description,
                               TEXT_MULTILINE | TEXT_REQUIRED) < 0 ||
            request_check_text(x, "category", q->category, 64, TEXT_REQUIRED) < 0 ||
            request_check_text(x, "external_ref", q->external_ref, lim->external_ref, 0) < 0 ||
            s_note_ok(x, "note", q->note, false) < 0)
                return -1;
        if (config_find_category(x->s->cfg, q->category) == NULL)
                return request_fail(x, E_UNKNOWN_REFERENCE, "category", "unknown category \"%s\"",
                                    q->category);
        if (who == NULL)
                return request_fail(
                    x, E_INVALID_ARGUMENT, "complainant",
                    "complainant is required: a phone, e-mail or address to reply to");
        if (request_check_text(x, "complainant.name", who->name, lim->name, 0) < 0 ||
            request_check_text(x, "complainant.phone", who->phone, lim->phone, 0) < 0 ||
            request_check_text(x, "complainant.email", who->email, lim->email, 0) < 0 ||
            request_check_text(x, "complainant.address", who->address, lim->address,
                               TEXT_MULTILINE) < 0)
                return -1;
        if (!who->phone[0] && !who->email[0] && !who->address[0])
                return request_fail(x, E_INVALID_ARGUMENT, "complainant",
                                    "complainant needs a phone, e-mail or address: every complaint "
                                    "gets a reply");
        if (who->email[0] && (strchr(who->email, '@') == NULL || strchr(who->email, ' ')))
                return request_fail(x, E_INVALID_ARGUMENT, "complainant.email",
                                    "complainant.email \"%s\" is not an e-mail address",
                                    who->email);
        if (who->phone[0] && strspn(who->phone, "0123456789+-() .") != strlen(who->phone))
                return request_fail(x, E_INVALID_ARGUMENT, "complainant.phone",
                                    "complainant.phone may hold only digits, spaces and + - ( ) .");

        if ((r = store_next_complaint_id(x->txn, &id)) < 0)
                return request_store_fail(x, r, "numbering the complaint");
        x->c = malloc(sizeof(*x->c));
        contact = malloc(sizeof(*contact));
        if (x->c == NULL || contact == NULL) {
                free(contact);
                return request_store_fail(x, -ENOMEM, "building the complaint");
        }
        complaint__v1__complaint__init(x->c);
        complaint__v1__complainant__init(contact);
        x->c->complainant = contact;
        x->c->id = id;
        x->c->status = ST_NEW;
        x->c->channel = q->channel;
        x->c->nature = q->nature ? q->nature : COMPLAINT__V1__NATURE__NATURE_VALID;
        x->c->priority = q->priority ? q->priority : COMPLAINT__V1__PRIORITY__PRIORITY_NORMAL;
        x->c->created_at_ms = x->now;
        if (request_set_string(&contact->name, who->name) < 0 ||
            request_set_string(&contact->phone, who->phone) < 0 ||
            request_set_string(&contact->email, who->email) < 0 ||
            request_set_string(&contact->address, who->address) < 0 ||
            request_set_string(&x->c->subject, q->subject) < 0 ||
            request_set_string(&x->c->description, q->description) < 0 ||
            request_set_string(&x->c->category, q->category) < 0 ||
            request_set_string(&x->c->owner, x->actor) < 0 ||
            request_set_string(&x->c->external_ref, q->external_ref) < 0)
                return request_store_fail(x, -ENOMEM, "building the complaint");
        if ((r = s_repeat(x)) < 0)
                return r;
        r = changes_record(x, NULL,
                           &(struct changes_entry){.action = A(CREATE),
                                                   .note = q->note,
                                                   .kind = "created",
                                                   .after_kind = x->c->repeat ? "flagged" : NULL});
        return r;
}

/* The department a complaint goes to: the one named, else fallback, else its category's. */
static int
s_pick_department(struct ctx *x, const char *named, const char *fallback, const char **ret)
{
        const struct config_category *cat;

        if (request_check_text(x, "department", named, 64, 0) < 0)
                return -1;
        if (named[0]) {
                if (config_find_department(x->s->cfg, named) == NULL)
                        return request_fail(x, E_UNKNOWN_REFERENCE, "department",
                                            "unknown department \"%s\"", named);
                *ret = named;
                return 0;
        }
        if (fallback && fallback[0] && config_find_department(x->s->cfg, fallback)) {
                *ret = fallback;
                return 0;
        }
        cat = config_find_category(x->s->cfg, x->c->category);
        if (cat == NULL)
                return request_fail(
                    x, E_INVALID_ARGUMENT, "department",
                    "department is required: category \"%s\" is no longer configured",
                    x->c->category);
        *ret = cat->department;
        return 0;
}

static int
s_assign(struct ctx *x)
{
        const Complaint__V1__AssignRequest *q = x->req->assign;
        _cleanup_free_ char *from_dept = NULL;
        pb_complaint_t *old = NULL;
        const char *dept;
        int next, from, r;
        bool reassign;

        if (s_load(x, q->id, A(ASSIGN), &next) < 0 || s_note_ok(x, "note", q->note, false) < 0 ||
            s_pick_department(x, q->department, NULL, &dept) < 0)
                return -1;
        from = x->c->status;
        reassign = from != ST_NEW;
        if (reassign && strcmp(dept, x->c->department) == 0)
                return request_fail(x, E_INVALID_ARGUMENT, "department",
                                    "complaint %" PRIu64 " is already with %s", x->c->id, dept);
        from_dept = strdup(x->c->department);
        if (from_dept == NULL || (r = changes_snapshot(x, &old)) < 0)
                return from_dept ? r : request_store_fail(x, -ENOMEM, "assigning");
        x->c->status = next;
        x->c->level = 0;
        r = request_set_string(&x->c->department, dept);
        if (r == 0)
                r = changes_record(
                    x, old,
                    &(struct changes_entry){.action = reassign ? A(REASSIGN) : A(ASSIGN),
                                            .from = from,
                                            .from_dept = reassign ? from_dept : NULL,
                                            .note = q->note,
                                            .kind = "assigned",
                                            .extra_dept = reassign ? from_dept : NULL,
                                            .extra_kind = "reassigned"});
        complaint__v1__complaint__free_unpacked(old, NULL);
        return r;
}

/* A supervisor's escalation: the running clock that matters most goes one level up. */
static int
s_escalate_by_hand(struct ctx *x, struct changes_entry *e, char *kind, size_t size)
{
        pb_clock_t *k = x->c->resolution_clock;
        const policy_t *pol;
        int r;

        if (k == NULL || !k->running)
                k = x->c->response_clock;
        if (k == NULL || !k->running)
                return request_fail(x, E_INVALID_TRANSITION, NULL,
                                    "complaint %" PRIu64
                                    " has no running clock: department %s is not "
                                    "timed, so it has no management chain",
                                    x->c->id, x->c->department);
        r = store_get_policy(x->txn, x->s->policies, k->policy_id, &pol);
        if (r < 0)
                return request_store_fail(x, r, "reading the clock's policy");
        r = clock_escalate(k, pol, x->now);
        if (r == -EDOM)
                return request_fail(x, E_INVALID_TRANSITION, NULL,
                                    "complaint %" PRIu64 " is already at the top of %s's chain "
                                    "(level %u, %s)",
                                    x->c->id, k->department, k->level, k->role);
        if (r < 0)
                return s_clock_fail(x, r, "compute the new deadline", k->department);
        snprintf(kind, size, "escalated/%u", k->level);
        e->kind = kind;
        e->clock = k->kind;
        e->level = k->level;
        e->role = k->role;
        e->due_at = k->due_at_ms;
        return 0;
}

/* accept, pend, resume, escalate, note: no fields beyond a note. */
static int
s_simple(struct ctx *x, const struct change *ch)
{
        pb_complaint_t *old = NULL;
        struct changes_entry e = {.action = ch->action, .note = ch->note, .kind = ch->kind};
        char kind[32];
        int next, r;

        if (s_load(x, ch->id, ch->action, &next) < 0 ||
            s_note_ok(x, "note", ch->note, ch->note_required) < 0 ||
            (r = changes_snapshot(x, &old)) < 0)
                return -1;
        e.from = x->c->status;
        x->c->status = next;
        r = ch->action == A(ESCALATE) ? s_escalate_by_hand(x, &e, kind, sizeof(kind)) : 0;
        if (r == 0)
                r = changes_record(x, old, &e);
        complaint__v1__complaint__free_unpacked(old, NULL);
        return r;
}

static int
s_resolve(struct ctx *x)
{
        const Complaint__V1__ResolveRequest *q = x->req->resolve;
        pb_complaint_t *old = NULL;
        pb_resolution_t *res;
        int next, from, r;

        if (s_load(x, q->id, A(RESOLVE), &next) < 0 ||
            request_check_text(x, "cause", q->cause, NOTE_MAX, TEXT_MULTILINE | TEXT_REQUIRED) <
                0 ||
            request_check_text(x, "reply", q->reply, NOTE_MAX, TEXT_MULTILINE | TEXT_REQUIRED) <
                0 ||
            s_note_ok(x, "note", q->note, false) < 0 ||
            request_check_enum(x, "responsibility", q->responsibility, 1, 4) < 0)
                return -1;
        if (q->responsibility == 0)
                return request_fail(x, E_INVALID_ARGUMENT, "responsibility",
                                    "responsibility is required: company, customer, shared or "
                                    "third_party");
        if (q->compensation_cents < 0 || q->compensation_cents > x->s->cfg->limits.compensation_max)
                return request_fail(x, E_INVALID_ARGUMENT, "compensation_cents",
                                    "compensation_cents %" PRId64 " is outside 0 to %" PRId64,
                                    q->compensation_cents, x->s->cfg->limits.compensation_max);
        if ((r = changes_snapshot(x, &old)) < 0)
                return r;
        res = malloc(sizeof(*res));
        if (res == NULL) {
                complaint__v1__complaint__free_unpacked(old, NULL);
                return request_store_fail(x, -ENOMEM, "resolving");
        }
        complaint__v1__resolution__init(res);
        if (x->c->resolution)
                complaint__v1__resolution__free_unpacked(x->c->resolution, NULL);
        x->c->resolution = res;
        res->responsibility = q->responsibility;
        res->compensation_cents = q->compensation_cents;
        res->resolved_at_ms = x->now;
        from = x->c->status;
        x->c->status = next;
        if (request_set_string(&res->cause, q->cause) < 0 ||
            request_set_string(&res->reply, q->reply) < 0 ||
            request_set_string(&res->resolved_by, x->actor) < 0)
                r = request_store_fail(x, -ENOMEM, "resolving");
        else
                r = changes_record(
                    x, old,
                    &(struct changes_entry){
                        .action = A(RESOLVE), .from = from, .note = q->note, .kind = "resolved"});
        complaint__v1__complaint__free_unpacked(old, NULL);
        return r;
}

static int
s_close(struct ctx *x)
{
        const Complaint__V1__CloseRequest *q = x->req->close;
        pb_complaint_t *old = NULL;
        pb_follow_up_t *f;
        int next, from, r;

        if (s_load(x, q->id, A(CLOSE), &next) < 0 || s_note_ok(x, "note", q->note, false) < 0)
                return -1;
        if (q->call_failed && q->satisfaction != 0)
                return request_fail(x, E_INVALID_ARGUMENT, "satisfaction",
                                    "a failed follow-up call has no satisfaction score");
        if (!q->call_failed && (q->satisfaction < 1 || q->satisfaction > 5))
                return request_fail(x, E_INVALID_ARGUMENT, "satisfaction",
                                    "satisfaction must be 1 to 5 (or record a failed call)");
        if ((r = changes_snapshot(x, &old)) < 0)
                return r;
        f = malloc(sizeof(*f));
        if (f == NULL) {
                complaint__v1__complaint__free_unpacked(old, NULL);
                return request_store_fail(x, -ENOMEM, "closing");
        }
        complaint__v1__follow_up__init(f);
        if (x->c->follow_up)
                complaint__v1__follow_up__free_unpacked(x->c->follow_up, NULL);
        x->c->follow_up = f;
        f->satisfaction = q->satisfaction;
        f->call_failed = q->call_failed;
        f->closed_at_ms = x->now;
        from = x->c->status;
        x->c->status = next;
        if (request_set_string(&f->note, q->note) < 0 ||
            request_set_string(&f->closed_by, x->actor) < 0)
                r = request_store_fail(x, -ENOMEM, "closing");
        else
                r = changes_record(
                    x, old,
                    &(struct changes_entry){
                        .action = A(CLOSE), .from = from, .note = q->note, .kind = "closed"});
        complaint__v1__complaint__free_unpacked(old, NULL);
        return r;
}

static int
s_reopen(struct ctx *x)
{
        const Complaint__V1__ReopenRequest *q = x->req->reopen;
        _cleanup_free_ char *from_dept = NULL;
        pb_complaint_t *old = NULL;
        const char *dept;
        bool moved;
        int next, from, r;

        if (s_load(x, q->id, A(REOPEN), &next) < 0 || s_note_ok(x, "reason", q->reason, true) < 0 ||
            s_pick_department(x, q->department, x->c->department, &dept) < 0)
                return -1;
        from_dept = strdup(x->c->department);
        if (from_dept == NULL || (r = changes_snapshot(x, &old)) < 0)
                return from_dept ? r : request_store_fail(x, -ENOMEM, "reopening");
        from = x->c->status;
        moved = from_dept[0] && strcmp(from_dept, dept) != 0;
        x->c->status = next;
        x->c->level = 0;
        x->c->reopen_count++;
        r = request_set_string(&x->c->department, dept);
        if (r == 0)
                r = changes_record(x, old,
                                   &(struct changes_entry){
                                       .action = A(REOPEN),
                                       .from = from,
                                       .from_dept = from_dept,
                                       .note = q->reason,
                                       .kind = "reopened",
                                       /* The department it leaves is told, as on a reassignment. */
                                       .extra_dept = moved ? from_dept : NULL,
                                       .extra_kind = "reassigned"});
        complaint__v1__complaint__free_unpacked(old, NULL);
        return r;
}

static int
s_dismiss(struct ctx *x)
{
        const Complaint__V1__DismissRequest *q = x->req->dismiss;
        pb_complaint_t *old = NULL;
        int next, from, r;

        if (s_load(x, q->id, A(DISMISS), &next) < 0 || s_note_ok(x, "note", q->note, false) < 0 ||
            request_check_enum(x, "reason", q->reason, 1, 4) < 0)
                return -1;
        if (q->reason == 0)
                return request_fail(
                    x, E_INVALID_ARGUMENT, "reason",
                    "reason is required: duplicate, abusive, out_of_scope or other");
        if ((r = changes_snapshot(x, &old)) < 0)
                return r;
        from = x->c->status;
        x->c->status = next;
        x->c->dismiss_reason = q->reason;
        r = request_set_string(&x->c->dismiss_note, q->note);
        if (r == 0)
                r = changes_record(
                    x, old,
                    &(struct changes_entry){
                        .action = A(DISMISS), .from = from, .note = q->note, .kind = "dismissed"});
        complaint__v1__complaint__free_unpacked(old, NULL);
        return r;
}

int
changes_apply(struct ctx *x)
{
        const pb_request_t *q = x->req;

        switch (q->body_case) {
        case BODY(CREATE):
                return s_create(x);
        case BODY(ASSIGN):
                return s_assign(x);
        case BODY(ACCEPT):
                return s_simple(x, &(struct change){q->accept->id, A(ACCEPT), q->accept->note,
                                                    false, "accepted"});
        case BODY(PEND):
                return s_simple(
                    x, &(struct change){q->pend->id, A(PEND), q->pend->note, true, "pending"});
        case BODY(RESUME):
                return s_simple(x, &(struct change){q->resume->id, A(RESUME), q->resume->note,
                                                    false, "resumed"});
        case BODY(NOTE):
                return s_simple(
                    x, &(struct change){q->note->id, A(NOTE), q->note->note, true, "noted"});
        case BODY(ESCALATE):
                return s_simple(x, &(struct change){q->escalate->id, A(ESCALATE), q->escalate->note,
                                                    false, "escalated"});
        case BODY(RESOLVE):
                return s_resolve(x);
        case BODY(CLOSE):
                return s_close(x);
        case BODY(REOPEN):
                return s_reopen(x);
        case BODY(DISMISS):
                return s_dismiss(x);
        case BODY(ERASE):
                return privacy_erase(x);
        default:
                return request_fail(x, E_BAD_REQUEST, NULL, "not a change");
        }
}
