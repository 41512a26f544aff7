/* it_client_keys.c: the client side of access control (issue 14), without the daemon. It checks
 * libcomplaint's key files and public keys (complaint_keys.h), `complaintctl keygen`, and the
 * CURVE handshake of complaint_client_call(), the subscriber and complaintctl against a server
 * the test runs itself in a thread: a CURVE ROUTER on ipc:// with a ZAP handler of its own that
 * accepts one client key and refuses every other (status 400), and a plain ROUTER beside it. Both
 * answer every request with a Reply to its id; whoami says who the client is.
 *
 *   (a) key files: what complaint_keyfile_load() accepts and refuses, complaint_keyfile_create()
 *       (mode 0600, never over a file), complaint_keyfile_check_mode(), public keys as text
 *       and in files;
 *   (b) complaint_client_call(): the accepted key gets its answer; a refused key is -EACCES, a
 *       server key that does not match is -EKEYREJECTED, keys against the plain server are
 *       -ENOPROTOOPT and no keys against the CURVE server -ENOKEY, each long before the
 *       timeout; a client without keys still talks to the plain server; the subscriber with a
 *       refused key gets -EACCES from complaint_sub_next();
 *   (c) complaintctl: keygen (the file's mode, no overwrite, the printed public key is the
 *       file's), whoami, exit status 3 with the message for a refused key and for a server key
 *       that does not match, and where the settings come from (options, environment, the
 *       per-user file) and in which order; the example department agent with a refused key.
 *
 * No sleeps: the server thread waits in zmq_poll(), complaintctl runs under harness_run()'s
 * bounded wait, and the library's waits are bounded by the timeouts given. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zmq.h>

#include "check.h"
#include "complaint_sub.h"
#include "harness.h"

CHECK_DEFINE_COUNTERS();

#define CALL_TIMEOUT_MS 5000
#define QUICK_MS 2000 /* a refused handshake is told well before the timeout */
#define CTL_TIMEOUT_MS 30000
/* complaintctl's system-wide settings file (client/settings.h), which the test cannot move. */
#define SETTINGS_SYSTEM_FILE_FOR_TEST "/etc/complaintd/complaintctl.conf"

/* ------------------------------------------------------------------ the test's server */

struct server {
        void *ctx;
        void *zap, *curve, *plain; /* bound in main, then the thread's alone until joined */
        int stop[2];               /* a byte on stop[1] ends the thread */
        pthread_t thread;
        char curve_ep[PATH_MAX], plain_ep[PATH_MAX];
        char public[COMPLAINT_KEY_SIZE], secret[COMPLAINT_KEY_SIZE];
        uint8_t accepted[32]; /* the one client key the ZAP handler lets in */
        atomic_int zap_requests, zap_refused, answered;
};

/* Receives one message of up to 8 frames into f (sizes and copies); returns the frame count or
 * -1. */
static int
s_recv_frames(void *sock, zmq_msg_t f[8])
{
        int n = 0;
        bool more = true;

        while (more) {
                zmq_msg_t scratch, *m = n < 8 ? &f[n] : &scratch;

                zmq_msg_init(m);
                if (zmq_msg_recv(m, sock, 0) < 0) {
                        zmq_msg_close(m);
                        return -1;
                }
                more = zmq_msg_more(m);
                if (m == &scratch)
                        zmq_msg_close(m);
                else
                        n++;
        }
        return n;
}

static void
s_close_frames(zmq_msg_t f[8], int n)
{
        for (int i = 0; i < n; i++)
                zmq_msg_close(&f[i]);
}

/* Answers one ZAP request (RFC 27): [version][request id][domain][address][identity]
 * [mechanism][client key...] -> [version][request id][status][text][user id][metadata]. */
static void
s_zap(struct server *s)
{
        zmq_msg_t f[8];
        int n = s_recv_frames(s->zap, f);
        bool ok;

        if (n < 0)
                return;
        atomic_fetch_add(&s->zap_requests, 1);
        ok = n >= 7 && zmq_msg_size(&f[5]) == 5 && memcmp(zmq_msg_data(&f[5]), "CURVE", 5) == 0 &&
             zmq_msg_size(&f[6]) == 32 && memcmp(zmq_msg_data(&f[6]), s->accepted, 32) == 0;
        if (!ok)
                atomic_fetch_add(&s->zap_refused, 1);
        zmq_send(s->zap, "1.0", 3, ZMQ_SNDMORE);
        zmq_send(s->zap, n > 1 ? zmq_msg_data(&f[1]) : "", n > 1 ? zmq_msg_size(&f[1]) : 0,
                 ZMQ_SNDMORE);
        zmq_send(s->zap, ok ? "200" : "400", 3, ZMQ_SNDMORE);
        zmq_send(s->zap, ok ? "OK" : "unknown key", ok ? 2 : 11, ZMQ_SNDMORE);
        zmq_send(s->zap, ok ? "alice" : "", ok ? 5 : 0, ZMQ_SNDMORE);
        zmq_send(s->zap, "", 0, 0);
        s_close_frames(f, n);
}

