/* feedback.c: messages to complainants (feedback.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feedback.h"
#include "text.h"

#define A(x) COMPLAINT__V1__ACTION__ACTION_##x

static const char *const msg_words[] = {
    [FEEDBACK_ACK] = "ack", [FEEDBACK_PROGRESS] = "progress", [FEEDBACK_REPLY] = "reply"};
static const char *const msg_names[] = {[FEEDBACK_ACK] = "acknowledgement",
                                        [FEEDBACK_PROGRESS] = "progress message",
                                        [FEEDBACK_REPLY] = "reply"};

int64_t
feedback_release(const calendar_t *cal, int64_t now)
{
        int64_t t;

        if (cal == NULL || calendar_add_business_time(cal, now, 0, &t) < 0)
                return now;
        return t;
}

int64_t
feedback_business_days_after(const calendar_t *cal, int64_t from_ms, uint32_t n)
{
        const tz_t *tz = calendar_tz(cal);
        int64_t local = tz_local_of_utc(tz, from_ms / 1000);
        int64_t day = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
        uint32_t found = 0;

        for (int i = 0; i < 400 && n > 0; i++) {
                int64_t start, end, busy = 0, first;

                day++;
                start = tz_utc_of_local(tz, day * 86400) * 1000;
                end = tz_utc_of_local(tz, (day + 1) * 86400) * 1000;
                if (calendar_business_time_between(cal, start, end, &busy) < 0 || busy == 0)
                        continue;
                if (++found == n && calendar_add_business_time(cal, start, 0, &first) == 0)
                        return first;
        }
        return from_ms;
}

/* ----------------------------------------------------------------- routing */

static int
s_add(outbox_t *o, outbox_item_t *it)
{
        int r = outbox_add(o, it);

        return r == -EEXIST ? 0 : r < 0 ? r : 1;
}

int
feedback_route(const nconf_t *cfg, const pb_event_t *ev, int64_t now, outbox_t *o)
{
        const struct nc_feedback *fb = &cfg->feedback;
        const pb_history_t *h = ev->entry;
        const calendar_t *cal = fb->calendar ? fb->calendar->cal : NULL;
        const char *channels[2];
        size_t n_channels = 0;
        int msg = -1, added = 0, r;
        char id[OUTBOX_ID_MAX + 1];
        uint8_t *data;
        size_t size;

        if (!fb->enabled || ev->heartbeat || h == NULL || ev->complaint == NULL)
                return 0;
        /* Each change is published once on the stream of its department; a reassignment also
         * goes to the old department, and that copy is not the one to act on. */
        if (ev->stream && h->department && strcmp(ev->stream, h->department) != 0)
                return 0;
        if (h->action == A(ASSIGN) && h->from_status == ST_NEW)
                msg = FEEDBACK_ACK;
        else if (h->action == A(ACCEPT))
                msg = FEEDBACK_PROGRESS;
        else if (h->action == A(RESOLVE))
                msg = FEEDBACK_REPLY;
        if (msg < 0 || fb->msg[msg].subject == NULL)
                return 0;
        if (fb->via_email)
                channels[n_channels++] = "email";
        if (fb->via_sms)
                channels[n_channels++] = "sms";
        /* The message is written from the record as the event has it (the date of the reply
         * at dispatch, the reply at resolution), whenever it is sent. */
        size = complaint__v1__event__get_packed_size(ev);
        data = malloc(size ? size : 1);
        if (data == NULL)
                return -ENOMEM;
        complaint__v1__event__pack(ev, data);
        for (size_t i = 0; i < n_channels; i++) {
                outbox_item_t it = {.id = id,
                                    .type = OUTBOX_FEEDBACK,
                                    .target = (char *)(uintptr_t)channels[i],
                                    .complaint_id = h->complaint_id,
                                    .event_seq = ev->seq,
                                    .msg = (uint32_t)msg,
                                    .created_ms = now,
                                    .due_ms = feedback_release(cal, now),
                                    .data = data,
                                    .size = size};

                snprintf(id, sizeof(id), "c%" PRIu64 ".%s.e%" PRIu64 ".%s", h->complaint_id,
                         msg_words[msg], ev->seq, channels[i]);
                if ((r = s_add(o, &it)) < 0) {
                        free(data);
                        return r;
                }
                added += r;
        }
        free(data);
        if (msg == FEEDBACK_PROGRESS && fb->progress_every > 0 && cal) {
                outbox_item_t it = {.id = id,
                                    .type = OUTBOX_REPEAT,
                                    .target = (char *)"api",
                                    .complaint_id = h->complaint_id,
                                    .event_seq = ev->seq,
                                    .msg = 1,
                                    .created_ms = now,
                                    .due_ms =
                                        feedback_business_days_after(cal, now, fb->progress_every)};

                snprintf(id, sizeof(id), "c%" PRIu64 ".repeat.e%" PRIu64 ".1", h->complaint_id,
                         ev->seq);
                if ((r = s_add(o, &it)) < 0)
                        return r;
                added += r;
        }
        return added;
}

