/* it_escalation.c: deadlines, warnings and escalation against the real daemon, on a 24x7
 * calendar with limits of a few seconds: a complaint left alone climbs every level and then
 * re-alerts, each event within a second of its deadline; acceptance and resolution in time
 * stop the clocks; pending pauses the resolution clock; reassignment resets the level; and
 * deadlines that fall due while the daemon is stopped fire once each, in order, on restart.
 *
 * The only waits are for events on a SUB socket or for a deadline instant to pass (a poll with
 * a bounded timeout on the socket): the passing of a deadline is the event under test. */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <zmq.h>

#include "check.h"
#include "harness.h"

CHECK_DEFINE_COUNTERS();

#define A(x) COMPLAINT__V1__ACTION__ACTION_##x
#define K(x) COMPLAINT__V1__CLOCK_KIND__CLOCK_KIND_##x

/* Billing: response 2 s, resolution 6 s, two levels of 2 s, re-alerts every 2 s, warnings at
 * half an allowance. Network: timed too, for reassignment. The centre's follow-up is long. */
static const char *const conf_text =
    "daemon: { heartbeat = \"100ms\"; };\n"
    "centre = \"centre\";\n"
    "escalation: { warning = 0.5; realert = \"2s\"; followup = \"1h\"; };\n"
    "departments = (\n"
    "  { id = \"centre\"; name = \"Centre\"; calendar = \"24x7\";\n"
    "    chain = ( { role = \"Supervisor\"; allowance = \"1h\"; } ); },\n"
    "  { id = \"billing\"; name = \"Billing\"; calendar = \"24x7\";\n"
    "    response = \"2s\"; resolution = \"6s\";\n"
    "    chain = ( { role = \"Section chief\"; allowance = \"2s\"; },\n"
    "              { role = \"Department head\"; allowance = \"2s\"; } ); },\n"
    "  { id = \"network\"; name = \"Network\"; calendar = \"24x7\";\n"
    "    response = \"1h\"; resolution = \"2h\";\n"
    "    chain = ( { role = \"Shift lead\"; allowance = \"1h\"; } ); }\n"
    ");\n"
    "categories = ( { id = \"billing\"; name = \"Billing\"; department = \"billing\"; } );\n";

/* Downtime: warnings off; billing's response escalates at +2 s and +4 s, then not for an hour;
 * network's at +3 s, then not for an hour. No resolution clocks. */
static const char *const downtime_conf_text =
    "daemon: { heartbeat = \"100ms\"; };\n"
    "centre = \"centre\";\n"
    "escalation: { warning = 0; realert = \"1h\"; };\n"
    "departments = (\n"
    "  { id = \"centre\"; name = \"Centre\"; },\n"
    "  { id = \"billing\"; name = \"Billing\"; calendar = \"24x7\"; response = \"2s\";\n"
    "    chain = ( { role = \"Section chief\"; allowance = \"2s\"; },\n"
    "              { role = \"Department head\"; allowance = \"1h\"; } ); },\n"
    "  { id = \"network\"; name = \"Network\"; calendar = \"24x7\"; response = \"3s\";\n"
    "    chain = ( { role = \"Shift lead\"; allowance = \"1h\"; } ); }\n"
    ");\n"
    "categories = ( { id = \"billing\"; name = \"Billing\"; department = \"billing\"; },\n"
    "               { id = \"network\"; name = \"Network\"; department = \"network\"; } );\n";

static int
s_write(const char *path, const char *text)
{
        FILE *f = fopen(path, "w");

        if (f == NULL)
                return -1;
        fputs(text, f);
        return fclose(f);
}

/* Sends one change; returns the reply (caller frees) or NULL after reporting why. */
static pb_reply_t *
s_call(harness_client_t *c, pb_request_t *req)
{
        return harness_change(c, req, "tester");
}

