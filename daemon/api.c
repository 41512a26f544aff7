/* api.c: the ROUTER socket behind api.h: framing, size limits, batching and replies. */
#include <errno.h>
#include <string.h>
#include <zmq.h>

#include "api.h"
#include "auth.h"
#include "backup.h"
#include "log.h"
#include "macro.h"

#define FRAMES_MAX 4
/* Replies held back for clients whose queues are full (they read slower than they ask): at
 * most this many bytes in all, each for at most HELD_MS; past either, a reply is dropped (the
 * client times out and asks again with the same id) and the drop is logged once a minute. */
#define HELD_BYTES_MAX (64u << 20)
#define HELD_MS 10000
#define HELD_LOG_MS 60000

/* A reply that ZeroMQ could not take yet: its client's queue (daemon.reply_queue) was full. */
struct held {
        zmq_msg_t identity;
        uint8_t *data;
        size_t len;
        int64_t since; /* monotonic ms */
};

/* One message read from the socket. */
struct inbound {
        zmq_msg_t frames[FRAMES_MAX];
        int n;         /* frames kept */
        bool overflow; /* more frames than FRAMES_MAX */
};

struct api {
        void *sock;
        const conf_t *cfg;
        struct inbound *in;
        struct service_request *reqs;
        size_t *req_of; /* in[i] -> its index in reqs, or SIZE_MAX */
        uint32_t cap;
        uint32_t n_pending; /* in[0..n_pending): reads the last batch deferred, handed in again */
        struct held *held;  /* replies waiting for their clients' queues, in order */
        size_t n_held, cap_held, held_bytes;
        uint64_t dropped; /* replies given up since the last log line */
        int64_t next_drop_log;
        struct service_outbox out;
        /* The running backup, and who waits for it. */
        backup_t *backup;
        zmq_msg_t backup_identity;
        char *backup_request_id;
        uint64_t backup_seq;
};

static int
s_reserve(api_t *a)
{
        uint32_t n = a->cfg->batch_max;

        if (n <= a->cap)
                return 0;
        free(a->in);
        free(a->reqs);
        free(a->req_of);
        a->in = calloc(n, sizeof(*a->in));
        a->reqs = calloc(n, sizeof(*a->reqs));
        a->req_of = calloc(n, sizeof(*a->req_of));
        a->cap = a->in && a->reqs && a->req_of ? n : 0;
        return a->cap ? 0 : -ENOMEM;
}

int
api_open(void *zctx, const char *endpoint, const conf_t *cfg, api_t **ret, const char **ret_why)
{
        api_t *a = calloc(1, sizeof(*a));
        int linger = 0, mandatory = 1, r;
        int64_t maxmsg;

        if (a == NULL)
                return -ENOMEM;
        a->cfg = cfg;
        a->sock = zmq_socket(zctx, ZMQ_ROUTER);
        if (a->sock == NULL)
                goto fail;
        /* Messages far over the limit are cut off by ZeroMQ itself (the peer is disconnected);
         * those merely over it get a TOO_LARGE reply. */
        maxmsg = (int64_t)cfg->limits.message * 16 + (1 << 20);
        zmq_setsockopt(a->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg));
        zmq_setsockopt(a->sock, ZMQ_LINGER, &linger, sizeof(linger));
        zmq_setsockopt(a->sock, ZMQ_ROUTER_MANDATORY, &mandatory, sizeof(mandatory));
        /* A client that sends and never reads holds at most this many replies (each bounded
         * by limits.reply and the record sizes); past it ROUTER drops its replies, and it
         * times out and asks again. Never buffered without bound. */
        zmq_setsockopt(a->sock, ZMQ_SNDHWM, &(int){(int)cfg->reply_queue}, sizeof(int));
        if (cfg->access && auth_curve_server(a->sock, cfg->access) < 0)
                goto fail;
        if (zmq_bind(a->sock, endpoint) < 0)
                goto fail;
        if (s_reserve(a) < 0) {
                errno = ENOMEM;
                goto fail;
        }
        *ret = a;
        return 0;
fail:
        r = -(zmq_errno() ? zmq_errno() : errno);
        *ret_why = zmq_strerror(-r);
        if (a->sock)
                zmq_close(a->sock);
        free(a->in);
        free(a->reqs);
        free(a->req_of);
        free(a);
        return r;
}

