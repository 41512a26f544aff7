/* it_contract.c: the protocol contract fixed for issue 12, against the real daemon. Each case
 * below is a promise of proto/PROTOCOL.md or proto/complaint.proto that issue 12 settled; most
 * of them the daemon broke before the fix:
 *
 *   1  every event's entry names that event (entry.event_seq == seq), the extra event of a
 *      reassignment and the flag after a repeat complainant's creation included; the history
 *      keeps the primary event's seq;
 *   2  a warning carries the role of its level;
 *   3  a request id that is not UTF-8 is never echoed: the reply stays valid proto3;
 *   4  a TOO_LARGE reply echoes the request id;
 *   5  a create without channel, subject or description names the field;
 *   6  a reopening moves the complaint like a reassignment, drops the old follow-up clock and
 *      starts the department clocks again at level 0;
 *   7  the replay of an unknown stream is empty, not an error;
 *   12 an escalation by hand does not make a limit missed;
 *   13 a department without limits keeps no clock of the department before it;
 *   15 `late` means the daemon was down, not merely stalled.
 *
 * One daemon serves every case, on the bundled configuration with short 24x7 departments added.
 * The only waits are for events on a SUB socket subscribed to everything, with bounded timeouts;
 * where the passing of a deadline is the event under test, that poll is the wait. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "check.h"
#include "harness.h"

CHECK_DEFINE_COUNTERS();

#define A(x) COMPLAINT__V1__ACTION__ACTION_##x
#define K(x) COMPLAINT__V1__CLOCK_KIND__CLOCK_KIND_##x
#define BODY(x) COMPLAINT__V1__REQUEST__BODY_##x
#define LIMIT(x) COMPLAINT__V1__LIMIT_RESULT__LIMIT_RESULT_##x

#define ACTOR "agent.contract"

/* Departments added to the bundled configuration, all on the built-in 24x7 calendar:
 *   fast     response 1 s, level 1 for 1 s: with warnings at half an allowance, level 0 warns at
 *            +0.5 s, escalates at +1 s, and level 1 warns at +1.5 s (case 2);
 *   late     response 1 s, then an hour at level 1 (case 15);
 *   slow, other, hand   limits of an hour or two: nothing falls due during the test;
 *   untimed  no calendar and no limits (case 13).
 * Warnings at half an allowance; the heartbeat every 100 ms. */
static const char *const conf_pairs[] = {
    "heartbeat = \"1s\";",
    "heartbeat = \"100ms\";",
    "warning = 0.8;",
    "warning = 0.5;",
    "departments = (\n",
    "departments = (\n"
    "  { id = \"fast\"; name = \"Fast\"; calendar = \"24x7\"; response = \"1s\";\n"
    "    resolution = \"1h\";\n"
    "    chain = ( { role = \"Fast chief\"; allowance = \"1s\"; },\n"
    "              { role = \"Fast head\"; allowance = \"1h\"; } ); },\n"
    "  { id = \"late\"; name = \"Late\"; calendar = \"24x7\"; response = \"1s\";\n"
    "    resolution = \"1h\";\n"
    "    chain = ( { role = \"Late chief\"; allowance = \"1h\"; } ); },\n"
    "  { id = \"slow\"; name = \"Slow\"; calendar = \"24x7\"; response = \"1h\";\n"
    "    resolution = \"2h\";\n"
    "    chain = ( { role = \"Slow chief\"; allowance = \"1h\"; },\n"
    "              { role = \"Slow head\"; allowance = \"1h\"; } ); },\n"
    "  { id = \"other\"; name = \"Other\"; calendar = \"24x7\"; response = \"1h\";\n"
    "    resolution = \"2h\";\n"
    "    chain = ( { role = \"Other chief\"; allowance = \"1h\"; } ); },\n"
    "  { id = \"hand\"; name = \"By hand\"; calendar = \"24x7\"; response = \"1h\";\n"
    "    resolution = \"2h\";\n"
    "    chain = ( { role = \"Hand chief\"; allowance = \"1h\"; },\n"
    "              { role = \"Hand head\"; allowance = \"1h\"; } ); },\n"
    "  { id = \"untimed\"; name = \"Not timed\"; },\n",
    NULL};

/* The repeat threshold of the bundled configuration: the fourth complaint is flagged. */
#define REPEAT_THRESHOLD 3

static harness_t h;
static harness_client_t cl;
/* UTC ms when the test began: the start of every report and ledger period. */
static int64_t t_begin;

static int64_t
s_utc_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------ UTF-8 */

/* Whether the NUL-terminated s is valid UTF-8: no stray continuation bytes, no overlong forms,
 * no surrogates, nothing past U+10FFFF, no sequence cut short. Written here, not borrowed from
 * the daemon, so that the test does not share the daemon's mistakes. */
static bool
s_utf8_ok(const char *s)
{
        const unsigned char *p = (const unsigned char *)s;

        while (*p) {
                unsigned cp;
                int more;

                if (p[0] < 0x80) {
                        p++;
                        continue;
                }
                if (p[0] >= 0xC2 && p[0] <= 0xDF) {
                        cp = p[0] & 0x1Fu;
                        more = 1;
                } else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
                        cp = p[0] & 0x0Fu;
                        more = 2;
                } else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
                        cp = p[0] & 0x07u;
                        more = 3;
                } else {
                        return false;
                }
                for (int i = 1; i <= more; i++) {
                        if ((p[i] & 0xC0) != 0x80)
                                return false;
                        cp = cp << 6 | (p[i] & 0x3Fu);
                }
                if ((more == 2 && cp < 0x800) || (more == 3 && cp < 0x10000) || cp > 0x10FFFF ||
                    (cp >= 0xD800 && cp <= 0xDFFF))
                        return false;
                p += more + 1;
        }
        return true;
}

/* Whether every string field of m, in every nested message, is valid UTF-8, as a strict proto3
 * decoder requires; on the first that is not, its name goes to where. The recursion follows the
 * schema's nesting, which has no cycles. */