static uint64_t
s_create(harness_client_t *c, const char *category)
{
        Complaint__V1__CreateRequest q = COMPLAINT__V1__CREATE_REQUEST__INIT;
        pb_complainant_t who = COMPLAINT__V1__COMPLAINANT__INIT;
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        pb_reply_t *r;
        uint64_t id = 0;

        who.phone = (char *)"+49 30 555 0100";
        q.channel = COMPLAINT__V1__CHANNEL__CHANNEL_PHONE;
        q.complainant = &who;
        q.subject = (char *)"Charged twice";
        q.description = (char *)"The October bill has the same line twice.";
        q.category = (char *)(uintptr_t)category;
        req.body_case = COMPLAINT__V1__REQUEST__BODY_CREATE;
        req.create = &q;
        r = s_call(c, &req);
        if (r && r->error == E_OK && r->complaint)
                id = r->complaint->id;
        if (r)
                complaint__v1__reply__free_unpacked(r, NULL);
        return id;
}

/* A change with only an id, a department and a note; returns the error code (-1: no reply). */
static int
s_change(harness_client_t *c, int body, uint64_t id, const char *dept, const char *note)
{
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        Complaint__V1__AssignRequest as = COMPLAINT__V1__ASSIGN_REQUEST__INIT;
        Complaint__V1__AcceptRequest ac = COMPLAINT__V1__ACCEPT_REQUEST__INIT;
        Complaint__V1__PendRequest pe = COMPLAINT__V1__PEND_REQUEST__INIT;
        Complaint__V1__ResumeRequest re = COMPLAINT__V1__RESUME_REQUEST__INIT;
        Complaint__V1__ResolveRequest rs = COMPLAINT__V1__RESOLVE_REQUEST__INIT;
        Complaint__V1__EscalateRequest es = COMPLAINT__V1__ESCALATE_REQUEST__INIT;
        pb_reply_t *r;
        int code;

        req.body_case = body;
        switch (body) {
        case COMPLAINT__V1__REQUEST__BODY_ASSIGN:
                as.id = id;
                as.department = (char *)(uintptr_t)(dept ? dept : "");
                req.assign = &as;
                break;
        case COMPLAINT__V1__REQUEST__BODY_ACCEPT:
                ac.id = id;
                req.accept = &ac;
                break;
        case COMPLAINT__V1__REQUEST__BODY_PEND:
                pe.id = id;
                pe.note = (char *)(uintptr_t)note;
                req.pend = &pe;
                break;
        case COMPLAINT__V1__REQUEST__BODY_RESUME:
                re.id = id;
                req.resume = &re;
                break;
        case COMPLAINT__V1__REQUEST__BODY_RESOLVE:
                rs.id = id;
                rs.cause = (char *)"duplicate line";
                rs.responsibility = COMPLAINT__V1__RESPONSIBILITY__RESPONSIBILITY_COMPANY;
                rs.reply = (char *)"Refunded.";
                req.resolve = &rs;
                break;
        case COMPLAINT__V1__REQUEST__BODY_ESCALATE:
                es.id = id;
                es.note = (char *)(uintptr_t)(note ? note : "");
                req.escalate = &es;
                break;
        }
        r = s_call(c, &req);
        if (r == NULL)
                return -1;
        code = r->error;
        complaint__v1__reply__free_unpacked(r, NULL);
        return code;
}

static pb_reply_t *
s_get(harness_client_t *c, uint64_t id)
{
        Complaint__V1__GetRequest g = COMPLAINT__V1__GET_REQUEST__INIT;
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        pb_reply_t *r = NULL;

        g.id = id;
        req.body_case = COMPLAINT__V1__REQUEST__BODY_GET;
        req.get = &g;
        if (harness_client_call(c, &req, HARNESS_CALL_TIMEOUT_MS, &r) < 0 || r->error != E_OK) {
                if (r)
                        complaint__v1__reply__free_unpacked(r, NULL);
                return NULL;
        }
        return r;
}

/* ------------------------------------------------------------ the subscriber */

struct received {
        pb_event_t *ev;
        char topic[96];
        int64_t at; /* when it arrived, UTC ms */
};

struct sub {
        void *sock;
        struct received ev[512];
        size_t n;
};

