/* loadgen.c: bench_loadgen, the load generator of the benchmark. It drives a real complaintd
 * through its API (DEALER sockets, one per simulated client, each on its own thread) and reads
 * its event socket (SUB), and prints what it measured as "name value" lines (bench.h).
 *
 * Scenarios, one per invocation:
 *   preload    --count N complaints created and dispatched to --dept, as fast as the daemon
 *              takes them (big windows, many clients): fills a store for the others.
 *   intake     --clients agents, each creating and dispatching complaints for --seconds with
 *              --window requests in flight (1: an agent waits for each answer).
 *   lifecycle  the work of a real centre against a preloaded store (--seed complaints, ids
 *              1..N, all dispatched): creates, dispatches, accepts, notes, resolves, closes.
 *   storm      --count complaints dispatched to --dept, whose calendar makes them all due at
 *              --due-at; measures when each escalation arrives on the event socket. With
 *              --before-due CMD it runs CMD (tests/bench/run: the limit at the storm's commit
 *              size, which takes --before-due-seconds) once the block is dispatched, so that
 *              it ends just before the deadline: the limit is measured next to the storm.
 *   flood      the storm's block (smaller) falling due under a read flood: one complaint with
 *              --notes notes, then --clients hostile readers sending --window gets of it and
 *              lists that scan limits.scan_max entries at a time, leaving their replies unread,
 *              around --due-at (a window of --seconds), while one client times a status request
 *              every 100 ms and the memory of the daemon (--pid) is read every 50 ms.
 *   fanout     --subscribers SUB sockets on the event socket under a sustained intake load;
 *              counts what each received against the daemon's event numbers.
 *   restart    starts --daemon on --state-dir, times READY (sd_notify) and the first status
 *              answer, reads its memory from /proc, and stops it.
 *   status     waits up to --seconds for a status answer; prints the store's counts.
 *   keys       writes a key pair for the daemon and one for the clients into --curve DIR.
 *
 * With --curve DIR (issue 14) every socket the loadgen opens, libcomplaint's subscribers'
 * included, is a CURVE client with the key pair DIR/client.key of the daemon whose public key
 * is DIR/server.pub (curve.h says how, and the files).
 *
 * Every request carries a request id unique to this process (a random prefix), so runs can
 * reuse a copied store. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "bench.h"
#include "complaint_sub.h"
#include "curve.h"
#include "pb.h"

enum op_kind { OP_CREATE, OP_ASSIGN, OP_ACCEPT, OP_NOTE, OP_RESOLVE, OP_CLOSE, OP_KINDS };

static const char *const op_names[OP_KINDS] = {"create", "assign",  "accept",
                                               "note",   "resolve", "close"};

struct opts {
        const char *scenario;
        const char *api;
        const char *events;
        const char *label;
        const char *dept;
        const char *category;
        const char *daemon;
        const char *config;
        const char *state_dir;
        const char *notify;
        const char *log;
        const char *curve;
        const char *before_due;
        double before_due_s;
        int clients;
        int window;
        int subscribers;
        double seconds;
        uint64_t count;
        uint64_t seed;
        int64_t due_at_ms;
        pid_t pid;
        uint64_t notes;
        size_t note_bytes;
};

/* A set of complaint ids: a ring used as a FIFO queue. */
struct idq {
        uint64_t *v;
        size_t head, n, cap;
};

static void
s_idq_push(struct idq *q, uint64_t id)
{
        if (q->n == q->cap) {
                size_t cap = q->cap ? q->cap * 2 : 256;
                uint64_t *v = malloc(cap * sizeof(*v));

                if (v == NULL)
                        bench_die("out of memory");
                for (size_t i = 0; i < q->n; i++)
                        v[i] = q->v[(q->head + i) % q->cap];
                free(q->v);
                *q = (struct idq){v, 0, q->n, cap};
        }
        q->v[(q->head + q->n++) % q->cap] = id;
}

static bool
s_idq_pop(struct idq *q, uint64_t *ret)
{
        if (q->n == 0)
                return false;
        *ret = q->v[q->head];
        q->head = (q->head + 1) % q->cap;
        q->n--;
        return true;
}

/* A request in flight. */
struct slot {
        bool used;
        int kind;
        uint64_t id;
        int64_t sent_us;
};

struct worker {
        int index;
        const struct opts *o;
        void *sock;
        pthread_t thread;
        char actor[32];
        uint64_t seq; /* requests sent */
        struct slot *slots;
        int inflight;
        unsigned rng;
        int64_t stop_us; /* no new work after this (0: none) */
        uint64_t quota;  /* complaints to create (0: no limit) */
        uint64_t created;
        uint64_t ok[OP_KINDS];
        uint64_t failed[OP_KINDS];
        uint64_t ok_in_window[OP_KINDS]; /* answered before stop_us */
        struct bench_samples lat[OP_KINDS];
        struct idq to_assign;                /* created, not yet dispatched */
        struct idq assigned;                 /* dispatched, not yet accepted */
        struct idq accepted;                 /* accepted, not yet resolved */
        struct idq resolved;                 /* resolved, not yet closed */
        uint64_t seed_lo, seed_n, seed_next; /* this worker's slice of the preloaded store */
        int last_error;
        char last_message[160];
};

static void *zctx;
static uint64_t rid_prefix;

/* ------------------------------------------------------------------------------ requests */

static void *
s_dealer(const char *endpoint)
{
        void *sock = zmq_socket(zctx, ZMQ_DEALER);
        int zero = 0, ivl = 10;

        zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof(zero));
        zmq_setsockopt(sock, ZMQ_SNDHWM, &zero, sizeof(zero));
        zmq_setsockopt(sock, ZMQ_RCVHWM, &zero, sizeof(zero));
        zmq_setsockopt(sock, ZMQ_RECONNECT_IVL, &ivl, sizeof(ivl));
        if (zmq_connect(sock, endpoint) < 0)
                bench_die("%s: %s", endpoint, zmq_strerror(zmq_errno()));
        return sock;
}

static void
s_send(void *sock, const pb_request_t *rq)
{
        uint8_t stack[2048], *buf = stack;
        size_t len = complaint__v1__request__get_packed_size(rq);

        if (len > sizeof(stack) && (buf = malloc(len)) == NULL)
                bench_die("out of memory");
        complaint__v1__request__pack(rq, buf);
        if (zmq_send(sock, "", 0, ZMQ_SNDMORE) < 0 || zmq_send(sock, buf, len, 0) < 0)
                bench_die("send: %s", zmq_strerror(zmq_errno()));
        if (buf != stack)
                free(buf);
}

/* Receives one reply; NULL on timeout (timeout_ms, -1: wait). */
static pb_reply_t *
s_recv(void *sock, long timeout_ms)
{
        zmq_pollitem_t item = {.socket = sock, .events = ZMQ_POLLIN};
        zmq_msg_t m;
        pb_reply_t *rep;

        if (timeout_ms >= 0 && zmq_poll(&item, 1, timeout_ms) <= 0)
                return NULL;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, sock, 0) < 0 || zmq_msg_size(&m) != 0 || !zmq_msg_more(&m))
                bench_die("reply: bad framing");
        zmq_msg_close(&m);
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, sock, 0) < 0)
                bench_die("reply: %s", zmq_strerror(zmq_errno()));
        rep = complaint__v1__reply__unpack(NULL, zmq_msg_size(&m), zmq_msg_data(&m));
        zmq_msg_close(&m);
        if (rep == NULL)
                bench_die("reply: not a Reply");
        return rep;
}

/* One status request on its own socket, waiting up to timeout_ms; NULL when none came. */
static pb_reply_t *
s_status(const char *api, long timeout_ms)
{
        pb_request_t rq = COMPLAINT__V1__REQUEST__INIT;
        Complaint__V1__StatusRequest st = COMPLAINT__V1__STATUS_REQUEST__INIT;
        void *sock = s_dealer(api);
        pb_reply_t *rep;

        rq.schema_version = PB_SCHEMA_VERSION;
        rq.request_id = (char *)(uintptr_t) "status";
        rq.body_case = COMPLAINT__V1__REQUEST__BODY_STATUS;
        rq.status = &st;
        s_send(sock, &rq);
        rep = s_recv(sock, timeout_ms);
        zmq_close(sock);
        if (rep && (rep->error != E_OK || rep->status == NULL)) {
                complaint__v1__reply__free_unpacked(rep, NULL);
                rep = NULL;
        }
        return rep;
}

static const char *const subjects[] = {
    "Charged twice for October",     "Technician did not turn up",
    "No signal since the storm",     "Rude answer at the shop counter",
    "Meter reading far too high",    "Loose cable across the pavement",
    "Refund promised, never arrived"};

static const char description[] =
    "The customer called about the matter in the subject. They have called twice before and "
    "were promised a call back that never came. They would like a written answer and, if the "
    "charge is confirmed as wrong, a refund to the account it was taken from. Reference numbers "
    "from the earlier calls were not kept. Best reached in the afternoon.";

