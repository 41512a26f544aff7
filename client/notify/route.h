/* route.h: what one event owes. It matches the event against the routes of the configuration
 * (department, kind, level) and adds to the outbox one alert for each recipient of every
 * matching route, once per recipient, due at once or, when every matching route that names the
 * recipient has a calendar that is closed now, at the earliest next opening among them; an
 * urgent complaint's alerts are always due at once. Then it adds the messages the event owes the
 * complainant (feedback.h). The event itself is stored with each alert, encoded, so that the
 * alert is written when it is sent (how late it is then) and can be sent again after a restart.
 *
 * An alert's id is "e<seq>.c<complaint>.<recipient>": the same for every try and every repeat,
 * so a repeated alert carries the same Message-ID and id as the first. */
#ifndef COMPLAINT_NOTIFY_ROUTE_H
#define COMPLAINT_NOTIFY_ROUTE_H

#include <stdint.h>

#include "notify_conf.h"
#include "outbox.h"
#include "pb.h"

/* Adds to o what ev owes under cfg at now. Returns the number of items added (items already
 * owed, after a restart, are not added again), or -ENOMEM. */
int route_event(const nconf_t *cfg, const pb_event_t *ev, int64_t now, outbox_t *o);

/* Whether route rt matches an event of kind (a KIND_* bit) in department at level. */
bool route_matches(const struct nc_route *rt, unsigned kind, const char *department,
                   uint32_t level);

#endif
