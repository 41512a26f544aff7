/* complaint_sub_int.h: what the files of the subscriber (complaint_sub.h) share, and nothing
 * else includes: the subscription's state and the helpers one file offers the others.
 * complaint_sub.c owns set-up, the SUB socket, delivery and acknowledgements;
 * complaint_sub_state.c the positions and the state file that keeps them; complaint_sub_replay.c
 * the streams, the queue's filling and the API requests (status, replay). The helpers are hidden
 * from libcomplaint's exported symbols. */
#ifndef COMPLAINT_SUB_INT_H
#define COMPLAINT_SUB_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "complaint_sub.h"

/* Internal to libcomplaint: not exported from the shared library. */
#define SUB_INTERNAL __attribute__((visibility("hidden")))

/* One stream the subscription reads. */
struct stream {
        char *name;
        char *prefix[COMPLAINT_SUB_PREFIXES_MAX]; /* borrowed from sub->prefix */
        size_t n_prefix;
        uint64_t examined; /* every offset up to here is queued, delivered or filtered out */
        bool need_replay;  /* the head is (or may be) past `examined` */
};

struct position {
        char *stream;
        uint64_t offset; /* COMPLAINT_SUB_END until resolved */
};

/* A queued event, or (ev NULL) a gap: offsets after gap_after up to pos are lost. */
struct item {
        pb_event_t *ev;
        struct stream *st;
        uint64_t pos;
        uint64_t gap_after;
};

struct complaint_sub {
        char *api;
        complaint_client_t *client;
        void *ctx;
        void *sock; /* NULL until started */
        char *prefix[COMPLAINT_SUB_PREFIXES_MAX];
        size_t n_prefix;
        struct stream *streams;
        size_t n_streams;
        bool global; /* one stream, "", at offset = seq */
        struct position *pos;
        size_t n_pos;
        struct item *queue; /* a ring of queue_max */
        size_t queue_max, qhead, qlen;
        struct stream *flight_st; /* the event in flight: its stream and offset */
        uint64_t flight_pos;
        char *state_file;
        bool state_dirty;
        bool state_dir_synced;
        int rcvhwm; /* -1: ZeroMQ's default */
        bool curve; /* the keys below are set (on the API client too) */
        char client_public[COMPLAINT_KEY_SIZE];
        char client_secret[COMPLAINT_KEY_SIZE];
        char server_public[COMPLAINT_KEY_SIZE];
        int call_timeout_ms;
        char *actor;
        complaint_sub_gap_fn *gap_fn;
        void *gap_arg;
        bool started;
        bool resolve_end; /* a position is COMPLAINT_SUB_END and the head must be asked for */
        int64_t retry_at; /* no API request before this (monotonic ms) */
        int backoff_ms;
        int pending_error; /* returned once by the next complaint_sub_next() */
        complaint_sub_stats_t stats;
};

/* complaint_sub_state.c */

/* The position kept for stream, borrowed from sub; NULL when there is none. */
SUB_INTERNAL struct position *sub_pos_find(const complaint_sub_t *sub, const char *stream);

/* Writes every position to a temporary file, syncs it and renames it over the state file (the
 * first time, syncs the directory too); does nothing without a state file or a change. Returns
 * 0, -ENOMEM or the negative errno of the failed file operation. */
SUB_INTERNAL int sub_state_save(complaint_sub_t *sub);

/* complaint_sub_replay.c */

/* The stream called name, borrowed from sub; NULL when the subscription does not read it. */
SUB_INTERNAL struct stream *sub_stream_find(const complaint_sub_t *sub, const char *name);

/* Groups the prefixes into streams: by department, or all in the global stream when any prefix
 * names no department. Returns 0 or -ENOMEM. */
SUB_INTERNAL int sub_streams_build(complaint_sub_t *sub);

/* The stream and offset an event has in this subscription; NULL when it is not ours. */
SUB_INTERNAL struct stream *sub_event_place(complaint_sub_t *sub, const pb_event_t *ev,
                                            uint64_t *ret_pos);

/* Appends ev (taken; NULL for a gap after gap_after) of st at pos to the queue, which must have
 * room. */
SUB_INTERNAL void sub_push(complaint_sub_t *sub, pb_event_t *ev, struct stream *st, uint64_t pos,
                           uint64_t gap_after);

/* Asks the daemon for its status; *ret_reply (the caller's to free) holds it. Returns 0, -EPERM
 * when refused, -EPROTO on a bad reply, or complaint_client_call()'s error. */
SUB_INTERNAL int sub_status(complaint_sub_t *sub, pb_reply_t **ret_reply);

/* Sets every stream whose position is COMPLAINT_SUB_END to its head in status s. */
SUB_INTERNAL void sub_resolve_ends(complaint_sub_t *sub, const pb_status_reply_t *s);

/* Replays st from `examined` towards the head, a page at a time, while the queue has room.
 * Returns 0, -EPERM when the stream may not be read, -EPROTO on a bad reply or no progress, or
 * complaint_client_call()'s error. */
SUB_INTERNAL int sub_replay(complaint_sub_t *sub, struct stream *st);

#endif
