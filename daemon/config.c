/* config.c: loads the libconfig file into a conf_t, checking every setting: types, ranges,
 * unknown keys, duplicate ids and cross-references. Errors are collected, not stopped at, so
 * one run of --check-config shows them all. */
#include <ctype.h>
#include <errno.h>
#include <libconfig.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "calendar.h"
#include "config.h"
#include "config_int.h"
#include "log.h"
#include "macro.h"

/* Copies a string member. Returns 1 when present and valid, 0 when absent (an error if
 * required), -1 when present but wrong. */
int
cfg_get_string(struct loader *l, const config_setting_t *group, const char *key, bool required,
               char **field)
{
        const config_setting_t *m = config_setting_get_member(group, key);
        const char *v;

        if (m == NULL) {
                if (required)
                        cfg_error(&l->log, group, key, "missing");
                return 0;
        }
        v = config_setting_get_string(m);
        if (v == NULL) {
                cfg_error(&l->log, m, NULL, "must be a string");
                return -1;
        }
        if (config_set_string(field, v) < 0)
                return -1;
        return 1;
}

static bool
s_valid_id(const char *s)
{
        if (!islower((unsigned char)s[0]))
                return false;
        for (; *s; s++)
                if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '_')
                        return false;
        return true;
}

int
cfg_get_id(struct loader *l, const config_setting_t *group, const char *key, char **field)
{
        int r = cfg_get_string(l, group, key, true, field);

        if (r <= 0)
                return r;
        if (strlen(*field) > 64 || !s_valid_id(*field)) {
                cfg_error(&l->log, config_setting_get_member(group, key), NULL,
                          "\"%s\" is not an id: use 1 to 64 lower-case letters, digits and '_', "
                          "starting with a letter",
                          *field);
                free(*field);
                *field = NULL;
                return -1;
        }
        return 1;
}

static void
s_get_uint(struct loader *l, const config_setting_t *group, const char *key, long long min,
           long long max, long long *field)
{
        const config_setting_t *m = config_setting_get_member(group, key);
        long long v;

        if (m == NULL)
                return;
        if (config_setting_type(m) != CONFIG_TYPE_INT &&
            config_setting_type(m) != CONFIG_TYPE_INT64) {
                cfg_error(&l->log, m, NULL, "must be an integer");
                return;
        }
        v = config_setting_get_int64(m);
        if (v < min || v > max) {
                cfg_error(&l->log, m, NULL, "%lld is out of range (%lld to %lld)", v, min, max);
                return;
        }
        *field = v;
}

static void
s_get_duration(struct loader *l, const config_setting_t *group, const char *key, int64_t *field)
{
        const config_setting_t *m = config_setting_get_member(group, key);
        const char *v;

        if (m == NULL)
                return;
        v = config_setting_get_string(m);
        if (v == NULL || config_parse_duration(v, field) < 0)
                cfg_error(&l->log, m, NULL,
                          "must be a duration such as \"90s\", \"30m\", \"2h\", \"1h30m\"");
}

static const char *const daemon_keys[] = {
    "backup_dir",  "event_hwm",          "state_dir",     "api",       "events",
    "log_level",   "heartbeat",          "store_max",     "batch_max", "read_budget",
    "reply_queue", "idempotency_window", "rebuild_batch", NULL};

