/* test_stats.c: the report's arithmetic (stats.h): what a complaint contributes and to which
 * rows, the row encoding and its deltas, histogram buckets and percentiles; then the counters
 * the store keeps with them through store_put_complaint() as a complaint changes, and the
 * ledger order. Also the contact keys (contact.h) that link a complainant's complaints. */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "contact.h"
#include "stats.h"
#include "store.h"

CHECK_DEFINE_COUNTERS();

#define A(x) COMPLAINT__V1__ACTION__ACTION_##x
#define DAY_MS 86400000ll

/* The parts of a complaint the figures look at; strings point at literals. */
struct fixture {
        pb_complaint_t c;
        Complaint__V1__Clock response, resolution;
        pb_resolution_t res;
        pb_follow_up_t fu;
};

static void
s_fixture(struct fixture *f, uint64_t id, int64_t created)
{
        complaint__v1__complaint__init(&f->c);
        complaint__v1__clock__init(&f->response);
        complaint__v1__clock__init(&f->resolution);
        complaint__v1__resolution__init(&f->res);
        complaint__v1__follow_up__init(&f->fu);
        f->c.id = id;
        f->c.status = ST_NEW;
        f->c.channel = COMPLAINT__V1__CHANNEL__CHANNEL_PHONE;
        f->c.nature = COMPLAINT__V1__NATURE__NATURE_VALID;
        f->c.priority = COMPLAINT__V1__PRIORITY__PRIORITY_NORMAL;
        f->c.category = (char *)"billing";
        f->c.department = (char *)"";
        f->c.subject = (char *)"s";
        f->c.created_at_ms = created;
}

/* The fixture taken through assignment, acceptance after 100 ms, a resolution after 5000 ms
 * that missed its limit, an escalation to level 2, a reopening, and a follow-up scored 4. */
static void
s_closed(struct fixture *f)
{
        f->c.status = ST_CLOSED;
        f->c.department = (char *)"billing";
        f->response.kind = COMPLAINT__V1__CLOCK_KIND__CLOCK_KIND_RESPONSE;
        f->response.met = true;
        f->response.elapsed_ms = 100;
        f->response.stopped_by = A(ACCEPT);
        f->resolution.kind = COMPLAINT__V1__CLOCK_KIND__CLOCK_KIND_RESOLUTION;
        f->resolution.met = false;
        f->resolution.elapsed_ms = 5000;
        f->resolution.stopped_by = A(RESOLVE);
        f->c.response_clock = &f->response;
        f->c.resolution_clock = &f->resolution;
        f->c.max_level = 2;
        f->c.reopen_count = 1;
        f->res.responsibility = COMPLAINT__V1__RESPONSIBILITY__RESPONSIBILITY_COMPANY;
        f->res.compensation_cents = 1250;
        f->c.resolution = &f->res;
        f->fu.satisfaction = 4;
        f->c.follow_up = &f->fu;
        f->c.repeat = true;
}

static void
test_buckets(void)
{
        int64_t hist[STATS_BUCKETS] = {0};
        unsigned last = 0;

        for (int64_t v = 0; v < 16; v++) {
                CHECK_INT(stats_bucket(v), v);
                CHECK_INT(stats_bucket_upper(stats_bucket(v)), v);
        }
        for (int64_t v = 1; v < ((int64_t)1 << 40); v = v * 3 / 2 + 1) {
                unsigned b = stats_bucket(v);
                int64_t up = stats_bucket_upper(b);

                CHECK(b >= last);
                CHECK(up >= v && up <= v + v / 8 + 1);
                CHECK(b == 0 || stats_bucket_upper(b - 1) < v);
                last = b;
        }
        CHECK_INT(stats_bucket(-5), 0);
        CHECK_INT(stats_bucket(INT64_MAX), STATS_BUCKETS - 1);
        CHECK_INT(stats_bucket(100), 36);
        CHECK_INT(stats_bucket_upper(36), 103);

        CHECK_INT(stats_percentile(hist, 50), 0);
        for (int64_t v = 1; v <= 100; v++)
                hist[stats_bucket(v)]++;
        /* Nearest rank: the 50th and 90th of 100 values, rounded up to their bucket's top. */
        CHECK_INT(stats_percentile(hist, 50), 51);
        CHECK_INT(stats_percentile(hist, 90), stats_bucket_upper(stats_bucket(90)));
        CHECK_INT(stats_percentile(hist, 100), 103);
        memset(hist, 0, sizeof(hist));
        hist[stats_bucket(7)] = 1;
        CHECK_INT(stats_percentile(hist, 50), 7);
        CHECK_INT(stats_percentile(hist, 90), 7);
}

