/* stats.h: the arithmetic of the monthly analysis (the `report` request), kept apart from the
 * store so that it can be tested alone. It owns nothing and does no I/O.
 *
 * A complaint counts in the local day of its creation in the zone the store keeps the
 * counters in (the centre's: store.h, store_set_stats_zone()). What it contributes to the figures
 * is a sparse vector of counters (stats_contrib()), added to a handful of rows (stats_keys()): one
 * per (scope, dimension, value), where the scope is all complaints, those of one department or
 * those of one category, and the dimension is the total, or the category, nature, priority,
 * channel or department with its value. The store keeps one encoded row per (day, key) and
 * applies contrib(new) - contrib(old) to the rows of a complaint in the transaction of every
 * change, so a report reads at most days x rows, never the complaints themselves.
 *
 * Business times (to acceptance, to resolution) are kept as histograms of log-scale buckets:
 * times under 16 ms exactly, then 8 buckets per doubling, so a percentile read from them is
 * the upper bound of the bucket holding the true value, at most 12.5 % above it. */
#ifndef COMPLAINTD_STATS_H
#define COMPLAINTD_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pb.h"

#define STATS_LEVELS 8    /* escalations counted by highest level 1..7, and 8 or above */
#define STATS_BUCKETS 304 /* histogram buckets: 0..15 ms, then 8 per doubling up to 2^40 ms */

/* The counters of a row. The histograms are STATS_BUCKETS counters each. */
enum stats_field {
        SF_COMPLAINTS,
        SF_ACCEPTED,
        SF_RESPONSE_MET,
        SF_RESOLVED,
        SF_RESOLUTION_TIMED,
        SF_RESOLUTION_MET,
        SF_ESCALATED,
        SF_LEVEL, /* + highest level - 1 */
        SF_CLOSED = SF_LEVEL + STATS_LEVELS,
        SF_FOLLOW_UPS,
        SF_CALLS_FAILED,
        SF_SATISFACTION, /* + score - 1 */
        SF_REOPENED = SF_SATISFACTION + 5,
        SF_REOPENS,
        SF_DISMISSED,
        SF_RESPONSIBILITY, /* + Responsibility - 1 */
        SF_COMPENSATION = SF_RESPONSIBILITY + 4,
        SF_REPEAT,
        SF_ACCEPT_HIST,
        SF_RESOLVE_HIST = SF_ACCEPT_HIST + STATS_BUCKETS,
        SF_ERASED = SF_RESOLVE_HIST + STATS_BUCKETS, /* last: rows written before it lack it */
        SF_COUNT
};

/* The dimensions of a row, in the order a report lists them. */
enum stats_dim {
        STATS_DIM_TOTAL,
        STATS_DIM_CATEGORY,
        STATS_DIM_NATURE,
        STATS_DIM_PRIORITY,
        STATS_DIM_CHANNEL,
        STATS_DIM_DEPARTMENT,
        STATS_DIM_COUNT
};

/* A sparse vector of counters, sorted by field, each field at most once. */
#define STATS_SPARSE_MAX 64
struct stats_entry {
        uint16_t field;
        int64_t value;
};
struct stats_sparse {
        size_t n;
        struct stats_entry e[STATS_SPARSE_MAX];
};

/* What complaint c, as it is now, adds to every row it belongs to. */
void stats_contrib(const pb_complaint_t *c, struct stats_sparse *ret);

/* *ret = a - b, without the fields that cancel out. */
void stats_diff(const struct stats_sparse *a, const struct stats_sparse *b,
                struct stats_sparse *ret);

/* The rows of a complaint. A key is "<scope>\0<dim byte><value>": scope "" for all complaints,
 * "d:<department>" and "c:<category>"; value is the dimension's word or id ("" for the total,
 * and for the department of a complaint not yet dispatched). A department scope has no
 * department dimension and a category scope no category dimension: they would repeat its
 * total. Returns how many keys were written to ret (at most STATS_KEYS_MAX). */
#define STATS_KEY_MAX 160
#define STATS_KEYS_MAX 16
struct stats_key {
        size_t len;
        uint8_t data[STATS_KEY_MAX];
};
size_t stats_keys(const pb_complaint_t *c, struct stats_key *ret);

/* Writes into buf the scope prefix of a key ("<scope>\0"), for the scope of department dept or
 * category cat (both NULL or "": all complaints). Returns its length, or 0 when it does not
 * fit in size. */
