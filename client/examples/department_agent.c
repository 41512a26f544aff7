/* department_agent.c: a complete department system in one page, built on libcomplaint's
 * guaranteed-delivery subscriber (complaint_sub.h).
 *
 *     department_agent [--key FILE] [--server-key KEY|FILE] DEPARTMENT [STATE_FILE]
 *
 * It subscribes to every event of DEPARTMENT ("<dept>/"), prints each one as a line
 *
 *     <seq> <stream>:<offset> <topic> complaint <id> <action>
 *
 * and acknowledges (accepts) each complaint assigned (or reopened) to the department, as the actor
 * "<dept>-agent". Its position is kept in STATE_FILE (default "<dept>.state"), so a restarted
 * agent goes on where the last one stopped: nothing is missed, and only the event that was being
 * processed when it died can come twice (the acknowledgement of it is then a harmless repeat).
 * The daemon's API is $COMPLAINT_ENDPOINT, else tcp://127.0.0.1:7410. SIGINT or SIGTERM stops
 * it cleanly.
 *
 * Against a daemon with access control (DESIGN §10), the agent is a principal: --key (else
 * $COMPLAINT_KEY) is its key file, made by `complaintctl keygen NAME`, whose public key the
 * daemon's operator adds as a department principal of DEPARTMENT; --server-key (else
 * $COMPLAINT_SERVER_KEY) is the daemon's public key, the 40 characters or a file holding them.
 * The history then records the principal as the actor. Without a key it speaks plain ZMTP, as a
 * daemon without access control expects.
 *
 * Build: it is built with the project (build/client/department_agent); outside it,
 *     cc department_agent.c $(pkg-config --cflags --libs complaint) */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "complaint_sub.h"

static volatile sig_atomic_t s_stop;

static void
s_on_signal(int sig)
{
        (void)sig;
        s_stop = 1;
}

static void
s_on_gap(void *arg, const char *stream, uint64_t after, uint64_t resume_after)
{
        (void)arg;
        fprintf(stderr,
                "department_agent: events %" PRIu64 "..%" PRIu64 " of %s are no longer kept\n",
                after + 1, resume_after, stream);
}

/* The value of an option, else of the environment variable; NULL when neither is set. */
static const char *
s_setting(const char *option, const char *variable)
{
        const char *env = getenv(variable);

        return option ? option : env && env[0] ? env : NULL;
}

/* Loads the keys named by key_file and server_key into the subscriber. Returns 0, or 2 after
 * saying what is wrong. */
static int
s_keys(complaint_sub_t *sub, const char *key_file, const char *server_key,
       char pub[COMPLAINT_KEY_SIZE], char server_pub[COMPLAINT_KEY_SIZE])
{
        char sec[COMPLAINT_KEY_SIZE];
        int r;

        if (server_key == NULL) {
                fprintf(stderr, "department_agent: --key needs --server-key (or "
                                "$COMPLAINT_SERVER_KEY), the daemon's public key\n");
                return 2;
        }
        r = complaint_keyfile_load(key_file, pub, sec);
        if (r < 0) {
                fprintf(stderr, "department_agent: %s: %s\n", key_file,
                        r == -EBADMSG ? "not a key file (complaintctl keygen makes one)"
                                      : strerror(-r));
                return 2;
        }
        if (complaint_keyfile_check_mode(key_file) == -EPERM)
                fprintf(stderr,
                        "department_agent: warning: %s may be read by others than its owner: "
                        "chmod 600 it\n",
                        key_file);
        r = complaint_public_key_load(server_key, server_pub);
        if (r < 0) {
                fprintf(stderr, "department_agent: %s: %s\n", server_key,
                        r == -EBADMSG  ? "holds no public key"
                        : r == -ENOENT ? "neither a public key (40 Z85 characters) nor a file"
                                       : strerror(-r));
                return 2;
        }
        r = complaint_sub_set_curve(sub, pub, sec, server_pub);
        explicit_bzero(sec, sizeof(sec));
        if (r < 0) {
                fprintf(stderr, "department_agent: the keys: %s\n", strerror(-r));
                return 2;
        }
        return 0;
}

/* Says why the daemon will not serve the agent, for the errors that mean it. */
static void
s_refused(int r, const char *pub, const char *server_pub)
{
        if (r == -EACCES)
                fprintf(stderr,
                        "department_agent: the daemon refused this agent's key (%s): it is not "
                        "a principal in its configuration\n",
                        pub);
        else if (r == -EPERM)
                fprintf(stderr, "department_agent: the daemon does not let this agent's "
                                "principal read this department's events\n");
        else if (r == -EKEYREJECTED)
                fprintf(stderr,
                        "department_agent: the daemon's key does not match the server key given "
                        "(%s): refusing to talk to it\n",
                        server_pub);
        else if (r == -ENOKEY)
                fprintf(stderr, "department_agent: the daemon runs with access control: give "
                                "--key and --server-key\n");
        else if (r == -ENOPROTOOPT)
                fprintf(stderr, "department_agent: the daemon runs without access control: "
                                "leave out the keys\n");
        else
                fprintf(stderr, "department_agent: %s\n", strerror(-r));
}

