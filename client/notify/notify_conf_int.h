/* notify_conf_int.h: what the files of complaint-notify's configuration module share, and
 * nothing else includes: the state of one load and the helpers that read settings and record
 * errors ("file:line: setting: reason"). notify_conf.c loads the file and its [notify] group;
 * notify_conf_check.c holds the checks every group uses; notify_conf_targets.c the calendars,
 * recipients and routes; notify_conf_feedback.c the messages to complainants and the SMS
 * gateway. Only these files (and daemon/cfg.h) include libconfig.h. */
#ifndef COMPLAINT_NOTIFY_CONF_INT_H
#define COMPLAINT_NOTIFY_CONF_INT_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "notify_conf.h"
#include "text.h"

/* The state of one load: its errors so far (daemon/cfg.h, shared with complaintd's loader:
 * "file:line: setting[.key]: reason", unknown settings, groups) and the result being built. */
struct loader {
        struct cfg_log log;
        nconf_t *cfg;
};

/* notify_conf_check.c */

/* Replaces *field with a copy of v. Returns 0 or -ENOMEM (*field untouched). */
int nc_set(char **field, const char *v);

/* Whether s has no control characters (but newlines and tabs when newlines is true) and is valid
 * UTF-8: what may go into a header or a journal line. */
bool nc_clean(const char *s, bool newlines);

/* Copies a string member. Returns 1 when present and valid, 0 when absent (an error if
 * required), -1 when present but wrong. */
int nc_get_string(struct loader *l, const config_setting_t *group, const char *key, bool required,
                  char **field);

/* As nc_get_string() for a string that must fit on one line (headers, addresses, URLs). */
int nc_get_line(struct loader *l, const config_setting_t *group, const char *key, bool required,
                char **field);

/* As nc_get_string() for a required recipient or calendar id: 1 to 64 letters, digits, '_' and
 * '-', starting with a letter. */
int nc_get_id(struct loader *l, const config_setting_t *group, const char *key, char **field);

/* Reads the optional duration key of group ("90s", "1h30m") into *field, refusing one below
 * min_ms. */
void nc_get_duration(struct loader *l, const config_setting_t *group, const char *key,
                     int64_t min_ms, int64_t *field);

/* A list of strings (an array or a list), each one line, into *ret (NULL-terminated, the
 * caller's to free with nc_free_strings()) and *ret_n. Returns the count, or -1. */
int nc_get_strings(struct loader *l, const config_setting_t *m, char ***ret, size_t *ret_n);

/* Frees the n strings of *v and *v itself; NULLs *v and zeroes *n. */
void nc_free_strings(char ***v, size_t *n);

/* "Name <local@domain>" or "local@domain": the address part, copied into buf, or NULL when
 * malformed. */
const char *nc_address_of(const char *from, char *buf, size_t size);

/* Whether s is an http:// or https:// URL with something after the scheme. */
bool nc_valid_url(const char *s);

/* notify_conf_targets.c */

/* Loads the calendars, recipients and routes lists into l->cfg, in that order: routes refer to
 * both others. NULL: none. */
void nc_load_calendars(struct loader *l, const config_setting_t *list);
void nc_load_recipients(struct loader *l, const config_setting_t *list);
void nc_load_routes(struct loader *l, const config_setting_t *list);

/* The calendar named by key in g (borrowed from l->cfg), or NULL (with an error when unknown). */
const struct nc_calendar *nc_get_calendar(struct loader *l, const config_setting_t *g,
                                          const char *key);

/* Reads the optional list of HTTP headers ("Name: value") of g into *ret and *ret_n. */
void nc_load_headers(struct loader *l, const config_setting_t *g, char ***ret, size_t *ret_n);

/* notify_conf_feedback.c */

/* Loads the sms group, then the feedback group, which needs the gateway when it sends SMS, and
 * the calendars. NULL: none. */
void nc_load_sms(struct loader *l, const config_setting_t *g);
void nc_load_feedback(struct loader *l, const config_setting_t *g);

#endif
