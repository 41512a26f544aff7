/* api.h: the request socket, a ZeroMQ ROUTER. A client sends [empty][encoded Request] from a
 * DEALER (or a REQ, which adds the empty frame itself) and gets [empty][encoded Reply] back.
 * api_serve() takes every request that is ready, up to the batch limit, hands them to the
 * service as one batch, replies after the batch commits, then publishes its events. */
#ifndef COMPLAINTD_API_H
#define COMPLAINTD_API_H

#include "config.h"
#include "events.h"
#include "service.h"

typedef struct api api_t;

/* Binds a ROUTER socket on endpoint; -errno with ZeroMQ's reason in *ret_why on failure. The
 * context and cfg are borrowed. */
int api_open(void *zctx, const char *endpoint, const conf_t *cfg, api_t **ret,
             const char **ret_why);
void api_close(api_t **api);

/* The socket, for zmq_poll (borrowed). */
void *api_socket(api_t *api);

/* Uses cfg's limits from now on (a reload); borrowed. */
void api_set_config(api_t *api, const conf_t *cfg);

/* Serves one batch of the requests waiting on the socket. Returns the number served. A backup
 * request starts a copy of store on its own thread; its reply waits for api_backup_done(). */
int api_serve(api_t *api, service_t *service, events_t *events, store_t *store);

/* The descriptor to poll for the end of a running backup, or -1 when none runs. */
int api_backup_fd(const api_t *api);

/* Whether reads deferred by the last api_serve() (the batch's read budget was spent) wait to
 * be served: the loop then calls api_serve() again without waiting for the socket. */
bool api_pending(const api_t *api);

/* Replies held back because their clients' queues (daemon.reply_queue) were full: api_flush()
 * hands them on as the queues drain, in order per client; one held past 10 s, or past 64 MiB
 * held in all, is dropped (the client asks again with the same request id). api_holding()
 * says whether any is held, so the loop comes back soon. */
void api_flush(api_t *api);
bool api_holding(const api_t *api);

/* Answers the client of the backup that has ended. */
void api_backup_done(api_t *api);

#endif
