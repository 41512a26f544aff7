/* route.c: from an event to the alerts and messages it owes (route.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "feedback.h"
#include "route.h"

bool
route_matches(const struct nc_route *rt, unsigned kind, const char *department, uint32_t level)
{
        bool dept = rt->n_departments == 0, lvl = rt->n_levels == 0;

        if (!(rt->kinds & kind))
                return false;
        for (size_t i = 0; !dept && i < rt->n_departments; i++)
                dept = strcmp(rt->departments[i], department) == 0;
        /* An assignment has no level: a route with levels does not take it. */
        for (size_t i = 0; !lvl && kind != KIND_ASSIGNED && i < rt->n_levels; i++)
                lvl = rt->levels[i] == level;
        return dept && lvl;
}

int
route_event(const nconf_t *cfg, const pb_event_t *ev, int64_t now, outbox_t *o)
{
        unsigned kind = alert_kind(ev);
        const char *dept;
        int64_t *due = NULL;
        uint8_t *data = NULL;
        size_t size = 0;
        int added = 0, r = 0;
        bool urgent;

        if (kind != 0 && cfg->n_recipients > 0) {
                due = malloc(cfg->n_recipients * sizeof(*due));
                if (due == NULL)
                        return -ENOMEM;
                for (size_t i = 0; i < cfg->n_recipients; i++)
                        due[i] = INT64_MAX;
                dept = ev->stream && ev->stream[0] ? ev->stream : ev->entry->department;
                urgent = ev->complaint->priority == COMPLAINT__V1__PRIORITY__PRIORITY_URGENT;
                for (size_t i = 0; i < cfg->n_routes; i++) {
                        const struct nc_route *rt = &cfg->routes[i];
                        int64_t when = now;

                        if (!route_matches(rt, kind, dept, ev->entry->level))
                                continue;
                        if (rt->calendar && !urgent)
                                when = feedback_release(rt->calendar->cal, now);
                        for (size_t j = 0; j < rt->n_to; j++)
                                if (when < due[rt->to[j]])
                                        due[rt->to[j]] = when;
                }
                for (size_t i = 0; r >= 0 && i < cfg->n_recipients; i++) {
                        char id[OUTBOX_ID_MAX + 1];
                        outbox_item_t it = {.id = id,
                                            .type = OUTBOX_ALERT,
                                            .target = cfg->recipients[i].id,
                                            .complaint_id = ev->complaint->id,
                                            .event_seq = ev->seq,
                                            .msg = kind,
                                            .created_ms = now,
                                            .due_ms = due[i]};

                        if (due[i] == INT64_MAX)
                                continue;
                        if (data == NULL) {
                                size = complaint__v1__event__get_packed_size(ev);
                                data = malloc(size ? size : 1);
                                if (data == NULL) {
                                        r = -ENOMEM;
                                        break;
                                }
                                complaint__v1__event__pack(ev, data);
                        }
                        it.data = data;
                        it.size = size;
                        snprintf(id, sizeof(id), "e%" PRIu64 ".c%" PRIu64 ".%s", ev->seq,
                                 ev->complaint->id, cfg->recipients[i].id);
                        r = outbox_add(o, &it);
                        if (r == 0)
                                added++;
                        else if (r == -EEXIST)
                                r = 0;
                }
                free(data);
                free(due);
                if (r < 0)
                        return r;
        }
        r = feedback_route(cfg, ev, now, o);
        return r < 0 ? r : added + r;
}
