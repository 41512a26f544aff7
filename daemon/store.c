/* store.c: the LMDB layout behind store.h.
 *
 * Databases (keys big-endian so that byte order is numeric order):
 *   meta        "schema" -> u32, "next_id" -> u64, "count/<status>" -> u64,
 *               "country_code" -> digits ("" for none) the contact index is keyed with
 *   complaints  id u64 -> Complaint
 *   history     id u64 . seq u32 -> HistoryEntry
 *   events      seq u64 -> Event
 *   request_ids request_id \0 actor -> hash u64 . Reply   (schema 3 and before: "requests",
 *               keyed actor \0 request_id; ids that begin with a time, as libcomplaint's
 *               do, then land side by side at the end of the tree)
 *   by_status   status u8 . id u64 -> ""
 *   by_dept     department \0 . id u64 -> ""
 *   by_category category \0 . id u64 -> ""
 *   overdue     id u64 -> level u32           complaints escalated on a running clock
 *   deadlines   due i64 . id u64 . clock u8 . type u8 -> ""
 *   policies    id u64 -> Policy
 *   streams     stream \0 . offset u64 -> seq u64   each department's stream of events
 *   stats       day u32 . stats key -> row           the report's counters (stats.h), by the
 *                                                    UTC day of creation
 *   ledger      complete u8 . created i64 . id u64 -> ""   every complaint by creation time,
 *                                                    those not closed (complete 0) first
 *   contacts    contact key \0 . created i64 . id u64 -> ""   complaints by phone and e-mail
 */
#include <assert.h>
#include <stdarg.h>
#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "clock.h"
#include "contact.h"
#include "log.h"
#include "macro.h"
#include "stats.h"
#include "store.h"

#define INITIAL_MAP (64ull << 20)
#define KEY_MAX 511 /* LMDB's default maximum key size */

enum {
        DB_META,
        DB_COMPLAINTS,
        DB_HISTORY,
        DB_EVENTS,
        DB_REQUESTS,
        DB_BY_STATUS,
        DB_BY_DEPT,
        DB_BY_CATEGORY,
        DB_OVERDUE,
        DB_DEADLINES,
        DB_POLICIES,
        DB_STREAMS,
        DB_STATS,
        DB_LEDGER,
        DB_CONTACTS,
        DB_COUNT
};

static const char *const db_names[DB_COUNT] = {
    "meta",      "complaints", "history",     "events",  "request_ids",
    "by_status", "by_dept",    "by_category", "overdue", "deadlines",
    "policies",  "streams",    "stats",       "ledger",  "contacts",
};

#define META_COUNTRY "country_code"
#define COUNTRY_CODE_MAX 15 /* digits: E.164 numbers are at most 15 */

struct store {
        MDB_env *env;
        MDB_dbi dbi[DB_COUNT];
        uint64_t map_max;
        uint32_t schema;
        uint32_t migrated_from;
        char *country_code; /* the contact index's ("" none); NULL: not recorded */
        bool rekeyed;       /* the open rebuilt the contact index */
        char *rekeyed_from; /* the code it had before (NULL: none recorded) */
};

static size_t s_index_key(uint8_t *buf, const char *prefix, uint64_t id);

struct store_txn {
        store_t *store;
        MDB_txn *txn;
        store_txn_t *root;        /* the top-level transaction (itself when it is one) */
        stats_pending_t *pending; /* root only: counter changes written at commit */
        size_t mark;              /* nested only: where its counter changes begin */
};

static int s_stats_flush(store_txn_t *t);

/* LMDB's own codes become errno values here, at the boundary. */
static int
s_err(int rc)
{
        switch (rc) {
        case MDB_SUCCESS:
                return 0;
        case MDB_NOTFOUND:
                return -ENOENT;
        case MDB_KEYEXIST:
                return -EEXIST;
        case MDB_MAP_FULL:
        case MDB_TXN_FULL:
        case ENOSPC:
                return -ENOSPC;
        case MDB_VERSION_MISMATCH:
        case MDB_INVALID:
                return -EPROTONOSUPPORT;
        case MDB_MAP_RESIZED:
                return -EAGAIN;
        default:
                return rc > 0 ? -rc : -EIO;
        }
}

static void
s_put_be64(uint8_t *p, uint64_t v)
{
        for (int i = 7; i >= 0; i--, v >>= 8)
                p[i] = (uint8_t)v;
}

static uint64_t
s_get_be64(const uint8_t *p)
{
        uint64_t v = 0;

        for (int i = 0; i < 8; i++)
                v = v << 8 | p[i];
        return v;
}

static void
s_put_be32(uint8_t *p, uint32_t v)
{
        for (int i = 3; i >= 0; i--, v >>= 8)
                p[i] = (uint8_t)v;
}

static uint32_t
s_get_be32(const uint8_t *p)
{
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int
s_meta_get_u64(store_txn_t *t, const char *key, uint64_t *ret)
{
        MDB_val k = {strlen(key), (void *)(uintptr_t)key}, v;
        int rc = mdb_get(t->txn, t->store->dbi[DB_META], &k, &v);

        if (rc == MDB_NOTFOUND) {
                *ret = 0;
                return 0;
        }
        if (rc != 0)
                return s_err(rc);
        if (v.mv_size != 8)
                return -EBADMSG;
        *ret = s_get_be64(v.mv_data);
        return 0;
}

static int
s_meta_put_u64(store_txn_t *t, const char *key, uint64_t value)
{
        uint8_t buf[8];
        MDB_val k = {strlen(key), (void *)(uintptr_t)key}, v = {8, buf};

        s_put_be64(buf, value);
        return s_err(mdb_put(t->txn, t->store->dbi[DB_META], &k, &v, 0));
}

/* A copy of the string under key in the meta table; -ENOENT when there is none. */
static int
s_meta_get_str(store_txn_t *t, const char *key, char **ret)
{
        MDB_val k = {strlen(key), (void *)(uintptr_t)key}, v;
        int rc = mdb_get(t->txn, t->store->dbi[DB_META], &k, &v);
        char *copy;

        if (rc != 0)
                return s_err(rc);
        copy = malloc(v.mv_size + 1);
        if (copy == NULL)
                return -ENOMEM;
        memcpy(copy, v.mv_data, v.mv_size);
        copy[v.mv_size] = '\0';
        *ret = copy;
        return 0;
}

static int
s_meta_put_str(store_txn_t *t, const char *key, const char *value)
{
        MDB_val k = {strlen(key), (void *)(uintptr_t)key};
        MDB_val v = {strlen(value), (void *)(uintptr_t)value};

        return s_err(mdb_put(t->txn, t->store->dbi[DB_META], &k, &v, 0));
}

/* Packs a protobuf message straight into the map with MDB_RESERVE. */
static int
s_put_message(store_txn_t *t, int db, MDB_val *key, const ProtobufCMessage *m, unsigned flags)
{
        MDB_val v = {protobuf_c_message_get_packed_size(m), NULL};
        int rc = mdb_put(t->txn, t->store->dbi[db], key, &v, flags | MDB_RESERVE);

        if (rc != 0)
                return s_err(rc);
        protobuf_c_message_pack(m, v.mv_data);
        return 0;
}

static int
s_get_message(store_txn_t *t, int db, MDB_val *key, const ProtobufCMessageDescriptor *d,
              ProtobufCMessage **ret)
{
        MDB_val v;
        ProtobufCMessage *m;
        int rc = mdb_get(t->txn, t->store->dbi[db], key, &v);

        if (rc != 0)
                return s_err(rc);
        m = protobuf_c_message_unpack(d, NULL, v.mv_size, v.mv_data);
        if (m == NULL)
                return -EBADMSG;
        *ret = m;
        return 0;
}

int
store_begin(store_t *s, bool write, store_txn_t **ret)
{
        store_txn_t *t = calloc(1, sizeof(*t));
        int rc;

        if (t == NULL)
                return -ENOMEM;
        t->store = s;
        t->root = t;
        rc = mdb_txn_begin(s->env, NULL, write ? 0 : MDB_RDONLY, &t->txn);
        if (rc != 0) {
                free(t);
                return s_err(rc);
        }
        *ret = t;
        return 0;
}

int
store_begin_nested(store_txn_t *parent, store_txn_t **ret)
{
        store_txn_t *t = calloc(1, sizeof(*t));
        int rc;

        if (t == NULL)
                return -ENOMEM;
        t->store = parent->store;
        t->root = parent->root;
        t->mark = stats_pending_mark(t->root->pending);
        rc = mdb_txn_begin(parent->store->env, parent->txn, 0, &t->txn);
        if (rc != 0) {
                free(t);
                return s_err(rc);
        }
        *ret = t;
        return 0;
}

int
store_commit(store_txn_t **tp)
{
        store_txn_t *t = *tp;
        int r = 0;

        if (t->root == t) {
                r = s_stats_flush(t);
                stats_pending_free(&t->pending);
        }
        if (r < 0) {
                mdb_txn_abort(t->txn);
        } else {
                r = s_err(mdb_txn_commit(t->txn));
                /* A nested transaction's counter changes are its parent's now, or gone with
                 * it. */
                if (t->root != t && r == 0)
                        stats_pending_forget(t->root->pending, t->mark);
                else if (t->root != t)
                        stats_pending_rollback(t->root->pending, t->mark);
        }
        free(t);
        *tp = NULL;
        return r;
}

void
store_abort(store_txn_t **tp)
{
        store_txn_t *t = *tp;

        if (t == NULL)
                return;
        if (t->root == t)
                stats_pending_free(&t->pending);
        else
                stats_pending_rollback(t->root->pending, t->mark);
        mdb_txn_abort(t->txn);
        free(t);
        *tp = NULL;
}

/* 1 -> 2: number every stored event in its department's stream, in seq order, and index the
 * streams. */
static int
s_migrate_1_to_2(store_txn_t *t)
{
        MDB_cursor *cur;
        MDB_val k, v;
        int rc = mdb_cursor_open(t->txn, t->store->dbi[DB_EVENTS], &cur);

        if (rc != 0)
                return s_err(rc);
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
                        r = s_put_message(t, DB_EVENTS, &key, &ev->base, 0);
                        ev->stream = old;
                        skey = (MDB_val){s_index_key(sk, stream, head + 1), sk};
                        s_put_be64(vb, s_get_be64(key.mv_data));
                        if (r == 0)
                                r = s_err(
                                    mdb_put(t->txn, t->store->dbi[DB_STREAMS], &skey, &sval, 0));
                }
                complaint__v1__event__free_unpacked(ev, NULL);
                if (r < 0) {
                        mdb_cursor_close(cur);
                        return r;
                }
        }
        mdb_cursor_close(cur);
        return rc == MDB_NOTFOUND ? 0 : s_err(rc);
}

