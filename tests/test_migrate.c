/* test_migrate.c: schema upgrades (the clocks, report counters, ledger and contact index of
 * schema 3, in a map the migration outgrows; the zone of the counters, schema 8), refusal of newer
 * stores, offline checks (drifted counters and contact entries among them) and backups. The
 * fixtures are written with LMDB directly, as the previous daemon laid them out, so the test does
 * not depend on the code it checks to make them. */
#include <errno.h>
#include <stdio.h>
#include <ftw.h>
#include <lmdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "clock.h"
#include "seal.h"
#include "stats.h"
#include "store.h"

CHECK_DEFINE_COUNTERS();

static void
s_be64(uint8_t *p, uint64_t v)
{
        for (int i = 7; i >= 0; i--, v >>= 8)
                p[i] = (uint8_t)v;
}

/* A store of schema `schema` holding `n` events on alternating department topics, as
 * schema 1 wrote them: no stream, no offset, no stream index. */
static void
s_fixture(const char *dir, uint32_t schema, int n)
{
        MDB_env *env;
        MDB_txn *txn;
        MDB_dbi meta = 0, events = 0;
        uint8_t sv[4] = {(uint8_t)(schema >> 24), (uint8_t)(schema >> 16), (uint8_t)(schema >> 8),
                         (uint8_t)schema};
        MDB_val k = {6, (void *)"schema"}, v = {4, sv};
        static const char *const names[] = {"meta",     "complaints", "history", "events",
                                            "requests", "by_status",  "by_dept", "by_category",
                                            "overdue",  "deadlines",  "policies"};

        mkdir(dir, 0750);
        REQUIRE(mdb_env_create(&env) == 0);
        mdb_env_set_maxdbs(env, 16);
        REQUIRE(mdb_env_open(env, dir, 0, 0640) == 0);
        REQUIRE(mdb_txn_begin(env, NULL, 0, &txn) == 0);
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
                MDB_dbi d;

                REQUIRE(mdb_dbi_open(txn, names[i], MDB_CREATE, &d) == 0);
                if (i == 0)
                        meta = d;
                if (i == 3)
                        events = d;
        }
        REQUIRE(mdb_put(txn, meta, &k, &v, 0) == 0);
        {
                /* One stored reply, keyed as schema 3 and before did: actor \0 request id. */
                MDB_dbi requests;
                uint8_t val[8 + 5] = {0, 0, 0, 0, 0, 0, 0, 42, 'r', 'e', 'p', 'l', 'y'};
                MDB_val rk = {sizeof("agent-1") + sizeof("rid-1") - 1, (void *)"agent-1\0rid-1"},
                        rv = {sizeof(val), val};

                REQUIRE(mdb_dbi_open(txn, "requests", 0, &requests) == 0);
                REQUIRE(mdb_put(txn, requests, &rk, &rv, 0) == 0);
        }
        for (int i = 1; i <= n; i++) {
                pb_event_t ev = COMPLAINT__V1__EVENT__INIT;
                uint8_t kb[8], buf[256];
                MDB_val ek = {8, kb}, evv;

                ev.seq = (uint64_t)i;
                ev.topic = (char *)(i % 2 ? "billing/created" : "network/assigned");
                ev.at_ms = 1700000000000 + i;
                evv = (MDB_val){protobuf_c_message_pack(&ev.base, buf), buf};
                s_be64(kb, (uint64_t)i);
                REQUIRE(mdb_put(txn, events, &ek, &evv, 0) == 0);
        }
        REQUIRE(mdb_txn_commit(txn) == 0);
        mdb_env_close(env);
}

/* Whether dir/data.mdb holds the bytes of needle anywhere, free pages included. */
static bool
s_file_holds(const char *dir, const char *needle)
{
        char path[4096];
        size_t n = strlen(needle), len = 0, cap = 0;
        uint8_t *buf = NULL;
        bool found = false;
        FILE *f;

        snprintf(path, sizeof(path), "%s/data.mdb", dir);
        f = fopen(path, "rb");
        REQUIRE(f != NULL);
        for (;;) {
                size_t got;

                if (len == cap) {
                        cap = cap ? 2 * cap : 1 << 20;
                        buf = realloc(buf, cap);
                        REQUIRE(buf != NULL);
                }
                got = fread(buf + len, 1, cap - len, f);
                if (got == 0)
                        break;
                len += got;
        }
        fclose(f);
        for (size_t i = 0; i + n <= len && !found; i++)
                found = memcmp(buf + i, needle, n) == 0;
        free(buf);
        return found;
}

/* ------------------------------------------------------------ schema 2 fixtures */

#define A(x) COMPLAINT__V1__ACTION__ACTION_##x
#define DAY_MS 86400000ll
#define HOUR_MS 3600000ll
#define MIN_MS 60000ll
/* Monday 2024-01-08 00:00 UTC, day 19730 since the epoch. */
#define MONDAY 1704672000000ll
#define MONDAY_DAY 19730
#define T(d, h, m) (MONDAY + (d)*DAY_MS + (h)*HOUR_MS + (m)*MIN_MS)
#define POLICY_ID 77

