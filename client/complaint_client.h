/* complaint_client.h: the client library of complaintd. It owns one connection to the daemon's
 * API (a ZeroMQ DEALER socket talking to the daemon's ROUTER) and turns one complaint.v1.Request
 * into its complaint.v1.Reply, retrying safely when the daemon does not answer.
 *
 * The request and reply types are the generated complaint.v1 messages under the short names of
 * pb.h (pb_request_t, pb_reply_t, ...): a department system builds its requests and reads its
 * replies with them, so this header includes pb.h, and libcomplaint carries (and exports) the
 * generated code and the pb.h word helpers. Programs link libcomplaint alone and never a second
 * copy of the generated code.
 *
 * Access control (DESIGN §10). A daemon with access control configured speaks CURVE
 * (ZeroMQ's authenticated encryption): its ZAP handler maps each client's public key to a
 * principal, refuses unknown keys in the handshake, and the client pins the daemon's public key.
 * complaint_client_set_curve() gives a client its key pair and the daemon's key;
 * complaint_keys.h reads them from files. Without keys a client speaks plain ZMTP, as a daemon
 * without access control (ipc:// and loopback only) expects; each side refuses the other's
 * kind of handshake, and complaint_client_call() says which way round it went.
 *
 * A client is not thread-safe: use one per thread. The guaranteed-delivery subscriber, built on
 * this request path, is complaint_sub.h. */
#ifndef COMPLAINT_CLIENT_H
#define COMPLAINT_CLIENT_H

#include "complaint_keys.h"
#include "pb.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The API endpoint of the bundled configuration (conf/complaintd.conf). */
#define COMPLAINT_DEFAULT_ENDPOINT "tcp://127.0.0.1:7410"

/* The topic of the daemon's heartbeat events on the event socket. A heartbeat carries only
 * schema_version, seq (the newest event), at_ms and heads (the newest offset of every stream). */
#define COMPLAINT_HEARTBEAT_TOPIC "_heartbeat"

/* A request id: 32 lower-case hex digits (the time, then random bits), plus the NUL. */
#define COMPLAINT_REQUEST_ID_SIZE 33

typedef struct complaint_client complaint_client_t;

/* Creates a client of the daemon at endpoint (a ZeroMQ endpoint such as
 * "tcp://127.0.0.1:7410" or "ipc:///run/complaintd/api"), copied. The endpoint is checked now
 * (a socket is connected to it and closed); the connection the calls use is made by the first
 * call, in the background of its wait, so a daemon that is not running yet is not an error
 * here. Returns 0, -EINVAL for a malformed endpoint, -EPROTONOSUPPORT for an unknown transport,
 * -ENOMEM, or another negative errno from ZeroMQ. *ret is the caller's, freed with
 * complaint_client_free(). */
int complaint_client_new(const char *endpoint, complaint_client_t **ret);

/* Closes the connection, dropping anything unsent, frees the client and sets *c to NULL.
 * Accepts NULL and a pointer to NULL. */
void complaint_client_free(complaint_client_t **c);

/* The endpoint the client talks to; borrowed, valid until the client is freed. */
const char *complaint_client_endpoint(const complaint_client_t *c);

/* Makes the client speak CURVE: client_public and client_secret are its key pair, server_public
 * the daemon's public key, pinned (a daemon with another key is refused), each 40 characters of
 * Z85 and copied (the secret is wiped from memory when replaced or freed). The socket is closed
 * now (a connection made without the keys is not used again), and every socket the calls open
 * from now on has the keys. Three NULLs go back to plain ZMTP. Returns 0; -EINVAL when only
 * some are NULL, a key is not 40 Z85 characters that zmq_z85_decode() accepts, or client_public
 * is not the public key of client_secret; or -ENOTSUP when this libzmq was built without CURVE.
 * The keys are unchanged on failure. */
int complaint_client_set_curve(complaint_client_t *c, const char *client_public,
                               const char *client_secret, const char *server_public);

/* Writes a fresh request id to ret_id: 32 hex digits, the first 12 the wall-clock time in
 * milliseconds, the other 20 80 bits from getrandom(). Ids made later sort later, so the daemon
 * stores the replies of a batch side by side (PROTOCOL.md, "Changes and idempotency"); the
 * random bits keep ids unique across clients. Returns 0, or a negative errno from getrandom(),
 * leaving ret_id untouched. */
int complaint_request_id_generate(char ret_id[COMPLAINT_REQUEST_ID_SIZE]);

/* Sends req and waits for its reply. req is borrowed and not modified: the call encodes a copy
 * that carries schema_version = PB_SCHEMA_VERSION and, when req->request_id is empty, a fresh
 * request id (reads get one too, so every reply is matched to its request by id; the daemon
 * echoes it in reply->request_id).
 *
 * Each try waits up to timeout_ms (negative: forever) with zmq_poll. When it passes without an
 * answer, the socket is closed and reopened, so a late reply to the old socket is dropped, and the
 * same encoded bytes are sent again, up to `retries` more times. The daemon answers a repeated
 * change with the first reply (reply->replayed) and changes nothing, so retrying is safe. A
 * caller who wants to retry beyond this call (after -ETIMEDOUT or -EINTR) sets req->request_id
 * itself, with complaint_request_id_generate(), and sends the same request again.
 *
 * A try that opens the socket (the first call, and every try after a failed one) watches its
 * handshakes until it ends (a zmq_socket_monitor() on an inproc endpoint of the client's own),
 * so a handshake the daemon or the client refuses ends the call at once, without retries,
 * instead of running into the timeout. (A connection that was made, lost, and refused when it
 * came back, say after the daemon restarted with another configuration, is not watched: that
 * try times out, and the next one, on a new socket, tells.)
 *   -EACCES        the daemon refused our key (ZAP status 400): not one of its principals;
 *   -EKEYREJECTED  the daemon's key is not the server key given: it speaks CURVE (it refuses
 *                  a plain handshake) but drops ours without a word, as a server does that
 *                  cannot decrypt our HELLO; or its WELCOME did not decrypt;
 *   -ENOKEY        we have no keys and the daemon speaks CURVE: it wants a key;
 *   -ENOPROTOOPT   we have keys and the daemon speaks plain ZMTP: it runs without access
 *                  control (ipc:// and loopback only), and pinning its key cannot hold;
 *   -ECONNREFUSED  the daemon could not check our key (ZAP status 500): try again later.
 * The socket is closed after any of these, so a refused client does not keep knocking. To tell
 * a daemon with another key from one without CURVE, which ZeroMQ often reports alike (a
 * dropped connection), the call may open a second, plain connection that sends nothing.
 *
 * Returns 0 with *ret_reply set, also when the daemon refused the request: reply->error !=
 * E_OK, reply->message says why and reply->field names the offending field. *ret_reply is the
 * caller's, freed with complaint__v1__reply__free_unpacked(reply, NULL). Fails with
 * -ETIMEDOUT when no try got an answer, one of the handshake errors above, -EPROTO when the
 * answer was not a framed, decodable Reply, -EINTR when a signal interrupted the wait, -ENOMEM,
 * or another negative errno from ZeroMQ or getrandom(); *ret_reply is then untouched. */
int complaint_client_call(complaint_client_t *c, const pb_request_t *req, int timeout_ms,
                          int retries, pb_reply_t **ret_reply);

#ifdef __cplusplus
}
#endif

#endif
