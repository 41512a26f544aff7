/* test_batch.c: service_handle_batch() (service.c) on a store of its own: a batch of changes is
 * handled straight in its transaction, and when one change fails after it wrote (a dispatch whose
 * deadline cannot be computed, after the department's policy was stored), the batch is handled
 * again the careful way, one nested transaction per change: the failed change leaves nothing
 * behind, not an event, a sequence number or a policy, and every other change is applied as if
 * the batch had been careful from the first. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "request.h"
#include "service.h"
#include "store.h"

CHECK_DEFINE_COUNTERS();

#define MAX_REQS 8

/* One request of a batch to build: a create (id 0) or a dispatch of id to dept. */
struct step {
        uint64_t id;
        const char *dept;
        int expect;      /* the reply's error code */
        const char *rid; /* its request id; NULL: one of its own */
        bool replayed;   /* the reply is the first one's, replayed */
};

static uint8_t *
s_pack(struct service_request *rq, int n, const struct step *st)
{
        pb_request_t q = COMPLAINT__V1__REQUEST__INIT;
        Complaint__V1__CreateRequest cr = COMPLAINT__V1__CREATE_REQUEST__INIT;
        Complaint__V1__AssignRequest as = COMPLAINT__V1__ASSIGN_REQUEST__INIT;
        pb_complainant_t who = COMPLAINT__V1__COMPLAINANT__INIT;
        char rid[32], dept[32];
        uint8_t *buf;

        snprintf(rid, sizeof(rid), "%s", st->rid ? st->rid : "");
        if (st->rid == NULL)
                snprintf(rid, sizeof(rid), "batch-%d", n);
        q.schema_version = 1;
        q.request_id = rid;
        q.actor = (char *)"agent-7";
        if (st->id == 0) {
                who.name = (char *)"Wang Fang";
                who.phone = (char *)"+86 10 5555 0100";
                cr.channel = COMPLAINT__V1__CHANNEL__CHANNEL_PHONE;
                cr.subject = (char *)"Billed twice";
                cr.description = (char *)"The November bill charges the line twice.";
                cr.category = (char *)"billing";
                cr.complainant = &who;
                q.body_case = COMPLAINT__V1__REQUEST__BODY_CREATE;
                q.create = &cr;
        } else {
                as.id = st->id;
                snprintf(dept, sizeof(dept), "%s", st->dept);
                as.department = dept;
                q.body_case = COMPLAINT__V1__REQUEST__BODY_ASSIGN;
                q.assign = &as;
        }
        rq->len = protobuf_c_message_get_packed_size(&q.base);
        buf = malloc(rq->len);
        REQUIRE(buf != NULL);
        protobuf_c_message_pack(&q.base, buf);
        rq->data = buf;
        return buf;
}

/* Handles steps as one batch on a fresh store; checks each reply, the events (one per change
 * applied, numbered from 1 without a gap), each complaint's status, whether the batch was handled
 * again, and whether network's policy was stored. */
