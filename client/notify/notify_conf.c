/* notify_conf.c: loads complaint-notify's libconfig file into an nconf_t, checking every
 * setting: types, ranges, unknown keys, duplicate ids, cross-references (routes name
 * recipients and calendars) and the placeholders of every template. Errors are collected, not
 * stopped at, so one run of --check-config shows them all. */
#include <ctype.h>
#include <errno.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "notify_conf.h"
#include "text.h"

const char *const nconf_feedback_fields[] = {
    "ref",   "id",      "subject", "category", "department", "status",       "due",
    "reply", "contact", "name",    "created",  "priority",   "external_ref", NULL};

struct loader {
        const char *path;
        nconf_t *cfg;
        buf_t errors;
        unsigned n_errors;
};

/* Writes the path of a setting ("routes[2].to") into buf. */
static void
s_path(const config_setting_t *s, char *buf, size_t size)
{
        const config_setting_t *parent = config_setting_parent(s);
        char prefix[256] = "";

        if (parent == NULL) {
                buf[0] = '\0';
                return;
        }
        s_path(parent, prefix, sizeof(prefix));
        if (config_setting_name(s))
                snprintf(buf, size, "%s%s%s", prefix, prefix[0] ? "." : "", config_setting_name(s));
        else
                snprintf(buf, size, "%s[%d]", prefix, config_setting_index(s));
}

/* Records "file:line: setting[.key]: reason". s may be NULL for the whole file; key names a
 * missing member of s. */
static void __attribute__((format(printf, 4, 5)))
s_error(struct loader *l, const config_setting_t *s, const char *key, const char *fmt, ...)
{
        char path[300] = "", reason[512];
        const char *file = l->path;
        unsigned line = 0;
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(reason, sizeof(reason), fmt, ap);
        va_end(ap);
        if (s != NULL) {
                s_path(s, path, sizeof(path));
                line = config_setting_source_line(s);
                if (config_setting_source_file(s))
                        file = config_setting_source_file(s);
        }
        if (key != NULL) {
                size_t n = strlen(path);
                snprintf(path + n, sizeof(path) - n, "%s%s", n ? "." : "", key);
        }
        buf_printf(&l->errors, "%s:%u: %s: %s\n", file, line, path[0] ? path : "(top)", reason);
        l->n_errors++;
}

static void
s_check_keys(struct loader *l, const config_setting_t *group, const char *const *known)
{
        int n = config_setting_length(group);

        for (int i = 0; i < n; i++) {
                const config_setting_t *m = config_setting_get_elem(group, (unsigned)i);
                const char *name = config_setting_name(m);
                bool found = false;

                for (const char *const *k = known; *k && name; k++)
                        if (strcmp(*k, name) == 0)
                                found = true;
                if (!found)
                        s_error(l, m, NULL, "unknown setting");
        }
}

/* Whether the optional group g is there to be read; its members not in known are refused. */
static bool
s_group(struct loader *l, const config_setting_t *g, const char *const *known)
{
        if (g == NULL)
                return false;
        if (!config_setting_is_group(g)) {
                s_error(l, g, NULL, "must be a group { ... }");
                return false;
        }
        s_check_keys(l, g, known);
        return true;
}

static int
s_set(char **field, const char *v)
{
        char *copy = strdup(v);

        if (copy == NULL)
                return -ENOMEM;
        free(*field);
        *field = copy;
        return 0;
}

/* Whether s has no control characters and is valid UTF-8: what may go into a header or a
 * journal line. */
static bool
s_clean(const char *s, bool newlines)
{
        for (const char *p = s; *p; p++)
                if ((unsigned char)*p < 0x20 && !(newlines && (*p == '\n' || *p == '\t')))
                        return false;
        return text_utf8_valid(s, strlen(s));
}

/* Copies a string member. Returns 1 when present and valid, 0 when absent (an error if
 * required), -1 when present but wrong. */
static int
s_get_string(struct loader *l, const config_setting_t *group, const char *key, bool required,
             char **field)
{
        const config_setting_t *m = config_setting_get_member(group, key);
        const char *v;

        if (m == NULL) {
                if (required)
                        s_error(l, group, key, "missing");
                return 0;
        }
        v = config_setting_get_string(m);
        if (v == NULL) {
                s_error(l, m, NULL, "must be a string");
                return -1;
        }
        if (!s_clean(v, true)) {
                s_error(l, m, NULL, "must be UTF-8 without control characters");
                return -1;
        }
        return s_set(field, v) < 0 ? -1 : 1;
}

/* A string that must fit on one line (headers, addresses, URLs). */
static int
s_get_line(struct loader *l, const config_setting_t *group, const char *key, bool required,
           char **field)
{
        int r = s_get_string(l, group, key, required, field);

        if (r > 0 && !s_clean(*field, false)) {
                s_error(l, config_setting_get_member(group, key), NULL,
                        "must be one line without tabs");
                return -1;
        }
        return r;
}

/* Recipient and calendar ids: letters, digits, '_' and '-', starting with a letter. */
static bool
s_valid_id(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n > 64 || !isalpha((unsigned char)s[0]))
                return false;
        for (; *s; s++)
                if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
                        return false;
        return true;
}

static int
s_get_id(struct loader *l, const config_setting_t *group, const char *key, char **field)
{
        int r = s_get_string(l, group, key, true, field);

        if (r > 0 && !s_valid_id(*field)) {
                s_error(l, config_setting_get_member(group, key), NULL,
                        "\"%s\" is not an id: 1 to 64 letters, digits, '_' and '-', starting "
                        "with a letter",
                        *field);
                return -1;
        }
        return r;
}