void
api_close(api_t **ap)
{
        api_t *a = *ap;

        if (a == NULL)
                return;
        if (a->backup) {
                uint64_t bytes;
                int64_t took;

                backup_finish(&a->backup, &bytes, &took);
                zmq_msg_close(&a->backup_identity);
                free(a->backup_request_id);
        }
        for (size_t i = 0; i < a->n_held; i++) {
                free(a->held[i].data);
                zmq_msg_close(&a->held[i].identity);
        }
        free(a->held);
        zmq_close(a->sock);
        service_outbox_clear(&a->out);
        free(a->out.items);
        free(a->in);
        free(a->reqs);
        free(a->req_of);
        free(a);
        *ap = NULL;
}

void *
api_socket(api_t *a)
{
        return a->sock;
}

void
api_set_config(api_t *a, const conf_t *cfg)
{
        a->cfg = cfg;
        /* The batch arrays hold the deferred reads: they grow once those are answered. */
        if (a->n_pending == 0 && s_reserve(a) < 0)
                log_error("api: out of memory growing the batch; batches stay at %u", a->cap);
}

/* Reads one whole message without blocking; false when none is waiting. */
static bool
s_recv(api_t *a, struct inbound *m)
{
        int more = 1;
        size_t len = sizeof(more);

        m->n = 0;
        m->overflow = false;
        while (more) {
                zmq_msg_t scratch, *f = m->n < FRAMES_MAX ? &m->frames[m->n] : &scratch;

                zmq_msg_init(f);
                if (zmq_msg_recv(f, a->sock, m->n == 0 ? ZMQ_DONTWAIT : 0) < 0) {
                        zmq_msg_close(f);
                        return m->n > 0;
                }
                if (f == &scratch) {
                        m->overflow = true;
                        zmq_msg_close(f);
                } else {
                        m->n++;
                }
                zmq_getsockopt(a->sock, ZMQ_RCVMORE, &more, &len);
        }
        return true;
}

static bool
s_same_peer(zmq_msg_t *a, zmq_msg_t *b)
{
        return zmq_msg_size(a) == zmq_msg_size(b) &&
               memcmp(zmq_msg_data(a), zmq_msg_data(b), zmq_msg_size(a)) == 0;
}

/* Hands one reply to ZeroMQ. ROUTER_MANDATORY makes a full queue EAGAIN (and nothing of the
 * message is sent) instead of a silent drop; a client that is gone is EHOSTUNREACH. */
