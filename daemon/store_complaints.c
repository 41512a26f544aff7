/* store_complaints.c: complaint records, their append-only history, the status, department
 * and category indexes with the status counts, and the list that walks them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "store_int.h"

int
store_get_complaint(store_txn_t *t, uint64_t id, pb_complaint_t **ret)
{
        uint8_t kb[8];
        MDB_val k = {8, kb};

        st_put_be64(kb, id);
        return st_get_message(t, DB_COMPLAINTS, &k, &complaint__v1__complaint__descriptor,
                              (ProtobufCMessage **)ret);
}

size_t
st_index_key(uint8_t *buf, const char *prefix, uint64_t id)
{
        size_t n = strlen(prefix);

        memcpy(buf, prefix, n);
        buf[n] = '\0';
        st_put_be64(buf + n + 1, id);
        return n + 9;
}

/* Adds (add) or removes an index entry; removing one that is not there is not an error. */
static int
s_index(store_txn_t *t, int db, const char *prefix, uint64_t id, bool add)
{
        uint8_t kb[KEY_MAX];
        MDB_val k, v = {0, NULL};
        int rc;

        if (strlen(prefix) + 9 > sizeof(kb))
                return -E2BIG;
        k = (MDB_val){st_index_key(kb, prefix, id), kb};
        rc = add ? mdb_put(st_w(t), t->store->dbi[db], &k, &v, 0)
                 : mdb_del(st_w(t), t->store->dbi[db], &k, NULL);
        return rc == MDB_NOTFOUND ? 0 : st_err(rc);
}

static int
s_status_index(store_txn_t *t, int status, uint64_t id, bool add)
{
        uint8_t kb[9];
        MDB_val k = {9, kb}, v = {0, NULL};
        char key[32];
        uint64_t count;
        int rc;

        kb[0] = (uint8_t)status;
        st_put_be64(kb + 1, id);
        rc = add ? mdb_put(st_w(t), t->store->dbi[DB_BY_STATUS], &k, &v, 0)
                 : mdb_del(st_w(t), t->store->dbi[DB_BY_STATUS], &k, NULL);
        if (rc != 0)
                return st_err(rc);
        snprintf(key, sizeof(key), "count/%d", status);
        rc = st_meta_get_u64(t, key, &count);
        if (rc < 0)
                return rc;
        return st_meta_put_u64(t, key, add ? count + 1 : count - 1);
}

int
st_put_record(store_txn_t *t, const pb_complaint_t *c)
{
        uint8_t kb[8];
        MDB_val k = {8, kb};
        pb_complaint_t rec = *c;
        uint8_t *plain = NULL, *box = NULL;
        size_t len = 0;
        int rc;

        st_put_be64(kb, c->id);
        if (c->complainant != NULL) {
                len = protobuf_c_message_get_packed_size(&c->complainant->base);
                plain = malloc(len ? len : 1);
                box = malloc(len + SEAL_OVERHEAD);
                if (plain == NULL || box == NULL) {
                        free(plain);
                        free(box);
                        return -ENOMEM;
                }
                protobuf_c_message_pack(&c->complainant->base, plain);
                seal_box(t->store->seal, c->id, plain, len, box);
                explicit_bzero(plain, len);
                free(plain);
                rec.complainant = NULL;
                rec.sealed_contact = (ProtobufCBinaryData){len + SEAL_OVERHEAD, box};
        }
        rc = st_put_message(t, DB_COMPLAINTS, &k, &rec.base, 0);
        free(box);
        return rc;
}

int
store_put_complaint(store_txn_t *t, const pb_complaint_t *c, const pb_complaint_t *old)
{
        int rc = st_put_record(t, c);

        if (rc < 0)
                return rc;
        if ((rc = st_update_retain(t, c, old)) < 0)
                return rc;
        if (old == NULL || old->status != c->status) {
                if (old != NULL && (rc = s_status_index(t, old->status, c->id, false)) < 0)
                        return rc;
                if ((rc = s_status_index(t, c->status, c->id, true)) < 0)
                        return rc;
        }
        if (old == NULL || strcmp(old->department, c->department) != 0) {
                if (old != NULL && old->department[0] &&
                    (rc = s_index(t, DB_BY_DEPT, old->department, c->id, false)) < 0)
                        return rc;
                if (c->department[0] &&
                    (rc = s_index(t, DB_BY_DEPT, c->department, c->id, true)) < 0)
                        return rc;
        }
        if (old == NULL || strcmp(old->category, c->category) != 0) {
                if (old != NULL &&
                    (rc = s_index(t, DB_BY_CATEGORY, old->category, c->id, false)) < 0)
                        return rc;
                if ((rc = s_index(t, DB_BY_CATEGORY, c->category, c->id, true)) < 0)
                        return rc;
        }
        if ((rc = st_update_overdue(t, c, old)) < 0)
                return rc;
        if ((rc = st_update_report(t, c, old)) < 0)
                return rc;
        return st_update_deadlines(t, c, old);
}