static int64_t
s_utc_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Subscribes to prefix and waits for a heartbeat, which proves the subscription is live. */
static int
s_subscribe(harness_t *h, struct sub *s, const char *prefix)
{
        int64_t end = harness_now_ms() + 5000;

        s->sock = zmq_socket(h->zctx, ZMQ_SUB);
        zmq_setsockopt(s->sock, ZMQ_SUBSCRIBE, prefix, strlen(prefix));
        zmq_setsockopt(s->sock, ZMQ_SUBSCRIBE, "_heartbeat", 10);
        zmq_setsockopt(s->sock, ZMQ_LINGER, &(int){0}, sizeof(int));
        if (zmq_connect(s->sock, h->events) < 0)
                return -1;
        while (harness_now_ms() < end) {
                char topic[96];
                zmq_msg_t m;
                int n;

                zmq_pollitem_t it = {.socket = s->sock, .events = ZMQ_POLLIN};
                if (zmq_poll(&it, 1, (long)(end - harness_now_ms())) <= 0)
                        break;
                n = zmq_recv(s->sock, topic, sizeof(topic) - 1, 0);
                zmq_msg_init(&m);
                zmq_msg_recv(&m, s->sock, 0);
                zmq_msg_close(&m);
                if (n >= 10 && strncmp(topic, "_heartbeat", 10) == 0)
                        return 0;
        }
        return -1;
}

/* Collects events until the UTC instant `until` (bounded by it). */
static void
s_collect(struct sub *s, int64_t until)
{
        while (s_utc_ms() < until && s->n < sizeof(s->ev) / sizeof(s->ev[0])) {
                zmq_pollitem_t it = {.socket = s->sock, .events = ZMQ_POLLIN};
                zmq_msg_t body;
                char topic[96];
                int n;

                if (zmq_poll(&it, 1, (long)(until - s_utc_ms())) <= 0)
                        continue;
                n = zmq_recv(s->sock, topic, sizeof(topic) - 1, 0);
                if (n < 0)
                        continue;
                topic[n < (int)sizeof(topic) - 1 ? n : (int)sizeof(topic) - 1] = '\0';
                zmq_msg_init(&body);
                zmq_msg_recv(&body, s->sock, 0);
                if (strcmp(topic, "_heartbeat") != 0) {
                        struct received *r = &s->ev[s->n];

                        r->ev = complaint__v1__event__unpack(NULL, zmq_msg_size(&body),
                                                             zmq_msg_data(&body));
                        r->at = s_utc_ms();
                        snprintf(r->topic, sizeof(r->topic), "%s", topic);
                        if (r->ev)
                                s->n++;
                }
                zmq_msg_close(&body);
        }
}

static void
s_sub_close(struct sub *s)
{
        for (size_t i = 0; i < s->n; i++)
                complaint__v1__event__free_unpacked(s->ev[i].ev, NULL);
        s->n = 0;
        zmq_close(s->sock);
}

/* The events of complaint id with action and clock, in order of arrival. */
static size_t
s_select(struct sub *s, uint64_t id, int action, int clock, const struct received **out, size_t max)
{
        size_t n = 0;

        for (size_t i = 0; i < s->n && n < max; i++) {
                const pb_history_t *e = s->ev[i].ev->entry;

                if (e && e->complaint_id == id && (int)e->action == action &&
                    (clock == 0 || (int)e->clock == clock))
                        out[n++] = &s->ev[i];
        }
        return n;
}

static int64_t
s_history_at(const pb_reply_t *r, int action)
{
        for (size_t i = 0; i < r->n_history; i++)
                if ((int)r->history[i]->action == action)
                        return r->history[i]->at_ms;
        return 0;
}

/* ------------------------------------------------------------------ the tests */