static void
s_load_daemon(struct loader *l, const config_setting_t *g)
{
        conf_t *cfg = l->cfg;
        _cleanup_free_ char *level = NULL, *store_max = NULL;
        long long batch = cfg->batch_max, hwm = cfg->event_hwm, queue = cfg->reply_queue;
        long long rebuild = cfg->rebuild_batch;

        if (!cfg_group(&l->log, g, daemon_keys))
                return;
        cfg_get_string(l, g, "state_dir", false, &cfg->state_dir);
        cfg_get_string(l, g, "api", false, &cfg->api);
        cfg_get_string(l, g, "events", false, &cfg->events);
        cfg_get_string(l, g, "backup_dir", false, &cfg->backup_dir);
        if (cfg_get_string(l, g, "log_level", false, &level) > 0) {
                cfg->log_level = log_level_parse(level);
                if (cfg->log_level < 0)
                        cfg_error(&l->log, config_setting_get_member(g, "log_level"), NULL,
                                  "\"%s\" is not one of debug, info, notice, warning, err", level);
        }
        s_get_duration(l, g, "heartbeat", &cfg->heartbeat_ms);
        s_get_duration(l, g, "read_budget", &cfg->read_budget_ms);
        s_get_duration(l, g, "idempotency_window", &cfg->idempotency_window_ms);
        if (cfg->idempotency_window_ms < 60000)
                cfg_error(&l->log, config_setting_get_member(g, "idempotency_window"), NULL,
                          "must be at least 1m: clients retry within minutes");
        if (cfg->read_budget_ms < 1 || cfg->read_budget_ms > 10000)
                cfg_error(&l->log, config_setting_get_member(g, "read_budget"), NULL,
                          "must be from 1ms to 10s");
        if (cfg_get_string(l, g, "store_max", false, &store_max) > 0 &&
            (config_parse_size(store_max, &cfg->store_max) < 0 || cfg->store_max < (1u << 20)))
                cfg_error(&l->log, config_setting_get_member(g, "store_max"), NULL,
                          "must be a size of at least 1M, such as \"512M\" or \"8G\"");
        s_get_uint(l, g, "batch_max", 1, 100000, &batch);
        cfg->batch_max = (uint32_t)batch;
        s_get_uint(l, g, "event_hwm", 1, 10000000, &hwm);
        cfg->event_hwm = (uint32_t)hwm;
        s_get_uint(l, g, "reply_queue", 1, 100000, &queue);
        cfg->reply_queue = (uint32_t)queue;
        /* At most 20,000 a step: about 20 ms of the loop here (20,003 complaints took 21 ms), the
         * read budget's order, so that deadlines are not held up by one step. */
        s_get_uint(l, g, "rebuild_batch", 1, 20000, &rebuild);
        cfg->rebuild_batch = (uint32_t)rebuild;
}

static void
s_load_limits(struct loader *l, const config_setting_t *g)
{
        struct config_limits *lim = &l->cfg->limits;
        static const struct {
                const char *key;
                size_t offset;
                long long min, max;
        } table[] = {
#define LIMIT(k, lo, hi) {#k, offsetof(struct config_limits, k), lo, hi}
            LIMIT(message, 1024, 16 << 20), LIMIT(name, 1, 65536),
            LIMIT(phone, 1, 1024),          LIMIT(email, 3, 1024),
            LIMIT(address, 1, 65536),       LIMIT(subject, 1, 65536),
            LIMIT(description, 1, 1 << 20), LIMIT(note, 1, 1 << 20),
            LIMIT(actor, 1, 200),           LIMIT(request_id, 8, 200),
            LIMIT(external_ref, 1, 1024),   LIMIT(list_max, 1, 100000),
            LIMIT(replay_max, 1, 100000),   LIMIT(reply, 4096, 16 << 20),
            LIMIT(scan_max, 100, 10000000),
#undef LIMIT
        };
        const char *known[ELEMENTSOF(table) + 2];
        long long comp = lim->compensation_max;

        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                known[i] = table[i].key;
        known[ELEMENTSOF(table)] = "compensation_max";
        known[ELEMENTSOF(table) + 1] = NULL;
        if (!cfg_group(&l->log, g, known))
                return;
        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                uint32_t *field = (uint32_t *)((char *)lim + table[i].offset);
                long long v = *field;

                s_get_uint(l, g, table[i].key, table[i].min, table[i].max, &v);
                *field = (uint32_t)v;
        }
        s_get_uint(l, g, "compensation_max", 0, INT64_MAX / 2, &comp);
        lim->compensation_max = comp;
}

/* Whether v is a whole number of millionths (six decimals at most), to within the rounding
 * of reading the decimal: clocks compute with scales and fractions in millionths, in integers,
 * so that what the file says is what they do (clock.c). */