int
store_next_complaint_id(store_txn_t *t, uint64_t *ret)
{
        uint64_t last;
        int rc = st_meta_get_u64(t, "next_id", &last);

        if (rc < 0)
                return rc;
        rc = st_meta_put_u64(t, "next_id", last + 1);
        if (rc < 0)
                return rc;
        *ret = last + 1;
        return 0;
}

int
store_put_history(store_txn_t *t, const pb_history_t *h)
{
        uint8_t kb[12];
        MDB_val k = {12, kb};

        st_put_be64(kb, h->complaint_id);
        st_put_be32(kb + 8, h->seq);
        return st_put_message(t, DB_HISTORY, &k, &h->base, MDB_NOOVERWRITE);
}

int
store_rewrite_history(store_txn_t *t, const pb_history_t *h)
{
        uint8_t kb[12];
        MDB_val k = {12, kb}, v;

        st_put_be64(kb, h->complaint_id);
        st_put_be32(kb + 8, h->seq);
        if (mdb_get(t->txn, t->store->dbi[DB_HISTORY], &k, &v) != 0)
                return -ENOENT;
        return st_put_message(t, DB_HISTORY, &k, &h->base, 0);
}

void
store_free_history(pb_history_t ***entries, size_t n)
{
        if (*entries == NULL)
                return;
        for (size_t i = 0; i < n; i++)
                complaint__v1__history_entry__free_unpacked((*entries)[i], NULL);
        free(*entries);
        *entries = NULL;
}

int
store_get_history_page(store_txn_t *t, uint64_t id, uint32_t after_seq, uint32_t max_n,
                       size_t max_bytes, pb_history_t ***ret, size_t *ret_n, uint32_t *ret_next)
{
        uint8_t kb[12] = {0};
        MDB_val k = {12, kb}, v;
        MDB_cursor *cur;
        pb_history_t **list = NULL;
        size_t n = 0, cap = 0, bytes = 0;
        uint32_t next = 0;
        int rc;

        st_put_be64(kb, id);
        st_put_be32(kb + 8, after_seq + 1);
        rc = mdb_cursor_open(t->txn, t->store->dbi[DB_HISTORY], &cur);
        if (rc != 0)
                return st_err(rc);
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
                pb_history_t *h;

                if (k.mv_size != 12 || st_get_be64(k.mv_data) != id)
                        break;
                /* Full: the next page begins after the last entry given. One entry always
                 * goes, however large, so that paging moves on. */
                if (n > 0 && (n == max_n || bytes + v.mv_size > max_bytes)) {
                        next = list[n - 1]->seq;
                        break;
                }
                if (n == cap) {
                        pb_history_t **p = realloc(list, (cap = cap ? cap * 2 : 16) * sizeof(*p));
                        if (p == NULL) {
                                rc = ENOMEM;
                                break;
                        }
                        list = p;
                }
                h = complaint__v1__history_entry__unpack(NULL, v.mv_size, v.mv_data);
                if (h == NULL) {
                        rc = EBADMSG;
                        break;
                }
                list[n++] = h;
                bytes += v.mv_size;
        }
        mdb_cursor_close(cur);
        if (rc != 0 && rc != MDB_NOTFOUND) {
                store_free_history(&list, n);
                return st_err(rc);
        }
        *ret = list;
        *ret_n = n;
        if (ret_next)
                *ret_next = next;
        return 0;
}

int
store_get_history(store_txn_t *t, uint64_t id, pb_history_t ***ret, size_t *ret_n)
{
        return store_get_history_page(t, id, 0, UINT32_MAX, SIZE_MAX, ret, ret_n, NULL);
}

int
store_count(store_txn_t *t, int status, uint64_t *ret)
{
        char key[32];

        if (status == ST_NONE) {
                MDB_stat st;
                int rc = mdb_stat(t->txn, t->store->dbi[DB_COMPLAINTS], &st);

                if (rc != 0)
                        return st_err(rc);
                *ret = st.ms_entries;
                return 0;
        }
        snprintf(key, sizeof(key), "count/%d", status);
        return st_meta_get_u64(t, key, ret);
}

