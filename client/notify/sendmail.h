/* sendmail.h: hands a composed mail to the system's MTA through the sendmail interface that
 * every Debian MTA provides (postfix, exim4, msmtp-mta, nullmailer): it runs the configured
 * command ("/usr/sbin/sendmail -t -oi": recipients from the headers, a lone "." is not the end),
 * writes the message to its standard input and waits for it to exit, within a bounded time.
 * Exit status 0 means the MTA took the message. */
#ifndef COMPLAINT_NOTIFY_SENDMAIL_H
#define COMPLAINT_NOTIFY_SENDMAIL_H

#include <stddef.h>

/* Runs argv (argv[0] an absolute path; borrowed) with msg (n bytes) on its standard input and
 * its standard output discarded, and waits up to timeout_ms for it to exit; a command still
 * running then is killed. Returns 0 when it exited with status 0; -EAGAIN when it exited
 * otherwise, was killed, or timed out, with the reason and the first line of its standard error
 * in err (size err_size); -ENOENT when argv[0] does not exist; -ENOMEM or another negative
 * errno when it could not be started. */
int sendmail_run(char *const argv[], const char *msg, size_t n, int timeout_ms, char *err,
                 size_t err_size);

#endif