/* Sends the next request of kind on complaint id (ignored by create). */
static void
s_issue(struct worker *w, int kind, uint64_t id)
{
        pb_request_t rq = COMPLAINT__V1__REQUEST__INIT;
        Complaint__V1__CreateRequest cr = COMPLAINT__V1__CREATE_REQUEST__INIT;
        Complaint__V1__Complainant who = COMPLAINT__V1__COMPLAINANT__INIT;
        Complaint__V1__AssignRequest as = COMPLAINT__V1__ASSIGN_REQUEST__INIT;
        Complaint__V1__AcceptRequest ac = COMPLAINT__V1__ACCEPT_REQUEST__INIT;
        Complaint__V1__NoteRequest no = COMPLAINT__V1__NOTE_REQUEST__INIT;
        Complaint__V1__ResolveRequest re = COMPLAINT__V1__RESOLVE_REQUEST__INIT;
        Complaint__V1__CloseRequest cl = COMPLAINT__V1__CLOSE_REQUEST__INIT;
        struct slot *sl = &w->slots[w->seq % (uint64_t)w->o->window];
        char rid[64], phone[32];

        assert(!sl->used);
        /* Time first, as libcomplaint's ids (complaint_request_id_generate()). */
        snprintf(rid, sizeof(rid), "%012" PRIx64 "%016" PRIx64 "-%d-%" PRIu64,
                 (uint64_t)bench_wall_ms(), rid_prefix, w->index, w->seq);
        rq.schema_version = PB_SCHEMA_VERSION;
        rq.request_id = rid;
        rq.actor = w->actor;
        switch (kind) {
        case OP_CREATE:
                snprintf(phone, sizeof(phone), "+49 30 %07u", (unsigned)rand_r(&w->rng) % 10000000);
                who.name = (char *)(uintptr_t) "Ann Smith";
                who.phone = phone;
                cr.channel = COMPLAINT__V1__CHANNEL__CHANNEL_PHONE;
                cr.complainant = &who;
                cr.subject =
                    (char *)(uintptr_t)subjects[w->seq % (sizeof(subjects) / sizeof(subjects[0]))];
                cr.description = (char *)(uintptr_t)description;
                cr.category = (char *)(uintptr_t)w->o->category;
                rq.body_case = COMPLAINT__V1__REQUEST__BODY_CREATE;
                rq.create = &cr;
                break;
        case OP_ASSIGN:
                as.id = id;
                as.department = (char *)(uintptr_t)w->o->dept;
                rq.body_case = COMPLAINT__V1__REQUEST__BODY_ASSIGN;
                rq.assign = &as;
                break;
        case OP_ACCEPT:
                ac.id = id;
                rq.body_case = COMPLAINT__V1__REQUEST__BODY_ACCEPT;
                rq.accept = &ac;
                break;
        case OP_NOTE:
                no.id = id;
                no.note = (char *)(uintptr_t) "Called the customer back; they will send a copy of "
                                              "the bill.";
                rq.body_case = COMPLAINT__V1__REQUEST__BODY_NOTE;
                rq.note = &no;
                break;
        case OP_RESOLVE:
                re.id = id;
                re.cause = (char *)(uintptr_t) "duplicate debit run";
                re.responsibility = COMPLAINT__V1__RESPONSIBILITY__RESPONSIBILITY_COMPANY;
                re.compensation_cents = 1250;
                re.reply = (char *)(uintptr_t) "We refunded the second charge and apologise.";
                rq.body_case = COMPLAINT__V1__REQUEST__BODY_RESOLVE;
                rq.resolve = &re;
                break;
        case OP_CLOSE:
                cl.id = id;
                cl.satisfaction = 1 + (uint32_t)rand_r(&w->rng) % 5;
                rq.body_case = COMPLAINT__V1__REQUEST__BODY_CLOSE;
                rq.close = &cl;
                break;
        default:
                assert(!"unknown op");
        }
        *sl = (struct slot){true, kind, id, bench_mono_us()};
        s_send(w->sock, &rq);
        w->seq++;
        w->inflight++;
        if (kind == OP_CREATE)
                w->created++;
}

/* ----------------------------------------------------------------------------- workloads */

static bool
s_stopped(const struct worker *w)
{
        return w->stop_us > 0 && bench_mono_us() >= w->stop_us;
}

/* Intake: create, then dispatch what was created. Returns false when there is nothing to
 * send now. */
static bool
s_next_intake(struct worker *w)
{
        uint64_t id;

        if (s_stopped(w))
                return false;
        if (s_idq_pop(&w->to_assign, &id)) {
                s_issue(w, OP_ASSIGN, id);
                return true;
        }
        if (w->quota > 0 && w->created >= w->quota)
                return false;
        s_issue(w, OP_CREATE, 0);
        return true;
}

/* The work of a centre, by weight: of every 100 requests about 20 record a complaint, 16
 * dispatch one, 16 are a department accepting one, 12 add a note, 20 resolve (some settled on
 * the spot at intake) and 16 close after the follow-up call. Accepts go to the preloaded
 * complaints (random ids of this worker's slice, so they hit cold pages) and to this run's
 * own dispatched ones. */
static bool
s_next_lifecycle(struct worker *w)
{
        static const int weights[OP_KINDS] = {20, 16, 16, 12, 20, 16};
        uint64_t id;
        int r, kind = 0;

        if (s_stopped(w))
                return false;
        r = (int)(rand_r(&w->rng) % 100);
        while (r >= weights[kind])
                r -= weights[kind++];
        switch (kind) {
        case OP_ASSIGN:
                if (s_idq_pop(&w->to_assign, &id)) {
                        s_issue(w, OP_ASSIGN, id);
                        return true;
                }
                break;
        case OP_ACCEPT:
                if ((rand_r(&w->rng) & 1) && s_idq_pop(&w->assigned, &id)) {
                        s_issue(w, OP_ACCEPT, id);
                        return true;
                }
                if (w->seed_next < w->seed_n) {
                        /* A stride through the slice: every id once, in scattered order. */
                        id = w->seed_lo + (w->seed_next++ * 2654435761u) % w->seed_n;
                        s_issue(w, OP_ACCEPT, id);
                        return true;
                }
                break;
        case OP_NOTE:
                if (w->accepted.n > 0) {
                        id = w->accepted
                                 .v[(w->accepted.head + (size_t)rand_r(&w->rng) % w->accepted.n) %
                                    w->accepted.cap];
                        s_issue(w, OP_NOTE, id);
                        return true;
                }
                break;
        case OP_RESOLVE:
                if (s_idq_pop(&w->accepted, &id)) {
                        s_issue(w, OP_RESOLVE, id);
                        return true;
                }
                break;
        case OP_CLOSE:
                if (s_idq_pop(&w->resolved, &id)) {
                        s_issue(w, OP_CLOSE, id);
                        return true;
                }
                break;
        default:
                break;
        }
        s_issue(w, OP_CREATE, 0);
        return true;
}

static bool
s_next(struct worker *w)
{
        return strcmp(w->o->scenario, "lifecycle") == 0 ? s_next_lifecycle(w) : s_next_intake(w);
}

/* A reply arrived for slot sl. */
static void
s_done(struct worker *w, struct slot *sl, const pb_reply_t *rep)
{
        int64_t now = bench_mono_us();
        bool lifecycle = strcmp(w->o->scenario, "lifecycle") == 0;

        if (rep->error != E_OK) {
                w->failed[sl->kind]++;
                w->last_error = rep->error;
                snprintf(w->last_message, sizeof(w->last_message), "%s %" PRIu64 ": %s",
                         op_names[sl->kind], sl->id, rep->message);
                return;
        }
        w->ok[sl->kind]++;
        if (w->stop_us == 0 || now <= w->stop_us)
                w->ok_in_window[sl->kind]++;
        bench_samples_add(&w->lat[sl->kind], now - sl->sent_us);
        switch (sl->kind) {
        case OP_CREATE:
                if (rep->complaint)
                        s_idq_push(&w->to_assign, rep->complaint->id);
                break;
        case OP_ASSIGN:
                if (lifecycle)
                        s_idq_push(&w->assigned, sl->id);
                break;
        case OP_ACCEPT:
                s_idq_push(&w->accepted, sl->id);
                break;
        case OP_RESOLVE:
                s_idq_push(&w->resolved, sl->id);
                break;
        default:
                break;
        }
}

static void *
s_worker_run(void *arg)
{
        struct worker *w = arg;

        for (;;) {
                pb_reply_t *rep;
                struct slot *sl = NULL;
                const char *dash;
                uint64_t seq;

                while (w->inflight < w->o->window &&
                       !w->slots[w->seq % (uint64_t)w->o->window].used && s_next(w))
                        ;
                if (w->inflight == 0)
                        break;
                rep = s_recv(w->sock, 30000);
                if (rep == NULL)
                        bench_die("worker %d: no reply in 30 s (%d in flight)", w->index,
                                  w->inflight);
                dash = strrchr(rep->request_id, '-');
                seq = dash ? strtoull(dash + 1, NULL, 10) : UINT64_MAX;
                if (seq < w->seq)
                        sl = &w->slots[seq % (uint64_t)w->o->window];
                if (sl == NULL || !sl->used)
                        bench_die("worker %d: a reply to an unknown request \"%s\"", w->index,
                                  rep->request_id);
                s_done(w, sl, rep);
                sl->used = false;
                w->inflight--;
                complaint__v1__reply__free_unpacked(rep, NULL);
        }
        return NULL;
}