static bool
s_whole_millionths(double v)
{
        double m = v * 1e6;

        return fabs(m - nearbyint(m)) < 1e-6;
}

static void
s_load_priorities(struct loader *l, const config_setting_t *g)
{
        static const char *const known[] = {"normal", "major", "urgent", NULL};

        if (!cfg_group(&l->log, g, known))
                return;
        for (int p = 1; p <= 3; p++) {
                const config_setting_t *m = config_setting_get_member(g, known[p - 1]);
                double v;

                if (m == NULL)
                        continue;
                if (config_setting_type(m) == CONFIG_TYPE_FLOAT)
                        v = config_setting_get_float(m);
                else if (config_setting_type(m) == CONFIG_TYPE_INT)
                        v = config_setting_get_int(m);
                else
                        v = NAN;
                if (!(v > 0.0 && v <= 100.0) || !s_whole_millionths(v))
                        cfg_error(&l->log, m, NULL,
                                  "must be a number above 0 and at most 100, with at most six "
                                  "decimals");
                else
                        l->cfg->priority_scale[p] = v;
        }
}

static void
s_load_chain(struct loader *l, const config_setting_t *d, struct config_department *dep)
{
        const config_setting_t *list = config_setting_get_member(d, "chain");
        int n;

        if (list == NULL)
                return;
        if (!config_setting_is_list(list)) {
                cfg_error(&l->log, list, NULL,
                          "must be a list ( { role = ...; allowance = ...; }, ... )");
                return;
        }
        n = config_setting_length(list);
        dep->chain = calloc((size_t)n + 1, sizeof(*dep->chain));
        if (dep->chain == NULL)
                return;
        for (int i = 0; i < n && i < 32; i++) {
                static const char *const keys[] = {"role", "allowance", NULL};
                const config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
                struct config_level *lv = &dep->chain[dep->n_chain];

                if (!config_setting_is_group(e)) {
                        cfg_error(&l->log, e, NULL,
                                  "must be a group { role = ...; allowance = ...; }");
                        continue;
                }
                cfg_check_keys(&l->log, e, keys);
                cfg_get_string(l, e, "role", true, &lv->role);
                if (config_setting_get_member(e, "allowance") == NULL)
                        cfg_error(&l->log, e, "allowance", "missing");
                s_get_duration(l, e, "allowance", &lv->allowance_ms);
                dep->n_chain++;
        }
        if (n > 32)
                cfg_error(&l->log, list, NULL, "at most 32 levels");
}

static const char *const department_keys[] = {"id",         "name",  "calendar", "response",
                                              "resolution", "chain", NULL};

static void
s_load_timing(struct loader *l, const config_setting_t *d, struct config_department *dep)
{
        _cleanup_free_ char *cal = NULL;

        s_get_duration(l, d, "response", &dep->response_ms);
        s_get_duration(l, d, "resolution", &dep->resolution_ms);
        s_load_chain(l, d, dep);
        if (cfg_get_string(l, d, "calendar", false, &cal) > 0) {
                dep->calendar = config_find_calendar(l->cfg, cal);
                if (dep->calendar == NULL)
                        cfg_error(&l->log, config_setting_get_member(d, "calendar"), NULL,
                                  "unknown calendar \"%s\"", cal);
        }
        if ((dep->response_ms || dep->resolution_ms) && dep->calendar == NULL && cal == NULL)
                cfg_error(&l->log, d, "calendar", "missing: time limits are counted on a calendar");
        if ((dep->response_ms || dep->resolution_ms) && dep->n_chain == 0 &&
            config_setting_get_member(d, "chain") == NULL)
                cfg_error(&l->log, d, "chain",
                          "missing: a department with time limits escalates up a chain");
}

/* The length of a list of groups such as departments = ( { ... }, ... ), or -1 after an
 * error (a required list that is missing, or not a list). */
static int
s_list_length(struct loader *l, const config_setting_t *root, const char *key, bool required)
{
        const config_setting_t *list = config_setting_get_member(root, key);

        if (list == NULL) {
                if (required)
                        cfg_error(&l->log, NULL, key, "missing: at least one is needed");
                return required ? -1 : 0;
        }
        if (!config_setting_is_list(list)) {
                cfg_error(&l->log, list, NULL, "must be a list ( { ... }, ... )");
                return -1;
        }
        return config_setting_length(list);
}

