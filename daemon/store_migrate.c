/* store_migrate.c: bringing a store written by an older daemon to the current layout, one
 * schema step at a time, inside the transaction of the open (store.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "macro.h"
#include "store_int.h"

/* 1 -> 2: number every stored event in its department's stream, in seq order, and index the
 * streams. */
static int
s_migrate_1_to_2(store_txn_t *t)
{
        MDB_cursor *cur;
        MDB_val k, v;
        int rc = mdb_cursor_open(t->txn, t->store->dbi[DB_EVENTS], &cur);

        if (rc != 0)
                return st_err(rc);
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
                pb_event_t *ev = complaint__v1__event__unpack(NULL, v.mv_size, v.mv_data);
                uint8_t sk[KEY_MAX], vb[8], kb[8];
                const char *slash;
                char stream[65];
                /* The cursor's key points into a page the puts below may move: copy it. */
                MDB_val skey, sval = {8, vb}, key = {8, kb};
                uint64_t head;
                size_t n;
                int r;

                if (ev == NULL || k.mv_size != 8) {
                        if (ev)
                                complaint__v1__event__free_unpacked(ev, NULL);
                        mdb_cursor_close(cur);
                        return -EBADMSG;
                }
                memcpy(kb, k.mv_data, 8);
                slash = strchr(ev->topic, '/');
                n = slash ? (size_t)(slash - ev->topic) : strlen(ev->topic);
                if (n == 0 || n >= sizeof(stream)) {
                        complaint__v1__event__free_unpacked(ev, NULL);
                        continue;
                }
                memcpy(stream, ev->topic, n);
                stream[n] = '\0';
                r = store_stream_head(t, stream, &head);
                if (r == 0) {
                        char *old = ev->stream;

                        ev->stream = stream;
                        ev->offset = head + 1;
                        r = st_put_message(t, DB_EVENTS, &key, &ev->base, 0);
                        ev->stream = old;
                        skey = (MDB_val){st_index_key(sk, stream, head + 1), sk};
                        st_put_be64(vb, st_get_be64(key.mv_data));
                        if (r == 0)
                                r = st_err(
                                    mdb_put(t->txn, t->store->dbi[DB_STREAMS], &skey, &sval, 0));
                }
                complaint__v1__event__free_unpacked(ev, NULL);
                if (r < 0) {
                        mdb_cursor_close(cur);
                        return r;
                }
        }
        mdb_cursor_close(cur);
        return rc == MDB_NOTFOUND ? 0 : st_err(rc);
}

/* Completes the clocks of a complaint stopped before schema 3, which recorded neither what
 * stopped them nor how long they ran, though the report counts a clock by both. What stopped
 * one is the change in the complaint's history at the instant it stopped (the last one then
 * that stops a clock of its kind); how long it ran is counted on its own policy's calendar, as
 * clock_stop() counts it. *ret_changed says whether a clock was completed. */
static int
s_backfill_clocks(store_txn_t *t, policies_t *pols, pb_complaint_t *c, bool *ret_changed)
{
        pb_clock_t *clocks[3] = {c->response_clock, c->resolution_clock, c->follow_up_clock};
        pb_history_t **hist = NULL;
        size_t n = 0;
        bool loaded = false, changed = false;
        int r = 0;

        for (size_t i = 0; i < ELEMENTSOF(clocks) && r == 0; i++) {
                pb_clock_t *k = clocks[i];
                const policy_t *pol = NULL;
                int action = 0;

                if (k == NULL || k->running || k->stopped_at_ms <= 0 || k->stopped_by != 0)
                        continue;
                if (!loaded) {
                        r = store_get_history(t, c->id, &hist, &n);
                        if (r < 0)
                                break;
                        loaded = true;
                }
                for (size_t j = n; j-- > 0 && action == 0;)
                        if (hist[j]->at_ms == k->stopped_at_ms &&
                            clock_action_stops(k->kind, hist[j]->action))
                                action = hist[j]->action;
                /* A policy that cannot be read or compiled: clock_stop() counts real time then,
                 * and so does the backfill. */
                r = store_get_policy(t, pols, k->policy_id, &pol);
                if (r == -ENOMEM)
                        break;
                if (r < 0)
                        pol = NULL;
                r = 0;
                clock_backfill(k, pol, action);
                changed = true;
        }
        store_free_history(&hist, n);
        if (r == 0)
                *ret_changed = changed;
        return r;
}

