/* main.c: complaint-notify, the companion service of complaintd that turns its events into
 * messages for people: alerts to supervisors (warnings, escalations, re-alerts, assignments) by
 * e-mail and webhooks, and progress messages to complainants by e-mail and SMS. It follows the
 * daemon's global event stream with libcomplaint's guaranteed subscriber, writes what each event
 * owes into its outbox together with its position (one sync), then sends.
 *
 *     complaint-notify [--config FILE] [--check-config] [--state-dir DIR] [--api ENDPOINT]
 *                      [--journal] [--clock-offset MS]
 *
 * One thread, one loop: take the events that are there (a batch), make them durable, send what
 * is due, wait for the next event or the next due delivery, whichever comes first. SIGHUP
 * reloads the routes; SIGTERM and SIGINT stop it after the delivery in hand. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "complaint_client.h"
#include "complaint_sub.h"
#include "deliver.h"
#include "nlog.h"
#include "notify_conf.h"
#include "outbox.h"
#include "route.h"
#include "sdnotify.h"
#include "transport.h"

#define DEFAULT_CONFIG "/etc/complaintd/complaint-notify.conf"
/* Events taken per batch (one sync), and deliveries tried per round of the loop. */
#define BATCH_MAX 256
#define DELIVER_BUDGET 64
/* The longest wait of the loop, so status and the watchdog stay fresh. */
#define WAIT_MAX_MS 1000

static volatile sig_atomic_t s_stop, s_reload;

struct run {
        const char *config_path;
        const char *state_dir; /* --state-dir, else the configuration's */
        const char *api;       /* --api, else the configuration's */
        int64_t clock_offset;  /* --clock-offset: for tests */
        nconf_t *cfg;
        outbox_t *outbox;
        complaint_client_t *client;
        complaint_sub_t *sub;
        transport_t *transport;
        deliver_t *deliver;
        sdnotify_t *sd;
        bool positioned; /* the outbox holds a position */
};

static void
s_on_signal(int sig)
{
        if (sig == SIGHUP)
                s_reload = 1;
        else
                s_stop = 1;
}

/* The time of record: the wall clock, shifted by --clock-offset in tests. */
static int64_t
s_now(const struct run *run)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + run->clock_offset;
}

static void
s_usage(FILE *f)
{
        fprintf(f,
                "usage: complaint-notify [options]\n"
                "\n"
                "Sends complaintd's escalation alerts to people (e-mail, webhooks, chat robots)\n"
                "and keeps complainants informed (e-mail, SMS), as its configuration routes them.\n"
                "\n"
                "  --config FILE       the configuration (default " DEFAULT_CONFIG ")\n"
                "  --check-config      check the configuration, print OK or every error, exit\n"
                "  --state-dir DIR     where the outbox and the position are kept\n"
                "                      (default: notify.state_dir)\n"
                "  --api ENDPOINT      complaintd's API (default: notify.api)\n"
                "  --journal           log to the systemd journal even outside systemd\n"
                "  --clock-offset MS   act as if the clock were MS ms ahead (for tests)\n"
                "  --help, --version\n");
}

static int
s_args(int argc, char **argv, struct run *run, bool *check, bool *journal)
{
        static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                             {"check-config", no_argument, NULL, 'k'},
                                             {"state-dir", required_argument, NULL, 's'},
                                             {"api", required_argument, NULL, 'a'},
                                             {"journal", no_argument, NULL, 'j'},
                                             {"clock-offset", required_argument, NULL, 'o'},
                                             {"help", no_argument, NULL, 'h'},
                                             {"version", no_argument, NULL, 'V'},
                                             {NULL, 0, NULL, 0}};
        char *end;
        int c;

        run->config_path = DEFAULT_CONFIG;
        while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                switch (c) {
                case 'c':
                        run->config_path = optarg;
                        break;
                case 'k':
                        *check = true;
                        break;
                case 's':
                        run->state_dir = optarg;
                        break;
                case 'a':
                        run->api = optarg;
                        break;
                case 'j':
                        *journal = true;
                        break;
                case 'o':
                        errno = 0;
                        run->clock_offset = strtoll(optarg, &end, 10);
                        if (errno || end == optarg || *end) {
                                fprintf(stderr, "complaint-notify: --clock-offset: not a "
                                                "number of milliseconds\n");
                                return 2;
                        }
                        break;
                case 'h':
                        s_usage(stdout);
                        return 0;
                case 'V':
                        printf("complaint-notify " COMPLAINTD_VERSION "\n");
                        return 0;
                default:
                        s_usage(stderr);
                        return 2;
                }
        }
        if (optind < argc) {
                s_usage(stderr);
                return 2;
        }
        return -1;
}

static int
s_load_config(const char *path, nconf_t **ret)
{
        char *errors = NULL;
        int r = nconf_load(path, ret, &errors);

        if (r == -ENOMEM)
                fprintf(stderr, "complaint-notify: %s: out of memory\n", path);
        else if (r < 0)
                fputs(errors ? errors : "invalid configuration\n", stderr);
        free(errors);
        return r;
}

