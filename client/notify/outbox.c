/* outbox.c: the journal of positions and deliveries owed (outbox.h). Items live in an array in
 * the order they were added, with an open-addressing index by id, so that adding, finding and
 * finishing one cost O(1) however many are held for quiet hours. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outbox.h"
#include "text.h"

#define MAGIC "complaint-notify outbox 1"
/* Compact once this many done records are in the file and they outnumber the live ones. */
#define COMPACT_MIN 4096

struct outbox {
        char *path;
        int fd;
        bool have_position;
        uint64_t position;
        outbox_item_t **items; /* owed, in order; NULL holes are squeezed out lazily */
        size_t n_items, cap_items, live;
        size_t *index; /* slots of items + 1; 0 empty; SIZE_MAX a tombstone */
        size_t cap_index;
        buf_t pending; /* lines not yet written */
        size_t dead;   /* done and superseded records in the file */
};

static uint32_t
s_fnv32(const char *s, size_t n)
{
        uint32_t h = 0x811c9dc5u;

        for (size_t i = 0; i < n; i++)
                h = (h ^ (unsigned char)s[i]) * 0x01000193u;
        return h;
}

static uint32_t
s_hash(const char *id)
{
        return s_fnv32(id, strlen(id));
}

/* ----------------------------------------------------------------- the index */

static int
s_index_rebuild(outbox_t *o, size_t cap)
{
        size_t *idx = calloc(cap, sizeof(*idx));

        if (idx == NULL)
                return -ENOMEM;
        free(o->index);
        o->index = idx;
        o->cap_index = cap;
        for (size_t i = 0; i < o->n_items; i++) {
                size_t h;

                if (o->items[i] == NULL)
                        continue;
                for (h = s_hash(o->items[i]->id) & (cap - 1); idx[h]; h = (h + 1) & (cap - 1))
                        ;
                idx[h] = i + 1;
        }
        return 0;
}

/* The index slot of id, or SIZE_MAX. */
static size_t
s_index_find(const outbox_t *o, const char *id)
{
        if (o->cap_index == 0)
                return SIZE_MAX;
        for (size_t h = s_hash(id) & (o->cap_index - 1), n = 0; n < o->cap_index;
             h = (h + 1) & (o->cap_index - 1), n++) {
                size_t v = o->index[h];

                if (v == 0)
                        return SIZE_MAX;
                if (v != SIZE_MAX && strcmp(o->items[v - 1]->id, id) == 0)
                        return h;
        }
        return SIZE_MAX;
}

/* Drops the holes of the item array and rebuilds the index, at twice the live count. */
static int
s_squeeze(outbox_t *o, size_t want)
{
        size_t n = 0, cap = 64;

        for (size_t i = 0; i < o->n_items; i++)
                if (o->items[i])
                        o->items[n++] = o->items[i];
        o->n_items = n;
        while (cap < 2 * (want > n ? want : n) + 2)
                cap *= 2;
        return s_index_rebuild(o, cap);
}

/* ----------------------------------------------------------------- items */

static void
s_item_free(outbox_item_t *it)
{
        if (it == NULL)
                return;
        free(it->id);
        free(it->target);
        free(it->data);
        free(it);
}

static bool
s_word_ok(const char *s)
{
        size_t n = s ? strlen(s) : 0;

        return n > 0 && n <= OUTBOX_ID_MAX && strpbrk(s, "\t\r\n ") == NULL;
}

/* Adds it (owned) to the array and index. */
static int
s_insert(outbox_t *o, outbox_item_t *it)
{
        size_t h;
        int r;

        if (o->n_items + 1 > o->cap_items) {
                size_t cap = o->cap_items ? 2 * o->cap_items : 64;
                outbox_item_t **items = realloc(o->items, cap * sizeof(*items));

                if (items == NULL)
                        return -ENOMEM;
                o->items = items;
                o->cap_items = cap;
        }
        if (2 * (o->n_items + 1) >= o->cap_index && (r = s_squeeze(o, o->live + 1)) < 0)
                return r;
        if (2 * (o->n_items + 1) >= o->cap_index && (r = s_index_rebuild(o, 2 * o->cap_index)) < 0)
                return r;
        o->items[o->n_items++] = it;
        for (h = s_hash(it->id) & (o->cap_index - 1); o->index[h] && o->index[h] != SIZE_MAX;
             h = (h + 1) & (o->cap_index - 1))
                ;
        o->index[h] = o->n_items;
        o->live++;
        return 0;
}