static void
s_get_duration(struct loader *l, const config_setting_t *group, const char *key, int64_t min_ms,
               int64_t *field)
{
        const config_setting_t *m = config_setting_get_member(group, key);
        const char *v;
        int64_t ms;

        if (m == NULL)
                return;
        v = config_setting_get_string(m);
        if (v == NULL || nconf_parse_duration(v, &ms) < 0)
                s_error(l, m, NULL,
                        "must be a duration such as \"500ms\", \"90s\", \"30m\", \"2h\", "
                        "\"1h30m\"");
        else if (ms < min_ms)
                s_error(l, m, NULL, "must be at least %lldms", (long long)min_ms);
        else
                *field = ms;
}

/* A list of strings (an array or a list), each one line. Returns the count, or -1. */
static int
s_get_strings(struct loader *l, const config_setting_t *m, char ***ret, size_t *ret_n)
{
        int n;

        if (!config_setting_is_array(m) && !config_setting_is_list(m)) {
                s_error(l, m, NULL, "must be a list [\"...\", ...]");
                return -1;
        }
        n = config_setting_length(m);
        *ret = calloc((size_t)n + 1, sizeof(**ret));
        if (*ret == NULL)
                return -1;
        for (int i = 0; i < n; i++) {
                const config_setting_t *e = config_setting_get_elem(m, (unsigned)i);
                const char *v = config_setting_get_string(e);

                if (v == NULL || !s_clean(v, false)) {
                        s_error(l, e, NULL, "must be a string on one line");
                        continue;
                }
                if (s_set(&(*ret)[*ret_n], v) == 0)
                        (*ret_n)++;
        }
        return (int)*ret_n;
}

static void
s_free_strings(char ***v, size_t *n)
{
        for (size_t i = 0; *v && i < *n; i++)
                free((*v)[i]);
        free(*v);
        *v = NULL;
        *n = 0;
}

/* "Name <local@domain>" or "local@domain": the address part, or NULL when malformed. */
static const char *
s_address_of(const char *from, char *buf, size_t size)
{
        const char *lt = strrchr(from, '<'), *at;
        size_t n;

        if (lt) {
                const char *gt = strchr(lt, '>');

                if (gt == NULL || gt[1] != '\0')
                        return NULL;
                n = (size_t)(gt - lt - 1);
                from = lt + 1;
        } else {
                n = strlen(from);
        }
        if (n == 0 || n >= size)
                return NULL;
        memcpy(buf, from, n);
        buf[n] = '\0';
        at = strchr(buf, '@');
        if (at == NULL || at == buf || at[1] == '\0' || strchr(at + 1, '@') ||
            strpbrk(buf, " \t<>,;\"()[]\\"))
                return NULL;
        return buf;
}

/* ----------------------------------------------------------------- [notify] */

static const char *const notify_keys[] = {
    "api",      "key",  "server_key", "state_dir",        "actor",     "log_level", "from",
    "sendmail", "zone", "timeout",    "sendmail_timeout", "retry_min", "retry_max", "give_up",
    NULL};

static int
s_log_level(const char *s)
{
        static const char *const names[] = {"err", "warning", "notice", "info", "debug"};
        static const int levels[] = {LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG};

        for (size_t i = 0; i < 5; i++)
                if (strcmp(s, names[i]) == 0)
                        return levels[i];
        return -1;
}

static void
s_load_sendmail(struct loader *l, const config_setting_t *m)
{
        nconf_t *cfg = l->cfg;
        char **argv = NULL;
        size_t n = 0;

        if (config_setting_type(m) == CONFIG_TYPE_STRING) {
                char *copy = strdup(config_setting_get_string(m)), *save = NULL;

                argv = calloc(strlen(copy ? copy : "") / 2 + 2, sizeof(*argv));
                for (char *w = copy && argv ? strtok_r(copy, " \t", &save) : NULL; w;
                     w = strtok_r(NULL, " \t", &save))
                        if ((argv[n] = strdup(w)) != NULL)
                                n++;
                free(copy);
        } else if (s_get_strings(l, m, &argv, &n) < 0) {
                s_free_strings(&argv, &n);
                return;
        }
        if (argv == NULL)
                return;
        if (n == 0 || argv[0][0] != '/') {
                s_error(l, m, NULL,
                        "must name a command by its absolute path, such as "
                        "\"/usr/sbin/sendmail -t -oi\"");
                s_free_strings(&argv, &n);
                return;
        }
        for (n = 0; cfg->sendmail && cfg->sendmail[n]; n++)
                ;
        s_free_strings(&cfg->sendmail, &n);
        cfg->sendmail = argv;
}

