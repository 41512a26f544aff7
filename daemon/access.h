/* access.h: who may do what (DESIGN §10): the rules that map a principal's role, departments
 * and levels to the requests, complaints, streams and topics it may use. Pure decisions on
 * the configuration's principals: the service asks them of every request, and the event
 * socket of every subscription. Without access control there is no principal and everything
 * is allowed (loopback and ipc:// only). */
#ifndef COMPLAINTD_ACCESS_H
#define COMPLAINTD_ACCESS_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "pb.h"

/* Whether p may send a request of this kind at all (body_case, a Request body). When not,
 * *ret_what says what it may not do ("file complaints"); borrowed, static. */
bool access_may_request(const struct config_principal *p, int body_case, const char **ret_what);

/* Whether p may act on (change: the change of body_case) or read complaint c: a department or
 * supervisor principal only on complaints of its departments; intake settles on the spot (a
 * resolve) only what is still new. *ret_what as above. */
bool access_may_complaint(const struct config_principal *p, int body_case, const pb_complaint_t *c,
                          const char **ret_what);

/* Whether p may subscribe to, or replay, events whose topics begin with prefix (of len
 * bytes): the heartbeat always; "<dept>/..." for a department it covers; for a supervisor
 * only "<dept>/warning/" and "<dept>/escalated/" (at its levels when it has some); the whole
 * centre for the other roles. */
bool access_may_topic(const struct config_principal *p, const char *prefix, size_t len);

/* The actor the history records for a request of p naming actor (may be ""): the principal's
 * name, or "name:actor" for a principal that acts for people. Written into buf; NULL when it
 * does not fit. */
const char *access_actor(const struct config_principal *p, const char *actor, char *buf,
                         size_t size);

#endif
