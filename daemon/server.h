/* server.h: the event loop. One thread, one zmq_poll over the API socket, the event socket and
 * a self-pipe for signals, with a timeout that is the next timer (the heartbeat, a deadline,
 * the watchdog's ping, the STATUS= refresh). SIGTERM and SIGINT end the loop after the batch in
 * hand; SIGHUP reloads the configuration. */
#ifndef COMPLAINTD_SERVER_H
#define COMPLAINTD_SERVER_H

#include "config.h"
#include "notify.h"
#include "store.h"

typedef struct server server_t;

/* Binds the sockets named in *cfg and installs the signal handlers. cfg is borrowed until a
 * reload replaces it: the server then owns the new one and frees it in server_free(). The
 * store and notify are borrowed; through notify the loop pings the watchdog, refreshes
 * STATUS= and wraps a reload in RELOADING=1 and READY=1. -errno on failure, with a logged
 * reason. */
int server_new(conf_t *cfg, const char *config_path, store_t *store, notify_t *notify,
               server_t **ret);
void server_free(server_t **server);

/* Runs until SIGTERM or SIGINT. Returns 0, or -errno when the loop itself failed. */
int server_run(server_t *server);

#endif
