/* transport.h: how complaint-notify reaches people: a mail composed (mailmsg.h) and handed to
 * the configured sendmail command (sendmail.h), or a JSON POST (webhook.h). It owns the webhook
 * handle, so connections to a server are reused across alerts, and counts what went. */
#ifndef COMPLAINT_NOTIFY_TRANSPORT_H
#define COMPLAINT_NOTIFY_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "notify_conf.h"
#include "webhook.h"

typedef struct transport transport_t;

/* Returns 0 or -ENOMEM; *ret is the caller's, freed with transport_free(). */
int transport_new(transport_t **ret);

/* Accepts NULL and a pointer to NULL; sets *t to NULL. */
void transport_free(transport_t **t);

/* Mails subject and body from cfg->from to the address to, with Message-ID <message_id> and
 * the NULL-terminated extra headers, through cfg->sendmail. Returns 0 when the MTA took it;
 * -EAGAIN when it did not (err says why); -EINVAL when a header would be malformed (an address
 * with a line break: a permanent failure); -ENOMEM. */
int transport_mail(transport_t *t, const nconf_t *cfg, const char *to, const char *subject,
                   const char *body, const char *message_id, int64_t now_ms,
                   const char *const *extra, char *err, size_t err_size);

/* POSTs json to url with the extra headers and auth, within cfg->timeout_ms; check_errcode as in
 * webhook_post(). Returns 0, -EAGAIN (err says why) or -ENOMEM. */
int transport_post(transport_t *t, const nconf_t *cfg, const char *url, const char *const *headers,
                   const webhook_auth_t *auth, const char *json, bool check_errcode, char *err,
                   size_t err_size);

/* How many mails and POSTs succeeded. */
void transport_counts(const transport_t *t, uint64_t *ret_mails, uint64_t *ret_posts);

#endif