static bool
s_strings_utf8(const ProtobufCMessage *m, char *where, size_t size)
{
        const ProtobufCMessageDescriptor *d = m->descriptor;
        const char *base = (const char *)m;

        for (unsigned i = 0; i < d->n_fields; i++) {
                const ProtobufCFieldDescriptor *f = &d->fields[i];
                const char *slot = base + f->offset;
                size_t n = 1;

                if (f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE)
                        continue;
                if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
                        uint32_t which;

                        memcpy(&which, base + f->quantifier_offset, sizeof(which));
                        if (which != f->id)
                                continue;
                }
                if (f->label == PROTOBUF_C_LABEL_REPEATED) {
                        memcpy(&n, base + f->quantifier_offset, sizeof(n));
                        const char *items; /* a repeated field holds a pointer to its array */

                        memcpy(&items, slot, sizeof(items));
                        slot = items;
                }
                for (size_t k = 0; slot && k < n; k++) {
                        const void *v;

                        memcpy(&v, slot + k * sizeof(void *), sizeof(v));
                        if (v == NULL)
                                continue;
                        if (f->type == PROTOBUF_C_TYPE_STRING && !s_utf8_ok(v)) {
                                snprintf(where, size, "%s.%s", d->short_name, f->name);
                                return false;
                        }
                        if (f->type == PROTOBUF_C_TYPE_MESSAGE && !s_strings_utf8(v, where, size))
                                return false;
                }
        }
        return true;
}

/* ------------------------------------------------------------------ requests */

/* Sends a change under a fresh request id; checks that it succeeded and returns its reply (the
 * caller's to free). Gives up when no reply comes: the daemon is gone. */
static pb_reply_t *
s_change(pb_request_t *req, const char *what)
{
        pb_reply_t *r = harness_change(&cl, req, ACTOR);

        if (r == NULL)
                fprintf(stderr, "%s: no reply; daemon %s\n", what,
                        harness_running(&h) ? "running" : "GONE");
        REQUIRE(r != NULL);
        CHECK_INT(r->error, E_OK);
        if (r->error != E_OK)
                fprintf(stderr, "  %s: %s (%s)\n", what, pb_error_name(r->error), r->message);
        return r;
}

/* s_change() for a change whose reply only matters for its last event: returns it (0 when the
 * change failed). */
static uint64_t
s_change_seq(pb_request_t *req, const char *what)
{
        pb_reply_t *r = s_change(req, what);
        uint64_t seq = r->error == E_OK ? r->event_seq : 0;

        complaint__v1__reply__free_unpacked(r, NULL);
        return seq;
}

/* A read; gives up when no reply comes. The reply is the caller's to free. */
static pb_reply_t *
s_read(pb_request_t *req)
{
        pb_reply_t *r = NULL;
        int rc;

        req->schema_version = PB_SCHEMA_VERSION;
        rc = harness_client_call(&cl, req, HARNESS_CALL_TIMEOUT_MS, &r);
        if (rc < 0)
                fprintf(stderr, "read: no reply (%s); daemon %s\n", strerror(-rc),
                        harness_running(&h) ? "running" : "GONE");
        REQUIRE(rc == 0);
        return r;
}

/* A create with a valid body; phone NULL gives the complainant a number of its own, so that
 * only case 1 makes a repeat complainant. */
static void
s_create_body(Complaint__V1__CreateRequest *q, pb_complainant_t *who, const char *phone, char *buf,
              size_t size)
{
        static unsigned n;

        if (phone == NULL) {
                snprintf(buf, size, "+49 30 7%07u", ++n);
                phone = buf;
        }
        who->name = (char *)"Grace Hopper";
        who->phone = (char *)(uintptr_t)phone;
        q->channel = COMPLAINT__V1__CHANNEL__CHANNEL_PHONE;
        q->complainant = who;
        q->subject = (char *)"Charged twice";
        q->description = (char *)"The October bill has the same line twice.";
        q->category = (char *)"billing";
}

/* Creates a complaint; returns the reply (the caller's to free). */
static pb_reply_t *
s_create_reply(const char *phone)
{
        Complaint__V1__CreateRequest q = COMPLAINT__V1__CREATE_REQUEST__INIT;
        pb_complainant_t who = COMPLAINT__V1__COMPLAINANT__INIT;
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        char buf[32];
        pb_reply_t *r;

        s_create_body(&q, &who, phone, buf, sizeof(buf));
        req.body_case = BODY(CREATE);
        req.create = &q;
        r = s_change(&req, "create");
        REQUIRE(r->error == E_OK && r->complaint != NULL);
        return r;
}

static uint64_t
s_create(void)
{
        pb_reply_t *r = s_create_reply(NULL);
        uint64_t id = r->complaint->id;

        complaint__v1__reply__free_unpacked(r, NULL);
        return id;
}

/* assign: a dispatch from new, a reassignment otherwise. */
static uint64_t
s_assign(uint64_t id, const char *dept)
{
        Complaint__V1__AssignRequest q = COMPLAINT__V1__ASSIGN_REQUEST__INIT;
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;

        q.id = id;
        q.department = (char *)(uintptr_t)dept;
        req.body_case = BODY(ASSIGN);
        req.assign = &q;
        return s_change_seq(&req, "assign");
}

static uint64_t
s_accept(uint64_t id)
{
        Complaint__V1__AcceptRequest q = COMPLAINT__V1__ACCEPT_REQUEST__INIT;
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;

        q.id = id;
        req.body_case = BODY(ACCEPT);
        req.accept = &q;
        return s_change_seq(&req, "accept");
}

static uint64_t
s_escalate(uint64_t id)
{
        Complaint__V1__EscalateRequest q = COMPLAINT__V1__ESCALATE_REQUEST__INIT;
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;

        q.id = id;
        q.note = (char *)"the customer called again";
        req.body_case = BODY(ESCALATE);
        req.escalate = &q;
        return s_change_seq(&req, "escalate");
}

static uint64_t
s_resolve(uint64_t id)
{
        Complaint__V1__ResolveRequest q = COMPLAINT__V1__RESOLVE_REQUEST__INIT;
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;

        q.id = id;
        q.cause = (char *)"a duplicate line";
        q.responsibility = COMPLAINT__V1__RESPONSIBILITY__RESPONSIBILITY_COMPANY;
        q.reply = (char *)"We refunded the second charge.";
        req.body_case = BODY(RESOLVE);
        req.resolve = &q;
        return s_change_seq(&req, "resolve");
}

