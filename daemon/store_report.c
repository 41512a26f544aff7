/* store_report.c: the report's counters by day (stats.h), written once per row at commit,
 * and the ledger index by creation time. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "macro.h"
#include "store_int.h"

static int64_t
s_floor_div(int64_t a, int64_t b)
{
        int64_t q = a / b;

        return a % b != 0 && (a < 0) != (b < 0) ? q - 1 : q;
}

uint32_t
store_local_day(const tz_t *tz, int64_t ms)
{
        int64_t day = s_floor_div(tz_local_of_utc(tz, s_floor_div(ms, 1000)), 86400);

        return day < 0 ? 0 : day > UINT32_MAX ? UINT32_MAX : (uint32_t)day;
}

int64_t
store_local_day_start(const tz_t *tz, uint32_t day)
{
        return tz_utc_of_local(tz, (int64_t)day * 86400) * 1000;
}

uint32_t
st_day(const tz_t *tz, int64_t ms)
{
        return store_local_day(tz, ms);
}

/* A day for people: "2026-06-01". */
void
st_day_name(uint32_t day, char *buf, size_t size)
{
        time_t at = (time_t)day * 86400;
        struct tm tm;

        if (gmtime_r(&at, &tm) == NULL || strftime(buf, size, "%Y-%m-%d", &tm) == 0)
                snprintf(buf, size, "day %u", day);
}

/* A report row's key for people: "<scope>/<dimension>=<value>", the scope "all", "d:<dept>"
 * or "c:<category>". */
void
st_row_name(const uint8_t *key, size_t len, char *buf, size_t size)
{
        const uint8_t *value;
        size_t value_len;
        int dim;

        if (stats_key_split(key, len, &dim, &value, &value_len) < 0) {
                snprintf(buf, size, "(a malformed key of %zu bytes)", len);
                return;
        }
        snprintf(buf, size, "%s/%s=%.*s", key[0] ? (const char *)key : "all", stats_dim_name(dim),
                 (int)value_len, (const char *)value);
}

/* Adds delta, the change of complaint id, to the counters of row key of day: kept in the
 * transaction and written when it commits (st_stats_flush()). */
static int
s_stats_apply(store_txn_t *t, uint32_t day, const struct stats_key *key,
              const struct stats_sparse *delta, uint64_t id)
{
        t->root->writes++;
        return stats_pending_add(&t->root->pending, day, key, delta, id, t->root != t);
}

/* Writes one row's summed delta (stats_pending_fn). */
static int
s_stats_write(void *ctx, const uint8_t *key, size_t key_len, const struct stats_entry *e, size_t n,
              uint64_t last_id)
{
        store_txn_t *t = ctx;
        uint8_t out[STATS_ROW_MAX];
        MDB_val k = {key_len, (void *)(uintptr_t)key}, v;
        size_t len = 0;
        int rc;

        rc = mdb_get(t->txn, t->store->dbi[DB_STATS], &k, &v);
        if (rc == MDB_NOTFOUND)
                v = (MDB_val){0, NULL};
        else if (rc != 0)
                return st_err(rc);
        rc = stats_row_add(v.mv_data, v.mv_size, e, n, out, &len);
        if (rc < 0)
                return rc;
        if (rc > 0) {
                char date[32], row[2 * STATS_KEY_MAX];

                /* The row did not hold what the complaints' old states added to it: it drifted
                 * from the records. The changes go on (a counter is kept at zero), so only the
                 * store knows, and says it here, once per row written. */
                st_day_name(st_get_be32(key), date, sizeof(date));
                st_row_name(key + 4, key_len - 4, row, sizeof(row));
                log_struct(LOG_ERR, last_id, NULL, "stats-drift",
                           "report counters of %s, row %s: a counter would go below zero with "
                           "the changes committed with complaint %" PRIu64 " and was kept at 0; "
                           "`complaintd --check-store` lists the rows that drifted",
                           date, row, last_id);
        }
        if (len == 0) {
                rc = mdb_del(st_w(t), t->store->dbi[DB_STATS], &k, NULL);
                return rc == MDB_NOTFOUND ? 0 : st_err(rc);
        }
        v = (MDB_val){len, out};
        return st_err(mdb_put(st_w(t), t->store->dbi[DB_STATS], &k, &v, 0));
}

