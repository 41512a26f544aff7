/* store_check.c: the offline verification of a store (store_check(), complaintd
 * --check-store): every record decodes and every index, counter and stream agrees with them. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "store_int.h"

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
s_acc_add(struct stats_acc *a, const tz_t *tz, const pb_complaint_t *p)
{
        struct stats_key keys[STATS_KEYS_MAX];
        struct stats_sparse contrib;
        size_t n = stats_keys(p, keys);
        uint8_t kb[4 + STATS_KEY_MAX];

        if (a->scratch == NULL && (a->scratch = malloc(STATS_ROW_MAX)) == NULL)
                return -ENOMEM;
        stats_contrib(p, &contrib);
        st_put_be32(kb, st_day(tz, p->created_at_ms));
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
        const tz_t *tz;         /* the zone the rows are keyed in; NULL: not checked */
        uint64_t counted_below; /* a rebuild has counted the complaints below this id */
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
                       st_ledger_key(kb, p->status == ST_CLOSED, p->created_at_ms, p->id)))
                s_problem(c, "complaint %" PRIu64 ": missing from the ledger%s", p->id,
                          p->status == ST_CLOSED ? " (closed)" : "");
        if (x->cc) {
                n = st_contact_keys(t->store, p, x->cc, keys);
                for (size_t i = 0; i < n; i++) {
                        if (strlen(keys[i]) + 17 > sizeof(kb))
                                continue;
                        x->n_contacts++;
                        if (s_has_key(t, DB_CONTACTS, kb,
                                      st_contact_key(kb, keys[i], p->created_at_ms, p->id)))
                                continue;
                        x->n_missing++;
                        s_problem(c,
                                  "complaint %" PRIu64 ": missing from the contact index under %s",
                                  p->id, keys[i]);
                }
        }
        if (x->acc_err == 0 && x->tz && p->id < x->counted_below)
                x->acc_err = s_acc_add(&x->acc, x->tz, p);
}

/* Personal data: what a complaint holds of its complainant, and its retention entry. */
struct check_privacy {
        uint64_t sealed, erased, retained;
        bool keys; /* the privacy keys are there to open the seals with */
};

static void
s_check_privacy(store_txn_t *t, struct check *c, const pb_complaint_t *p, struct check_privacy *x)
{
        pb_complainant_t *who = NULL;
        uint8_t kb[16];
        int r;

        if (p->complainant != NULL)
                s_problem(c, "complaint %" PRIu64 ": holds its complainant in the clear", p->id);
        if (p->erased_at_ms != 0) {
                x->erased++;
                if (p->sealed_contact.len > 0 || p->complainant != NULL)
                        s_problem(c,
                                  "complaint %" PRIu64 ": erased, but still holds contact details",
                                  p->id);
        } else if (p->sealed_contact.len > 0) {
                x->sealed++;
                if (x->keys && (r = st_complainant(t->store, p, &who)) < 0)
                        s_problem(c,
                                  "complaint %" PRIu64 ": its sealed contact details do not "
                                  "open with privacy.key (%s)",
                                  p->id, strerror(-r));
                if (who)
                        complaint__v1__complainant__free_unpacked(who, NULL);
        }
        if (p->text_erased && strcmp(p->description, ERASED_TEXT) != 0)
                s_problem(c, "complaint %" PRIu64 ": its text was erased, yet it has a description",
                          p->id);
        if (st_retain_key(p, kb)) {
                x->retained++;
                if (!s_has_key(t, DB_RETAIN, kb, 16))
                        s_problem(c, "complaint %" PRIu64 ": missing from the retention index",
                                  p->id);
        }
}

/* No stored reply holds a complainant or a description: a retry must not bring erased details
 * back. */
