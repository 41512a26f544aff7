/* handshake.c: the watch over a socket's handshakes (handshake.h). It owns the socket's monitor
 * PAIR and the probe: a plain DEALER with a monitor of its own, started when our CURVE handshake
 * is dropped without a word. */
#include <assert.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handshake.h"

#define EVENTS                                                                  \
        (ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | \
         ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)

/* Dropped handshakes in a row that decide without a probe: for a client without keys (a plain
 * server never drops a plain handshake), and for one with keys when the probe cannot start. */
#define DROPPED_MAX 3

/* A monitored socket: the socket and the PAIR its events come to. */
struct monitored {
        void *sock;
        void *pair;
};

struct handshake_watch {
        void *ctx;
        const char *endpoint;
        bool curve;
        struct monitored main;  /* the caller's socket (not ours to close) */
        struct monitored probe; /* our plain socket, or {NULL, NULL} */
        bool probed;            /* the probe was started (once per watch) */
        int error;              /* what the failures so far mean, or 0 */
        int dropped;            /* our handshakes dropped without a word, in a row */
};

/* Monitors on inproc endpoints of their own, unique within the process, so that none waits for
 * an earlier one to be unbound. */
static atomic_uint s_monitor_seq;

/* Starts monitoring m->sock. The PAIR connects before the monitor binds (inproc allows it), so
 * no event is sent before anyone is there to take it. */
static int
s_monitor(void *ctx, struct monitored *m)
{
        char ep[64];
        int linger = 0;

        snprintf(ep, sizeof(ep), "inproc://complaint-handshake-%u",
                 atomic_fetch_add(&s_monitor_seq, 1));
        m->pair = zmq_socket(ctx, ZMQ_PAIR);
        if (m->pair == NULL)
                return -errno;
        if (zmq_setsockopt(m->pair, ZMQ_LINGER, &linger, sizeof(linger)) < 0 ||
            zmq_connect(m->pair, ep) < 0 || zmq_socket_monitor(m->sock, ep, EVENTS) < 0) {
                int r = -errno;

                zmq_close(m->pair);
                m->pair = NULL;
                return r;
        }
        return 0;
}

/* Stops monitoring before closing the PAIR: a monitor left sending to a closed PAIR would block
 * ZeroMQ's I/O thread. */
static void
s_unmonitor(struct monitored *m)
{
        if (m->pair == NULL)
                return;
        (void)zmq_socket_monitor(m->sock, NULL, 0);
        zmq_close(m->pair);
        m->pair = NULL;
}

/* Reads one event from a PAIR without blocking: [event:u16 value:u32][endpoint], in the host's
 * byte order. Returns false when none is waiting. */
static bool
s_event(void *pair, uint16_t *ret_event, uint32_t *ret_value)
{
        zmq_msg_t m;
        bool more;

        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, pair, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&m);
                return false;
        }
        *ret_event = 0;
        *ret_value = 0;
        if (zmq_msg_size(&m) == 6) {
                memcpy(ret_event, zmq_msg_data(&m), 2);
                memcpy(ret_value, (uint8_t *)zmq_msg_data(&m) + 2, 4);
        }
        more = zmq_msg_more(&m);
        zmq_msg_close(&m);
        while (more) {
                zmq_msg_init(&m);
                more = zmq_msg_recv(&m, pair, ZMQ_DONTWAIT) >= 0 && zmq_msg_more(&m);
                zmq_msg_close(&m);
        }
        return true;
}

static void
s_probe_stop(handshake_watch_t *w)
{
        s_unmonitor(&w->probe);
        if (w->probe.sock)
                zmq_close(w->probe.sock);
        w->probe.sock = NULL;
}

/* Connects a plain socket to the endpoint: its handshake succeeds only with a plain server. It
 * sends nothing. */
static void
s_probe_start(handshake_watch_t *w)
{
        int linger = 0;

        w->probed = true;
        w->probe.sock = zmq_socket(w->ctx, ZMQ_DEALER);
        if (w->probe.sock == NULL)
                return;
        if (zmq_setsockopt(w->probe.sock, ZMQ_LINGER, &linger, sizeof(linger)) < 0 ||
            s_monitor(w->ctx, &w->probe) < 0 || zmq_connect(w->probe.sock, w->endpoint) < 0)
                s_probe_stop(w);
}

handshake_watch_t *
handshake_watch_new(void *ctx, void *sock, const char *endpoint, bool curve)
{
        handshake_watch_t *w;

        assert(ctx && sock && endpoint);
        w = calloc(1, sizeof(*w));
        if (w == NULL)
                return NULL;
        w->ctx = ctx;
        w->endpoint = endpoint;
        w->curve = curve;
        w->main.sock = sock;
        if (s_monitor(ctx, &w->main) < 0) {
                free(w);
                return NULL;
        }
        return w;
}

void
handshake_watch_free(handshake_watch_t **w)
{
        if (w == NULL || *w == NULL)
                return;
        s_probe_stop(*w);
        s_unmonitor(&(*w)->main);
        free(*w);
        *w = NULL;
}

int
handshake_watch_pollitems(const handshake_watch_t *w, zmq_pollitem_t *items)
{
        int n = 0;

        items[n++] = (zmq_pollitem_t){.socket = w->main.pair, .events = ZMQ_POLLIN};
        if (w->probe.pair)
                items[n++] = (zmq_pollitem_t){.socket = w->probe.pair, .events = ZMQ_POLLIN};
        return n;
}

/* One event of our socket. Returns the error that ends the call, or 0. */
static int
s_main_event(handshake_watch_t *w, uint16_t event, uint32_t value)
{
        switch (event) {
        case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
                w->error = 0;
                w->dropped = 0;
                s_probe_stop(w);
                return 0;
        case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
                /* The ZAP status in the daemon's ERROR command. */
                return value == 400 ? -EACCES : -ECONNREFUSED;
        case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
                if (value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH)
                        return w->curve ? -ENOPROTOOPT : -ENOKEY;
                /* Its WELCOME did not decrypt with the key we pinned, or made no sense. */
                return w->curve ? -EKEYREJECTED : -EPROTO;
        case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
                w->dropped++;
                w->error = w->curve ? -EKEYREJECTED : -ENOKEY;
                if (w->curve && !w->probed)
                        s_probe_start(w);
                /* Without a probe to ask, enough drops in a row decide. */
                if (w->dropped >= DROPPED_MAX && w->probe.sock == NULL)
                        return w->error;
                return 0;
        default:
                return 0;
        }
}

/* One event of the probe, which only runs after a drop of ours: a plain handshake that succeeds
 * means a plain server, one that fails a server that wants CURVE and could not read ours. */
static int
s_probe_event(handshake_watch_t *w, uint16_t event)
{
        if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
                return -ENOPROTOOPT;
        if (event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL ||
            event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ||
            event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
                return w->error ? w->error : 0;
        return 0;
}

int
handshake_watch_process(handshake_watch_t *w)
{
        uint16_t event;
        uint32_t value;
        int r;

        assert(w);
        while (s_event(w->main.pair, &event, &value))
                if ((r = s_main_event(w, event, value)) < 0)
                        return r;
        while (w->probe.pair && s_event(w->probe.pair, &event, &value))
                if ((r = s_probe_event(w, event)) < 0)
                        return r;
        return 0;
}

int
handshake_watch_verdict(const handshake_watch_t *w)
{
        assert(w);
        return w->error;
}