static uint64_t
s_close(uint64_t id)
{
        Complaint__V1__CloseRequest q = COMPLAINT__V1__CLOSE_REQUEST__INIT;
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;

        q.id = id;
        q.satisfaction = 4;
        req.body_case = BODY(CLOSE);
        req.close = &q;
        return s_change_seq(&req, "close");
}

static uint64_t
s_dismiss(uint64_t id)
{
        Complaint__V1__DismissRequest q = COMPLAINT__V1__DISMISS_REQUEST__INIT;
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;

        q.id = id;
        q.reason = COMPLAINT__V1__DISMISS_REASON__DISMISS_REASON_DUPLICATE;
        req.body_case = BODY(DISMISS);
        req.dismiss = &q;
        return s_change_seq(&req, "dismiss");
}

static uint64_t
s_reopen(uint64_t id, const char *dept)
{
        Complaint__V1__ReopenRequest q = COMPLAINT__V1__REOPEN_REQUEST__INIT;
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;

        q.id = id;
        q.reason = (char *)"the customer was charged again";
        q.department = (char *)(uintptr_t)dept;
        req.body_case = BODY(REOPEN);
        req.reopen = &q;
        return s_change_seq(&req, "reopen");
}

/* get; the reply (with complaint and history) is the caller's to free. */
static pb_reply_t *
s_get(uint64_t id)
{
        Complaint__V1__GetRequest q = COMPLAINT__V1__GET_REQUEST__INIT;
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        pb_reply_t *r;

        q.id = id;
        req.body_case = BODY(GET);
        req.get = &q;
        r = s_read(&req);
        CHECK_INT(r->error, E_OK);
        REQUIRE(r->error == E_OK && r->complaint != NULL);
        return r;
}

/* The first history entry of r with action (and, when clock is not 0, that clock). */
static const pb_history_t *
s_history(const pb_reply_t *r, int action, int clock)
{
        for (size_t i = 0; i < r->n_history; i++)
                if ((int)r->history[i]->action == action &&
                    (clock == 0 || (int)r->history[i]->clock == clock))
                        return r->history[i];
        return NULL;
}

/* The report of the test's period for one department; the caller frees the reply. */
static pb_reply_t *
s_report(const char *dept)
{
        Complaint__V1__ReportRequest q = COMPLAINT__V1__REPORT_REQUEST__INIT;
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        pb_reply_t *r;

        q.from_ms = t_begin;
        q.to_ms = s_utc_ms() + 60000;
        q.department = (char *)(uintptr_t)dept;
        req.body_case = BODY(REPORT);
        req.report = &q;
        r = s_read(&req);
        CHECK_INT(r->error, E_OK);
        if (r->error != E_OK)
                fprintf(stderr, "  report %s: %s (%s)\n", dept, pb_error_name(r->error),
                        r->message);
        REQUIRE(r->error == E_OK && r->report && r->report->total);
        return r;
}

/* The ledger row of complaint id among one department's complaints of the test's period, or
 * NULL; borrowed from *ret_reply, which the caller frees. */
static const Complaint__V1__LedgerRow *
s_ledger_row(const char *dept, uint64_t id, pb_reply_t **ret_reply)
{
        Complaint__V1__LedgerRequest q = COMPLAINT__V1__LEDGER_REQUEST__INIT;
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        pb_reply_t *r;

        q.from_ms = t_begin;
        q.to_ms = s_utc_ms() + 60000;
        q.department = (char *)(uintptr_t)dept;
        req.body_case = BODY(LEDGER);
        req.ledger = &q;
        r = s_read(&req);
        *ret_reply = r;
        CHECK_INT(r->error, E_OK);
        if (r->error != E_OK || r->ledger == NULL)
                return NULL;
        for (size_t i = 0; i < r->ledger->n_rows; i++)
                if (r->ledger->rows[i]->id == id)
                        return r->ledger->rows[i];
        return NULL;
}

/* ------------------------------------------------------------------ the event log */

/* The stored events of one stream, read by replay a page at a time. */
struct evlog {
        pb_reply_t *page[64];
        size_t n_pages;
        const pb_event_t *ev[8192];
        size_t n;
};

static pb_reply_t *
s_replay(const char *stream, uint64_t after, uint32_t limit)
{
        Complaint__V1__ReplayRequest q = COMPLAINT__V1__REPLAY_REQUEST__INIT;
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;

        q.stream = (char *)(uintptr_t)stream;
        q.after_offset = after;
        q.limit = limit;
        req.request_id = (char *)"replay";
        req.body_case = BODY(REPLAY);
        req.replay = &q;
        return s_read(&req);
}

/* Reads the whole of a stream, page by page (at most 64 pages of 1,000). */
static void
s_evlog_load(struct evlog *l, const char *stream)
{
        uint64_t after = 0;

        l->n_pages = l->n = 0;
        for (size_t i = 0; i < sizeof(l->page) / sizeof(l->page[0]); i++) {
                pb_reply_t *r = s_replay(stream, after, 1000);

                l->page[l->n_pages++] = r;
                CHECK_INT(r->error, E_OK);
                if (r->error != E_OK || r->replay == NULL)
                        return;
                for (size_t k = 0; k < r->replay->n_events && l->n < 8192; k++)
                        l->ev[l->n++] = r->replay->events[k];
                if (r->replay->next_after >= r->replay->head || r->replay->next_after <= after)
                        return;
                after = r->replay->next_after;
        }
}

static void
s_evlog_free(struct evlog *l)
{
        for (size_t i = 0; i < l->n_pages; i++)
                complaint__v1__reply__free_unpacked(l->page[i], NULL);
        l->n_pages = l->n = 0;
}

/* The events of complaint id published for history entries with action, in order. */
static size_t
s_evlog_select(const struct evlog *l, uint64_t id, int action, const pb_event_t **out, size_t max)
{
        size_t n = 0;

        for (size_t i = 0; i < l->n && n < max; i++) {
                const pb_history_t *e = l->ev[i]->entry;

                if (e && e->complaint_id == id && (int)e->action == action)
                        out[n++] = l->ev[i];
        }
        return n;
}

/* The event of complaint id and action on topic, or NULL. */
static const pb_event_t *
s_evlog_find(const struct evlog *l, uint64_t id, int action, const char *topic)
{
        const pb_event_t *ev[16];
        size_t n = s_evlog_select(l, id, action, ev, 16);

        for (size_t i = 0; i < n; i++)
                if (strcmp(ev[i]->topic, topic) == 0)
                        return ev[i];
        return NULL;
}