/* A store as the schema 2 daemon laid it out: its tables, written with LMDB directly. */
struct fx {
        MDB_env *env;
        MDB_txn *txn;
        MDB_dbi meta, complaints, history, events, by_status, by_dept, by_category, policies;
        uint64_t event_seq;
};

static void
s_fx_open(struct fx *f, const char *dir, size_t map)
{
        static const char *const names[] = {"meta",     "complaints", "history",  "events",
                                            "requests", "by_status",  "by_dept",  "by_category",
                                            "overdue",  "deadlines",  "policies", "streams"};
        MDB_dbi *slots[] = {&f->meta, &f->complaints, &f->history,  &f->events,
                            NULL,     &f->by_status,  &f->by_dept,  &f->by_category,
                            NULL,     NULL,           &f->policies, NULL};
        uint8_t sv[4] = {0, 0, 0, 2};
        MDB_val k = {6, (void *)"schema"}, v = {4, sv};

        *f = (struct fx){0};
        mkdir(dir, 0750);
        REQUIRE(mdb_env_create(&f->env) == 0);
        mdb_env_set_maxdbs(f->env, 16);
        if (map)
                REQUIRE(mdb_env_set_mapsize(f->env, map) == 0);
        REQUIRE(mdb_env_open(f->env, dir, 0, 0640) == 0);
        REQUIRE(mdb_txn_begin(f->env, NULL, 0, &f->txn) == 0);
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
                MDB_dbi d;

                REQUIRE(mdb_dbi_open(f->txn, names[i], MDB_CREATE, &d) == 0);
                if (slots[i])
                        *slots[i] = d;
        }
        REQUIRE(mdb_put(f->txn, f->meta, &k, &v, 0) == 0);
}

/* Commits what was written, and goes on in a new transaction. */
static void
s_fx_flush(struct fx *f)
{
        REQUIRE(mdb_txn_commit(f->txn) == 0);
        REQUIRE(mdb_txn_begin(f->env, NULL, 0, &f->txn) == 0);
}

static void
s_fx_close(struct fx *f)
{
        REQUIRE(mdb_txn_commit(f->txn) == 0);
        mdb_env_close(f->env);
}

static void
s_fx_put(struct fx *f, MDB_dbi dbi, const void *key, size_t key_len, const ProtobufCMessage *m,
         unsigned flags)
{
        size_t len = m ? protobuf_c_message_get_packed_size(m) : 0;
        uint8_t *buf = malloc(len + 1);
        MDB_val k = {key_len, (void *)(uintptr_t)key}, v = {len, buf};

        REQUIRE(buf != NULL);
        if (m)
                protobuf_c_message_pack(m, buf);
        REQUIRE(mdb_put(f->txn, dbi, &k, &v, flags) == 0);
        free(buf);
}

/* A record with its status, department and category indexes and its status counter. */
static void
s_fx_complaint(struct fx *f, const pb_complaint_t *c)
{
        uint8_t kb[300], cb[8];
        char name[32];
        size_t n;
        MDB_val k, v;
        uint64_t count = 0;

        s_be64(kb, c->id);
        s_fx_put(f, f->complaints, kb, 8, &c->base, MDB_APPEND);
        kb[0] = (uint8_t)c->status;
        s_be64(kb + 1, c->id);
        s_fx_put(f, f->by_status, kb, 9, NULL, 0);
        if (c->department[0]) {
                n = strlen(c->department) + 1;
                memcpy(kb, c->department, n);
                s_be64(kb + n, c->id);
                s_fx_put(f, f->by_dept, kb, n + 8, NULL, 0);
        }
        n = strlen(c->category) + 1;
        memcpy(kb, c->category, n);
        s_be64(kb + n, c->id);
        s_fx_put(f, f->by_category, kb, n + 8, NULL, 0);
        snprintf(name, sizeof(name), "count/%d", c->status);
        k = (MDB_val){strlen(name), name};
        if (mdb_get(f->txn, f->meta, &k, &v) == 0)
                for (int i = 0; i < 8; i++)
                        count = count << 8 | ((const uint8_t *)v.mv_data)[i];
        s_be64(cb, count + 1);
        v = (MDB_val){8, cb};
        REQUIRE(mdb_put(f->txn, f->meta, &k, &v, 0) == 0);
        s_be64(cb, c->id);
        k = (MDB_val){7, (void *)"next_id"};
        REQUIRE(mdb_put(f->txn, f->meta, &k, &v, 0) == 0);
}

