/* http_sink.h: a small HTTP/1.1 server for the tests of complaint-notify's webhooks. It listens
 * on 127.0.0.1 on a port of its own and serves, on its own thread, any number of keep-alive
 * connections; every request is kept (method, path, headers, body, the status it got, when).
 * A path can be made to fail its first N requests with a given status. Answers carry
 * {"errcode":0,"errmsg":"ok"} as the chat robots' do. */
#ifndef COMPLAINTD_TESTS_HTTP_SINK_H
#define COMPLAINTD_TESTS_HTTP_SINK_H

#include <stddef.h>
#include <stdint.h>

typedef struct http_sink http_sink_t;

typedef struct http_request {
        char *path;
        char *headers; /* the header lines, CRLF-separated */
        char *body;
        int status; /* what it was answered */
        int64_t at_ms;
} http_request_t;

int http_sink_start(http_sink_t **ret);
void http_sink_stop(http_sink_t **s);
int http_sink_port(const http_sink_t *s);

/* The next `count` requests to path are answered with status (a 5xx, say). */
void http_sink_fail(http_sink_t *s, const char *path, int count, int status);

/* Waits up to timeout_ms until at least n requests to path were answered 2xx; returns how
 * many were. */
size_t http_sink_wait(http_sink_t *s, const char *path, size_t n, int timeout_ms);

/* All requests so far. */
size_t http_sink_count(http_sink_t *s);

/* A copy of request i (free with http_request_free()); 0 or -ENOENT. */
int http_sink_get(http_sink_t *s, size_t i, http_request_t *ret);
void http_request_free(http_request_t *r);

#endif
