/* log.c: logging on stderr or to the systemd journal (the native protocol, through
 * sd-journal), filtered by level. */
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

#include "log.h"

static int log_level = LOG_INFO;
static bool log_journal;

static const char *const level_names[] = {
    [LOG_EMERG] = "emerg",     [LOG_ALERT] = "alert",   [LOG_CRIT] = "crit", [LOG_ERR] = "err",
    [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice", [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

/* Whether JOURNAL_STREAM ("device:inode") names the file stderr is. */
static bool
s_stderr_is_journal(void)
{
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (e == NULL || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

/* Whether journald listens: sd_journal_sendv() reports success when its socket is missing. */
static bool
s_journald_listens(void)
{
        struct stat st;

        return stat("/run/systemd/journal/socket", &st) == 0 && S_ISSOCK(st.st_mode);
}

void
log_open(bool journal)
{
        log_journal = (journal || s_stderr_is_journal()) && s_journald_listens();
}

bool
log_to_journal(void)
{
        return log_journal;
}

void
log_set_level(int level)
{
        log_level = level;
}

int
log_level_parse(const char *s)
{
        for (int i = LOG_ERR; i <= LOG_DEBUG; i++)
                if (strcmp(s, level_names[i]) == 0)
                        return i;
        return -1;
}

/* Sends one entry to the journal; -errno when it could not. */
static int
s_journal(int priority, const char *message, uint64_t complaint_id, const char *department,
          const char *event)
{
        char msg[2100], prio[16], id[48], dept[160], ev[96];
        struct iovec iov[6];
        size_t n = 0;

#define FIELD(buf, ...)                                                                      \
        do {                                                                                 \
                int len_ = snprintf(buf, sizeof(buf), __VA_ARGS__);                          \
                iov[n].iov_base = buf;                                                       \
                iov[n++].iov_len = len_ < (int)sizeof(buf) ? (size_t)len_ : sizeof(buf) - 1; \
        } while (0)
        FIELD(msg, "MESSAGE=%s", message);
        FIELD(prio, "PRIORITY=%d", priority & 7);
        iov[n].iov_base = (char *)"SYSLOG_IDENTIFIER=complaintd";
        iov[n++].iov_len = strlen("SYSLOG_IDENTIFIER=complaintd");
        if (complaint_id != 0)
                FIELD(id, "COMPLAINT_ID=%" PRIu64, complaint_id);
        if (department && department[0])
                FIELD(dept, "DEPARTMENT=%s", department);
        if (event && event[0])
                FIELD(ev, "EVENT=%s", event);
#undef FIELD
        return sd_journal_sendv(iov, (int)n);
}

static void __attribute__((format(printf, 5, 0)))
s_write(int priority, uint64_t complaint_id, const char *department, const char *event,
        const char *fmt, va_list ap)
{
        char line[2048];

        vsnprintf(line, sizeof(line), fmt, ap);
        if (log_journal && s_journal(priority, line, complaint_id, department, event) >= 0)
                return;
        fprintf(stderr, "complaintd[%s]: %s\n", level_names[priority & 7], line);
}

void
log_msg(int priority, const char *fmt, ...)
{
        va_list ap;

        if (priority > log_level)
                return;
        va_start(ap, fmt);
        s_write(priority, 0, NULL, NULL, fmt, ap);
        va_end(ap);
}

void
log_struct(int priority, uint64_t complaint_id, const char *department, const char *event,
           const char *fmt, ...)
{
        va_list ap;

        if (priority > log_level)
                return;
        va_start(ap, fmt);
        s_write(priority, complaint_id, department, event, fmt, ap);
        va_end(ap);
}
