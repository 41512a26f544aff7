/* backup.c: the backup thread behind backup.h. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup.h"
#include "macro.h"

struct backup {
        store_t *store;
        char *path;
        pthread_t thread;
        int fd;
        int result;
        int64_t started;
        int64_t took_ms;
};

static void *
s_run(void *arg)
{
        backup_t *b = arg;
        uint64_t one = 1;

        char parent[4096];
        char *slash;

        /* The backup directory itself is made on first use. */
        snprintf(parent, sizeof(parent), "%s", b->path);
        slash = strrchr(parent, '/');
        if (slash && slash != parent) {
                *slash = '\0';
                mkdir(parent, 0750);
        }
        b->result = store_backup(b->store, b->path);
        b->took_ms = mono_ms() - b->started;
        (void)!write(b->fd, &one, sizeof(one));
        return NULL;
}

int
backup_start(store_t *store, const char *path, backup_t **ret)
{
        backup_t *b = calloc(1, sizeof(*b));
        int r;

        if (b == NULL)
                return -ENOMEM;
        b->store = store;
        b->path = strdup(path);
        b->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        b->started = mono_ms();
        if (b->path == NULL || b->fd < 0) {
                r = b->path ? -errno : -ENOMEM;
                goto fail;
        }
        r = -pthread_create(&b->thread, NULL, s_run, b);
        if (r < 0)
                goto fail;
        *ret = b;
        return 0;
fail:
        if (b->fd >= 0)
                close(b->fd);
        free(b->path);
        free(b);
        return r;
}

int
backup_fd(const backup_t *b)
{
        return b->fd;
}

const char *
backup_path(const backup_t *b)
{
        return b->path;
}

int
backup_finish(backup_t **bp, uint64_t *ret_bytes, int64_t *ret_took_ms)
{
        backup_t *b = *bp;
        char data[4096];
        struct stat st;
        int r;

        pthread_join(b->thread, NULL);
        r = b->result;
        if (r == 0) {
                snprintf(data, sizeof(data), "%s/data.mdb", b->path);
                *ret_bytes = stat(data, &st) == 0 ? (uint64_t)st.st_size : 0;
                *ret_took_ms = b->took_ms;
        }
        close(b->fd);
        free(b->path);
        free(b);
        *bp = NULL;
        return r;
}
