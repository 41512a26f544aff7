/* it_durability.c: guarantee 1 of DESIGN §6: no acknowledged change is lost when the daemon is
 * killed (SIGKILL) at any moment under load. Four threads, each with its own DEALER and request
 * ids, create complaints, assign them and add notes, and record every acknowledged reply. The
 * daemon is killed right after a random number of requests were sent (seeded), five rounds. After
 * each restart every acknowledged change must be there, histories must be contiguous, their event
 * numbers unique and gap-free up to status.last_event_seq; the request that was in flight at
 * the kill is retried with the same id and must not take effect twice. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "check.h"
#include "harness.h"

CHECK_DEFINE_COUNTERS();

#define WORKERS 4
#define ROUNDS 5
#define CALL_TIMEOUT_MS 5000
#define ROUND_TIMEOUT_MS 60000
#define KNOWN_MAX 4096
#define ACKS_MAX 20000

enum op { OP_CREATE, OP_ASSIGN, OP_NOTE };

struct ack {
        enum op op;
        uint64_t id;
        uint32_t history_count;
        uint64_t event_seq;
};

struct known {
        uint64_t id;
        bool assigned; /* an assign was acknowledged */
};

struct worker {
        int idx;
        pthread_t thread;
        uint64_t rng;
        char actor[32];
        harness_client_t cl;
        struct known known[KNOWN_MAX];
        size_t nknown;
        struct ack acks[ACKS_MAX];
        size_t nacks;
        unsigned next_request;
        /* The request in flight when the daemon died, retried byte for byte. */
        uint8_t *pending;
        size_t pending_len;
        enum op pending_op;
        uint64_t pending_id;
        bool drain_only; /* only retry the pending request, start nothing new */
        int errors;      /* unexpected replies; reported by the main thread */
        int replayed;    /* retried requests the daemon answered from its record */
};

