/* test_store.c: the store against a real LMDB environment in a temporary directory: records,
 * history, events, request ids, counters, lists and persistence across a reopen. */
#include <errno.h>
#include <ftw.h>
#include <stdlib.h>
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

/* Builds a complaint whose strings point at literals: put() only reads it. */
static void
s_complaint(pb_complaint_t *c, uint64_t id, int status, const char *dept, const char *cat)
{
        complaint__v1__complaint__init(c);
        c->id = id;
        c->status = status;
        c->department = (char *)(uintptr_t)dept;
        c->category = (char *)(uintptr_t)cat;
        c->subject = (char *)"subject";
}

static void
s_put(store_t *s, pb_complaint_t *c, const pb_complaint_t *old)
{
        store_txn_t *t;

        REQUIRE(store_begin(s, true, &t) == 0);
        CHECK_INT(store_put_complaint(t, c, old), 0);
        REQUIRE(store_commit(&t) == 0);
}

static uint64_t
s_count(store_t *s, int status)
{
        store_txn_t *t;
        uint64_t n = 999;

        REQUIRE(store_begin(s, false, &t) == 0);
        CHECK_INT(store_count(t, status, &n), 0);
        store_abort(&t);
        return n;
}

static void
test_records_and_indexes(store_t *s)
{
        pb_complaint_t a, b, c, a2, *got = NULL, **list = NULL;
        store_txn_t *t;
        size_t n = 0;
        uint64_t id = 0, next = 0;

        REQUIRE(store_begin(s, true, &t) == 0);
        CHECK_INT(store_next_complaint_id(t, &id), 0);
        CHECK_INT(id, 1);
        CHECK_INT(store_next_complaint_id(t, &id), 0);
        CHECK_INT(id, 2);
        CHECK_INT(store_next_complaint_id(t, &id), 0);
        CHECK_INT(id, 3);
        REQUIRE(store_commit(&t) == 0);

        s_complaint(&a, 1, ST_NEW, "", "billing");
        s_complaint(&b, 2, ST_ASSIGNED, "billing", "billing");
        s_complaint(&c, 3, ST_ASSIGNED, "network", "network");
        s_put(s, &a, NULL);
        s_put(s, &b, NULL);
        s_put(s, &c, NULL);
        CHECK_INT(s_count(s, ST_NONE), 3);
        CHECK_INT(s_count(s, ST_NEW), 1);
        CHECK_INT(s_count(s, ST_ASSIGNED), 2);

        /* Dispatch complaint 1 to network: counters and indexes move with it. */
        s_complaint(&a2, 1, ST_ASSIGNED, "network", "billing");
        s_put(s, &a2, &a);
        CHECK_INT(s_count(s, ST_NEW), 0);
        CHECK_INT(s_count(s, ST_ASSIGNED), 3);

        REQUIRE(store_begin(s, false, &t) == 0);
        CHECK_INT(store_get_complaint(t, 1, &got), 0);
        REQUIRE(got != NULL);
        CHECK_STR(got->department, "network");
        CHECK_INT(got->status, ST_ASSIGNED);
        complaint__v1__complaint__free_unpacked(got, NULL);
        got = NULL;
        CHECK_INT(store_get_complaint(t, 42, &got), -ENOENT);
        CHECK(got == NULL);

        /* By department, newest first. */
        CHECK_INT(
            store_list(t, &(struct store_filter){.department = "network"}, 0, 10, &list, &n, &next),
            0);
        CHECK_INT(n, 2);
        if (n == 2) {
                CHECK_INT(list[0]->id, 3);
                CHECK_INT(list[1]->id, 1);
        }
        CHECK_INT(next, 0);
        store_free_list(&list, n);
        /* A department that is a prefix of another must not match it. */
        CHECK_INT(
            store_list(t, &(struct store_filter){.department = "net"}, 0, 10, &list, &n, &next), 0);
        CHECK_INT(n, 0);
        store_free_list(&list, n);
        /* By category, with a status filter on top. */
        CHECK_INT(store_list(t,
                             &(struct store_filter){.category = "billing", .status = ST_ASSIGNED},
                             0, 10, &list, &n, &next),
                  0);
        CHECK_INT(n, 2);
        store_free_list(&list, n);
        /* Paging: one at a time, all of them, then the end. */
        CHECK_INT(store_list(t, &(struct store_filter){0}, 0, 1, &list, &n, &next), 0);
        CHECK_INT(n, 1);
        CHECK_INT(next, 3);
        store_free_list(&list, n);
        CHECK_INT(store_list(t, &(struct store_filter){0}, next, 1, &list, &n, &next), 0);
        CHECK_INT(n, 1);
        if (n == 1)
                CHECK_INT(list[0]->id, 2);
        store_free_list(&list, n);
        CHECK_INT(store_list(t, &(struct store_filter){.status = ST_NEW}, 0, 10, &list, &n, &next),
                  0);
        CHECK_INT(n, 0);
        store_free_list(&list, n);
        store_abort(&t);
}

