/* complaint_sub.h: the guaranteed-delivery subscriber of libcomplaint. It owns a ZeroMQ SUB
 * socket on the daemon's event endpoint, an API client for replay and acknowledgements, a
 * bounded queue of events ready for the caller, and the positions the caller has processed
 * (optionally kept in a state file). It gives a department system every event of its
 * subscription at least once, in order, de-duplicated, across dropped messages, its own
 * restarts and the daemon's restarts.
 *
 * Streams and positions. Every event belongs to one stream, the department of its topic
 * ("billing/assigned" is in stream "billing"), and has a gap-free offset in it (Event.offset);
 * the global stream "" holds every event, at offset Event.seq. A subscription is a set of topic
 * prefixes (ZeroMQ's prefix rule: "billing/escalated/1" also matches "billing/escalated/12").
 * A prefix with a '/' ("billing/", "billing/escalated/2") reads the stream named by its first
 * part; a prefix without one ("", "bil") names no department and reads the global stream. When
 * any prefix reads the global stream, the whole subscription does (one stream, all the prefixes
 * as its filter), so no event is ever delivered twice through two streams. A position is the
 * last offset of a stream the caller has processed; delivery resumes after it.
 *
 * How it works. On the first complaint_sub_next() the subscriber asks the daemon's status for
 * the event endpoint and the stream heads, subscribes to its prefixes and to the heartbeat, and
 * replays each stream from its position through the API. A live event that follows the last
 * offset examined is queued at once; a duplicate is dropped; one further on (something was
 * missed, or filtered out) makes the stream replay up to the head. Each heartbeat carries every
 * stream's head, so a lost event is noticed within one heartbeat even when nothing follows it.
 * The queue is bounded (complaint_sub_set_queue_max()): when it is full, live events are
 * dropped and fetched again by replay once the caller has caught up. Streams are delivered each
 * in order and interleaved across streams in the order their events were received.
 *
 * At-least-once. The event returned by complaint_sub_next() is "in flight" until the caller
 * asks for the next one (or calls complaint_sub_commit()): only then does its offset become the
 * stream's position and, with a state file, reach the disk. A caller that dies while processing
 * an event gets that one event again, and no other, after its restart.
 *
 * A subscriber is not thread-safe: use one per thread. Errors are negative errno values. */
#ifndef COMPLAINT_SUB_H
#define COMPLAINT_SUB_H

#include <stddef.h>
#include <stdint.h>

#include "complaint_client.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A position meaning "the stream's head when the subscriber starts": only events published
 * after that are delivered. */
#define COMPLAINT_SUB_END UINT64_MAX

/* The most topic prefixes one subscription may have (the daemon's replay limit). */
#define COMPLAINT_SUB_PREFIXES_MAX 16

/* The default bound of the queue of events ready for the caller. */
#define COMPLAINT_SUB_QUEUE_DEFAULT 1024

/* The default wait for one API request (status, replay, acknowledgement), in ms. */
#define COMPLAINT_SUB_CALL_TIMEOUT_DEFAULT 3000

typedef struct complaint_sub complaint_sub_t;

/* Called when events the subscription has not delivered are no longer kept by the daemon
 * (its event_log retention): offsets after `after` up to and including `resume_after` of
 * `stream` (borrowed for the call) are lost, and delivery goes on after resume_after. */
typedef void complaint_sub_gap_fn(void *arg, const char *stream, uint64_t after,
                                  uint64_t resume_after);

/* What the subscriber did so far, for monitoring and tests. */
typedef struct complaint_sub_stats {
        uint64_t delivered;    /* events returned by complaint_sub_next() */
        uint64_t live;         /* events queued as they arrived on the SUB socket */
        uint64_t replayed;     /* events queued from replay */
        uint64_t duplicates;   /* live events dropped as already examined */
        uint64_t ahead;        /* live events past a gap (missed, or filtered out): replayed */
        uint64_t dropped;      /* live events dropped because the queue was full */
        uint64_t replay_calls; /* replay requests answered */
        uint64_t call_errors;  /* API requests that got no usable answer */
        uint64_t gaps;         /* gaps reported (complaint_sub_gap_fn) */
        uint64_t heartbeats;   /* heartbeats received: the first proves the subscription live */
} complaint_sub_stats_t;

