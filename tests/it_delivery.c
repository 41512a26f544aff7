/* it_delivery.c: guaranteed delivery through libcomplaint's subscriber (complaint_sub.h)
 * against the real daemon. Every check compares what a subscriber delivered with the daemon's
 * own event log, read by raw replay requests on a separate connection:
 *
 *   (a) a subscriber with a receive high-water mark of 1 and a small queue that does not read
 *       while 3000 events are published by concurrent creates and assigns still delivers
 *       every event of its two department streams exactly once, in order; and one that reads
 *       along on the global stream delivers them all too (its rate is printed, as information);
 *   (b) a subscriber that dies (freed without committing) and restarts from its state file
 *       gets everything it had not processed and, twice, only the one event in flight; and
 *       the example department agent, SIGKILLed twice mid-stream, does the same and
 *       acknowledges every assignment once;
 *   (c) a subscriber keeps everything while the daemon is SIGKILLed and restarted mid-stream;
 *   (d) a level-2 supervisor subscription "billing/escalated/2" gets exactly billing's
 *       escalations to level 2, and nothing else;
 *   (e) replay past retention is a clear GONE with the offset to resume after, and the
 *       subscriber reports the gap once and goes on after it.
 *
 * No sleeps: every wait is a zmq_poll() inside the library or the harness, bounded in time. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <zmq.h>

#include "check.h"
#include "complaint_sub.h"
#include "harness.h"

CHECK_DEFINE_COUNTERS();

/* Long limits: nothing escalates during the delivery tests. */
static const char *const conf_text =
    "daemon: { heartbeat = \"100ms\"; event_hwm = 50; };\n"
    "centre = \"centre\";\n"
    "escalation: { warning = 0; realert = \"1h\"; };\n"
    "departments = (\n"
    "  { id = \"centre\"; name = \"Centre\"; calendar = \"24x7\";\n"
    "    chain = ( { role = \"Supervisor\"; allowance = \"1h\"; } ); },\n"
    "  { id = \"billing\"; name = \"Billing\"; calendar = \"24x7\";\n"
    "    response = \"1h\"; resolution = \"2h\";\n"
    "    chain = ( { role = \"Section chief\"; allowance = \"1h\"; } ); },\n"
    "  { id = \"network\"; name = \"Network\"; calendar = \"24x7\";\n"
    "    response = \"1h\"; resolution = \"2h\";\n"
    "    chain = ( { role = \"Shift lead\"; allowance = \"1h\"; } ); }\n"
    ");\n"
    "categories = ( { id = \"billing\"; name = \"Billing\"; department = \"billing\"; },\n"
    "               { id = \"network\"; name = \"Network\"; department = \"network\"; } );\n";

/* Responses of 1 s, level 1 of 1 s: level 1 at +1 s, level 2 at +2 s, then quiet for an hour
 * (the top level's allowance, after which the alert would repeat on level 2). */
static const char *const escalation_conf_text =
    "daemon: { heartbeat = \"100ms\"; };\n"
    "centre = \"centre\";\n"
    "escalation: { warning = 0; realert = \"1h\"; };\n"
    "departments = (\n"
    "  { id = \"centre\"; name = \"Centre\"; },\n"
    "  { id = \"billing\"; name = \"Billing\"; calendar = \"24x7\"; response = \"1s\";\n"
    "    chain = ( { role = \"Section chief\"; allowance = \"1s\"; },\n"
    "              { role = \"Department head\"; allowance = \"1h\"; } ); },\n"
    "  { id = \"network\"; name = \"Network\"; calendar = \"24x7\"; response = \"1s\";\n"
    "    chain = ( { role = \"Shift lead\"; allowance = \"1s\"; },\n"
    "              { role = \"Network head\"; allowance = \"1h\"; } ); }\n"
    ");\n"
    "categories = ( { id = \"billing\"; name = \"Billing\"; department = \"billing\"; },\n"
    "               { id = \"network\"; name = \"Network\"; department = \"network\"; } );\n";

/* The smallest retention the configuration allows. */
static const char *const retention_conf_text =
    "daemon: { heartbeat = \"100ms\"; };\n"
    "event_log: { keep_count = 1000; };\n"
    "centre = \"centre\";\n"
    "departments = (\n"
    "  { id = \"centre\"; name = \"Centre\"; },\n"
    "  { id = \"billing\"; name = \"Billing\"; calendar = \"24x7\"; response = \"1h\";\n"
    "    chain = ( { role = \"Section chief\"; allowance = \"1h\"; } ); } );\n"
    "categories = ( { id = \"billing\"; name = \"Billing\"; department = \"billing\"; } );\n";

#define PUBLISHERS 4
#define A(x) COMPLAINT__V1__ACTION__ACTION_##x

static int
s_write(const char *path, const char *text)
{
        FILE *f = fopen(path, "w");

        if (f == NULL)
                return -1;
        fputs(text, f);
        return fclose(f);
}

/* Switches to a fresh store and configuration (the daemon must be stopped). */
static void
s_restart_fresh(harness_t *h, const char *suffix, const char *conf)
{
        size_t len = strlen(h->state);

        snprintf(h->state + len, sizeof(h->state) - len, "-%s", suffix);
        REQUIRE(s_write(h->conf, conf) == 0);
        REQUIRE(harness_start(h) == 0);
}

/* ------------------------------------------------------------------ logs of seqs */

