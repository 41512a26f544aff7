/* it_report.c: the monthly analysis, the reply ledger and repeat complainants, against the real
 * daemon through the API.
 *
 * A fixture of complaints in nine known life stories (left new, assigned, accepted, resolved,
 * closed, escalated and closed after a failed call, dismissed, reopened, settled on the spot)
 * is built in two batches; the instant the second begins splits it into two periods, as a
 * month boundary would. Every figure of the report of each period, of both together, of one
 * department and of one category is computed here independently, from the stories and from
 * the times in each complaint's history (the calendars are 24x7, so business time is elapsed
 * time), and checked. The report of the current month, read from the daemon's day counters
 * rather than from the complaints, must give the same figures, and the same bytes after a
 * restart. The ledger must list each complaint once, those without a reply or a follow-up
 * first, across pages. Repeat complainants: the flag comes at the configured threshold and not
 * before, phone numbers written in different ways link, and the flag's event carries no
 * contact details. When complaintctl knows `report`, its --json and --csv output are checked
 * too. */
#include <stdio.h>
#include <time.h>

#include "check.h"
#include "harness.h"

CHECK_DEFINE_COUNTERS();

#define A(x) COMPLAINT__V1__ACTION__ACTION_##x
#define BODY(x) COMPLAINT__V1__REQUEST__BODY_##x
#define STORIES 9
#define BATCH1 45
#define BATCH2 27
#define N (BATCH1 + BATCH2)
#define DAY_MS 86400000ll

static const char *const conf_text =
    "daemon: { heartbeat = \"100ms\"; };\n"
    "centre = \"centre\";\n"
    "escalation: { warning = 0; realert = \"1h\"; followup = \"1h\"; };\n"
    "repeat: { threshold = 2; window = \"1d\"; country_code = \"49\"; };\n"
    "departments = (\n"
    "  { id = \"centre\"; name = \"Centre\"; calendar = \"24x7\";\n"
    "    chain = ( { role = \"Supervisor\"; allowance = \"1h\"; } ); },\n"
    "  { id = \"billing\"; name = \"Billing\"; calendar = \"24x7\";\n"
    "    response = \"1h\"; resolution = \"2h\";\n"
    "    chain = ( { role = \"Section chief\"; allowance = \"1h\"; },\n"
    "              { role = \"Department head\"; allowance = \"1h\"; } ); },\n"
    "  { id = \"network\"; name = \"Network\"; calendar = \"24x7\";\n"
    "    response = \"1h\"; resolution = \"2h\";\n"
    "    chain = ( { role = \"Shift lead\"; allowance = \"1h\"; } ); }\n"
    ");\n"
    "categories = ( { id = \"billing\"; name = \"Billing\"; department = \"billing\"; },\n"
    "               { id = \"network\"; name = \"Network\"; department = \"network\"; },\n"
    "               { id = \"metering\"; name = \"Metering\"; department = \"billing\"; } );\n";

static const char *const categories[3] = {"billing", "network", "metering"};
static const char *const category_dept[3] = {"billing", "network", "billing"};

/* One complaint of the fixture as the test made it. */
struct fx {
        uint64_t id;
        int story; /* 0..8, see s_story() */
        int cat, nature, priority, channel;
        int64_t created;
        const char *dept;              /* "" when never dispatched */
        int64_t accept_ms, resolve_ms; /* business times, from the history; -1: none */
};

static struct fx fx[N];
static pb_reply_t *
s_call(harness_client_t *c, pb_request_t *req)
{
        return harness_change(c, req, "agent-7");
}

static int
s_ok(harness_client_t *c, pb_request_t *req)
{
        pb_reply_t *r = s_call(c, req);
        int code = r ? (int)r->error : -1;

        if (r)
                complaint__v1__reply__free_unpacked(r, NULL);
        CHECK_INT(code, E_OK);
        return code;
}

static uint64_t
s_create(harness_client_t *c, int cat, int nature, int priority, int channel, const char *phone,
         const char *email, pb_complaint_t **ret)
{
        Complaint__V1__CreateRequest q = COMPLAINT__V1__CREATE_REQUEST__INIT;
        pb_complainant_t who = COMPLAINT__V1__COMPLAINANT__INIT;
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        pb_reply_t *r;
        uint64_t id = 0;

        who.phone = (char *)(uintptr_t)(phone ? phone : "");
        who.email = (char *)(uintptr_t)(email ? email : "");
        q.channel = channel;
        q.nature = nature;
        q.priority = priority;
        q.complainant = &who;
        q.subject = (char *)"Fixture";
        q.description = (char *)"A complaint of the report fixture.";
        q.category = (char *)(uintptr_t)categories[cat];
        req.body_case = BODY(CREATE);
        req.create = &q;
        r = s_call(c, &req);
        if (r && r->error == E_OK && r->complaint) {
                id = r->complaint->id;
                if (ret) {
                        *ret = r->complaint;
                        r->complaint = NULL;
                }
        }
        if (r)
                complaint__v1__reply__free_unpacked(r, NULL);
        return id;
}