static void
test_contrib_and_keys(void)
{
        struct fixture f;
        struct stats_sparse v;
        struct stats_key keys[STATS_KEYS_MAX];
        struct stats_figures fig;
        int64_t sum[SF_COUNT] = {0};
        const uint8_t *value;
        size_t n, value_len;
        int dim;

        s_fixture(&f, 1, 0);
        stats_contrib(&f.c, &v);
        CHECK_INT(v.n, 1);
        CHECK_INT(v.e[0].field, SF_COMPLAINTS);
        n = stats_keys(&f.c, keys);
        CHECK_INT(n, 11); /* all: 6 rows; category scope: 5; no department scope yet */
        CHECK_INT(stats_key_split(keys[0].data, keys[0].len, &dim, &value, &value_len), 0);
        CHECK_INT(dim, STATS_DIM_TOTAL);
        CHECK_INT(value_len, 0);
        CHECK_INT(keys[0].data[0], 0); /* scope "" */

        s_closed(&f);
        stats_contrib(&f.c, &v);
        for (size_t i = 1; i < v.n; i++)
                CHECK(v.e[i - 1].field < v.e[i].field);
        stats_sparse_sum(&v, sum);
        stats_figures(sum, &fig);
        CHECK_INT(fig.f.complaints, 1);
        CHECK_INT(fig.f.accepted, 1);
        CHECK_INT(fig.f.response_met, 1);
        CHECK_INT(fig.f.resolved, 1);
        CHECK_INT(fig.f.resolution_timed, 1);
        CHECK_INT(fig.f.resolution_met, 0);
        CHECK_INT(fig.f.escalated, 1);
        CHECK_INT(fig.levels[1], 1);
        CHECK_INT(fig.f.closed, 1);
        CHECK_INT(fig.f.follow_ups, 1);
        CHECK_INT(fig.satisfaction[3], 1);
        CHECK(fig.f.satisfaction_avg == 4.0);
        CHECK(fig.f.follow_up_rate == 1.0);
        CHECK_INT(fig.f.reopened, 1);
        CHECK_INT(fig.f.reopens, 1);
        CHECK_INT(fig.responsibility[0], 1);
        CHECK_INT(fig.f.compensation_cents, 1250);
        CHECK_INT(fig.f.repeat, 1);
        CHECK_INT(fig.f.accept_p50_ms, stats_bucket_upper(stats_bucket(100)));
        CHECK_INT(fig.f.resolve_p90_ms, stats_bucket_upper(stats_bucket(5000)));
        n = stats_keys(&f.c, keys);
        CHECK_INT(n, 16);

        /* A response clock stopped by a dismissal was not answered. */
        f.c.status = ST_DISMISSED;
        f.response.stopped_by = A(DISMISS);
        stats_contrib(&f.c, &v);
        memset(sum, 0, sizeof(sum));
        stats_sparse_sum(&v, sum);
        CHECK_INT(sum[SF_ACCEPTED], 0);
        CHECK_INT(sum[SF_DISMISSED], 1);
        CHECK_INT(sum[SF_RESOLVED], 0);
        CHECK_INT(sum[SF_RESPONSIBILITY], 0);
}

static void
test_rows(void)
{
        struct fixture a, b;
        struct stats_sparse va, vb, d, none = {0};
        uint8_t row[STATS_ROW_MAX], row2[STATS_ROW_MAX];
        size_t len = 0, len2 = 0;
        int64_t sum[SF_COUNT] = {0}, want[SF_COUNT] = {0};
        const uint8_t bad[] = {0x80};

        s_fixture(&a, 1, 0);
        s_fixture(&b, 1, 0);
        s_closed(&b);
        stats_contrib(&a.c, &va);
        stats_contrib(&b.c, &vb);
        CHECK_INT(stats_row_apply(NULL, 0, &va, row, &len), 0);
        CHECK(len > 0);
        /* Twice a, then one of them becomes b. */
        CHECK_INT(stats_row_apply(row, len, &va, row2, &len2), 0);
        stats_diff(&vb, &va, &d);
        CHECK_INT(stats_row_apply(row2, len2, &d, row, &len), 0);
        CHECK_INT(stats_row_sum(row, len, sum), 0);
        stats_sparse_sum(&va, want);
        stats_sparse_sum(&vb, want);
        CHECK(memcmp(sum, want, sizeof(sum)) == 0);
        /* The same complaint unchanged: no delta at all. */
        stats_diff(&vb, &vb, &d);
        CHECK_INT(d.n, 0);
        /* Taking both away leaves an empty row. */
        stats_diff(&none, &va, &d);
        CHECK_INT(stats_row_apply(row, len, &d, row2, &len2), 0);
        stats_diff(&none, &vb, &d);
        CHECK_INT(stats_row_apply(row2, len2, &d, row, &len), 0);
        CHECK_INT(len, 0);
        /* Taking away what is not there is kept at zero and said so. */
        CHECK_INT(stats_row_apply(NULL, 0, &d, row, &len), 1);
        CHECK_INT(len, 0);
        CHECK_INT(stats_row_sum(bad, sizeof(bad), sum), -EBADMSG);
        CHECK_INT(stats_row_apply(bad, sizeof(bad), &va, row, &len), -EBADMSG);
}