struct log {
        uint64_t *v;
        size_t n, cap;
};

static void
s_log_add(struct log *l, uint64_t seq)
{
        if (l->n == l->cap) {
                l->cap = l->cap ? l->cap * 2 : 256;
                l->v = realloc(l->v, l->cap * sizeof(*l->v));
                REQUIRE(l->v != NULL);
        }
        l->v[l->n++] = seq;
}

static void
s_log_free(struct log *l)
{
        free(l->v);
        *l = (struct log){0};
}

/* Checks that got holds exactly want's seqs, in want's order; says where they part. */
static void
s_log_check(const char *what, const struct log *got, const struct log *want)
{
        size_t i = 0;

        while (i < got->n && i < want->n && got->v[i] == want->v[i])
                i++;
        CHECK_INT(got->n, want->n);
        CHECK_INT(i, want->n);
        if (i < want->n || got->n != want->n)
                fprintf(stderr,
                        "%s: %zu delivered, %zu in the store, first difference at %zu "
                        "(got %" PRIu64 ", want %" PRIu64 ")\n",
                        what, got->n, want->n, i, i < got->n ? got->v[i] : 0,
                        i < want->n ? want->v[i] : 0);
}

/* The daemon's own log: the seqs of stream after `after`, filtered by prefixes, by raw replay
 * pages until the head. *ret_head is the head at the last page. */
static int
s_store_log(harness_t *h, const char *stream, const char *prefix, uint64_t after, struct log *out,
            uint64_t *ret_head)
{
        harness_client_t c;
        char *prefixes[1] = {(char *)(uintptr_t)prefix};
        int rounds = 0, r = -1;

        if (harness_client_open(h, &c) < 0)
                return -1;
        for (; rounds < 10000; rounds++) {
                Complaint__V1__ReplayRequest q = COMPLAINT__V1__REPLAY_REQUEST__INIT;
                pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
                pb_reply_t *reply = NULL;
                bool done;

                q.stream = (char *)(uintptr_t)stream;
                q.after_offset = after;
                q.topic_prefixes = prefixes;
                q.n_topic_prefixes = prefix ? 1 : 0;
                q.limit = 1000;
                req.body_case = COMPLAINT__V1__REQUEST__BODY_REPLAY;
                req.replay = &q;
                if (harness_client_call(&c, &req, HARNESS_CALL_TIMEOUT_MS, &reply) < 0)
                        break;
                if (reply->error != E_OK || reply->replay == NULL) {
                        fprintf(stderr, "replay of \"%s\" after %" PRIu64 ": %s\n", stream, after,
                                reply->message);
                        complaint__v1__reply__free_unpacked(reply, NULL);
                        break;
                }
                for (size_t i = 0; i < reply->replay->n_events; i++)
                        s_log_add(out, reply->replay->events[i]->seq);
                after = reply->replay->next_after;
                done = after >= reply->replay->head;
                if (ret_head)
                        *ret_head = reply->replay->head;
                complaint__v1__reply__free_unpacked(reply, NULL);
                if (done) {
                        r = 0;
                        break;
                }
        }
        harness_client_close(&c);
        return r;
}

/* The head of a stream now. */
static uint64_t
s_head(harness_t *h, const char *stream)
{
        pb_reply_t *r = harness_status(h);
        uint64_t head = 0;

        REQUIRE(r != NULL);
        for (size_t i = 0; i < r->status->n_heads; i++)
                if (strcmp(r->status->heads[i]->stream, stream) == 0)
                        head = r->status->heads[i]->offset;
        complaint__v1__reply__free_unpacked(r, NULL);
        return head;
}

/* ------------------------------------------------------------------ publishing */

/* One change, repeated with the same request id until answered (the daemon applies it once),
 * at most `tries` times. Returns the reply or NULL. */
static pb_reply_t *
s_call(harness_client_t *c, pb_request_t *req, const char *id, int tries)
{
        for (int t = 0; t < tries; t++) {
                pb_reply_t *reply = NULL;

                req->request_id = (char *)(uintptr_t)id;
                req->actor = (char *)"tester";
                if (harness_client_call(c, req, 1000, &reply) == 0)
                        return reply;
        }
        fprintf(stderr, "no reply to %s after %d tries\n", id, tries);
        return NULL;
}

/* Creates a complaint in category and assigns it: two events. Returns its id or 0. */
static uint64_t
s_create_assign(harness_client_t *c, const char *category, const char *tag, uint64_t n, int tries)
{
        Complaint__V1__CreateRequest q = COMPLAINT__V1__CREATE_REQUEST__INIT;
        Complaint__V1__AssignRequest as = COMPLAINT__V1__ASSIGN_REQUEST__INIT;
        pb_complainant_t who = COMPLAINT__V1__COMPLAINANT__INIT;
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        pb_reply_t *r;
        uint64_t id = 0;
        char rid[96];

        who.phone = (char *)"+49 30 555 0100";
        q.channel = COMPLAINT__V1__CHANNEL__CHANNEL_PHONE;
        q.complainant = &who;
        q.subject = (char *)"Charged twice";
        q.description = (char *)"The October bill has the same line twice.";
        q.category = (char *)(uintptr_t)category;
        req.body_case = COMPLAINT__V1__REQUEST__BODY_CREATE;
        req.create = &q;
        snprintf(rid, sizeof(rid), "%s-create-%" PRIu64, tag, n);
        r = s_call(c, &req, rid, tries);
        if (r && r->error == E_OK && r->complaint)
                id = r->complaint->id;
        complaint__v1__reply__free_unpacked(r, NULL);
        if (id == 0)
                return 0;
        as.id = id;
        as.department = (char *)"";
        req = (pb_request_t)COMPLAINT__V1__REQUEST__INIT;
        req.body_case = COMPLAINT__V1__REQUEST__BODY_ASSIGN;
        req.assign = &as;
        snprintf(rid, sizeof(rid), "%s-assign-%" PRIu64, tag, n);
        r = s_call(c, &req, rid, tries);
        if (r == NULL || r->error != E_OK)
                id = 0;
        complaint__v1__reply__free_unpacked(r, NULL);
        return id;
}