/* ----------------------------------------------------------------- records */

static void
s_line_end(buf_t *b, size_t start)
{
        buf_printf(b, "%08" PRIx32 "\n", s_fnv32(b->p + start, b->len - start));
}

static void
s_record_item(buf_t *b, const outbox_item_t *it)
{
        size_t start = b->len;

        buf_printf(
            b, "A\t%s\t%c\t%s\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu32 "\t%" PRId64 "\t%" PRId64 "\t",
            it->id, it->type, it->target, it->complaint_id, it->event_seq, it->msg, it->created_ms,
            it->due_ms);
        if (it->data && it->size)
                text_base64(b, it->data, it->size, 0);
        else
                buf_putc(b, '-');
        buf_putc(b, '\t');
        s_line_end(b, start);
        if (it->sent) {
                start = b->len;
                buf_printf(b, "S\t%s\t", it->id);
                s_line_end(b, start);
        }
}

static void
s_record_position(buf_t *b, uint64_t seq)
{
        size_t start = b->len;

        buf_printf(b, "P\t%" PRIu64 "\t", seq);
        s_line_end(b, start);
}

static void
s_record_id(buf_t *b, char kind, const char *id)
{
        size_t start = b->len;

        buf_printf(b, "%c\t%s\t", kind, id);
        s_line_end(b, start);
}

/* Splits line (without its newline) at tabs into at most max fields; the checksum is the last
 * field and covers everything before it. Returns the number of fields before the checksum, or
 * -1 when the checksum is wrong. */
static int
s_split(char *line, size_t len, char **f, int max)
{
        char *crc = line + len;
        int n = 0;

        while (crc > line && crc[-1] != '\t')
                crc--;
        if (crc == line || strlen(crc) != 8 ||
            strtoul(crc, NULL, 16) != s_fnv32(line, (size_t)(crc - line)))
                return -1;
        crc[-1] = '\0';
        for (char *p = line, *save = NULL, *t = strtok_r(p, "\t", &save); t && n < max;
             t = strtok_r(NULL, "\t", &save))
                f[n++] = t;
        return n;
}

static int
s_parse_u64(const char *s, uint64_t *ret)
{
        char *end;

        errno = 0;
        *ret = strtoull(s, &end, 10);
        return errno || end == s || *end || s[0] == '-' ? -EINVAL : 0;
}

static int
s_parse_i64(const char *s, int64_t *ret)
{
        char *end;

        errno = 0;
        *ret = strtoll(s, &end, 10);
        return errno || end == s || *end ? -EINVAL : 0;
}

/* Applies one checked line. Returns 0, -EINVAL for a malformed one, -ENOMEM. */
static int
s_apply(outbox_t *o, char **f, int n)
{
        size_t slot;

        if (n == 2 && strcmp(f[0], "P") == 0) {
                if (s_parse_u64(f[1], &o->position) < 0)
                        return -EINVAL;
                o->have_position = true;
                return 0;
        }
        if (n == 2 && (strcmp(f[0], "S") == 0 || strcmp(f[0], "D") == 0)) {
                slot = s_index_find(o, f[1]);
                if (slot == SIZE_MAX)
                        return 0; /* done before the last compaction */
                if (f[0][0] == 'S') {
                        o->items[o->index[slot] - 1]->sent = true;
                        return 0;
                }
                return outbox_done(o, f[1]) == 0 ? 0 : -EINVAL;
        }
        if (n == 10 && strcmp(f[0], "A") == 0) {
                outbox_item_t *it = calloc(1, sizeof(*it));
                uint64_t msg = 0;
                int r = -EINVAL;

                if (it == NULL)
                        return -ENOMEM;
                it->type = f[2][0];
                if (s_parse_u64(f[4], &it->complaint_id) == 0 &&
                    s_parse_u64(f[5], &it->event_seq) == 0 && s_parse_u64(f[6], &msg) == 0 &&
                    s_parse_i64(f[7], &it->created_ms) == 0 &&
                    s_parse_i64(f[8], &it->due_ms) == 0 && f[2][1] == '\0' && msg <= UINT32_MAX)
                        r = 0;
                it->msg = (uint32_t)msg;
                if (r == 0 && strcmp(f[9], "-") != 0)
                        r = text_base64_decode(f[9], strlen(f[9]), &it->data, &it->size);
                if (r == 0) {
                        it->id = strdup(f[1]);
                        it->target = strdup(f[3]);
                        r = it->id && it->target ? 0 : -ENOMEM;
                }
                if (r == 0 && s_index_find(o, it->id) != SIZE_MAX)
                        outbox_done(o, it->id); /* added again after a crash: the later wins */
                if (r == 0)
                        r = s_insert(o, it);
                if (r < 0)
                        s_item_free(it);
                return r;
        }
        return -EINVAL;
}

