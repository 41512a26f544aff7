/* auth.h: the ZAP handler (ZeroMQ RFC 27) of the daemon's CURVE sockets. It answers the
 * handshakes ZeroMQ asks it about: a client key that is a principal's in the configuration in
 * force is accepted, with its key (Z85) as the connection's User-Id, which the API and event
 * sockets read from every message to find the principal; any other key is refused before a
 * byte of the protocol is read. Refusals are counted and logged at most once a minute per key.
 * Only with access control; it owns the inproc ZAP socket and is served from the main loop. */
#ifndef COMPLAINTD_AUTH_H
#define COMPLAINTD_AUTH_H

#include <stdint.h>

#include "config.h"

typedef struct auth auth_t;

/* Binds the ZAP handler in zctx (borrowed): before any CURVE socket of the daemon is bound.
 * cfg is borrowed (replaced with auth_set_config()). -errno on failure. */
int auth_open(void *zctx, const conf_t *cfg, auth_t **ret);
void auth_close(auth_t **auth);

/* The socket, for zmq_poll (borrowed). */
void *auth_socket(auth_t *auth);

/* Uses cfg's principals from the next handshake on (a reload). */
void auth_set_config(auth_t *auth, const conf_t *cfg);

/* Answers the handshakes waiting, a bounded number per call. */
void auth_serve(auth_t *auth);

/* How many handshakes were refused since start. */
uint64_t auth_refused(const auth_t *auth);

/* Sets the CURVE server options of socket with the daemon's key pair and the ZAP domain;
 * -errno from ZeroMQ. */
int auth_curve_server(void *socket, const struct config_access *access);

/* Writes a new CURVE key pair to path as a key file ("public = ..." and "secret = ...", mode
 * 0600, never over an existing file) and its public key to ret_public. -EEXIST, -errno. */
int auth_keygen(const char *path, char ret_public[CONFIG_KEY_LEN + 1]);

#endif
