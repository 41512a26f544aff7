/* changes.h: the rules of a complaint's life: create, assign, accept, pend, resume, resolve,
 * close, reopen, dismiss, note and escalate by hand. Each change is checked against the
 * transition table (lifecycle.h), moves the complaint's clocks, and is recorded: one history
 * entry, its events, the record and its indexes. Intake also links the complainant's earlier
 * complaints and flags a repeat complainant. service.c runs change requests through
 * changes_apply(); deadlines.c records fired deadlines with changes_record(); reads.c lists a
 * complainant's other complaints with changes_contact_keys() and changes_complainant_ids(). */
#ifndef COMPLAINTD_CHANGES_H
#define COMPLAINTD_CHANGES_H

#include "contact.h"
#include "request.h"

/* A deadline recorded more than this after it fell due is marked late. */
/* Complaints read per contact key at intake and for get. */
#define CONTACT_SCAN_MAX 1000

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

/* Runs the change request of x inside x->txn, its nested transaction, and sets its reply.
 * Returns 0 (the reply may still be an error: the caller then aborts the transaction), or
 * -ENOSPC when the store is full. */
int changes_apply(struct ctx *x);

/* Records the change made to x->c, as it was before in old (NULL for a new complaint): the
 * clocks it moves, one history entry, its event(s), and the record with its indexes. Returns 0,
 * -ENOSPC, or -1 with the error reply set. */
int changes_record(struct ctx *x, const pb_complaint_t *old, const struct changes_entry *e);

/* A copy of x->c as loaded, for moving its indexes once it changes; the caller frees it with
 * complaint__v1__complaint__free_unpacked(). Returns 0, or -1 with the error reply set. */
int changes_snapshot(struct ctx *x, pb_complaint_t **ret);

/* Sets the complaint's level to the highest of its running clocks, and raises its max_level. */
void changes_update_level(pb_complaint_t *c);

/* The contact keys of a complainant (contact.h) in keys: its phone and its e-mail, each when it
 * links anything. Returns how many (0 to 2). */
size_t changes_contact_keys(const service_t *s, const pb_complainant_t *who,
                            char keys[2][CONTACT_KEY_MAX]);

/* The complaints filed under any of the keys since since_ms, newest first, each once (one can
 * be under a phone and an e-mail), at most max, without `self`, in ids, which holds
 * 2 x CONTACT_SCAN_MAX. Returns 0 or the store's -errno. */
int changes_complainant_ids(struct ctx *x, char keys[2][CONTACT_KEY_MAX], size_t n_keys,
                            int64_t since_ms, uint64_t self, uint64_t *ids, size_t max,
                            size_t *ret_n);

#endif
