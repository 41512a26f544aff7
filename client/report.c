/* report.c: see report.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tz.h"

#include "json.h"
#include "render.h"
#include "i18n.h"
#include "report.h"
#include "width.h"

#define EXIT_REFUSED 1
#define EXIT_USAGE 2
#define EXIT_NO_ANSWER 3
#define REPLY_TEXT_MAX 40 /* columns of a reply shown in the ledger's text table */

/* ------------------------------------------------------------------ periods */

/* Seconds since the epoch of a wall time read in zone (NULL: UTC). A wall time that the clocks
 * skip (spring forward) is the instant the gap ends; one that occurs twice, the first. */
static int64_t
s_wall(const struct tz *zone, int64_t days, int h, int mi, int se)
{
        int64_t wall = days * 86400 + h * 3600 + mi * 60 + se;

        return zone ? tz_utc_of_local(zone, wall) : wall;
}

/* "2026-11-01", "2026-11-01T08:30", "2026-11-01T08:30:15", either time with a Z (then UTC), or
 * "@ms". A date or a time without Z is the centre's wall time (zone; NULL is UTC). A date
 * alone is the start of that day, or with end set the start of the next one (--to includes its
 * day; a local day can be 23 or 25 hours long). */
static int
s_instant(const char *s, const struct tz *zone, bool end, int64_t *ret)
{
        int y, mo, d, h = 0, mi = 0, se = 0, n = 0;
        bool date_only, utc = false;
        int64_t days;

        if (s[0] == '@') {
                char *e;
                long long v;

                errno = 0;
                v = strtoll(s + 1, &e, 10);
                if (errno || e == s + 1 || *e || v < 0)
                        return -EINVAL;
                *ret = v;
                return 0;
        }
        if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
                return -EINVAL;
        date_only = s[n] == '\0';
        if (!date_only) {
                int m = 0;

                if (sscanf(s + n, "T%2d:%2d%n", &h, &mi, &m) != 2 || m != 6)
                        return -EINVAL;
                n += m;
                if (s[n] == ':') {
                        if (sscanf(s + n, ":%2d%n", &se, &m) != 1 || m != 3)
                                return -EINVAL;
                        n += m;
                }
                utc = strcmp(s + n, "Z") == 0;
                if (!utc && s[n] != '\0')
                        return -EINVAL;
        }
        if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > tz_days_in_month(y, mo) ||
            h > 23 || mi > 59 || se > 59)
                return -EINVAL;
        days = tz_days_from_civil(y, mo, d) + (date_only && end ? 1 : 0);
        *ret = s_wall(utc ? NULL : zone, days, h, mi, se) * 1000;
        return 0;
}

int
report_period(const char *month, const char *from, const char *to, const struct tz *zone,
              int64_t *ret_from, int64_t *ret_to, char *err, size_t err_size)
{
        int64_t f, t;

        if (month) {
                int y, m, n = 0;

                if (from || to) {
                        snprintf(err, err_size, _("give --month or --from and --to, not both"));
                        return -EINVAL;
                }
                if (sscanf(month, "%4d-%2d%n", &y, &m, &n) != 2 || month[n] != '\0' || n != 7 ||
                    y < 1970 || m < 1 || m > 12) {
                        snprintf(err, err_size, _("--month: '%s' is not a month such as 2026-11"),
                                 month);
                        return -EINVAL;
                }
                f = s_wall(zone, tz_days_from_civil(y, m, 1), 0, 0, 0) * 1000;
                t = s_wall(zone, tz_days_from_civil(y, m, 1) + tz_days_in_month(y, m), 0, 0, 0) *
                    1000;
        } else {
                if (!from || !to) {
                        snprintf(err, err_size,
                                 _("give the period: --month YYYY-MM, or --from and --to"));
                        return -EINVAL;
                }
                if (s_instant(from, zone, false, &f) < 0) {
                        snprintf(err, err_size,
                                 _("--from: '%s' is not a date (2026-11-01), a time "
                                   "(2026-11-01T08:30, or 2026-11-01T08:30Z in UTC) or "
                                   "@milliseconds"),
                                 from);
                        return -EINVAL;
                }
                if (s_instant(to, zone, true, &t) < 0) {
                        snprintf(err, err_size,
                                 _("--to: '%s' is not a date (2026-11-30), a time "
                                   "(2026-11-30T18:00, or 2026-11-30T18:00Z in UTC) or "
                                   "@milliseconds"),
                                 to);
                        return -EINVAL;
                }
                if (t <= f) {
                        snprintf(err, err_size, _("--to must come after --from"));
                        return -EINVAL;
                }
        }
        *ret_from = f;
        *ret_to = t;
        return 0;
}