/* What stats_pending_drain() hands over, summed densely by row (two rows at most here). */
struct drained {
        uint8_t key[2][4 + STATS_KEY_MAX];
        size_t key_len[2];
        int64_t sum[2][SF_COUNT];
        uint64_t last_id[2];
        int rows;
};

static int
s_drained(void *ctx, const uint8_t *key, size_t key_len, const struct stats_entry *e, size_t n,
          uint64_t last_id)
{
        struct drained *d = ctx;

        REQUIRE(d->rows < 2 && key_len <= sizeof(d->key[0]));
        memcpy(d->key[d->rows], key, key_len);
        d->key_len[d->rows] = key_len;
        for (size_t i = 0; i < n; i++) {
                CHECK(i == 0 || e[i - 1].field < e[i].field);
                d->sum[d->rows][e[i].field] += e[i].value;
        }
        d->last_id[d->rows++] = last_id;
        return 0;
}

/* The counter changes a transaction keeps until it commits: summed by row, undone to a mark,
 * kept after one, and handed over once, sorted, without the rows that cancelled out. */
static void
test_pending(void)
{
        struct fixture a, b;
        struct stats_sparse va, vb, neg = {0};
        struct stats_key keys[STATS_KEYS_MAX];
        struct drained d = {0};
        stats_pending_t *p = NULL;
        size_t n, mark;

        s_fixture(&a, 1, 0);
        s_fixture(&b, 2, 0);
        s_closed(&b);
        stats_contrib(&a.c, &va);
        stats_contrib(&b.c, &vb);
        n = stats_keys(&a.c, keys);
        REQUIRE(n >= 2);
        CHECK_INT(stats_pending_drain(p, s_drained, &d), 0); /* none yet: nothing to do */
        CHECK_INT(stats_pending_add(&p, 3, &keys[0], &va, 1, false), 0);
        REQUIRE(p != NULL);
        /* A nested transaction adds b to the same row and a to another, then is rolled back. */
        mark = stats_pending_mark(p);
        CHECK_INT(mark, 0);
        CHECK_INT(stats_pending_add(&p, 3, &keys[0], &vb, 2, true), 0);
        CHECK_INT(stats_pending_add(&p, 4, &keys[1], &va, 2, true), 0);
        CHECK(stats_pending_mark(p) > mark);
        stats_pending_rollback(p, mark);
        CHECK_INT(stats_pending_mark(p), mark);
        /* Another adds b again and is kept. */
        CHECK_INT(stats_pending_add(&p, 3, &keys[0], &vb, 2, true), 0);
        stats_pending_forget(p, mark);
        CHECK_INT(stats_pending_mark(p), 0);
        /* A delta that cancels a out of the first row entirely, then puts it back. */
        for (size_t i = 0; i < va.n; i++)
                neg.e[neg.n++] = (struct stats_entry){va.e[i].field, -va.e[i].value};
        CHECK_INT(stats_pending_add(&p, 3, &keys[0], &neg, 3, false), 0);
        CHECK_INT(stats_pending_add(&p, 3, &keys[0], &va, 1, false), 0);
        CHECK_INT(stats_pending_drain(p, s_drained, &d), 0);
        /* One row: (day 3, keys[0]) = a + b; the rolled-back row of day 4 is not there. */
        CHECK_INT(d.rows, 1);
        if (d.rows == 1) {
                int64_t want[SF_COUNT] = {0};

                stats_sparse_sum(&va, want);
                stats_sparse_sum(&vb, want);
                CHECK_INT(d.key_len[0], 4 + keys[0].len);
                CHECK(d.key[0][3] == 3 && memcmp(d.key[0] + 4, keys[0].data, keys[0].len) == 0);
                CHECK(memcmp(d.sum[0], want, sizeof(want)) == 0);
                CHECK_INT(d.last_id[0], 1);
        }
        /* Empty after a drain. */
        memset(&d, 0, sizeof(d));
        CHECK_INT(stats_pending_drain(p, s_drained, &d), 0);
        CHECK_INT(d.rows, 0);
        stats_pending_free(&p);
        CHECK(p == NULL);
        stats_pending_free(&p);
}

