/* complaint_client.c: the request path of the client library. It owns the ZeroMQ context and
 * the DEALER socket of one client, its CURVE keys (the secret wiped when it goes), the watch over
 * the socket's handshakes (handshake.h) while the call that opened it waits, and the framing
 * [empty][Request] -> [empty][Reply]. */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <zmq.h>

#include "complaint_client.h"
#include "handshake.h"

struct complaint_client {
        void *ctx;
        void *sock;               /* NULL between a failed try and the next one */
        handshake_watch_t *watch; /* sock's handshakes, from its opening to the first answer */
        char *endpoint;
        bool curve; /* the keys below are set */
        char client_public[COMPLAINT_KEY_SIZE];
        char client_secret[COMPLAINT_KEY_SIZE];
        char server_public[COMPLAINT_KEY_SIZE];
};

static int64_t
s_mono_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Stops watching the socket's handshakes: once it answered, or before it is closed. */
static void
s_unwatch(complaint_client_t *c)
{
        handshake_watch_free(&c->watch);
}

static void
s_close(complaint_client_t *c)
{
        s_unwatch(c);
        if (c->sock) {
                zmq_close(c->sock);
                c->sock = NULL;
        }
}

/* A DEALER socket with the client's options and keys, not connected. LINGER 0: closing it drops
 * an unsent request at once instead of holding the context open, and replies to a closed socket
 * are discarded by the daemon's ROUTER, so nothing from an earlier try can reach a later one. */
static int
s_socket(complaint_client_t *c, void **ret_sock)
{
        int linger = 0, ipv6 = 1;
        void *sock;

        sock = zmq_socket(c->ctx, ZMQ_DEALER);
        if (sock == NULL)
                return -errno;
        if (zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof(linger)) < 0 ||
            zmq_setsockopt(sock, ZMQ_IPV6, &ipv6, sizeof(ipv6)) < 0 ||
            (c->curve &&
             (zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, c->server_public, COMPLAINT_KEY_SIZE) < 0 ||
              zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, c->client_public, COMPLAINT_KEY_SIZE) < 0 ||
              zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, c->client_secret, COMPLAINT_KEY_SIZE) <
                  0))) {
                int r = -errno;

                zmq_close(sock);
                return r;
        }
        *ret_sock = sock;
        return 0;
}

/* Opens a fresh socket for a call and connects it, its handshakes watched from the start: some
 * failures are final (after a mechanism mismatch ZeroMQ does not reconnect), and a watch
 * started later would wait for an event that never comes. Only a call opens a socket, and the
 * watch ends with the call that opened it (handshake.h says why). Watching is a diagnosis: when
 * it cannot start, the call goes on without it. */
static int
s_open(complaint_client_t *c)
{
        int r;

        assert(c->sock == NULL && c->watch == NULL);
        r = s_socket(c, &c->sock);
        if (r < 0)
                return r;
        c->watch = handshake_watch_new(c->ctx, c->sock, c->endpoint, c->curve);
        if (zmq_connect(c->sock, c->endpoint) < 0) {
                r = -errno;
                s_close(c);
                return r;
        }
        return 0;
}

int
complaint_client_new(const char *endpoint, complaint_client_t **ret)
{
        complaint_client_t *c;
        void *probe = NULL;
        int r;

        assert(endpoint);
        assert(ret);
        c = calloc(1, sizeof(*c));
        if (c == NULL)
                return -ENOMEM;
        c->endpoint = strdup(endpoint);
        c->ctx = zmq_ctx_new();
        if (c->endpoint == NULL || c->ctx == NULL) {
                r = c->endpoint == NULL ? -ENOMEM : -errno;
                complaint_client_free(&c);
                return r;
        }
        /* A socket is connected and closed now, so a malformed endpoint is reported here and not
         * on the first call, which opens the socket it uses (watching its handshakes). */
        r = s_socket(c, &probe);
        if (r == 0 && zmq_connect(probe, c->endpoint) < 0)
                r = -errno;
        if (probe)
                zmq_close(probe);
        if (r < 0) {
                complaint_client_free(&c);
                return r;
        }
        *ret = c;
        return 0;
}