struct publisher {
        pthread_t thread;
        harness_t *h;
        const char *tag;
        int index;
        uint64_t complaints; /* each makes two events */
        int tries;           /* per request: many when the daemon is killed meanwhile */
        uint64_t done;
};

static void *
s_publish(void *arg)
{
        struct publisher *p = arg;
        harness_client_t c;
        char tag[64];

        if (harness_client_open(p->h, &c) < 0)
                return NULL;
        snprintf(tag, sizeof(tag), "%s-%d", p->tag, p->index);
        for (uint64_t i = 0; i < p->complaints; i++) {
                /* Alternate departments, so streams interleave and some events are not ours. */
                if (s_create_assign(&c, (i + (uint64_t)p->index) % 2 ? "network" : "billing", tag,
                                    i, p->tries) == 0)
                        break;
                p->done++;
        }
        harness_client_close(&c);
        return NULL;
}

static void
s_publishers_start(struct publisher *p, harness_t *h, const char *tag, uint64_t complaints,
                   int tries)
{
        for (int i = 0; i < PUBLISHERS; i++) {
                p[i] = (struct publisher){
                    .h = h, .tag = tag, .index = i, .complaints = complaints, .tries = tries};
                REQUIRE(pthread_create(&p[i].thread, NULL, s_publish, &p[i]) == 0);
        }
}

static uint64_t
s_publishers_join(struct publisher *p)
{
        uint64_t done = 0;

        for (int i = 0; i < PUBLISHERS; i++) {
                pthread_join(p[i].thread, NULL);
                done += p[i].done;
        }
        return done;
}

/* ------------------------------------------------------------------ subscribing */

static complaint_sub_t *
s_sub(harness_t *h, const char *const *prefixes)
{
        complaint_sub_t *sub = NULL;

        REQUIRE(complaint_sub_new(h->api, &sub) == 0);
        for (; *prefixes; prefixes++)
                REQUIRE(complaint_sub_add(sub, *prefixes) == 0);
        complaint_sub_set_call_timeout(sub, 1000);
        return sub;
}

/* Runs the subscriber until its first heartbeat: its subscription is then in place. */
static void
s_sub_live(complaint_sub_t *sub, struct log *logs, const char *const *streams)
{
        complaint_sub_stats_t st;
        int64_t end = harness_now_ms() + 10000;

        do {
                pb_event_t *ev = NULL;

                if (complaint_sub_next(sub, 100, &ev) == 0) {
                        /* Delivered already: record it like any other. */
                        for (size_t i = 0; streams[i]; i++)
                                if (strcmp(streams[i], ev->stream) == 0 || streams[i][0] == '\0')
                                        s_log_add(&logs[i], ev->seq);
                        complaint__v1__event__free_unpacked(ev, NULL);
                }
                complaint_sub_get_stats(sub, &st);
        } while (st.heartbeats == 0 && harness_now_ms() < end);
        REQUIRE(st.heartbeats > 0);
}

/* Reads events into logs[i] (by stream name, NULL-terminated; "" takes everything) until
 * `want` were delivered in all, or nothing came for idle_ms, or limit_ms passed. Counts
 * -ETIMEDOUT and other errors. Returns how many were delivered. */
static uint64_t
s_sub_read(complaint_sub_t *sub, struct log *logs, const char *const *streams, uint64_t want,
           int idle_ms, int limit_ms, uint64_t *ret_last_seq)
{
        int64_t end = harness_now_ms() + limit_ms, idle_end = harness_now_ms() + idle_ms;
        uint64_t got = 0;

        while (got < want && harness_now_ms() < end && harness_now_ms() < idle_end) {
                pb_event_t *ev = NULL;
                size_t i;
                int r = complaint_sub_next(sub, 200, &ev);

                if (r == -ETIMEDOUT)
                        continue;
                if (r < 0) {
                        fprintf(stderr, "complaint_sub_next: %s\n", strerror(-r));
                        CHECK(r == 0);
                        continue;
                }
                for (i = 0; streams[i]; i++)
                        if (strcmp(streams[i], ev->stream) == 0 || streams[i][0] == '\0')
                                break;
                CHECK(streams[i] != NULL);
                if (streams[i])
                        s_log_add(&logs[i], ev->seq);
                if (ret_last_seq)
                        *ret_last_seq = ev->seq;
                complaint__v1__event__free_unpacked(ev, NULL);
                got++;
                idle_end = harness_now_ms() + idle_ms;
        }
        return got;
}

/* ------------------------------------------------------------------ (a) */

