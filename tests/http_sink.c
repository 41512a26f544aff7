/* http_sink.c: the tests' HTTP server (http_sink.h). */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http_sink.h"

#define CONNS_MAX 32
#define FAILS_MAX 8

struct conn {
        int fd;
        char *buf;
        size_t len, cap;
};

struct fail {
        char path[128];
        int count, status;
};

struct http_sink {
        int listen_fd, port, wake[2];
        pthread_t thread;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        struct conn conns[CONNS_MAX];
        struct fail fails[FAILS_MAX];
        http_request_t *reqs;
        size_t n, cap;
};

static int64_t
s_utc_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
s_drop(struct conn *c)
{
        close(c->fd);
        free(c->buf);
        *c = (struct conn){.fd = -1};
}

/* Handles every complete request in c's buffer. Returns false when the connection is done. */
static bool
s_requests(struct http_sink *s, struct conn *c)
{
        for (;;) {
                char *end = c->buf ? memmem(c->buf, c->len, "\r\n\r\n", 4) : NULL, *cl, *sp;
                size_t head, body_len = 0, total;
                http_request_t r = {0};
                char answer[256];
                const char *json = "{\"errcode\":0,\"errmsg\":\"ok\"}";
                ssize_t w;

                if (end == NULL)
                        return true;
                head = (size_t)(end - c->buf) + 4;
                *end = '\0';
                for (cl = c->buf; (cl = strcasestr(cl, "\r\ncontent-length:")) != NULL; cl++) {
                        body_len = strtoul(cl + 17, NULL, 10);
                        break;
                }
                total = head + body_len;
                if (c->len < total) {
                        *end = '\r';
                        return true;
                }
                sp = strchr(c->buf, ' ');
                r.path = sp ? strndup(sp + 1, strcspn(sp + 1, " ")) : strdup("");
                r.headers = strdup(strstr(c->buf, "\r\n") ? strstr(c->buf, "\r\n") + 2 : "");
                r.body = strndup(c->buf + head, body_len);
                r.at_ms = s_utc_ms();
                r.status = 200;
                pthread_mutex_lock(&s->lock);
                for (int i = 0; i < FAILS_MAX; i++)
                        if (s->fails[i].count > 0 && r.path &&
                            strcmp(s->fails[i].path, r.path) == 0) {
                                s->fails[i].count--;
                                r.status = s->fails[i].status;
                        }
                if (s->n == s->cap) {
                        size_t cap = s->cap ? 2 * s->cap : 64;
                        http_request_t *p = realloc(s->reqs, cap * sizeof(*p));
                        if (p) {
                                s->reqs = p;
                                s->cap = cap;
                        }
                }
                if (s->n < s->cap)
                        s->reqs[s->n++] = r;
                else
                        http_request_free(&r);
                pthread_cond_broadcast(&s->cond);
                pthread_mutex_unlock(&s->lock);
                snprintf(answer, sizeof(answer),
                         "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                         "Content-Length: %zu\r\n\r\n%s",
                         r.status, r.status == 200 ? "OK" : "Failing", strlen(json), json);
                w = write(c->fd, answer, strlen(answer));
                if (w < 0)
                        return false;
                memmove(c->buf, c->buf + total, c->len - total);
                c->len -= total;
        }
}

static void *
s_run(void *arg)
{
        struct http_sink *s = arg;

        for (;;) {
                struct pollfd p[CONNS_MAX + 2];

                p[0] = (struct pollfd){.fd = s->listen_fd, .events = POLLIN};
                p[1] = (struct pollfd){.fd = s->wake[0], .events = POLLIN};
                for (int i = 0; i < CONNS_MAX; i++)
                        p[i + 2] = (struct pollfd){.fd = s->conns[i].fd, .events = POLLIN};
                if (poll(p, CONNS_MAX + 2, -1) < 0 && errno != EINTR)
                        break;
                if (p[1].revents)
                        break;
                if (p[0].revents & POLLIN) {
                        int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);

                        for (int i = 0; fd >= 0 && i < CONNS_MAX; i++)
                                if (s->conns[i].fd < 0) {
                                        s->conns[i].fd = fd;
                                        fd = -1;
                                }
                        if (fd >= 0)
                                close(fd);
                }
                for (int i = 0; i < CONNS_MAX; i++) {
                        struct conn *c = &s->conns[i];
                        char chunk[65536];
                        ssize_t got;

                        if (c->fd < 0 || !(p[i + 2].revents & (POLLIN | POLLHUP | POLLERR)))
                                continue;
                        got = read(c->fd, chunk, sizeof(chunk));
                        if (got <= 0) {
                                s_drop(c);
                                continue;
                        }
                        if (c->len + (size_t)got + 1 > c->cap) {
                                size_t cap = (c->len + (size_t)got + 1) * 2;
                                char *b = realloc(c->buf, cap);
                                if (b == NULL) {
                                        s_drop(c);
                                        continue;
                                }
                                c->buf = b;
                                c->cap = cap;
                        }
                        memcpy(c->buf + c->len, chunk, (size_t)got);
                        c->len += (size_t)got;
                        c->buf[c->len] = '\0';
                        if (!s_requests(s, c))
                                s_drop(c);
                }
        }
        for (int i = 0; i < CONNS_MAX; i++)
                if (s->conns[i].fd >= 0)
                        s_drop(&s->conns[i]);
        return NULL;
}

