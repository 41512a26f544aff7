/* request.h: one request while the service handles it. It owns the service's state (struct
 * service) and a request's context (struct ctx), and declares what every handler shares: error
 * replies, checks on client text, string fields and the events queued in the outbox. Internal to
 * the service: only service.c and the modules split from it include it; everything else uses
 * service.h. */
#ifndef COMPLAINTD_REQUEST_H
#define COMPLAINTD_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "policy.h"
#include "service.h"
#include "store.h"

#define A(x) COMPLAINT__V1__ACTION__ACTION_##x
#define BODY(x) COMPLAINT__V1__REQUEST__BODY_##x
#define E_GONE COMPLAINT__V1__ERROR_CODE__ERROR_CODE_GONE
#define GROW_TRIES 16

#define K(x) COMPLAINT__V1__CLOCK_KIND__CLOCK_KIND_##x

struct report_out;

struct service {
        store_t *store;
        const conf_t *cfg;
        policies_t *policies;
        int64_t started_at;
        uint64_t last_event_seq;
        int64_t next_due; /* the first deadline in the index; 0: none */
};

/* The state of one request while it is handled. */
struct ctx {
        service_t *s;
        store_txn_t *txn;
        const pb_request_t *req; /* NULL for the daemon's own changes */
        const char *actor;
        const char *kind; /* "create", ... : names fields in errors */
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
        Complaint__V1__LedgerRow *ledger_rows; /* for ledger, owned, with the records below */
        Complaint__V1__LedgerRow **ledger_ptrs;
        pb_complaint_t **ledger_c;
        size_t n_ledger_c;
        struct service_outbox *out;
};

enum { TEXT_LINE = 0, TEXT_MULTILINE = 1, TEXT_REQUIRED = 2 };

int request_fail(struct ctx *x, int code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int request_store_fail(struct ctx *x, int r, const char *what);
int request_check_text(struct ctx *x, const char *field, const char *v, uint32_t max, int flags);
int request_check_enum(struct ctx *x, const char *field, int v, int min, int max);
int request_set_string(char **field, const char *v);
int request_event(struct ctx *x, const pb_history_t *entry, const char *department,
                  const char *kind);
void request_outbox_truncate(struct service_outbox *out, size_t n);

void request_init(struct ctx *x, service_t *s, const pb_request_t *req, struct service_outbox *out);
uint8_t *request_finish(struct ctx *x, size_t *ret_len);

#endif
