/* test_migrate.c: schema upgrades, refusal of newer stores, offline checks and backups. The
 * fixtures are written with LMDB directly, as the previous daemon laid them out, so the test
 * does not depend on the code it checks to make them. */
#include <errno.h>
#include <ftw.h>
#include <lmdb.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "store.h"

CHECK_DEFINE_COUNTERS();

static int
s_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st;
        (void)flag;
        (void)ftw;
        return remove(path);
}

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
        MDB_dbi meta, events;
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
        REQUIRE(store_begin(s, false, &t) == 0);
        /* billing had events 1, 3, 5; network 2 and 4. */
        CHECK_INT(store_stream_head(t, "billing", &head), 0);
        CHECK_INT(head, 3);
        CHECK_INT(store_stream_head(t, "network", &head), 0);
        CHECK_INT(head, 2);
        CHECK_INT(store_replay(t, "billing", 1, NULL, 0, 10, 100, &evs, &n, &next), 0);
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
        nftw(dir, s_rm, 16, FTW_DEPTH | FTW_PHYS);
        return check_summary();
}
