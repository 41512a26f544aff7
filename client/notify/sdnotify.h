/* sdnotify.h: complaint-notify's side of systemd's notification protocol: READY=1 once it
 * follows the daemon, STATUS= with its counts, RELOADING=1 and READY=1 around a reload,
 * STOPPING=1, and the watchdog's WATCHDOG=1 from the main loop. Without NOTIFY_SOCKET (a
 * terminal, a test) every call does nothing. Only sdnotify.c includes sd-daemon.h. */
#ifndef COMPLAINT_NOTIFY_SDNOTIFY_H
#define COMPLAINT_NOTIFY_SDNOTIFY_H

#include <stdint.h>

typedef struct sdnotify sdnotify_t;

/* Reads NOTIFY_SOCKET and the watchdog's interval once. Returns 0 or -ENOMEM. */
int sdnotify_new(sdnotify_t **ret);

/* Accepts NULL and a pointer to NULL; sets *n to NULL. */
void sdnotify_free(sdnotify_t **n);

/* READY=1 (with STATUS=status when not NULL). */
void sdnotify_ready(sdnotify_t *n, const char *status);

/* RELOADING=1 with MONOTONIC_USEC=, before a reload; sdnotify_ready() follows it. */
void sdnotify_reloading(sdnotify_t *n);

void sdnotify_stopping(sdnotify_t *n);

/* STATUS=status, sent only when it changed. */
void sdnotify_status(sdnotify_t *n, const char *status);

/* WATCHDOG=1 when half the watchdog interval passed since the last one; call it from the main
 * loop. sdnotify_watchdog_ms() is that half interval, 0 without a watchdog. */
void sdnotify_watchdog(sdnotify_t *n);
int64_t sdnotify_watchdog_ms(const sdnotify_t *n);

#endif