static void
s_run(const conf_t *cfg, const struct step *steps, int n, uint64_t expect_redone,
      const int *expect_status, int n_complaints)
{
        char dir[] = "/tmp/test_batch.XXXXXX";
        struct service_request rq[MAX_REQS] = {0};
        uint8_t *bufs[MAX_REQS] = {0};
        struct service_outbox out = {0};
        store_txn_t *txn = NULL;
        service_t *svc = NULL;
        store_t *st = NULL;
        const policy_t *pol = NULL;
        size_t expect_events = 0;

        REQUIRE(n <= MAX_REQS);
        REQUIRE(mkdtemp(dir) != NULL);
        REQUIRE(store_open(dir, 1ull << 30, &st) == 0);
        REQUIRE(service_new(st, cfg, &svc) == 0);
        for (int i = 0; i < n; i++) {
                bufs[i] = s_pack(&rq[i], i, &steps[i]);
                expect_events += steps[i].expect == E_OK && !steps[i].replayed;
        }

        CHECK_INT(service_handle_batch(svc, rq, (size_t)n, &out), 0);
        CHECK_INT(svc->batches_redone, expect_redone);
        for (int i = 0; i < n; i++) {
                pb_reply_t *r = complaint__v1__reply__unpack(NULL, rq[i].reply_len, rq[i].reply);

                REQUIRE(r != NULL);
                CHECK_INT(r->error, steps[i].expect);
                CHECK_INT(r->replayed, steps[i].replayed);
                complaint__v1__reply__free_unpacked(r, NULL);
        }
        CHECK_INT(out.n, expect_events);
        for (size_t i = 0; i < out.n; i++) {
                pb_event_t *ev =
                    complaint__v1__event__unpack(NULL, out.items[i].len, out.items[i].data);

                REQUIRE(ev != NULL);
                CHECK_INT(ev->seq, i + 1);
                complaint__v1__event__free_unpacked(ev, NULL);
        }
        CHECK_INT(svc->last_event_seq, expect_events);

        REQUIRE(store_begin(st, false, &txn) == 0);
        uint64_t n_new = 0, n_assigned = 0, count = 0;
        for (int id = 1; id <= n_complaints; id++) {
                pb_complaint_t *c = NULL;

                REQUIRE(store_get_complaint(txn, (uint64_t)id, &c) == 0);
                CHECK_INT(c->status, expect_status[id - 1]);
                n_new += c->status == ST_NEW;
                n_assigned += c->status == ST_ASSIGNED;
                complaint__v1__complaint__free_unpacked(c, NULL);
        }
        /* The state counters kept with the records count what the batch left, once. */
        CHECK_INT(store_count(txn, ST_NONE, &count), 0);
        CHECK_INT(count, n_complaints);
        CHECK_INT(store_count(txn, ST_NEW, &count), 0);
        CHECK_INT(count, n_new);
        CHECK_INT(store_count(txn, ST_ASSIGNED, &count), 0);
        CHECK_INT(count, n_assigned);
        {
                pb_complaint_t *c = NULL;

                CHECK_INT(store_get_complaint(txn, (uint64_t)n_complaints + 1, &c), -ENOENT);
        }
        store_abort(&txn);
        /* The failed dispatch stored no policy for network: the first one stored now is new. */
        REQUIRE(store_begin(st, true, &txn) == 0);
        uint64_t before = store_writes(txn);
        CHECK_INT(store_current_policy(txn, svc->policies, cfg, "network", &pol), 0);
        CHECK(store_writes(txn) > before);
        store_abort(&txn);

        for (int i = 0; i < n; i++) {
                free(bufs[i]);
                free(rq[i].reply);
        }
        request_outbox_truncate(&out, 0);
        free(out.items);
        service_free(&svc);
        store_close(&st);
        check_rm_tree(dir);
}

int
main(void)
{
        conf_t *cfg = NULL;
        char *errors = NULL;
        struct config_department *network = NULL;

        REQUIRE(config_load(SOURCE_DIR "/conf/complaintd.conf", &cfg, &errors) == 0);
        for (size_t i = 0; i < cfg->n_departments; i++)
                if (strcmp(cfg->departments[i].id, "network") == 0)
                        network = &cfg->departments[i];
        REQUIRE(network != NULL);

        /* Every change applies, or fails before it writes (an unknown complaint, an unknown
         * department): the batch goes straight through. */
        {
                const struct step steps[] = {
                    {0, NULL, E_OK, NULL, false},
                    {0, NULL, E_OK, NULL, false},
                    {1, "billing", E_OK, NULL, false},
                    {99, "billing", E_NOT_FOUND, NULL, false},
                    {2, "nowhere", E_UNKNOWN_REFERENCE, NULL, false},
                    {2, "billing", E_OK, NULL, false},
                };
                const int status[] = {ST_ASSIGNED, ST_ASSIGNED};

                s_run(cfg, steps, 6, 0, status, 2);
        }

        /* network's response limit runs past year 9999: a dispatch there stores the policy,
         * then cannot compute its deadline (MISCONFIGURED). The batch is handled again, and
         * the changes before and after the failed one are applied. */
        network->response_ms = 9000ll * 365 * 86400 * 1000;
        {
                const struct step steps[] = {
                    {0, NULL, E_OK, NULL, false},      {1, "network", E_MISCONFIGURED, NULL, false},
                    {0, NULL, E_OK, NULL, false},      {2, "billing", E_OK, NULL, false},
                    {1, "billing", E_OK, NULL, false},
                };
                const int status[] = {ST_ASSIGNED, ST_ASSIGNED};

                s_run(cfg, steps, 5, 1, status, 2);
        }
        /* A request sent twice before the failing change: the second is the first's reply,
         * replayed, in the careful round too; one complaint, one event. */
        {
                const struct step steps[] = {
                    {0, NULL, E_OK, "twice", false},
                    {0, NULL, E_OK, "twice", true},
                    {1, "network", E_MISCONFIGURED, NULL, false},
                    {1, "billing", E_OK, NULL, false},
                };
                const int status[] = {ST_ASSIGNED};

                s_run(cfg, steps, 4, 1, status, 1);
        }
        /* The failing change last. */
        {
                const struct step steps[] = {
                    {0, NULL, E_OK, NULL, false},
                    {1, "network", E_MISCONFIGURED, NULL, false},
                };
                const int status[] = {ST_NEW};

                s_run(cfg, steps, 2, 1, status, 1);
        }

        config_free(&cfg);
        free(errors);
        return check_summary();
}
