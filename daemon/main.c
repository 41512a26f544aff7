/* main.c: complaintd, the complaint-escalation daemon. Reads like its life: parse the
 * arguments, load the configuration, open the store, bind the sockets, serve, tear down. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "auth.h"
#include "config.h"
#include "log.h"
#include "macro.h"
#include "notify.h"
#include "server.h"
#include "store.h"

struct args {
        const char *config;
        const char *state_dir;
        const char *api;
        const char *events;
        bool check_config;
        bool journal;
        const char *check_store;
        const char *keygen;
};

static void
s_usage(FILE *f)
{
        fprintf(f,
                "usage: complaintd --config FILE [--state-dir DIR] [--api ENDPOINT]\n"
                "                  [--events ENDPOINT] [--journal] [--check-config]\n"
                "       complaintd --check-store DIR\n"
                "       complaintd --keygen FILE\n"
                "\n"
                "  --config FILE       the libconfig file (see conf/complaintd.conf)\n"
                "  --state-dir DIR     where the store lives (overrides daemon.state_dir)\n"
                "  --api ENDPOINT      the request socket (overrides daemon.api)\n"
                "  --events ENDPOINT   the event socket (overrides daemon.events)\n"
                "  --journal           log to the systemd journal with structured fields\n"
                "                      (the default when stderr is connected to the journal)\n"
                "  --check-config      check the file, print OK or every error, and exit\n"
                "  --check-store DIR   verify a store or a backup offline: schema, records,\n"
                "                      indexes, deadlines, the event log, the report's\n"
                "                      counters, the ledger and the contact index; exit 0 if\n"
                "                      sound\n"
                "  --keygen FILE       write a new CURVE key pair to FILE (mode 0600, never over\n"
                "                      an existing file) and print its public key: the\n"
                "                      daemon's (access.server_key) or a client's\n"
                "  --version           print the version and exit\n");
}

/* Returns 0 to go on, 1 to exit successfully, -1 on a usage error. */
static int
s_parse_args(int argc, char **argv, struct args *a)
{
        static const struct option options[] = {
            {"config", required_argument, NULL, 'c'},
            {"state-dir", required_argument, NULL, 's'},
            {"api", required_argument, NULL, 'a'},
            {"events", required_argument, NULL, 'e'},
            {"check-config", no_argument, NULL, 'C'},
            {"check-store", required_argument, NULL, 'S'},
            {"help", no_argument, NULL, 'h'},
            {"version", no_argument, NULL, 'V'},
            {"journal", no_argument, NULL, 'j'},
            {"keygen", required_argument, NULL, 'K'},
            {},
        };
        int c;

        while ((c = getopt_long(argc, argv, "c:h", options, NULL)) != -1) {
                switch (c) {
                case 'c':
                        a->config = optarg;
                        break;
                case 's':
                        a->state_dir = optarg;
                        break;
                case 'a':
                        a->api = optarg;
                        break;
                case 'e':
                        a->events = optarg;
                        break;
                case 'S':
                        a->check_store = optarg;
                        break;
                case 'K':
                        a->keygen = optarg;
                        break;
                case 'C':
                        a->check_config = true;
                        break;
                case 'j':
                        a->journal = true;
                        break;
                case 'h':
                        s_usage(stdout);
                        return 1;
                case 'V':
                        printf("complaintd %s\n", COMPLAINTD_VERSION);
                        return 1;
                default:
                        s_usage(stderr);
                        return -1;
                }
        }
        if (optind < argc || (a->config == NULL && a->check_store == NULL && a->keygen == NULL)) {
                fprintf(stderr, "complaintd: %s\n",
                        a->config ? "unexpected arguments" : "--config FILE is required");
                s_usage(stderr);
                return -1;
        }
        return 0;
}

static int
s_load_config(const struct args *a, conf_t **ret)
{
        _cleanup_free_ char *errors = NULL;
        conf_t *cfg = NULL;
        int r = config_load(a->config, &cfg, &errors);

        if (r < 0) {
                fputs(errors ? errors : strerror(-r), stderr);
                if (!errors)
                        fputc('\n', stderr);
                return r;
        }
        if ((a->state_dir && config_set_string(&cfg->state_dir, a->state_dir) < 0) ||
            (a->api && config_set_string(&cfg->api, a->api) < 0) ||
            (a->events && config_set_string(&cfg->events, a->events) < 0)) {
                config_free(&cfg);
                return -ENOMEM;
        }
        *ret = cfg;
        return 0;
}

/* The contact index follows repeat.country_code: say when the open rebuilt it for a new one. */
static void
s_log_rekeyed(const conf_t *cfg, store_t *store)
{
        const char *was = NULL;

        if (!store_contacts_rekeyed(store, &was))
                return;
        log_notice("store %s: contact index rebuilt for country code %s (it was keyed for %s)",
                   cfg->state_dir,
                   cfg->country_code && cfg->country_code[0] ? cfg->country_code : "none",
                   was == NULL ? "a code not recorded"
                   : was[0]    ? was
                               : "none");
}

