/* fuzz_seeds.c: writes the binary seeds of tests/fuzz/corpus that cannot be written by hand:
 * batches of encoded requests for fuzz_request, and calendars for fuzz_calendar, in the
 * layouts those targets read (see their header comments). Built with the fuzz targets; run it
 * again after changing a layout:
 *
 *     build-fuzz/tests/fuzz/fuzz_seeds tests/fuzz/corpus
 *
 * Request seeds name complaints 1 to 3: the target's store keeps what earlier inputs created,
 * so those are there once a seed has run. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pb.h"

#define DAY_MS ((int64_t)86400 * 1000)

/* A growing input file. */
struct seed {
        uint8_t buf[8192];
        size_t n;
};

static void
s_put(struct seed *s, const void *data, size_t n)
{
        if (s->n + n > sizeof(s->buf)) {
                fprintf(stderr, "fuzz_seeds: a seed over %zu bytes\n", sizeof(s->buf));
                exit(1);
        }
        memcpy(s->buf + s->n, data, n);
        s->n += n;
}

static void
s_write(const char *dir, const char *target, const char *name, const struct seed *s)
{
        char path[4096];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s/%s", dir, target, name);
        f = fopen(path, "wb");
        if (f == NULL || fwrite(s->buf, 1, s->n, f) != s->n || fclose(f) != 0) {
                perror(path);
                exit(1);
        }
}

/* ---------------------------------------------------------------- fuzz_request */

/* Appends one request, framed as fuzz_request reads it: 2 bytes of length, little-endian. */
static void
s_request(struct seed *s, pb_request_t *q)
{
        uint8_t buf[4096];
        size_t n;

        if (q->schema_version == 0)
                q->schema_version = PB_SCHEMA_VERSION;
        n = protobuf_c_message_get_packed_size(&q->base);
        if (n > sizeof(buf)) {
                fprintf(stderr, "fuzz_seeds: a request of %zu bytes\n", n);
                exit(1);
        }
        protobuf_c_message_pack(&q->base, buf);
        s_put(s, (uint8_t[]){(uint8_t)n, (uint8_t)(n >> 8)}, 2);
        s_put(s, buf, n);
}

/* A request with its id and actor; the body is set by the caller. */
static pb_request_t
s_req(const char *id, const char *actor)
{
        pb_request_t q = COMPLAINT__V1__REQUEST__INIT;

        q.request_id = (char *)(uintptr_t)id;
        q.actor = (char *)(uintptr_t)actor;
        return q;
}

static void
s_create(struct seed *s, const char *id, const char *category, const char *phone, const char *email)
{
        pb_request_t q = s_req(id, "agent.kim");
        Complaint__V1__CreateRequest c = COMPLAINT__V1__CREATE_REQUEST__INIT;
        pb_complainant_t who = COMPLAINT__V1__COMPLAINANT__INIT;

        who.name = "Ada Muster";
        who.phone = (char *)(uintptr_t)phone;
        who.email = (char *)(uintptr_t)email;
        who.address = "Hauptstr. 1\n10115 Berlin";
        c.channel = COMPLAINT__V1__CHANNEL__CHANNEL_PHONE;
        c.complainant = &who;
        c.subject = "No service since Monday";
        c.description = "The line is dead.\nTwo visits were promised.";
        c.category = (char *)(uintptr_t)category;
        c.priority = COMPLAINT__V1__PRIORITY__PRIORITY_MAJOR;
        c.external_ref = "CALL-0042";
        c.note = "Caller was polite";
        q.body_case = COMPLAINT__V1__REQUEST__BODY_CREATE;
        q.create = &c;
        s_request(s, &q);
}