/* ------------------------------------------------------------------ calls */

static int
s_call(const struct report_options *o, pb_request_t *req, pb_reply_t **ret)
{
        complaint_client_t *client = NULL;
        pb_reply_t *reply = NULL;
        char why[512];
        int r = complaint_client_new(o->endpoint, &client);

        if (r == -EINVAL || r == -EPROTONOSUPPORT) {
                fprintf(stderr, _("complaintctl: invalid endpoint '%s': %s\n"), o->endpoint,
                        strerror(-r));
                return EXIT_USAGE;
        }
        if (r < 0) {
                fprintf(stderr, _("complaintctl: cannot connect to %s: %s\n"), o->endpoint,
                        strerror(-r));
                return EXIT_REFUSED;
        }
        r = settings_apply_client(o->settings, client);
        if (r < 0) {
                fprintf(stderr, _("complaintctl: cannot use the keys: %s\n"), strerror(-r));
                complaint_client_free(&client);
                return EXIT_REFUSED;
        }
        req->actor = (char *)(uintptr_t)(o->actor ? o->actor : "");
        r = complaint_client_call(client, req, o->timeout_ms, o->retries, &reply);
        complaint_client_free(&client);
        if (settings_handshake_message(o->settings, r, why, sizeof(why))) {
                fprintf(stderr, "complaintctl: %s\n", why);
                return EXIT_NO_ANSWER;
        }
        if (r == -ETIMEDOUT) {
                fprintf(stderr,
                        _("complaintctl: no answer from complaintd at %s (is it running?)\n"),
                        o->endpoint);
                return EXIT_NO_ANSWER;
        }
        if (r < 0) {
                fprintf(stderr, _("complaintctl: talking to %s: %s\n"), o->endpoint, strerror(-r));
                return EXIT_REFUSED;
        }
        if (reply->error != E_OK) {
                render_error_text(stderr, reply);
                complaint__v1__reply__free_unpacked(reply, NULL);
                return EXIT_REFUSED;
        }
        *ret = reply;
        return 0;
}

static int
s_prepare(const struct report_options *o, int64_t *from, int64_t *to)
{
        char err[256];

        if (o->json && o->csv) {
                fprintf(stderr, _("complaintctl: give --json or --csv, not both\n"));
                return EXIT_USAGE;
        }
        if (o->department && o->category) {
                fprintf(stderr, _("complaintctl: give --department or --category, not both\n"));
                return EXIT_USAGE;
        }
        if (report_period(o->month, o->from, o->to, o->zone, from, to, err, sizeof(err)) < 0) {
                fprintf(stderr, "complaintctl: %s\n", err);
                return EXIT_USAGE;
        }
        return 0;
}

static int
s_flush(void)
{
        if (fflush(stdout) != 0 || ferror(stdout)) {
                fprintf(stderr, _("complaintctl: writing the output: %s\n"), strerror(errno));
                return EXIT_REFUSED;
        }
        return 0;
}

/* A CSV field: quoted when it holds a comma, a quote or a line break. Text that a spreadsheet
 * would take for a formula (it starts with =, +, -, @, a tab or a carriage return: a reply is
 * typed by people, and complainants' words reach it) gets a leading apostrophe, so that it is
 * shown as text and never evaluated. */
static void
s_csv(FILE *f, const char *s)
{
        bool formula = strchr("=+-@\t\r", s[0]) != NULL && s[0] != '\0';

        if (!formula && strpbrk(s, ",\"\r\n") == NULL) {
                fputs(s, f);
                return;
        }
        fputc('"', f);
        if (formula)
                fputc('\'', f);
        for (; *s; s++) {
                if (*s == '"')
                        fputc('"', f);
                fputc(*s, f);
        }
        fputc('"', f);
}