/* Writes the counter changes of top-level transaction t: each row read and rewritten once. */
int
st_stats_flush(store_txn_t *t)
{
        return stats_pending_drain(t->pending, s_stats_write, t);
}

size_t
st_ledger_key(uint8_t *kb, bool complete, int64_t created, uint64_t id)
{
        kb[0] = complete ? 1 : 0;
        st_put_be64(kb + 1, (uint64_t)(created < 0 ? 0 : created));
        st_put_be64(kb + 9, id);
        return LEDGER_KEY;
}

static int
s_update_ledger(store_txn_t *t, const pb_complaint_t *c, const pb_complaint_t *old)
{
        bool now = c->status == ST_CLOSED, was = old && old->status == ST_CLOSED;
        uint8_t kb[LEDGER_KEY];
        MDB_val k, v = {0, NULL};
        int rc;

        if (old && now == was && old->created_at_ms == c->created_at_ms)
                return 0;
        if (old) {
                k = (MDB_val){st_ledger_key(kb, was, old->created_at_ms, old->id), kb};
                rc = mdb_del(st_w(t), t->store->dbi[DB_LEDGER], &k, NULL);
                if (rc != 0 && rc != MDB_NOTFOUND)
                        return st_err(rc);
        }
        k = (MDB_val){st_ledger_key(kb, now, c->created_at_ms, c->id), kb};
        return st_err(mdb_put(st_w(t), t->store->dbi[DB_LEDGER], &k, &v, 0));
}

/* The ledger entry and the report's counters of a complaint: rows(c) - rows(old), rewriting
 * only the rows whose counters change. */
int
st_update_report(store_txn_t *t, const pb_complaint_t *c, const pb_complaint_t *old)
{
        struct stats_key kn[STATS_KEYS_MAX], ko[STATS_KEYS_MAX];
        struct stats_sparse cn, co = {0}, none = {0}, d;
        bool matched[STATS_KEYS_MAX] = {false};
        size_t nn = stats_keys(c, kn), no = old ? stats_keys(old, ko) : 0;
        const tz_t *tz = t->store->stats_tz;
        uint32_t day = st_day(tz, c->created_at_ms);
        uint32_t old_day = old ? st_day(tz, old->created_at_ms) : day;
        uint64_t next;
        int rc = s_update_ledger(t, c, old);

        if (rc < 0)
                return rc;
        /* While the counters are rebuilt, those of the complaints the rebuild has not reached
         * are its to count, as the complaint is then. */
        rc = store_stats_rebuilding(t, &next);
        if (rc == 0 && c->id >= next)
                return 0;
        if (rc < 0 && rc != -ENOENT)
                return rc;
        stats_contrib(c, &cn);
        if (old)
                stats_contrib(old, &co);
        for (size_t i = 0; i < nn; i++) {
                bool found = false;

                for (size_t j = 0; j < no && !found && day == old_day; j++) {
                        if (!matched[j] && ko[j].len == kn[i].len &&
                            memcmp(ko[j].data, kn[i].data, kn[i].len) == 0) {
                                matched[j] = true;
                                found = true;
                        }
                }
                stats_diff(&cn, found ? &co : &none, &d);
                if ((rc = s_stats_apply(t, day, &kn[i], &d, c->id)) < 0)
                        return rc;
        }
        for (size_t j = 0; j < no; j++) {
                if (matched[j])
                        continue;
                stats_diff(&none, &co, &d);
                if ((rc = s_stats_apply(t, old_day, &ko[j], &d, c->id)) < 0)
                        return rc;
        }
        return 0;
}

