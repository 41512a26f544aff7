/* complaint_sub.c: the guaranteed-delivery subscriber (complaint_sub.h). It owns the SUB socket
 * and its ZeroMQ context, the API client used for status, replay and acknowledgements, the
 * streams the subscription reads, the bounded queue of events ready for the caller, the
 * positions, the state file that keeps them, and a copy of the CURVE keys for the SUB socket
 * (the secret wiped when it goes). */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "complaint_sub.h"

#define STREAM_MAX 64       /* bytes of a stream (department) id */
#define PREFIX_MAX 200      /* bytes of a topic prefix, the daemon's limit */
#define PAGE_MAX 256        /* events asked for per replay request */
#define DRAIN_MAX 4096      /* live messages taken per round, so a flood cannot starve us */
#define BACKOFF_MIN_MS 100  /* first wait after an API request failed */
#define BACKOFF_MAX_MS 2000 /* longest wait between tries */
#define STATE_MAGIC "complaint-sub 1"
#define STATE_LINES_MAX 4096 /* positions a state file may hold */
#define ACK_RETRIES 2

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

static int64_t
s_mono_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------- set-up */

int
complaint_sub_new(const char *api_endpoint, complaint_sub_t **ret)
{
        complaint_sub_t *sub;
        int r;

        assert(api_endpoint);
        assert(ret);
        sub = calloc(1, sizeof(*sub));
        if (sub == NULL)
                return -ENOMEM;
        sub->rcvhwm = -1;
        sub->call_timeout_ms = COMPLAINT_SUB_CALL_TIMEOUT_DEFAULT;
        sub->queue_max = COMPLAINT_SUB_QUEUE_DEFAULT;
        sub->api = strdup(api_endpoint);
        if (sub->api == NULL) {
                complaint_sub_free(&sub);
                return -ENOMEM;
        }
        r = complaint_client_new(api_endpoint, &sub->client);
        if (r < 0) {
                complaint_sub_free(&sub);
                return r;
        }
        *ret = sub;
        return 0;
}

void
complaint_sub_free(complaint_sub_t **psub)
{
        complaint_sub_t *sub;

        if (psub == NULL || *psub == NULL)
                return;
        sub = *psub;
        if (sub->sock)
                zmq_close(sub->sock);
        if (sub->ctx) {
                while (zmq_ctx_term(sub->ctx) < 0 && errno == EINTR)
                        ;
        }
        complaint_client_free(&sub->client);
        for (size_t i = 0; i < sub->qlen; i++)
                complaint__v1__event__free_unpacked(
                    sub->queue[(sub->qhead + i) % sub->queue_max].ev, NULL);
        free(sub->queue);
        for (size_t i = 0; i < sub->n_streams; i++)
                free(sub->streams[i].name);
        free(sub->streams);
        for (size_t i = 0; i < sub->n_prefix; i++)
                free(sub->prefix[i]);
        for (size_t i = 0; i < sub->n_pos; i++)
                free(sub->pos[i].stream);
        free(sub->pos);
        free(sub->state_file);
        free(sub->actor);
        free(sub->api);
        explicit_bzero(sub->client_secret, sizeof(sub->client_secret));
        free(sub);
        *psub = NULL;
}

int
complaint_sub_set_curve(complaint_sub_t *sub, const char *client_public, const char *client_secret,
                        const char *server_public)
{
        int r;

        assert(sub);
        if (sub->started)
                return -EBUSY;
        /* The API client checks the keys; past that, its errors are about its socket only. */
        r = complaint_client_set_curve(sub->client, client_public, client_secret, server_public);
        if (r == -EINVAL || r == -ENOTSUP)
                return r;
        sub->curve = client_public != NULL;
        if (sub->curve) {
                memcpy(sub->client_public, client_public, COMPLAINT_KEY_SIZE);
                memcpy(sub->client_secret, client_secret, COMPLAINT_KEY_SIZE);
                memcpy(sub->server_public, server_public, COMPLAINT_KEY_SIZE);
        } else {
                explicit_bzero(sub->client_secret, sizeof(sub->client_secret));
        }
        return r;
}