static void
test_contacts(void)
{
        char a[CONTACT_KEY_MAX], b[CONTACT_KEY_MAX];

        CHECK(contact_phone_key("+49 30 1234 567", "49", a) > 0);
        CHECK_STR(a, "p:49301234567");
        CHECK(contact_phone_key("0049 (30) 1234-567", "49", b) > 0);
        CHECK_STR(b, a);
        CHECK(contact_phone_key("030 1234567", "49", b) > 0);
        CHECK_STR(b, a);
        CHECK(contact_phone_key(" 030/123.45.67", "49", b) > 0);
        CHECK_STR(b, a);
        CHECK(contact_phone_key("030 1234567", NULL, b) > 0);
        CHECK_STR(b, "p:0301234567");
        CHECK(contact_phone_key("+44 20 7946 0000", "49", b) > 0);
        CHECK_STR(b, "p:442079460000");
        /* The trunk "0" written after the country code. */
        CHECK(contact_phone_key("+49 (0)30 1234567", "49", b) > 0);
        CHECK_STR(b, a);
        CHECK(contact_phone_key("+49 030 1234567", "49", b) > 0);
        CHECK_STR(b, a);
        CHECK(contact_phone_key("0049 (0) 30 1234567", "49", b) > 0);
        CHECK_STR(b, a);
        CHECK_INT(contact_phone_key("12345", "49", b), 0);
        CHECK_INT(contact_phone_key("", "49", b), 0);
        /* Placeholders link nobody. */
        CHECK_INT(contact_phone_key("0000000000", "49", b), 0);
        CHECK_INT(contact_phone_key("9999999", NULL, b), 0);
        CHECK_INT(contact_phone_key("+49 0000000", "49", b), 0);
        CHECK_INT(contact_phone_key("+49 1111111", "49", b), 0);
        CHECK(contact_email_key("  Ann.Smith@Example.ORG ", a) > 0);
        CHECK_STR(a, "e:ann.smith@example.org");
        CHECK_INT(contact_email_key("   ", a), 0);
}

/* ------------------------------------------------------------- in the store */

struct collect {
        int64_t total[SF_COUNT];
        int64_t by_category[SF_COUNT];
        size_t rows;
};

static int
s_collect(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *row, size_t row_len)
{
        struct collect *c = ctx;
        const uint8_t *value;
        size_t value_len;
        int dim;

        c->rows++;
        if (stats_key_split(key, key_len, &dim, &value, &value_len) < 0)
                return -EBADMSG;
        if (dim == STATS_DIM_TOTAL)
                return stats_row_sum(row, row_len, c->total);
        if (dim == STATS_DIM_CATEGORY && value_len == 7 && memcmp(value, "billing", 7) == 0)
                return stats_row_sum(row, row_len, c->by_category);
        return 0;
}

static void
s_put(store_t *s, const pb_complaint_t *c, const pb_complaint_t *old)
{
        store_txn_t *t;

        REQUIRE(store_begin(s, true, &t) == 0);
        CHECK_INT(store_put_complaint(t, c, old), 0);
        REQUIRE(store_commit(&t) == 0);
}

static void
test_store(void)
{
        char dir[] = "/tmp/test_stats.XXXXXX";
        struct fixture a, a2, b;
        struct collect col = {0};
        struct store_ledger_pos pos, next;
        uint8_t scope[16];
        store_t *s = NULL;
        store_txn_t *t;
        uint64_t ids[4];
        size_t n = 0, scope_len = stats_scope(NULL, NULL, scope, sizeof(scope));
        const int64_t day3 = 3 * DAY_MS;

        REQUIRE(mkdtemp(dir) != NULL);
        REQUIRE(store_open(dir, 1ull << 30, &s) == 0);
        s_fixture(&a, 1, day3 + 1000);
        s_fixture(&b, 2, day3 + 500); /* created earlier than 1: the ledger sorts by time */
        s_put(s, &a.c, NULL);
        s_put(s, &b.c, NULL);
        s_fixture(&a2, 1, day3 + 1000);
        s_closed(&a2);
        s_put(s, &a2.c, &a.c);

        REQUIRE(store_begin(s, false, &t) == 0);
        CHECK_INT(store_stats_rows(t, 3, 4, scope, scope_len, s_collect, &col), 0);
        CHECK_INT(col.total[SF_COMPLAINTS], 2);
        CHECK_INT(col.total[SF_CLOSED], 1);
        CHECK_INT(col.total[SF_FOLLOW_UPS], 1);
        CHECK_INT(col.by_category[SF_COMPLAINTS], 2);
        /* total, category, nature, priority, channel: one row each; department: "" and billing */
        CHECK_INT(col.rows, 7);
        memset(&col, 0, sizeof(col));
        CHECK_INT(store_stats_rows(t, 0, 3, scope, scope_len, s_collect, &col), 0);
        CHECK_INT(col.rows, 0);
        /* The ledger: the one not closed first, then the closed one. */
        CHECK_INT(store_ledger_next(t, NULL, day3, day3 + DAY_MS, &pos), 0);
        CHECK_INT(pos.id, 2);
        CHECK(!pos.complete);
        CHECK_INT(store_ledger_next(t, &pos, day3, day3 + DAY_MS, &next), 0);
        CHECK_INT(next.id, 1);
        CHECK(next.complete);
        CHECK_INT(store_ledger_next(t, &next, day3, day3 + DAY_MS, &pos), -ENOENT);
        CHECK_INT(store_ledger_next(t, NULL, day3 + 600, day3 + DAY_MS, &pos), 0);
        CHECK_INT(pos.id, 1);
        store_abort(&t);
        store_close(&s);
        /* The store's own check agrees with the counters it kept. (Before the contact entries
         * below, which name no complainant: the check would report them.) */
        CHECK_INT(store_check(dir, stderr), 0);

        REQUIRE(store_open(dir, 1ull << 30, &s) == 0);
        REQUIRE(store_begin(s, true, &t) == 0);
        CHECK_INT(store_put_contact(t, "p:49301234567", 100, 1), 0);
        CHECK_INT(store_put_contact(t, "p:49301234567", 200, 2), 0);
        CHECK_INT(store_put_contact(t, "p:4930123456", 300, 3), 0);
        CHECK_INT(store_contact_ids(t, "p:49301234567", 0, ids, 4, &n), 0);
        CHECK_INT(n, 2);
        CHECK_INT(ids[0], 2);
        CHECK_INT(ids[1], 1);
        CHECK_INT(store_contact_ids(t, "p:49301234567", 150, ids, 4, &n), 0);
        CHECK_INT(n, 1);
        REQUIRE(store_commit(&t) == 0);
        store_close(&s);
        check_rm_tree(dir);
}