/* ----------------------------------------------------------------- the file */

static int
s_fsync_dir(const char *path)
{
        char *dir = strdup(path), *slash;
        int fd, r = 0;

        if (dir == NULL)
                return -ENOMEM;
        slash = strrchr(dir, '/');
        if (slash == dir)
                slash[1] = '\0';
        else if (slash)
                *slash = '\0';
        fd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || fsync(fd) < 0)
                r = -errno;
        if (fd >= 0)
                close(fd);
        free(dir);
        return r;
}

static int
s_write_all(int fd, const char *p, size_t n)
{
        while (n > 0) {
                ssize_t w = write(fd, p, n);

                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0)
                        return -errno;
                p += w;
                n -= (size_t)w;
        }
        return 0;
}

/* Rewrites the file with the position and the items owed, and reopens it for appending. */
static int
s_compact(outbox_t *o)
{
        buf_t b = BUF_INIT;
        char *tmp = NULL;
        int fd = -1, r;

        buf_printf(&b, "%s\n", MAGIC);
        if (o->have_position)
                s_record_position(&b, o->position);
        for (size_t i = 0; i < o->n_items; i++)
                if (o->items[i])
                        s_record_item(&b, o->items[i]);
        if (buf_failed(&b) || asprintf(&tmp, "%s.tmp", o->path) < 0) {
                buf_free(&b);
                return -ENOMEM;
        }
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        r = fd < 0 ? -errno : s_write_all(fd, b.p, b.len);
        if (r == 0 && fdatasync(fd) < 0)
                r = -errno;
        if (r == 0 && rename(tmp, o->path) < 0)
                r = -errno;
        if (r == 0)
                r = s_fsync_dir(o->path);
        if (r < 0) {
                if (fd >= 0)
                        close(fd);
                unlink(tmp);
        } else {
                if (o->fd >= 0)
                        close(o->fd);
                close(fd);
                o->fd = open(o->path, O_WRONLY | O_APPEND | O_CLOEXEC);
                if (o->fd < 0)
                        r = -errno;
                o->dead = 0;
                buf_reset(&o->pending);
        }
        free(tmp);
        buf_free(&b);
        return r;
}

static int
s_load(outbox_t *o, unsigned *ret_skipped)
{
        FILE *f = fopen(o->path, "re");
        char *line = NULL, *fields[12];
        size_t cap = 0;
        ssize_t len;
        unsigned skipped = 0, bad_last = 0;
        bool first = true;
        int r = 0;

        if (f == NULL)
                return errno == ENOENT ? 0 : -errno;
        while (r == 0 && (len = getline(&line, &cap, f)) >= 0) {
                bool complete = len > 0 && line[len - 1] == '\n';
                int n;

                if (complete)
                        line[--len] = '\0';
                if (first) {
                        first = false;
                        if (strcmp(line, MAGIC) != 0)
                                r = -EBADMSG;
                        continue;
                }
                skipped += bad_last;
                bad_last = 0;
                n = complete ? s_split(line, (size_t)len, fields, 12) : -1;
                if (n < 0) {
                        /* A torn last line is what a crash mid-append leaves: not counted. */
                        bad_last = 1;
                        continue;
                }
                r = s_apply(o, fields, n);
                if (r == -EINVAL) {
                        skipped++;
                        r = 0;
                }
        }
        if (r == 0 && ferror(f))
                r = -EIO;
        free(line);
        fclose(f);
        *ret_skipped = skipped;
        return r;
}