/* Rewrites the record under the cursor, where it is: a put through the cursor itself keeps it
 * valid for the walk that goes on. */
static int
s_rewrite_current(MDB_cursor *cur, const uint8_t *key, size_t key_len, const pb_complaint_t *c)
{
        size_t len = protobuf_c_message_get_packed_size(&c->base);
        _cleanup_free_ uint8_t *buf = malloc(len ? len : 1);
        MDB_val k = {key_len, (void *)(uintptr_t)key}, v = {len, buf};

        if (buf == NULL)
                return -ENOMEM;
        protobuf_c_message_pack(&c->base, buf);
        return st_err(mdb_cursor_put(cur, &k, &v, MDB_CURRENT));
}

/* 2 -> 3: the clocks' reasons and business times where they are missing, then the report's
 * counters, the ledger and the contact index (phone numbers keyed with country code cc), from
 * every complaint. */
static int
s_migrate_2_to_3(store_txn_t *t, const char *cc)
{
        policies_t *pols = NULL;
        MDB_cursor *cur;
        MDB_val k, v;
        int rc = policies_new(&pols);

        if (rc < 0)
                return rc;
        rc = mdb_cursor_open(t->txn, t->store->dbi[DB_COMPLAINTS], &cur);
        if (rc != 0) {
                policies_free(&pols);
                return st_err(rc);
        }
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
                pb_complaint_t *c = complaint__v1__complaint__unpack(NULL, v.mv_size, v.mv_data);
                uint8_t kb[8];
                bool changed = false;
                int r;

                if (c == NULL || k.mv_size != 8) {
                        if (c)
                                complaint__v1__complaint__free_unpacked(c, NULL);
                        rc = EBADMSG;
                        break;
                }
                /* The key points into a page the writes below may move: copy it. */
                memcpy(kb, k.mv_data, 8);
                r = s_backfill_clocks(t, pols, c, &changed);
                if (r == 0 && changed)
                        r = s_rewrite_current(cur, kb, 8, c);
                if (r == 0)
                        r = st_update_report(t, c, NULL);
                if (r == 0)
                        r = st_put_contacts(t, c, cc);
                complaint__v1__complaint__free_unpacked(c, NULL);
                if (r < 0) {
                        mdb_cursor_close(cur);
                        policies_free(&pols);
                        return r;
                }
        }
        mdb_cursor_close(cur);
        policies_free(&pols);
        return rc == MDB_NOTFOUND ? 0 : st_err(rc);
}

/* 3 -> 4: the stored replies move from "requests" (actor first) to "request_ids" (request id
 * first), and the old table is deleted. Random keys (actor, then a random id) put every
 * request of a batch on its own leaf page; ids that begin with their time go side by side. */
static int
s_migrate_3_to_4(store_txn_t *t)
{
        MDB_dbi old;
        MDB_cursor *cur;
        MDB_val k, v;
        int rc = mdb_dbi_open(t->txn, "requests", 0, &old);

        if (rc == MDB_NOTFOUND)
                return 0;
        if (rc != 0)
                return st_err(rc);
        rc = mdb_cursor_open(t->txn, old, &cur);
        if (rc != 0)
                return st_err(rc);
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
                const char *key = k.mv_data, *nul = memchr(key, '\0', k.mv_size);
                uint8_t kb[KEY_MAX];
                size_t a, r;
                MDB_val nk;

                if (nul == NULL || k.mv_size > KEY_MAX) {
                        rc = EBADMSG;
                        break;
                }
                a = (size_t)(nul - key);
                r = k.mv_size - a - 1;
                memcpy(kb, key + a + 1, r);
                kb[r] = '\0';
                memcpy(kb + r + 1, key, a);
                nk = (MDB_val){k.mv_size, kb};
                rc = mdb_put(t->txn, t->store->dbi[DB_REQUESTS], &nk, &v, 0);
                if (rc != 0)
                        break;
        }
        mdb_cursor_close(cur);
        if (rc != MDB_NOTFOUND)
                return st_err(rc);
        return st_err(mdb_drop(t->txn, old, 1));
}