int
complaint_sub_add(complaint_sub_t *sub, const char *topic_prefix)
{
        assert(sub && topic_prefix);
        if (sub->started)
                return -EBUSY;
        if (topic_prefix[0] == '_' || strlen(topic_prefix) > PREFIX_MAX)
                return -EINVAL;
        for (size_t i = 0; i < sub->n_prefix; i++)
                if (strcmp(sub->prefix[i], topic_prefix) == 0)
                        return 0;
        if (sub->n_prefix == COMPLAINT_SUB_PREFIXES_MAX)
                return -E2BIG;
        sub->prefix[sub->n_prefix] = strdup(topic_prefix);
        if (sub->prefix[sub->n_prefix] == NULL)
                return -ENOMEM;
        sub->n_prefix++;
        return 0;
}

int
complaint_sub_set_rcvhwm(complaint_sub_t *sub, int hwm)
{
        assert(sub);
        if (sub->started)
                return -EBUSY;
        if (hwm < 0)
                return -EINVAL;
        sub->rcvhwm = hwm;
        return 0;
}

int
complaint_sub_set_queue_max(complaint_sub_t *sub, size_t max)
{
        assert(sub);
        if (sub->started)
                return -EBUSY;
        if (max < 1 || max > SIZE_MAX / sizeof(struct item))
                return -EINVAL;
        sub->queue_max = max;
        return 0;
}

void
complaint_sub_set_call_timeout(complaint_sub_t *sub, int timeout_ms)
{
        assert(sub && timeout_ms > 0);
        sub->call_timeout_ms = timeout_ms;
}

int
complaint_sub_set_actor(complaint_sub_t *sub, const char *actor)
{
        char *copy;

        assert(sub && actor);
        if (actor[0] == '\0')
                return -EINVAL;
        copy = strdup(actor);
        if (copy == NULL)
                return -ENOMEM;
        free(sub->actor);
        sub->actor = copy;
        return 0;
}

void
complaint_sub_set_gap_handler(complaint_sub_t *sub, complaint_sub_gap_fn *fn, void *arg)
{
        assert(sub);
        sub->gap_fn = fn;
        sub->gap_arg = arg;
}

void
complaint_sub_get_stats(const complaint_sub_t *sub, complaint_sub_stats_t *ret)
{
        assert(sub && ret);
        *ret = sub->stats;
}

char *
complaint_events_endpoint(const char *api, const char *events)
{
        const char *rest = NULL;
        char *out = NULL;

        if (strncmp(events, "tcp://*:", 8) == 0)
                rest = events + 8;
        else if (strncmp(events, "tcp://0.0.0.0:", 14) == 0)
                rest = events + 14;
        if (rest == NULL)
                return strdup(events);
        if (strncmp(api, "tcp://", 6) == 0 && strrchr(api + 6, ':')) {
                const char *host = api + 6;
                int hlen = (int)(strrchr(host, ':') - host);

                if (asprintf(&out, "tcp://%.*s:%s", hlen, host, rest) < 0)
                        return NULL;
                return out;
        }
        if (asprintf(&out, "tcp://127.0.0.1:%s", rest) < 0)
                return NULL;
        return out;
}

/* ------------------------------------------------------------------- positions */

static struct position *
s_pos_find(const complaint_sub_t *sub, const char *stream)
{
        for (size_t i = 0; i < sub->n_pos; i++)
                if (strcmp(sub->pos[i].stream, stream) == 0)
                        return &sub->pos[i];
        return NULL;
}

static int
s_pos_set(complaint_sub_t *sub, const char *stream, uint64_t offset)
{
        struct position *p = s_pos_find(sub, stream), *grown;

        if (p) {
                p->offset = offset;
                return 0;
        }
        grown = realloc(sub->pos, (sub->n_pos + 1) * sizeof(*grown));
        if (grown == NULL)
                return -ENOMEM;
        sub->pos = grown;
        p = &sub->pos[sub->n_pos];
        p->stream = strdup(stream);
        if (p->stream == NULL)
                return -ENOMEM;
        p->offset = offset;
        sub->n_pos++;
        return 0;
}

static struct stream *
s_stream_find(const complaint_sub_t *sub, const char *name)
{
        for (size_t i = 0; i < sub->n_streams; i++)
                if (strcmp(sub->streams[i].name, name) == 0)
                        return &sub->streams[i];
        return NULL;
}