void
store_free_list(pb_complaint_t ***list, size_t n)
{
        if (*list == NULL)
                return;
        for (size_t i = 0; i < n; i++)
                complaint__v1__complaint__free_unpacked((*list)[i], NULL);
        free(*list);
        *list = NULL;
}

static bool
s_matches(const pb_complaint_t *c, const struct store_filter *f)
{
        return (f->department == NULL || strcmp(c->department, f->department) == 0) &&
               (f->category == NULL || strcmp(c->category, f->category) == 0) &&
               (f->status == ST_NONE || (int)c->status == f->status) &&
               (!f->overdue || c->level > 0) && (f->level == 0 || c->level == f->level);
}

int
store_list(store_txn_t *t, const struct store_filter *f, uint64_t before_id, uint32_t limit,
           uint32_t scan_max, pb_complaint_t ***ret, size_t *ret_n, uint64_t *ret_next)
{
        uint8_t prefix[KEY_MAX], seek[KEY_MAX];
        size_t plen = 0;
        int db = DB_COMPLAINTS;
        MDB_cursor *cur;
        MDB_val k, v;
        pb_complaint_t **list;
        size_t n = 0;
        uint64_t next = 0;
        uint32_t scanned = 0;
        size_t bytes = 0;
        int rc;

        /* The most selective index that serves the filter: overdue, department, category,
         * status. */
        if (f->overdue || f->level > 0) {
                db = DB_OVERDUE;
        } else if (f->department != NULL || f->category != NULL) {
                const char *p = f->department ? f->department : f->category;

                db = f->department ? DB_BY_DEPT : DB_BY_CATEGORY;
                plen = strlen(p) + 1;
                if (plen + 8 > sizeof(prefix))
                        return -E2BIG;
                memcpy(prefix, p, plen);
        } else if (f->status != ST_NONE) {
                db = DB_BY_STATUS;
                prefix[0] = (uint8_t)f->status;
                plen = 1;
        }
        list = calloc(limit ? limit : 1, sizeof(*list));
        if (list == NULL)
                return -ENOMEM;
        rc = mdb_cursor_open(t->txn, t->store->dbi[db], &cur);
        if (rc != 0) {
                free(list);
                return st_err(rc);
        }
        memcpy(seek, prefix, plen);
        st_put_be64(seek + plen, before_id ? before_id : UINT64_MAX);
        k = (MDB_val){plen + 8, seek};
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        rc =
            rc == 0 ? mdb_cursor_get(cur, &k, &v, MDB_PREV) : mdb_cursor_get(cur, &k, &v, MDB_LAST);
        for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_PREV)) {
                pb_complaint_t *c;
                uint64_t id;

                if (k.mv_size != plen + 8 || memcmp(k.mv_data, prefix, plen) != 0)
                        break;
                id = st_get_be64((uint8_t *)k.mv_data + plen);
                if (before_id && id >= before_id)
                        continue;
                if (n == limit) {
                        next = list[n - 1]->id;
                        break;
                }
                /* Examined enough: the page ends here, short or empty, and the next one goes
                 * on below this entry. A filter that matches nothing walks no whole index. */
                if (scanned++ == scan_max) {
                        next = id + 1;
                        break;
                }
                if (db == DB_COMPLAINTS)
                        c = complaint__v1__complaint__unpack(NULL, v.mv_size, v.mv_data);
                else if (store_get_complaint(t, id, &c) < 0)
                        c = NULL;
                if (c == NULL) {
                        rc = EBADMSG;
                        break;
                }
                if (!s_matches(c, f)) {
                        complaint__v1__complaint__free_unpacked(c, NULL);
                        continue;
                }
                /* A full page ends before this one, which begins the next. */
                if (n > 0 && f->max_bytes &&
                    bytes + protobuf_c_message_get_packed_size(&c->base) > f->max_bytes) {
                        complaint__v1__complaint__free_unpacked(c, NULL);
                        next = id + 1;
                        break;
                }
                bytes += protobuf_c_message_get_packed_size(&c->base);
                list[n++] = c;
        }
        mdb_cursor_close(cur);
        if (rc != 0 && rc != MDB_NOTFOUND) {
                store_free_list(&list, n);
                return st_err(rc);
        }
        *ret = list;
        *ret_n = n;
        *ret_next = next;
        return 0;
}
