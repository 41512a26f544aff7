/* nlog.c: logging on stderr or to the systemd journal (sd-journal), filtered by level. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
/* The entries' code location would always be this file: leave it out. */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "nlog.h"

#define IDENT "complaint-notify"

static int nlog_level = LOG_INFO;
static bool nlog_journal;

static const char *const level_names[] = {
    [LOG_EMERG] = "emerg",     [LOG_ALERT] = "alert",   [LOG_CRIT] = "crit", [LOG_ERR] = "err",
    [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice", [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

static bool
s_stderr_is_journal(void)
{
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (e == NULL || sscanf(e, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
                return false;
        return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void
nlog_open(bool journal)
{
        struct stat st;

        nlog_journal = (journal || s_stderr_is_journal()) &&
                       stat("/run/systemd/journal/socket", &st) == 0 && S_ISSOCK(st.st_mode);
}

void
nlog_set_level(int level)
{
        nlog_level = level;
}

static int
s_journal(int priority, const char *message, uint64_t complaint_id, const char *department,
          const char *alert_id, const char *recipient)
{
        char msg[2100], prio[16], id[48], dept[160], alert[200], rcpt[120];
        struct iovec iov[7];
        size_t n = 0;

#define FIELD(buf, ...)                                                                      \
        do {                                                                                 \
                int len_ = snprintf(buf, sizeof(buf), __VA_ARGS__);                          \
                iov[n].iov_base = buf;                                                       \
                iov[n++].iov_len = len_ < (int)sizeof(buf) ? (size_t)len_ : sizeof(buf) - 1; \
        } while (0)
        FIELD(msg, "MESSAGE=%s", message);
        FIELD(prio, "PRIORITY=%d", priority & 7);
        iov[n].iov_base = (char *)"SYSLOG_IDENTIFIER=" IDENT;
        iov[n++].iov_len = strlen("SYSLOG_IDENTIFIER=" IDENT);
        if (complaint_id != 0)
                FIELD(id, "COMPLAINT_ID=%" PRIu64, complaint_id);
        if (department && department[0])
                FIELD(dept, "DEPARTMENT=%s", department);
        if (alert_id && alert_id[0])
                FIELD(alert, "ALERT_ID=%s", alert_id);
        if (recipient && recipient[0])
                FIELD(rcpt, "RECIPIENT=%s", recipient);
#undef FIELD
        return sd_journal_sendv(iov, (int)n);
}

static void __attribute__((format(printf, 6, 0)))
s_write(int priority, uint64_t complaint_id, const char *department, const char *alert_id,
        const char *recipient, const char *fmt, va_list ap)
{
        char line[2048];

        vsnprintf(line, sizeof(line), fmt, ap);
        if (nlog_journal &&
            s_journal(priority, line, complaint_id, department, alert_id, recipient) >= 0)
                return;
        fprintf(stderr, IDENT "[%s]: %s\n", level_names[priority & 7], line);
}

void
nlog_msg(int priority, const char *fmt, ...)
{
        va_list ap;

        if (priority > nlog_level)
                return;
        va_start(ap, fmt);
        s_write(priority, 0, NULL, NULL, NULL, fmt, ap);
        va_end(ap);
}

void
nlog_struct(int priority, uint64_t complaint_id, const char *department, const char *alert_id,
            const char *recipient, const char *fmt, ...)
{
        va_list ap;

        if (priority > nlog_level)
                return;
        va_start(ap, fmt);
        s_write(priority, complaint_id, department, alert_id, recipient, fmt, ap);
        va_end(ap);
}