static void
s_fig(const struct opts *o, const char *name, double value)
{
        char key[160];

        snprintf(key, sizeof(key), "%s.%s", o->label, name);
        bench_figure(key, value);
}

static void
s_fig_quantiles(const struct opts *o, const char *name, const char *unit, struct bench_samples *s)
{
        char key[160];

        snprintf(key, sizeof(key), "%s.%s", o->label, name);
        bench_figure_quantiles(key, unit, s);
}

/* Connects every worker's client and waits for the answer to one status request on each, all
 * at once, before the clock starts: with CURVE a connection is a handshake and the daemon's
 * ZAP check, which a client pays once and not with each request. Prints how long it took as
 * connect_ms. */
static void
s_workers_connect(const struct opts *o, struct worker *ws)
{
        pb_request_t rq = COMPLAINT__V1__REQUEST__INIT;
        Complaint__V1__StatusRequest st = COMPLAINT__V1__STATUS_REQUEST__INIT;
        int64_t start = bench_mono_us();

        rq.schema_version = PB_SCHEMA_VERSION;
        rq.request_id = (char *)(uintptr_t) "connect";
        rq.body_case = COMPLAINT__V1__REQUEST__BODY_STATUS;
        rq.status = &st;
        for (int i = 0; i < o->clients; i++)
                s_send(ws[i].sock, &rq);
        for (int i = 0; i < o->clients; i++) {
                pb_reply_t *rep = s_recv(ws[i].sock, 30000);

                if (rep == NULL)
                        bench_die("client %d: no answer to its first request in 30 s", i);
                if (rep->error != E_OK)
                        bench_die("client %d: its first request: %s: %s", i,
                                  pb_error_name(rep->error), rep->message);
                complaint__v1__reply__free_unpacked(rep, NULL);
        }
        s_fig(o, "connect_ms", (double)(bench_mono_us() - start) / 1e3);
}

/* Runs o->clients workers until each is done; quota splits o->count between them (0: none),
 * seconds > 0 stops them after that long. Returns the elapsed microseconds; the workers are
 * left for the caller to read and then free with s_workers_free(). */
static int64_t
s_workers_run(const struct opts *o, struct worker **ret, uint64_t count, double seconds)
{
        struct worker *ws = calloc((size_t)o->clients, sizeof(*ws));
        int64_t start;

        if (ws == NULL)
                bench_die("out of memory");
        for (int i = 0; i < o->clients; i++) {
                struct worker *w = &ws[i];

                w->index = i;
                w->o = o;
                w->sock = s_dealer(o->api);
                w->slots = calloc((size_t)o->window, sizeof(*w->slots));
                if (w->slots == NULL)
                        bench_die("out of memory");
                w->rng = (unsigned)(rid_prefix ^ (uint64_t)i * 7919u);
                snprintf(w->actor, sizeof(w->actor), "agent-%d", i);
                if (count > 0)
                        w->quota = count / (uint64_t)o->clients +
                                   ((uint64_t)i < count % (uint64_t)o->clients);
                if (o->seed > 0) {
                        w->seed_n = o->seed / (uint64_t)o->clients;
                        w->seed_lo = 1 + (uint64_t)i * w->seed_n;
                }
        }
        s_workers_connect(o, ws);
        start = bench_mono_us();
        for (int i = 0; i < o->clients; i++) {
                ws[i].stop_us = seconds > 0 ? start + (int64_t)(seconds * 1e6) : 0;
                pthread_create(&ws[i].thread, NULL, s_worker_run, &ws[i]);
        }
        for (int i = 0; i < o->clients; i++)
                pthread_join(ws[i].thread, NULL);
        *ret = ws;
        return seconds > 0 ? (int64_t)(seconds * 1e6) : bench_mono_us() - start;
}

static void
s_workers_free(const struct opts *o, struct worker **ws)
{
        for (int i = 0; i < o->clients; i++) {
                struct worker *w = &(*ws)[i];

                zmq_close(w->sock);
                free(w->slots);
                for (int k = 0; k < OP_KINDS; k++)
                        bench_samples_free(&w->lat[k]);
                free(w->to_assign.v);
                free(w->assigned.v);
                free(w->accepted.v);
                free(w->resolved.v);
        }
        free(*ws);
        *ws = NULL;
}

/* Sums the workers' counts and latencies; prints the failures, which should be none. */
struct totals {
        uint64_t ok[OP_KINDS], failed[OP_KINDS], in_window[OP_KINDS];
        uint64_t all_ok, all_failed, all_in_window;
        struct bench_samples lat[OP_KINDS];
};

static void
s_totals(const struct opts *o, struct worker *ws, struct totals *t)
{
        *t = (struct totals){0};
        for (int i = 0; i < o->clients; i++) {
                for (int k = 0; k < OP_KINDS; k++) {
                        t->ok[k] += ws[i].ok[k];
                        t->failed[k] += ws[i].failed[k];
                        t->in_window[k] += ws[i].ok_in_window[k];
                        t->all_ok += ws[i].ok[k];
                        t->all_failed += ws[i].failed[k];
                        t->all_in_window += ws[i].ok_in_window[k];
                        bench_samples_merge(&t->lat[k], &ws[i].lat[k]);
                }
                if (ws[i].failed[0] + ws[i].failed[1] + ws[i].failed[2] + ws[i].failed[3] +
                        ws[i].failed[4] + ws[i].failed[5] >
                    0)
                        bench_note("worker %d: requests failed, the last with %s: %s", i,
                                   pb_error_name(ws[i].last_error), ws[i].last_message);
        }
}

static void
s_totals_free(struct totals *t)
{
        for (int k = 0; k < OP_KINDS; k++)
                bench_samples_free(&t->lat[k]);
}

/* ----------------------------------------------------------------------------- scenarios */

static void
s_preload(const struct opts *o)
{
        struct worker *ws;
        struct totals t;
        int64_t us = s_workers_run(o, &ws, o->count, 0);

        s_totals(o, ws, &t);
        bench_note("preload: %" PRIu64 " complaints in %.1f s", t.ok[OP_ASSIGN], (double)us / 1e6);
        s_fig(o, "complaints", (double)t.ok[OP_ASSIGN]);
        s_fig(o, "complaints_per_s", (double)t.ok[OP_ASSIGN] * 1e6 / (double)us);
        s_fig(o, "failed", (double)t.all_failed);
        s_totals_free(&t);
        s_workers_free(o, &ws);
}

static void
s_intake(const struct opts *o)
{
        struct worker *ws;
        struct totals t;
        int64_t us = s_workers_run(o, &ws, 0, o->seconds);

        s_totals(o, ws, &t);
        s_fig(o, "complaints_per_s", (double)t.in_window[OP_ASSIGN] * 1e6 / (double)us);
        s_fig(o, "changes_per_s", (double)t.all_in_window * 1e6 / (double)us);
        /* All of them, in the window or just after: what the daemon's writes are divided by. */
        s_fig(o, "created", (double)t.ok[OP_CREATE]);
        s_fig(o, "failed", (double)t.all_failed);
        s_fig_quantiles(o, "create", "us", &t.lat[OP_CREATE]);
        s_fig_quantiles(o, "assign", "us", &t.lat[OP_ASSIGN]);
        s_totals_free(&t);
        s_workers_free(o, &ws);
}

static void
s_lifecycle(const struct opts *o)
{
        struct worker *ws;
        struct totals t;
        struct bench_samples all = {0};
        int64_t us;

        if (o->seed < (uint64_t)o->clients)
                bench_die("lifecycle: --seed (the preloaded complaints) is required");
        us = s_workers_run(o, &ws, 0, o->seconds);
        s_totals(o, ws, &t);
        s_fig(o, "changes_per_s", (double)t.all_in_window * 1e6 / (double)us);
        s_fig(o, "failed", (double)t.all_failed);
        for (int k = 0; k < OP_KINDS; k++) {
                char name[64];

                snprintf(name, sizeof(name), "share_%s", op_names[k]);
                s_fig(o, name, t.all_ok ? (double)t.ok[k] / (double)t.all_ok : 0);
                for (size_t i = 0; i < t.lat[k].n; i++)
                        bench_samples_add(&all, t.lat[k].v[i]);
        }
        s_fig_quantiles(o, "change", "us", &all);
        bench_samples_free(&all);
        s_totals_free(&t);
        s_workers_free(o, &ws);
}

static void *
s_sub_socket(const char *endpoint, const char *const *topics)
{
        void *sock = zmq_socket(zctx, ZMQ_SUB);
        int zero = 0, big = 8 << 20;

        /* No high-water mark: whatever is lost is lost at the daemon's end. */
        zmq_setsockopt(sock, ZMQ_RCVHWM, &zero, sizeof(zero));
        zmq_setsockopt(sock, ZMQ_RCVBUF, &big, sizeof(big));
        zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof(zero));
        for (; *topics; topics++)
                zmq_setsockopt(sock, ZMQ_SUBSCRIBE, *topics, strlen(*topics));
        if (zmq_connect(sock, endpoint) < 0)
                bench_die("%s: %s", endpoint, zmq_strerror(zmq_errno()));
        return sock;
}

