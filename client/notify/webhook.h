/* webhook.h: HTTP(S) POSTs of JSON through libcurl: chat robots, generic webhooks and the SMS
 * gateway. It owns one curl handle, reused so that calls to the same server share a
 * connection. TLS certificates and host names are always verified; only http and https are
 * spoken, redirects are not followed, and every call is bounded by a timeout. Only webhook.c
 * includes curl.h. */
#ifndef COMPLAINT_NOTIFY_WEBHOOK_H
#define COMPLAINT_NOTIFY_WEBHOOK_H

#include <stddef.h>

typedef struct webhook webhook_t;

/* How a call authenticates, besides its extra headers. */
typedef struct webhook_auth {
        const char *user, *password; /* HTTP basic authentication when user is not NULL */
        const char *bearer;          /* "Authorization: Bearer <bearer>" when not NULL */
} webhook_auth_t;

/* Initialises libcurl (once per process) and makes a handle. Returns 0 or -ENOMEM. *ret is
 * the caller's, freed with webhook_free(). */
int webhook_new(webhook_t **ret);

/* Accepts NULL and a pointer to NULL; sets *w to NULL. */
void webhook_free(webhook_t **w);

/* POSTs body (n bytes of JSON, Content-Type: application/json; charset=utf-8) to url with the
 * NULL-terminated extra headers ("Name: value"; may be NULL) and auth (may be NULL), waiting
 * at most timeout_ms. When check_errcode is set, a 2xx answer whose JSON body has a non-zero
 * "errcode" (WeCom's and DingTalk's robots answer 200 with an error code) is a failure too.
 * Returns 0 on a 2xx answer; -EAGAIN on anything else (connection refused, timeout, TLS
 * failure, another status), with the reason in err (size err_size); -ENOMEM. */
int webhook_post(webhook_t *w, const char *url, const char *const *headers,
                 const webhook_auth_t *auth, const char *body, size_t n, int timeout_ms,
                 int check_errcode, char *err, size_t err_size);

#endif
