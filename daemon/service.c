/* service.c: requests in, changes, replies and events out. See service.h. */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "contact.h"
#include "lifecycle.h"
#include "policy.h"
#include "log.h"
#include "macro.h"
#include "service.h"
#include "stats.h"
#include "request.h"
#include "analysis.h"

#define A(x) COMPLAINT__V1__ACTION__ACTION_##x
#define BODY(x) COMPLAINT__V1__REQUEST__BODY_##x
#define GROW_TRIES 16

#define K(x) COMPLAINT__V1__CLOCK_KIND__CLOCK_KIND_##x
#define LATE_AFTER_MS 1000
#define CONTACT_SCAN_MAX 1000 /* complaints read per contact key at intake and for get */
#define RELATED_MAX 100       /* other complaints of the complainant in a get reply */

static int s_refresh_next_due(service_t *s);

static const char *
s_topic_department(struct ctx *x)
{
        return x->c->department[0] ? x->c->department : x->s->cfg->centre;
}

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
                return 0;
        r = store_current_policy(x->txn, x->s->policies, x->s->cfg, dept, &pol);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return s_store_fail(x, r, "storing the department's policy");
        r = clock_start(slot, kind, pol, dept, limit, x->s->cfg->priority_scale[x->c->priority & 3],
                        x->now);
        if (r < 0)
                return s_fail(x, E_INTERNAL, NULL,
                              "cannot compute the %s deadline on %s's calendar: %s",
                              clock_kind_name(kind), dept, strerror(-r));
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
                return s_store_fail(x, r, "reading the clock's policy");
        r = pause ? clock_pause(k, pol, x->now) : clock_resume(k, pol, x->now);
        if (r < 0)
                return s_fail(x, E_INTERNAL, NULL, "cannot %s the %s clock: %s",
                              pause ? "pause" : "resume", clock_kind_name(k->kind), strerror(-r));
        return 0;
}

/* The complaint's level: the highest of its running clocks. */
static void
s_update_level(pb_complaint_t *c)
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
                /* A new department, or a fresh start: both clocks at level 0. */
                s_stop_clock(x, c->follow_up_clock, action);
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
        s_update_level(c);
        return r;
}

/* What one history entry says, beyond the complaint itself. */
struct entry {
        int action;
        int from;              /* status before */
        const char *from_dept; /* department before, when it changed */
        const char *note;
        const char *kind;       /* event kind: "assigned", "escalated/2" */
        const char *extra_dept; /* a second event, to the old department of a reassignment */
        const char *extra_kind;
        const char *after_kind; /* an event on the centre after the entry's own: "flagged" */
        int clock;              /* for escalations and warnings */
        uint32_t level;
        const char *role;
        bool realert;
        int64_t at; /* when it happened, if not now (a deadline fired late) */
        int64_t due_at;
};

/* Records the change: the clocks it moves, one history entry, its event(s), and the record. */
static int
s_record(struct ctx *x, const pb_complaint_t *old, const struct entry *e)
{
        pb_history_t h = COMPLAINT__V1__HISTORY_ENTRY__INIT;
        int64_t at = e->at ? e->at : x->now;
        int r;

        if ((r = s_clocks(x, e->action)) < 0)
                return r;
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
        /* Late: it fell due while the daemon was down, or firing it was held up. */
        if (e->at && (e->at < x->s->started_at || x->now - e->at > LATE_AFTER_MS)) {
                h.late = true;
                h.recorded_at_ms = x->now;
        }
        /* The entry names the event that publishes it; an extra event goes first, so the
         * entry's own event is the last one and its seq is known when the entry is written. */
        if (e->extra_dept && (r = s_event(x, &h, e->extra_dept, e->extra_kind)) < 0)
                return r;
        if ((r = store_last_event_seq(x->txn, &h.event_seq)) < 0)
                return s_store_fail(x, r, "reading the event log");
        h.event_seq++;
        if ((r = s_event(x, &h,
                         e->clock == K(FOLLOW_UP) ? x->s->cfg->centre : s_topic_department(x),
                         e->kind)) < 0)
                return r;
        assert(h.event_seq == x->reply.event_seq);
        if (e->after_kind && (r = s_event(x, &h, x->s->cfg->centre, e->after_kind)) < 0)
                return r;
        if ((r = store_put_history(x->txn, &h)) < 0)
                return s_store_fail(x, r, "appending to the history");
        if ((r = store_put_complaint(x->txn, x->c, old)) < 0)
                return s_store_fail(x, r, "writing the complaint");
        return 0;
}

