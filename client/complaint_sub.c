/* complaint_sub.c: the guaranteed-delivery subscriber (complaint_sub.h): set-up and teardown,
 * the SUB socket, delivery to the caller and acknowledgements. A subscription owns the SUB
 * socket and its ZeroMQ context, the API client used for status, replay and acknowledgements,
 * the streams it reads, the bounded queue of events ready for the caller, the positions, the
 * state file that keeps them, and a copy of the CURVE keys for the SUB socket (the secret wiped
 * when it goes). Positions and the state file are in complaint_sub_state.c, the streams and
 * replay in complaint_sub_replay.c. */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zmq.h>

#include "complaint_sub.h"
#include "complaint_sub_int.h"

#define PREFIX_MAX 200      /* bytes of a topic prefix, the daemon's limit */
#define DRAIN_MAX 4096      /* live messages taken per round, so a flood cannot starve us */
#define BACKOFF_MIN_MS 100  /* first wait after an API request failed */
#define BACKOFF_MAX_MS 2000 /* longest wait between tries */
#define ACK_RETRIES 2

static int64_t
s_mono_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------- set-up */

int
complaint_sub_new(const char *api_endpoint, complaint_sub_t **ret)
{
        complaint_sub_t *sub;
        int r;

        assert(api_endpoint);
        assert(ret);
        sub = calloc(1, sizeof(*sub));
        if (sub == NULL)
                return -ENOMEM;
        sub->rcvhwm = -1;
        sub->call_timeout_ms = COMPLAINT_SUB_CALL_TIMEOUT_DEFAULT;
        sub->queue_max = COMPLAINT_SUB_QUEUE_DEFAULT;
        sub->api = strdup(api_endpoint);
        if (sub->api == NULL) {
                complaint_sub_free(&sub);
                return -ENOMEM;
        }
        r = complaint_client_new(api_endpoint, &sub->client);
        if (r < 0) {
                complaint_sub_free(&sub);
                return r;
        }
        *ret = sub;
        return 0;
}

void
complaint_sub_free(complaint_sub_t **psub)
{
        complaint_sub_t *sub;

        if (psub == NULL || *psub == NULL)
                return;
        sub = *psub;
        if (sub->sock)
                zmq_close(sub->sock);
        if (sub->ctx) {
                while (zmq_ctx_term(sub->ctx) < 0 && errno == EINTR)
                        ;
        }
        complaint_client_free(&sub->client);
        for (size_t i = 0; i < sub->qlen; i++)
                complaint__v1__event__free_unpacked(
                    sub->queue[(sub->qhead + i) % sub->queue_max].ev, NULL);
        free(sub->queue);
        for (size_t i = 0; i < sub->n_streams; i++)
                free(sub->streams[i].name);
        free(sub->streams);
        for (size_t i = 0; i < sub->n_prefix; i++)
                free(sub->prefix[i]);
        for (size_t i = 0; i < sub->n_pos; i++)
                free(sub->pos[i].stream);
        free(sub->pos);
        free(sub->state_file);
        free(sub->actor);
        free(sub->api);
        explicit_bzero(sub->client_secret, sizeof(sub->client_secret));
        free(sub);
        *psub = NULL;
}

int
complaint_sub_set_curve(complaint_sub_t *sub, const char *client_public, const char *client_secret,
                        const char *server_public)
{
        int r;

        assert(sub);
        if (sub->started)
                return -EBUSY;
        /* The API client checks the keys; past that, its errors are about its socket only. */
        r = complaint_client_set_curve(sub->client, client_public, client_secret, server_public);
        if (r == -EINVAL || r == -ENOTSUP)
                return r;
        sub->curve = client_public != NULL;
        if (sub->curve) {
                memcpy(sub->client_public, client_public, COMPLAINT_KEY_SIZE);
                memcpy(sub->client_secret, client_secret, COMPLAINT_KEY_SIZE);
                memcpy(sub->server_public, server_public, COMPLAINT_KEY_SIZE);
        } else {
                explicit_bzero(sub->client_secret, sizeof(sub->client_secret));
        }
        return r;
}

