/* test_store.c: the store against a real LMDB environment in a temporary directory: records,
 * history, events, request ids, counters, lists and persistence across a reopen, the ledger's
 * parts, drifted report counters, and the contact index's country code. */
#include <errno.h>
#include <ftw.h>
#include <stdlib.h>
#include <unistd.h>

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

#include "check.h"
#include "seal.h"
#include "store.h"

CHECK_DEFINE_COUNTERS();

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
        CHECK_INT(store_list(t, &(struct store_filter){.department = "network"}, 0, 10, 5000, &list,
                             &n, &next),
                  0);
        CHECK_INT(n, 2);
        if (n == 2) {
                CHECK_INT(list[0]->id, 3);
                CHECK_INT(list[1]->id, 1);
        }
        CHECK_INT(next, 0);
        store_free_list(&list, n);
        /* A department that is a prefix of another must not match it. */
        CHECK_INT(store_list(t, &(struct store_filter){.department = "net"}, 0, 10, 5000, &list, &n,
                             &next),
                  0);
        CHECK_INT(n, 0);
        store_free_list(&list, n);
        /* By category, with a status filter on top. */
        CHECK_INT(store_list(t,
                             &(struct store_filter){.category = "billing", .status = ST_ASSIGNED},
                             0, 10, 5000, &list, &n, &next),
                  0);
        CHECK_INT(n, 2);
        store_free_list(&list, n);
        /* Paging: one at a time, all of them, then the end. */
        CHECK_INT(store_list(t, &(struct store_filter){0}, 0, 1, 5000, &list, &n, &next), 0);
        CHECK_INT(n, 1);
        CHECK_INT(next, 3);
        store_free_list(&list, n);
        CHECK_INT(store_list(t, &(struct store_filter){0}, next, 1, 5000, &list, &n, &next), 0);
        CHECK_INT(n, 1);
        if (n == 1)
                CHECK_INT(list[0]->id, 2);
        store_free_list(&list, n);
        /* A page past max_bytes ends after its first complaint, and the next begins below. */
        CHECK_INT(
            store_list(t, &(struct store_filter){.max_bytes = 1}, 0, 10, 5000, &list, &n, &next),
            0);
        CHECK_INT(n, 1);
        CHECK_INT(next, 3);
        store_free_list(&list, n);
        /* A scan limit ends a page early, with where to go on. */
        CHECK_INT(store_list(t, &(struct store_filter){.category = "billing", .status = ST_NEW}, 0,
                             10, 1, &list, &n, &next),
                  0);
        CHECK_INT(n, 0);
        CHECK(next != 0);
        store_free_list(&list, n);
        CHECK_INT(
            store_list(t, &(struct store_filter){.status = ST_NEW}, 0, 10, 5000, &list, &n, &next),
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
        CHECK_INT(store_put_request(t, "alice", "r1", 77, (const uint8_t *)"abc", 3, 1000), 0);

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
        /* The idempotency window: replies written before it are pruned, oldest first, at most
         * max at a time; the others stay. */
        {
                uint32_t pruned = 99;
                store_txn_t *w = NULL;

                reply = NULL;
                REQUIRE(store_begin(s, true, &w) == 0);

                CHECK_INT(store_put_request(w, "bob", "r2", 1, (const uint8_t *)"x", 1, 2000), 0);
                CHECK_INT(store_put_request(w, "bob", "r3", 1, (const uint8_t *)"y", 1, 3000), 0);
                CHECK_INT(store_prune_requests(w, 2500, 1, &pruned), 0);
                CHECK_INT(pruned, 1);
                CHECK_INT(store_get_request(w, "alice", "r1", &hash, &reply, &len), -ENOENT);
                CHECK_INT(store_get_request(w, "bob", "r2", &hash, &reply, &len), 0);
                free(reply);
                reply = NULL;
                CHECK_INT(store_prune_requests(w, 2500, 10, &pruned), 0);
                CHECK_INT(pruned, 1);
                CHECK_INT(store_get_request(w, "bob", "r2", &hash, &reply, &len), -ENOENT);
                CHECK_INT(store_get_request(w, "bob", "r3", &hash, &reply, &len), 0);
                free(reply);
                reply = NULL;
                CHECK_INT(store_prune_requests(w, 2500, 10, &pruned), 0);
                CHECK_INT(pruned, 0);
                store_abort(&w);
        }
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

/* One part of the ledger at a time, in (created, id) order, and the two merged as analysis.c
 * merges them. */
static void
test_ledger_next_in(const char *dir)
{
        static const struct {
                uint64_t id;
                int64_t created;
                int status;
        } rows[] = {
            {1, 1000, ST_NEW},   {2, 1000, ST_CLOSED}, {3, 2000, ST_ASSIGNED},
            {4, 500, ST_CLOSED}, {5, 3000, ST_NEW},
        };
        static const uint64_t merged[] = {4, 1, 2, 3};
        struct store_ledger_pos pos = {0}, a, b;
        store_t *s = NULL;
        store_txn_t *t;
        size_t n = 0;
        bool started = false;

        REQUIRE(store_open(dir, 64ull << 20, &s) == 0);
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                pb_complaint_t c;

                s_complaint(&c, rows[i].id, rows[i].status, "billing", "billing");
                c.created_at_ms = rows[i].created;
                s_put(s, &c, NULL);
        }
        REQUIRE(store_begin(s, false, &t) == 0);
        /* The open part, from the start of [0, 3000): 1, then 3; 5 is created at the end. */
        CHECK_INT(store_ledger_next_in(t, false, 0, 0, false, 0, 3000, &a), 0);
        CHECK_INT(a.id, 1);
        CHECK_INT(a.created_ms, 1000);
        CHECK(!a.complete);
        CHECK_INT(store_ledger_next_in(t, false, a.created_ms, a.id, true, 0, 3000, &a), 0);
        CHECK_INT(a.id, 3);
        CHECK_INT(store_ledger_next_in(t, false, a.created_ms, a.id, true, 0, 3000, &a), -ENOENT);
        /* The closed part: 4, then 2. */
        CHECK_INT(store_ledger_next_in(t, true, 0, 0, false, 0, 3000, &b), 0);
        CHECK_INT(b.id, 4);
        CHECK(b.complete);
        CHECK_INT(store_ledger_next_in(t, true, b.created_ms, b.id, true, 0, 3000, &b), 0);
        CHECK_INT(b.id, 2);
        CHECK_INT(store_ledger_next_in(t, true, b.created_ms, b.id, true, 0, 3000, &b), -ENOENT);
        /* Not started: at or after from_ms. */
        CHECK_INT(store_ledger_next_in(t, true, 0, 0, false, 1000, 3000, &b), 0);
        CHECK_INT(b.id, 2);
        CHECK_INT(store_ledger_next_in(t, false, 0, 0, false, 1001, 4000, &a), 0);
        CHECK_INT(a.id, 3);
        /* Started: strictly after the position, whatever part it came from. */
        CHECK_INT(store_ledger_next_in(t, false, 1000, 0, true, 0, 3000, &a), 0);
        CHECK_INT(a.id, 1);
        CHECK_INT(store_ledger_next_in(t, false, 1000, 1, true, 0, 3000, &a), 0);
        CHECK_INT(a.id, 3);
        CHECK_INT(store_ledger_next_in(t, true, 1000, UINT64_MAX, true, 0, 3000, &b), -ENOENT);
        CHECK_INT(store_ledger_next_in(t, false, 1000, UINT64_MAX, true, 0, 3000, &a), 0);
        CHECK_INT(a.id, 3);
        /* A position before the period starts at its start. */
        CHECK_INT(store_ledger_next_in(t, true, 400, 9, true, 600, 3000, &b), 0);
        CHECK_INT(b.id, 2);
        /* An empty period, and one past every entry. */
        CHECK_INT(store_ledger_next_in(t, false, 0, 0, false, 1000, 1000, &a), -ENOENT);
        CHECK_INT(store_ledger_next_in(t, false, 0, 0, false, 3001, 9000, &a), -ENOENT);
        CHECK_INT(store_ledger_next_in(t, true, INT64_MAX, UINT64_MAX, true, 0, INT64_MAX, &b),
                  -ENOENT);

        /* Merged by (created, id), the period in creation order across both parts. */
        for (;;) {
                int ra =
                    store_ledger_next_in(t, false, pos.created_ms, pos.id, started, 0, 3000, &a);
                int rb =
                    store_ledger_next_in(t, true, pos.created_ms, pos.id, started, 0, 3000, &b);

                CHECK(ra == 0 || ra == -ENOENT);
                CHECK(rb == 0 || rb == -ENOENT);
                if (ra < 0 && rb < 0)
                        break;
                if (rb < 0 || (ra == 0 && (a.created_ms < b.created_ms ||
                                           (a.created_ms == b.created_ms && a.id < b.id))))
                        pos = a;
                else
                        pos = b;
                started = true;
                REQUIRE(n < ELEMENTSOF(merged));
                CHECK_INT(pos.id, merged[n]);
                n++;
        }
        CHECK_INT(n, ELEMENTSOF(merged));
        /* The old walk still works: the open part, then the closed one. */
        CHECK_INT(store_ledger_next(t, NULL, 0, 3000, &a), 0);
        CHECK_INT(a.id, 1);
        store_abort(&t);
        store_close(&s);
}

