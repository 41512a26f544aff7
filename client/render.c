/* render.c: JSON and text views of complaint.v1 records for complaintctl (render.h). Text tables
 * size their columns to their contents, counted in display columns (width.h): a CJK character
 * takes two, a combining mark none. */
#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "i18n.h"
#include "render.h"
#include "width.h"
#include "zone.h"

/* Out of memory while printing leaves nothing sensible to do in a command-line tool. */
static void *
s_oom(void *p)
{
        if (p == NULL) {
                fputs("complaintctl: out of memory\n", stderr);
                exit(1);
        }
        return p;
}

/* The zone of render_time(), once render_set_zone() was called; set once per run. */
static const struct tz *s_zone;
static bool s_local;

void
render_set_zone(const struct tz *tz)
{
        s_zone = tz;
        s_local = true;
}

const char *
render_time(int64_t ms, char *buf, size_t size)
{
        time_t t;
        struct tm tm;

        assert(buf && size > 0);
        if (ms == 0) {
                snprintf(buf, size, "-");
                return buf;
        }
        if (s_local)
                return zone_format(s_zone, ms, buf, size);
        t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
        if (gmtime_r(&t, &tm) == NULL || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                snprintf(buf, size, "%" PRId64 "ms", ms);
        return buf;
}

const char *
render_duration(int64_t ms, char *buf, size_t size)
{
        return render_duration_in(ms, true, buf, size);
}

const char *
render_duration_in(int64_t ms, bool days, char *buf, size_t size)
{
        uint64_t u = ms < 0 ? -(uint64_t)ms : (uint64_t)ms, sec = u / 1000;
        size_t o = 0;

        assert(buf && size > 0);
        buf[0] = '\0';
        if (sec == 0) {
                snprintf(buf, size, u ? "%" PRIu64 "ms" : "0s", u);
                return buf;
        }
        if (days && sec >= 86400)
                o += (size_t)snprintf(buf + o, size - o, "%" PRIu64 "d", sec / 86400);
        if ((days ? sec % 86400 : sec) >= 3600 && o < size)
                o += (size_t)snprintf(buf + o, size - o, "%" PRIu64 "h",
                                      (days ? sec % 86400 : sec) / 3600);
        if (sec % 3600 >= 60 && o < size)
                o += (size_t)snprintf(buf + o, size - o, "%" PRIu64 "m", sec % 3600 / 60);
        if (sec % 60 && o < size)
                snprintf(buf + o, size - o, "%" PRIu64 "s", sec % 60);
        return buf;
}

const char *
render_clock_kind(int kind)
{
        switch (kind) {
        case COMPLAINT__V1__CLOCK_KIND__CLOCK_KIND_RESPONSE:
                return "response";
        case COMPLAINT__V1__CLOCK_KIND__CLOCK_KIND_RESOLUTION:
                return "resolution";
        case COMPLAINT__V1__CLOCK_KIND__CLOCK_KIND_FOLLOW_UP:
                return "follow_up";
        case COMPLAINT__V1__CLOCK_KIND__CLOCK_KIND_UNSPECIFIED:
                return "";
        default:
                return "?";
        }
}

const char *
render_cents(int64_t cents, char *buf, size_t size)
{
        uint64_t u = cents < 0 ? -(uint64_t)cents : (uint64_t)cents;

        snprintf(buf, size, "%s%" PRIu64 ".%02" PRIu64, cents < 0 ? "-" : "", u / 100, u % 100);
        return buf;
}

/* ------------------------------------------------------------------------- JSON */

static void
s_complainant_json(json_t *j, const pb_complainant_t *p)
{
        if (p == NULL) {
                json_null(j);
                return;
        }
        json_object_begin(j);
        json_kv_string(j, "name", p->name);
        json_kv_string(j, "phone", p->phone);
        json_kv_string(j, "email", p->email);
        json_kv_string(j, "address", p->address);
        json_object_end(j);
}

static void
s_resolution_json(json_t *j, const pb_resolution_t *r)
{
        if (r == NULL) {
                json_null(j);
                return;
        }
        json_object_begin(j);
        json_kv_string(j, "cause", r->cause);
        json_kv_string(j, "responsibility", pb_responsibility_name(r->responsibility));
        json_kv_int(j, "compensation_cents", r->compensation_cents);
        json_kv_string(j, "reply", r->reply);
        json_kv_int(j, "resolved_at_ms", r->resolved_at_ms);
        json_kv_string(j, "resolved_by", r->resolved_by);
        json_object_end(j);
}

static void
s_follow_up_json(json_t *j, const pb_follow_up_t *u)
{
        if (u == NULL) {
                json_null(j);
                return;
        }
        json_object_begin(j);
        json_kv_uint(j, "satisfaction", u->satisfaction);
        json_kv_bool(j, "call_failed", u->call_failed);
        json_kv_string(j, "note", u->note);
        json_kv_int(j, "closed_at_ms", u->closed_at_ms);
        json_kv_string(j, "closed_by", u->closed_by);
        json_object_end(j);
}

static void
s_clock_json(json_t *j, const Complaint__V1__Clock *k)
{
        if (k == NULL) {
                json_null(j);
                return;
        }
        json_object_begin(j);
        json_kv_string(j, "kind", render_clock_kind(k->kind));
        json_kv_bool(j, "running", k->running);
        json_kv_string(j, "department", k->department);
        json_kv_uint(j, "policy_id", k->policy_id);
        json_kv_int(j, "started_at_ms", k->started_at_ms);
        json_kv_uint(j, "level", k->level);
        json_kv_string(j, "role", k->role);
        json_kv_int(j, "allowance_ms", k->allowance_ms);
        json_kv_int(j, "level_started_at_ms", k->level_started_at_ms);
        json_kv_int(j, "due_at_ms", k->due_at_ms);
        json_kv_int(j, "warn_at_ms", k->warn_at_ms);
        json_kv_bool(j, "paused", k->paused);
        json_kv_int(j, "paused_at_ms", k->paused_at_ms);
        json_kv_int(j, "remaining_ms", k->remaining_ms);
        json_kv_int(j, "warn_remaining_ms", k->warn_remaining_ms);
        json_kv_int(j, "paused_total_ms", k->paused_total_ms);
        json_kv_int(j, "stopped_at_ms", k->stopped_at_ms);
        json_kv_bool(j, "met", k->met);
        json_kv_uint(j, "alerts", k->alerts);
        json_kv_uint(j, "chain_levels", k->chain_levels);
        json_key(j, "scale");
        json_double(j, k->scale);
        json_kv_int(j, "elapsed_ms", k->elapsed_ms);
        json_kv_string(j, "stopped_by", k->stopped_by ? pb_action_name(k->stopped_by) : "");
        json_object_end(j);
}

void
render_complaint_members_json(json_t *j, const pb_complaint_t *c)
{
        json_kv_uint(j, "id", c->id);
        json_kv_string(j, "status", pb_status_name(c->status));
        json_kv_string(j, "channel", pb_channel_name(c->channel));
        json_key(j, "complainant");
        s_complainant_json(j, c->complainant);
        json_kv_string(j, "subject", c->subject);
        json_kv_string(j, "description", c->description);
        json_kv_string(j, "category", c->category);
        json_kv_string(j, "nature", pb_nature_name(c->nature));
        json_kv_string(j, "priority", pb_priority_name(c->priority));
        json_kv_string(j, "owner", c->owner);
        json_kv_string(j, "department", c->department);
        json_kv_int(j, "created_at_ms", c->created_at_ms);
        json_kv_int(j, "updated_at_ms", c->updated_at_ms);
        json_kv_uint(j, "history_count", c->history_count);
        json_kv_uint(j, "reopen_count", c->reopen_count);
        json_kv_uint(j, "level", c->level);
        json_key(j, "resolution");
        s_resolution_json(j, c->resolution);
        json_key(j, "follow_up");
        s_follow_up_json(j, c->follow_up);
        json_kv_string(j, "dismiss_reason", pb_dismiss_reason_name(c->dismiss_reason));
        json_kv_string(j, "dismiss_note", c->dismiss_note);
        json_kv_string(j, "external_ref", c->external_ref);
        json_kv_uint(j, "max_level", c->max_level);
        json_kv_bool(j, "repeat", c->repeat);
        json_kv_uint(j, "repeat_count", c->repeat_count);
        json_kv_int(j, "erased_at_ms", c->erased_at_ms);
        json_kv_bool(j, "text_erased", c->text_erased);
        json_key(j, "response_clock");
        s_clock_json(j, c->response_clock);
        json_key(j, "resolution_clock");
        s_clock_json(j, c->resolution_clock);
        json_key(j, "follow_up_clock");
        s_clock_json(j, c->follow_up_clock);
}

void
render_complaint_json(json_t *j, const pb_complaint_t *c)
{
        if (c == NULL) {
                json_null(j);
                return;
        }
        json_object_begin(j);
        render_complaint_members_json(j, c);
        json_object_end(j);
}

void
render_history_json(json_t *j, const pb_history_t *h)
{
        if (h == NULL) {
                json_null(j);
                return;
        }
        json_object_begin(j);
        json_kv_uint(j, "complaint_id", h->complaint_id);
        json_kv_uint(j, "seq", h->seq);
        json_kv_int(j, "at_ms", h->at_ms);
        json_kv_string(j, "actor", h->actor);
        json_kv_string(j, "action", pb_action_name(h->action));
        json_kv_string(j, "from_status", pb_status_name(h->from_status));
        json_kv_string(j, "to_status", pb_status_name(h->to_status));
        json_kv_string(j, "department", h->department);
        json_kv_string(j, "from_department", h->from_department);
        json_kv_string(j, "note", h->note);
        json_kv_uint(j, "level", h->level);
        json_kv_uint(j, "event_seq", h->event_seq);
        json_kv_string(j, "clock", render_clock_kind(h->clock));
        json_kv_bool(j, "late", h->late);
        json_kv_int(j, "recorded_at_ms", h->recorded_at_ms);
        json_kv_bool(j, "realert", h->realert);
        json_kv_string(j, "role", h->role);
        json_kv_int(j, "due_at_ms", h->due_at_ms);
        json_object_end(j);
}

static void
s_heads_json(json_t *j, Complaint__V1__StreamHead *const *heads, size_t n)
{
        json_array_begin(j);
        for (size_t i = 0; i < n; i++) {
                json_object_begin(j);
                json_kv_string(j, "stream", heads[i]->stream);
                json_kv_uint(j, "offset", heads[i]->offset);
                json_object_end(j);
        }
        json_array_end(j);
}

void
render_status_members_json(json_t *j, const pb_status_reply_t *s)
{
        json_kv_string(j, "version", s->version);
        json_kv_int(j, "started_at_ms", s->started_at_ms);
        json_kv_int(j, "now_ms", s->now_ms);
        json_kv_uint(j, "complaints", s->complaints);
        json_key(j, "by_status");
        json_array_begin(j);
        for (size_t i = 0; i < s->n_by_status; i++) {
                json_object_begin(j);
                json_kv_string(j, "status", pb_status_name(s->by_status[i]->status));
                json_kv_uint(j, "count", s->by_status[i]->count);
                json_object_end(j);
        }
        json_array_end(j);
        json_kv_uint(j, "last_event_seq", s->last_event_seq);
        json_kv_string(j, "events_endpoint", s->events_endpoint);
        json_kv_string(j, "api_endpoint", s->api_endpoint);
        json_kv_uint(j, "store_schema", s->store_schema);
        json_kv_uint(j, "store_used_bytes", s->store_used_bytes);
        json_kv_uint(j, "store_map_bytes", s->store_map_bytes);
        json_kv_uint(j, "overdue", s->overdue);
        json_kv_int(j, "next_deadline_ms", s->next_deadline_ms);
        json_key(j, "heads");
        s_heads_json(j, s->heads, s->n_heads);
        json_kv_uint(j, "first_kept_seq", s->first_kept_seq);
}

void
render_event_json(json_t *j, const pb_event_t *e)
{
        json_object_begin(j);
        json_kv_uint(j, "schema_version", e->schema_version);
        json_kv_uint(j, "seq", e->seq);
        json_kv_string(j, "topic", e->topic);
        json_kv_string(j, "stream", e->stream);
        json_kv_uint(j, "offset", e->offset);
        json_kv_int(j, "at_ms", e->at_ms);
        json_key(j, "entry");
        render_history_json(j, e->entry);
        json_key(j, "complaint");
        render_complaint_json(j, e->complaint);
        json_kv_bool(j, "heartbeat", e->heartbeat);
        json_key(j, "heads");
        s_heads_json(j, e->heads, e->n_heads);
        json_object_end(j);
}

/* ------------------------------------------------------------------------- text */

/* A copy of s fit for one line of a terminal: line breaks and tabs become spaces, other control
 * characters '?', and at most max display columns are kept (0: all), the cut marked with an
 * ellipsis on a character boundary (width_truncate()). */
static char *
s_clean(const char *s, size_t max)
{
        size_t len = s ? strlen(s) : 0, o = 0;
        char *out = s_oom(malloc(len + 1)), *cut;

        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)s[i];

                if (c == '\n' || c == '\r' || c == '\t')
                        c = ' ';
                else if (c < 0x20 || c == 0x7f)
                        c = '?';
                out[o++] = (char)c;
        }
        out[o] = '\0';
        if (max == 0 || width_str(out) <= max)
                return out;
        cut = s_oom(width_truncate(out, max));
        free(out);
        return cut;
}