/* ----------------------------------------------------------------- the API */

/* Gets the complaint; 0 with *ret_reply, -ENOENT when it does not exist, -EAGAIN otherwise. */
static int
s_get(complaint_client_t *api, uint64_t id, pb_reply_t **ret_reply, char *err, size_t err_size)
{
        Complaint__V1__GetRequest g = COMPLAINT__V1__GET_REQUEST__INIT;
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        pb_reply_t *reply = NULL;
        int r;

        g.id = id;
        req.body_case = COMPLAINT__V1__REQUEST__BODY_GET;
        req.get = &g;
        r = complaint_client_call(api, &req, FEEDBACK_CALL_TIMEOUT_MS, 0, &reply);
        if (r < 0) {
                snprintf(err, err_size, "reading complaint %" PRIu64 ": %s", id, strerror(-r));
                return r == -ENOMEM ? r : -EAGAIN;
        }
        if (reply->error == E_NOT_FOUND) {
                complaint__v1__reply__free_unpacked(reply, NULL);
                return -ENOENT;
        }
        if (reply->error != E_OK || reply->complaint == NULL) {
                snprintf(err, err_size, "reading complaint %" PRIu64 ": %s: %s", id,
                         pb_error_name(reply->error), reply->message ? reply->message : "");
                complaint__v1__reply__free_unpacked(reply, NULL);
                return -EAGAIN;
        }
        *ret_reply = reply;
        return 0;
}

/* Records note in the history of complaint id, once for request id rid. */
static int
s_note(const nconf_t *cfg, complaint_client_t *api, uint64_t id, const char *rid, const char *note,
       char *err, size_t err_size)
{
        Complaint__V1__NoteRequest q = COMPLAINT__V1__NOTE_REQUEST__INIT;
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        pb_reply_t *reply = NULL;
        int r;

        q.id = id;
        q.note = (char *)(uintptr_t)note;
        req.request_id = (char *)(uintptr_t)rid;
        req.actor = cfg->actor;
        req.body_case = COMPLAINT__V1__REQUEST__BODY_NOTE;
        req.note = &q;
        r = complaint_client_call(api, &req, FEEDBACK_CALL_TIMEOUT_MS, 0, &reply);
        if (r < 0) {
                snprintf(err, err_size, "recording the note: %s", strerror(-r));
                return r == -ENOMEM ? r : -EAGAIN;
        }
        switch (reply->error) {
        case E_OK:
        case E_NOT_FOUND:
        case E_REQUEST_ID_REUSED: /* recorded before, by an earlier version of the note */
                r = 0;
                break;
        case E_INTERNAL:
        case E_STORAGE_FULL:
                r = -EAGAIN;
                break;
        default:
                r = -EINVAL;
                break;
        }
        if (r < 0)
                snprintf(err, err_size, "recording the note: %s: %s", pb_error_name(reply->error),
                         reply->message ? reply->message : "");
        complaint__v1__reply__free_unpacked(reply, NULL);
        return r;
}