/* History entry seq of complaint id, with the event that published it. */
static void
s_fx_history(struct fx *f, uint64_t id, uint32_t seq, int64_t at, int action)
{
        pb_history_t h = COMPLAINT__V1__HISTORY_ENTRY__INIT;
        pb_event_t ev = COMPLAINT__V1__EVENT__INIT;
        uint8_t kb[12];

        ev.seq = ++f->event_seq;
        ev.topic = (char *)"billing/changed";
        ev.at_ms = at;
        s_be64(kb, ev.seq);
        s_fx_put(f, f->events, kb, 8, &ev.base, MDB_APPEND);
        h.complaint_id = id;
        h.seq = seq;
        h.at_ms = at;
        h.action = action;
        h.event_seq = ev.seq;
        s_be64(kb, id);
        kb[8] = (uint8_t)(seq >> 24);
        kb[9] = (uint8_t)(seq >> 16);
        kb[10] = (uint8_t)(seq >> 8);
        kb[11] = (uint8_t)seq;
        s_fx_put(f, f->history, kb, 12, &h.base, 0);
}

/* Working hours Monday to Friday 09:00-17:00 UTC. */
static void
s_fx_policy(struct fx *f)
{
        pb_policy_t pol = COMPLAINT__V1__POLICY__INIT;
        Complaint__V1__Policy__Interval iv[5], *ivp[5];
        uint8_t kb[8];

        for (int i = 0; i < 5; i++) {
                complaint__v1__policy__interval__init(&iv[i]);
                iv[i].weekday = (uint32_t)i + 1;
                iv[i].start_min = 9 * 60;
                iv[i].end_min = 17 * 60;
                ivp[i] = &iv[i];
        }
        pol.department = (char *)"billing";
        pol.calendar = (char *)"office";
        pol.zone = (char *)"UTC";
        pol.hours = ivp;
        pol.n_hours = 5;
        s_be64(kb, POLICY_ID);
        s_fx_put(f, f->policies, kb, 8, &pol.base, 0);
}

/* A clock as schema 2 stopped it: no stopped_by, no elapsed_ms. */
static void
s_clock(pb_clock_t *k, int kind, uint64_t policy, int64_t started, int64_t stopped)
{
        complaint__v1__clock__init(k);
        k->kind = kind;
        k->department = (char *)"billing";
        k->policy_id = policy;
        k->started_at_ms = started;
        k->level_started_at_ms = started;
        k->running = stopped == 0;
        k->stopped_at_ms = stopped;
        k->met = stopped != 0;
}

static void
s_complaint(pb_complaint_t *c, uint64_t id, int status, int64_t created)
{
        complaint__v1__complaint__init(c);
        c->id = id;
        c->status = status;
        c->department = (char *)"billing";
        c->category = (char *)"billing";
        c->subject = (char *)"Charged twice";
        c->created_at_ms = created;
        c->updated_at_ms = created;
}

/* Three complaints on an office-hours calendar, their clocks stopped by schema 2:
 *   1  accepted: response clock from Monday 16:00 to Tuesday 10:00, 2 business hours (an
 *      accept and a note share the instant it stopped);
 *   2  resolved: response clock Monday 10:00-11:00, 1 hour; resolution clock Monday 10:00 to
 *      Wednesday 10:00 (16 business hours) with 5.5 of them paused, 10.5 hours;
 *   3  dismissed: its response clock's policy is not stored, so real time counts, 30 minutes.
 * The complainants of 1 and 2 have the same number, written nationally and internationally. */
static void
s_fixture_backfill(const char *dir)
{
        struct fx f;
        pb_complaint_t c1, c2, c3;
        pb_complainant_t w1 = COMPLAINT__V1__COMPLAINANT__INIT,
                         w2 = COMPLAINT__V1__COMPLAINANT__INIT;
        pb_clock_t r1, s1, r2, s2, r3;

        s_fx_open(&f, dir, 0);
        s_fx_policy(&f);

        s_complaint(&c1, 1, ST_ACCEPTED, T(0, 15, 0));
        w1.phone = (char *)"030 1234567";
        w1.email = (char *)" Ann@Example.org";
        c1.complainant = &w1;
        s_clock(&r1, 1, POLICY_ID, T(0, 16, 0), T(1, 10, 0));
        s_clock(&s1, 2, POLICY_ID, T(0, 16, 0), 0);
        c1.response_clock = &r1;
        c1.resolution_clock = &s1;
        c1.history_count = 4;
        s_fx_complaint(&f, &c1);
        s_fx_history(&f, 1, 1, T(0, 15, 0), A(CREATE));
        s_fx_history(&f, 1, 2, T(0, 16, 0), A(ASSIGN));
        s_fx_history(&f, 1, 3, T(1, 10, 0), A(ACCEPT));
        s_fx_history(&f, 1, 4, T(1, 10, 0), A(NOTE));

        s_complaint(&c2, 2, ST_RESOLVED, T(0, 10, 0));
        w2.phone = (char *)"+49 30 1234567";
        c2.complainant = &w2;
        s_clock(&r2, 1, POLICY_ID, T(0, 10, 0), T(0, 11, 0));
        s_clock(&s2, 2, POLICY_ID, T(0, 10, 0), T(2, 10, 0));
        s2.paused_total_ms = 5 * HOUR_MS + 30 * MIN_MS;
        c2.response_clock = &r2;
        c2.resolution_clock = &s2;
        c2.history_count = 6;
        s_fx_complaint(&f, &c2);
        s_fx_history(&f, 2, 1, T(0, 10, 0), A(CREATE));
        s_fx_history(&f, 2, 2, T(0, 10, 0), A(ASSIGN));
        s_fx_history(&f, 2, 3, T(0, 11, 0), A(ACCEPT));
        s_fx_history(&f, 2, 4, T(0, 12, 0), A(PEND));
        s_fx_history(&f, 2, 5, T(1, 9, 30), A(RESUME));
        s_fx_history(&f, 2, 6, T(2, 10, 0), A(RESOLVE));

        s_complaint(&c3, 3, ST_DISMISSED, T(0, 9, 0));
        s_clock(&r3, 1, 999, T(0, 9, 0), T(0, 9, 30));
        r3.met = false;
        c3.response_clock = &r3;
        c3.history_count = 3;
        s_fx_complaint(&f, &c3);
        s_fx_history(&f, 3, 1, T(0, 9, 0), A(CREATE));
        s_fx_history(&f, 3, 2, T(0, 9, 0), A(ASSIGN));
        s_fx_history(&f, 3, 3, T(0, 9, 30), A(DISMISS));
        s_fx_close(&f);
}