struct table {
        size_t ncols, nrows; /* rows include the heading */
        char **cell;         /* nrows * ncols, each the table's */
        size_t *width;
};

static void
s_table_init(struct table *t, size_t ncols, size_t nrows, const char *const *titles)
{
        t->ncols = ncols;
        t->nrows = nrows + 1;
        t->cell = s_oom(calloc(t->ncols * t->nrows, sizeof(char *)));
        t->width = s_oom(calloc(ncols, sizeof(size_t)));
        for (size_t i = 0; i < ncols; i++)
                t->cell[i] = s_oom(strdup(_(titles[i])));
}

/* Sets the cell of data row `row` (0-based) and column `col` to a cleaned copy of s. */
static void
s_table_set(struct table *t, size_t row, size_t col, const char *s, size_t max)
{
        char **cell = &t->cell[(row + 1) * t->ncols + col];

        free(*cell);
        *cell = s_clean(s, max);
}

__attribute__((format(printf, 4, 5))) static void
s_table_setf(struct table *t, size_t row, size_t col, const char *fmt, ...)
{
        char buf[256];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        s_table_set(t, row, col, buf, 0);
}

/* Prints the table, two spaces between columns, the last column unpadded, and frees it. */
static void
s_table_print(struct table *t, FILE *f)
{
        for (size_t r = 0; r < t->nrows; r++)
                for (size_t c = 0; c < t->ncols; c++) {
                        size_t w =
                            width_str(t->cell[r * t->ncols + c] ? t->cell[r * t->ncols + c] : "");

                        if (w > t->width[c])
                                t->width[c] = w;
                }
        for (size_t r = 0; r < t->nrows; r++) {
                size_t pad = 0; /* owed before the next non-empty cell: no trailing blanks */

                for (size_t c = 0; c < t->ncols; c++) {
                        const char *s = t->cell[r * t->ncols + c];

                        s = s ? s : "";
                        if (s[0]) {
                                fprintf(f, "%*s%s", (int)pad, "", s);
                                pad = 0;
                        }
                        pad += t->width[c] - width_str(s) + 2;
                }
                fputc('\n', f);
        }
        for (size_t i = 0; i < t->ncols * t->nrows; i++)
                free(t->cell[i]);
        free(t->cell);
        free(t->width);
}

