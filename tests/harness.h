/* harness.h: what the integration tests (tests/it_*.c) share. It owns a temporary directory, a
 * configuration made from the bundled conf/complaintd.conf, and one real complaintd started
 * from COMPLAINTD_BIN with ipc:// endpoints inside that directory; it talks to the daemon over
 * raw DEALER sockets (harness_client_t) and runs complaintctl (COMPLAINTCTL_BIN) with captured
 * output. A small JSON reader (hjson_*) checks complaintctl --json output.
 *
 * Nothing here sleeps: every wait is a zmq_poll() or poll() on an event (a reply, a pidfd, a
 * pipe) with a bounded timeout. Failures of the harness itself (no temp dir, a daemon that does
 * not come up) are reported on stderr and returned as negative errno values; the tests decide
 * whether to go on. */
#ifndef COMPLAINTD_TESTS_HARNESS_H
#define COMPLAINTD_TESTS_HARNESS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pb.h"

#ifndef COMPLAINTD_BIN
#define COMPLAINTD_BIN "complaintd"
#endif
#ifndef COMPLAINTCTL_BIN
#define COMPLAINTCTL_BIN "complaintctl"
#endif
#ifndef SOURCE_DIR
#define SOURCE_DIR "."
#endif

/* How long the daemon may take to answer its first status request after start. */
#define HARNESS_START_TIMEOUT_MS 10000
/* How long a SIGTERM'ed daemon may take to exit before it is killed. */
#define HARNESS_STOP_TIMEOUT_MS 10000
/* The default wait for one reply. */
#define HARNESS_CALL_TIMEOUT_MS 5000

typedef struct harness {
        char dir[256];         /* the temporary directory, removed by harness_cleanup() */
        char conf[PATH_MAX];   /* the configuration the daemon runs with */
        char state[PATH_MAX];  /* --state-dir */
        char api[PATH_MAX];    /* --api, an ipc:// endpoint */
        char events[PATH_MAX]; /* --events, an ipc:// endpoint */
        char log[PATH_MAX];    /* the daemon's stderr, appended across restarts */
        void *zctx;            /* the ZeroMQ context every socket of the test uses */
        pid_t pid;             /* the running daemon, or 0 */
        int pidfd;             /* a pidfd of pid, or -1 */
        int starts;            /* how many times the daemon was started */
} harness_t;

/* One DEALER connection to the daemon's API; not thread-safe, one per thread. */
typedef struct harness_client {
        void *zctx; /* borrowed from the harness */
        char endpoint[PATH_MAX];
        void *sock;
} harness_client_t;

/* Up to this many frames are kept of one raw reply. */
#define HARNESS_FRAMES_MAX 8

typedef struct harness_frames {
        size_t n; /* frames received (may exceed HARNESS_FRAMES_MAX) */
        size_t size[HARNESS_FRAMES_MAX];
        uint8_t *data[HARNESS_FRAMES_MAX]; /* malloc'ed copies, freed by harness_frames_free() */
} harness_frames_t;

/* ------------------------------------------------------------------ the daemon */

/* Makes a fresh temporary directory under $TMPDIR (or /tmp) named after the test, a ZeroMQ
 * context, and the paths of the state dir, endpoints and log inside it. Writes the bundled
 * configuration there with daemon.heartbeat set to 100ms. One harness per process. Returns 0
 * or a negative errno. */
int harness_init(harness_t *h, const char *name);

/* Writes the configuration file to path: the bundled conf/complaintd.conf with, for each pair
 * (from[i], to[i]) of a NULL-terminated list, the first occurrence of from[i] replaced by
 * to[i]. A pair whose `from` does not occur is an error (-ENOENT), so a fixture never silently
 * stops testing what it meant to. Returns 0 or a negative errno. */
int harness_write_conf(const char *path, const char *const *pairs);

/* The 1-based line of the first occurrence of needle in the file at path, or -1. */
int harness_file_line(const char *path, const char *needle);

/* Starts complaintd on h->conf, h->state, h->api and h->events with stderr appended to
 * h->log, and waits until it answers a status request (HARNESS_START_TIMEOUT_MS). When the
 * daemon exits or does not answer in time, prints its log and returns -ECHILD or -ETIMEDOUT
 * (the child is killed and reaped). Returns 0 when it serves. */
int harness_start(harness_t *h);

/* Sends SIGTERM and waits up to HARNESS_STOP_TIMEOUT_MS for the daemon to exit, then SIGKILLs
 * it. Returns its exit code (0..255), 128+signal when a signal ended it, or a negative errno. */
int harness_stop(harness_t *h);

/* Kills the daemon with SIGKILL and reaps it. Returns 0 or a negative errno. */
int harness_kill(harness_t *h);

/* Whether the daemon process is still running (not exited, not reaped). */
bool harness_running(harness_t *h);