static int s_update_report(store_txn_t *t, const pb_complaint_t *c, const pb_complaint_t *old);

/* The contact keys (contact.h) a complaint is indexed under: its complainant's phone, keyed
 * with country code cc, and e-mail, each when it links anything. As service.c indexes them. */
static size_t
s_contact_keys(const pb_complaint_t *c, const char *cc, char keys[2][CONTACT_KEY_MAX])
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

static int
s_put_contacts(store_txn_t *t, const pb_complaint_t *c, const char *cc)
{
        char keys[2][CONTACT_KEY_MAX];
        size_t n = s_contact_keys(c, cc, keys);
        int r = 0;

        for (size_t i = 0; i < n && r == 0; i++)
                r = store_put_contact(t, keys[i], c->created_at_ms, c->id);
        return r;
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
        return s_err(mdb_cursor_put(cur, &k, &v, MDB_CURRENT));
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
                return s_err(rc);
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
                        r = s_update_report(t, c, NULL);
                if (r == 0)
                        r = s_put_contacts(t, c, cc);
                complaint__v1__complaint__free_unpacked(c, NULL);
                if (r < 0) {
                        mdb_cursor_close(cur);
                        policies_free(&pols);
                        return r;
                }
        }
        mdb_cursor_close(cur);
        policies_free(&pols);
        return rc == MDB_NOTFOUND ? 0 : s_err(rc);
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
                return s_err(rc);
        rc = mdb_cursor_open(t->txn, old, &cur);
        if (rc != 0)
                return s_err(rc);
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
                return s_err(rc);
        return s_err(mdb_drop(t->txn, old, 1));
}

/* Brings a store written by an older daemon to the current layout, step by step. */
static int
s_migrate(store_txn_t *t, uint32_t from, const char *cc)
{
        int r = 0;

        t->store->migrated_from = from;
        if (from < 2)
                r = s_migrate_1_to_2(t);
        if (r == 0 && from < 3)
                r = s_migrate_2_to_3(t, cc);
        if (r == 0 && from < 4)
                r = s_migrate_3_to_4(t);
        return r;
}

/* Empties the contact index and fills it again from every complaint, keyed with cc. */
static int
s_rekey_contacts(store_txn_t *t, const char *cc)
{
        MDB_cursor *cur;
        MDB_val k, v;
        int rc = mdb_drop(t->txn, t->store->dbi[DB_CONTACTS], 0);

        if (rc != 0)
                return s_err(rc);
        rc = mdb_cursor_open(t->txn, t->store->dbi[DB_COMPLAINTS], &cur);
        if (rc != 0)
                return s_err(rc);
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
                pb_complaint_t *c = complaint__v1__complaint__unpack(NULL, v.mv_size, v.mv_data);
                int r;

                if (c == NULL) {
                        rc = EBADMSG;
                        break;
                }
                r = s_put_contacts(t, c, cc);
                complaint__v1__complaint__free_unpacked(c, NULL);
                if (r < 0) {
                        mdb_cursor_close(cur);
                        return r;
                }
        }
        mdb_cursor_close(cur);
        if (rc != MDB_NOTFOUND)
                return s_err(rc);
        return s_meta_put_str(t, META_COUNTRY, cc);
}

/* Runs fn in a write transaction of its own and commits it. A map that fills up is grown (up
 * to map_max) and fn run again from the start in a new transaction: a migration or a rebuild
 * must not fail a start because the map was sized for the data before it. */
static int
s_write_growing(store_t *s, int (*fn)(store_txn_t *t, void *arg), void *arg)
{
        for (;;) {
                store_txn_t *t = NULL;
                int r = store_begin(s, true, &t);

                if (r == 0) {
                        r = fn(t, arg);
                        if (r == 0)
                                r = store_commit(&t);
                        else
                                store_abort(&t);
                }
                if (r != -ENOSPC)
                        return r;
                if (store_grow(s) < 0)
                        return -ENOSPC;
        }
}

static bool
s_country_code_valid(const char *cc)
{
        return cc == NULL ||
               (strlen(cc) <= COUNTRY_CODE_MAX && strspn(cc, "0123456789") == strlen(cc));
}

/* Whether the contact index keyed with recorded (NULL: not recorded) is keyed with cc. */
static bool
s_same_country_code(const char *recorded, const char *cc)
{
        return recorded != NULL && strcmp(recorded, cc ? cc : "") == 0;
}

struct open_args {
        const char *cc; /* the code to key contacts with: "" none */
        bool keep;      /* keep the recorded code instead */
        /* What the transaction found and did, valid after its commit. */
        char *code; /* the code in force */
        bool rekeyed;
        char *was;
};

static void
s_open_args_reset(struct open_args *a)
{
        free(a->code);
        free(a->was);
        a->code = NULL;
        a->was = NULL;
        a->rekeyed = false;
}

/* The transaction of an open: the tables, the schema (a new store's, or a migration to the
 * current one), and the contact index's country code. */
static int
s_open_txn(store_txn_t *t, void *arg)
{
        struct open_args *a = arg;
        store_t *s = t->store;
        uint8_t buf[4];
        MDB_val k = {6, (void *)"schema"}, v;
        const char *code = a->keep ? "" : a->cc;
        int rc, r = 0;

        s_open_args_reset(a);
        s->migrated_from = 0;
        for (int i = 0; i < DB_COUNT; i++) {
                rc = mdb_dbi_open(t->txn, db_names[i], MDB_CREATE, &s->dbi[i]);
                if (rc != 0)
                        return s_err(rc);
        }
        rc = mdb_get(t->txn, s->dbi[DB_META], &k, &v);
        if (rc == MDB_NOTFOUND) {
                s->schema = STORE_SCHEMA_VERSION;
                r = s_meta_put_str(t, META_COUNTRY, code);
        } else if (rc != 0) {
                return s_err(rc);
        } else if (v.mv_size != 4) {
                return -EBADMSG;
        } else {
                s->schema = s_get_be32(v.mv_data);
                if (s->schema > STORE_SCHEMA_VERSION)
                        return -EPROTONOSUPPORT;
                if (s->schema < STORE_SCHEMA_VERSION) {
                        r = s_migrate(t, s->schema, code);
                        if (r == 0)
                                r = s_meta_put_str(t, META_COUNTRY, code);
                        s->schema = STORE_SCHEMA_VERSION;
                } else {
                        r = s_meta_get_str(t, META_COUNTRY, &a->code);
                        if (r == -ENOENT)
                                r = 0;
                        if (r == 0 && !a->keep && !s_same_country_code(a->code, code)) {
                                a->was = a->code;
                                a->code = NULL;
                                a->rekeyed = true;
                                r = s_rekey_contacts(t, code);
                        }
                        if (r == 0 && !a->rekeyed)
                                return 0;
                }
        }
        if (r < 0)
                return r;
        s_put_be32(buf, STORE_SCHEMA_VERSION);
        v = (MDB_val){4, buf};
        rc = mdb_put(t->txn, s->dbi[DB_META], &k, &v, 0);
        if (rc != 0)
                return s_err(rc);
        a->code = strdup(code);
        return a->code ? 0 : -ENOMEM;
}