/* Loads the complaint a change is about, and checks the action is allowed in its state. */
static int
s_load(struct ctx *x, uint64_t id, int action, int *ret_next)
{
        char allowed[160];
        int r;

        if (id == 0)
                return s_fail(x, E_INVALID_ARGUMENT, "id", "id is required");
        r = store_get_complaint(x->txn, id, &x->c);
        if (r == -ENOENT)
                return s_fail(x, E_NOT_FOUND, "id", "no complaint %" PRIu64, id);
        if (r < 0)
                return s_store_fail(x, r, "reading the complaint");
        r = lifecycle_next(x->c->status, action, ret_next);
        if (r < 0)
                return s_fail(x, E_INVALID_TRANSITION, NULL,
                              "complaint %" PRIu64 " is %s: cannot %s it; allowed: %s", id,
                              pb_status_name(x->c->status), lifecycle_action_word(action),
                              lifecycle_allowed(x->c->status, allowed, sizeof(allowed)));
        return 0;
}

/* A copy of the record as loaded, for moving its indexes; the caller frees it. */
static int
s_snapshot(struct ctx *x, pb_complaint_t **ret)
{
        size_t len = protobuf_c_message_get_packed_size(&x->c->base);
        _cleanup_free_ uint8_t *buf = malloc(len ? len : 1);

        if (buf == NULL)
                return s_store_fail(x, -ENOMEM, "copying the complaint");
        protobuf_c_message_pack(&x->c->base, buf);
        *ret = complaint__v1__complaint__unpack(NULL, len, buf);
        if (*ret == NULL)
                return s_store_fail(x, -ENOMEM, "copying the complaint");
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
        return s_check_text(x, field, note, NOTE_MAX,
                            TEXT_MULTILINE | (required ? TEXT_REQUIRED : 0));
}

/* ------------------------------------------------------ repeat complainants */

/* The contact keys of a complainant (contact.h): its phone and its e-mail, each when it links
 * anything. */
static size_t
s_contact_keys(const service_t *s, const pb_complainant_t *who, char keys[2][CONTACT_KEY_MAX])
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

/* The complaints filed under any of the keys since since_ms, newest first, each once (one can
 * be under a phone and an e-mail), at most max, without `self`. ids holds 2 x CONTACT_SCAN_MAX. */