/* A batch as the daemon runs one: a nested transaction per request, one rolled back. The
 * counters it commits are those of the requests kept, a write transaction reads its own, and
 * the store's check agrees with them. */
static void
test_store_batch(void)
{
        char dir[] = "/tmp/test_stats.XXXXXX";
        struct fixture f[4];
        struct collect col = {0};
        uint8_t scope[16];
        store_t *s = NULL;
        store_txn_t *t, *child;
        size_t scope_len = stats_scope(NULL, NULL, scope, sizeof(scope));

        REQUIRE(mkdtemp(dir) != NULL);
        REQUIRE(store_open(dir, 1ull << 30, &s) == 0);
        REQUIRE(store_begin(s, true, &t) == 0);
        for (uint64_t i = 0; i < 4; i++) {
                s_fixture(&f[i], i + 1, 5 * DAY_MS + 1000 * (int64_t)i);
                REQUIRE(store_begin_nested(t, &child) == 0);
                CHECK_INT(store_put_complaint(child, &f[i].c, NULL), 0);
                if (i == 2)
                        store_abort(&child); /* a request that failed half-way */
                else
                        CHECK_INT(store_commit(&child), 0);
        }
        /* Complaint 1 closed within the same batch: its new-state delta meets its first. */
        s_fixture(&f[0], 1, 5 * DAY_MS);
        s_closed(&f[0]);
        {
                struct fixture was;

                s_fixture(&was, 1, 5 * DAY_MS);
                REQUIRE(store_begin_nested(t, &child) == 0);
                CHECK_INT(store_put_complaint(child, &f[0].c, &was.c), 0);
                CHECK_INT(store_commit(&child), 0);
        }
        CHECK_INT(store_stats_rows(t, 5, 6, scope, scope_len, s_collect, &col), 0);
        CHECK_INT(col.total[SF_COMPLAINTS], 3);
        CHECK_INT(col.total[SF_CLOSED], 1);
        REQUIRE(store_commit(&t) == 0);

        memset(&col, 0, sizeof(col));
        REQUIRE(store_begin(s, false, &t) == 0);
        CHECK_INT(store_stats_rows(t, 5, 6, scope, scope_len, s_collect, &col), 0);
        CHECK_INT(col.total[SF_COMPLAINTS], 3);
        CHECK_INT(col.total[SF_CLOSED], 1);
        CHECK_INT(col.total[SF_FOLLOW_UPS], 1);
        store_abort(&t);
        /* A batch that is aborted leaves no counters behind. */
        REQUIRE(store_begin(s, true, &t) == 0);
        s_fixture(&f[2], 3, 5 * DAY_MS + 2000);
        CHECK_INT(store_put_complaint(t, &f[2].c, NULL), 0);
        store_abort(&t);
        store_close(&s);
        CHECK_INT(store_check(dir, stderr), 0);
        check_rm_tree(dir);
}

/* A store that fills while a commit writes its counter rows: the commit fails with -ENOSPC,
 * nothing of that transaction stays, and the records and counters still agree. */