/* ------------------------------------------------------------------ the subscriber */

/* Every event published while the test runs, as received on a SUB socket subscribed to "". */
struct got {
        pb_event_t *ev;
        char topic[96];
        int64_t at; /* when it arrived, UTC ms */
};

static struct {
        void *sock;
        struct got ev[4096];
        size_t n;
        size_t heartbeats;
} sub;

/* Receives one message if one is waiting; heartbeats are counted, events kept. */
static void
s_sub_recv_one(void)
{
        char topic[96];
        zmq_msg_t body;
        int n = zmq_recv(sub.sock, topic, sizeof(topic) - 1, ZMQ_DONTWAIT);
        int more = 0;
        size_t more_len = sizeof(more);

        if (n < 0)
                return;
        topic[n < (int)sizeof(topic) - 1 ? n : (int)sizeof(topic) - 1] = '\0';
        zmq_getsockopt(sub.sock, ZMQ_RCVMORE, &more, &more_len);
        if (!more)
                return;
        zmq_msg_init(&body);
        if (zmq_msg_recv(&body, sub.sock, 0) >= 0) {
                if (strcmp(topic, "_heartbeat") == 0) {
                        sub.heartbeats++;
                } else if (sub.n < sizeof(sub.ev) / sizeof(sub.ev[0])) {
                        struct got *g = &sub.ev[sub.n];

                        g->ev = complaint__v1__event__unpack(NULL, zmq_msg_size(&body),
                                                             zmq_msg_data(&body));
                        CHECK(g->ev != NULL);
                        snprintf(g->topic, sizeof(g->topic), "%s", topic);
                        g->at = s_utc_ms();
                        if (g->ev)
                                sub.n++;
                }
        }
        zmq_msg_close(&body);
}

/* The live event of complaint id on topic, or NULL. */
static const struct got *
s_sub_find(uint64_t id, const char *topic)
{
        for (size_t i = 0; i < sub.n; i++)
                if (sub.ev[i].ev->entry && sub.ev[i].ev->entry->complaint_id == id &&
                    strcmp(sub.ev[i].topic, topic) == 0)
                        return &sub.ev[i];
        return NULL;
}

/* Takes events off the socket until the UTC instant until, or until the event of complaint id
 * on topic has come (topic NULL: until the instant). Each pass waits at most until `until`, so
 * the loop ends by then; the count bounds it besides. Returns the event, or NULL. */
static const struct got *
s_sub_wait(int64_t until, uint64_t id, const char *topic)
{
        for (int i = 0; i < 100000; i++) {
                const struct got *g = topic ? s_sub_find(id, topic) : NULL;
                zmq_pollitem_t it = {.socket = sub.sock, .events = ZMQ_POLLIN};
                int64_t left = until - s_utc_ms();

                if (g || left <= 0)
                        return g;
                if (zmq_poll(&it, 1, (long)left) > 0)
                        s_sub_recv_one();
        }
        return NULL;
}

/* Subscribes to everything and waits (5 s at most) for the first heartbeat, which proves the
 * subscription is in place. */
static int
s_sub_open(void)
{
        int64_t until = s_utc_ms() + 5000;

        sub.sock = zmq_socket(h.zctx, ZMQ_SUB);
        if (sub.sock == NULL)
                return -1;
        zmq_setsockopt(sub.sock, ZMQ_SUBSCRIBE, "", 0);
        zmq_setsockopt(sub.sock, ZMQ_LINGER, &(int){0}, sizeof(int));
        if (zmq_connect(sub.sock, h.events) < 0)
                return -1;
        for (int i = 0; i < 100000 && sub.heartbeats == 0 && s_utc_ms() < until; i++) {
                zmq_pollitem_t it = {.socket = sub.sock, .events = ZMQ_POLLIN};

                if (zmq_poll(&it, 1, (long)(until - s_utc_ms())) > 0)
                        s_sub_recv_one();
        }
        return sub.heartbeats > 0 ? 0 : -1;
}

static void
s_sub_close(void)
{
        for (size_t i = 0; i < sub.n; i++)
                complaint__v1__event__free_unpacked(sub.ev[i].ev, NULL);
        sub.n = 0;
        zmq_close(sub.sock);
        sub.sock = NULL;
}

/* ------------------------------------------------------------------ 1: event_seq */

/* A repeat complainant's fourth complaint is flagged: centre/created and then centre/flagged,
 * each naming itself; the history names the created event. A reassignment publishes
 * <old>/reassigned and then <new>/assigned, each naming itself; the history names the
 * assigned event. */