static int
s_open(const char *dir, uint64_t map_max, const char *cc, bool keep, store_t **ret)
{
        store_t *s;
        struct open_args a = {.cc = cc ? cc : "", .keep = keep};
        MDB_envinfo info;
        int rc, dead;

        if (!s_country_code_valid(cc))
                return -EINVAL;
        s = calloc(1, sizeof(*s));
        if (s == NULL)
                return -ENOMEM;
        s->map_max = map_max;
        if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
                rc = -errno;
                free(s);
                return rc;
        }
        rc = mdb_env_create(&s->env);
        if (rc != 0) {
                free(s);
                return s_err(rc);
        }
        mdb_env_set_maxdbs(s->env, DB_COUNT + 1); /* + "requests", migrated from schema 3 */
        /* MDB_NOTLS lets a backup or a reader live beside the writer on the same thread. The
         * defaults stay: full sync on commit, no WRITEMAP (a full disk must be an error, not a
         * SIGBUS). */
        rc = mdb_env_open(s->env, dir, MDB_NOTLS, 0640);
        if (rc == 0) {
                mdb_env_info(s->env, &info);
                if (info.me_mapsize < INITIAL_MAP && INITIAL_MAP <= map_max)
                        rc = mdb_env_set_mapsize(s->env, INITIAL_MAP);
        }
        if (rc == 0)
                rc = mdb_reader_check(s->env, &dead);
        if (rc != 0) {
                mdb_env_close(s->env);
                free(s);
                return s_err(rc);
        }
        rc = s_write_growing(s, s_open_txn, &a);
        if (rc < 0) {
                s_open_args_reset(&a);
                mdb_env_close(s->env);
                free(s);
                return rc;
        }
        s->country_code = a.code;
        s->rekeyed = a.rekeyed;
        s->rekeyed_from = a.was;
        *ret = s;
        return 0;
}

int
store_open_country(const char *dir, uint64_t map_max, const char *country_code, store_t **ret)
{
        return s_open(dir, map_max, country_code, false, ret);
}

int
store_open(const char *dir, uint64_t map_max, store_t **ret)
{
        return s_open(dir, map_max, NULL, true, ret);
}

static int
s_rekey_txn(store_txn_t *t, void *arg)
{
        return s_rekey_contacts(t, arg);
}

int
store_set_country_code(store_t *s, const char *country_code, bool *ret_rebuilt)
{
        const char *cc = country_code ? country_code : "";
        char *copy;
        int r;

        if (!s_country_code_valid(country_code))
                return -EINVAL;
        if (s_same_country_code(s->country_code, cc)) {
                *ret_rebuilt = false;
                return 0;
        }
        copy = strdup(cc);
        if (copy == NULL)
                return -ENOMEM;
        r = s_write_growing(s, s_rekey_txn, (void *)(uintptr_t)cc);
        if (r < 0) {
                free(copy);
                return r;
        }
        free(s->country_code);
        s->country_code = copy;
        *ret_rebuilt = true;
        return 0;
}

const char *
store_country_code(store_t *s)
{
        return s->country_code;
}

bool
store_contacts_rekeyed(store_t *s, const char **ret_was)
{
        if (s->rekeyed && ret_was)
                *ret_was = s->rekeyed_from;
        return s->rekeyed;
}

void
store_close(store_t **sp)
{
        if (*sp == NULL)
                return;
        mdb_env_close((*sp)->env);
        free((*sp)->country_code);
        free((*sp)->rekeyed_from);
        free(*sp);
        *sp = NULL;
}

int
store_grow(store_t *s)
{
        MDB_envinfo info;
        uint64_t size;

        mdb_env_info(s->env, &info);
        if (info.me_mapsize >= s->map_max)
                return -ENOSPC;
        size = info.me_mapsize * 2;
        if (size > s->map_max)
                size = s->map_max;
        return s_err(mdb_env_set_mapsize(s->env, size));
}

void
store_usage(store_t *s, uint64_t *ret_used, uint64_t *ret_map)
{
        MDB_envinfo info;
        MDB_stat st;

        mdb_env_info(s->env, &info);
        mdb_env_stat(s->env, &st);
        *ret_used = (uint64_t)(info.me_last_pgno + 1) * st.ms_psize;
        *ret_map = info.me_mapsize;
}

uint32_t
store_schema(store_t *s)
{
        return s->schema;
}

uint32_t
store_schema_migrated_from(store_t *s)
{
        return s->migrated_from ? s->migrated_from : s->schema;
}

int
store_backup(store_t *s, const char *path)
{
        char data[4096];
        struct stat st;

        if (mkdir(path, 0750) < 0 && errno != EEXIST)
                return -errno;
        snprintf(data, sizeof(data), "%s/data.mdb", path);
        if (stat(data, &st) == 0)
                return -EEXIST;
        /* A read snapshot, written compacted: free pages are left out. */
        return s_err(mdb_env_copy2(s->env, path, MDB_CP_COMPACT));
}

int
store_get_complaint(store_txn_t *t, uint64_t id, pb_complaint_t **ret)
{
        uint8_t kb[8];
        MDB_val k = {8, kb};

        s_put_be64(kb, id);
        return s_get_message(t, DB_COMPLAINTS, &k, &complaint__v1__complaint__descriptor,
                             (ProtobufCMessage **)ret);
}

static size_t
s_index_key(uint8_t *buf, const char *prefix, uint64_t id)
{
        size_t n = strlen(prefix);

        memcpy(buf, prefix, n);
        buf[n] = '\0';
        s_put_be64(buf + n + 1, id);
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
        k = (MDB_val){s_index_key(kb, prefix, id), kb};
        rc = add ? mdb_put(t->txn, t->store->dbi[db], &k, &v, 0)
                 : mdb_del(t->txn, t->store->dbi[db], &k, NULL);
        return rc == MDB_NOTFOUND ? 0 : s_err(rc);
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
        s_put_be64(kb + 1, id);
        rc = add ? mdb_put(t->txn, t->store->dbi[DB_BY_STATUS], &k, &v, 0)
                 : mdb_del(t->txn, t->store->dbi[DB_BY_STATUS], &k, NULL);
        if (rc != 0)
                return s_err(rc);
        snprintf(key, sizeof(key), "count/%d", status);
        rc = s_meta_get_u64(t, key, &count);
        if (rc < 0)
                return rc;
        return s_meta_put_u64(t, key, add ? count + 1 : count - 1);
}

/* The deadline entries a complaint's clocks hold: at most a warning and a breach each. */
static size_t
s_clock_deadlines(const pb_complaint_t *c, struct store_deadline *out)
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

