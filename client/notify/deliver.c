/* deliver.c: sends what the outbox owes, with a back-off per target (deliver.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "deliver.h"
#include "feedback.h"
#include "nlog.h"
#include "text.h"

/* The state of one target: a recipient id, "email", "sms" or "api". */
struct target {
        char *name;
        int64_t backoff_ms;
        int64_t retry_at; /* UTC ms: no try before */
};

struct deliver {
        outbox_t *outbox;
        complaint_client_t *api;
        transport_t *transport;
        struct target *targets;
        size_t n_targets;
        deliver_stats_t stats;
};

int
deliver_new(outbox_t *o, complaint_client_t *api, transport_t *t, deliver_t **ret)
{
        deliver_t *d = calloc(1, sizeof(*d));

        if (d == NULL)
                return -ENOMEM;
        d->outbox = o;
        d->api = api;
        d->transport = t;
        *ret = d;
        return 0;
}

void
deliver_free(deliver_t **d)
{
        if (d == NULL || *d == NULL)
                return;
        for (size_t i = 0; i < (*d)->n_targets; i++)
                free((*d)->targets[i].name);
        free((*d)->targets);
        free(*d);
        *d = NULL;
}

void
deliver_get_stats(const deliver_t *d, deliver_stats_t *ret)
{
        *ret = d->stats;
}

static struct target *
s_target(deliver_t *d, const char *name)
{
        struct target *t;

        for (size_t i = 0; i < d->n_targets; i++)
                if (strcmp(d->targets[i].name, name) == 0)
                        return &d->targets[i];
        t = realloc(d->targets, (d->n_targets + 1) * sizeof(*t));
        if (t == NULL)
                return NULL;
        d->targets = t;
        t = &d->targets[d->n_targets];
        *t = (struct target){.name = strdup(name)};
        if (t->name == NULL)
                return NULL;
        d->n_targets++;
        return t;
}

/* Sends one alert. Returns 0, -EAGAIN (err says why), -EINVAL (never possible), -ENOMEM. */
static int
s_send_alert(deliver_t *d, const nconf_t *cfg, const outbox_item_t *it, int64_t now, char *err,
             size_t err_size)
{
        const struct nc_recipient *rc = nconf_recipient(cfg, it->target);
        alert_ctx_t ctx = {.id = it->id, .now_ms = now, .zone = cfg->zone};
        buf_t subject = BUF_INIT, body = BUF_INIT;
        pb_event_t *ev;
        int r;

        if (rc == NULL) {
                snprintf(err, err_size, "recipient %s is no longer configured", it->target);
                return -EINVAL;
        }
        ev = complaint__v1__event__unpack(NULL, it->size, it->data);
        if (ev == NULL) {
                snprintf(err, err_size, "its stored event does not decode");
                return -EINVAL;
        }
        if (rc->format == FORMAT_EMAIL) {
                char mid[OUTBOX_ID_MAX + 300], h_id[64], h_ev[64], h_alert[OUTBOX_ID_MAX + 32];
                const char *extra[] = {h_id, h_ev, h_alert, NULL};

                snprintf(mid, sizeof(mid), "%s@%s", it->id, cfg->domain);
                snprintf(h_id, sizeof(h_id), "X-Complaint-Id: %" PRIu64, it->complaint_id);
                snprintf(h_ev, sizeof(h_ev), "X-Complaint-Event: %" PRIu64, it->event_seq);
                snprintf(h_alert, sizeof(h_alert), "X-Complaint-Alert: %s", it->id);
                r = alert_render_mail(ev, &ctx, &subject, &body);
                if (r == 0)
                        r = transport_mail(d->transport, cfg, rc->email, buf_str(&subject),
                                           buf_str(&body), mid, now, extra, err, err_size);
        } else {
                char h_alert[OUTBOX_ID_MAX + 32];
                const char **headers = calloc(rc->n_headers + 2, sizeof(*headers));

                r = headers ? alert_render_webhook(ev, rc->format, &ctx, &body) : -ENOMEM;
                if (r == 0) {
                        snprintf(h_alert, sizeof(h_alert), "X-Complaint-Alert: %s", it->id);
                        for (size_t i = 0; i < rc->n_headers; i++)
                                headers[i] = rc->headers[i];
                        headers[rc->n_headers] = h_alert;
                        r = transport_post(
                            d->transport, cfg, rc->url, headers, NULL, buf_str(&body),
                            rc->format == FORMAT_WECOM || rc->format == FORMAT_DINGTALK, err,
                            err_size);
                }
                free(headers);
        }
        if (r == -EINVAL && err[0] == '\0')
                snprintf(err, err_size, "the alert cannot be written for its event");
        buf_free(&subject);
        buf_free(&body);
        complaint__v1__event__free_unpacked(ev, NULL);
        return r;
}