static void
test_event_seq(void)
{
        const char *phone = "+49 40 1234 5678";
        const pb_event_t *created, *flagged, *moved_away, *moved_in;
        const struct got *g;
        const pb_history_t *e;
        struct evlog log;
        uint64_t flagged_id = 0, moved;
        pb_reply_t *r;

        for (int i = 0; i <= REPEAT_THRESHOLD; i++) {
                r = s_create_reply(phone);
                CHECK_INT(r->complaint->repeat, i == REPEAT_THRESHOLD);
                flagged_id = r->complaint->id;
                complaint__v1__reply__free_unpacked(r, NULL);
        }
        moved = s_create();
        s_assign(moved, "slow");
        s_assign(moved, "other");

        s_evlog_load(&log, "");
        created = s_evlog_find(&log, flagged_id, A(CREATE), "centre/created");
        flagged = s_evlog_find(&log, flagged_id, A(CREATE), "centre/flagged");
        CHECK(created != NULL);
        CHECK(flagged != NULL);
        if (created && flagged) {
                CHECK_INT(created->entry->event_seq, created->seq);
                CHECK_INT(flagged->entry->event_seq, flagged->seq);
                CHECK_INT(flagged->seq, created->seq + 1);
                r = s_get(flagged_id);
                e = s_history(r, A(CREATE), 0);
                CHECK(e != NULL);
                if (e)
                        CHECK_INT(e->event_seq, created->seq);
                complaint__v1__reply__free_unpacked(r, NULL);
                printf("case 1: complaint %" PRIu64 ": centre/created seq %" PRIu64
                       ", centre/flagged seq %" PRIu64 " (entry.event_seq %" PRIu64 ")\n",
                       flagged_id, created->seq, flagged->seq, flagged->entry->event_seq);
        }
        moved_away = s_evlog_find(&log, moved, A(REASSIGN), "slow/reassigned");
        moved_in = s_evlog_find(&log, moved, A(REASSIGN), "other/assigned");
        CHECK(moved_away != NULL);
        CHECK(moved_in != NULL);
        if (moved_away && moved_in) {
                CHECK_INT(moved_away->entry->event_seq, moved_away->seq);
                CHECK_INT(moved_in->entry->event_seq, moved_in->seq);
                /* Sent first, to the department losing the complaint. */
                CHECK_INT(moved_away->seq + 1, moved_in->seq);
                r = s_get(moved);
                e = s_history(r, A(REASSIGN), 0);
                CHECK(e != NULL);
                if (e)
                        CHECK_INT(e->event_seq, moved_in->seq);
                complaint__v1__reply__free_unpacked(r, NULL);
                printf("case 1: complaint %" PRIu64 ": slow/reassigned seq %" PRIu64
                       " (entry.event_seq %" PRIu64 "), other/assigned seq %" PRIu64 "\n",
                       moved, moved_away->seq, moved_away->entry->event_seq, moved_in->seq);
        }
        s_evlog_free(&log);

        /* The same on the live stream. */
        g = s_sub_wait(s_utc_ms() + 3000, flagged_id, "centre/flagged");
        CHECK(g != NULL);
        if (g)
                CHECK_INT(g->ev->entry->event_seq, g->ev->seq);
        g = s_sub_wait(s_utc_ms() + 3000, moved, "slow/reassigned");
        CHECK(g != NULL);
        if (g)
                CHECK_INT(g->ev->entry->event_seq, g->ev->seq);
}

/* Every event of the run, live and stored: entry.event_seq == seq. */
static void
test_every_event(void)
{
        size_t bad = 0, checked = 0;
        struct evlog log;

        for (size_t i = 0; i < sub.n; i++) {
                const pb_event_t *ev = sub.ev[i].ev;

                checked++;
                if (ev->entry == NULL || ev->entry->event_seq != ev->seq) {
                        if (bad++ < 10)
                                fprintf(
                                    stderr,
                                    "  live event %" PRIu64 " %s: entry.event_seq %" PRIu64 "\n",
                                    ev->seq, sub.ev[i].topic, ev->entry ? ev->entry->event_seq : 0);
                }
        }
        CHECK_INT(bad, 0);
        CHECK(checked > 0);
        printf("case 1: %zu live events, %zu with entry.event_seq != seq\n", checked, bad);

        s_evlog_load(&log, "");
        bad = 0;
        for (size_t i = 0; i < log.n; i++) {
                const pb_event_t *ev = log.ev[i];

                CHECK_INT(ev->seq, i + 1); /* nothing pruned: the whole log, gap-free */
                if (ev->entry == NULL || ev->entry->event_seq != ev->seq) {
                        if (bad++ < 10)
                                fprintf(stderr,
                                        "  stored event %" PRIu64 " %s: entry.event_seq %" PRIu64
                                        "\n",
                                        ev->seq, ev->topic, ev->entry ? ev->entry->event_seq : 0);
                }
        }
        CHECK_INT(bad, 0);
        CHECK(log.n >= sub.n);
        printf("case 1: %zu stored events, %zu with entry.event_seq != seq\n", log.n, bad);
        s_evlog_free(&log);
}

/* ------------------------------------------------------------------ 2: warning roles */

/* Checks one warning event: its level, the role it carries, and the complaint's response
 * clock at the same level with the same role. */
static void
s_check_warning(const struct got *g, uint32_t level, const char *role, int64_t assigned_at)
{
        const pb_history_t *e = g->ev->entry;
        const Complaint__V1__Clock *k = g->ev->complaint ? g->ev->complaint->response_clock : NULL;

        CHECK_INT(e->action, A(WARN));
        CHECK_INT(e->clock, K(RESPONSE));
        CHECK_INT(e->level, level);
        CHECK_STR(e->role, role);
        CHECK(k != NULL);
        if (k) {
                CHECK_INT(k->level, level);
                CHECK_STR(k->role, e->role);
        }
        printf("case 2: %s at +%" PRId64 " ms (arrived +%" PRId64 " ms): role \"%s\", clock "
               "role \"%s\"\n",
               g->topic, e->at_ms - assigned_at, g->at - assigned_at, e->role,
               k ? k->role : "(no clock)");
}

static void
test_warning_role(void)
{
        const struct got *w0, *w1, *up;
        const pb_history_t *e;
        int64_t assigned_at;
        uint64_t id = s_create();
        pb_reply_t *r;

        s_assign(id, "fast");
        r = s_get(id);
        e = s_history(r, A(ASSIGN), 0);
        REQUIRE(e != NULL);
        assigned_at = e->at_ms;
        complaint__v1__reply__free_unpacked(r, NULL);

        /* Level 0 warns at +0.5 s, escalates at +1 s; level 1 warns at +1.5 s. */
        w1 = s_sub_wait(assigned_at + 5000, id, "fast/warning/1");
        w0 = s_sub_find(id, "fast/warning/0");
        up = s_sub_find(id, "fast/escalated/1");
        CHECK(w0 != NULL);
        CHECK(w1 != NULL);
        CHECK(up != NULL);
        if (w0)
                s_check_warning(w0, 0, "", assigned_at);
        if (w1)
                s_check_warning(w1, 1, "Fast chief", assigned_at);
        if (up)
                CHECK_STR(up->ev->entry->role, "Fast chief");

        /* The history keeps the role too. */
        r = s_get(id);
        for (size_t i = 0; i < r->n_history; i++) {
                e = r->history[i];
                if ((int)e->action == A(WARN) && e->level == 1)
                        CHECK_STR(e->role, "Fast chief");
        }
        complaint__v1__reply__free_unpacked(r, NULL);
        /* Answered: the response clock stops before it climbs any further. */
        s_accept(id);
}

/* ------------------------------------------------------------------ 3: request ids */

/* Sends req with its request_id as given, takes the raw reply and checks it: one empty
 * delimiter and a Reply that decodes, with error INVALID_ARGUMENT, no request_id, and nothing
 * but UTF-8 in any of its strings. */
