/* request.c: a request's context and the helpers every handler shares. See request.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "analysis.h"
#include "log.h"
#include "macro.h"
#include "request.h"

#define ACTOR_SELF "complaintd"

/* ------------------------------------------------------------------ errors */

int __attribute__((format(printf, 4, 5)))
request_fail(struct ctx *x, int code, const char *field, const char *fmt, ...)
{
        va_list ap;
        char buf[512];

        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        free(x->message);
        x->message = strdup(buf);
        x->reply.error = code;
        if (field)
                snprintf(x->field, sizeof(x->field), "%s.%s", x->kind, field);
        else
                x->field[0] = '\0';
        return -1;
}

int
request_store_fail(struct ctx *x, int r, const char *what)
{
        if (r == -ENOSPC)
                return -ENOSPC;
        log_error("store: %s: %s", what, strerror(-r));
        return request_fail(x, E_INTERNAL, NULL, "the store failed while %s: %s", what,
                            strerror(-r));
}

/* -------------------------------------------------------------- validation */

bool
request_utf8_valid(const char *s)
{
        const unsigned char *p = (const unsigned char *)s;

        while (*p) {
                unsigned n, cp;

                if (*p < 0x80) {
                        p++;
                        continue;
                } else if ((*p & 0xe0) == 0xc0) {
                        n = 1;
                        cp = *p & 0x1f;
                } else if ((*p & 0xf0) == 0xe0) {
                        n = 2;
                        cp = *p & 0x0f;
                } else if ((*p & 0xf8) == 0xf0) {
                        n = 3;
                        cp = *p & 0x07;
                } else {
                        return false;
                }
                p++;
                for (unsigned i = 0; i < n; i++, p++) {
                        if ((*p & 0xc0) != 0x80)
                                return false;
                        cp = cp << 6 | (*p & 0x3f);
                }
                if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
                    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                        return false;
        }
        return true;
}

int
request_check_text(struct ctx *x, const char *field, const char *v, uint32_t max, int flags)
{
        size_t len = strlen(v);
        bool blank = true;

        if (len > max)
                return request_fail(x, E_TOO_LARGE, field,
                                    "%s is %zu bytes long, over its limit of %u", field, len, max);
        if (!request_utf8_valid(v))
                return request_fail(x, E_INVALID_ARGUMENT, field, "%s is not valid UTF-8", field);
        for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
                if (*p < 0x20 || *p == 0x7f) {
                        if (!(flags & TEXT_MULTILINE) || !(*p == '\n' || *p == '\t' || *p == '\r'))
                                return request_fail(x, E_INVALID_ARGUMENT, field,
                                                    "%s contains a control character (0x%02x)",
                                                    field, *p);
                } else if (*p != ' ') {
                        blank = false;
                }
        }
        if ((flags & TEXT_REQUIRED) && blank)
                return request_fail(x, E_INVALID_ARGUMENT, field, "%s is required", field);
        return 0;
}

int
request_check_enum(struct ctx *x, const char *field, int v, int min, int max)
{
        if (v < min || v > max)
                return request_fail(x, E_INVALID_ARGUMENT, field, "%s has an unknown value %d",
                                    field, v);
        return 0;
}

/* ----------------------------------------------------------- record fields */

int
request_set_string(char **field, const char *v)
{
        char *copy = strdup(v ? v : "");

        if (copy == NULL)
                return -ENOMEM;
        if (*field != protobuf_c_empty_string)
                free(*field);
        *field = copy;
        return 0;
}

int
request_event(struct ctx *x, const pb_history_t *entry, const char *department, const char *kind)
{
        pb_event_t ev = COMPLAINT__V1__EVENT__INIT;
        pb_history_t published = *entry;
        struct service_outbox *out = x->out;
        struct service_event *item;
        pb_complainant_t *contact = x->c->complainant;
        ProtobufCBinaryData sealed;
        char topic[160];
        int r;

        if (out->n == out->cap) {
                size_t cap = out->cap ? out->cap * 2 : 64;
                struct service_event *p = realloc(out->items, cap * sizeof(*p));

                if (p == NULL)
                        return request_store_fail(x, -ENOMEM, "queueing an event");
                out->items = p;
                out->cap = cap;
        }
        snprintf(topic, sizeof(topic), "%s/%s", department, kind);
        ev.schema_version = PB_SCHEMA_VERSION;
        ev.topic = topic;
        ev.stream = (char *)(uintptr_t)department;
        ev.at_ms = entry->at_ms;
        ev.entry = &published;
        ev.complaint = x->c;
        /* Contact details stay in the record, sealed; events go to many systems. */
        x->c->complainant = NULL;
        sealed = x->c->sealed_contact;
        x->c->sealed_contact = (ProtobufCBinaryData){0, NULL};
        r = store_append_event(x->txn, &ev);
        if (r == 0) {
                item = &out->items[out->n];
                item->len = protobuf_c_message_get_packed_size(&ev.base);
                item->data = malloc(item->len ? item->len : 1);
                item->topic = strdup(topic);
                if (item->data == NULL || item->topic == NULL) {
                        free(item->data);
                        free(item->topic);
                        r = -ENOMEM;
                } else {
                        protobuf_c_message_pack(&ev.base, item->data);
                        out->n++;
                        x->reply.event_seq = ev.seq;
                }
        }
        x->c->complainant = contact;
        x->c->sealed_contact = sealed;
        if (r < 0)
                return request_store_fail(x, r, "storing an event");
        return 0;
}

