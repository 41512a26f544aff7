/* it_e2e.c: complaints through their whole lives with complaintctl --json against the real
 * daemon, watched by real SUB subscribers. Checks each record after each step, the history
 * (order, actions, statuses, actors, owner), the events (topics, gap-free seqs, kinds matching
 * the history, heartbeats carrying the head) and list filters. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "check.h"
#include "harness.h"

CHECK_DEFINE_COUNTERS();

#define EVENTS_MAX 256
#define EVENT_WAIT_MS 5000

static harness_t h;

/* ------------------------------------------------------------------ subscribers */

typedef struct sub {
        const char *name;
        void *sock;
        pb_event_t *ev[EVENTS_MAX]; /* non-heartbeat events in arrival order */
        size_t n;
        size_t heartbeats;
        uint64_t last_seq;    /* seq of the newest event received */
        uint64_t last_hb_seq; /* the head the newest heartbeat announced */
        bool bad_heartbeat;
} sub_t;

/* Receives one message if one is ready within timeout_ms. Returns 1 for an event, 0 for a
 * heartbeat, -ETIMEDOUT, or -EPROTO for a malformed message (reported). */
static int
s_sub_recv(sub_t *s, int timeout_ms)
{
        zmq_pollitem_t item = {.socket = s->sock, .events = ZMQ_POLLIN};
        char topic[256];
        zmq_msg_t m;
        pb_event_t *ev;
        int n, more;

        n = zmq_poll(&item, 1, timeout_ms);
        if (n <= 0)
                return -ETIMEDOUT;
        n = zmq_recv(s->sock, topic, sizeof(topic) - 1, 0);
        REQUIRE(n >= 0);
        topic[n < (int)sizeof(topic) - 1 ? n : (int)sizeof(topic) - 1] = '\0';
        more = 0;
        {
                size_t sz = sizeof(more);

                zmq_getsockopt(s->sock, ZMQ_RCVMORE, &more, &sz);
        }
        CHECK(more);
        if (!more)
                return -EPROTO;
        zmq_msg_init(&m);
        REQUIRE(zmq_msg_recv(&m, s->sock, 0) >= 0);
        CHECK(!zmq_msg_more(&m));
        ev = complaint__v1__event__unpack(NULL, zmq_msg_size(&m), zmq_msg_data(&m));
        zmq_msg_close(&m);
        CHECK(ev != NULL);
        if (ev == NULL) {
                fprintf(stderr, "%s: undecodable event on topic %s\n", s->name, topic);
                return -EPROTO;
        }
        CHECK_INT(ev->schema_version, PB_SCHEMA_VERSION);
        CHECK_STR(ev->topic, topic);
        if (strcmp(topic, "_heartbeat") == 0) {
                CHECK(ev->heartbeat);
                /* The heartbeat carries the head: the newest event, which this subscriber
                 * (when it sees everything) has received just before it. */
                if (ev->seq != s->last_seq && !s->bad_heartbeat && strcmp(s->name, "all") == 0) {
                        s->bad_heartbeat = true;
                        fprintf(stderr, "%s: heartbeat seq %" PRIu64 " after event %" PRIu64 "\n",
                                s->name, ev->seq, s->last_seq);
                }
                s->heartbeats++;
                s->last_hb_seq = ev->seq;
                complaint__v1__event__free_unpacked(ev, NULL);
                return 0;
        }
        CHECK(!ev->heartbeat);
        REQUIRE(s->n < EVENTS_MAX);
        s->ev[s->n++] = ev;
        s->last_seq = ev->seq;
        return 1;
}

/* Subscribes to each prefix, then to "_heartbeat", and waits for the first heartbeat: the
 * subscriptions travel in order, so once the last one is live, all are. */