static void
test_history_events_requests(store_t *s)
{
        pb_history_t h = COMPLAINT__V1__HISTORY_ENTRY__INIT, **hist = NULL;
        pb_event_t ev = COMPLAINT__V1__EVENT__INIT, *got = NULL;
        store_txn_t *t, *child;
        uint64_t seq = 0, hash = 0;
        uint8_t *reply = NULL;
        size_t n = 0, len = 0;

        REQUIRE(store_begin(s, true, &t) == 0);
        h.complaint_id = 2;
        for (uint32_t i = 1; i <= 3; i++) {
                h.seq = i;
                h.action = (int)i;
                CHECK_INT(store_put_history(t, &h), 0);
        }
        /* History is append-only: an existing entry is never overwritten. */
        h.seq = 2;
        CHECK_INT(store_put_history(t, &h), -EEXIST);
        /* Entries of a neighbouring complaint stay out of complaint 2's history. */
        h.complaint_id = 3;
        h.seq = 1;
        CHECK_INT(store_put_history(t, &h), 0);

        ev.topic = (char *)"billing/created";
        CHECK_INT(store_append_event(t, &ev), 0);
        CHECK_INT(ev.seq, 1);
        CHECK_INT(store_append_event(t, &ev), 0);
        CHECK_INT(ev.seq, 2);

        CHECK_INT(store_get_request(t, "alice", "r1", &hash, &reply, &len), -ENOENT);
        CHECK_INT(store_put_request(t, "alice", "r1", 77, (const uint8_t *)"abc", 3), 0);

        /* A nested transaction that is aborted leaves nothing behind. */
        REQUIRE(store_begin_nested(t, &child) == 0);
        CHECK_INT(store_append_event(child, &ev), 0);
        CHECK_INT(ev.seq, 3);
        store_abort(&child);
        CHECK_INT(store_last_event_seq(t, &seq), 0);
        CHECK_INT(seq, 2);
        REQUIRE(store_commit(&t) == 0);

        REQUIRE(store_begin(s, false, &t) == 0);
        CHECK_INT(store_get_history(t, 2, &hist, &n), 0);
        CHECK_INT(n, 3);
        for (size_t i = 0; i < n; i++) {
                CHECK_INT(hist[i]->seq, i + 1);
                CHECK_INT(hist[i]->action, i + 1); /* the first write stands */
        }
        store_free_history(&hist, n);
        CHECK_INT(store_get_history(t, 99, &hist, &n), 0);
        CHECK_INT(n, 0);
        store_free_history(&hist, n);
        CHECK_INT(store_get_event(t, 2, &got), 0);
        if (got) {
                CHECK_STR(got->topic, "billing/created");
                CHECK_INT(got->seq, 2);
                complaint__v1__event__free_unpacked(got, NULL);
        }
        CHECK_INT(store_get_event(t, 3, &got), -ENOENT);
        CHECK_INT(store_get_request(t, "alice", "r1", &hash, &reply, &len), 0);
        CHECK_INT(hash, 77);
        CHECK_INT(len, 3);
        CHECK(reply && memcmp(reply, "abc", 3) == 0);
        free(reply);
        /* Request ids are per actor. */
        CHECK_INT(store_get_request(t, "bob", "r1", &hash, &reply, &len), -ENOENT);
        store_abort(&t);
}

static void
test_map_full(const char *dir)
{
        store_t *s = NULL;
        store_txn_t *t;
        pb_event_t ev = COMPLAINT__V1__EVENT__INIT;
        char big[4000];
        int r = 0, grew = 0;

        /* A 1 MiB ceiling fills fast; growth stops at it and the error is -ENOSPC. */
        REQUIRE(store_open(dir, 1 << 20, &s) == 0);
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        ev.topic = big;
        for (int round = 0; round < 100 && r == 0; round++) {
                REQUIRE(store_begin(s, true, &t) == 0);
                for (int i = 0; i < 50 && r == 0; i++)
                        r = store_append_event(t, &ev);
                if (r == 0) {
                        r = store_commit(&t);
                } else {
                        store_abort(&t);
                }
                if (r == -ENOSPC && store_grow(s) == 0) {
                        grew++;
                        r = 0;
                }
        }
        CHECK_INT(r, -ENOSPC);
        CHECK_INT(store_grow(s), -ENOSPC);
        /* Reads go on after the store is full. */
        REQUIRE(store_begin(s, false, &t) == 0);
        uint64_t seq = 0;
        CHECK_INT(store_last_event_seq(t, &seq), 0);
        CHECK(seq > 0);
        store_abort(&t);
        store_close(&s);
        (void)grew;
}

int
main(void)
{
        char dir[] = "/tmp/test_store.XXXXXX", sub[sizeof(dir) + 16];
        store_t *s = NULL;

        REQUIRE(mkdtemp(dir) != NULL);
        snprintf(sub, sizeof(sub), "%s/db", dir);
        REQUIRE(store_open(sub, 64ull << 20, &s) == 0);
        CHECK_INT(store_schema(s), STORE_SCHEMA_VERSION);
        test_records_and_indexes(s);
        test_history_events_requests(s);
        store_close(&s);
        CHECK(s == NULL);

        /* Everything committed is there after a reopen. */
        REQUIRE(store_open(sub, 64ull << 20, &s) == 0);
        CHECK_INT(s_count(s, ST_NONE), 3);
        CHECK_INT(s_count(s, ST_ASSIGNED), 3);
        store_close(&s);

        snprintf(sub, sizeof(sub), "%s/full", dir);
        test_map_full(sub);
        nftw(dir, s_rm, 16, FTW_DEPTH | FTW_PHYS);
        return check_summary();
}