static void
test_store_full_at_commit(void)
{
        char dir[] = "/tmp/test_stats.XXXXXX";
        store_t *s = NULL;
        store_txn_t *t;
        uint64_t id = 0;
        int r = 0, at_commit = 0;

        REQUIRE(mkdtemp(dir) != NULL);
        REQUIRE(store_open(dir, 1 << 20, &s) == 0); /* a 1 MiB ceiling */
        for (int round = 0; round < 100 && r == 0; round++) {
                REQUIRE(store_begin(s, true, &t) == 0);
                /* Each complaint on a day of its own: its 16 rows are all new rows. */
                for (int i = 0; i < 100 && r == 0; i++) {
                        struct fixture f;

                        id++;
                        s_fixture(&f, id, (int64_t)id * DAY_MS);
                        r = store_put_complaint(t, &f.c, NULL);
                }
                if (r == 0) {
                        r = store_commit(&t);
                        at_commit += r == -ENOSPC;
                } else {
                        store_abort(&t);
                }
                if (r == -ENOSPC && store_grow(s) == 0)
                        r = 0;
        }
        CHECK_INT(r, -ENOSPC);
        CHECK_INT(at_commit, 1);
        store_close(&s);
        CHECK_INT(store_check(dir, stderr), 0);
        check_rm_tree(dir);
}

/* The complaints of local day day (of the counters' zone), from the counters alone. */
static int64_t
s_day_total(store_t *s, uint32_t day)
{
        struct collect col = {0};
        uint8_t scope[16];
        size_t scope_len = stats_scope(NULL, NULL, scope, sizeof(scope));
        store_txn_t *t;

        REQUIRE(store_begin(s, false, &t) == 0);
        CHECK_INT(store_stats_rows(t, day, day + 1, scope, scope_len, s_collect, &col), 0);
        store_abort(&t);
        return col.total[SF_COMPLAINTS];
}

static bool
s_rebuilding(store_t *s, uint64_t *ret_next)
{
        store_txn_t *t;
        bool r;

        REQUIRE(store_begin(s, false, &t) == 0);
        r = store_stats_rebuilding(t, ret_next) == 0;
        store_abort(&t);
        return r;
}

/* Local days: the day of an instant and where a day begins, in zones east and west of UTC and
 * across a change of offset; then the counters of a store keyed by them, rebuilt in steps
 * when the zone changes, with changes made while the rebuild runs. */
