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
                  const uint8_t *reply, size_t len)
{
        uint8_t kb[KEY_MAX];
        MDB_val k, v = {len + 8, NULL};
        int rc = s_request_key(kb, actor, request_id, &k);

        if (rc < 0)
                return rc;
        rc = mdb_put(t->txn, t->store->dbi[DB_REQUESTS], &k, &v, MDB_RESERVE);
        if (rc != 0)
                return st_err(rc);
        st_put_be64(v.mv_data, hash);
        memcpy((uint8_t *)v.mv_data + 8, reply, len);
        return 0;
}