/* Text: a stored string without control characters, at most max display columns (0: all; a
 * longer one is cut on a character boundary and ends in an ellipsis), padded with spaces to
 * width columns. */
static void
s_text(FILE *f, const char *s, size_t max, int width)
{
        char *clean = strdup(s), *cut = NULL;

        if (clean == NULL) {
                fputs(s, f);
                return;
        }
        for (char *p = clean; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f)
                        *p = ' ';
        if (max > 0 && width_str(clean) > max)
                cut = width_truncate(clean, max);
        width_pad(f, cut ? cut : clean, width > 0 ? (size_t)width : 0, false);
        free(cut);
        free(clean);
}

/* ------------------------------------------------------------------ report */

typedef Complaint__V1__ReportFigures figures_t;

static double
s_pct(double share)
{
        return share * 100.0;
}

static void
s_figures_json(json_t *j, const figures_t *f)
{
        json_object_begin(j);
        json_kv_uint(j, "complaints", f->complaints);
        json_kv_uint(j, "accepted", f->accepted);
        json_kv_uint(j, "response_met", f->response_met);
        json_key(j, "response_met_share");
        json_double(j, f->response_met_share);
        json_kv_uint(j, "resolved", f->resolved);
        json_kv_uint(j, "resolution_timed", f->resolution_timed);
        json_kv_uint(j, "resolution_met", f->resolution_met);
        json_key(j, "resolution_met_share");
        json_double(j, f->resolution_met_share);
        json_kv_uint(j, "escalated", f->escalated);
        json_key(j, "escalated_by_level");
        json_array_begin(j);
        for (size_t i = 0; i < f->n_escalated_by_level; i++)
                json_uint(j, f->escalated_by_level[i]);
        json_array_end(j);
        json_kv_int(j, "accept_p50_ms", f->accept_p50_ms);
        json_kv_int(j, "accept_p90_ms", f->accept_p90_ms);
        json_kv_int(j, "resolve_p50_ms", f->resolve_p50_ms);
        json_kv_int(j, "resolve_p90_ms", f->resolve_p90_ms);
        json_kv_uint(j, "closed", f->closed);
        json_kv_uint(j, "follow_ups", f->follow_ups);
        json_kv_uint(j, "calls_failed", f->calls_failed);
        json_key(j, "follow_up_rate");
        json_double(j, f->follow_up_rate);
        json_key(j, "satisfaction");
        json_array_begin(j);
        for (size_t i = 0; i < f->n_satisfaction; i++)
                json_uint(j, f->satisfaction[i]);
        json_array_end(j);
        json_key(j, "satisfaction_avg");
        json_double(j, f->satisfaction_avg);
        json_kv_uint(j, "reopened", f->reopened);
        json_kv_uint(j, "reopens", f->reopens);
        json_kv_uint(j, "dismissed", f->dismissed);
        json_key(j, "responsibility");
        json_object_begin(j);
        for (size_t i = 0; i < f->n_responsibility; i++)
                json_kv_uint(j, pb_responsibility_name((int)i + 1), f->responsibility[i]);
        json_object_end(j);
        json_kv_int(j, "compensation_cents", f->compensation_cents);
        json_kv_uint(j, "repeat", f->repeat);
        json_kv_uint(j, "erased", f->erased);
        json_object_end(j);
}

static const char *const csv_columns =
    "dimension,value,complaints,accepted,response_met,response_met_share,resolved,"
    "resolution_timed,resolution_met,resolution_met_share,escalated,escalated_l1,escalated_l2,"
    "escalated_l3,escalated_l4_up,accept_p50_ms,accept_p90_ms,resolve_p50_ms,resolve_p90_ms,"
    "closed,follow_ups,calls_failed,follow_up_rate,satisfaction_1,satisfaction_2,"
    "satisfaction_3,satisfaction_4,satisfaction_5,satisfaction_avg,reopened,reopens,dismissed,"
    "company,customer,shared,third_party,compensation,repeat,erased\n";

static uint64_t
s_at(const uint64_t *v, size_t n, size_t i)
{
        return i < n ? v[i] : 0;
}