/* The changes that take an id and a note only. */
static void
s_simple(struct seed *s, const char *id, int body, uint64_t complaint, const char *note)
{
        pb_request_t q = s_req(id, "dept.network");
        Complaint__V1__AcceptRequest a = COMPLAINT__V1__ACCEPT_REQUEST__INIT;
        Complaint__V1__PendRequest p = COMPLAINT__V1__PEND_REQUEST__INIT;
        Complaint__V1__ResumeRequest r = COMPLAINT__V1__RESUME_REQUEST__INIT;
        Complaint__V1__NoteRequest n = COMPLAINT__V1__NOTE_REQUEST__INIT;
        Complaint__V1__EscalateRequest e = COMPLAINT__V1__ESCALATE_REQUEST__INIT;

        a.id = p.id = r.id = n.id = e.id = complaint;
        a.note = p.note = r.note = n.note = e.note = (char *)(uintptr_t)note;
        q.body_case = body;
        switch (body) {
        case COMPLAINT__V1__REQUEST__BODY_ACCEPT:
                q.accept = &a;
                break;
        case COMPLAINT__V1__REQUEST__BODY_PEND:
                q.pend = &p;
                break;
        case COMPLAINT__V1__REQUEST__BODY_RESUME:
                q.resume = &r;
                break;
        case COMPLAINT__V1__REQUEST__BODY_NOTE:
                q.note = &n;
                break;
        default:
                q.escalate = &e;
                break;
        }
        s_request(s, &q);
}

static void
s_assign(struct seed *s, const char *id, uint64_t complaint, const char *department)
{
        pb_request_t q = s_req(id, "agent.kim");
        Complaint__V1__AssignRequest a = COMPLAINT__V1__ASSIGN_REQUEST__INIT;

        a.id = complaint;
        a.department = (char *)(uintptr_t)department;
        a.note = "Please call back";
        q.body_case = COMPLAINT__V1__REQUEST__BODY_ASSIGN;
        q.assign = &a;
        s_request(s, &q);
}

static void
s_intake(const char *dir)
{
        struct seed s = {.n = 0};
        pb_request_t q = s_req("", "");
        Complaint__V1__StatusRequest st = COMPLAINT__V1__STATUS_REQUEST__INIT;

        s_put(&s, (uint8_t[]){3}, 1);
        s_create(&s, "seed-intake-01", "network", "+49 30 1234567", "");
        s_create(&s, "seed-intake-02", "billing", "030 1234567", "ada@example.org");
        s_create(&s, "seed-intake-03", "night", "", "ADA@example.org");
        s_create(&s, "seed-intake-04", "other", "(030) 123-4567", "");
        q.body_case = COMPLAINT__V1__REQUEST__BODY_STATUS;
        q.status = &st;
        s_request(&s, &q);
        s_write(dir, "fuzz_request", "intake", &s);
}

static void
s_lifecycle(const char *dir)
{
        struct seed s = {.n = 0};
        pb_request_t q;
        Complaint__V1__ResolveRequest rs = COMPLAINT__V1__RESOLVE_REQUEST__INIT;
        Complaint__V1__CloseRequest cl = COMPLAINT__V1__CLOSE_REQUEST__INIT;
        Complaint__V1__ReopenRequest ro = COMPLAINT__V1__REOPEN_REQUEST__INIT;
        Complaint__V1__DismissRequest di = COMPLAINT__V1__DISMISS_REQUEST__INIT;

        s_put(&s, (uint8_t[]){1}, 1);
        s_create(&s, "seed-life-01", "network", "+49 30 7654321", "");
        s_assign(&s, "seed-life-02", 1, "network");
        s_simple(&s, "seed-life-03", COMPLAINT__V1__REQUEST__BODY_ACCEPT, 1, "On it");
        s_simple(&s, "seed-life-04", COMPLAINT__V1__REQUEST__BODY_PEND, 1, "Waiting for parts");
        s_simple(&s, "seed-life-05", COMPLAINT__V1__REQUEST__BODY_RESUME, 1, "Parts arrived");
        q = s_req("seed-life-06", "dept.network");
        rs.id = 1;
        rs.cause = "Cable cut by roadworks";
        rs.responsibility = COMPLAINT__V1__RESPONSIBILITY__RESPONSIBILITY_THIRD_PARTY;
        rs.compensation_cents = 1500;
        rs.reply = "We repaired the cable and credited a month.";
        q.body_case = COMPLAINT__V1__REQUEST__BODY_RESOLVE;
        q.resolve = &rs;
        s_request(&s, &q);
        q = s_req("seed-life-07", "agent.kim");
        cl.id = 1;
        cl.satisfaction = 4;
        cl.note = "Happy enough";
        q.body_case = COMPLAINT__V1__REQUEST__BODY_CLOSE;
        q.close = &cl;
        s_request(&s, &q);
        q = s_req("seed-life-08", "agent.kim");
        ro.id = 1;
        ro.reason = "Dead again";
        ro.department = "billing";
        q.body_case = COMPLAINT__V1__REQUEST__BODY_REOPEN;
        q.reopen = &ro;
        s_request(&s, &q);
        s_simple(&s, "seed-life-09", COMPLAINT__V1__REQUEST__BODY_NOTE, 1, "Called twice");
        s_simple(&s, "seed-life-10", COMPLAINT__V1__REQUEST__BODY_ESCALATE, 1, "Urgent now");
        q = s_req("seed-life-11", "supervisor");
        di.id = 1;
        di.reason = COMPLAINT__V1__DISMISS_REASON__DISMISS_REASON_DUPLICATE;
        di.note = "Same as 2";
        q.body_case = COMPLAINT__V1__REQUEST__BODY_DISMISS;
        q.dismiss = &di;
        s_request(&s, &q);
        s_write(dir, "fuzz_request", "lifecycle", &s);
}

