/* request.h: one request while the service handles it. It owns the service's state (struct
 * service) and a request's context (struct ctx), and the helpers every handler shares: error
 * replies, checks on client text, string fields, and the events a change queues in the outbox.
 * Internal to the service: only its own files include it (service.c, changes.c, reads.c,
 * analysis.c, deadlines.c); everything else uses service.h. */
#ifndef COMPLAINTD_REQUEST_H
#define COMPLAINTD_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "policy.h"
#include "service.h"
#include "store.h"

/* Short names for the complaint.v1 values the handlers use most. */
#define A(x) COMPLAINT__V1__ACTION__ACTION_##x
#define BODY(x) COMPLAINT__V1__REQUEST__BODY_##x
#define K(x) COMPLAINT__V1__CLOCK_KIND__CLOCK_KIND_##x
#define E_GONE COMPLAINT__V1__ERROR_CODE__ERROR_CODE_GONE
#define E_BUSY COMPLAINT__V1__ERROR_CODE__ERROR_CODE_BUSY

/* How often a write transaction that filled the map runs again on a grown one. */
#define GROW_TRIES 16
#define FIRE_RETRY_MS 1000 /* after a batch of deadlines failed on the store */
/* A batch of deadlines ends after this much work, committed and published, however few it
 * fired: its events wait for its commit, so a batch of costly ones (a calendar open a minute a
 * week walked for a month of business time took 3 to 8 ms each before issue 18) held the first
 * escalation of a storm for seconds. The loop fires the next batch at once. */
#define FIRE_BUDGET_MS 100
#define FULL_LOG_INTERVAL_MS 60000 /* a full store is logged at most this often */
#define COMMIT_LOG_MS 10000        /* the commits of changes are summed up in the log this often */

struct report_out; /* analysis.h */

/* The commits of batches of changes since the last line that sums them up (service.c). */
struct service_commits {
        int64_t since; /* monotonic ms of the first of them */
        uint64_t commits;
        uint64_t changes;
        uint64_t max_changes; /* the most in one commit */
        int64_t longest_us;   /* the longest store_commit() */
};

/* The service (service_t of service.h). */
struct service {
        store_t *store;       /* borrowed */
        const conf_t *cfg;    /* borrowed; replaced on reload */
        policies_t *policies; /* owned: the cache of the policies clocks run on */
        int64_t started_at;
        uint64_t last_event_seq; /* the newest event committed, for heartbeats */
        int64_t next_due;        /* the first deadline in the index; 0: none */
        int64_t next_full_log;   /* monotonic ms: a full store is logged once a minute */
        int64_t fire_retry_at;   /* UTC ms: deadlines wait after a batch that failed */
        struct service_commits commits;
        uint64_t batches_redone; /* handled again the careful way: a change failed after writing */
};

/* The state of one request while it is handled, from request_init() to request_finish(), which
 * frees what it marks owned. The firing of a deadline uses one too, without a request. */
struct ctx {
        service_t *s;
        store_txn_t *txn;
        const pb_request_t *req; /* NULL for the daemon's own changes */
        const char *actor;       /* what the history records: the principal, or the request's */
        const struct config_principal *principal; /* NULL: no access control, or the daemon */
        bool access;                              /* the daemon runs with access control */
        char actor_buf[300];                      /* the actor bound to the principal */
        const char *kind;                         /* "create", ... : names fields in errors */
        int64_t now;
        pb_reply_t reply;
        char *message; /* reply.message, owned */
        char field[64];
        pb_complaint_t *c;   /* the complaint changed or read, owned */
        pb_history_t **hist; /* for get, owned */
        size_t n_hist;
        pb_complaint_t **list; /* for list, owned */
        size_t n_list;
        pb_list_t list_reply;
        pb_status_reply_t status;
        pb_state_count_t counts[ST_COUNT];
        pb_state_count_t *count_ptrs[ST_COUNT];
        pb_event_t **events; /* for replay, owned */
        size_t n_events;
        Complaint__V1__ReplayReply replay;
        Complaint__V1__StreamHead *heads; /* for status, owned */
        Complaint__V1__StreamHead **head_ptrs;
        size_t n_heads;
        uint64_t *related;         /* for get, owned */
        struct report_out *report; /* for report, owned */
        Complaint__V1__LedgerReply ledger;
        Complaint__V1__WhoAmIReply whoami;     /* borrows from the principal */
        Complaint__V1__LedgerRow *ledger_rows; /* for ledger, owned, with the records below */
        Complaint__V1__LedgerRow **ledger_ptrs;
        pb_complaint_t **ledger_c;
        size_t n_ledger_c;
        Complaint__V1__EraseReply erase; /* for erase */
        uint64_t *erased_ids;            /* owned */
        struct service_outbox *out;
};