/* A subscriber of billing/ and centre/ that read nothing while 3000 events were published
 * catches up: exactly the store's log of each stream, in order. Returns its stats. */
static void
s_catch_up(complaint_sub_t *slow, const char *what, struct log *got, const struct log *want,
           complaint_sub_stats_t *ret_st)
{
        static const char *const streams[] = {"billing", "centre", NULL};
        uint64_t want_n = want[0].n + want[1].n, delivered = got[0].n + got[1].n;
        char label[96];
        int64_t t0, t1;

        t0 = harness_now_ms();
        delivered += s_sub_read(slow, got, streams, want_n - delivered, 10000, 120000, NULL);
        t1 = harness_now_ms();
        /* And nothing more comes. */
        delivered += s_sub_read(slow, got, streams, 1, 500, 500, NULL);
        CHECK_INT(delivered, want_n);
        snprintf(label, sizeof(label), "(a) %s, billing", what);
        s_log_check(label, &got[0], &want[0]);
        snprintf(label, sizeof(label), "(a) %s, centre", what);
        s_log_check(label, &got[1], &want[1]);
        complaint_sub_get_stats(slow, ret_st);
        printf("(a) %s: %" PRIu64 " events caught up in %" PRId64 " ms (%.0f events/s); "
               "%" PRIu64 " live, %" PRIu64 " dropped from the full queue, %" PRIu64
               " arrived past a gap, %" PRIu64 " by replay in %" PRIu64 " requests, %" PRIu64
               " duplicates dropped\n",
               what, want_n, t1 - t0, want_n * 1000.0 / (double)(t1 - t0 ? t1 - t0 : 1),
               ret_st->live, ret_st->dropped, ret_st->ahead, ret_st->replayed, ret_st->replay_calls,
               ret_st->duplicates);
}

static void
test_slow_subscriber(harness_t *h)
{
        static const char *const prefixes[] = {"billing/", "centre/", NULL};
        static const char *const streams[] = {"billing", "centre", NULL};
        static const char *const global[] = {"", NULL};
        struct log got1[2] = {{0}}, got2[2] = {{0}}, want[2] = {{0}}, all = {0}, all_want = {0};
        struct publisher pubs[PUBLISHERS];
        complaint_sub_t *slow1 = s_sub(h, prefixes), *slow2 = s_sub(h, prefixes), *reader;
        complaint_sub_stats_t st;
        uint64_t published, delivered, head0 = s_head(h, "");
        int64_t t0, t1;

        /* slow1: a receive HWM of 1 and a queue of 64 events. ZeroMQ then holds the messages
         * back in the daemon's send pipe (its HWM is far above 3000), so they arrive late but
         * whole. slow2: the default HWM and a queue of 16, so the library itself has to drop
         * live events while it cannot keep them, and replay them afterwards. */
        REQUIRE(complaint_sub_set_rcvhwm(slow1, 1) == 0);
        REQUIRE(complaint_sub_set_queue_max(slow1, 64) == 0);
        REQUIRE(complaint_sub_set_queue_max(slow2, 16) == 0);
        s_sub_live(slow1, got1, streams);
        s_sub_live(slow2, got2, streams);
        /* The reader: the global stream from now on, reading as events come. */
        reader = s_sub(h, global);
        REQUIRE(complaint_sub_set_position(reader, "", head0) == 0);
        s_sub_live(reader, &all, global);

        t0 = harness_now_ms();
        s_publishers_start(pubs, h, "a", 375, 5);
        /* 3000 events: read them all on the global stream while they are published. */
        delivered = s_sub_read(reader, &all, global, 3000, 10000, 120000, NULL);
        t1 = harness_now_ms();
        published = s_publishers_join(pubs);
        CHECK_INT(published, 4 * 375);
        CHECK_INT(delivered, 3000);
        REQUIRE(s_store_log(h, "", NULL, head0, &all_want, NULL) == 0);
        s_log_check("(a) global reader", &all, &all_want);
        complaint_sub_get_stats(reader, &st);
        printf("(a) one subscriber read %" PRIu64 " events while %d clients published them, "
               "in %" PRId64 " ms: %.0f events/s with zero loss (the daemon's commit rate was "
               "the limit); %" PRIu64 " live, %" PRIu64 " by replay\n",
               delivered, PUBLISHERS, t1 - t0, delivered * 1000.0 / (double)(t1 - t0 ? t1 - t0 : 1),
               st.live, st.replayed);
        complaint_sub_free(&reader);

        /* The slow ones read nothing meanwhile; now they catch up. */
        REQUIRE(s_store_log(h, "billing", NULL, 0, &want[0], NULL) == 0);
        REQUIRE(s_store_log(h, "centre", NULL, 0, &want[1], NULL) == 0);
        CHECK_INT(want[0].n, 750);
        CHECK_INT(want[1].n, 1500);
        s_catch_up(slow1, "slow subscriber, HWM 1", got1, want, &st);
        s_catch_up(slow2, "slow subscriber, queue of 16", got2, want, &st);
        /* slow2 lost live events to its full queue: replay made up for them. */
        CHECK(st.dropped > 0);
        CHECK(st.replayed > 0);
        complaint_sub_free(&slow1);
        complaint_sub_free(&slow2);
        for (int i = 0; i < 2; i++) {
                s_log_free(&got1[i]);
                s_log_free(&got2[i]);
                s_log_free(&want[i]);
        }
        s_log_free(&all);
        s_log_free(&all_want);
}

