/* alert.c: classifies events and renders alerts (alert.h). Every format is made from one list
 * of facts (label, value), one title and one sentence saying what to do, so the formats never
 * disagree. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "notify_conf.h"

#define FACTS_MAX 20
#define A(x) COMPLAINT__V1__ACTION__ACTION_##x
#define K(x) COMPLAINT__V1__CLOCK_KIND__CLOCK_KIND_##x

struct fact {
        const char *label;
        char *value; /* malloc'ed */
};

/* An alert, ready to be written in any format. */
struct alert {
        unsigned kind;
        buf_t title;
        buf_t todo;
        buf_t description; /* redacted and cut; empty when none */
        struct fact facts[FACTS_MAX];
        size_t n_facts;
        bool oom;
};

unsigned
alert_kind(const pb_event_t *ev)
{
        const pb_history_t *h = ev->entry;
        const char *slash;

        if (ev->heartbeat || h == NULL || ev->complaint == NULL)
                return 0;
        switch (h->action) {
        case A(WARN):
                return KIND_WARNING;
        case A(ESCALATE):
                return h->realert ? KIND_REALERT : KIND_ESCALATED;
        case A(ASSIGN):
        case A(REASSIGN):
        case A(REOPEN):
                slash = strchr(ev->topic ? ev->topic : "", '/');
                if (h->to_status == ST_ASSIGNED && slash &&
                    (strcmp(slash, "/assigned") == 0 || strcmp(slash, "/reopened") == 0))
                        return KIND_ASSIGNED;
                return 0;
        default:
                return 0;
        }
}

static const Complaint__V1__Clock *
s_clock(const pb_event_t *ev)
{
        switch (ev->entry->clock) {
        case K(RESPONSE):
                return ev->complaint->response_clock;
        case K(RESOLUTION):
                return ev->complaint->resolution_clock;
        case K(FOLLOW_UP):
                return ev->complaint->follow_up_clock;
        default:
                return NULL;
        }
}

static const char *
s_clock_name(int clock)
{
        switch (clock) {
        case K(RESPONSE):
                return "response";
        case K(RESOLUTION):
                return "resolution";
        case K(FOLLOW_UP):
                return "follow-up";
        default:
                return NULL;
        }
}

/* What stops the clock: what the reader is to see done. */
static const char *
s_clock_goal(int clock)
{
        switch (clock) {
        case K(RESPONSE):
                return "accepts (acknowledges) it";
        case K(RESOLUTION):
                return "resolves it with a reply to the complainant";
        case K(FOLLOW_UP):
                return "calls the complainant back and closes it";
        default:
                return "deals with it";
        }
}

static void __attribute__((format(printf, 3, 4)))
s_fact(struct alert *a, const char *label, const char *fmt, ...)
{
        va_list ap;
        char *s;
        int n;

        if (a->n_facts >= FACTS_MAX)
                return;
        va_start(ap, fmt);
        n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        s = malloc((size_t)n + 1);
        if (s == NULL) {
                a->oom = true;
                return;
        }
        va_start(ap, fmt);
        vsnprintf(s, (size_t)n + 1, fmt, ap);
        va_end(ap);
        a->facts[a->n_facts].label = label;
        a->facts[a->n_facts++].value = s;
}

static void
s_fact_buf(struct alert *a, const char *label, buf_t *b)
{
        if (buf_failed(b))
                a->oom = true;
        else
                s_fact(a, label, "%s", buf_str(b));
        buf_reset(b);
}

static void
s_free(struct alert *a)
{
        buf_free(&a->title);
        buf_free(&a->todo);
        buf_free(&a->description);
        for (size_t i = 0; i < a->n_facts; i++)
                free(a->facts[i].value);
}

/* The level and its role: "1 (Section chief)", or "0" without a role. */
static void
s_level(buf_t *b, uint32_t level, const char *role)
{
        buf_printf(b, "%" PRIu32, level);
        if (role && role[0])
                buf_printf(b, " (%s)", role);
}