int
store_stats_rebuilding(store_txn_t *t, uint64_t *ret_next)
{
        uint64_t next = 0;
        int r = st_meta_get_u64(t, META_STATS_REBUILD, &next);

        if (r < 0)
                return r;
        /* Ids begin at 1, so a rebuild's mark is never 0, which is what a missing key reads. */
        if (next == 0)
                return -ENOENT;
        if (ret_next)
                *ret_next = next;
        return 0;
}

/* Adds what complaint c adds to the counters, as the rebuild counts it. */
static int
s_count(store_txn_t *t, const pb_complaint_t *c)
{
        struct stats_key keys[STATS_KEYS_MAX];
        struct stats_sparse contrib;
        size_t n = stats_keys(c, keys);
        uint32_t day = st_day(t->store->stats_tz, c->created_at_ms);
        int r = 0;

        stats_contrib(c, &contrib);
        for (size_t i = 0; i < n && r == 0; i++)
                r = s_stats_apply(t, day, &keys[i], &contrib, c->id);
        return r;
}

int
store_stats_rebuild_step(store_txn_t *t, uint32_t max, uint32_t *ret_n, bool *ret_done)
{
        uint64_t next;
        uint8_t kb[8];
        MDB_cursor *cur;
        MDB_val k = {8, kb}, v;
        uint32_t n = 0;
        bool done;
        int rc, r = store_stats_rebuilding(t, &next);

        if (r == -ENOENT) {
                *ret_n = 0;
                *ret_done = true;
                return 0;
        }
        if (r < 0)
                return r;
        rc = mdb_cursor_open(t->txn, t->store->dbi[DB_COMPLAINTS], &cur);
        if (rc != 0)
                return st_err(rc);
        st_put_be64(kb, next);
        /* The counts go to the transaction's pending rows, written at commit: the walk's
         * cursor is not disturbed by them. */
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 && n < max && r == 0;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
                pb_complaint_t *c;

                if (k.mv_size != 8)
                        continue;
                c = complaint__v1__complaint__unpack(NULL, v.mv_size, v.mv_data);
                if (c == NULL) {
                        r = -EBADMSG;
                        break;
                }
                next = st_get_be64(k.mv_data) + 1;
                r = s_count(t, c);
                complaint__v1__complaint__free_unpacked(c, NULL);
                n++;
        }
        mdb_cursor_close(cur);
        if (r < 0)
                return r;
        if (rc != 0 && rc != MDB_NOTFOUND)
                return st_err(rc);
        done = rc == MDB_NOTFOUND;
        if (done) {
                MDB_val mk = {strlen(META_STATS_REBUILD), (void *)META_STATS_REBUILD};

                rc = mdb_del(st_w(t), t->store->dbi[DB_META], &mk, NULL);
                if (rc != 0 && rc != MDB_NOTFOUND)
                        return st_err(rc);
        } else if ((r = st_meta_put_u64(t, META_STATS_REBUILD, next)) < 0) {
                return r;
        }
        *ret_n = n;
        *ret_done = done;
        return 0;
}

int
store_stats_rows(store_txn_t *t, uint32_t day_from, uint32_t day_to, const uint8_t *scope,
                 size_t scope_len, store_stats_fn fn, void *ctx)
{
        uint8_t kb[4 + STATS_KEY_MAX];
        MDB_cursor *cur;
        MDB_val k, v;
        int rc, r = 0;

        if (scope_len + 4 > sizeof(kb))
                return -E2BIG;
        /* A write transaction reads its own counter changes. */
        if (t->root == t && (rc = st_stats_flush(t)) < 0)
                return rc;
        rc = mdb_cursor_open(t->txn, t->store->dbi[DB_STATS], &cur);
        if (rc != 0)
                return st_err(rc);
        for (uint32_t day = day_from; day < day_to && r == 0; day++) {
                st_put_be32(kb, day);
                memcpy(kb + 4, scope, scope_len);
                k = (MDB_val){4 + scope_len, kb};
                for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 && r == 0;
                     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
                        if (k.mv_size <= 4 + scope_len || memcmp(k.mv_data, kb, 4 + scope_len) != 0)
                                break;
                        r = fn(ctx, (uint8_t *)k.mv_data + 4, k.mv_size - 4, v.mv_data, v.mv_size);
                }
                if (rc != 0 && rc != MDB_NOTFOUND)
                        break;
                rc = 0;
        }
        mdb_cursor_close(cur);
        return r < 0 ? r : st_err(rc);
}

