/* report_fill.c: fills a store with many complaints for measuring `report` and `ledger` on a
 * large store. It writes through store.h in big transactions (not through the API, which would
 * take hours for a million complaints), so every index, counter, ledger entry and contact entry
 * is kept exactly as the daemon keeps them (phone numbers keyed with the country code the store
 * records, so that a daemon configured alike starts without rebuilding the index). The
 * complaints are spread evenly over the months of a
 * year, in every life story the report counts (new, assigned, accepted, resolved, closed with a
 * score or a failed call, escalated, dismissed, reopened), with business times of minutes to
 * days.
 *
 *   bench_report_fill STATE_DIR [COUNT [YEAR]]     (default 1000000 complaints in 2026)
 *
 * Then start the daemon on STATE_DIR and time `complaintctl report --month YEAR-06`. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "contact.h"
#include "store.h"

#define A(x) COMPLAINT__V1__ACTION__ACTION_##x
/* Complaints per transaction: each complaint dirties a random page of the contact index, so
 * big transactions write each such page once for many complaints. */
#define PER_TXN 200000

static uint64_t
s_rand(uint64_t *s)
{
        *s ^= *s >> 12;
        *s ^= *s << 25;
        *s ^= *s >> 27;
        return *s * 2685821657736338717ull;
}

static int64_t
s_ms(const char *date)
{
        struct tm tm = {0};

        if (sscanf(date, "%d-%d-%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) != 3)
                return -1;
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        return (int64_t)timegm(&tm) * 1000;
}

int
main(int argc, char **argv)
{
        /* protobuf-c's strings are char *: writable arrays, not literals cast. */
        static char cats[][16] = {"billing", "tolls", "network", "metering", "service"};
        static char depts[][16] = {"billing", "tolls", "network", "metering", "depot"};
        static char subject[] = "Charged twice for the same trip";
        static char description[] = "The statement shows the same toll twice on the 3rd.";
        static char owner[] = "agent";
        static char reply[] = "We refunded the second charge.";
        uint64_t count = argc > 2 ? strtoull(argv[2], NULL, 10) : 1000000, seed = 42;
        int year = argc > 3 ? atoi(argv[3]) : 2026;
        char from_s[32], to_s[32];
        int64_t from, span;
        store_t *s = NULL;
        store_txn_t *t = NULL;
        struct timespec a, b;
        int r;

        if (argc < 2) {
                fprintf(stderr, "usage: report_bench STATE_DIR [COUNT [YEAR]]\n");
                return 2;
        }
        snprintf(from_s, sizeof(from_s), "%d-01-01", year);
        snprintf(to_s, sizeof(to_s), "%d-01-01", year + 1);
        from = s_ms(from_s);
        span = s_ms(to_s) - from;
        r = store_open(argv[1], 64ull << 30, &s);
        if (r < 0) {
                fprintf(stderr, "report_bench: cannot open %s: %s\n", argv[1], strerror(-r));
                return 1;
        }
        /* Room for it all up front: the map grows only between transactions. */
        for (int i = 0; i < 8; i++)
                store_grow(s);
        clock_gettime(CLOCK_MONOTONIC, &a);
        for (uint64_t i = 0; i < count; i++) {
                pb_complaint_t c = COMPLAINT__V1__COMPLAINT__INIT;
                pb_complainant_t who = COMPLAINT__V1__COMPLAINANT__INIT;
                Complaint__V1__Clock rc = COMPLAINT__V1__CLOCK__INIT,
                                     sc = COMPLAINT__V1__CLOCK__INIT;
                pb_resolution_t res = COMPLAINT__V1__RESOLUTION__INIT;
                pb_follow_up_t fu = COMPLAINT__V1__FOLLOW_UP__INIT;
                uint64_t x = s_rand(&seed), id;
                int story = (int)(x % 10), k = (int)((x >> 8) % 5);
                char phone[32], key[CONTACT_KEY_MAX];

                if (t == NULL && (r = store_begin(s, true, &t)) < 0)
                        break;
                if ((r = store_next_complaint_id(t, &id)) < 0)
                        break;
                snprintf(phone, sizeof(phone), "+49 30 %07" PRIu64, (x >> 20) % 400000);
                who.phone = phone;
                c.id = id;
                c.complainant = &who;
                c.channel = 1 + (int)((x >> 16) % 7);
                c.nature = 1 + (int)((x >> 24) % 4);
                c.priority = 1 + (int)((x >> 28) % 3);
                c.category = cats[k];
                c.subject = subject;
                c.description = description;
                c.owner = owner;
                /* Evenly over the year, in creation order (ids grow with time). */
                c.created_at_ms = from + (int64_t)((double)span * (double)i / (double)count);
                c.updated_at_ms = c.created_at_ms;
                c.status = ST_NEW;
                if (story >= 1) {
                        c.status = ST_ASSIGNED;
                        c.department = depts[k];
                        rc.kind = 1;
                        rc.running = true;
                        sc.kind = 2;
                        sc.running = true;
                        c.response_clock = &rc;
                        c.resolution_clock = &sc;
                }
                if (story >= 2 && story != 9) {
                        c.status = ST_ACCEPTED;
                        rc.running = false;
                        rc.stopped_by = A(ACCEPT);
                        rc.elapsed_ms = (int64_t)((x >> 32) % (4 * 3600 * 1000));
                        rc.met = rc.elapsed_ms < 2 * 3600 * 1000;
                }
                if (story >= 4 && story != 9) {
                        c.status = story >= 5 ? ST_CLOSED : ST_RESOLVED;
                        sc.running = false;
                        sc.stopped_by = A(RESOLVE);
                        sc.elapsed_ms = (int64_t)((x >> 40) % (48 * 3600 * 1000ull));
                        sc.met = sc.elapsed_ms < 24 * 3600 * 1000;
                        res.responsibility = 1 + (int)((x >> 3) % 4);
                        res.compensation_cents = (int64_t)((x >> 5) % 5000);
                        res.reply = reply;
                        c.resolution = &res;
                }
                if (story >= 5 && story != 9) {
                        fu.call_failed = story == 8;
                        fu.satisfaction = story == 8 ? 0 : 1 + (uint32_t)((x >> 50) % 5);
                        c.follow_up = &fu;
                }
                if (story == 6)
                        c.max_level = 1 + (uint32_t)((x >> 60) % 3);
                if (story == 7)
                        c.reopen_count = 1;
                if (story == 9) {
                        c.status = ST_DISMISSED;
                        rc.running = sc.running = false;
                        rc.stopped_by = sc.stopped_by = A(DISMISS);
                }
                if ((r = store_put_complaint(t, &c, NULL)) < 0)
                        break;
                if (contact_phone_key(who.phone, store_country_code(s), key) > 0 &&
                    (r = store_put_contact(t, key, c.created_at_ms, c.id)) < 0)
                        break;
                if ((i + 1) % PER_TXN == 0 || i + 1 == count) {
                        r = store_commit(&t);
                        if (r == -ENOSPC)
                                fprintf(stderr, "report_bench: store full\n");
                        if (r < 0)
                                break;
                }
        }
        if (r < 0) {
                fprintf(stderr, "report_bench: %s\n", strerror(-r));
                store_abort(&t);
                store_close(&s);
                return 1;
        }
        clock_gettime(CLOCK_MONOTONIC, &b);
        store_close(&s);
        printf("%" PRIu64 " complaints written to %s in %.1f s\n", count, argv[1],
               (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9);
        return 0;
}
