/* log.h: the daemon's log. Plain lines on stderr; the level is set once from the
 * configuration. Only code that decides what to do about an error logs it. */
#ifndef COMPLAINTD_LOG_H
#define COMPLAINTD_LOG_H

#include <syslog.h>

/* Sets the lowest priority written (LOG_DEBUG .. LOG_ERR). */
void log_set_level(int level);

/* Parses "debug", "info", "notice", "warning", "err"; -1 for anything else. */
int log_level_parse(const char *s);

void log_msg(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERR, __VA_ARGS__)

#endif