/* The request id of an item's note: "nf-" and the id, or a hash of it when that is too long
 * for the daemon's default request id limit (100 bytes). */
static void
s_note_id(const char *item_id, char *buf, size_t size)
{
        uint64_t h = 0xcbf29ce484222325ull;

        if (strlen(item_id) <= 90) {
                snprintf(buf, size, "nf-%s", item_id);
                return;
        }
        for (const char *p = item_id; *p; p++)
                h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
        snprintf(buf, size, "nf-%.60s-%016" PRIx64, item_id, h);
}

/* ----------------------------------------------------------------- templates */

/* The only placeholder of a reference, {id}: arg is its text. */
static const char *
s_id_value(void *arg, const char *name)
{
        (void)name;
        return arg;
}

struct values {
        const nconf_t *cfg;
        const pb_complaint_t *c;     /* the record the message is about */
        const pb_complainant_t *who; /* the complainant, as the API gave it */
        buf_t scratch[4];
        int next;
};

static const char *
s_value(void *arg, const char *name)
{
        struct values *v = arg;
        const pb_complaint_t *c = v->c;
        buf_t *b = &v->scratch[v->next++ % 4];
        const Complaint__V1__Clock *k;

        buf_reset(b);
        if (strcmp(name, "id") == 0) {
                buf_printf(b, "%" PRIu64, c->id);
        } else if (strcmp(name, "ref") == 0) {
                char id[24];

                snprintf(id, sizeof(id), "%" PRIu64, c->id);
                text_template_expand(b, v->cfg->feedback.reference, s_id_value, id);
        } else if (strcmp(name, "subject") == 0) {
                buf_puts(b, c->subject);
        } else if (strcmp(name, "category") == 0) {
                buf_puts(b, c->category);
        } else if (strcmp(name, "department") == 0) {
                buf_puts(b, nconf_department_name(v->cfg, c->department ? c->department : ""));
        } else if (strcmp(name, "status") == 0) {
                buf_puts(b, pb_status_name(c->status));
        } else if (strcmp(name, "priority") == 0) {
                buf_puts(b, pb_priority_name(c->priority));
        } else if (strcmp(name, "due") == 0) {
                k = c->resolution_clock;
                if (k && k->running && k->due_at_ms > 0)
                        text_time(b, k->due_at_ms, v->cfg->zone, false);
                else
                        buf_puts(b, v->cfg->feedback.no_due);
        } else if (strcmp(name, "reply") == 0) {
                buf_puts(b, c->resolution ? c->resolution->reply : "");
        } else if (strcmp(name, "contact") == 0) {
                buf_puts(b, v->cfg->feedback.contact);
        } else if (strcmp(name, "name") == 0) {
                buf_puts(b, v->who ? v->who->name : "");
        } else if (strcmp(name, "created") == 0) {
                text_time(b, c->created_at_ms, v->cfg->zone, false);
        } else if (strcmp(name, "external_ref") == 0) {
                buf_puts(b, c->external_ref);
        }
        return buf_str(b);
}

/* ----------------------------------------------------------------- sending */

/* An address a mail can go to: one address, no display name, nothing a header could break on. */
static bool
s_usable_email(const char *s)
{
        const char *at = s ? strchr(s, '@') : NULL;

        if (at == NULL || at == s || at[1] == '\0' || strchr(at + 1, '@'))
                return false;
        for (; *s; s++)
                if ((unsigned char)*s <= 0x20 || strchr("<>,;\"()[]\\", *s))
                        return false;
        return true;
}

static bool
s_usable_phone(const char *s)
{
        int digits = 0;

        for (; s && *s; s++)
                if (*s >= '0' && *s <= '9')
                        digits++;
        return digits >= 6;
}

/* The note that records a message sent: the same text however often it is asked for, since its
 * request id names it. When is the history entry's own time. */
static void
s_sent_note(const nconf_t *cfg, const outbox_item_t *it, char *note, size_t size)
{
        if (strcmp(it->target, "email") == 0)
                snprintf(note, size, "Complainant informed by e-mail: %s (Message-ID <%s@%s>).",
                         msg_names[it->msg], it->id, cfg->domain);
        else
                snprintf(note, size, "Complainant informed by SMS: %s (message %s).",
                         msg_names[it->msg], it->id);
}

