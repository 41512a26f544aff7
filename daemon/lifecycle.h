/* lifecycle.h: the transition table of a complaint (DESIGN §2): which action is allowed in
 * which state, and the state it leads to. Pure rules, no storage. Actions and states are the
 * complaint.v1 Action and Status values. */
#ifndef COMPLAINTD_LIFECYCLE_H
#define COMPLAINTD_LIFECYCLE_H

#include <stddef.h>

/* The state that action leads to from status, in *ret_status. Returns -EPERM when the action
 * is not allowed in that state, -EINVAL for an unknown status or action. ACTION_ASSIGN stands
 * for both dispatch and reassignment; ACTION_NOTE and ACTION_ESCALATE keep the state. */
int lifecycle_next(int status, int action, int *ret_status);

/* Writes the actions allowed in status as words ("assign, resolve, dismiss, note") into buf;
 * returns buf. */
const char *lifecycle_allowed(int status, char *buf, size_t size);

/* The word a user types for an action ("assign", "pend"). */
const char *lifecycle_action_word(int action);

#endif