/* Drops the queued events of st, keeping the order of the others. */
static void
s_queue_drop_stream(complaint_sub_t *sub, const struct stream *st)
{
        size_t kept = 0;

        for (size_t i = 0; i < sub->qlen; i++) {
                struct item it = sub->queue[(sub->qhead + i) % sub->queue_max];

                if (it.st == st)
                        complaint__v1__event__free_unpacked(it.ev, NULL);
                else
                        sub->queue[(sub->qhead + kept++) % sub->queue_max] = it;
        }
        sub->qlen = kept;
}

int
complaint_sub_set_position(complaint_sub_t *sub, const char *stream, uint64_t offset)
{
        struct stream *st;
        int r;

        assert(sub && stream);
        if (strlen(stream) > STREAM_MAX)
                return -EINVAL;
        r = s_pos_set(sub, stream, offset);
        if (r < 0)
                return r;
        sub->state_dirty = true;
        st = s_stream_find(sub, stream);
        if (st == NULL || !sub->started)
                return 0;
        s_queue_drop_stream(sub, st);
        if (sub->flight_st == st)
                sub->flight_st = NULL;
        st->need_replay = true;
        if (offset == COMPLAINT_SUB_END)
                sub->resolve_end = true;
        else
                st->examined = offset;
        return 0;
}

int
complaint_sub_position(const complaint_sub_t *sub, const char *stream, uint64_t *ret_offset)
{
        const struct position *p;

        assert(sub && stream && ret_offset);
        p = s_pos_find(sub, stream);
        if (p == NULL)
                return -ENOENT;
        *ret_offset = p->offset;
        return 0;
}

/* ------------------------------------------------------------------- the state file */

/* Writes every position to a temporary file, syncs it and renames it over the state file; the
 * first time, the directory is synced too, so the file's existence survives a crash. */
static int
s_state_save(complaint_sub_t *sub)
{
        char *tmp = NULL, *dir = NULL, *slash;
        FILE *f = NULL;
        int fd = -1, r = 0;

        if (sub->state_file == NULL || !sub->state_dirty)
                return 0;
        if (asprintf(&tmp, "%s.tmp", sub->state_file) < 0)
                return -ENOMEM;
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
                r = -errno;
                goto out;
        }
        fd = -1; /* owned by f now */
        fprintf(f, "%s\n", STATE_MAGIC);
        for (size_t i = 0; i < sub->n_pos; i++) {
                if (sub->pos[i].offset == COMPLAINT_SUB_END)
                        fprintf(f, "end\t%s\n", sub->pos[i].stream);
                else
                        fprintf(f, "%" PRIu64 "\t%s\n", sub->pos[i].offset, sub->pos[i].stream);
        }
        if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) < 0) {
                r = -errno;
                goto out;
        }
        r = fclose(f);
        f = NULL;
        if (r != 0 || rename(tmp, sub->state_file) < 0) {
                r = -errno;
                goto out;
        }
        if (!sub->state_dir_synced) {
                dir = strdup(sub->state_file);
                if (dir == NULL) {
                        r = -ENOMEM;
                        goto out;
                }
                slash = strrchr(dir, '/');
                if (slash == dir)
                        slash[1] = '\0';
                else if (slash)
                        *slash = '\0';
                fd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0 || fsync(fd) < 0) {
                        r = -errno;
                        goto out;
                }
                sub->state_dir_synced = true;
        }
        sub->state_dirty = false;
out:
        if (f)
                fclose(f);
        if (fd >= 0)
                close(fd);
        if (r < 0 && r != -ENOMEM)
                unlink(tmp);
        free(tmp);
        free(dir);
        return r;
}

