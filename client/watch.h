/* watch.h: complaintctl's live view of the daemon's events. It owns a ZeroMQ SUB socket on the
 * event endpoint, subscribes to the topic prefix that the filter allows, filters the rest
 * exactly, and prints each event as it arrives. Live only: events published before the
 * subscription took hold, or dropped by ZeroMQ, are not shown (the guaranteed-delivery
 * subscriber of the client library is the tool for that). */
#ifndef COMPLAINTD_WATCH_H
#define COMPLAINTD_WATCH_H

#include <stdbool.h>
#include <stdint.h>

/* Topic grammar: "<department>/<kind>", and "<department>/escalated/<level>" for escalations. */
struct watch_options {
        const char *endpoint;   /* the event endpoint, borrowed */
        const char *department; /* NULL: any */
        const char *kind;       /* NULL: any; "escalated" when level is set */
        uint32_t level;         /* 0: any */
        uint64_t count;         /* exit after this many events; 0: run until a signal */
        bool json;              /* one JSON object per line, else one line of text */
};

/* The topic prefix to subscribe to for o: exact where the grammar allows, "" otherwise. Writes
 * at most size bytes to buf and returns buf. */
const char *watch_topic_prefix(const struct watch_options *o, char *buf, size_t size);

/* Whether an event on topic passes the filter of o, exactly (a prefix subscription to
 * "billing/escalated/1" also receives "billing/escalated/12"). */
bool watch_topic_matches(const struct watch_options *o, const char *topic);

/* Subscribes and prints events to stdout, flushing after each, until o->count events were
 * printed or SIGINT or SIGTERM arrives (both end the watch normally; they are blocked for the
 * duration of the call and read through a signalfd). Heartbeats print nothing; the first one
 * proves the subscription is live, which is said once on stderr. Undecodable messages are
 * skipped with a word on stderr. Returns 0, -EINVAL for a malformed endpoint, -EIO when stdout
 * failed, or another negative errno from ZeroMQ or the signal setup. */
int watch_run(const struct watch_options *o);

#endif