/* Starts the context of req (NULL for the daemon's own changes, made as "complaintd") on s, at
 * the current time; out receives the events of a change (NULL for reads). */
void request_init(struct ctx *x, service_t *s, const pb_request_t *req, struct service_outbox *out);

/* Encodes x's reply (an error reply drops the partial results, but for where a GONE replay may
 * resume) and frees everything x owns, leaving it zeroed. The result is the caller's to free; NULL
 * when out of memory. */
uint8_t *request_finish(struct ctx *x, size_t *ret_len);

/* Frees everything x owns, leaving it zeroed, without encoding a reply: for the daemon's own
 * changes (deadlines), which answer no one. */
void request_release(struct ctx *x);

/* Sets x's reply to the error code with a formatted message; field names the request's field
 * at fault ("subject" becomes "create.subject"), or is NULL. Returns -1, so that a handler can
 * `return request_fail(...)`. */
int request_fail(struct ctx *x, int code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Answers the store's failure r while doing what: -ENOSPC is returned as it is, so that the
 * batch grows the map and runs again; anything else is logged and becomes an INTERNAL error
 * reply (-1). */
int request_store_fail(struct ctx *x, int r, const char *what);

/* The flags of request_check_text(). */
enum { TEXT_LINE = 0, TEXT_MULTILINE = 1, TEXT_REQUIRED = 2 };

/* Checks the string v a client sent in field: at most max bytes, valid UTF-8, no control
 * characters (but \n, \t and \r with TEXT_MULTILINE), not blank with TEXT_REQUIRED.
 * Returns 0, or -1 with the error reply set. */
int request_check_text(struct ctx *x, const char *field, const char *v, uint32_t max, int flags);

/* Checks that the enum value v of field is one of min to max. Returns 0, or -1 with the error
 * reply set. */
int request_check_enum(struct ctx *x, const char *field, int v, int min, int max);

/* Replaces the string *field of a protobuf-c message freed with free_unpacked() by a copy of v
 * ("" for NULL), freeing the old one. Returns 0, or -ENOMEM with *field untouched. */
int request_set_string(char **field, const char *v);

/* Appends the event kind of the history entry just made, on department's stream, to the
 * store's event log and its encoding to x's outbox, and sets the reply's event_seq. The event
 * carries the complaint without its complainant's contact details: events go to many systems.
 * Returns 0, -ENOSPC, or -1 with the error reply set. */
int request_event(struct ctx *x, const pb_history_t *entry, const char *department,
                  const char *kind);

/* Drops the events of out past the first n (those of a change or a transaction that did not
 * commit), freeing them. */
void request_outbox_truncate(struct service_outbox *out, size_t n);

/* Whether s is valid UTF-8 (no overlong forms, no surrogates, nothing past U+10FFFF). */
bool request_utf8_valid(const char *s);

/* Personal data on the way out (DESIGN §10: contact details go only to principals that call
 * complainants back). may_see_contact: whether x's principal sees complainants'
 * contact details (all do without access control). contact_view makes c fit to send to x's
 * principal: never with its sealed box; with its complainant in the clear (opened from the
 * box when needed) when the principal may see it, else without. reply_refill does the same
 * for a complaint from a stored reply, which holds neither the complainant nor the
 * description (both can be erased later, and a stored reply is not rewritten then): it takes
 * them from the record as it is now. Both return 0 or a negative errno from the store. */
bool request_may_see_contact(const struct ctx *x);
int request_contact_view(struct ctx *x, pb_complaint_t *c);
int request_reply_refill(struct ctx *x, pb_complaint_t *c);

#endif
