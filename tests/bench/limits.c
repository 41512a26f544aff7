/* limits.c: bench_limits, the limits of this machine that complaintd's figures are measured
 * against, taken by the same harness in the same run:
 *
 *   lmdb    the durable commit rate of LMDB on the disk of --dir for transactions shaped like
 *           complaintd's changes, --batch changes per transaction. One change writes what
 *           the daemon writes for one request: the record, a history entry, the event, the
 *           stored reply of its request id, two index entries and a counter. Default sync,
 *           no WRITEMAP: the daemon's durability. Its figures are named limit.lmdb.bBATCH.*,
 *           or LABEL.* with --label (tests/bench/run measures a limit right before and after
 *           each scenario, at the batch size the scenario achieved, under the scenario's name).
 *   dealer  DEALER/ROUTER round trips with --window requests in flight against an echoing
 *           ROUTER thread, on --endpoint (the endpoint type the daemon's API uses).
 *   pubsub  PUB/SUB messages of --size bytes as [topic][body] to one subscriber, with
 *           unbounded high-water marks so nothing is dropped.
 *
 * Figures go to stdout as "name value" lines (see bench.h). */
#include <errno.h>
#include <getopt.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "bench.h"

struct opts {
        const char *label;
        const char *dir;
        const char *endpoint;
        int batch;
        int window;
        int size;
        double seconds;
        long count;
};

/* ---------------------------------------------------------------------------------- lmdb */

/* Value sizes of one change, close to what complaintd writes for a create or an assign. */
#define RECORD_BYTES 560
#define HISTORY_BYTES 180
#define EVENT_BYTES 760
#define REPLY_BYTES 620

enum { DB_META, DB_COMPLAINTS, DB_HISTORY, DB_EVENTS, DB_REQUESTS, DB_BY_STATUS, DB_BY_CAT, DBS };

static void
s_put_be64(uint8_t *p, uint64_t v)
{
        for (int i = 7; i >= 0; i--, v >>= 8)
                p[i] = (uint8_t)v;
}

static void
s_check(int rc, const char *what)
{
        if (rc != 0)
                bench_die("lmdb: %s: %s", what, mdb_strerror(rc));
}

/* Writes change number n the way the daemon writes one: every put the daemon makes. */
static void
s_lmdb_change(MDB_txn *txn, const MDB_dbi *dbi, uint64_t n, const uint8_t *filler)
{
        uint8_t id[8], hk[12], sk[9], ck[17], rk[48], cnt[8];
        MDB_val k, v, empty = {0, NULL};

        s_put_be64(id, n);
        k = (MDB_val){8, id};
        v = (MDB_val){RECORD_BYTES, (void *)(uintptr_t)filler};
        s_check(mdb_put(txn, dbi[DB_COMPLAINTS], &k, &v, 0), "record");
        memcpy(hk, id, 8);
        memset(hk + 8, 0, 4);
        k = (MDB_val){12, hk};
        v = (MDB_val){HISTORY_BYTES, (void *)(uintptr_t)filler};
        s_check(mdb_put(txn, dbi[DB_HISTORY], &k, &v, MDB_NOOVERWRITE), "history");
        k = (MDB_val){8, id};
        v = (MDB_val){EVENT_BYTES, (void *)(uintptr_t)filler};
        s_check(mdb_put(txn, dbi[DB_EVENTS], &k, &v, MDB_APPEND), "event");
        /* Request ids are random: their keys land all over the tree, as the daemon's do. */
        k = (MDB_val){(size_t)snprintf((char *)rk, sizeof(rk), "agent-%u%c%016llx%016llx",
                                       (unsigned)(n % 64), 0, (unsigned long long)random(),
                                       (unsigned long long)n * 0x9e3779b97f4a7c15ull) +
                          1,
                      rk};
        v = (MDB_val){REPLY_BYTES, (void *)(uintptr_t)filler};
        s_check(mdb_put(txn, dbi[DB_REQUESTS], &k, &v, 0), "request id");
        sk[0] = 2;
        memcpy(sk + 1, id, 8);
        k = (MDB_val){9, sk};
        s_check(mdb_put(txn, dbi[DB_BY_STATUS], &k, &empty, 0), "status index");
        memcpy(ck, "billing", 8);
        memcpy(ck + 8, id, 8);
        k = (MDB_val){16, ck};
        s_check(mdb_put(txn, dbi[DB_BY_CAT], &k, &empty, 0), "category index");
        s_put_be64(cnt, n);
        k = (MDB_val){7, (void *)"count/2"};
        v = (MDB_val){8, cnt};
        s_check(mdb_put(txn, dbi[DB_META], &k, &v, 0), "counter");
}