int
main(int argc, char **argv)
{
        /* No SA_RESTART: a signal interrupts the wait, and complaint_sub_next() says -EINTR. */
        struct sigaction sa = {.sa_handler = s_on_signal};
        static const struct option longopts[] = {{"key", required_argument, NULL, 'k'},
                                                 {"server-key", required_argument, NULL, 's'},
                                                 {NULL, 0, NULL, 0}};
        const char *endpoint = getenv("COMPLAINT_ENDPOINT"), *key_file, *server_key;
        const char *opt_key = NULL, *opt_server_key = NULL, *dept;
        char prefix[80], actor[80], state[256];
        char pub[COMPLAINT_KEY_SIZE] = "", server_pub[COMPLAINT_KEY_SIZE] = "";
        complaint_sub_t *sub = NULL;
        int c, r;

        while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
                if (c == 'k')
                        opt_key = optarg;
                else if (c == 's')
                        opt_server_key = optarg;
                else
                        optind = argc + 1; /* a usage error, below */
        }
        if (optind > argc || argc - optind < 1 || argc - optind > 2 || argv[optind][0] == '\0' ||
            strchr(argv[optind], '/')) {
                fprintf(stderr, "usage: department_agent [--key FILE] [--server-key KEY|FILE] "
                                "DEPARTMENT [STATE_FILE]\n");
                return 2;
        }
        dept = argv[optind];
        key_file = s_setting(opt_key, "COMPLAINT_KEY");
        server_key = s_setting(opt_server_key, "COMPLAINT_SERVER_KEY");
        snprintf(prefix, sizeof(prefix), "%s/", dept);
        snprintf(actor, sizeof(actor), "%s-agent", dept);
        snprintf(state, sizeof(state), "%s", argc - optind == 2 ? argv[optind + 1] : dept);
        if (argc - optind == 1)
                strncat(state, ".state", sizeof(state) - strlen(state) - 1);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);

        r = complaint_sub_new(endpoint && endpoint[0] ? endpoint : COMPLAINT_DEFAULT_ENDPOINT,
                              &sub);
        if (r == 0 && key_file && (r = s_keys(sub, key_file, server_key, pub, server_pub))) {
                complaint_sub_free(&sub);
                return r;
        }
        if (r == 0)
                r = complaint_sub_add(sub, prefix);
        if (r == 0)
                r = complaint_sub_set_actor(sub, actor);
        if (r == 0)
                r = complaint_sub_set_state_file(sub, state);
        if (r < 0) {
                fprintf(stderr, "department_agent: %s\n", strerror(-r));
                complaint_sub_free(&sub);
                return 1;
        }
        complaint_sub_set_gap_handler(sub, s_on_gap, NULL);

        while (!s_stop) {
                pb_event_t *ev = NULL;

                /* Returning for the next event marks the last one processed. */
                r = complaint_sub_next(sub, 1000, &ev);
                if (r == -ETIMEDOUT || r == -EINTR || r == -ESTALE)
                        continue;
                if (r < 0) {
                        s_refused(r, pub, server_pub);
                        break;
                }
                printf("%" PRIu64 " %s:%" PRIu64 " %s complaint %" PRIu64 " %s\n", ev->seq,
                       ev->stream, ev->offset, ev->topic, ev->entry ? ev->entry->complaint_id : 0,
                       ev->entry ? pb_action_name(ev->entry->action) : "-");
                fflush(stdout);
                /* Assigned to us, or reopened to us: either waits for our acknowledgement. */
                if (strcmp(ev->topic + strlen(prefix), "assigned") == 0 ||
                    strcmp(ev->topic + strlen(prefix), "reopened") == 0) {
                        r = complaint_sub_ack(sub, ev, "received by the department system");
                        if (r == -EPERM)
                                fprintf(stderr,
                                        "department_agent: the daemon does not let this agent's "
                                        "principal accept complaint %" PRIu64 "\n",
                                        ev->entry->complaint_id);
                        else if (r < 0 && r != -EALREADY)
                                fprintf(stderr, "department_agent: acknowledging %s: %s\n",
                                        ev->topic, strerror(-r));
                }
                complaint__v1__event__free_unpacked(ev, NULL);
        }
        /* A clean stop: the last event was processed, so say so before leaving. */
        r = complaint_sub_commit(sub);
        complaint_sub_free(&sub);
        return r < 0 || !s_stop ? 1 : 0;
}
