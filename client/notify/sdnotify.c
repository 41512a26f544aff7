/* sdnotify.c: sd_notify() messages to the service manager, and the watchdog's timer. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "sdnotify.h"

struct sdnotify {
        bool enabled;
        int64_t watchdog_ms; /* half of WATCHDOG_USEC; 0 without */
        int64_t last_ping;   /* monotonic ms */
        char *status;
};

static int64_t
s_mono_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
sdnotify_new(sdnotify_t **ret)
{
        sdnotify_t *n = calloc(1, sizeof(*n));
        const char *socket = getenv("NOTIFY_SOCKET");
        uint64_t usec = 0;

        if (n == NULL)
                return -ENOMEM;
        n->enabled = socket != NULL && socket[0] != '\0';
        if (n->enabled && sd_watchdog_enabled(0, &usec) > 0 && usec > 0)
                n->watchdog_ms = usec / 2000 ? (int64_t)(usec / 2000) : 1;
        n->last_ping = s_mono_ms();
        *ret = n;
        return 0;
}

void
sdnotify_free(sdnotify_t **n)
{
        if (n == NULL || *n == NULL)
                return;
        free((*n)->status);
        free(*n);
        *n = NULL;
}

/* A failed sd_notify() is not worth more than ignoring: the manager's own timeouts report a
 * service that cannot reach it. */
void
sdnotify_ready(sdnotify_t *n, const char *status)
{
        char line[512];

        if (!n->enabled)
                return;
        if (status) {
                snprintf(line, sizeof(line), "READY=1\nSTATUS=%s", status);
                (void)sd_notify(0, line);
        } else {
                (void)sd_notify(0, "READY=1");
        }
}

void
sdnotify_reloading(sdnotify_t *n)
{
        char line[96];
        struct timespec ts;

        if (!n->enabled)
                return;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        snprintf(line, sizeof(line), "RELOADING=1\nMONOTONIC_USEC=%llu",
                 (unsigned long long)ts.tv_sec * 1000000ull +
                     (unsigned long long)ts.tv_nsec / 1000);
        (void)sd_notify(0, line);
}

void
sdnotify_stopping(sdnotify_t *n)
{
        if (n->enabled)
                (void)sd_notify(0, "STOPPING=1");
}

void
sdnotify_status(sdnotify_t *n, const char *status)
{
        char line[512];
        char *copy;

        if (!n->enabled || (n->status && strcmp(n->status, status) == 0))
                return;
        copy = strdup(status);
        if (copy == NULL)
                return;
        free(n->status);
        n->status = copy;
        snprintf(line, sizeof(line), "STATUS=%s", status);
        (void)sd_notify(0, line);
}

void
sdnotify_watchdog(sdnotify_t *n)
{
        int64_t now;

        if (!n->enabled || n->watchdog_ms == 0)
                return;
        now = s_mono_ms();
        if (now - n->last_ping < n->watchdog_ms)
                return;
        n->last_ping = now;
        (void)sd_notify(0, "WATCHDOG=1");
}

int64_t
sdnotify_watchdog_ms(const sdnotify_t *n)
{
        return n->watchdog_ms;
}
