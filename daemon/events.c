/* events.c: the XPUB socket behind events.h. */
#include <errno.h>
#include <string.h>
#include <zmq.h>

#include "access.h"
#include "auth.h"
#include "events.h"
#include "log.h"
#include "macro.h"

#define REFUSAL_LINES 10 /* refused subscriptions logged a second */

struct events {
        const conf_t *cfg;
        uint64_t refused;       /* subscriptions refused since start */
        int64_t refusal_window; /* monotonic ms: the second being counted */
        unsigned refusal_lines; /* lines logged in it */
        void *sock;
};

int
events_open(void *zctx, const conf_t *cfg, events_t **ret, const char **ret_why)
{
        events_t *e = calloc(1, sizeof(*e));
        int linger = 0, hwm = (int)cfg->event_hwm, manual = 1, r;

        if (e == NULL)
                return -ENOMEM;
        e->cfg = cfg;
        e->sock = zmq_socket(zctx, ZMQ_XPUB);
        if (e->sock == NULL)
                goto fail;
        zmq_setsockopt(e->sock, ZMQ_SNDHWM, &hwm, sizeof(hwm));
        /* What subscribers send are subscriptions, a topic prefix each: anything larger is no
         * subscription, and ZeroMQ drops the connection that sent it. */
        zmq_setsockopt(e->sock, ZMQ_MAXMSGSIZE, &(int64_t){EVENTS_SUBSCRIPTION_MAX},
                       sizeof(int64_t));
        zmq_setsockopt(e->sock, ZMQ_LINGER, &linger, sizeof(linger));
        /* With access control every subscription is looked at before it takes effect. */
        if (cfg->access && (auth_curve_server(e->sock, cfg->access) < 0 ||
                            zmq_setsockopt(e->sock, ZMQ_XPUB_MANUAL, &manual, sizeof(manual)) < 0))
                goto fail;
        if (zmq_bind(e->sock, cfg->events) < 0)
                goto fail;
        *ret = e;
        return 0;
fail:
        r = -zmq_errno();
        *ret_why = zmq_strerror(-r);
        if (e->sock)
                zmq_close(e->sock);
        free(e);
        return r;
}

void
events_close(events_t **e)
{
        if (*e == NULL)
                return;
        zmq_close((*e)->sock);
        free(*e);
        *e = NULL;
}

void *
events_socket(events_t *e)
{
        return e->sock;
}

void
events_publish(events_t *e, const struct service_event *ev)
{
        /* Being bound again after a reload: the event is in the store, for replay. */
        if (e == NULL)
                return;
        if (zmq_send(e->sock, ev->topic, strlen(ev->topic), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
            zmq_send(e->sock, ev->data, ev->len, ZMQ_DONTWAIT) < 0)
                log_debug("events: %s not sent: %s", ev->topic, zmq_strerror(zmq_errno()));
}

void
events_set_config(events_t *e, const conf_t *cfg)
{
        e->cfg = cfg;
}

/* Manual mode: the subscription in m (its first byte 1 to subscribe, 0 to unsubscribe, then
 * the prefix) takes effect, on the connection it came from, only when its principal may. */
static void
s_authorise(events_t *e, zmq_msg_t *m)
{
        const uint8_t *d = zmq_msg_data(m);
        size_t len = zmq_msg_size(m);
        const char *key = zmq_msg_gets(m, "User-Id");
        const struct config_principal *p = config_find_principal(e->cfg, key);

        if (len == 0 || (d[0] != 0 && d[0] != 1))
                return;
        if (d[0] == 0) {
                zmq_setsockopt(e->sock, ZMQ_UNSUBSCRIBE, d + 1, len - 1);
                return;
        }
        if (p && access_may_topic(p, (const char *)d + 1, len - 1)) {
                zmq_setsockopt(e->sock, ZMQ_SUBSCRIBE, d + 1, len - 1);
                return;
        }
        /* At most REFUSAL_LINES lines a second, however many a client sends. */
        e->refused++;
        if (mono_ms() - e->refusal_window >= 1000) {
                e->refusal_window = mono_ms();
                e->refusal_lines = 0;
        }
        if (e->refusal_lines++ >= REFUSAL_LINES)
                return;
        log_struct(LOG_WARNING, 0, NULL, "subscription-refused",
                   "events: refused a subscription to \"%.*s\" from %s: outside what it may hear "
                   "(%" PRIu64 " refused since start)",
                   (int)(len - 1 > 100 ? 100 : len - 1), (const char *)d + 1,
                   p ? p->name : "a key that is no principal", e->refused);
}

void
events_drain(events_t *e)
{
        /* Bounded: a flood of subscriptions is read over several loop turns. */
        for (int i = 0; i < 1024; i++) {
                zmq_msg_t m;

                zmq_msg_init(&m);
                if (zmq_msg_recv(&m, e->sock, ZMQ_DONTWAIT) < 0) {
                        zmq_msg_close(&m);
                        break;
                }
                if (e->cfg->access)
                        s_authorise(e, &m);
                zmq_msg_close(&m);
        }
}