/* Sums the rows of the total dimension of one scope. */
static int
s_sum_total(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *row, size_t row_len)
{
        const uint8_t *value;
        size_t value_len;
        int dim;

        if (stats_key_split(key, key_len, &dim, &value, &value_len) < 0)
                return -EBADMSG;
        return dim == STATS_DIM_TOTAL ? stats_row_sum(row, row_len, ctx) : 0;
}

static void
s_check_clock(store_txn_t *t, uint64_t id, int kind, int action, int64_t elapsed)
{
        pb_complaint_t *c = NULL;
        const pb_clock_t *k;

        REQUIRE(store_get_complaint(t, id, &c) == 0);
        k = kind == 1 ? c->response_clock : c->resolution_clock;
        REQUIRE(k != NULL);
        CHECK_INT(k->stopped_by, action);
        CHECK_INT(k->elapsed_ms, elapsed);
        complaint__v1__complaint__free_unpacked(c, NULL);
}

/* Clocks stopped before schema 3 get what stopped them and their business time, and the
 * report counts them; contacts are keyed with the configured country code. */
static void
test_backfill(const char *dir)
{
        int64_t sum[SF_COUNT] = {0};
        uint8_t scope[8];
        size_t scope_len = stats_scope(NULL, NULL, scope, sizeof(scope)), n = 0;
        uint64_t ids[4];
        store_t *s = NULL;
        store_txn_t *t;
        FILE *report = tmpfile();

        s_fixture_backfill(dir);
        REQUIRE(store_open_country(dir, 64 << 20, "49", &s) == 0);
        CHECK_INT(store_schema_migrated_from(s), 2);
        CHECK(!store_contacts_rekeyed(s, NULL));
        CHECK_STR(store_country_code(s), "49");
        REQUIRE(store_begin(s, false, &t) == 0);
        /* 16:00-17:00 and 09:00-10:00. */
        s_check_clock(t, 1, 1, A(ACCEPT), 2 * HOUR_MS);
        s_check_clock(t, 2, 1, A(ACCEPT), 1 * HOUR_MS);
        /* 7 + 8 + 1 business hours, 5.5 of them paused. */
        s_check_clock(t, 2, 2, A(RESOLVE), 10 * HOUR_MS + 30 * MIN_MS);
        /* No policy: real time, as clock_stop() counts it then. */
        s_check_clock(t, 3, 1, A(DISMISS), 30 * MIN_MS);
        /* The running clock is left alone. */
        s_check_clock(t, 1, 2, 0, 0);

        CHECK_INT(
            store_stats_rows(t, MONDAY_DAY, MONDAY_DAY + 1, scope, scope_len, s_sum_total, sum), 0);
        CHECK_INT(sum[SF_COMPLAINTS], 3);
        CHECK_INT(sum[SF_ACCEPTED], 2);
        CHECK_INT(sum[SF_RESPONSE_MET], 2);
        CHECK_INT(sum[SF_RESOLVED], 1);
        CHECK_INT(sum[SF_RESOLUTION_TIMED], 1);
        CHECK_INT(sum[SF_RESOLUTION_MET], 1);
        CHECK_INT(sum[SF_DISMISSED], 1);
        CHECK_INT(stats_percentile(sum + SF_ACCEPT_HIST, 50),
                  stats_bucket_upper(stats_bucket(1 * HOUR_MS)));
        CHECK_INT(stats_percentile(sum + SF_ACCEPT_HIST, 90),
                  stats_bucket_upper(stats_bucket(2 * HOUR_MS)));
        CHECK_INT(stats_percentile(sum + SF_RESOLVE_HIST, 50),
                  stats_bucket_upper(stats_bucket(10 * HOUR_MS + 30 * MIN_MS)));

        /* "030 1234567" with country code 49 is "+49 30 1234567". */
        CHECK_INT(store_contact_ids(t, "p:49301234567", 0, ids, 4, &n), 0);
        CHECK_INT(n, 2);
        CHECK_INT(store_contact_ids(t, "e:ann@example.org", 0, ids, 4, &n), 0);
        CHECK_INT(n, 1);
        /* Schema 6: the complainants are sealed, and the migration's rewrite of the data file
         * left none of the old records' bytes behind: no contact detail is in the file in
         * the clear, and a record-level string still is (the scan works). */
        {
                pb_complaint_t *c = NULL;
                pb_complainant_t *who = NULL;

                REQUIRE(store_get_complaint(t, 1, &c) == 0);
                CHECK(c->complainant == NULL && c->sealed_contact.len > 0);
                CHECK_INT(store_open_contact(t, c, &who), 0);
                if (who)
                        CHECK_STR(who->phone, "030 1234567");
                if (who)
                        complaint__v1__complainant__free_unpacked(who, NULL);
                complaint__v1__complaint__free_unpacked(c, NULL);
        }
        store_abort(&t);
        store_close(&s);
        CHECK(!s_file_holds(dir, "1234567"));
        CHECK(!s_file_holds(dir, "nn@example.org"));
        CHECK(!s_file_holds(dir, "Ann@Example.org"));
        CHECK(s_file_holds(dir, "billing"));
        CHECK_INT(store_check(dir, report), 0);

        /* A store keyed with a code that is no longer configured is re-keyed on open. */
        REQUIRE(store_open_country(dir, 64 << 20, "33", &s) == 0);
        CHECK(store_contacts_rekeyed(s, NULL));
        REQUIRE(store_begin(s, false, &t) == 0);
        CHECK_INT(store_contact_ids(t, "p:49301234567", 0, ids, 4, &n), 0);
        CHECK_INT(n, 1);
        if (n == 1)
                CHECK_INT(ids[0], 2);
        CHECK_INT(store_contact_ids(t, "p:33301234567", 0, ids, 4, &n), 0);
        CHECK_INT(n, 1);
        store_abort(&t);
        store_close(&s);
        rewind(report);
        CHECK_INT(store_check(dir, report), 0);
        fclose(report);
}

