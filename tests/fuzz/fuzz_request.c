/* fuzz_request.c: the request path (daemon/service.h) on a real store. At start it writes a
 * small configuration into a scratch directory (on /dev/shm when there is one, so commits
 * cost no disk), loads it and opens a store there. Each input is a batch:
 *
 *     [flags: 1 byte] then up to BATCH_MAX times [length: 2 bytes, little-endian][request]
 *
 * (the last request takes what is left when the input is shorter than its length). The batch
 * goes through service_handle_batch() as the API socket would hand it over, and then:
 *   - every request has a reply that decodes as a complaint.v1.Reply of the current schema
 *     (or, for a valid backup, a path and the request id), and every event decodes, with
 *     global sequence numbers that grow by one;
 *   - flags & 1: the same batch is sent again, and every change that succeeded the first time
 *     is answered with its stored reply (replayed, same event), as PROTOCOL.md promises;
 *   - flags & 2: the warnings and escalations due by now fire (the configuration's chains
 *     count in seconds on a 24x7 calendar, so some do); with flags & 8 too, those due up to
 *     flags >> 4 hours ahead, as after a step of the wall clock (the office and night
 *     calendars' hours, and the clocks' re-alerts, are then reached as well);
 *   - flags & 4: a heartbeat carries the newest event, the counts of open and overdue
 *     complaints add up, and the event log is pruned (it keeps 1,000 events).
 * The store lives across inputs, so that requests find complaints in every state; it is
 * started afresh every RESET_EVERY inputs and when it grows past RESET_BYTES, which keeps
 * runs bounded. A crash that needs the history of earlier inputs may thus not reproduce from
 * its input alone: replay it after the inputs of the corpus it grew from (libFuzzer runs the
 * files given as arguments in the order given). */
#include <errno.h>
#include <inttypes.h>
#include <time.h>

#include "config.h"
#include "fuzz.h"
#include "log.h"
#include "service.h"
#include "store.h"

#define BATCH_MAX 16
#define RESET_EVERY 20000
#define RESET_BYTES ((uint64_t)64 << 20)
#define MAP_MAX ((uint64_t)1 << 30)

/* The smallest read budget, so that batches defer reads often and s_serve_deferred() hands
 * them in again, as the daemon's loop does. */
static const char conf_text[] =
    "daemon: { state_dir = \"state\"; store_max = \"1G\"; log_level = \"warning\";\n"
    "          read_budget = \"1ms\"; };\n"
    "limits: { list_max = 64; replay_max = 64; };\n"
    "repeat: { threshold = 1; window = \"1h\"; country_code = \"49\"; };\n"
    "escalation: { warning = 0.5; realert = \"1h\"; followup = \"3s\"; };\n"
    "event_log: { keep_for = \"1d\"; keep_count = 1000; };\n"
    "centre = \"centre\";\n"
    "calendars = (\n"
    "  { id = \"office\"; zone = \"Europe/Berlin\";\n"
    "    hours = { mon = [\"08:00-12:00\", \"13:00-17:00\"]; tue = [\"08:00-17:00\"];\n"
    "              wed = [\"08:00-17:00\"]; thu = [\"08:00-17:00\"]; fri = [\"08:00-15:00\"]; };\n"
    "    holidays = [ \"2026-12-24\", \"2026-12-25\", \"2027-01-01\" ];\n"
    "    workdays = [ \"2026-12-19=mon\" ]; },\n"
    "  { id = \"night\"; zone = \"America/New_York\";\n"
    "    hours = { sun = [\"22:00-06:00\"]; mon = [\"22:00-06:00\"]; sat = [\"10:00-14:00\"]; };\n"
    "  }\n"
    ");\n"
    "departments = (\n"
    "  { id = \"centre\"; name = \"Centre\"; calendar = \"24x7\";\n"
    "    chain = ( { role = \"Lead\"; allowance = \"1s\"; }, { role = \"Head\"; allowance = "
    "\"2s\"; } ); },\n"
    "  { id = \"network\"; name = \"Network\"; calendar = \"24x7\"; response = \"1s\";\n"
    "    resolution = \"3s\";\n"
    "    chain = ( { role = \"A\"; allowance = \"1s\"; }, { role = \"B\"; allowance = \"1s\"; } "
    "); },\n"
    "  { id = \"billing\"; name = \"Billing\"; calendar = \"office\"; response = \"2h\";\n"
    "    resolution = \"1d\"; chain = ( { role = \"Chief\"; allowance = \"4h\"; } ); },\n"
    "  { id = \"night\"; name = \"Night\"; calendar = \"night\"; response = \"30m\";\n"
    "    resolution = \"8h\"; chain = ( { role = \"Shift\"; allowance = \"1h\"; } ); },\n"
    "  { id = \"untimed\"; name = \"Untimed\"; }\n"
    ");\n"
    "categories = (\n"
    "  { id = \"billing\"; name = \"Billing\"; department = \"billing\"; },\n"
    "  { id = \"network\"; name = \"Network\"; department = \"network\"; resolution = \"2s\"; },\n"
    "  { id = \"night\"; name = \"Night\"; department = \"night\"; },\n"
    "  { id = \"other\"; name = \"Other\"; department = \"untimed\"; }\n"
    ");\n";