/* 4 -> 5: every stored reply is indexed by when it was written. The older ones did not record
 * it: they count as written now, so they are kept one idempotency window from the upgrade. */
static int
s_migrate_4_to_5(store_txn_t *t)
{
        int64_t now = now_ms();
        MDB_cursor *cur;
        MDB_val k, v;
        int rc = mdb_cursor_open(t->txn, t->store->dbi[DB_REQUESTS], &cur);

        if (rc != 0)
                return st_err(rc);
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
                int r = st_request_time(t, k.mv_data, k.mv_size, now);

                if (r < 0) {
                        mdb_cursor_close(cur);
                        return r;
                }
        }
        mdb_cursor_close(cur);
        return rc == MDB_NOTFOUND ? 0 : st_err(rc);
}

/* The ids of every complaint, for a step that rewrites them (a walk would move under its puts). */
static int
s_all_ids(store_txn_t *t, uint64_t **ret, size_t *ret_n)
{
        uint64_t *ids = NULL;
        size_t n = 0, cap = 0;
        MDB_cursor *cur;
        MDB_val k, v;
        int rc = mdb_cursor_open(t->txn, t->store->dbi[DB_COMPLAINTS], &cur);

        if (rc != 0)
                return st_err(rc);
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
                if (k.mv_size != 8)
                        continue;
                if (n == cap) {
                        uint64_t *p = realloc(ids, (cap = cap ? 2 * cap : 1024) * sizeof(*p));

                        if (p == NULL) {
                                mdb_cursor_close(cur);
                                free(ids);
                                return -ENOMEM;
                        }
                        ids = p;
                }
                ids[n++] = st_get_be64(k.mv_data);
        }
        mdb_cursor_close(cur);
        if (rc != MDB_NOTFOUND) {
                free(ids);
                return st_err(rc);
        }
        *ret = ids;
        *ret_n = n;
        return 0;
}

/* A stored reply without the complainant and the description of its complaint. */
static int
s_strip_reply(store_txn_t *t, MDB_val *k, MDB_val *v, bool *ret_changed)
{
        Complaint__V1__Reply *reply;
        uint8_t *buf;
        size_t len;
        MDB_val nv;
        int rc;

        /* One that does not decode holds nothing to strip, and answers no retry either. */
        *ret_changed = false;
        if (v->mv_size < 8)
                return 0;
        reply = complaint__v1__reply__unpack(NULL, v->mv_size - 8, (uint8_t *)v->mv_data + 8);
        if (reply == NULL)
                return 0;
        if (reply->complaint == NULL ||
            (reply->complaint->complainant == NULL && reply->complaint->description[0] == '\0')) {
                complaint__v1__reply__free_unpacked(reply, NULL);
                return 0;
        }
        if (reply->complaint->complainant)
                complaint__v1__complainant__free_unpacked(reply->complaint->complainant, NULL);
        reply->complaint->complainant = NULL;
        /* Emptied in place: the unpacked message owns the string, and packs it as absent (the
         * empty default is read-only, hence the test). */
        if (reply->complaint->description[0] != '\0')
                reply->complaint->description[0] = '\0';
        len = protobuf_c_message_get_packed_size(&reply->base);
        buf = malloc(8 + len);
        if (buf == NULL) {
                complaint__v1__reply__free_unpacked(reply, NULL);
                return -ENOMEM;
        }
        memcpy(buf, v->mv_data, 8);
        protobuf_c_message_pack(&reply->base, buf + 8);
        complaint__v1__reply__free_unpacked(reply, NULL);
        nv = (MDB_val){8 + len, buf};
        rc = mdb_put(t->txn, t->store->dbi[DB_REQUESTS], k, &nv, 0);
        free(buf);
        *ret_changed = true;
        return st_err(rc);
}