static void
s_on_gap(void *arg, const char *stream, uint64_t after, uint64_t resume_after)
{
        (void)arg;
        nlog_error("events %" PRIu64 " to %" PRIu64 " of stream \"%s\" were pruned by the "
                   "daemon before they were read: their alerts are lost",
                   after + 1, resume_after, stream);
}

/* Opens the outbox, the API client, the transport, the deliverer and the subscriber. */

/* With access control, complaint-notify is a principal of its own (role intake: it hears every
 * department, reads contact details to write to complainants, and adds notes): its key pair
 * and the daemon's public key, for its request client and its subscriber. */
static int
s_set_keys(struct run *run)
{
        char pub[COMPLAINT_KEY_SIZE], sec[COMPLAINT_KEY_SIZE], server[COMPLAINT_KEY_SIZE];
        int r = complaint_keyfile_load(run->cfg->key, pub, sec);

        if (r < 0) {
                nlog_error("notify.key %s: %s", run->cfg->key,
                           r == -EBADMSG ? "not a key file (public = ...; secret = ...)"
                                         : strerror(-r));
                return r;
        }
        if (complaint_keyfile_check_mode(run->cfg->key) == -EPERM)
                nlog_error("notify.key %s: readable by others: chmod 0600 it", run->cfg->key);
        r = complaint_public_key_load(run->cfg->server_key, server);
        if (r < 0) {
                explicit_bzero(sec, sizeof(sec));
                nlog_error("notify.server_key %s: not a public key, nor a file holding one",
                           run->cfg->server_key);
                return r;
        }
        r = complaint_client_set_curve(run->client, pub, sec, server);
        if (r == 0)
                r = complaint_sub_set_curve(run->sub, pub, sec, server);
        explicit_bzero(sec, sizeof(sec));
        if (r < 0)
                nlog_error("cannot use the keys of notify.key: %s", strerror(-r));
        return r;
}

static int
s_open(struct run *run)
{
        const char *state = run->state_dir ? run->state_dir : run->cfg->state_dir;
        const char *api = run->api ? run->api : run->cfg->api;
        char path[PATH_MAX];
        unsigned skipped = 0;
        uint64_t pos;
        int r;

        if (mkdir(state, 0700) < 0 && errno != EEXIST) {
                nlog_error("cannot create the state directory %s: %s", state, strerror(errno));
                return -errno;
        }
        snprintf(path, sizeof(path), "%s/outbox", state);
        r = outbox_open(path, &run->outbox, &skipped);
        if (r < 0) {
                nlog_error("cannot open the outbox %s: %s", path, strerror(-r));
                return r;
        }
        if (skipped)
                nlog_error("the outbox %s had %u damaged lines; they were skipped", path, skipped);
        r = complaint_client_new(api, &run->client);
        if (r == 0)
                r = transport_new(&run->transport);
        if (r == 0)
                r = deliver_new(run->outbox, run->client, run->transport, &run->deliver);
        if (r == 0)
                r = complaint_sub_new(api, &run->sub);
        if (r == 0)
                r = complaint_sub_add(run->sub, "");
        if (r < 0) {
                nlog_error("cannot follow the daemon at %s: %s", api, strerror(-r));
                return r;
        }
        if (run->cfg->key && (r = s_set_keys(run)) < 0)
                return r;
        complaint_sub_set_gap_handler(run->sub, s_on_gap, NULL);
        run->positioned = outbox_position(run->outbox, &pos) == 0;
        /* A first start begins with the events published from now on, not with the history. */
        r = complaint_sub_set_position(run->sub, "", run->positioned ? pos : COMPLAINT_SUB_END);
        if (r < 0)
                return r;
        nlog_info("following %s from %s, %zu deliveries owed", api,
                  run->positioned ? "the saved position" : "the newest event",
                  outbox_count(run->outbox));
        return 0;
}

static void
s_close(struct run *run)
{
        if (run->sub)
                complaint_sub_commit(run->sub);
        complaint_sub_free(&run->sub);
        deliver_free(&run->deliver);
        transport_free(&run->transport);
        complaint_client_free(&run->client);
        if (run->outbox && outbox_sync(run->outbox, true) < 0)
                nlog_error("could not write the outbox's last records; they will be sent again");
        outbox_free(&run->outbox);
}

static void
s_reload_config(struct run *run)
{
        nconf_t *cfg = NULL;
        char *errors = NULL;
        int r;

        sdnotify_reloading(run->sd);
        r = nconf_load(run->config_path, &cfg, &errors);
        if (r < 0) {
                nlog_error("reload refused, the running configuration is kept:\n%s",
                           errors ? errors : strerror(-r));
        } else {
                if (strcmp(cfg->api, run->cfg->api) != 0 ||
                    strcmp(cfg->state_dir, run->cfg->state_dir) != 0)
                        nlog_warning("reload: notify.api and notify.state_dir take effect at the "
                                     "next start");
                nconf_free(&run->cfg);
                run->cfg = cfg;
                nlog_set_level(cfg->log_level);
                nlog_notice("reloaded %s: %zu recipients, %zu routes%s", run->config_path,
                            cfg->n_recipients, cfg->n_routes,
                            cfg->feedback.enabled ? ", complainant messages on" : "");
        }
        free(errors);
        sdnotify_ready(run->sd, NULL);
}

