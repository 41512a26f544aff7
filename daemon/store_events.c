/* store_events.c: the numbered event log, each department's stream of it, replay and pruning. */
#include <errno.h>
#include <string.h>

#include "macro.h"
#include "store_int.h"

int
store_last_event_seq(store_txn_t *t, uint64_t *ret)
{
        MDB_cursor *cur;
        MDB_val k, v;
        int rc = mdb_cursor_open(t->txn, t->store->dbi[DB_EVENTS], &cur);

        if (rc != 0)
                return st_err(rc);
        rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
        mdb_cursor_close(cur);
        if (rc == MDB_NOTFOUND) {
                *ret = 0;
                return 0;
        }
        if (rc != 0)
                return st_err(rc);
        *ret = st_get_be64(k.mv_data);
        return 0;
}

int
store_append_event(store_txn_t *t, pb_event_t *ev)
{
        uint8_t kb[8], sk[KEY_MAX], vb[8];
        MDB_val k = {8, kb}, skey, sval = {8, vb};
        uint64_t last, head;
        size_t n;
        int rc = store_last_event_seq(t, &last);

        if (rc < 0)
                return rc;
        if (ev->stream[0]) {
                if ((rc = store_stream_head(t, ev->stream, &head)) < 0)
                        return rc;
                n = strlen(ev->stream);
                if (n + 9 > sizeof(sk))
                        return -E2BIG;
                ev->offset = head + 1;
        }
        ev->seq = last + 1;
        if (ev->entry)
                ev->entry->event_seq = ev->seq;
        st_put_be64(kb, ev->seq);
        rc = st_put_message(t, DB_EVENTS, &k, &ev->base, MDB_APPEND);
        if (rc < 0 || !ev->stream[0])
                return rc;
        skey = (MDB_val){st_index_key(sk, ev->stream, ev->offset), sk};
        st_put_be64(vb, ev->seq);
        return st_err(mdb_put(st_w(t), t->store->dbi[DB_STREAMS], &skey, &sval, 0));
}

/* The first (first) or last key of a stream's index, as an offset; 0 when it is empty. */
static int
s_stream_edge(store_txn_t *t, const char *stream, bool first, uint64_t *ret)
{
        uint8_t kb[KEY_MAX];
        size_t plen = strlen(stream) + 1;
        MDB_cursor *cur;
        MDB_val k, v;
        int rc;

        if (plen + 8 > sizeof(kb))
                return -E2BIG;
        rc = mdb_cursor_open(t->txn, t->store->dbi[DB_STREAMS], &cur);
        if (rc != 0)
                return st_err(rc);
        k = (MDB_val){st_index_key(kb, stream, first ? 0 : UINT64_MAX), kb};
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        if (!first)
                rc = rc == 0 ? mdb_cursor_get(cur, &k, &v, MDB_PREV)
                             : mdb_cursor_get(cur, &k, &v, MDB_LAST);
        *ret = 0;
        if (rc == 0 && k.mv_size == plen + 8 && memcmp(k.mv_data, stream, plen) == 0)
                *ret = st_get_be64((uint8_t *)k.mv_data + plen);
        mdb_cursor_close(cur);
        return rc == 0 || rc == MDB_NOTFOUND ? 0 : st_err(rc);
}

static int
s_global_edge(store_txn_t *t, bool first, uint64_t *ret)
{
        MDB_cursor *cur;
        MDB_val k, v;
        int rc = mdb_cursor_open(t->txn, t->store->dbi[DB_EVENTS], &cur);

        if (rc != 0)
                return st_err(rc);
        rc = mdb_cursor_get(cur, &k, &v, first ? MDB_FIRST : MDB_LAST);
        *ret = rc == 0 ? st_get_be64(k.mv_data) : 0;
        mdb_cursor_close(cur);
        return rc == 0 || rc == MDB_NOTFOUND ? 0 : st_err(rc);
}

int
store_stream_head(store_txn_t *t, const char *stream, uint64_t *ret)
{
        return stream[0] ? s_stream_edge(t, stream, false, ret) : s_global_edge(t, false, ret);
}

int
store_stream_first(store_txn_t *t, const char *stream, uint64_t *ret)
{
        return stream[0] ? s_stream_edge(t, stream, true, ret) : s_global_edge(t, true, ret);
}

void
store_free_events(pb_event_t ***events, size_t n)
{
        if (*events == NULL)
                return;
        for (size_t i = 0; i < n; i++)
                complaint__v1__event__free_unpacked((*events)[i], NULL);
        free(*events);
        *events = NULL;
}

static bool
s_topic_matches(const char *topic, char *const *prefixes, size_t n)
{
        if (n == 0)
                return true;
        for (size_t i = 0; i < n; i++)
                if (strncmp(topic, prefixes[i], strlen(prefixes[i])) == 0)
                        return true;
        return false;
}

