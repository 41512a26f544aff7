/* service.h: the complaint service. It turns a batch of encoded requests into their changes
 * in the store, one reply each, and the events to publish once the batch is committed. All
 * the rules of a complaint's life live behind this interface: validation and size limits,
 * the transition table, first-responder ownership, the append-only history, idempotency by
 * request id, and group commit (one durable transaction per batch, in which a request that
 * fails leaves nothing behind). */
#ifndef COMPLAINTD_SERVICE_H
#define COMPLAINTD_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "store.h"

typedef struct service service_t;

/* One request of a batch. data is borrowed for the call; reply is set by the call, an encoded
 * complaint.v1.Reply the caller frees. */
struct service_request {
        const uint8_t *data;
        size_t len;
        uint8_t *reply;
        size_t reply_len;
        char *backup_path; /* set instead of reply for a valid backup request; caller frees */
        char *request_id;  /* with backup_path: the request's id, for the reply; caller frees */
        const char *principal_key; /* the connection's client key (Z85), borrowed; NULL
                                    * without access control */
        bool deferred; /* set instead of reply: a read left for a later batch, because the
                        * batch's read budget (daemon.read_budget) was spent */
};

/* One event to publish after commit: its topic and encoded complaint.v1.Event. */
struct service_event {
        char *topic;
        uint8_t *data;
        size_t len;
};

/* The events of a batch, in commit order. */
struct service_outbox {
        struct service_event *items;
        size_t n;
        size_t cap;
};

/* Creates the service over an open store; store and cfg are borrowed and must outlive it. */
int service_new(store_t *store, const conf_t *cfg, service_t **ret);
void service_free(service_t **service);

/* Uses cfg from the next batch on (a reload); borrowed. */
void service_set_config(service_t *service, const conf_t *cfg);

/* Handles n requests: decodes each, applies the changes in one write transaction, commits it
 * (growing the map when it is full), then answers the reads in order until the read budget is
 * spent (at least one): the reads left are marked deferred, to be handed in again. Every other
 * request gets a reply, an error reply when it failed. The events of committed changes are appended
 * to out. Returns 0, or a negative errno when the store failed as a whole (each change then has an
 * error reply and nothing was committed). */
int service_handle_batch(service_t *service, struct service_request *reqs, size_t n,
                         struct service_outbox *out);

/* Builds the encoded error reply for a message that could not be handled at all (wrong framing,
 * too large). request (NULL: none) is the refused request's bytes, borrowed: when they decode,
 * the reply echoes its request_id (if it is UTF-8). The result is the caller's to free; NULL
 * when out of memory. */
uint8_t *service_error_reply(int code, const char *message, const uint8_t *request,
                             size_t request_len, size_t *ret_len);

/* Encodes the reply to a backup request once the copy is done: result 0 or -errno;
 * last_event_seq is the newest event when the copy started (the copy holds at least it). The
 * result is the caller's to free; NULL when out of memory. */
uint8_t *service_backup_reply(const char *request_id, int result, const char *path, uint64_t bytes,
                              int64_t took_ms, uint64_t last_event_seq, size_t *ret_len);

/* Encodes a heartbeat event carrying the newest event number. The result is the caller's. */
int service_heartbeat(service_t *service, struct service_event *ret);

/* Fires every warning and escalation due at or before now, in deadline order, at most max of
 * them in one transaction, and no more once FIRE_BUDGET_MS of work is done, appending their
 * events to out. *ret_fired is how many were handled; call again while service_next_deadline()
 * is due. Returns 0 or the store's -errno (nothing fired then). */
int service_fire_due(service_t *service, int64_t now, uint32_t max, struct service_outbox *out,
                     uint32_t *ret_fired);

/* Erases the contact details of complaints that ended (were closed or dismissed) more than
 * privacy.retention before now, at most max of them in one transaction, appending their events
 * to out (privacy.c). *ret_n is how many; call again while it equals max. Returns 0 or the
 * store's -errno (nothing erased then). */
int service_retain(service_t *service, int64_t now, uint32_t max, struct service_outbox *out,
                   uint32_t *ret_n);

/* Replaces the privacy key once erasures were made and privacy.rekey has passed since the
 * last replacement began (store.h, "Rotating"): a step seals again at most max records with
 * the new key; *ret_n says how many, *ret_done whether the old key is gone now (privacy.c).
 * Returns 0 or a negative errno (the next call resumes). */
int service_rekey(service_t *service, int64_t now, uint32_t max, uint32_t *ret_n, bool *ret_done);

/* The report's counters follow the centre's zone (store.h, store_set_stats_zone()): after the
 * zone changed, each call counts the next max complaints into them in a transaction of its own
 * (analysis.c). *ret_n says how many, *ret_done whether the rebuild is over (also when none was
 * under way). Returns 0 or a negative errno (the next call goes on from the last step that
 * committed; a full map is grown first). stats_rebuilding says whether one is under way. */
int service_rebuild_stats(service_t *service, uint32_t max, uint32_t *ret_n, bool *ret_done);
bool service_stats_rebuilding(service_t *service);

/* The time of the next warning or escalation due (UTC ms), 0 when none is. */
int64_t service_next_deadline(const service_t *service);

/* Deletes events past the configured retention (daemon.event_log), at most max in one
 * transaction; *ret_n is how many. */
int service_prune_events(service_t *service, uint32_t max, uint32_t *ret_n);

/* Deletes the stored replies older than daemon.idempotency_window, at most max in one
 * transaction; *ret_n is how many (untouched on failure). A request repeated after that is
 * handled as new. */
int service_prune_requests(service_t *service, uint32_t max, uint32_t *ret_n);

/* Empties an outbox, freeing its events. */
void service_outbox_clear(struct service_outbox *out);

/* The newest event number committed. */
uint64_t service_last_event_seq(const service_t *service);

/* The number of open complaints (neither closed nor dismissed) and of overdue ones (escalated
 * on a running clock), read in a short read transaction. Returns 0 or the store's -errno;
 * the out-parameters are untouched on failure. */
int service_counts(service_t *service, uint64_t *ret_open, uint64_t *ret_overdue);

#endif