static conf_t *cfg;
static store_t *store;
static service_t *service;
static uint64_t last_seq;
static unsigned long inputs;

static int64_t
s_now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Opens the store in cfg->state_dir (emptied first) and the service on it; fatal on failure. */
static void
s_open(void)
{
        int r;

        fuzz_rm_tree(cfg->state_dir);
        r = store_open(cfg->state_dir, MAP_MAX, &store);
        if (r == 0)
                r = service_new(store, cfg, &service);
        if (r < 0) {
                fprintf(stderr, "fuzz_request: cannot open the store in %s: %s\n", cfg->state_dir,
                        strerror(-r));
                exit(1);
        }
        last_seq = service_last_event_seq(service);
}

static void
s_close(void)
{
        service_free(&service);
        store_close(&store);
}

static void
s_at_exit(void)
{
        s_close();
        config_free(&cfg);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
        const char *dir = fuzz_scratch("fuzz_request");
        char path[4200], state[4200], *errors = NULL;
        int r;

        (void)argc;
        (void)argv;
        snprintf(path, sizeof(path), "%s/complaintd.conf", dir);
        snprintf(state, sizeof(state), "%s/state", dir);
        if (fuzz_write_file(path, conf_text, sizeof(conf_text) - 1) < 0) {
                perror(path);
                exit(1);
        }
        r = config_load(path, &cfg, &errors);
        if (r < 0) {
                fprintf(stderr, "fuzz_request: the configuration is refused:\n%s",
                        errors ? errors : strerror(-r));
                exit(1);
        }
        if (config_set_string(&cfg->state_dir, state) < 0) {
                fprintf(stderr, "fuzz_request: out of memory\n");
                exit(1);
        }
        log_set_level(cfg->log_level);
        s_open();
        /* Before the scratch directory goes (atexit runs in reverse order). */
        atexit(s_at_exit);
        return 0;
}

/* Splits the input after its flags byte into at most BATCH_MAX requests. */
static size_t
s_split(struct fuzz_in *in, struct service_request *reqs)
{
        size_t n = 0;

        while (in->n > 0 && n < BATCH_MAX) {
                size_t len = fuzz_u8(in);

                len |= (size_t)fuzz_u8(in) << 8;
                if (len > in->n)
                        len = in->n;
                reqs[n++] = (struct service_request){.data = in->p, .len = len};
                in->p += len;
                in->n -= len;
        }
        return n;
}

/* Each request has its answer, which decodes; returns the decoded replies (NULL for a backup)
 * and frees what the service handed over. */
static void
s_check_replies(struct service_request *reqs, size_t n, pb_reply_t **ret)
{
        for (size_t i = 0; i < n; i++) {
                struct service_request *rq = &reqs[i];

                ret[i] = NULL;
                if (rq->backup_path) {
                        FUZZ_CHECK(rq->reply == NULL && rq->request_id,
                                   "request %zu: a backup with a reply or without its id", i);
                } else {
                        FUZZ_CHECK(rq->reply != NULL, "request %zu has no reply", i);
                        ret[i] = complaint__v1__reply__unpack(NULL, rq->reply_len, rq->reply);
                        FUZZ_CHECK(ret[i] != NULL, "request %zu: the reply does not decode", i);
                        FUZZ_CHECK(ret[i]->schema_version == PB_SCHEMA_VERSION,
                                   "request %zu: schema %u", i, ret[i]->schema_version);
                }
                free(rq->reply);
                free(rq->backup_path);
                free(rq->request_id);
                rq->reply = NULL;
                rq->backup_path = rq->request_id = NULL;
        }
}