int
complaint_sub_add(complaint_sub_t *sub, const char *topic_prefix)
{
        assert(sub && topic_prefix);
        if (sub->started)
                return -EBUSY;
        if (topic_prefix[0] == '_' || strlen(topic_prefix) > PREFIX_MAX)
                return -EINVAL;
        for (size_t i = 0; i < sub->n_prefix; i++)
                if (strcmp(sub->prefix[i], topic_prefix) == 0)
                        return 0;
        if (sub->n_prefix == COMPLAINT_SUB_PREFIXES_MAX)
                return -E2BIG;
        sub->prefix[sub->n_prefix] = strdup(topic_prefix);
        if (sub->prefix[sub->n_prefix] == NULL)
                return -ENOMEM;
        sub->n_prefix++;
        return 0;
}

int
complaint_sub_set_rcvhwm(complaint_sub_t *sub, int hwm)
{
        assert(sub);
        if (sub->started)
                return -EBUSY;
        if (hwm < 0)
                return -EINVAL;
        sub->rcvhwm = hwm;
        return 0;
}

int
complaint_sub_set_queue_max(complaint_sub_t *sub, size_t max)
{
        assert(sub);
        if (sub->started)
                return -EBUSY;
        if (max < 1 || max > SIZE_MAX / sizeof(struct item))
                return -EINVAL;
        sub->queue_max = max;
        return 0;
}

void
complaint_sub_set_call_timeout(complaint_sub_t *sub, int timeout_ms)
{
        assert(sub && timeout_ms > 0);
        sub->call_timeout_ms = timeout_ms;
}

int
complaint_sub_set_actor(complaint_sub_t *sub, const char *actor)
{
        char *copy;

        assert(sub && actor);
        if (actor[0] == '\0')
                return -EINVAL;
        copy = strdup(actor);
        if (copy == NULL)
                return -ENOMEM;
        free(sub->actor);
        sub->actor = copy;
        return 0;
}

void
complaint_sub_set_gap_handler(complaint_sub_t *sub, complaint_sub_gap_fn *fn, void *arg)
{
        assert(sub);
        sub->gap_fn = fn;
        sub->gap_arg = arg;
}

void
complaint_sub_get_stats(const complaint_sub_t *sub, complaint_sub_stats_t *ret)
{
        assert(sub && ret);
        *ret = sub->stats;
}

char *
complaint_events_endpoint(const char *api, const char *events)
{
        const char *rest = NULL;
        char *out = NULL;

        if (strncmp(events, "tcp://*:", 8) == 0)
                rest = events + 8;
        else if (strncmp(events, "tcp://0.0.0.0:", 14) == 0)
                rest = events + 14;
        if (rest == NULL)
                return strdup(events);
        if (strncmp(api, "tcp://", 6) == 0 && strrchr(api + 6, ':')) {
                const char *host = api + 6;
                int hlen = (int)(strrchr(host, ':') - host);

                if (asprintf(&out, "tcp://%.*s:%s", hlen, host, rest) < 0)
                        return NULL;
                return out;
        }
        if (asprintf(&out, "tcp://127.0.0.1:%s", rest) < 0)
                return NULL;
        return out;
}

/* ------------------------------------------------------------------- starting */

