/* watch.c: complaintctl watch (watch.h): the subscriber, the signals that end it, and the
 * filter. */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "complaint_sub.h"
#include "json.h"
#include "render.h"
#include "watch.h"

/* How long one wait for an event lasts before the stop flag is looked at again: a signal
 * landing just before a wait begins is noticed within this. */
#define WAIT_SLICE_MS 500

static volatile sig_atomic_t s_stop;

static void
s_on_signal(int sig)
{
        (void)sig;
        s_stop = 1;
}

const char *
watch_topic_prefix(const struct watch_options *o, char *buf, size_t size)
{
        assert(size > 0);
        if (o->department == NULL)
                buf[0] = '\0';
        else if (o->level > 0)
                snprintf(buf, size, "%s/escalated/%" PRIu32, o->department, o->level);
        else if (o->kind)
                snprintf(buf, size, "%s/%s", o->department, o->kind);
        else
                snprintf(buf, size, "%s/", o->department);
        return buf;
}

bool
watch_topic_matches(const struct watch_options *o, const char *topic)
{
        const char *slash = strchr(topic, '/');
        const char *kind, *rest;
        size_t klen;

        if (slash == NULL)
                return false;
        if (o->department && ((size_t)(slash - topic) != strlen(o->department) ||
                              strncmp(topic, o->department, (size_t)(slash - topic)) != 0))
                return false;
        kind = slash + 1;
        rest = strchr(kind, '/');
        klen = rest ? (size_t)(rest - kind) : strlen(kind);
        if (o->kind && (klen != strlen(o->kind) || strncmp(kind, o->kind, klen) != 0))
                return false;
        if (o->level > 0) {
                char want[16];

                if (klen != strlen("escalated") || strncmp(kind, "escalated", klen) != 0 ||
                    rest == NULL)
                        return false;
                snprintf(want, sizeof(want), "%" PRIu32, o->level);
                if (strcmp(rest + 1, want) != 0)
                        return false;
        }
        return true;
}

static void
s_on_gap(void *arg, const char *stream, uint64_t after, uint64_t resume_after)
{
        (void)arg;
        fprintf(stderr,
                _("complaintctl: events %" PRIu64 " to %" PRIu64 " of %s%s are no longer kept; "
                  "going on after them\n"),
                after + 1, resume_after, stream[0] ? _("stream ") : _("the global stream"), stream);
}

static int
s_print(const struct watch_options *o, const pb_event_t *e)
{
        if (o->json) {
                json_t j;

                json_init(&j, stdout);
                render_event_json(&j, e);
                return json_finish(&j);
        }
        render_event_text(stdout, e);
        return fflush(stdout) != 0 || ferror(stdout) ? -EIO : 0;
}

static int
s_setup(const struct watch_options *o, const char *prefix, complaint_sub_t *sub)
{
        const char *stream = o->department ? o->department : "";
        uint64_t pos;
        int r;

        if ((r = complaint_sub_add(sub, prefix)) < 0)
                return r;
        if (o->state_file && (r = complaint_sub_set_state_file(sub, o->state_file)) < 0)
                return r;
        if (o->from > 0)
                return complaint_sub_set_position(sub, stream, o->from - 1);
        if (complaint_sub_position(sub, stream, &pos) == -ENOENT)
                return complaint_sub_set_position(sub, stream, COMPLAINT_SUB_END);
        return 0;
}

static int
s_loop(const struct watch_options *o, complaint_sub_t *sub)
{
        uint64_t printed = 0;

        while (!s_stop && (o->count == 0 || printed < o->count)) {
                pb_event_t *e = NULL;
                int r = complaint_sub_next(sub, WAIT_SLICE_MS, &e);

                if (r == -ETIMEDOUT || r == -EINTR || r == -ESTALE)
                        continue;
                if (r == -ERANGE) {
                        fputs(_("complaintctl: the daemon's events end before the position "
                                "(was its store restored?); waiting for new ones\n"),
                              stderr);
                        continue;
                }
                if (r < 0)
                        return r;
                if (watch_topic_matches(o, e->topic)) {
                        r = s_print(o, e);
                        printed++;
                }
                complaint__v1__event__free_unpacked(e, NULL);
                if (r < 0)
                        return r;
        }
        /* Everything shown was shown: say so in the state file. */
        return complaint_sub_commit(sub);
}

int
watch_run(const struct watch_options *o)
{
        struct sigaction sa = {.sa_handler = s_on_signal}, old_int, old_term;
        complaint_sub_t *sub = NULL;
        char prefix[256];
        int r;

        assert(o && o->endpoint);
        watch_topic_prefix(o, prefix, sizeof(prefix));
        r = complaint_sub_new(o->endpoint, &sub);
        if (r < 0)
                return r;
        if (o->settings)
                r = settings_apply_sub(o->settings, sub);
        if (r < 0) {
                complaint_sub_free(&sub);
                return r;
        }
        r = s_setup(o, prefix, sub);
        if (r < 0) {
                complaint_sub_free(&sub);
                return r;
        }
        complaint_sub_set_gap_handler(sub, s_on_gap, NULL);
        /* No SA_RESTART: a signal cuts the wait short. */
        s_stop = 0;
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
        fprintf(stderr, _("complaintctl: watching %s for \"%s\"\n"), o->endpoint, prefix);
        r = s_loop(o, sub);
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        complaint_sub_free(&sub);
        return r;
}
