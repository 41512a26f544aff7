/* it_ctl_times.c: the times complaintctl prints (issue 17), against the real daemon. `show` and
 * `list` print local times in the centre's zone with the offset ("2026-12-04 15:30 +08:00"):
 * the zone of the daemon's status (StatusReply.zone), or UTC ("+00:00") while the daemon
 * reports none, so the test passes either way; --utc prints RFC 3339 UTC ("...Z"); --json is
 * the same bytes with and without --utc. A running deadline in `show` says how much business
 * time is left when the daemon fills Clock.business_left_ms. Each expected string is computed
 * here with client/zone.c from the milliseconds of the JSON output. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "harness.h"
#include "zone.h"

CHECK_DEFINE_COUNTERS();

int
main(void)
{
        harness_t h;
        harness_ctl_t r, u;
        pb_reply_t *status;
        struct tz *tz = NULL;
        char zone[128] = "", id[24], want[ZONE_TIME_SIZE], want_utc[ZONE_TIME_SIZE];
        int64_t created, updated;
        bool left = false;

        REQUIRE(harness_init(&h, "ctl_times") == 0);
        REQUIRE(harness_start(&h) == 0);
        status = harness_status(&h);
        REQUIRE(status && status->status);
        snprintf(zone, sizeof(zone), "%s", status->status->zone);
        complaint__v1__reply__free_unpacked(status, NULL);
        printf("the daemon's zone: \"%s\"\n", zone);
        REQUIRE(zone_load(zone, &tz) == 0);

        r = HARNESS_CTL(&h, "--json", "create", "--channel", "phone", "--category", "billing",
                        "--subject", "Wrong bill", "--description", "Charged twice", "--phone",
                        "+49 30 1234567");
        CHECK_INT(r.code, 0);
        snprintf(id, sizeof(id), "%" PRId64, hjson_int(r.json, "id", 0));
        harness_ctl_free(&r);
        r = HARNESS_CTL(&h, "assign", id);
        CHECK_INT(r.code, 0);
        harness_ctl_free(&r);

        r = HARNESS_CTL(&h, "--json", "show", id);
        u = HARNESS_CTL(&h, "--json", "--utc", "show", id);
        CHECK_INT(r.code, 0);
        CHECK(r.out && u.out && strcmp(r.out, u.out) == 0);
        created = hjson_int(r.json, "complaint.created_at_ms", 0);
        updated = hjson_int(r.json, "complaint.updated_at_ms", 0);
        CHECK(created > 0 && updated > 0);
        harness_ctl_free(&r);
        harness_ctl_free(&u);
        {
                /* Does this daemon fill business_left_ms? Ask it directly. */
                harness_client_t c;
                pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
                Complaint__V1__GetRequest q = COMPLAINT__V1__GET_REQUEST__INIT;
                pb_reply_t *g = NULL;

                q.id = (uint64_t)strtoull(id, NULL, 10);
                req.body_case = COMPLAINT__V1__REQUEST__BODY_GET;
                req.get = &q;
                req.request_id = "t-get-1";
                req.actor = "t";
                req.schema_version = PB_SCHEMA_VERSION;
                REQUIRE(harness_client_open(&h, &c) == 0);
                REQUIRE(harness_client_call(&c, &req, HARNESS_CALL_TIMEOUT_MS, &g) == 0);
                left = g->complaint && g->complaint->response_clock &&
                       g->complaint->response_clock->business_left_ms > 0;
                complaint__v1__reply__free_unpacked(g, NULL);
                harness_client_close(&c);
        }

        zone_format(tz, created, want, sizeof(want));
        zone_format_utc(created, want_utc, sizeof(want_utc));
        r = HARNESS_CTL(&h, "show", id);
        CHECK_INT(r.code, 0);
        {
                char line[160];

                snprintf(line, sizeof(line), "\n  created         %s\n", want);
                CHECK(r.out && strstr(r.out, line) != NULL);
                if (!zone[0])
                        CHECK(strstr(want, " +00:00") != NULL);
                /* The clock's start and due times are local too. */
                CHECK(r.out && strstr(r.out, "Z\n") == NULL && strstr(r.out, "Z,") == NULL);
                if (left)
                        CHECK(r.out && strstr(r.out, "business time left)") != NULL);
                printf("%s", r.out ? r.out : "");
        }
        harness_ctl_free(&r);
        r = HARNESS_CTL(&h, "--utc", "show", id);
        CHECK_INT(r.code, 0);
        {
                char line[160];

                snprintf(line, sizeof(line), "\n  created         %s\n", want_utc);
                CHECK(r.out && strstr(r.out, line) != NULL);
        }
        harness_ctl_free(&r);

        zone_format(tz, updated, want, sizeof(want));
        zone_format_utc(updated, want_utc, sizeof(want_utc));
        r = HARNESS_CTL(&h, "list");
        CHECK_INT(r.code, 0);
        CHECK(r.out && strstr(r.out, want) != NULL);
        CHECK(r.out && strstr(r.out, want_utc) == NULL);
        harness_ctl_free(&r);
        r = HARNESS_CTL(&h, "list", "--utc");
        CHECK_INT(r.code, 0);
        CHECK(r.out && strstr(r.out, want_utc) != NULL);
        harness_ctl_free(&r);
        r = HARNESS_CTL(&h, "--json", "list");
        u = HARNESS_CTL(&h, "--json", "list", "--utc");
        CHECK(r.out && u.out && strcmp(r.out, u.out) == 0);
        harness_ctl_free(&r);
        harness_ctl_free(&u);

        zone_free(&tz);
        return harness_cleanup(&h, check_summary());
}