static void
s_simple(harness_client_t *c, int body, uint64_t id)
{
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        Complaint__V1__AssignRequest as = COMPLAINT__V1__ASSIGN_REQUEST__INIT;
        Complaint__V1__AcceptRequest ac = COMPLAINT__V1__ACCEPT_REQUEST__INIT;
        Complaint__V1__EscalateRequest es = COMPLAINT__V1__ESCALATE_REQUEST__INIT;
        Complaint__V1__DismissRequest di = COMPLAINT__V1__DISMISS_REQUEST__INIT;
        Complaint__V1__ReopenRequest ro = COMPLAINT__V1__REOPEN_REQUEST__INIT;

        req.body_case = body;
        as.id = ac.id = es.id = di.id = ro.id = id;
        di.reason = COMPLAINT__V1__DISMISS_REASON__DISMISS_REASON_DUPLICATE;
        ro.reason = (char *)"the complainant called again";
        /* The bodies share one union: set only the one sent. */
        if (body == BODY(ASSIGN))
                req.assign = &as;
        else if (body == BODY(ACCEPT))
                req.accept = &ac;
        else if (body == BODY(ESCALATE))
                req.escalate = &es;
        else if (body == BODY(DISMISS))
                req.dismiss = &di;
        else
                req.reopen = &ro;
        s_ok(c, &req);
}

static void
s_resolve(harness_client_t *c, uint64_t id, int responsibility, int64_t cents)
{
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        Complaint__V1__ResolveRequest q = COMPLAINT__V1__RESOLVE_REQUEST__INIT;

        q.id = id;
        q.cause = (char *)"found";
        q.responsibility = responsibility;
        q.compensation_cents = cents;
        q.reply = (char *)"We fixed it, sorry.";
        req.body_case = BODY(RESOLVE);
        req.resolve = &q;
        s_ok(c, &req);
}

static void
s_close(harness_client_t *c, uint64_t id, uint32_t satisfaction)
{
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        Complaint__V1__CloseRequest q = COMPLAINT__V1__CLOSE_REQUEST__INIT;

        q.id = id;
        q.satisfaction = satisfaction;
        q.call_failed = satisfaction == 0;
        req.body_case = BODY(CLOSE);
        req.close = &q;
        s_ok(c, &req);
}

#define R(x) COMPLAINT__V1__RESPONSIBILITY__RESPONSIBILITY_##x

/* The stories: 0 left new; 1 assigned; 2 accepted; 3 resolved (company); 4 closed with a score;
 * 5 escalated by hand, accepted, resolved (customer), follow-up call failed; 6 dismissed;
 * 7 resolved (shared), reopened, accepted, resolved again (third party), closed with 5;
 * 8 settled on the spot (company) and closed with 3. */
static void
s_story(harness_client_t *c, struct fx *f, int i)
{
        int s = f->story;

        if (s == 0 || s == 8) {
                if (s == 8) {
                        s_resolve(c, f->id, R(COMPANY), 50);
                        s_close(c, f->id, 3);
                }
                return;
        }
        s_simple(c, BODY(ASSIGN), f->id);
        f->dept = category_dept[f->cat];
        if (s == 5)
                s_simple(c, BODY(ESCALATE), f->id);
        if (s == 6) {
                s_simple(c, BODY(DISMISS), f->id);
                return;
        }
        if (s >= 2)
                s_simple(c, BODY(ACCEPT), f->id);
        if (s >= 3)
                s_resolve(c, f->id,
                          s == 5   ? R(CUSTOMER)
                          : s == 7 ? R(SHARED)
                                   : R(COMPANY),
                          100 * i);
        if (s == 7) {
                s_simple(c, BODY(REOPEN), f->id);
                s_simple(c, BODY(ACCEPT), f->id);
                s_resolve(c, f->id, R(THIRD_PARTY), 7);
        }
        if (s == 4)
                s_close(c, f->id, (uint32_t)(i % 5) + 1);
        if (s == 5)
                s_close(c, f->id, 0);
        if (s == 7)
                s_close(c, f->id, 5);
}

/* The business times, from the history: assignment (or reopening) to the acceptance or
 * resolution that followed it last. */
static void
s_times(harness_client_t *c, struct fx *f)
{
        Complaint__V1__GetRequest g = COMPLAINT__V1__GET_REQUEST__INIT;
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        pb_reply_t *r = NULL;
        int64_t start = -1;

        f->accept_ms = f->resolve_ms = -1;
        g.id = f->id;
        req.body_case = BODY(GET);
        req.get = &g;
        REQUIRE(harness_client_call(c, &req, HARNESS_CALL_TIMEOUT_MS, &r) == 0 && r->error == E_OK);
        f->created = r->complaint->created_at_ms;
        for (size_t i = 0; i < r->n_history; i++) {
                const pb_history_t *h = r->history[i];

                if (h->action == A(ASSIGN) || h->action == A(REOPEN))
                        start = h->at_ms;
                else if (h->action == A(ACCEPT) && start >= 0)
                        f->accept_ms = h->at_ms - start;
                else if (h->action == A(RESOLVE) && start >= 0)
                        f->resolve_ms = h->at_ms - start;
        }
        complaint__v1__reply__free_unpacked(r, NULL);
}

/* ------------------------------------------------------------ expectations */

/* The documented rounding of percentiles (PROTOCOL.md): the nearest-rank value, raised to the
 * top of its bucket: exact under 16 ms, then 8 buckets per doubling. */
static int64_t
s_bucket_top(int64_t v)
{
        int e = 0;

        if (v < 16)
                return v;
        while ((v >> (e + 1)) > 0)
                e++;
        return ((((v >> (e - 3)) & 7) + 9) << (e - 3)) - 1;
}