static void
test_running_daemon(harness_t *h)
{
        harness_client_t c;
        struct sub s = {0};
        const struct received *esc[32], *warn[32];
        uint64_t alone, accepted, resolved, paused, moved;
        pb_reply_t *r;
        int64_t assigned_at, end;
        size_t n;

        REQUIRE(harness_client_open(h, &c) == 0);
        REQUIRE(s_subscribe(h, &s, "") == 0);

        alone = s_create(&c, "billing");
        accepted = s_create(&c, "billing");
        resolved = s_create(&c, "billing");
        paused = s_create(&c, "billing");
        moved = s_create(&c, "billing");
        REQUIRE(alone && accepted && resolved && paused && moved);
        CHECK_INT(s_change(&c, COMPLAINT__V1__REQUEST__BODY_ASSIGN, alone, "billing", NULL), 0);
        r = s_get(&c, alone);
        REQUIRE(r != NULL);
        assigned_at = s_history_at(r, A(ASSIGN));
        REQUIRE(r->complaint->response_clock && r->complaint->resolution_clock);
        CHECK_INT(r->complaint->response_clock->due_at_ms, assigned_at + 2000);
        CHECK_INT(r->complaint->resolution_clock->due_at_ms, assigned_at + 6000);
        CHECK_INT(r->complaint->response_clock->warn_at_ms, assigned_at + 1000);
        complaint__v1__reply__free_unpacked(r, NULL);

        CHECK_INT(s_change(&c, COMPLAINT__V1__REQUEST__BODY_ASSIGN, accepted, NULL, NULL), 0);
        CHECK_INT(s_change(&c, COMPLAINT__V1__REQUEST__BODY_ACCEPT, accepted, NULL, NULL), 0);
        CHECK_INT(s_change(&c, COMPLAINT__V1__REQUEST__BODY_ASSIGN, resolved, NULL, NULL), 0);
        CHECK_INT(s_change(&c, COMPLAINT__V1__REQUEST__BODY_RESOLVE, resolved, NULL, NULL), 0);
        CHECK_INT(s_change(&c, COMPLAINT__V1__REQUEST__BODY_ASSIGN, paused, NULL, NULL), 0);
        CHECK_INT(s_change(&c, COMPLAINT__V1__REQUEST__BODY_ASSIGN, moved, NULL, NULL), 0);

        /* Pause `paused` a second after its assignment, for three seconds. */
        s_collect(&s, assigned_at + 1000);
        CHECK_INT(s_change(&c, COMPLAINT__V1__REQUEST__BODY_PEND, paused, NULL,
                           "waiting for the customer's statement"),
                  0);
        /* `moved` reaches level 1 at +2 s; reassigning it at +2.5 s starts over at level 0. */
        s_collect(&s, assigned_at + 2500);
        r = s_get(&c, moved);
        REQUIRE(r != NULL);
        CHECK_INT(r->complaint->level, 1);
        complaint__v1__reply__free_unpacked(r, NULL);
        CHECK_INT(s_change(&c, COMPLAINT__V1__REQUEST__BODY_ASSIGN, moved, "network", NULL), 0);
        r = s_get(&c, moved);
        REQUIRE(r != NULL);
        CHECK_INT(r->complaint->level, 0);
        CHECK_INT(r->complaint->max_level, 1);
        CHECK_STR(r->complaint->response_clock->department, "network");
        CHECK_INT(r->complaint->response_clock->level, 0);
        CHECK_INT(r->complaint->resolution_clock->level, 0);
        complaint__v1__reply__free_unpacked(r, NULL);

        s_collect(&s, assigned_at + 4000);
        CHECK_INT(s_change(&c, COMPLAINT__V1__REQUEST__BODY_RESUME, paused, NULL, NULL), 0);
        r = s_get(&c, paused);
        REQUIRE(r != NULL);
        {
                const Complaint__V1__Clock *k = r->complaint->resolution_clock;
                int64_t a = s_history_at(r, A(ASSIGN)), p = s_history_at(r, A(PEND)),
                        q = s_history_at(r, A(RESUME));

                /* 6 s allowed, (p - a) used before the pause: the rest counts from the resume. */
                REQUIRE(k != NULL);
                CHECK_INT(k->due_at_ms, q + 6000 - (p - a));
                CHECK_INT(k->paused_total_ms, q - p);
                CHECK(!k->paused);
                /* The pend answered the complaint: its response clock stopped in time. */
                CHECK(!r->complaint->response_clock->running);
                CHECK(r->complaint->response_clock->met);
        }
        complaint__v1__reply__free_unpacked(r, NULL);

        /* Until +11 s: level 1 at +2, level 2 at +4, re-alerts at +6, +8, +10. */
        end = assigned_at + 11000;
        s_collect(&s, end);

        n = s_select(&s, alone, A(ESCALATE), K(RESPONSE), esc, 32);
        CHECK_INT(n, 5);
        for (size_t i = 0; i < n && i < 5; i++) {
                const pb_history_t *e = esc[i]->ev->entry;
                int64_t due = assigned_at + 2000 * (int64_t)(i + 1);
                char topic[64];

                CHECK_INT(e->at_ms, due);
                CHECK_INT(e->level, i == 0 ? 1 : 2);
                CHECK_INT(e->realert, i >= 2);
                snprintf(topic, sizeof(topic), "billing/escalated/%d", i == 0 ? 1 : 2);
                CHECK_STR(esc[i]->topic, topic);
                CHECK_STR(e->role, i == 0 ? "Section chief" : "Department head");
                /* Within one second of its deadline. */
                CHECK(esc[i]->at - due < 1000);
                CHECK(!e->late);
                if (esc[i]->at - due >= 1000)
                        fprintf(stderr, "escalation %zu arrived %" PRId64 " ms late\n", i,
                                esc[i]->at - due);
        }
        /* One warning per level at half the allowance: +1 (level 0), +3 (level 1), +5 (2). */
        n = s_select(&s, alone, A(WARN), K(RESPONSE), warn, 32);
        CHECK_INT(n, 3);
        for (size_t i = 0; i < n && i < 3; i++) {
                CHECK_INT(warn[i]->ev->entry->at_ms, assigned_at + 1000 + 2000 * (int64_t)i);
                CHECK_INT(warn[i]->ev->entry->level, i);
        }
        /* The resolution clock of `alone`: level 1 at +6, level 2 at +8, re-alert at +10. */
        n = s_select(&s, alone, A(ESCALATE), K(RESOLUTION), esc, 32);
        CHECK_INT(n, 3);
        if (n >= 1)
                CHECK_INT(esc[0]->ev->entry->at_ms, assigned_at + 6000);

        /* Accepted in time: no response escalation, ever. */
        CHECK_INT(s_select(&s, accepted, A(ESCALATE), K(RESPONSE), esc, 32), 0);
        /* Resolved in time: nothing escalates at all. */
        CHECK_INT(s_select(&s, resolved, A(ESCALATE), 0, esc, 32), 0);
        CHECK_INT(s_select(&s, resolved, A(WARN), 0, esc, 32), 0);
        /* Paused: the resolution clock's first escalation moved by the paused time. */
        n = s_select(&s, paused, A(ESCALATE), K(RESOLUTION), esc, 32);
        r = s_get(&c, paused);
        if (r) {
                int64_t a = s_history_at(r, A(ASSIGN)), p = s_history_at(r, A(PEND)),
                        q = s_history_at(r, A(RESUME));

                CHECK_INT(n, 1);
                if (n >= 1)
                        CHECK_INT(esc[0]->ev->entry->at_ms, a + 6000 + (q - p));
                complaint__v1__reply__free_unpacked(r, NULL);
        }
        /* Reassigned: nothing more from billing for `moved` after the move. */
        n = s_select(&s, moved, A(ESCALATE), 0, esc, 32);
        CHECK_INT(n, 1);

        /* status: overdue counts and the next deadline. */
        r = harness_status(h);
        REQUIRE(r && r->status);
        CHECK(r->status->overdue >= 2); /* alone and paused */
        CHECK(r->status->next_deadline_ms > 0);
        complaint__v1__reply__free_unpacked(r, NULL);

        /* A supervisor escalates by hand: one level up, and refused at the top. */
        accepted = s_create(&c, "billing");
        REQUIRE(accepted != 0);
        CHECK_INT(s_change(&c, COMPLAINT__V1__REQUEST__BODY_ASSIGN, accepted, NULL, NULL), 0);
        CHECK_INT(s_change(&c, COMPLAINT__V1__REQUEST__BODY_ACCEPT, accepted, NULL, NULL), 0);
        CHECK_INT(s_change(&c, COMPLAINT__V1__REQUEST__BODY_ESCALATE, accepted, NULL, "by hand"),
                  0);
        r = s_get(&c, accepted);
        REQUIRE(r != NULL);
        CHECK_INT(r->complaint->resolution_clock->level, 1);
        CHECK_INT(r->complaint->level, 1);
        complaint__v1__reply__free_unpacked(r, NULL);
        CHECK_INT(s_change(&c, COMPLAINT__V1__REQUEST__BODY_ESCALATE, accepted, NULL, NULL), 0);
        CHECK_INT(s_change(&c, COMPLAINT__V1__REQUEST__BODY_ESCALATE, accepted, NULL, NULL),
                  E_INVALID_TRANSITION);

        s_sub_close(&s);
        harness_client_close(&c);
}