static void
s_free_department(struct config_department *dep)
{
        free(dep->id);
        free(dep->name);
        for (size_t j = 0; j < dep->n_chain; j++)
                free(dep->chain[j].role);
        free(dep->chain);
        memset(dep, 0, sizeof(*dep));
}

static void
s_free_category(struct config_category *cat)
{
        free(cat->id);
        free(cat->name);
        free(cat->department);
        memset(cat, 0, sizeof(*cat));
}

static void
s_load_departments(struct loader *l, const config_setting_t *root)
{
        const config_setting_t *list = config_setting_get_member(root, "departments");
        conf_t *cfg = l->cfg;
        int n = s_list_length(l, root, "departments", true);

        if (n < 0)
                return;
        cfg->departments = calloc((size_t)n + 1, sizeof(*cfg->departments));
        if (cfg->departments == NULL)
                return;
        for (int i = 0; i < n; i++) {
                const config_setting_t *d = config_setting_get_elem(list, (unsigned)i);
                struct config_department *dep = &cfg->departments[cfg->n_departments];

                if (!config_setting_is_group(d)) {
                        cfg_error(&l->log, d, NULL, "must be a group { id = ...; name = ...; }");
                        continue;
                }
                cfg_check_keys(&l->log, d, department_keys);
                if (cfg_get_id(l, d, "id", &dep->id) <= 0)
                        continue;
                cfg_get_string(l, d, "name", true, &dep->name);
                s_load_timing(l, d, dep);
                if (config_find_department(cfg, dep->id) != NULL) {
                        cfg_error(&l->log, config_setting_get_member(d, "id"), NULL,
                                  "duplicate department id \"%s\"", dep->id);
                        s_free_department(dep);
                        continue;
                }
                cfg->n_departments++;
        }
}

static const char *const category_keys[] = {"id",       "name",       "department",
                                            "response", "resolution", NULL};

static void
s_load_categories(struct loader *l, const config_setting_t *root)
{
        const config_setting_t *list = config_setting_get_member(root, "categories");
        conf_t *cfg = l->cfg;
        int n = s_list_length(l, root, "categories", true);

        if (n < 0)
                return;
        cfg->categories = calloc((size_t)n + 1, sizeof(*cfg->categories));
        if (cfg->categories == NULL)
                return;
        for (int i = 0; i < n; i++) {
                const config_setting_t *c = config_setting_get_elem(list, (unsigned)i);
                struct config_category *cat = &cfg->categories[cfg->n_categories];

                if (!config_setting_is_group(c)) {
                        cfg_error(&l->log, c, NULL,
                                  "must be a group { id = ...; department = ...; }");
                        continue;
                }
                cfg_check_keys(&l->log, c, category_keys);
                if (cfg_get_id(l, c, "id", &cat->id) <= 0)
                        continue;
                cfg_get_string(l, c, "name", true, &cat->name);
                s_get_duration(l, c, "response", &cat->response_ms);
                s_get_duration(l, c, "resolution", &cat->resolution_ms);
                if (cfg_get_string(l, c, "department", true, &cat->department) > 0 &&
                    config_find_department(cfg, cat->department) == NULL)
                        cfg_error(&l->log, config_setting_get_member(c, "department"), NULL,
                                  "unknown department \"%s\"", cat->department);
                if (config_find_category(cfg, cat->id) != NULL) {
                        cfg_error(&l->log, config_setting_get_member(c, "id"), NULL,
                                  "duplicate category id \"%s\"", cat->id);
                        s_free_category(cat);
                        continue;
                }
                cfg->n_categories++;
        }
}

static const char *const top_keys[] = {
    "access",      "daemon",     "limits",    "centre", "priorities", "escalation", "calendars",
    "departments", "categories", "event_log", "repeat", "privacy",    "zone",       NULL};