static int
s_try_send(api_t *a, zmq_msg_t *identity, const uint8_t *data, size_t len)
{
        if (zmq_send(a->sock, zmq_msg_data(identity), zmq_msg_size(identity),
                     ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
                return -zmq_errno();
        if (zmq_send(a->sock, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
            zmq_send(a->sock, data, len, ZMQ_DONTWAIT) < 0)
                return -zmq_errno();
        return 0;
}

static void
s_dropped(api_t *a)
{
        a->dropped++;
        if (mono_ms() < a->next_drop_log)
                return;
        log_struct(LOG_WARNING, 0, NULL, "replies-dropped",
                   "api: %" PRIu64 " replies dropped for clients that do not read them "
                   "(daemon.reply_queue full for %d s, or %u MiB held in all)",
                   a->dropped, HELD_MS / 1000, HELD_BYTES_MAX >> 20);
        a->dropped = 0;
        a->next_drop_log = mono_ms() + HELD_LOG_MS;
}

/* What holding a reply of len bytes costs: the reply and its bookkeeping. */
static size_t
s_held_cost(size_t len)
{
        return len + sizeof(struct held) + 64;
}

static void
s_drop_oldest(api_t *a)
{
        a->held_bytes -= s_held_cost(a->held[0].len);
        free(a->held[0].data);
        zmq_msg_close(&a->held[0].identity);
        memmove(&a->held[0], &a->held[1], (a->n_held - 1) * sizeof(a->held[0]));
        a->n_held--;
        s_dropped(a);
}

static void
s_send_reply(api_t *a, zmq_msg_t *identity, const uint8_t *data, size_t len)
{
        struct held *h;
        int r = -EAGAIN;

        /* Behind what is held for the same client already: replies keep their order. */
        for (size_t i = 0; i < a->n_held && r == -EAGAIN; i++)
                if (s_same_peer(&a->held[i].identity, identity))
                        r = -EBUSY;
        if (r == -EAGAIN)
                r = s_try_send(a, identity, data, len);
        if (r == 0 || r == -EHOSTUNREACH)
                return;
        if (r != -EAGAIN && r != -EBUSY) {
                log_debug("api: a reply could not be sent: %s", zmq_strerror(-r));
                return;
        }
        /* Over the budget, the oldest held replies go first: they belong to the clients that
         * have read nothing for longest, not to one that reads and asked for much at once. */
        while (a->n_held > 0 && a->held_bytes + s_held_cost(len) > HELD_BYTES_MAX)
                s_drop_oldest(a);
        if (a->held_bytes + s_held_cost(len) > HELD_BYTES_MAX) {
                s_dropped(a);
                return;
        }
        if (a->n_held == a->cap_held) {
                size_t cap = a->cap_held ? a->cap_held * 2 : 64;
                struct held *p = realloc(a->held, cap * sizeof(*p));

                if (p == NULL) {
                        s_dropped(a);
                        return;
                }
                a->held = p;
                a->cap_held = cap;
        }
        h = &a->held[a->n_held];
        h->data = malloc(len ? len : 1);
        if (h->data == NULL) {
                s_dropped(a);
                return;
        }
        memcpy(h->data, data, len);
        h->len = len;
        h->since = mono_ms();
        zmq_msg_init(&h->identity);
        zmq_msg_copy(&h->identity, identity);
        a->n_held++;
        a->held_bytes += s_held_cost(len);
}

void
api_flush(api_t *a)
{
        int64_t now = mono_ms();
        size_t kept = 0;

        for (size_t i = 0; i < a->n_held; i++) {
                struct held *h = &a->held[i];
                bool behind = false;
                int r = -EAGAIN;

                for (size_t j = 0; j < kept && !behind; j++)
                        behind = s_same_peer(&a->held[j].identity, &h->identity);
                if (!behind)
                        r = s_try_send(a, &h->identity, h->data, h->len);
                if (r == -EAGAIN && now - h->since >= HELD_MS) {
                        s_dropped(a);
                        r = -ETIMEDOUT;
                }
                if (r == -EAGAIN) {
                        if (kept != i)
                                a->held[kept] = *h;
                        kept++;
                        continue;
                }
                a->held_bytes -= s_held_cost(h->len);
                free(h->data);
                zmq_msg_close(&h->identity);
        }
        a->n_held = kept;
}

bool
api_holding(const api_t *a)
{
        return a->n_held > 0;
}

static void
s_send_error(api_t *a, zmq_msg_t *identity, int code, const char *message, zmq_msg_t *body)
{
        size_t len;
        _cleanup_free_ uint8_t *buf = service_error_reply(
            code, message, body ? zmq_msg_data(body) : NULL, body ? zmq_msg_size(body) : 0, &len);

        if (buf)
                s_send_reply(a, identity, buf, len);
}

/* Starts the backup asked for by rq, or refuses it when one is running. */
static void
s_start_backup(api_t *a, zmq_msg_t *identity, struct service_request *rq, service_t *service,
               store_t *store)
{
        int r = a->backup ? -EBUSY : backup_start(store, rq->backup_path, &a->backup);

        if (r < 0) {
                size_t len;
                _cleanup_free_ uint8_t *buf =
                    service_backup_reply(rq->request_id, r, rq->backup_path, 0, 0, 0, &len);
                if (buf)
                        s_send_reply(a, identity, buf, len);
                return;
        }
        zmq_msg_init(&a->backup_identity);
        zmq_msg_copy(&a->backup_identity, identity);
        a->backup_request_id = rq->request_id;
        rq->request_id = NULL;
        a->backup_seq = service_last_event_seq(service);
}

int
api_backup_fd(const api_t *a)
{
        return a->backup ? backup_fd(a->backup) : -1;
}

void
api_backup_done(api_t *a)
{
        uint64_t bytes = 0;
        int64_t took = 0;
        size_t len;
        _cleanup_free_ char *path = NULL;
        _cleanup_free_ uint8_t *buf = NULL;
        int r;

        if (a->backup == NULL)
                return;
        path = strdup(backup_path(a->backup));
        r = backup_finish(&a->backup, &bytes, &took);
        if (r < 0)
                log_error("backup to %s failed: %s", path ? path : "?", strerror(-r));
        else
                log_notice("backup to %s done: %" PRIu64 " bytes in %" PRId64 " ms",
                           path ? path : "?", bytes, took);
        buf = service_backup_reply(a->backup_request_id, r, path ? path : "", bytes, took,
                                   a->backup_seq, &len);
        if (buf)
                s_send_reply(a, &a->backup_identity, buf, len);
        zmq_msg_close(&a->backup_identity);
        free(a->backup_request_id);
        a->backup_request_id = NULL;
}

/* Moves message from into slot to, at or before it in the batch; to's frames are closed. */
static void
s_keep(struct inbound *to, struct inbound *from)
{
        if (to == from)
                return;
        for (int f = 0; f < from->n; f++) {
                zmq_msg_init(&to->frames[f]);
                zmq_msg_move(&to->frames[f], &from->frames[f]);
                zmq_msg_close(&from->frames[f]);
        }
        to->n = from->n;
        to->overflow = from->overflow;
        from->n = 0;
}

int
api_serve(api_t *a, service_t *service, events_t *events, store_t *store)
{
        uint32_t n = a->n_pending, kept = 0;
        size_t n_reqs = 0;
        char why[160];

        while (n < a->cap && s_recv(a, &a->in[n]))
                n++;
        for (uint32_t i = 0; i < n; i++) {
                struct inbound *m = &a->in[i];
                size_t body;

                a->req_of[i] = SIZE_MAX;
                /* [identity][empty][body] and nothing else. */
                if (m->n != 3 || m->overflow || zmq_msg_size(&m->frames[1]) != 0) {
                        snprintf(why, sizeof(why),
                                 "bad framing: expected 2 frames ([empty][Request]), got %d%s",
                                 m->n - 1 + (m->overflow ? 1 : 0), m->overflow ? " or more" : "");
                        if (m->n >= 1)
                                s_send_error(a, &m->frames[0], E_BAD_REQUEST, why, NULL);
                } else if ((body = zmq_msg_size(&m->frames[2])) > a->cfg->limits.message) {
                        snprintf(why, sizeof(why), "the request is %zu bytes, over the limit of %u",
                                 body, a->cfg->limits.message);
                        s_send_error(a, &m->frames[0], E_TOO_LARGE, why, &m->frames[2]);
                } else {
                        /* With CURVE, the key the handshake accepted (auth.c); NULL without. */
                        a->reqs[n_reqs] = (struct service_request){
                            .data = zmq_msg_data(&m->frames[2]),
                            .len = body,
                            .principal_key =
                                a->cfg->access ? zmq_msg_gets(&m->frames[2], "User-Id") : NULL};
                        a->req_of[i] = n_reqs++;
                }
        }
        if (n_reqs > 0)
                service_handle_batch(service, a->reqs, n_reqs, &a->out);
        /* Replies only now: everything they acknowledge is committed. Deferred reads keep
         * their message, moved to the front, for the next call. */
        for (uint32_t i = 0; i < n; i++) {
                struct inbound *m = &a->in[i];

                if (a->req_of[i] != SIZE_MAX && a->reqs[a->req_of[i]].deferred) {
                        s_keep(&a->in[kept++], m);
                        continue;
                }
                if (a->req_of[i] != SIZE_MAX) {
                        struct service_request *rq = &a->reqs[a->req_of[i]];

                        if (rq->backup_path)
                                s_start_backup(a, &m->frames[0], rq, service, store);
                        else if (rq->reply)
                                s_send_reply(a, &m->frames[0], rq->reply, rq->reply_len);
                        else
                                s_send_error(a, &m->frames[0], E_INTERNAL, "out of memory", NULL);
                        free(rq->reply);
                        free(rq->backup_path);
                        free(rq->request_id);
                        rq->reply = NULL;
                        rq->backup_path = rq->request_id = NULL;
                }
                for (int f = 0; f < m->n; f++)
                        zmq_msg_close(&m->frames[f]);
        }
        a->n_pending = kept;
        for (size_t i = 0; i < a->out.n; i++)
                events_publish(events, &a->out.items[i]);
        service_outbox_clear(&a->out);
        return (int)n;
}

bool
api_pending(const api_t *a)
{
        return a->n_pending > 0;
}