/* A change whose old record claims more than the rows hold (the counters drifted): the change
 * goes through, the counter stays at zero, and the store says so in the log. */
static void
test_stats_drift_logged(const char *dir)
{
        pb_complaint_t c, claimed;
        store_t *s = NULL;
        FILE *log = tmpfile();
        char line[512];
        bool said = false;
        int saved = dup(STDERR_FILENO);

        REQUIRE(log != NULL && saved >= 0);
        REQUIRE(store_open(dir, 64ull << 20, &s) == 0);
        s_complaint(&c, 1, ST_NEW, "", "billing");
        s_put(s, &c, NULL);
        /* Stored never reopened, but the change says it was: SF_REOPENED would go to -1. */
        s_complaint(&claimed, 1, ST_NEW, "", "billing");
        claimed.reopen_count = 2;
        s_complaint(&c, 1, ST_NEW, "", "billing");
        fflush(stderr);
        REQUIRE(dup2(fileno(log), STDERR_FILENO) >= 0);
        s_put(s, &c, &claimed);
        fflush(stderr);
        REQUIRE(dup2(saved, STDERR_FILENO) >= 0);
        close(saved);
        rewind(log);
        while (fgets(line, sizeof(line), log))
                if (strstr(line, "report counters of 1970-01-01, row all/total=") &&
                    strstr(line, "below zero") && strstr(line, "complaint 1"))
                        said = true;
        CHECK(said);
        fclose(log);
        store_close(&s);
}