static void
s_check_bad_request_id(const char *what, pb_request_t *req)
{
        size_t n;
        uint8_t *bytes = harness_encode(req, &n);
        harness_frames_t f;
        pb_reply_t *r;
        char where[128] = "";
        int rc;

        REQUIRE(bytes != NULL);
        REQUIRE(harness_client_send(&cl, (const void *const[]){"", bytes}, (const size_t[]){0, n},
                                    2) == 0);
        free(bytes);
        rc = harness_client_recv(&cl, HARNESS_CALL_TIMEOUT_MS, &f);
        CHECK_INT(rc, 0);
        if (rc != 0) {
                harness_client_reset(&cl);
                return;
        }
        CHECK_INT(f.n, 2);
        CHECK_INT(f.size[0], 0);
        r = f.n == 2 ? complaint__v1__reply__unpack(NULL, f.size[1], f.data[1]) : NULL;
        CHECK(r != NULL);
        if (r) {
                bool utf8 = s_strings_utf8(&r->base, where, sizeof(where));

                CHECK_INT(r->error, E_INVALID_ARGUMENT);
                CHECK_STR(r->request_id, "");
                CHECK(s_utf8_ok(r->request_id));
                CHECK(s_utf8_ok(r->message));
                CHECK(r->message[0] != '\0');
                CHECK(utf8);
                CHECK(strstr(r->field, "request_id") != NULL);
                printf(
                    "case 3: %s: %s, field \"%s\", request_id of %zu bytes, message \"%s\"%s%s\n",
                    what, pb_error_name(r->error), r->field, strlen(r->request_id),
                    s_utf8_ok(r->message) ? r->message : "(not UTF-8)",
                    utf8 ? "" : "; not UTF-8: ", where);
                complaint__v1__reply__free_unpacked(r, NULL);
        }
        harness_frames_free(&f);
}

static void
test_request_id_not_utf8(void)
{
        Complaint__V1__CreateRequest q = COMPLAINT__V1__CREATE_REQUEST__INIT;
        Complaint__V1__GetRequest g = COMPLAINT__V1__GET_REQUEST__INIT;
        pb_complainant_t who = COMPLAINT__V1__COMPLAINANT__INIT;
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        uint64_t id = s_create();
        char buf[32];

        s_create_body(&q, &who, NULL, buf, sizeof(buf));
        req.schema_version = PB_SCHEMA_VERSION;
        req.request_id = (char *)"\xff\xfe";
        req.actor = (char *)ACTOR;
        req.body_case = BODY(CREATE);
        req.create = &q;
        s_check_bad_request_id("a create", &req);

        g.id = id;
        req.body_case = BODY(GET);
        req.get = &g;
        s_check_bad_request_id("a get", &req);
}

/* ------------------------------------------------------------------ 4: TOO_LARGE */

static void
test_too_large_echoes_id(void)
{
        Complaint__V1__CreateRequest q = COMPLAINT__V1__CREATE_REQUEST__INIT;
        pb_complainant_t who = COMPLAINT__V1__COMPLAINANT__INIT;
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        /* Over limits.message (65536), far under what ZeroMQ lets in (16 times that + 1 MiB). */
        size_t big = 70000;
        char *description = malloc(big + 1);
        char buf[32];
        pb_reply_t *r;

        REQUIRE(description != NULL);
        memset(description, 'x', big);
        description[big] = '\0';
        s_create_body(&q, &who, NULL, buf, sizeof(buf));
        q.description = description;
        req.request_id = (char *)"big-1";
        req.actor = (char *)ACTOR;
        req.body_case = BODY(CREATE);
        req.create = &q;
        r = s_read(&req);
        CHECK_INT(r->error, E_TOO_LARGE);
        CHECK_STR(r->request_id, "big-1");
        printf("case 4: %zu-byte request: %s, request_id \"%s\", message \"%s\"\n",
               protobuf_c_message_get_packed_size(&req.base), pb_error_name(r->error),
               r->request_id, r->message);
        complaint__v1__reply__free_unpacked(r, NULL);
        free(description);
}

/* ------------------------------------------------------------------ 5: required fields */

/* Sends a create with one field left out and checks the error names it. */
static void
s_check_missing(const char *what, int which, const char *field, const char *message)
{
        Complaint__V1__CreateRequest q = COMPLAINT__V1__CREATE_REQUEST__INIT;
        pb_complainant_t who = COMPLAINT__V1__COMPLAINANT__INIT;
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        char buf[32];
        pb_reply_t *r;

        s_create_body(&q, &who, NULL, buf, sizeof(buf));
        if (which == 0)
                q.channel = COMPLAINT__V1__CHANNEL__CHANNEL_UNSPECIFIED;
        else if (which == 1)
                q.subject = (char *)"";
        else
                q.description = (char *)"";
        req.body_case = BODY(CREATE);
        req.create = &q;
        r = harness_change(&cl, &req, ACTOR);
        REQUIRE(r != NULL);
        CHECK_INT(r->error, E_INVALID_ARGUMENT);
        CHECK(strstr(r->field, field) != NULL);
        if (message)
                CHECK_STR(r->message, message);
        printf("case 5: %s: %s, field \"%s\", message \"%s\"\n", what, pb_error_name(r->error),
               r->field, r->message);
        complaint__v1__reply__free_unpacked(r, NULL);
}

static void
test_create_required(void)
{
        s_check_missing("no channel", 0, "channel", "the channel is required");
        s_check_missing("no subject", 1, "subject", NULL);
        s_check_missing("no description", 2, "description", NULL);
}

/* ------------------------------------------------------------------ 6: reopen */

/* Checks a reopened complaint: with dept, no follow-up clock, both department clocks running
 * at level 0 for dept. */