static harness_t h;
static struct worker workers[WORKERS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t acked_cond = PTHREAD_COND_INITIALIZER;
static unsigned round_acks;   /* acknowledgements in this round, under lock */
static unsigned round_sent;   /* requests sent in this round, under lock */
static unsigned round_target; /* the kill comes right after this many requests were sent */
static atomic_bool stop;

/* ------------------------------------------------------------------ requests */

static uint8_t *
s_build(struct worker *w, enum op op, uint64_t id, size_t *ret_len)
{
        pb_request_t req;
        Complaint__V1__CreateRequest create;
        Complaint__V1__Complainant who;
        Complaint__V1__AssignRequest assign;
        Complaint__V1__NoteRequest note;
        static char *const categories[] = {"billing", "network", "equipment", "metering"};
        char rid[64], text[96], phone[32];

        complaint__v1__request__init(&req);
        complaint__v1__create_request__init(&create);
        complaint__v1__complainant__init(&who);
        complaint__v1__assign_request__init(&assign);
        complaint__v1__note_request__init(&note);
        snprintf(rid, sizeof(rid), "dur-w%d-%u", w->idx, ++w->next_request);
        req.schema_version = PB_SCHEMA_VERSION;
        req.request_id = rid;
        req.actor = w->actor;
        switch (op) {
        case OP_CREATE:
                /* The subject carries the request id: one complaint per create request. */
                snprintf(text, sizeof(text), "subject %s", rid);
                /* A complainant of its own, so that no complaint is flagged as a repeat and
                 * every entry publishes exactly one event (see the check of the event
                 * numbers). */
                snprintf(phone, sizeof(phone), "+1 555 %d%06u", w->idx, w->next_request);
                who.phone = phone;
                create.channel = COMPLAINT__V1__CHANNEL__CHANNEL_PHONE;
                create.complainant = &who;
                create.subject = text;
                create.description = (char *)"Filed by the durability test.";
                create.category = categories[harness_rand(&w->rng) % 4];
                req.body_case = COMPLAINT__V1__REQUEST__BODY_CREATE;
                req.create = &create;
                break;
        case OP_ASSIGN:
                assign.id = id;
                assign.department = (char *)"billing";
                req.body_case = COMPLAINT__V1__REQUEST__BODY_ASSIGN;
                req.assign = &assign;
                break;
        case OP_NOTE:
                snprintf(text, sizeof(text), "note %s", rid);
                note.id = id;
                note.note = text;
                req.body_case = COMPLAINT__V1__REQUEST__BODY_NOTE;
                req.note = &note;
                break;
        }
        return harness_encode(&req, ret_len);
}

/* Sends bytes and waits for the reply in 100 ms slices, giving up when the main thread says
 * stop (the daemon was killed) or after CALL_TIMEOUT_MS. Returns 0 or -ETIMEDOUT/-EPROTO. */
static int
s_call(struct worker *w, const uint8_t *bytes, size_t len, pb_reply_t **ret)
{
        const void *data[2] = {"", bytes};
        size_t size[2] = {0, len};
        int64_t deadline = harness_now_ms() + CALL_TIMEOUT_MS;
        harness_frames_t f;
        int r = -ETIMEDOUT;

        if (harness_client_send(&w->cl, data, size, 2) < 0)
                return -EPROTO;
        /* Killing right after a send catches requests at every stage: queued, being
         * committed, committed but not yet answered. */
        pthread_mutex_lock(&lock);
        if (++round_sent >= round_target)
                pthread_cond_signal(&acked_cond);
        pthread_mutex_unlock(&lock);
        for (int i = 0; i < CALL_TIMEOUT_MS / 100 + 1 && harness_now_ms() < deadline; i++) {
                r = harness_client_recv(&w->cl, 100, &f);
                if (r != -ETIMEDOUT || atomic_load(&stop))
                        break;
        }
        if (r < 0) {
                /* Whatever comes late on this socket belongs to a dead request. */
                harness_client_reset(&w->cl);
                return r;
        }
        if (f.n != 2 || f.size[0] != 0) {
                harness_frames_free(&f);
                return -EPROTO;
        }
        *ret = complaint__v1__reply__unpack(NULL, f.size[1], f.data[1]);
        harness_frames_free(&f);
        return *ret ? 0 : -EPROTO;
}

static struct known *
s_known(struct worker *w, uint64_t id)
{
        for (size_t i = 0; i < w->nknown; i++)
                if (w->known[i].id == id)
                        return &w->known[i];
        return NULL;
}

/* Records an acknowledged reply. */
static void
s_ack(struct worker *w, enum op op, uint64_t id, const pb_reply_t *r)
{
        struct known *k;

        if (r->error != E_OK || r->complaint == NULL) {
                w->errors++;
                fprintf(stderr, "worker %d: %s of %" PRIu64 " refused: %s %s\n", w->idx,
                        op == OP_CREATE   ? "create"
                        : op == OP_ASSIGN ? "assign"
                                          : "note",
                        id, pb_error_name(r->error), r->message);
                return;
        }
        if (op == OP_CREATE) {
                id = r->complaint->id;
                if (s_known(w, id) == NULL && w->nknown < KNOWN_MAX)
                        w->known[w->nknown++] = (struct known){.id = id};
        } else if (r->complaint->id != id) {
                w->errors++;
                fprintf(stderr, "worker %d: reply for %" PRIu64 " names %" PRIu64 "\n", w->idx, id,
                        r->complaint->id);
                return;
        }
        k = s_known(w, id);
        if (op == OP_ASSIGN && k)
                k->assigned = true;
        if (w->nacks < ACKS_MAX)
                w->acks[w->nacks++] = (struct ack){.op = op,
                                                   .id = id,
                                                   .history_count = r->complaint->history_count,
                                                   .event_seq = r->event_seq};
        pthread_mutex_lock(&lock);
        round_acks++;
        pthread_mutex_unlock(&lock);
}

static void *
s_worker(void *arg)
{
        struct worker *w = arg;
        int64_t deadline = harness_now_ms() + ROUND_TIMEOUT_MS + CALL_TIMEOUT_MS;

        if (harness_client_open(&h, &w->cl) < 0) {
                w->errors++;
                return NULL;
        }
        for (int i = 0; i < 100000 && !atomic_load(&stop) && harness_now_ms() < deadline; i++) {
                pb_reply_t *reply = NULL;
                int r;

                if (w->pending == NULL) {
                        enum op op = OP_CREATE;
                        uint64_t id = 0;

                        if (w->drain_only)
                                break;
                        if (w->nknown > 0 && harness_rand(&w->rng) % 10 >= 4) {
                                struct known *k = &w->known[harness_rand(&w->rng) % w->nknown];

                                id = k->id;
                                op = k->assigned ? OP_NOTE : OP_ASSIGN;
                        }
                        w->pending = s_build(w, op, id, &w->pending_len);
                        w->pending_op = op;
                        w->pending_id = id;
                        if (w->pending == NULL) {
                                w->errors++;
                                break;
                        }
                }
                r = s_call(w, w->pending, w->pending_len, &reply);
                if (r == -ETIMEDOUT)
                        break; /* the daemon is gone: retry this one in the next round */
                if (r < 0) {
                        w->errors++;
                        fprintf(stderr, "worker %d: bad reply: %s\n", w->idx, strerror(-r));
                        break;
                }
                if (reply->replayed)
                        w->replayed++;
                s_ack(w, w->pending_op, w->pending_id, reply);
                complaint__v1__reply__free_unpacked(reply, NULL);
                free(w->pending);
                w->pending = NULL;
        }
        harness_client_close(&w->cl);
        return NULL;
}

/* ------------------------------------------------------------------ checks */

struct found {
        uint64_t id;
        int status;
        char department[64];
        char subject[96];
        uint32_t n;          /* history entries */
        uint64_t *event_seq; /* per entry */
        char **actor;        /* per entry */
        int *action;         /* per entry */
};

static int
s_cmp_found(const void *a, const void *b)
{
        uint64_t x = ((const struct found *)a)->id, y = ((const struct found *)b)->id;

        return x < y ? -1 : x > y;
}

static int
s_cmp_subject(const void *a, const void *b)
{
        return strcmp(((const struct found *)a)->subject, ((const struct found *)b)->subject);
}

static pb_reply_t *
s_read(harness_client_t *cl, pb_request_t *req)
{
        pb_reply_t *r = NULL;
        int rc;

        req->schema_version = PB_SCHEMA_VERSION;
        rc = harness_client_call(cl, req, HARNESS_CALL_TIMEOUT_MS, &r);
        if (rc < 0)
                fprintf(stderr, "read failed: %s\n", strerror(-rc));
        REQUIRE(rc == 0);
        if (r->error != E_OK)
                fprintf(stderr, "read refused: %s %s\n", pb_error_name(r->error), r->message);
        REQUIRE(r->error == E_OK);
        return r;
}

/* Reads every complaint with its history and checks what was acknowledged is there. */
static void
s_verify(const char *when)
{
        Complaint__V1__StatusRequest stq;
        Complaint__V1__ListRequest lq;
        Complaint__V1__GetRequest gq;
        pb_request_t req;
        harness_client_t cl;
        pb_reply_t *r;
        struct found *found = NULL;
        size_t nfound = 0, entries = 0, acks = 0;
        uint64_t complaints, last;
        uint8_t *seen;
        int failed_before = check_failed;

        complaint__v1__status_request__init(&stq);
        complaint__v1__list_request__init(&lq);
        complaint__v1__get_request__init(&gq);
        complaint__v1__request__init(&req);
        REQUIRE(harness_client_open(&h, &cl) == 0);
        req.body_case = COMPLAINT__V1__REQUEST__BODY_STATUS;
        req.status = &stq;
        r = s_read(&cl, &req);
        complaints = r->status->complaints;
        last = r->status->last_event_seq;
        complaint__v1__reply__free_unpacked(r, NULL);

        found = calloc(complaints + 1, sizeof(*found));
        REQUIRE(found != NULL);
        /* Page through the list; each page moves below its smallest id, so at most
         * complaints / limit + 1 pages. */
        req.body_case = COMPLAINT__V1__REQUEST__BODY_LIST;
        req.list = &lq;
        lq.limit = 500;
        for (int page = 0; page < 10000; page++) {
                r = s_read(&cl, &req);
                REQUIRE(r->list != NULL);
                for (size_t i = 0; i < r->list->n_complaints; i++) {
                        CHECK(nfound < complaints);
                        if (nfound < complaints)
                                found[nfound++].id = r->list->complaints[i]->id;
                }
                lq.before_id = r->list->next_before_id;
                complaint__v1__reply__free_unpacked(r, NULL);
                if (lq.before_id == 0)
                        break;
        }
        CHECK_INT(nfound, complaints);

        req.body_case = COMPLAINT__V1__REQUEST__BODY_GET;
        req.get = &gq;
        for (size_t i = 0; i < nfound; i++) {
                struct found *f = &found[i];

                gq.id = f->id;
                r = s_read(&cl, &req);
                REQUIRE(r->complaint != NULL);
                f->status = r->complaint->status;
                snprintf(f->department, sizeof(f->department), "%s", r->complaint->department);
                snprintf(f->subject, sizeof(f->subject), "%s", r->complaint->subject);
                f->n = (uint32_t)r->n_history;
                CHECK_INT(r->complaint->history_count, r->n_history);
                f->event_seq = calloc(f->n + 1, sizeof(*f->event_seq));
                f->actor = calloc(f->n + 1, sizeof(*f->actor));
                f->action = calloc(f->n + 1, sizeof(*f->action));
                REQUIRE(f->event_seq && f->actor && f->action);
                for (size_t k = 0; k < r->n_history; k++) {
                        const pb_history_t *e = r->history[k];

                        /* Entries 1..n, contiguous, in order. */
                        CHECK_INT(e->seq, k + 1);
                        CHECK_INT(e->complaint_id, f->id);
                        f->event_seq[k] = e->event_seq;
                        f->actor[k] = strdup(e->actor);
                        f->action[k] = e->action;
                }
                entries += r->n_history;
                complaint__v1__reply__free_unpacked(r, NULL);
        }
        harness_client_close(&cl);

        /* Every entry published exactly one event (nothing here reassigns), so the entries'
         * event numbers are exactly 1..last_event_seq. */
        CHECK_INT(entries, last);
        seen = calloc(last + 1, 1);
        REQUIRE(seen != NULL);
        for (size_t i = 0; i < nfound; i++) {
                for (uint32_t k = 0; k < found[i].n; k++) {
                        uint64_t s = found[i].event_seq[k];

                        CHECK(s >= 1 && s <= last);
                        if (s >= 1 && s <= last) {
                                CHECK(!seen[s]);
                                seen[s] = 1;
                        }
                }
        }
        free(seen);

        /* One complaint per create request, however often it was retried. */
        qsort(found, nfound, sizeof(*found), s_cmp_subject);
        for (size_t i = 1; i < nfound; i++) {
                bool dup = strcmp(found[i - 1].subject, found[i].subject) == 0;

                CHECK(!dup);
                if (dup)
                        fprintf(stderr,
                                "%s: two complaints (%" PRIu64 ", %" PRIu64 ") from \"%s\"\n", when,
                                found[i - 1].id, found[i].id, found[i].subject);
        }
        qsort(found, nfound, sizeof(*found), s_cmp_found);

        /* Every acknowledged change is there. */
        for (int wi = 0; wi < WORKERS; wi++) {
                struct worker *w = &workers[wi];

                for (size_t i = 0; i < w->nacks; i++) {
                        const struct ack *a = &w->acks[i];
                        struct found key = {.id = a->id}, *f;
                        bool ok;

                        acks++;
                        f = bsearch(&key, found, nfound, sizeof(*found), s_cmp_found);
                        CHECK(f != NULL);
                        if (f == NULL) {
                                fprintf(stderr, "%s: acknowledged complaint %" PRIu64 " is lost\n",
                                        when, a->id);
                                continue;
                        }
                        ok = f->n >= a->history_count && a->history_count >= 1 &&
                             f->event_seq[a->history_count - 1] == a->event_seq &&
                             a->event_seq <= last;
                        CHECK(ok);
                        if (!ok)
                                fprintf(stderr,
                                        "%s: complaint %" PRIu64 ": acknowledged entry %u (event "
                                        "%" PRIu64 "), store has %u entries%s\n",
                                        when, a->id, a->history_count, a->event_seq, f->n,
                                        f->n >= a->history_count && a->history_count
                                            ? ", with another event"
                                            : "");
                        if (a->op == OP_CREATE && f->n > 0) {
                                CHECK_STR(f->actor[0], w->actor);
                                CHECK_INT(f->action[0], COMPLAINT__V1__ACTION__ACTION_CREATE);
                        }
                        if (a->op == OP_ASSIGN) {
                                CHECK_INT(f->status, ST_ASSIGNED);
                                CHECK_STR(f->department, "billing");
                        }
                }
        }
        fprintf(stderr,
                "%s: %zu complaints, %zu history entries, last event %" PRIu64
                ", %zu acknowledged changes checked%s\n",
                when, nfound, entries, last, acks,
                check_failed > failed_before ? " -- FAILED" : "");
        for (size_t i = 0; i < nfound; i++) {
                for (uint32_t k = 0; k < found[i].n; k++)
                        free(found[i].actor[k]);
                free(found[i].actor);
                free(found[i].event_seq);
                free(found[i].action);
        }
        free(found);
}

/* ------------------------------------------------------------------ rounds */

static void
s_run_workers(bool drain_only)
{
        for (int i = 0; i < WORKERS; i++) {
                workers[i].drain_only = drain_only;
                REQUIRE(pthread_create(&workers[i].thread, NULL, s_worker, &workers[i]) == 0);
        }
}

static void
s_join_workers(void)
{
        for (int i = 0; i < WORKERS; i++)
                pthread_join(workers[i].thread, NULL);
}

int
main(void)
{
        uint64_t seed = 0x5EED2024ULL;
        const char *env = getenv("COMPLAINTD_TEST_SEED");
        int errors = 0, replayed = 0;

        if (env && *env)
                seed = strtoull(env, NULL, 0);
        fprintf(stderr, "it_durability: seed %#" PRIx64 " (set COMPLAINTD_TEST_SEED to repeat)\n",
                seed);
        REQUIRE(harness_init(&h, "it_durability") == 0);
        for (int i = 0; i < WORKERS; i++) {
                workers[i].idx = i;
                workers[i].rng = harness_rand(&seed) | 1;
                snprintf(workers[i].actor, sizeof(workers[i].actor), "agent.%d", i);
        }
        REQUIRE(harness_start(&h) == 0);

        for (int round = 1; round <= ROUNDS; round++) {
                struct timespec until;
                char when[64];
                int rc = 0;

                pthread_mutex_lock(&lock);
                round_acks = 0;
                round_sent = 0;
                round_target = 20 + (unsigned)(harness_rand(&seed) % 200);
                pthread_mutex_unlock(&lock);
                atomic_store(&stop, false);
                s_run_workers(false);

                clock_gettime(CLOCK_REALTIME, &until);
                until.tv_sec += ROUND_TIMEOUT_MS / 1000;
                pthread_mutex_lock(&lock);
                /* Woken by each signal; ends at the target or at the deadline. */
                for (int i = 0; i < 100000 && round_sent < round_target && rc == 0; i++)
                        rc = pthread_cond_timedwait(&acked_cond, &lock, &until);
                fprintf(stderr,
                        "round %d: killing after %u requests sent (target %u), %u "
                        "acknowledged\n",
                        round, round_sent, round_target, round_acks);
                CHECK(round_sent >= round_target);
                pthread_mutex_unlock(&lock);

                CHECK_INT(harness_kill(&h), 0);
                atomic_store(&stop, true);
                s_join_workers();

                REQUIRE(harness_start(&h) == 0);
                snprintf(when, sizeof(when), "after kill %d", round);
                s_verify(when);
        }

        /* The requests in flight at the last kill, retried on the restarted daemon. */
        atomic_store(&stop, false);
        s_run_workers(true);
        s_join_workers();
        for (int i = 0; i < WORKERS; i++) {
                CHECK(workers[i].pending == NULL);
                errors += workers[i].errors;
                replayed += workers[i].replayed;
        }
        CHECK_INT(errors, 0);
        s_verify("after the last retries");
        fprintf(stderr, "%d retried requests were answered from the record\n", replayed);

        /* And a clean stop after all that. */
        CHECK_INT(harness_stop(&h), 0);
        REQUIRE(harness_start(&h) == 0);
        s_verify("after a clean restart");
        CHECK_INT(harness_stop(&h), 0);

        for (int i = 0; i < WORKERS; i++)
                free(workers[i].pending);
        return harness_cleanup(&h, check_summary());
}
