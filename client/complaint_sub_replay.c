/* complaint_sub_replay.c: the subscriber's streams (its prefixes grouped by department), the
 * filling of its queue, and its API requests: the daemon's status (heads, where events are
 * published) and the replay of a stream from its position, a page at a time. */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "complaint_sub.h"
#include "complaint_sub_int.h"

#define PAGE_MAX 256 /* events asked for per replay request */

/* ------------------------------------------------------------------- streams */

struct stream *
sub_stream_find(const complaint_sub_t *sub, const char *name)
{
        for (size_t i = 0; i < sub->n_streams; i++)
                if (strcmp(sub->streams[i].name, name) == 0)
                        return &sub->streams[i];
        return NULL;
}

/* Groups the prefixes into streams: by department, or all in the global stream when any prefix
 * names no department. */
int
sub_streams_build(complaint_sub_t *sub)
{
        sub->global = sub->n_prefix == 0;
        for (size_t i = 0; i < sub->n_prefix; i++)
                if (strchr(sub->prefix[i], '/') == NULL)
                        sub->global = true;
        sub->streams = calloc(sub->global ? 1 : sub->n_prefix, sizeof(*sub->streams));
        if (sub->streams == NULL)
                return -ENOMEM;
        if (sub->global) {
                struct stream *st = &sub->streams[0];

                sub->n_streams = 1;
                st->name = strdup("");
                if (st->name == NULL)
                        return -ENOMEM;
                for (size_t i = 0; i < sub->n_prefix; i++)
                        st->prefix[st->n_prefix++] = sub->prefix[i];
                if (sub->n_prefix == 0) /* nothing added: everything */
                        st->prefix[st->n_prefix++] = (char *)"";
                return 0;
        }
        for (size_t i = 0; i < sub->n_prefix; i++) {
                const char *p = sub->prefix[i];
                size_t len = (size_t)(strchr(p, '/') - p);
                struct stream *st = NULL;

                for (size_t k = 0; k < sub->n_streams && st == NULL; k++)
                        if (strlen(sub->streams[k].name) == len &&
                            strncmp(sub->streams[k].name, p, len) == 0)
                                st = &sub->streams[k];
                if (st == NULL) {
                        st = &sub->streams[sub->n_streams];
                        st->name = strndup(p, len);
                        if (st->name == NULL)
                                return -ENOMEM;
                        sub->n_streams++;
                }
                st->prefix[st->n_prefix++] = sub->prefix[i];
        }
        return 0;
}

static bool
s_stream_matches(const struct stream *st, const char *topic, size_t len)
{
        for (size_t i = 0; i < st->n_prefix; i++) {
                size_t plen = strlen(st->prefix[i]);

                if (plen <= len && memcmp(topic, st->prefix[i], plen) == 0)
                        return true;
        }
        return false;
}

/* The stream and offset an event has in this subscription; NULL when it is not ours. */
struct stream *
sub_event_place(complaint_sub_t *sub, const pb_event_t *ev, uint64_t *ret_pos)
{
        struct stream *st;

        if (sub->global) {
                *ret_pos = ev->seq;
                st = &sub->streams[0];
        } else {
                *ret_pos = ev->offset;
                st = sub_stream_find(sub, ev->stream);
        }
        if (st == NULL || *ret_pos == 0 || !s_stream_matches(st, ev->topic, strlen(ev->topic)))
                return NULL;
        return st;
}

void
sub_push(complaint_sub_t *sub, pb_event_t *ev, struct stream *st, uint64_t pos, uint64_t gap_after)
{
        assert(sub->qlen < sub->queue_max);
        sub->queue[(sub->qhead + sub->qlen) % sub->queue_max] =
            (struct item){.ev = ev, .st = st, .pos = pos, .gap_after = gap_after};
        sub->qlen++;
}

/* ------------------------------------------------------------------- the API */

int
sub_status(complaint_sub_t *sub, pb_reply_t **ret_reply)
{
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        Complaint__V1__StatusRequest q = COMPLAINT__V1__STATUS_REQUEST__INIT;
        pb_reply_t *reply = NULL;
        int r;

        req.body_case = COMPLAINT__V1__REQUEST__BODY_STATUS;
        req.status = &q;
        r = complaint_client_call(sub->client, &req, sub->call_timeout_ms, 0, &reply);
        if (r < 0)
                return r;
        if (reply->error != E_OK || reply->status == NULL) {
                r = reply->error == COMPLAINT__V1__ERROR_CODE__ERROR_CODE_FORBIDDEN ? -EPERM
                                                                                    : -EPROTO;
                complaint__v1__reply__free_unpacked(reply, NULL);
                return r;
        }
        *ret_reply = reply;
        return 0;
}