static int
s_build(const pb_event_t *ev, const alert_ctx_t *ctx, struct alert *a)
{
        const pb_history_t *h = ev->entry;
        const pb_complaint_t *c = ev->complaint;
        const char *dept = ev->stream && ev->stream[0] ? ev->stream : h->department;
        const char *clock_name, *goal;
        const Complaint__V1__Clock *k;
        buf_t v = BUF_INIT;

        a->kind = alert_kind(ev);
        if (a->kind == 0)
                return -EINVAL;
        k = s_clock(ev);
        clock_name = s_clock_name(h->clock);
        goal = s_clock_goal(h->clock);

        switch (a->kind) {
        case KIND_WARNING:
                buf_printf(&a->title, "Complaint %" PRIu64 ": %s deadline near in %s", c->id,
                           clock_name ? clock_name : "a", dept);
                buf_printf(&a->todo,
                           "The %s deadline is near. See that %s %s before it passes, or it "
                           "is escalated to level %" PRIu32 ".",
                           clock_name ? clock_name : "", dept, goal, h->level + 1);
                break;
        case KIND_ESCALATED:
                buf_printf(&a->title, "Complaint %" PRIu64 " escalated to level %" PRIu32, c->id,
                           h->level);
                if (h->role && h->role[0])
                        buf_printf(&a->title, " (%s)", h->role);
                buf_printf(&a->title, " in %s", dept);
                buf_printf(&a->todo,
                           "Its %s deadline passed. You are now responsible for it at level "
                           "%" PRIu32 ": see that %s %s",
                           clock_name ? clock_name : "", h->level, dept, goal);
                if (k && k->running && k->due_at_ms > 0 && h->level < k->chain_levels)
                        buf_printf(&a->todo,
                                   " before the next deadline, or it goes to level %" PRIu32 ".",
                                   h->level + 1);
                else
                        buf_puts(&a->todo, "; this is the top of the chain, and you will be "
                                           "alerted again until it is done.");
                break;
        case KIND_REALERT:
                buf_printf(&a->title,
                           "Complaint %" PRIu64 " still open past the top of the chain in %s",
                           c->id, dept);
                buf_printf(&a->todo,
                           "It is past every deadline of the %s chain and still not done. See "
                           "that %s %s; you will be alerted again until it is.",
                           dept, dept, goal);
                break;
        case KIND_ASSIGNED:
                buf_printf(&a->title, "Complaint %" PRIu64 " assigned to %s", c->id, dept);
                buf_puts(&a->todo, "Accept (acknowledge) it within the response limit, then "
                                   "work on it and resolve it with a reply to the complainant.");
                break;
        }

        s_fact(a, "Complaint", "%" PRIu64, c->id);
        text_redact(&v, c->subject);
        s_fact_buf(a, "Subject", &v);
        s_fact(a, "Category", "%s", c->category ? c->category : "");
        s_fact(a, "Priority", "%s", pb_priority_name(c->priority));
        s_fact(a, "Status", "%s", pb_status_name(c->status));
        s_fact(a, "Department", "%s", dept);
        if (a->kind != KIND_ASSIGNED) {
                s_level(&v, h->level, h->role);
                s_fact_buf(a, "Level", &v);
                if (clock_name)
                        s_fact(a, "Clock", "%s", clock_name);
        }
        if (a->kind == KIND_WARNING && h->due_at_ms > 0) {
                text_time(&v, h->due_at_ms, ctx->zone, false);
                buf_puts(&v, ", in ");
                text_duration(&v, h->due_at_ms - ctx->now_ms);
                s_fact_buf(a, "Due", &v);
        }
        if (a->kind == KIND_ESCALATED || a->kind == KIND_REALERT) {
                text_time(&v, h->at_ms, ctx->zone, false);
                s_fact_buf(a, "Was due", &v);
                text_duration(&v, ctx->now_ms - h->at_ms);
                s_fact_buf(a, "Overdue by", &v);
                if (a->kind == KIND_REALERT && k)
                        s_fact(a, "Alerts", "%" PRIu32 " past the top", k->alerts);
        }
        if (k && k->started_at_ms > 0) {
                text_time(&v, k->started_at_ms, ctx->zone, false);
                buf_puts(&v, ", ");
                text_duration(&v, ctx->now_ms - k->started_at_ms);
                buf_puts(&v, " ago");
                s_fact_buf(a, "Clock started", &v);
        }
        if (k && k->running && k->due_at_ms > 0 && a->kind != KIND_WARNING) {
                text_time(&v, k->due_at_ms, ctx->zone, false);
                s_fact_buf(a, "Next deadline", &v);
        }
        if (h->late)
                s_fact(a, "Late", "%s", "fired after the daemon was down");
        s_fact(a, "Event", "%" PRIu64 " (%s)", ev->seq, ev->topic ? ev->topic : "");
        s_fact(a, "Alert", "%s", ctx->id ? ctx->id : "");
        if (c->description && c->description[0]) {
                size_t cut = text_utf8_cut(c->description, ALERT_DESCRIPTION_MAX);
                char *d = strndup(c->description, cut);

                if (d == NULL) {
                        a->oom = true;
                } else {
                        text_redact(&a->description, d);
                        if (cut < strlen(c->description))
                                buf_puts(&a->description, " […]");
                        free(d);
                }
        }
        buf_free(&v);
        if (a->oom || buf_failed(&a->title) || buf_failed(&a->todo) || buf_failed(&a->description))
                return -ENOMEM;
        return 0;
}