static void
test_local_days(void)
{
        char dir[] = "/tmp/test_stats.XXXXXX";
        /* 2026-10-31T15:30Z and 16:30Z: 23:30 on 31 October and 00:30 on 1 November in
         * Shanghai (UTC+8); 11:30 and 12:30 on 31 October in New York (UTC-4). */
        const int64_t a_at = 1793460600000, b_at = a_at + 3600000;
        const uint32_t oct31 = (uint32_t)tz_days_from_civil(2026, 10, 31);
        struct fixture a, b, b2, c, a2;
        tz_t *sh = NULL, *ny = NULL, *utc = NULL;
        store_t *s = NULL;
        uint64_t next = 0;
        uint32_t n, steps = 0;
        bool started = false, done = false;

        REQUIRE(tz_load("Asia/Shanghai", &sh) == 0);
        REQUIRE(tz_load("America/New_York", &ny) == 0);
        REQUIRE(tz_load("UTC", &utc) == 0);
        CHECK_INT(store_local_day(utc, a_at), oct31);
        CHECK_INT(store_local_day(utc, b_at), oct31);
        CHECK_INT(store_local_day(sh, a_at), oct31);
        CHECK_INT(store_local_day(sh, b_at), oct31 + 1);
        CHECK_INT(store_local_day(ny, b_at), oct31);
        /* Shanghai's 1 November began at 16:00 UTC the day before. */
        CHECK_INT(store_local_day_start(sh, oct31 + 1), a_at + 30 * 60000);
        CHECK_INT(store_local_day(sh, a_at + 30 * 60000), oct31 + 1);
        CHECK_INT(store_local_day(sh, a_at + 30 * 60000 - 1), oct31);
        /* New York's 1 November has 25 hours (EDT ends at 02:00): 04:00Z to 05:00Z next day. */
        CHECK_INT(store_local_day_start(ny, oct31 + 1), 1793505600000);
        CHECK_INT(store_local_day_start(ny, oct31 + 2) - store_local_day_start(ny, oct31 + 1),
                  25 * 3600000ll);
        /* Before 1970 everything is day 0. */
        CHECK_INT(store_local_day(ny, 0), 0);
        CHECK_INT(store_local_day(utc, -1), 0);

        REQUIRE(mkdtemp(dir) != NULL);
        REQUIRE(store_open(dir, 1ull << 30, &s) == 0);
        CHECK_STR(store_stats_zone(s), "UTC");
        s_fixture(&a, 1, a_at);
        s_fixture(&b, 2, b_at);
        s_put(s, &a.c, NULL);
        s_put(s, &b.c, NULL);
        CHECK_INT(s_day_total(s, oct31), 2);
        CHECK_INT(s_day_total(s, oct31 + 1), 0);

        /* To Shanghai: emptied, and rebuilt a complaint a step. */
        CHECK_INT(store_set_stats_zone(s, "Asia/Shanghai", &started), 0);
        CHECK(started);
        CHECK_STR(store_stats_zone(s), "Asia/Shanghai");
        CHECK(s_rebuilding(s, &next));
        CHECK_INT(next, 1);
        CHECK_INT(s_day_total(s, oct31), 0);
        {
                store_txn_t *t;

                REQUIRE(store_begin(s, true, &t) == 0);
                CHECK_INT(store_stats_rebuild_step(t, 1, &n, &done), 0);
                CHECK_INT(n, 1);
                CHECK(!done);
                REQUIRE(store_commit(&t) == 0);
        }
        CHECK(s_rebuilding(s, &next));
        CHECK_INT(next, 2);
        CHECK_INT(s_day_total(s, oct31), 1);
        /* Half-way: the offline check checks what the rebuild counted so far; a reopened
         * store goes on where the last step ended. */
        store_close(&s);
        {
                char *out = NULL;
                size_t len = 0;
                FILE *f = open_memstream(&out, &len);

                REQUIRE(f != NULL);
                CHECK_INT(store_check(dir, f), 0);
                fclose(f);
                CHECK(strstr(out, "being rebuilt for zone Asia/Shanghai, complaints below 2") !=
                      NULL);
                free(out);
        }
        REQUIRE(store_open(dir, 1ull << 30, &s) == 0);
        CHECK_STR(store_stats_zone(s), "Asia/Shanghai");
        CHECK(s_rebuilding(s, &next));
        CHECK_INT(next, 2);
        /* Changes meanwhile: to a complaint counted (1, closed), to one not yet (2, closed),
         * and a new one (3): the first goes to the counters now, the others with the rebuild. */
        s_fixture(&a2, 1, a_at);
        s_closed(&a2);
        s_put(s, &a2.c, &a.c);
        s_fixture(&b2, 2, b_at);
        s_closed(&b2);
        s_put(s, &b2.c, &b.c);
        s_fixture(&c, 3, b_at + 1000);
        s_put(s, &c.c, NULL);
        CHECK_INT(s_day_total(s, oct31), 1);
        CHECK_INT(s_day_total(s, oct31 + 1), 0);
        for (done = false; !done && steps < 10; steps++) {
                store_txn_t *t;

                REQUIRE(store_begin(s, true, &t) == 0);
                CHECK_INT(store_stats_rebuild_step(t, 1, &n, &done), 0);
                REQUIRE(store_commit(&t) == 0);
        }
        CHECK(done);
        CHECK_INT(steps, 2);
        CHECK(!s_rebuilding(s, NULL));
        CHECK_INT(s_day_total(s, oct31), 1);
        CHECK_INT(s_day_total(s, oct31 + 1), 2);
        /* The same zone again: nothing to do. A step with none under way is done at once. */
        CHECK_INT(store_set_stats_zone(s, "Asia/Shanghai", &started), 0);
        CHECK(!started);
        {
                store_txn_t *t;

                REQUIRE(store_begin(s, true, &t) == 0);
                CHECK_INT(store_stats_rebuild_step(t, 5, &n, &done), 0);
                CHECK(done);
                CHECK_INT(n, 0);
                store_abort(&t);
        }
        /* An unknown zone changes nothing. */
        CHECK(store_set_stats_zone(s, "Nowhere/Town", &started) < 0);
        CHECK_STR(store_stats_zone(s), "Asia/Shanghai");
        store_close(&s);
        CHECK_INT(store_check(dir, stderr), 0);
        /* Recorded: a reopened store keys by Shanghai's days. */
        REQUIRE(store_open(dir, 1ull << 30, &s) == 0);
        CHECK_STR(store_stats_zone(s), "Asia/Shanghai");
        CHECK_INT(s_day_total(s, oct31 + 1), 2);
        store_close(&s);
        check_rm_tree(dir);

        /* A store without complaints takes a new zone without a rebuild. */
        {
                char empty[] = "/tmp/test_stats.XXXXXX";

                REQUIRE(mkdtemp(empty) != NULL);
                REQUIRE(store_open(empty, 1ull << 30, &s) == 0);
                CHECK_INT(store_set_stats_zone(s, "America/New_York", &started), 0);
                CHECK(!started);
                CHECK(!s_rebuilding(s, NULL));
                CHECK_STR(store_stats_zone(s), "America/New_York");
                store_close(&s);
                check_rm_tree(empty);
        }
        tz_free(&sh);
        tz_free(&ny);
        tz_free(&utc);
}

/* Copies the system's zone from into dir/Centre, the zone every store below is keyed in. */
static void
s_centre_zone(const char *dir, const char *from)
{
        char cmd[PATH_MAX * 2 + 64];

        snprintf(cmd, sizeof(cmd), "cp /usr/share/zoneinfo/%s %s/Centre", from, dir);
        REQUIRE(system(cmd) == 0);
}

