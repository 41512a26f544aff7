/* it_backup.c: a hot backup taken through the API while clients keep writing, checked offline
 * with `complaintd --check-store`, then restored into a new state directory: every complaint
 * acknowledged before the backup began is there, with its history. Also the refusals: a name
 * that is not a plain name, a name already used. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#include "check.h"
#include "harness.h"

CHECK_DEFINE_COUNTERS();

#define WRITERS 2
#define MAX_IDS 20000

struct writer {
        harness_t *h;
        atomic_int n; /* ids[0..n) were acknowledged; published after ids[n - 1] is written */
        uint64_t ids[MAX_IDS];
        atomic_bool *stop;
};

static void *
s_write(void *arg)
{
        struct writer *w = arg;
        harness_client_t c;
        int64_t end = harness_now_ms() + 60000;

        if (harness_client_open(w->h, &c) < 0)
                return NULL;
        while (!atomic_load(w->stop) && atomic_load(&w->n) < MAX_IDS && harness_now_ms() < end) {
                Complaint__V1__CreateRequest q = COMPLAINT__V1__CREATE_REQUEST__INIT;
                pb_complainant_t who = COMPLAINT__V1__COMPLAINANT__INIT;
                pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
                pb_reply_t *r = NULL;
                char id[48];

                snprintf(id, sizeof(id), "bk-%p-%d", (void *)w, atomic_load(&w->n));
                who.email = (char *)"someone@example.org";
                q.channel = COMPLAINT__V1__CHANNEL__CHANNEL_WEB;
                q.complainant = &who;
                q.subject = (char *)"Meter reading wrong";
                q.description = (char *)"The reading is three times last year's.";
                q.category = (char *)"metering";
                req.body_case = COMPLAINT__V1__REQUEST__BODY_CREATE;
                req.create = &q;
                req.request_id = id;
                req.actor = (char *)"writer";
                if (harness_client_call(&c, &req, HARNESS_CALL_TIMEOUT_MS, &r) == 0) {
                        if (r->error == E_OK && r->complaint) {
                                int n = atomic_load(&w->n);

                                w->ids[n] = r->complaint->id;
                                atomic_store(&w->n, n + 1);
                        }
                        complaint__v1__reply__free_unpacked(r, NULL);
                }
        }
        harness_client_close(&c);
        return NULL;
}

static pb_reply_t *
s_backup(harness_client_t *c, const char *name, const char *request_id)
{
        Complaint__V1__BackupRequest b = COMPLAINT__V1__BACKUP_REQUEST__INIT;
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        pb_reply_t *r = NULL;

        b.name = (char *)(uintptr_t)name;
        req.body_case = COMPLAINT__V1__REQUEST__BODY_BACKUP;
        req.backup = &b;
        req.request_id = (char *)(uintptr_t)request_id;
        req.actor = (char *)"operator";
        if (harness_client_call(c, &req, 60000, &r) < 0)
                return NULL;
        return r;
}

int
main(void)
{
        harness_t h;
        harness_client_t c;
        static struct writer w[WRITERS];
        pthread_t threads[WRITERS];
        atomic_bool stop = false;
        pb_reply_t *r;
        int acked[WRITERS];
        char path[PATH_MAX], *out = NULL;
        int n_before = 0, missing = 0;

        REQUIRE(harness_init(&h, "it_backup") == 0);
        REQUIRE(harness_start(&h) == 0);
        REQUIRE(harness_client_open(&h, &c) == 0);
        for (int i = 0; i < WRITERS; i++) {
                w[i].h = &h;
                w[i].stop = &stop;
                REQUIRE(pthread_create(&threads[i], NULL, s_write, &w[i]) == 0);
        }
        /* Let the writers get going: wait until both have some acknowledged creates. */
        for (int i = 0; i < 2000 && (atomic_load(&w[0].n) < 50 || atomic_load(&w[1].n) < 50); i++) {
                pb_reply_t *st = harness_status(&h);
                if (st)
                        complaint__v1__reply__free_unpacked(st, NULL);
        }
        CHECK(atomic_load(&w[0].n) >= 50 && atomic_load(&w[1].n) >= 50);

        /* What was acknowledged before the backup began, counted, not timed: many creates are
         * acknowledged within one millisecond, so a time would leave out an unknown number. */
        for (int k = 0; k < WRITERS; k++)
                acked[k] = atomic_load(&w[k].n);
        r = s_backup(&c, "nightly", "backup-1");
        REQUIRE(r != NULL);
        CHECK_INT(r->error, E_OK);
        REQUIRE(r->backup != NULL);
        snprintf(path, sizeof(path), "%s", r->backup->path);
        CHECK(strstr(path, "nightly") != NULL);
        CHECK(r->backup->bytes > 0);
        complaint__v1__reply__free_unpacked(r, NULL);

        /* Writes went on during the copy. */
        {
                int after = 0;

                for (int i = 0; i < 2000 && after < 20; i++) {
                        after = 0;
                        for (int k = 0; k < WRITERS; k++)
                                after += atomic_load(&w[k].n) - acked[k];
                        pb_reply_t *st = harness_status(&h);
                        if (st)
                                complaint__v1__reply__free_unpacked(st, NULL);
                }
                CHECK(after >= 20);
        }

        /* Refusals. */
        r = s_backup(&c, "nightly", "backup-2");
        REQUIRE(r != NULL);
        CHECK_INT(r->error, E_INVALID_ARGUMENT);
        CHECK(r->message && strstr(r->message, "already"));
        complaint__v1__reply__free_unpacked(r, NULL);
        r = s_backup(&c, "../escape", "backup-3");
        REQUIRE(r != NULL);
        CHECK_INT(r->error, E_INVALID_ARGUMENT);
        CHECK_STR(r->field, "backup.name");
        complaint__v1__reply__free_unpacked(r, NULL);

        atomic_store(&stop, true);
        for (int i = 0; i < WRITERS; i++)
                pthread_join(threads[i], NULL);
        harness_client_close(&c);
        CHECK_INT(harness_stop(&h), 0);

        /* Offline check of the copy. */
        CHECK_INT(harness_run(COMPLAINTD_BIN, (const char *const[]){"--check-store", path, NULL},
                              60000, &out, NULL),
                  0);
        CHECK(out && strstr(out, "OK: 0 problems"));
        free(out);

        /* Restore: the copy becomes the state directory of a new daemon. */
        snprintf(h.state, sizeof(h.state), "%s", path);
        REQUIRE(harness_start(&h) == 0);
        REQUIRE(harness_client_open(&h, &c) == 0);
        for (int k = 0; k < WRITERS; k++) {
                for (int j = 0; j < acked[k]; j++) {
                        Complaint__V1__GetRequest g = COMPLAINT__V1__GET_REQUEST__INIT;
                        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;

                        g.id = w[k].ids[j];
                        req.body_case = COMPLAINT__V1__REQUEST__BODY_GET;
                        req.get = &g;
                        r = NULL;
                        n_before++;
                        if (harness_client_call(&c, &req, HARNESS_CALL_TIMEOUT_MS, &r) < 0 ||
                            r->error != E_OK || r->n_history != 1)
                                missing++;
                        if (r)
                                complaint__v1__reply__free_unpacked(r, NULL);
                }
        }
        /* Both writers had at least 50 acknowledged before the backup began. */
        CHECK(n_before >= 2 * 50);
        CHECK_INT(missing, 0);
        harness_client_close(&c);
        CHECK_INT(harness_stop(&h), 0);
        return harness_cleanup(&h, check_summary());
}
