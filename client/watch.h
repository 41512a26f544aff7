/* watch.h: complaintctl's view of the daemon's events. It drives a guaranteed-delivery
 * subscriber of the client library (complaint_sub.h) on the stream the filter names (the
 * department's, else the global one), filters its events exactly, and prints each one. Live by
 * default; with a starting offset or a state file, it first replays what it has not shown. */
#ifndef COMPLAINTD_WATCH_H
#define COMPLAINTD_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "settings.h"

/* Topic grammar: "<department>/<kind>", and "<department>/escalated/<level>" for escalations. */
struct watch_options {
        const char *endpoint;            /* the daemon's API endpoint, borrowed */
        const struct settings *settings; /* the keys, when there are any; borrowed */
        const char *department;          /* NULL: any */
        const char *kind;                /* NULL: any; "escalated" when level is set */
        uint32_t level;                  /* 0: any */
        uint64_t from;          /* show events from this offset of the stream on; 0: not set */
        const char *state_file; /* NULL: none; else where the position is kept */
        uint64_t count;         /* exit after this many events; 0: run until a signal */
        bool json;              /* one JSON object per line, else one line of text */
};

/* The topic prefix to subscribe to for o: exact where the grammar allows, "" otherwise. Writes
 * at most size bytes to buf and returns buf. */
const char *watch_topic_prefix(const struct watch_options *o, char *buf, size_t size);

/* Whether an event on topic passes the filter of o, exactly (a prefix subscription to
 * "billing/escalated/1" also receives "billing/escalated/12"). */
bool watch_topic_matches(const struct watch_options *o, const char *topic);

/* Prints the events of the filter to stdout, flushing after each, in order and without gaps,
 * until o->count events were printed or SIGINT or SIGTERM arrives (both end the watch
 * normally). Where it starts: after the state file's position when it has one; at o->from when
 * set (it wins over the state file); otherwise at the stream's head, so only new events show.
 * Events no longer kept are reported on stderr and skipped. Returns 0, -EINVAL for a malformed
 * endpoint, -EBADMSG for a state file that is not one, -EIO when stdout failed, or another
 * negative errno from the library (a failed handshake among them: complaint_sub_next()). */
int watch_run(const struct watch_options *o);

#endif