/* Reads the state file into the positions. */
static int
s_state_load(complaint_sub_t *sub, const char *path)
{
        char line[STREAM_MAX + 32];
        FILE *f = fopen(path, "re");
        size_t n = 0;
        int r = 0;

        if (f == NULL)
                return errno == ENOENT ? 0 : -errno;
        if (fgets(line, sizeof(line), f) == NULL || strcmp(line, STATE_MAGIC "\n") != 0) {
                fclose(f);
                return -EBADMSG;
        }
        while (r == 0 && fgets(line, sizeof(line), f)) {
                char *tab = strchr(line, '\t'), *nl = strchr(line, '\n'), *end;
                uint64_t offset;

                if (tab == NULL || nl == NULL || ++n > STATE_LINES_MAX) {
                        r = -EBADMSG;
                        break;
                }
                *tab = '\0';
                *nl = '\0';
                if (strcmp(line, "end") == 0) {
                        offset = COMPLAINT_SUB_END;
                } else {
                        errno = 0;
                        offset = strtoull(line, &end, 10);
                        if (errno || end == line || *end || line[0] == '-') {
                                r = -EBADMSG;
                                break;
                        }
                }
                r = s_pos_set(sub, tab + 1, offset);
        }
        if (r == 0 && ferror(f))
                r = -EIO;
        fclose(f);
        return r;
}

int
complaint_sub_set_state_file(complaint_sub_t *sub, const char *path)
{
        char *copy;
        int r;

        assert(sub && path);
        if (sub->started)
                return -EBUSY;
        copy = strdup(path);
        if (copy == NULL)
                return -ENOMEM;
        r = s_state_load(sub, path);
        if (r < 0) {
                free(copy);
                return r;
        }
        free(sub->state_file);
        sub->state_file = copy;
        sub->state_dir_synced = access(path, F_OK) == 0;
        return 0;
}

int
complaint_sub_commit(complaint_sub_t *sub)
{
        assert(sub);
        if (sub->flight_st) {
                int r = s_pos_set(sub, sub->flight_st->name, sub->flight_pos);

                if (r < 0)
                        return r;
                sub->flight_st = NULL;
                sub->state_dirty = true;
        }
        return s_state_save(sub) < 0 ? -EIO : 0;
}

/* ------------------------------------------------------------------- streams */

/* Groups the prefixes into streams: by department, or all in the global stream when any prefix
 * names no department. */
static int
s_streams_build(complaint_sub_t *sub)
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
static struct stream *
s_event_place(complaint_sub_t *sub, const pb_event_t *ev, uint64_t *ret_pos)
{
        struct stream *st;

        if (sub->global) {
                *ret_pos = ev->seq;
                st = &sub->streams[0];
        } else {
                *ret_pos = ev->offset;
                st = s_stream_find(sub, ev->stream);
        }
        if (st == NULL || *ret_pos == 0 || !s_stream_matches(st, ev->topic, strlen(ev->topic)))
                return NULL;
        return st;
}

static void
s_push(complaint_sub_t *sub, pb_event_t *ev, struct stream *st, uint64_t pos, uint64_t gap_after)
{
        assert(sub->qlen < sub->queue_max);
        sub->queue[(sub->qhead + sub->qlen) % sub->queue_max] =
            (struct item){.ev = ev, .st = st, .pos = pos, .gap_after = gap_after};
        sub->qlen++;
}

/* ------------------------------------------------------------------- the API */

static int
s_status(complaint_sub_t *sub, pb_reply_t **ret_reply)
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
static void
s_resolve_ends(complaint_sub_t *sub, const pb_status_reply_t *s)
{
        for (size_t i = 0; i < sub->n_streams; i++) {
                struct stream *st = &sub->streams[i];
                struct position *p = s_pos_find(sub, st->name);
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

static int
s_socket_open(complaint_sub_t *sub, const char *endpoint)
{
        int linger = 0, ipv6 = 1;
        void *sock;

        if (sub->ctx == NULL && (sub->ctx = zmq_ctx_new()) == NULL)
                return -errno;
        sock = zmq_socket(sub->ctx, ZMQ_SUB);
        if (sock == NULL)
                return -errno;
        if (zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof(linger)) < 0 ||
            zmq_setsockopt(sock, ZMQ_IPV6, &ipv6, sizeof(ipv6)) < 0 ||
            (sub->rcvhwm >= 0 &&
             zmq_setsockopt(sock, ZMQ_RCVHWM, &sub->rcvhwm, sizeof(sub->rcvhwm)) < 0) ||
            (sub->curve && (zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, sub->server_public,
                                           COMPLAINT_KEY_SIZE) < 0 ||
                            zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, sub->client_public,
                                           COMPLAINT_KEY_SIZE) < 0 ||
                            zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, sub->client_secret,
                                           COMPLAINT_KEY_SIZE) < 0)) ||
            zmq_setsockopt(sock, ZMQ_SUBSCRIBE, COMPLAINT_HEARTBEAT_TOPIC,
                           strlen(COMPLAINT_HEARTBEAT_TOPIC)) < 0)
                goto fail;
        for (size_t i = 0; i < sub->n_streams; i++)
                for (size_t k = 0; k < sub->streams[i].n_prefix; k++)
                        if (zmq_setsockopt(sock, ZMQ_SUBSCRIBE, sub->streams[i].prefix[k],
                                           strlen(sub->streams[i].prefix[k])) < 0)
                                goto fail;
        if (zmq_connect(sock, endpoint) < 0)
                goto fail;
        sub->sock = sock;
        return 0;