/* Runs COMPLAINTD_BIN with the given NULL-terminated arguments (argv[0] is added), waits up to
 * timeout_ms for it to exit, and captures stdout and stderr into *ret_out and *ret_err (each
 * the caller's to free; either may be NULL to discard). Returns the exit code, 128+signal, or
 * a negative errno (-ETIMEDOUT when it had to be killed). */
int harness_run(const char *bin, const char *const *args, int timeout_ms, char **ret_out,
                char **ret_err);

/* Prints the daemon's log to stderr, prefixed, for a failed test. */
void harness_dump_log(const harness_t *h);

/* Stops the daemon if it runs, shuts the context down (sockets left open do not block it),
 * and removes the temporary directory when no check failed; otherwise keeps it and prints its
 * path. Returns check_summary()'s value unchanged (pass it through: `return
 * harness_cleanup(&h, check_summary());`). Every test calls it before main returns; a test that
 * exits early (REQUIRE) has its daemon killed by an exit handler, and the daemon dies with the
 * test process in any case (PR_SET_PDEATHSIG). */
int harness_cleanup(harness_t *h, int summary);

/* ------------------------------------------------------------------ the API */

/* Opens a DEALER to h->api. Returns 0 or a negative errno. */
int harness_client_open(harness_t *h, harness_client_t *c);

/* Closes and reopens the socket, dropping anything queued or late. */
int harness_client_reset(harness_client_t *c);

void harness_client_close(harness_client_t *c);

/* Sends n frames as given. Returns 0 or a negative errno. */
int harness_client_send(harness_client_t *c, const void *const *data, const size_t *size, size_t n);

/* Waits up to timeout_ms for one multi-frame message and copies its frames into *ret.
 * Returns 0, -ETIMEDOUT, or another negative errno. */
int harness_client_recv(harness_client_t *c, int timeout_ms, harness_frames_t *ret);

void harness_frames_free(harness_frames_t *f);

/* Sends [empty][bytes] and waits for [empty][Reply]; decodes the Reply into *ret_reply (free
 * with complaint__v1__reply__free_unpacked()). On -ETIMEDOUT the socket is reset. Returns 0,
 * -ETIMEDOUT, -EPROTO (the answer was not [empty][decodable Reply]), or a negative errno. */
int harness_client_call_raw(harness_client_t *c, const void *bytes, size_t size, int timeout_ms,
                            pb_reply_t **ret_reply);

/* Encodes req as it is (no fields are filled in) and calls harness_client_call_raw(). */
int harness_client_call(harness_client_t *c, const pb_request_t *req, int timeout_ms,
                        pb_reply_t **ret_reply);

/* Sends a change as actor under a fresh request id ("h-1", "h-2", ...: unique within the
 * test's process) and returns its reply, the caller's to free; NULL after printing why when
 * no reply came. A reply with an error is returned too, after printing its message. */
pb_reply_t *harness_change(harness_client_t *c, pb_request_t *req, const char *actor);

/* Encodes req into a malloc'ed buffer; *ret_size its length. Returns NULL on no memory. */
uint8_t *harness_encode(const pb_request_t *req, size_t *ret_size);

/* A status request on a fresh connection; returns the reply (caller frees) or NULL. */
pb_reply_t *harness_status(harness_t *h);

/* The count of complaints in status s of a status reply (0 when absent). */
uint64_t harness_status_count(const pb_reply_t *r, int s);

/* ------------------------------------------------------------------ complaintctl */

typedef struct hjson hjson_t;

typedef struct harness_ctl {
        int code;      /* exit code, 128+signal, or a negative errno */
        char *out;     /* stdout */
        char *err;     /* stderr */
        hjson_t *json; /* stdout parsed as one JSON value, or NULL */
} harness_ctl_t;

/* Runs COMPLAINTCTL_BIN --endpoint h->api --timeout 10000 followed by the NULL-terminated
 * arguments, waits for it (bounded, 30 s) and parses its stdout as JSON when it is one value.
 * Free with harness_ctl_free(). */
harness_ctl_t harness_ctl(harness_t *h, const char *const *args);
void harness_ctl_free(harness_ctl_t *r);

#define HARNESS_CTL(h, ...) harness_ctl((h), (const char *const[]){__VA_ARGS__, NULL})

/* ------------------------------------------------------------------ JSON */

typedef enum {
        HJSON_NULL,
        HJSON_BOOL,
        HJSON_NUMBER,
        HJSON_STRING,
        HJSON_ARRAY,
        HJSON_OBJECT,
} hjson_type_t;

/* Parses one complete JSON document (surrounding white space allowed). Returns the value (the
 * caller's, freed with hjson_free()) or NULL when s is not exactly one valid JSON value. */