/* The country code the contact index is keyed with: recorded at creation, kept by store_open(),
 * and a change of it rebuilds the index. */
/* The privacy key is replaced after an erasure: every record is sealed again with the new key,
 * the old one leaves privacy.key, and a box it sealed (as a free page may still hold one) no
 * longer opens. */
static void
test_rekey(const char *dir)
{
        pb_complaint_t c, *got = NULL;
        pb_complainant_t who = COMPLAINT__V1__COMPLAINANT__INIT, *open = NULL;
        uint8_t old_box[256];
        size_t old_len = 0;
        store_t *s = NULL;
        store_txn_t *t;
        seal_t *seal = NULL;
        uint8_t out[256];
        size_t out_len;
        bool due = true, done = false;
        uint32_t n = 0;
        char path[4096];
        struct stat st;

        REQUIRE(store_open(dir, 64ull << 20, &s) == 0);
        s_complaint(&c, 1, ST_NEW, "", "billing");
        who.name = (char *)"Wang Fang";
        who.phone = (char *)"030 1234567";
        c.complainant = &who;
        REQUIRE(store_begin(s, true, &t) == 0);
        CHECK_INT(store_put_complaint(t, &c, NULL), 0);
        CHECK_INT(store_put_contact(t, "p:0301234567", 0, 1), 0); /* as changes.c would */
        /* No erasure yet: nothing to replace. */
        CHECK_INT(store_rekey_due(t, 10000, 1000, &due), 0);
        CHECK(!due);
        CHECK_INT(store_note_erasure(t), 0);
        CHECK_INT(store_rekey_due(t, 10000, 1000, &due), 0);
        CHECK(due);
        REQUIRE(store_commit(&t) == 0);

        REQUIRE(store_begin(s, false, &t) == 0);
        REQUIRE(store_get_complaint(t, 1, &got) == 0);
        REQUIRE(got->sealed_contact.len <= sizeof(old_box));
        memcpy(old_box, got->sealed_contact.data, got->sealed_contact.len);
        old_len = got->sealed_contact.len;
        complaint__v1__complaint__free_unpacked(got, NULL);
        store_abort(&t);

        REQUIRE(store_begin(s, true, &t) == 0);
        CHECK_INT(store_rekey_start(t, 10000), 0);
        CHECK(store_rekeying(s));
        REQUIRE(store_commit(&t) == 0);
        /* Bounded: one record, steps of one. */
        for (int i = 0; i < 4 && !done; i++) {
                REQUIRE(store_begin(s, true, &t) == 0);
                CHECK_INT(store_rekey_step(t, 1, &n, &done), 0);
                REQUIRE(store_commit(&t) == 0);
        }
        CHECK(done);
        CHECK_INT(store_rekey_finish(s), 0);
        CHECK(!store_rekeying(s));

        REQUIRE(store_begin(s, false, &t) == 0);
        REQUIRE(store_get_complaint(t, 1, &got) == 0);
        CHECK(got->sealed_contact.len != old_len ||
              memcmp(got->sealed_contact.data, old_box, old_len) != 0);
        CHECK_INT(store_open_contact(t, got, &open), 0);
        if (open)
                CHECK_STR(open->name, "Wang Fang");
        if (open)
                complaint__v1__complainant__free_unpacked(open, NULL);
        /* The erasure count starts again. */
        CHECK_INT(store_rekey_due(t, 20000, 1000, &due), 0);
        CHECK(!due);
        complaint__v1__complaint__free_unpacked(got, NULL);
        store_abort(&t);
        store_close(&s);

        /* One key left in the file, mode 0600; the old box does not open with it. */
        snprintf(path, sizeof(path), "%s/privacy.key", dir);
        REQUIRE(stat(path, &st) == 0);
        CHECK_INT(st.st_size, 4 + 1 + 32 + 4 + 36);
        CHECK_INT(st.st_mode & 0777, 0600);
        REQUIRE(seal_open(dir, false, &seal, NULL) == 0);
        CHECK_INT(seal_unbox(seal, 1, old_box, old_len, out, &out_len), -ENOKEY);
        seal_free(&seal);
        /* The store opens with its key, and check-store finds it sound. */
        CHECK_INT(store_check(dir, stderr), 0);
}

