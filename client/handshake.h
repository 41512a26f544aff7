/* handshake.h: libcomplaint's watch over the handshakes of a socket (internal, not installed).
 * It owns a monitor of the socket (zmq_socket_monitor() to a PAIR on an inproc endpoint of its
 * own) and, when needed, a probe: a plain socket that asks whether the daemon speaks CURVE at
 * all. It tells complaint_client_call() what a failed handshake means:
 *
 *   the daemon's ZAP handler refused our key (an ERROR with status 400)       -EACCES
 *   it could not check our key (status 500)                                   -ECONNREFUSED
 *   we have no keys and it speaks CURVE (a mechanism mismatch, or our NULL
 *   handshakes dropped three times in a row: a plain server never drops them) -ENOKEY
 *   we have keys and it speaks plain ZMTP (a mechanism mismatch, or the
 *   probe's plain handshake succeeds)                                         -ENOPROTOOPT
 *   we have keys, it speaks CURVE and drops ours without a word (it cannot
 *   decrypt our HELLO: its key is not the one we pinned), or its WELCOME
 *   does not decrypt                                                          -EKEYREJECTED
 *
 * Why a probe: ZeroMQ 4.3 often reports a mechanism mismatch only as a dropped connection
 * (ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL, our write failing before the peer's greeting is read),
 * the same event a CURVE server with another key gives; a plain handshake tells the two apart.
 * (A ZAP status 300, a silent drop by the CURVE rules, looks like another key.)
 *
 * A watch is for one socket during one call: events nobody reads would pile up while the client
 * is idle, and at the PAIR's high-water mark block ZeroMQ's I/O thread. */
#ifndef COMPLAINTD_HANDSHAKE_H
#define COMPLAINTD_HANDSHAKE_H

#include <stdbool.h>

#include <zmq.h>

/* The poll items a watch may need at most. */
#define HANDSHAKE_POLLITEMS_MAX 2

typedef struct handshake_watch handshake_watch_t;

/* Starts watching sock, which is about to connect to endpoint (borrowed, as ctx and sock, for
 * the watch's life); curve says whether sock has CURVE keys. Returns the watch, the caller's to
 * free before sock is closed, or NULL when watching cannot start (out of memory or sockets):
 * the call then goes on without it. */
handshake_watch_t *handshake_watch_new(void *ctx, void *sock, const char *endpoint, bool curve);

/* Stops watching and closes the monitors and the probe; accepts NULL and a pointer to NULL. */
void handshake_watch_free(handshake_watch_t **w);

/* Writes the items to poll for the watch's events (ZMQ_POLLIN) into items; returns how many,
 * up to HANDSHAKE_POLLITEMS_MAX. */
int handshake_watch_pollitems(const handshake_watch_t *w, zmq_pollitem_t *items);

/* Takes the events waiting (without blocking) after a poll. Returns one of the errors above
 * when the handshake failed for good, else 0. */
int handshake_watch_process(handshake_watch_t *w);

/* When the wait is over without an answer: the error the failures seen mean, or 0 when none
 * was seen (or a handshake succeeded after them). */
int handshake_watch_verdict(const handshake_watch_t *w);

#endif