static int
s_cmp64(const void *a, const void *b)
{
        int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

        return x < y ? -1 : x > y;
}

static int64_t
s_percentile(int64_t *v, size_t n, int pct)
{
        size_t rank;

        if (n == 0)
                return 0;
        qsort(v, n, sizeof(*v), s_cmp64);
        rank = (n * (size_t)pct + 99) / 100;
        return s_bucket_top(v[rank - 1]);
}

struct expect {
        uint64_t complaints, accepted, response_met, resolved, resolution_timed, resolution_met;
        uint64_t escalated, level1, closed, follow_ups, calls_failed, reopened, reopens, dismissed;
        uint64_t satisfaction[5], responsibility[4];
        int64_t compensation;
        int64_t accept_p50, accept_p90, resolve_p50, resolve_p90;
        double satisfaction_avg;
};

typedef bool (*fx_filter_t)(const struct fx *f, const void *arg);

static void
s_expect(fx_filter_t keep, const void *arg, int64_t from, int64_t to, struct expect *e)
{
        int64_t acc[N], res[N];
        size_t na = 0, nr = 0;
        uint64_t scored = 0, points = 0;

        memset(e, 0, sizeof(*e));
        for (int i = 0; i < N; i++) {
                const struct fx *f = &fx[i];
                int s = f->story;

                if (f->created < from || f->created >= to || (keep && !keep(f, arg)))
                        continue;
                e->complaints++;
                if (s == 2 || s == 3 || s == 4 || s == 5 || s == 7) {
                        e->accepted++;
                        e->response_met++; /* every acceptance came within the hour */
                        acc[na++] = f->accept_ms;
                }
                if (s == 3 || s == 4 || s == 5 || s == 7 || s == 8) {
                        e->resolved++;
                        if (s != 8) {
                                e->resolution_timed++;
                                /* 5 was escalated by hand, and resolved within the day:
                                 * a limit is missed when its deadline passes, not when a
                                 * supervisor escalates. */
                                e->resolution_met++;
                                res[nr++] = f->resolve_ms;
                        }
                        e->responsibility[s == 5 ? 1 : s == 7 ? 3 : 0]++;
                        e->compensation += s == 7 ? 7 : s == 8 ? 50 : 100 * (f - fx);
                }
                if (s == 5) {
                        e->escalated++;
                        e->level1++;
                }
                if (s == 4 || s == 5 || s == 7 || s == 8) {
                        e->closed++;
                        if (s == 5) {
                                e->calls_failed++;
                        } else {
                                uint32_t score = s == 4   ? (uint32_t)((f - fx) % 5) + 1
                                                 : s == 7 ? 5
                                                          : 3;

                                e->follow_ups++;
                                e->satisfaction[score - 1]++;
                                scored++;
                                points += score;
                        }
                }
                if (s == 7) {
                        e->reopened++;
                        e->reopens++;
                }
                e->dismissed += s == 6;
        }
        e->satisfaction_avg = scored ? (double)points / (double)scored : 0;
        e->accept_p50 = s_percentile(acc, na, 50);
        e->accept_p90 = s_percentile(acc, na, 90);
        e->resolve_p50 = s_percentile(res, nr, 50);
        e->resolve_p90 = s_percentile(res, nr, 90);
}

static bool
s_near(double a, double b)
{
        return a - b < 1e-9 && b - a < 1e-9;
}

static void
s_check_figures(const char *what, const Complaint__V1__ReportFigures *f, const struct expect *e)
{
        int failed = check_failed;

        REQUIRE(f != NULL);
        CHECK_INT(f->complaints, e->complaints);
        CHECK_INT(f->accepted, e->accepted);
        CHECK_INT(f->response_met, e->response_met);
        CHECK(s_near(f->response_met_share,
                     e->accepted ? (double)e->response_met / (double)e->accepted : 0));
        CHECK_INT(f->resolved, e->resolved);
        CHECK_INT(f->resolution_timed, e->resolution_timed);
        CHECK_INT(f->resolution_met, e->resolution_met);
        CHECK(s_near(f->resolution_met_share,
                     e->resolution_timed ? (double)e->resolution_met / (double)e->resolution_timed
                                         : 0));
        CHECK_INT(f->escalated, e->escalated);
        REQUIRE(f->n_escalated_by_level >= 2);
        CHECK_INT(f->escalated_by_level[0], e->level1);
        CHECK_INT(f->escalated_by_level[1], 0);
        CHECK_INT(f->accept_p50_ms, e->accept_p50);
        CHECK_INT(f->accept_p90_ms, e->accept_p90);
        CHECK_INT(f->resolve_p50_ms, e->resolve_p50);
        CHECK_INT(f->resolve_p90_ms, e->resolve_p90);
        CHECK_INT(f->closed, e->closed);
        CHECK_INT(f->follow_ups, e->follow_ups);
        CHECK_INT(f->calls_failed, e->calls_failed);
        CHECK(s_near(f->follow_up_rate,
                     e->resolved ? (double)e->follow_ups / (double)e->resolved : 0));
        REQUIRE(f->n_satisfaction == 5 && f->n_responsibility == 4);
        for (int i = 0; i < 5; i++)
                CHECK_INT(f->satisfaction[i], e->satisfaction[i]);
        CHECK(s_near(f->satisfaction_avg, e->satisfaction_avg));
        CHECK_INT(f->reopened, e->reopened);
        CHECK_INT(f->reopens, e->reopens);
        CHECK_INT(f->dismissed, e->dismissed);
        for (int i = 0; i < 4; i++)
                CHECK_INT(f->responsibility[i], e->responsibility[i]);
        CHECK_INT(f->compensation_cents, e->compensation);
        CHECK_INT(f->repeat, 0);
        if (check_failed != failed)
                fprintf(stderr, "  (in the figures of %s)\n", what);
}