static void
s_sub_open(sub_t *s, const char *name, const char *const *prefixes)
{
        int64_t deadline;

        memset(s, 0, sizeof(*s));
        s->name = name;
        s->sock = zmq_socket(h.zctx, ZMQ_SUB);
        REQUIRE(s->sock != NULL);
        {
                /* No limit on the queue: the billing subscriber is read only at the end, and a
                 * slow run queues many heartbeats. */
                int linger = 0, hwm = 0;

                zmq_setsockopt(s->sock, ZMQ_LINGER, &linger, sizeof(linger));
                zmq_setsockopt(s->sock, ZMQ_RCVHWM, &hwm, sizeof(hwm));
        }
        for (size_t i = 0; prefixes[i]; i++)
                REQUIRE(zmq_setsockopt(s->sock, ZMQ_SUBSCRIBE, prefixes[i], strlen(prefixes[i])) ==
                        0);
        REQUIRE(zmq_setsockopt(s->sock, ZMQ_SUBSCRIBE, "_heartbeat", 10) == 0);
        REQUIRE(zmq_connect(s->sock, h.events) == 0);
        deadline = harness_now_ms() + EVENT_WAIT_MS;
        /* At most one pass per message received before the deadline. */
        for (int i = 0; i < 10000 && s->heartbeats == 0; i++) {
                int left = (int)(deadline - harness_now_ms());

                if (left <= 0 || s_sub_recv(s, left) == -ETIMEDOUT)
                        break;
        }
        if (s->heartbeats == 0)
                fprintf(stderr, "%s: no heartbeat within %d ms\n", name, EVENT_WAIT_MS);
        REQUIRE(s->heartbeats > 0);
}

/* Receives until s holds `want` events, or the wait runs out. */
static void
s_sub_pump(sub_t *s, size_t want)
{
        int64_t deadline = harness_now_ms() + EVENT_WAIT_MS;

        for (int i = 0; i < 10000 && s->n < want; i++) {
                int left = (int)(deadline - harness_now_ms());

                if (left <= 0 || s_sub_recv(s, left) == -ETIMEDOUT)
                        break;
        }
        if (s->n < want)
                fprintf(stderr, "%s: %zu events, expected %zu\n", s->name, s->n, want);
        CHECK(s->n >= want);
}

/* Receives everything published up to event `head`: a heartbeat is published after the events
 * before it, so once a heartbeat announcing head (or later) has arrived, so has every event up
 * to head that the subscription matches. Heartbeats queued earlier are passed over. */
static void
s_sub_settle(sub_t *s, uint64_t head)
{
        int64_t deadline = harness_now_ms() + EVENT_WAIT_MS;
        bool done = false;

        /* At most one pass per message received before the deadline. */
        for (int i = 0; i < 100000 && !done; i++) {
                int left = (int)(deadline - harness_now_ms());
                int r;

                if (left <= 0)
                        break;
                r = s_sub_recv(s, left);
                if (r == -ETIMEDOUT)
                        break;
                done = r == 0 && s->last_hb_seq >= head;
        }
        CHECK(done);
        if (!done)
                fprintf(stderr, "%s: no heartbeat announcing event %" PRIu64 "\n", s->name, head);
}

static void
s_sub_close(sub_t *s)
{
        for (size_t i = 0; i < s->n; i++)
                complaint__v1__event__free_unpacked(s->ev[i], NULL);
        zmq_close(s->sock);
        s->sock = NULL;
}

/* ------------------------------------------------------------------ complaintctl */

/* Runs complaintctl --json --actor ACTOR ARGS... and requires exit 0 and one JSON object. */
static harness_ctl_t
s_ctl(const char *actor, const char *const *args)
{
        const char *argv[48];
        size_t n = 0;
        harness_ctl_t r;

        argv[n++] = "--json";
        argv[n++] = "--actor";
        argv[n++] = actor;
        for (size_t i = 0; args[i] && n < 47; i++)
                argv[n++] = args[i];
        argv[n] = NULL;
        r = harness_ctl(&h, argv);
        CHECK_INT(r.code, 0);
        if (r.code != 0) {
                fprintf(stderr, "complaintctl");
                for (size_t i = 0; i < n; i++)
                        fprintf(stderr, " '%s'", argv[i]);
                fprintf(stderr, " exited %d\n  stdout: %s  stderr: %s\n", r.code,
                        r.out ? r.out : "", r.err ? r.err : "");
        }
        CHECK(r.json != NULL && hjson_type(r.json) == HJSON_OBJECT);
        if (r.json == NULL)
                fprintf(stderr, "complaintctl %s: stdout is not JSON: %s\n", args[0], r.out);
        REQUIRE(r.code == 0 && r.json != NULL);
        return r;
}

#define CTL(actor, ...) s_ctl((actor), (const char *const[]){__VA_ARGS__, NULL})

