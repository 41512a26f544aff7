/* server.c: the loop behind server.h, and the signal self-pipe. */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <zmq.h>

#include "api.h"
#include "auth.h"
#include "events.h"
#include "log.h"
#include "macro.h"
#include "notify.h"
#include "server.h"
#include "service.h"

struct server {
        void *zctx;
        conf_t *cfg;       /* in force */
        conf_t *owned_cfg; /* the one a reload loaded, freed by us */
        char *config_path;
        store_t *store;
        service_t *service;
        api_t *api;
        events_t *events;
        auth_t *auth;           /* the ZAP handler; NULL without access control */
        bool events_failed;     /* the event socket could not be bound again: stop */
        int64_t rebind_until;   /* monotonic ms: the event socket is being bound again until then */
        notify_t *notify;       /* borrowed */
        bool reload_rejected;   /* the last reload was rejected: said in STATUS= */
        int64_t next_heartbeat; /* monotonic ms */
        int64_t next_status;    /* monotonic ms */
        int64_t next_prune;     /* monotonic ms */
        int64_t next_fd_warning; /* monotonic ms: descriptors running out, said once a minute */
        DIR *fd_dir;             /* /proc/self/fd, to count them */
        struct service_outbox out;
        /* The report's counters being rebuilt for the centre's zone, a step per turn. */
        bool rebuilding;
        uint64_t rebuild_n; /* complaints counted so far */
        uint32_t rebuild_steps;
        int64_t rebuild_started;   /* monotonic ms */
        int64_t rebuild_retry_at;  /* monotonic ms: after a step that failed */
        unsigned rebuild_failures; /* steps failed in a row */
};

#define FIRE_BATCH 1000
#define PRUNE_BATCH 10000
#define RETAIN_BATCH 100 /* complaints erased by retention in one transaction */
#define REKEY_BATCH 2000 /* records examined, and sealed again, per heartbeat in a rotation */
#define PRUNE_INTERVAL_MS 60000
#define STATUS_INTERVAL_MS 1000
#define FD_WARNING_INTERVAL_MS 60000
/* How soon replies held for clients with full queues are offered to them again. */
#define HOLD_RETRY_MS 10
/* How long a reload that narrowed a principal tries to bind the event socket again. */
#define REBIND_MS 5000
/* How long a graceful stop lets queued replies and events leave before closing the sockets. */
#define STOP_LINGER_MS 2000

static int signal_pipe[2] = {-1, -1};

/* Async-signal-safe: only writes the signal number to the pipe. */
static void
s_on_signal(int sig)
{
        int saved = errno;
        unsigned char b = (unsigned char)sig;

        (void)!write(signal_pipe[1], &b, 1);
        errno = saved;
}