static void
s_reads(const char *dir)
{
        struct seed s = {.n = 0};
        /* 2020 to 2029: ten years, the longest period a report covers, around today. */
        const int64_t from = 1577836800000, to = 1893456000000;
        pb_request_t q;
        Complaint__V1__GetRequest g = COMPLAINT__V1__GET_REQUEST__INIT;
        Complaint__V1__ListRequest l = COMPLAINT__V1__LIST_REQUEST__INIT;
        Complaint__V1__ReplayRequest rp = COMPLAINT__V1__REPLAY_REQUEST__INIT;
        Complaint__V1__ReportRequest rr = COMPLAINT__V1__REPORT_REQUEST__INIT;
        Complaint__V1__LedgerRequest lg = COMPLAINT__V1__LEDGER_REQUEST__INIT;
        char *prefixes[] = {"network/", "centre/"};

        s_put(&s, (uint8_t[]){2}, 1);
        q = s_req("read-1", "viewer");
        g.id = 1;
        q.body_case = COMPLAINT__V1__REQUEST__BODY_GET;
        q.get = &g;
        s_request(&s, &q);
        q = s_req("read-2", "viewer");
        l.department = "network";
        l.status = COMPLAINT__V1__STATUS__STATUS_ASSIGNED;
        l.overdue = 1;
        l.limit = 10;
        q.body_case = COMPLAINT__V1__REQUEST__BODY_LIST;
        q.list = &l;
        s_request(&s, &q);
        q = s_req("read-3", "viewer");
        rp.stream = "network";
        rp.n_topic_prefixes = 2;
        rp.topic_prefixes = prefixes;
        rp.limit = 5;
        q.body_case = COMPLAINT__V1__REQUEST__BODY_REPLAY;
        q.replay = &rp;
        s_request(&s, &q);
        q = s_req("read-4", "viewer");
        rr.from_ms = from;
        rr.to_ms = to;
        rr.department = "network";
        q.body_case = COMPLAINT__V1__REQUEST__BODY_REPORT;
        q.report = &rr;
        s_request(&s, &q);
        q = s_req("read-5", "viewer");
        lg.from_ms = from;
        lg.to_ms = to;
        lg.category = "billing";
        lg.limit = 10;
        q.body_case = COMPLAINT__V1__REQUEST__BODY_LEDGER;
        q.ledger = &lg;
        s_request(&s, &q);
        s_write(dir, "fuzz_request", "reads", &s);
}