/* The description indented by prefix on every line. */
static void
s_indent(buf_t *b, const char *text, const char *prefix)
{
        buf_puts(b, prefix);
        for (const char *p = text; *p; p++) {
                if (*p == '\r')
                        continue;
                buf_putc(b, *p);
                if (*p == '\n' && p[1])
                        buf_puts(b, prefix);
        }
        buf_putc(b, '\n');
}

int
alert_render_mail(const pb_event_t *ev, const alert_ctx_t *ctx, buf_t *subject, buf_t *body)
{
        struct alert a = {0};
        buf_t subj = BUF_INIT;
        int r = s_build(ev, ctx, &a);

        if (r < 0) {
                s_free(&a);
                return r;
        }
        text_redact(&subj, ev->complaint->subject);
        buf_puts(subject, buf_str(&a.title));
        if (buf_str(&subj)[0])
                buf_printf(subject, ": %.*s", (int)text_utf8_cut(buf_str(&subj), 120),
                           buf_str(&subj));
        buf_free(&subj);

        buf_printf(body, "%s.\n\n", buf_str(&a.title));
        for (size_t i = 0; i < a.n_facts; i++)
                buf_printf(body, "  %-15s %s\n", a.facts[i].label, a.facts[i].value);
        if (a.description.len) {
                buf_puts(body, "\nDescription:\n");
                s_indent(body, buf_str(&a.description), "  ");
        }
        buf_printf(body,
                   "\nWhat to do: %s\n\nThe complaint and its history: complaintctl show "
                   "%" PRIu64 "\n",
                   buf_str(&a.todo), ev->complaint->id);
        buf_puts(body, "\n-- \ncomplaint-notify: alerts about complaints past or near their "
                       "deadlines.\n");
        s_free(&a);
        return buf_failed(subject) || buf_failed(body) ? -ENOMEM : 0;
}

/* Slack's mrkdwn: &, < and > are its markup and must be escaped. */
static void
s_slack_escape(buf_t *b, const char *s)
{
        for (; *s; s++) {
                if (*s == '&')
                        buf_puts(b, "&amp;");
                else if (*s == '<')
                        buf_puts(b, "&lt;");
                else if (*s == '>')
                        buf_puts(b, "&gt;");
                else
                        buf_putc(b, *s);
        }
}

static void
s_text_slack(const struct alert *a, buf_t *t)
{
        buf_putc(t, '*');
        s_slack_escape(t, buf_str(&a->title));
        buf_puts(t, "*\n");
        for (size_t i = 0; i < a->n_facts; i++) {
                buf_printf(t, "%s: ", a->facts[i].label);
                s_slack_escape(t, a->facts[i].value);
                buf_putc(t, '\n');
        }
        if (a->description.len) {
                buf_puts(t, "> ");
                for (const char *p = buf_str(&a->description); *p; p++) {
                        if (*p == '&' || *p == '<' || *p == '>') {
                                char one[2] = {*p, 0};
                                s_slack_escape(t, one);
                        } else {
                                buf_putc(t, *p);
                        }
                        if (*p == '\n')
                                buf_puts(t, "> ");
                }
                buf_putc(t, '\n');
        }
        buf_puts(t, "_");
        s_slack_escape(t, buf_str(&a->todo));
        buf_puts(t, "_");
}

/* Markdown as WeCom and DingTalk robots render it: a heading, one line per fact, the
 * description quoted, what to do. */
static void
s_text_markdown(const struct alert *a, buf_t *t, bool dingtalk)
{
        buf_printf(t, "### %s\n", buf_str(&a->title));
        for (size_t i = 0; i < a->n_facts; i++)
                buf_printf(t, "%s**%s:** %s\n", dingtalk ? "\n- " : "> ", a->facts[i].label,
                           a->facts[i].value);
        if (a->description.len) {
                buf_putc(t, '\n');
                s_indent(t, buf_str(&a->description), "> ");
        }
        buf_printf(t, "\n%s", buf_str(&a->todo));
}