/* Receives [topic][Event]; returns the body length (the body in *m) or -1 on timeout. */
static int
s_sub_recv(void *sock, char *topic, size_t topic_size, zmq_msg_t *m, long timeout_ms)
{
        zmq_pollitem_t item = {.socket = sock, .events = ZMQ_POLLIN};
        int n;

        if (zmq_poll(&item, 1, timeout_ms) <= 0)
                return -1;
        n = zmq_recv(sock, topic, topic_size - 1, 0);
        if (n < 0)
                return -1;
        topic[(size_t)n < topic_size - 1 ? (size_t)n : topic_size - 1] = '\0';
        zmq_msg_init(m);
        if (zmq_msg_recv(m, sock, 0) < 0)
                return -1;
        return (int)zmq_msg_size(m);
}

/* One fan-out subscriber: libcomplaint's guaranteed subscriber (complaint_sub.h) on the
 * global stream from the head before the load, so that whatever PUB/SUB drops is fetched
 * again by replay, as a department system would get it. Every event must come exactly once,
 * in order: its seq is the one after the last. */
struct subscriber {
        pthread_t thread;
        complaint_sub_t *sub;
        struct bench_latch *live; /* raised once the subscription is in place */
        atomic_bool stop;
        uint64_t from;             /* the position: events after this one */
        atomic_uint_fast64_t upto; /* stop once this one is delivered (0: not known yet) */
        uint64_t received;         /* events in (from, upto], in order */
        uint64_t out_of_order;     /* events whose seq was not the one after the last */
        int64_t done_us;           /* when upto was delivered */
        complaint_sub_stats_t stats;
};

static void *
s_subscriber_run(void *arg)
{
        struct subscriber *s = arg;
        uint64_t last = s->from;
        bool live = false;

        while (!atomic_load(&s->stop)) {
                pb_event_t *ev = NULL;
                int r = complaint_sub_next(s->sub, 100, &ev);
                uint64_t upto;

                if (!live) {
                        /* The first call subscribed and asked for the heads. */
                        bench_latch_arrive(s->live);
                        live = true;
                }
                if (r == 0) {
                        if (ev->seq == last + 1)
                                s->received++;
                        else
                                s->out_of_order++;
                        last = ev->seq;
                        complaint__v1__event__free_unpacked(ev, NULL);
                } else if (r != -ETIMEDOUT && r != -EINTR) {
                        bench_die("fanout: complaint_sub_next: %s", strerror(-r));
                }
                upto = atomic_load(&s->upto);
                if (upto > 0 && last >= upto) {
                        s->done_us = bench_mono_us();
                        break;
                }
        }
        complaint_sub_get_stats(s->sub, &s->stats);
        return NULL;
}

static complaint_sub_t *
s_library_sub(const struct opts *o, uint64_t from)
{
        complaint_sub_t *sub = NULL;

        if (complaint_sub_new(o->api, &sub) < 0 || complaint_sub_add(sub, "") < 0 ||
            complaint_sub_set_position(sub, "", from) < 0 ||
            complaint_sub_set_queue_max(sub, 4096) < 0)
                bench_die("fanout: cannot make a subscriber of %s", o->api);
        return sub;
}

/* Fan-out: o->subscribers library subscribers read every event while o->clients create and
 * dispatch complaints for o->seconds. Then, as a measure of the delivery path itself, one more
 * subscriber catches up on the whole load from the store. */
static void
s_fanout(const struct opts *o)
{
        struct subscriber *subs = calloc((size_t)o->subscribers + 1, sizeof(*subs));
        pb_reply_t *st;
        uint64_t s0, s1, lost = 0, lost_max = 0, disorder = 0, replayed = 0, wire = 0;
        struct bench_latch live = BENCH_LATCH_INIT;
        struct worker *ws;
        struct totals t;
        int64_t us, t0, last_done = 0;
        struct subscriber *c;

        if (subs == NULL)
                bench_die("out of memory");
        if ((st = s_status(o->api, 10000)) == NULL)
                bench_die("fanout: no status answer");
        s0 = st->status->last_event_seq;
        complaint__v1__reply__free_unpacked(st, NULL);
        for (int i = 0; i < o->subscribers; i++) {
                subs[i].sub = s_library_sub(o, s0);
                subs[i].from = s0;
                subs[i].live = &live;
                pthread_create(&subs[i].thread, NULL, s_subscriber_run, &subs[i]);
        }
        if (!bench_latch_wait(&live, o->subscribers, 10000))
                bench_die("fanout: %d of %d subscribers started in 10 s", live.count,
                          o->subscribers);
        t0 = bench_mono_us();
        us = s_workers_run(o, &ws, 0, o->seconds);
        if ((st = s_status(o->api, 10000)) == NULL)
                bench_die("fanout: no status answer");
        s1 = st->status->last_event_seq;
        complaint__v1__reply__free_unpacked(st, NULL);
        for (int i = 0; i < o->subscribers; i++)
                atomic_store(&subs[i].upto, s1);
        /* Bounded: a subscriber still short of s1 after 60 s counts what it lacks as lost. */
        for (int i = 0; i < o->subscribers; i++) {
                struct timespec deadline;

                clock_gettime(CLOCK_REALTIME, &deadline);
                deadline.tv_sec += 60;
                if (pthread_timedjoin_np(subs[i].thread, NULL, &deadline) != 0) {
                        atomic_store(&subs[i].stop, true);
                        pthread_join(subs[i].thread, NULL);
                }
                complaint_sub_free(&subs[i].sub);
                lost += (s1 - s0) - subs[i].received;
                if ((s1 - s0) - subs[i].received > lost_max)
                        lost_max = (s1 - s0) - subs[i].received;
                disorder += subs[i].out_of_order;
                replayed += subs[i].stats.replayed;
                wire += subs[i].stats.ahead + subs[i].stats.dropped;
                if (subs[i].done_us > last_done)
                        last_done = subs[i].done_us;
        }
        s_totals(o, ws, &t);
        s_fig(o, "events_per_s", (double)(s1 - s0) * 1e6 / (double)us);
        s_fig(o, "events", (double)(s1 - s0));
        s_fig(o, "lost_total", (double)lost);
        s_fig(o, "lost_max_per_subscriber", (double)lost_max);
        s_fig(o, "out_of_order", (double)disorder);
        s_fig(o, "replayed_total", (double)replayed);
        s_fig(o, "missed_on_the_wire_total", (double)wire);
        /* How long after the load the last subscriber had everything. */
        s_fig(o, "drain_ms", last_done ? (double)(last_done - t0 - us) / 1000.0 : -1);
        s_fig(o, "delivered_per_s",
              (double)((s1 - s0) * (uint64_t)o->subscribers - lost) * 1e6 / (double)us);
        s_fig(o, "failed", (double)t.all_failed);
        /* With --curve, the subscribers' own SUB sockets were CURVE clients too (curve.h). */
        if (bench_curve_on()) {
                s_fig(o, "curve_sub_connects", (double)bench_curve_sub_connects());
                if (bench_curve_sub_connects() < (uint64_t)o->subscribers)
                        bench_die("fanout: only %" PRIu64 " of %d subscribers connected with CURVE",
                                  bench_curve_sub_connects(), o->subscribers);
        }
        s_totals_free(&t);
        s_workers_free(o, &ws);

        /* Catch-up: the whole load again, from the store, through replay and the library. */
        c = &subs[o->subscribers];
        c->sub = s_library_sub(o, s0);
        c->from = s0;
        c->live = &live;
        atomic_store(&c->upto, s1);
        t0 = bench_mono_us();
        s_subscriber_run(c);
        s_fig(o, "catchup_events_per_s",
              c->done_us ? (double)(s1 - s0) * 1e6 / (double)(c->done_us - t0) : 0);
        s_fig(o, "catchup_lost", (double)((s1 - s0) - c->received));
        complaint_sub_free(&c->sub);
        free(subs);
}

/* The storm: every complaint of the block has the same deadline, o->due_at_ms (its
 * department's calendar opens at a fixed minute, and all of them were dispatched while it was
 * closed). */
struct storm_sub {
        void *sock;
        atomic_uint_fast64_t expect;
        int64_t give_up_ms;
        struct bench_samples lateness; /* receipt - due, ms */
        struct bench_samples recorded; /* the entry's recorded_at_ms - at_ms (0: on time), ms */
        uint64_t received;
        uint64_t off_deadline; /* escalations whose due time is not the block's */
        uint64_t marked_late;
        int64_t due_at_ms;
        struct bench_latch live;
        bool seen_heartbeat;
};

static void *
s_storm_run(void *arg)
{
        struct storm_sub *s = arg;
        char topic[128];

        while (s->received < atomic_load(&s->expect) && bench_wall_ms() < s->give_up_ms) {
                zmq_msg_t m;
                pb_event_t *ev;
                int n = s_sub_recv(s->sock, topic, sizeof(topic), &m, 100);
                int64_t now = bench_wall_ms();

                if (n < 0)
                        continue;
                if (strcmp(topic, "_heartbeat") == 0) {
                        if (!s->seen_heartbeat)
                                bench_latch_arrive(&s->live);
                        s->seen_heartbeat = true;
                        zmq_msg_close(&m);
                        continue;
                }
                ev = complaint__v1__event__unpack(NULL, (size_t)n, zmq_msg_data(&m));
                zmq_msg_close(&m);
                if (ev == NULL || ev->entry == NULL)
                        bench_die("storm: an event that does not decode");
                s->received++;
                bench_samples_add(&s->lateness, now - s->due_at_ms);
                bench_samples_add(&s->recorded, ev->entry->recorded_at_ms
                                                    ? ev->entry->recorded_at_ms - ev->entry->at_ms
                                                    : 0);
                if (ev->entry->at_ms != s->due_at_ms)
                        s->off_deadline++;
                if (ev->entry->late)
                        s->marked_late++;
                complaint__v1__event__free_unpacked(ev, NULL);
        }
        return NULL;
}