/* ------------------------------------------------------------------ (b) */

static void
test_restart_from_state_file(harness_t *h)
{
        static const char *const prefixes[] = {"billing/", NULL};
        static const char *const streams[] = {"billing", NULL};
        struct log first = {0}, second = {0}, want = {0};
        struct publisher pubs[PUBLISHERS];
        char state[PATH_MAX + 16];
        complaint_sub_t *sub;
        uint64_t start = s_head(h, "billing"), pos = 0, last_seq = 0, want_n;
        FILE *f;

        snprintf(state, sizeof(state), "%s/billing.state", h->dir);
        unlink(state);
        sub = s_sub(h, prefixes);
        REQUIRE(complaint_sub_set_state_file(sub, state) == 0);
        REQUIRE(complaint_sub_set_position(sub, "billing", start) == 0);

        s_publishers_start(pubs, h, "b", 100, 5);
        s_publishers_join(pubs);
        REQUIRE(s_store_log(h, "billing", NULL, start, &want, NULL) == 0);
        want_n = want.n;
        REQUIRE(want_n >= 200);

        /* Process 77 events, then die while the 77th is in flight. */
        CHECK_INT(s_sub_read(sub, &first, streams, 77, 5000, 30000, &last_seq), 77);
        REQUIRE(first.n == 77);
        complaint_sub_free(&sub);
        /* The state file says the 76th was the last processed. */
        f = fopen(state, "r");
        REQUIRE(f != NULL);
        {
                char line[128];

                CHECK(fgets(line, sizeof(line), f) != NULL);
                CHECK(fgets(line, sizeof(line), f) != NULL);
                CHECK_INT(strtoull(line, NULL, 10), start + 76);
                CHECK(strstr(line, "\tbilling\n") != NULL);
        }
        fclose(f);

        /* Restarted from the file alone: the one in flight again, then the rest, each once. */
        sub = s_sub(h, prefixes);
        REQUIRE(complaint_sub_set_state_file(sub, state) == 0);
        CHECK_INT(complaint_sub_position(sub, "billing", &pos), 0);
        CHECK_INT(pos, start + 76);
        s_sub_read(sub, &second, streams, want_n - 76, 5000, 30000, NULL);
        s_sub_read(sub, &second, streams, 1, 500, 500, NULL);
        CHECK_INT(second.n, want_n - 76);
        if (second.n > 0)
                CHECK_INT(second.v[0], last_seq); /* the re-delivery: only the one in flight */
        /* Together, minus that one re-delivery: the store's log, in order. */
        for (size_t i = 1; i < second.n; i++)
                s_log_add(&first, second.v[i]);
        s_log_check("(b) before and after the restart", &first, &want);

        /* A clean stop (commit) re-delivers nothing. */
        CHECK_INT(complaint_sub_commit(sub), 0);
        complaint_sub_free(&sub);
        sub = s_sub(h, prefixes);
        REQUIRE(complaint_sub_set_state_file(sub, state) == 0);
        CHECK_INT(s_sub_read(sub, &second, streams, 1, 800, 800, NULL), 0);
        complaint_sub_free(&sub);
        s_log_free(&first);
        s_log_free(&second);
        s_log_free(&want);
}

/* Runs the example agent on billing with a state file, reading its lines (one per event,
 * the seq first) into got and its whole output into runs, and SIGKILLs it after kill_after
 * lines, or once no line came for idle_ms. Lines it wrote before dying are read after the
 * kill, from the pipe, so none is lost. Returns the lines read, or -1. */
static int
s_agent_run(harness_t *h, const char *state, int kill_after, int idle_ms, struct log *got)
{
#ifdef DEPARTMENT_AGENT_BIN
        char buf[8192], line[512];
        size_t llen = 0;
        int fds[2], lines = 0, status;
        bool killed = false;
        pid_t pid;

        if (pipe2(fds, O_CLOEXEC) < 0)
                return -1;
        setenv("COMPLAINT_ENDPOINT", h->api, 1);
        pid = fork();
        if (pid == 0) {
                dup2(fds[1], 1);
                execl(DEPARTMENT_AGENT_BIN, DEPARTMENT_AGENT_BIN, "billing", state, (char *)NULL);
                _exit(127);
        }
        close(fds[1]);
        if (pid < 0) {
                close(fds[0]);
                return -1;
        }
        for (int rounds = 0; rounds < 100000; rounds++) {
                struct pollfd p = {.fd = fds[0], .events = POLLIN};
                ssize_t n;

                if (!killed && lines >= kill_after) {
                        kill(pid, SIGKILL);
                        killed = true;
                }
                if (poll(&p, 1, killed ? 5000 : idle_ms) <= 0) {
                        if (killed)
                                break;
                        kill(pid, SIGKILL); /* idle: everything came */
                        killed = true;
                        continue;
                }
                n = read(fds[0], buf, sizeof(buf));
                if (n <= 0)
                        break; /* the agent is gone and the pipe is empty */
                for (ssize_t k = 0; k < n; k++) {
                        if (buf[k] != '\n') {
                                if (llen < sizeof(line) - 1)
                                        line[llen++] = buf[k];
                                continue;
                        }
                        line[llen] = '\0';
                        llen = 0;
                        s_log_add(got, strtoull(line, NULL, 10));
                        lines++;
                }
        }
        if (!killed)
                kill(pid, SIGKILL);
        close(fds[0]);
        waitpid(pid, &status, 0);
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        return lines;
#else
        (void)h;
        (void)state;
        (void)kill_after;
        (void)idle_ms;
        (void)got;
        return -1;
#endif
}

