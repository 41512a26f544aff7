/* config_calendar.c: the `calendars` list of the configuration: working hours, holidays and
 * make-up working days, each checked as the calendar module will compile it (config_int.h). */
#include <inttypes.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "config.h"
#include "cfg.h"
#include "config_int.h"
#include "tz.h"

static const char *const weekday_keys[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL};

/* "2026-10-01", or for make-up days "2026-10-11=mon". */
static bool
s_parse_date(const char *s, bool with_weekday, struct config_date *d)
{
        int n = 0;
        char wd[4] = "";

        d->as_weekday = 1;
        if (sscanf(s, "%4d-%2d-%2d%n", &d->year, &d->month, &d->day, &n) != 3)
                return false;
        if (s[n] == '=' && with_weekday) {
                if (strlen(s + n + 1) != 3)
                        return false;
                memcpy(wd, s + n + 1, 3);
                d->as_weekday = -1;
                for (int i = 0; weekday_keys[i]; i++)
                        if (strcmp(weekday_keys[i], wd) == 0)
                                d->as_weekday = i;
                if (d->as_weekday < 0)
                        return false;
        } else if (s[n] != '\0') {
                return false;
        }
        return d->year >= 1970 && d->year <= 9999 && d->month >= 1 && d->month <= 12 &&
               d->day >= 1 && d->day <= tz_days_in_month(d->year, d->month);
}

static void
s_load_dates(struct loader *l, const config_setting_t *cal, const char *key, bool with_weekday,
             struct config_date **ret, size_t *ret_n)
{
        const config_setting_t *list = config_setting_get_member(cal, key);
        int n;

        if (list == NULL)
                return;
        if (!config_setting_is_array(list) && !config_setting_is_list(list)) {
                cfg_error(&l->log, list, NULL, "must be a list of dates [\"2026-10-01\", ...]");
                return;
        }
        n = config_setting_length(list);
        *ret = calloc((size_t)n + 1, sizeof(**ret));
        if (*ret == NULL)
                return;
        for (int i = 0; i < n; i++) {
                const config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
                const char *v = config_setting_get_string(e);

                if (v == NULL || !s_parse_date(v, with_weekday, &(*ret)[*ret_n]))
                        cfg_error(&l->log, e, NULL, "\"%s\" is not a date such as \"2026-10-01\"%s",
                                  v ? v : "", with_weekday ? " or \"2026-10-11=mon\"" : "");
                else
                        (*ret_n)++;
        }
}

/* The element of the date list that names date d (as_weekday aside), or NULL. */
static const config_setting_t *
s_find_date(const config_setting_t *list, bool with_weekday, const struct config_date *d)
{
        int n = list ? config_setting_length(list) : 0;

        for (int i = 0; i < n; i++) {
                const config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
                const char *v = config_setting_get_string(e);
                struct config_date x;

                if (v && s_parse_date(v, with_weekday, &x) && x.year == d->year &&
                    x.month == d->month && x.day == d->day)
                        return e;
        }
        return NULL;
}

/* Refuses a make-up working day that is also a holiday. The calendar would keep such a date
 * closed (calendar.h), so the file says two things and the daemon would silently do one. */
static void
s_check_workdays(struct loader *l, const config_setting_t *c, const struct config_calendar *cal)
{
        const config_setting_t *holidays = config_setting_get_member(c, "holidays");
        const config_setting_t *workdays = config_setting_get_member(c, "workdays");

        for (size_t i = 0; i < cal->n_workdays; i++) {
                const struct config_date *w = &cal->workdays[i];

                for (size_t j = 0; j < cal->n_holidays; j++) {
                        const struct config_date *d = &cal->holidays[j];

                        if (d->year != w->year || d->month != w->month || d->day != w->day)
                                continue;
                        cfg_error(&l->log, s_find_date(workdays, true, w), NULL,
                                  "%04d-%02d-%02d is also a holiday (line %u): a date is either "
                                  "closed or worked; remove it from holidays or from workdays",
                                  w->year, w->month, w->day,
                                  config_setting_source_line(s_find_date(holidays, false, d)));
                        break;
                }
        }
}

