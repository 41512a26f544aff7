/* analysis.c: the report and the ledger, and the steps of a rebuild of the report's counters.
 * See analysis.h and service.h. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "analysis.h"
#include "clock.h"
#include "macro.h"
#include "stats.h"

#define DAY_MS 86400000ll
#define REPORT_DAYS_MAX 3700 /* the longest period a report or ledger covers: ten years */
#define LEDGER_SCAN_MAX 5000 /* a ledger page examines at most this many entries */
#define PERIOD_END_MAX 253402300800000ll /* 10000-01-01T00:00Z: no period reaches past it */

/* ------------------------------------------------------------------ report */

/* One value of one dimension, and its counters. */
struct report_item {
        int dim;
        char value[STATS_KEY_MAX + 1];
        int64_t sum[SF_COUNT];
};

/* A report being summed up, and then its reply; freed with analysis_report_free(). */
struct report_out {
        const uint8_t *scope;
        size_t scope_len;
        int64_t total[SF_COUNT];
        struct report_item **items;
        size_t n, cap;
        Complaint__V1__ReportReply reply;
        struct stats_figures total_fig;
        struct stats_figures *figs;
        Complaint__V1__ReportBreakdown *bd;
        Complaint__V1__ReportBreakdown **bd_ptrs;
};

void
analysis_report_free(struct report_out **rp)
{
        struct report_out *rep = *rp;

        if (rep == NULL)
                return;
        for (size_t i = 0; i < rep->n; i++)
                free(rep->items[i]);
        free(rep->items);
        free(rep->figs);
        free(rep->bd);
        free(rep->bd_ptrs);
        free(rep);
        *rp = NULL;
}

/* The counters of (dim, value), created empty when new; NULL when out of memory. */
static int64_t *
s_report_sum(struct report_out *rep, int dim, const uint8_t *value, size_t len)
{
        struct report_item *it;

        if (dim == STATS_DIM_TOTAL)
                return rep->total;
        if (len > STATS_KEY_MAX)
                return NULL;
        for (size_t i = 0; i < rep->n; i++)
                if (rep->items[i]->dim == dim && strlen(rep->items[i]->value) == len &&
                    memcmp(rep->items[i]->value, value, len) == 0)
                        return rep->items[i]->sum;
        if (rep->n == rep->cap) {
                size_t cap = rep->cap ? rep->cap * 2 : 32;
                struct report_item **p = realloc(rep->items, cap * sizeof(*p));

                if (p == NULL)
                        return NULL;
                rep->items = p;
                rep->cap = cap;
        }
        it = calloc(1, sizeof(*it));
        if (it == NULL)
                return NULL;
        it->dim = dim;
        memcpy(it->value, value, len);
        rep->items[rep->n++] = it;
        return it->sum;
}

/* A stored row of a whole day. */
static int
s_report_row(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *row, size_t row_len)
{
        struct report_out *rep = ctx;
        const uint8_t *value;
        size_t value_len;
        int64_t *sum;
        int dim, r = stats_key_split(key, key_len, &dim, &value, &value_len);

        if (r < 0)
                return r;
        sum = s_report_sum(rep, dim, value, value_len);
        return sum ? stats_row_sum(row, row_len, sum) : -ENOMEM;
}

/* The complaints created in [from, to), read one by one: the partial days at the edges of the
 * period. Each adds to the rows of the report's scope exactly what it adds to the kept counters,
 * so both ways give the same figures. */
static int
s_report_scan(struct ctx *x, struct report_out *rep, int64_t from, int64_t to)
{
        struct store_ledger_pos pos, next;
        bool first = true;
        int r;

        while ((r = store_ledger_next(x->txn, first ? NULL : &pos, from, to, &next)) == 0) {
                struct stats_key keys[STATS_KEYS_MAX];
                struct stats_sparse contrib;
                pb_complaint_t *c = NULL;
                size_t n;

                pos = next;
                first = false;
                if ((r = store_get_complaint(x->txn, pos.id, &c)) < 0)
                        return r;
                rep->reply.complaints_read++;
                stats_contrib(c, &contrib);
                n = stats_keys(c, keys);
                complaint__v1__complaint__free_unpacked(c, NULL);
                for (size_t i = 0; i < n; i++) {
                        const uint8_t *value;
                        size_t value_len;
                        int64_t *sum;
                        int dim;

                        if (keys[i].len <= rep->scope_len ||
                            memcmp(keys[i].data, rep->scope, rep->scope_len) != 0)
                                continue;
                        if ((r = stats_key_split(keys[i].data, keys[i].len, &dim, &value,
                                                 &value_len)) < 0)
                                return r;
                        if ((sum = s_report_sum(rep, dim, value, value_len)) == NULL)
                                return -ENOMEM;
                        stats_sparse_sum(&contrib, sum);
                }
        }
        return r == -ENOENT ? 0 : r;
}

