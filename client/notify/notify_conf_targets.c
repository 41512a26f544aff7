/* notify_conf_targets.c: the calendars, recipients and routes of complaint-notify's
 * configuration: who is told of which events, and when (quiet hours on a business calendar). */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "notify_conf.h"
#include "notify_conf_int.h"
#include "text.h"

/* ----------------------------------------------------------------- calendars */

static const char *const weekday_keys[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL};

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
                cfg_error(&l->log, list, NULL, "must be a list of dates [\"2026-10-01\", ...]");
                return;
        }
        n = config_setting_length(list);
        for (int i = 0; i < n; i++) {
                const config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
                const char *v = config_setting_get_string(e);
                int y, mo, d, wd, r;

                if (v == NULL || !s_parse_date(v, workdays, &y, &mo, &d, &wd)) {
                        cfg_error(&l->log, e, NULL, "\"%s\" is not a date such as %s", v ? v : "",
                                  workdays ? "\"2026-10-11=mon\"" : "\"2026-10-01\"");
                        continue;
                }
                r = workdays ? calendar_add_workday(cal, y, mo, d, wd)
                             : calendar_add_holiday(cal, y, mo, d);
                if (r < 0)
                        cfg_error(&l->log, e, NULL, "%s", strerror(-r));
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

        cfg_check_keys(&l->log, c, calendar_keys);
        if (nc_get_line(l, c, "zone", true, &zone) <= 0)
                return;
        r = calendar_new(zone, &nc->cal);
        if (r < 0) {
                cfg_error(&l->log, config_setting_get_member(c, "zone"), NULL,
                          "\"%s\" is not a time zone this machine knows (%s)", zone, strerror(-r));
                free(zone);
                return;
        }
        free(zone);
        open = config_setting_get_member(c, "always_open");
        if (open && config_setting_type(open) != CONFIG_TYPE_BOOL)
                cfg_error(&l->log, open, NULL, "must be true or false");
        else if (open && config_setting_get_bool(open))
                always = calendar_set_always_open(nc->cal) == 0;
        hours = config_setting_get_member(c, "hours");
        if (hours && !config_setting_is_group(hours)) {
                cfg_error(&l->log, hours, NULL, "must be a group { mon = [\"09:00-17:00\"]; ... }");
        } else if (hours) {
                cfg_check_keys(&l->log, hours, weekday_keys);
                for (int wd = 0; wd < 7; wd++) {
                        const config_setting_t *day =
                            config_setting_get_member(hours, weekday_keys[wd]);
                        int n;

                        if (day == NULL)
                                continue;
                        if (!config_setting_is_array(day) && !config_setting_is_list(day)) {
                                cfg_error(&l->log, day, NULL,
                                          "must be a list [\"09:00-12:00\", ...]");
                                continue;
                        }
                        n = config_setting_length(day);
                        for (int i = 0; i < n; i++) {
                                const config_setting_t *e =
                                    config_setting_get_elem(day, (unsigned)i);
                                const char *v = config_setting_get_string(e);
                                int start, end;

                                if (v == NULL || !cfg_parse_interval(v, &start, &end)) {
                                        cfg_error(&l->log, e, NULL,
                                                  "\"%s\" is not working hours such as "
                                                  "\"09:00-12:00\" (\"22:00-06:00\" runs past "
                                                  "midnight)",
                                                  v ? v : "");
                                } else if ((r = calendar_add_hours(nc->cal, wd, start, end)) < 0) {
                                        cfg_error(&l->log, e, NULL, "at most %d intervals a day",
                                                  CALENDAR_MAX_INTERVALS);
                                } else {
                                        n_hours++;
                                }
                        }
                }
        }
        if (!always && n_hours == 0)
                cfg_error(&l->log, c, NULL,
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

void
nc_load_calendars(struct loader *l, const config_setting_t *list)
{
        nconf_t *cfg = l->cfg;
        int n;

        if (list == NULL)
                return;
        if (!config_setting_is_list(list)) {
                cfg_error(&l->log, list, NULL, "must be a list ( { ... }, ... )");
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
                        cfg_error(&l->log, c, NULL,
                                  "must be a group { id = ...; zone = ...; ... }");
                        continue;
                }
                if (nc_get_id(l, c, "id", &nc->id) <= 0) {
                        free(nc->id);
                        nc->id = NULL;
                        continue;
                }
                if (s_find_calendar(cfg, nc->id)) {
                        cfg_error(&l->log, config_setting_get_member(c, "id"), NULL,
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
const struct nc_calendar *
nc_get_calendar(struct loader *l, const config_setting_t *g, const char *key)
{
        const struct nc_calendar *cal = NULL;
        char *id = NULL;

        if (nc_get_line(l, g, key, false, &id) > 0) {
                cal = s_find_calendar(l->cfg, id);
                if (cal == NULL || cal->cal == NULL)
                        cfg_error(&l->log, config_setting_get_member(g, key), NULL,
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

        return strchr(s, '<') == NULL && nc_address_of(s, buf, sizeof(buf)) != NULL;
}

void
nc_load_headers(struct loader *l, const config_setting_t *g, char ***ret, size_t *ret_n)
{
        const config_setting_t *m = config_setting_get_member(g, "headers");

        if (m == NULL || nc_get_strings(l, m, ret, ret_n) < 0)
                return;
        for (size_t i = 0; i < *ret_n; i++) {
                const char *colon = strchr((*ret)[i], ':');

                if (colon == NULL || colon == (*ret)[i] ||
                    strcspn((*ret)[i], " :") != (size_t)(colon - (*ret)[i]))
                        cfg_error(&l->log, config_setting_get_elem(m, (unsigned)i), NULL,
                                  "\"%s\" is not a header such as \"X-Api-Key: secret\"",
                                  (*ret)[i]);
        }
}

static const char *const recipient_keys[] = {"id", "email", "webhook", "format", "headers", NULL};

static void
s_load_recipient(struct loader *l, const config_setting_t *c, struct nc_recipient *rc)
{
        char *format = NULL;
        bool email, hook;

        cfg_check_keys(&l->log, c, recipient_keys);
        email = nc_get_line(l, c, "email", false, &rc->email) > 0;
        hook = nc_get_line(l, c, "webhook", false, &rc->url) > 0;
        if (email == hook) {
                cfg_error(&l->log, c, NULL,
                          "give either email = \"...\" or webhook = \"https://...\"");
                return;
        }
        if (email) {
                rc->format = FORMAT_EMAIL;
                if (!s_valid_email(rc->email))
                        cfg_error(&l->log, config_setting_get_member(c, "email"), NULL,
                                  "\"%s\" is not an e-mail address", rc->email);
                if (config_setting_get_member(c, "format") ||
                    config_setting_get_member(c, "headers"))
                        cfg_error(&l->log, c, NULL, "format and headers are for webhooks");
                return;
        }
        if (!nc_valid_url(rc->url))
                cfg_error(&l->log, config_setting_get_member(c, "webhook"), NULL,
                          "\"%s\" is not an http:// or https:// URL", rc->url);
        rc->format = FORMAT_JSON;
        if (nc_get_line(l, c, "format", false, &format) > 0) {
                rc->format = -1;
                for (int f = FORMAT_JSON; f <= FORMAT_DINGTALK; f++)
                        if (strcmp(format, format_names[f]) == 0)
                                rc->format = f;
                if (rc->format < 0)
                        cfg_error(&l->log, config_setting_get_member(c, "format"), NULL,
                                  "\"%s\" is not one of json, slack, wecom, dingtalk", format);
        }
        free(format);
        nc_load_headers(l, c, &rc->headers, &rc->n_headers);
}

const struct nc_recipient *
nconf_recipient(const nconf_t *cfg, const char *id)
{
        for (size_t i = 0; i < cfg->n_recipients; i++)
                if (cfg->recipients[i].id && strcmp(cfg->recipients[i].id, id) == 0)
                        return &cfg->recipients[i];
        return NULL;
}

void
nc_load_recipients(struct loader *l, const config_setting_t *list)
{
        nconf_t *cfg = l->cfg;
        int n;

        if (list == NULL)
                return;
        if (!config_setting_is_list(list)) {
                cfg_error(&l->log, list, NULL,
                          "must be a list ( { id = ...; email = ...; }, ... )");
                return;
        }
        n = config_setting_length(list);
        if (n > NC_RECIPIENTS_MAX) {
                cfg_error(&l->log, list, NULL, "at most %d recipients", NC_RECIPIENTS_MAX);
                return;
        }
        cfg->recipients = calloc((size_t)n + 1, sizeof(*cfg->recipients));
        if (cfg->recipients == NULL)
                return;
        for (int i = 0; i < n; i++) {
                const config_setting_t *c = config_setting_get_elem(list, (unsigned)i);
                struct nc_recipient *rc = &cfg->recipients[cfg->n_recipients];

                if (!config_setting_is_group(c)) {
                        cfg_error(&l->log, c, NULL, "must be a group { id = ...; email = ...; }");
                        continue;
                }
                if (nc_get_id(l, c, "id", &rc->id) <= 0) {
                        free(rc->id);
                        rc->id = NULL;
                        continue;
                }
                if (nconf_recipient(cfg, rc->id)) {
                        cfg_error(&l->log, config_setting_get_member(c, "id"), NULL,
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

        cfg_check_keys(&l->log, c, route_keys);
        if ((m = config_setting_get_member(c, "departments")) != NULL)
                nc_get_strings(l, m, &rt->departments, &rt->n_departments);
        rt->kinds = KIND_WARNING | KIND_ESCALATED | KIND_REALERT;
        if ((m = config_setting_get_member(c, "kinds")) != NULL &&
            nc_get_strings(l, m, &words, &n_words) >= 0) {
                rt->kinds = 0;
                for (size_t i = 0; i < n_words; i++) {
                        unsigned bit = 0;

                        for (int k = 0; kind_names[k]; k++)
                                if (strcmp(words[i], kind_names[k]) == 0)
                                        bit = 1u << k;
                        if (bit == 0)
                                cfg_error(&l->log, config_setting_get_elem(m, (unsigned)i), NULL,
                                          "\"%s\" is not one of warning, escalated, realert, "
                                          "assigned",
                                          words[i]);
                        rt->kinds |= bit;
                }
                if (n_words == 0)
                        cfg_error(&l->log, m, NULL, "names no kind");
        }
        nc_free_strings(&words, &n_words);
        if ((m = config_setting_get_member(c, "levels")) != NULL) {
                int n = config_setting_length(m);

                if (!config_setting_is_array(m) && !config_setting_is_list(m)) {
                        cfg_error(&l->log, m, NULL, "must be a list of levels [1, 2]");
                } else if ((rt->levels = calloc((size_t)n + 1, sizeof(*rt->levels))) != NULL) {
                        for (int i = 0; i < n; i++) {
                                const config_setting_t *e = config_setting_get_elem(m, (unsigned)i);

                                if (config_setting_type(e) != CONFIG_TYPE_INT ||
                                    config_setting_get_int(e) < 0 || config_setting_get_int(e) > 32)
                                        cfg_error(&l->log, e, NULL, "must be a level 0 to 32");
                                else
                                        rt->levels[rt->n_levels++] =
                                            (uint32_t)config_setting_get_int(e);
                        }
                }
        }
        m = config_setting_get_member(c, "to");
        if (m == NULL) {
                cfg_error(&l->log, c, "to", "missing: the recipients of the route");
        } else if (nc_get_strings(l, m, &words, &n_words) >= 0) {
                rt->to = calloc(n_words + 1, sizeof(*rt->to));
                for (size_t i = 0; rt->to && i < n_words; i++) {
                        const struct nc_recipient *rc = nconf_recipient(l->cfg, words[i]);

                        if (rc == NULL)
                                cfg_error(&l->log, config_setting_get_elem(m, (unsigned)i), NULL,
                                          "unknown recipient \"%s\"", words[i]);
                        else
                                rt->to[rt->n_to++] = (size_t)(rc - l->cfg->recipients);
                }
                if (n_words == 0)
                        cfg_error(&l->log, m, NULL, "names no recipient");
        }
        nc_free_strings(&words, &n_words);
        rt->calendar = nc_get_calendar(l, c, "calendar");
}

void
nc_load_routes(struct loader *l, const config_setting_t *list)
{
        nconf_t *cfg = l->cfg;
        int n;

        if (list == NULL)
                return;
        if (!config_setting_is_list(list)) {
                cfg_error(&l->log, list, NULL,
                          "must be a list ( { kinds = ...; to = ...; }, ... )");
                return;
        }
        n = config_setting_length(list);
        if (n > NC_ROUTES_MAX) {
                cfg_error(&l->log, list, NULL, "at most %d routes", NC_ROUTES_MAX);
                return;
        }
        cfg->routes = calloc((size_t)n + 1, sizeof(*cfg->routes));
        for (int i = 0; cfg->routes && i < n; i++) {
                const config_setting_t *c = config_setting_get_elem(list, (unsigned)i);

                if (!config_setting_is_group(c)) {
                        cfg_error(&l->log, c, NULL, "must be a group { kinds = ...; to = ...; }");
                        continue;
                }
                s_load_route(l, c, &cfg->routes[cfg->n_routes++]);
        }
}