/* A schema 2 store that nearly fills its map: the migration outgrows it, and the open grows
 * the map and migrates again instead of failing. */
static void
test_migration_grows(const char *dir)
{
        struct fx f;
        MDB_envinfo info;
        MDB_stat st;
        uint64_t used = 0, map = 0;
        store_t *s = NULL;
        FILE *report = tmpfile();
        int64_t n = 0;

        /* Records up to 40 % of a 1 MiB map, each created on a day of its own: the migration
         * adds a dozen report rows, a ledger entry and a contact entry for each. */
        s_fx_open(&f, dir, 1 << 20);
        for (;;) {
                pb_complaint_t c;
                pb_complainant_t who = COMPLAINT__V1__COMPLAINANT__INIT;
                char email[48];

                n++;
                s_complaint(&c, (uint64_t)n, ST_NEW, T(n, 10, 0));
                c.department = (char *)"";
                snprintf(email, sizeof(email), "c%lld@example.org", (long long)n);
                who.email = email;
                c.complainant = &who;
                s_fx_complaint(&f, &c);
                if (n % 100)
                        continue;
                s_fx_flush(&f);
                mdb_env_info(f.env, &info);
                mdb_env_stat(f.env, &st);
                if ((info.me_last_pgno + 1) * st.ms_psize > info.me_mapsize * 2 / 5)
                        break;
        }
        REQUIRE(info.me_mapsize == 1 << 20);
        s_fx_close(&f);

        REQUIRE(store_open_country(dir, 32 << 20, NULL, &s) == 0);
        CHECK_INT(store_schema(s), STORE_SCHEMA_VERSION);
        CHECK_INT(store_schema_migrated_from(s), 2);
        store_usage(s, &used, &map);
        CHECK(used > 1 << 20);
        CHECK(map > 1 << 20);
        store_close(&s);
        CHECK_INT(store_check(dir, report), 0);
        fclose(report);
}

