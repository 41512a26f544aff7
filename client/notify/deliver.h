/* deliver.h: the sending side of complaint-notify. It works through the deliveries the outbox
 * owes, oldest first: an alert is written from its stored event and mailed or posted to its
 * recipient; a message to a complainant goes through feedback.h. A delivery that fails is
 * retried with a back-off per target (a recipient, or the complainants' e-mail or SMS channel),
 * doubling from notify.retry_min up to notify.retry_max, while the other targets go on; a
 * target still failing give_up after a delivery was due has that delivery logged as given up,
 * with its id, and dropped. Every outcome is logged with the complaint id and the alert id.
 *
 * Each call does a bounded amount of work, so the main loop keeps taking events and pinging the
 * watchdog while a backlog drains. */
#ifndef COMPLAINT_NOTIFY_DELIVER_H
#define COMPLAINT_NOTIFY_DELIVER_H

#include <stdint.h>

#include "complaint_client.h"
#include "notify_conf.h"
#include "outbox.h"
#include "transport.h"

typedef struct deliver deliver_t;

typedef struct deliver_stats {
        uint64_t sent;     /* deliveries done */
        uint64_t failures; /* tries that failed (retried later) */
        uint64_t given_up; /* deliveries dropped after give_up */
        uint64_t dropped;  /* deliveries that could never be done (recipient removed, ...) */
} deliver_stats_t;

/* o, api and t are borrowed for the life of the deliverer. Returns 0 or -ENOMEM. */
int deliver_new(outbox_t *o, complaint_client_t *api, transport_t *t, deliver_t **ret);

/* Accepts NULL and a pointer to NULL; sets *d to NULL. */
void deliver_free(deliver_t **d);

/* Tries at most budget deliveries that are due at now (UTC ms) under cfg. Returns how many
 * were tried. *ret_next is when the next delivery will be due (INT64_MAX: none owed). The
 * outcomes are recorded in the outbox, not synced. */
int deliver_run(deliver_t *d, const nconf_t *cfg, int64_t now, int budget, int64_t *ret_next);

void deliver_get_stats(const deliver_t *d, deliver_stats_t *ret);

#endif