static void
s_figures_csv(FILE *out, const char *dim, const char *value, const figures_t *f)
{
        uint64_t l4 = 0;
        char cents[32];

        for (size_t i = 3; i < f->n_escalated_by_level; i++)
                l4 += f->escalated_by_level[i];
        s_csv(out, dim);
        fputc(',', out);
        s_csv(out, value);
        fprintf(out,
                ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%.4f,%" PRIu64 ",%" PRIu64 ",%" PRIu64
                ",%.4f,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRId64
                ",%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%.4f",
                f->complaints, f->accepted, f->response_met, f->response_met_share, f->resolved,
                f->resolution_timed, f->resolution_met, f->resolution_met_share, f->escalated,
                s_at(f->escalated_by_level, f->n_escalated_by_level, 0),
                s_at(f->escalated_by_level, f->n_escalated_by_level, 1),
                s_at(f->escalated_by_level, f->n_escalated_by_level, 2), l4, f->accept_p50_ms,
                f->accept_p90_ms, f->resolve_p50_ms, f->resolve_p90_ms, f->closed, f->follow_ups,
                f->calls_failed, f->follow_up_rate);
        for (size_t i = 0; i < 5; i++)
                fprintf(out, ",%" PRIu64, s_at(f->satisfaction, f->n_satisfaction, i));
        fprintf(out, ",%.2f,%" PRIu64 ",%" PRIu64 ",%" PRIu64, f->satisfaction_avg, f->reopened,
                f->reopens, f->dismissed);
        for (size_t i = 0; i < 4; i++)
                fprintf(out, ",%" PRIu64, s_at(f->responsibility, f->n_responsibility, i));
        fprintf(out, ",%s,%" PRIu64 ",%" PRIu64 "\n",
                render_cents(f->compensation_cents, cents, sizeof(cents)), f->repeat, f->erased);
}

/* A label of the report's text, indented and padded to 22 display columns. */
static void
s_rlabel(const char *label)
{
        fputs("  ", stdout);
        width_pad(stdout, label, 22, false);
        putchar(' ');
}

/* A heading of the breakdown's columns, right-aligned in cols display columns after a space. */
static void
s_rhead(const char *title, size_t cols)
{
        putchar(' ');
        width_pad(stdout, title, cols, true);
}