/* Rebuilds the counters of s to the end, a complaint a step; the steps taken. */
static uint32_t
s_rebuild_all(store_t *s)
{
        uint32_t n, steps = 0;
        bool done = false;

        for (; !done && steps < 100; steps++) {
                store_txn_t *t;

                REQUIRE(store_begin(s, true, &t) == 0);
                CHECK_INT(store_stats_rebuild_step(t, 1, &n, &done), 0);
                REQUIRE(store_commit(&t) == 0);
        }
        CHECK(done);
        return steps;
}

/* The counters are keyed by the zone's rules, not only its name: a tzdata update that changes
 * the rules of the centre's zone, and a zone that could not be read when the store was opened,
 * rebuild them under the same name. The zone "Centre" is Shanghai's rules, then Tokyo's. */
static void
test_zone_rules(void)
{
        char zi[] = "/tmp/test_stats_zi.XXXXXX", dir[] = "/tmp/test_stats.XXXXXX";
        /* 2026-10-31T15:30Z: 23:30 on 31 October in Shanghai (UTC+8), 00:30 on 1 November in
         * Tokyo (UTC+9). */
        const int64_t at = 1793460600000;
        const uint32_t oct31 = (uint32_t)tz_days_from_civil(2026, 10, 31);
        struct fixture a;
        store_t *s = NULL;
        bool started = false;

        REQUIRE(mkdtemp(zi) != NULL);
        REQUIRE(mkdtemp(dir) != NULL);
        REQUIRE(setenv("COMPLAINTD_ZONEINFO", zi, 1) == 0);
        s_centre_zone(zi, "Asia/Shanghai");
        REQUIRE(store_open(dir, 1ull << 30, &s) == 0);
        s_fixture(&a, 1, at);
        s_put(s, &a.c, NULL);
        /* A store whose rules were never recorded (as every store kept before they were) takes
         * today's rules of its zone for its own: no rebuild. */
        CHECK_STR(store_stats_zone(s), "UTC");
        CHECK_INT(store_set_stats_zone(s, "UTC", &started), 0);
        CHECK(!started);
        CHECK(!s_rebuilding(s, NULL));
        store_close(&s);
        REQUIRE(store_open(dir, 1ull << 30, &s) == 0);
        CHECK_INT(store_set_stats_zone(s, "UTC", &started), 0);
        CHECK(!started);
        CHECK_INT(store_set_stats_zone(s, "Centre", &started), 0);
        CHECK(started);
        s_rebuild_all(s);
        CHECK_INT(s_day_total(s, oct31), 1);
        /* Same name, same rules: nothing to do, across a reopen too. */
        CHECK_INT(store_set_stats_zone(s, "Centre", &started), 0);
        CHECK(!started);
        store_close(&s);
        REQUIRE(store_open(dir, 1ull << 30, &s) == 0);
        CHECK_INT(store_set_stats_zone(s, "Centre", &started), 0);
        CHECK(!started);
        store_close(&s);

        /* tzdata changed Centre's rules: the same name rebuilds, and the complaint moves to
         * Tokyo's 1 November. */
        s_centre_zone(zi, "Asia/Tokyo");
        REQUIRE(store_open(dir, 1ull << 30, &s) == 0);
        CHECK_INT(store_set_stats_zone(s, "Centre", &started), 0);
        CHECK(started);
        s_rebuild_all(s);
        CHECK_INT(s_day_total(s, oct31), 0);
        CHECK_INT(s_day_total(s, oct31 + 1), 1);
        store_close(&s);
        CHECK_INT(store_check(dir, stderr), 0);

        /* Centre unreadable when the store opens (taken for UTC), readable when the daemon sets
         * it: rebuilt, not kept by UTC days under Centre's name. */
        {
                char path[PATH_MAX];

                snprintf(path, sizeof(path), "%s/Centre", zi);
                REQUIRE(unlink(path) == 0);
        }
        REQUIRE(store_open(dir, 1ull << 30, &s) == 0);
        s_centre_zone(zi, "Asia/Tokyo");
        CHECK_INT(store_set_stats_zone(s, "Centre", &started), 0);
        CHECK(started);
        s_rebuild_all(s);
        CHECK_INT(s_day_total(s, oct31 + 1), 1);
        store_close(&s);
        CHECK_INT(store_check(dir, stderr), 0);
        REQUIRE(unsetenv("COMPLAINTD_ZONEINFO") == 0);
        check_rm_tree(dir);
        check_rm_tree(zi);
}

int
main(void)
{
        test_buckets();
        test_contrib_and_keys();
        test_rows();
        test_pending();
        test_contacts();
        test_store();
        test_store_batch();
        test_store_full_at_commit();
        test_local_days();
        test_zone_rules();
        return check_summary();
}