/* The events decode and continue the global sequence without a gap; the outbox is emptied. */
static void
s_check_events(struct service_outbox *out)
{
        for (size_t i = 0; i < out->n; i++) {
                const struct service_event *e = &out->items[i];
                pb_event_t *ev = complaint__v1__event__unpack(NULL, e->len, e->data);

                FUZZ_CHECK(ev != NULL && e->topic && e->topic[0], "event %zu does not decode", i);
                FUZZ_CHECK(ev->seq == last_seq + 1, "event %" PRIu64 " after %" PRIu64, ev->seq,
                           last_seq);
                FUZZ_CHECK(strcmp(ev->topic, e->topic) == 0, "topic %s, published as %s", ev->topic,
                           e->topic);
                last_seq = ev->seq;
                complaint__v1__event__free_unpacked(ev, NULL);
        }
        FUZZ_CHECK(service_last_event_seq(service) == last_seq,
                   "last event %" PRIu64 ", not %" PRIu64, service_last_event_seq(service),
                   last_seq);
        service_outbox_clear(out);
}

static bool
s_is_change(const pb_request_t *q)
{
        switch (q->body_case) {
        case COMPLAINT__V1__REQUEST__BODY_CREATE:
        case COMPLAINT__V1__REQUEST__BODY_ASSIGN:
        case COMPLAINT__V1__REQUEST__BODY_ACCEPT:
        case COMPLAINT__V1__REQUEST__BODY_PEND:
        case COMPLAINT__V1__REQUEST__BODY_RESUME:
        case COMPLAINT__V1__REQUEST__BODY_RESOLVE:
        case COMPLAINT__V1__REQUEST__BODY_CLOSE:
        case COMPLAINT__V1__REQUEST__BODY_REOPEN:
        case COMPLAINT__V1__REQUEST__BODY_DISMISS:
        case COMPLAINT__V1__REQUEST__BODY_NOTE:
        case COMPLAINT__V1__REQUEST__BODY_ESCALATE:
                return true;
        default:
                return false;
        }
}

/* A change that succeeded, sent again byte for byte, gets its first reply back, replayed. */
static void
s_check_replayed(const struct service_request *reqs, size_t n, pb_reply_t **first,
                 pb_reply_t **again)
{
        for (size_t i = 0; i < n; i++) {
                pb_request_t *q;

                if (first[i] == NULL || first[i]->error != E_OK)
                        continue;
                q = complaint__v1__request__unpack(NULL, reqs[i].len, reqs[i].data);
                if (q != NULL && s_is_change(q)) {
                        FUZZ_CHECK(again[i] && again[i]->error == E_OK && again[i]->replayed,
                                   "request %zu: a change sent again is not replayed (error %d)", i,
                                   again[i] ? (int)again[i]->error : -1);
                        FUZZ_CHECK(again[i]->event_seq == first[i]->event_seq,
                                   "request %zu: replayed with event %" PRIu64 ", not %" PRIu64, i,
                                   again[i]->event_seq, first[i]->event_seq);
                }
                complaint__v1__request__free_unpacked(q, NULL);
        }
}

/* The reads a batch's read budget deferred (slow reads: a large store, a sanitizer, a loaded
 * machine) are handed in again, as api.c does, until each has its answer: a batch answers at
 * least one read, and a read makes no event. */
