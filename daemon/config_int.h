/* config_int.h: what the files of the configuration module share, and nothing else includes:
 * the state of one load and the helpers that read settings and record errors
 * ("file:line: setting: reason"). config.c loads the file; config_access.c its `access` group;
 * config_calendar.c its `calendars` list. */
#ifndef COMPLAINTD_CONFIG_INT_H
#define COMPLAINTD_CONFIG_INT_H

#include <libconfig.h>
#include <stdbool.h>

#include "cfg.h"
#include "config.h"

/* The state of one load: its errors so far (cfg.h) and the result being built. */
struct loader {
        struct cfg_log log;
        conf_t *cfg;
};

/* Copies a string member. Returns 1 when present and valid, 0 when absent (an error if
 * required), -1 when present but wrong. */
int cfg_get_string(struct loader *l, const config_setting_t *group, const char *key, bool required,
                   char **field);

/* As cfg_get_string() for an id: 1 to 64 lower-case letters, digits and '_'. */
int cfg_get_id(struct loader *l, const config_setting_t *group, const char *key, char **field);

/* config_access.c: loads the `access` group g (NULL: none, access control off) into l->cfg,
 * after the departments, which it refers to; and frees what it loaded. */
void cfg_load_access(struct loader *l, const config_setting_t *g);
void config_free_access(conf_t *cfg);

/* config_calendar.c: loads the `calendars` list (NULL: none) into l->cfg, adding the built-in
 * "24x7" (UTC, always open) unless the file defines one; and frees what it loaded. */
void cfg_load_calendars(struct loader *l, const config_setting_t *list);
void config_free_calendars(conf_t *cfg);

/* config_calendar.c: the top-level `zone`, the centre's time zone, defaulting to the zone of
 * the centre's calendar, else of the first calendar, else UTC; after the departments and
 * `centre`. */
void cfg_load_zone(struct loader *l, const config_setting_t *root);

#endif