static void
test_downtime(harness_t *h)
{
        harness_client_t c;
        uint64_t a, b;
        int64_t ta, tb, wait_until;
        pb_reply_t *ra, *rb;
        uint64_t seqs[3] = {0};

        REQUIRE(s_write(h->conf, downtime_conf_text) == 0);
        REQUIRE(harness_start(h) == 0);
        REQUIRE(harness_client_open(h, &c) == 0);
        a = s_create(&c, "billing");
        b = s_create(&c, "network");
        REQUIRE(a && b);
        CHECK_INT(s_change(&c, COMPLAINT__V1__REQUEST__BODY_ASSIGN, a, NULL, NULL), 0);
        CHECK_INT(s_change(&c, COMPLAINT__V1__REQUEST__BODY_ASSIGN, b, NULL, NULL), 0);
        ra = s_get(&c, a);
        rb = s_get(&c, b);
        REQUIRE(ra && rb);
        ta = s_history_at(ra, A(ASSIGN));
        tb = s_history_at(rb, A(ASSIGN));
        complaint__v1__reply__free_unpacked(ra, NULL);
        complaint__v1__reply__free_unpacked(rb, NULL);
        harness_client_close(&c);
        CHECK_INT(harness_stop(h), 0);

        /* Down across a+2 s, b+3 s and a+4 s. */
        wait_until = ta + 4500 > tb + 3500 ? ta + 4500 : tb + 3500;
        while (s_utc_ms() < wait_until)
                poll(NULL, 0, (int)(wait_until - s_utc_ms()));

        for (int round = 0; round < 2; round++) {
                REQUIRE(harness_start(h) == 0);
                REQUIRE(harness_client_open(h, &c) == 0);
                ra = s_get(&c, a);
                rb = s_get(&c, b);
                REQUIRE(ra && rb);
                /* a: create, assign, escalate 1, escalate 2; b: create, assign, escalate 1. */
                CHECK_INT(ra->n_history, 4);
                CHECK_INT(rb->n_history, 3);
                if (ra->n_history == 4 && rb->n_history == 3) {
                        const pb_history_t *a1 = ra->history[2], *a2 = ra->history[3],
                                           *b1 = rb->history[2];

                        CHECK_INT(a1->action, A(ESCALATE));
                        CHECK_INT(a1->level, 1);
                        CHECK_INT(a1->at_ms, ta + 2000);
                        CHECK(a1->late);
                        CHECK(a1->recorded_at_ms > a1->at_ms);
                        CHECK_INT(a2->level, 2);
                        CHECK_INT(a2->at_ms, ta + 4000);
                        CHECK(a2->late);
                        CHECK_INT(b1->level, 1);
                        CHECK_INT(b1->at_ms, tb + 3000);
                        CHECK(b1->late);
                        /* In deadline order, whatever order the complaints were stored in. */
                        if (round == 0) {
                                seqs[0] = a1->event_seq;
                                seqs[1] = b1->event_seq;
                                seqs[2] = a2->event_seq;
                        }
                        CHECK(seqs[0] < seqs[1] && seqs[1] < seqs[2]);
                        /* A restart right after changes nothing. */
                        CHECK_INT(a1->event_seq, seqs[0]);
                        CHECK_INT(b1->event_seq, seqs[1]);
                        CHECK_INT(a2->event_seq, seqs[2]);
                        CHECK_INT(ra->complaint->level, 2);
                }
                complaint__v1__reply__free_unpacked(ra, NULL);
                complaint__v1__reply__free_unpacked(rb, NULL);
                harness_client_close(&c);
                CHECK_INT(harness_stop(h), 0);
        }
}