static pb_reply_t *
s_report(harness_client_t *c, int64_t from, int64_t to, const char *dept, const char *cat)
{
        Complaint__V1__ReportRequest q = COMPLAINT__V1__REPORT_REQUEST__INIT;
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        pb_reply_t *r = NULL;

        q.from_ms = from;
        q.to_ms = to;
        q.department = (char *)(uintptr_t)(dept ? dept : "");
        q.category = (char *)(uintptr_t)(cat ? cat : "");
        req.body_case = BODY(REPORT);
        req.report = &q;
        REQUIRE(harness_client_call(c, &req, HARNESS_CALL_TIMEOUT_MS, &r) == 0);
        if (r->error != E_OK)
                fprintf(stderr, "report failed: %s\n", r->message);
        REQUIRE(r->error == E_OK && r->report != NULL);
        return r;
}

/* The breakdown of dimension dim for value, or NULL. */
static const Complaint__V1__ReportFigures *
s_breakdown(const pb_reply_t *r, const char *dim, const char *value)
{
        for (size_t i = 0; i < r->report->n_breakdown; i++)
                if (strcmp(r->report->breakdown[i]->dimension, dim) == 0 &&
                    strcmp(r->report->breakdown[i]->value, value) == 0)
                        return r->report->breakdown[i]->figures;
        return NULL;
}

static bool
s_in_dept(const struct fx *f, const void *arg)
{
        return strcmp(f->dept, arg) == 0;
}

static bool
s_in_cat(const struct fx *f, const void *arg)
{
        return strcmp(categories[f->cat], arg) == 0;
}

static bool
s_nature(const struct fx *f, const void *arg)
{
        return f->nature == *(const int *)arg;
}

static bool
s_channel(const struct fx *f, const void *arg)
{
        return f->channel == *(const int *)arg;
}

/* Checks a whole report of [from, to) (with its filter) against the fixture. */
static void
s_check_report(harness_client_t *c, const char *what, int64_t from, int64_t to, const char *dept,
               const char *cat)
{
        pb_reply_t *r = s_report(c, from, to, dept, cat);
        struct expect e;
        char name[128];

        s_expect(dept ? s_in_dept : cat ? s_in_cat : NULL, dept ? dept : cat, from, to, &e);
        s_check_figures(what, r->report->total, &e);
        /* Every breakdown: by category (not in a category's report), nature, channel. */
        for (int k = 0; k < 3 && !cat; k++) {
                const Complaint__V1__ReportFigures *f = s_breakdown(r, "category", categories[k]);
                struct expect ek;

                snprintf(name, sizeof(name), "%s, category %s", what, categories[k]);
                s_expect(dept ? s_in_dept : s_in_cat, dept ? dept : categories[k], from, to, &ek);
                if (dept) {
                        /* Within a department: count its complaints of that category. */
                        uint64_t n = 0;

                        for (int i = 0; i < N; i++)
                                n += fx[i].created >= from && fx[i].created < to &&
                                     strcmp(fx[i].dept, dept) == 0 && fx[i].cat == k;
                        CHECK_INT(f ? f->complaints : 0, n);
                } else if (ek.complaints) {
                        REQUIRE(f != NULL);
                        s_check_figures(name, f, &ek);
                }
        }
        for (int v = 1; v <= 4 && !dept && !cat; v++) {
                const Complaint__V1__ReportFigures *f = s_breakdown(r, "nature", pb_nature_name(v));
                struct expect ev;

                s_expect(s_nature, &v, from, to, &ev);
                snprintf(name, sizeof(name), "%s, nature %s", what, pb_nature_name(v));
                if (ev.complaints) {
                        REQUIRE(f != NULL);
                        s_check_figures(name, f, &ev);
                } else {
                        CHECK(f == NULL);
                }
        }
        for (int v = 1; v <= 7 && !dept && !cat; v++) {
                const Complaint__V1__ReportFigures *f =
                    s_breakdown(r, "channel", pb_channel_name(v));
                struct expect ev;

                s_expect(s_channel, &v, from, to, &ev);
                CHECK_INT(f ? f->complaints : 0, ev.complaints);
        }
        if (!dept && !cat) {
                const char *depts[] = {"", "billing", "network"};
                uint64_t prio[4] = {0};

                for (int k = 0; k < 3; k++) {
                        const Complaint__V1__ReportFigures *f =
                            s_breakdown(r, "department", depts[k]);
                        struct expect ed;

                        s_expect(s_in_dept, depts[k], from, to, &ed);
                        snprintf(name, sizeof(name), "%s, department '%s'", what, depts[k]);
                        if (ed.complaints) {
                                REQUIRE(f != NULL);
                                s_check_figures(name, f, &ed);
                        }
                }
                for (int i = 0; i < N; i++)
                        if (fx[i].created >= from && fx[i].created < to)
                                prio[fx[i].priority]++;
                for (int v = 1; v <= 3; v++) {
                        const Complaint__V1__ReportFigures *f =
                            s_breakdown(r, "priority", pb_priority_name(v));
                        CHECK_INT(f ? f->complaints : 0, prio[v]);
                }
        }
        complaint__v1__reply__free_unpacked(r, NULL);
}

