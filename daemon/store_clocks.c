/* store_clocks.c: what the clocks of a complaint put in the store: the deadline index, the
 * overdue index, and the policies the clocks run under. */
#include <errno.h>

#include "macro.h"
#include "store_int.h"

/* The deadline entries a complaint's clocks hold: at most a warning and a breach each. */
size_t
st_clock_deadlines(const pb_complaint_t *c, struct store_deadline *out)
{
        const Complaint__V1__Clock *clocks[3];
        size_t n = 0;

        if (c == NULL)
                return 0;
        clocks[0] = c->response_clock;
        clocks[1] = c->resolution_clock;
        clocks[2] = c->follow_up_clock;
        for (int i = 0; i < 3; i++) {
                const Complaint__V1__Clock *k = clocks[i];

                if (k == NULL || !k->running || k->paused)
                        continue;
                if (k->warn_at_ms > 0)
                        out[n++] = (struct store_deadline){k->warn_at_ms, c->id, k->kind,
                                                           STORE_DEADLINE_WARN};
                if (k->due_at_ms > 0)
                        out[n++] = (struct store_deadline){k->due_at_ms, c->id, k->kind,
                                                           STORE_DEADLINE_BREACH};
        }
        return n;
}

size_t
st_deadline_key(uint8_t *kb, const struct store_deadline *d)
{
        /* Deadlines are after 1970: the signed time sorts as unsigned. */
        st_put_be64(kb, (uint64_t)(d->due_ms < 0 ? 0 : d->due_ms));
        st_put_be64(kb + 8, d->id);
        kb[16] = (uint8_t)d->clock;
        kb[17] = (uint8_t)d->type;
        return 18;
}

static bool
s_same_deadline(const struct store_deadline *a, const struct store_deadline *b)
{
        return a->due_ms == b->due_ms && a->id == b->id && a->clock == b->clock &&
               a->type == b->type;
}

int
st_update_deadlines(store_txn_t *t, const pb_complaint_t *c, const pb_complaint_t *old)
{
        struct store_deadline was[6], now[6];
        size_t n_was = st_clock_deadlines(old, was), n_now = st_clock_deadlines(c, now);
        uint8_t kb[18];
        MDB_val k, v = {0, NULL};
        int rc;

        for (size_t i = 0; i < n_was; i++) {
                bool kept = false;

                for (size_t j = 0; j < n_now; j++)
                        kept = kept || s_same_deadline(&was[i], &now[j]);
                if (kept)
                        continue;
                k = (MDB_val){st_deadline_key(kb, &was[i]), kb};
                rc = mdb_del(st_w(t), t->store->dbi[DB_DEADLINES], &k, NULL);
                if (rc != 0 && rc != MDB_NOTFOUND)
                        return st_err(rc);
        }
        for (size_t j = 0; j < n_now; j++) {
                k = (MDB_val){st_deadline_key(kb, &now[j]), kb};
                rc = mdb_put(st_w(t), t->store->dbi[DB_DEADLINES], &k, &v, 0);
                if (rc != 0)
                        return st_err(rc);
        }
        return 0;
}

int
st_update_overdue(store_txn_t *t, const pb_complaint_t *c, const pb_complaint_t *old)
{
        uint8_t kb[8], vb[4];
        MDB_val k = {8, kb}, v = {4, vb};
        int rc;

        if (old && old->level == c->level)
                return 0;
        st_put_be64(kb, c->id);
        if (c->level == 0) {
                rc = mdb_del(st_w(t), t->store->dbi[DB_OVERDUE], &k, NULL);
                return rc == MDB_NOTFOUND ? 0 : st_err(rc);
        }
        st_put_be32(vb, c->level);
        return st_err(mdb_put(st_w(t), t->store->dbi[DB_OVERDUE], &k, &v, 0));
}

int
store_first_deadline(store_txn_t *t, struct store_deadline *ret)
{
        MDB_cursor *cur;
        MDB_val k, v;
        const uint8_t *p;
        int rc = mdb_cursor_open(t->txn, t->store->dbi[DB_DEADLINES], &cur);

        if (rc != 0)
                return st_err(rc);
        rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
        mdb_cursor_close(cur);
        if (rc != 0)
                return st_err(rc);
        if (k.mv_size != 18)
                return -EBADMSG;
        p = k.mv_data;
        *ret = (struct store_deadline){(int64_t)st_get_be64(p), st_get_be64(p + 8), p[16], p[17]};
        return 0;
}

int
store_delete_deadline(store_txn_t *t, const struct store_deadline *d)
{
        uint8_t kb[18];
        MDB_val k = {st_deadline_key(kb, d), kb};

        return st_err(mdb_del(st_w(t), t->store->dbi[DB_DEADLINES], &k, NULL));
}

int
store_count_overdue(store_txn_t *t, uint64_t *ret)
{
        MDB_stat st;
        int rc = mdb_stat(t->txn, t->store->dbi[DB_OVERDUE], &st);

        if (rc != 0)
                return st_err(rc);
        *ret = st.ms_entries;
        return 0;
}

int
store_get_policy(store_txn_t *t, policies_t *cache, uint64_t id, const policy_t **ret)
{
        uint8_t kb[8];
        MDB_val k = {8, kb}, v;
        int rc;

        if (policies_find(cache, id, ret) == 0)
                return 0;
        st_put_be64(kb, id);
        rc = mdb_get(t->txn, t->store->dbi[DB_POLICIES], &k, &v);
        if (rc != 0)
                return st_err(rc);
        /* Compiled from the map before the transaction ends: the cache keeps its own copy. */
        return policies_add(cache, v.mv_data, v.mv_size, ret);
}

int
store_current_policy(store_txn_t *t, policies_t *cache, const conf_t *cfg, const char *dept,
                     const policy_t **ret)
{
        _cleanup_free_ uint8_t *buf = NULL;
        uint8_t kb[8];
        MDB_val k = {8, kb}, v, existing;
        size_t len;
        int rc = policies_encode(cfg, dept, &buf, &len);

        if (rc < 0)
                return rc;
        st_put_be64(kb, policies_id(buf, len));
        v = (MDB_val){len, buf};
        /* Stored with the clock that first uses it, in the same transaction. Look first: a
         * put, even a refused one, would dirty pages. Policies are content-addressed and never
         * change, so one stored already is this one. */
        rc = mdb_get(t->txn, t->store->dbi[DB_POLICIES], &k, &existing);
        if (rc == MDB_NOTFOUND)
                rc = mdb_put(st_w(t), t->store->dbi[DB_POLICIES], &k, &v, MDB_NOOVERWRITE);
        if (rc != 0)
                return st_err(rc);
        return policies_add(cache, buf, len, ret);
}
