/* events.c: the XPUB socket behind events.h. */
#include <errno.h>
#include <string.h>
#include <zmq.h>

#include "events.h"
#include "log.h"
#include "macro.h"

struct events {
        void *sock;
};

int
events_open(void *zctx, const char *endpoint, int hwm, events_t **ret, const char **ret_why)
{
        events_t *e = calloc(1, sizeof(*e));
        int linger = 0, r;

        if (e == NULL)
                return -ENOMEM;
        e->sock = zmq_socket(zctx, ZMQ_XPUB);
        if (e->sock == NULL)
                goto fail;
        zmq_setsockopt(e->sock, ZMQ_SNDHWM, &hwm, sizeof(hwm));
        /* What subscribers send are subscriptions, a topic prefix each: anything larger is no
         * subscription, and ZeroMQ drops the connection that sent it. */
        zmq_setsockopt(e->sock, ZMQ_MAXMSGSIZE, &(int64_t){EVENTS_SUBSCRIPTION_MAX},
                       sizeof(int64_t));
        zmq_setsockopt(e->sock, ZMQ_LINGER, &linger, sizeof(linger));
        if (zmq_bind(e->sock, endpoint) < 0)
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
        if (zmq_send(e->sock, ev->topic, strlen(ev->topic), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
            zmq_send(e->sock, ev->data, ev->len, ZMQ_DONTWAIT) < 0)
                log_debug("events: %s not sent: %s", ev->topic, zmq_strerror(zmq_errno()));
}

void
events_drain(events_t *e)
{
        char buf[256];

        /* Bounded: a flood of subscriptions is read over several loop turns. */
        for (int i = 0; i < 1024; i++)
                if (zmq_recv(e->sock, buf, sizeof(buf), ZMQ_DONTWAIT) < 0)
                        break;
}
