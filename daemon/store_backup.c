/* store_backup.c: hot backups. A backup is a new LMDB environment that the live store's
 * records are written into, table by table, in key order (MDB_APPEND), from one read snapshot.
 * Not a copy of the file's pages (mdb_env_copy): LMDB leaves old bytes in the free pages and in
 * the unused middle of live ones, so a page copy can still hold what was erased. A backup made
 * after an erasure holds nothing of it: every byte of the new file was written from the records
 * live at the snapshot. The privacy key goes beside it: its complainants are sealed. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "store_int.h"

#define CHUNK_BYTES (64u << 20) /* written per transaction of the copy */

/* Makes what was written in directory dir durable: its entries, through the directory. */
static int
s_sync_dir(const char *dir)
{
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int r = 0;

        if (fd < 0)
                return -errno;
        if (fsync(fd) < 0)
                r = -errno;
        close(fd);
        return r;
}

/* Every table of the snapshot rt into the environment to, record by record, but the meta
 * table's mark that the file needs rewriting (it is the rewritten copy). */
static int
s_copy_tables(store_t *s, MDB_txn *rt, MDB_env *to)
{
        MDB_txn *wt = NULL;
        size_t written = 0;
        int rc = 0;

        for (int i = 0; i < DB_COUNT && rc == 0; i++) {
                MDB_cursor *cur = NULL;
                MDB_dbi dbi;
                MDB_val k, v;

                if (wt == NULL && (rc = mdb_txn_begin(to, NULL, 0, &wt)) != 0)
                        break;
                rc = mdb_dbi_open(wt, st_db_names[i], MDB_CREATE, &dbi);
                if (rc == 0)
                        rc = mdb_cursor_open(rt, s->dbi[i], &cur);
                for (rc = rc ? rc : mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
                     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
                        if (i == DB_META && k.mv_size == strlen(META_REWRITE) &&
                            memcmp(k.mv_data, META_REWRITE, k.mv_size) == 0)
                                continue;
                        rc = mdb_put(wt, dbi, &k, &v, MDB_APPEND);
                        if (rc != 0)
                                break;
                        written += k.mv_size + v.mv_size;
                        if (written >= CHUNK_BYTES) {
                                written = 0;
                                rc = mdb_txn_commit(wt);
                                wt = NULL;
                                if (rc == 0)
                                        rc = mdb_txn_begin(to, NULL, 0, &wt);
                                if (rc != 0)
                                        break;
                        }
                }
                if (cur)
                        mdb_cursor_close(cur);
                if (rc == MDB_NOTFOUND)
                        rc = 0;
        }
        if (wt && rc == 0)
                rc = mdb_txn_commit(wt);
        else if (wt)
                mdb_txn_abort(wt);
        return st_err(rc);
}

/* Writes the records of the live store into a new data file at path. */
static int
s_copy(store_t *s, const char *data, uint64_t map)
{
        MDB_env *to = NULL;
        MDB_txn *rt = NULL;
        int rc, r, fd;

        /* One read snapshot; MDB_NOTLS lets it live beside the writer's transactions. */
        rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &rt);
        if (rc == 0)
                rc = mdb_env_create(&to);
        if (rc == 0)
                rc = mdb_env_set_maxdbs(to, DB_COUNT);
        if (rc == 0)
                rc = mdb_env_set_mapsize(to, map);
        /* No lock file (no one else opens it), and no flush per chunk: one at the end. */
        if (rc == 0)
                rc = mdb_env_open(to, data, MDB_NOSUBDIR | MDB_NOLOCK | MDB_NOSYNC, 0640);
        r = st_err(rc);
        if (r == 0)
                r = s_copy_tables(s, rt, to);
        if (rt)
                mdb_txn_abort(rt);
        if (r == 0)
                r = st_err(mdb_env_sync(to, 1));
        if (to)
                mdb_env_close(to);
        /* The flush above goes through LMDB's own descriptor; this one makes sure of the
         * file's size and metadata too. */
        fd = r == 0 ? open(data, O_RDONLY | O_CLOEXEC) : -1;
        if (r == 0 && fd < 0)
                r = -errno;
        if (fd >= 0) {
                if (fsync(fd) < 0)
                        r = -errno;
                close(fd);
        }
        return r;
}

int
store_backup(store_t *s, const char *path)
{
        char data[4096], parent[4096], *slash;
        uint64_t used, map, avail;
        struct statvfs vfs;
        int r;

        if (mkdir(path, 0750) < 0 && errno != EEXIST)
                return -errno;
        snprintf(data, sizeof(data), "%s/data.mdb", path);
        if (access(data, F_OK) == 0)
                return -EEXIST;
        /* Everything below reads the map, whose size must not change under it: even the usage
         * is read from a meta page inside it. */
        pthread_mutex_lock(&s->resize);
        store_usage(s, &used, &map);
        if (statvfs(path, &vfs) == 0) {
                avail = (uint64_t)(geteuid() == 0 ? vfs.f_bfree : vfs.f_bavail) * vfs.f_frsize;
                if (avail < used) {
                        pthread_mutex_unlock(&s->resize);
                        return -ENOSPC;
                }
        }
        /* The copy is no larger than the store's used part; its map is the live one's. */
        r = s_copy(s, data, map);
        /* The complainants in the copy are sealed: it is no backup without its keys (copied
         * under the lock too: a rotation of the keys waits for it). */
        if (r == 0)
                r = seal_write_copy(s->seal, path);
        pthread_mutex_unlock(&s->resize);
        if (r == 0)
                r = s_sync_dir(path);
        snprintf(parent, sizeof(parent), "%s", path);
        slash = strrchr(parent, '/');
        if (r == 0 && slash && slash != parent) {
                *slash = '\0';
                r = s_sync_dir(parent);
        }
        /* A copy that is not whole is no backup. */
        if (r < 0) {
                unlink(data);
                if (r != -EEXIST) {
                        snprintf(data, sizeof(data), "%s/%s", path, SEAL_FILE);
                        unlink(data);
                }
        }
        return r;
}

int
st_rewrite_file(store_t *s)
{
        char data[4096], next[4096];
        uint64_t used, map;
        int r;

        snprintf(data, sizeof(data), "%s/data.mdb", s->dir);
        snprintf(next, sizeof(next), "%s/data.mdb.rewrite", s->dir);
        unlink(next);
        store_usage(s, &used, &map);
        r = s_copy(s, next, map);
        if (r == 0 && rename(next, data) < 0)
                r = -errno;
        if (r == 0)
                r = s_sync_dir(s->dir);
        if (r < 0)
                unlink(next);
        return r;
}