static int
s_cmp_item(const void *a, const void *b)
{
        const struct report_item *x = *(struct report_item *const *)a;
        const struct report_item *y = *(struct report_item *const *)b;

        if (x->dim != y->dim)
                return x->dim < y->dim ? -1 : 1;
        if (x->sum[SF_COMPLAINTS] != y->sum[SF_COMPLAINTS])
                return x->sum[SF_COMPLAINTS] > y->sum[SF_COMPLAINTS] ? -1 : 1;
        return strcmp(x->value, y->value);
}

/* Checks a period [from_ms, to_ms) and its filters: a department or category the
 * configuration does not know is named, not answered with a table of zeros. */
static int
s_check_period(struct ctx *x, int64_t from, int64_t to, const char *dept, const char *cat)
{
        const conf_t *cfg = x->s->cfg;

        if (from < 0 || to <= from)
                return request_fail(x, E_INVALID_ARGUMENT, "to_ms",
                                    "the period is empty: from_ms %" PRId64
                                    " must be at least 0 and "
                                    "below to_ms %" PRId64,
                                    from, to);
        if (to > PERIOD_END_MAX)
                return request_fail(x, E_INVALID_ARGUMENT, "to_ms",
                                    "to_ms %" PRId64 " is past the year 9999 (at most %lld)", to,
                                    PERIOD_END_MAX);
        if ((to - from) / DAY_MS > REPORT_DAYS_MAX)
                return request_fail(x, E_INVALID_ARGUMENT, "to_ms",
                                    "the period is longer than %d days", REPORT_DAYS_MAX);
        if (request_check_text(x, "department", dept, 64, 0) < 0 ||
            request_check_text(x, "category", cat, 64, 0) < 0)
                return -1;
        if (dept[0] && cat[0])
                return request_fail(x, E_INVALID_ARGUMENT, "category",
                                    "give a department or a category, not both");
        if (dept[0] && config_find_department(cfg, dept) == NULL)
                return request_fail(x, E_UNKNOWN_REFERENCE, "department",
                                    "unknown department \"%s\": it is not configured", dept);
        if (cat[0] && config_find_category(cfg, cat) == NULL)
                return request_fail(x, E_UNKNOWN_REFERENCE, "category",
                                    "unknown category \"%s\": it is not configured", cat);
        return 0;
}

int
analysis_report(struct ctx *x)
{
        const Complaint__V1__ReportRequest *q = x->req->report;
        uint8_t scope[STATS_KEY_MAX];
        struct report_out *rep;
        const tz_t *tz = store_stats_tz(x->s->store);
        int64_t from = q->from_ms, to = q->to_ms, start_from, start_to;
        uint32_t whole_from, whole_to;
        uint64_t next;
        int r = 0;

        if (s_check_period(x, from, to, q->department, q->category) < 0)
                return -1;
        /* The counters hold only part of the complaints while they are rebuilt for a new zone:
         * a report from them would be wrong, so there is none until the rebuild is done. */
        r = store_stats_rebuilding(x->txn, &next);
        if (r == 0)
                return request_fail(x, E_BUSY, NULL,
                                    "the report's counters are being rebuilt for the centre's "
                                    "zone %s (complaint %" PRIu64 " reached): try again shortly",
                                    store_stats_zone(x->s->store), next);
        if (r != -ENOENT)
                return request_store_fail(x, r, "making the report");
        r = 0;
        rep = x->report = calloc(1, sizeof(*rep));
        if (rep == NULL)
                return request_store_fail(x, -ENOMEM, "making the report");
        complaint__v1__report_reply__init(&rep->reply);
        rep->scope = scope;
        rep->scope_len = stats_scope(q->department, q->category, scope, sizeof(scope));
        /* Whole local days of the centre's zone (the counters' days) come from the counters;
         * the parts of days at the edges are read. A day d holds the complaints created in
         * [start(d), start(d + 1)), so the period's whole days are those from the first that
         * starts at or after from to the last that ends at or before to. */
        whole_from = store_local_day(tz, from);
        if (store_local_day_start(tz, whole_from) < from)
                whole_from++;
        whole_to = store_local_day(tz, to);
        start_from = store_local_day_start(tz, whole_from);
        start_to = store_local_day_start(tz, whole_to);
        if (whole_from < whole_to) {
                r = store_stats_rows(x->txn, whole_from, whole_to, scope, rep->scope_len,
                                     s_report_row, rep);
                if (r == 0)
                        r = s_report_scan(x, rep, from, start_from);
                if (r == 0)
                        r = s_report_scan(x, rep, start_to, to);
                rep->reply.days_counted = whole_to - whole_from;
        } else {
                r = s_report_scan(x, rep, from, to);
        }
        if (r == 0) {
                rep->figs = calloc(rep->n + 1, sizeof(*rep->figs));
                rep->bd = calloc(rep->n + 1, sizeof(*rep->bd));
                rep->bd_ptrs = calloc(rep->n + 1, sizeof(*rep->bd_ptrs));
                if (rep->figs == NULL || rep->bd == NULL || rep->bd_ptrs == NULL)
                        r = -ENOMEM;
        }
        if (r < 0)
                return request_store_fail(x, r, "making the report");
        if (rep->n > 0)
                qsort(rep->items, rep->n, sizeof(*rep->items), s_cmp_item);
        for (size_t i = 0; i < rep->n; i++) {
                complaint__v1__report_breakdown__init(&rep->bd[i]);
                rep->bd[i].dimension = (char *)(uintptr_t)stats_dim_name(rep->items[i]->dim);
                rep->bd[i].value = rep->items[i]->value;
                stats_figures(rep->items[i]->sum, &rep->figs[i]);
                rep->bd[i].figures = &rep->figs[i].f;
                rep->bd_ptrs[i] = &rep->bd[i];
        }
        stats_figures(rep->total, &rep->total_fig);
        rep->reply.from_ms = from;
        rep->reply.to_ms = to;
        rep->reply.department = q->department;
        rep->reply.category = q->category;
        rep->reply.total = &rep->total_fig.f;
        rep->reply.breakdown = rep->bd_ptrs;
        rep->reply.n_breakdown = rep->n;
        x->reply.report = &rep->reply;
        return 0;
}