int
http_sink_start(http_sink_t **ret)
{
        struct http_sink *s = calloc(1, sizeof(*s));
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof(a);

        if (s == NULL)
                return -ENOMEM;
        for (int i = 0; i < CONNS_MAX; i++)
                s->conns[i].fd = -1;
        s->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s->listen_fd < 0 || bind(s->listen_fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
            listen(s->listen_fd, 64) < 0 ||
            getsockname(s->listen_fd, (struct sockaddr *)&a, &len) < 0 ||
            pipe2(s->wake, O_CLOEXEC) < 0) {
                int r = -errno;
                if (s->listen_fd >= 0)
                        close(s->listen_fd);
                free(s);
                return r;
        }
        s->port = ntohs(a.sin_port);
        pthread_mutex_init(&s->lock, NULL);
        pthread_cond_init(&s->cond, NULL);
        if (pthread_create(&s->thread, NULL, s_run, s) != 0) {
                close(s->listen_fd);
                free(s);
                return -EAGAIN;
        }
        *ret = s;
        return 0;
}

void
http_request_free(http_request_t *r)
{
        free(r->path);
        free(r->headers);
        free(r->body);
        *r = (http_request_t){0};
}

void
http_sink_stop(http_sink_t **sp)
{
        struct http_sink *s = sp ? *sp : NULL;
        ssize_t w;

        if (s == NULL)
                return;
        w = write(s->wake[1], "x", 1);
        (void)w;
        pthread_join(s->thread, NULL);
        close(s->listen_fd);
        close(s->wake[0]);
        close(s->wake[1]);
        for (size_t i = 0; i < s->n; i++)
                http_request_free(&s->reqs[i]);
        free(s->reqs);
        free(s);
        *sp = NULL;
}

int
http_sink_port(const http_sink_t *s)
{
        return s->port;
}

void
http_sink_fail(http_sink_t *s, const char *path, int count, int status)
{
        pthread_mutex_lock(&s->lock);
        for (int i = 0; i < FAILS_MAX; i++)
                if (s->fails[i].count == 0) {
                        snprintf(s->fails[i].path, sizeof(s->fails[i].path), "%s", path);
                        s->fails[i].count = count;
                        s->fails[i].status = status;
                        break;
                }
        pthread_mutex_unlock(&s->lock);
}

static size_t
s_ok_count(const struct http_sink *s, const char *path)
{
        size_t n = 0;

        for (size_t i = 0; i < s->n; i++)
                if (s->reqs[i].status / 100 == 2 && s->reqs[i].path &&
                    strcmp(s->reqs[i].path, path) == 0)
                        n++;
        return n;
}

size_t
http_sink_wait(http_sink_t *s, const char *path, size_t n, int timeout_ms)
{
        struct timespec until;
        size_t got;

        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += timeout_ms / 1000;
        until.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
        if (until.tv_nsec >= 1000000000) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000;
        }
        pthread_mutex_lock(&s->lock);
        while (s_ok_count(s, path) < n && pthread_cond_timedwait(&s->cond, &s->lock, &until) == 0)
                ;
        got = s_ok_count(s, path);
        pthread_mutex_unlock(&s->lock);
        return got;
}

size_t
http_sink_count(http_sink_t *s)
{
        size_t n;

        pthread_mutex_lock(&s->lock);
        n = s->n;
        pthread_mutex_unlock(&s->lock);
        return n;
}

int
http_sink_get(http_sink_t *s, size_t i, http_request_t *ret)
{
        int r = -ENOENT;

        pthread_mutex_lock(&s->lock);
        if (i < s->n) {
                ret->path = s->reqs[i].path ? strdup(s->reqs[i].path) : NULL;
                ret->headers = s->reqs[i].headers ? strdup(s->reqs[i].headers) : NULL;
                ret->body = s->reqs[i].body ? strdup(s->reqs[i].body) : NULL;
                ret->status = s->reqs[i].status;
                ret->at_ms = s->reqs[i].at_ms;
                r = 0;
        }
        pthread_mutex_unlock(&s->lock);
        return r;
}