static size_t
s_deadline_key(uint8_t *kb, const struct store_deadline *d)
{
        /* Deadlines are after 1970: the signed time sorts as unsigned. */
        s_put_be64(kb, (uint64_t)(d->due_ms < 0 ? 0 : d->due_ms));
        s_put_be64(kb + 8, d->id);
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

static int
s_update_deadlines(store_txn_t *t, const pb_complaint_t *c, const pb_complaint_t *old)
{
        struct store_deadline was[6], now[6];
        size_t n_was = s_clock_deadlines(old, was), n_now = s_clock_deadlines(c, now);
        uint8_t kb[18];
        MDB_val k, v = {0, NULL};
        int rc;

        for (size_t i = 0; i < n_was; i++) {
                bool kept = false;

                for (size_t j = 0; j < n_now; j++)
                        kept = kept || s_same_deadline(&was[i], &now[j]);
                if (kept)
                        continue;
                k = (MDB_val){s_deadline_key(kb, &was[i]), kb};
                rc = mdb_del(t->txn, t->store->dbi[DB_DEADLINES], &k, NULL);
                if (rc != 0 && rc != MDB_NOTFOUND)
                        return s_err(rc);
        }
        for (size_t j = 0; j < n_now; j++) {
                k = (MDB_val){s_deadline_key(kb, &now[j]), kb};
                rc = mdb_put(t->txn, t->store->dbi[DB_DEADLINES], &k, &v, 0);
                if (rc != 0)
                        return s_err(rc);
        }
        return 0;
}

static int
s_update_overdue(store_txn_t *t, const pb_complaint_t *c, const pb_complaint_t *old)
{
        uint8_t kb[8], vb[4];
        MDB_val k = {8, kb}, v = {4, vb};
        int rc;

        if (old && old->level == c->level)
                return 0;
        s_put_be64(kb, c->id);
        if (c->level == 0) {
                rc = mdb_del(t->txn, t->store->dbi[DB_OVERDUE], &k, NULL);
                return rc == MDB_NOTFOUND ? 0 : s_err(rc);
        }
        s_put_be32(vb, c->level);
        return s_err(mdb_put(t->txn, t->store->dbi[DB_OVERDUE], &k, &v, 0));
}

int
store_first_deadline(store_txn_t *t, struct store_deadline *ret)
{
        MDB_cursor *cur;
        MDB_val k, v;
        const uint8_t *p;
        int rc = mdb_cursor_open(t->txn, t->store->dbi[DB_DEADLINES], &cur);

        if (rc != 0)
                return s_err(rc);
        rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
        mdb_cursor_close(cur);
        if (rc != 0)
                return s_err(rc);
        if (k.mv_size != 18)
                return -EBADMSG;
        p = k.mv_data;
        *ret = (struct store_deadline){(int64_t)s_get_be64(p), s_get_be64(p + 8), p[16], p[17]};
        return 0;
}

int
store_delete_deadline(store_txn_t *t, const struct store_deadline *d)
{
        uint8_t kb[18];
        MDB_val k = {s_deadline_key(kb, d), kb};

        return s_err(mdb_del(t->txn, t->store->dbi[DB_DEADLINES], &k, NULL));
}

int
store_count_overdue(store_txn_t *t, uint64_t *ret)
{
        MDB_stat st;
        int rc = mdb_stat(t->txn, t->store->dbi[DB_OVERDUE], &st);

        if (rc != 0)
                return s_err(rc);
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
        s_put_be64(kb, id);
        rc = mdb_get(t->txn, t->store->dbi[DB_POLICIES], &k, &v);
        if (rc != 0)
                return s_err(rc);
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
        s_put_be64(kb, policies_id(buf, len));
        v = (MDB_val){len, buf};
        /* Stored with the clock that first uses it, in the same transaction. Look first: a
         * put, even a refused one, would dirty pages. Policies are content-addressed and never
         * change, so one stored already is this one. */
        rc = mdb_get(t->txn, t->store->dbi[DB_POLICIES], &k, &existing);
        if (rc == MDB_NOTFOUND)
                rc = mdb_put(t->txn, t->store->dbi[DB_POLICIES], &k, &v, MDB_NOOVERWRITE);
        if (rc != 0)
                return s_err(rc);
        return policies_add(cache, buf, len, ret);
}

int
store_put_complaint(store_txn_t *t, const pb_complaint_t *c, const pb_complaint_t *old)
{
        uint8_t kb[8];
        MDB_val k = {8, kb};
        int rc;

        s_put_be64(kb, c->id);
        rc = s_put_message(t, DB_COMPLAINTS, &k, &c->base, 0);
        if (rc < 0)
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
        if ((rc = s_update_overdue(t, c, old)) < 0)
                return rc;
        if ((rc = s_update_report(t, c, old)) < 0)
                return rc;
        return s_update_deadlines(t, c, old);
}

int
store_next_complaint_id(store_txn_t *t, uint64_t *ret)
{
        uint64_t last;
        int rc = s_meta_get_u64(t, "next_id", &last);

        if (rc < 0)
                return rc;
        rc = s_meta_put_u64(t, "next_id", last + 1);
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

        s_put_be64(kb, h->complaint_id);
        s_put_be32(kb + 8, h->seq);
        return s_put_message(t, DB_HISTORY, &k, &h->base, MDB_NOOVERWRITE);
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
store_get_history(store_txn_t *t, uint64_t id, pb_history_t ***ret, size_t *ret_n)
{
        uint8_t kb[12] = {0};
        MDB_val k = {12, kb}, v;
        MDB_cursor *cur;
        pb_history_t **list = NULL;
        size_t n = 0, cap = 0;
        int rc;

        s_put_be64(kb, id);
        rc = mdb_cursor_open(t->txn, t->store->dbi[DB_HISTORY], &cur);
        if (rc != 0)
                return s_err(rc);
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
                pb_history_t *h;

                if (k.mv_size != 12 || s_get_be64(k.mv_data) != id)
                        break;
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
        }
        mdb_cursor_close(cur);
        if (rc != 0 && rc != MDB_NOTFOUND) {
                store_free_history(&list, n);
                return s_err(rc);
        }
        *ret = list;
        *ret_n = n;
        return 0;
}

int
store_last_event_seq(store_txn_t *t, uint64_t *ret)
{
        MDB_cursor *cur;
        MDB_val k, v;
        int rc = mdb_cursor_open(t->txn, t->store->dbi[DB_EVENTS], &cur);

        if (rc != 0)
                return s_err(rc);
        rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
        mdb_cursor_close(cur);
        if (rc == MDB_NOTFOUND) {
                *ret = 0;
                return 0;
        }
        if (rc != 0)
                return s_err(rc);
        *ret = s_get_be64(k.mv_data);
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
        s_put_be64(kb, ev->seq);
        rc = s_put_message(t, DB_EVENTS, &k, &ev->base, MDB_APPEND);
        if (rc < 0 || !ev->stream[0])
                return rc;
        skey = (MDB_val){s_index_key(sk, ev->stream, ev->offset), sk};
        s_put_be64(vb, ev->seq);
        return s_err(mdb_put(t->txn, t->store->dbi[DB_STREAMS], &skey, &sval, 0));
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
                return s_err(rc);
        k = (MDB_val){s_index_key(kb, stream, first ? 0 : UINT64_MAX), kb};
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        if (!first)
                rc = rc == 0 ? mdb_cursor_get(cur, &k, &v, MDB_PREV)
                             : mdb_cursor_get(cur, &k, &v, MDB_LAST);
        *ret = 0;
        if (rc == 0 && k.mv_size == plen + 8 && memcmp(k.mv_data, stream, plen) == 0)
                *ret = s_get_be64((uint8_t *)k.mv_data + plen);
        mdb_cursor_close(cur);
        return rc == 0 || rc == MDB_NOTFOUND ? 0 : s_err(rc);
}

static int
s_global_edge(store_txn_t *t, bool first, uint64_t *ret)
{
        MDB_cursor *cur;
        MDB_val k, v;
        int rc = mdb_cursor_open(t->txn, t->store->dbi[DB_EVENTS], &cur);

        if (rc != 0)
                return s_err(rc);
        rc = mdb_cursor_get(cur, &k, &v, first ? MDB_FIRST : MDB_LAST);
        *ret = rc == 0 ? s_get_be64(k.mv_data) : 0;
        mdb_cursor_close(cur);
        return rc == 0 || rc == MDB_NOTFOUND ? 0 : s_err(rc);
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
             size_t n_prefixes, uint32_t limit, uint32_t scan_max, pb_event_t ***ret, size_t *ret_n,
             uint64_t *ret_next)
{
        uint8_t kb[KEY_MAX];
        size_t plen = strlen(stream) + 1, n = 0;
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
                return s_err(rc);
        }
        if (global) {
                s_put_be64(kb, after + 1);
                k = (MDB_val){8, kb};
        } else {
                k = (MDB_val){s_index_key(kb, stream, after + 1), kb};
        }
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 && n < limit && scan_max > 0;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT), scan_max--) {
                pb_event_t *ev;
                uint64_t offset;

                if (global) {
                        offset = s_get_be64(k.mv_data);
                        ev = complaint__v1__event__unpack(NULL, v.mv_size, v.mv_data);
                } else {
                        MDB_val ek = {8, v.mv_data}, ev_v;

                        if (k.mv_size != plen + 8 || memcmp(k.mv_data, stream, plen) != 0)
                                break;
                        offset = s_get_be64((uint8_t *)k.mv_data + plen);
                        rc = mdb_get(t->txn, t->store->dbi[DB_EVENTS], &ek, &ev_v);
                        if (rc != 0)
                                break;
                        ev = complaint__v1__event__unpack(NULL, ev_v.mv_size, ev_v.mv_data);
                }
                if (ev == NULL) {
                        rc = EBADMSG;
                        break;
                }
                next = offset;
                if (s_topic_matches(ev->topic, prefixes, n_prefixes))
                        list[n++] = ev;
                else
                        complaint__v1__event__free_unpacked(ev, NULL);
        }
        mdb_cursor_close(cur);
        if (rc != 0 && rc != MDB_NOTFOUND) {
                store_free_events(&list, n);
                return s_err(rc);
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
                return s_err(rc);
        rc = mdb_cursor_open(t->txn, t->store->dbi[DB_EVENTS], &cur);
        if (rc != 0)
                return s_err(rc);
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
                                skey = (MDB_val){s_index_key(sk, ev->stream, ev->offset), sk};
                                rc = mdb_del(t->txn, t->store->dbi[DB_STREAMS], &skey, NULL);
                        }
                }
                complaint__v1__event__free_unpacked(ev, NULL);
                if (!old)
                        break;
                if (rc != 0 && rc != MDB_NOTFOUND)
                        break;
                rc = mdb_cursor_del(cur, 0);
                if (rc != 0)
                        break;
                n++;
        }
        mdb_cursor_close(cur);
        if (rc != 0 && rc != MDB_NOTFOUND)
                return s_err(rc);
        *ret_n = n;
        return 0;
}