/* ------------------------------------------------------------- the rebuild */

int
service_rebuild_stats(service_t *s, uint32_t max, uint32_t *ret_n, bool *ret_done)
{
        store_txn_t *txn = NULL;
        uint32_t n = 0;
        bool done = false;
        int r = store_begin(s->store, true, &txn);

        if (r == 0)
                r = store_stats_rebuild_step(txn, max, &n, &done);
        if (r == 0)
                r = store_commit(&txn);
        store_abort(&txn);
        /* A full map grows, and the step runs again on the next turn. */
        if (r == -ENOSPC && store_grow(s->store) == 0)
                return 0;
        if (r == 0) {
                *ret_n = n;
                *ret_done = done;
        }
        return r;
}

bool
service_stats_rebuilding(service_t *s)
{
        store_txn_t *txn = NULL;
        bool rebuilding = false;

        if (store_begin(s->store, false, &txn) == 0) {
                rebuilding = store_stats_rebuilding(txn, NULL) == 0;
                store_abort(&txn);
        }
        return rebuilding;
}

/* ------------------------------------------------------------------ ledger */

static int
s_limit_result(const pb_clock_t *k, int64_t now)
{
        if (k == NULL)
                return COMPLAINT__V1__LIMIT_RESULT__LIMIT_RESULT_NONE;
        /* A clock ended without the answer it waited for counts neither way, as in the
         * report: the department was not given the chance to meet or miss it. */
        if (!k->running && !clock_answered(k))
                return COMPLAINT__V1__LIMIT_RESULT__LIMIT_RESULT_ENDED;
        if (!k->running)
                return k->met ? COMPLAINT__V1__LIMIT_RESULT__LIMIT_RESULT_MET
                              : COMPLAINT__V1__LIMIT_RESULT__LIMIT_RESULT_MISSED;
        if (!clock_within_limit(k, now))
                return COMPLAINT__V1__LIMIT_RESULT__LIMIT_RESULT_MISSED;
        return COMPLAINT__V1__LIMIT_RESULT__LIMIT_RESULT_RUNNING;
}