static void
s_load_notify(struct loader *l, const config_setting_t *g)
{
        nconf_t *cfg = l->cfg;
        char *level = NULL, *zone = NULL, addr[320];
        const config_setting_t *m;

        if (!s_group(l, g, notify_keys))
                return;
        s_get_line(l, g, "api", false, &cfg->api);
        s_get_line(l, g, "key", false, &cfg->key);
        s_get_line(l, g, "server_key", false, &cfg->server_key);
        if ((cfg->key == NULL) != (cfg->server_key == NULL))
                s_error(l, g, cfg->key ? "server_key" : "key",
                        "key and server_key go together: a daemon with access control needs "
                        "both");
        s_get_line(l, g, "state_dir", false, &cfg->state_dir);
        if (s_get_line(l, g, "actor", false, &cfg->actor) > 0 &&
            (strlen(cfg->actor) > 100 || cfg->actor[0] == '\0'))
                s_error(l, config_setting_get_member(g, "actor"), NULL, "must be 1 to 100 bytes");
        if (s_get_line(l, g, "log_level", false, &level) > 0) {
                cfg->log_level = s_log_level(level);
                if (cfg->log_level < 0)
                        s_error(l, config_setting_get_member(g, "log_level"), NULL,
                                "\"%s\" is not one of debug, info, notice, warning, err", level);
        }
        free(level);
        if (s_get_line(l, g, "from", false, &cfg->from) > 0 &&
            s_address_of(cfg->from, addr, sizeof(addr)) == NULL)
                s_error(l, config_setting_get_member(g, "from"), NULL,
                        "\"%s\" is not an address such as \"Complaint centre "
                        "<complaints@example.org>\"",
                        cfg->from);
        if ((m = config_setting_get_member(g, "sendmail")) != NULL)
                s_load_sendmail(l, m);
        if (s_get_line(l, g, "zone", false, &zone) > 0) {
                tz_t *tz = NULL;
                int r = tz_load(zone, &tz);

                if (r < 0) {
                        s_error(l, config_setting_get_member(g, "zone"), NULL,
                                "\"%s\" is not a time zone this machine knows (%s)", zone,
                                strerror(-r));
                } else {
                        tz_free(&cfg->zone);
                        cfg->zone = tz;
                        s_set(&cfg->zone_name, zone);
                }
        }
        free(zone);
        s_get_duration(l, g, "timeout", 100, &cfg->timeout_ms);
        s_get_duration(l, g, "sendmail_timeout", 100, &cfg->sendmail_timeout_ms);
        s_get_duration(l, g, "retry_min", 10, &cfg->retry_min_ms);
        s_get_duration(l, g, "retry_max", 10, &cfg->retry_max_ms);
        s_get_duration(l, g, "give_up", 100, &cfg->give_up_ms);
        if (cfg->retry_max_ms < cfg->retry_min_ms)
                s_error(l, g, "retry_max", "must be at least retry_min");
}

/* ----------------------------------------------------------------- calendars */

static const char *const weekday_keys[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL};

/* "09:00-12:30" into minutes; end 24:00 allowed; end <= start crosses midnight. */
static bool
s_parse_interval(const char *s, int *ret_start, int *ret_end)
{
        int h1, m1, h2, m2, n = 0;

        if (sscanf(s, "%2d:%2d-%2d:%2d%n", &h1, &m1, &h2, &m2, &n) != 4 || s[n] != '\0' || h1 < 0 ||
            h1 > 23 || m1 < 0 || m1 > 59 || h2 < 0 || h2 > 24 || m2 < 0 || m2 > 59 ||
            (h2 == 24 && m2 != 0))
                return false;
        *ret_start = h1 * 60 + m1;
        *ret_end = h2 * 60 + m2;
        return true;
}

/* "2026-10-01", or for make-up days "2026-10-11=mon". */
static bool
s_parse_date(const char *s, bool with_weekday, int *y, int *mo, int *d, int *wd)
{
        int n = 0;

        *wd = -1;
        if (sscanf(s, "%4d-%2d-%2d%n", y, mo, d, &n) != 3)
                return false;
        if (with_weekday && s[n] == '=') {
                for (int i = 0; weekday_keys[i]; i++)
                        if (strcmp(s + n + 1, weekday_keys[i]) == 0)
                                *wd = i;
                if (*wd < 0)
                        return false;
        } else if (s[n] != '\0' || with_weekday) {
                return false;
        }
        return *y >= 1970 && *y <= 9999 && *mo >= 1 && *mo <= 12 && *d >= 1 &&
               *d <= tz_days_in_month(*y, *mo);
}

static void
s_load_dates(struct loader *l, const config_setting_t *c, const char *key, calendar_t *cal)
{
        const config_setting_t *list = config_setting_get_member(c, key);
        bool workdays = strcmp(key, "workdays") == 0;
        int n;

        if (list == NULL)
                return;
        if (!config_setting_is_array(list) && !config_setting_is_list(list)) {
                s_error(l, list, NULL, "must be a list of dates [\"2026-10-01\", ...]");
                return;
        }
        n = config_setting_length(list);
        for (int i = 0; i < n; i++) {
                const config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
                const char *v = config_setting_get_string(e);
                int y, mo, d, wd, r;

                if (v == NULL || !s_parse_date(v, workdays, &y, &mo, &d, &wd)) {
                        s_error(l, e, NULL, "\"%s\" is not a date such as %s", v ? v : "",
                                workdays ? "\"2026-10-11=mon\"" : "\"2026-10-01\"");
                        continue;
                }
                r = workdays ? calendar_add_workday(cal, y, mo, d, wd)
                             : calendar_add_holiday(cal, y, mo, d);
                if (r < 0)
                        s_error(l, e, NULL, "%s", strerror(-r));
        }
}

static const char *const calendar_keys[] = {"id",       "zone",     "always_open", "hours",
                                            "holidays", "workdays", NULL};