static void
test_agent_killed(harness_t *h)
{
        struct log runs[3] = {{0}}, merged = {0}, want = {0}, accepted = {0};
        struct publisher pubs[PUBLISHERS];
        char state[PATH_MAX + 16];
        uint64_t start = s_head(h, "billing");
        FILE *f;

#ifndef DEPARTMENT_AGENT_BIN
        printf("(b) department_agent: not built with DEPARTMENT_AGENT_BIN, skipped\n");
        return;
#endif
        /* The agent starts where this file says: after what the store holds now. */
        snprintf(state, sizeof(state), "%s/agent.state", h->dir);
        f = fopen(state, "w");
        REQUIRE(f != NULL);
        fprintf(f, "complaint-sub 1\n%" PRIu64 "\tbilling\n", start);
        REQUIRE(fclose(f) == 0);
        s_publishers_start(pubs, h, "agent", 50, 5);
        CHECK_INT(s_publishers_join(pubs), 200);

        /* 100 assignments to billing, each acknowledged: 200 events for the agent, killed after
         * 40 lines, again after 60, then left to finish. */
        CHECK(s_agent_run(h, state, 40, 3000, &runs[0]) >= 40);
        CHECK(s_agent_run(h, state, 60, 3000, &runs[1]) >= 60);
        CHECK(s_agent_run(h, state, 1000000, 1500, &runs[2]) > 0);
        for (int r = 0; r < 3; r++) {
                size_t from = 0;

                /* A restart repeats at most the one event that was in flight. */
                if (r > 0 && merged.n > 0 && runs[r].n > 0 &&
                    runs[r].v[0] == merged.v[merged.n - 1])
                        from = 1;
                for (size_t i = from; i < runs[r].n; i++)
                        s_log_add(&merged, runs[r].v[i]);
        }
        REQUIRE(s_store_log(h, "billing", NULL, start, &want, NULL) == 0);
        CHECK_INT(want.n, 200);
        s_log_check("(b) department_agent killed twice", &merged, &want);
        REQUIRE(s_store_log(h, "billing", "billing/accepted", start, &accepted, NULL) == 0);
        CHECK_INT(accepted.n, 100);
        printf("(b) department_agent: %zu, %zu and %zu events in three runs, two SIGKILLs\n",
               runs[0].n, runs[1].n, runs[2].n);
        for (int r = 0; r < 3; r++)
                s_log_free(&runs[r]);
        s_log_free(&merged);
        s_log_free(&want);
        s_log_free(&accepted);
}

/* ------------------------------------------------------------------ ack */

/* complaint_sub_ack(): accepts once, repeats harmlessly, and refuses what is not an
 * assignment. */
static void
test_ack(harness_t *h)
{
        static const char *const prefixes[] = {"billing/", NULL};
        complaint_sub_t *sub = s_sub(h, prefixes);
        pb_event_t *ev = NULL, *created = NULL;
        harness_client_t c;
        uint64_t id;

        REQUIRE(complaint_sub_set_position(sub, "billing", COMPLAINT_SUB_END) == 0);
        REQUIRE(complaint_sub_set_actor(sub, "billing-system") == 0);
        {
                struct log none[1] = {{0}};
                static const char *const streams[] = {"billing", NULL};

                s_sub_live(sub, none, streams);
                CHECK_INT(none[0].n, 0);
        }
        REQUIRE(harness_client_open(h, &c) == 0);
        id = s_create_assign(&c, "billing", "ack", 0, 5);
        harness_client_close(&c);
        REQUIRE(id != 0);
        CHECK_INT(complaint_sub_next(sub, 5000, &ev), 0);
        REQUIRE(ev != NULL);
        CHECK_STR(ev->topic, "billing/assigned");
        CHECK_INT(complaint_sub_ack(sub, ev, "got it"), 0);
        CHECK_INT(complaint_sub_ack(sub, ev, "got it"), 0); /* the same request id: replayed */
        CHECK_INT(complaint_sub_next(sub, 5000, &created), 0);
        REQUIRE(created != NULL);
        CHECK_STR(created->topic, "billing/accepted");
        CHECK_STR(created->entry->actor, "billing-system");
        CHECK_INT(complaint_sub_ack(sub, created, NULL), -EINVAL); /* not an assignment */
        complaint__v1__event__free_unpacked(created, NULL);
        created = NULL;
        CHECK_INT(complaint_sub_next(sub, 500, &created), -ETIMEDOUT); /* accepted once */
        complaint__v1__event__free_unpacked(ev, NULL);
        complaint_sub_free(&sub);
}

/* ------------------------------------------------------------------ (c) */