int
outbox_open(const char *path, outbox_t **ret, unsigned *ret_skipped)
{
        outbox_t *o = calloc(1, sizeof(*o));
        unsigned skipped = 0;
        int r;

        if (o == NULL)
                return -ENOMEM;
        o->fd = -1;
        o->path = strdup(path);
        r = o->path ? s_index_rebuild(o, 64) : -ENOMEM;
        if (r == 0)
                r = s_load(o, &skipped);
        if (r == 0)
                r = s_compact(o);
        if (r < 0) {
                outbox_free(&o);
                return r;
        }
        *ret = o;
        if (ret_skipped)
                *ret_skipped = skipped;
        return 0;
}

void
outbox_free(outbox_t **op)
{
        outbox_t *o = op ? *op : NULL;

        if (o == NULL)
                return;
        if (o->fd >= 0) {
                (void)outbox_sync(o, false);
                close(o->fd);
        }
        for (size_t i = 0; i < o->n_items; i++)
                s_item_free(o->items[i]);
        free(o->items);
        free(o->index);
        free(o->path);
        buf_free(&o->pending);
        free(o);
        *op = NULL;
}

int
outbox_position(const outbox_t *o, uint64_t *ret_seq)
{
        if (!o->have_position)
                return -ENOENT;
        *ret_seq = o->position;
        return 0;
}

void
outbox_set_position(outbox_t *o, uint64_t seq)
{
        if (o->have_position && o->position == seq)
                return;
        if (o->have_position)
                o->dead++;
        o->have_position = true;
        o->position = seq;
        s_record_position(&o->pending, seq);
}

int
outbox_add(outbox_t *o, const outbox_item_t *item)
{
        outbox_item_t *it;
        int r;

        if (!s_word_ok(item->id) || !s_word_ok(item->target) || item->type <= 0 || item->type > 127)
                return -EINVAL;
        if (s_index_find(o, item->id) != SIZE_MAX)
                return -EEXIST;
        it = calloc(1, sizeof(*it));
        if (it == NULL)
                return -ENOMEM;
        *it = *item;
        it->id = strdup(item->id);
        it->target = strdup(item->target);
        it->data = NULL;
        if (item->size) {
                it->data = malloc(item->size);
                if (it->data)
                        memcpy(it->data, item->data, item->size);
        }
        if (it->id == NULL || it->target == NULL || (item->size && it->data == NULL) ||
            (r = s_insert(o, it)) < 0) {
                s_item_free(it);
                return -ENOMEM;
        }
        s_record_item(&o->pending, it);
        return 0;
}

int
outbox_mark_sent(outbox_t *o, const char *id)
{
        size_t slot = s_index_find(o, id);

        if (slot == SIZE_MAX)
                return -ENOENT;
        o->items[o->index[slot] - 1]->sent = true;
        s_record_id(&o->pending, 'S', id);
        return 0;
}

int
outbox_done(outbox_t *o, const char *id)
{
        size_t slot = s_index_find(o, id), i;

        if (slot == SIZE_MAX)
                return -ENOENT;
        i = o->index[slot] - 1;
        s_record_id(&o->pending, 'D', id);
        o->dead += 2 + (o->items[i]->sent ? 1 : 0);
        s_item_free(o->items[i]);
        o->items[i] = NULL;
        o->index[slot] = SIZE_MAX;
        o->live--;
        return 0;
}

int
outbox_sync(outbox_t *o, bool durable)
{
        int r;

        if (buf_failed(&o->pending))
                return -ENOMEM;
        if (o->dead >= COMPACT_MIN && o->dead > 2 * o->live) {
                return s_compact(o);
        }
        if (o->pending.len) {
                r = s_write_all(o->fd, o->pending.p, o->pending.len);
                if (r < 0)
                        return r;
                buf_reset(&o->pending);
        }
        if (durable && fdatasync(o->fd) < 0)
                return -errno;
        return 0;
}

size_t
outbox_count(const outbox_t *o)
{
        return o->live;
}

outbox_item_t *
outbox_get(outbox_t *o, size_t i)
{
        /* Squeeze the holes out so that live items are 0..live-1. */
        if (o->n_items != o->live && s_squeeze(o, o->live) < 0)
                return NULL;
        return i < o->n_items ? o->items[i] : NULL;
}

outbox_item_t *
outbox_find(outbox_t *o, const char *id)
{
        size_t slot = s_index_find(o, id);

        return slot == SIZE_MAX ? NULL : o->items[o->index[slot] - 1];
}