static void
s_load_calendar(struct loader *l, const config_setting_t *c, struct nc_calendar *nc)
{
        const config_setting_t *hours, *open;
        char *zone = NULL;
        size_t n_hours = 0;
        bool always = false;
        int r;

        s_check_keys(l, c, calendar_keys);
        if (s_get_line(l, c, "zone", true, &zone) <= 0)
                return;
        r = calendar_new(zone, &nc->cal);
        if (r < 0) {
                s_error(l, config_setting_get_member(c, "zone"), NULL,
                        "\"%s\" is not a time zone this machine knows (%s)", zone, strerror(-r));
                free(zone);
                return;
        }
        free(zone);
        open = config_setting_get_member(c, "always_open");
        if (open && config_setting_type(open) != CONFIG_TYPE_BOOL)
                s_error(l, open, NULL, "must be true or false");
        else if (open && config_setting_get_bool(open))
                always = calendar_set_always_open(nc->cal) == 0;
        hours = config_setting_get_member(c, "hours");
        if (hours && !config_setting_is_group(hours)) {
                s_error(l, hours, NULL, "must be a group { mon = [\"09:00-17:00\"]; ... }");
        } else if (hours) {
                s_check_keys(l, hours, weekday_keys);
                for (int wd = 0; wd < 7; wd++) {
                        const config_setting_t *day =
                            config_setting_get_member(hours, weekday_keys[wd]);
                        int n;

                        if (day == NULL)
                                continue;
                        if (!config_setting_is_array(day) && !config_setting_is_list(day)) {
                                s_error(l, day, NULL, "must be a list [\"09:00-12:00\", ...]");
                                continue;
                        }
                        n = config_setting_length(day);
                        for (int i = 0; i < n; i++) {
                                const config_setting_t *e =
                                    config_setting_get_elem(day, (unsigned)i);
                                const char *v = config_setting_get_string(e);
                                int start, end;

                                if (v == NULL || !s_parse_interval(v, &start, &end)) {
                                        s_error(l, e, NULL,
                                                "\"%s\" is not working hours such as "
                                                "\"09:00-12:00\" (\"22:00-06:00\" runs past "
                                                "midnight)",
                                                v ? v : "");
                                } else if ((r = calendar_add_hours(nc->cal, wd, start, end)) < 0) {
                                        s_error(l, e, NULL, "at most %d intervals a day",
                                                CALENDAR_MAX_INTERVALS);
                                } else {
                                        n_hours++;
                                }
                        }
                }
        }
        if (!always && n_hours == 0)
                s_error(l, c, NULL,
                        "calendar \"%s\" has no working hours: give hours or always_open = true",
                        nc->id);
        s_load_dates(l, c, "holidays", nc->cal);
        s_load_dates(l, c, "workdays", nc->cal);
}

static const struct nc_calendar *
s_find_calendar(const nconf_t *cfg, const char *id)
{
        for (size_t i = 0; i < cfg->n_calendars; i++)
                if (strcmp(cfg->calendars[i].id, id) == 0)
                        return &cfg->calendars[i];
        return NULL;
}

static void
s_load_calendars(struct loader *l, const config_setting_t *list)
{
        nconf_t *cfg = l->cfg;
        int n;

        if (list == NULL)
                return;
        if (!config_setting_is_list(list)) {
                s_error(l, list, NULL, "must be a list ( { ... }, ... )");
                return;
        }
        n = config_setting_length(list);
        cfg->calendars = calloc((size_t)n + 1, sizeof(*cfg->calendars));
        if (cfg->calendars == NULL)
                return;
        for (int i = 0; i < n; i++) {
                const config_setting_t *c = config_setting_get_elem(list, (unsigned)i);
                struct nc_calendar *nc = &cfg->calendars[cfg->n_calendars];

                if (!config_setting_is_group(c)) {
                        s_error(l, c, NULL, "must be a group { id = ...; zone = ...; ... }");
                        continue;
                }
                if (s_get_id(l, c, "id", &nc->id) <= 0) {
                        free(nc->id);
                        nc->id = NULL;
                        continue;
                }
                if (s_find_calendar(cfg, nc->id)) {
                        s_error(l, config_setting_get_member(c, "id"), NULL,
                                "duplicate calendar id \"%s\"", nc->id);
                        free(nc->id);
                        nc->id = NULL;
                        continue;
                }
                cfg->n_calendars++;
                s_load_calendar(l, c, nc);
        }
}

/* A calendar named by key in g, or NULL (with an error when unknown). */
static const struct nc_calendar *
s_get_calendar(struct loader *l, const config_setting_t *g, const char *key)
{
        const struct nc_calendar *cal = NULL;
        char *id = NULL;

        if (s_get_line(l, g, key, false, &id) > 0) {
                cal = s_find_calendar(l->cfg, id);
                if (cal == NULL || cal->cal == NULL)
                        s_error(l, config_setting_get_member(g, key), NULL,
                                "unknown calendar \"%s\"", id);
        }
        free(id);
        return cal && cal->cal ? cal : NULL;
}

/* ----------------------------------------------------------------- recipients */

static const char *const format_names[] = {[FORMAT_EMAIL] = "email",
                                           [FORMAT_JSON] = "json",
                                           [FORMAT_SLACK] = "slack",
                                           [FORMAT_WECOM] = "wecom",
                                           [FORMAT_DINGTALK] = "dingtalk"};

const char *
nconf_format_name(int format)
{
        return format >= 0 && format <= FORMAT_DINGTALK ? format_names[format] : "?";
}

static bool
s_valid_email(const char *s)
{
        char buf[320];

        return strchr(s, '<') == NULL && s_address_of(s, buf, sizeof(buf)) != NULL;
}

static bool
s_valid_url(const char *s)
{
        return (strncmp(s, "http://", 7) == 0 && s[7]) || (strncmp(s, "https://", 8) == 0 && s[8]);
}

