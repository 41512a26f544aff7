/* store_contacts.c: the contact index that links a complainant's complaints, and its rebuild
 * when the country code changes. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

/* A contact key as the index holds it: "h:" and the keyed hash of the key of contact.h. */
static void
s_hashed(const store_t *s, const char *contact, char out[CONTACT_KEY_MAX])
{
        char hex[SEAL_HASH_HEX + 1];

        seal_hash_hex(s->seal, contact, hex);
        snprintf(out, CONTACT_KEY_MAX, "h:%s", hex);
}

int
st_complainant(const store_t *s, const pb_complaint_t *c, pb_complainant_t **ret)
{
        uint8_t *buf;
        size_t len, size;
        int r;

        if (c->complainant) {
                size_t n = protobuf_c_message_get_packed_size(&c->complainant->base);

                buf = malloc(n ? n : 1);
                if (buf == NULL)
                        return -ENOMEM;
                protobuf_c_message_pack(&c->complainant->base, buf);
                len = size = n;
        } else {
                if (c->sealed_contact.len == 0)
                        return -ENOENT;
                size = c->sealed_contact.len;
                buf = malloc(size);
                if (buf == NULL)
                        return -ENOMEM;
                r = seal_unbox(s->seal, c->id, c->sealed_contact.data, c->sealed_contact.len, buf,
                               &len);
                if (r < 0) {
                        free(buf);
                        return r;
                }
        }
        *ret = complaint__v1__complainant__unpack(NULL, len, buf);
        explicit_bzero(buf, size);
        free(buf);
        return *ret ? 0 : -EBADMSG;
}

int
store_open_contact(store_txn_t *t, const pb_complaint_t *c, pb_complainant_t **ret)
{
        return st_complainant(t->store, c, ret);
}

/* The index keys (hashed) a complaint is indexed under: its complainant's phone, keyed with
 * country code cc, and e-mail, each when it links anything. As changes.c indexes them. */
size_t
st_contact_keys(const store_t *s, const pb_complaint_t *c, const char *cc,
                char keys[2][CONTACT_KEY_MAX])
{
        pb_complainant_t *who = NULL;
        char plain[CONTACT_KEY_MAX];
        size_t n = 0;

        if (st_complainant(s, c, &who) < 0)
                return 0;
        if (contact_phone_key(who->phone, cc, plain) > 0)
                s_hashed(s, plain, keys[n++]);
        if (contact_email_key(who->email, plain) > 0)
                s_hashed(s, plain, keys[n++]);
        complaint__v1__complainant__free_unpacked(who, NULL);
        return n;
}

int
st_put_contacts(store_txn_t *t, const pb_complaint_t *c, const char *cc)
{
        char keys[2][CONTACT_KEY_MAX];
        size_t n = st_contact_keys(t->store, c, cc, keys);
        uint8_t kb[KEY_MAX];
        MDB_val k, v = {0, NULL};
        int r = 0;

        for (size_t i = 0; i < n && r == 0; i++) {
                k = (MDB_val){st_contact_key(kb, keys[i], c->created_at_ms, c->id), kb};
                r = st_err(mdb_put(st_w(t), t->store->dbi[DB_CONTACTS], &k, &v, 0));
        }
        return r;
}

/* Empties the contact index and fills it again from every complaint, keyed with cc. */
int
st_rekey_contacts(store_txn_t *t, const char *cc)
{
        MDB_cursor *cur;
        MDB_val k, v;
        int rc = mdb_drop(st_w(t), t->store->dbi[DB_CONTACTS], 0);

        if (rc != 0)
                return st_err(rc);
        rc = mdb_cursor_open(t->txn, t->store->dbi[DB_COMPLAINTS], &cur);
        if (rc != 0)
                return st_err(rc);
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
                pb_complaint_t *c = complaint__v1__complaint__unpack(NULL, v.mv_size, v.mv_data);
                int r;

                if (c == NULL) {
                        rc = EBADMSG;
                        break;
                }
                r = st_put_contacts(t, c, cc);
                complaint__v1__complaint__free_unpacked(c, NULL);
                if (r < 0) {
                        mdb_cursor_close(cur);
                        return r;
                }
        }
        mdb_cursor_close(cur);
        if (rc != MDB_NOTFOUND)
                return st_err(rc);
        return st_meta_put_str(t, META_COUNTRY, cc);
}

