/* notify.c: sd_notify() messages to the service manager, and the watchdog's timer. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "macro.h"
#include "notify.h"

struct notify {
        bool enabled;
        int64_t watchdog_ms;   /* between two pings: half of WATCHDOG_USEC; 0 without */
        int64_t next_watchdog; /* monotonic ms */
        char *status;          /* the last STATUS= sent */
};

int
notify_new(notify_t **ret)
{
        notify_t *n = calloc(1, sizeof(*n));
        const char *socket = getenv("NOTIFY_SOCKET");
        uint64_t usec = 0;

        if (n == NULL)
                return -ENOMEM;
        n->enabled = socket != NULL && socket[0] != '\0';
        if (n->enabled && sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
                n->watchdog_ms = (int64_t)(usec / 2000);
                if (n->watchdog_ms == 0)
                        n->watchdog_ms = 1;
                n->next_watchdog = mono_ms();
        }
        *ret = n;
        return 0;
}

void
notify_free(notify_t **n)
{
        if (*n == NULL)
                return;
        free((*n)->status);
        free(*n);
        *n = NULL;
}

bool
notify_enabled(const notify_t *n)
{
        return n->enabled;
}

/* A failed sd_notify() is not worth more than ignoring: the manager's own timeouts report a
 * daemon that cannot reach it. */
static void
s_send(notify_t *n, const char *state)
{
        if (n->enabled)
                (void)sd_notify(0, state);
}

static void
s_remember(notify_t *n, const char *status)
{
        char *copy = strdup(status);

        if (copy != NULL) {
                free(n->status);
                n->status = copy;
        }
}

void
notify_ready(notify_t *n, const char *status)
{
        if (!n->enabled)
                return;
        if (status == NULL) {
                s_send(n, "READY=1");
                return;
        }
        (void)sd_notifyf(0, "READY=1\nSTATUS=%s", status);
        s_remember(n, status);
}

void
notify_reloading(notify_t *n)
{
        struct timespec ts;

        if (!n->enabled)
                return;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        (void)sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%" PRIu64,
                         (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000);
}

void
notify_stopping(notify_t *n)
{
        s_send(n, "STOPPING=1");
}

void
notify_status(notify_t *n, const char *status)
{
        if (!n->enabled || (n->status && strcmp(n->status, status) == 0))
                return;
        (void)sd_notifyf(0, "STATUS=%s", status);
        s_remember(n, status);
}

void
notify_watchdog(notify_t *n)
{
        int64_t now;

        if (n->watchdog_ms == 0)
                return;
        now = mono_ms();
        if (now < n->next_watchdog)
                return;
        s_send(n, "WATCHDOG=1");
        n->next_watchdog = now + n->watchdog_ms;
}

int64_t
notify_watchdog_next(const notify_t *n)
{
        return n->watchdog_ms == 0 ? 0 : n->next_watchdog;
}