static void
s_load_headers(struct loader *l, const config_setting_t *g, char ***ret, size_t *ret_n)
{
        const config_setting_t *m = config_setting_get_member(g, "headers");

        if (m == NULL || s_get_strings(l, m, ret, ret_n) < 0)
                return;
        for (size_t i = 0; i < *ret_n; i++) {
                const char *colon = strchr((*ret)[i], ':');

                if (colon == NULL || colon == (*ret)[i] ||
                    strcspn((*ret)[i], " :") != (size_t)(colon - (*ret)[i]))
                        s_error(l, config_setting_get_elem(m, (unsigned)i), NULL,
                                "\"%s\" is not a header such as \"X-Api-Key: secret\"", (*ret)[i]);
        }
}

static const char *const recipient_keys[] = {"id", "email", "webhook", "format", "headers", NULL};

static void
s_load_recipient(struct loader *l, const config_setting_t *c, struct nc_recipient *rc)
{
        char *format = NULL;
        bool email, hook;

        s_check_keys(l, c, recipient_keys);
        email = s_get_line(l, c, "email", false, &rc->email) > 0;
        hook = s_get_line(l, c, "webhook", false, &rc->url) > 0;
        if (email == hook) {
                s_error(l, c, NULL, "give either email = \"...\" or webhook = \"https://...\"");
                return;
        }
        if (email) {
                rc->format = FORMAT_EMAIL;
                if (!s_valid_email(rc->email))
                        s_error(l, config_setting_get_member(c, "email"), NULL,
                                "\"%s\" is not an e-mail address", rc->email);
                if (config_setting_get_member(c, "format") ||
                    config_setting_get_member(c, "headers"))
                        s_error(l, c, NULL, "format and headers are for webhooks");
                return;
        }
        if (!s_valid_url(rc->url))
                s_error(l, config_setting_get_member(c, "webhook"), NULL,
                        "\"%s\" is not an http:// or https:// URL", rc->url);
        rc->format = FORMAT_JSON;
        if (s_get_line(l, c, "format", false, &format) > 0) {
                rc->format = -1;
                for (int f = FORMAT_JSON; f <= FORMAT_DINGTALK; f++)
                        if (strcmp(format, format_names[f]) == 0)
                                rc->format = f;
                if (rc->format < 0)
                        s_error(l, config_setting_get_member(c, "format"), NULL,
                                "\"%s\" is not one of json, slack, wecom, dingtalk", format);
        }
        free(format);
        s_load_headers(l, c, &rc->headers, &rc->n_headers);
}

const struct nc_recipient *
nconf_recipient(const nconf_t *cfg, const char *id)
{
        for (size_t i = 0; i < cfg->n_recipients; i++)
                if (cfg->recipients[i].id && strcmp(cfg->recipients[i].id, id) == 0)
                        return &cfg->recipients[i];
        return NULL;
}

static void
s_load_recipients(struct loader *l, const config_setting_t *list)
{
        nconf_t *cfg = l->cfg;
        int n;

        if (list == NULL)
                return;
        if (!config_setting_is_list(list)) {
                s_error(l, list, NULL, "must be a list ( { id = ...; email = ...; }, ... )");
                return;
        }
        n = config_setting_length(list);
        if (n > NC_RECIPIENTS_MAX) {
                s_error(l, list, NULL, "at most %d recipients", NC_RECIPIENTS_MAX);
                return;
        }
        cfg->recipients = calloc((size_t)n + 1, sizeof(*cfg->recipients));
        if (cfg->recipients == NULL)
                return;
        for (int i = 0; i < n; i++) {
                const config_setting_t *c = config_setting_get_elem(list, (unsigned)i);
                struct nc_recipient *rc = &cfg->recipients[cfg->n_recipients];

                if (!config_setting_is_group(c)) {
                        s_error(l, c, NULL, "must be a group { id = ...; email = ...; }");
                        continue;
                }
                if (s_get_id(l, c, "id", &rc->id) <= 0) {
                        free(rc->id);
                        rc->id = NULL;
                        continue;
                }
                if (nconf_recipient(cfg, rc->id)) {
                        s_error(l, config_setting_get_member(c, "id"), NULL,
                                "duplicate recipient id \"%s\"", rc->id);
                        free(rc->id);
                        rc->id = NULL;
                        continue;
                }
                cfg->n_recipients++;
                s_load_recipient(l, c, rc);
        }
}

/* ----------------------------------------------------------------- routes */

static const char *const kind_names[] = {"warning", "escalated", "realert", "assigned", NULL};

const char *
nconf_kind_name(unsigned kind)
{
        for (int i = 0; kind_names[i]; i++)
                if (kind == 1u << i)
                        return kind_names[i];
        return "?";
}

static const char *const route_keys[] = {"departments", "kinds", "levels", "to", "calendar", NULL};