/* store_check() against report counters and contact entries changed behind the store's back. */
static void
test_check_drift(const char *dir)
{
        store_t *s = NULL;
        store_txn_t *t;
        pb_complaint_t c;
        pb_complainant_t who = COMPLAINT__V1__COMPLAINANT__INIT;
        struct stats_sparse one = {1, {{SF_COMPLAINTS, 1}}};
        uint8_t out[STATS_ROW_MAX], kb[64], ghost[64];
        char hex[SEAL_HASH_HEX + 1], hashed[40], ghost_key[40], want[128];
        seal_t *seal = NULL;
        size_t len = 0;
        FILE *report = tmpfile();
        char line[512];
        bool counter = false, stray_row = false, missing = false, stray = false;
        MDB_env *env;
        MDB_txn *txn;
        MDB_dbi stats, contacts;
        MDB_cursor *cur;
        MDB_val k, v;

        REQUIRE(store_open_country(dir, 64 << 20, "49", &s) == 0);
        REQUIRE(store_begin(s, true, &t) == 0);
        for (uint64_t id = 1; id <= 2; id++) {
                s_complaint(&c, id, ST_NEW, T(0, 9, (int64_t)id));
                who.phone = (char *)(id == 1 ? "030 1234567" : "030 7654321");
                c.complainant = &who;
                CHECK_INT(store_put_complaint(t, &c, NULL), 0);
                CHECK_INT(store_put_contact(t, id == 1 ? "p:49301234567" : "p:49307654321",
                                            c.created_at_ms, id),
                          0);
        }
        REQUIRE(store_commit(&t) == 0);
        store_close(&s);
        CHECK_INT(store_check(dir, report), 0);

        REQUIRE(mdb_env_create(&env) == 0);
        mdb_env_set_maxdbs(env, 16);
        REQUIRE(mdb_env_open(env, dir, 0, 0640) == 0);
        REQUIRE(mdb_txn_begin(env, NULL, 0, &txn) == 0);
        REQUIRE(mdb_dbi_open(txn, "stats", 0, &stats) == 0);
        REQUIRE(mdb_dbi_open(txn, "contacts", 0, &contacts) == 0);
        /* One row counts a complaint too many... */
        REQUIRE(mdb_cursor_open(txn, stats, &cur) == 0);
        REQUIRE(mdb_cursor_get(cur, &k, &v, MDB_FIRST) == 0);
        REQUIRE(k.mv_size <= sizeof(kb));
        memcpy(kb, k.mv_data, k.mv_size);
        k.mv_data = kb;
        REQUIRE(stats_row_apply(v.mv_data, v.mv_size, &one, out, &len) == 0);
        mdb_cursor_close(cur);
        CHECK_INT(mdb_put(txn, stats, &k, &(MDB_val){len, out}, 0), 0);
        /* ...and a row of a day without complaints. */
        kb[3] ^= 1;
        CHECK_INT(mdb_put(txn, stats, &k, &(MDB_val){len, out}, 0), 0);
        /* Complaint 1's number moves to a key it does not give (the index holds keyed hashes:
         * "h:" and 32 hex digits). */
        REQUIRE(seal_open(dir, false, &seal, NULL) == 0);
        seal_hash_hex(seal, "p:49301234567", hex);
        snprintf(hashed, sizeof(hashed), "h:%s", hex);
        memcpy(kb, hashed, 35);
        s_be64(kb + 35, (uint64_t)T(0, 9, 1));
        s_be64(kb + 43, 1);
        k = (MDB_val){51, kb};
        CHECK_INT(mdb_del(txn, contacts, &k, NULL), 0);
        seal_hash_hex(seal, "p:49309999999", hex);
        snprintf(ghost_key, sizeof(ghost_key), "h:%s", hex);
        memcpy(ghost, ghost_key, 35);
        memcpy(ghost + 35, kb + 35, 16);
        CHECK_INT(mdb_put(txn, contacts, &(MDB_val){51, ghost}, &(MDB_val){0, NULL}, 0), 0);
        seal_free(&seal);
        REQUIRE(mdb_txn_commit(txn) == 0);
        mdb_env_close(env);

        rewind(report);
        CHECK_INT(store_check(dir, report), -EBADMSG);
        rewind(report);
        while (fgets(line, sizeof(line), report)) {
                if (strstr(line, "problem: report counters of 2024-01-08, row all/total=: "
                                 "counter 0 is 3, the complaints give 2"))
                        counter = true;
                if (strstr(line, "problem: report counters of ") &&
                    strstr(line, "no complaint counts in it"))
                        stray_row = true;
                snprintf(want, sizeof(want),
                         "problem: complaint 1: missing from the contact index under %s", hashed);
                if (strstr(line, want))
                        missing = true;
                snprintf(want, sizeof(want),
                         "problem: contact index: %s names complaint 1, whose complainant it is "
                         "not",
                         ghost_key);
                if (strstr(line, want))
                        stray = true;
        }
        CHECK(counter);
        CHECK(stray_row);
        CHECK(missing);
        CHECK(stray);
        fclose(report);
}

