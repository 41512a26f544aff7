/* test_deadlines.c: service_fire_due() (deadlines.c) on a store of its own: a batch fires every
 * due deadline in order, one event each, and one that cannot be fired (its clock's policy is
 * stored nowhere) is dropped without costing the others their escalation, in whichever place
 * of the batch it is, whether the batch is fired straight or the careful way after it. */
#include <errno.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "request.h"
#include "service.h"
#include "store.h"

CHECK_DEFINE_COUNTERS();

#define N 6
#define T0 1767222000000ll /* 2026-01-01 00:00 CET, a holiday: the clocks count from Jan 2 */
#define BOGUS_POLICY 0x5eedull

static int
s_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st;
        (void)flag;
        (void)ftw;
        return remove(path);
}

/* Complaints 1..N assigned to billing, their response clocks due a second apart from T0 + 1 s,
 * the clock of each id in bad on a policy stored nowhere. */
static void
s_put_complaints(service_t *svc, const conf_t *cfg, const bool bad[N + 1])
{
        store_txn_t *txn = NULL;
        const policy_t *pol = NULL;

        REQUIRE(store_begin(svc->store, true, &txn) == 0);
        REQUIRE(store_current_policy(txn, svc->policies, cfg, "billing", &pol) == 0);
        for (uint64_t id = 1; id <= N; id++) {
                pb_complaint_t c = COMPLAINT__V1__COMPLAINT__INIT;
                Complaint__V1__Clock k = COMPLAINT__V1__CLOCK__INIT;

                c.id = id;
                c.status = ST_ASSIGNED;
                c.channel = COMPLAINT__V1__CHANNEL__CHANNEL_PHONE;
                c.nature = COMPLAINT__V1__NATURE__NATURE_VALID;
                c.priority = COMPLAINT__V1__PRIORITY__PRIORITY_NORMAL;
                c.category = (char *)"billing";
                c.department = (char *)"billing";
                c.subject = (char *)"s";
                c.created_at_ms = T0;
                c.updated_at_ms = T0;
                k.kind = K(RESPONSE);
                k.running = true;
                k.department = (char *)"billing";
                k.role = (char *)"";
                k.policy_id = bad[id] ? BOGUS_POLICY : pol->id;
                k.started_at_ms = T0;
                k.scale = 1.0;
                k.chain_levels = (uint32_t)pol->pb->n_chain;
                k.allowance_ms = 7200000;
                k.level_started_at_ms = T0;
                k.due_at_ms = T0 + 1000 * (int64_t)id;
                k.limit_due_at_ms = k.due_at_ms;
                c.response_clock = &k;
                REQUIRE(store_put_complaint(txn, &c, NULL) == 0);
        }
        REQUIRE(store_commit(&txn) == 0);
}

static void
s_run(const conf_t *cfg, const bool bad[N + 1])
{
        char dir[] = "/tmp/test_deadlines.XXXXXX";
        struct service_outbox out = {0};
        struct store_deadline d;
        store_txn_t *txn = NULL;
        service_t *svc = NULL;
        store_t *st = NULL;
        uint32_t fired = 0;
        size_t expect = 0, n = 0;

        REQUIRE(mkdtemp(dir) != NULL);
        REQUIRE(store_open(dir, 1ull << 30, &st) == 0);
        REQUIRE(service_new(st, cfg, &svc) == 0);
        s_put_complaints(svc, cfg, bad);
        for (uint64_t id = 1; id <= N; id++)
                expect += !bad[id];

        CHECK_INT(service_fire_due(svc, T0 + 1000 * N, 1000, &out, &fired), 0);
        /* A dropped deadline counts as handled: the batch went past it. */
        CHECK_INT(fired, N);
        CHECK_INT(out.n, expect);
        for (uint64_t id = 1; id <= N; id++) {
                pb_event_t *ev;

                if (bad[id])
                        continue;
                if (n >= out.n)
                        break;
                ev = complaint__v1__event__unpack(NULL, out.items[n].len, out.items[n].data);
                REQUIRE(ev != NULL && ev->entry != NULL && ev->complaint != NULL);
                CHECK_STR(out.items[n].topic, "billing/escalated/1");
                CHECK_INT(ev->seq, n + 1);
                CHECK_INT(ev->complaint->id, id);
                CHECK_INT(ev->entry->at_ms, T0 + 1000 * (int64_t)id);
                CHECK_INT(ev->entry->level, 1);
                CHECK_INT(ev->complaint->response_clock->level, 1);
                CHECK_STR(ev->complaint->response_clock->role, "Billing section chief");
                complaint__v1__event__free_unpacked(ev, NULL);
                n++;
        }
        CHECK_INT(svc->last_event_seq, expect);

        /* Nothing left due: the escalated clocks are due a level's allowance later, the
         * dropped entries are gone from the index, their complaints untouched. */
        REQUIRE(store_begin(st, false, &txn) == 0);
        d.due_ms = 0;
        CHECK_INT(store_first_deadline(txn, &d), expect > 0 ? 0 : -ENOENT);
        CHECK(expect == 0 || d.due_ms > T0 + 1000 * N);
        for (uint64_t id = 1; id <= N; id++) {
                pb_complaint_t *c = NULL;

                REQUIRE(store_get_complaint(txn, id, &c) == 0);
                CHECK_INT(c->level, bad[id] ? 0 : 1);
                CHECK_INT(c->history_count, bad[id] ? 0 : 1);
                CHECK_INT(c->response_clock->level, bad[id] ? 0 : 1);
                complaint__v1__complaint__free_unpacked(c, NULL);
        }
        store_abort(&txn);
        CHECK_INT(svc->next_due, d.due_ms);

        request_outbox_truncate(&out, 0);
        free(out.items);
        service_free(&svc);
        store_close(&st);
        nftw(dir, s_rm, 8, FTW_DEPTH | FTW_PHYS);
}

int
main(void)
{
        conf_t *cfg = NULL;
        char *errors = NULL;
        bool bad[N + 1] = {0};

        REQUIRE(config_load(SOURCE_DIR "/conf/complaintd.conf", &cfg, &errors) == 0);
        /* Every deadline fires: the batch goes straight through. */
        s_run(cfg, bad);
        /* One in the middle, the first, the last, and all cannot be fired. */
        bad[3] = true;
        s_run(cfg, bad);
        memset(bad, 0, sizeof(bad));
        bad[1] = bad[N] = true;
        s_run(cfg, bad);
        memset(bad, 1, sizeof(bad));
        s_run(cfg, bad);
        config_free(&cfg);
        free(errors);
        return check_summary();
}