static void
s_check_replies(store_txn_t *t, struct check *c)
{
        MDB_cursor *cur;
        MDB_val k, v;
        int rc;

        if (mdb_cursor_open(t->txn, t->store->dbi[DB_REQUESTS], &cur) != 0)
                return;
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
                Complaint__V1__Reply *reply =
                    v.mv_size < 8 ? NULL
                                  : complaint__v1__reply__unpack(NULL, v.mv_size - 8,
                                                                 (uint8_t *)v.mv_data + 8);

                if (reply && reply->complaint &&
                    (reply->complaint->complainant || reply->complaint->sealed_contact.len > 0))
                        s_problem(c, "the stored reply to request \"%.*s\" holds a complainant",
                                  (int)strnlen(k.mv_data, k.mv_size), (const char *)k.mv_data);
                if (reply && reply->complaint && reply->complaint->description[0] != '\0')
                        s_problem(c, "the stored reply to request \"%.*s\" holds a description",
                                  (int)strnlen(k.mv_data, k.mv_size), (const char *)k.mv_data);
                if (reply)
                        complaint__v1__reply__free_unpacked(reply, NULL);
        }
        mdb_cursor_close(cur);
}

/* The zone the report's counters are keyed in, and how far a rebuild of them has come: the
 * rows must hold the complaints it has counted, as they are now. */