size_t
st_contact_key(uint8_t *kb, const char *contact, int64_t created, uint64_t id)
{
        size_t n = strlen(contact);

        memcpy(kb, contact, n);
        kb[n] = '\0';
        st_put_be64(kb + n + 1, (uint64_t)(created < 0 ? 0 : created));
        st_put_be64(kb + n + 9, id);
        return n + 17;
}

int
store_put_contact(store_txn_t *t, const char *plain, int64_t created_ms, uint64_t id)
{
        uint8_t kb[KEY_MAX];
        char contact[CONTACT_KEY_MAX];
        MDB_val k, v = {0, NULL};

        s_hashed(t->store, plain, contact);
        k = (MDB_val){st_contact_key(kb, contact, created_ms, id), kb};
        return st_err(mdb_put(st_w(t), t->store->dbi[DB_CONTACTS], &k, &v, 0));
}

int
store_del_contact(store_txn_t *t, const char *plain, int64_t created_ms, uint64_t id)
{
        uint8_t kb[KEY_MAX];
        char contact[CONTACT_KEY_MAX];
        MDB_val k;

        s_hashed(t->store, plain, contact);
        k = (MDB_val){st_contact_key(kb, contact, created_ms, id), kb};
        return st_err(mdb_del(st_w(t), t->store->dbi[DB_CONTACTS], &k, NULL));
}

int
store_contact_ids(store_txn_t *t, const char *plain, int64_t since_ms, uint64_t *ids, size_t max,
                  size_t *ret_n)
{
        uint8_t kb[KEY_MAX];
        char contact[CONTACT_KEY_MAX];
        size_t plen, n = 0;
        MDB_cursor *cur;
        MDB_val k, v;
        int rc;

        s_hashed(t->store, plain, contact);
        plen = strlen(contact) + 1;
        rc = mdb_cursor_open(t->txn, t->store->dbi[DB_CONTACTS], &cur);
        if (rc != 0)
                return st_err(rc);
        k = (MDB_val){st_contact_key(kb, contact, INT64_MAX, UINT64_MAX), kb};
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        rc =
            rc == 0 ? mdb_cursor_get(cur, &k, &v, MDB_PREV) : mdb_cursor_get(cur, &k, &v, MDB_LAST);
        for (; rc == 0 && n < max; rc = mdb_cursor_get(cur, &k, &v, MDB_PREV)) {
                const uint8_t *p = k.mv_data;

                if (k.mv_size != plen + 16 || memcmp(p, contact, plen) != 0)
                        break;
                if ((int64_t)st_get_be64(p + plen) < since_ms)
                        break;
                ids[n++] = st_get_be64(p + plen + 8);
        }
        mdb_cursor_close(cur);
        if (rc != 0 && rc != MDB_NOTFOUND)
                return st_err(rc);
        *ret_n = n;
        return 0;
}

/* ------------------------------------------------------------------ retention */

/* The retention entry of c: closed or dismissed, with its complainant's details kept. */
bool
st_retain_key(const pb_complaint_t *c, uint8_t kb[16])
{
        if (c == NULL || c->ended_at_ms <= 0 || c->erased_at_ms != 0 ||
            (c->complainant == NULL && c->sealed_contact.len == 0))
                return false;
        st_put_be64(kb, (uint64_t)c->ended_at_ms);
        st_put_be64(kb + 8, c->id);
        return true;
}

int
st_update_retain(store_txn_t *t, const pb_complaint_t *c, const pb_complaint_t *old)
{
        uint8_t ok[16], nk[16];
        bool had = st_retain_key(old, ok), has = st_retain_key(c, nk);
        MDB_val k = {16, ok}, v = {0, NULL};
        int rc;

        if (had == has && (!had || memcmp(ok, nk, 16) == 0))
                return 0;
        if (had) {
                rc = mdb_del(st_w(t), t->store->dbi[DB_RETAIN], &k, NULL);
                if (rc != 0 && rc != MDB_NOTFOUND)
                        return st_err(rc);
        }
        if (!has)
                return 0;
        k.mv_data = nk;
        return st_err(mdb_put(st_w(t), t->store->dbi[DB_RETAIN], &k, &v, 0));
}

int
store_retain_due(store_txn_t *t, int64_t ended_before_ms, uint64_t *ids, size_t max, size_t *ret_n)
{
        MDB_cursor *cur;
        MDB_val k, v;
        size_t n = 0;
        int rc = mdb_cursor_open(t->txn, t->store->dbi[DB_RETAIN], &cur);

        if (rc != 0)
                return st_err(rc);
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && n < max;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
                if (k.mv_size != 16)
                        continue;
                if ((int64_t)st_get_be64(k.mv_data) >= ended_before_ms)
                        break;
                ids[n++] = st_get_be64((const uint8_t *)k.mv_data + 8);
        }
        mdb_cursor_close(cur);
        if (rc != 0 && rc != MDB_NOTFOUND)
                return st_err(rc);
        *ret_n = n;
        return 0;
}