static void
s_ledger_row(const pb_complaint_t *c, int64_t now, Complaint__V1__LedgerRow *row)
{
        complaint__v1__ledger_row__init(row);
        row->id = c->id;
        row->created_at_ms = c->created_at_ms;
        row->status = c->status;
        row->owner = c->owner;
        row->department = c->department;
        row->category = c->category;
        /* Settled: closed after the follow-up, or dismissed (with its reason) as no valid
         * complaint. Everything else still owes the complainant a reply or a call. */
        row->missing = c->status != ST_CLOSED && c->status != ST_DISMISSED;
        if (c->resolution && (c->status == ST_RESOLVED || c->status == ST_CLOSED)) {
                row->reply = c->resolution->reply;
                row->resolved_at_ms = c->resolution->resolved_at_ms;
                row->responsibility = c->resolution->responsibility;
                row->compensation_cents = c->resolution->compensation_cents;
        }
        if (c->follow_up && c->status == ST_CLOSED) {
                row->follow_up_done = true;
                row->call_failed = c->follow_up->call_failed;
                row->satisfaction = c->follow_up->satisfaction;
                row->closed_at_ms = c->follow_up->closed_at_ms;
        }
        row->response = s_limit_result(c->response_clock, now);
        row->resolution = s_limit_result(c->resolution_clock, now);
        row->follow_up = s_limit_result(c->follow_up_clock, now);
        row->repeat = c->repeat;
        if (c->status == ST_DISMISSED)
                row->dismiss_reason = c->dismiss_reason;
}

/* The next ledger entry of the period after pos (from its start unless started), in order of
 * creation time and id across both parts of the index (open and closed), so that a complaint
 * that moves between them while the ledger is read in pages is listed once. */
static int
s_ledger_next(struct ctx *x, const struct store_ledger_pos *pos, bool started, int64_t from,
              int64_t to, struct store_ledger_pos *ret)
{
        struct store_ledger_pos a, b;
        int ra, rb;

        ra = store_ledger_next_in(x->txn, false, pos->created_ms, pos->id, started, from, to, &a);
        rb = store_ledger_next_in(x->txn, true, pos->created_ms, pos->id, started, from, to, &b);
        if (ra < 0 && ra != -ENOENT)
                return ra;
        if (rb < 0 && rb != -ENOENT)
                return rb;
        if (ra == -ENOENT && rb == -ENOENT)
                return -ENOENT;
        if (rb == -ENOENT || (ra == 0 && (a.created_ms < b.created_ms ||
                                          (a.created_ms == b.created_ms && a.id < b.id))))
                *ret = a;
        else
                *ret = b;
        return 0;
}

int
analysis_ledger(struct ctx *x)
{
        const Complaint__V1__LedgerRequest *q = x->req->ledger;
        Complaint__V1__LedgerReply *lr = &x->ledger;
        uint32_t limit = q->limit ? q->limit : 100, scan_max = LEDGER_SCAN_MAX;
        struct store_ledger_pos pos = {false, q->after_created_ms, q->after_id}, next;
        bool started = q->after_created_ms || q->after_id;
        int r;

        if (s_check_period(x, q->from_ms, q->to_ms, q->department, q->category) < 0)
                return -1;
        if (limit > x->s->cfg->limits.list_max)
                limit = x->s->cfg->limits.list_max;
        x->ledger_rows = calloc(limit, sizeof(*x->ledger_rows));
        x->ledger_ptrs = calloc(limit, sizeof(*x->ledger_ptrs));
        x->ledger_c = calloc(limit, sizeof(*x->ledger_c));
        if (x->ledger_rows == NULL || x->ledger_ptrs == NULL || x->ledger_c == NULL)
                return request_store_fail(x, -ENOMEM, "reading the ledger");
        for (;;) {
                pb_complaint_t *c = NULL;

                r = s_ledger_next(x, &pos, started, q->from_ms, q->to_ms, &next);
                if (r == -ENOENT) {
                        r = 0;
                        break;
                }
                if (r < 0)
                        return request_store_fail(x, r, "reading the ledger");
                /* A page ends at limit rows, or after LEDGER_SCAN_MAX entries examined (a
                 * filter that matches few of them must not hold the daemon up). */
                if (x->n_ledger_c == limit || scan_max-- == 0) {
                        lr->more = true;
                        break;
                }
                if ((r = store_get_complaint(x->txn, next.id, &c)) < 0)
                        return request_store_fail(x, r == -ENOENT ? -EBADMSG : r,
                                                  "reading a complaint the ledger names");
                pos = next;
                started = true;
                if ((q->department[0] && strcmp(c->department, q->department) != 0) ||
                    (q->category[0] && strcmp(c->category, q->category) != 0)) {
                        complaint__v1__complaint__free_unpacked(c, NULL);
                        continue;
                }
                s_ledger_row(c, x->now, &x->ledger_rows[x->n_ledger_c]);
                x->ledger_ptrs[x->n_ledger_c] = &x->ledger_rows[x->n_ledger_c];
                x->ledger_c[x->n_ledger_c++] = c;
        }
        if (lr->more) {
                lr->next_after_created_ms = pos.created_ms;
                lr->next_after_id = pos.id;
        }
        lr->rows = x->ledger_ptrs;
        lr->n_rows = x->n_ledger_c;
        x->reply.ledger = lr;
        return 0;
}