/* Creates a subscriber of the daemon whose API is at api_endpoint (copied). Nothing is sent
 * until the first complaint_sub_next(), so the daemon need not be running yet. Returns 0,
 * -EINVAL or -EPROTONOSUPPORT for a malformed endpoint, -ENOMEM, or another negative errno
 * from ZeroMQ. *ret is the caller's, freed with complaint_sub_free(). */
int complaint_sub_new(const char *api_endpoint, complaint_sub_t **ret);

/* Closes the sockets and frees the subscriber, setting *sub to NULL; accepts NULL and a
 * pointer to NULL. The event in flight is NOT marked processed (a clean shutdown calls
 * complaint_sub_commit() first), so the subscriber behaves as if killed. */
void complaint_sub_free(complaint_sub_t **sub);

/* Makes the subscriber speak CURVE to a daemon with access control, on its API client
 * (complaint_client_set_curve(): same keys, same rules) and on its SUB socket: client_public
 * and client_secret are its key pair, server_public the daemon's key (pinned); all copied, the
 * secret wiped when freed. Three NULLs go back to plain ZMTP. Only before the first
 * complaint_sub_next(). Returns 0, -EBUSY once started, -EINVAL for a malformed key or a pair
 * that does not belong together, -ENOTSUP without CURVE in libzmq, or a negative errno from
 * reopening the API client's socket (the keys are set all the same).
 *
 * A refused handshake shows on the API requests, which come first (complaint_sub_next() returns
 * it); the SUB socket's handshakes are not watched, as they go to the same daemon with the same
 * keys. */
int complaint_sub_set_curve(complaint_sub_t *sub, const char *client_public,
                            const char *client_secret, const char *server_public);

/* Adds a topic prefix (copied) to the subscription; see the top of this file for the stream it
 * reads. Only before the first complaint_sub_next(). Returns 0, -EBUSY once started, -EINVAL
 * for a prefix that starts with '_' (the daemon's own topics) or is longer than 200 bytes,
 * -E2BIG past COMPLAINT_SUB_PREFIXES_MAX, or -ENOMEM. Adding a prefix twice is a no-op. */
int complaint_sub_add(complaint_sub_t *sub, const char *topic_prefix);

/* Sets the position of stream (copied; "" is the global stream): delivery resumes after
 * offset, or at the head for COMPLAINT_SUB_END. Overrides a position loaded from the state file.
 * Allowed at any time: events of that stream queued or in flight are discarded and the stream
 * is replayed from the new position. Without a position a stream starts at offset 0, the
 * oldest event kept. Returns 0, -EINVAL for a stream longer than 64 bytes, or -ENOMEM. */
int complaint_sub_set_position(complaint_sub_t *sub, const char *stream, uint64_t offset);

/* The position of stream: the last offset processed (the event in flight is not yet
 * processed), or COMPLAINT_SUB_END before a head was resolved. Returns 0 with *ret_offset set,
 * or -ENOENT when the stream has no position. */
int complaint_sub_position(const complaint_sub_t *sub, const char *stream, uint64_t *ret_offset);

/* Keeps the positions in the file at path (copied): loads it now when it exists, and rewrites
 * it whenever a position moves (a temporary file beside it, fsync, rename), so a restarted
 * subscriber resumes where this one left off. Positions of streams the subscription does not
 * read are kept in the file untouched. Returns 0, -EBADMSG when the file is not a state file,
 * -EBUSY once started, -ENOMEM, or the errno of reading it. */
int complaint_sub_set_state_file(complaint_sub_t *sub, const char *path);

/* The receive high-water mark of the SUB socket (ZeroMQ's default is 1000 messages). A small
 * one loses more live events to replay but bounds memory further. Only before the first
 * complaint_sub_next(). Returns 0, -EBUSY once started, or -EINVAL for a negative hwm. */
int complaint_sub_set_rcvhwm(complaint_sub_t *sub, int hwm);