void
complaint_client_free(complaint_client_t **c)
{
        if (c == NULL || *c == NULL)
                return;
        s_close(*c);
        if ((*c)->ctx) {
                while (zmq_ctx_term((*c)->ctx) < 0 && errno == EINTR)
                        ;
        }
        free((*c)->endpoint);
        explicit_bzero((*c)->client_secret, sizeof((*c)->client_secret));
        free(*c);
        *c = NULL;
}

const char *
complaint_client_endpoint(const complaint_client_t *c)
{
        assert(c);
        return c->endpoint;
}

int
complaint_client_set_curve(complaint_client_t *c, const char *client_public,
                           const char *client_secret, const char *server_public)
{
        char derived[COMPLAINT_KEY_SIZE];

        assert(c);
        if (client_public == NULL && client_secret == NULL && server_public == NULL) {
                c->curve = false;
                explicit_bzero(c->client_secret, sizeof(c->client_secret));
        } else {
                if (!complaint_key_valid(client_public) || !complaint_key_valid(client_secret) ||
                    !complaint_key_valid(server_public))
                        return -EINVAL;
                if (!zmq_has("curve"))
                        return -ENOTSUP;
                if (zmq_curve_public(derived, client_secret) < 0 ||
                    strcmp(derived, client_public) != 0)
                        return -EINVAL;
                memcpy(c->client_public, client_public, COMPLAINT_KEY_SIZE);
                memcpy(c->client_secret, client_secret, COMPLAINT_KEY_SIZE);
                memcpy(c->server_public, server_public, COMPLAINT_KEY_SIZE);
                c->curve = true;
        }
        /* Keys apply to connections made after they are set: the next call opens a new one. */
        s_close(c);
        return 0;
}

int
complaint_request_id_generate(char ret_id[COMPLAINT_REQUEST_ID_SIZE])
{
        static const char hex[] = "0123456789abcdef";
        uint8_t bits[16];
        size_t got = 6;
        struct timespec now;
        uint64_t ms;

        assert(ret_id);
        /* 48 bits of milliseconds: enough until the year 10889. */
        clock_gettime(CLOCK_REALTIME, &now);
        ms = (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
        for (int i = 5; i >= 0; i--, ms >>= 8)
                bits[i] = (uint8_t)ms;
        while (got < sizeof(bits)) {
                ssize_t n = getrandom(bits + got, sizeof(bits) - got, 0);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                got += (size_t)n;
        }
        for (size_t i = 0; i < sizeof(bits); i++) {
                ret_id[2 * i] = hex[bits[i] >> 4];
                ret_id[2 * i + 1] = hex[bits[i] & 0xf];
        }
        ret_id[2 * sizeof(bits)] = '\0';
        return 0;
}

/* Receives one whole message, at most two frames of which are kept: the framing the daemon
 * sends is [empty][Reply]. Returns 0 with *ret_reply set, or -EPROTO for any other shape or an
 * undecodable Reply. */
static int
s_receive(complaint_client_t *c, pb_reply_t **ret_reply)
{
        zmq_msg_t frame[2], extra;
        size_t nframes = 0;
        bool more = true;
        pb_reply_t *reply;
        int r = 0;

        while (more) {
                /* Frames past the second are received into a scratch message and dropped, so the
                 * whole message leaves the socket either way. */
                zmq_msg_t *m = nframes < 2 ? &frame[nframes] : &extra;

                zmq_msg_init(m);
                /* zmq_poll said a message is ready; its frames arrive together. */
                if (zmq_msg_recv(m, c->sock, ZMQ_DONTWAIT) < 0) {
                        r = -errno;
                        zmq_msg_close(m);
                        break;
                }
                more = zmq_msg_more(m);
                if (m == &extra) {
                        zmq_msg_close(m);
                        r = -EPROTO;
                } else {
                        nframes++;
                }
        }
        if (r == 0 && (nframes != 2 || zmq_msg_size(&frame[0]) != 0))
                r = -EPROTO;
        if (r == 0) {
                reply = complaint__v1__reply__unpack(NULL, zmq_msg_size(&frame[1]),
                                                     zmq_msg_data(&frame[1]));
                if (reply == NULL)
                        r = -EPROTO;
                else
                        *ret_reply = reply;
        }
        for (size_t i = 0; i < nframes; i++)
                zmq_msg_close(&frame[i]);
        return r;
}

/* Waits up to timeout_ms for the reply to request_id, or for a handshake that failed for good.
 * A reply to another id is a leftover of a call this socket gave up on and is dropped; a
 * refusal without an id is the daemon's answer to a request it could not read at all (framing,
 * size), which on this socket can only be ours. When the time runs out after a failed handshake
 * and none that succeeded, the failure is the answer. */
static int
s_wait(complaint_client_t *c, const char *request_id, int timeout_ms, pb_reply_t **ret_reply)
{
        int64_t deadline = s_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);

        for (;;) {
                zmq_pollitem_t items[1 + HANDSHAKE_POLLITEMS_MAX] = {
                    {.socket = c->sock, .events = ZMQ_POLLIN}};
                int nitems = 1;
                long wait = -1;
                pb_reply_t *reply = NULL;
                int n, r;

                if (c->watch)
                        nitems += handshake_watch_pollitems(c->watch, items + 1);
                if (timeout_ms >= 0) {
                        int64_t left = deadline - s_mono_ms();

                        wait = left > 0 ? (long)left : 0;
                }
                n = zmq_poll(items, nitems, wait);
                if (n < 0)
                        return -errno;
                if (n == 0) {
                        r = c->watch ? handshake_watch_verdict(c->watch) : 0;
                        return r < 0 ? r : -ETIMEDOUT;
                }
                if (c->watch && (r = handshake_watch_process(c->watch)) < 0)
                        return r;
                if (!(items[0].revents & ZMQ_POLLIN))
                        continue;
                r = s_receive(c, &reply);
                if (r < 0)
                        return r;
                if (strcmp(reply->request_id, request_id) == 0 ||
                    (reply->request_id[0] == '\0' && reply->error != E_OK)) {
                        *ret_reply = reply;
                        return 0;
                }
                complaint__v1__reply__free_unpacked(reply, NULL);
        }
}