/* ------------------------------------------------------------------ ledger */

static void
s_check_ledger(harness_client_t *c, int64_t from, int64_t to)
{
        Complaint__V1__LedgerRequest q = COMPLAINT__V1__LEDGER_REQUEST__INIT;
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        bool seen[N] = {false};
        uint64_t rows = 0, pages = 0, expected = 0;
        int64_t last_created = -1;
        uint64_t last_id = 0;

        q.from_ms = from;
        q.to_ms = to;
        q.limit = 7;
        req.body_case = BODY(LEDGER);
        req.ledger = &q;
        for (;;) {
                pb_reply_t *r = NULL;
                bool more;

                REQUIRE(harness_client_call(c, &req, HARNESS_CALL_TIMEOUT_MS, &r) == 0);
                REQUIRE(r->error == E_OK && r->ledger != NULL);
                pages++;
                CHECK(r->ledger->n_rows <= 7);
                for (size_t i = 0; i < r->ledger->n_rows; i++) {
                        const Complaint__V1__LedgerRow *row = r->ledger->rows[i];
                        int k = -1;

                        for (int j = 0; j < N; j++)
                                if (fx[j].id == row->id)
                                        k = j;
                        REQUIRE(k >= 0);
                        CHECK(!seen[k]);
                        seen[k] = true;
                        rows++;
                        /* Missing: without a reply or a follow-up, neither closed nor
                         * dismissed. The pages come in order of creation. */
                        CHECK_INT(row->missing,
                                  row->status != ST_CLOSED && row->status != ST_DISMISSED);
                        CHECK(row->created_at_ms > last_created ||
                              (row->created_at_ms == last_created && row->id > last_id));
                        last_created = row->created_at_ms;
                        last_id = row->id;
                        CHECK_STR(row->owner, "agent-7");
                        CHECK_STR(row->department, fx[k].dept);
                        if (row->status == ST_CLOSED || row->status == ST_RESOLVED)
                                CHECK_STR(row->reply, "We fixed it, sorry.");
                        else
                                CHECK_STR(row->reply, "");
                        CHECK_INT(row->follow_up_done, row->status == ST_CLOSED);
                        CHECK_INT(row->call_failed, fx[k].story == 5);
                        /* Escalated by hand, resolved within the limit: met. */
                        if (fx[k].story == 5)
                                CHECK_INT(row->resolution,
                                          COMPLAINT__V1__LIMIT_RESULT__LIMIT_RESULT_MET);
                        if (fx[k].story == 4 || fx[k].story == 7)
                                CHECK_INT(row->response,
                                          COMPLAINT__V1__LIMIT_RESULT__LIMIT_RESULT_MET);
                        /* Dismissed before anyone answered: neither met nor missed. */
                        if (fx[k].story == 6)
                                CHECK_INT(row->response,
                                          COMPLAINT__V1__LIMIT_RESULT__LIMIT_RESULT_ENDED);
                        if (fx[k].story == 1)
                                CHECK_INT(row->response,
                                          COMPLAINT__V1__LIMIT_RESULT__LIMIT_RESULT_RUNNING);
                        if (fx[k].story == 0 || fx[k].story == 8)
                                CHECK_INT(row->response,
                                          COMPLAINT__V1__LIMIT_RESULT__LIMIT_RESULT_NONE);
                }
                more = r->ledger->more;
                CHECK(!r->ledger->next_after_complete);
                q.after_created_ms = r->ledger->next_after_created_ms;
                q.after_id = r->ledger->next_after_id;
                complaint__v1__reply__free_unpacked(r, NULL);
                if (!more)
                        break;
                REQUIRE(pages < 100);
        }
        for (int j = 0; j < N; j++) {
                bool in = fx[j].created >= from && fx[j].created < to;

                expected += in;
                CHECK_INT(seen[j], in);
        }
        CHECK_INT(rows, expected);
        CHECK(pages > 1);
}

/* ------------------------------------------------------------------ repeat */

static pb_reply_t *
s_get(harness_client_t *c, uint64_t id)
{
        Complaint__V1__GetRequest g = COMPLAINT__V1__GET_REQUEST__INIT;
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        pb_reply_t *r = NULL;

        g.id = id;
        req.body_case = BODY(GET);
        req.get = &g;
        REQUIRE(harness_client_call(c, &req, HARNESS_CALL_TIMEOUT_MS, &r) == 0 && r->error == E_OK);
        return r;
}

