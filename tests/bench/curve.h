/* curve.h: CURVE (issue 14) on the client side of bench_loadgen: the key files of a benchmark
 * run, and every socket the process connects made a CURVE client of the daemon.
 *
 * A key directory holds, as `complaintctl keygen` writes key files ("public = <Z85>" and
 * "secret = <Z85>", a line each):
 *   server.key  the daemon's key pair (mode 0600): the `access` group's server_key
 *   server.pub  its public key alone: what the clients pin
 *   client.key  the clients' key pair (mode 0600): the loadgen's, one principal's
 *   client.pub  its public key alone: the principal's key in the configuration
 *
 * How the options reach every socket. libcomplaint has no CURVE setter, and the fan-out's
 * subscribers are libcomplaint's (complaint_sub.h): each opens a SUB socket and an API client
 * of its own, in a ZeroMQ context of its own. So bench_loadgen defines zmq_connect() itself, and
 * the dynamic linker resolves libcomplaint's calls to it as well as the loadgen's: once
 * bench_curve_load() has run, it sets ZMQ_CURVE_SERVERKEY, ZMQ_CURVE_PUBLICKEY and
 * ZMQ_CURVE_SECRETKEY on the socket and then calls libzmq's. Without bench_curve_load() it is
 * libzmq's and nothing more. The client library is measured unchanged, as a department system
 * would run it once it can be given keys. */
#ifndef COMPLAINTD_BENCH_CURVE_H
#define COMPLAINTD_BENCH_CURVE_H

#include <stdbool.h>
#include <stdint.h>

/* Writes a fresh server and client key pair into dir (which must exist), as above. Returns 0,
 * -ENOTSUP when libzmq was built without CURVE, or another negative errno. */
int bench_curve_keygen(const char *dir);

/* Reads dir/server.pub and dir/client.key and makes every zmq_connect() from now on, in this
 * process and its libraries, a CURVE client's with them. Call it before any thread starts.
 * Returns 0, -EBADMSG for a file that is not a key file, -ENOTSUP when libzmq was built without
 * CURVE, -ELIBBAD when libcomplaint's calls to zmq_connect() would not come here (so its
 * sockets would connect without CURVE and be refused), or the errno of reading a file. */
int bench_curve_load(const char *dir);

/* Whether bench_curve_load() has run. */
bool bench_curve_on(void);

/* Sockets connected as CURVE clients so far, and of them SUB sockets. */
uint64_t bench_curve_connects(void);
uint64_t bench_curve_sub_connects(void);

#endif