static void
s_load_route(struct loader *l, const config_setting_t *c, struct nc_route *rt)
{
        const config_setting_t *m;
        char **words = NULL;
        size_t n_words = 0;

        s_check_keys(l, c, route_keys);
        if ((m = config_setting_get_member(c, "departments")) != NULL)
                s_get_strings(l, m, &rt->departments, &rt->n_departments);
        rt->kinds = KIND_WARNING | KIND_ESCALATED | KIND_REALERT;
        if ((m = config_setting_get_member(c, "kinds")) != NULL &&
            s_get_strings(l, m, &words, &n_words) >= 0) {
                rt->kinds = 0;
                for (size_t i = 0; i < n_words; i++) {
                        unsigned bit = 0;

                        for (int k = 0; kind_names[k]; k++)
                                if (strcmp(words[i], kind_names[k]) == 0)
                                        bit = 1u << k;
                        if (bit == 0)
                                s_error(l, config_setting_get_elem(m, (unsigned)i), NULL,
                                        "\"%s\" is not one of warning, escalated, realert, "
                                        "assigned",
                                        words[i]);
                        rt->kinds |= bit;
                }
                if (n_words == 0)
                        s_error(l, m, NULL, "names no kind");
        }
        s_free_strings(&words, &n_words);
        if ((m = config_setting_get_member(c, "levels")) != NULL) {
                int n = config_setting_length(m);

                if (!config_setting_is_array(m) && !config_setting_is_list(m)) {
                        s_error(l, m, NULL, "must be a list of levels [1, 2]");
                } else if ((rt->levels = calloc((size_t)n + 1, sizeof(*rt->levels))) != NULL) {
                        for (int i = 0; i < n; i++) {
                                const config_setting_t *e = config_setting_get_elem(m, (unsigned)i);

                                if (config_setting_type(e) != CONFIG_TYPE_INT ||
                                    config_setting_get_int(e) < 0 || config_setting_get_int(e) > 32)
                                        s_error(l, e, NULL, "must be a level 0 to 32");
                                else
                                        rt->levels[rt->n_levels++] =
                                            (uint32_t)config_setting_get_int(e);
                        }
                }
        }
        m = config_setting_get_member(c, "to");
        if (m == NULL) {
                s_error(l, c, "to", "missing: the recipients of the route");
        } else if (s_get_strings(l, m, &words, &n_words) >= 0) {
                rt->to = calloc(n_words + 1, sizeof(*rt->to));
                for (size_t i = 0; rt->to && i < n_words; i++) {
                        const struct nc_recipient *rc = nconf_recipient(l->cfg, words[i]);

                        if (rc == NULL)
                                s_error(l, config_setting_get_elem(m, (unsigned)i), NULL,
                                        "unknown recipient \"%s\"", words[i]);
                        else
                                rt->to[rt->n_to++] = (size_t)(rc - l->cfg->recipients);
                }
                if (n_words == 0)
                        s_error(l, m, NULL, "names no recipient");
        }
        s_free_strings(&words, &n_words);
        rt->calendar = s_get_calendar(l, c, "calendar");
}

static void
s_load_routes(struct loader *l, const config_setting_t *list)
{
        nconf_t *cfg = l->cfg;
        int n;

        if (list == NULL)
                return;
        if (!config_setting_is_list(list)) {
                s_error(l, list, NULL, "must be a list ( { kinds = ...; to = ...; }, ... )");
                return;
        }
        n = config_setting_length(list);
        if (n > NC_ROUTES_MAX) {
                s_error(l, list, NULL, "at most %d routes", NC_ROUTES_MAX);
                return;
        }
        cfg->routes = calloc((size_t)n + 1, sizeof(*cfg->routes));
        for (int i = 0; cfg->routes && i < n; i++) {
                const config_setting_t *c = config_setting_get_elem(list, (unsigned)i);

                if (!config_setting_is_group(c)) {
                        s_error(l, c, NULL, "must be a group { kinds = ...; to = ...; }");
                        continue;
                }
                s_load_route(l, c, &cfg->routes[cfg->n_routes++]);
        }
}

/* ----------------------------------------------------------------- feedback, sms */

static const char *const message_keys[] = {"subject", "text", "sms", NULL};
static const char *const message_names[] = {"acknowledgement", "progress", "reply"};

static void
s_get_template(struct loader *l, const config_setting_t *g, const char *key, char **field)
{
        char bad[64];

        if (s_get_string(l, g, key, false, field) > 0 &&
            text_template_check(*field, nconf_feedback_fields, bad, sizeof(bad)) < 0)
                s_error(l, config_setting_get_member(g, key), NULL,
                        "%s is not a placeholder: use {ref}, {id}, {subject}, {category}, "
                        "{department}, {status}, {due}, {reply}, {contact}, {name}, {created}, "
                        "{priority}, {external_ref}, and {{ or }} for a brace",
                        bad);
}

static void
s_load_message(struct loader *l, const config_setting_t *g, struct nc_message *msg)
{
        if (!s_group(l, g, message_keys))
                return;
        s_get_template(l, g, "subject", &msg->subject);
        s_get_template(l, g, "text", &msg->text);
        s_get_template(l, g, "sms", &msg->sms);
        if (msg->subject && strchr(msg->subject, '\n'))
                s_error(l, config_setting_get_member(g, "subject"), NULL, "must be one line");
        if ((msg->subject == NULL) != (msg->text == NULL))
                s_error(l, g, msg->subject ? "text" : "subject",
                        "missing: a message has a subject and a text");
}

static const char *const feedback_keys[] = {
    "via",         "calendar",        "progress_every", "reference", "contact", "no_due",
    "departments", "acknowledgement", "progress",       "reply",     NULL};