static void
s_check_reopened(uint64_t id, const char *dept)
{
        pb_reply_t *r = s_get(id);
        const pb_complaint_t *c = r->complaint;

        CHECK_INT(c->status, ST_ASSIGNED);
        CHECK_STR(c->department, dept);
        CHECK_INT(c->level, 0);
        CHECK(c->follow_up_clock == NULL);
        CHECK(c->response_clock != NULL);
        CHECK(c->resolution_clock != NULL);
        if (c->response_clock && c->resolution_clock) {
                CHECK(c->response_clock->running);
                CHECK_INT(c->response_clock->level, 0);
                CHECK_STR(c->response_clock->department, dept);
                CHECK(c->resolution_clock->running);
                CHECK_INT(c->resolution_clock->level, 0);
                CHECK_STR(c->resolution_clock->department, dept);
        }
        printf("case 6: complaint %" PRIu64 " reopened to %s: follow_up_clock %s, response "
               "clock %s level %u, resolution clock %s level %u\n",
               id, c->department, c->follow_up_clock ? "present" : "absent",
               c->response_clock && c->response_clock->running ? "running" : "not running",
               c->response_clock ? c->response_clock->level : 0,
               c->resolution_clock && c->resolution_clock->running ? "running" : "not running",
               c->resolution_clock ? c->resolution_clock->level : 0);
        complaint__v1__reply__free_unpacked(r, NULL);
}

/* Prints the topics of the events published for id's reopening. */
static void
s_print_topics(uint64_t id, const pb_event_t *const *ev, size_t n)
{
        printf("case 6: complaint %" PRIu64 ": the reopening published %zu event(s):", id, n);
        for (size_t i = 0; i < n; i++)
                printf(" %s", ev[i]->topic);
        printf("\n");
}

static void
test_reopen(void)
{
        uint64_t dismissed = s_create(), closed = s_create();
        const pb_event_t *ev[16] = {0};
        struct evlog log;
        pb_reply_t *r;
        size_t n;

        /* Dismissed while with slow, reopened into other: it leaves slow as in a reassignment. */
        s_assign(dismissed, "slow");
        s_dismiss(dismissed);
        s_reopen(dismissed, "other");
        s_check_reopened(dismissed, "other");

        /* Closed (after an escalation by hand, so its clocks had left level 0), reopened into
         * the same department: only a reopened event. */
        s_assign(closed, "slow");
        s_escalate(closed);
        s_resolve(closed);
        s_close(closed);
        r = s_get(closed);
        /* Before the reopening it had a follow-up clock to drop, and a clock at level 1. */
        CHECK(r->complaint->follow_up_clock != NULL);
        CHECK(r->complaint->resolution_clock && r->complaint->resolution_clock->level == 1);
        complaint__v1__reply__free_unpacked(r, NULL);
        s_reopen(closed, "");
        s_check_reopened(closed, "slow");

        s_evlog_load(&log, "");
        n = s_evlog_select(&log, dismissed, A(REOPEN), ev, 16);
        s_print_topics(dismissed, ev, n);
        CHECK_INT(n, 2);
        CHECK(s_evlog_find(&log, dismissed, A(REOPEN), "other/reopened") != NULL);
        CHECK(s_evlog_find(&log, dismissed, A(REOPEN), "slow/reassigned") != NULL);
        n = s_evlog_select(&log, closed, A(REOPEN), ev, 16);
        s_print_topics(closed, ev, n);
        CHECK_INT(n, 1);
        if (n >= 1)
                CHECK_STR(ev[0]->topic, "slow/reopened");
        s_evlog_free(&log);
}

/* ------------------------------------------------------------------ 7: unknown stream */

static void
test_replay_unknown_stream(void)
{
        pb_reply_t *r = s_replay("no-such-dept", 0, 0);

        CHECK_INT(r->error, E_OK);
        CHECK(r->replay != NULL);
        if (r->replay) {
                CHECK_INT(r->replay->n_events, 0);
                CHECK_INT(r->replay->head, 0);
        }
        printf("case 7: replay of \"no-such-dept\": %s, %zu events, head %" PRIu64 "\n",
               pb_error_name(r->error), r->replay ? r->replay->n_events : 0,
               r->replay ? r->replay->head : 0);
        complaint__v1__reply__free_unpacked(r, NULL);
}

/* ------------------------------------------------------------------ 12: by hand */

static void
test_escalated_by_hand(void)
{
        uint64_t resolved = s_create(), running = s_create();
        const Complaint__V1__LedgerRow *row;
        const Complaint__V1__Clock *k;
        pb_reply_t *r;

        /* Escalated at once, resolved a moment later: well within the 2 h limit. */
        s_assign(resolved, "hand");
        s_escalate(resolved);
        r = s_get(resolved);
        k = r->complaint->resolution_clock;
        CHECK(k && k->running && k->level == 1);
        complaint__v1__reply__free_unpacked(r, NULL);
        s_resolve(resolved);
        r = s_get(resolved);
        k = r->complaint->resolution_clock;
        CHECK(k != NULL);
        if (k) {
                CHECK(!k->running);
                CHECK(k->met);
                printf("case 12: complaint %" PRIu64 " escalated by hand to level %u and "
                       "resolved after %" PRId64 " ms: met %s\n",
                       resolved, k->level, k->elapsed_ms, k->met ? "true" : "false");
        }
        complaint__v1__reply__free_unpacked(r, NULL);

        /* Escalated by hand and left running, well before its limit. */
        s_assign(running, "hand");
        s_escalate(running);

        row = s_ledger_row("hand", resolved, &r);
        CHECK(row != NULL);
        if (row) {
                CHECK_INT(row->resolution, LIMIT(MET));
                printf("case 12: ledger row %" PRIu64 ": resolution %d (MET is %d)\n", row->id,
                       row->resolution, LIMIT(MET));
        }
        complaint__v1__reply__free_unpacked(r, NULL);
        row = s_ledger_row("hand", running, &r);
        CHECK(row != NULL);
        if (row) {
                CHECK_INT(row->resolution, LIMIT(RUNNING));
                printf("case 12: ledger row %" PRIu64 ": resolution %d (RUNNING is %d)\n", row->id,
                       row->resolution, LIMIT(RUNNING));
        }
        complaint__v1__reply__free_unpacked(r, NULL);

        r = s_report("hand");
        CHECK_INT(r->report->total->complaints, 2);
        CHECK_INT(r->report->total->resolved, 1);
        CHECK_INT(r->report->total->resolution_timed, 1);
        CHECK_INT(r->report->total->resolution_met, 1);
        printf("case 12: report of hand: %" PRIu64 " complaints, %" PRIu64 " resolved, %" PRIu64
               " timed, %" PRIu64 " met\n",
               r->report->total->complaints, r->report->total->resolved,
               r->report->total->resolution_timed, r->report->total->resolution_met);
        complaint__v1__reply__free_unpacked(r, NULL);
}