static void s_wait_until(int64_t ms);

/* Runs o->before_due so that it ends about 1.5 s before the block falls due; not when the
 * dispatch left no time for it (the run then has no limit before it, and says so). */
static void
s_storm_before_due(const struct opts *o)
{
        int64_t start = o->due_at_ms - (int64_t)(o->before_due_s * 1e3) - 1500;

        if (start <= bench_wall_ms()) {
                bench_note("storm: no time left for --before-due before the deadline");
                return;
        }
        s_wait_until(start);
        if (bench_run_command(o->before_due) != 0)
                bench_die("storm: --before-due failed: %s", o->before_due);
}

static void
s_storm(const struct opts *o)
{
        char topic[96];
        const char *topics[] = {topic, "_heartbeat", NULL};
        struct storm_sub s = {
            .expect = o->count, .due_at_ms = o->due_at_ms, .live = BENCH_LATCH_INIT};
        struct worker *ws;
        struct totals t;
        pthread_t thread;
        int64_t us, margin;

        if (o->due_at_ms <= 0 || o->count == 0)
                bench_die("storm: --due-at and --count are required");
        snprintf(topic, sizeof(topic), "%s/escalated/", o->dept);
        s.sock = s_sub_socket(o->events, topics);
        s.give_up_ms = o->due_at_ms + 300000;
        pthread_create(&thread, NULL, s_storm_run, &s);
        if (!bench_latch_wait(&s.live, 1, 10000))
                bench_die("storm: no heartbeat in 10 s");

        us = s_workers_run(o, &ws, o->count, 0);
        s_totals(o, ws, &t);
        margin = o->due_at_ms - bench_wall_ms();
        bench_note("storm: %" PRIu64 " complaints dispatched in %.1f s, due in %.1f s",
                   t.ok[OP_ASSIGN], (double)us / 1e6, (double)margin / 1e3);
        s_fig(o, "block_complaints_per_s", (double)t.ok[OP_ASSIGN] * 1e6 / (double)us);
        /* A block still being dispatched when it falls due is not one storm: say so. */
        s_fig(o, "valid", margin > 0 && t.all_failed == 0 ? 1 : 0);
        atomic_store(&s.expect, t.ok[OP_ASSIGN]);
        s_totals_free(&t);
        s_workers_free(o, &ws);
        if (o->before_due)
                s_storm_before_due(o);

        pthread_join(thread, NULL);
        zmq_close(s.sock);
        if (s.received < s.expect)
                bench_note("storm: only %" PRIu64 " of %" PRIu64 " escalations arrived", s.received,
                           s.expect);
        s_fig(o, "escalations", (double)s.received);
        s_fig(o, "missing", (double)(atomic_load(&s.expect) - s.received));
        s_fig(o, "off_deadline", (double)s.off_deadline);
        s_fig(o, "marked_late", (double)s.marked_late);
        s_fig(o, "clear_ms", (double)bench_samples_quantile(&s.lateness, 1.0));
        s_fig_quantiles(o, "lateness", "ms", &s.lateness);
        bench_samples_free(&s.lateness);
        bench_samples_free(&s.recorded);
}

/* ----------------------------------------------------------------------------- the flood */

/* The flood (issue 13): the storm's block of escalations falls due while o->clients hostile
 * readers keep the daemon busy with its most expensive reads, leaving their replies unread, and
 * one well-behaved client asks for the status every 100 ms. A hostile reader sends o->window
 * reads as the window opens and reads nothing until it closes: its replies pile up at the
 * daemon, up to daemon.reply_queue, and the rest are dropped there. Then it reads whatever
 * comes until the answer to a marker sent after its reads, so that every read it sent is known
 * to have been answered and the daemon is idle again at the end. o->window should be more than
 * the daemon answers in the window (flood.saturated says whether it was). */
#define FLOOD_STATUS_EVERY_MS 100
#define FLOOD_STATUS_TIMEOUT_MS 10000
#define FLOOD_RSS_EVERY_MS 50
#define FLOOD_LIST_DEPT "billing" /* the department of the preloaded complaints */
/* Requests in flight per client while setting up. Not more: ZeroMQ's high-water mark on the
 * daemon's replies (daemon.reply_queue, 100) counts what the client has read only every half
 * of it, so a burst of over 50 replies to one client can find the queue "full" and be dropped
 * although the client reads them at once (seen: 1 in 5 runs lost a note's reply with 64). */
#define FLOOD_SETUP_WINDOW 16

struct flood {
        const struct opts *o;
        uint64_t big_id;                 /* the complaint with o->notes notes */
        struct bench_latch stop_readers; /* raised when the window closes */
        struct bench_latch stop_watch;   /* raised when every reader is done */
};

struct flood_reader {
        struct flood *f;
        int index;
        pthread_t thread;
        void *sock;
        unsigned rng;
        uint64_t sent;     /* reads */
        uint64_t received; /* replies to them that reached it (the rest were dropped) */
        uint64_t errors;   /* replies with an error */
        uint64_t markers;  /* status requests sent after its reads, resent ones included */
        int64_t done_us;
};

struct flood_status {
        struct flood *f;
        pthread_t thread;
        struct bench_samples lat; /* us */
        uint64_t timeouts;
};

struct flood_rss {
        struct flood *f;
        pthread_t thread;
        int64_t peak_rss_kib, peak_anon_kib;
        uint64_t samples;
};

/* Waits until the wall clock reads ms: a timer, on a latch nobody raises. */
static void
s_wait_until(int64_t ms)
{
        struct bench_latch never = BENCH_LATCH_INIT;
        int64_t left = ms - bench_wall_ms();

        if (left > 0)
                bench_latch_wait(&never, 1, (long)left);
}

/* A DEALER that holds one unread reply: the rest wait at the daemon's end. */
static void *
s_hostile_dealer(const char *endpoint)
{
        void *sock = zmq_socket(zctx, ZMQ_DEALER);
        int zero = 0, one = 1, small = 4096;

        zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof(zero));
        zmq_setsockopt(sock, ZMQ_SNDHWM, &zero, sizeof(zero));
        zmq_setsockopt(sock, ZMQ_RCVHWM, &one, sizeof(one));
        zmq_setsockopt(sock, ZMQ_RCVBUF, &small, sizeof(small));
        if (zmq_connect(sock, endpoint) < 0)
                bench_die("%s: %s", endpoint, zmq_strerror(zmq_errno()));
        return sock;
}

/* One request on sock and its reply, which must be OK; fatal otherwise (set-up only). */
static pb_reply_t *
s_call(void *sock, pb_request_t *rq, const char *what)
{
        pb_reply_t *rep;

        s_send(sock, rq);
        rep = s_recv(sock, 30000);
        if (rep == NULL)
                bench_die("flood: %s: no reply in 30 s", what);
        if (rep->error != E_OK)
                bench_die("flood: %s: %s: %s", what, pb_error_name(rep->error), rep->message);
        return rep;
}

/* Creates the complaint that the hostile gets read, with o->notes notes of o->note_bytes each,
 * FLOOD_SETUP_WINDOW in flight on one socket. Returns its id. */
static uint64_t
s_flood_big_complaint(const struct opts *o)
{
        pb_request_t rq = COMPLAINT__V1__REQUEST__INIT;
        Complaint__V1__CreateRequest cr = COMPLAINT__V1__CREATE_REQUEST__INIT;
        Complaint__V1__Complainant who = COMPLAINT__V1__COMPLAINANT__INIT;
        Complaint__V1__NoteRequest no = COMPLAINT__V1__NOTE_REQUEST__INIT;
        static const char line[] = "Called the customer back about the disputed charges; they read "
                                   "out every line of the last six bills again. ";
        void *sock = s_dealer(o->api);
        char rid[64], *note = malloc(o->note_bytes + 1);
        uint64_t id, sent = 0, done = 0;
        pb_reply_t *rep;

        if (note == NULL)
                bench_die("out of memory");
        for (size_t i = 0; i < o->note_bytes; i++)
                note[i] = line[i % (sizeof(line) - 1)];
        note[o->note_bytes] = '\0';
        rq.schema_version = PB_SCHEMA_VERSION;
        rq.request_id = rid;
        rq.actor = (char *)(uintptr_t) "agent-flood";
        snprintf(rid, sizeof(rid), "%012" PRIx64 "%016" PRIx64 "-big", (uint64_t)bench_wall_ms(),
                 rid_prefix);
        who.name = (char *)(uintptr_t) "Ann Smith";
        who.phone = (char *)(uintptr_t) "+49 30 5550100";
        cr.channel = COMPLAINT__V1__CHANNEL__CHANNEL_PHONE;
        cr.complainant = &who;
        cr.subject = (char *)(uintptr_t)subjects[0];
        cr.description = (char *)(uintptr_t)description;
        cr.category = (char *)(uintptr_t)o->category;
        rq.body_case = COMPLAINT__V1__REQUEST__BODY_CREATE;
        rq.create = &cr;
        rep = s_call(sock, &rq, "creating the complaint with many notes");
        id = rep->complaint->id;
        complaint__v1__reply__free_unpacked(rep, NULL);

        no.id = id;
        no.note = note;
        rq.body_case = COMPLAINT__V1__REQUEST__BODY_NOTE;
        rq.note = &no;
        while (done < o->notes) {
                while (sent < o->notes && sent - done < FLOOD_SETUP_WINDOW) {
                        snprintf(rid, sizeof(rid), "%012" PRIx64 "%016" PRIx64 "-note-%" PRIu64,
                                 (uint64_t)bench_wall_ms(), rid_prefix, sent++);
                        s_send(sock, &rq);
                }
                if ((rep = s_recv(sock, 30000)) == NULL)
                        bench_die("flood: a note: no reply in 30 s");
                if (rep->error != E_OK)
                        bench_die("flood: a note: %s: %s", pb_error_name(rep->error), rep->message);
                complaint__v1__reply__free_unpacked(rep, NULL);
                done++;
        }
        free(note);
        zmq_close(sock);
        return id;
}