int
store_get_event(store_txn_t *t, uint64_t seq, pb_event_t **ret)
{
        uint8_t kb[8];
        MDB_val k = {8, kb};

        s_put_be64(kb, seq);
        return s_get_message(t, DB_EVENTS, &k, &complaint__v1__event__descriptor,
                             (ProtobufCMessage **)ret);
}

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
                return s_err(rc);
        if (v.mv_size < 8)
                return -EBADMSG;
        copy = malloc(v.mv_size - 8 + 1);
        if (copy == NULL)
                return -ENOMEM;
        memcpy(copy, (uint8_t *)v.mv_data + 8, v.mv_size - 8);
        *ret_hash = s_get_be64(v.mv_data);
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
                return s_err(rc);
        s_put_be64(v.mv_data, hash);
        memcpy((uint8_t *)v.mv_data + 8, reply, len);
        return 0;
}

int
store_count(store_txn_t *t, int status, uint64_t *ret)
{
        char key[32];

        if (status == ST_NONE) {
                MDB_stat st;
                int rc = mdb_stat(t->txn, t->store->dbi[DB_COMPLAINTS], &st);

                if (rc != 0)
                        return s_err(rc);
                *ret = st.ms_entries;
                return 0;
        }
        snprintf(key, sizeof(key), "count/%d", status);
        return s_meta_get_u64(t, key, ret);
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
           pb_complaint_t ***ret, size_t *ret_n, uint64_t *ret_next)
{
        uint8_t prefix[KEY_MAX], seek[KEY_MAX];
        size_t plen = 0;
        int db = DB_COMPLAINTS;
        MDB_cursor *cur;
        MDB_val k, v;
        pb_complaint_t **list;
        size_t n = 0;
        uint64_t next = 0;
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
                return s_err(rc);
        }
        memcpy(seek, prefix, plen);
        s_put_be64(seek + plen, before_id ? before_id : UINT64_MAX);
        k = (MDB_val){plen + 8, seek};
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        rc =
            rc == 0 ? mdb_cursor_get(cur, &k, &v, MDB_PREV) : mdb_cursor_get(cur, &k, &v, MDB_LAST);
        for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_PREV)) {
                pb_complaint_t *c;
                uint64_t id;

                if (k.mv_size != plen + 8 || memcmp(k.mv_data, prefix, plen) != 0)
                        break;
                id = s_get_be64((uint8_t *)k.mv_data + plen);
                if (before_id && id >= before_id)
                        continue;
                if (n == limit) {
                        next = list[n - 1]->id;
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
                list[n++] = c;
        }
        mdb_cursor_close(cur);
        if (rc != 0 && rc != MDB_NOTFOUND) {
                store_free_list(&list, n);
                return s_err(rc);
        }
        *ret = list;
        *ret_n = n;
        *ret_next = next;
        return 0;
}

/* ------------------------------------------------------------------ report */

#define DAY_MS 86400000ll
#define LEDGER_KEY 17

static uint32_t
s_day(int64_t ms)
{
        return ms < 0 ? 0 : (uint32_t)(ms / DAY_MS);
}

/* A day for people: "2026-06-01". */
static void
s_day_name(uint32_t day, char *buf, size_t size)
{
        time_t at = (time_t)day * 86400;
        struct tm tm;

        if (gmtime_r(&at, &tm) == NULL || strftime(buf, size, "%Y-%m-%d", &tm) == 0)
                snprintf(buf, size, "day %u", day);
}

/* A report row's key for people: "<scope>/<dimension>=<value>", the scope "all", "d:<dept>"
 * or "c:<category>". */
static void
s_row_name(const uint8_t *key, size_t len, char *buf, size_t size)
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
 * transaction and written when it commits (s_stats_flush()). */
static int
s_stats_apply(store_txn_t *t, uint32_t day, const struct stats_key *key,
              const struct stats_sparse *delta, uint64_t id)
{
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
                return s_err(rc);
        rc = stats_row_add(v.mv_data, v.mv_size, e, n, out, &len);
        if (rc < 0)
                return rc;
        if (rc > 0) {
                char date[32], row[2 * STATS_KEY_MAX];

                /* The row did not hold what the complaints' old states added to it: it drifted
                 * from the records. The changes go on (a counter is kept at zero), so only the
                 * store knows, and says it here, once per row written. */
                s_day_name(s_get_be32(key), date, sizeof(date));
                s_row_name(key + 4, key_len - 4, row, sizeof(row));
                log_struct(LOG_ERR, last_id, NULL, "stats-drift",
                           "report counters of %s, row %s: a counter would go below zero with "
                           "the changes committed with complaint %" PRIu64 " and was kept at 0; "
                           "`complaintd --check-store` lists the rows that drifted",
                           date, row, last_id);
        }
        if (len == 0) {
                rc = mdb_del(t->txn, t->store->dbi[DB_STATS], &k, NULL);
                return rc == MDB_NOTFOUND ? 0 : s_err(rc);
        }
        v = (MDB_val){len, out};
        return s_err(mdb_put(t->txn, t->store->dbi[DB_STATS], &k, &v, 0));
}

/* Writes the counter changes of top-level transaction t: each row read and rewritten once. */
static int
s_stats_flush(store_txn_t *t)
{
        return stats_pending_drain(t->pending, s_stats_write, t);
}

static size_t
s_ledger_key(uint8_t *kb, bool complete, int64_t created, uint64_t id)
{
        kb[0] = complete ? 1 : 0;
        s_put_be64(kb + 1, (uint64_t)(created < 0 ? 0 : created));
        s_put_be64(kb + 9, id);
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
                k = (MDB_val){s_ledger_key(kb, was, old->created_at_ms, old->id), kb};
                rc = mdb_del(t->txn, t->store->dbi[DB_LEDGER], &k, NULL);
                if (rc != 0 && rc != MDB_NOTFOUND)
                        return s_err(rc);
        }
        k = (MDB_val){s_ledger_key(kb, now, c->created_at_ms, c->id), kb};
        return s_err(mdb_put(t->txn, t->store->dbi[DB_LEDGER], &k, &v, 0));
}

/* The ledger entry and the report's counters of a complaint: rows(c) - rows(old), rewriting
 * only the rows whose counters change. */