static void
test_migration(const char *dir)
{
        store_t *s = NULL;
        store_txn_t *t;
        pb_event_t **evs = NULL;
        size_t n = 0;
        uint64_t head = 0, next = 0;
        FILE *report = tmpfile();

        s_fixture(dir, 1, 5);
        /* Before: the offline check says it will be migrated. */
        CHECK_INT(store_check(dir, report), 0);

        REQUIRE(store_open(dir, 64 << 20, &s) == 0);
        CHECK_INT(store_schema(s), STORE_SCHEMA_VERSION);
        CHECK_INT(store_schema_migrated_from(s), 1);
        /* Schema 8: the counters the migration built are by UTC day, and recorded so; no
         * rebuild is under way until a daemon sets another zone. */
        CHECK_STR(store_stats_zone(s), "UTC");
        REQUIRE(store_begin(s, false, &t) == 0);
        CHECK_INT(store_stats_rebuilding(t, NULL), -ENOENT);
        /* billing had events 1, 3, 5; network 2 and 4. */
        CHECK_INT(store_stream_head(t, "billing", &head), 0);
        CHECK_INT(head, 3);
        CHECK_INT(store_stream_head(t, "network", &head), 0);
        CHECK_INT(head, 2);
        CHECK_INT(store_replay(t, "billing", 1, NULL, 0, 10, 100, 0, &evs, &n, &next), 0);
        CHECK_INT(n, 2);
        if (n == 2) {
                CHECK_INT(evs[0]->seq, 3);
                CHECK_INT(evs[0]->offset, 2);
                CHECK_STR(evs[0]->stream, "billing");
                CHECK_INT(evs[1]->seq, 5);
                CHECK_INT(evs[1]->offset, 3);
        }
        CHECK_INT(next, 3);
        store_free_events(&evs, n);
        /* The stored reply moved to the table keyed by request id first. */
        {
                uint64_t hash = 0;
                uint8_t *reply = NULL;
                size_t len = 0;

                CHECK_INT(store_get_request(t, "agent-1", "rid-1", &hash, &reply, &len), 0);
                CHECK_INT(hash, 42);
                CHECK(len == 5 && reply && memcmp(reply, "reply", 5) == 0);
                free(reply);
                CHECK_INT(store_get_request(t, "rid-1", "agent-1", &hash, &reply, &len), -ENOENT);
        }
        store_abort(&t);
        store_close(&s);

        /* Opened again: nothing left to migrate, and the store checks clean. */
        REQUIRE(store_open(dir, 64 << 20, &s) == 0);
        CHECK_INT(store_schema_migrated_from(s), STORE_SCHEMA_VERSION);
        store_close(&s);
        rewind(report);
        CHECK_INT(store_check(dir, report), 0);
        fclose(report);
}

/* A stored reply as schema 6 kept it, with the complaint's description (and, from before 6,
 * its complainant): schema 7 takes both out, and no byte of them is left in the file. */
static void
test_replies_6_to_7(const char *dir)
{
        Complaint__V1__Reply reply = COMPLAINT__V1__REPLY__INIT, *back;
        pb_complaint_t c = COMPLAINT__V1__COMPLAINT__INIT;
        pb_complainant_t who = COMPLAINT__V1__COMPLAINANT__INIT;
        uint8_t buf[512], sv[4] = {0, 0, 0, 6}, *got = NULL;
        MDB_val k = {6, (void *)"schema"}, v = {4, sv};
        uint64_t hash = 0;
        size_t len = 0;
        store_t *s = NULL;
        store_txn_t *t;
        MDB_env *env;
        MDB_txn *txn;
        MDB_dbi meta;

        c.id = 5;
        c.description = (char *)"Der Bus der Linie 42X kam nie";
        who.phone = (char *)"+49 30 7654321";
        c.complainant = &who;
        reply.request_id = (char *)"rid-7";
        reply.complaint = &c;
        REQUIRE(store_open(dir, 64 << 20, &s) == 0);
        REQUIRE(store_begin(s, true, &t) == 0);
        REQUIRE(store_put_request(t, "agent-7", "rid-7", 7, buf,
                                  protobuf_c_message_pack(&reply.base, buf), 1700000000000) == 0);
        REQUIRE(store_commit(&t) == 0);
        store_close(&s);
        CHECK(s_file_holds(dir, "Linie 42X"));

        REQUIRE(mdb_env_create(&env) == 0);
        mdb_env_set_maxdbs(env, 32);
        REQUIRE(mdb_env_open(env, dir, 0, 0640) == 0);
        REQUIRE(mdb_txn_begin(env, NULL, 0, &txn) == 0);
        REQUIRE(mdb_dbi_open(txn, "meta", 0, &meta) == 0);
        REQUIRE(mdb_put(txn, meta, &k, &v, 0) == 0);
        REQUIRE(mdb_txn_commit(txn) == 0);
        mdb_env_close(env);

        REQUIRE(store_open(dir, 64 << 20, &s) == 0);
        CHECK_INT(store_schema_migrated_from(s), 6);
        REQUIRE(store_begin(s, false, &t) == 0);
        CHECK_INT(store_get_request(t, "agent-7", "rid-7", &hash, &got, &len), 0);
        CHECK_INT(hash, 7);
        back = got ? complaint__v1__reply__unpack(NULL, len, got) : NULL;
        CHECK(back != NULL && back->complaint != NULL);
        if (back && back->complaint) {
                CHECK_INT(back->complaint->id, 5);
                CHECK_STR(back->complaint->description, "");
                CHECK(back->complaint->complainant == NULL);
        }
        if (back)
                complaint__v1__reply__free_unpacked(back, NULL);
        free(got);
        store_abort(&t);
        store_close(&s);
        CHECK(!s_file_holds(dir, "Linie 42X"));
        CHECK(!s_file_holds(dir, "7654321"));
}

