/* store_requests.c: the stored replies that make a repeated request id return the first
 * result (idempotency). */
#include <errno.h>
#include <string.h>

#include "macro.h"
#include "store_int.h"

static int
s_request_key(uint8_t *buf, const char *actor, const char *request_id, MDB_val *k)
{
        size_t a = strlen(actor), r = strlen(request_id);

        if (a + r + 1 > KEY_MAX)
                return -E2BIG;
        memcpy(buf, request_id, r);
        buf[r] = '\0';
        memcpy(buf + r + 1, actor, a);
        *k = (MDB_val){a + r + 1, buf};
        return 0;
}

int
store_get_request(store_txn_t *t, const char *actor, const char *request_id, uint64_t *ret_hash,
                  uint8_t **ret_reply, size_t *ret_len)
{
        uint8_t kb[KEY_MAX], *copy;
        MDB_val k, v;
        int rc = s_request_key(kb, actor, request_id, &k);

        if (rc < 0)
                return rc;
        rc = mdb_get(t->txn, t->store->dbi[DB_REQUESTS], &k, &v);
        if (rc != 0)
                return st_err(rc);
        if (v.mv_size < 8)
                return -EBADMSG;
        copy = malloc(v.mv_size - 8 + 1);
        if (copy == NULL)
                return -ENOMEM;
        memcpy(copy, (uint8_t *)v.mv_data + 8, v.mv_size - 8);
        *ret_hash = st_get_be64(v.mv_data);
        *ret_reply = copy;
        *ret_len = v.mv_size - 8;
        return 0;
}

int
store_put_request(store_txn_t *t, const char *actor, const char *request_id, uint64_t hash,
                  const uint8_t *reply, size_t len, int64_t at_ms)
{
        uint8_t kb[KEY_MAX];
        MDB_val k, v = {len + 8, NULL};
        int rc = s_request_key(kb, actor, request_id, &k);

        if (rc < 0)
                return rc;
        rc = mdb_put(st_w(t), t->store->dbi[DB_REQUESTS], &k, &v, MDB_RESERVE);
        if (rc != 0)
                return st_err(rc);
        st_put_be64(v.mv_data, hash);
        memcpy((uint8_t *)v.mv_data + 8, reply, len);
        return st_request_time(t, kb, k.mv_size, at_ms);
}

int
st_request_time(store_txn_t *t, const uint8_t *key, size_t len, int64_t at_ms)
{
        uint8_t tb[8 + KEY_MAX];
        MDB_val k = {8 + len, tb}, v = {0, NULL};

        if (len > KEY_MAX - 8)
                return -E2BIG;
        st_put_be64(tb, (uint64_t)(at_ms < 0 ? 0 : at_ms));
        memcpy(tb + 8, key, len);
        /* Written in time order: at the end of the tree. */
        return st_err(mdb_put(st_w(t), t->store->dbi[DB_REQUEST_TIMES], &k, &v, 0));
}

int
store_prune_requests(store_txn_t *t, int64_t before_ms, uint32_t max, uint32_t *ret_n)
{
        MDB_cursor *cur;
        MDB_val k, v;
        uint32_t n = 0;
        int rc = mdb_cursor_open(t->txn, t->store->dbi[DB_REQUEST_TIMES], &cur);

        if (rc != 0)
                return st_err(rc);
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && n < max;
             rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) {
                MDB_val rk;

                if (k.mv_size < 9 || (int64_t)st_get_be64(k.mv_data) >= before_ms)
                        break;
                rk = (MDB_val){k.mv_size - 8, (uint8_t *)k.mv_data + 8};
                rc = mdb_del(st_w(t), t->store->dbi[DB_REQUESTS], &rk, NULL);
                if (rc != 0 && rc != MDB_NOTFOUND)
                        break;
                t->root->writes++;
                rc = mdb_cursor_del(cur, 0);
                if (rc != 0)
                        break;
                n++;
        }
        mdb_cursor_close(cur);
        if (rc != 0 && rc != MDB_NOTFOUND)
                return st_err(rc);
        *ret_n = n;
        return 0;
}
