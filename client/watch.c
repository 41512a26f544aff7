/* watch.c: complaintctl watch (watch.h): the SUB socket, the signalfd that ends it, and the
 * filter. */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <zmq.h>

#include "complaint_client.h"
#include "json.h"
#include "render.h"
#include "watch.h"

const char *
watch_topic_prefix(const struct watch_options *o, char *buf, size_t size)
{
        assert(size > 0);
        if (o->department == NULL)
                buf[0] = '\0';
        else if (o->level > 0)
                snprintf(buf, size, "%s/escalated/%" PRIu32, o->department, o->level);
        else if (o->kind)
                snprintf(buf, size, "%s/%s", o->department, o->kind);
        else
                snprintf(buf, size, "%s/", o->department);
        return buf;
}

bool
watch_topic_matches(const struct watch_options *o, const char *topic)
{
        const char *slash = strchr(topic, '/');
        const char *kind, *rest;
        size_t klen;

        if (slash == NULL)
                return false;
        if (o->department && ((size_t)(slash - topic) != strlen(o->department) ||
                              strncmp(topic, o->department, (size_t)(slash - topic)) != 0))
                return false;
        kind = slash + 1;
        rest = strchr(kind, '/');
        klen = rest ? (size_t)(rest - kind) : strlen(kind);
        if (o->kind && (klen != strlen(o->kind) || strncmp(kind, o->kind, klen) != 0))
                return false;
        if (o->level > 0) {
                char want[16];

                if (klen != strlen("escalated") || strncmp(kind, "escalated", klen) != 0 ||
                    rest == NULL)
                        return false;
                snprintf(want, sizeof(want), "%" PRIu32, o->level);
                if (strcmp(rest + 1, want) != 0)
                        return false;
        }
        return true;
}

/* Receives one message, keeping the first two frames ([topic][Event]); ret_topic is the
 * caller's. Returns 1 with the event, 0 when the message was not one (it is dropped, with a
 * word on stderr), or a negative errno. */
static int
s_receive(void *sock, char **ret_topic, pb_event_t **ret_event)
{
        zmq_msg_t frame[2], extra;
        size_t nframes = 0;
        bool more = true;
        int r = 1;

        while (more) {
                zmq_msg_t *m = nframes < 2 ? &frame[nframes] : &extra;

                zmq_msg_init(m);
                if (zmq_msg_recv(m, sock, ZMQ_DONTWAIT) < 0) {
                        int e = errno;

                        zmq_msg_close(m);
                        for (size_t i = 0; i < nframes; i++)
                                zmq_msg_close(&frame[i]);
                        return e == EAGAIN ? 0 : -e;
                }
                more = zmq_msg_more(m);
                if (m == &extra) {
                        zmq_msg_close(m);
                        r = 0;
                } else {
                        nframes++;
                }
        }
        if (r == 1 && nframes == 2) {
                *ret_topic = strndup(zmq_msg_data(&frame[0]), zmq_msg_size(&frame[0]));
                *ret_event = complaint__v1__event__unpack(NULL, zmq_msg_size(&frame[1]),
                                                          zmq_msg_data(&frame[1]));
                if (*ret_topic == NULL) {
                        r = -ENOMEM;
                } else if (*ret_event == NULL) {
                        fprintf(stderr, "complaintctl: skipping an undecodable event on %s\n",
                                *ret_topic);
                        r = 0;
                }
                if (r != 1) {
                        free(*ret_topic);
                        if (*ret_event)
                                complaint__v1__event__free_unpacked(*ret_event, NULL);
                }
        } else {
                fputs("complaintctl: skipping a message that is not [topic][event]\n", stderr);
                r = 0;
        }
        for (size_t i = 0; i < nframes; i++)
                zmq_msg_close(&frame[i]);
        return r;
}

static int
s_print(const struct watch_options *o, const pb_event_t *e)
{
        if (o->json) {
                json_t j;

                json_init(&j, stdout);
                render_event_json(&j, e);
                return json_finish(&j);
        }
        render_event_text(stdout, e);
        return fflush(stdout) != 0 || ferror(stdout) ? -EIO : 0;
}

static int
s_loop(const struct watch_options *o, void *sock, int sigfd, const char *prefix)
{
        uint64_t printed = 0;
        bool live = false;

        for (;;) {
                zmq_pollitem_t items[2] = {{.socket = sock, .events = ZMQ_POLLIN},
                                           {.fd = sigfd, .events = ZMQ_POLLIN}};
                char *topic = NULL;
                pb_event_t *e = NULL;
                int r;

                if (o->count > 0 && printed >= o->count)
                        return 0;
                if (zmq_poll(items, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (items[1].revents & ZMQ_POLLIN) {
                        struct signalfd_siginfo si;

                        /* SIGINT or SIGTERM: a normal end. Reading it clears it, so unblocking
                         * the signal afterwards does not deliver it again. */
                        if (read(sigfd, &si, sizeof(si)) < 0 && errno != EAGAIN)
                                return -errno;
                        return 0;
                }
                if (!(items[0].revents & ZMQ_POLLIN))
                        continue;
                r = s_receive(sock, &topic, &e);
                if (r < 0)
                        return r;
                if (r == 0)
                        continue;
                if (e->heartbeat) {
                        if (!live)
                                fprintf(stderr, "complaintctl: watching %s for \"%s\"\n",
                                        o->endpoint, prefix);
                        live = true;
                } else if (watch_topic_matches(o, topic)) {
                        r = s_print(o, e);
                        printed++;
                }
                complaint__v1__event__free_unpacked(e, NULL);
                free(topic);
                if (r < 0)
                        return r;
        }
}

int
watch_run(const struct watch_options *o)
{
        char prefix[256];
        sigset_t mask, old;
        void *ctx = NULL, *sock = NULL;
        int sigfd = -1, linger = 0, ipv6 = 1, r;

        assert(o && o->endpoint);
        watch_topic_prefix(o, prefix, sizeof(prefix));
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        if (sigprocmask(SIG_BLOCK, &mask, &old) < 0)
                return -errno;
        sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
        if (sigfd < 0) {
                r = -errno;
                goto out;
        }
        ctx = zmq_ctx_new();
        sock = ctx ? zmq_socket(ctx, ZMQ_SUB) : NULL;
        if (sock == NULL || zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof(linger)) < 0 ||
            zmq_setsockopt(sock, ZMQ_IPV6, &ipv6, sizeof(ipv6)) < 0 ||
            zmq_setsockopt(sock, ZMQ_SUBSCRIBE, prefix, strlen(prefix)) < 0 ||
            (prefix[0] && zmq_setsockopt(sock, ZMQ_SUBSCRIBE, COMPLAINT_HEARTBEAT_TOPIC,
                                         strlen(COMPLAINT_HEARTBEAT_TOPIC)) < 0) ||
            zmq_connect(sock, o->endpoint) < 0) {
                r = -errno;
                goto out;
        }
        r = s_loop(o, sock, sigfd, prefix);
out:
        if (sock)
                zmq_close(sock);
        if (ctx)
                zmq_ctx_term(ctx);
        if (sigfd >= 0)
                close(sigfd);
        sigprocmask(SIG_SETMASK, &old, NULL);
        return r;
}
