/* transport.c: mails through sendmail, JSON through libcurl (transport.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mailmsg.h"
#include "sendmail.h"
#include "text.h"
#include "transport.h"

struct transport {
        webhook_t *hook;
        uint64_t mails, posts;
};

int
transport_new(transport_t **ret)
{
        transport_t *t = calloc(1, sizeof(*t));
        int r;

        if (t == NULL)
                return -ENOMEM;
        r = webhook_new(&t->hook);
        if (r < 0) {
                free(t);
                return r;
        }
        *ret = t;
        return 0;
}

void
transport_free(transport_t **t)
{
        if (t == NULL || *t == NULL)
                return;
        webhook_free(&(*t)->hook);
        free(*t);
        *t = NULL;
}

int
transport_mail(transport_t *t, const nconf_t *cfg, const char *to, const char *subject,
               const char *body, const char *message_id, int64_t now_ms, const char *const *extra,
               char *err, size_t err_size)
{
        buf_t msg = BUF_INIT;
        int r;

        err[0] = '\0';
        r = mailmsg_build(&msg, cfg->from, to, subject, body, message_id, now_ms, extra);
        if (r == -EINVAL)
                snprintf(err, err_size, "a header of the mail would be malformed");
        if (r == 0)
                r = sendmail_run(cfg->sendmail, msg.p, msg.len, (int)cfg->sendmail_timeout_ms, err,
                                 err_size);
        /* A missing sendmail command is an installation to be fixed: retried, then given up. */
        if (r == -ENOENT)
                r = -EAGAIN;
        if (r == 0)
                t->mails++;
        buf_free(&msg);
        return r;
}

int
transport_post(transport_t *t, const nconf_t *cfg, const char *url, const char *const *headers,
               const webhook_auth_t *auth, const char *json, bool check_errcode, char *err,
               size_t err_size)
{
        int r = webhook_post(t->hook, url, headers, auth, json, strlen(json), (int)cfg->timeout_ms,
                             check_errcode, err, err_size);

        if (r == 0)
                t->posts++;
        return r;
}

void
transport_counts(const transport_t *t, uint64_t *ret_mails, uint64_t *ret_posts)
{
        *ret_mails = t->mails;
        *ret_posts = t->posts;
}