static int
s_socket_open(complaint_sub_t *sub, const char *endpoint)
{
        int linger = 0, ipv6 = 1;
        void *sock;

        if (sub->ctx == NULL && (sub->ctx = zmq_ctx_new()) == NULL)
                return -errno;
        sock = zmq_socket(sub->ctx, ZMQ_SUB);
        if (sock == NULL)
                return -errno;
        if (zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof(linger)) < 0 ||
            zmq_setsockopt(sock, ZMQ_IPV6, &ipv6, sizeof(ipv6)) < 0 ||
            (sub->rcvhwm >= 0 &&
             zmq_setsockopt(sock, ZMQ_RCVHWM, &sub->rcvhwm, sizeof(sub->rcvhwm)) < 0) ||
            (sub->curve && (zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, sub->server_public,
                                           COMPLAINT_KEY_SIZE) < 0 ||
                            zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, sub->client_public,
                                           COMPLAINT_KEY_SIZE) < 0 ||
                            zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, sub->client_secret,
                                           COMPLAINT_KEY_SIZE) < 0)) ||
            zmq_setsockopt(sock, ZMQ_SUBSCRIBE, COMPLAINT_HEARTBEAT_TOPIC,
                           strlen(COMPLAINT_HEARTBEAT_TOPIC)) < 0)
                goto fail;
        for (size_t i = 0; i < sub->n_streams; i++)
                for (size_t k = 0; k < sub->streams[i].n_prefix; k++)
                        if (zmq_setsockopt(sock, ZMQ_SUBSCRIBE, sub->streams[i].prefix[k],
                                           strlen(sub->streams[i].prefix[k])) < 0)
                                goto fail;
        if (zmq_connect(sock, endpoint) < 0)
                goto fail;
        sub->sock = sock;
        return 0;
fail : {
        int r = -errno;

        zmq_close(sock);
        return r;
}
}

/* Asks the daemon where its events are and how far each stream goes, and subscribes. Streams
 * then replay from their positions; anything published before the subscription took hold is
 * found by that replay or by the next heartbeat. */
static int
s_start(complaint_sub_t *sub)
{
        pb_reply_t *reply = NULL;
        char *endpoint;
        int r;

        if (sub->streams == NULL) {
                r = sub_streams_build(sub);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < sub->n_streams; i++) {
                        struct stream *st = &sub->streams[i];
                        struct position *p = sub_pos_find(sub, st->name);

                        st->need_replay = true;
                        if (p && p->offset == COMPLAINT_SUB_END)
                                sub->resolve_end = true;
                        else if (p)
                                st->examined = p->offset;
                }
        }
        if (sub->queue == NULL) {
                sub->queue = calloc(sub->queue_max, sizeof(*sub->queue));
                if (sub->queue == NULL)
                        return -ENOMEM;
        }
        r = sub_status(sub, &reply);
        if (r < 0)
                return r;
        sub_resolve_ends(sub, reply->status);
        endpoint = complaint_events_endpoint(sub->api, reply->status->events_endpoint);
        complaint__v1__reply__free_unpacked(reply, NULL);
        if (endpoint == NULL)
                return -ENOMEM;
        r = s_socket_open(sub, endpoint);
        free(endpoint);
        if (r < 0)
                return r;
        sub->started = true;
        /* A head resolved to COMPLAINT_SUB_END must survive a crash before the first event. */
        (void)sub_state_save(sub);
        return 0;
}

/* ------------------------------------------------------------------- the SUB socket */

static void
s_on_heartbeat(complaint_sub_t *sub, const pb_event_t *ev)
{
        for (size_t i = 0; i < sub->n_streams; i++) {
                struct stream *st = &sub->streams[i];
                uint64_t head = st->name[0] == '\0' ? ev->seq : 0;

                for (size_t k = 0; k < ev->n_heads; k++)
                        if (strcmp(ev->heads[k]->stream, st->name) == 0 &&
                            ev->heads[k]->offset > head)
                                head = ev->heads[k]->offset;
                if (head > st->examined)
                        st->need_replay = true;
        }
}

static void
s_on_event(complaint_sub_t *sub, pb_event_t *ev)
{
        uint64_t pos;
        struct stream *st = sub_event_place(sub, ev, &pos);

        if (st == NULL) {
                complaint__v1__event__free_unpacked(ev, NULL);
                return;
        }
        if (pos <= st->examined) {
                sub->stats.duplicates++;
                complaint__v1__event__free_unpacked(ev, NULL);
        } else if (pos == st->examined + 1 && sub->qlen < sub->queue_max) {
                sub_push(sub, ev, st, pos, 0);
                st->examined = pos;
                sub->stats.live++;
        } else {
                /* Queue full, or something was missed or filtered out before it: replay
                 * fetches it in its place. */
                if (pos == st->examined + 1)
                        sub->stats.dropped++;
                else
                        sub->stats.ahead++;
                st->need_replay = true;
                complaint__v1__event__free_unpacked(ev, NULL);
        }
}