static void
test_newer_refused(const char *dir)
{
        store_t *s = NULL;
        FILE *report = tmpfile();

        s_fixture(dir, STORE_SCHEMA_VERSION + 1, 1);
        CHECK_INT(store_open(dir, 64 << 20, &s), -EPROTONOSUPPORT);
        CHECK(s == NULL);
        CHECK_INT(store_check(dir, report), -EBADMSG);
        fclose(report);
}

static void
test_check_and_backup(const char *dir, const char *copy)
{
        store_t *s = NULL;
        store_txn_t *t;
        pb_complaint_t c = COMPLAINT__V1__COMPLAINT__INIT;
        pb_history_t h = COMPLAINT__V1__HISTORY_ENTRY__INIT;
        pb_event_t ev = COMPLAINT__V1__EVENT__INIT;
        FILE *report = tmpfile();
        char line[256];
        bool named = false;
        MDB_env *env;
        MDB_txn *txn;
        MDB_dbi dbi;
        uint8_t kb[9] = {ST_ASSIGNED};

        REQUIRE(store_open(dir, 64 << 20, &s) == 0);
        REQUIRE(store_begin(s, true, &t) == 0);
        c.id = 1;
        c.status = ST_ASSIGNED;
        c.department = (char *)"billing";
        c.category = (char *)"billing";
        c.history_count = 1;
        h.complaint_id = 1;
        h.seq = 1;
        ev.topic = (char *)"billing/assigned";
        ev.stream = (char *)"billing";
        CHECK_INT(store_append_event(t, &ev), 0);
        h.event_seq = ev.seq;
        CHECK_INT(store_put_history(t, &h), 0);
        CHECK_INT(store_put_complaint(t, &c, NULL), 0);
        REQUIRE(store_commit(&t) == 0);

        /* A backup while the store is open, then checked offline. */
        CHECK_INT(store_backup(s, copy), 0);
        CHECK_INT(store_backup(s, copy), -EEXIST);
        store_close(&s);
        CHECK_INT(store_check(copy, report), 0);

        /* Break an index behind the store's back: the check names it. */
        REQUIRE(mdb_env_create(&env) == 0);
        mdb_env_set_maxdbs(env, 16);
        REQUIRE(mdb_env_open(env, dir, 0, 0640) == 0);
        REQUIRE(mdb_txn_begin(env, NULL, 0, &txn) == 0);
        REQUIRE(mdb_dbi_open(txn, "by_status", 0, &dbi) == 0);
        s_be64(kb + 1, 1);
        CHECK_INT(mdb_del(txn, dbi, &(MDB_val){9, kb}, NULL), 0);
        REQUIRE(mdb_txn_commit(txn) == 0);
        mdb_env_close(env);
        rewind(report);
        CHECK_INT(store_check(dir, report), -EBADMSG);
        rewind(report);
        while (fgets(line, sizeof(line), report))
                if (strstr(line, "problem: complaint 1: missing from the status index"))
                        named = true;
        CHECK(named);
        fclose(report);
}

int
main(void)
{
        char dir[] = "/tmp/test_migrate.XXXXXX", sub[sizeof(dir) + 16], sub2[sizeof(dir) + 16];

        REQUIRE(mkdtemp(dir) != NULL);
        snprintf(sub, sizeof(sub), "%s/v1", dir);
        test_migration(sub);
        snprintf(sub, sizeof(sub), "%s/newer", dir);
        test_newer_refused(sub);
        snprintf(sub, sizeof(sub), "%s/live", dir);
        snprintf(sub2, sizeof(sub2), "%s/copy", dir);
        test_check_and_backup(sub, sub2);
        snprintf(sub, sizeof(sub), "%s/backfill", dir);
        test_backfill(sub);
        snprintf(sub, sizeof(sub), "%s/grows", dir);
        test_migration_grows(sub);
        snprintf(sub, sizeof(sub), "%s/drift", dir);
        test_check_drift(sub);
        snprintf(sub, sizeof(sub), "%s/replies", dir);
        test_replies_6_to_7(sub);
        check_rm_tree(dir);
        return check_summary();
}
