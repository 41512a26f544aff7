/* notify_conf.c: loads complaint-notify's libconfig file into an nconf_t, checking every
 * setting: types, ranges, unknown keys, duplicate ids, cross-references (routes name
 * recipients and calendars) and the placeholders of every template. Errors are collected, not
 * stopped at, so one run of --check-config shows them all. This file reads the file and its
 * [notify] group; notify_conf_check.c, notify_conf_targets.c and notify_conf_feedback.c the
 * rest. */
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
        } else if (nc_get_strings(l, m, &argv, &n) < 0) {
                nc_free_strings(&argv, &n);
                return;
        }
        if (argv == NULL)
                return;
        if (n == 0 || argv[0][0] != '/') {
                cfg_error(&l->log, m, NULL,
                          "must name a command by its absolute path, such as "
                          "\"/usr/sbin/sendmail -t -oi\"");
                nc_free_strings(&argv, &n);
                return;
        }
        for (n = 0; cfg->sendmail && cfg->sendmail[n]; n++)
                ;
        nc_free_strings(&cfg->sendmail, &n);
        cfg->sendmail = argv;
}

static void
s_load_notify(struct loader *l, const config_setting_t *g)
{
        nconf_t *cfg = l->cfg;
        char *level = NULL, *zone = NULL, addr[320];
        const config_setting_t *m;

        if (!cfg_group(&l->log, g, notify_keys))
                return;
        nc_get_line(l, g, "api", false, &cfg->api);
        nc_get_line(l, g, "key", false, &cfg->key);
        nc_get_line(l, g, "server_key", false, &cfg->server_key);
        if ((cfg->key == NULL) != (cfg->server_key == NULL))
                cfg_error(&l->log, g, cfg->key ? "server_key" : "key",
                          "key and server_key go together: a daemon with access control needs "
                          "both");
        nc_get_line(l, g, "state_dir", false, &cfg->state_dir);
        if (nc_get_line(l, g, "actor", false, &cfg->actor) > 0 &&
            (strlen(cfg->actor) > 100 || cfg->actor[0] == '\0'))
                cfg_error(&l->log, config_setting_get_member(g, "actor"), NULL,
                          "must be 1 to 100 bytes");
        if (nc_get_line(l, g, "log_level", false, &level) > 0) {
                cfg->log_level = s_log_level(level);
                if (cfg->log_level < 0)
                        cfg_error(&l->log, config_setting_get_member(g, "log_level"), NULL,
                                  "\"%s\" is not one of debug, info, notice, warning, err", level);
        }
        free(level);
        if (nc_get_line(l, g, "from", false, &cfg->from) > 0 &&
            nc_address_of(cfg->from, addr, sizeof(addr)) == NULL)
                cfg_error(&l->log, config_setting_get_member(g, "from"), NULL,
                          "\"%s\" is not an address such as \"Complaint centre "
                          "<complaints@example.org>\"",
                          cfg->from);
        if ((m = config_setting_get_member(g, "sendmail")) != NULL)
                s_load_sendmail(l, m);
        if (nc_get_line(l, g, "zone", false, &zone) > 0) {
                tz_t *tz = NULL;
                int r = tz_load(zone, &tz);

                if (r < 0) {
                        cfg_error(&l->log, config_setting_get_member(g, "zone"), NULL,
                                  "\"%s\" is not a time zone this machine knows (%s)", zone,
                                  strerror(-r));
                } else {
                        tz_free(&cfg->zone);
                        cfg->zone = tz;
                        nc_set(&cfg->zone_name, zone);
                }
        }
        free(zone);
        nc_get_duration(l, g, "timeout", 100, &cfg->timeout_ms);
        nc_get_duration(l, g, "sendmail_timeout", 100, &cfg->sendmail_timeout_ms);
        nc_get_duration(l, g, "retry_min", 10, &cfg->retry_min_ms);
        nc_get_duration(l, g, "retry_max", 10, &cfg->retry_max_ms);
        nc_get_duration(l, g, "give_up", 100, &cfg->give_up_ms);
        if (cfg->retry_max_ms < cfg->retry_min_ms)
                cfg_error(&l->log, g, "retry_max", "must be at least retry_min");
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
        if (nc_set(&cfg->api, "tcp://127.0.0.1:7410") < 0 ||
            nc_set(&cfg->state_dir, "/var/lib/complaint-notify") < 0 ||
            nc_set(&cfg->actor, "complaint-notify") < 0 ||
            nc_set(&cfg->from, "Complaint centre <complaint-notify@localhost>") < 0 ||
            nc_set(&cfg->zone_name, "UTC") < 0 || tz_load("UTC", &cfg->zone) < 0)
                return -ENOMEM;
        cfg->sendmail = calloc(4, sizeof(char *));
        if (cfg->sendmail == NULL || nc_set(&cfg->sendmail[0], "/usr/sbin/sendmail") < 0 ||
            nc_set(&cfg->sendmail[1], "-t") < 0 || nc_set(&cfg->sendmail[2], "-oi") < 0)
                return -ENOMEM;
        return 0;
}