/* Answers one request [id][empty][Request] with [id][empty][Reply]. */
static void
s_serve(struct server *s, void *sock, bool curve)
{
        static char *departments[] = {"billing", "network"};
        static uint32_t levels[] = {1, 2};
        Complaint__V1__WhoAmIReply who = COMPLAINT__V1__WHO_AM_IREPLY__INIT;
        pb_reply_t rep = COMPLAINT__V1__REPLY__INIT;
        pb_request_t *req;
        zmq_msg_t f[8];
        uint8_t buf[1024];
        size_t len;
        int n = s_recv_frames(sock, f);

        if (n < 0)
                return;
        if (n != 3) {
                s_close_frames(f, n);
                return;
        }
        req = complaint__v1__request__unpack(NULL, zmq_msg_size(&f[2]), zmq_msg_data(&f[2]));
        if (req == NULL) {
                s_close_frames(f, n);
                return;
        }
        rep.schema_version = PB_SCHEMA_VERSION;
        rep.request_id = req->request_id;
        rep.error = E_OK;
        if (req->body_case == COMPLAINT__V1__REQUEST__BODY_WHOAMI) {
                who.access_control = curve;
                if (curve) {
                        who.principal = "alice";
                        who.role = "department";
                        who.departments = departments;
                        who.n_departments = 2;
                        who.levels = levels;
                        who.n_levels = 2;
                        who.contact = true;
                        who.actor = "alice";
                } else {
                        who.actor = req->actor;
                }
                rep.whoami = &who;
        }
        len = complaint__v1__reply__get_packed_size(&rep);
        if (len <= sizeof(buf)) {
                complaint__v1__reply__pack(&rep, buf);
                zmq_send(sock, zmq_msg_data(&f[0]), zmq_msg_size(&f[0]), ZMQ_SNDMORE);
                zmq_send(sock, "", 0, ZMQ_SNDMORE);
                zmq_send(sock, buf, len, 0);
                atomic_fetch_add(&s->answered, 1);
        }
        complaint__v1__request__free_unpacked(req, NULL);
        s_close_frames(f, n);
}