static int
s_update_report(store_txn_t *t, const pb_complaint_t *c, const pb_complaint_t *old)
{
        struct stats_key kn[STATS_KEYS_MAX], ko[STATS_KEYS_MAX];
        struct stats_sparse cn, co = {0}, none = {0}, d;
        bool matched[STATS_KEYS_MAX] = {false};
        size_t nn = stats_keys(c, kn), no = old ? stats_keys(old, ko) : 0;
        uint32_t day = s_day(c->created_at_ms), old_day = old ? s_day(old->created_at_ms) : day;
        int rc = s_update_ledger(t, c, old);

        if (rc < 0)
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
        if (t->root == t && (rc = s_stats_flush(t)) < 0)
                return rc;
        rc = mdb_cursor_open(t->txn, t->store->dbi[DB_STATS], &cur);
        if (rc != 0)
                return s_err(rc);
        for (uint32_t day = day_from; day < day_to && r == 0; day++) {
                s_put_be32(kb, day);
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
        return r < 0 ? r : s_err(rc);
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
                return s_err(rc);
        for (; part < 2; part++, created = from_ms, id = 0) {
                const uint8_t *p;

                if (created >= to_ms)
                        continue;
                k = (MDB_val){s_ledger_key(kb, part, created, id), kb};
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
                if (p[0] == part && (int64_t)s_get_be64(p + 1) < to_ms) {
                        *ret = (struct store_ledger_pos){p[0] != 0, (int64_t)s_get_be64(p + 1),
                                                         s_get_be64(p + 9)};
                        mdb_cursor_close(cur);
                        return 0;
                }
        }
        mdb_cursor_close(cur);
        return rc == 0 || rc == MDB_NOTFOUND ? -ENOENT : s_err(rc);
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
        /* Keys hold times before 1970 as 0 (s_ledger_key()). */
        if (created < 0) {
                created = 0;
                id = 0;
        }
        if (created >= to_ms)
                return -ENOENT;
        rc = mdb_cursor_open(t->txn, t->store->dbi[DB_LEDGER], &cur);
        if (rc != 0)
                return s_err(rc);
        k = (MDB_val){s_ledger_key(kb, complete, created, id), kb};
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        if (rc == 0 && k.mv_size != LEDGER_KEY)
                rc = EBADMSG;
        if (rc == 0) {
                p = k.mv_data;
                if (p[0] == (complete ? 1 : 0) && (int64_t)s_get_be64(p + 1) < to_ms)
                        *ret = (struct store_ledger_pos){p[0] != 0, (int64_t)s_get_be64(p + 1),
                                                         s_get_be64(p + 9)};
                else
                        rc = MDB_NOTFOUND;
        }
        mdb_cursor_close(cur);
        return s_err(rc);
}

static size_t
s_contact_key(uint8_t *kb, const char *contact, int64_t created, uint64_t id)
{
        size_t n = strlen(contact);

        memcpy(kb, contact, n);
        kb[n] = '\0';
        s_put_be64(kb + n + 1, (uint64_t)(created < 0 ? 0 : created));
        s_put_be64(kb + n + 9, id);
        return n + 17;
}

int
store_put_contact(store_txn_t *t, const char *contact, int64_t created_ms, uint64_t id)
{
        uint8_t kb[KEY_MAX];
        MDB_val k, v = {0, NULL};

        if (strlen(contact) + 17 > sizeof(kb))
                return -E2BIG;
        k = (MDB_val){s_contact_key(kb, contact, created_ms, id), kb};
        return s_err(mdb_put(t->txn, t->store->dbi[DB_CONTACTS], &k, &v, 0));
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
                return s_err(rc);
        k = (MDB_val){s_contact_key(kb, contact, INT64_MAX, UINT64_MAX), kb};
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        rc =
            rc == 0 ? mdb_cursor_get(cur, &k, &v, MDB_PREV) : mdb_cursor_get(cur, &k, &v, MDB_LAST);
        for (; rc == 0 && n < max; rc = mdb_cursor_get(cur, &k, &v, MDB_PREV)) {
                const uint8_t *p = k.mv_data;

                if (k.mv_size != plen + 16 || memcmp(p, contact, plen) != 0)
                        break;
                if ((int64_t)s_get_be64(p + plen) < since_ms)
                        break;
                ids[n++] = s_get_be64(p + plen + 8);
        }
        mdb_cursor_close(cur);
        if (rc != 0 && rc != MDB_NOTFOUND)
                return s_err(rc);
        *ret_n = n;
        return 0;
}

/* ------------------------------------------------------------------ check */

struct check {
        FILE *out;
        unsigned problems;
};

static void __attribute__((format(printf, 2, 3))) s_problem(struct check *c, const char *fmt, ...)
{
        va_list ap;

        if (c->problems++ >= 100) {
                if (c->problems == 101)
                        fprintf(c->out, "problem: (more problems not shown)\n");
                return;
        }
        fputs("problem: ", c->out);
        va_start(ap, fmt);
        vfprintf(c->out, fmt, ap);
        va_end(ap);
        fputc('\n', c->out);
}

static bool
s_has_key(store_txn_t *t, int db, const void *key, size_t len)
{
        MDB_val k = {len, (void *)(uintptr_t)key}, v;

        return mdb_get(t->txn, t->store->dbi[db], &k, &v) == 0;
}

static uint64_t
s_entries(store_txn_t *t, int db)
{
        MDB_stat st;

        return mdb_stat(t->txn, t->store->dbi[db], &st) == 0 ? st.ms_entries : 0;
}

/* The report's counters as the complaints add them up, by (day, key): an open-addressing
 * hash table of encoded rows (stats.h), small enough for the whole store in memory. */
struct stats_acc_row {
        uint8_t *key; /* day u32 . stats key */
        size_t key_len;
        uint8_t *row;
        size_t row_len;
        bool seen; /* the store holds it */
};

struct stats_acc {
        struct stats_acc_row *rows;
        size_t n, cap;    /* cap is 0 or a power of two */
        uint8_t *scratch; /* STATS_ROW_MAX */
};

static struct stats_acc_row *
s_acc_slot(struct stats_acc_row *rows, size_t cap, const uint8_t *key, size_t len)
{
        size_t i = (size_t)hash_fnv1a(key, len) & (cap - 1);

        while (rows[i].key && (rows[i].key_len != len || memcmp(rows[i].key, key, len) != 0))
                i = (i + 1) & (cap - 1);
        return &rows[i];
}

static int
s_acc_grow(struct stats_acc *a)
{
        size_t cap = a->cap ? a->cap * 2 : 1024;
        struct stats_acc_row *rows = calloc(cap, sizeof(*rows));

        if (rows == NULL)
                return -ENOMEM;
        for (size_t i = 0; i < a->cap; i++)
                if (a->rows[i].key)
                        *s_acc_slot(rows, cap, a->rows[i].key, a->rows[i].key_len) = a->rows[i];
        free(a->rows);
        a->rows = rows;
        a->cap = cap;
        return 0;
}

static struct stats_acc_row *
s_acc_find(const struct stats_acc *a, const uint8_t *key, size_t len)
{
        struct stats_acc_row *r;

        if (a->cap == 0)
                return NULL;
        r = s_acc_slot(a->rows, a->cap, key, len);
        return r->key ? r : NULL;
}

/* Adds complaint p's contribution to its rows. */
static int
s_acc_add(struct stats_acc *a, const pb_complaint_t *p)
{
        struct stats_key keys[STATS_KEYS_MAX];
        struct stats_sparse contrib;
        size_t n = stats_keys(p, keys);
        uint8_t kb[4 + STATS_KEY_MAX];

        if (a->scratch == NULL && (a->scratch = malloc(STATS_ROW_MAX)) == NULL)
                return -ENOMEM;
        stats_contrib(p, &contrib);
        s_put_be32(kb, s_day(p->created_at_ms));
        for (size_t i = 0; i < n; i++) {
                size_t len = 4 + keys[i].len, out_len = 0;
                struct stats_acc_row *r;
                uint8_t *row;

                memcpy(kb + 4, keys[i].data, keys[i].len);
                if ((a->n + 1) * 4 > a->cap * 3 && s_acc_grow(a) < 0)
                        return -ENOMEM;
                r = s_acc_slot(a->rows, a->cap, kb, len);
                if (r->key == NULL) {
                        r->key = malloc(len);
                        if (r->key == NULL)
                                return -ENOMEM;
                        memcpy(r->key, kb, len);
                        r->key_len = len;
                        a->n++;
                }
                if (stats_row_apply(r->row, r->row_len, &contrib, a->scratch, &out_len) != 0)
                        return -EBADMSG; /* adding to rows built here never fails */
                row = realloc(r->row, out_len ? out_len : 1);
                if (row == NULL)
                        return -ENOMEM;
                memcpy(row, a->scratch, out_len);
                r->row = row;
                r->row_len = out_len;
        }
        return 0;
}

static void
s_acc_free(struct stats_acc *a)
{
        for (size_t i = 0; i < a->cap; i++) {
                free(a->rows[i].key);
                free(a->rows[i].row);
        }
        free(a->rows);
        free(a->scratch);
        *a = (struct stats_acc){0};
}

/* What the tables of schema 3 must hold, as the complaints give it. */
struct check3 {
        const char *cc;       /* the recorded country code; NULL: not recorded, not checked */
        uint64_t n_contacts;  /* contact entries the complaints give */
        uint64_t n_missing;   /* of them, not found */
        struct stats_acc acc; /* the report's rows */
        int acc_err;
};

/* What a complaint must find in the tables of schema 3: its ledger entry, its contact keys and
 * its share of the report's counters. */
static void
s_check_complaint_3(store_txn_t *t, struct check *c, const pb_complaint_t *p, struct check3 *x)
{
        uint8_t kb[KEY_MAX];
        char keys[2][CONTACT_KEY_MAX];
        size_t n;

        if (!s_has_key(t, DB_LEDGER, kb,
                       s_ledger_key(kb, p->status == ST_CLOSED, p->created_at_ms, p->id)))
                s_problem(c, "complaint %" PRIu64 ": missing from the ledger%s", p->id,
                          p->status == ST_CLOSED ? " (closed)" : "");
        if (x->cc) {
                n = s_contact_keys(p, x->cc, keys);
                for (size_t i = 0; i < n; i++) {
                        if (strlen(keys[i]) + 17 > sizeof(kb))
                                continue;
                        x->n_contacts++;
                        if (s_has_key(t, DB_CONTACTS, kb,
                                      s_contact_key(kb, keys[i], p->created_at_ms, p->id)))
                                continue;
                        x->n_missing++;
                        s_problem(c,
                                  "complaint %" PRIu64 ": missing from the contact index under %s",
                                  p->id, keys[i]);
                }
        }
        if (x->acc_err == 0)
                x->acc_err = s_acc_add(&x->acc, p);
}

/* Every stored report row against the rows the complaints add up to, both ways. */
static void
s_check_stats(store_txn_t *t, struct check *c, struct stats_acc *acc)
{
        int64_t *want = calloc(2 * SF_COUNT, sizeof(*want)), *have = want + SF_COUNT;
        char date[32], name[2 * STATS_KEY_MAX];
        uint64_t rows = 0, bad = 0;
        MDB_cursor *cur;
        MDB_val k, v;
        int rc;

        if (want == NULL || mdb_cursor_open(t->txn, t->store->dbi[DB_STATS], &cur) != 0) {
                free(want);
                s_problem(c, "report counters: cannot be read");
                return;
        }
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
                const uint8_t *key = k.mv_data;
                struct stats_acc_row *r = s_acc_find(acc, key, k.mv_size);
                uint32_t day;
                int field = -1, fields = 0;

                rows++;
                if (k.mv_size < 6) {
                        s_problem(c, "report counters: a malformed row key of %zu bytes",
                                  k.mv_size);
                        bad++;
                        continue;
                }
                day = s_get_be32(key);
                s_day_name(day, date, sizeof(date));
                s_row_name(key + 4, k.mv_size - 4, name, sizeof(name));
                if (r == NULL) {
                        s_problem(c, "report counters of %s, row %s: no complaint counts in it",
                                  date, name);
                        bad++;
                        continue;
                }
                r->seen = true;
                if (r->row_len == v.mv_size && memcmp(r->row, v.mv_data, v.mv_size) == 0)
                        continue;
                bad++;
                memset(want, 0, 2 * SF_COUNT * sizeof(*want));
                if (stats_row_sum(v.mv_data, v.mv_size, have) < 0) {
                        s_problem(c, "report counters of %s, row %s: does not decode", date, name);
                        continue;
                }
                stats_row_sum(r->row, r->row_len, want);
                for (int f = 0; f < SF_COUNT; f++) {
                        if (have[f] == want[f])
                                continue;
                        if (fields++ == 0)
                                field = f;
                }
                if (field < 0)
                        field = 0;
                s_problem(c,
                          "report counters of %s, row %s: counter %d is %" PRId64
                          ", the complaints give %" PRId64 " (%d counter%s differ)",
                          date, name, field, have[field], want[field], fields,
                          fields == 1 ? "" : "s");
        }
        mdb_cursor_close(cur);
        if (rc != MDB_NOTFOUND)
                s_problem(c, "report counters: cannot be read to the end");
        for (size_t i = 0; i < acc->cap; i++) {
                const struct stats_acc_row *r = &acc->rows[i];
                uint32_t day;

                if (r->key == NULL || r->seen)
                        continue;
                bad++;
                day = s_get_be32(r->key);
                s_day_name(day, date, sizeof(date));
                s_row_name(r->key + 4, r->key_len - 4, name, sizeof(name));
                s_problem(c, "report counters of %s, row %s: missing", date, name);
        }
        free(want);
        fprintf(c->out,
                "report counters: %" PRIu64 " rows stored, %zu expected, %" PRIu64 " wrong\n", rows,
                acc->n, bad);
}