/* Builds the calendar cal describes, as policy.c will; *ret is the caller's. */
static int
s_compile_calendar(const struct config_calendar *cal, calendar_t **ret)
{
        calendar_t *c = NULL;
        int r = calendar_new(cal->zone, &c);

        if (r < 0)
                return r;
        if (cal->always_open)
                r = calendar_set_always_open(c);
        for (size_t i = 0; r == 0 && i < cal->n_hours; i++)
                r = calendar_add_hours(c, cal->hours[i].weekday, cal->hours[i].start_min,
                                       cal->hours[i].end_min);
        for (size_t i = 0; r == 0 && i < cal->n_holidays; i++)
                r = calendar_add_holiday(c, cal->holidays[i].year, cal->holidays[i].month,
                                         cal->holidays[i].day);
        for (size_t i = 0; r == 0 && i < cal->n_workdays; i++)
                r = calendar_add_workday(c, cal->workdays[i].year, cal->workdays[i].month,
                                         cal->workdays[i].day, cal->workdays[i].as_weekday);
        if (r < 0) {
                calendar_free(&c);
                return r;
        }
        *ret = c;
        return 0;
}

/* Refuses a calendar whose holidays close more days in a row than a deadline is searched
 * across: every deadline reaching into such a run would fail, on every retry. The error is put
 * on the first holiday of the run. */
static void
s_check_closed_days(struct loader *l, const config_setting_t *c, const struct config_calendar *cal)
{
        const config_setting_t *where = c;
        calendar_t *compiled = NULL;
        int64_t first, days, best = INT64_MAX, y;
        int m, d, r;

        /* A missing zone or missing hours have their own errors already. */
        if (cal->zone == NULL || (!cal->always_open && cal->n_hours == 0) ||
            s_compile_calendar(cal, &compiled) < 0)
                return;
        r = calendar_check_closed_days(compiled, &first, &days);
        calendar_free(&compiled);
        if (r == 0)
                return;
        for (size_t i = 0; i < cal->n_holidays; i++) {
                const struct config_date *h = &cal->holidays[i];
                int64_t day = tz_days_from_civil(h->year, h->month, h->day);

                if (day >= first && day - first < days && day < best) {
                        best = day;
                        where = s_find_date(config_setting_get_member(c, "holidays"), false, h);
                }
        }
        tz_civil_from_days(first, &y, &m, &d);
        cfg_error(&l->log, where, NULL,
                  "calendar \"%s\" has no business time for %" PRId64
                  " days in a row from %04" PRId64 "-%02d-%02d, longer than the %d days a deadline "
                  "is searched across: open a day in between",
                  cal->id, days, y, m, d, CALENDAR_MAX_CLOSED_DAYS);
}

static const char *const calendar_keys[] = {"id",       "zone",     "always_open", "hours",
                                            "holidays", "workdays", NULL};

static void
s_load_calendar(struct loader *l, const config_setting_t *c, struct config_calendar *cal)
{
        const config_setting_t *hours, *open;
        calendar_t *probe = NULL;
        int r;

        cfg_check_keys(&l->log, c, calendar_keys);
        if (cfg_get_string(l, c, "zone", true, &cal->zone) > 0) {
                r = calendar_new(cal->zone, &probe);
                if (r < 0)
                        cfg_error(&l->log, config_setting_get_member(c, "zone"), NULL,
                                  "\"%s\" is not a time zone this machine knows (%s)", cal->zone,
                                  strerror(-r));
                calendar_free(&probe);
        }
        open = config_setting_get_member(c, "always_open");
        if (open && config_setting_type(open) != CONFIG_TYPE_BOOL)
                cfg_error(&l->log, open, NULL, "must be true or false");
        else if (open)
                cal->always_open = config_setting_get_bool(open);
        hours = config_setting_get_member(c, "hours");
        if (hours && !config_setting_is_group(hours)) {
                cfg_error(&l->log, hours, NULL, "must be a group { mon = [\"09:00-17:00\"]; ... }");
        } else if (hours) {
                cfg_check_keys(&l->log, hours, weekday_keys);
                cal->hours = calloc(7 * 32, sizeof(*cal->hours));
                for (int wd = 0; wd < 7 && cal->hours; wd++) {
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
                                struct config_interval iv = {.weekday = wd};

                                if (v == NULL || !cfg_parse_interval(v, &iv.start_min, &iv.end_min))
                                        cfg_error(
                                            &l->log, e, NULL,
                                            "\"%s\" is not working hours such as \"09:00-12:00\" "
                                            "(\"22:00-06:00\" runs past midnight)",
                                            v ? v : "");
                                else if (i >= 32)
                                        cfg_error(&l->log, e, NULL, "at most 32 intervals a day");
                                else
                                        cal->hours[cal->n_hours++] = iv;
                        }
                }
        }
        if (!cal->always_open && cal->n_hours == 0)
                cfg_error(&l->log, c, NULL,
                          "calendar \"%s\" has no working hours: give hours or always_open = true",
                          cal->id);
        s_load_dates(l, c, "holidays", false, &cal->holidays, &cal->n_holidays);
        s_load_dates(l, c, "workdays", true, &cal->workdays, &cal->n_workdays);
        s_check_workdays(l, c, cal);
        s_check_closed_days(l, c, cal);
}