/* Gives up every delivery to target t that has been due for give_up by now. */
static void
s_give_up(deliver_t *d, const nconf_t *cfg, const char *target, int64_t now, const char *why)
{
        for (size_t i = 0; i < outbox_count(d->outbox);) {
                outbox_item_t *it = outbox_get(d->outbox, i);

                if (it == NULL || strcmp(it->target, target) != 0 ||
                    now - it->due_ms < cfg->give_up_ms) {
                        i++;
                        continue;
                }
                nlog_struct(LOG_ERR, it->complaint_id, NULL, it->id, it->target,
                            "gave up %s for complaint %" PRIu64 " to %s, still failing after "
                            "%" PRId64 " s: %s",
                            it->id, it->complaint_id, it->target, (now - it->due_ms) / 1000, why);
                d->stats.given_up++;
                outbox_done(d->outbox, it->id);
        }
}

int
deliver_run(deliver_t *d, const nconf_t *cfg, int64_t now, int budget, int64_t *ret_next)
{
        char **ids = NULL;
        size_t n_ids = 0;
        int64_t next = INT64_MAX;
        int tried = 0;

        /* Pick the due ones first (by id: sending adds and removes items). */
        ids = calloc((size_t)budget, sizeof(*ids));
        for (size_t i = 0; ids && i < outbox_count(d->outbox); i++) {
                outbox_item_t *it = outbox_get(d->outbox, i);
                struct target *t = it ? s_target(d, it->target) : NULL;

                if (t == NULL)
                        break;
                if (it->due_ms <= now && t->retry_at <= now && n_ids < (size_t)budget &&
                    (ids[n_ids] = strdup(it->id)) != NULL)
                        n_ids++;
        }
        for (size_t k = 0; k < n_ids; k++) {
                outbox_item_t *it = outbox_find(d->outbox, ids[k]);
                struct target *t = it ? s_target(d, it->target) : NULL;
                char err[512] = "", target[OUTBOX_ID_MAX + 1];
                uint64_t complaint_id;
                int r;

                if (t == NULL || t->retry_at > now)
                        continue;
                tried++;
                complaint_id = it->complaint_id;
                snprintf(target, sizeof(target), "%s", it->target);
                if (it->type == OUTBOX_ALERT)
                        r = s_send_alert(d, cfg, it, now, err, sizeof(err));
                else
                        r = feedback_send(cfg, d->api, d->transport, d->outbox, it, now, err,
                                          sizeof(err));
                it = outbox_find(d->outbox, ids[k]);
                t = s_target(d, target);
                if (r == -ENOMEM) {
                        snprintf(err, sizeof(err), "out of memory");
                        r = -EAGAIN;
                }
                if (r == 0) {
                        nlog_struct(LOG_INFO, complaint_id, NULL, ids[k], target,
                                    "sent %s for complaint %" PRIu64 " to %s", ids[k], complaint_id,
                                    target);
                        d->stats.sent++;
                        if (t)
                                t->backoff_ms = 0;
                        if (it)
                                outbox_done(d->outbox, ids[k]);
                } else if (r == -EAGAIN && t) {
                        t->backoff_ms = t->backoff_ms ? 2 * t->backoff_ms : cfg->retry_min_ms;
                        if (t->backoff_ms > cfg->retry_max_ms)
                                t->backoff_ms = cfg->retry_max_ms;
                        t->retry_at = now + t->backoff_ms;
                        d->stats.failures++;
                        nlog_struct(LOG_WARNING, complaint_id, NULL, ids[k], target,
                                    "%s for complaint %" PRIu64 " to %s failed, next try in "
                                    "%" PRId64 " ms: %s",
                                    ids[k], complaint_id, target, t->backoff_ms, err);
                        s_give_up(d, cfg, target, now, err);
                } else {
                        nlog_struct(LOG_ERR, complaint_id, NULL, ids[k], target,
                                    "dropped %s for complaint %" PRIu64 " to %s: %s", ids[k],
                                    complaint_id, target, err);
                        d->stats.dropped++;
                        if (it)
                                outbox_done(d->outbox, ids[k]);
                }
        }
        for (size_t k = 0; k < n_ids; k++)
                free(ids[k]);
        free(ids);
        for (size_t i = 0; i < outbox_count(d->outbox); i++) {
                outbox_item_t *it = outbox_get(d->outbox, i);
                struct target *t = it ? s_target(d, it->target) : NULL;
                int64_t when;

                if (t == NULL)
                        break;
                when = it->due_ms > t->retry_at ? it->due_ms : t->retry_at;
                if (when < next)
                        next = when;
        }
        *ret_next = next;
        return tried;
}