/* Names the entries of the ledger that no complaint accounts for. */
static void
s_check_ledger_extra(store_txn_t *t, struct check *c)
{
        MDB_cursor *cur;
        MDB_val k, v;
        int rc;

        if (mdb_cursor_open(t->txn, t->store->dbi[DB_LEDGER], &cur) != 0)
                return;
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
                const uint8_t *p = k.mv_data;
                pb_complaint_t *cp = NULL;
                uint64_t id;

                if (k.mv_size != LEDGER_KEY) {
                        s_problem(c, "ledger: a malformed key of %zu bytes", k.mv_size);
                        continue;
                }
                id = s_get_be64(p + 9);
                if (store_get_complaint(t, id, &cp) < 0) {
                        s_problem(c,
                                  "ledger: an entry for complaint %" PRIu64 ", which is not stored",
                                  id);
                        continue;
                }
                if ((p[0] != 0) != (cp->status == ST_CLOSED) ||
                    s_get_be64(p + 1) != (uint64_t)(cp->created_at_ms < 0 ? 0 : cp->created_at_ms))
                        s_problem(c, "ledger: a stale entry for complaint %" PRIu64, id);
                complaint__v1__complaint__free_unpacked(cp, NULL);
        }
        mdb_cursor_close(cur);
}

/* Names the entries of the contact index that no complaint accounts for (keyed with cc). */
static void
s_check_contacts_extra(store_txn_t *t, struct check *c, const char *cc)
{
        MDB_cursor *cur;
        MDB_val k, v;
        int rc;

        if (mdb_cursor_open(t->txn, t->store->dbi[DB_CONTACTS], &cur) != 0)
                return;
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
                const uint8_t *p = k.mv_data;
                char keys[2][CONTACT_KEY_MAX];
                pb_complaint_t *cp = NULL;
                size_t len = k.mv_size, n;
                bool found = false;
                uint64_t id;

                if (len < 18 || p[len - 17] != '\0' || memchr(p, '\0', len - 17) != NULL) {
                        s_problem(c, "contact index: a malformed key of %zu bytes", len);
                        continue;
                }
                id = s_get_be64(p + len - 8);
                if (store_get_complaint(t, id, &cp) < 0) {
                        s_problem(
                            c, "contact index: %s names complaint %" PRIu64 ", which is not stored",
                            (const char *)p, id);
                        continue;
                }
                n = s_contact_keys(cp, cc, keys);
                for (size_t i = 0; i < n; i++)
                        found = found ||
                                (strlen(keys[i]) == len - 17 && memcmp(keys[i], p, len - 17) == 0);
                if (!found || s_get_be64(p + len - 16) !=
                                  (uint64_t)(cp->created_at_ms < 0 ? 0 : cp->created_at_ms))
                        s_problem(c,
                                  "contact index: %s names complaint %" PRIu64
                                  ", whose complainant it is not (country code \"%s\")",
                                  (const char *)p, id, cc);
                complaint__v1__complaint__free_unpacked(cp, NULL);
        }
        mdb_cursor_close(cur);
}

/* One complaint: its history, and its place in every index. */
static void
s_check_complaint(store_txn_t *t, struct check *c, const pb_complaint_t *p, uint64_t first_event,
                  uint64_t *by_status, uint64_t *n_dept, uint64_t *n_overdue, uint64_t *n_deadlines)
{
        struct store_deadline dl[6];
        pb_history_t **hist = NULL;
        uint8_t kb[KEY_MAX];
        size_t n = 0, nd;

        if (p->status <= ST_NONE || p->status >= ST_COUNT) {
                s_problem(c, "complaint %" PRIu64 ": unknown status %d", p->id, p->status);
                return;
        }
        by_status[p->status]++;
        if (store_get_history(t, p->id, &hist, &n) < 0) {
                s_problem(c, "complaint %" PRIu64 ": its history does not decode", p->id);
        } else {
                if (n != p->history_count)
                        s_problem(c, "complaint %" PRIu64 ": %zu history entries, record says %u",
                                  p->id, n, p->history_count);
                for (size_t i = 0; i < n; i++) {
                        uint8_t ek[8];

                        if (hist[i]->seq != i + 1)
                                s_problem(c, "complaint %" PRIu64 ": history entry %zu has seq %u",
                                          p->id, i + 1, hist[i]->seq);
                        s_put_be64(ek, hist[i]->event_seq);
                        if (hist[i]->event_seq >= first_event && !s_has_key(t, DB_EVENTS, ek, 8))
                                s_problem(c,
                                          "complaint %" PRIu64 ": event %" PRIu64
                                          " of history entry %zu is missing",
                                          p->id, hist[i]->event_seq, i + 1);
                }
                store_free_history(&hist, n);
        }
        kb[0] = (uint8_t)p->status;
        s_put_be64(kb + 1, p->id);
        if (!s_has_key(t, DB_BY_STATUS, kb, 9))
                s_problem(c, "complaint %" PRIu64 ": missing from the status index", p->id);
        if (p->department[0]) {
                (*n_dept)++;
                if (strlen(p->department) + 9 <= sizeof(kb) &&
                    !s_has_key(t, DB_BY_DEPT, kb, s_index_key(kb, p->department, p->id)))
                        s_problem(c, "complaint %" PRIu64 ": missing from the department index",
                                  p->id);
        }
        if (strlen(p->category) + 9 <= sizeof(kb) &&
            !s_has_key(t, DB_BY_CATEGORY, kb, s_index_key(kb, p->category, p->id)))
                s_problem(c, "complaint %" PRIu64 ": missing from the category index", p->id);
        s_put_be64(kb, p->id);
        if (p->level > 0) {
                (*n_overdue)++;
                if (!s_has_key(t, DB_OVERDUE, kb, 8))
                        s_problem(c,
                                  "complaint %" PRIu64 ": at level %u, missing from the overdue "
                                  "index",
                                  p->id, p->level);
        }
        nd = s_clock_deadlines(p, dl);
        *n_deadlines += nd;
        for (size_t i = 0; i < nd; i++)
                if (!s_has_key(t, DB_DEADLINES, kb, s_deadline_key(kb, &dl[i])))
                        s_problem(c,
                                  "complaint %" PRIu64 ": a deadline of its %s clock is not "
                                  "indexed",
                                  p->id,
                                  dl[i].clock == 1   ? "response"
                                  : dl[i].clock == 2 ? "resolution"
                                                     : "follow-up");
}

