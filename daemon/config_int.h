/* config_int.h: what the files of the configuration module share, and nothing else includes:
 * the state of one load and the helpers that read settings and record errors
 * ("file:line: setting: reason"). config.c loads the file; config_access.c its `access` group;
 * config_calendar.c its `calendars` list. */
#ifndef COMPLAINTD_CONFIG_INT_H
#define COMPLAINTD_CONFIG_INT_H

#include <libconfig.h>
#include <stdbool.h>

#include "config.h"

/* The state of one load: the file, the result being built and the errors found so far. */
struct loader {
        const char *path;
        conf_t *cfg;
        char *errors;
        size_t errors_len;
        unsigned n_errors;
};

/* Records "file:line: setting[.key]: reason". s may be NULL for the whole file; key names a
 * missing member of s. */
void cfg_error(struct loader *l, const config_setting_t *s, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Refuses members of group that are not in the NULL-terminated list known. */
void cfg_check_keys(struct loader *l, const config_setting_t *group, const char *const *known);

/* Whether the optional group g is there to be read (false when absent, and after an error when
 * it is not a group); its members not in known are refused. */
bool cfg_group(struct loader *l, const config_setting_t *g, const char *const *known);

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