static int
s_finish(nconf_t *cfg)
{
        char addr[320];
        const char *a = nc_address_of(cfg->from, addr, sizeof(addr));

        if (a == NULL)
                return -EINVAL;
        if (cfg->feedback.reference == NULL && nc_set(&cfg->feedback.reference, "{id}") < 0)
                return -ENOMEM;
        if (cfg->feedback.no_due == NULL && nc_set(&cfg->feedback.no_due, "-") < 0)
                return -ENOMEM;
        if (cfg->feedback.contact == NULL && nc_set(&cfg->feedback.contact, "") < 0)
                return -ENOMEM;
        return nc_set(&cfg->domain, strchr(a, '@') + 1);
}

int
nconf_load(const char *path, nconf_t **ret, char **ret_errors)
{
        struct loader l = {.log = {.path = path}};
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
                        cfg_error_line(&l.log, "%s: cannot open: %s", path,
                                       strerror(errno ? errno : ENOENT));
                else
                        cfg_error_line(&l.log, "%s:%d: syntax: %s",
                                       config_error_file(&lc) ? config_error_file(&lc) : path,
                                       config_error_line(&lc), config_error_text(&lc));
        } else if (r == 0) {
                root = config_root_setting(&lc);
                cfg_check_keys(&l.log, root, top_keys);
                r = nc_set(&l.cfg->file, path);
                s_load_notify(&l, config_setting_get_member(root, "notify"));
                nc_load_calendars(&l, config_setting_get_member(root, "calendars"));
                nc_load_recipients(&l, config_setting_get_member(root, "recipients"));
                nc_load_routes(&l, config_setting_get_member(root, "routes"));
                nc_load_sms(&l, config_setting_get_member(root, "sms"));
                nc_load_feedback(&l, config_setting_get_member(root, "feedback"));
                if (r == 0 && l.log.n_errors == 0)
                        r = s_finish(l.cfg);
        }
        config_destroy(&lc);
        if (r == 0 && l.log.n_errors == 0) {
                *ret = l.cfg;
                free(l.log.errors);
                return 0;
        }
        nconf_free(&l.cfg);
        if (ret_errors && r != -ENOMEM)
                *ret_errors = l.log.errors;
        else
                free(l.log.errors);
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
        nc_free_strings(&cfg->sendmail, &n);
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
                nc_free_strings(&cfg->recipients[i].headers, &cfg->recipients[i].n_headers);
        }
        free(cfg->recipients);
        for (size_t i = 0; i < cfg->n_routes; i++) {
                nc_free_strings(&cfg->routes[i].departments, &cfg->routes[i].n_departments);
                free(cfg->routes[i].levels);
                free(cfg->routes[i].to);
        }
        free(cfg->routes);
        free(cfg->feedback.reference);
        free(cfg->feedback.contact);
        free(cfg->feedback.no_due);
        nc_free_strings(&cfg->feedback.names, &cfg->feedback.n_names);
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
        nc_free_strings(&cfg->sms.headers, &cfg->sms.n_headers);
        free(cfg);
        *cfgp = NULL;
}