static void
s_check_repeat(harness_t *h, harness_client_t *c)
{
        static const char *const phones[] = {"+49 30 1234 567", "030 1234567",
                                             "0049 (30) 1234-567"};
        Complaint__V1__ReplayRequest rq = COMPLAINT__V1__REPLAY_REQUEST__INIT;
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        char *prefixes[] = {(char *)"centre/flagged"};
        uint64_t ids[4];
        int64_t from = 0, to;
        pb_reply_t *r;
        int flagged = 0;

        (void)h;
        /* Threshold 2: the third complaint within the window is the first flagged. */
        for (int i = 0; i < 3; i++) {
                pb_complaint_t *c1 = NULL;

                ids[i] = s_create(c, 0, 1, 1, 1, phones[i], NULL, &c1);
                REQUIRE(ids[i] != 0 && c1 != NULL);
                if (i == 0)
                        from = c1->created_at_ms;
                CHECK_INT(c1->repeat_count, i + 1);
                CHECK_INT(c1->repeat, i == 2);
                complaint__v1__complaint__free_unpacked(c1, NULL);
        }
        /* An e-mail links as well, in any case, and a complaint under both links to both. */
        {
                pb_complaint_t *c1 = NULL;

                ids[3] = s_create(c, 1, 1, 1, 4, "030.123 45-67", "Ann.Smith@Example.ORG", &c1);
                REQUIRE(ids[3] != 0 && c1 != NULL);
                CHECK_INT(c1->repeat_count, 4);
                CHECK(c1->repeat);
                complaint__v1__complaint__free_unpacked(c1, NULL);
                CHECK(s_create(c, 1, 1, 1, 4, NULL, "ann.smith@example.org", &c1) != 0);
                REQUIRE(c1 != NULL);
                CHECK_INT(c1->repeat_count, 2); /* only the e-mail links: ids[3] and itself */
                CHECK(!c1->repeat);
                complaint__v1__complaint__free_unpacked(c1, NULL);
        }
        /* A different number is a different complainant. */
        {
                pb_complaint_t *c1 = NULL;

                CHECK(s_create(c, 0, 1, 1, 1, "+49 30 1234 568", NULL, &c1) != 0);
                REQUIRE(c1 != NULL);
                CHECK_INT(c1->repeat_count, 1);
                CHECK(!c1->repeat);
                to = c1->created_at_ms + 1;
                complaint__v1__complaint__free_unpacked(c1, NULL);
        }
        /* show: the complainant's other complaints, newest first. */
        r = s_get(c, ids[0]);
        REQUIRE(r->n_complainant_complaints == 3);
        CHECK_INT(r->complainant_complaints[0], ids[3]);
        CHECK_INT(r->complainant_complaints[1], ids[2]);
        CHECK_INT(r->complainant_complaints[2], ids[1]);
        complaint__v1__reply__free_unpacked(r, NULL);
        r = s_get(c, ids[3]);
        CHECK_INT(r->n_complainant_complaints, 4); /* three by phone, one by e-mail */
        complaint__v1__reply__free_unpacked(r, NULL);
        /* One `centre/flagged` event per flagged complaint, without contact details. */
        rq.stream = (char *)"centre";
        rq.topic_prefixes = prefixes;
        rq.n_topic_prefixes = 1;
        req.body_case = BODY(REPLAY);
        req.replay = &rq;
        REQUIRE(harness_client_call(c, &req, HARNESS_CALL_TIMEOUT_MS, &r) == 0 && r->error == E_OK);
        for (size_t i = 0; i < r->replay->n_events; i++) {
                const pb_event_t *ev = r->replay->events[i];

                flagged++;
                CHECK(ev->complaint != NULL && ev->complaint->repeat);
                CHECK(ev->complaint != NULL && ev->complaint->complainant == NULL);
                CHECK(ev->complaint != NULL &&
                      (ev->complaint->id == ids[2] || ev->complaint->id == ids[3]));
        }
        CHECK_INT(flagged, 2);
        complaint__v1__reply__free_unpacked(r, NULL);
        /* The six, and any complaint of the fixture made in the millisecond of the first. */
        {
                uint64_t n = 6;

                for (int i = 0; i < N; i++)
                        n += fx[i].created >= from && fx[i].created < to;
                r = s_report(c, from, to, NULL, NULL);
                CHECK_INT(r->report->total->complaints, n);
        }
        CHECK_INT(r->report->total->repeat, 2);
        complaint__v1__reply__free_unpacked(r, NULL);
}

/* A complaint closed while the ledger is read in pages is listed once: one already listed (it
 * was missing then) and one not yet reached are closed after the first page. */
static void
s_check_ledger_moves(harness_client_t *c, int64_t from, int64_t to)
{
        Complaint__V1__LedgerRequest q = COMPLAINT__V1__LEDGER_REQUEST__INIT;
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        int listed[N] = {0}, first = -1, later = -1;
        bool more = true;

        q.from_ms = from;
        q.to_ms = to;
        q.limit = 5;
        req.body_case = BODY(LEDGER);
        req.ledger = &q;
        for (int page = 0; more && page < 100; page++) {
                pb_reply_t *r = NULL;

                REQUIRE(harness_client_call(c, &req, HARNESS_CALL_TIMEOUT_MS, &r) == 0);
                REQUIRE(r->error == E_OK && r->ledger != NULL);
                for (size_t i = 0; i < r->ledger->n_rows; i++)
                        for (int j = 0; j < N; j++)
                                if (fx[j].id == r->ledger->rows[i]->id)
                                        listed[j]++;
                more = r->ledger->more;
                q.after_created_ms = r->ledger->next_after_created_ms;
                q.after_id = r->ledger->next_after_id;
                complaint__v1__reply__free_unpacked(r, NULL);
                if (page > 0)
                        continue;
                /* After the first page: close a resolved complaint it listed, and one it did
                 * not reach. */
                for (int j = 0; j < N; j++) {
                        if (fx[j].story != 3)
                                continue;
                        if (listed[j] && first < 0)
                                first = j;
                        else if (!listed[j] && later < 0)
                                later = j;
                }
                REQUIRE(first >= 0 && later >= 0);
                s_close(c, fx[first].id, 4);
                s_close(c, fx[later].id, 4);
        }
        CHECK(!more);
        for (int j = 0; j < N; j++)
                CHECK_INT(listed[j], fx[j].created >= from && fx[j].created < to);
}