static void
s_check_events(store_txn_t *t, struct check *c, uint64_t *ret_first)
{
        MDB_cursor *cur;
        MDB_val k, v;
        uint64_t expect = 0, n = 0, with_stream = 0;
        int rc;

        *ret_first = 0;
        if (mdb_cursor_open(t->txn, t->store->dbi[DB_EVENTS], &cur) != 0)
                return;
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
                uint64_t seq = s_get_be64(k.mv_data);
                pb_event_t *ev = complaint__v1__event__unpack(NULL, v.mv_size, v.mv_data);

                if (n++ == 0)
                        *ret_first = expect = seq;
                if (seq != expect)
                        s_problem(
                            c, "event log: a gap before event %" PRIu64 " (expected %" PRIu64 ")",
                            seq, expect);
                expect = seq + 1;
                if (ev == NULL) {
                        s_problem(c, "event %" PRIu64 " does not decode", seq);
                        continue;
                }
                if (ev->seq != seq)
                        s_problem(c, "event %" PRIu64 " says it is %" PRIu64, seq, ev->seq);
                if (ev->stream[0]) {
                        uint8_t sk[KEY_MAX];
                        MDB_val skey, sv;

                        with_stream++;
                        skey = (MDB_val){s_index_key(sk, ev->stream, ev->offset), sk};
                        if (strlen(ev->stream) + 9 > sizeof(sk) ||
                            mdb_get(t->txn, t->store->dbi[DB_STREAMS], &skey, &sv) != 0 ||
                            sv.mv_size != 8 || s_get_be64(sv.mv_data) != seq)
                                s_problem(
                                    c, "event %" PRIu64 ": not at offset %" PRIu64 " of stream %s",
                                    seq, ev->offset, ev->stream);
                }
                complaint__v1__event__free_unpacked(ev, NULL);
        }
        mdb_cursor_close(cur);
        if (s_entries(t, DB_STREAMS) != with_stream)
                s_problem(c, "stream index holds %" PRIu64 " entries for %" PRIu64 " events",
                          s_entries(t, DB_STREAMS), with_stream);
        fprintf(c->out, "events: %" PRIu64 " kept (%" PRIu64 " to %" PRIu64 "), gap-free: %s\n", n,
                *ret_first, n ? expect - 1 : 0, c->problems ? "see problems" : "yes");
}

int
store_check(const char *dir, FILE *report)
{
        struct check c = {.out = report};
        uint64_t by_status[ST_COUNT] = {0}, n_dept = 0, n_overdue = 0, n_deadlines = 0, n = 0;
        uint64_t first_event = 0;
        struct check3 x = {0};
        char *cc = NULL;
        store_t s = {0};
        store_txn_t t = {.store = &s, .root = &t};
        MDB_cursor *cur;
        MDB_val k, v, sk = {6, (void *)"schema"};
        int rc;

        rc = mdb_env_create(&s.env);
        if (rc != 0)
                return s_err(rc);
        mdb_env_set_maxdbs(s.env, DB_COUNT + 1);
        rc = mdb_env_open(s.env, dir, MDB_RDONLY | MDB_NOTLS, 0640);
        if (rc == EACCES || rc == EROFS)
                rc = mdb_env_open(s.env, dir, MDB_RDONLY | MDB_NOTLS | MDB_NOLOCK, 0640);
        if (rc == 0)
                rc = mdb_txn_begin(s.env, NULL, MDB_RDONLY, &t.txn);
        if (rc != 0) {
                mdb_env_close(s.env);
                return s_err(rc);
        }
        for (int i = 0; i < DB_COUNT && rc == 0; i++) {
                rc = mdb_dbi_open(t.txn, db_names[i], 0, &s.dbi[i]);
                if (rc == MDB_NOTFOUND && (i >= DB_STREAMS || i == DB_REQUESTS))
                        rc = 0; /* a store of an older schema, migrated on start */
                else if (rc != 0)
                        fprintf(report, "problem: table %s is missing\n", db_names[i]);
        }
        if (rc != 0) {
                mdb_txn_abort(t.txn);
                mdb_env_close(s.env);
                return -EBADMSG;
        }
        if (mdb_get(t.txn, s.dbi[DB_META], &sk, &v) != 0 || v.mv_size != 4) {
                s_problem(&c, "no schema version");
        } else {
                s.schema = s_get_be32(v.mv_data);
                fprintf(report, "schema: %u (this daemon writes %d)%s\n", s.schema,
                        STORE_SCHEMA_VERSION,
                        s.schema < STORE_SCHEMA_VERSION ? ": it will be migrated on start" : "");
                if (s.schema > STORE_SCHEMA_VERSION)
                        s_problem(&c, "written by a newer complaintd (schema %u)", s.schema);
        }
        if (s.schema == STORE_SCHEMA_VERSION) {
                s_check_events(&t, &c, &first_event);
                rc = s_meta_get_str(&t, META_COUNTRY, &cc);
                x.cc = cc;
                if (rc == -ENOENT)
                        fprintf(report, "contact index: no country code recorded (indexed by an "
                                        "older daemon): not checked, rebuilt on the next start\n");
                else if (rc < 0)
                        s_problem(&c, "the country code of the contact index cannot be read");
        }
        if (mdb_cursor_open(t.txn, s.dbi[DB_COMPLAINTS], &cur) == 0) {
                for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
                     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
                        pb_complaint_t *p =
                            complaint__v1__complaint__unpack(NULL, v.mv_size, v.mv_data);
                        n++;
                        if (p == NULL || k.mv_size != 8 || p->id != s_get_be64(k.mv_data)) {
                                s_problem(&c, "complaint record %" PRIu64 " does not decode",
                                          k.mv_size == 8 ? s_get_be64(k.mv_data) : 0);
                        } else {
                                s_check_complaint(&t, &c, p, first_event, by_status, &n_dept,
                                                  &n_overdue, &n_deadlines);
                                if (s.schema == STORE_SCHEMA_VERSION)
                                        s_check_complaint_3(&t, &c, p, &x);
                        }
                        if (p)
                                complaint__v1__complaint__free_unpacked(p, NULL);
                }
                mdb_cursor_close(cur);
        }
        for (int st = 1; st < ST_COUNT; st++) {
                uint64_t counted = 0;

                store_count(&t, st, &counted);
                if (counted != by_status[st])
                        s_problem(&c, "counter of %s says %" PRIu64 ", the records %" PRIu64,
                                  pb_status_name(st), counted, by_status[st]);
        }
        if (s_entries(&t, DB_BY_STATUS) != n)
                s_problem(&c, "status index holds %" PRIu64 " entries for %" PRIu64 " complaints",
                          s_entries(&t, DB_BY_STATUS), n);
        if (s_entries(&t, DB_BY_DEPT) != n_dept)
                s_problem(&c, "department index holds %" PRIu64 " entries, expected %" PRIu64,
                          s_entries(&t, DB_BY_DEPT), n_dept);
        if (s_entries(&t, DB_BY_CATEGORY) != n)
                s_problem(&c, "category index holds %" PRIu64 " entries for %" PRIu64 " complaints",
                          s_entries(&t, DB_BY_CATEGORY), n);
        if (s.schema == STORE_SCHEMA_VERSION && s_entries(&t, DB_LEDGER) != n) {
                s_problem(&c, "ledger holds %" PRIu64 " entries for %" PRIu64 " complaints",
                          s_entries(&t, DB_LEDGER), n);
                s_check_ledger_extra(&t, &c);
        }
        if (s.schema == STORE_SCHEMA_VERSION && cc) {
                /* Each complaint found its entries: any left over belong to none. */
                if (s_entries(&t, DB_CONTACTS) != x.n_contacts) {
                        s_problem(&c,
                                  "contact index holds %" PRIu64 " entries, the complainants give "
                                  "%" PRIu64,
                                  s_entries(&t, DB_CONTACTS), x.n_contacts);
                }
                if (s_entries(&t, DB_CONTACTS) != x.n_contacts - x.n_missing)
                        s_check_contacts_extra(&t, &c, cc);
                fprintf(report, "contact index: %" PRIu64 " entries, country code \"%s\"%s\n",
                        x.n_contacts, cc, cc[0] ? "" : " (none)");
        }
        if (s.schema == STORE_SCHEMA_VERSION && x.acc_err == 0)
                s_check_stats(&t, &c, &x.acc);
        else if (s.schema == STORE_SCHEMA_VERSION)
                fprintf(report, "report counters: not checked: %s\n", strerror(-x.acc_err));
        s_acc_free(&x.acc);
        free(cc);
        if (s_entries(&t, DB_OVERDUE) != n_overdue)
                s_problem(&c, "overdue index holds %" PRIu64 " entries, expected %" PRIu64,
                          s_entries(&t, DB_OVERDUE), n_overdue);
        if (s_entries(&t, DB_DEADLINES) != n_deadlines)
                s_problem(&c, "deadline index holds %" PRIu64 " entries, the clocks %" PRIu64,
                          s_entries(&t, DB_DEADLINES), n_deadlines);
        fprintf(report,
                "complaints: %" PRIu64 " checked, %" PRIu64 " overdue, %" PRIu64
                " deadlines indexed\n",
                n, n_overdue, n_deadlines);
        fprintf(report, "%s: %u problem%s\n", c.problems ? "FAILED" : "OK", c.problems,
                c.problems == 1 ? "" : "s");
        mdb_txn_abort(t.txn);
        mdb_env_close(s.env);
        if (c.problems)
                return -EBADMSG;
        /* The report's counters could not be added up (out of memory): not known sound. */
        return x.acc_err < 0 ? x.acc_err : 0;
}