void
request_outbox_truncate(struct service_outbox *out, size_t n)
{
        while (out->n > n) {
                out->n--;
                free(out->items[out->n].topic);
                free(out->items[out->n].data);
        }
}

/* ----------------------------------------------------------------- context */

static const char *
s_kind(const pb_request_t *q)
{
        const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(
            &complaint__v1__request__descriptor, q->body_case);
        return f ? f->name : "request";
}

void
request_init(struct ctx *x, service_t *s, const pb_request_t *req, struct service_outbox *out)
{
        memset(x, 0, sizeof(*x));
        x->s = s;
        x->req = req;
        x->out = out;
        x->now = now_ms();
        x->kind = req ? s_kind(req) : "request";
        x->actor = req ? req->actor : ACTOR_SELF;
        complaint__v1__reply__init(&x->reply);
        complaint__v1__complaint_list__init(&x->list_reply);
        complaint__v1__status_reply__init(&x->status);
        complaint__v1__replay_reply__init(&x->replay);
        complaint__v1__ledger_reply__init(&x->ledger);
        complaint__v1__erase_reply__init(&x->erase);
}

uint8_t *
request_finish(struct ctx *x, size_t *ret_len)
{
        uint8_t *buf;

        x->reply.schema_version = PB_SCHEMA_VERSION;
        /* A proto3 string must be UTF-8: strict decoders reject a whole reply that holds
         * anything else, and the client would never see why its request failed. */
        if (x->req && x->req->request_id && request_utf8_valid(x->req->request_id))
                x->reply.request_id = x->req->request_id;
        x->reply.message = x->message;
        x->reply.field = x->field;
        if (x->reply.error == E_OK && x->c)
                x->reply.complaint = x->c;
        if (x->reply.error != E_OK) {
                x->reply.complaint = NULL;
                x->reply.history = NULL;
                x->reply.n_history = 0;
                x->reply.list = NULL;
                x->reply.status = NULL;
                x->reply.event_seq = 0;
                x->reply.report = NULL;
                x->reply.ledger = NULL;
                x->reply.n_complainant_complaints = 0;
                x->reply.erase = NULL;
                if (x->reply.error != E_GONE)
                        x->reply.replay = NULL;
        }
        *ret_len = protobuf_c_message_get_packed_size(&x->reply.base);
        buf = malloc(*ret_len ? *ret_len : 1);
        if (buf)
                protobuf_c_message_pack(&x->reply.base, buf);
        request_release(x);
        return buf;
}

void
request_release(struct ctx *x)
{
        if (x->c)
                complaint__v1__complaint__free_unpacked(x->c, NULL);
        store_free_history(&x->hist, x->n_hist);
        store_free_list(&x->list, x->n_list);
        store_free_events(&x->events, x->n_events);
        free(x->heads);
        free(x->head_ptrs);
        free(x->related);
        analysis_report_free(&x->report);
        store_free_list(&x->ledger_c, x->n_ledger_c);
        free(x->ledger_rows);
        free(x->ledger_ptrs);
        free(x->erased_ids);
        free(x->message);
        memset(x, 0, sizeof(*x));
}

bool
request_may_see_contact(const struct ctx *x)
{
        return x->principal == NULL || x->principal->contact;
}

static void
s_drop_sealed(pb_complaint_t *c)
{
        if (c->sealed_contact.data)
                free(c->sealed_contact.data);
        c->sealed_contact = (ProtobufCBinaryData){0, NULL};
}

int
request_contact_view(struct ctx *x, pb_complaint_t *c)
{
        int r = 0;

        if (c == NULL)
                return 0;
        if (!request_may_see_contact(x)) {
                if (c->complainant)
                        complaint__v1__complainant__free_unpacked(c->complainant, NULL);
                c->complainant = NULL;
        } else if (c->complainant == NULL && c->sealed_contact.len > 0) {
                r = store_open_contact(x->txn, c, &c->complainant);
        }
        s_drop_sealed(c);
        return r == -ENOENT ? 0 : r;
}

int
request_reply_refill(struct ctx *x, pb_complaint_t *c)
{
        pb_complaint_t *now = NULL;
        int r;

        if (c == NULL)
                return 0;
        s_drop_sealed(c);
        r = store_get_complaint(x->txn, c->id, &now);
        if (r == 0)
                r = request_set_string(&c->description, now->description);
        if (r == 0 && c->complainant == NULL && request_may_see_contact(x))
                r = store_open_contact(x->txn, now, &c->complainant);
        if (now)
                complaint__v1__complaint__free_unpacked(now, NULL);
        if (r < 0 && r != -ENOENT)
                return r;
        return request_contact_view(x, c);
}
