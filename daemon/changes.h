/* changes.h: the rules of a complaint's life: create, assign, accept, pend, resume, resolve,
 * close, reopen, dismiss, note and escalate by hand, each checked against the transition table
 * and recorded with its history entry, its events and the clocks it moves. service.c runs a
 * change request through it; deadlines.c records fired deadlines with it; reads.c finds a
 * complainant's other complaints with it. */
#ifndef COMPLAINTD_CHANGES_H
#define COMPLAINTD_CHANGES_H

#include "contact.h"
#include "request.h"

#define LATE_AFTER_MS 1000
#define CONTACT_SCAN_MAX 1000 /* complaints read per contact key at intake and for get */

/* What one history entry says, beyond the complaint itself. */
struct changes_entry {
        int action;
        int from;              /* status before */
        const char *from_dept; /* department before, when it changed */
        const char *note;
        const char *kind;       /* event kind: "assigned", "escalated/2" */
        const char *extra_dept; /* a second event, to the old department of a reassignment */
        const char *extra_kind;
        const char *after_kind; /* an event on the centre after the entry's own: "flagged" */
        int clock;              /* for escalations and warnings */
        uint32_t level;
        const char *role;
        bool realert;
        int64_t at; /* when it happened, if not now (a deadline fired late) */
        int64_t due_at;
};

void changes_update_level(pb_complaint_t *c);
int changes_record(struct ctx *x, const pb_complaint_t *old, const struct changes_entry *e);
int changes_snapshot(struct ctx *x, pb_complaint_t **ret);
size_t changes_contact_keys(const service_t *s, const pb_complainant_t *who,
                            char keys[2][CONTACT_KEY_MAX]);
int changes_complainant_ids(struct ctx *x, char keys[2][CONTACT_KEY_MAX], size_t n_keys,
                            int64_t since_ms, uint64_t self, uint64_t *ids, size_t max,
                            size_t *ret_n);
int changes_apply(struct ctx *x);

#endif