static void
s_plain(const struct alert *a, buf_t *t)
{
        buf_printf(t, "%s.\n", buf_str(&a->title));
        for (size_t i = 0; i < a->n_facts; i++)
                buf_printf(t, "%s: %s\n", a->facts[i].label, a->facts[i].value);
        if (a->description.len)
                buf_printf(t, "Description: %s\n", buf_str(&a->description));
        buf_printf(t, "%s", buf_str(&a->todo));
}

static void
s_kv(buf_t *j, const char *key, const char *value, bool comma)
{
        text_json_string(j, key);
        buf_putc(j, ':');
        text_json_string(j, value);
        if (comma)
                buf_putc(j, ',');
}

int
alert_render_webhook(const pb_event_t *ev, int format, const alert_ctx_t *ctx, buf_t *json)
{
        struct alert a = {0};
        buf_t t = BUF_INIT;
        const pb_history_t *h;
        const Complaint__V1__Clock *k;
        int r = s_build(ev, ctx, &a);

        if (r < 0) {
                s_free(&a);
                return r;
        }
        h = ev->entry;
        switch (format) {
        case FORMAT_SLACK:
                s_text_slack(&a, &t);
                buf_putc(json, '{');
                s_kv(json, "text", buf_str(&t), false);
                buf_putc(json, '}');
                break;
        case FORMAT_WECOM:
                s_text_markdown(&a, &t, false);
                /* A WeCom markdown message holds at most 4096 bytes. */
                buf_puts(json, "{\"msgtype\":\"markdown\",\"markdown\":{");
                t.len = text_utf8_cut(buf_str(&t), 4000);
                if (t.p)
                        t.p[t.len] = '\0';
                s_kv(json, "content", buf_str(&t), false);
                buf_puts(json, "}}");
                break;
        case FORMAT_DINGTALK:
                s_text_markdown(&a, &t, true);
                buf_puts(json, "{\"msgtype\":\"markdown\",\"markdown\":{");
                s_kv(json, "title", buf_str(&a.title), true);
                s_kv(json, "text", buf_str(&t), false);
                buf_puts(json, "}}");
                break;
        case FORMAT_JSON:
                k = s_clock(ev);
                s_plain(&a, &t);
                buf_putc(json, '{');
                s_kv(json, "id", ctx->id ? ctx->id : "", true);
                s_kv(json, "kind", nconf_kind_name(a.kind), true);
                buf_printf(json, "\"event_seq\":%" PRIu64 ",\"complaint_id\":%" PRIu64 ",", ev->seq,
                           ev->complaint->id);
                s_kv(json, "topic", ev->topic, true);
                s_kv(json, "department", ev->stream && ev->stream[0] ? ev->stream : h->department,
                     true);
                buf_printf(json, "\"level\":%" PRIu32 ",", h->level);
                s_kv(json, "role", h->role, true);
                s_kv(json, "clock", s_clock_name(h->clock) ? s_clock_name(h->clock) : "", true);
                if (a.kind == KIND_ESCALATED || a.kind == KIND_REALERT)
                        buf_printf(json, "\"due_at_ms\":%" PRId64 ",\"overdue_ms\":%" PRId64 ",",
                                   h->at_ms, ctx->now_ms - h->at_ms);
                else if (a.kind == KIND_WARNING)
                        buf_printf(json, "\"due_at_ms\":%" PRId64 ",", h->due_at_ms);
                if (k && k->running && k->due_at_ms > 0)
                        buf_printf(json, "\"next_due_at_ms\":%" PRId64 ",", k->due_at_ms);
                buf_printf(json, "\"late\":%s,", h->late ? "true" : "false");
                for (size_t i = 0; i < a.n_facts; i++)
                        if (strcmp(a.facts[i].label, "Subject") == 0)
                                s_kv(json, "subject", a.facts[i].value, true);
                s_kv(json, "category", ev->complaint->category, true);
                s_kv(json, "priority", pb_priority_name(ev->complaint->priority), true);
                s_kv(json, "status", pb_status_name(ev->complaint->status), true);
                s_kv(json, "description", buf_str(&a.description), true);
                s_kv(json, "title", buf_str(&a.title), true);
                s_kv(json, "todo", buf_str(&a.todo), true);
                s_kv(json, "text", buf_str(&t), false);
                buf_putc(json, '}');
                break;
        default:
                r = -EINVAL;
        }
        if (r == 0 && (buf_failed(&t) || buf_failed(json)))
                r = -ENOMEM;
        buf_free(&t);
        s_free(&a);
        return r;
}