/* ------------------------------------------------------------- complaintctl */

static void
s_check_ctl(harness_t *h, int64_t from, int64_t to, const char *month)
{
        char f[32], t[32];
        harness_ctl_t r;
        struct expect e;

        snprintf(f, sizeof(f), "@%" PRId64, from);
        snprintf(t, sizeof(t), "@%" PRId64, to);
        r = HARNESS_CTL(h, "--json", "report", "--from", f, "--to", t);
        if (r.code == 2 && r.err && strstr(r.err, "unknown command")) {
                printf("complaintctl has no report command yet: its checks skipped\n");
                harness_ctl_free(&r);
                return;
        }
        s_expect(NULL, NULL, from, to, &e);
        CHECK_INT(r.code, 0);
        REQUIRE(r.json != NULL);
        CHECK_INT(hjson_int(r.json, "total.complaints", -1), e.complaints);
        CHECK_INT(hjson_int(r.json, "total.resolved", -1), e.resolved);
        CHECK_INT(hjson_int(r.json, "total.accept_p90_ms", -1), e.accept_p90);
        CHECK_INT(hjson_int(r.json, "total.compensation_cents", -1), e.compensation);
        harness_ctl_free(&r);
        r = HARNESS_CTL(h, "--json", "report", "--month", month);
        CHECK_INT(r.code, 0);
        CHECK_INT(hjson_int(r.json, "total.complaints", -1), e.complaints);
        harness_ctl_free(&r);
        r = HARNESS_CTL(h, "report", "--from", f, "--to", t, "--csv");
        CHECK_INT(r.code, 0);
        CHECK(r.out && strncmp(r.out, "dimension,value,complaints,", 27) == 0);
        CHECK(r.out && strstr(r.out, "\ntotal,,") != NULL);
        harness_ctl_free(&r);
        r = HARNESS_CTL(h, "report", "--month", "2026-13");
        CHECK_INT(r.code, 2);
        harness_ctl_free(&r);
        r = HARNESS_CTL(h, "report", "--from", "2026-02-30", "--to", "2026-03-01");
        CHECK_INT(r.code, 2);
        harness_ctl_free(&r);
        r = HARNESS_CTL(h, "--json", "ledger", "--from", f, "--to", t, "--limit", "5");
        CHECK_INT(r.code, 0);
        CHECK_INT(hjson_int(r.json, "complaints", -1), e.complaints);
        CHECK_INT(hjson_int(r.json, "missing", -1), e.complaints - e.closed - e.dismissed);
        /* complaintctl lists every complaint without a reply or a follow-up first, across
         * pages of 5: row k is missing exactly when k < the number missing. */
        for (int64_t k = 0; k < (int64_t)e.complaints; k++) {
                char path[48];

                snprintf(path, sizeof(path), "rows.%" PRId64 ".missing", k);
                CHECK_INT(hjson_bool(r.json, path, -1),
                          k < (int64_t)(e.complaints - e.closed - e.dismissed));
        }
        harness_ctl_free(&r);
        /* The CSV carries what the JSON has: resolution, cost, the call and its score. */
        r = HARNESS_CTL(h, "ledger", "--from", f, "--to", t, "--csv");
        CHECK_INT(r.code, 0);
        CHECK(r.out && strncmp(r.out,
                               "id,created,status,owner,department,category,missing,reply,"
                               "resolved,responsibility,compensation,follow_up,satisfaction,"
                               "closed,response_limit,",
                               118) == 0);
        /* Story 7 closed with 5 after a third party's resolution and 0.07 of compensation. */
        CHECK(r.out && strstr(r.out, ",third_party,0.07,") != NULL);
        CHECK(r.out && strstr(r.out, ",third_party,0.07,satisfaction 5,5,") != NULL);
        harness_ctl_free(&r);
        r = HARNESS_CTL(h, "ledger", "--from", f, "--to", t);
        CHECK_INT(r.code, 0);
        CHECK(r.out && strstr(r.out, "without a reply or a follow-up") != NULL);
        harness_ctl_free(&r);
}

