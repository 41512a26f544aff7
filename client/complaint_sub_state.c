/* complaint_sub_state.c: the subscriber's positions (where each stream was last delivered
 * and committed) and the state file that keeps them across restarts, replaced atomically. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "complaint_sub.h"
#include "complaint_sub_int.h"

#define STREAM_MAX 64 /* bytes of a stream (department) id */
#define STATE_MAGIC "complaint-sub 1"
#define STATE_LINES_MAX 4096 /* positions a state file may hold */

/* ------------------------------------------------------------------- positions */

struct position *
sub_pos_find(const complaint_sub_t *sub, const char *stream)
{
        for (size_t i = 0; i < sub->n_pos; i++)
                if (strcmp(sub->pos[i].stream, stream) == 0)
                        return &sub->pos[i];
        return NULL;
}

static int
s_pos_set(complaint_sub_t *sub, const char *stream, uint64_t offset)
{
        struct position *p = sub_pos_find(sub, stream), *grown;

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
        st = sub_stream_find(sub, stream);
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
        p = sub_pos_find(sub, stream);
        if (p == NULL)
                return -ENOENT;
        *ret_offset = p->offset;
        return 0;
}

/* ------------------------------------------------------------------- the state file */

/* Writes every position to a temporary file, syncs it and renames it over the state file; the
 * first time, the directory is synced too, so the file's existence survives a crash. */
int
sub_state_save(complaint_sub_t *sub)
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
        return sub_state_save(sub) < 0 ? -EIO : 0;
}
