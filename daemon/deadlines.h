/* deadlines.h: warnings and escalations as their deadlines fall due. deadlines.c implements
 * service_fire_due(), which also catches up on what fell due while the daemon was down (recorded
 * at its time, marked late), and service_next_deadline(), the time the event loop waits for.
 * service.c refreshes that time at start-up and after each batch of changes. */
#ifndef COMPLAINTD_DEADLINES_H
#define COMPLAINTD_DEADLINES_H

#include "request.h"

/* Reads the first deadline of the index into s->next_due (0: none), in a short read
 * transaction. Returns 0, or the store's -errno with next_due untouched. */
int deadlines_refresh(service_t *s);

#endif