/* Sets every stream whose position is COMPLAINT_SUB_END to its head in status s. */
void
sub_resolve_ends(complaint_sub_t *sub, const pb_status_reply_t *s)
{
        for (size_t i = 0; i < sub->n_streams; i++) {
                struct stream *st = &sub->streams[i];
                struct position *p = sub_pos_find(sub, st->name);
                uint64_t head = 0;

                if (p == NULL || p->offset != COMPLAINT_SUB_END)
                        continue;
                for (size_t k = 0; k < s->n_heads; k++)
                        if (strcmp(s->heads[k]->stream, st->name) == 0)
                                head = s->heads[k]->offset;
                if (st->name[0] == '\0' && head < s->last_event_seq)
                        head = s->last_event_seq;
                p->offset = head;
                st->examined = head;
                st->need_replay = true;
                sub->state_dirty = true;
        }
        sub->resolve_end = false;
}

/* Replays st from `examined` towards the head, a page at a time, while the queue has room. */
int
sub_replay(complaint_sub_t *sub, struct stream *st)
{
        /* Only with room for a page (or an empty queue), so that a caller catching up does not
         * cost one request per event. */
        while (st->need_replay && sub->qlen <= sub->queue_max / 2) {
                pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
                Complaint__V1__ReplayRequest q = COMPLAINT__V1__REPLAY_REQUEST__INIT;
                Complaint__V1__ReplayReply *rp;
                pb_reply_t *reply = NULL;
                size_t space = sub->queue_max - sub->qlen, taken = 0;
                uint64_t before = st->examined;
                int r;

                q.stream = st->name;
                q.after_offset = st->examined;
                q.topic_prefixes = st->prefix;
                q.n_topic_prefixes = st->n_prefix;
                q.limit = (uint32_t)(space < PAGE_MAX ? space : PAGE_MAX);
                req.body_case = COMPLAINT__V1__REQUEST__BODY_REPLAY;
                req.replay = &q;
                r = complaint_client_call(sub->client, &req, sub->call_timeout_ms, 0, &reply);
                if (r < 0) {
                        sub->stats.call_errors++;
                        return r;
                }
                rp = reply->replay;
                if (reply->error == COMPLAINT__V1__ERROR_CODE__ERROR_CODE_GONE && rp &&
                    rp->next_after > st->examined) {
                        /* The caller learns of the loss in order, after what came before. */
                        sub_push(sub, NULL, st, rp->next_after, st->examined);
                        st->examined = rp->next_after;
                        complaint__v1__reply__free_unpacked(reply, NULL);
                        continue;
                }
                if (reply->error != E_OK || rp == NULL) {
                        /* Not allowed to read this stream: no later try will be. */
                        r = reply->error == COMPLAINT__V1__ERROR_CODE__ERROR_CODE_FORBIDDEN
                                ? -EPERM
                                : -EPROTO;
                        sub->stats.call_errors++;
                        complaint__v1__reply__free_unpacked(reply, NULL);
                        return r;
                }
                sub->stats.replay_calls++;
                if (rp->head < st->examined) {
                        st->need_replay = false;
                        sub->pending_error = -ERANGE;
                        complaint__v1__reply__free_unpacked(reply, NULL);
                        return 0;
                }
                for (; taken < rp->n_events && sub->qlen < sub->queue_max; taken++) {
                        pb_event_t *ev = rp->events[taken];
                        uint64_t pos;

                        if (sub_event_place(sub, ev, &pos) != st || pos <= st->examined) {
                                complaint__v1__event__free_unpacked(ev, NULL);
                                continue;
                        }
                        sub_push(sub, ev, st, pos, 0);
                        st->examined = pos;
                        sub->stats.replayed++;
                }
                /* The events now belong to the queue (or were freed); the rest stay in the
                 * reply and go with it. */
                if (taken == rp->n_events && rp->next_after > st->examined)
                        st->examined = rp->next_after;
                if (taken < rp->n_events)
                        memmove(rp->events, rp->events + taken,
                                (rp->n_events - taken) * sizeof(*rp->events));
                rp->n_events -= taken;
                if (st->examined >= rp->head)
                        st->need_replay = false;
                complaint__v1__reply__free_unpacked(reply, NULL);
                if (st->examined == before && st->need_replay)
                        return -EPROTO; /* no progress: try again later, not in a loop */
        }
        return 0;
}