void
cfg_load_calendars(struct loader *l, const config_setting_t *list)
{
        conf_t *cfg = l->cfg;
        int n = list ? config_setting_length(list) : 0;

        if (list && !config_setting_is_list(list)) {
                cfg_error(&l->log, list, NULL, "must be a list ( { ... }, ... )");
                return;
        }
        /* One more for the built-in "24x7" (UTC, always open). */
        cfg->calendars = calloc((size_t)n + 1, sizeof(*cfg->calendars));
        if (cfg->calendars == NULL)
                return;
        for (int i = 0; i < n; i++) {
                const config_setting_t *c = config_setting_get_elem(list, (unsigned)i);
                struct config_calendar *cal = &cfg->calendars[cfg->n_calendars];

                if (!config_setting_is_group(c)) {
                        cfg_error(&l->log, c, NULL,
                                  "must be a group { id = ...; zone = ...; ... }");
                        continue;
                }
                if (cfg_get_id(l, c, "id", &cal->id) <= 0)
                        continue;
                if (config_find_calendar(cfg, cal->id) != NULL) {
                        cfg_error(&l->log, config_setting_get_member(c, "id"), NULL,
                                  "duplicate calendar id \"%s\"", cal->id);
                        free(cal->id);
                        cal->id = NULL;
                        continue;
                }
                cfg->n_calendars++;
                s_load_calendar(l, c, cal);
        }
        if (config_find_calendar(cfg, "24x7") == NULL) {
                struct config_calendar *cal = &cfg->calendars[cfg->n_calendars++];

                cal->id = strdup("24x7");
                cal->zone = strdup("UTC");
                cal->always_open = true;
        }
}

void
config_free_calendars(conf_t *cfg)
{
        for (size_t i = 0; i < cfg->n_calendars; i++) {
                free(cfg->calendars[i].id);
                free(cfg->calendars[i].zone);
                free(cfg->calendars[i].hours);
                free(cfg->calendars[i].holidays);
                free(cfg->calendars[i].workdays);
        }
        free(cfg->calendars);
}

/* The centre's zone: the top-level `zone`, else the zone of the centre's own calendar (the
 * department named by `centre`, whose calendar counts the follow-up call), else the zone of the
 * first calendar of the file, else UTC. After the departments and `centre`, which it reads. */
void
cfg_load_zone(struct loader *l, const config_setting_t *root)
{
        conf_t *cfg = l->cfg;
        const config_setting_t *m = config_setting_get_member(root, "zone");
        const struct config_department *centre =
            cfg->centre ? config_find_department(cfg, cfg->centre) : NULL;
        const char *zone = "UTC";
        calendar_t *probe = NULL;
        int r;

        if (m != NULL) {
                if (cfg_get_string(l, root, "zone", false, &cfg->zone) <= 0)
                        return;
                r = calendar_new(cfg->zone, &probe);
                calendar_free(&probe);
                if (r < 0)
                        cfg_error(&l->log, m, NULL,
                                  "\"%s\" is not a time zone this machine knows (%s): give an "
                                  "IANA name such as \"Asia/Shanghai\"",
                                  cfg->zone, strerror(-r));
                return;
        }
        if (centre && centre->calendar && centre->calendar->zone)
                zone = centre->calendar->zone;
        else if (cfg->n_calendars > 0 && cfg->calendars[0].zone)
                zone = cfg->calendars[0].zone;
        if (config_set_string(&cfg->zone, zone) < 0)
                cfg_error(&l->log, NULL, "zone", "out of memory");
}