static int
s_install_signals(void)
{
        struct sigaction sa = {.sa_handler = s_on_signal};
        int signals[] = {SIGTERM, SIGINT, SIGHUP};

        if (signal_pipe[0] < 0 && pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
                return -errno;
        sigemptyset(&sa.sa_mask);
        for (size_t i = 0; i < ELEMENTSOF(signals); i++)
                if (sigaction(signals[i], &sa, NULL) < 0)
                        return -errno;
        signal(SIGPIPE, SIG_IGN);
        return 0;
}

/* Keys the contact index with country code cc (repeat.country_code), rebuilding it when the
 * store's is another. Logs what it did. */
static int
s_country_code(server_t *s, const char *cc)
{
        const char *was = store_country_code(s->store);
        _cleanup_free_ char *old = was ? strdup(was) : NULL;
        bool rebuilt = false;
        int r = store_set_country_code(s->store, cc, &rebuilt);

        if (r < 0) {
                log_error("store %s: cannot rebuild the contact index for country code %s: %s",
                          s->cfg->state_dir, cc && cc[0] ? cc : "none",
                          r == -ENOSPC ? "the store is full (daemon.store_max) or the disk is"
                                       : strerror(-r));
                return r;
        }
        if (rebuilt)
                log_struct(LOG_NOTICE, 0, NULL, "contacts-rekeyed",
                           "store %s: contact index rebuilt for country code %s (it was keyed "
                           "for %s)",
                           s->cfg->state_dir, cc && cc[0] ? cc : "none",
                           old == NULL ? "a code not recorded"
                           : old[0]    ? old
                                       : "none");
        return 0;
}

/* The report's counters follow the centre's zone: when the store keeps them in another, they
 * are rebuilt, a step of daemon.rebuild_batch complaints per turn of the loop (s_rebuild()).
 * Logs what it did. */
static int
s_stats_zone(server_t *s, const conf_t *cfg)
{
        _cleanup_free_ char *was = strdup(store_stats_zone(s->store));
        bool started = false;
        int r = was ? store_set_stats_zone(s->store, cfg->zone, &started) : -ENOMEM;

        if (r < 0) {
                log_error("store %s: cannot key the report's counters in zone %s: %s; they stay "
                          "in %s",
                          cfg->state_dir, cfg->zone,
                          r == -ENOSPC ? "the store is full (daemon.store_max) or the disk is"
                                       : strerror(-r),
                          store_stats_zone(s->store));
        } else if (started) {
                log_struct(LOG_NOTICE, 0, NULL, "counters-rebuild",
                           "store %s: the report's counters are rebuilt for zone %s (%s%s), %u "
                           "complaint(s) a step; reports answer BUSY until done",
                           cfg->state_dir, cfg->zone,
                           strcmp(was, cfg->zone) == 0
                               ? "its rules changed since they were kept in it, or could not "
                                 "be read"
                               : "they were kept in ",
                           strcmp(was, cfg->zone) == 0 ? "" : was, cfg->rebuild_batch);
        } else if (strcmp(was, cfg->zone) != 0) {
                log_notice("store %s: the report's counters are kept in zone %s (no complaints "
                           "to count again)",
                           cfg->state_dir, cfg->zone);
        }
        if (started || (!s->rebuilding && service_stats_rebuilding(s->service))) {
                if (!started)
                        log_notice("store %s: the rebuild of the report's counters for zone %s "
                                   "goes on where it stopped",
                                   cfg->state_dir, store_stats_zone(s->store));
                s->rebuilding = true;
                s->rebuild_n = 0;
                s->rebuild_steps = 0;
                s->rebuild_started = mono_ms();
                s->rebuild_retry_at = 0;
                s->rebuild_failures = 0;
        }
        return r;
}

/* One step of a rebuild of the report's counters; the loop turns between steps, so deadlines
 * and requests go on while it runs. */
static void
s_rebuild(server_t *s)
{
        uint32_t n = 0;
        bool done = false;
        int r;

        if (!s->rebuilding || mono_ms() < s->rebuild_retry_at)
                return;
        r = service_rebuild_stats(s->service, s->cfg->rebuild_batch, &n, &done);
        if (r < 0) {
                /* A step that keeps failing (a full store, a record that does not decode) is
                 * tried again after 1, 2, 4 ... s, at most a minute, and logged at those times
                 * only, not every second for ever. */
                int64_t wait = s->rebuild_failures < 6 ? 1000LL << s->rebuild_failures : 60000;

                s->rebuild_failures++;
                log_error("store %s: a step of the rebuild of the report's counters failed (%u "
                          "time(s) in a row): %s; reports answer BUSY until it succeeds; trying "
                          "again in %" PRId64 " s",
                          s->cfg->state_dir, s->rebuild_failures,
                          r == -ENOSPC ? "the store is full (daemon.store_max) or the disk is"
                                       : strerror(-r),
                          wait / 1000);
                s->rebuild_retry_at = mono_ms() + wait;
                return;
        }
        s->rebuild_failures = 0;
        s->rebuild_n += n;
        s->rebuild_steps++;
        log_debug("store %s: report counters: %u complaints counted in step %u", s->cfg->state_dir,
                  n, s->rebuild_steps);
        if (!done)
                return;
        s->rebuilding = false;
        log_struct(LOG_NOTICE, 0, NULL, "counters-rebuilt",
                   "store %s: the report's counters are rebuilt for zone %s: %" PRIu64
                   " complaints in %u step%s, %" PRId64 " ms",
                   s->cfg->state_dir, store_stats_zone(s->store), s->rebuild_n, s->rebuild_steps,
                   s->rebuild_steps == 1 ? "" : "s", mono_ms() - s->rebuild_started);
}

/* Whether endpoint can be reached only from this machine. */
static bool
s_local(const char *endpoint)
{
        static const char *const local[] = {"ipc://",           "inproc://",    "tcp://127.",
                                            "tcp://localhost:", "tcp://[::1]:", NULL};

        for (const char *const *p = local; *p; p++)
                if (strncmp(endpoint, *p, strlen(*p)) == 0)
                        return true;
        return false;
}

/* Secure by default: without access control, anyone who reaches a socket acts as anyone and
 * reads every complainant, so the sockets stay on this machine. */
static int
s_check_exposure(const conf_t *cfg)
{
        if (cfg->access)
                return 0;
        if (!s_local(cfg->api) || !s_local(cfg->events)) {
                log_error("%s: refusing to serve %s and %s without access control: configure "
                          "an `access` group (a server key and principals) for an endpoint "
                          "that is not ipc:// or loopback",
                          cfg->file, cfg->api, cfg->events);
                return -EPERM;
        }
        log_warning("no access control (no `access` group in %s): any local user who can reach "
                    "%s can read every complainant and act as anyone",
                    cfg->file, cfg->api);
        return 0;
}

/* Whether a reload takes anything away from a principal (removed, its role or departments
 * changed): its connections must then lose what they subscribed to. */
static bool
s_principals_narrowed(const conf_t *old, const conf_t *next)
{
        if (old->access == NULL)
                return false;
        for (size_t i = 0; i < old->access->n_principals; i++) {
                const struct config_principal *a = &old->access->principals[i];
                const struct config_principal *b = config_find_principal(next, a->key);

                if (b == NULL || b->role != a->role || b->n_departments != a->n_departments ||
                    b->n_levels != a->n_levels || strcmp(a->name, b->name) != 0)
                        return true;
                for (size_t j = 0; j < a->n_departments; j++)
                        if (strcmp(a->departments[j], b->departments[j]) != 0)
                                return true;
                for (size_t j = 0; j < a->n_levels; j++)
                        if (a->levels[j] != b->levels[j])
                                return true;
        }
        return false;
}

int
server_new(conf_t *cfg, const char *config_path, store_t *store, notify_t *notify, server_t **ret)
{
        server_t *s = calloc(1, sizeof(*s));
        const char *why = "";
        int r;

        if (s == NULL)
                return -ENOMEM;
        s->cfg = cfg;
        s->store = store;
        s->notify = notify;
        s->config_path = strdup(config_path);
        s->zctx = zmq_ctx_new();
        if (s->zctx == NULL || s->config_path == NULL) {
                r = -ENOMEM;
                goto fail;
        }
        /* main.c opened the store for this configuration's country code; a store handed over
         * otherwise is brought to it here (a no-op when it is already). */
        r = s_country_code(s, cfg->country_code);
        if (r < 0)
                goto fail;
        r = service_new(store, cfg, &s->service);
        if (r < 0) {
                log_error("store: cannot read the event log: %s", strerror(-r));
                goto fail;
        }
        /* A full store keeps the counters in the zone they are in, as on a reload: the daemon
         * still serves (reads, and the changes that fit), and the next reload tries again. */
        r = s_stats_zone(s, cfg);
        if (r < 0 && r != -ENOSPC)
                goto fail;
        r = s_check_exposure(cfg);
        if (r < 0)
                goto fail;
        /* The ZAP handler first: a CURVE socket bound before it would take every key. */
        if (cfg->access) {
                r = auth_open(s->zctx, cfg, &s->auth);
                if (r < 0) {
                        log_error("cannot start the ZAP handler: %s", zmq_strerror(-r));
                        goto fail;
                }
        }
        r = api_open(s->zctx, cfg->api, cfg, &s->api, &why);
        if (r < 0) {
                log_error("%s: daemon.api: cannot bind %s: %s", cfg->file, cfg->api, why);
                goto fail;
        }
        r = events_open(s->zctx, cfg, &s->events, &why);
        if (r < 0) {
                log_error("%s: daemon.events: cannot bind %s: %s", cfg->file, cfg->events, why);
                goto fail;
        }
        s->fd_dir = opendir("/proc/self/fd");
        r = s_install_signals();
        if (r < 0) {
                log_error("cannot install signal handlers: %s", strerror(-r));
                goto fail;
        }
        *ret = s;
        return 0;
fail:
        server_free(&s);
        return r;
}

void
server_free(server_t **sp)
{
        server_t *s = *sp;

        if (s == NULL)
                return;
        api_close(&s->api);
        events_close(&s->events);
        auth_close(&s->auth);
        service_outbox_clear(&s->out);
        free(s->out.items);
        service_free(&s->service);
        if (s->zctx)
                zmq_ctx_term(s->zctx);
        config_free(&s->owned_cfg);
        if (s->fd_dir)
                closedir(s->fd_dir);
        free(s->config_path);
        free(s);
        *sp = NULL;
}

/* SIGHUP: load and check the whole file; swap only a valid one. Endpoints and the state
 * directory cannot move while running: a change to them is reported and ignored. */
static void
s_reload(server_t *s)
{
        conf_t *next = NULL;
        _cleanup_free_ char *errors = NULL;
        int r;

        notify_reloading(s->notify);
        r = config_load(s->config_path, &next, &errors);
        /* Whatever the outcome, READY=1 follows (the daemon serves on, on one configuration)
         * and STATUS= is refreshed at once. */
        s->next_status = 0;
        if (r < 0) {
                log_struct(LOG_ERR, 0, NULL, "reload",
                           "reload of %s rejected, the running configuration is kept:\n%s",
                           s->config_path, errors ? errors : strerror(-r));
                s->reload_rejected = true;
                notify_ready(s->notify, "reload rejected, the running configuration is kept");
                return;
        }
        /* What cannot change at run time keeps its running value (including overrides). */
        if (config_set_string(&next->api, s->cfg->api) < 0 ||
            config_set_string(&next->events, s->cfg->events) < 0 ||
            config_set_string(&next->state_dir, s->cfg->state_dir) < 0) {
                log_error("reload of %s failed: out of memory", s->config_path);
                config_free(&next);
                s->reload_rejected = true;
                notify_ready(s->notify, "reload failed, the running configuration is kept");
                return;
        }
        next->store_max = s->cfg->store_max;
        /* The sockets are CURVE servers, or not, with the key they were bound with. */
        if ((next->access == NULL) != (s->cfg->access == NULL) ||
            (next->access &&
             strcmp(next->access->server_public, s->cfg->access->server_public) != 0)) {
                log_struct(LOG_ERR, 0, NULL, "reload",
                           "reload of %s rejected, the running configuration is kept: access "
                           "control is switched on or off, or the server key changed, only by "
                           "a restart",
                           s->config_path);
                config_free(&next);
                s->reload_rejected = true;
                notify_ready(s->notify, "reload rejected, the running configuration is kept");
                return;
        }
        /* A new repeat.country_code re-keys the contact index before the service uses it; if
         * that fails, the running code stays with the index that matches it. */
        if (s_country_code(s, next->country_code) < 0) {
                free(next->country_code);
                next->country_code = NULL;
                if (s->cfg->country_code &&
                    config_set_string(&next->country_code, s->cfg->country_code) < 0) {
                        log_error("reload of %s failed: out of memory", s->config_path);
                        config_free(&next);
                        s->reload_rejected = true;
                        notify_ready(s->notify, "reload failed, the running configuration is kept");
                        return;
                }
                log_error("reload of %s: repeat.country_code keeps its running value %s",
                          s->config_path, s->cfg->country_code ? s->cfg->country_code : "(none)");
        }
        /* A principal removed or narrowed loses its subscriptions at once: the event socket is
         * bound again, and every subscriber subscribes again, each judged on the new
         * principals (libcomplaint's subscriber replays what it missed meanwhile). */
        if (s_principals_narrowed(s->cfg, next)) {
                /* ZeroMQ closes the socket in its own thread: a TCP port is free again only
                 * a moment later, so the bind is tried on each turn of the loop (s_rebind()).
                 * Events meanwhile are in the store; subscribers replay them. */
                events_close(&s->events);
                s->rebind_until = mono_ms() + REBIND_MS;
        } else if (s->events) {
                events_set_config(s->events, next);
        }
        if (s->auth)
                auth_set_config(s->auth, next);
        service_set_config(s->service, next);
        api_set_config(s->api, next);
        /* A zone the store cannot take (a full store) leaves the counters in the old one:
         * reports stay right for it, and the next reload tries again. */
        s_stats_zone(s, next);
        log_set_level(next->log_level);
        config_free(&s->owned_cfg);
        s->owned_cfg = next;
        s->cfg = next;
        s->reload_rejected = false;
        log_struct(LOG_NOTICE, 0, NULL, "reload", "reloaded %s: %zu departments, %zu categories",
                   s->config_path, next->n_departments, next->n_categories);
        notify_ready(s->notify, "reloaded");
}

/* Binds the event socket again after a reload closed it; gives up (and the daemon stops)
 * when it still cannot after REBIND_MS. */
static void
s_rebind(server_t *s)
{
        const char *why = "";
        int r;

        if (s->events != NULL)
                return;
        r = events_open(s->zctx, s->cfg, &s->events, &why);
        if (r == 0) {
                log_notice("events: bound again: the principals changed, every subscription is "
                           "judged again");
                return;
        }
        if (mono_ms() >= s->rebind_until) {
                log_error("events: cannot bind %s again: %s: stopping", s->cfg->events, why);
                s->events_failed = true;
        }
}

/* Handles the signals written to the pipe; returns false when the loop must stop. */
static bool
s_signals(server_t *s)
{
        unsigned char sig;
        bool go_on = true;

        while (read(signal_pipe[0], &sig, 1) == 1) {
                if (sig == SIGHUP)
                        s_reload(s);
                else
                        go_on = false;
        }
        return go_on;
}

/* Counts the descriptors in use against the limit, and says so (once a minute at most) when
 * they run out: past the limit, ZeroMQ can accept no connection, and clients are locked out
 * with nothing else to tell why. */
static void
s_check_descriptors(server_t *s)
{
        struct rlimit rl;
        struct dirent *e;
        uint64_t n = 0;

        if (s->fd_dir == NULL || mono_ms() < s->next_fd_warning ||
            getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
                return;
        /* Opened once at start: when the descriptors have run out, there is none left to open
         * the directory with. Reading it again from the start lists them anew. */
        rewinddir(s->fd_dir);
        while ((e = readdir(s->fd_dir)) != NULL)
                n += e->d_name[0] != '.';
        if (n * 10 < (uint64_t)rl.rlim_cur * 9)
                return;
        s->next_fd_warning = mono_ms() + FD_WARNING_INTERVAL_MS;
        log_struct(LOG_WARNING, 0, NULL, "descriptors",
                   "file descriptors: %" PRIu64 " of %" PRIu64 " in use; new connections are "
                   "refused once none is left: raise LimitNOFILE in the unit",
                   n, (uint64_t)rl.rlim_cur);
}

/* Fail-stop: whether the store can still take changes. An I/O error on commit, or the state
 * directory gone from under it, ends the daemon (systemd restarts it, and LMDB recovers the
 * last commit); retrying a failed flush in place could acknowledge what is not on disk. */
static bool
s_store_usable(server_t *s)
{
        int r = store_alive(s->store);

        if (r < 0) {
                log_struct(LOG_CRIT, 0, NULL, "store-gone",
                           "store %s: its data file was deleted or replaced while running: "
                           "stopping so that nothing more is acknowledged",
                           s->cfg->state_dir);
                return false;
        }
        if (store_failed(s->store)) {
                log_struct(LOG_CRIT, 0, NULL, "store-failed",
                           "store %s: an I/O error left it unusable: stopping; a restart "
                           "recovers the last commit",
                           s->cfg->state_dir);
                return false;
        }
        return true;
}

/* privacy.retention: contact details of complaints that ended long enough ago, a batch per
 * heartbeat (the index says at once when none is due). */
static void
s_retain(server_t *s)
{
        uint32_t n = 0;
        bool done = false;
        int r = service_retain(s->service, now_ms(), RETAIN_BATCH, &s->out, &n);

        if (r < 0)
                log_error("privacy.retention: erasing failed: %s; trying again in a heartbeat",
                          strerror(-r));
        else if (n > 0)
                log_info("privacy.retention: erased the contact details of %u complaints", n);
        for (size_t i = 0; i < s->out.n; i++)
                events_publish(s->events, &s->out.items[i]);
        service_outbox_clear(&s->out);
        r = service_rekey(s->service, now_ms(), REKEY_BATCH, &n, &done);
        if (r < 0)
                log_error("privacy key: replacing it failed: %s; trying again in a heartbeat",
                          strerror(-r));
        else if (done)
                log_notice("privacy key: replaced; details erased before can no longer be "
                           "opened (%u records sealed again in the last step)",
                           n);
}

static void
s_heartbeat(server_t *s)
{
        struct service_event ev;

        if (service_heartbeat(s->service, &ev) == 0) {
                events_publish(s->events, &ev);
                free(ev.topic);
                free(ev.data);
        }
        s->next_heartbeat = mono_ms() + s->cfg->heartbeat_ms;
        s_retain(s);
        /* Retention, a little at a time so a large backlog never holds the loop. */
        if (mono_ms() >= s->next_prune) {
                uint32_t n = 0, m = 0;
                int r = service_prune_events(s->service, PRUNE_BATCH, &n);

                if (r < 0)
                        log_error("event log: pruning failed: %s", strerror(-r));
                else if (n > 0)
                        log_info("event log: pruned %u old events", n);
                r = service_prune_requests(s->service, PRUNE_BATCH, &m);
                if (r < 0)
                        log_error("stored replies: pruning failed: %s", strerror(-r));
                else if (m > 0)
                        log_info("stored replies: pruned %u past the idempotency window", m);
                s->next_prune =
                    mono_ms() + (n == PRUNE_BATCH || m == PRUNE_BATCH ? 0 : PRUNE_INTERVAL_MS);
        }
}

/* systemd: WATCHDOG=1 from the loop itself, so that a stuck loop gets the daemon restarted,
 * and STATUS= with live figures every STATUS_INTERVAL_MS (sent only when they changed). */
static void
s_keepalive(server_t *s)
{
        uint64_t open = 0, overdue = 0;
        char status[192];
        int r;

        notify_watchdog(s->notify);
        if (!notify_enabled(s->notify) || mono_ms() < s->next_status)
                return;
        s->next_status = mono_ms() + STATUS_INTERVAL_MS;
        r = service_counts(s->service, &open, &overdue);
        if (r < 0) {
                snprintf(status, sizeof(status), "store unreadable: %s", strerror(-r));
        } else {
                snprintf(status, sizeof(status),
                         "%" PRIu64 " open, %" PRIu64 " overdue, last event %" PRIu64 "%s", open,
                         overdue, service_last_event_seq(s->service),
                         s->reload_rejected ? "; last reload rejected, see the log" : "");
        }
        notify_status(s->notify, status);
}

/* Fires one batch of the deadlines due now and publishes their events; true when more are
 * due (a batch ends at FIRE_BATCH deadlines or FIRE_BUDGET_MS of work). */
static bool
s_fire(server_t *s)
{
        uint32_t fired = 0;
        int64_t due;

        service_fire_due(s->service, now_ms(), FIRE_BATCH, &s->out, &fired);
        for (size_t i = 0; i < s->out.n; i++)
                events_publish(s->events, &s->out.items[i]);
        service_outbox_clear(&s->out);
        due = service_next_deadline(s->service);
        return fired > 0 && due > 0 && due <= now_ms();
}

/* How long the loop may sleep: until the heartbeat or the next deadline, whichever is first. */
static long
s_timeout(server_t *s)
{
        int64_t t = s->next_heartbeat - mono_ms(), due = service_next_deadline(s->service);

        if (due > 0 && due - now_ms() < t)
                t = due - now_ms();
        if (notify_watchdog_next(s->notify) > 0 && notify_watchdog_next(s->notify) - mono_ms() < t)
                t = notify_watchdog_next(s->notify) - mono_ms();
        if (notify_enabled(s->notify) && s->next_status - mono_ms() < t)
                t = s->next_status - mono_ms();
        return t < 0 ? 0 : (long)t;
}

int
server_run(server_t *s)
{
        zmq_pollitem_t items[5] = {
            {.socket = api_socket(s->api), .events = ZMQ_POLLIN},
            {.socket = events_socket(s->events), .events = ZMQ_POLLIN},
            {.fd = signal_pipe[0], .events = ZMQ_POLLIN},
            {.socket = s->auth ? auth_socket(s->auth) : NULL, .fd = -1, .events = ZMQ_POLLIN},
            {.fd = -1, .events = ZMQ_POLLIN}, /* a running backup */
        };
        bool running = true;

        log_notice("serving %s, events on %s, last event %" PRIu64, s->cfg->api, s->cfg->events,
                   service_last_event_seq(s->service));
        /* What fell due while the daemon was down happens first, in deadline order, a batch
         * at a time; a stop asked for meanwhile ends it after the batch in hand (the rest fires
         * on the next start). */
        for (int i = 0; i < 100000 && running && s_fire(s); i++) {
                s_keepalive(s);
                running = s_signals(s);
        }
        if (!s_store_usable(s))
                return -EIO;
        s->next_heartbeat = mono_ms();
        while (running) {
                int64_t due;
                int n;

                if (s->next_heartbeat <= mono_ms()) {
                        if (!s_store_usable(s))
                                return -EIO;
                        s_check_descriptors(s);
                        s_heartbeat(s);
                }
                s_rebuild(s);
                if (store_failed(s->store) && !s_store_usable(s))
                        return -EIO;
                s_keepalive(s);
                items[4].fd = api_backup_fd(s->api);
                s_rebind(s);
                if (s->events_failed)
                        return -EIO;
                /* Bound again by a reload; none (ignored) while it is being bound. */
                items[1].socket = s->events ? events_socket(s->events) : NULL;
                /* Reads deferred by the last batch's budget: a look at the sockets, no wait. */
                n = zmq_poll(
                    items, items[4].fd >= 0 ? 5 : 4,
                    api_pending(s->api) || (s->rebuilding && mono_ms() >= s->rebuild_retry_at) ? 0
                    : api_holding(s->api) || s->events == NULL
                        ? (s_timeout(s) < HOLD_RETRY_MS ? s_timeout(s) : HOLD_RETRY_MS)
                        : s_timeout(s));
                if (api_holding(s->api))
                        api_flush(s->api);
                if (n < 0 && zmq_errno() != EINTR) {
                        log_error("zmq_poll failed: %s", zmq_strerror(zmq_errno()));
                        return -zmq_errno();
                }
                due = service_next_deadline(s->service);
                if (due > 0 && due <= now_ms())
                        s_fire(s);
                if (store_failed(s->store) && !s_store_usable(s))
                        return -EIO;
                if (n <= 0 && !api_pending(s->api))
                        continue;
                if ((n > 0 && (items[0].revents & ZMQ_POLLIN)) || api_pending(s->api))
                        api_serve(s->api, s->service, s->events, s->store);
                if (store_failed(s->store) && !s_store_usable(s))
                        return -EIO;
                if (items[4].fd >= 0 && (items[4].revents & ZMQ_POLLIN))
                        api_backup_done(s->api);
                if (s->auth && (items[3].revents & ZMQ_POLLIN))
                        auth_serve(s->auth);
                if (s->events && (items[1].revents & ZMQ_POLLIN))
                        events_drain(s->events);
                if ((items[2].revents & ZMQ_POLLIN) && !s_signals(s))
                        running = false;
                if (s->events_failed)
                        return -EIO;
        }
        log_notice("stopping");
        /* Replies and events already handed to ZeroMQ get a bounded time to leave. */
        zmq_setsockopt(api_socket(s->api), ZMQ_LINGER, &(int){STOP_LINGER_MS}, sizeof(int));
        if (s->events)
                zmq_setsockopt(events_socket(s->events), ZMQ_LINGER, &(int){STOP_LINGER_MS},
                               sizeof(int));
        return 0;
}