static int
s_send_message(const nconf_t *cfg, transport_t *t, const outbox_item_t *it, const pb_complaint_t *c,
               const pb_complainant_t *who, const char *to, int64_t now, char *err, size_t err_size)
{
        const struct nc_message *m = &cfg->feedback.msg[it->msg];
        struct values v = {.cfg = cfg, .c = c, .who = who};
        buf_t subject = BUF_INIT, text = BUF_INIT, json = BUF_INIT;
        char mid[OUTBOX_ID_MAX + 300];
        int r;

        if (strcmp(it->target, "email") == 0) {
                text_template_expand(&subject, m->subject, s_value, &v);
                text_template_expand(&text, m->text, s_value, &v);
                snprintf(mid, sizeof(mid), "%s@%s", it->id, cfg->domain);
                r = buf_failed(&subject) || buf_failed(&text)
                        ? -ENOMEM
                        : transport_mail(t, cfg, to, buf_str(&subject), buf_str(&text), mid, now,
                                         NULL, err, err_size);
        } else {
                webhook_auth_t auth = {
                    .user = cfg->sms.user, .password = cfg->sms.password, .bearer = cfg->sms.token};
                const char *const *headers = (const char *const *)cfg->sms.headers;

                text_template_expand(&text, m->sms ? m->sms : m->text, s_value, &v);
                buf_puts(&json, "{\"to\":");
                text_json_string(&json, to);
                buf_puts(&json, ",\"text\":");
                text_json_string(&json, buf_str(&text));
                if (cfg->sms.sender) {
                        buf_puts(&json, ",\"from\":");
                        text_json_string(&json, cfg->sms.sender);
                }
                buf_puts(&json, ",\"reference\":");
                text_json_string(&json, s_value(&v, "ref"));
                buf_puts(&json, ",\"id\":");
                text_json_string(&json, it->id);
                buf_putc(&json, '}');
                r = buf_failed(&json) || buf_failed(&text)
                        ? -ENOMEM
                        : transport_post(t, cfg, cfg->sms.url, headers, &auth, buf_str(&json),
                                         false, err, err_size);
        }
        for (int i = 0; i < 4; i++)
                buf_free(&v.scratch[i]);
        buf_free(&subject);
        buf_free(&text);
        buf_free(&json);
        return r;
}

/* A periodic progress message is due: queue it, and the next one, while the complaint is open
 * and the acceptance that started the series is still its latest. */
static int
s_repeat(const nconf_t *cfg, outbox_t *o, const outbox_item_t *it, const pb_reply_t *reply,
         int64_t now)
{
        const struct nc_feedback *fb = &cfg->feedback;
        const pb_complaint_t *c = reply->complaint;
        const calendar_t *cal = fb->calendar ? fb->calendar->cal : NULL;
        uint64_t last_accept = 0, seq = it->event_seq, id_c = it->complaint_id;
        uint32_t n = it->msg;
        char id[OUTBOX_ID_MAX + 1];
        int r;

        for (size_t i = 0; i < reply->n_history; i++)
                if (reply->history[i]->action == A(ACCEPT))
                        last_accept = reply->history[i]->event_seq;
        if ((c->status != ST_ASSIGNED && c->status != ST_ACCEPTED && c->status != ST_PENDING) ||
            last_accept != seq || fb->progress_every == 0 || cal == NULL ||
            fb->msg[FEEDBACK_PROGRESS].subject == NULL)
                return 0;
        for (int ch = 0; ch < 2; ch++) {
                const char *channel = ch == 0 ? "email" : "sms";
                outbox_item_t m = {.id = id,
                                   .type = OUTBOX_FEEDBACK,
                                   .target = (char *)(uintptr_t)channel,
                                   .complaint_id = id_c,
                                   .event_seq = seq,
                                   .msg = FEEDBACK_PROGRESS,
                                   .created_ms = now,
                                   .due_ms = feedback_release(cal, now)};

                if ((ch == 0 && !fb->via_email) || (ch == 1 && !fb->via_sms))
                        continue;
                snprintf(id, sizeof(id), "c%" PRIu64 ".progress.e%" PRIu64 ".r%" PRIu32 ".%s", id_c,
                         seq, n, channel);
                r = outbox_add(o, &m);
                if (r < 0 && r != -EEXIST)
                        return r;
        }
        {
                outbox_item_t next = {
                    .id = id,
                    .type = OUTBOX_REPEAT,
                    .target = (char *)"api",
                    .complaint_id = id_c,
                    .event_seq = seq,
                    .msg = n + 1,
                    .created_ms = now,
                    .due_ms = feedback_business_days_after(cal, now, fb->progress_every)};

                snprintf(id, sizeof(id), "c%" PRIu64 ".repeat.e%" PRIu64 ".%" PRIu32, id_c, seq,
                         n + 1);
                r = outbox_add(o, &next);
        }
        return r == -EEXIST ? 0 : r;
}