static void
s_serve_deferred(struct service_request *reqs, size_t n)
{
        for (size_t round = 0; round <= n; round++) {
                struct service_request again[BATCH_MAX];
                struct service_outbox out = {0};
                size_t idx[BATCH_MAX], m = 0, answered = 0;
                int r;

                for (size_t i = 0; i < n; i++) {
                        if (!reqs[i].deferred)
                                continue;
                        FUZZ_CHECK(reqs[i].reply == NULL && reqs[i].backup_path == NULL,
                                   "request %zu: deferred with an answer", i);
                        idx[m] = i;
                        again[m++] =
                            (struct service_request){.data = reqs[i].data, .len = reqs[i].len};
                }
                if (m == 0)
                        return;
                FUZZ_CHECK(round < n, "deferred reads are never answered");
                r = service_handle_batch(service, again, m, &out);
                FUZZ_CHECK(r == 0, "the store failed: %s", strerror(-r));
                FUZZ_CHECK(out.n == 0, "deferred reads made %zu events", out.n);
                free(out.items);
                for (size_t j = 0; j < m; j++) {
                        struct service_request *rq = &reqs[idx[j]];

                        rq->reply = again[j].reply;
                        rq->reply_len = again[j].reply_len;
                        rq->backup_path = again[j].backup_path;
                        rq->request_id = again[j].request_id;
                        rq->deferred = again[j].deferred;
                        answered += !rq->deferred;
                }
                FUZZ_CHECK(answered > 0, "a batch of %zu deferred reads answered none", m);
        }
}

static void
s_free_replies(pb_reply_t **replies, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (replies[i])
                        complaint__v1__reply__free_unpacked(replies[i], NULL);
}

/* What the daemon's loop does between batches. */
static void
s_check_housekeeping(void)
{
        struct service_event hb = {0};
        pb_event_t *ev;
        uint64_t open = 0, overdue = 0;
        uint32_t pruned = 0;
        int r = service_heartbeat(service, &hb);

        FUZZ_CHECK(r == 0, "heartbeat: %s", strerror(-r));
        ev = complaint__v1__event__unpack(NULL, hb.len, hb.data);
        FUZZ_CHECK(ev && ev->heartbeat && ev->seq == last_seq,
                   "the heartbeat does not decode or does not carry event %" PRIu64, last_seq);
        complaint__v1__event__free_unpacked(ev, NULL);
        free(hb.topic);
        free(hb.data);
        r = service_counts(service, &open, &overdue);
        /* Open is all less closed and dismissed: a counter out of step would wrap it. */
        FUZZ_CHECK(r == 0 && open < ((uint64_t)1 << 40) && overdue <= open,
                   "counts: r = %d, %" PRIu64 " open, %" PRIu64 " overdue", r, open, overdue);
        r = service_prune_events(service, 16, &pruned);
        FUZZ_CHECK(r == 0 && pruned <= 16, "prune: r = %d, %u", r, pruned);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct fuzz_in in = {data, size};
        struct service_request reqs[BATCH_MAX];
        struct service_outbox out = {0};
        pb_reply_t *first[BATCH_MAX], *again[BATCH_MAX];
        uint8_t flags = fuzz_u8(&in);
        size_t n = s_split(&in, reqs);
        uint64_t used = 0, map = 0;
        int r;

        if (n == 0)
                return 0;
        r = service_handle_batch(service, reqs, n, &out);
        FUZZ_CHECK(r == 0, "the store failed: %s", strerror(-r));
        s_serve_deferred(reqs, n);
        s_check_replies(reqs, n, first);
        s_check_events(&out);
        if (flags & 1) {
                r = service_handle_batch(service, reqs, n, &out);
                FUZZ_CHECK(r == 0, "the store failed: %s", strerror(-r));
                s_serve_deferred(reqs, n);
                s_check_replies(reqs, n, again);
                s_check_events(&out);
                s_check_replayed(reqs, n, first, again);
                s_free_replies(again, n);
        }
        s_free_replies(first, n);
        if (flags & 2) {
                int64_t at = s_now_ms() + (flags & 8 ? (int64_t)(flags >> 4) * 3600 * 1000 : 0);
                uint32_t fired = 0;

                /* A few at a time, as a loop between batches would: each is a transaction. */
                r = service_fire_due(service, at, 8, &out, &fired);
                FUZZ_CHECK(r == 0, "deadlines: %s", strerror(-r));
                s_check_events(&out);
        }
        if (flags & 4)
                s_check_housekeeping();
        free(out.items);
        store_usage(store, &used, &map);
        if (++inputs % RESET_EVERY == 0 || used > RESET_BYTES) {
                s_close();
                s_open();
        }
        return 0;
}