static void
s_lmdb(const struct opts *o)
{
        static const char *const names[DBS] = {"meta",     "complaints", "history",    "events",
                                               "requests", "by_status",  "by_category"};
        uint8_t filler[RECORD_BYTES + EVENT_BYTES];
        struct bench_samples lat = {0};
        MDB_env *env;
        MDB_txn *txn;
        MDB_dbi dbi[DBS];
        uint64_t n = 0, txs = 0;
        int64_t start, end;
        char prefix[128], key[160];

        if (o->dir == NULL)
                bench_die("lmdb: --dir is required");
        for (size_t i = 0; i < sizeof(filler); i++)
                filler[i] = (uint8_t)random();
        s_check(mdb_env_create(&env), "create");
        s_check(mdb_env_set_maxdbs(env, DBS), "maxdbs");
        s_check(mdb_env_set_mapsize(env, 8ull << 30), "mapsize");
        /* The daemon's flags: MDB_NOTLS, full sync, no WRITEMAP. */
        s_check(mdb_env_open(env, o->dir, MDB_NOTLS, 0640), o->dir);
        s_check(mdb_txn_begin(env, NULL, 0, &txn), "begin");
        for (int i = 0; i < DBS; i++)
                s_check(mdb_dbi_open(txn, names[i], MDB_CREATE, &dbi[i]), names[i]);
        s_check(mdb_txn_commit(txn), "commit");

        start = bench_mono_us();
        end = start + (int64_t)(o->seconds * 1e6);
        for (int64_t t0 = start; t0 < end; t0 = bench_mono_us()) {
                s_check(mdb_txn_begin(env, NULL, 0, &txn), "begin");
                for (int i = 0; i < o->batch; i++)
                        s_lmdb_change(txn, dbi, ++n, filler);
                s_check(mdb_txn_commit(txn), "commit");
                bench_samples_add(&lat, bench_mono_us() - t0);
                txs++;
        }
        end = bench_mono_us();
        mdb_env_close(env);

        if (o->label)
                snprintf(prefix, sizeof(prefix), "%s", o->label);
        else
                snprintf(prefix, sizeof(prefix), "limit.lmdb.b%d", o->batch);
        snprintf(key, sizeof(key), "%s.tx_per_s", prefix);
        bench_figure(key, (double)txs * 1e6 / (double)(end - start));
        snprintf(key, sizeof(key), "%s.changes_per_s", prefix);
        bench_figure(key, (double)n * 1e6 / (double)(end - start));
        snprintf(key, sizeof(key), "%s.commit", prefix);
        bench_figure_quantiles(key, "us", &lat);
        bench_samples_free(&lat);
}

/* ------------------------------------------------------------------------ dealer/router */

static void *
s_echo(void *sock)
{
        /* Echoes every message, all its frames, until the context terminates. */
        for (;;) {
                zmq_msg_t m;
                int more;

                do {
                        zmq_msg_init(&m);
                        if (zmq_msg_recv(&m, sock, 0) < 0) {
                                zmq_msg_close(&m);
                                zmq_close(sock);
                                return NULL;
                        }
                        more = zmq_msg_more(&m);
                        if (zmq_msg_send(&m, sock, more ? ZMQ_SNDMORE : 0) < 0)
                                zmq_msg_close(&m);
                } while (more);
        }
}