/* Sends one expensive read: every other one a get of a page of the complaint with many notes,
 * from anywhere in its history (the daemon ends the page at limits.reply bytes), the others a
 * list of the closed complaints of the preloaded department from a random place: there are
 * none, so the daemon examines limits.scan_max entries and returns an empty page. */
static void
s_flood_send_read(struct flood_reader *r)
{
        const struct opts *o = r->f->o;
        pb_request_t rq = COMPLAINT__V1__REQUEST__INIT;
        Complaint__V1__GetRequest get = COMPLAINT__V1__GET_REQUEST__INIT;
        Complaint__V1__ListRequest list = COMPLAINT__V1__LIST_REQUEST__INIT;
        char rid[64];

        snprintf(rid, sizeof(rid), "r-%d-%" PRIu64, r->index, r->sent);
        rq.schema_version = PB_SCHEMA_VERSION;
        rq.request_id = rid;
        if (r->sent % 2 == 0) {
                get.id = r->f->big_id;
                get.history_after = (uint32_t)((uint64_t)rand_r(&r->rng) % o->notes);
                get.history_limit = 100000; /* capped at limits.list_max */
                rq.body_case = COMPLAINT__V1__REQUEST__BODY_GET;
                rq.get = &get;
        } else {
                list.department = (char *)(uintptr_t)FLOOD_LIST_DEPT;
                list.status = COMPLAINT__V1__STATUS__STATUS_CLOSED;
                list.before_id = o->seed ? 1 + (uint64_t)rand_r(&r->rng) % o->seed : 0;
                list.limit = 100000; /* capped at limits.list_max */
                rq.body_case = COMPLAINT__V1__REQUEST__BODY_LIST;
                rq.list = &list;
        }
        s_send(r->sock, &rq);
        r->sent++;
}

/* Sends the marker: a status request after the reads. */
static void
s_flood_send_marker(struct flood_reader *r)
{
        pb_request_t rq = COMPLAINT__V1__REQUEST__INIT;
        Complaint__V1__StatusRequest st = COMPLAINT__V1__STATUS_REQUEST__INIT;
        char rid[64];

        snprintf(rid, sizeof(rid), "m-%" PRIu64, r->markers++);
        rq.schema_version = PB_SCHEMA_VERSION;
        rq.request_id = rid;
        rq.body_case = COMPLAINT__V1__REQUEST__BODY_STATUS;
        rq.status = &st;
        s_send(r->sock, &rq);
}

/* Reads every reply until a marker's: replies come in the order of the requests, so by then
 * each read was answered, its reply read here or dropped at the daemon. A marker whose own
 * reply was dropped (the queue still full when it was answered) is sent again after a second
 * without any reply. */
static void
s_flood_drain(struct flood_reader *r)
{
        int64_t give_up = bench_mono_us() + 120000000;

        s_flood_send_marker(r);
        for (;;) {
                pb_reply_t *rep = s_recv(r->sock, 1000);
                bool done;

                if (rep == NULL) {
                        if (bench_mono_us() > give_up)
                                bench_die("flood: reader %d: no answer to its marker in 120 s",
                                          r->index);
                        s_flood_send_marker(r);
                        continue;
                }
                done = rep->request_id[0] == 'm';
                if (rep->request_id[0] == 'r') {
                        r->received++;
                        r->errors += rep->error != E_OK;
                }
                complaint__v1__reply__free_unpacked(rep, NULL);
                if (done)
                        return;
        }
}

static void *
s_flood_reader_run(void *arg)
{
        struct flood_reader *r = arg;
        struct flood *f = r->f;

        for (int i = 0; i < f->o->window; i++)
                s_flood_send_read(r);
        /* Bounded: the window closes at a set time, and this is only a backstop. */
        if (!bench_latch_wait(&f->stop_readers, 1, 600000))
                bench_die("flood: the window did not close in 600 s");
        s_flood_drain(r);
        r->done_us = bench_mono_us();
        return NULL;
}

/* The well-behaved client: a status request every FLOOD_STATUS_EVERY_MS, one at a time, timed
 * from sending to its reply; one that takes longer delays the next. */
static void *
s_flood_status_run(void *arg)
{
        struct flood_status *st = arg;
        struct flood *f = st->f;
        pb_request_t rq = COMPLAINT__V1__REQUEST__INIT;
        Complaint__V1__StatusRequest sr = COMPLAINT__V1__STATUS_REQUEST__INIT;
        void *sock = s_dealer(f->o->api);
        int64_t start = bench_mono_us(), next = start;
        char rid[64];

        rq.schema_version = PB_SCHEMA_VERSION;
        rq.request_id = rid;
        rq.body_case = COMPLAINT__V1__REQUEST__BODY_STATUS;
        rq.status = &sr;
        for (uint64_t k = 0;; k++) {
                int64_t t0, now = bench_mono_us();

                if (bench_latch_wait(&f->stop_watch, 1, next > now ? (long)(next - now) / 1000 : 0))
                        break;
                snprintf(rid, sizeof(rid), "s-%" PRIu64, k);
                t0 = bench_mono_us();
                s_send(sock, &rq);
                for (;;) {
                        long left = FLOOD_STATUS_TIMEOUT_MS - (long)(bench_mono_us() - t0) / 1000;
                        pb_reply_t *rep = s_recv(sock, left > 0 ? left : 0);
                        bool mine;

                        if (rep == NULL) {
                                st->timeouts++;
                                bench_samples_add(&st->lat, bench_mono_us() - t0);
                                break;
                        }
                        /* A reply that came after its request timed out is not this one. */
                        mine = strcmp(rep->request_id, rid) == 0;
                        if (mine)
                                bench_samples_add(&st->lat, bench_mono_us() - t0);
                        complaint__v1__reply__free_unpacked(rep, NULL);
                        if (mine)
                                break;
                }
                next += FLOOD_STATUS_EVERY_MS * 1000;
                if (next < bench_mono_us())
                        next = bench_mono_us();
        }
        zmq_close(sock);
        return NULL;
}

/* Reads VmRSS and RssAnon ("Key:   123 kB") of /proc/PID/status; false when it cannot. */
static bool
s_proc_rss(pid_t pid, int64_t *ret_rss, int64_t *ret_anon)
{
        char path[64], line[256];
        int64_t rss = -1, anon = -1;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
        if ((f = fopen(path, "r")) == NULL)
                return false;
        while (fgets(line, sizeof(line), f)) {
                if (strncmp(line, "VmRSS:", 6) == 0)
                        rss = strtoll(line + 6, NULL, 10);
                else if (strncmp(line, "RssAnon:", 8) == 0)
                        anon = strtoll(line + 8, NULL, 10);
        }
        fclose(f);
        if (rss < 0 || anon < 0)
                return false;
        *ret_rss = rss;
        *ret_anon = anon;
        return true;
}

/* The daemon's memory every FLOOD_RSS_EVERY_MS, keeping the peaks. */
static void *
s_flood_rss_run(void *arg)
{
        struct flood_rss *m = arg;
        struct flood *f = m->f;

        do {
                int64_t rss, anon;

                if (!s_proc_rss(f->o->pid, &rss, &anon))
                        bench_die("flood: cannot read /proc/%d/status", (int)f->o->pid);
                m->samples++;
                if (rss > m->peak_rss_kib)
                        m->peak_rss_kib = rss;
                if (anon > m->peak_anon_kib)
                        m->peak_anon_kib = anon;
        } while (!bench_latch_wait(&f->stop_watch, 1, FLOOD_RSS_EVERY_MS));
        return NULL;
}