static void
s_load_feedback(struct loader *l, const config_setting_t *g)
{
        struct nc_feedback *fb = &l->cfg->feedback;
        const config_setting_t *m;
        char **via = NULL;
        size_t n_via = 0;

        if (!s_group(l, g, feedback_keys))
                return;
        fb->enabled = true;
        if ((m = config_setting_get_member(g, "via")) == NULL) {
                s_error(l, g, "via", "missing: [\"email\"], [\"sms\"] or [\"email\", \"sms\"]");
        } else if (s_get_strings(l, m, &via, &n_via) >= 0) {
                for (size_t i = 0; i < n_via; i++) {
                        if (strcmp(via[i], "email") == 0)
                                fb->via_email = true;
                        else if (strcmp(via[i], "sms") == 0)
                                fb->via_sms = true;
                        else
                                s_error(l, config_setting_get_elem(m, (unsigned)i), NULL,
                                        "\"%s\" is not email or sms", via[i]);
                }
        }
        s_free_strings(&via, &n_via);
        fb->calendar = s_get_calendar(l, g, "calendar");
        if ((m = config_setting_get_member(g, "progress_every")) != NULL) {
                if (config_setting_type(m) != CONFIG_TYPE_INT || config_setting_get_int(m) < 0 ||
                    config_setting_get_int(m) > 365)
                        s_error(l, m, NULL, "must be a number of business days, 0 to 365");
                else
                        fb->progress_every = (uint32_t)config_setting_get_int(m);
                if (fb->progress_every && fb->calendar == NULL)
                        s_error(l, g, "calendar",
                                "missing: business days are counted on a calendar");
        }
        s_get_line(l, g, "reference", false, &fb->reference);
        if (fb->reference &&
            text_template_check(fb->reference, (const char *const[]){"id", NULL}, NULL, 0) < 0)
                s_error(l, config_setting_get_member(g, "reference"), NULL,
                        "may use only {id}, such as \"C-{id}\"");
        s_get_string(l, g, "contact", false, &fb->contact);
        s_get_line(l, g, "no_due", false, &fb->no_due);
        if ((m = config_setting_get_member(g, "departments")) != NULL) {
                int n = config_setting_length(m);

                if (!config_setting_is_group(m)) {
                        s_error(l, m, NULL, "must be a group { billing = \"Billing\"; ... }");
                } else if ((fb->names = calloc(2 * (size_t)n + 1, sizeof(char *))) != NULL) {
                        for (int i = 0; i < n; i++) {
                                const config_setting_t *e = config_setting_get_elem(m, (unsigned)i);
                                const char *v = config_setting_get_string(e);

                                if (v == NULL || !s_clean(v, false)) {
                                        s_error(l, e, NULL, "must be a name on one line");
                                        continue;
                                }
                                fb->names[fb->n_names++] = strdup(config_setting_name(e));
                                fb->names[fb->n_names++] = strdup(v);
                        }
                }
        }
        for (int k = 0; k < FEEDBACK_COUNT; k++)
                s_load_message(l, config_setting_get_member(g, message_names[k]), &fb->msg[k]);
        if (fb->via_sms && l->cfg->sms.url == NULL)
                s_error(l, g, "via", "\"sms\" needs the gateway: sms = { url = ...; }");
}

static const char *const sms_keys[] = {"url",    "user",    "password", "token",
                                       "sender", "headers", NULL};

static void
s_load_sms(struct loader *l, const config_setting_t *g)
{
        struct nc_sms *sms = &l->cfg->sms;

        if (!s_group(l, g, sms_keys))
                return;
        if (s_get_line(l, g, "url", true, &sms->url) > 0 && !s_valid_url(sms->url))
                s_error(l, config_setting_get_member(g, "url"), NULL,
                        "\"%s\" is not an http:// or https:// URL", sms->url);
        s_get_line(l, g, "user", false, &sms->user);
        s_get_line(l, g, "password", false, &sms->password);
        s_get_line(l, g, "token", false, &sms->token);
        s_get_line(l, g, "sender", false, &sms->sender);
        if ((sms->user == NULL) != (sms->password == NULL))
                s_error(l, g, sms->user ? "password" : "user", "missing: give user and password");
        s_load_headers(l, g, &sms->headers, &sms->n_headers);
}

const char *
nconf_department_name(const nconf_t *cfg, const char *id)
{
        for (size_t i = 0; i + 1 < cfg->feedback.n_names; i += 2)
                if (cfg->feedback.names[i] && strcmp(cfg->feedback.names[i], id) == 0)
                        return cfg->feedback.names[i + 1] ? cfg->feedback.names[i + 1] : id;
        return id;
}

/* ----------------------------------------------------------------- the file */

static const char *const top_keys[] = {"notify",   "calendars", "recipients", "routes",
                                       "feedback", "sms",       NULL};

static int
s_defaults(nconf_t *cfg)
{
        cfg->log_level = LOG_INFO;
        cfg->timeout_ms = 10000;
        cfg->sendmail_timeout_ms = 30000;
        cfg->retry_min_ms = 5000;
        cfg->retry_max_ms = 600000;
        cfg->give_up_ms = 86400000;
        if (s_set(&cfg->api, "tcp://127.0.0.1:7410") < 0 ||
            s_set(&cfg->state_dir, "/var/lib/complaint-notify") < 0 ||
            s_set(&cfg->actor, "complaint-notify") < 0 ||
            s_set(&cfg->from, "Complaint centre <complaint-notify@localhost>") < 0 ||
            s_set(&cfg->zone_name, "UTC") < 0 || tz_load("UTC", &cfg->zone) < 0)
                return -ENOMEM;
        cfg->sendmail = calloc(4, sizeof(char *));
        if (cfg->sendmail == NULL || s_set(&cfg->sendmail[0], "/usr/sbin/sendmail") < 0 ||
            s_set(&cfg->sendmail[1], "-t") < 0 || s_set(&cfg->sendmail[2], "-oi") < 0)
                return -ENOMEM;
        return 0;
}

static int
s_finish(nconf_t *cfg)
{
        char addr[320];
        const char *a = s_address_of(cfg->from, addr, sizeof(addr));

        if (a == NULL)
                return -EINVAL;
        if (cfg->feedback.reference == NULL && s_set(&cfg->feedback.reference, "{id}") < 0)
                return -ENOMEM;
        if (cfg->feedback.no_due == NULL && s_set(&cfg->feedback.no_due, "-") < 0)
                return -ENOMEM;
        if (cfg->feedback.contact == NULL && s_set(&cfg->feedback.contact, "") < 0)
                return -ENOMEM;
        return s_set(&cfg->domain, strchr(a, '@') + 1);
}