static void
test_country_code(const char *dir)
{
        pb_complaint_t c;
        pb_complainant_t who = COMPLAINT__V1__COMPLAINANT__INIT;
        const char *was = "unset";
        store_t *s = NULL;
        store_txn_t *t;
        uint64_t ids[4];
        size_t n = 0;
        bool rebuilt = false;

        CHECK_INT(store_open_country(dir, 64ull << 20, "4x", &s), -EINVAL);
        CHECK_INT(store_open_country(dir, 64ull << 20, "1234567890123456", &s), -EINVAL);
        REQUIRE(store_open_country(dir, 64ull << 20, "49", &s) == 0);
        CHECK_STR(store_country_code(s), "49");
        CHECK(!store_contacts_rekeyed(s, &was));
        CHECK_STR(was, "unset");
        /* As changes.c indexes a new complaint. */
        s_complaint(&c, 1, ST_NEW, "", "billing");
        who.phone = (char *)"030 1234567";
        c.complainant = &who;
        c.created_at_ms = 5000;
        REQUIRE(store_begin(s, true, &t) == 0);
        CHECK_INT(store_put_complaint(t, &c, NULL), 0);
        CHECK_INT(store_put_contact(t, "p:49301234567", 5000, 1), 0);
        REQUIRE(store_commit(&t) == 0);
        store_close(&s);

        /* store_open() keeps it. */
        REQUIRE(store_open(dir, 64ull << 20, &s) == 0);
        CHECK_STR(store_country_code(s), "49");
        CHECK(!store_contacts_rekeyed(s, NULL));
        store_close(&s);

        /* Another code: the index is rebuilt on open. */
        REQUIRE(store_open_country(dir, 64ull << 20, "33", &s) == 0);
        CHECK(store_contacts_rekeyed(s, &was));
        CHECK_STR(was, "49");
        CHECK_STR(store_country_code(s), "33");
        REQUIRE(store_begin(s, false, &t) == 0);
        CHECK_INT(store_contact_ids(t, "p:33301234567", 0, ids, 4, &n), 0);
        CHECK_INT(n, 1);
        CHECK_INT(store_contact_ids(t, "p:49301234567", 0, ids, 4, &n), 0);
        CHECK_INT(n, 0);
        store_abort(&t);

        /* And at run time (a reload): back to 49, then none. */
        CHECK_INT(store_set_country_code(s, "49", &rebuilt), 0);
        CHECK(rebuilt);
        CHECK_INT(store_set_country_code(s, "49", &rebuilt), 0);
        CHECK(!rebuilt);
        CHECK_INT(store_set_country_code(s, "+49", &rebuilt), -EINVAL);
        CHECK_STR(store_country_code(s), "49");
        REQUIRE(store_begin(s, false, &t) == 0);
        CHECK_INT(store_contact_ids(t, "p:49301234567", 0, ids, 4, &n), 0);
        CHECK_INT(n, 1);
        CHECK_INT(store_contact_ids(t, "p:33301234567", 0, ids, 4, &n), 0);
        CHECK_INT(n, 0);
        store_abort(&t);
        CHECK_INT(store_set_country_code(s, NULL, &rebuilt), 0);
        CHECK(rebuilt);
        CHECK_STR(store_country_code(s), "");
        REQUIRE(store_begin(s, false, &t) == 0);
        CHECK_INT(store_contact_ids(t, "p:0301234567", 0, ids, 4, &n), 0);
        CHECK_INT(n, 1);
        store_abort(&t);
        store_close(&s);

        /* Recorded across a reopen, and the index checks clean under it. */
        REQUIRE(store_open_country(dir, 64ull << 20, "", &s) == 0);
        CHECK(!store_contacts_rekeyed(s, NULL));
        store_close(&s);
        CHECK_INT(store_check(dir, stderr), 0);
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
        snprintf(sub, sizeof(sub), "%s/ledger", dir);
        test_ledger_next_in(sub);
        snprintf(sub, sizeof(sub), "%s/drift", dir);
        test_stats_drift_logged(sub);
        snprintf(sub, sizeof(sub), "%s/country", dir);
        test_country_code(sub);
        snprintf(sub, sizeof(sub), "%s/rekey", dir);
        test_rekey(sub);
        check_rm_tree(dir);
        return check_summary();
}