static void
s_odd(const char *dir)
{
        struct seed s = {.n = 0};
        pb_request_t q;
        Complaint__V1__BackupRequest b = COMPLAINT__V1__BACKUP_REQUEST__INIT;

        /* A backup, one out of its directory, bytes that do not decode, a newer schema, a
         * change without an id, an unknown department, an unknown complaint. */
        s_put(&s, (uint8_t[]){0}, 1);
        q = s_req("odd-1", "admin");
        b.name = "nightly";
        q.body_case = COMPLAINT__V1__REQUEST__BODY_BACKUP;
        q.backup = &b;
        s_request(&s, &q);
        b.name = "../escape";
        q.request_id = "odd-2";
        s_request(&s, &q);
        s_put(&s, (uint8_t[]){4, 0, 0xff, 0xff, 0xff, 0x0f}, 6);
        q = s_req("odd-3", "admin");
        q.schema_version = 2;
        q.body_case = COMPLAINT__V1__REQUEST__BODY_BACKUP;
        q.backup = &b;
        s_request(&s, &q);
        s_create(&s, "", "network", "110", "");
        s_assign(&s, "odd-4", 2, "nowhere");
        s_simple(&s, "odd-5", COMPLAINT__V1__REQUEST__BODY_ACCEPT, 999999, "");
        s_write(dir, "fuzz_request", "odd", &s);
}

static void
s_escalation(const char *dir)
{
        struct seed s = {.n = 0};

        /* Intake on the centre's 24x7 chain counted in seconds: fired on later inputs; and
         * the daemon's housekeeping. */
        s_put(&s, (uint8_t[]){6}, 1);
        s_create(&s, "seed-esc-01", "network", "+1 555 0100", "");
        s_assign(&s, "seed-esc-02", 3, "");
        s_simple(&s, "seed-esc-03", COMPLAINT__V1__REQUEST__BODY_PEND, 3, "Waiting");
        s_simple(&s, "seed-esc-04", COMPLAINT__V1__REQUEST__BODY_RESUME, 3, "");
        s_write(dir, "fuzz_request", "escalation", &s);
}

/* ---------------------------------------------------------------- fuzz_calendar */

/* Appends v as fuzz_range(lo, hi) reads it: as many big-endian bytes as the range needs. */
static void
s_range(struct seed *s, int64_t lo, int64_t hi, int64_t v)
{
        uint64_t span = (uint64_t)hi - (uint64_t)lo, x = (uint64_t)v - (uint64_t)lo;
        unsigned bytes = span <= 0xff ? 1 : span <= 0xffff ? 2 : span <= 0xffffffff ? 4 : 8;

        for (unsigned i = bytes; i > 0; i--)
                s_put(s, (uint8_t[]){(uint8_t)(x >> (8 * (i - 1)))}, 1);
}

static void
s_u8(struct seed *s, uint8_t v)
{
        s_put(s, &v, 1);
}

struct hours {
        int wd, start, end;
};

struct date {
        int year_delta, month, day, wd;
};

/* A calendar as fuzz_calendar builds it, then n query blocks of (start days into the year,
 * allowance in minutes). zone is an index into its zones[] table, or a POSIX rule. */
