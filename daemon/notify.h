/* notify.h: the daemon's side of systemd's service notification protocol (sd_notify): READY=1
 * once it serves, STATUS= lines, RELOADING=1 and READY=1 around a reload, STOPPING=1, and the
 * watchdog's WATCHDOG=1. Without NOTIFY_SOCKET in the environment (a terminal, a test) every
 * call does nothing, cheaply. Only notify.c includes sd-daemon.h. */
#ifndef COMPLAINTD_NOTIFY_H
#define COMPLAINTD_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

typedef struct notify notify_t;

/* Reads NOTIFY_SOCKET and the watchdog's WATCHDOG_USEC and WATCHDOG_PID once. Returns 0, or
 * -ENOMEM. */
int notify_new(notify_t **ret);

/* Accepts NULL; sets *notify to NULL. */
void notify_free(notify_t **notify);

/* Whether there is a service manager to tell anything. */
bool notify_enabled(const notify_t *notify);

/* READY=1 with STATUS=status (NULL: no status), once the daemon serves or after a reload. */
void notify_ready(notify_t *notify, const char *status);

/* RELOADING=1 with MONOTONIC_USEC= now, before a reload; READY=1 must follow it. */
void notify_reloading(notify_t *notify);

/* STOPPING=1 when the daemon begins to shut down. */
void notify_stopping(notify_t *notify);

/* STATUS=status, sent only when it differs from the last one sent; status is borrowed. */
void notify_status(notify_t *notify, const char *status);

/* The watchdog: WATCHDOG_USEC set (and WATCHDOG_PID unset or ours) asks for WATCHDOG=1 at
 * least that often; notify_watchdog() sends one when half the interval has passed since the
 * last, and must be called from the event loop itself so that a stuck loop stops the pings.
 * notify_watchdog_next() is when it next wants to be called (monotonic ms), or 0 when there is
 * no watchdog. */
void notify_watchdog(notify_t *notify);
int64_t notify_watchdog_next(const notify_t *notify);

#endif
