/* notify_run.h: runs the real complaint-notify (NOTIFY_BIN) for a test, with its log (stderr)
 * read on a thread of the test, so the test can wait, with a bounded timeout, for a line to
 * appear; and writes the msmtp configuration that points msmtp, the test's MTA, at the test's
 * SMTP server. The child dies with the test (PR_SET_PDEATHSIG). */
#ifndef COMPLAINTD_TESTS_NOTIFY_RUN_H
#define COMPLAINTD_TESTS_NOTIFY_RUN_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#ifndef NOTIFY_BIN
#define NOTIFY_BIN "complaint-notify"
#endif
#ifndef MSMTP_BIN
#define MSMTP_BIN "/usr/bin/msmtp"
#endif

typedef struct notify_proc {
        pid_t pid;
        int pidfd;
        int err_fd;
        pthread_t reader;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        char *log; /* everything it wrote to stderr, across restarts */
        size_t len;
        bool reading;
} notify_proc_t;

/* Starts complaint-notify --config conf with the NULL-terminated extra arguments (may be
 * NULL). Returns 0 or a negative errno. */
int notify_start(notify_proc_t *p, const char *conf, const char *const *extra);

/* Waits up to timeout_ms until the log holds at least n lines containing needle; returns
 * whether it does. */
bool notify_wait_log(notify_proc_t *p, const char *needle, size_t n, int timeout_ms);

/* How many lines of the log contain needle. */
size_t notify_log_count(notify_proc_t *p, const char *needle);

/* SIGTERM, then waits up to 10 s (then SIGKILL). Returns the exit code, 128+signal, or a
 * negative errno. */
int notify_stop(notify_proc_t *p);

/* SIGKILL, and reaps it. */
int notify_kill(notify_proc_t *p);

/* Prints the log to stderr, for a failed test. */
void notify_dump_log(notify_proc_t *p);

/* Frees the log; the process must be stopped. */
void notify_free(notify_proc_t *p);

/* Writes an msmtp configuration (mode 0600, as msmtp wants) at path that sends to
 * 127.0.0.1:port without TLS or authentication, envelope sender from. Returns 0 or -errno. */
int notify_write_msmtprc(const char *path, int port, const char *from);

#endif