static void
s_calendar(const char *dir, const char *name, int year, int zone, const char *rule, bool always,
           const struct hours *h, size_t nh, const struct date *hol, size_t nhol,
           const struct date *wdays, size_t nw)
{
        static const struct {
                int64_t start_day, start_min, allowance_min;
        } queries[] = {{0, 9 * 60, 120},
                       {85, 1 * 60 + 30, 600},
                       {300, 23 * 60, 3 * 24 * 60},
                       {358, 16 * 60 + 30, 45}};
        struct seed s = {.n = 0};

        s_u8(&s, 0);
        s_range(&s, 1990, 2060, year);
        if (rule) {
                s_u8(&s, 200);
                s_range(&s, 1, 48, (int64_t)strlen(rule));
                s_put(&s, rule, strlen(rule));
        } else {
                s_u8(&s, (uint8_t)zone);
        }
        s_u8(&s, always ? 0 : 255);
        s_u8(&s, (uint8_t)nh);
        for (size_t i = 0; i < nh; i++) {
                s_range(&s, -1, 7, h[i].wd);
                s_range(&s, -1, 1440, h[i].start);
                s_range(&s, -1, 1441, h[i].end);
                s_u8(&s, 255);
        }
        s_u8(&s, (uint8_t)nhol);
        for (size_t i = 0; i < nhol; i++) {
                s_range(&s, -1, 1, hol[i].year_delta);
                s_range(&s, 0, 13, hol[i].month);
                s_range(&s, 0, 32, hol[i].day);
        }
        s_u8(&s, (uint8_t)nw);
        for (size_t i = 0; i < nw; i++) {
                s_range(&s, -1, 7, wdays[i].wd);
                s_range(&s, -1, 1, wdays[i].year_delta);
                s_range(&s, 0, 13, wdays[i].month);
                s_range(&s, 0, 32, wdays[i].day);
        }
        for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
                /* start, allowance (kind 8..159: up to three days), a2 and s2 deltas, no
                 * random start, the third point of the between check. */
                s_range(&s, -DAY_MS, 367 * DAY_MS,
                        queries[i].start_day * DAY_MS + queries[i].start_min * 60000);
                s_u8(&s, 100);
                s_range(&s, 0, 3 * DAY_MS, queries[i].allowance_min * 60000);
                s_range(&s, 0, 2 * DAY_MS, 3600 * 1000);
                s_range(&s, 0, 2 * DAY_MS, DAY_MS / 2);
                s_u8(&s, 255);
                s_range(&s, 0, 60 * DAY_MS, 7 * DAY_MS);
        }
        s_write(dir, "fuzz_calendar", name, &s);
}

static void
s_calendars(const char *dir)
{
        const struct hours office[] = {
            {1, 480, 720},  {1, 780, 1020}, {2, 480, 1020},
            {3, 480, 1020}, {4, 480, 1020}, {5, 480, 900},
        };
        const struct hours night[] = {{0, 1320, 360}, {1, 1320, 360}, {6, 600, 840}};
        const struct hours breaks[] = {{1, 0, 0}, {3, 60, 90}, {3, 90, 120}, {3, 100, 30}};
        const struct date holidays[] = {{0, 1, 1, 0}, {0, 3, 29, 0}, {0, 12, 24, 0}, {0, 12, 25, 0},
                                        {1, 1, 1, 0}, {0, 2, 29, 0}, {0, 13, 1, 0}};
        const struct date workdays[] = {{0, 12, 19, 1}, {0, 3, 30, 6}, {0, 12, 25, 3}};

        /* Europe/Berlin: an office week with holidays and a make-up Saturday. */
        s_calendar(dir, "berlin_office", 2026, 1, NULL, false, office, 6, holidays, 7, workdays, 3);
        /* America/New_York: overnight shifts across the DST changes. */
        s_calendar(dir, "newyork_night", 2027, 2, NULL, false, night, 3, holidays, 2, NULL, 0);
        /* Australia/Lord_Howe, half-hour DST, always open but for Christmas. */
        s_calendar(dir, "lordhowe_always", 2024, 3, NULL, true, NULL, 0, holidays + 2, 2, NULL, 0);
        /* Pacific/Apia skipped 2011-12-30. */
        s_calendar(dir, "apia_2011", 2011, 5, NULL, false, office, 6, NULL, 0, NULL, 0);
        /* Rules: whole days and touching intervals in a zone of its own. */
        s_calendar(dir, "rule_iran", 2030, 0, "<+0330>-3:30", false, breaks, 4, NULL, 0, workdays,
                   1);
        /* A rule whose changes fall into the next January (tz.c looked one year too few back). */
        s_calendar(dir, "rule_late_new_year", 2026, 0, "AAA0BBB,J365/167,J365/166", false, office,
                   6, holidays, 3, NULL, 0);
}

int
main(int argc, char **argv)
{
        if (argc != 2) {
                fprintf(stderr, "usage: fuzz_seeds CORPUS_DIR (tests/fuzz/corpus)\n");
                return 2;
        }
        s_intake(argv[1]);
        s_lifecycle(argv[1]);
        s_reads(argv[1]);
        s_odd(argv[1]);
        s_escalation(argv[1]);
        s_calendars(argv[1]);
        return 0;
}