static void
s_load_privacy(struct loader *l, const config_setting_t *g)
{
        static const char *const known[] = {"retention", "rekey", NULL};

        if (!cfg_group(&l->log, g, known))
                return;
        s_get_duration(l, g, "retention", &l->cfg->privacy_retention_ms);
        if (l->cfg->privacy_retention_ms > 0 && l->cfg->privacy_retention_ms < 1000)
                cfg_error(&l->log, config_setting_get_member(g, "retention"), NULL,
                          "must be at least 1s");
        s_get_duration(l, g, "rekey", &l->cfg->privacy_rekey_ms);
}

static void
s_load_event_log(struct loader *l, const config_setting_t *g)
{
        static const char *const known[] = {"keep_for", "keep_count", NULL};
        long long count = (long long)l->cfg->keep_events;

        if (!cfg_group(&l->log, g, known))
                return;
        s_get_duration(l, g, "keep_for", &l->cfg->keep_events_ms);
        s_get_uint(l, g, "keep_count", 1000, INT64_MAX / 2, &count);
        l->cfg->keep_events = (uint64_t)count;
}

static void
s_load_repeat(struct loader *l, const config_setting_t *g)
{
        static const char *const known[] = {"threshold", "window", "country_code", NULL};
        long long threshold = l->cfg->repeat_threshold;
        _cleanup_free_ char *cc = NULL;

        if (!cfg_group(&l->log, g, known))
                return;
        /* 0: no flagging. At most 1000: intake counts up to that many earlier complaints per
         * phone number or e-mail address (changes.h, CONTACT_SCAN_MAX). */
        s_get_uint(l, g, "threshold", 0, 1000, &threshold);
        l->cfg->repeat_threshold = (uint32_t)threshold;
        s_get_duration(l, g, "window", &l->cfg->repeat_window_ms);
        if (cfg_get_string(l, g, "country_code", false, &cc) > 0) {
                if (cc[0] == '\0' || strlen(cc) > 4 || strspn(cc, "0123456789") != strlen(cc) ||
                    cc[0] == '0')
                        cfg_error(&l->log, config_setting_get_member(g, "country_code"), NULL,
                                  "\"%s\" is not a country code: 1 to 4 digits without a leading 0 "
                                  "or +, such as \"49\"",
                                  cc);
                else if (config_set_string(&l->cfg->country_code, cc) < 0)
                        cfg_error(&l->log, g, "country_code", "out of memory");
        }
}

static void
s_load_escalation(struct loader *l, const config_setting_t *g)
{
        static const char *const known[] = {"warning", "realert", "followup", NULL};
        const config_setting_t *w;

        if (!cfg_group(&l->log, g, known))
                return;
        w = config_setting_get_member(g, "warning");
        if (w) {
                double v = config_setting_type(w) == CONFIG_TYPE_FLOAT ? config_setting_get_float(w)
                           : config_setting_type(w) == CONFIG_TYPE_INT ? config_setting_get_int(w)
                                                                       : -1;
                if (!(v >= 0.0 && v < 1.0) || !s_whole_millionths(v))
                        cfg_error(&l->log, w, NULL,
                                  "must be a fraction of the allowance from 0 (no warnings) to "
                                  "below 1 with at most six decimals, such as 0.8");
                else
                        l->cfg->warning = v;
        }
        s_get_duration(l, g, "realert", &l->cfg->realert_ms);
        s_get_duration(l, g, "followup", &l->cfg->followup_ms);
}