/* Checks a lifecycle command's JSON record. */
static void
s_expect_record(const char *what, const hjson_t *j, const char *status, const char *department,
                int64_t history_count, const char *owner)
{
        const char *st = hjson_str(j, "status"), *dep = hjson_str(j, "department");
        bool ok = st && strcmp(st, status) == 0 && dep && strcmp(dep, department) == 0 &&
                  hjson_int(j, "history_count", -1) == history_count &&
                  hjson_bool(j, "replayed", -1) == 0;

        CHECK(ok);
        CHECK_STR(hjson_str(j, "owner"), owner);
        if (!ok)
                fprintf(stderr,
                        "%s: status %s department %s history_count %" PRId64
                        " replayed %d; expected %s %s %" PRId64 "\n",
                        what, st ? st : "?", dep ? dep : "?", hjson_int(j, "history_count", -1),
                        hjson_bool(j, "replayed", -1), status, department, history_count);
}

static uint64_t
s_id(const hjson_t *j)
{
        int64_t id = hjson_int(j, "id", 0);

        REQUIRE(id > 0);
        return (uint64_t)id;
}

static void
s_idstr(uint64_t id, char *buf, size_t size)
{
        snprintf(buf, size, "%" PRIu64, id);
}

/* One expected history entry. */
struct step {
        const char *action, *from, *to, *actor, *department, *from_department;
};

/* Runs show --json and checks the complaint's history against steps. Returns the JSON (the
 * caller frees it) for further checks. */
static harness_ctl_t
s_expect_history(uint64_t id, const char *owner, const struct step *steps, size_t n)
{
        char ids[32], path[64];
        harness_ctl_t r;

        s_idstr(id, ids, sizeof(ids));
        r = CTL("viewer", "show", ids);
        CHECK_INT(hjson_int(r.json, "complaint.id", 0), (int64_t)id);
        CHECK_STR(hjson_str(r.json, "complaint.owner"), owner);
        CHECK_INT(hjson_int(r.json, "complaint.history_count", -1), (int64_t)n);
        CHECK_INT(hjson_len(r.json, "history"), n);
        for (size_t i = 0; i < n && i < hjson_len(r.json, "history"); i++) {
                const hjson_t *e;
                bool ok;

                snprintf(path, sizeof(path), "history.%zu", i);
                e = hjson_get(r.json, path);
                ok = hjson_int(e, "seq", -1) == (int64_t)i + 1 &&
                     hjson_int(e, "complaint_id", 0) == (int64_t)id && hjson_str(e, "action") &&
                     strcmp(hjson_str(e, "action"), steps[i].action) == 0 &&
                     hjson_str(e, "from_status") &&
                     strcmp(hjson_str(e, "from_status"), steps[i].from) == 0 &&
                     hjson_str(e, "to_status") &&
                     strcmp(hjson_str(e, "to_status"), steps[i].to) == 0 && hjson_str(e, "actor") &&
                     strcmp(hjson_str(e, "actor"), steps[i].actor) == 0 &&
                     hjson_str(e, "department") &&
                     strcmp(hjson_str(e, "department"), steps[i].department) == 0 &&
                     hjson_str(e, "from_department") &&
                     strcmp(hjson_str(e, "from_department"), steps[i].from_department) == 0 &&
                     hjson_int(e, "event_seq", 0) > 0;
                CHECK(ok);
                if (!ok)
                        fprintf(stderr,
                                "complaint %" PRIu64 " history %zu: seq %" PRId64
                                " %s %s->%s by %s dept %s from %s; expected %s %s->%s by %s "
                                "dept %s from %s\n",
                                id, i, hjson_int(e, "seq", -1), hjson_str(e, "action"),
                                hjson_str(e, "from_status"), hjson_str(e, "to_status"),
                                hjson_str(e, "actor"), hjson_str(e, "department"),
                                hjson_str(e, "from_department"), steps[i].action, steps[i].from,
                                steps[i].to, steps[i].actor, steps[i].department,
                                steps[i].from_department);
        }
        return r;
}

/* ------------------------------------------------------------------ events against history */

static const char *
s_kind(const char *action)
{
        static const char *const map[][2] = {
            {"create", "created"},    {"assign", "assigned"}, {"reassign", "assigned"},
            {"accept", "accepted"},   {"pend", "pending"},    {"resume", "resumed"},
            {"resolve", "resolved"},  {"close", "closed"},    {"reopen", "reopened"},
            {"dismiss", "dismissed"}, {"note", "noted"},
        };

        for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
                if (strcmp(map[i][0], action) == 0)
                        return map[i][1];
        return "?";
}

/* The event with sequence number seq among s's, or NULL. */
static const pb_event_t *
s_event_at(const sub_t *s, uint64_t seq)
{
        for (size_t i = 0; i < s->n; i++)
                if (s->ev[i]->seq == seq)
                        return s->ev[i];
        return NULL;
}

