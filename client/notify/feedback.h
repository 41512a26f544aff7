/* feedback.h: messages to complainants. It decides which events owe the complainant a message
 * (the acknowledgement when the complaint is dispatched, with its reference and the date of the
 * reply; progress when the department accepts it and then every N business days while it is
 * open; the reply when it is resolved), and sends each one: it reads the complainant's contact
 * details through the API (events carry none), fills in the configured template, mails it or
 * posts it to the SMS gateway, and records in the complaint's history, with a `note` request,
 * that the complainant was informed, how and when, or that the complainant could not be
 * informed for want of an address or number.
 *
 * The note's request id is derived from the message's id, so a note repeated after a crash or a
 * lost reply is recorded once; a message that went is marked sent in the outbox before its note
 * is asked for, so a note that fails is retried without sending the message again. */
#ifndef COMPLAINT_NOTIFY_FEEDBACK_H
#define COMPLAINT_NOTIFY_FEEDBACK_H

#include <stddef.h>
#include <stdint.h>

#include "complaint_client.h"
#include "notify_conf.h"
#include "outbox.h"
#include "transport.h"

/* How long one API request (get, note) may take. */
#define FEEDBACK_CALL_TIMEOUT_MS 3000

/* Adds to o the messages ev owes its complainant under cfg, each due at now or at the next
 * opening of the feedback calendar. Returns the number of items added (an item already owed,
 * after a restart, is not added again), or -ENOMEM. */
int feedback_route(const nconf_t *cfg, const pb_event_t *ev, int64_t now, outbox_t *o);

/* Sends the owed item it (OUTBOX_FEEDBACK or OUTBOX_REPEAT; borrowed from o) through api and
 * t. Returns 0 when it is done (sent and recorded, or nothing to do: the complaint is gone or
 * closed, the message is switched off); -EAGAIN when it is to be tried again (err says why: the
 * daemon, the MTA or the gateway did not take it); -EINVAL when it can never be done (err says
 * why); -ENOMEM. A repetition of the progress message adds the next messages to o. */
int feedback_send(const nconf_t *cfg, complaint_client_t *api, transport_t *t, outbox_t *o,
                  outbox_item_t *it, int64_t now, char *err, size_t err_size);

/* The first instant of the n-th business day after the day of from_ms on cal (a day with any
 * business time counts); from_ms when none is found within a year. */
int64_t feedback_business_days_after(const calendar_t *cal, int64_t from_ms, uint32_t n);

/* The first business instant at or after now on cal (NULL: now): when a held message may go. */
int64_t feedback_release(const calendar_t *cal, int64_t now);

#endif