static void
s_report_text(const Complaint__V1__ReportReply *r)
{
        const figures_t *f = r->total;
        char a[40], b[40], d1[32], d2[32], d3[32], d4[32];
        const char *last_dim = "";

        printf(_("Report of complaints created %s to %s"), render_time(r->from_ms, a, sizeof(a)),
               render_time(r->to_ms, b, sizeof(b)));
        if (r->department[0])
                printf(_(", department %s"), r->department);
        if (r->category[0])
                printf(_(", category %s"), r->category);
        printf("\n\n");
        s_rlabel(_("complaints"));
        printf("%8" PRIu64 "\n", f->complaints);
        s_rlabel(_("accepted"));
        printf(_("%8" PRIu64 "   within the response limit %" PRIu64 " (%.1f %%)\n"), f->accepted,
               f->response_met, s_pct(f->response_met_share));
        s_rlabel(_("resolved (replied)"));
        printf(_("%8" PRIu64 "   within the resolution limit %" PRIu64 " of %" PRIu64
                 " timed (%.1f %%)\n"),
               f->resolved, f->resolution_met, f->resolution_timed, s_pct(f->resolution_met_share));
        s_rlabel(_("time to acceptance"));
        printf(_("median %s, 90th percentile %s (business time)\n"),
               render_duration(f->accept_p50_ms, d1, sizeof(d1)),
               render_duration(f->accept_p90_ms, d2, sizeof(d2)));
        s_rlabel(_("time to resolution"));
        printf(_("median %s, 90th percentile %s (business time)\n"),
               render_duration(f->resolve_p50_ms, d3, sizeof(d3)),
               render_duration(f->resolve_p90_ms, d4, sizeof(d4)));
        s_rlabel(_("escalated"));
        printf("%8" PRIu64 "  ", f->escalated);
        for (size_t i = 0; i < f->n_escalated_by_level; i++)
                if (f->escalated_by_level[i])
                        printf(_(" level %zu%s: %" PRIu64), i + 1,
                               i + 1 == f->n_escalated_by_level ? "+" : "",
                               f->escalated_by_level[i]);
        putchar('\n');
        s_rlabel(_("follow-up calls"));
        printf(_("%8" PRIu64 "   rate %.1f %% of resolved, %" PRIu64 " failed\n"), f->follow_ups,
               s_pct(f->follow_up_rate), f->calls_failed);
        s_rlabel(_("satisfaction"));
        printf(_("average %.2f  "), f->satisfaction_avg);
        for (size_t i = 0; i < f->n_satisfaction; i++)
                printf(" %zu: %" PRIu64, i + 1, f->satisfaction[i]);
        putchar('\n');
        s_rlabel(_("reopened"));
        printf(_("%8" PRIu64 "   (%" PRIu64 " reopenings)\n"), f->reopened, f->reopens);
        s_rlabel(_("dismissed"));
        printf("%8" PRIu64 "\n", f->dismissed);
        fputs("  ", stdout);
        width_pad(stdout, _("responsibility"), 22, false);
        for (size_t i = 0; i < f->n_responsibility; i++)
                printf(" %s: %" PRIu64, pb_responsibility_name((int)i + 1), f->responsibility[i]);
        putchar('\n');
        s_rlabel(_("compensation"));
        printf("%8s\n", render_cents(f->compensation_cents, a, sizeof(a)));
        s_rlabel(_("repeat complainants"));
        printf("%8" PRIu64 "\n", f->repeat);
        s_rlabel(_("erased (personal data)"));
        printf("%8" PRIu64 "\n", f->erased);
        for (size_t i = 0; i < r->n_breakdown; i++) {
                const Complaint__V1__ReportBreakdown *bd = r->breakdown[i];
                const figures_t *g = bd->figures;

                if (strcmp(bd->dimension, last_dim) != 0) {
                        printf(_("\nBy %s\n"), bd->dimension);
                        fputs("  ", stdout);
                        width_pad(stdout, bd->dimension, 24, false);
                        s_rhead(_("complaints"), 10);
                        s_rhead(_("resolved"), 9);
                        s_rhead(_("resp.met"), 9);
                        s_rhead(_("resol.met"), 9);
                        s_rhead(_("escalated"), 10);
                        s_rhead(_("dismissed"), 9);
                        s_rhead(_("satisf"), 6);
                        putchar('\n');
                        last_dim = bd->dimension;
                }
                printf("  ");
                s_text(stdout, bd->value[0] ? bd->value : _("(none)"), 24, 24);
                printf(" %10" PRIu64 " %9" PRIu64 " %8.1f%% %8.1f%% %10" PRIu64 " %9" PRIu64
                       " %6.2f\n",
                       g->complaints, g->resolved, s_pct(g->response_met_share),
                       s_pct(g->resolution_met_share), g->escalated, g->dismissed,
                       g->satisfaction_avg);
        }
}