/* Takes the messages waiting on the SUB socket, without blocking. */
static int
s_drain(complaint_sub_t *sub)
{
        for (int n = 0; n < DRAIN_MAX; n++) {
                zmq_msg_t frame[2];
                size_t nframes = 0;
                bool more = true, bad = false;
                pb_event_t *ev;

                while (more) {
                        zmq_msg_t scratch, *m = nframes < 2 ? &frame[nframes] : &scratch;

                        zmq_msg_init(m);
                        if (zmq_msg_recv(m, sub->sock, ZMQ_DONTWAIT) < 0) {
                                int e = errno;

                                zmq_msg_close(m);
                                for (size_t i = 0; i < nframes; i++)
                                        zmq_msg_close(&frame[i]);
                                return e == EAGAIN ? 0 : -e;
                        }
                        more = zmq_msg_more(m);
                        if (m == &scratch) {
                                zmq_msg_close(m);
                                bad = true;
                        } else {
                                nframes++;
                        }
                }
                ev = bad || nframes != 2
                         ? NULL
                         : complaint__v1__event__unpack(NULL, zmq_msg_size(&frame[1]),
                                                        zmq_msg_data(&frame[1]));
                for (size_t i = 0; i < nframes; i++)
                        zmq_msg_close(&frame[i]);
                if (ev == NULL)
                        continue; /* not [topic][Event]: nothing a replay would not fetch */
                if (ev->heartbeat) {
                        sub->stats.heartbeats++;
                        s_on_heartbeat(sub, ev);
                        complaint__v1__event__free_unpacked(ev, NULL);
                } else {
                        s_on_event(sub, ev);
                }
        }
        return 0;
}

/* ------------------------------------------------------------------- delivery */

static void
s_backoff(complaint_sub_t *sub)
{
        sub->backoff_ms = sub->backoff_ms ? sub->backoff_ms * 2 : BACKOFF_MIN_MS;
        if (sub->backoff_ms > BACKOFF_MAX_MS)
                sub->backoff_ms = BACKOFF_MAX_MS;
        sub->retry_at = s_mono_ms() + sub->backoff_ms;
}

/* Whether a failed API request is worth trying again later. A refused key, a key that does not
 * match, a handshake of the wrong kind (-EACCES, -EKEYREJECTED, -ENOKEY, -ENOPROTOOPT) and a
 * forbidden request (-EPERM) are not: they go to the caller. -ECONNREFUSED is also the daemon
 * failing to check our key for now. */
static bool
s_transient(int r)
{
        return r == -ETIMEDOUT || r == -EPROTO || r == -EAGAIN || r == -ECONNREFUSED ||
               r == -EHOSTUNREACH || r == -ENOTCONN;
}

/* One round of API work that is due: starting, resolving heads, replaying. */
static int
s_work(complaint_sub_t *sub)
{
        int r = 0;

        if (s_mono_ms() < sub->retry_at)
                return 0;
        if (!sub->started) {
                r = s_start(sub);
        } else if (sub->resolve_end) {
                pb_reply_t *reply = NULL;

                r = sub_status(sub, &reply);
                if (r == 0) {
                        sub_resolve_ends(sub, reply->status);
                        complaint__v1__reply__free_unpacked(reply, NULL);
                }
        }
        for (size_t i = 0; r == 0 && sub->started && i < sub->n_streams; i++)
                r = sub_replay(sub, &sub->streams[i]);
        if (r == 0) {
                sub->backoff_ms = 0;
                return 0;
        }
        if (!s_transient(r))
                return r;
        s_backoff(sub);
        return 0;
}

static bool
s_replay_due(const complaint_sub_t *sub)
{
        if (!sub->started || sub->resolve_end)
                return true;
        for (size_t i = 0; i < sub->n_streams; i++)
                if (sub->streams[i].need_replay)
                        return true;
        return false;
}