fail : {
        int r = -errno;

        zmq_close(sock);
        return r;
}
}

/* Asks the daemon where its events are and how far each stream goes, and subscribes. Streams
 * then replay from their positions; anything published before the subscription took hold is
 * found by that replay or by the next heartbeat. */
static int
s_start(complaint_sub_t *sub)
{
        pb_reply_t *reply = NULL;
        char *endpoint;
        int r;

        if (sub->streams == NULL) {
                r = s_streams_build(sub);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < sub->n_streams; i++) {
                        struct stream *st = &sub->streams[i];
                        struct position *p = s_pos_find(sub, st->name);

                        st->need_replay = true;
                        if (p && p->offset == COMPLAINT_SUB_END)
                                sub->resolve_end = true;
                        else if (p)
                                st->examined = p->offset;
                }
        }
        if (sub->queue == NULL) {
                sub->queue = calloc(sub->queue_max, sizeof(*sub->queue));
                if (sub->queue == NULL)
                        return -ENOMEM;
        }
        r = s_status(sub, &reply);
        if (r < 0)
                return r;
        s_resolve_ends(sub, reply->status);
        endpoint = complaint_events_endpoint(sub->api, reply->status->events_endpoint);
        complaint__v1__reply__free_unpacked(reply, NULL);
        if (endpoint == NULL)
                return -ENOMEM;
        r = s_socket_open(sub, endpoint);
        free(endpoint);
        if (r < 0)
                return r;
        sub->started = true;
        /* A head resolved to COMPLAINT_SUB_END must survive a crash before the first event. */
        (void)s_state_save(sub);
        return 0;
}

/* Replays st from `examined` towards the head, a page at a time, while the queue has room. */
static int
s_replay(complaint_sub_t *sub, struct stream *st)
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
                        s_push(sub, NULL, st, rp->next_after, st->examined);
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

                        if (s_event_place(sub, ev, &pos) != st || pos <= st->examined) {
                                complaint__v1__event__free_unpacked(ev, NULL);
                                continue;
                        }
                        s_push(sub, ev, st, pos, 0);
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

/* ------------------------------------------------------------------- the SUB socket */

static void
s_on_heartbeat(complaint_sub_t *sub, const pb_event_t *ev)
{
        for (size_t i = 0; i < sub->n_streams; i++) {
                struct stream *st = &sub->streams[i];
                uint64_t head = st->name[0] == '\0' ? ev->seq : 0;

                for (size_t k = 0; k < ev->n_heads; k++)
                        if (strcmp(ev->heads[k]->stream, st->name) == 0 &&
                            ev->heads[k]->offset > head)
                                head = ev->heads[k]->offset;
                if (head > st->examined)
                        st->need_replay = true;
        }
}

static void
s_on_event(complaint_sub_t *sub, pb_event_t *ev)
{
        uint64_t pos;
        struct stream *st = s_event_place(sub, ev, &pos);

        if (st == NULL) {
                complaint__v1__event__free_unpacked(ev, NULL);
                return;
        }
        if (pos <= st->examined) {
                sub->stats.duplicates++;
                complaint__v1__event__free_unpacked(ev, NULL);
        } else if (pos == st->examined + 1 && sub->qlen < sub->queue_max) {
                s_push(sub, ev, st, pos, 0);
                st->examined = pos;
                sub->stats.live++;
        } else {
                /* Queue full, or something was missed or filtered out before it: replay
                 * fetches it in its place. */
                if (pos == st->examined + 1)
                        sub->stats.dropped++;
                else
                        sub->stats.ahead++;
                st->need_replay = true;
                complaint__v1__event__free_unpacked(ev, NULL);
        }
}

