/* department_agent.c: a complete department system in one page, built on libcomplaint's
 * guaranteed-delivery subscriber (complaint_sub.h).
 *
 *     department_agent DEPARTMENT [STATE_FILE]
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
 * Build: it is built with the project (build/client/department_agent); outside it,
 *     cc department_agent.c $(pkg-config --cflags --libs complaint) */
#include <errno.h>
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

int
main(int argc, char **argv)
{
        /* No SA_RESTART: a signal interrupts the wait, and complaint_sub_next() says -EINTR. */
        struct sigaction sa = {.sa_handler = s_on_signal};
        const char *endpoint = getenv("COMPLAINT_ENDPOINT");
        char prefix[80], actor[80], state[256];
        complaint_sub_t *sub = NULL;
        int r;

        if (argc < 2 || argc > 3 || argv[1][0] == '\0' || strchr(argv[1], '/')) {
                fprintf(stderr, "usage: department_agent DEPARTMENT [STATE_FILE]\n");
                return 2;
        }
        snprintf(prefix, sizeof(prefix), "%s/", argv[1]);
        snprintf(actor, sizeof(actor), "%s-agent", argv[1]);
        snprintf(state, sizeof(state), "%s", argc == 3 ? argv[2] : argv[1]);
        if (argc == 2)
                strncat(state, ".state", sizeof(state) - strlen(state) - 1);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);

        r = complaint_sub_new(endpoint && endpoint[0] ? endpoint : COMPLAINT_DEFAULT_ENDPOINT,
                              &sub);
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
                        fprintf(stderr, "department_agent: %s\n", strerror(-r));
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
                        if (r < 0 && r != -EALREADY)
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