/* A reload changes billing's response limit from 2 s to 1 h: clocks started before keep their
 * deadline, clocks started after get the new one, and nothing escalates at once. */
static void
test_reload(harness_t *h)
{
        harness_client_t c;
        uint64_t before, after = 0;
        int64_t due_before = 0;
        pb_reply_t *r;
        char *longer;
        const char *at;

        REQUIRE(s_write(h->conf, downtime_conf_text) == 0);
        REQUIRE(harness_start(h) == 0);
        REQUIRE(harness_client_open(h, &c) == 0);
        before = s_create(&c, "billing");
        REQUIRE(before != 0);
        CHECK_INT(s_change(&c, COMPLAINT__V1__REQUEST__BODY_ASSIGN, before, NULL, NULL), 0);
        r = s_get(&c, before);
        REQUIRE(r && r->complaint->response_clock);
        due_before = r->complaint->response_clock->due_at_ms;
        CHECK_INT(due_before - s_history_at(r, A(ASSIGN)), 2000);
        complaint__v1__reply__free_unpacked(r, NULL);

        longer = strdup(downtime_conf_text);
        REQUIRE(longer != NULL && (at = strstr(longer, "response = \"2s\"")) != NULL);
        memcpy(longer + (at - longer), "response = \"1h\"", 15);
        REQUIRE(s_write(h->conf, longer) == 0);
        free(longer);
        REQUIRE(kill(h->pid, SIGHUP) == 0);

        /* The reload lands between two batches: new complaints show when it has. */
        for (int i = 0; i < 200; i++) {
                int64_t limit = 0;
                uint64_t id = s_create(&c, "billing");

                if (id == 0 || s_change(&c, COMPLAINT__V1__REQUEST__BODY_ASSIGN, id, NULL, NULL))
                        break;
                r = s_get(&c, id);
                if (r && r->complaint->response_clock)
                        limit =
                            r->complaint->response_clock->due_at_ms - s_history_at(r, A(ASSIGN));
                if (r)
                        complaint__v1__reply__free_unpacked(r, NULL);
                if (limit == 3600000) {
                        after = id;
                        break;
                }
                CHECK_INT(limit, 2000);
        }
        CHECK(after != 0);
        r = s_get(&c, before);
        REQUIRE(r != NULL);
        CHECK_INT(r->complaint->response_clock->due_at_ms, due_before);
        CHECK_INT(r->complaint->level, 0);
        CHECK_INT(r->n_history, 2);
        complaint__v1__reply__free_unpacked(r, NULL);
        harness_client_close(&c);
        CHECK_INT(harness_stop(h), 0);
}

int
main(void)
{
        harness_t h;

        REQUIRE(harness_init(&h, "it_escalation") == 0);
        REQUIRE(s_write(h.conf, conf_text) == 0);
        REQUIRE(harness_start(&h) == 0);
        test_running_daemon(&h);
        CHECK_INT(harness_stop(&h), 0);

        /* A fresh store for the downtime test. */
        snprintf(h.state + strlen(h.state), sizeof(h.state) - strlen(h.state), "-downtime");
        test_downtime(&h);
        snprintf(h.state + strlen(h.state), sizeof(h.state) - strlen(h.state), "-reload");
        test_reload(&h);
        return harness_cleanup(&h, check_summary());
}