static int
s_complainant_ids(struct ctx *x, char keys[2][CONTACT_KEY_MAX], size_t n_keys, int64_t since_ms,
                  uint64_t self, uint64_t *ids, size_t max, size_t *ret_n)
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
        size_t n_keys = s_contact_keys(x->s, x->c->complainant, keys), n = 0;
        uint64_t ids[2 * CONTACT_SCAN_MAX];
        int r;

        if (n_keys == 0)
                return 0;
        r = s_complainant_ids(x, keys, n_keys, x->now - x->s->cfg->repeat_window_ms, x->c->id, ids,
                              ELEMENTSOF(ids), &n);
        for (size_t i = 0; i < n_keys && r == 0; i++)
                r = store_put_contact(x->txn, keys[i], x->c->created_at_ms, x->c->id);
        if (r < 0)
                return s_store_fail(x, r, "indexing the complainant's contact");
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

        if (s_check_enum(x, "channel", q->channel, 1, 7) < 0 ||
            s_check_enum(x, "nature", q->nature, 0, 4) < 0 ||
            s_check_enum(x, "priority", q->priority, 0, 3) < 0)
                return -1;
        if (q->channel == 0)
                return s_fail(x, E_INVALID_ARGUMENT, "channel", "channel is required");
        if (s_check_text(x, "subject", q->subject, lim->subject, TEXT_REQUIRED) < 0 ||
            s_check_text(x, "description", q->description, lim->description,
                         TEXT_MULTILINE | TEXT_REQUIRED) < 0 ||
            s_check_text(x, "category", q->category, 64, TEXT_REQUIRED) < 0 ||
            s_check_text(x, "external_ref", q->external_ref, lim->external_ref, 0) < 0 ||
            s_note_ok(x, "note", q->note, false) < 0)
                return -1;
        if (config_find_category(x->s->cfg, q->category) == NULL)
                return s_fail(x, E_UNKNOWN_REFERENCE, "category", "unknown category \"%s\"",
                              q->category);
        if (who == NULL)
                return s_fail(x, E_INVALID_ARGUMENT, "complainant",
                              "complainant is required: a phone, e-mail or address to reply to");
        if (s_check_text(x, "complainant.name", who->name, lim->name, 0) < 0 ||
            s_check_text(x, "complainant.phone", who->phone, lim->phone, 0) < 0 ||
            s_check_text(x, "complainant.email", who->email, lim->email, 0) < 0 ||
            s_check_text(x, "complainant.address", who->address, lim->address, TEXT_MULTILINE) < 0)
                return -1;
        if (!who->phone[0] && !who->email[0] && !who->address[0])
                return s_fail(x, E_INVALID_ARGUMENT, "complainant",
                              "complainant needs a phone, e-mail or address: every complaint "
                              "gets a reply");
        if (who->email[0] && (strchr(who->email, '@') == NULL || strchr(who->email, ' ')))
                return s_fail(x, E_INVALID_ARGUMENT, "complainant.email",
                              "complainant.email \"%s\" is not an e-mail address", who->email);
        if (who->phone[0] && strspn(who->phone, "0123456789+-() .") != strlen(who->phone))
                return s_fail(x, E_INVALID_ARGUMENT, "complainant.phone",
                              "complainant.phone may hold only digits, spaces and + - ( ) .");

        if ((r = store_next_complaint_id(x->txn, &id)) < 0)
                return s_store_fail(x, r, "numbering the complaint");
        x->c = malloc(sizeof(*x->c));
        contact = malloc(sizeof(*contact));
        if (x->c == NULL || contact == NULL) {
                free(contact);
                return s_store_fail(x, -ENOMEM, "building the complaint");
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
        if (s_set(&contact->name, who->name) < 0 || s_set(&contact->phone, who->phone) < 0 ||
            s_set(&contact->email, who->email) < 0 || s_set(&contact->address, who->address) < 0 ||
            s_set(&x->c->subject, q->subject) < 0 ||
            s_set(&x->c->description, q->description) < 0 ||
            s_set(&x->c->category, q->category) < 0 || s_set(&x->c->owner, x->req->actor) < 0 ||
            s_set(&x->c->external_ref, q->external_ref) < 0)
                return s_store_fail(x, -ENOMEM, "building the complaint");
        if ((r = s_repeat(x)) < 0)
                return r;
        r = s_record(x, NULL,
                     &(struct entry){.action = A(CREATE),
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

        if (s_check_text(x, "department", named, 64, 0) < 0)
                return -1;
        if (named[0]) {
                if (config_find_department(x->s->cfg, named) == NULL)
                        return s_fail(x, E_UNKNOWN_REFERENCE, "department",
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
                return s_fail(x, E_INVALID_ARGUMENT, "department",
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
                return s_fail(x, E_INVALID_ARGUMENT, "department",
                              "complaint %" PRIu64 " is already with %s", x->c->id, dept);
        from_dept = strdup(x->c->department);
        if (from_dept == NULL || (r = s_snapshot(x, &old)) < 0)
                return from_dept ? r : s_store_fail(x, -ENOMEM, "assigning");
        x->c->status = next;
        x->c->level = 0;
        r = s_set(&x->c->department, dept);
        if (r == 0)
                r = s_record(x, old,
                             &(struct entry){.action = reassign ? A(REASSIGN) : A(ASSIGN),
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
s_escalate_by_hand(struct ctx *x, struct entry *e, char *kind, size_t size)
{
        pb_clock_t *k = x->c->resolution_clock;
        const policy_t *pol;
        int r;

        if (k == NULL || !k->running)
                k = x->c->response_clock;
        if (k == NULL || !k->running)
                return s_fail(x, E_INVALID_TRANSITION, NULL,
                              "complaint %" PRIu64 " has no running clock: department %s is not "
                              "timed, so it has no management chain",
                              x->c->id, x->c->department);
        r = store_get_policy(x->txn, x->s->policies, k->policy_id, &pol);
        if (r < 0)
                return s_store_fail(x, r, "reading the clock's policy");
        r = clock_escalate(k, pol, x->now);
        if (r == -EDOM)
                return s_fail(x, E_INVALID_TRANSITION, NULL,
                              "complaint %" PRIu64 " is already at the top of %s's chain "
                              "(level %u, %s)",
                              x->c->id, k->department, k->level, k->role);
        if (r < 0)
                return s_fail(x, E_INTERNAL, NULL, "cannot compute the new deadline: %s",
                              strerror(-r));
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
        struct entry e = {.action = ch->action, .note = ch->note, .kind = ch->kind};
        char kind[32];
        int next, r;

        if (s_load(x, ch->id, ch->action, &next) < 0 ||
            s_note_ok(x, "note", ch->note, ch->note_required) < 0 || (r = s_snapshot(x, &old)) < 0)
                return -1;
        e.from = x->c->status;
        x->c->status = next;
        r = ch->action == A(ESCALATE) ? s_escalate_by_hand(x, &e, kind, sizeof(kind)) : 0;
        if (r == 0)
                r = s_record(x, old, &e);
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
            s_check_text(x, "cause", q->cause, NOTE_MAX, TEXT_MULTILINE | TEXT_REQUIRED) < 0 ||
            s_check_text(x, "reply", q->reply, NOTE_MAX, TEXT_MULTILINE | TEXT_REQUIRED) < 0 ||
            s_note_ok(x, "note", q->note, false) < 0 ||
            s_check_enum(x, "responsibility", q->responsibility, 1, 4) < 0)
                return -1;
        if (q->responsibility == 0)
                return s_fail(x, E_INVALID_ARGUMENT, "responsibility",
                              "responsibility is required: company, customer, shared or "
                              "third_party");
        if (q->compensation_cents < 0 || q->compensation_cents > x->s->cfg->limits.compensation_max)
                return s_fail(x, E_INVALID_ARGUMENT, "compensation_cents",
                              "compensation_cents %" PRId64 " is outside 0 to %" PRId64,
                              q->compensation_cents, x->s->cfg->limits.compensation_max);
        if ((r = s_snapshot(x, &old)) < 0)
                return r;
        res = malloc(sizeof(*res));
        if (res == NULL) {
                complaint__v1__complaint__free_unpacked(old, NULL);
                return s_store_fail(x, -ENOMEM, "resolving");
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
        if (s_set(&res->cause, q->cause) < 0 || s_set(&res->reply, q->reply) < 0 ||
            s_set(&res->resolved_by, x->req->actor) < 0)
                r = s_store_fail(x, -ENOMEM, "resolving");
        else
                r = s_record(
                    x, old,
                    &(struct entry){
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
                return s_fail(x, E_INVALID_ARGUMENT, "satisfaction",
                              "a failed follow-up call has no satisfaction score");
        if (!q->call_failed && (q->satisfaction < 1 || q->satisfaction > 5))
                return s_fail(x, E_INVALID_ARGUMENT, "satisfaction",
                              "satisfaction must be 1 to 5 (or record a failed call)");
        if ((r = s_snapshot(x, &old)) < 0)
                return r;
        f = malloc(sizeof(*f));
        if (f == NULL) {
                complaint__v1__complaint__free_unpacked(old, NULL);
                return s_store_fail(x, -ENOMEM, "closing");
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
        if (s_set(&f->note, q->note) < 0 || s_set(&f->closed_by, x->req->actor) < 0)
                r = s_store_fail(x, -ENOMEM, "closing");
        else
                r = s_record(
                    x, old,
                    &(struct entry){
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
        int next, from, r;

        if (s_load(x, q->id, A(REOPEN), &next) < 0 || s_note_ok(x, "reason", q->reason, true) < 0 ||
            s_pick_department(x, q->department, x->c->department, &dept) < 0)
                return -1;
        from_dept = strdup(x->c->department);
        if (from_dept == NULL || (r = s_snapshot(x, &old)) < 0)
                return from_dept ? r : s_store_fail(x, -ENOMEM, "reopening");
        from = x->c->status;
        x->c->status = next;
        x->c->level = 0;
        x->c->reopen_count++;
        r = s_set(&x->c->department, dept);
        if (r == 0)
                r = s_record(x, old,
                             &(struct entry){.action = A(REOPEN),
                                             .from = from,
                                             .from_dept = from_dept,
                                             .note = q->reason,
                                             .kind = "reopened"});
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
            s_check_enum(x, "reason", q->reason, 1, 4) < 0)
                return -1;
        if (q->reason == 0)
                return s_fail(x, E_INVALID_ARGUMENT, "reason",
                              "reason is required: duplicate, abusive, out_of_scope or other");
        if ((r = s_snapshot(x, &old)) < 0)
                return r;
        from = x->c->status;
        x->c->status = next;
        x->c->dismiss_reason = q->reason;
        r = s_set(&x->c->dismiss_note, q->note);
        if (r == 0)
                r = s_record(
                    x, old,
                    &(struct entry){
                        .action = A(DISMISS), .from = from, .note = q->note, .kind = "dismissed"});
        complaint__v1__complaint__free_unpacked(old, NULL);
        return r;
}

/* Runs one change request inside its nested transaction. Returns 0 (the reply may still be an
 * error), or -ENOSPC when the store is full. */
static int
s_change(struct ctx *x)
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
        default:
                return s_fail(x, E_BAD_REQUEST, NULL, "not a change");
        }
}

/* ------------------------------------------------------------------- reads */

static int
s_get(struct ctx *x)
{
        int r = store_get_complaint(x->txn, x->req->get->id, &x->c);

        if (r == -ENOENT)
                return s_fail(x, E_NOT_FOUND, "id", "no complaint %" PRIu64, x->req->get->id);
        if (r == 0)
                r = store_get_history(x->txn, x->c->id, &x->hist, &x->n_hist);
        if (r == 0) {
                char keys[2][CONTACT_KEY_MAX];
                size_t n_keys = s_contact_keys(x->s, x->c->complainant, keys), n = 0;

                x->related = malloc(2 * CONTACT_SCAN_MAX * sizeof(*x->related));
                r = x->related ? 0 : -ENOMEM;
                if (r == 0)
                        r = s_complainant_ids(x, keys, n_keys, INT64_MIN, x->c->id, x->related,
                                              RELATED_MAX, &n);
                x->reply.complainant_complaints = x->related;
                x->reply.n_complainant_complaints = r == 0 ? n : 0;
        }
        if (r < 0)
                return s_store_fail(x, r, "reading a complaint");
        x->reply.complaint = x->c;
        x->reply.history = x->hist;
        x->reply.n_history = x->n_hist;
        return 0;
}

static int
s_list(struct ctx *x)
{
        const Complaint__V1__ListRequest *q = x->req->list;
        struct store_filter f = {.status = q->status, .overdue = q->overdue, .level = q->level};
        uint32_t limit = q->limit ? q->limit : 50;
        int r;

        if (s_check_text(x, "department", q->department, 64, 0) < 0 ||
            s_check_text(x, "category", q->category, 64, 0) < 0 ||
            s_check_enum(x, "status", q->status, 0, ST_COUNT - 1) < 0)
                return -1;
        if (limit > x->s->cfg->limits.list_max)
                limit = x->s->cfg->limits.list_max;
        f.department = q->department[0] ? q->department : NULL;
        f.category = q->category[0] ? q->category : NULL;
        r = store_list(x->txn, &f, q->before_id, limit, &x->list, &x->n_list,
                       &x->list_reply.next_before_id);
        if (r < 0)
                return s_store_fail(x, r, "listing complaints");
        x->list_reply.complaints = x->list;
        x->list_reply.n_complaints = x->n_list;
        x->reply.list = &x->list_reply;
        return 0;
}

/* The head of the global stream and of every configured department's stream. The arrays are
 * the caller's; the strings are borrowed from the configuration. */
static int
s_heads(service_t *s, store_txn_t *txn, Complaint__V1__StreamHead **ret_heads,
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

static int
s_replay(struct ctx *x)
{
        const Complaint__V1__ReplayRequest *q = x->req->replay;
        Complaint__V1__ReplayReply *rp = &x->replay;
        uint32_t limit = q->limit ? q->limit : 256;
        int r;

        if (s_check_text(x, "stream", q->stream, 64, 0) < 0)
                return -1;
        if (q->n_topic_prefixes > 16)
                return s_fail(x, E_TOO_LARGE, "topic_prefixes", "at most 16 topic prefixes");
        for (size_t i = 0; i < q->n_topic_prefixes; i++)
                if (s_check_text(x, "topic_prefixes", q->topic_prefixes[i], 200, 0) < 0)
                        return -1;
        if (limit > x->s->cfg->limits.replay_max)
                limit = x->s->cfg->limits.replay_max;
        r = store_stream_head(x->txn, q->stream, &rp->head);
        if (r == 0)
                r = store_stream_first(x->txn, q->stream, &rp->first_kept);
        if (r < 0)
                return s_store_fail(x, r, "reading a stream");
        x->reply.replay = rp;
        /* Events after `after_offset` were pruned when the oldest kept is further on. */
        if (rp->first_kept > q->after_offset + 1 ||
            (rp->first_kept == 0 && rp->head > q->after_offset)) {
                rp->next_after = rp->first_kept ? rp->first_kept - 1 : rp->head;
                return s_fail(x, E_GONE, "after_offset",
                              "events of stream \"%s\" after %" PRIu64 " are no longer kept; "
                              "resume after %" PRIu64,
                              q->stream, q->after_offset, rp->next_after);
        }
        r = store_replay(x->txn, q->stream, q->after_offset, q->topic_prefixes, q->n_topic_prefixes,
                         limit, limit * 64, &x->events, &x->n_events, &rp->next_after);
        if (r < 0)
                return s_store_fail(x, r, "replaying events");
        rp->events = x->events;
        rp->n_events = x->n_events;
        return 0;
}

/* Checks a backup request and hands its path to the caller, which runs the copy. */
static int
s_backup(struct ctx *x, struct service_request *rq)
{
        const char *name = x->req->backup->name;
        const char *dir = x->s->cfg->backup_dir;
        char path[4096];

        if (s_check_text(x, "actor", x->req->actor, x->s->cfg->limits.actor, TEXT_REQUIRED) < 0 ||
            s_check_text(x, "name", name, 100, TEXT_REQUIRED) < 0)
                return -1;
        if (name[0] == '.' || strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                           "0123456789._-") != strlen(name))
                return s_fail(x, E_INVALID_ARGUMENT, "name",
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
                return s_fail(x, E_INTERNAL, NULL, "out of memory");
        }
        log_notice("backup to %s requested by %s", path, x->req->actor);
        free(s_ctx_finish(x, &(size_t){0}));
        return 0;
}

static int
s_status(struct ctx *x)
{
        pb_status_reply_t *st = &x->status;
        int r = 0;

        st->version = (char *)COMPLAINTD_VERSION;
        st->started_at_ms = x->s->started_at;
        st->now_ms = x->now;
        st->events_endpoint = x->s->cfg->events;
        st->api_endpoint = x->s->cfg->api;
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
                return s_store_fail(x, r, "reading counts");
        st->next_deadline_ms = x->s->next_due;
        r = s_heads(x->s, x->txn, &x->heads, &x->head_ptrs, &x->n_heads);
        if (r == 0)
                r = store_stream_first(x->txn, "", &st->first_kept_seq);
        if (r < 0)
                return s_store_fail(x, r, "reading stream heads");
        st->heads = x->head_ptrs;
        st->n_heads = x->n_heads;
        st->by_status = x->count_ptrs;
        st->n_by_status = ST_COUNT - 1;
        x->reply.status = st;
        return 0;
}

/* ------------------------------------------------------------------- batch */

static bool
s_is_change(const pb_request_t *q)
{
        return q->body_case != BODY(GET) && q->body_case != BODY(LIST) &&
               q->body_case != BODY(STATUS) && q->body_case != BODY(REPLAY) &&
               q->body_case != BODY(BACKUP) && q->body_case != BODY(REPORT) &&
               q->body_case != BODY(LEDGER) &&
               q->body_case != COMPLAINT__V1__REQUEST__BODY__NOT_SET;
}

/* Checks what every request needs before it is looked at: version, actor, request id. */
static int
s_check_envelope(struct ctx *x, bool change)
{
        const pb_request_t *q = x->req;
        const struct config_limits *lim = &x->s->cfg->limits;
        const char *kind = x->kind;

        x->kind = "request";
        if (q->schema_version > PB_SCHEMA_VERSION)
                return s_fail(x, E_UNSUPPORTED_VERSION, "schema_version",
                              "schema_version %u is newer than this daemon's %d", q->schema_version,
                              PB_SCHEMA_VERSION);
        if (q->body_case == COMPLAINT__V1__REQUEST__BODY__NOT_SET)
                return s_fail(x, E_BAD_REQUEST, NULL, "the request has no body (create, get, ...)");
        if (s_check_text(x, "request_id", q->request_id, lim->request_id,
                         change ? TEXT_REQUIRED : 0) < 0 ||
            s_check_text(x, "actor", q->actor, lim->actor, change ? TEXT_REQUIRED : 0) < 0)
                return -1;
        x->kind = kind;
        return 0;
}

/* Handles one change in a nested transaction of parent. -ENOSPC: the batch must grow. */
static int
s_handle_change(service_t *s, store_txn_t *parent, struct service_request *rq,
                const pb_request_t *q, struct service_outbox *out)
{
        struct ctx x;
        uint64_t hash = hash_fnv1a(rq->data, rq->len), stored_hash;
        uint8_t *stored = NULL;
        size_t stored_len, mark = out->n;
        int r;

        s_ctx_init(&x, s, q, out);
        if (s_check_envelope(&x, true) < 0)
                goto reply;
        r = store_begin_nested(parent, &x.txn);
        if (r < 0) {
                s_store_fail(&x, r, "starting a transaction");
                goto reply;
        }
        r = store_get_request(x.txn, q->actor, q->request_id, &stored_hash, &stored, &stored_len);
        if (r == 0) {
                pb_reply_t *first;

                store_abort(&x.txn);
                if (stored_hash != hash) {
                        free(stored);
                        s_fail(&x, E_REQUEST_ID_REUSED, NULL,
                               "request id \"%s\" of %s was used before for a different request",
                               q->request_id, q->actor);
                        goto reply;
                }
                first = complaint__v1__reply__unpack(NULL, stored_len, stored);
                free(stored);
                if (first == NULL) {
                        s_store_fail(&x, -EBADMSG, "reading a stored reply");
                        goto reply;
                }
                first->replayed = true;
                free(s_ctx_finish(&x, &rq->reply_len));
                free(rq->reply);
                rq->reply_len = protobuf_c_message_get_packed_size(&first->base);
                rq->reply = malloc(rq->reply_len ? rq->reply_len : 1);
                if (rq->reply)
                        protobuf_c_message_pack(&first->base, rq->reply);
                complaint__v1__reply__free_unpacked(first, NULL);
                return 0;
        }
        if (r != -ENOENT) {
                store_abort(&x.txn);
                s_store_fail(&x, r, "reading request ids");
                goto reply;
        }
        r = s_change(&x);
        if (r == -ENOSPC) {
                store_abort(&x.txn);
                free(s_ctx_finish(&x, &rq->reply_len));
                return -ENOSPC;
        }
        if (x.reply.error == E_OK) {
                /* Store the reply as the client will see it, then commit into the batch. */
                size_t len;
                uint8_t *buf;

                x.reply.schema_version = PB_SCHEMA_VERSION;
                x.reply.request_id = q->request_id;
                x.reply.complaint = x.c;
                x.reply.field = x.field;
                len = protobuf_c_message_get_packed_size(&x.reply.base);
                buf = malloc(len ? len : 1);
                r = buf ? 0 : -ENOMEM;
                if (buf) {
                        protobuf_c_message_pack(&x.reply.base, buf);
                        r = store_put_request(x.txn, q->actor, q->request_id, hash, buf, len);
                        free(buf);
                }
                if (r == 0)
                        r = store_commit(&x.txn);
                if (r == -ENOSPC) {
                        store_abort(&x.txn);
                        s_ctx_finish(&x, &rq->reply_len);
                        return -ENOSPC;
                }
                if (r < 0)
                        s_store_fail(&x, r, "committing");
        }
        store_abort(&x.txn);
        if (x.reply.error != E_OK) {
                s_outbox_truncate(out, mark);
        }
reply:
        free(rq->reply);
        rq->reply = s_ctx_finish(&x, &rq->reply_len);
        return 0;
}

static void
s_handle_read(service_t *s, store_txn_t *txn, struct service_request *rq, const pb_request_t *q)
{
        struct ctx x;

        s_ctx_init(&x, s, q, NULL);
        x.txn = txn;
        if (s_check_envelope(&x, false) == 0) {
                if (txn == NULL)
                        s_fail(&x, E_INTERNAL, NULL, "the store cannot be read");
                else if (q->body_case == BODY(GET))
                        s_get(&x);
                else if (q->body_case == BODY(LIST))
                        s_list(&x);
                else if (q->body_case == BODY(REPLAY))
                        s_replay(&x);
                else if (q->body_case == BODY(REPORT))
                        s_report(&x);
                else if (q->body_case == BODY(LEDGER))
                        s_ledger(&x);
                else if (q->body_case == BODY(BACKUP) && s_backup(&x, rq) == 0)
                        return; /* answered when the copy is done */
                else
                        s_status(&x);
        }
        free(rq->reply);
        rq->reply = s_ctx_finish(&x, &rq->reply_len);
}

static void
s_fail_request(service_t *s, struct service_request *rq, const pb_request_t *q, int code,
               const char *msg)
{
        struct ctx x;

        s_ctx_init(&x, s, q, NULL);
        s_fail(&x, code, NULL, "%s", msg);
        free(rq->reply);
        rq->reply = s_ctx_finish(&x, &rq->reply_len);
}

int
service_handle_batch(service_t *s, struct service_request *reqs, size_t n,
                     struct service_outbox *out)
{
        pb_request_t **decoded = calloc(n ? n : 1, sizeof(*decoded));
        size_t n_changes = 0, mark = out->n;
        store_txn_t *txn = NULL;
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

        /* Changes: one write transaction for the whole batch, grown and retried when full. */
        for (int tries = 0; n_changes > 0 && tries < GROW_TRIES; tries++) {
                bool full = false;

                r = store_begin(s->store, true, &txn);
                for (size_t i = 0; r == 0 && i < n && !full; i++)
                        if (decoded[i] && s_is_change(decoded[i]))
                                full =
                                    s_handle_change(s, txn, &reqs[i], decoded[i], out) == -ENOSPC;
                if (r == 0 && !full) {
                        r = store_commit(&txn);
                        full = r == -ENOSPC;
                } else {
                        store_abort(&txn);
                }
                if (r == 0 && !full)
                        break;
                s_outbox_truncate(out, mark);
                if (!full)
                        break;
                r = store_grow(s->store);
                if (r < 0)
                        break;
                log_info("store: grew the map to make room");
        }
        if (n_changes > 0 && r < 0) {
                const char *msg = r == -ENOSPC
                                      ? "the store is full: nothing was changed; reads go on"
                                      : "the store failed: nothing was changed";

                log_error("store: a batch of %zu changes failed: %s", n_changes, strerror(-r));
                for (size_t i = 0; i < n; i++)
                        if (decoded[i] && s_is_change(decoded[i]))
                                s_fail_request(s, &reqs[i], decoded[i],
                                               r == -ENOSPC ? E_STORAGE_FULL : E_INTERNAL, msg);
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

        if (n_changes > 0 && r == 0)
                s_refresh_next_due(s);

        /* Reads: after the changes commit, so a client sees its own writes. */
        txn = NULL;
        for (size_t i = 0; i < n; i++) {
                if (decoded[i] == NULL || s_is_change(decoded[i]))
                        continue;
                if (txn == NULL && store_begin(s->store, false, &txn) < 0)
                        txn = NULL;
                s_handle_read(s, txn, &reqs[i], decoded[i]);
        }
        store_abort(&txn);
        for (size_t i = 0; i < n; i++)
                if (decoded[i])
                        complaint__v1__request__free_unpacked(decoded[i], NULL);
        free(decoded);
        return n_changes > 0 && r < 0 ? r : 0;
}

/* --------------------------------------------------------------- deadlines */

static int
s_refresh_next_due(service_t *s)
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
        return s->next_due;
}

/* Fires one due deadline: a warning, or an escalation one level up (or a re-alert past the
 * top), recorded at the time it was due. A stale index entry is removed without an event. */
static int
s_fire(struct ctx *x, const struct store_deadline *d)
{
        pb_complaint_t *old = NULL;
        pb_clock_t *k = NULL;
        const policy_t *pol;
        struct entry e = {.clock = d->clock, .at = d->due_ms, .note = ""};
        char kind[40], note[160];
        int r = store_get_complaint(x->txn, d->id, &x->c);

        if (r == 0) {
                k = d->clock == K(RESPONSE)     ? x->c->response_clock
                    : d->clock == K(RESOLUTION) ? x->c->resolution_clock
                    : d->clock == K(FOLLOW_UP)  ? x->c->follow_up_clock
                                                : NULL;
        }
        if (r == -ENOENT || k == NULL || !k->running || k->paused ||
            (d->type == STORE_DEADLINE_WARN ? k->warn_at_ms : k->due_at_ms) != d->due_ms) {
                log_struct(LOG_WARNING, d->id, NULL, "deadline-stale",
                           "deadline index: stale entry for complaint %" PRIu64 " removed", d->id);
                r = store_delete_deadline(x->txn, d);
                return r < 0 ? s_store_fail(x, r, "cleaning the deadline index") : 0;
        }
        if (r < 0)
                return s_store_fail(x, r, "reading a complaint");
        r = store_get_policy(x->txn, x->s->policies, k->policy_id, &pol);
        if (r < 0)
                return s_store_fail(x, r, "reading the clock's policy");
        if ((r = s_snapshot(x, &old)) < 0)
                return r;
        e.from = x->c->status;
        if (d->type == STORE_DEADLINE_WARN) {
                clock_warned(k);
                e.action = A(WARN);
                e.level = k->level;
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
        s_update_level(x->c);
        r = s_record(x, old, &e);
        complaint__v1__complaint__free_unpacked(old, NULL);
        if (r == 0)
                log_struct(
                    LOG_INFO, x->c->id, k->department, kind, "complaint %" PRIu64 " (%s): %s %s%s",
                    x->c->id, k->department, kind, clock_kind_name(k->kind),
                    d->due_ms < x->s->started_at || x->now - d->due_ms > LATE_AFTER_MS ? " (late)"
                                                                                       : "");
        return r;
}

int
service_fire_due(service_t *s, int64_t now, uint32_t max, struct service_outbox *out,
                 uint32_t *ret_fired)
{
        size_t mark = out->n;
        uint32_t fired = 0;
        int r = 0;

        for (int tries = 0; tries < GROW_TRIES; tries++) {
                store_txn_t *txn = NULL;
                bool full = false;

                fired = 0;
                r = store_begin(s->store, true, &txn);
                while (r == 0 && fired < max) {
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
                        s_ctx_init(&x, s, NULL, out);
                        x.kind = "deadline";
                        x.now = now;
                        r = store_begin_nested(txn, &x.txn);
                        if (r < 0) {
                                free(s_ctx_finish(&x, &(size_t){0}));
                                break;
                        }
                        rf = s_fire(&x, &d);
                        if (rf == 0 && x.reply.error == E_OK) {
                                r = store_commit(&x.txn);
                        } else {
                                /* Never loop on an entry that cannot be fired: drop it. */
                                store_abort(&x.txn);
                                s_outbox_truncate(out, before);
                                r = rf == -ENOSPC ? -ENOSPC : store_delete_deadline(txn, &d);
                                if (rf != -ENOSPC)
                                        log_struct(LOG_ERR, d.id, NULL, "deadline-dropped",
                                                   "complaint %" PRIu64 ": a deadline could not "
                                                   "be fired and was dropped: %s",
                                                   d.id, x.message ? x.message : "store error");
                        }
                        free(s_ctx_finish(&x, &(size_t){0}));
                        fired++;
                }
                if (r == 0) {
                        r = store_commit(&txn);
                } else {
                        store_abort(&txn);
                }
                full = r == -ENOSPC;
                if (r == 0)
                        break;
                s_outbox_truncate(out, mark);
                if (!full || store_grow(s->store) < 0)
                        break;
        }
        if (r < 0) {
                log_error("deadlines: a batch could not be committed: %s", strerror(-r));
                fired = 0;
        } else if (out->n > mark) {
                pb_event_t *last = complaint__v1__event__unpack(NULL, out->items[out->n - 1].len,
                                                                out->items[out->n - 1].data);
                if (last) {
                        s->last_event_seq = last->seq;
                        complaint__v1__event__free_unpacked(last, NULL);
                }
        }
        s_refresh_next_due(s);
        *ret_fired = fired;
        return r;
}

/* ------------------------------------------------------------------- misc */

void
service_outbox_clear(struct service_outbox *out)
{
        s_outbox_truncate(out, 0);
}

uint8_t *
service_error_reply(int code, const char *message, size_t *ret_len)
{
        pb_reply_t reply = COMPLAINT__V1__REPLY__INIT;
        uint8_t *buf;

        reply.schema_version = PB_SCHEMA_VERSION;
        reply.error = code;
        reply.message = (char *)(uintptr_t)message;
        *ret_len = protobuf_c_message_get_packed_size(&reply.base);
        buf = malloc(*ret_len ? *ret_len : 1);
        if (buf)
                protobuf_c_message_pack(&reply.base, buf);
        return buf;
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
                r = s_heads(s, txn, &heads, &ptrs, &ev.n_heads);
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
        int r = store_begin(s->store, true, &txn);

        *ret_n = 0;
        if (r < 0)
                return r;
        r = store_prune_events(txn, s->cfg->keep_events, now_ms() - s->cfg->keep_events_ms, max,
                               ret_n);
        if (r == 0 && *ret_n > 0)
                r = store_commit(&txn);
        store_abort(&txn);
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
                r = s_refresh_next_due(s);
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