/* Takes the events that are there (waiting up to wait_ms for the first) and writes what they
 * owe and the position after them to the outbox, synced. Returns 0, or a negative errno when
 * the outbox could not be written (fatal). */
static int
s_take_events(struct run *run, int wait_ms)
{
        uint64_t last = 0, pos;
        bool moved = false;
        int n = 0, r;

        for (;;) {
                pb_event_t *ev = NULL;

                r = complaint_sub_next(run->sub, n == 0 ? wait_ms : 0, &ev);
                if (r == -ESTALE) {
                        complaint_sub_commit(run->sub);
                        if (complaint_sub_position(run->sub, "", &pos) == 0 &&
                            pos != COMPLAINT_SUB_END) {
                                last = pos;
                                moved = true;
                        }
                        continue;
                }
                if (r == -ERANGE) {
                        nlog_warning("the daemon's event stream is behind the saved position "
                                     "(its store was restored from a backup?): going on from "
                                     "its newest event");
                        complaint_sub_set_position(run->sub, "", COMPLAINT_SUB_END);
                        break;
                }
                if (r < 0) {
                        if (r != -ETIMEDOUT && r != -EINTR)
                                nlog_warning("reading events: %s", strerror(-r));
                        break;
                }
                r = route_event(run->cfg, ev, s_now(run), run->outbox);
                if (r < 0) {
                        complaint__v1__event__free_unpacked(ev, NULL);
                        return r;
                }
                if (r > 0)
                        nlog_struct(LOG_DEBUG, ev->entry ? ev->entry->complaint_id : 0, ev->stream,
                                    NULL, NULL, "event %" PRIu64 " (%s): %d owed", ev->seq,
                                    ev->topic, r);
                last = ev->seq;
                moved = true;
                complaint__v1__event__free_unpacked(ev, NULL);
                if (++n >= BATCH_MAX)
                        break;
        }
        /* On a first start the position is the head the subscriber began at. */
        if (!moved && !run->positioned && complaint_sub_position(run->sub, "", &pos) == 0 &&
            pos != COMPLAINT_SUB_END) {
                last = pos;
                moved = true;
        }
        if (!moved)
                return 0;
        outbox_set_position(run->outbox, last);
        if (!run->positioned)
                nlog_info("starting after event %" PRIu64, last);
        run->positioned = true;
        return outbox_sync(run->outbox, true);
}

static void
s_status(struct run *run)
{
        deliver_stats_t st;
        char line[200];

        deliver_get_stats(run->deliver, &st);
        snprintf(line, sizeof(line),
                 "%zu owed, %" PRIu64 " sent, %" PRIu64 " retried, %" PRIu64 " given up",
                 outbox_count(run->outbox), st.sent, st.failures, st.given_up);
        sdnotify_status(run->sd, line);
}

static int
s_loop(struct run *run)
{
        int64_t next_due = 0;
        int r;

        while (!s_stop) {
                int64_t now = s_now(run), wait = WAIT_MAX_MS;

                if (s_reload) {
                        s_reload = 0;
                        s_reload_config(run);
                }
                sdnotify_watchdog(run->sd);
                if (next_due <= now)
                        wait = 0;
                else if (next_due - now < wait)
                        wait = next_due - now;
                r = s_take_events(run, (int)wait);
                if (r < 0) {
                        nlog_error("cannot write the outbox: %s; stopping, so that no event "
                                   "is taken that is not kept",
                                   strerror(-r));
                        return r;
                }
                if (deliver_run(run->deliver, run->cfg, s_now(run), DELIVER_BUDGET, &next_due) >
                        0 &&
                    (r = outbox_sync(run->outbox, false)) < 0) {
                        nlog_error("cannot write the outbox: %s; stopping", strerror(-r));
                        return r;
                }
                s_status(run);
        }
        return 0;
}

int
main(int argc, char **argv)
{
        struct run run = {0};
        bool check = false, journal = false;
        struct sigaction sa = {.sa_handler = s_on_signal};
        int r;

        r = s_args(argc, argv, &run, &check, &journal);
        if (r >= 0)
                return r;
        if (s_load_config(run.config_path, &run.cfg) < 0)
                return 1;
        if (check) {
                printf("OK\n");
                nconf_free(&run.cfg);
                return 0;
        }
        nlog_open(journal);
        nlog_set_level(run.cfg->log_level);
        /* No SA_RESTART: a signal ends the wait for events at once. */
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);
        if (sdnotify_new(&run.sd) < 0 || s_open(&run) < 0) {
                s_close(&run);
                sdnotify_free(&run.sd);
                nconf_free(&run.cfg);
                return 1;
        }
        sdnotify_ready(run.sd, "started");
        r = s_loop(&run);
        sdnotify_stopping(run.sd);
        nlog_info("stopping");
        s_close(&run);
        sdnotify_free(&run.sd);
        nconf_free(&run.cfg);
        return r < 0 ? 1 : 0;
}