static void
s_flood(const struct opts *o)
{
        char topic[96];
        const char *topics[] = {topic, "_heartbeat", NULL};
        struct storm_sub s = {
            .expect = o->count, .due_at_ms = o->due_at_ms, .live = BENCH_LATCH_INIT};
        struct flood f = {.o = o, .stop_readers = BENCH_LATCH_INIT, .stop_watch = BENCH_LATCH_INIT};
        struct flood_status st = {.f = &f};
        struct flood_rss rss = {.f = &f};
        struct flood_reader *rs = calloc((size_t)o->clients, sizeof(*rs));
        uint64_t sent = 0, received = 0, errors = 0, markers = 0;
        int64_t half_ms = (int64_t)(o->seconds * 500), us, margin, start, close, end = 0;
        struct opts d = *o;
        struct worker *ws;
        struct totals t;
        pthread_t thread;

        if (o->due_at_ms <= 0 || o->count == 0 || o->pid <= 0 || o->notes == 0)
                bench_die("flood: --due-at, --count, --pid and --notes are required");
        if (rs == NULL)
                bench_die("out of memory");
        snprintf(topic, sizeof(topic), "%s/escalated/", o->dept);
        s.sock = s_sub_socket(o->events, topics);
        s.give_up_ms = o->due_at_ms + half_ms + 60000;
        pthread_create(&thread, NULL, s_storm_run, &s);
        if (!bench_latch_wait(&s.live, 1, 10000))
                bench_die("flood: no heartbeat in 10 s");

        start = bench_mono_us();
        f.big_id = s_flood_big_complaint(o);
        bench_note("flood: complaint %" PRIu64 " has %" PRIu64 " notes of %zu bytes (%.1f s)",
                   f.big_id, o->notes, o->note_bytes, (double)(bench_mono_us() - start) / 1e6);
        s_fig(o, "big_notes", (double)o->notes);

        /* The block, dispatched as the storm's is, but with the set-up's window. */
        d.window = FLOOD_SETUP_WINDOW;
        us = s_workers_run(&d, &ws, o->count, 0);
        s_totals(&d, ws, &t);
        margin = o->due_at_ms - bench_wall_ms();
        bench_note("flood: %" PRIu64 " complaints dispatched in %.1f s, due in %.1f s",
                   t.ok[OP_ASSIGN], (double)us / 1e6, (double)margin / 1e3);
        /* A flood that could not open before the deadline measures nothing: say so. */
        s_fig(o, "valid", margin > half_ms && t.all_failed == 0 ? 1 : 0);
        atomic_store(&s.expect, t.ok[OP_ASSIGN]);
        s_totals_free(&t);
        s_workers_free(&d, &ws);

        /* The window: from half of it before the deadline until half of it after, and at
         * least until every escalation has come. */
        s_wait_until(o->due_at_ms - half_ms);
        start = bench_mono_us();
        pthread_create(&rss.thread, NULL, s_flood_rss_run, &rss);
        pthread_create(&st.thread, NULL, s_flood_status_run, &st);
        for (int i = 0; i < o->clients; i++) {
                rs[i].f = &f;
                rs[i].index = i;
                rs[i].rng = (unsigned)(rid_prefix ^ (uint64_t)i * 7919u);
                rs[i].sock = s_hostile_dealer(o->api);
                pthread_create(&rs[i].thread, NULL, s_flood_reader_run, &rs[i]);
        }
        s_wait_until(o->due_at_ms + half_ms);
        pthread_join(thread, NULL);
        zmq_close(s.sock);
        close = bench_mono_us();
        bench_latch_arrive(&f.stop_readers);
        for (int i = 0; i < o->clients; i++) {
                pthread_join(rs[i].thread, NULL);
                zmq_close(rs[i].sock);
                sent += rs[i].sent;
                received += rs[i].received;
                errors += rs[i].errors;
                markers += rs[i].markers;
                if (rs[i].done_us > end)
                        end = rs[i].done_us;
        }
        bench_latch_arrive(&f.stop_watch);
        pthread_join(st.thread, NULL);
        pthread_join(rss.thread, NULL);
        free(rs);

        if (s.received < s.expect)
                bench_note("flood: only %" PRIu64 " of %" PRIu64 " escalations arrived", s.received,
                           s.expect);
        s_fig(o, "escalations", (double)s.received);
        s_fig(o, "missing", (double)(atomic_load(&s.expect) - s.received));
        s_fig(o, "off_deadline", (double)s.off_deadline);
        s_fig(o, "marked_late", (double)s.marked_late);
        s_fig_quantiles(o, "lateness", "ms", &s.lateness);
        s_fig_quantiles(o, "recorded_late", "ms", &s.recorded);
        s_fig_quantiles(o, "status", "us", &st.lat);
        s_fig(o, "status_requests", (double)st.lat.n);
        s_fig(o, "status_timeouts", (double)st.timeouts);
        s_fig(o, "peak_rss_kib", (double)rss.peak_rss_kib);
        s_fig(o, "peak_rss_anon_kib", (double)rss.peak_anon_kib);
        s_fig(o, "rss_samples", (double)rss.samples);
        /* Every read sent was answered by the end (its marker came back), whether its reply
         * reached the reader or was dropped at the daemon's reply queue. Answering what was
         * left took the daemon drain_s after the window closed; a drain of a moment means it
         * ran out of reads before then, and the flood did not last the window. */
        s_fig(o, "window_s", (double)(end - start) / 1e6);
        s_fig(o, "drain_s", (double)(end - close) / 1e6);
        s_fig(o, "saturated", end - close >= 200000 ? 1 : 0);
        s_fig(o, "reads", (double)sent);
        s_fig(o, "reads_answered_per_s", (double)sent * 1e6 / (double)(end - start));
        s_fig(o, "replies_received", (double)received);
        s_fig(o, "replies_dropped", (double)(sent - received));
        s_fig(o, "read_errors", (double)errors);
        s_fig(o, "markers", (double)markers);
        bench_samples_free(&s.lateness);
        bench_samples_free(&s.recorded);
        bench_samples_free(&st.lat);
}

/* Reads "Key:   123 kB" lines of /proc/PID/status. */
static void
s_proc_memory(const struct opts *o, pid_t pid)
{
        static const struct {
                const char *key, *name;
        } keys[] = {{"VmRSS:", "rss_kib"},
                    {"RssAnon:", "rss_anon_kib"},
                    {"RssFile:", "rss_file_kib"},
                    {"VmHWM:", "rss_peak_kib"}};
        char path[64], line[256];
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
        if ((f = fopen(path, "r")) == NULL)
                bench_die("%s: %s", path, strerror(errno));
        while (fgets(line, sizeof(line), f))
                for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
                        if (strncmp(line, keys[i].key, strlen(keys[i].key)) == 0)
                                s_fig(o, keys[i].name, atof(line + strlen(keys[i].key)));
        fclose(f);
}