/* The bound of the queue of events ready for the caller (default COMPLAINT_SUB_QUEUE_DEFAULT,
 * at least 1). Only before the first complaint_sub_next(). Returns 0, -EBUSY or -EINVAL. */
int complaint_sub_set_queue_max(complaint_sub_t *sub, size_t max);

/* The wait for one API request, in ms (default COMPLAINT_SUB_CALL_TIMEOUT_DEFAULT). A request
 * that gets no answer is retried later, with a back-off, while live events keep flowing. */
void complaint_sub_set_call_timeout(complaint_sub_t *sub, int timeout_ms);

/* The actor (copied) that complaint_sub_ack() acknowledges as: the department system's name,
 * recorded in the complaint's history. Returns 0, -EINVAL for an empty actor, or -ENOMEM. */
int complaint_sub_set_actor(complaint_sub_t *sub, const char *actor);

/* Calls fn(arg, ...) for each gap (see complaint_sub_gap_fn); NULL removes it. */
void complaint_sub_set_gap_handler(complaint_sub_t *sub, complaint_sub_gap_fn *fn, void *arg);

/* Marks the event in flight processed, then waits up to timeout_ms (negative: forever) for the
 * next event of the subscription. Returns 0 with *ret_event set: the caller's, freed with
 * complaint__v1__event__free_unpacked(event, NULL); event->stream and event->offset (or
 * event->seq for the global stream) say where it is.
 *
 * Fails with -ETIMEDOUT when nothing came in time (the daemon may be down: the subscriber keeps
 * trying, and an API request may make the call last up to one call timeout longer); -ESTALE
 * once for each gap, after calling the gap handler (call again to go on after it); -ERANGE
 * once when a stream's head is below the position (the daemon's store was restored from an
 * older copy; complaint_sub_set_position() decides where to go on); -EACCES, -EKEYREJECTED,
 * -ENOKEY or -ENOPROTOOPT when the handshake failed as complaint_client_call() describes, and
 * -EPERM when the daemon forbids this principal a stream of the subscription (FORBIDDEN: each
 * again on the next call, until the keys or the daemon's configuration change);
 * -EINTR when a signal interrupted the wait; -EIO when the state file could not be written (the
 * position is kept in memory and written again next time); -ENOMEM; or another negative errno
 * from ZeroMQ.
 * *ret_event is untouched on failure. */
int complaint_sub_next(complaint_sub_t *sub, int timeout_ms, pb_event_t **ret_event);

/* Marks the event in flight processed now and writes the state file, without waiting for the
 * next one: for a clean shutdown. Returns 0 or -EIO. */
int complaint_sub_commit(complaint_sub_t *sub);

/* Acknowledges an assignment: accepts (AcceptRequest) the complaint of event, which must have
 * assigned, reassigned or reopened it to the department of event's stream. The request id is
 * "ack-<seq>" of the event, so acknowledging the same event again, after a restart or a lost
 * reply, changes nothing (use the same note). note (borrowed) may be NULL. Needs
 * complaint_sub_set_actor(). Returns 0 when accepted (now or before); -EINVAL when no actor is
 * set or event is not such an assignment; -EALREADY when the complaint has moved on (accepted
 * by someone else, reassigned, resolved: the daemon's INVALID_TRANSITION); -ENOENT when it does
 * not exist; -EPERM when this principal may not accept it (FORBIDDEN); a handshake error of
 * complaint_client_call(); -ETIMEDOUT when the daemon did not
 * answer (repeat it); -EPROTO for another refusal or a nonsensical answer; -ENOMEM. */
int complaint_sub_ack(complaint_sub_t *sub, const pb_event_t *event, const char *note);

/* Copies the counters into *ret. */
void complaint_sub_get_stats(const complaint_sub_t *sub, complaint_sub_stats_t *ret);

/* The event endpoint to connect to for events_endpoint as the daemon at api_endpoint reports
 * it: a wildcard host ("*" or "0.0.0.0" in a tcp endpoint) becomes the API's host. Returns a
 * string the caller frees, or NULL without memory. */
char *complaint_events_endpoint(const char *api_endpoint, const char *events_endpoint);

#ifdef __cplusplus
}
#endif

#endif