int
store_replay(store_txn_t *t, const char *stream, uint64_t after, char *const *prefixes,
             size_t n_prefixes, uint32_t limit, uint32_t scan_max, size_t max_bytes,
             pb_event_t ***ret, size_t *ret_n, uint64_t *ret_next)
{
        uint8_t kb[KEY_MAX];
        size_t plen = strlen(stream) + 1, n = 0, bytes = 0;
        bool global = stream[0] == '\0';
        pb_event_t **list = calloc(limit ? limit : 1, sizeof(*list));
        MDB_cursor *cur;
        MDB_val k, v;
        uint64_t next = after;
        int rc;

        if (list == NULL)
                return -ENOMEM;
        if (plen + 8 > sizeof(kb)) {
                free(list);
                return -E2BIG;
        }
        rc = mdb_cursor_open(t->txn, t->store->dbi[global ? DB_EVENTS : DB_STREAMS], &cur);
        if (rc != 0) {
                free(list);
                return st_err(rc);
        }
        if (global) {
                st_put_be64(kb, after + 1);
                k = (MDB_val){8, kb};
        } else {
                k = (MDB_val){st_index_key(kb, stream, after + 1), kb};
        }
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 && n < limit && scan_max > 0;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT), scan_max--) {
                pb_event_t *ev;
                uint64_t offset;

                if (global) {
                        offset = st_get_be64(k.mv_data);
                        ev = complaint__v1__event__unpack(NULL, v.mv_size, v.mv_data);
                } else {
                        MDB_val ek = {8, v.mv_data}, ev_v;

                        if (k.mv_size != plen + 8 || memcmp(k.mv_data, stream, plen) != 0)
                                break;
                        offset = st_get_be64((uint8_t *)k.mv_data + plen);
                        rc = mdb_get(t->txn, t->store->dbi[DB_EVENTS], &ek, &ev_v);
                        if (rc != 0)
                                break;
                        ev = complaint__v1__event__unpack(NULL, ev_v.mv_size, ev_v.mv_data);
                }
                if (ev == NULL) {
                        rc = EBADMSG;
                        break;
                }
                if (!s_topic_matches(ev->topic, prefixes, n_prefixes)) {
                        next = offset;
                        complaint__v1__event__free_unpacked(ev, NULL);
                        continue;
                }
                /* A full page ends before this event, which begins the next one. */
                if (n > 0 && max_bytes &&
                    bytes + protobuf_c_message_get_packed_size(&ev->base) > max_bytes) {
                        complaint__v1__event__free_unpacked(ev, NULL);
                        break;
                }
                bytes += protobuf_c_message_get_packed_size(&ev->base);
                next = offset;
                list[n++] = ev;
        }
        mdb_cursor_close(cur);
        if (rc != 0 && rc != MDB_NOTFOUND) {
                store_free_events(&list, n);
                return st_err(rc);
        }
        *ret = list;
        *ret_n = n;
        *ret_next = next;
        return 0;
}

int
store_prune_events(store_txn_t *t, uint64_t keep_count, int64_t before_ms, uint32_t max,
                   uint32_t *ret_n)
{
        MDB_cursor *cur;
        MDB_val k, v;
        MDB_stat st;
        uint32_t n = 0;
        int rc = mdb_stat(t->txn, t->store->dbi[DB_EVENTS], &st);

        if (rc != 0)
                return st_err(rc);
        rc = mdb_cursor_open(t->txn, t->store->dbi[DB_EVENTS], &cur);
        if (rc != 0)
                return st_err(rc);
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && n < max;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
                pb_event_t *ev = complaint__v1__event__unpack(NULL, v.mv_size, v.mv_data);
                bool old;

                if (ev == NULL) {
                        rc = EBADMSG;
                        break;
                }
                old = st.ms_entries - n > keep_count || ev->at_ms < before_ms;
                if (old && ev->stream[0]) {
                        uint8_t sk[KEY_MAX];
                        MDB_val skey;

                        if (strlen(ev->stream) + 9 <= sizeof(sk)) {
                                skey = (MDB_val){st_index_key(sk, ev->stream, ev->offset), sk};
                                rc = mdb_del(st_w(t), t->store->dbi[DB_STREAMS], &skey, NULL);
                        }
                }
                complaint__v1__event__free_unpacked(ev, NULL);
                if (!old)
                        break;
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

int
store_rewrite_event(store_txn_t *t, const pb_event_t *ev)
{
        uint8_t kb[8];
        MDB_val k = {8, kb}, v;

        st_put_be64(kb, ev->seq);
        if (mdb_get(t->txn, t->store->dbi[DB_EVENTS], &k, &v) != 0)
                return -ENOENT;
        return st_put_message(t, DB_EVENTS, &k, &ev->base, 0);
}

int
store_get_event(store_txn_t *t, uint64_t seq, pb_event_t **ret)
{
        uint8_t kb[8];
        MDB_val k = {8, kb};

        st_put_be64(kb, seq);
        return st_get_message(t, DB_EVENTS, &k, &complaint__v1__event__descriptor,
                              (ProtobufCMessage **)ret);
}