/* ------------------------------------------------------------------ 13: untimed */

static void
test_reassigned_untimed(void)
{
        uint64_t id = s_create();
        const pb_complaint_t *c;
        pb_reply_t *r;

        s_assign(id, "slow");
        s_accept(id);
        r = s_get(id);
        /* Answered in slow: the clock the reassignment must not carry over. */
        CHECK(r->complaint->response_clock && !r->complaint->response_clock->running &&
              r->complaint->response_clock->stopped_by == A(ACCEPT));
        complaint__v1__reply__free_unpacked(r, NULL);
        s_assign(id, "untimed");

        r = s_get(id);
        c = r->complaint;
        CHECK_STR(c->department, "untimed");
        CHECK(c->response_clock == NULL);
        CHECK(c->resolution_clock == NULL);
        printf("case 13: complaint %" PRIu64 " with untimed: response_clock %s, resolution_clock "
               "%s\n",
               id, c->response_clock ? "present" : "absent",
               c->resolution_clock ? "present" : "absent");
        complaint__v1__reply__free_unpacked(r, NULL);

        r = s_report("untimed");
        CHECK_INT(r->report->total->complaints, 1);
        CHECK_INT(r->report->total->accepted, 0);
        printf("case 13: report of untimed: %" PRIu64 " complaints, %" PRIu64 " accepted\n",
               r->report->total->complaints, r->report->total->accepted);
        complaint__v1__reply__free_unpacked(r, NULL);
}

/* ------------------------------------------------------------------ 15: late */

/* (a) Stalled, not down: SIGSTOP across the deadline and 1.3 s beyond it. */
static void
test_late_stalled(void)
{
        uint64_t id = s_create();
        const struct got *g;
        int64_t due, stopped_at, resumed_at;
        pb_reply_t *r;

        s_assign(id, "late");
        r = s_get(id);
        REQUIRE(r->complaint->response_clock != NULL);
        due = r->complaint->response_clock->due_at_ms;
        complaint__v1__reply__free_unpacked(r, NULL);

        REQUIRE(kill(h.pid, SIGSTOP) == 0);
        stopped_at = s_utc_ms();
        /* Nothing comes while the daemon is stopped: the poll times out at due + 1.3 s. */
        s_sub_wait(due + 1300, 0, NULL);
        resumed_at = s_utc_ms();
        REQUIRE(kill(h.pid, SIGCONT) == 0);

        g = s_sub_wait(s_utc_ms() + 5000, id, "late/escalated/1");
        CHECK(g != NULL);
        if (g) {
                const pb_history_t *e = g->ev->entry;

                CHECK_INT(e->at_ms, due);
                CHECK(!e->late);
                CHECK(e->recorded_at_ms - e->at_ms >= 1000);
                printf("case 15a: stopped %" PRId64 " ms before the deadline, resumed %" PRId64
                       " ms after it; escalation late %s, recorded_at_ms - at_ms = %" PRId64
                       " ms\n",
                       due - stopped_at, resumed_at - due, e->late ? "true" : "false",
                       e->recorded_at_ms - e->at_ms);
        }
        r = s_get(id);
        {
                const pb_history_t *e = s_history(r, A(ESCALATE), K(RESPONSE));

                CHECK(e != NULL);
                if (e) {
                        CHECK(!e->late);
                        CHECK(e->recorded_at_ms - e->at_ms >= 1000);
                }
        }
        complaint__v1__reply__free_unpacked(r, NULL);
}

/* (b) Down: stopped across the deadline and started again. */
static void
test_late_down(void)
{
        const pb_history_t *e = NULL;
        uint64_t id = s_create();
        int64_t due, restarted_at;
        pb_reply_t *r;

        s_assign(id, "late");
        r = s_get(id);
        REQUIRE(r->complaint->response_clock != NULL);
        due = r->complaint->response_clock->due_at_ms;
        complaint__v1__reply__free_unpacked(r, NULL);

        CHECK_INT(harness_stop(&h), 0);
        /* The daemon is down: the poll on its event socket times out at due + 0.5 s. */
        s_sub_wait(due + 500, 0, NULL);
        REQUIRE(harness_start(&h) == 0);
        restarted_at = s_utc_ms();
        REQUIRE(harness_client_reset(&cl) == 0);

        /* The deadline fires on start-up; wait for its entry, 5 s at most. */
        r = NULL;
        for (int i = 0; i < 50; i++) {
                if (r)
                        complaint__v1__reply__free_unpacked(r, NULL);
                r = s_get(id);
                e = s_history(r, A(ESCALATE), K(RESPONSE));
                if (e || s_utc_ms() > restarted_at + 5000)
                        break;
                s_sub_wait(s_utc_ms() + 100, id, "late/escalated/1");
        }
        CHECK(e != NULL);
        if (e) {
                CHECK(e->late);
                CHECK_INT(e->at_ms, due);
                CHECK(e->recorded_at_ms > e->at_ms);
                printf(
                    "case 15b: down across the deadline, restarted %" PRId64
                    " ms after it; escalation late %s, recorded_at_ms - at_ms = %" PRId64 " ms\n",
                    restarted_at - due, e->late ? "true" : "false", e->recorded_at_ms - e->at_ms);
        }
        if (r)
                complaint__v1__reply__free_unpacked(r, NULL);
}

int
main(void)
{
        int64_t started = harness_now_ms();

        REQUIRE(harness_init(&h, "it_contract") == 0);
        REQUIRE(harness_write_conf(h.conf, conf_pairs) == 0);
        REQUIRE(harness_start(&h) == 0);
        REQUIRE(harness_client_open(&h, &cl) == 0);
        REQUIRE(s_sub_open() == 0);
        t_begin = s_utc_ms() - 1000;

        test_request_id_not_utf8();
        test_too_large_echoes_id();
        test_create_required();
        test_replay_unknown_stream();
        test_event_seq();
        test_warning_role();
        test_reopen();
        test_escalated_by_hand();
        test_reassigned_untimed();
        test_late_stalled();
        test_late_down();
        /* Last, so that it covers every event of the run. */
        test_every_event();

        printf("it_contract: %" PRId64 " ms\n", harness_now_ms() - started);
        s_sub_close();
        harness_client_close(&cl);
        return harness_cleanup(&h, check_summary());
}
