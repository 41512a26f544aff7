/* store_contacts.c: the contact index that links a complainant's complaints, and its rebuild
 * when the country code changes. */
#include <errno.h>
#include <string.h>

#include "store_int.h"

/* The contact keys (contact.h) a complaint is indexed under: its complainant's phone, keyed
 * with country code cc, and e-mail, each when it links anything. As changes.c indexes them. */
size_t
st_contact_keys(const pb_complaint_t *c, const char *cc, char keys[2][CONTACT_KEY_MAX])
{
        size_t n = 0;

        if (c->complainant == NULL)
                return 0;
        if (contact_phone_key(c->complainant->phone, cc, keys[n]) > 0)
                n++;
        if (contact_email_key(c->complainant->email, keys[n]) > 0)
                n++;
        return n;
}

int
st_put_contacts(store_txn_t *t, const pb_complaint_t *c, const char *cc)
{
        char keys[2][CONTACT_KEY_MAX];
        size_t n = st_contact_keys(c, cc, keys);
        int r = 0;

        for (size_t i = 0; i < n && r == 0; i++)
                r = store_put_contact(t, keys[i], c->created_at_ms, c->id);
        return r;
}

/* Empties the contact index and fills it again from every complaint, keyed with cc. */
int
st_rekey_contacts(store_txn_t *t, const char *cc)
{
        MDB_cursor *cur;
        MDB_val k, v;
        int rc = mdb_drop(t->txn, t->store->dbi[DB_CONTACTS], 0);

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
store_put_contact(store_txn_t *t, const char *contact, int64_t created_ms, uint64_t id)
{
        uint8_t kb[KEY_MAX];
        MDB_val k, v = {0, NULL};

        if (strlen(contact) + 17 > sizeof(kb))
                return -E2BIG;
        k = (MDB_val){st_contact_key(kb, contact, created_ms, id), kb};
        return st_err(mdb_put(t->txn, t->store->dbi[DB_CONTACTS], &k, &v, 0));
}

int
store_contact_ids(store_txn_t *t, const char *contact, int64_t since_ms, uint64_t *ids, size_t max,
                  size_t *ret_n)
{
        uint8_t kb[KEY_MAX];
        size_t plen = strlen(contact) + 1, n = 0;
        MDB_cursor *cur;
        MDB_val k, v;
        int rc;

        if (plen + 16 > sizeof(kb))
                return -E2BIG;
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
