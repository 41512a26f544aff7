/* nlog.h: complaint-notify's log. Plain lines on stderr, or entries in the systemd journal when
 * stderr is the journal or --journal asks for it, with the fields COMPLAINT_ID, DEPARTMENT,
 * ALERT_ID and RECIPIENT when an entry is about one alert, so `journalctl -u complaint-notify
 * COMPLAINT_ID=42` finds everything sent about a complaint. Only code that decides what to do
 * about an error logs it. This module and sdnotify.c are the systemd glue: only they include the
 * sd-*.h headers. */
#ifndef COMPLAINT_NOTIFY_NLOG_H
#define COMPLAINT_NOTIFY_NLOG_H

#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>

/* Chooses where entries go: to the journal when journal is true or stderr is connected to it
 * (JOURNAL_STREAM), and journald listens; to stderr otherwise. Call once, first. */
void nlog_open(bool journal);

/* Sets the lowest priority written (LOG_ERR .. LOG_DEBUG). */
void nlog_set_level(int level);

void nlog_msg(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* An entry about one complaint and, when alert_id is not NULL, one delivery (its id and
 * recipient); the strings are borrowed for the call. On stderr only the message is written, so
 * it must say what it is about. */
void nlog_struct(int priority, uint64_t complaint_id, const char *department, const char *alert_id,
                 const char *recipient, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

#define nlog_debug(...) nlog_msg(LOG_DEBUG, __VA_ARGS__)
#define nlog_info(...) nlog_msg(LOG_INFO, __VA_ARGS__)
#define nlog_notice(...) nlog_msg(LOG_NOTICE, __VA_ARGS__)
#define nlog_warning(...) nlog_msg(LOG_WARNING, __VA_ARGS__)
#define nlog_error(...) nlog_msg(LOG_ERR, __VA_ARGS__)

#endif
