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

/* Binds an XPUB socket on cfg's events endpoint in the ZeroMQ context zctx (borrowed),
 * queueing at most event_hwm messages per subscriber. With access control (cfg->access) the
 * socket is a CURVE server and takes a subscription only when its principal may hear those
 * topics (access_may_topic()). cfg is borrowed (events_set_config()). -errno on failure, with
 * the reason from ZeroMQ in *ret_why (static). */
int events_open(void *zctx, const conf_t *cfg, events_t **ret, const char **ret_why);

/* Uses cfg's principals for subscriptions from now on (a reload). */
void events_set_config(events_t *events, const conf_t *cfg);
void events_close(events_t **events);

/* The socket, for zmq_poll (borrowed). */
void *events_socket(events_t *events);

/* Publishes one event without blocking; an event a subscriber's queue cannot take is dropped
 * for that subscriber only. */
void events_publish(events_t *events, const struct service_event *ev);

/* Reads the subscription messages queued on the socket, so they never pile up; with access
 * control, applies those the subscriber's principal may make and refuses (logs) the others. */
void events_drain(events_t *events);

#endif