/* Takes the messages waiting on the SUB socket, without blocking. */
static int
s_drain(complaint_sub_t *sub)
{
        for (int n = 0; n < DRAIN_MAX; n++) {
                zmq_msg_t frame[2];
                size_t nframes = 0;
                bool more = true, bad = false;
                pb_event_t *ev;

                while (more) {
                        zmq_msg_t scratch, *m = nframes < 2 ? &frame[nframes] : &scratch;

                        zmq_msg_init(m);
                        if (zmq_msg_recv(m, sub->sock, ZMQ_DONTWAIT) < 0) {
                                int e = errno;

                                zmq_msg_close(m);
                                for (size_t i = 0; i < nframes; i++)
                                        zmq_msg_close(&frame[i]);
                                return e == EAGAIN ? 0 : -e;
                        }
                        more = zmq_msg_more(m);
                        if (m == &scratch) {
                                zmq_msg_close(m);
                                bad = true;
                        } else {
                                nframes++;
                        }
                }
                ev = bad || nframes != 2
                         ? NULL
                         : complaint__v1__event__unpack(NULL, zmq_msg_size(&frame[1]),
                                                        zmq_msg_data(&frame[1]));
                for (size_t i = 0; i < nframes; i++)
                        zmq_msg_close(&frame[i]);
                if (ev == NULL)
                        continue; /* not [topic][Event]: nothing a replay would not fetch */
                if (ev->heartbeat) {
                        sub->stats.heartbeats++;
                        s_on_heartbeat(sub, ev);
                        complaint__v1__event__free_unpacked(ev, NULL);
                } else {
                        s_on_event(sub, ev);
                }
        }
        return 0;
}

/* ------------------------------------------------------------------- delivery */

static void
s_backoff(complaint_sub_t *sub)
{
        sub->backoff_ms = sub->backoff_ms ? sub->backoff_ms * 2 : BACKOFF_MIN_MS;
        if (sub->backoff_ms > BACKOFF_MAX_MS)
                sub->backoff_ms = BACKOFF_MAX_MS;
        sub->retry_at = s_mono_ms() + sub->backoff_ms;
}

/* Whether a failed API request is worth trying again later. A refused key, a key that does not
 * match, a handshake of the wrong kind (-EACCES, -EKEYREJECTED, -ENOKEY, -ENOPROTOOPT) and a
 * forbidden request (-EPERM) are not: they go to the caller. -ECONNREFUSED is also the daemon
 * failing to check our key for now. */
static bool
s_transient(int r)
{
        return r == -ETIMEDOUT || r == -EPROTO || r == -EAGAIN || r == -ECONNREFUSED ||
               r == -EHOSTUNREACH || r == -ENOTCONN;
}

/* One round of API work that is due: starting, resolving heads, replaying. */
static int
s_work(complaint_sub_t *sub)
{
        int r = 0;

        if (s_mono_ms() < sub->retry_at)
                return 0;
        if (!sub->started) {
                r = s_start(sub);
        } else if (sub->resolve_end) {
                pb_reply_t *reply = NULL;

                r = s_status(sub, &reply);
                if (r == 0) {
                        s_resolve_ends(sub, reply->status);
                        complaint__v1__reply__free_unpacked(reply, NULL);
                }
        }
        for (size_t i = 0; r == 0 && sub->started && i < sub->n_streams; i++)
                r = s_replay(sub, &sub->streams[i]);
        if (r == 0) {
                sub->backoff_ms = 0;
                return 0;
        }
        if (!s_transient(r))
                return r;
        s_backoff(sub);
        return 0;
}

static bool
s_replay_due(const complaint_sub_t *sub)
{
        if (!sub->started || sub->resolve_end)
                return true;
        for (size_t i = 0; i < sub->n_streams; i++)
                if (sub->streams[i].need_replay)
                        return true;
        return false;
}