int
complaint_client_call(complaint_client_t *c, const pb_request_t *req, int timeout_ms, int retries,
                      pb_reply_t **ret_reply)
{
        char id[COMPLAINT_REQUEST_ID_SIZE];
        pb_request_t q;
        uint8_t *buf;
        size_t len;
        int r = -ETIMEDOUT;

        assert(c);
        assert(req);
        assert(retries >= 0);
        assert(ret_reply);
        q = *req;
        q.schema_version = PB_SCHEMA_VERSION;
        if (q.request_id == NULL || q.request_id[0] == '\0') {
                r = complaint_request_id_generate(id);
                if (r < 0)
                        return r;
                q.request_id = id;
        }
        len = complaint__v1__request__get_packed_size(&q);
        buf = malloc(len ? len : 1);
        if (buf == NULL)
                return -ENOMEM;
        complaint__v1__request__pack(&q, buf);

        for (int attempt = 0; attempt <= retries; attempt++) {
                r = c->sock ? 0 : s_open(c);
                if (r < 0)
                        break;
                /* The socket was just opened or holds no queued request, so a send never has to
                 * wait; a refusal (EAGAIN) counts as a try without an answer. */
                if (zmq_send(c->sock, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
                    zmq_send(c->sock, buf, len, ZMQ_DONTWAIT) < 0)
                        r = errno == EAGAIN ? -ETIMEDOUT : -errno;
                else
                        r = s_wait(c, q.request_id, timeout_ms, ret_reply);
                if (r == 0) {
                        /* Answered: the handshake is done, and nothing is left to watch. */
                        s_unwatch(c);
                        break;
                }
                /* Whatever went wrong, a fresh socket cannot receive this try's late reply; after
                 * a failed handshake, closing it also stops the reconnecting until the next
                 * call. */
                s_close(c);
                if (r != -ETIMEDOUT)
                        break;
        }
        free(buf);
        return r;
}