static void
s_expect_event(const sub_t *all, uint64_t seq, const char *topic, uint64_t id, int64_t hseq,
               const char *action, bool *seen)
{
        const pb_event_t *ev = s_event_at(all, seq);
        bool ok;

        CHECK(ev != NULL);
        if (ev == NULL) {
                fprintf(stderr, "no event %" PRIu64 " (%s of complaint %" PRIu64 ")\n", seq, topic,
                        id);
                return;
        }
        seen[seq] = true;
        ok = strcmp(ev->topic, topic) == 0 && ev->entry && ev->entry->complaint_id == id &&
             (int64_t)ev->entry->seq == hseq &&
             strcmp(pb_action_name(ev->entry->action), action) == 0 && ev->complaint &&
             ev->complaint->id == id;
        CHECK(ok);
        if (!ok)
                fprintf(stderr,
                        "event %" PRIu64 ": topic %s complaint %" PRIu64 " entry %u %s; expected "
                        "%s complaint %" PRIu64 " entry %" PRId64 " %s\n",
                        seq, ev->topic, ev->entry ? ev->entry->complaint_id : 0,
                        ev->entry ? ev->entry->seq : 0,
                        ev->entry ? pb_action_name(ev->entry->action) : "-", topic, id, hseq,
                        action);
        /* Contact details never travel on the event stream. */
        if (ev->complaint && ev->complaint->complainant) {
                const pb_complainant_t *c = ev->complaint->complainant;

                CHECK(!c->phone[0] && !c->email[0] && !c->address[0] && !c->name[0]);
        }
}

/* Every event the "all" subscriber got matches a history entry of one of the complaints, and
 * every history entry has its event(s): each entry's own event at its event_seq on
 * "<department or centre>/<kind>", and a reassignment's extra "<old department>/reassigned"
 * just before it. */
static void
s_expect_events_match_history(const sub_t *all, const uint64_t *ids, size_t nids)
{
        bool seen[EVENTS_MAX + 2] = {false};
        size_t expected = 0;

        for (size_t k = 0; k < nids; k++) {
                char idbuf[32], path[64], topic[160];
                harness_ctl_t r;

                s_idstr(ids[k], idbuf, sizeof(idbuf));
                r = CTL("viewer", "show", idbuf);
                for (size_t i = 0; i < hjson_len(r.json, "history"); i++) {
                        const hjson_t *e;
                        const char *action, *dep;
                        int64_t es;

                        snprintf(path, sizeof(path), "history.%zu", i);
                        e = hjson_get(r.json, path);
                        action = hjson_str(e, "action");
                        dep = hjson_str(e, "department");
                        es = hjson_int(e, "event_seq", 0);
                        REQUIRE(action && dep);
                        if (es <= 0 || es > EVENTS_MAX) {
                                CHECK(es > 0 && es <= EVENTS_MAX);
                                continue;
                        }
                        snprintf(topic, sizeof(topic), "%s/%s",
                                 strcmp(action, "create") == 0 || !dep[0] ? "centre" : dep,
                                 s_kind(action));
                        s_expect_event(all, (uint64_t)es, topic, ids[k], (int64_t)i + 1, action,
                                       seen);
                        expected++;
                        if (strcmp(action, "reassign") == 0) {
                                snprintf(topic, sizeof(topic), "%s/reassigned",
                                         hjson_str(e, "from_department"));
                                s_expect_event(all, (uint64_t)es - 1, topic, ids[k], (int64_t)i + 1,
                                               action, seen);
                                expected++;
                        }
                }
                harness_ctl_free(&r);
        }
        CHECK_INT(all->n, expected);
        for (size_t i = 0; i < all->n; i++) {
                if (all->ev[i]->seq <= EVENTS_MAX && !seen[all->ev[i]->seq]) {
                        CHECK(false);
                        fprintf(stderr, "event %" PRIu64 " (%s) matches no history entry\n",
                                all->ev[i]->seq, all->ev[i]->topic);
                }
        }
}

/* Events arrive in order, numbered 1, 2, 3, ... without gaps. */
static void
s_expect_gap_free(const sub_t *s)
{
        for (size_t i = 0; i < s->n; i++) {
                CHECK_INT(s->ev[i]->seq, i + 1);
                if (s->ev[i]->seq != i + 1) {
                        fprintf(stderr, "%s: event %zu has seq %" PRIu64 "\n", s->name, i,
                                s->ev[i]->seq);
                        break;
                }
        }
        CHECK(!s->bad_heartbeat);
}