int
report_run(const struct report_options *o)
{
        Complaint__V1__ReportRequest q = COMPLAINT__V1__REPORT_REQUEST__INIT;
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        pb_reply_t *reply = NULL;
        const Complaint__V1__ReportReply *r;
        int rc = s_prepare(o, &q.from_ms, &q.to_ms);

        if (rc)
                return rc;
        q.department = (char *)(uintptr_t)(o->department ? o->department : "");
        q.category = (char *)(uintptr_t)(o->category ? o->category : "");
        req.body_case = COMPLAINT__V1__REQUEST__BODY_REPORT;
        req.report = &q;
        if ((rc = s_call(o, &req, &reply)))
                return rc;
        r = reply->report;
        if (r == NULL || r->total == NULL) {
                fprintf(stderr, _("complaintctl: the reply from %s carries no report\n"),
                        o->endpoint);
                complaint__v1__reply__free_unpacked(reply, NULL);
                return EXIT_REFUSED;
        }
        if (o->json) {
                json_t j;

                json_init(&j, stdout);
                json_object_begin(&j);
                json_kv_int(&j, "from_ms", r->from_ms);
                json_kv_int(&j, "to_ms", r->to_ms);
                json_kv_string(&j, "department", r->department);
                json_kv_string(&j, "category", r->category);
                json_key(&j, "total");
                s_figures_json(&j, r->total);
                json_key(&j, "breakdown");
                json_array_begin(&j);
                for (size_t i = 0; i < r->n_breakdown; i++) {
                        json_object_begin(&j);
                        json_kv_string(&j, "dimension", r->breakdown[i]->dimension);
                        json_kv_string(&j, "value", r->breakdown[i]->value);
                        json_key(&j, "figures");
                        s_figures_json(&j, r->breakdown[i]->figures);
                        json_object_end(&j);
                }
                json_array_end(&j);
                json_kv_uint(&j, "days_counted", r->days_counted);
                json_kv_uint(&j, "complaints_read", r->complaints_read);
                json_object_end(&j);
                json_finish(&j);
        } else if (o->csv) {
                fputs(csv_columns, stdout);
                s_figures_csv(stdout, "total", "", r->total);
                for (size_t i = 0; i < r->n_breakdown; i++)
                        s_figures_csv(stdout, r->breakdown[i]->dimension, r->breakdown[i]->value,
                                      r->breakdown[i]->figures);
        } else {
                if (o->times)
                        o->times(o->times_ctx);
                s_report_text(r);
        }
        complaint__v1__reply__free_unpacked(reply, NULL);
        return s_flush();
}

/* ------------------------------------------------------------------ ledger */

static const char *
s_limit_word(int v)
{
        switch (v) {
        case COMPLAINT__V1__LIMIT_RESULT__LIMIT_RESULT_MET:
                return N_("met");
        case COMPLAINT__V1__LIMIT_RESULT__LIMIT_RESULT_MISSED:
                return N_("missed");
        case COMPLAINT__V1__LIMIT_RESULT__LIMIT_RESULT_RUNNING:
                return N_("running");
        case COMPLAINT__V1__LIMIT_RESULT__LIMIT_RESULT_ENDED:
                return N_("ended");
        default:
                return "-";
        }
}

static const char *
s_follow_up_word(const Complaint__V1__LedgerRow *r, char *buf, size_t size)
{
        if (!r->follow_up_done)
                return "none";
        if (r->call_failed)
                return "call failed";
        snprintf(buf, size, "satisfaction %u", r->satisfaction);
        return buf;
}

/* The follow-up of a ledger row for the text table, translated. */
static const char *
s_follow_up_text(const Complaint__V1__LedgerRow *r, char *buf, size_t size)
{
        if (!r->follow_up_done)
                return _("none");
        if (r->call_failed)
                return _("call failed");
        snprintf(buf, size, _("satisfaction %u"), r->satisfaction);
        return buf;
}

static void
s_row_json(json_t *j, const Complaint__V1__LedgerRow *r)
{
        char fu[32];

        json_object_begin(j);
        json_kv_uint(j, "id", r->id);
        json_kv_int(j, "created_at_ms", r->created_at_ms);
        json_kv_string(j, "status", pb_status_name(r->status));
        json_kv_string(j, "owner", r->owner);
        json_kv_string(j, "department", r->department);
        json_kv_string(j, "category", r->category);
        json_kv_bool(j, "missing", r->missing);
        json_kv_string(j, "reply", r->reply);
        json_kv_int(j, "resolved_at_ms", r->resolved_at_ms);
        json_kv_string(j, "responsibility",
                       r->responsibility ? pb_responsibility_name(r->responsibility) : "");
        json_kv_int(j, "compensation_cents", r->compensation_cents);
        json_kv_bool(j, "follow_up_done", r->follow_up_done);
        json_kv_bool(j, "call_failed", r->call_failed);
        json_kv_uint(j, "satisfaction", r->satisfaction);
        json_kv_string(j, "follow_up", s_follow_up_word(r, fu, sizeof(fu)));
        json_kv_int(j, "closed_at_ms", r->closed_at_ms);
        json_kv_string(j, "response_limit", s_limit_word(r->response));
        json_kv_string(j, "resolution_limit", s_limit_word(r->resolution));
        json_kv_string(j, "follow_up_limit", s_limit_word(r->follow_up));
        json_kv_bool(j, "repeat", r->repeat);
        json_kv_string(j, "dismiss_reason",
                       r->dismiss_reason ? pb_dismiss_reason_name(r->dismiss_reason) : "");
        json_object_end(j);
}