/* ------------------------------------------------------------------- rotation */

#define META_RESEAL_NEXT "reseal_next"
#define META_ERASED_SINCE "erased_since_rekey"
#define META_REKEY_AT "rekey_at"

int
store_note_erasure(store_txn_t *t)
{
        uint64_t n;
        int r = st_meta_get_u64(t, META_ERASED_SINCE, &n);

        return r < 0 ? r : st_meta_put_u64(t, META_ERASED_SINCE, n + 1);
}

int
store_rekey_due(store_txn_t *t, int64_t now, int64_t interval_ms, bool *ret_due)
{
        uint64_t erased, at;
        int r = st_meta_get_u64(t, META_ERASED_SINCE, &erased);

        if (r == 0)
                r = st_meta_get_u64(t, META_REKEY_AT, &at);
        if (r < 0)
                return r;
        *ret_due = erased > 0 && now - (int64_t)at >= interval_ms;
        return 0;
}

bool
store_rekeying(store_t *s)
{
        return seal_rotating(s->seal);
}

int
store_rekey_start(store_txn_t *t, int64_t now)
{
        store_t *s = t->store;
        int r;

        pthread_mutex_lock(&s->resize); /* a backup copies the keys meanwhile */
        r = seal_rotating(s->seal) ? 0 : seal_rotate(s->seal, s->dir);
        pthread_mutex_unlock(&s->resize);
        if (r == 0)
                r = st_meta_put_u64(t, META_ERASED_SINCE, 0);
        if (r == 0)
                r = st_meta_put_u64(t, META_REKEY_AT, (uint64_t)now);
        if (r == 0)
                r = st_meta_put_u64(t, META_RESEAL_NEXT, 0);
        return r;
}

int
store_rekey_step(store_txn_t *t, uint32_t max, uint32_t *ret_n, bool *ret_done)
{
        store_t *s = t->store;
        uint64_t next, last = 0, *stale;
        uint32_t examined = 0, n = 0;
        uint8_t kb[8];
        MDB_cursor *cur;
        MDB_val k = {8, kb}, v;
        int rc, r = st_meta_get_u64(t, META_RESEAL_NEXT, &next);

        if (r < 0)
                return r;
        stale = malloc((max ? max : 1) * sizeof(*stale));
        if (stale == NULL)
                return -ENOMEM;
        /* First the records sealed with an old key among the next max, then each sealed
         * again: a put under a walking cursor could move its page. */
        rc = mdb_cursor_open(t->txn, s->dbi[DB_COMPLAINTS], &cur);
        if (rc != 0) {
                free(stale);
                return st_err(rc);
        }
        st_put_be64(kb, next);
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 && examined < max;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT), examined++) {
                pb_complaint_t *c = complaint__v1__complaint__unpack(NULL, v.mv_size, v.mv_data);

                if (c == NULL) {
                        r = -EBADMSG;
                        break;
                }
                last = c->id;
                if (c->sealed_contact.len > 0 &&
                    seal_stale(s->seal, c->sealed_contact.data, c->sealed_contact.len))
                        stale[n++] = c->id;
                complaint__v1__complaint__free_unpacked(c, NULL);
        }
        mdb_cursor_close(cur);
        *ret_done = rc == MDB_NOTFOUND;
        if (r == 0 && rc != 0 && rc != MDB_NOTFOUND)
                r = st_err(rc);
        for (uint32_t i = 0; i < n && r == 0; i++) {
                pb_complaint_t *c = NULL;

                r = store_get_complaint(t, stale[i], &c);
                if (r == 0)
                        r = st_complainant(s, c, &c->complainant);
                if (r == 0)
                        r = st_put_record(t, c);
                if (c)
                        complaint__v1__complaint__free_unpacked(c, NULL);
        }
        free(stale);
        if (r < 0)
                return r;
        *ret_n = n;
        return st_meta_put_u64(t, META_RESEAL_NEXT, *ret_done ? 0 : last + 1);
}

int
store_rekey_finish(store_t *s)
{
        int r;

        pthread_mutex_lock(&s->resize);
        r = seal_drop_old(s->seal, s->dir);
        pthread_mutex_unlock(&s->resize);
        return r;
}