/* 5 -> 6: personal data. Every complainant is sealed in its record, closed and dismissed
 * complaints get the time they ended and enter the retention index, and the contact index is
 * rebuilt with keyed hashes. */
static int
s_migrate_5_to_6(store_txn_t *t, const char *cc)
{
        uint64_t *ids = NULL;
        size_t n = 0;
        int r = s_all_ids(t, &ids, &n);

        for (size_t i = 0; i < n && r == 0; i++) {
                pb_complaint_t *c = NULL;

                if ((r = store_get_complaint(t, ids[i], &c)) < 0)
                        break;
                if (c->status == ST_CLOSED)
                        c->ended_at_ms = c->follow_up && c->follow_up->closed_at_ms
                                             ? c->follow_up->closed_at_ms
                                             : c->updated_at_ms;
                else if (c->status == ST_DISMISSED)
                        c->ended_at_ms = c->updated_at_ms;
                /* Sealed by the put; the retention entry is new (old: as if it had none). */
                r = st_put_record(t, c);
                if (r == 0)
                        r = st_update_retain(t, c, NULL);
                complaint__v1__complaint__free_unpacked(c, NULL);
        }
        free(ids);
        if (r == 0)
                r = st_rekey_contacts(t, cc);
        /* The records' old bytes, complainants in the clear, are in free pages now. */
        if (r == 0)
                r = st_meta_put_u64(t, META_REWRITE, 1);
        return r;
}

/* 6 -> 7: stored replies lose their complainants and descriptions (a replay takes both from
 * the record as it is then, so that an erasure reaches them). */
static int
s_migrate_6_to_7(store_txn_t *t)
{
        MDB_cursor *cur;
        MDB_val k, v;
        int rc, r = 0;

        /* The replies' old bytes will be in free pages. */
        if ((r = st_meta_put_u64(t, META_REWRITE, 1)) < 0)
                return r;
        rc = mdb_cursor_open(t->txn, t->store->dbi[DB_REQUESTS], &cur);
        if (rc != 0)
                return st_err(rc);
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
                uint8_t kb[KEY_MAX];
                MDB_val key = {k.mv_size, kb};
                bool changed;

                if (k.mv_size > KEY_MAX)
                        continue;
                memcpy(kb, k.mv_data, k.mv_size);
                r = s_strip_reply(t, &key, &v, &changed);
                if (r < 0)
                        break;
                if (changed) {
                        /* Find the walk's place again after the put. */
                        rc = mdb_cursor_get(cur, &key, &v, MDB_SET);
                        if (rc != 0)
                                break;
                }
        }
        mdb_cursor_close(cur);
        if (r < 0)
                return r;
        return rc == MDB_NOTFOUND ? 0 : st_err(rc);
}

/* Brings a store written by an older daemon to the current layout, step by step. */
int
st_migrate(store_txn_t *t, uint32_t from, const char *cc)
{
        int r = 0;

        t->store->migrated_from = from;
        if (from < 2)
                r = s_migrate_1_to_2(t);
        if (r == 0 && from < 3)
                r = s_migrate_2_to_3(t, cc);
        if (r == 0 && from < 4)
                r = s_migrate_3_to_4(t);
        if (r == 0 && from < 5)
                r = s_migrate_4_to_5(t);
        if (r == 0 && from < 6)
                r = s_migrate_5_to_6(t, cc);
        if (r == 0 && from < 7)
                r = s_migrate_6_to_7(t);
        /* 7 -> 8: the counters were kept by UTC day; recorded so, a daemon whose centre keeps
         * another zone rebuilds them in steps (store_set_stats_zone()). */
        if (r == 0 && from < 8)
                r = st_meta_put_str(t, META_STATS_ZONE, "UTC");
        return r;
}