static void
s_dealer(const struct opts *o)
{
        void *ctx = zmq_ctx_new(), *router, *dealer;
        uint8_t *body = calloc(1, (size_t)o->size);
        int64_t *sent = calloc((size_t)o->window, sizeof(*sent));
        struct bench_samples lat = {0};
        uint64_t next = 0, done = 0;
        int64_t start, end;
        pthread_t echo;
        int zero = 0;

        if (o->endpoint == NULL)
                bench_die("dealer: --endpoint is required");
        if (body == NULL || sent == NULL || o->size < 8)
                bench_die("dealer: bad --size or out of memory");
        router = zmq_socket(ctx, ZMQ_ROUTER);
        dealer = zmq_socket(ctx, ZMQ_DEALER);
        zmq_setsockopt(router, ZMQ_LINGER, &zero, sizeof(zero));
        zmq_setsockopt(dealer, ZMQ_LINGER, &zero, sizeof(zero));
        if (zmq_bind(router, o->endpoint) < 0 || zmq_connect(dealer, o->endpoint) < 0)
                bench_die("dealer: %s: %s", o->endpoint, zmq_strerror(zmq_errno()));
        pthread_create(&echo, NULL, s_echo, router);

        start = bench_mono_us();
        end = start + (int64_t)(o->seconds * 1e6);
        while (bench_mono_us() < end || done < next) {
                uint8_t reply[64];
                uint64_t seq;

                while (next - done < (uint64_t)o->window && bench_mono_us() < end) {
                        memcpy(body, &next, 8);
                        sent[next % (uint64_t)o->window] = bench_mono_us();
                        zmq_send(dealer, "", 0, ZMQ_SNDMORE);
                        zmq_send(dealer, body, (size_t)o->size, 0);
                        next++;
                }
                if (zmq_recv(dealer, reply, sizeof(reply), 0) < 0 ||
                    zmq_recv(dealer, reply, sizeof(reply), 0) < 8)
                        bench_die("dealer: recv: %s", zmq_strerror(zmq_errno()));
                memcpy(&seq, reply, 8);
                bench_samples_add(&lat, bench_mono_us() - sent[seq % (uint64_t)o->window]);
                done++;
        }
        end = bench_mono_us();
        bench_figure("limit.dealer_router.req_per_s", (double)done * 1e6 / (double)(end - start));
        bench_figure_quantiles("limit.dealer_router.rtt", "us", &lat);
        zmq_close(dealer);
        zmq_ctx_term(ctx); /* ends the echo thread, which closes its socket */
        pthread_join(echo, NULL);
        bench_samples_free(&lat);
        free(body);
        free(sent);
}

/* ------------------------------------------------------------------------------ pub/sub */

struct sub_state {
        void *sock;
        long expect;
        atomic_bool synced;
        atomic_long received;
        int64_t last_us;
};

static void *
s_subscriber(void *arg)
{
        struct sub_state *st = arg;
        char topic[64];
        uint8_t body[4096];

        while (atomic_load(&st->received) < st->expect) {
                int n = zmq_recv(st->sock, topic, sizeof(topic), 0);

                if (n < 0 || zmq_recv(st->sock, body, sizeof(body), 0) < 0)
                        break;
                if (n == 4 && memcmp(topic, "sync", 4) == 0) {
                        atomic_store(&st->synced, true);
                        continue;
                }
                if (atomic_fetch_add(&st->received, 1) + 1 == st->expect)
                        st->last_us = bench_mono_us();
        }
        return NULL;
}

