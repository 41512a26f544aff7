/* smtp_sink.c: the tests' SMTP server (smtp_sink.h). */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "smtp_sink.h"

struct smtp_sink {
        int listen_fd, port;
        int wake[2];
        pthread_t thread;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        smtp_message_t *msgs;
        size_t n, cap;
        char in[65536]; /* what the session's client sent and was not read yet */
        size_t in_pos, in_len;
};

static int64_t
s_utc_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads one line (up to LF, CR stripped) into buf, waiting on the socket and the wake pipe.
 * Returns its length, or -1 on end, error or stop. */
static int
s_line(struct smtp_sink *s, int fd, char *buf, size_t size)
{
        size_t n = 0;

        for (;;) {
                struct pollfd p[2] = {{.fd = fd, .events = POLLIN},
                                      {.fd = s->wake[0], .events = POLLIN}};
                char c;
                ssize_t got;

                if (s->in_pos == s->in_len) {
                        if (poll(p, 2, 10000) <= 0 || p[1].revents)
                                return -1;
                        got = read(fd, s->in, sizeof(s->in));
                        if (got <= 0)
                                return -1;
                        /* Acknowledge at once: a client that writes a message in several
                         * pieces (Nagle) would otherwise wait for the delayed ACK each time. */
                        setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &(int){1}, sizeof(int));
                        s->in_pos = 0;
                        s->in_len = (size_t)got;
                }
                c = s->in[s->in_pos++];
                if (c == '\n') {
                        if (n > 0 && buf[n - 1] == '\r')
                                n--;
                        buf[n] = '\0';
                        return (int)n;
                }
                if (n + 1 < size)
                        buf[n++] = c;
        }
}

static void
s_say(int fd, const char *text)
{
        ssize_t w = write(fd, text, strlen(text));
        (void)w;
}

static void
s_append(char **dst, const char *s, const char *sep)
{
        size_t a = *dst ? strlen(*dst) : 0, b = strlen(s), c = *dst && a ? strlen(sep) : 0;
        char *p = realloc(*dst, a + b + c + 1);

        if (p == NULL)
                return;
        memcpy(p + a, sep, c);
        memcpy(p + a + c, s, b + 1);
        *dst = p;
}

static void
s_session(struct smtp_sink *s, int fd)
{
        static char line[65536];
        smtp_message_t m = {0};

        s_say(fd, "220 sink.test ESMTP test sink\r\n");
        while (s_line(s, fd, line, sizeof(line)) >= 0) {
                if (strncasecmp(line, "EHLO", 4) == 0) {
                        s_say(fd, "250-sink.test\r\n250-8BITMIME\r\n250 SIZE 10485760\r\n");
                } else if (strncasecmp(line, "HELO", 4) == 0) {
                        s_say(fd, "250 sink.test\r\n");
                } else if (strncasecmp(line, "MAIL FROM:", 10) == 0) {
                        free(m.from);
                        m.from = strdup(line + 10);
                        s_say(fd, "250 OK\r\n");
                } else if (strncasecmp(line, "RCPT TO:", 8) == 0) {
                        s_append(&m.rcpt, line + 8, ",");
                        s_say(fd, "250 OK\r\n");
                } else if (strncasecmp(line, "DATA", 4) == 0) {
                        s_say(fd, "354 go ahead\r\n");
                        while (s_line(s, fd, line, sizeof(line)) >= 0 && strcmp(line, ".") != 0) {
                                s_append(&m.data, line[0] == '.' ? line + 1 : line, "");
                                s_append(&m.data, "\n", "");
                        }
                        m.at_ms = s_utc_ms();
                        pthread_mutex_lock(&s->lock);
                        if (s->n == s->cap) {
                                size_t cap = s->cap ? 2 * s->cap : 64;
                                smtp_message_t *p = realloc(s->msgs, cap * sizeof(*p));
                                if (p) {
                                        s->msgs = p;
                                        s->cap = cap;
                                }
                        }
                        if (s->n < s->cap) {
                                s->msgs[s->n++] = m;
                                m = (smtp_message_t){0};
                        }
                        pthread_cond_broadcast(&s->cond);
                        pthread_mutex_unlock(&s->lock);
                        smtp_message_free(&m);
                        s_say(fd, "250 OK queued\r\n");
                } else if (strncasecmp(line, "RSET", 4) == 0) {
                        smtp_message_free(&m);
                        s_say(fd, "250 OK\r\n");
                } else if (strncasecmp(line, "QUIT", 4) == 0) {
                        s_say(fd, "221 bye\r\n");
                        break;
                } else {
                        s_say(fd, strncasecmp(line, "NOOP", 4) == 0 ? "250 OK\r\n"
                                                                    : "502 not here\r\n");
                }
        }
        smtp_message_free(&m);
}

static void *
s_run(void *arg)
{
        struct smtp_sink *s = arg;

        for (;;) {
                struct pollfd p[2] = {{.fd = s->listen_fd, .events = POLLIN},
                                      {.fd = s->wake[0], .events = POLLIN}};
                int fd;

                if (poll(p, 2, -1) < 0 && errno != EINTR)
                        break;
                if (p[1].revents)
                        break;
                if (!(p[0].revents & POLLIN))
                        continue;
                fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
                if (fd < 0)
                        continue;
                s->in_pos = s->in_len = 0;
                s_session(s, fd);
                close(fd);
        }
        return NULL;
}

int
smtp_sink_start(smtp_sink_t **ret)
{
        struct smtp_sink *s = calloc(1, sizeof(*s));
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof(a);

        if (s == NULL)
                return -ENOMEM;
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
smtp_message_free(smtp_message_t *m)
{
        free(m->from);
        free(m->rcpt);
        free(m->data);
        *m = (smtp_message_t){0};
}

void
smtp_sink_stop(smtp_sink_t **sp)
{
        struct smtp_sink *s = sp ? *sp : NULL;
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
                smtp_message_free(&s->msgs[i]);
        free(s->msgs);
        free(s);
        *sp = NULL;
}

int
smtp_sink_port(const smtp_sink_t *s)
{
        return s->port;
}

size_t
smtp_sink_wait(smtp_sink_t *s, size_t n, int timeout_ms)
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
        while (s->n < n && pthread_cond_timedwait(&s->cond, &s->lock, &until) == 0)
                ;
        got = s->n;
        pthread_mutex_unlock(&s->lock);
        return got;
}

static char *
s_dup(const char *p)
{
        return p ? strdup(p) : NULL;
}

int
smtp_sink_get(smtp_sink_t *s, size_t i, smtp_message_t *ret)
{
        int r = -ENOENT;

        pthread_mutex_lock(&s->lock);
        if (i < s->n) {
                ret->from = s_dup(s->msgs[i].from);
                ret->rcpt = s_dup(s->msgs[i].rcpt);
                ret->data = s_dup(s->msgs[i].data);
                ret->at_ms = s->msgs[i].at_ms;
                r = 0;
        }
        pthread_mutex_unlock(&s->lock);
        return r;
}