int
store_ledger_next(store_txn_t *t, const struct store_ledger_pos *after, int64_t from_ms,
                  int64_t to_ms, struct store_ledger_pos *ret)
{
        uint8_t kb[LEDGER_KEY];
        int part = after && after->complete ? 1 : 0;
        int64_t created = after ? after->created_ms : from_ms;
        uint64_t id = after ? after->id + 1 : 0;
        MDB_cursor *cur;
        MDB_val k, v;
        int rc;

        if (after && after->id == UINT64_MAX) {
                created++;
                id = 0;
        }
        if (created < from_ms) {
                created = from_ms;
                id = 0;
        }
        rc = mdb_cursor_open(t->txn, t->store->dbi[DB_LEDGER], &cur);
        if (rc != 0)
                return st_err(rc);
        for (; part < 2; part++, created = from_ms, id = 0) {
                const uint8_t *p;

                if (created >= to_ms)
                        continue;
                k = (MDB_val){st_ledger_key(kb, part, created, id), kb};
                rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
                if (rc == MDB_NOTFOUND)
                        break;
                if (rc != 0)
                        break;
                p = k.mv_data;
                if (k.mv_size != LEDGER_KEY) {
                        rc = EBADMSG;
                        break;
                }
                if (p[0] == part && (int64_t)st_get_be64(p + 1) < to_ms) {
                        *ret = (struct store_ledger_pos){p[0] != 0, (int64_t)st_get_be64(p + 1),
                                                         st_get_be64(p + 9)};
                        mdb_cursor_close(cur);
                        return 0;
                }
        }
        mdb_cursor_close(cur);
        return rc == 0 || rc == MDB_NOTFOUND ? -ENOENT : st_err(rc);
}

int
store_ledger_next_in(store_txn_t *t, bool complete, int64_t after_created_ms, uint64_t after_id,
                     bool started, int64_t from_ms, int64_t to_ms, struct store_ledger_pos *ret)
{
        uint8_t kb[LEDGER_KEY];
        int64_t created = from_ms;
        uint64_t id = 0;
        MDB_cursor *cur;
        MDB_val k, v;
        const uint8_t *p;
        int rc;

        if (started && after_created_ms >= from_ms) {
                created = after_created_ms;
                id = after_id + 1;
                if (after_id == UINT64_MAX) {
                        if (created == INT64_MAX)
                                return -ENOENT;
                        created++;
                        id = 0;
                }
        }
        /* Keys hold times before 1970 as 0 (st_ledger_key()). */
        if (created < 0) {
                created = 0;
                id = 0;
        }
        if (created >= to_ms)
                return -ENOENT;
        rc = mdb_cursor_open(t->txn, t->store->dbi[DB_LEDGER], &cur);
        if (rc != 0)
                return st_err(rc);
        k = (MDB_val){st_ledger_key(kb, complete, created, id), kb};
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        if (rc == 0 && k.mv_size != LEDGER_KEY)
                rc = EBADMSG;
        if (rc == 0) {
                p = k.mv_data;
                if (p[0] == (complete ? 1 : 0) && (int64_t)st_get_be64(p + 1) < to_ms)
                        *ret = (struct store_ledger_pos){p[0] != 0, (int64_t)st_get_be64(p + 1),
                                                         st_get_be64(p + 9)};
                else
                        rc = MDB_NOTFOUND;
        }
        mdb_cursor_close(cur);
        return st_err(rc);
}
