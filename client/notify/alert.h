/* alert.h: what an alert to staff says. It classifies an event (a warning, an escalation, a
 * re-alert past the top of a chain, an assignment) and renders it for every format: the mail's
 * subject and plain-text body, the Slack-compatible text, the WeCom and DingTalk markdown
 * messages and the generic JSON document.
 *
 * An alert names the complaint, its department, the level and role, the clock, when it was due
 * and how late it is, its subject, description, category and priority, and what the reader is
 * expected to do. It reads only the event's history entry and the complaint's record, never
 * the record's complainant: no alert carries contact details, whatever the event holds, and the
 * free text it quotes (subject, description) has e-mail addresses and phone numbers redacted.
 *
 * Pure functions: no I/O, no logging. */
#ifndef COMPLAINT_NOTIFY_ALERT_H
#define COMPLAINT_NOTIFY_ALERT_H

#include <stdint.h>

#include "pb.h"
#include "text.h"
#include "tz.h"

/* The most bytes of a complaint's description an alert quotes. */
#define ALERT_DESCRIPTION_MAX 1500

/* What an alert is rendered with. */
typedef struct alert_ctx {
        const char *id;   /* the delivery's id, quoted so that a repeat is recognisable */
        int64_t now_ms;   /* when it is sent: how late the complaint is is counted to here */
        const tz_t *zone; /* times are written in it; NULL: UTC */
} alert_ctx_t;

/* The KIND_* (notify_conf.h) of event, or 0 when it is none of them (a heartbeat, a
 * creation, an acceptance ...). An assignment counts only on the stream of the department it
 * went to (a reassignment is also published to the old department). */
unsigned alert_kind(const pb_event_t *ev);

/* The subject line and the plain-text body of the mail about ev. Returns 0 or -EINVAL when ev
 * is no alert (alert_kind() 0) or lacks its entry or record; -ENOMEM when a buffer failed. */
int alert_render_mail(const pb_event_t *ev, const alert_ctx_t *ctx, buf_t *subject, buf_t *body);

/* The JSON document POSTed to a webhook of format (FORMAT_JSON, FORMAT_SLACK, FORMAT_WECOM,
 * FORMAT_DINGTALK) about ev. Returns 0, -EINVAL as above or for another format, or -ENOMEM. */
int alert_render_webhook(const pb_event_t *ev, int format, const alert_ctx_t *ctx, buf_t *json);

#endif
