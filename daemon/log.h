/* log.h: the daemon's log. Plain lines on stderr, or entries in the systemd journal with
 * structured fields when stderr is the journal or --journal asks for it; the level is set from
 * the configuration. Only code that decides what to do about an error logs it. This module and
 * notify.c are the systemd glue: only they include the sd-*.h headers. */
#ifndef COMPLAINTD_LOG_H
#define COMPLAINTD_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>

/* Chooses where entries go: to the journal when journal is true or when stderr is connected
 * to it (JOURNAL_STREAM names stderr's device and inode, as systemd sets it for a unit whose
 * output goes to the journal), and journald listens; to stderr otherwise. Call once, before the
 * first entry; an entry the journal refuses is written to stderr instead. */
void log_open(bool journal);

/* Whether entries go to the journal. */
bool log_to_journal(void);

/* Sets the lowest priority written (LOG_DEBUG .. LOG_ERR). */
void log_set_level(int level);

/* Parses "debug", "info", "notice", "warning", "err"; -1 for anything else. */
int log_level_parse(const char *s);

void log_msg(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* An entry about one complaint or department. In the journal it carries the fields
 * COMPLAINT_ID (when complaint_id is not 0), DEPARTMENT and EVENT (when not NULL or empty)
 * beside MESSAGE and PRIORITY, so `journalctl COMPLAINT_ID=42` or `journalctl
 * DEPARTMENT=billing` finds them; on stderr only the message is written, so the message must
 * say itself what it is about. event is a short word for what happened ("escalated/1",
 * "reload"); the strings are borrowed for the call. */
void log_struct(int priority, uint64_t complaint_id, const char *department, const char *event,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERR, __VA_ARGS__)

#endif