static void
test_daemon_killed(harness_t *h)
{
        static const char *const prefixes[] = {"billing/", "network/", NULL};
        static const char *const streams[] = {"billing", "network", NULL};
        struct log got[2] = {{0}}, want[2] = {{0}};
        struct publisher pubs[PUBLISHERS];
        uint64_t start[2] = {s_head(h, "billing"), s_head(h, "network")}, published;
        complaint_sub_t *sub = s_sub(h, prefixes);
        complaint_sub_stats_t st;
        int timeouts = 0;

        REQUIRE(complaint_sub_set_position(sub, "billing", COMPLAINT_SUB_END) == 0);
        REQUIRE(complaint_sub_set_position(sub, "network", COMPLAINT_SUB_END) == 0);
        s_sub_live(sub, got, streams);
        /* Many tries per request: the daemon is away for a while. */
        s_publishers_start(pubs, h, "c", 100, 30);
        CHECK_INT(s_sub_read(sub, got, streams, 100, 5000, 30000, NULL), 100);

        REQUIRE(harness_kill(h) == 0);
        /* Down: the subscriber delivers what it holds, then waits; it does not fail. */
        for (int i = 0; i < 2000 && timeouts == 0; i++) {
                pb_event_t *ev = NULL;
                int r = complaint_sub_next(sub, 200, &ev);

                if (r == 0) {
                        for (int k = 0; k < 2; k++)
                                if (strcmp(ev->stream, streams[k]) == 0)
                                        s_log_add(&got[k], ev->seq);
                        complaint__v1__event__free_unpacked(ev, NULL);
                } else {
                        CHECK_INT(r, -ETIMEDOUT);
                        timeouts++;
                }
        }
        CHECK(timeouts > 0);
        REQUIRE(harness_start(h) == 0);

        published = s_publishers_join(pubs);
        CHECK_INT(published, 4 * 100);
        REQUIRE(s_store_log(h, "billing", NULL, start[0], &want[0], NULL) == 0);
        REQUIRE(s_store_log(h, "network", NULL, start[1], &want[1], NULL) == 0);
        s_sub_read(sub, got, streams, want[0].n + want[1].n - got[0].n - got[1].n, 10000, 60000,
                   NULL);
        s_sub_read(sub, got, streams, 1, 500, 500, NULL);
        /* The assignments: 200 to each (the creations are the centre's). */
        CHECK_INT(want[0].n + want[1].n, 400);
        s_log_check("(c) billing across a daemon kill", &got[0], &want[0]);
        s_log_check("(c) network across a daemon kill", &got[1], &want[1]);
        complaint_sub_get_stats(sub, &st);
        printf("(c) across the kill: %" PRIu64 " live, %" PRIu64 " by replay, %" PRIu64
               " requests failed while the daemon was away\n",
               st.live, st.replayed, st.call_errors);
        complaint_sub_free(&sub);
        for (int i = 0; i < 2; i++) {
                s_log_free(&got[i]);
                s_log_free(&want[i]);
        }
}

/* ------------------------------------------------------------------ (d) */

static void
test_supervisor(harness_t *h)
{
        static const char *const prefixes[] = {"billing/escalated/2", NULL};
        static const char *const streams[] = {"billing", NULL};
        struct log got = {0}, want = {0}, level1 = {0}, network2 = {0};
        complaint_sub_t *sub = s_sub(h, prefixes);
        harness_client_t c;
        uint64_t ids[5];
        pb_event_t *ev = NULL;

        REQUIRE(harness_client_open(h, &c) == 0);
        /* Three billing complaints and two network ones, left alone. */
        for (int i = 0; i < 5; i++) {
                ids[i] = s_create_assign(&c, i < 3 ? "billing" : "network", "d", (uint64_t)i, 5);
                REQUIRE(ids[i] != 0);
        }
        harness_client_close(&c);

        /* Level 2 is reached 2 s after the assignment; wait up to 10 s for three. */
        CHECK_INT(s_sub_read(sub, &got, streams, 3, 10000, 10000, NULL), 3);
        /* Nothing more comes, though network reaches level 2 too and billing passed level 1. */
        CHECK_INT(complaint_sub_next(sub, 1500, &ev), -ETIMEDOUT);
        REQUIRE(s_store_log(h, "billing", "billing/escalated/2", 0, &want, NULL) == 0);
        REQUIRE(s_store_log(h, "billing", "billing/escalated/1", 0, &level1, NULL) == 0);
        REQUIRE(s_store_log(h, "network", "network/escalated/2", 0, &network2, NULL) == 0);
        CHECK_INT(network2.n, 2);
        CHECK_INT(level1.n, 3);
        CHECK_INT(want.n, 3);
        s_log_check("(d) billing/escalated/2", &got, &want);
        /* Each one, checked through a fresh subscriber from the start. */
        complaint_sub_free(&sub);
        sub = s_sub(h, prefixes);
        for (int i = 0; i < 3; i++) {
                ev = NULL;
                CHECK_INT(complaint_sub_next(sub, 5000, &ev), 0);
                if (ev == NULL)
                        break;
                CHECK_STR(ev->topic, "billing/escalated/2");
                CHECK_STR(ev->stream, "billing");
                CHECK(ev->entry && ev->entry->action == A(ESCALATE) && ev->entry->level == 2);
                CHECK(ev->entry && ev->entry->complaint_id == ids[i]);
                complaint__v1__event__free_unpacked(ev, NULL);
        }
        ev = NULL;
        CHECK_INT(complaint_sub_next(sub, 500, &ev), -ETIMEDOUT);
        complaint_sub_free(&sub);
        s_log_free(&got);
        s_log_free(&want);
        s_log_free(&level1);
        s_log_free(&network2);
}

/* ------------------------------------------------------------------ (e) */

struct gap {
        int calls;
        char stream[65];
        uint64_t after, resume_after;
};