hjson_t *hjson_parse(const char *s);
void hjson_free(hjson_t **v);

/* Looks a value up by a dotted path of object keys and array indexes: "complaint.status",
 * "history.2.action", "" for v itself. Returns a borrowed value or NULL. */
const hjson_t *hjson_get(const hjson_t *v, const char *path);
hjson_type_t hjson_type(const hjson_t *v);

/* Typed lookups: the string (borrowed) or NULL; the integer or dflt when absent, not a number
 * or not integral; the bool or dflt; the length of an array or object, or 0. */
const char *hjson_str(const hjson_t *v, const char *path);
int64_t hjson_int(const hjson_t *v, const char *path, int64_t dflt);
int hjson_bool(const hjson_t *v, const char *path, int dflt);
size_t hjson_len(const hjson_t *v, const char *path);

/* ------------------------------------------------------------------ misc */

/* A small seeded generator (xorshift64*), so a failing run can be repeated with its seed. */
uint64_t harness_rand(uint64_t *state);

/* Milliseconds on the monotonic clock. */
int64_t harness_now_ms(void);

/* ------------------------------------------------------------------ more ways to run it */

/* What harness_start_with() does beyond harness_start(). */
typedef struct harness_start_opts {
        /* A NULL-terminated list of "NAME=value" set in the daemon's environment, replacing
         * the test's own value of NAME; NULL for none. */
        const char *const *env;
        /* When not 0, the daemon's RLIMIT_NOFILE, soft and hard, set in the child before
         * exec. */
        unsigned long nofile;
} harness_start_opts_t;

/* harness_start() with opts (NULL: exactly harness_start()). Same returns. */
int harness_start_with(harness_t *h, const harness_start_opts_t *opts);

/* Waits up to timeout_ms for the daemon to exit by itself (on its pidfd) and reaps it.
 * Returns its exit code (0..255) or 128+signal; -ETIMEDOUT when it still runs after
 * timeout_ms (it is left running); -ESRCH when no daemon was started. */
int harness_wait_exit(harness_t *h, int timeout_ms);

/* The size of the daemon's log now: the offset to search it from for what comes next. */
off_t harness_log_size(const harness_t *h);

/* How many times needle occurs in the daemon's log from byte offset from on. */
size_t harness_log_count(const harness_t *h, const char *needle, off_t from);

/* Waits up to timeout_ms for needle to appear in the daemon's log after byte offset from:
 * wakes on inotify events of the log file, never on a timer. Returns the offset of the first
 * occurrence, or -ETIMEDOUT (or another negative errno). */
off_t harness_wait_log(const harness_t *h, const char *needle, off_t from, int timeout_ms);

/* ------------------------------------------------------------------ access control (CURVE) */

/* A CURVE key pair, each key 40 characters of Z85 (ZeroMQ RFC 32), NUL-terminated. */
typedef struct harness_keypair {
        char public_key[41];
        char secret_key[41];
} harness_keypair_t;

/* Makes a fresh key pair with zmq_curve_keypair(). Returns 0, -ENOTSUP when libzmq was built
 * without CURVE, or another negative errno. */
int harness_keypair(harness_keypair_t *ret);

/* Writes kp to path as a key file ("public = ...", "secret = ...", a line each, as
 * `complaintctl keygen` writes them), created or truncated with exactly the given mode.
 * Returns 0 or a negative errno. */
int harness_write_keyfile(const char *path, const harness_keypair_t *kp, mode_t mode);

/* Opens a DEALER to endpoint (NULL: h->api) as a CURVE client that trusts only the server
 * whose public key is server_public, with the key pair kp. harness_client_reset() and a
 * timeout in harness_client_call_raw() reopen the socket WITHOUT CURVE: after either, close
 * it and open it again with this function. Returns 0 or a negative errno. */
int harness_client_open_curve(harness_t *h, harness_client_t *c, const char *endpoint,
                              const char *server_public, const harness_keypair_t *kp);

/* Opens a SUB to h->events as a CURVE client as above, subscribed to each prefix of the
 * NULL-terminated list in order (the caller puts "_heartbeat" last to learn, from the first
 * heartbeat, that all of them reached the daemon). Returns the socket (the caller closes it)
 * or NULL. */
void *harness_sub_open_curve(harness_t *h, const char *server_public, const harness_keypair_t *kp,
                             const char *const *prefixes);

/* harness_start() for a configuration with access control: waits until the daemon answers a
 * status request on a CURVE connection with kp, a principal's key pair. Same returns. */
int harness_start_curve(harness_t *h, const char *server_public, const harness_keypair_t *kp);

/* A process's field of /proc/PID/status in KiB ("VmRSS", "VmHWM", "RssAnon"), or -1. */
long harness_proc_kib(pid_t pid, const char *field);

#endif
