/* cfg.h: what complaintd's and complaint-notify's libconfig loaders share: the errors of one
 * load, each "file:line: setting[.key]: reason" on a line of its own, the check that a group
 * holds only known settings, and the syntax of a time of day interval ("09:00-12:30"). Each
 * loader keeps its own rules for values (ids, strings, durations), which differ. */
#ifndef COMPLAINTD_CFG_H
#define COMPLAINTD_CFG_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>

/* The errors of one load of path. Zero-initialise it with the path set; free errors with
 * free() once read (or take it). */
struct cfg_log {
        const char *path;
        char *errors; /* the lines, NUL-terminated, or NULL when none was recorded */
        size_t errors_len;
        unsigned n_errors;
};

/* Records "file:line: setting[.key]: reason" (fmt is the reason). s may be NULL for the whole
 * file; key names a missing member of s. Control characters in the line (a quoted value may
 * hold them) become '?', so one error is one line. Out of memory, the line is dropped but still
 * counted, so the load fails. */
void cfg_error(struct cfg_log *log, const config_setting_t *s, const char *key, const char *fmt,
               ...) __attribute__((format(printf, 4, 5)));

/* Records a line as it is, for errors that no setting locates ("cannot open", syntax). */
void cfg_error_line(struct cfg_log *log, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Refuses members of group that are not in the NULL-terminated list known. */
void cfg_check_keys(struct cfg_log *log, const config_setting_t *group, const char *const *known);

/* Whether the optional group g is there to be read: false when it is absent, and after an
 * error when it is not a group; its members not in known are refused. */
bool cfg_group(struct cfg_log *log, const config_setting_t *g, const char *const *known);

/* "09:00-12:30" into minutes since midnight; an end of 24:00 is allowed, and an end at or
 * before the start crosses midnight. false when s is not such an interval. */
bool cfg_parse_interval(const char *s, int *ret_start, int *ret_end);

#endif