static void
s_set_defaults(conf_t *cfg)
{
        cfg->log_level = LOG_INFO;
        cfg->heartbeat_ms = 1000;
        cfg->read_budget_ms = 20;
        cfg->idempotency_window_ms = 7 * 86400000ll;
        cfg->reply_queue = 100;
        cfg->store_max = 8ull << 30;
        cfg->batch_max = 256;
        cfg->rebuild_batch = 2000;
        cfg->event_hwm = 100000;
        cfg->limits = (struct config_limits){
            .message = 65536,
            .name = 200,
            .phone = 40,
            .email = 254,
            .address = 500,
            .subject = 200,
            .description = 8000,
            .note = 4000,
            .actor = 100,
            .request_id = 100,
            .external_ref = 100,
            .list_max = 1000,
            .replay_max = 1000,
            .reply = 262144,
            .scan_max = 5000,
            .compensation_max = 100000000,
        };
        cfg->priority_scale[0] = 1.0;
        cfg->priority_scale[1] = 1.0;
        cfg->priority_scale[2] = 0.5;
        cfg->priority_scale[3] = 0.25;
        cfg->warning = 0.8;
        cfg->realert_ms = 4 * 3600 * 1000;
        cfg->followup_ms = 24 * 3600 * 1000;
        cfg->keep_events_ms = 400ll * 86400 * 1000;
        cfg->keep_events = 50000000;
        cfg->repeat_threshold = 0; /* off unless configured: flagging adds events */
        cfg->repeat_window_ms = 30ll * 86400 * 1000;
        cfg->privacy_rekey_ms = 86400000;
}

int
config_load(const char *path, conf_t **ret, char **ret_errors)
{
        struct loader l = {.log = {.path = path}};
        config_setting_t *root;
        config_t lc;
        char line[1024];
        int r = 0;

        l.cfg = calloc(1, sizeof(*l.cfg));
        if (l.cfg == NULL)
                return -ENOMEM;
        s_set_defaults(l.cfg);
        config_init(&lc);
        if (config_read_file(&lc, path) != CONFIG_TRUE) {
                if (config_error_type(&lc) == CONFIG_ERR_FILE_IO)
                        snprintf(line, sizeof(line), "%s: cannot open: %s", path,
                                 strerror(errno ? errno : ENOENT));
                else
                        snprintf(line, sizeof(line), "%s:%d: syntax: %s",
                                 config_error_file(&lc) ? config_error_file(&lc) : path,
                                 config_error_line(&lc), config_error_text(&lc));
                cfg_error_line(&l.log, "%s", line);
                goto out;
        }
        root = config_root_setting(&lc);
        cfg_check_keys(&l.log, root, top_keys);
        if (config_set_string(&l.cfg->file, path) < 0 ||
            config_set_string(&l.cfg->state_dir, "state") < 0 ||
            config_set_string(&l.cfg->api, "tcp://127.0.0.1:7410") < 0 ||
            config_set_string(&l.cfg->events, "tcp://127.0.0.1:7411") < 0) {
                r = -ENOMEM;
                goto out;
        }
        s_load_daemon(&l, config_setting_get_member(root, "daemon"));
        s_load_limits(&l, config_setting_get_member(root, "limits"));
        s_load_priorities(&l, config_setting_get_member(root, "priorities"));
        s_load_escalation(&l, config_setting_get_member(root, "escalation"));
        s_load_event_log(&l, config_setting_get_member(root, "event_log"));
        s_load_repeat(&l, config_setting_get_member(root, "repeat"));
        s_load_privacy(&l, config_setting_get_member(root, "privacy"));
        cfg_load_calendars(&l, config_setting_get_member(root, "calendars"));
        s_load_departments(&l, root);
        s_load_categories(&l, root);
        cfg_load_access(&l, config_setting_get_member(root, "access"));
        if (cfg_get_id(&l, root, "centre", &l.cfg->centre) > 0 &&
            config_find_department(l.cfg, l.cfg->centre) == NULL)
                cfg_error(&l.log, config_setting_get_member(root, "centre"), NULL,
                          "unknown department \"%s\": the centre is configured as a department",
                          l.cfg->centre);
        cfg_load_zone(&l, root);
out:
        config_destroy(&lc);
        if (r == 0 && l.log.n_errors == 0) {
                *ret = l.cfg;
                free(l.log.errors);
                return 0;
        }
        config_free(&l.cfg);
        if (ret_errors)
                *ret_errors = l.log.errors;
        else
                free(l.log.errors);
        return r < 0 ? r : -EINVAL;
}