static void
s_restart(const struct opts *o)
{
        struct sockaddr_un addr = {.sun_family = AF_UNIX};
        int64_t start, ready_us = 0, status_us = 0, stop_us;
        pb_request_t rq = COMPLAINT__V1__REQUEST__INIT;
        Complaint__V1__StatusRequest sr = COMPLAINT__V1__STATUS_REQUEST__INIT;
        pb_reply_t *rep = NULL;
        void *sock;
        int nfd = -1, wstatus;
        pid_t pid;

        if (!o->daemon || !o->config || !o->state_dir)
                bench_die("restart: --daemon, --config and --state-dir are required");
        if (o->notify) {
                nfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", o->notify);
                unlink(o->notify);
                if (nfd < 0 || bind(nfd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
                        bench_die("%s: %s", o->notify, strerror(errno));
        }
        sock = s_dealer(o->api);
        start = bench_mono_us();
        pid = fork();
        if (pid < 0)
                bench_die("fork: %s", strerror(errno));
        if (pid == 0) {
                int fd = o->log ? open(o->log, O_WRONLY | O_CREAT | O_APPEND, 0644) : -1;

                if (fd >= 0)
                        dup2(fd, STDERR_FILENO);
                if (o->notify)
                        setenv("NOTIFY_SOCKET", o->notify, 1);
                execl(o->daemon, o->daemon, "--config", o->config, "--state-dir", o->state_dir,
                      "--api", o->api, "--events", o->events, (char *)NULL);
                _exit(127);
        }
        /* The request waits in the DEALER's queue until the daemon binds. */
        rq.schema_version = PB_SCHEMA_VERSION;
        rq.request_id = (char *)(uintptr_t) "restart";
        rq.body_case = COMPLAINT__V1__REQUEST__BODY_STATUS;
        rq.status = &sr;
        s_send(sock, &rq);
        /* Until the first answer, and then a moment more for a READY that has not come. */
        for (;;) {
                zmq_pollitem_t items[2] = {{.socket = sock, .events = ZMQ_POLLIN},
                                           {.fd = nfd, .events = ZMQ_POLLIN}};
                int64_t now = bench_mono_us() - start;
                char buf[512];

                if (now > 60000000 ||
                    (status_us && (nfd < 0 || ready_us || now > status_us + 1000000)))
                        break;
                if (waitpid(pid, &wstatus, WNOHANG) == pid)
                        bench_die("restart: the daemon exited during start-up");
                if (zmq_poll(items, nfd >= 0 ? 2 : 1, 10) <= 0)
                        continue;
                if ((items[0].revents & ZMQ_POLLIN) && status_us == 0) {
                        rep = s_recv(sock, 0);
                        status_us = bench_mono_us() - start;
                }
                if (nfd >= 0 && (items[1].revents & ZMQ_POLLIN)) {
                        ssize_t n = recv(nfd, buf, sizeof(buf) - 1, 0);

                        buf[n > 0 ? n : 0] = '\0';
                        if (strstr(buf, "READY=1") && ready_us == 0)
                                ready_us = bench_mono_us() - start;
                }
        }
        if (status_us == 0)
                bench_die("restart: no status answer in 60 s");
        s_fig(o, "first_status_ms", (double)status_us / 1e3);
        /* A daemon without sd_notify support yet: READY is reported as the first answer. */
        s_fig(o, "ready_ms", (double)(ready_us ? ready_us : status_us) / 1e3);
        s_fig(o, "sd_notify_ready", ready_us ? 1 : 0);
        if (rep && rep->status) {
                s_fig(o, "complaints", (double)rep->status->complaints);
                s_fig(o, "store_used_mib", (double)rep->status->store_used_bytes / 1048576.0);
        }
        s_proc_memory(o, pid);
        stop_us = bench_mono_us();
        kill(pid, SIGTERM);
        waitpid(pid, &wstatus, 0);
        s_fig(o, "stop_ms", (double)(bench_mono_us() - stop_us) / 1e3);
        if (rep)
                complaint__v1__reply__free_unpacked(rep, NULL);
        zmq_close(sock);
        if (nfd >= 0) {
                close(nfd);
                unlink(o->notify);
        }
}

static int
s_wait_status(const struct opts *o)
{
        pb_reply_t *rep = s_status(o->api, (long)(o->seconds * 1000));

        if (rep == NULL) {
                bench_note("status: no answer from %s in %.0f s", o->api, o->seconds);
                return 1;
        }
        s_fig(o, "complaints", (double)rep->status->complaints);
        s_fig(o, "last_event_seq", (double)rep->status->last_event_seq);
        s_fig(o, "store_used_mib", (double)rep->status->store_used_bytes / 1048576.0);
        complaint__v1__reply__free_unpacked(rep, NULL);
        return 0;
}

/* ---------------------------------------------------------------------------------- main */

static void
s_usage(FILE *f)
{
        fprintf(f,
                "usage: bench_loadgen SCENARIO --api EP [options]\n"
                "scenarios: preload intake lifecycle storm flood fanout restart status keys\n"
                "  --api EP --events EP    the daemon's endpoints\n"
                "  --label NAME            prefix of the printed figures (default: scenario)\n"
                "  --clients N             concurrent clients, one DEALER and thread each (8)\n"
                "  --window N              requests in flight per client (1); flood: reads a\n"
                "                          hostile reader sends before it reads the replies\n"
                "  --seconds S             how long a timed scenario runs (5); flood: the window\n"
                "                          around the deadline\n"
                "  --count N               complaints to create (preload, storm, flood)\n"
                "  --seed N                complaints preloaded as ids 1..N (lifecycle, flood)\n"
                "  --dept ID --category ID where complaints go (billing, billing)\n"
                "  --due-at MS             the block's deadline, UTC ms (storm, flood)\n"
                "  --before-due CMD        run CMD, of --before-due-seconds S (2), to end\n"
                "                          just before the deadline (storm)\n"
                "  --pid PID               the daemon, whose memory is read (flood)\n"
                "  --notes N --note-bytes B  the complaint the flood reads (1000, 3900)\n"
                "  --subscribers N         SUB sockets (fanout, 10)\n"
                "  --daemon PATH --config FILE --state-dir DIR    the daemon to start (restart)\n"
                "  --notify PATH           NOTIFY_SOCKET to give it, to time READY (restart)\n"
                "  --log FILE              where its stderr goes (restart)\n"
                "  --curve DIR             connect as a CURVE client with the keys in DIR;\n"
                "                          keys: write them there (see curve.h)\n");
}

int
main(int argc, char **argv)
{
        static const struct option options[] = {
            {"api", required_argument, NULL, 'a'},
            {"events", required_argument, NULL, 'e'},
            {"label", required_argument, NULL, 'l'},
            {"clients", required_argument, NULL, 'c'},
            {"window", required_argument, NULL, 'w'},
            {"seconds", required_argument, NULL, 't'},
            {"count", required_argument, NULL, 'n'},
            {"seed", required_argument, NULL, 'S'},
            {"dept", required_argument, NULL, 'D'},
            {"category", required_argument, NULL, 'C'},
            {"due-at", required_argument, NULL, 'u'},
            {"subscribers", required_argument, NULL, 'b'},
            {"daemon", required_argument, NULL, 'x'},
            {"config", required_argument, NULL, 'f'},
            {"state-dir", required_argument, NULL, 'd'},
            {"notify", required_argument, NULL, 'N'},
            {"log", required_argument, NULL, 'L'},
            {"pid", required_argument, NULL, 'P'},
            {"notes", required_argument, NULL, 'M'},
            {"note-bytes", required_argument, NULL, 'B'},
            {"curve", required_argument, NULL, 'K'},
            {"before-due", required_argument, NULL, 'y'},
            {"before-due-seconds", required_argument, NULL, 'Y'},
            {"help", no_argument, NULL, 'h'},
            {},
        };
        struct opts o = {.clients = 8,
                         .window = 1,
                         .seconds = 5,
                         .subscribers = 10,
                         .dept = "billing",
                         .category = "billing",
                         .notes = 1000,
                         .note_bytes = 3900,
                         .before_due_s = 2};
        FILE *urandom;
        int c, r = 0;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
                switch (c) {
                case 'a':
                        o.api = optarg;
                        break;
                case 'e':
                        o.events = optarg;
                        break;
                case 'l':
                        o.label = optarg;
                        break;
                case 'c':
                        o.clients = atoi(optarg);
                        break;
                case 'w':
                        o.window = atoi(optarg);
                        break;
                case 't':
                        o.seconds = atof(optarg);
                        break;
                case 'n':
                        o.count = strtoull(optarg, NULL, 10);
                        break;
                case 'S':
                        o.seed = strtoull(optarg, NULL, 10);
                        break;
                case 'D':
                        o.dept = optarg;
                        break;
                case 'y':
                        o.before_due = optarg;
                        break;
                case 'Y':
                        o.before_due_s = atof(optarg);
                        break;
                case 'C':
                        o.category = optarg;
                        break;
                case 'u':
                        o.due_at_ms = strtoll(optarg, NULL, 10);
                        break;
                case 'b':
                        o.subscribers = atoi(optarg);
                        break;
                case 'x':
                        o.daemon = optarg;
                        break;
                case 'f':
                        o.config = optarg;
                        break;
                case 'd':
                        o.state_dir = optarg;
                        break;
                case 'N':
                        o.notify = optarg;
                        break;
                case 'L':
                        o.log = optarg;
                        break;
                case 'P':
                        o.pid = (pid_t)atoi(optarg);
                        break;
                case 'M':
                        o.notes = strtoull(optarg, NULL, 10);
                        break;
                case 'B':
                        o.note_bytes = strtoull(optarg, NULL, 10);
                        break;
                case 'K':
                        o.curve = optarg;
                        break;
                case 'h':
                        s_usage(stdout);
                        return 0;
                default:
                        s_usage(stderr);
                        return 2;
                }
        }
        if (optind + 1 == argc && strcmp(argv[optind], "keys") == 0) {
                if (o.curve == NULL)
                        bench_die("keys: --curve DIR is required");
                if ((r = bench_curve_keygen(o.curve)) < 0)
                        bench_die("keys: %s: %s", o.curve, strerror(-r));
                return 0;
        }
        if (optind + 1 != argc || o.api == NULL || o.clients < 1 || o.window < 1 ||
            o.subscribers < 1) {
                s_usage(stderr);
                return 2;
        }
        o.scenario = argv[optind];
        if (o.curve && (r = bench_curve_load(o.curve)) < 0)
                bench_die("--curve %s: %s", o.curve,
                          r == -ELIBBAD ? "libcomplaint's zmq_connect() is not this program's "
                                          "(see curve.h)"
                                        : strerror(-r));
        if (o.label == NULL)
                o.label = o.scenario;
        if ((strcmp(o.scenario, "storm") == 0 || strcmp(o.scenario, "flood") == 0 ||
             strcmp(o.scenario, "fanout") == 0 || strcmp(o.scenario, "restart") == 0) &&
            o.events == NULL)
                bench_die("%s: --events is required", o.scenario);
        urandom = fopen("/dev/urandom", "r");
        if (urandom == NULL || fread(&rid_prefix, sizeof(rid_prefix), 1, urandom) != 1)
                bench_die("/dev/urandom: cannot read");
        fclose(urandom);
        zctx = zmq_ctx_new();
        if (strcmp(o.scenario, "preload") == 0)
                s_preload(&o);
        else if (strcmp(o.scenario, "intake") == 0)
                s_intake(&o);
        else if (strcmp(o.scenario, "lifecycle") == 0)
                s_lifecycle(&o);
        else if (strcmp(o.scenario, "storm") == 0)
                s_storm(&o);
        else if (strcmp(o.scenario, "flood") == 0)
                s_flood(&o);
        else if (strcmp(o.scenario, "fanout") == 0)
                s_fanout(&o);
        else if (strcmp(o.scenario, "restart") == 0)
                s_restart(&o);
        else if (strcmp(o.scenario, "status") == 0)
                r = s_wait_status(&o);
        else {
                s_usage(stderr);
                r = 2;
        }
        zmq_ctx_term(zctx);
        return r;
}