static void *
s_server_run(void *arg)
{
        struct server *s = arg;

        for (;;) {
                zmq_pollitem_t items[4] = {{.socket = s->zap, .events = ZMQ_POLLIN},
                                           {.socket = s->curve, .events = ZMQ_POLLIN},
                                           {.socket = s->plain, .events = ZMQ_POLLIN},
                                           {.fd = s->stop[0], .events = ZMQ_POLLIN}};

                if (zmq_poll(items, 4, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (items[3].revents)
                        break;
                if (items[0].revents)
                        s_zap(s);
                if (items[1].revents)
                        s_serve(s, s->curve, true);
                if (items[2].revents)
                        s_serve(s, s->plain, false);
        }
        return NULL;
}

static void
s_server_start(struct server *s, const char *dir, const char *accepted_public)
{
        int one = 1, linger = 0;

        memset(s, 0, sizeof(*s));
        snprintf(s->curve_ep, sizeof(s->curve_ep), "ipc://%s/curve", dir);
        snprintf(s->plain_ep, sizeof(s->plain_ep), "ipc://%s/plain", dir);
        REQUIRE(zmq_curve_keypair(s->public, s->secret) == 0);
        REQUIRE(zmq_z85_decode(s->accepted, accepted_public) != NULL);
        REQUIRE(pipe2(s->stop, O_CLOEXEC) == 0);
        s->ctx = zmq_ctx_new();
        REQUIRE(s->ctx);
        /* The handler is bound before the CURVE socket, so no handshake goes unchecked. */
        s->zap = zmq_socket(s->ctx, ZMQ_REP);
        REQUIRE(s->zap && zmq_bind(s->zap, "inproc://zeromq.zap.01") == 0);
        s->curve = zmq_socket(s->ctx, ZMQ_ROUTER);
        REQUIRE(s->curve);
        REQUIRE(zmq_setsockopt(s->curve, ZMQ_LINGER, &linger, sizeof(linger)) == 0);
        REQUIRE(zmq_setsockopt(s->curve, ZMQ_CURVE_SERVER, &one, sizeof(one)) == 0);
        REQUIRE(zmq_setsockopt(s->curve, ZMQ_CURVE_SECRETKEY, s->secret, COMPLAINT_KEY_SIZE) == 0);
        REQUIRE(zmq_setsockopt(s->curve, ZMQ_ZAP_DOMAIN, "complaint", 9) == 0);
        REQUIRE(zmq_bind(s->curve, s->curve_ep) == 0);
        s->plain = zmq_socket(s->ctx, ZMQ_ROUTER);
        REQUIRE(s->plain);
        REQUIRE(zmq_setsockopt(s->plain, ZMQ_LINGER, &linger, sizeof(linger)) == 0);
        REQUIRE(zmq_bind(s->plain, s->plain_ep) == 0);
        REQUIRE(pthread_create(&s->thread, NULL, s_server_run, s) == 0);
}

static void
s_server_stop(struct server *s)
{
        REQUIRE(write(s->stop[1], "x", 1) == 1);
        pthread_join(s->thread, NULL);
        zmq_close(s->zap);
        zmq_close(s->curve);
        zmq_close(s->plain);
        zmq_ctx_term(s->ctx);
        close(s->stop[0]);
        close(s->stop[1]);
}

/* ------------------------------------------------------------------ files */

static void
s_write(const char *path, const char *text, mode_t mode)
{
        FILE *f;

        unlink(path);
        f = fopen(path, "w");
        REQUIRE(f);
        REQUIRE(fputs(text, f) >= 0);
        REQUIRE(fclose(f) == 0);
        REQUIRE(chmod(path, mode) == 0);
}

static char *
s_read(const char *path)
{
        FILE *f = fopen(path, "r");
        char *text = calloc(1, 65536);
        size_t n;

        REQUIRE(f && text);
        n = fread(text, 1, 65535, f);
        text[n] = '\0';
        fclose(f);
        return text;
}

/* A key file's text for the pair (pub, sec), with decoration around it. */
static void
s_keyfile_text(char *buf, size_t size, const char *pub, const char *sec)
{
        snprintf(buf, size,
                 "# a comment\r\n\r\n   public   =   \"%s\"   \r\n\t# another\nsecret=%s", pub,
                 sec);
}

static void
test_keyfiles(const char *dir)
{
        char path[PATH_MAX], other[PATH_MAX], text[4096], pub[COMPLAINT_KEY_SIZE],
            sec[COMPLAINT_KEY_SIZE], pub2[COMPLAINT_KEY_SIZE], sec2[COMPLAINT_KEY_SIZE];
        char got_pub[COMPLAINT_KEY_SIZE] = "untouched", got_sec[COMPLAINT_KEY_SIZE] = "untouched";
        char made[COMPLAINT_KEY_SIZE], bad[COMPLAINT_KEY_SIZE];
        struct stat st;
        char *big;

        fprintf(stderr, "(a) key files\n");
        REQUIRE(zmq_curve_keypair(pub, sec) == 0);
        REQUIRE(zmq_curve_keypair(pub2, sec2) == 0);

        /* Made by the library: private, loadable, never over a file. */
        snprintf(path, sizeof(path), "%s/made.key", dir);
        CHECK_INT(complaint_keyfile_create(path, made), 0);
        CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
        CHECK_INT(complaint_keyfile_check_mode(path), 0);
        CHECK_INT(complaint_keyfile_load(path, got_pub, got_sec), 0);
        CHECK_STR(got_pub, made);
        CHECK(complaint_key_valid(got_sec));
        {
                char *before = s_read(path);
                char again[COMPLAINT_KEY_SIZE] = "untouched";
                char *after;

                CHECK_INT(complaint_keyfile_create(path, again), -EEXIST);
                CHECK_STR(again, "untouched");
                after = s_read(path);
                CHECK_STR(after, before);
                free(before);
                free(after);
        }
        CHECK(chmod(path, 0640) == 0);
        CHECK_INT(complaint_keyfile_check_mode(path), -EPERM);
        CHECK(chmod(path, 0604) == 0);
        CHECK_INT(complaint_keyfile_check_mode(path), -EPERM);

        /* Comments, blank lines, CRLF, blanks and quotes around the value. */
        snprintf(path, sizeof(path), "%s/decorated.key", dir);
        s_keyfile_text(text, sizeof(text), pub, sec);
        s_write(path, text, 0600);
        CHECK_INT(complaint_keyfile_load(path, got_pub, got_sec), 0);
        CHECK_STR(got_pub, pub);
        CHECK_STR(got_sec, sec);

        /* What is not a key file; the out-parameters stay as they were. */
        {
                char trunc[COMPLAINT_KEY_SIZE];
                const char *cases[16];
                char bufs[16][1024];
                size_t n = 0;

                memcpy(trunc, pub, 39);
                trunc[39] = '\0';
                memcpy(bad, pub, sizeof(bad));
                bad[7] = '~'; /* not a Z85 character */
                snprintf(bufs[n], sizeof(bufs[n]), "public = %s\n", pub);
                cases[n] = bufs[n], n++; /* no secret */
                snprintf(bufs[n], sizeof(bufs[n]), "secret = %s\n", sec);
                cases[n] = bufs[n], n++; /* no public */
                snprintf(bufs[n], sizeof(bufs[n]), "public = %s\npublic = %s\nsecret = %s\n", pub,
                         pub, sec);
                cases[n] = bufs[n], n++; /* twice */
                snprintf(bufs[n], sizeof(bufs[n]), "public = %s\nsecret = %s\ncolour = red\n", pub,
                         sec);
                cases[n] = bufs[n], n++; /* another setting */
                snprintf(bufs[n], sizeof(bufs[n]), "public = %s\nsecret = %s\n", trunc, sec);
                cases[n] = bufs[n], n++; /* 39 characters */
                snprintf(bufs[n], sizeof(bufs[n]), "public = %s\nsecret = %s\n", bad, sec);
                cases[n] = bufs[n], n++; /* not Z85 */
                snprintf(bufs[n], sizeof(bufs[n]), "public = %s\nsecret = %s\n", pub, sec2);
                cases[n] = bufs[n], n++; /* not one pair */
                snprintf(bufs[n], sizeof(bufs[n]), "%s\n%s\n", pub, sec);
                cases[n] = bufs[n], n++; /* no names */
                snprintf(bufs[n], sizeof(bufs[n]), "%s", "");
                cases[n] = bufs[n], n++; /* empty */
                for (size_t i = 0; i < n; i++) {
                        char p[COMPLAINT_KEY_SIZE] = "untouched",
                             q[COMPLAINT_KEY_SIZE] = "untouched";

                        snprintf(path, sizeof(path), "%s/bad%zu.key", dir, i);
                        s_write(path, cases[i], 0600);
                        CHECK_INT(complaint_keyfile_load(path, p, q), -EBADMSG);
                        CHECK_STR(p, "untouched");
                        CHECK_STR(q, "untouched");
                }
        }
        snprintf(path, sizeof(path), "%s/absent.key", dir);
        CHECK_INT(complaint_keyfile_load(path, got_pub, got_sec), -ENOENT);
        /* More than 64 KiB is not a key file, even of comments. */
        snprintf(path, sizeof(path), "%s/big.key", dir);
        big = malloc(70000);
        REQUIRE(big);
        memset(big, '#', 69999);
        big[69999] = '\0';
        s_keyfile_text(text, sizeof(text), pub, sec);
        memcpy(big, text, strlen(text));
        big[strlen(text)] = '\n';
        s_write(path, big, 0600);
        free(big);
        CHECK_INT(complaint_keyfile_load(path, got_pub, got_sec), -EBADMSG);

        /* Keys: Z85, 40 characters; none starts with '#', so a comment is never a key. */
        CHECK(complaint_key_valid(pub));
        CHECK(!complaint_key_valid(bad));
        CHECK(!complaint_key_valid("#000000000000000000000000000000000000000"));
        CHECK(!complaint_key_valid(""));

        /* Public keys as text, in a file of their own, in a key file. */
        memset(got_pub, 0, sizeof(got_pub));
        CHECK_INT(complaint_public_key_load(pub2, got_pub), 0);
        CHECK_STR(got_pub, pub2);
        snprintf(path, sizeof(path), "%s/server.pub", dir);
        snprintf(text, sizeof(text), "# the daemon's key\n\n  %s  \n", pub2);
        s_write(path, text, 0644);
        memset(got_pub, 0, sizeof(got_pub));
        CHECK_INT(complaint_public_key_load(path, got_pub), 0);
        CHECK_STR(got_pub, pub2);
        snprintf(path, sizeof(path), "%s/decorated.key", dir);
        memset(got_pub, 0, sizeof(got_pub));
        CHECK_INT(complaint_public_key_load(path, got_pub), 0);
        CHECK_STR(got_pub, pub);
        snprintf(path, sizeof(path), "%s/secret-first.key", dir);
        snprintf(text, sizeof(text), "secret = %s\npublic = %s\n", sec, pub);
        s_write(path, text, 0600);
        strcpy(got_pub, "untouched");
        CHECK_INT(complaint_public_key_load(path, got_pub), -EBADMSG);
        CHECK_STR(got_pub, "untouched");
        snprintf(other, sizeof(other), "%s/empty.pub", dir);
        s_write(other, "# nothing\n", 0644);
        CHECK_INT(complaint_public_key_load(other, got_pub), -EBADMSG);
        /* 39 characters are neither a key nor a file. */
        memcpy(text, pub2, 39);
        text[39] = '\0';
        CHECK_INT(complaint_public_key_load(text, got_pub), -ENOENT);
        CHECK_STR(got_pub, "untouched");
}

/* ------------------------------------------------------------------ the library's handshakes */

/* A whoami through a fresh client of endpoint with the given keys (NULL: none); returns the
 * call's result and how long it took, and the principal in *ret_principal when answered. */
static int
s_whoami(const char *endpoint, const char *pub, const char *sec, const char *server_pub,
         int64_t *ret_ms, char *ret_principal, size_t size)
{
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        Complaint__V1__WhoAmIRequest q = COMPLAINT__V1__WHO_AM_IREQUEST__INIT;
        complaint_client_t *c = NULL;
        pb_reply_t *reply = NULL;
        int64_t start;
        int r;

        REQUIRE(complaint_client_new(endpoint, &c) == 0);
        if (pub)
                REQUIRE(complaint_client_set_curve(c, pub, sec, server_pub) == 0);
        req.body_case = COMPLAINT__V1__REQUEST__BODY_WHOAMI;
        req.whoami = &q;
        req.actor = "tester";
        start = harness_now_ms();
        r = complaint_client_call(c, &req, CALL_TIMEOUT_MS, 2, &reply);
        *ret_ms = harness_now_ms() - start;
        if (r == 0) {
                snprintf(ret_principal, size, "%s",
                         reply->whoami ? reply->whoami->principal : "(no whoami)");
                complaint__v1__reply__free_unpacked(reply, NULL);
        }
        complaint_client_free(&c);
        return r;
}

static void
test_library(struct server *s, const char *alice_pub, const char *alice_sec, const char *bob_pub,
             const char *bob_sec)
{
        char principal[64] = "", wrong_pub[COMPLAINT_KEY_SIZE], wrong_sec[COMPLAINT_KEY_SIZE];
        complaint_client_t *c = NULL;
        complaint_sub_t *sub = NULL;
        pb_event_t *ev = NULL;
        int64_t ms = 0, start;
        int refused_before;

        fprintf(stderr, "(b) the library's handshakes\n");
        REQUIRE(zmq_curve_keypair(wrong_pub, wrong_sec) == 0);

        CHECK_INT(s_whoami(s->curve_ep, alice_pub, alice_sec, s->public, &ms, principal,
                           sizeof(principal)),
                  0);
        CHECK_STR(principal, "alice");

        refused_before = atomic_load(&s->zap_refused);
        CHECK_INT(
            s_whoami(s->curve_ep, bob_pub, bob_sec, s->public, &ms, principal, sizeof(principal)),
            -EACCES);
        fprintf(stderr, "    refused key told in %lld ms\n", (long long)ms);
        CHECK(ms < QUICK_MS);
        CHECK(atomic_load(&s->zap_refused) > refused_before);

        CHECK_INT(s_whoami(s->curve_ep, alice_pub, alice_sec, wrong_pub, &ms, principal,
                           sizeof(principal)),
                  -EKEYREJECTED);
        fprintf(stderr, "    wrong server key told in %lld ms\n", (long long)ms);
        CHECK(ms < QUICK_MS);

        CHECK_INT(s_whoami(s->plain_ep, alice_pub, alice_sec, s->public, &ms, principal,
                           sizeof(principal)),
                  -ENOPROTOOPT);
        CHECK(ms < QUICK_MS);
        CHECK_INT(s_whoami(s->curve_ep, NULL, NULL, NULL, &ms, principal, sizeof(principal)),
                  -ENOKEY);
        CHECK(ms < QUICK_MS);
        /* Without keys, as before access control. */
        strcpy(principal, "?");
        CHECK_INT(s_whoami(s->plain_ep, NULL, NULL, NULL, &ms, principal, sizeof(principal)), 0);
        CHECK_STR(principal, "");

        /* Keys checked on the way in; the same client refused, then given the right key. */
        REQUIRE(complaint_client_new(s->curve_ep, &c) == 0);
        CHECK_INT(complaint_client_set_curve(c, alice_pub, alice_sec, NULL), -EINVAL);
        CHECK_INT(complaint_client_set_curve(c, alice_pub, bob_sec, s->public), -EINVAL);
        CHECK_INT(complaint_client_set_curve(c, "short", alice_sec, s->public), -EINVAL);
        CHECK_INT(complaint_client_set_curve(c, NULL, NULL, NULL), 0);
        CHECK_INT(complaint_client_set_curve(c, bob_pub, bob_sec, s->public), 0);
        {
                pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
                Complaint__V1__WhoAmIRequest q = COMPLAINT__V1__WHO_AM_IREQUEST__INIT;
                pb_reply_t *reply = NULL;

                req.body_case = COMPLAINT__V1__REQUEST__BODY_WHOAMI;
                req.whoami = &q;
                CHECK_INT(complaint_client_call(c, &req, CALL_TIMEOUT_MS, 0, &reply), -EACCES);
                CHECK_INT(complaint_client_set_curve(c, alice_pub, alice_sec, s->public), 0);
                CHECK_INT(complaint_client_call(c, &req, CALL_TIMEOUT_MS, 0, &reply), 0);
                CHECK(reply && reply->whoami && strcmp(reply->whoami->principal, "alice") == 0);
                if (reply)
                        complaint__v1__reply__free_unpacked(reply, NULL);
        }
        complaint_client_free(&c);

        /* The subscriber: its first API request meets the refusal and says so. */
        REQUIRE(complaint_sub_new(s->curve_ep, &sub) == 0);
        CHECK_INT(complaint_sub_set_curve(sub, bob_pub, "not a key", s->public), -EINVAL);
        CHECK_INT(complaint_sub_set_curve(sub, bob_pub, bob_sec, s->public), 0);
        complaint_sub_set_call_timeout(sub, CALL_TIMEOUT_MS);
        start = harness_now_ms();
        CHECK_INT(complaint_sub_next(sub, CALL_TIMEOUT_MS, &ev), -EACCES);
        CHECK(harness_now_ms() - start < QUICK_MS);
        complaint_sub_free(&sub);
}

/* ------------------------------------------------------------------ complaintctl */

struct ctl_result {
        int code;
        char *out, *err;
};

#define CTL(...) s_ctl((const char *const[]){__VA_ARGS__, NULL})

static struct ctl_result
s_ctl(const char *const *args)
{
        struct ctl_result r = {0};

        r.code = harness_run(COMPLAINTCTL_BIN, args, CTL_TIMEOUT_MS, &r.out, &r.err);
        if (r.out == NULL)
                r.out = strdup("");
        if (r.err == NULL)
                r.err = strdup("");
        return r;
}

static void
s_ctl_free(struct ctl_result *r)
{
        free(r->out);
        free(r->err);
}

static bool
s_has(const char *text, const char *needle)
{
        if (strstr(text, needle))
                return true;
        fprintf(stderr, "    expected \"%s\" in:\n%s\n", needle, text);
        return false;
}

/* The public key keygen printed ("public key: X"), copied to ret. */
static bool
s_printed_key(const char *out, char ret[COMPLAINT_KEY_SIZE])
{
        const char *p = strstr(out, "public key: ");

        if (p == NULL || strlen(p + 12) < 40)
                return false;
        memcpy(ret, p + 12, 40);
        ret[40] = '\0';
        return p[12 + 40] == '\n';
}

static void
test_keygen(const char *dir, char alice_pub[COMPLAINT_KEY_SIZE], char bob_pub[COMPLAINT_KEY_SIZE])
{
        char path[PATH_MAX], printed[COMPLAINT_KEY_SIZE], pub[COMPLAINT_KEY_SIZE],
            sec[COMPLAINT_KEY_SIZE], stanza[128];
        struct ctl_result r;
        struct stat st;
        char *before, *after;
        hjson_t *j;

        fprintf(stderr, "(c) complaintctl keygen\n");
        r = CTL("keygen", "alice", "--out", dir);
        CHECK_INT(r.code, 0);
        snprintf(path, sizeof(path), "%s/alice.key", dir);
        CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
        REQUIRE(complaint_keyfile_load(path, pub, sec) == 0);
        CHECK(s_printed_key(r.out, printed));
        CHECK_STR(printed, pub);
        snprintf(stanza, sizeof(stanza), "{ name = \"alice\"; key = \"%s\"; role = \"intake\"; }",
                 pub);
        CHECK(s_has(r.out, stanza));
        memcpy(alice_pub, pub, COMPLAINT_KEY_SIZE);
        s_ctl_free(&r);

        /* Never over a key: the file stays as it was. */
        before = s_read(path);
        r = CTL("keygen", "alice", "--out", dir);
        CHECK_INT(r.code, 1);
        CHECK(s_has(r.err, "exists already"));
        after = s_read(path);
        CHECK_STR(after, before);
        free(before);
        free(after);
        s_ctl_free(&r);

        /* In the current directory (the test's), and in JSON. */
        r = CTL("keygen", "bob", "--json");
        CHECK_INT(r.code, 0);
        j = hjson_parse(r.out);
        CHECK(j != NULL);
        snprintf(path, sizeof(path), "%s/bob.key", dir);
        REQUIRE(complaint_keyfile_load(path, pub, sec) == 0);
        CHECK_STR(hjson_str(j, "public"), pub);
        CHECK_STR(hjson_str(j, "file"), "./bob.key");
        memcpy(bob_pub, pub, COMPLAINT_KEY_SIZE);
        hjson_free(&j);
        s_ctl_free(&r);

        r = CTL("keygen", "../escape");
        CHECK_INT(r.code, 2);
        s_ctl_free(&r);
        r = CTL("keygen");
        CHECK_INT(r.code, 2);
        s_ctl_free(&r);
}

static void
test_ctl(const char *dir, struct server *s, const char *alice_pub, const char *bob_pub)
{
        char alice[PATH_MAX], bob[PATH_MAX], server_pub[PATH_MAX], conf_dir[PATH_MAX],
            conf[PATH_MAX + 16], text[3 * PATH_MAX], wrong_pub[COMPLAINT_KEY_SIZE],
            wrong_sec[COMPLAINT_KEY_SIZE], needle[PATH_MAX + 256], exposed[PATH_MAX];
        struct ctl_result r;
        hjson_t *j;
        int64_t start;

        fprintf(stderr, "(c) complaintctl against the test's server\n");
        REQUIRE(zmq_curve_keypair(wrong_pub, wrong_sec) == 0);
        snprintf(alice, sizeof(alice), "%s/alice.key", dir);
        snprintf(bob, sizeof(bob), "%s/bob.key", dir);
        snprintf(server_pub, sizeof(server_pub), "%s/daemon.pub", dir);
        snprintf(text, sizeof(text), "# the daemon's public key\n%s\n", s->public);
        s_write(server_pub, text, 0644);

        /* The accepted key: whoami, in text and JSON. */
        r = CTL("--endpoint", s->curve_ep, "--key", alice, "--server-key", server_pub, "whoami");
        CHECK_INT(r.code, 0);
        CHECK(s_has(r.out, "principal        alice\n"));
        CHECK(s_has(r.out, "departments      billing, network\n"));
        CHECK(s_has(r.out, "levels           1, 2\n"));
        s_ctl_free(&r);
        r = CTL("whoami", "--json", "--endpoint", s->curve_ep, "--key", alice, "--server-key",
                s->public);
        CHECK_INT(r.code, 0);
        j = hjson_parse(r.out);
        CHECK(j && hjson_bool(j, "access_control", 0) == 1);
        CHECK_STR(hjson_str(j, "principal"), "alice");
        CHECK_STR(hjson_str(j, "role"), "department");
        CHECK_INT(hjson_len(j, "departments"), 2);
        CHECK_INT(hjson_int(j, "levels.1", 0), 2);
        CHECK_STR(hjson_str(j, "actor"), "alice");
        hjson_free(&j);
        s_ctl_free(&r);

        /* A refused key and a server key that does not match: exit 3, saying which, at once
         * (no retries into the timeouts). */
        start = harness_now_ms();
        r = CTL("--endpoint", s->curve_ep, "--key", bob, "--server-key", server_pub, "whoami");
        CHECK_INT(r.code, 3);
        snprintf(needle, sizeof(needle),
                 "complaintctl: the daemon refused this client's key (%s): it is not a principal "
                 "in its configuration\n",
                 bob_pub);
        CHECK(s_has(r.err, needle));
        CHECK(harness_now_ms() - start < QUICK_MS + 1000);
        s_ctl_free(&r);
        start = harness_now_ms();
        r = CTL("--endpoint", s->curve_ep, "--key", alice, "--server-key", wrong_pub, "whoami");
        CHECK_INT(r.code, 3);
        snprintf(needle, sizeof(needle),
                 "complaintctl: the daemon's key does not match the server key given (%s): "
                 "refusing to talk to it\n",
                 wrong_pub);
        CHECK(s_has(r.err, needle));
        CHECK(harness_now_ms() - start < QUICK_MS + 1000);
        s_ctl_free(&r);
        /* Changes too: the refusal is told, not a request id to repeat. */
        r = CTL("--endpoint", s->curve_ep, "--key", bob, "--server-key", server_pub, "note", "1",
                "hello");
        CHECK_INT(r.code, 3);
        CHECK(s_has(r.err, "refused this client's key"));
        s_ctl_free(&r);

        /* watch (the subscriber) and report (a client of its own) say so too. */
        r = CTL("--endpoint", s->curve_ep, "--key", bob, "--server-key", server_pub, "watch",
                "--count", "1");
        CHECK_INT(r.code, 3);
        CHECK(s_has(r.err, "refused this client's key"));
        s_ctl_free(&r);
        r = CTL("--endpoint", s->curve_ep, "--key", alice, "--server-key", wrong_pub, "report",
                "--month", "2026-11");
        CHECK_INT(r.code, 3);
        CHECK(s_has(r.err, "does not match the server key given"));
        s_ctl_free(&r);

        /* Keys against the plain server, no keys against the CURVE one. */
        r = CTL("--endpoint", s->plain_ep, "--key", alice, "--server-key", server_pub, "whoami");
        CHECK_INT(r.code, 3);
        CHECK(s_has(r.err, "runs without access control"));
        s_ctl_free(&r);
        r = CTL("--endpoint", s->curve_ep, "--key", "none", "whoami");
        CHECK_INT(r.code, 3);
        CHECK(s_has(r.err, "wants a client key"));
        s_ctl_free(&r);
        r = CTL("--endpoint", s->plain_ep, "--key", "none", "whoami");
        CHECK_INT(r.code, 0);
        CHECK(s_has(r.out, "access control is off"));
        s_ctl_free(&r);

        /* Bad keys are usage errors. */
        r = CTL("--endpoint", s->curve_ep, "--key", alice, "whoami");
        CHECK_INT(r.code, 2);
        CHECK(s_has(r.err, "needs the daemon's public key"));
        s_ctl_free(&r);
        r = CTL("--endpoint", s->curve_ep, "--key", server_pub, "--server-key", server_pub,
                "whoami");
        CHECK_INT(r.code, 2);
        CHECK(s_has(r.err, "is not a key file"));
        s_ctl_free(&r);
        r = CTL("--endpoint", s->curve_ep, "--key", alice, "--server-key", "no-such-key", "whoami");
        CHECK_INT(r.code, 2);
        CHECK(s_has(r.err, "is neither a public key"));
        s_ctl_free(&r);
        /* A key file others may read works, with a warning. */
        snprintf(exposed, sizeof(exposed), "%s/exposed.key", dir);
        {
                char *k = s_read(alice);

                s_write(exposed, k, 0644);
                free(k);
        }
        r = CTL("--endpoint", s->curve_ep, "--key", exposed, "--server-key", server_pub, "whoami");
        CHECK_INT(r.code, 0);
        CHECK(s_has(r.err, "warning: the key file"));
        s_ctl_free(&r);

        /* The environment, under the options. */
        setenv("COMPLAINT_KEY", alice, 1);
        setenv("COMPLAINT_SERVER_KEY", s->public, 1);
        setenv("COMPLAINT_ENDPOINT", s->curve_ep, 1);
        r = CTL("whoami");
        CHECK_INT(r.code, 0);
        CHECK(s_has(r.out, "principal        alice"));
        s_ctl_free(&r);
        r = CTL("--key", bob, "whoami");
        CHECK_INT(r.code, 3);
        s_ctl_free(&r);
        unsetenv("COMPLAINT_KEY");
        unsetenv("COMPLAINT_SERVER_KEY");
        unsetenv("COMPLAINT_ENDPOINT");

        /* The per-user file ($XDG_CONFIG_HOME), under the environment; its relative paths are
         * taken from its directory. */
        snprintf(conf_dir, sizeof(conf_dir), "%s/xdg/complaintctl", dir);
        snprintf(conf, sizeof(conf), "%s/config", conf_dir);
        REQUIRE(mkdir(conf_dir, 0700) == 0);
        snprintf(text, sizeof(text),
                 "# complaintctl's settings\n\nendpoint = \"%s\"\nkey = ../../alice.key\n"
                 "server_key = %s\n",
                 s->curve_ep, server_pub);
        s_write(conf, text, 0600);
        r = CTL("whoami");
        CHECK_INT(r.code, 0);
        CHECK(s_has(r.out, "principal        alice"));
        s_ctl_free(&r);
        setenv("COMPLAINT_KEY", bob, 1);
        r = CTL("whoami");
        CHECK_INT(r.code, 3);
        CHECK(s_has(r.err, bob_pub));
        s_ctl_free(&r);
        unsetenv("COMPLAINT_KEY");
        r = CTL("--server-key", wrong_pub, "whoami");
        CHECK_INT(r.code, 3);
        CHECK(s_has(r.err, wrong_pub));
        s_ctl_free(&r);
        /* "none" over the file: plain, to the plain server. */
        r = CTL("--key", "none", "--endpoint", s->plain_ep, "whoami");
        CHECK_INT(r.code, 0);
        s_ctl_free(&r);
        /* keygen reads no settings: a broken file does not stop it. */
        snprintf(text, sizeof(text), "endpoint = %s\ncolour = red\n", s->curve_ep);
        s_write(conf, text, 0600);
        r = CTL("whoami");
        CHECK_INT(r.code, 2);
        snprintf(needle, sizeof(needle), "%s:2: colour: unknown setting", conf);
        CHECK(s_has(r.err, needle));
        s_ctl_free(&r);
        r = CTL("keygen", "carol", "--out", dir);
        CHECK_INT(r.code, 0);
        s_ctl_free(&r);
        unlink(conf);

        /* The example department agent, with a refused key from the environment. */
#ifdef DEPARTMENT_AGENT_BIN
        {
                char *out = NULL, *err = NULL;
                int code;

                setenv("COMPLAINT_ENDPOINT", s->curve_ep, 1);
                setenv("COMPLAINT_KEY", bob, 1);
                code =
                    harness_run(DEPARTMENT_AGENT_BIN,
                                (const char *const[]){"--server-key", server_pub, "billing", NULL},
                                CTL_TIMEOUT_MS, &out, &err);
                CHECK_INT(code, 1);
                snprintf(needle, sizeof(needle),
                         "department_agent: the daemon refused this agent's key (%s)", bob_pub);
                CHECK(s_has(err ? err : "", needle));
                free(out);
                free(err);
                code = harness_run(DEPARTMENT_AGENT_BIN, (const char *const[]){"billing", NULL},
                                   CTL_TIMEOUT_MS, &out, &err);
                CHECK_INT(code, 2);
                CHECK(s_has(err ? err : "", "--key needs --server-key"));
                free(out);
                free(err);
                unsetenv("COMPLAINT_KEY");
                unsetenv("COMPLAINT_ENDPOINT");
        }
#endif

        /* No key anywhere: plain, as before access control. */
        if (access(SETTINGS_SYSTEM_FILE_FOR_TEST, F_OK) == 0) {
                fprintf(stderr, "    %s exists: not checking the plain default\n",
                        SETTINGS_SYSTEM_FILE_FOR_TEST);
        } else {
                r = CTL("--endpoint", s->plain_ep, "whoami");
                CHECK_INT(r.code, 0);
                CHECK(s_has(r.out, "access control is off"));
                s_ctl_free(&r);
        }
        (void)alice_pub;
}

int
main(void)
{
        /* Static: the harness shuts its context down without terminating it, and a context
         * still reachable at exit is not a leak to the sanitizer. */
        static harness_t h;
        struct server s;
        char path[PATH_MAX], xdg[PATH_MAX], alice_pub[COMPLAINT_KEY_SIZE],
            bob_pub[COMPLAINT_KEY_SIZE], alice_sec[COMPLAINT_KEY_SIZE], bob_sec[COMPLAINT_KEY_SIZE];

        REQUIRE(harness_init(&h, "client-keys") == 0);
        /* complaintctl runs in the test's directory, with no settings but the test's. */
        REQUIRE(chdir(h.dir) == 0);
        snprintf(xdg, sizeof(xdg), "%s/xdg", h.dir);
        REQUIRE(mkdir(xdg, 0700) == 0);
        setenv("HOME", h.dir, 1);
        setenv("XDG_CONFIG_HOME", xdg, 1);
        setenv("COMPLAINT_ACTOR", "tester", 1);
        unsetenv("COMPLAINT_KEY");
        unsetenv("COMPLAINT_SERVER_KEY");
        unsetenv("COMPLAINT_ENDPOINT");

        test_keyfiles(h.dir);
        test_keygen(h.dir, alice_pub, bob_pub);
        snprintf(path, sizeof(path), "%s/alice.key", h.dir);
        REQUIRE(complaint_keyfile_load(path, alice_pub, alice_sec) == 0);
        snprintf(path, sizeof(path), "%s/bob.key", h.dir);
        REQUIRE(complaint_keyfile_load(path, bob_pub, bob_sec) == 0);

        s_server_start(&s, h.dir, alice_pub);
        test_library(&s, alice_pub, alice_sec, bob_pub, bob_sec);
        test_ctl(h.dir, &s, alice_pub, bob_pub);
        fprintf(stderr, "server: %d ZAP requests, %d refused, %d answers\n",
                atomic_load(&s.zap_requests), atomic_load(&s.zap_refused),
                atomic_load(&s.answered));
        s_server_stop(&s);
        return harness_cleanup(&h, check_summary());
}