/* The topic of event i of s. */
static const char *
s_topic(const sub_t *s, size_t i)
{
        return i < s->n ? s->ev[i]->topic : "(none)";
}

/* ------------------------------------------------------------------ list */

/* Runs list with the given filters and checks the exact set of ids it returns. */
static void
s_expect_list(const char *const *filters, const uint64_t *want, size_t nwant)
{
        const char *argv[16] = {"list"};
        size_t n = 1;
        harness_ctl_t r;
        size_t got;

        for (size_t i = 0; filters[i] && n < 15; i++)
                argv[n++] = filters[i];
        argv[n] = NULL;
        r = s_ctl("viewer", argv);
        got = hjson_len(r.json, "complaints");
        CHECK_INT(got, nwant);
        for (size_t i = 0; i < nwant; i++) {
                bool found = false;

                for (size_t k = 0; k < got; k++) {
                        char path[64];

                        snprintf(path, sizeof(path), "complaints.%zu.id", k);
                        found = found || hjson_int(r.json, path, 0) == (int64_t)want[i];
                }
                CHECK(found);
                if (!found)
                        fprintf(stderr, "list %s %s: complaint %" PRIu64 " missing: %s\n",
                                filters[0], filters[1], want[i], r.out);
        }
        CHECK_INT(hjson_int(r.json, "next_before_id", -1), 0);
        harness_ctl_free(&r);
}

/* ------------------------------------------------------------------ the lives */