size_t stats_scope(const char *dept, const char *cat, uint8_t *buf, size_t size);

/* Splits a key into its dimension and value (borrowed from key). -EBADMSG when malformed. */
int stats_key_split(const uint8_t *key, size_t len, int *ret_dim, const uint8_t **ret_value,
                    size_t *ret_value_len);

/* The word of a dimension: "total", "category", "nature", "priority", "channel", "department". */
const char *stats_dim_name(int dim);

/* Encoded rows: (field, value) pairs of varints, in field order, zeros left out. An encoded row
 * is at most STATS_ROW_MAX bytes. */
#define STATS_ROW_MAX (SF_COUNT * 12)

/* Adds delta to the encoded row (len 0: an empty row) and writes the result to out (at least
 * STATS_ROW_MAX bytes); *ret_len 0 means the row is now empty. Returns 0, -EBADMSG when row is
 * malformed, or 1 when a counter would have gone below zero (the row did not hold what delta
 * takes away: it was inconsistent) and was kept at zero, so a change is never refused for it
 * and `complaintd --check-store` reports it. */
int stats_row_apply(const uint8_t *row, size_t len, const struct stats_sparse *delta, uint8_t *out,
                    size_t *ret_len);

/* stats_row_apply() for a delta of any number of entries e[0..n), sorted by field. */
int stats_row_add(const uint8_t *row, size_t len, const struct stats_entry *e, size_t n,
                  uint8_t *out, size_t *ret_len);

/* Adds the encoded row to the dense counters sum[SF_COUNT]. -EBADMSG when malformed. */
int stats_row_sum(const uint8_t *row, size_t len, int64_t *sum);

/* Adds a sparse vector to dense counters sum[SF_COUNT]. */
void stats_sparse_sum(const struct stats_sparse *v, int64_t *sum);

/* Counter changes not yet written: the sum of the deltas of one write transaction by row,
 * (day, key), so that a row is read and rewritten once per commit however many complaints of
 * the batch it counts (a create touches some 16 rows; a batch of 32 creates, 512 row rewrites,
 * becomes some 20). A nested transaction marks where its deltas begin, and a rollback to the
 * mark takes them away again; only deltas added with a mark in force are remembered for that.
 * An empty set is NULL. */
typedef struct stats_pending stats_pending_t;

/* Adds delta, a change of complaint id, to row (day, key); undoable: remember it for
 * stats_pending_rollback(). Creates *p when NULL. -ENOMEM. */
int stats_pending_add(stats_pending_t **p, uint32_t day, const struct stats_key *key,
                      const struct stats_sparse *delta, uint64_t id, bool undoable);

/* Where the undoable deltas added from now on begin. */
size_t stats_pending_mark(const stats_pending_t *p);

/* Takes away the undoable deltas added since mark. */
void stats_pending_rollback(stats_pending_t *p, size_t mark);

/* Keeps the deltas added since mark for good (they can no longer be rolled back). */
void stats_pending_forget(stats_pending_t *p, size_t mark);

/* Calls fn for every row whose summed delta is not zero: its key (day as a big-endian u32,
 * then the stats key), the delta's entries sorted by field, and the last complaint that changed
 * it. Stops at, and returns, fn's first negative return. The set is empty afterwards whatever
 * fn returned. */
typedef int (*stats_pending_fn)(void *ctx, const uint8_t *key, size_t key_len,
                                const struct stats_entry *e, size_t n, uint64_t last_id);
int stats_pending_drain(stats_pending_t *p, stats_pending_fn fn, void *ctx);

void stats_pending_free(stats_pending_t **p);

/* Histogram buckets: the bucket of a business time, and the largest time a bucket holds. */
unsigned stats_bucket(int64_t ms);
int64_t stats_bucket_upper(unsigned bucket);

/* The nearest-rank pct-th percentile (1..100) of a histogram of STATS_BUCKETS counters: the
 * upper bound of the bucket holding the ceil(pct/100 x n)-th smallest time. 0 when empty. */
int64_t stats_percentile(const int64_t *hist, unsigned pct);

/* The figures of dense counters, ready to encode: f's repeated fields point into the struct,
 * which must not move while f is used. */
struct stats_figures {
        Complaint__V1__ReportFigures f;
        uint64_t levels[STATS_LEVELS];
        uint64_t satisfaction[5];
        uint64_t responsibility[4];
};
void stats_figures(const int64_t *sum, struct stats_figures *ret);

#endif