static void
s_on_gap(void *arg, const char *stream, uint64_t after, uint64_t resume_after)
{
        struct gap *g = arg;

        g->calls++;
        snprintf(g->stream, sizeof(g->stream), "%s", stream);
        g->after = after;
        g->resume_after = resume_after;
}

/* Waits (on heartbeats, at most 10 s) until the daemon's oldest kept event is past 1. */
static uint64_t
s_wait_pruned(harness_t *h)
{
        void *sock = zmq_socket(h->zctx, ZMQ_SUB);
        int64_t end = harness_now_ms() + 10000;
        uint64_t first = 0;

        REQUIRE(sock != NULL);
        zmq_setsockopt(sock, ZMQ_LINGER, &(int){0}, sizeof(int));
        zmq_setsockopt(sock, ZMQ_SUBSCRIBE, "_heartbeat", 10);
        REQUIRE(zmq_connect(sock, h->events) == 0);
        while (harness_now_ms() < end) {
                zmq_pollitem_t it = {.socket = sock, .events = ZMQ_POLLIN};
                pb_reply_t *r;

                if (zmq_poll(&it, 1, (long)(end - harness_now_ms())) <= 0)
                        break;
                for (int more = 1; more;) {
                        zmq_msg_t m;

                        zmq_msg_init(&m);
                        zmq_msg_recv(&m, sock, 0);
                        more = zmq_msg_more(&m);
                        zmq_msg_close(&m);
                }
                r = harness_status(h);
                REQUIRE(r != NULL);
                first = r->status->first_kept_seq;
                complaint__v1__reply__free_unpacked(r, NULL);
                if (first > 1)
                        break;
        }
        zmq_close(sock);
        return first;
}

static void
test_retention(harness_t *h)
{
        static const char *const all[] = {"", NULL};
        Complaint__V1__ReplayRequest q = COMPLAINT__V1__REPLAY_REQUEST__INIT;
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        struct log got = {0}, want = {0};
        struct gap gap = {0};
        harness_client_t c;
        complaint_sub_t *sub;
        pb_reply_t *reply = NULL;
        uint64_t first, head = 0;

        REQUIRE(harness_client_open(h, &c) == 0);
        for (uint64_t i = 0; i < 550; i++)
                REQUIRE(s_create_assign(&c, "billing", "e", i, 5) != 0);
        harness_client_close(&c);
        /* Pruning runs at the first heartbeat after a start. */
        CHECK_INT(harness_stop(h), 0);
        REQUIRE(harness_start(h) == 0);
        first = s_wait_pruned(h);
        CHECK_INT(first, 1100 - 1000 + 1);

        /* Raw: from 0, GONE, with where to resume. */
        REQUIRE(harness_client_open(h, &c) == 0);
        q.stream = (char *)"";
        q.after_offset = 0;
        req.body_case = COMPLAINT__V1__REQUEST__BODY_REPLAY;
        req.replay = &q;
        REQUIRE(harness_client_call(&c, &req, HARNESS_CALL_TIMEOUT_MS, &reply) == 0);
        CHECK_INT(reply->error, COMPLAINT__V1__ERROR_CODE__ERROR_CODE_GONE);
        CHECK(reply->replay != NULL);
        if (reply->replay) {
                CHECK_INT(reply->replay->next_after, first - 1);
                CHECK_INT(reply->replay->first_kept, first);
        }
        CHECK(strstr(reply->message, "no longer kept") != NULL);
        complaint__v1__reply__free_unpacked(reply, NULL);
        harness_client_close(&c);

        /* The library: the gap once, in its place, then everything kept, in order. */
        sub = s_sub(h, all);
        complaint_sub_set_gap_handler(sub, s_on_gap, &gap);
        {
                pb_event_t *ev = NULL;

                CHECK_INT(complaint_sub_next(sub, 5000, &ev), -ESTALE);
        }
        CHECK_INT(gap.calls, 1);
        CHECK_STR(gap.stream, "");
        CHECK_INT(gap.after, 0);
        CHECK_INT(gap.resume_after, first - 1);
        REQUIRE(s_store_log(h, "", NULL, first - 1, &want, &head) == 0);
        CHECK_INT(want.n, 1000);
        s_sub_read(sub, &got, all, want.n, 5000, 30000, NULL);
        s_sub_read(sub, &got, all, 1, 500, 500, NULL);
        s_log_check("(e) after the gap", &got, &want);
        CHECK_INT(gap.calls, 1);
        complaint_sub_free(&sub);
        s_log_free(&got);
        s_log_free(&want);
}

/* ------------------------------------------------------------------ main */

int
main(void)
{
        harness_t h;

        REQUIRE(harness_init(&h, "it_delivery") == 0);
        REQUIRE(s_write(h.conf, conf_text) == 0);
        REQUIRE(harness_start(&h) == 0);
        test_slow_subscriber(&h);
        test_restart_from_state_file(&h);
        test_agent_killed(&h);
        test_ack(&h);
        test_daemon_killed(&h);
        CHECK_INT(harness_stop(&h), 0);

        s_restart_fresh(&h, "escalation", escalation_conf_text);
        test_supervisor(&h);
        CHECK_INT(harness_stop(&h), 0);

        s_restart_fresh(&h, "retention", retention_conf_text);
        test_retention(&h);
        return harness_cleanup(&h, check_summary());
}