int
main(void)
{
        sub_t all, billing;
        harness_ctl_t r;
        uint64_t a, b, c, d;
        char as[32], bs[32], cs[32], ds[32];
        size_t ne = 0; /* events expected so far on "all" */

        REQUIRE(harness_init(&h, "it_e2e") == 0);
        REQUIRE(harness_start(&h) == 0);
        s_sub_open(&all, "all", (const char *const[]){"", NULL});
        s_sub_open(&billing, "billing", (const char *const[]){"billing/", NULL});

        /* ---- A: the whole life, with a reassignment. */
        r = CTL("alice", "create", "--channel", "phone", "--category", "billing", "--subject",
                "Charged twice", "--description", "The March bill charges the rental twice.",
                "--name", "Ada Lovelace", "--phone", "+44 20 7946 0000", "--priority", "major");
        a = s_id(r.json);
        s_idstr(a, as, sizeof(as));
        s_expect_record("A create", r.json, "new", "", 1, "alice");
        CHECK_STR(hjson_str(r.json, "category"), "billing");
        CHECK_STR(hjson_str(r.json, "channel"), "phone");
        CHECK_STR(hjson_str(r.json, "priority"), "major");
        CHECK_STR(hjson_str(r.json, "nature"), "valid");
        CHECK_STR(hjson_str(r.json, "complainant.phone"), "+44 20 7946 0000");
        harness_ctl_free(&r);
        s_sub_pump(&all, ne += 1);
        CHECK_STR(s_topic(&all, ne - 1), "centre/created");

        r = CTL("dispatcher", "assign", as, "--department", "billing");
        s_expect_record("A assign", r.json, "assigned", "billing", 2, "alice");
        harness_ctl_free(&r);
        s_sub_pump(&all, ne += 1);
        CHECK_STR(s_topic(&all, ne - 1), "billing/assigned");

        r = CTL("billing.system", "assign", as, "--department", "network");
        s_expect_record("A reassign", r.json, "assigned", "network", 3, "alice");
        harness_ctl_free(&r);
        s_sub_pump(&all, ne += 2);
        CHECK_STR(s_topic(&all, ne - 2), "billing/reassigned");
        CHECK_STR(s_topic(&all, ne - 1), "network/assigned");

        r = CTL("network.system", "accept", as);
        s_expect_record("A accept", r.json, "accepted", "network", 4, "alice");
        harness_ctl_free(&r);
        s_sub_pump(&all, ne += 1);
        CHECK_STR(s_topic(&all, ne - 1), "network/accepted");

        r = CTL("network.system", "pend", as, "--note", "waiting for the meter photo");
        s_expect_record("A pend", r.json, "pending", "network", 5, "alice");
        harness_ctl_free(&r);
        s_sub_pump(&all, ne += 1);
        CHECK_STR(s_topic(&all, ne - 1), "network/pending");

        r = CTL("network.system", "resume", as);
        s_expect_record("A resume", r.json, "accepted", "network", 6, "alice");
        harness_ctl_free(&r);
        s_sub_pump(&all, ne += 1);
        CHECK_STR(s_topic(&all, ne - 1), "network/resumed");

        r = CTL("network.system", "resolve", as, "--cause", "billing run counted twice",
                "--responsibility", "company", "--reply", "We refunded the second charge.",
                "--compensation", "12.50");
        s_expect_record("A resolve", r.json, "resolved", "network", 7, "alice");
        CHECK_INT(hjson_int(r.json, "resolution.compensation_cents", -1), 1250);
        CHECK_STR(hjson_str(r.json, "resolution.responsibility"), "company");
        CHECK_STR(hjson_str(r.json, "resolution.reply"), "We refunded the second charge.");
        CHECK_STR(hjson_str(r.json, "resolution.resolved_by"), "network.system");
        harness_ctl_free(&r);
        s_sub_pump(&all, ne += 1);
        CHECK_STR(s_topic(&all, ne - 1), "network/resolved");

        r = CTL("alice", "close", as, "--satisfaction", "4");
        s_expect_record("A close", r.json, "closed", "network", 8, "alice");
        CHECK_INT(hjson_int(r.json, "follow_up.satisfaction", -1), 4);
        CHECK_INT(hjson_bool(r.json, "follow_up.call_failed", -1), 0);
        CHECK_STR(hjson_str(r.json, "follow_up.closed_by"), "alice");
        harness_ctl_free(&r);
        s_sub_pump(&all, ne += 1);
        CHECK_STR(s_topic(&all, ne - 1), "network/closed");

        /* A note is allowed in every state and changes none. */
        r = CTL("alice", "note", as, "customer called to say thanks");
        s_expect_record("A note", r.json, "closed", "network", 9, "alice");
        harness_ctl_free(&r);
        s_sub_pump(&all, ne += 1);
        CHECK_STR(s_topic(&all, ne - 1), "network/noted");

        {
                static const struct step steps[] = {
                    {"create", "unspecified", "new", "alice", "", ""},
                    {"assign", "new", "assigned", "dispatcher", "billing", ""},
                    {"reassign", "assigned", "assigned", "billing.system", "network", "billing"},
                    {"accept", "assigned", "accepted", "network.system", "network", ""},
                    {"pend", "accepted", "pending", "network.system", "network", ""},
                    {"resume", "pending", "accepted", "network.system", "network", ""},
                    {"resolve", "accepted", "resolved", "network.system", "network", ""},
                    {"close", "resolved", "closed", "alice", "network", ""},
                    {"note", "closed", "closed", "alice", "network", ""},
                };

                r = s_expect_history(a, "alice", steps, sizeof(steps) / sizeof(steps[0]));
                CHECK_STR(hjson_str(r.json, "history.4.note"), "waiting for the meter photo");
                CHECK_STR(hjson_str(r.json, "history.8.note"), "customer called to say thanks");
                CHECK_STR(hjson_str(r.json, "complaint.subject"), "Charged twice");
                harness_ctl_free(&r);
        }

        /* ---- B: settled on the spot. */
        r = CTL("bob", "create", "--channel", "walk_in", "--category", "billing", "--subject",
                "Late fee", "--description", "A late fee for a bill paid on time.", "--email",
                "grace@example.org");
        b = s_id(r.json);
        s_idstr(b, bs, sizeof(bs));
        s_expect_record("B create", r.json, "new", "", 1, "bob");
        harness_ctl_free(&r);
        r = CTL("bob", "resolve", bs, "--cause", "payment posted late", "--responsibility",
                "third_party", "--reply", "The fee is waived.");
        s_expect_record("B resolve on the spot", r.json, "resolved", "", 2, "bob");
        CHECK_INT(hjson_int(r.json, "resolution.compensation_cents", -1), 0);
        CHECK_STR(hjson_str(r.json, "resolution.responsibility"), "third_party");
        harness_ctl_free(&r);
        s_sub_pump(&all, ne += 2);
        CHECK_STR(s_topic(&all, ne - 2), "centre/created");
        CHECK_STR(s_topic(&all, ne - 1), "centre/resolved");
        {
                static const struct step steps[] = {
                    {"create", "unspecified", "new", "bob", "", ""},
                    {"resolve", "new", "resolved", "bob", "", ""},
                };

                r = s_expect_history(b, "bob", steps, 2);
                harness_ctl_free(&r);
        }

        /* ---- C: dismissed as a duplicate, then reopened to the category's department. */
        r = CTL("carol", "create", "--channel", "web", "--category", "network", "--subject",
                "No signal", "--description", "No mobile signal at home since Monday.", "--phone",
                "+1 555 0100", "--nature", "help");
        c = s_id(r.json);
        s_idstr(c, cs, sizeof(cs));
        s_expect_record("C create", r.json, "new", "", 1, "carol");
        CHECK_STR(hjson_str(r.json, "nature"), "help");
        harness_ctl_free(&r);
        r = CTL("carol", "dismiss", cs, "--reason", "duplicate");
        s_expect_record("C dismiss", r.json, "dismissed", "", 2, "carol");
        CHECK_STR(hjson_str(r.json, "dismiss_reason"), "duplicate");
        harness_ctl_free(&r);
        r = CTL("supervisor", "reopen", cs, "--reason", "not a duplicate after all");
        s_expect_record("C reopen", r.json, "assigned", "network", 3, "carol");
        CHECK_INT(hjson_int(r.json, "reopen_count", -1), 1);
        harness_ctl_free(&r);
        s_sub_pump(&all, ne += 3);
        CHECK_STR(s_topic(&all, ne - 3), "centre/created");
        CHECK_STR(s_topic(&all, ne - 2), "centre/dismissed");
        CHECK_STR(s_topic(&all, ne - 1), "network/reopened");
        {
                static const struct step steps[] = {
                    {"create", "unspecified", "new", "carol", "", ""},
                    {"dismiss", "new", "dismissed", "carol", "", ""},
                    {"reopen", "dismissed", "assigned", "supervisor", "network", ""},
                };

                r = s_expect_history(c, "carol", steps, 3);
                CHECK_STR(hjson_str(r.json, "history.2.note"), "not a duplicate after all");
                harness_ctl_free(&r);
        }

        /* ---- D: assigned to the category's default department; the follow-up call fails. */
        r = CTL("dave", "create", "--channel", "email", "--category", "equipment", "--subject",
                "Router broken", "--description", "The new router does not power on.", "--email",
                "dave@example.org", "--priority", "urgent");
        d = s_id(r.json);
        s_idstr(d, ds, sizeof(ds));
        harness_ctl_free(&r);
        r = CTL("dispatcher", "assign", ds);
        s_expect_record("D assign by category", r.json, "assigned", "field_service", 2, "dave");
        harness_ctl_free(&r);
        r = CTL("depot", "accept", ds);
        s_expect_record("D accept", r.json, "accepted", "field_service", 3, "dave");
        harness_ctl_free(&r);
        r = CTL("depot", "resolve", ds, "--cause", "faulty power supply", "--responsibility",
                "company", "--reply", "A technician replaced the router.");
        s_expect_record("D resolve", r.json, "resolved", "field_service", 4, "dave");
        harness_ctl_free(&r);
        /* The contract: close takes a satisfaction or call_failed; no note is required. */
        r = HARNESS_CTL(&h, "--json", "--actor", "dave", "close", ds, "--call-failed");
        CHECK_INT(r.code, 0);
        if (r.code != 0) {
                fprintf(stderr, "close --call-failed without a note: exit %d: %s", r.code,
                        r.out ? r.out : "");
                /* Go on with a note, so the rest of the life is still checked. */
                harness_ctl_free(&r);
                r = CTL("dave", "close", ds, "--call-failed", "--note", "no answer, twice");
        }
        s_expect_record("D close, call failed", r.json, "closed", "field_service", 5, "dave");
        CHECK_INT(hjson_bool(r.json, "follow_up.call_failed", -1), 1);
        CHECK_INT(hjson_int(r.json, "follow_up.satisfaction", -1), 0);
        harness_ctl_free(&r);
        s_sub_pump(&all, ne += 5);
        CHECK_STR(s_topic(&all, ne - 5), "centre/created");
        CHECK_STR(s_topic(&all, ne - 4), "field_service/assigned");
        CHECK_STR(s_topic(&all, ne - 3), "field_service/accepted");
        CHECK_STR(s_topic(&all, ne - 2), "field_service/resolved");
        CHECK_STR(s_topic(&all, ne - 1), "field_service/closed");
        {
                static const struct step steps[] = {
                    {"create", "unspecified", "new", "dave", "", ""},
                    {"assign", "new", "assigned", "dispatcher", "field_service", ""},
                    {"accept", "assigned", "accepted", "depot", "field_service", ""},
                    {"resolve", "accepted", "resolved", "depot", "field_service", ""},
                    {"close", "resolved", "closed", "dave", "field_service", ""},
                };

                r = s_expect_history(d, "dave", steps, 5);
                harness_ctl_free(&r);
        }

        /* ---- list filters */
        s_expect_list((const char *const[]){"--department", "network", NULL},
                      (const uint64_t[]){a, c}, 2);
        s_expect_list((const char *const[]){"--status", "closed", NULL}, (const uint64_t[]){a, d},
                      2);
        s_expect_list((const char *const[]){"--category", "billing", NULL},
                      (const uint64_t[]){a, b}, 2);
        s_expect_list(
            (const char *const[]){"--department", "network", "--status", "assigned", NULL},
            (const uint64_t[]){c}, 1);
        s_expect_list((const char *const[]){"--category", "safety", NULL}, NULL, 0);
        s_expect_list((const char *const[]){"--status", "resolved", NULL}, (const uint64_t[]){b},
                      1);

        /* ---- status */
        r = CTL("viewer", "status");
        CHECK_INT(hjson_int(r.json, "complaints", -1), 4);
        CHECK_INT(hjson_int(r.json, "last_event_seq", -1), (int64_t)ne);
        CHECK_STR(hjson_str(r.json, "events_endpoint"), h.events);
        CHECK_STR(hjson_str(r.json, "api_endpoint"), h.api);
        harness_ctl_free(&r);

        /* ---- events: all of them, in order, each matching its history entry */
        s_sub_settle(&all, ne);
        CHECK_INT(all.n, ne);
        s_expect_gap_free(&all);
        s_expect_events_match_history(&all, (const uint64_t[]){a, b, c, d}, 4);

        /* The billing subscriber got exactly the billing/ events, in order. */
        s_sub_settle(&billing, ne);
        {
                size_t k = 0;

                for (size_t i = 0; i < all.n; i++) {
                        if (strncmp(all.ev[i]->topic, "billing/", 8) != 0)
                                continue;
                        CHECK(k < billing.n && billing.ev[k]->seq == all.ev[i]->seq);
                        k++;
                }
                CHECK_INT(billing.n, k);
                CHECK_INT(k, 2);
                if (billing.n != k || k != 2) {
                        fprintf(stderr, "billing/ subscriber got:");
                        for (size_t i = 0; i < billing.n; i++)
                                fprintf(stderr, " %" PRIu64 ":%s", billing.ev[i]->seq,
                                        billing.ev[i]->topic);
                        fprintf(stderr, "\n");
                }
                if (billing.n != k || k != 2) {
                        fprintf(stderr, "billing/ subscriber got:");
                        for (size_t i = 0; i < billing.n; i++)
                                fprintf(stderr, " %" PRIu64 ":%s", billing.ev[i]->seq,
                                        billing.ev[i]->topic);
                        fprintf(stderr, " (%zu heartbeats)\n", billing.heartbeats);
                }
        }

        /* ---- a change repeated with the same request id is answered, not redone */
        r = CTL("alice", "--request-id", "e2e-note-1", "note", bs, "first");
        CHECK_INT(hjson_bool(r.json, "replayed", -1), 0);
        CHECK_INT(hjson_int(r.json, "history_count", -1), 3);
        harness_ctl_free(&r);
        r = CTL("alice", "--request-id", "e2e-note-1", "note", bs, "first");
        CHECK_INT(hjson_bool(r.json, "replayed", -1), 1);
        CHECK_INT(hjson_int(r.json, "history_count", -1), 3);
        harness_ctl_free(&r);

        /* ---- refusals: exit 1 with the error, usage errors exit 2 */
        {
                harness_ctl_t e = HARNESS_CTL(&h, "--json", "--actor", "alice", "accept", as);

                CHECK_INT(e.code, 1);
                CHECK_STR(hjson_str(e.json, "error"), "invalid_transition");
                harness_ctl_free(&e);
                e = HARNESS_CTL(&h, "--json", "--actor", "alice", "show", "424242");
                CHECK_INT(e.code, 1);
                CHECK_STR(hjson_str(e.json, "error"), "not_found");
                harness_ctl_free(&e);
                e = HARNESS_CTL(&h, "--json", "--actor", "alice", "frobnicate");
                CHECK_INT(e.code, 2);
                harness_ctl_free(&e);
        }

        s_sub_close(&all);
        s_sub_close(&billing);
        CHECK_INT(harness_stop(&h), 0);
        return harness_cleanup(&h, check_summary());
}