static void
s_field(FILE *f, const char *label, const char *value)
{
        char *clean = s_clean(value, 0);

        fputs("  ", f);
        width_pad(f, label, 16, false);
        fprintf(f, "%s\n", clean[0] ? clean : "-");
        free(clean);
}

__attribute__((format(printf, 3, 4))) static void
s_fieldf(FILE *f, const char *label, const char *fmt, ...)
{
        char buf[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        s_field(f, label, buf);
}

/* A text that may span lines (a description, a reply): each line indented under the label. */
static void
s_field_lines(FILE *f, const char *label, const char *value)
{
        const char *p = value ? value : "";
        bool first = true;

        if (*p == '\0') {
                s_field(f, label, "");
                return;
        }
        while (*p) {
                size_t n = strcspn(p, "\n");
                char *line = s_oom(strndup(p, n));

                if (first)
                        s_field(f, label, line);
                else
                        s_field(f, "", line);
                free(line);
                first = false;
                p += n;
                if (*p == '\n')
                        p++;
        }
}

/* One line for a clock: when it started, where it stands, and who it is escalated to. */
static void
s_clock_text(FILE *f, const Complaint__V1__Clock *k, bool *first)
{
        char line[512], t[32], d[32];
        size_t o = 0;

#define ADD(...)                                                                        \
        do {                                                                            \
                if (o < sizeof(line))                                                   \
                        o += (size_t)snprintf(line + o, sizeof(line) - o, __VA_ARGS__); \
        } while (0)
        if (k == NULL || k->kind == COMPLAINT__V1__CLOCK_KIND__CLOCK_KIND_UNSPECIFIED)
                return;
        ADD(_("%s (%s): started %s"), render_clock_kind(k->kind),
            k->department[0] ? k->department : "-", render_time(k->started_at_ms, t, sizeof(t)));
        if (k->running && !k->paused && k->due_at_ms)
                ADD(_(", due %s"), render_time(k->due_at_ms, t, sizeof(t)));
        /* Filled by daemons that know it (get and list); 0 from older ones. */
        if (k->running && !k->paused && k->business_left_ms > 0)
                ADD(_(" (%s business time left)"),
                    render_duration_in(k->business_left_ms, false, d, sizeof(d)));
        else if (k->running && !k->paused && k->business_left_ms < 0)
                ADD(_(" (overdue by %s business time)"),
                    render_duration_in(k->business_left_ms, false, d, sizeof(d)));
        if (k->paused_total_ms > 0)
                ADD(_(", paused %s in all"), render_duration(k->paused_total_ms, d, sizeof(d)));
        if (k->paused)
                ADD(_(", paused since %s with %s left"), render_time(k->paused_at_ms, t, sizeof(t)),
                    render_duration(k->remaining_ms, d, sizeof(d)));
        if (!k->running) {
                ADD(_(", stopped %s"), render_time(k->stopped_at_ms, t, sizeof(t)));
                if (k->stopped_by)
                        ADD(_(" by %s"), pb_action_name(k->stopped_by));
                ADD(_(" after %s, %s"), render_duration(k->elapsed_ms, d, sizeof(d)),
                    k->met ? _("in time") : _("late"));
        }
        ADD(_(", level %" PRIu32), k->level);
        if (k->level > 0 && k->role[0])
                ADD(_(" (%s)"), k->role);
        if (k->alerts > 0)
                ADD(P_(", %" PRIu32 " re-alert past the top",
                       ", %" PRIu32 " re-alerts past the top", k->alerts),
                    k->alerts);
#undef ADD
        s_field(f, *first ? _("clocks") : "", line);
        *first = false;
}

void
render_complaint_text(FILE *f, const pb_complaint_t *c)
{
        char t1[32], t2[32], money[32];

        fprintf(f, _("complaint %" PRIu64 "\n"), c->id);
        s_field(f, _("status"), pb_status_name(c->status));
        s_field(f, _("subject"), c->subject);
        s_field_lines(f, _("description"), c->description);
        s_field(f, _("channel"), pb_channel_name(c->channel));
        s_field(f, _("category"), c->category);
        s_field(f, _("nature"), pb_nature_name(c->nature));
        s_field(f, _("priority"), pb_priority_name(c->priority));
        s_field(f, _("owner"), c->owner);
        s_field(f, _("department"), c->department);
        if (c->max_level > c->level)
                s_fieldf(f, _("level"), _("%" PRIu32 " (highest %" PRIu32 ")"), c->level,
                         c->max_level);
        else
                s_fieldf(f, _("level"), "%" PRIu32, c->level);
        s_field(f, _("created"), render_time(c->created_at_ms, t1, sizeof(t1)));
        s_field(f, _("updated"), render_time(c->updated_at_ms, t2, sizeof(t2)));
        s_fieldf(f, _("reopened"), P_("%" PRIu32 " time", "%" PRIu32 " times", c->reopen_count),
                 c->reopen_count);
        s_field(f, _("reference"), c->external_ref);
        {
                bool first = true;

                s_clock_text(f, c->response_clock, &first);
                s_clock_text(f, c->resolution_clock, &first);
                s_clock_text(f, c->follow_up_clock, &first);
        }
        if (c->repeat)
                s_fieldf(f, _("repeat"),
                         _("yes: %" PRIu32 " complaints from this complainant in the "
                           "window at intake"),
                         c->repeat_count);
        if (c->erased_at_ms)
                s_fieldf(f, _("erased"), _("%s (%s)"), render_time(c->erased_at_ms, t1, sizeof(t1)),
                         c->text_erased ? _("contact details and text") : _("contact details"));
        if (c->complainant) {
                s_field(f, _("name"), c->complainant->name);
                s_field(f, _("phone"), c->complainant->phone);
                s_field(f, _("email"), c->complainant->email);
                s_field_lines(f, _("address"), c->complainant->address);
        }
        if (c->resolution) {
                const pb_resolution_t *r = c->resolution;

                s_fieldf(f, _("resolved"), _("%s by %s"),
                         render_time(r->resolved_at_ms, t1, sizeof(t1)),
                         r->resolved_by[0] ? r->resolved_by : "-");
                s_field(f, _("cause"), r->cause);
                s_field(f, _("responsibility"), pb_responsibility_name(r->responsibility));
                s_field(f, _("compensation"),
                        render_cents(r->compensation_cents, money, sizeof(money)));
                s_field_lines(f, _("reply"), r->reply);
        }
        if (c->follow_up) {
                const pb_follow_up_t *u = c->follow_up;

                s_fieldf(f, _("closed"), _("%s by %s"),
                         render_time(u->closed_at_ms, t1, sizeof(t1)),
                         u->closed_by[0] ? u->closed_by : "-");
                if (u->call_failed)
                        s_field(f, _("satisfaction"), _("unknown (the follow-up call failed)"));
                else
                        s_fieldf(f, _("satisfaction"), _("%" PRIu32 " of 5"), u->satisfaction);
                if (u->note[0])
                        s_field_lines(f, _("follow-up note"), u->note);
        }
        if (c->status == ST_DISMISSED || c->dismiss_reason != 0) {
                s_field(f, _("dismissed for"), pb_dismiss_reason_name(c->dismiss_reason));
                if (c->dismiss_note[0])
                        s_field_lines(f, _("dismiss note"), c->dismiss_note);
        }
}

void
render_history_text(FILE *f, pb_history_t *const *h, size_t n)
{
        static const char *const titles[] = {N_("SEQ"),    N_("TIME"),     N_("ACTOR"),
                                             N_("ACTION"), N_("FROM->TO"), N_("DEPARTMENT"),
                                             N_("NOTE")};
        struct table t;
        char buf[64];

        s_table_init(&t, 7, n, titles);
        for (size_t i = 0; i < n; i++) {
                const pb_history_t *e = h[i];
                bool moved = e->from_department[0] && strcmp(e->from_department, e->department);

                s_table_setf(&t, i, 0, "%" PRIu32, e->seq);
                s_table_set(&t, i, 1, render_time(e->at_ms, buf, sizeof(buf)), 0);
                s_table_set(&t, i, 2, e->actor, 32);
                if (e->level || e->late || e->realert)
                        s_table_setf(&t, i, 3, "%s %" PRIu32 "%s%s", pb_action_name(e->action),
                                     e->level, e->realert ? " (re-alert)" : "",
                                     e->late ? " (late)" : "");
                else
                        s_table_set(&t, i, 3, pb_action_name(e->action), 0);
                s_table_setf(&t, i, 4, "%s->%s",
                             e->from_status ? pb_status_name(e->from_status) : "",
                             pb_status_name(e->to_status));
                if (moved) {
                        char *from = s_clean(e->from_department, 32);
                        char *to = s_clean(e->department, 32);

                        s_table_setf(&t, i, 5, "%s->%s", from, to);
                        free(from);
                        free(to);
                } else {
                        s_table_set(&t, i, 5, e->department[0] ? e->department : "-", 32);
                }
                s_table_set(&t, i, 6, e->note, 0);
        }
        s_table_print(&t, f);
}

void
render_list_text(FILE *f, pb_complaint_t *const *c, size_t n)
{
        static const char *const titles[] = {N_("ID"),    N_("STATUS"),   N_("PRIORITY"),
                                             N_("LEVEL"), N_("CATEGORY"), N_("DEPARTMENT"),
                                             N_("OWNER"), N_("UPDATED"),  N_("SUBJECT")};
        struct table t;
        char buf[64];

        s_table_init(&t, 9, n, titles);
        for (size_t i = 0; i < n; i++) {
                s_table_setf(&t, i, 0, "%" PRIu64, c[i]->id);
                s_table_set(&t, i, 1, pb_status_name(c[i]->status), 0);
                s_table_set(&t, i, 2, pb_priority_name(c[i]->priority), 0);
                s_table_setf(&t, i, 3, "%" PRIu32, c[i]->level);
                s_table_set(&t, i, 4, c[i]->category, 24);
                s_table_set(&t, i, 5, c[i]->department[0] ? c[i]->department : "-", 24);
                s_table_set(&t, i, 6, c[i]->owner, 24);
                s_table_set(&t, i, 7, render_time(c[i]->updated_at_ms, buf, sizeof(buf)), 0);
                s_table_set(&t, i, 8, c[i]->subject, 50);
        }
        s_table_print(&t, f);
}

/* "1.5 MiB" */
static const char *
s_bytes(uint64_t v, char *buf, size_t size)
{
        static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
        double d = (double)v;
        size_t u = 0;

        while (d >= 1024 && u + 1 < sizeof(unit) / sizeof(unit[0])) {
                d /= 1024;
                u++;
        }
        if (u == 0)
                snprintf(buf, size, "%" PRIu64 " B", v);
        else
                snprintf(buf, size, "%.1f %s", d, unit[u]);
        return buf;
}

/* A label of the status text, indented by indent and padded to 18 display columns. */
static void
s_label(FILE *f, int indent, const char *label)
{
        fprintf(f, "%*s", indent, "");
        width_pad(f, label, (size_t)(18 - indent), false);
}

void
render_status_text(FILE *f, const pb_status_reply_t *s)
{
        int64_t up = s->now_ms > s->started_at_ms ? (s->now_ms - s->started_at_ms) / 1000 : 0;
        char t[32], used[32], map[32];

        fprintf(f, "complaintd %s\n", s->version[0] ? s->version : _("(unknown version)"));
        s_label(f, 2, _("uptime"));
        fprintf(f, _("%" PRId64 "d %02" PRId64 ":%02" PRId64 ":%02" PRId64 " (since %s)\n"),
                up / 86400, up / 3600 % 24, up / 60 % 60, up % 60,
                render_time(s->started_at_ms, t, sizeof(t)));
        s_label(f, 2, _("complaints"));
        fprintf(f, "%" PRIu64 "\n", s->complaints);
        for (size_t i = 0; i < s->n_by_status; i++) {
                s_label(f, 4, pb_status_name(s->by_status[i]->status));
                fprintf(f, "%" PRIu64 "\n", s->by_status[i]->count);
        }
        s_label(f, 2, _("overdue"));
        fprintf(f, "%" PRIu64 "\n", s->overdue);
        s_label(f, 2, _("next deadline"));
        if (s->next_deadline_ms) {
                int64_t in = s->next_deadline_ms - s->now_ms;
                char d[32];

                render_duration(in, d, sizeof(d));
                render_time(s->next_deadline_ms, t, sizeof(t));
                if (in > 0)
                        fprintf(f, _("%s (in %s)\n"), t, d);
                else if (in == 0)
                        fprintf(f, _("%s (now)\n"), t);
                else
                        fprintf(f, _("%s (%s ago)\n"), t, d);
        } else {
                fprintf(f, "%s\n", _("none"));
        }
        s_label(f, 2, _("last event"));
        fprintf(f, _("%" PRIu64 " (oldest kept %" PRIu64 ")\n"), s->last_event_seq,
                s->first_kept_seq);
        if (s->n_heads)
                fprintf(f, "  %s\n", _("stream heads"));
        for (size_t i = 0; i < s->n_heads; i++) {
                char *name = s_clean(s->heads[i]->stream, 32);

                s_label(f, 4, name[0] ? name : _("(global)"));
                fprintf(f, "%" PRIu64 "\n", s->heads[i]->offset);
                free(name);
        }
        s_field(f, _("api"), s->api_endpoint);
        s_field(f, _("events"), s->events_endpoint);
        s_label(f, 2, _("store"));
        fprintf(f, _("schema %" PRIu32 ", %s used of %s\n"), s->store_schema,
                s_bytes(s->store_used_bytes, used, sizeof(used)),
                s_bytes(s->store_map_bytes, map, sizeof(map)));
}

void
render_event_text(FILE *f, const pb_event_t *e)
{
        const pb_history_t *h = e->entry;
        char t[32];
        char *topic = s_clean(e->topic, 0);

        fprintf(f, "%s #%" PRIu64 " %s", render_time(e->at_ms, t, sizeof(t)), e->seq, topic);
        free(topic);
        if (h) {
                char *actor = s_clean(h->actor, 32), *note = s_clean(h->note, 0);

                fprintf(f, _(" complaint %" PRIu64 " %s"), h->complaint_id,
                        pb_action_name(h->action));
                if (h->level)
                        fprintf(f, " %" PRIu32, h->level);
                fprintf(f, _(" %s->%s by %s"), h->from_status ? pb_status_name(h->from_status) : "",
                        pb_status_name(h->to_status), actor);
                if (note[0])
                        fprintf(f, ": %s", note);
                free(actor);
                free(note);
        }
        fputc('\n', f);
}

/* The error codes' words, as pb_error_name() gives them, for the translators: a translation
 * may say what the word means beside it ("not_found" as "未找到（not_found）"); in English the
 * word stands alone, as it always has. */
static const char *const error_words[] = {
    N_("ok"),
    N_("bad_request"),
    N_("invalid_argument"),
    N_("too_large"),
    N_("not_found"),
    N_("invalid_transition"),
    N_("request_id_reused"),
    N_("unsupported_version"),
    N_("storage_full"),
    N_("internal"),
    N_("unknown_reference"),
    N_("gone"),
    N_("busy"),
    N_("unavailable"),
    N_("misconfigured"),
    N_("forbidden"),
};

void
render_error_text(FILE *f, const pb_reply_t *reply)
{
        const char *word = pb_error_name(reply->error);

        for (size_t i = 0; i < sizeof(error_words) / sizeof(error_words[0]); i++)
                if (strcmp(error_words[i], word) == 0) {
                        word = _(error_words[i]);
                        break;
                }
        /* The message is the daemon's, in English: its log and its replies stay English. */
        fprintf(f, "complaintctl: %s: %s", word,
                reply->message[0] ? reply->message : _("(no message)"));
        if (reply->field[0])
                fprintf(f, _(" (field %s)"), reply->field);
        fputc('\n', f);
}