void
config_free(conf_t **cfgp)
{
        conf_t *cfg = cfgp ? *cfgp : NULL;

        if (cfg == NULL)
                return;
        for (size_t i = 0; i < cfg->n_departments; i++)
                s_free_department(&cfg->departments[i]);
        config_free_calendars(cfg);
        free(cfg->departments);
        for (size_t i = 0; i < cfg->n_categories; i++)
                s_free_category(&cfg->categories[i]);
        free(cfg->categories);
        free(cfg->file);
        free(cfg->state_dir);
        free(cfg->api);
        free(cfg->events);
        free(cfg->backup_dir);
        free(cfg->centre);
        free(cfg->zone);
        free(cfg->country_code);
        config_free_access(cfg);
        free(cfg);
        *cfgp = NULL;
}

int
config_set_string(char **field, const char *value)
{
        char *copy = strdup(value);

        if (copy == NULL)
                return -ENOMEM;
        free(*field);
        *field = copy;
        return 0;
}

const struct config_department *
config_find_department(const conf_t *cfg, const char *id)
{
        for (size_t i = 0; i < cfg->n_departments; i++)
                if (strcmp(cfg->departments[i].id, id) == 0)
                        return &cfg->departments[i];
        return NULL;
}

const struct config_calendar *
config_find_calendar(const conf_t *cfg, const char *id)
{
        for (size_t i = 0; i < cfg->n_calendars; i++)
                if (strcmp(cfg->calendars[i].id, id) == 0)
                        return &cfg->calendars[i];
        return NULL;
}

const struct config_category *
config_find_category(const conf_t *cfg, const char *id)
{
        for (size_t i = 0; i < cfg->n_categories; i++)
                if (strcmp(cfg->categories[i].id, id) == 0)
                        return &cfg->categories[i];
        return NULL;
}

int
config_parse_duration(const char *s, int64_t *ret_ms)
{
        int64_t total = 0;
        bool any = false;

        if (s == NULL || *s == '\0')
                return -EINVAL;
        while (*s) {
                int64_t n = 0, unit;

                if (!isdigit((unsigned char)*s))
                        return -EINVAL;
                while (isdigit((unsigned char)*s)) {
                        if (n > INT64_MAX / 100)
                                return -EINVAL;
                        n = n * 10 + (*s++ - '0');
                }
                if (strncmp(s, "ms", 2) == 0) {
                        unit = 1;
                        s += 2;
                } else if (*s == 's') {
                        unit = 1000;
                        s++;
                } else if (*s == 'm') {
                        unit = 60 * 1000;
                        s++;
                } else if (*s == 'h') {
                        unit = 3600 * 1000;
                        s++;
                } else if (*s == 'd') {
                        unit = 86400 * 1000;
                        s++;
                } else if (*s == 'w') {
                        unit = 7ll * 86400 * 1000;
                        s++;
                } else if (*s == 'y') {
                        unit = 365ll * 86400 * 1000; /* a year of 365 days */
                        s++;
                } else {
                        return -EINVAL;
                }
                if (n > (INT64_MAX / 4 - total) / unit)
                        return -EINVAL;
                total += n * unit;
                any = true;
        }
        if (!any || total <= 0)
                return -EINVAL;
        *ret_ms = total;
        return 0;
}

int
config_parse_size(const char *s, uint64_t *ret)
{
        uint64_t n = 0, unit = 1;

        if (s == NULL || !isdigit((unsigned char)*s))
                return -EINVAL;
        while (isdigit((unsigned char)*s)) {
                if (n > UINT64_MAX / 100)
                        return -EINVAL;
                n = n * 10 + (uint64_t)(*s++ - '0');
        }
        switch (*s) {
        case '\0':
                break;
        case 'K':
                unit = 1ull << 10;
                s++;
                break;
        case 'M':
                unit = 1ull << 20;
                s++;
                break;
        case 'G':
                unit = 1ull << 30;
                s++;
                break;
        case 'T':
                unit = 1ull << 40;
                s++;
                break;
        default:
                return -EINVAL;
        }
        if (*s != '\0' || n > UINT64_MAX / unit / 2)
                return -EINVAL;
        *ret = n * unit;
        return 0;
}
