/* auth.c: the ZAP handler behind auth.h. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "auth.h"
#include "log.h"
#include "macro.h"

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define ZAP_DOMAIN "complaintd"
#define REFUSED_LOG_MS 60000
#define REFUSED_KEYS 64  /* keys whose last log line is remembered; the oldest is forgotten */
#define REFUSED_LINES 10 /* refusal lines a minute, all keys together */

struct refused {
        char key[CONFIG_KEY_LEN + 1];
        int64_t logged; /* monotonic ms */
        uint64_t count;
};

struct auth {
        void *sock;
        const conf_t *cfg;
        uint64_t refused;
        struct refused recent[REFUSED_KEYS];
        /* All keys together: at most REFUSED_LINES lines a minute, however many keys a
         * hostile client makes up; the rest are counted into the next line. */
        int64_t window_start;
        unsigned lines;
        uint64_t suppressed;
};

int
auth_open(void *zctx, const conf_t *cfg, auth_t **ret)
{
        auth_t *a = calloc(1, sizeof(*a));
        int r;

        if (a == NULL)
                return -ENOMEM;
        a->cfg = cfg;
        a->sock = zmq_socket(zctx, ZMQ_REP);
        if (a->sock == NULL || zmq_bind(a->sock, ZAP_ENDPOINT) < 0) {
                r = -zmq_errno();
                if (a->sock)
                        zmq_close(a->sock);
                free(a);
                return r;
        }
        zmq_setsockopt(a->sock, ZMQ_LINGER, &(int){0}, sizeof(int));
        *ret = a;
        return 0;
}

void
auth_close(auth_t **ap)
{
        if (*ap == NULL)
                return;
        zmq_close((*ap)->sock);
        free(*ap);
        *ap = NULL;
}

void *
auth_socket(auth_t *a)
{
        return a->sock;
}

void
auth_set_config(auth_t *a, const conf_t *cfg)
{
        a->cfg = cfg;
}

uint64_t
auth_refused(const auth_t *a)
{
        return a->refused;
}

int
auth_curve_server(void *sock, const struct config_access *access)
{
        int one = 1;

        if (zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &one, sizeof(one)) < 0 ||
            zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, access->server_secret, CONFIG_KEY_LEN) < 0 ||
            zmq_setsockopt(sock, ZMQ_ZAP_DOMAIN, ZAP_DOMAIN, strlen(ZAP_DOMAIN)) < 0)
                return -zmq_errno();
        return 0;
}

/* Logs a refused key at most once a minute, with how often it was refused meanwhile. */
static void
s_log_refused(auth_t *a, const char *key, const char *address)
{
        struct refused *slot = &a->recent[0];
        int64_t now = mono_ms();

        for (size_t i = 0; i < REFUSED_KEYS; i++) {
                if (strcmp(a->recent[i].key, key) == 0) {
                        slot = &a->recent[i];
                        break;
                }
                if (a->recent[i].logged < slot->logged)
                        slot = &a->recent[i];
        }
        if (strcmp(slot->key, key) != 0) {
                memcpy(slot->key, key, sizeof(slot->key));
                slot->logged = 0;
                slot->count = 0;
        }
        slot->count++;
        if (slot->logged != 0 && now - slot->logged < REFUSED_LOG_MS)
                return;
        if (now - a->window_start >= REFUSED_LOG_MS) {
                a->window_start = now;
                a->lines = 0;
        }
        if (a->lines >= REFUSED_LINES) {
                a->suppressed++;
                return;
        }
        a->lines++;
        log_struct(LOG_WARNING, 0, NULL, "key-refused",
                   "refused a connection from %s: key %.8s... is no principal (%" PRIu64
                   " refusals of it in the last minute; %" PRIu64 " of other keys not logged)",
                   address, key, slot->count, a->suppressed);
        a->suppressed = 0;
        slot->logged = now;
        slot->count = 0;
}

/* One frame of a ZAP request into buf (NUL-terminated, truncated to size); its length. */
static int
s_frame(void *sock, char *buf, size_t size, int *more)
{
        size_t len = sizeof(*more);
        int n = zmq_recv(sock, buf, size - 1, 0);

        if (n < 0)
                return -1;
        if ((size_t)n > size - 1)
                n = (int)size - 1;
        buf[n] = '\0';
        zmq_getsockopt(sock, ZMQ_RCVMORE, more, &len);
        return n;
}

static void
s_reply(void *sock, const char *id, size_t id_len, const char *status, const char *text,
        const char *user)
{
        zmq_send(sock, "1.0", 3, ZMQ_SNDMORE);
        zmq_send(sock, id, id_len, ZMQ_SNDMORE);
        zmq_send(sock, status, strlen(status), ZMQ_SNDMORE);
        zmq_send(sock, text, strlen(text), ZMQ_SNDMORE);
        zmq_send(sock, user, strlen(user), ZMQ_SNDMORE);
        zmq_send(sock, "", 0, 0);
}

void
auth_serve(auth_t *a)
{
        /* Bounded: a storm of handshakes is answered over several loop turns. */
        for (int i = 0; i < 256; i++) {
                char frames[7][256], key[CONFIG_KEY_LEN + 1] = "";
                int len[7] = {0}, more = 1, n = 0;

                if (zmq_poll(&(zmq_pollitem_t){.socket = a->sock, .events = ZMQ_POLLIN}, 1, 0) <= 0)
                        return;
                /* version, request id, domain, address, identity, mechanism, credentials */
                while (more && n < 7) {
                        len[n] = s_frame(a->sock, frames[n], sizeof(frames[n]), &more);
                        if (len[n] < 0)
                                return;
                        n++;
                }
                while (more) { /* frames past the seventh: not ours to read */
                        char scratch[8];

                        if (s_frame(a->sock, scratch, sizeof(scratch), &more) < 0)
                                return;
                }
                if (n == 7 && strcmp(frames[5], "CURVE") == 0 && len[6] == 32)
                        zmq_z85_encode(key, (const uint8_t *)frames[6], 32);
                if (key[0] && config_find_principal(a->cfg, key)) {
                        s_reply(a->sock, frames[1], (size_t)(n > 1 ? len[1] : 0), "200", "OK", key);
                        continue;
                }
                a->refused++;
                s_log_refused(a, key[0] ? key : "(none)", n > 3 ? frames[3] : "?");
                s_reply(a->sock, frames[1], (size_t)(n > 1 ? len[1] : 0), "400", "not a principal",
                        "");
        }
}

int
auth_keygen(const char *path, char ret_public[CONFIG_KEY_LEN + 1])
{
        char pub[CONFIG_KEY_LEN + 1], sec[CONFIG_KEY_LEN + 1], text[256];
        int fd, n, r = 0;

        if (zmq_curve_keypair(pub, sec) < 0)
                return -zmq_errno();
        n = snprintf(text, sizeof(text),
                     "# a CURVE key pair (complaintd --keygen); keep this file secret\n"
                     "public = %s\nsecret = %s\n",
                     pub, sec);
        explicit_bzero(sec, sizeof(sec));
        assert(n > 0 && (size_t)n < sizeof(text));
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) {
                explicit_bzero(text, sizeof(text));
                return -errno;
        }
        if (write(fd, text, (size_t)n) != n || fsync(fd) < 0)
                r = -errno;
        explicit_bzero(text, sizeof(text));
        if (close(fd) < 0 && r == 0)
                r = -errno;
        if (r < 0) {
                unlink(path);
                return r;
        }
        memcpy(ret_public, pub, sizeof(pub));
        return 0;
}