static int
s_pop(complaint_sub_t *sub, pb_event_t **ret_event)
{
        struct item it = sub->queue[sub->qhead];

        sub->qhead = (sub->qhead + 1) % sub->queue_max;
        sub->qlen--;
        sub->flight_st = it.st;
        sub->flight_pos = it.pos;
        if (it.ev == NULL) {
                sub->stats.gaps++;
                if (sub->gap_fn)
                        sub->gap_fn(sub->gap_arg, it.st->name, it.gap_after, it.pos);
                return -ESTALE;
        }
        sub->stats.delivered++;
        *ret_event = it.ev;
        return 0;
}

int
complaint_sub_next(complaint_sub_t *sub, int timeout_ms, pb_event_t **ret_event)
{
        int64_t deadline = s_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
        int r;

        assert(sub && ret_event);
        r = complaint_sub_commit(sub);
        if (r < 0)
                return r;
        for (;;) {
                zmq_pollitem_t item = {.socket = sub->sock, .events = ZMQ_POLLIN};
                int64_t now, wait;

                if (sub->pending_error) {
                        r = sub->pending_error;
                        sub->pending_error = 0;
                        return r;
                }
                if (sub->started && (r = s_drain(sub)) < 0)
                        return r;
                if ((r = s_work(sub)) < 0)
                        return r;
                /* Live events that came during the API work are taken before delivering, so
                 * that the SUB socket empties as fast as the queue allows. */
                if (sub->started && (r = s_drain(sub)) < 0)
                        return r;
                if (sub->pending_error)
                        continue;
                if (sub->qlen > 0)
                        return s_pop(sub, ret_event);
                now = s_mono_ms();
                if (timeout_ms >= 0 && now >= deadline)
                        return -ETIMEDOUT;
                wait = timeout_ms < 0 ? -1 : deadline - now;
                if (s_replay_due(sub)) {
                        int64_t until = sub->retry_at > now ? sub->retry_at - now : 0;

                        if (wait < 0 || until < wait)
                                wait = until;
                }
                if (zmq_poll(&item, sub->sock ? 1 : 0, (long)wait) < 0)
                        return errno == EINTR ? -EINTR : -errno;
        }
}

/* ------------------------------------------------------------------- acknowledgement */

int
complaint_sub_ack(complaint_sub_t *sub, const pb_event_t *event, const char *note)
{
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        Complaint__V1__AcceptRequest q = COMPLAINT__V1__ACCEPT_REQUEST__INIT;
        const pb_history_t *h;
        pb_reply_t *reply = NULL;
        char id[32];
        int r;

        assert(sub && event);
        h = event->entry;
        if (sub->actor == NULL || h == NULL || h->to_status != ST_ASSIGNED ||
            (h->action != COMPLAINT__V1__ACTION__ACTION_ASSIGN &&
             h->action != COMPLAINT__V1__ACTION__ACTION_REASSIGN &&
             h->action != COMPLAINT__V1__ACTION__ACTION_REOPEN) ||
            strcmp(event->stream, h->department) != 0 || event->seq == 0)
                return -EINVAL;
        snprintf(id, sizeof(id), "ack-%" PRIu64, event->seq);
        q.id = h->complaint_id;
        q.note = (char *)(uintptr_t)(note ? note : "");
        req.request_id = id;
        req.actor = sub->actor;
        req.body_case = COMPLAINT__V1__REQUEST__BODY_ACCEPT;
        req.accept = &q;
        r = complaint_client_call(sub->client, &req, sub->call_timeout_ms, ACK_RETRIES, &reply);
        if (r < 0)
                return r;
        switch (reply->error) {
        case E_OK:
                r = 0;
                break;
        case E_INVALID_TRANSITION:
                r = -EALREADY;
                break;
        case E_NOT_FOUND:
                r = -ENOENT;
                break;
        case COMPLAINT__V1__ERROR_CODE__ERROR_CODE_FORBIDDEN:
                r = -EPERM;
                break;
        default:
                r = -EPROTO;
                break;
        }
        complaint__v1__reply__free_unpacked(reply, NULL);
        return r;
}