static int
s_pop(complaint_sub_t *sub, pb_event_t **ret_event)
{
        struct item it = sub->queue[sub->qhead];

        sub->qhead = (sub->qhead + 1) % sub->queue_max;
        sub->qlen--;
        sub->flight_st = it.st;
        sub->flight_pos = it.pos;
        if (it.ev == NULL) {
                sub->stats.gaps++;
                if (sub->gap_fn)
                        sub->gap_fn(sub->gap_arg, it.st->name, it.gap_after, it.pos);
                return -ESTALE;
        }
        sub->stats.delivered++;
        *ret_event = it.ev;
        return 0;
}

int
complaint_sub_next(complaint_sub_t *sub, int timeout_ms, pb_event_t **ret_event)
{
        int64_t deadline = s_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
        int r;

        assert(sub && ret_event);
        r = complaint_sub_commit(sub);
        if (r < 0)
                return r;
        for (;;) {
                zmq_pollitem_t item = {.socket = sub->sock, .events = ZMQ_POLLIN};
                int64_t now, wait;

                if (sub->pending_error) {
                        r = sub->pending_error;
                        sub->pending_error = 0;
                        return r;
                }
                if (sub->started && (r = s_drain(sub)) < 0)
                        return r;
                if ((r = s_work(sub)) < 0)
                        return r;
                /* Live events that came during the API work are taken before delivering, so
                 * that the SUB socket empties as fast as the queue allows. */
                if (sub->started && (r = s_drain(sub)) < 0)
                        return r;
                if (sub->pending_error)
                        continue;
                if (sub->qlen > 0)
                        return s_pop(sub, ret_event);
                now = s_mono_ms();
                if (timeout_ms >= 0 && now >= deadline)
                        return -ETIMEDOUT;
                wait = timeout_ms < 0 ? -1 : deadline - now;
                if (s_replay_due(sub)) {
                        int64_t until = sub->retry_at > now ? sub->retry_at - now : 0;

                        if (wait < 0 || until < wait)
                                wait = until;
                }
                if (zmq_poll(&item, sub->sock ? 1 : 0, (long)wait) < 0)
                        return errno == EINTR ? -EINTR : -errno;
        }
}

/* ------------------------------------------------------------------- acknowledgement */

int
complaint_sub_ack(complaint_sub_t *sub, const pb_event_t *event, const char *note)
{
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        Complaint__V1__AcceptRequest q = COMPLAINT__V1__ACCEPT_REQUEST__INIT;
        const pb_history_t *h;
        pb_reply_t *reply = NULL;
        char id[32];
        int r;

        assert(sub && event);
        h = event->entry;
        if (sub->actor == NULL || h == NULL || h->to_status != ST_ASSIGNED ||
            (h->action != COMPLAINT__V1__ACTION__ACTION_ASSIGN &&
             h->action != COMPLAINT__V1__ACTION__ACTION_REASSIGN &&
             h->action != COMPLAINT__V1__ACTION__ACTION_REOPEN) ||
            strcmp(event->stream, h->department) != 0 || event->seq == 0)
                return -EINVAL;
        snprintf(id, sizeof(id), "ack-%" PRIu64, event->seq);
        q.id = h->complaint_id;
        q.note = (char *)(uintptr_t)(note ? note : "");
        req.request_id = id;
        req.actor = sub->actor;
        req.body_case = COMPLAINT__V1__REQUEST__BODY_ACCEPT;
        req.accept = &q;
        r = complaint_client_call(sub->client, &req, sub->call_timeout_ms, ACK_RETRIES, &reply);
        if (r < 0)
                return r;
        switch (reply->error) {
        case E_OK:
                r = 0;
                break;
        case E_INVALID_TRANSITION:
                r = -EALREADY;
                break;
        case E_NOT_FOUND:
                r = -ENOENT;
                break;
        case COMPLAINT__V1__ERROR_CODE__ERROR_CODE_FORBIDDEN:
                r = -EPERM;
                break;
        default:
                r = -EPROTO;
                break;
        }
        complaint__v1__reply__free_unpacked(reply, NULL);
        return r;
}