static void
s_check_stats_zone(store_txn_t *t, struct check *c, struct check3 *x, char **ret_zone,
                   tz_t **ret_tz)
{
        uint64_t next = 0;
        int r = st_meta_get_str(t, META_STATS_ZONE, ret_zone);

        if (r < 0) {
                s_problem(c, "report counters: no zone recorded for their days");
                return;
        }
        r = tz_load(*ret_zone, ret_tz);
        if (r < 0) {
                fprintf(c->out,
                        "report counters: keyed in zone %s, which this machine cannot load (%s): "
                        "not checked\n",
                        *ret_zone, strerror(-r));
                return;
        }
        x->tz = *ret_tz;
        x->counted_below = UINT64_MAX;
        r = store_stats_rebuilding(t, &next);
        if (r == 0) {
                x->counted_below = next;
                fprintf(c->out,
                        "report counters: being rebuilt for zone %s, complaints below %" PRIu64
                        " counted so far (checked as far as that)\n",
                        *ret_zone, next);
        } else if (r == -ENOENT) {
                fprintf(c->out, "report counters: by local day in zone %s\n", *ret_zone);
        } else {
                s_problem(c, "report counters: the state of their rebuild cannot be read");
                x->tz = NULL;
        }
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
                day = st_get_be32(key);
                st_day_name(day, date, sizeof(date));
                st_row_name(key + 4, k.mv_size - 4, name, sizeof(name));
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
                day = st_get_be32(r->key);
                st_day_name(day, date, sizeof(date));
                st_row_name(r->key + 4, r->key_len - 4, name, sizeof(name));
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
                id = st_get_be64(p + 9);
                if (store_get_complaint(t, id, &cp) < 0) {
                        s_problem(c,
                                  "ledger: an entry for complaint %" PRIu64 ", which is not stored",
                                  id);
                        continue;
                }
                if ((p[0] != 0) != (cp->status == ST_CLOSED) ||
                    st_get_be64(p + 1) != (uint64_t)(cp->created_at_ms < 0 ? 0 : cp->created_at_ms))
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
                id = st_get_be64(p + len - 8);
                if (store_get_complaint(t, id, &cp) < 0) {
                        s_problem(
                            c, "contact index: %s names complaint %" PRIu64 ", which is not stored",
                            (const char *)p, id);
                        continue;
                }
                n = st_contact_keys(t->store, cp, cc, keys);
                for (size_t i = 0; i < n; i++)
                        found = found ||
                                (strlen(keys[i]) == len - 17 && memcmp(keys[i], p, len - 17) == 0);
                if (!found || st_get_be64(p + len - 16) !=
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
                        st_put_be64(ek, hist[i]->event_seq);
                        if (hist[i]->event_seq >= first_event && !s_has_key(t, DB_EVENTS, ek, 8))
                                s_problem(c,
                                          "complaint %" PRIu64 ": event %" PRIu64
                                          " of history entry %zu is missing",
                                          p->id, hist[i]->event_seq, i + 1);
                }
                store_free_history(&hist, n);
        }
        kb[0] = (uint8_t)p->status;
        st_put_be64(kb + 1, p->id);
        if (!s_has_key(t, DB_BY_STATUS, kb, 9))
                s_problem(c, "complaint %" PRIu64 ": missing from the status index", p->id);
        if (p->department[0]) {
                (*n_dept)++;
                if (strlen(p->department) + 9 <= sizeof(kb) &&
                    !s_has_key(t, DB_BY_DEPT, kb, st_index_key(kb, p->department, p->id)))
                        s_problem(c, "complaint %" PRIu64 ": missing from the department index",
                                  p->id);
        }
        if (strlen(p->category) + 9 <= sizeof(kb) &&
            !s_has_key(t, DB_BY_CATEGORY, kb, st_index_key(kb, p->category, p->id)))
                s_problem(c, "complaint %" PRIu64 ": missing from the category index", p->id);
        st_put_be64(kb, p->id);
        if (p->level > 0) {
                (*n_overdue)++;
                if (!s_has_key(t, DB_OVERDUE, kb, 8))
                        s_problem(c,
                                  "complaint %" PRIu64 ": at level %u, missing from the overdue "
                                  "index",
                                  p->id, p->level);
        }
        nd = st_clock_deadlines(p, dl);
        *n_deadlines += nd;
        for (size_t i = 0; i < nd; i++)
                if (!s_has_key(t, DB_DEADLINES, kb, st_deadline_key(kb, &dl[i])))
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
                uint64_t seq = st_get_be64(k.mv_data);
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
                        skey = (MDB_val){st_index_key(sk, ev->stream, ev->offset), sk};
                        if (strlen(ev->stream) + 9 > sizeof(sk) ||
                            mdb_get(t->txn, t->store->dbi[DB_STREAMS], &skey, &sv) != 0 ||
                            sv.mv_size != 8 || st_get_be64(sv.mv_data) != seq)
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
        struct check_privacy xp = {0};
        char *cc = NULL, *seal_check = NULL, *zone = NULL;
        tz_t *tz = NULL;
        store_t s = {0};
        store_txn_t t = {.store = &s, .root = &t};
        MDB_cursor *cur;
        MDB_val k, v, sk = {6, (void *)"schema"};
        char why[512];
        int rc;

        /* What the daemon would refuse at start, said the same way, before LMDB maps it. */
        rc = store_probe(dir, why, sizeof(why));
        if (rc < 0) {
                fprintf(report, "problem: %s\n", why);
                return rc;
        }
        rc = mdb_env_create(&s.env);
        if (rc != 0)
                return st_err(rc);
        mdb_env_set_maxdbs(s.env, DB_COUNT + 1);
        rc = mdb_env_open(s.env, dir, MDB_RDONLY | MDB_NOTLS, 0640);
        if (rc == EACCES || rc == EROFS)
                rc = mdb_env_open(s.env, dir, MDB_RDONLY | MDB_NOTLS | MDB_NOLOCK, 0640);
        if (rc == 0)
                rc = mdb_txn_begin(s.env, NULL, MDB_RDONLY, &t.txn);
        if (rc != 0) {
                mdb_env_close(s.env);
                return st_err(rc);
        }
        for (int i = 0; i < DB_COUNT && rc == 0; i++) {
                rc = mdb_dbi_open(t.txn, st_db_names[i], 0, &s.dbi[i]);
                if (rc == MDB_NOTFOUND && (i >= DB_STREAMS || i == DB_REQUESTS))
                        rc = 0; /* a store of an older schema, migrated on start */
                else if (rc != 0)
                        fprintf(report, "problem: table %s is missing\n", st_db_names[i]);
        }
        if (rc != 0) {
                mdb_txn_abort(t.txn);
                mdb_env_close(s.env);
                return -EBADMSG;
        }
        if (mdb_get(t.txn, s.dbi[DB_META], &sk, &v) != 0 || v.mv_size != 4) {
                s_problem(&c, "no schema version");
        } else {
                s.schema = st_get_be32(v.mv_data);
                fprintf(report, "schema: %u (this daemon writes %d)%s\n", s.schema,
                        STORE_SCHEMA_VERSION,
                        s.schema < STORE_SCHEMA_VERSION ? ": it will be migrated on start" : "");
                if (s.schema > STORE_SCHEMA_VERSION)
                        s_problem(&c, "written by a newer complaintd (schema %u)", s.schema);
        }
        if (s.schema == STORE_SCHEMA_VERSION) {
                char want[SEAL_HASH_HEX + 1];

                s_check_events(&t, &c, &first_event);
                rc = seal_open(dir, false, &s.seal, NULL);
                if (rc < 0)
                        s_problem(&c, "%s/%s cannot be read: %s", dir, SEAL_FILE,
                                  rc == -EACCES ? "others than its owner may read it"
                                                : strerror(-rc));
                if (s.seal && st_meta_get_str(&t, META_SEAL_CHECK, &seal_check) == 0) {
                        seal_hash_hex(s.seal, SEAL_CHECK_TEXT, want);
                        if (strcmp(want, seal_check) != 0) {
                                s_problem(&c, "%s/%s is not this store's privacy key", dir,
                                          SEAL_FILE);
                                seal_free(&s.seal);
                        }
                }
                free(seal_check);
                xp.keys = s.seal != NULL;
                rc = st_meta_get_str(&t, META_COUNTRY, &cc);
                if (s.seal == NULL && rc == 0) {
                        fprintf(report, "contact index: not checked without the privacy key\n");
                        free(cc);
                        cc = NULL;
                }
                x.cc = cc;
                if (rc == -ENOENT)
                        fprintf(report, "contact index: no country code recorded (indexed by an "
                                        "older daemon): not checked, rebuilt on the next start\n");
                else if (rc < 0)
                        s_problem(&c, "the country code of the contact index cannot be read");
                s_check_stats_zone(&t, &c, &x, &zone, &tz);
        }
        if (mdb_cursor_open(t.txn, s.dbi[DB_COMPLAINTS], &cur) == 0) {
                for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
                     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
                        pb_complaint_t *p =
                            complaint__v1__complaint__unpack(NULL, v.mv_size, v.mv_data);
                        n++;
                        if (p == NULL || k.mv_size != 8 || p->id != st_get_be64(k.mv_data)) {
                                s_problem(&c, "complaint record %" PRIu64 " does not decode",
                                          k.mv_size == 8 ? st_get_be64(k.mv_data) : 0);
                        } else {
                                s_check_complaint(&t, &c, p, first_event, by_status, &n_dept,
                                                  &n_overdue, &n_deadlines);
                                if (s.schema == STORE_SCHEMA_VERSION) {
                                        s_check_complaint_3(&t, &c, p, &x);
                                        s_check_privacy(&t, &c, p, &xp);
                                }
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
        /* Every stored reply has its time, and nothing else is timed: pruning misses none. */
        if (s.schema == STORE_SCHEMA_VERSION &&
            s_entries(&t, DB_REQUEST_TIMES) != s_entries(&t, DB_REQUESTS))
                s_problem(&c, "%" PRIu64 " stored replies, but %" PRIu64 " of them timed",
                          s_entries(&t, DB_REQUESTS), s_entries(&t, DB_REQUEST_TIMES));
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
        if (s.schema == STORE_SCHEMA_VERSION) {
                if (s_entries(&t, DB_RETAIN) != xp.retained)
                        s_problem(&c,
                                  "retention index holds %" PRIu64
                                  " entries, the complaints %" PRIu64,
                                  s_entries(&t, DB_RETAIN), xp.retained);
                s_check_replies(&t, &c);
                fprintf(report,
                        "personal data: %" PRIu64 " complainants sealed, %" PRIu64
                        " erased, %" PRIu64 " awaiting retention\n",
                        xp.sealed, xp.erased, xp.retained);
        }
        if (s.schema == STORE_SCHEMA_VERSION && x.tz == NULL)
                ; /* said by s_check_stats_zone() */
        else if (s.schema == STORE_SCHEMA_VERSION && x.acc_err == 0)
                s_check_stats(&t, &c, &x.acc);
        else if (s.schema == STORE_SCHEMA_VERSION)
                fprintf(report, "report counters: not checked: %s\n", strerror(-x.acc_err));
        s_acc_free(&x.acc);
        free(cc);
        free(zone);
        tz_free(&tz);
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
        seal_free(&s.seal);
        if (c.problems)
                return -EBADMSG;
        /* The report's counters could not be added up (out of memory): not known sound. */
        return x.acc_err < 0 ? x.acc_err : 0;
}