int
feedback_send(const nconf_t *cfg, complaint_client_t *api, transport_t *t, outbox_t *o,
              outbox_item_t *it, int64_t now, char *err, size_t err_size)
{
        const struct nc_feedback *fb = &cfg->feedback;
        pb_reply_t *reply = NULL;
        const pb_complainant_t *who;
        char note[600] = "", rid[128], item_id[OUTBOX_ID_MAX + 1];
        uint64_t complaint_id = it->complaint_id;
        bool email, first, other_usable, sent = it->sent;
        const char *to;
        int r;

        err[0] = '\0';
        snprintf(item_id, sizeof(item_id), "%s", it->id);
        r = s_get(api, complaint_id, &reply, err, err_size);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        if (it->type == OUTBOX_REPEAT) {
                r = s_repeat(cfg, o, it, reply, now);
                complaint__v1__reply__free_unpacked(reply, NULL);
                return r;
        }
        if (it->msg >= FEEDBACK_COUNT || fb->msg[it->msg].subject == NULL) {
                complaint__v1__reply__free_unpacked(reply, NULL);
                return 0; /* switched off by a reload */
        }
        who = reply->complaint->complainant;
        email = strcmp(it->target, "email") == 0;
        to = who ? (email ? who->email : who->phone) : NULL;
        if (!sent && !(email ? s_usable_email(to) : s_usable_phone(to))) {
                /* One of the channels says, once, that the complainant could not be informed. */
                first = email == fb->via_email;
                other_usable = email ? fb->via_sms && who && s_usable_phone(who->phone)
                                     : fb->via_email && who && s_usable_email(who->email);
                if (!first || other_usable) {
                        complaint__v1__reply__free_unpacked(reply, NULL);
                        return 0;
                }
                snprintf(note, sizeof(note),
                         "Complainant not informed: %s not sent, no %s on record.",
                         msg_names[it->msg],
                         fb->via_email && fb->via_sms ? "usable e-mail address or phone number"
                         : email                      ? "usable e-mail address"
                                                      : "usable phone number");
        } else if (!sent) {
                pb_event_t *ev =
                    it->data ? complaint__v1__event__unpack(NULL, it->size, it->data) : NULL;

                r = s_send_message(cfg, t, it,
                                   ev && ev->complaint ? ev->complaint : reply->complaint, who, to,
                                   now, err, err_size);
                complaint__v1__event__free_unpacked(ev, NULL);
                if (r < 0) {
                        complaint__v1__reply__free_unpacked(reply, NULL);
                        return r;
                }
                s_sent_note(cfg, it, note, sizeof(note));
                outbox_mark_sent(o, item_id);
        } else {
                s_sent_note(cfg, it, note, sizeof(note));
        }
        complaint__v1__reply__free_unpacked(reply, NULL);
        s_note_id(item_id, rid, sizeof(rid));
        return s_note(cfg, api, complaint_id, rid, note, err, err_size);
}