/* Each client connection holds a descriptor: take the hard limit as the soft one (the unit's
 * LimitNOFILE sets both), and say what it is. */
static void
s_raise_descriptor_limit(void)
{
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
                return;
        if (rl.rlim_cur < rl.rlim_max) {
                struct rlimit want = {rl.rlim_max, rl.rlim_max};

                if (setrlimit(RLIMIT_NOFILE, &want) == 0)
                        rl = want;
        }
        if (rl.rlim_cur != RLIM_INFINITY)
                log_info("file descriptors: at most %" PRIu64 " (about as many clients)",
                         (uint64_t)rl.rlim_cur);
}

int
main(int argc, char **argv)
{
        struct args args = {0};
        conf_t *cfg = NULL;
        store_t *store = NULL;
        server_t *server = NULL;
        notify_t *notify = NULL;
        int r;

        r = s_parse_args(argc, argv, &args);
        if (r != 0)
                return r > 0 ? 0 : 2;
        if (args.keygen) {
                char pub[CONFIG_KEY_LEN + 1];

                r = auth_keygen(args.keygen, pub);
                if (r < 0) {
                        fprintf(stderr, "complaintd: %s: %s\n", args.keygen, strerror(-r));
                        return 1;
                }
                printf("%s\n", pub);
                return 0;
        }
        if (args.check_store) {
                r = store_check(args.check_store, stdout);
                if (r < 0 && r != -EBADMSG)
                        fprintf(stderr, "complaintd: %s: cannot read the store: %s\n",
                                args.check_store, strerror(-r));
                return r < 0 ? 1 : 0;
        }
        if (s_load_config(&args, &cfg) < 0)
                return 1;
        if (args.check_config) {
                printf("OK\n");
                config_free(&cfg);
                return 0;
        }
        log_open(args.journal);
        log_set_level(cfg->log_level);
        r = notify_new(&notify);
        if (r < 0) {
                log_error("out of memory");
                goto out;
        }

        s_raise_descriptor_limit();
        r = store_open_country(cfg->state_dir, cfg->store_max, cfg->country_code, &store);
        if (r == -EBADMSG) {
                char why[512];

                /* The open refused what the probe refuses; the probe says why. */
                if (store_probe(cfg->state_dir, why, sizeof(why)) == -EBADMSG)
                        log_error("store %s: refusing to open it: %s", cfg->state_dir, why);
                else
                        log_error("store %s: refusing to open it: LMDB finds it invalid",
                                  cfg->state_dir);
                goto out;
        }
        if (r == -ENOKEY || r == -EACCES) {
                log_error("store %s: refusing to open it: its privacy key (%s/privacy.key) is %s: "
                          "complainants' contact details cannot be read without it; restore the "
                          "key that belongs to this store",
                          cfg->state_dir, cfg->state_dir,
                          r == -EACCES ? "readable by others than its owner (make it mode 0600)"
                                       : "missing, or not this store's");
                goto out;
        }
        if (r == -EPROTONOSUPPORT) {
                log_error("store %s was written by a newer complaintd (schema above %d): "
                          "refusing to open it",
                          cfg->state_dir, STORE_SCHEMA_VERSION);
                goto out;
        }
        if (r == -ENOSPC) {
                log_error("store %s: cannot open: migrating it or rebuilding its contact index "
                          "needs more room than daemon.store_max (%" PRIu64 " bytes) or the "
                          "disk allows",
                          cfg->state_dir, cfg->store_max);
                goto out;
        }
        if (r < 0) {
                log_error("store %s: cannot open: %s", cfg->state_dir, strerror(-r));
                goto out;
        }
        /* Said loudly: a state directory lost and made again by systemd would otherwise start
         * an empty store with nobody told. */
        if (store_created(store))
                log_warning("store %s: no store was there: a new, empty one was created",
                            cfg->state_dir);
        if (store_schema_migrated_from(store) != store_schema(store))
                log_notice("store %s migrated from schema %u to %u", cfg->state_dir,
                           store_schema_migrated_from(store), store_schema(store));
        s_log_rekeyed(cfg, store);
        r = server_new(cfg, args.config, store, notify, &server);
        if (r < 0)
                goto out;
        log_notice("complaintd %s started: store %s, %zu departments, %zu categories",
                   COMPLAINTD_VERSION, cfg->state_dir, cfg->n_departments, cfg->n_categories);
        notify_ready(notify, "serving");
        r = server_run(server);
        notify_stopping(notify);
out:
        server_free(&server);
        store_close(&store);
        config_free(&cfg);
        notify_free(&notify);
        return r < 0 ? 1 : 0;
}
