/* deadlines.h: the firing of warnings and escalations as their deadlines fall due, the next
 * deadline the event loop waits for, and the catch-up after downtime (service_fire_due() and
 * service_next_deadline() in service.h). service.c refreshes the next deadline after a batch
 * of changes and at start-up. */
#ifndef COMPLAINTD_DEADLINES_H
#define COMPLAINTD_DEADLINES_H

#include "request.h"

int deadlines_refresh(service_t *s);

#endif
