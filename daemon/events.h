/* events.h: the event stream, a ZeroMQ XPUB socket. Each message is two frames, [topic]
 * [encoded complaint.v1.Event]; events are handed here only after their transaction has
 * committed. The stream alone may drop messages (slow joiners, high-water marks); the stored
 * event log is what delivery rests on. */
#ifndef COMPLAINTD_EVENTS_H
#define COMPLAINTD_EVENTS_H

#include "service.h"

/* The largest message a subscriber may send (a subscription: one byte and a topic prefix);
 * a larger one ends its connection. */
#define EVENTS_SUBSCRIPTION_MAX 1024

typedef struct events events_t;

/* Binds an XPUB socket on endpoint in the ZeroMQ context zctx (borrowed), queueing at most hwm
 * messages per subscriber. -errno on failure, with the reason from ZeroMQ in *ret_why
 * (static). */
int events_open(void *zctx, const char *endpoint, int hwm, events_t **ret, const char **ret_why);
void events_close(events_t **events);

/* The socket, for zmq_poll (borrowed). */
void *events_socket(events_t *events);

/* Publishes one event without blocking; an event a subscriber's queue cannot take is dropped
 * for that subscriber only. */
void events_publish(events_t *events, const struct service_event *ev);

/* Reads the subscription messages queued on the socket, so they never pile up. */
void events_drain(events_t *events);

#endif