int
main(void)
{
        harness_t h;
        harness_client_t c;
        int64_t t0, t1, t2, month_from, month_to;
        pb_reply_t *r;
        uint8_t *before = NULL;
        size_t before_len = 0;
        char month[16];
        time_t now;
        struct tm tm;

        REQUIRE(harness_init(&h, "it_report") == 0);
        {
                FILE *f = fopen(h.conf, "w");

                REQUIRE(f != NULL);
                fputs(conf_text, f);
                REQUIRE(fclose(f) == 0);
        }
        REQUIRE(harness_start(&h) == 0);
        REQUIRE(harness_client_open(&h, &c) == 0);

        /* The fixture, in two batches; t1 lies between them. */
        for (int i = 0; i < N; i++) {
                struct fx *f = &fx[i];
                char phone[32];

                f->story = i % STORIES;
                f->cat = (i / STORIES) % 3;
                f->nature = 1 + i % 4;
                f->priority = 1 + i % 3;
                f->channel = 1 + i % 7;
                f->dept = "";
                snprintf(phone, sizeof(phone), "+49 89 5550 %04d", i);
                f->id = s_create(&c, f->cat, f->nature, f->priority, f->channel, phone, NULL, NULL);
                REQUIRE(f->id != 0);
        }
        for (int i = 0; i < N; i++)
                s_story(&c, &fx[i], i);
        for (int i = 0; i < N; i++)
                s_times(&c, &fx[i]);
        t0 = fx[0].created;
        t2 = fx[N - 1].created + 1;
        /* The second period begins when the second batch does, as a month begins at its first
         * instant. Creates can share a millisecond, so complaints of the first batch may have
         * been made at that instant too: they fall into the second period, as they would at a
         * real boundary, and every expectation goes by each complaint's own time, not by its
         * batch. Should the first batch all share the fixture's first instant, the second
         * period begins at the next one, so that neither is empty (a report of an empty period
         * is refused); only when every complaint shares it is there nothing to split. */
        t1 = t2;
        for (int i = BATCH1; i < N && t1 == t2; i++)
                if (fx[i].created > t0)
                        t1 = fx[i].created;

        /* Each period, both, one department, one category: read from the complaints. */
        if (t1 < t2) {
                s_check_report(&c, "the first period", t0, t1, NULL, NULL);
                s_check_report(&c, "the second period", t1, t2, NULL, NULL);
        } else {
                printf("every complaint was made in one millisecond: no periods to split\n");
        }
        s_check_report(&c, "both periods", t0, t2, NULL, NULL);
        s_check_report(&c, "department billing", t0, t2, "billing", NULL);
        s_check_report(&c, "category network", t0, t2, NULL, "network");

        /* The month: whole days come from the counters the daemon kept. */
        now = (time_t)(t0 / 1000);
        REQUIRE(gmtime_r(&now, &tm) != NULL);
        strftime(month, sizeof(month), "%Y-%m", &tm);
        tm.tm_mday = 1;
        tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
        month_from = (int64_t)timegm(&tm) * 1000;
        tm.tm_mon++;
        month_to = (int64_t)timegm(&tm) * 1000;
        r = s_report(&c, month_from, month_to, NULL, NULL);
        CHECK(r->report->days_counted >= 28);
        CHECK_INT(r->report->complaints_read, 0);
        complaint__v1__reply__free_unpacked(r, NULL);
        s_check_report(&c, "the month", month_from, month_to, NULL, NULL);
        s_check_report(&c, "the month, department network", month_from, month_to, "network", NULL);
        s_check_report(&c, "the month, category metering", month_from, month_to, NULL, "metering");

        /* The ledger. */
        s_check_ledger(&c, t0, t2);
        s_check_ledger(&c, month_from, month_to);

        /* Refusals. */
        {
                Complaint__V1__ReportRequest q = COMPLAINT__V1__REPORT_REQUEST__INIT;
                pb_request_t req = COMPLAINT__V1__REQUEST__INIT;

                q.from_ms = t2;
                q.to_ms = t0;
                req.body_case = BODY(REPORT);
                req.report = &q;
                REQUIRE(harness_client_call(&c, &req, HARNESS_CALL_TIMEOUT_MS, &r) == 0);
                CHECK_INT(r->error, E_INVALID_ARGUMENT);
                complaint__v1__reply__free_unpacked(r, NULL);
                q.from_ms = t0;
                q.to_ms = t2;
                q.department = (char *)"billing";
                q.category = (char *)"billing";
                REQUIRE(harness_client_call(&c, &req, HARNESS_CALL_TIMEOUT_MS, &r) == 0);
                CHECK_INT(r->error, E_INVALID_ARGUMENT);
                complaint__v1__reply__free_unpacked(r, NULL);
                /* A period reaching past the year 9999 (its day arithmetic would overflow). */
                q.department = q.category = (char *)"";
                q.from_ms = INT64_MAX - 1000;
                q.to_ms = INT64_MAX;
                REQUIRE(harness_client_call(&c, &req, HARNESS_CALL_TIMEOUT_MS, &r) == 0);
                CHECK_INT(r->error, E_INVALID_ARGUMENT);
                complaint__v1__reply__free_unpacked(r, NULL);
        }

        s_check_ctl(&h, t0, t2, month);

        /* The month's report is the same, byte for byte, after a restart. */
        r = s_report(&c, month_from, month_to, NULL, NULL);
        before_len = protobuf_c_message_get_packed_size(&r->report->base);
        before = malloc(before_len);
        REQUIRE(before != NULL);
        protobuf_c_message_pack(&r->report->base, before);
        complaint__v1__reply__free_unpacked(r, NULL);
        harness_client_close(&c);
        CHECK_INT(harness_stop(&h), 0);
        REQUIRE(harness_start(&h) == 0);
        REQUIRE(harness_client_open(&h, &c) == 0);
        r = s_report(&c, month_from, month_to, NULL, NULL);
        {
                size_t len = protobuf_c_message_get_packed_size(&r->report->base);
                uint8_t *after = malloc(len);

                REQUIRE(after != NULL);
                protobuf_c_message_pack(&r->report->base, after);
                CHECK(len == before_len && memcmp(after, before, len) == 0);
                free(after);
        }
        complaint__v1__reply__free_unpacked(r, NULL);
        free(before);
        s_check_report(&c, "the month after a restart", month_from, month_to, NULL, NULL);

        s_check_repeat(&h, &c);
        s_check_ledger_moves(&c, t0, t2);

        harness_client_close(&c);
        if (check_failed)
                harness_dump_log(&h);
        return harness_cleanup(&h, check_summary());
}