static void
s_row_csv(const Complaint__V1__LedgerRow *r)
{
        char t[40], resolved[40], closed[40], fu[32], sat[12] = "";

        if (r->satisfaction)
                snprintf(sat, sizeof(sat), "%u", r->satisfaction);
        printf("%" PRIu64 ",%s,%s,", r->id, render_time(r->created_at_ms, t, sizeof(t)),
               pb_status_name(r->status));
        s_csv(stdout, r->owner);
        putchar(',');
        s_csv(stdout, r->department);
        putchar(',');
        s_csv(stdout, r->category);
        printf(",%s,", r->missing ? "yes" : "no");
        s_csv(stdout, r->reply);
        /* What a ledger filed upward as a spreadsheet is read for: when and how it was
         * resolved, what it cost, and what the complainant said when called back. */
        printf(",%s,%s,%" PRId64 ".%02" PRId64 ",%s,%s,%s,%s,%s,%s,%s,%s\n",
               r->resolved_at_ms ? render_time(r->resolved_at_ms, resolved, sizeof(resolved)) : "",
               r->responsibility ? pb_responsibility_name(r->responsibility) : "",
               r->compensation_cents / 100, r->compensation_cents % 100,
               s_follow_up_word(r, fu, sizeof(fu)), sat,
               r->closed_at_ms ? render_time(r->closed_at_ms, closed, sizeof(closed)) : "",
               s_limit_word(r->response), s_limit_word(r->resolution), s_limit_word(r->follow_up),
               r->repeat ? "yes" : "no",
               r->dismiss_reason ? pb_dismiss_reason_name(r->dismiss_reason) : "");
}

/* The ledger's text table: the columns' widths in display columns. */
static const int ledger_cols[] = {7, 23, 9, 12, 12, 3, REPLY_TEXT_MAX, 14, 8, 8, 8};

static void
s_ledger_header(void)
{
        static const char *const titles[] = {
            N_("ID"),    N_("CREATED"),   N_("STATUS"),   N_("OWNER"),   N_("DEPARTMENT"), N_("OK"),
            N_("REPLY"), N_("FOLLOW-UP"), N_("RESPONSE"), N_("RESOLVE"), N_("FOLLOWUP")};

        for (size_t i = 0; i < sizeof(titles) / sizeof(titles[0]); i++) {
                if (i)
                        putchar(' ');
                s_text(stdout, _(titles[i]), (size_t)ledger_cols[i], ledger_cols[i]);
        }
        putchar('\n');
}

static void
s_row_text(const Complaint__V1__LedgerRow *r)
{
        char id[24], t[40], fu[32];

        snprintf(id, sizeof(id), "%" PRIu64, r->id);
        s_text(stdout, id, 0, ledger_cols[0]);
        putchar(' ');
        s_text(stdout, render_time(r->created_at_ms, t, sizeof(t)), 0, ledger_cols[1]);
        putchar(' ');
        s_text(stdout, pb_status_name(r->status), 0, ledger_cols[2]);
        putchar(' ');
        s_text(stdout, r->owner, (size_t)ledger_cols[3], ledger_cols[3]);
        putchar(' ');
        s_text(stdout, r->department[0] ? r->department : "-", (size_t)ledger_cols[4],
               ledger_cols[4]);
        putchar(' ');
        s_text(stdout, r->missing ? _("NO") : _("yes"), 0, ledger_cols[5]);
        putchar(' ');
        s_text(stdout, r->reply[0] ? r->reply : "-", (size_t)ledger_cols[6], ledger_cols[6]);
        putchar(' ');
        s_text(stdout, s_follow_up_text(r, fu, sizeof(fu)), 0, ledger_cols[7]);
        putchar(' ');
        s_text(stdout, _(s_limit_word(r->response)), 0, ledger_cols[8]);
        putchar(' ');
        s_text(stdout, _(s_limit_word(r->resolution)), 0, ledger_cols[9]);
        putchar(' ');
        s_text(stdout, _(s_limit_word(r->follow_up)), 0, ledger_cols[10]);
        printf("%s\n", r->repeat ? _(" repeat") : "");
}