int
nconf_load(const char *path, nconf_t **ret, char **ret_errors)
{
        struct loader l = {.path = path};
        config_setting_t *root;
        config_t lc;
        int r;

        l.cfg = calloc(1, sizeof(*l.cfg));
        if (l.cfg == NULL)
                return -ENOMEM;
        r = s_defaults(l.cfg);
        config_init(&lc);
        if (r == 0 && config_read_file(&lc, path) != CONFIG_TRUE) {
                if (config_error_type(&lc) == CONFIG_ERR_FILE_IO)
                        buf_printf(&l.errors, "%s: cannot open: %s\n", path,
                                   strerror(errno ? errno : ENOENT));
                else
                        buf_printf(&l.errors, "%s:%d: syntax: %s\n",
                                   config_error_file(&lc) ? config_error_file(&lc) : path,
                                   config_error_line(&lc), config_error_text(&lc));
                l.n_errors++;
        } else if (r == 0) {
                root = config_root_setting(&lc);
                s_check_keys(&l, root, top_keys);
                r = s_set(&l.cfg->file, path);
                s_load_notify(&l, config_setting_get_member(root, "notify"));
                s_load_calendars(&l, config_setting_get_member(root, "calendars"));
                s_load_recipients(&l, config_setting_get_member(root, "recipients"));
                s_load_routes(&l, config_setting_get_member(root, "routes"));
                s_load_sms(&l, config_setting_get_member(root, "sms"));
                s_load_feedback(&l, config_setting_get_member(root, "feedback"));
                if (r == 0 && l.n_errors == 0)
                        r = s_finish(l.cfg);
        }
        config_destroy(&lc);
        if (r == 0 && buf_failed(&l.errors))
                r = -ENOMEM;
        if (r == 0 && l.n_errors == 0) {
                *ret = l.cfg;
                buf_free(&l.errors);
                return 0;
        }
        nconf_free(&l.cfg);
        if (ret_errors && r != -ENOMEM)
                *ret_errors = buf_steal(&l.errors);
        buf_free(&l.errors);
        return r < 0 ? r : -EINVAL;
}

void
nconf_free(nconf_t **cfgp)
{
        nconf_t *cfg = cfgp ? *cfgp : NULL;
        size_t n;

        if (cfg == NULL)
                return;
        free(cfg->file);
        free(cfg->api);
        free(cfg->key);
        free(cfg->server_key);
        free(cfg->state_dir);
        free(cfg->actor);
        free(cfg->from);
        free(cfg->domain);
        for (n = 0; cfg->sendmail && cfg->sendmail[n]; n++)
                ;
        s_free_strings(&cfg->sendmail, &n);
        free(cfg->zone_name);
        tz_free(&cfg->zone);
        for (size_t i = 0; i < cfg->n_calendars; i++) {
                free(cfg->calendars[i].id);
                calendar_free(&cfg->calendars[i].cal);
        }
        free(cfg->calendars);
        for (size_t i = 0; i < cfg->n_recipients; i++) {
                free(cfg->recipients[i].id);
                free(cfg->recipients[i].email);
                free(cfg->recipients[i].url);
                s_free_strings(&cfg->recipients[i].headers, &cfg->recipients[i].n_headers);
        }
        free(cfg->recipients);
        for (size_t i = 0; i < cfg->n_routes; i++) {
                s_free_strings(&cfg->routes[i].departments, &cfg->routes[i].n_departments);
                free(cfg->routes[i].levels);
                free(cfg->routes[i].to);
        }
        free(cfg->routes);
        free(cfg->feedback.reference);
        free(cfg->feedback.contact);
        free(cfg->feedback.no_due);
        s_free_strings(&cfg->feedback.names, &cfg->feedback.n_names);
        for (int k = 0; k < FEEDBACK_COUNT; k++) {
                free(cfg->feedback.msg[k].subject);
                free(cfg->feedback.msg[k].text);
                free(cfg->feedback.msg[k].sms);
        }
        free(cfg->sms.url);
        free(cfg->sms.user);
        free(cfg->sms.password);
        free(cfg->sms.token);
        free(cfg->sms.sender);
        s_free_strings(&cfg->sms.headers, &cfg->sms.n_headers);
        free(cfg);
        *cfgp = NULL;
}

int
nconf_parse_duration(const char *s, int64_t *ret_ms)
{
        int64_t total = 0;

        if (s == NULL || *s == '\0')
                return -EINVAL;
        while (*s) {
                int64_t v = 0, unit;
                int digits = 0;

                while (isdigit((unsigned char)*s) && digits < 12) {
                        v = v * 10 + (*s++ - '0');
                        digits++;
                }
                if (digits == 0 || isdigit((unsigned char)*s))
                        return -EINVAL;
                if (strncmp(s, "ms", 2) == 0) {
                        unit = 1;
                        s += 2;
                } else if (*s == 's') {
                        unit = 1000;
                        s++;
                } else if (*s == 'm') {
                        unit = 60000;
                        s++;
                } else if (*s == 'h') {
                        unit = 3600000;
                        s++;
                } else if (*s == 'd') {
                        unit = 86400000;
                        s++;
                } else {
                        return -EINVAL;
                }
                if (v > (INT64_MAX / 4 - total) / unit)
                        return -EINVAL;
                total += v * unit;
        }
        *ret_ms = total;
        return 0;
}