static void
s_pubsub(const struct opts *o)
{
        void *ctx = zmq_ctx_new(), *pub, *sub;
        static const char topic[] = "billing/created";
        struct sub_state st = {.expect = o->count};
        uint8_t *body = calloc(1, (size_t)o->size);
        pthread_t thread;
        int zero = 0;
        int64_t start, wait;

        if (o->endpoint == NULL || body == NULL)
                bench_die("pubsub: --endpoint is required");
        pub = zmq_socket(ctx, ZMQ_PUB);
        sub = zmq_socket(ctx, ZMQ_SUB);
        /* 0: no high-water mark at all, so the figure is the rate with nothing dropped. */
        zmq_setsockopt(pub, ZMQ_SNDHWM, &zero, sizeof(zero));
        zmq_setsockopt(sub, ZMQ_RCVHWM, &zero, sizeof(zero));
        zmq_setsockopt(pub, ZMQ_LINGER, &zero, sizeof(zero));
        zmq_setsockopt(sub, ZMQ_LINGER, &zero, sizeof(zero));
        zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "", 0);
        if (zmq_bind(pub, o->endpoint) < 0 || zmq_connect(sub, o->endpoint) < 0)
                bench_die("pubsub: %s: %s", o->endpoint, zmq_strerror(zmq_errno()));
        st.sock = sub;
        pthread_create(&thread, NULL, s_subscriber, &st);
        /* Subscriptions take effect asynchronously: publish "sync" until one arrives. */
        wait = bench_mono_us() + 5000000;
        while (!atomic_load(&st.synced)) {
                if (bench_mono_us() > wait)
                        bench_die("pubsub: the subscriber never received a message");
                zmq_send(pub, "sync", 4, ZMQ_SNDMORE);
                zmq_send(pub, body, 8, 0);
                zmq_poll(NULL, 0, 5);
        }
        start = bench_mono_us();
        for (long i = 0; i < o->count; i++) {
                memcpy(body, &i, sizeof(i));
                zmq_send(pub, topic, sizeof(topic) - 1, ZMQ_SNDMORE);
                zmq_send(pub, body, (size_t)o->size, 0);
        }
        pthread_join(thread, NULL);
        if (atomic_load(&st.received) < o->count)
                bench_die("pubsub: %ld of %ld messages received", atomic_load(&st.received),
                          o->count);
        bench_figure("limit.pubsub.msg_per_s",
                     (double)o->count * 1e6 / (double)(st.last_us - start));
        zmq_close(pub);
        zmq_close(sub);
        zmq_ctx_term(ctx);
        free(body);
}

/* ---------------------------------------------------------------------------------- main */

static void
s_usage(FILE *f)
{
        fprintf(f,
                "usage: bench_limits lmdb --dir DIR [--batch N] [--seconds S] [--label NAME]\n"
                "       bench_limits dealer --endpoint EP [--window N] [--size B] [--seconds S]\n"
                "       bench_limits pubsub --endpoint EP [--count N] [--size B]\n");
}

int
main(int argc, char **argv)
{
        static const struct option options[] = {
            {"dir", required_argument, NULL, 'd'},
            {"endpoint", required_argument, NULL, 'e'},
            {"batch", required_argument, NULL, 'b'},
            {"window", required_argument, NULL, 'w'},
            {"size", required_argument, NULL, 's'},
            {"seconds", required_argument, NULL, 't'},
            {"count", required_argument, NULL, 'n'},
            {"label", required_argument, NULL, 'l'}, /* names the lmdb figures */
            {"help", no_argument, NULL, 'h'},
            {},
        };
        struct opts o = {.batch = 1, .window = 100, .size = 300, .seconds = 3, .count = 1000000};
        const char *mode;
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
                switch (c) {
                case 'd':
                        o.dir = optarg;
                        break;
                case 'e':
                        o.endpoint = optarg;
                        break;
                case 'b':
                        o.batch = atoi(optarg);
                        break;
                case 'w':
                        o.window = atoi(optarg);
                        break;
                case 's':
                        o.size = atoi(optarg);
                        break;
                case 't':
                        o.seconds = atof(optarg);
                        break;
                case 'n':
                        o.count = atol(optarg);
                        break;
                case 'l':
                        o.label = optarg;
                        break;
                case 'h':
                        s_usage(stdout);
                        return 0;
                default:
                        s_usage(stderr);
                        return 2;
                }
        }
        if (optind + 1 != argc || o.batch < 1 || o.window < 1 || o.size < 1 || o.count < 1) {
                s_usage(stderr);
                return 2;
        }
        mode = argv[optind];
        srandom(1);
        if (strcmp(mode, "lmdb") == 0)
                s_lmdb(&o);
        else if (strcmp(mode, "dealer") == 0)
                s_dealer(&o);
        else if (strcmp(mode, "pubsub") == 0)
                s_pubsub(&o);
        else {
                s_usage(stderr);
                return 2;
        }
        return 0;
}