int
report_ledger_run(const struct report_options *o)
{
        Complaint__V1__LedgerRequest q = COMPLAINT__V1__LEDGER_REQUEST__INIT;
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        uint64_t rows = 0, missing = 0;
        pb_reply_t **pages = NULL;
        size_t n_pages = 0;
        json_t j;
        int rc = s_prepare(o, &q.from_ms, &q.to_ms);

        if (rc)
                return rc;
        q.department = (char *)(uintptr_t)(o->department ? o->department : "");
        q.category = (char *)(uintptr_t)(o->category ? o->category : "");
        q.limit = o->limit;
        req.body_case = COMPLAINT__V1__REQUEST__BODY_LEDGER;
        req.ledger = &q;
        if (o->json) {
                json_init(&j, stdout);
                json_object_begin(&j);
                json_kv_int(&j, "from_ms", q.from_ms);
                json_kv_int(&j, "to_ms", q.to_ms);
                json_key(&j, "rows");
                json_array_begin(&j);
        } else if (o->csv) {
                fputs("id,created,status,owner,department,category,missing,reply,resolved,"
                      "responsibility,compensation,follow_up,satisfaction,closed,"
                      "response_limit,resolution_limit,follow_up_limit,repeat,dismiss_reason\n",
                      stdout);
        }
        /* Every page first: the rows come in order of creation, and the ledger lists those
         * without a reply or a follow-up first. */
        for (;;) {
                pb_reply_t *reply = NULL, **grown;
                const Complaint__V1__LedgerReply *l;

                if ((rc = s_call(o, &req, &reply)))
                        goto out;
                l = reply->ledger;
                if (l == NULL) {
                        fprintf(stderr, _("complaintctl: the reply from %s carries no ledger\n"),
                                o->endpoint);
                        complaint__v1__reply__free_unpacked(reply, NULL);
                        rc = EXIT_REFUSED;
                        goto out;
                }
                grown = realloc(pages, (n_pages + 1) * sizeof(*pages));
                if (grown == NULL) {
                        fprintf(stderr, _("complaintctl: out of memory reading the ledger\n"));
                        complaint__v1__reply__free_unpacked(reply, NULL);
                        rc = EXIT_REFUSED;
                        goto out;
                }
                pages = grown;
                pages[n_pages++] = reply;
                if (!l->more)
                        break;
                q.after_created_ms = l->next_after_created_ms;
                q.after_id = l->next_after_id;
        }
        if (!o->json && !o->csv) {
                if (o->times)
                        o->times(o->times_ctx);
                s_ledger_header();
        }
        for (int pass = 0; pass < 2; pass++) {
                for (size_t p = 0; p < n_pages; p++) {
                        const Complaint__V1__LedgerReply *l = pages[p]->ledger;

                        for (size_t i = 0; i < l->n_rows; i++) {
                                const Complaint__V1__LedgerRow *row = l->rows[i];

                                if (row->missing != (pass == 0))
                                        continue;
                                rows++;
                                missing += row->missing;
                                if (o->json)
                                        s_row_json(&j, row);
                                else if (o->csv)
                                        s_row_csv(row);
                                else
                                        s_row_text(row);
                        }
                }
        }
        if (o->json) {
                json_array_end(&j);
                json_kv_uint(&j, "complaints", rows);
                json_kv_uint(&j, "missing", missing);
                json_object_end(&j);
                if (json_finish(&j) < 0) {
                        rc = s_flush() ? s_flush() : EXIT_REFUSED;
                        goto out;
                }
        } else if (!o->csv) {
                printf(_("\n%" PRIu64 " complaints, %" PRIu64 " without a reply or a follow-up\n"),
                       rows, missing);
        }
        rc = s_flush();
out:
        for (size_t p = 0; p < n_pages; p++)
                complaint__v1__reply__free_unpacked(pages[p], NULL);
        free(pages);
        return rc;
}
