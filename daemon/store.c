/* store.c: the environment behind store.h: opening (and migrating) it, growing the map,
 * backups, transactions, and the small helpers every table uses (store_int.h). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "macro.h"
#include "store_int.h"

const char *const st_db_names[DB_COUNT] = {
    "meta",    "complaints",  "history",  "events",        "request_ids", "by_status",
    "by_dept", "by_category", "overdue",  "deadlines",     "policies",    "streams",
    "stats",   "ledger",      "contacts", "request_times", "retain",
};

/* LMDB's own codes become errno values here, at the boundary. */
int
st_err(int rc)
{
        switch (rc) {
        case MDB_SUCCESS:
                return 0;
        case MDB_NOTFOUND:
                return -ENOENT;
        case MDB_KEYEXIST:
                return -EEXIST;
        case MDB_MAP_FULL:
        case MDB_TXN_FULL:
        case ENOSPC:
                return -ENOSPC;
        case MDB_VERSION_MISMATCH:
                return -EPROTONOSUPPORT;
        case MDB_INVALID:
                return -EBADMSG;
        case MDB_MAP_RESIZED:
                return -EAGAIN;
        default:
                return rc > 0 ? -rc : -EIO;
        }
}

int
st_meta_get_u64(store_txn_t *t, const char *key, uint64_t *ret)
{
        MDB_val k = {strlen(key), (void *)(uintptr_t)key}, v;
        int rc = mdb_get(t->txn, t->store->dbi[DB_META], &k, &v);

        if (rc == MDB_NOTFOUND) {
                *ret = 0;
                return 0;
        }
        if (rc != 0)
                return st_err(rc);
        if (v.mv_size != 8)
                return -EBADMSG;
        *ret = st_get_be64(v.mv_data);
        return 0;
}

int
st_meta_put_u64(store_txn_t *t, const char *key, uint64_t value)
{
        uint8_t buf[8];
        MDB_val k = {strlen(key), (void *)(uintptr_t)key}, v = {8, buf};

        st_put_be64(buf, value);
        return st_err(mdb_put(st_w(t), t->store->dbi[DB_META], &k, &v, 0));
}

/* A copy of the string under key in the meta table; -ENOENT when there is none. */
int
st_meta_get_str(store_txn_t *t, const char *key, char **ret)
{
        MDB_val k = {strlen(key), (void *)(uintptr_t)key}, v;
        int rc = mdb_get(t->txn, t->store->dbi[DB_META], &k, &v);
        char *copy;

        if (rc != 0)
                return st_err(rc);
        copy = malloc(v.mv_size + 1);
        if (copy == NULL)
                return -ENOMEM;
        memcpy(copy, v.mv_data, v.mv_size);
        copy[v.mv_size] = '\0';
        *ret = copy;
        return 0;
}

int
st_meta_put_str(store_txn_t *t, const char *key, const char *value)
{
        MDB_val k = {strlen(key), (void *)(uintptr_t)key};
        MDB_val v = {strlen(value), (void *)(uintptr_t)value};

        return st_err(mdb_put(st_w(t), t->store->dbi[DB_META], &k, &v, 0));
}

/* Packs a protobuf message straight into the map with MDB_RESERVE. */
int
st_put_message(store_txn_t *t, int db, MDB_val *key, const ProtobufCMessage *m, unsigned flags)
{
        MDB_val v = {protobuf_c_message_get_packed_size(m), NULL};
        int rc = mdb_put(st_w(t), t->store->dbi[db], key, &v, flags | MDB_RESERVE);

        if (rc != 0)
                return st_err(rc);
        protobuf_c_message_pack(m, v.mv_data);
        return 0;
}

int
st_get_message(store_txn_t *t, int db, MDB_val *key, const ProtobufCMessageDescriptor *d,
               ProtobufCMessage **ret)
{
        MDB_val v;
        ProtobufCMessage *m;
        int rc = mdb_get(t->txn, t->store->dbi[db], key, &v);

        if (rc != 0)
                return st_err(rc);
        m = protobuf_c_message_unpack(d, NULL, v.mv_size, v.mv_data);
        if (m == NULL)
                return -EBADMSG;
        *ret = m;
        return 0;
}

/* LMDB's data file begins with two meta pages (lmdb's MDB_meta behind a page header): the
 * magic and format version, the page size (in the free-page table's md_pad), the last page in
 * use and the transaction id. Read here before LMDB maps the file, so that a file it would
 * map wrongly (SIGBUS on a missing page) or take for a new store never reaches it. */
#define MDB_MAGIC_V 0xBEEFC0DEu
#define META_MAGIC 16
#define META_VERSION 20
#define META_PSIZE 40
#define META_LAST_PG 136
#define META_TXNID 144
#define META_END 152

static uint64_t
s_le(const uint8_t *p, size_t n)
{
        uint64_t v = 0;

        while (n-- > 0)
                v = v << 8 | p[n];
        return v;
}

int
store_probe(const char *dir, char *why, size_t why_size)
{
        char path[4096];
        uint8_t meta[2][META_END];
        uint64_t psize, last_pg = 0, txnid = 0, need;
        struct stat st;
        int fd, r = 0;

        snprintf(path, sizeof(path), "%s/data.mdb", dir);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                r = -errno;
                snprintf(why, why_size, "%s: %s", path, strerror(errno));
                if (r == -ENOENT) {
                        /* LMDB makes the lock file first, and a store's lock file outlives its
                         * data file only when someone deleted the data. */
                        snprintf(path, sizeof(path), "%s/lock.mdb", dir);
                        if (access(path, F_OK) == 0) {
                                snprintf(why, why_size,
                                         "%s/data.mdb is missing though its lock file is there: "
                                         "the store was deleted; restore it from a backup, or "
                                         "remove lock.mdb to start an empty store",
                                         dir);
                                return -EBADMSG;
                        }
                }
                return r;
        }
        if (fstat(fd, &st) < 0) {
                r = -errno;
                snprintf(why, why_size, "%s: %s", path, strerror(errno));
                close(fd);
                return r;
        }
        if (st.st_size == 0) {
                snprintf(why, why_size,
                         "%s is empty (0 bytes): the store's data is gone; restore it from a "
                         "backup, or remove the file to start an empty store",
                         path);
                close(fd);
                return -EBADMSG;
        }
        if (pread(fd, meta[0], META_END, 0) != META_END ||
            s_le(meta[0] + META_MAGIC, 4) != MDB_MAGIC_V) {
                snprintf(why, why_size,
                         "%s is not an LMDB data file (%jd bytes, no LMDB signature in its "
                         "first page): it was not written by complaintd",
                         path, (intmax_t)st.st_size);
                close(fd);
                return -EBADMSG;
        }
        psize = s_le(meta[0] + META_PSIZE, 4);
        if (s_le(meta[0] + META_VERSION, 4) != 1 || psize < 512 || psize > 65536 ||
            (psize & (psize - 1)) != 0) {
                snprintf(why, why_size,
                         "%s has an LMDB signature but a format this daemon cannot read "
                         "(version %ju, page size %ju)",
                         path, (uintmax_t)s_le(meta[0] + META_VERSION, 4), (uintmax_t)psize);
                close(fd);
                return -EBADMSG;
        }
        if ((uint64_t)st.st_size < 2 * psize ||
            pread(fd, meta[1], META_END, (off_t)psize) != META_END) {
                snprintf(why, why_size,
                         "%s is truncated: %jd bytes, shorter than its two meta pages of %ju "
                         "bytes each",
                         path, (intmax_t)st.st_size, (uintmax_t)psize);
                close(fd);
                return -EBADMSG;
        }
        close(fd);
        /* The newer of the two meta pages is the state LMDB opens. */
        for (int i = 0; i < 2; i++) {
                if (s_le(meta[i] + META_MAGIC, 4) != MDB_MAGIC_V)
                        continue;
                if (s_le(meta[i] + META_TXNID, 8) >= txnid) {
                        txnid = s_le(meta[i] + META_TXNID, 8);
                        last_pg = s_le(meta[i] + META_LAST_PG, 8);
                }
        }
        /* A meta page that names more pages than the file can hold (or than fit in 64 bits)
         * is a truncated file, or a damaged one. */
        if (last_pg >= (uint64_t)st.st_size / psize)
                need = last_pg < UINT64_MAX / psize ? (last_pg + 1) * psize : UINT64_MAX;
        else
                need = 0;
        if (need != 0) {
                snprintf(why, why_size,
                         "%s is truncated: %jd bytes, but its newest meta page (transaction "
                         "%ju) uses %ju pages of %ju bytes (%ju bytes); restore it from a backup",
                         path, (intmax_t)st.st_size, (uintmax_t)txnid, (uintmax_t)(last_pg + 1),
                         (uintmax_t)psize, (uintmax_t)need);
                return -EBADMSG;
        }
        return 0;
}

/* Whether the data file LMDB has open is still the one at dir/data.mdb: deleting the state
 * directory (or the file) leaves LMDB writing to an unlinked inode, and every change it
 * acknowledges then is lost with the process. */
int
store_alive(store_t *s)
{
        char path[4096];
        struct stat open_st, path_st;
        int fd;

        if (mdb_env_get_fd(s->env, &fd) != 0 || fstat(fd, &open_st) < 0)
                return -EIO;
        if (open_st.st_nlink == 0)
                return -ENOENT;
        snprintf(path, sizeof(path), "%s/data.mdb", s->dir);
        if (stat(path, &path_st) < 0)
                return -ENOENT;
        if (path_st.st_ino != open_st.st_ino || path_st.st_dev != open_st.st_dev)
                return -ENOENT;
        return 0;
}

/* Whether the file system of the store has less room than a commit may need: a commit
 * that failed there failed for want of space, whatever LMDB reported (a short write
 * becomes EIO). */
static bool
s_disk_short(store_t *s)
{
        struct statvfs vfs;

        if (statvfs(s->dir, &vfs) < 0)
                return false;
        return (uint64_t)vfs.f_bavail * vfs.f_frsize < STORE_DISK_RESERVE;
}

bool
store_created(store_t *s)
{
        return s->created;
}

bool
store_failed(store_t *s)
{
        return s->failed;
}

bool
store_disk_full(store_t *s)
{
        return s->disk_full;
}

int
store_begin(store_t *s, bool write, store_txn_t **ret)
{
        store_txn_t *t = calloc(1, sizeof(*t));
        int rc;

        if (t == NULL)
                return -ENOMEM;
        t->store = s;
        t->root = t;
        t->write = write;
        rc = mdb_txn_begin(s->env, NULL, write ? 0 : MDB_RDONLY, &t->txn);
        if (rc != 0) {
                /* LMDB refuses every transaction once a meta page could not be written. */
                if (rc == MDB_PANIC)
                        s->failed = true;
                free(t);
                return st_err(rc);
        }
        *ret = t;
        return 0;
}

int
store_begin_nested(store_txn_t *parent, store_txn_t **ret)
{
        store_txn_t *t = calloc(1, sizeof(*t));
        int rc;

        if (t == NULL)
                return -ENOMEM;
        t->store = parent->store;
        t->root = parent->root;
        t->mark = stats_pending_mark(t->root->pending);
        rc = mdb_txn_begin(parent->store->env, parent->txn, 0, &t->txn);
        if (rc != 0) {
                free(t);
                return st_err(rc);
        }
        *ret = t;
        return 0;
}

/* The outcome of a failed top-level commit (rc, LMDB's code): a map or a disk that is full
 * is -ENOSPC, and the store goes on; anything else is an I/O error that may have left the
 * environment unusable, and the store is marked failed (store_failed()). */
static int
s_commit_failed(store_t *s, int rc)
{
        if (rc == MDB_MAP_FULL)
                return -ENOSPC;
        if ((rc == ENOSPC || rc == EIO || rc == EDQUOT || rc == EFBIG) && s_disk_short(s)) {
                s->disk_full = true;
                return -ENOSPC;
        }
        s->failed = true;
        return st_err(rc) == -ENOSPC ? -EIO : st_err(rc);
}

int
store_commit(store_txn_t **tp)
{
        store_txn_t *t = *tp;
        store_t *s = t->store;
        bool top_write = t->root == t && t->write;
        int r = 0, rc;

        if (t->root == t) {
                r = st_stats_flush(t);
                stats_pending_free(&t->pending);
        }
        /* A store whose file was deleted under it would acknowledge changes that vanish with
         * the process: refuse them, and stop. */
        if (r == 0 && top_write && store_alive(s) < 0) {
                s->failed = true;
                r = -EIO;
        }
        if (r < 0) {
                mdb_txn_abort(t->txn);
        } else {
                rc = mdb_txn_commit(t->txn);
                if (rc != 0 && t->root == t)
                        r = s_commit_failed(s, rc);
                else
                        r = st_err(rc);
                if (r == 0 && t->root == t)
                        s->disk_full = false;
                /* A nested transaction's counter changes are its parent's now, or gone with
                 * it. */
                if (t->root != t && r == 0)
                        stats_pending_forget(t->root->pending, t->mark);
                else if (t->root != t)
                        stats_pending_rollback(t->root->pending, t->mark);
        }
        free(t);
        *tp = NULL;
        return r;
}

uint64_t
store_writes(const store_txn_t *t)
{
        return t->root->writes;
}

void
store_abort(store_txn_t **tp)
{
        store_txn_t *t = *tp;

        if (t == NULL)
                return;
        if (t->root == t)
                stats_pending_free(&t->pending);
        else
                stats_pending_rollback(t->root->pending, t->mark);
        mdb_txn_abort(t->txn);
        free(t);
        *tp = NULL;
}

/* Runs fn in a write transaction of its own and commits it. A map that fills up is grown (up
 * to map_max) and fn run again from the start in a new transaction: a migration or a rebuild
 * must not fail a start because the map was sized for the data before it. */
static int
s_write_growing(store_t *s, int (*fn)(store_txn_t *t, void *arg), void *arg)
{
        for (;;) {
                store_txn_t *t = NULL;
                int r = store_begin(s, true, &t);

                if (r == 0) {
                        r = fn(t, arg);
                        if (r == 0)
                                r = store_commit(&t);
                        else
                                store_abort(&t);
                }
                if (r != -ENOSPC)
                        return r;
                /* Full disk or map at its maximum: -ENOSPC; a backup reading: -EBUSY. */
                r = store_grow(s);
                if (r < 0)
                        return r;
        }
}

static bool
s_country_code_valid(const char *cc)
{
        return cc == NULL ||
               (strlen(cc) <= COUNTRY_CODE_MAX && strspn(cc, "0123456789") == strlen(cc));
}

/* Whether the contact index keyed with recorded (NULL: not recorded) is keyed with cc. */
static bool
s_same_country_code(const char *recorded, const char *cc)
{
        return recorded != NULL && strcmp(recorded, cc ? cc : "") == 0;
}

struct open_args {
        const char *cc; /* the code to key contacts with: "" none */
        bool keep;      /* keep the recorded code instead */
        /* What the transaction found and did, valid after its commit. */
        char *code; /* the code in force */
        bool rekeyed;
        char *was;
};

static void
s_open_args_reset(struct open_args *a)
{
        free(a->code);
        free(a->was);
        a->code = NULL;
        a->was = NULL;
        a->rekeyed = false;
}

/* The privacy keys of a store: made with a new store or one that predates them, which has no
 * sealed data yet; otherwise they must be there, and be the ones its data was sealed with (the
 * store records a keyed hash of a fixed text to tell). */
static int
s_seal_keys(store_txn_t *t, bool may_create)
{
        store_t *s = t->store;
        char check[SEAL_HASH_HEX + 1], *recorded = NULL;
        int r;

        if (s->seal == NULL) {
                if (!may_create)
                        return -ENOKEY;
                r = seal_open(s->dir, true, &s->seal, NULL);
                if (r < 0)
                        return r;
        }
        seal_hash_hex(s->seal, SEAL_CHECK_TEXT, check);
        r = st_meta_get_str(t, META_SEAL_CHECK, &recorded);
        if (r == -ENOENT)
                return may_create ? st_meta_put_str(t, META_SEAL_CHECK, check) : -ENOKEY;
        if (r < 0)
                return r;
        r = strcmp(recorded, check) == 0 ? 0 : -ENOKEY;
        free(recorded);
        return r;
}

/* The transaction of an open: the tables, the schema (a new store's, or a migration to the
 * current one), the privacy keys and the contact index's country code. */
static int
s_open_txn(store_txn_t *t, void *arg)
{
        struct open_args *a = arg;
        store_t *s = t->store;
        uint8_t buf[4];
        MDB_val k = {6, (void *)"schema"}, v;
        const char *code = a->keep ? "" : a->cc;
        int rc, r = 0;

        s_open_args_reset(a);
        s->migrated_from = 0;
        for (int i = 0; i < DB_COUNT; i++) {
                rc = mdb_dbi_open(t->txn, st_db_names[i], MDB_CREATE, &s->dbi[i]);
                if (rc != 0)
                        return st_err(rc);
        }
        rc = mdb_get(t->txn, s->dbi[DB_META], &k, &v);
        if (rc == MDB_NOTFOUND) {
                s->schema = STORE_SCHEMA_VERSION;
                s->created = true;
                r = s_seal_keys(t, true);
                if (r == 0)
                        r = st_meta_put_str(t, META_COUNTRY, code);
                if (r == 0)
                        r = st_meta_put_str(t, META_STATS_ZONE, "UTC");
        } else if (rc != 0) {
                return st_err(rc);
        } else if (v.mv_size != 4) {
                return -EBADMSG;
        } else {
                s->schema = st_get_be32(v.mv_data);
                if (s->schema > STORE_SCHEMA_VERSION)
                        return -EPROTONOSUPPORT;
                if (s->schema < STORE_SCHEMA_VERSION) {
                        r = s_seal_keys(t, s->schema < 6);
                        if (r == 0)
                                r = st_migrate(t, s->schema, code);
                        if (r == 0)
                                r = st_meta_put_str(t, META_COUNTRY, code);
                        s->schema = STORE_SCHEMA_VERSION;
                } else {
                        r = s_seal_keys(t, false);
                        if (r == 0)
                                r = st_meta_get_str(t, META_COUNTRY, &a->code);
                        if (r == -ENOENT)
                                r = 0;
                        if (r == 0 && !a->keep && !s_same_country_code(a->code, code)) {
                                a->was = a->code;
                                a->code = NULL;
                                a->rekeyed = true;
                                r = st_rekey_contacts(t, code);
                        }
                        if (r == 0 && !a->rekeyed)
                                return 0;
                }
        }
        if (r < 0)
                return r;
        st_put_be32(buf, STORE_SCHEMA_VERSION);
        v = (MDB_val){4, buf};
        rc = mdb_put(st_w(t), s->dbi[DB_META], &k, &v, 0);
        if (rc != 0)
                return st_err(rc);
        a->code = strdup(code);
        return a->code ? 0 : -ENOMEM;
}

static int s_open(const char *dir, uint64_t map_max, const char *cc, bool keep, store_t **ret);

/* The zone the counters are keyed in, as recorded. One that cannot be loaded (this machine
 * lacks it, or could not read it now) is taken for UTC, so the store opens, and the counters are
 * marked stale: the daemon's zone then rebuilds them, even under the same name. So does a zone
 * whose rules changed (a tzdata update) since the counters were keyed in it. */
static void
s_load_stats_zone(store_t *s)
{
        store_txn_t *t;
        char *zone = NULL;
        uint64_t rules = 0;
        tz_t *tz = NULL;

        s->stats_rules_known = false;
        if (store_begin(s, false, &t) == 0) {
                st_meta_get_str(t, META_STATS_ZONE, &zone);
                /* A missing key reads 0, which no digest is. */
                s->stats_rules_known =
                    st_meta_get_u64(t, META_STATS_RULES, &rules) == 0 && rules != 0;
                store_abort(&t);
        }
        s->stats_stale = false;
        if (zone != NULL && tz_load(zone, &tz) == 0) {
                tz_free(&s->stats_tz);
                s->stats_tz = tz;
                s->stats_stale = s->stats_rules_known && rules != tz_rules_digest(tz);
        } else if (zone != NULL) {
                s->stats_stale = true;
        }
        free(s->stats_zone);
        s->stats_zone = zone;
}

/* Whether a migration left old records' bytes in the file's free pages (META_REWRITE). */
static bool
s_needs_rewrite(store_t *s)
{
        store_txn_t *t;
        uint64_t mark = 0;

        if (store_begin(s, false, &t) < 0)
                return false;
        st_meta_get_u64(t, META_REWRITE, &mark);
        store_abort(&t);
        return mark != 0;
}

/* Rewrites the data file record by record, then opens the new one, keeping what the first
 * open found (the migration, the rebuild of the contact index). */
static int
s_rewrite_and_open(store_t **sp, uint64_t map_max, const char *cc, bool keep, store_t **ret)
{
        store_t *s = *sp, *n = NULL;
        uint32_t from = s->migrated_from;
        bool rekeyed = s->rekeyed;
        char *was = s->rekeyed_from, *dir = strdup(s->dir);
        int r = dir ? st_rewrite_file(s) : -ENOMEM;

        s->rekeyed_from = NULL;
        store_close(sp);
        if (r == 0)
                r = s_open(dir, map_max, cc, keep, &n);
        free(dir);
        if (r < 0) {
                free(was);
                return r;
        }
        n->migrated_from = from;
        n->rekeyed = rekeyed;
        n->rekeyed_from = was;
        *ret = n;
        return 0;
}

static int
s_open(const char *dir, uint64_t map_max, const char *cc, bool keep, store_t **ret)
{
        store_t *s;
        struct open_args a = {.cc = cc ? cc : "", .keep = keep};
        MDB_envinfo info;
        char why[512];
        int rc, dead;

        if (!s_country_code_valid(cc))
                return -EINVAL;
        if (mkdir(dir, 0750) < 0 && errno != EEXIST)
                return -errno;
        /* An empty, truncated or foreign data file is refused before LMDB maps it. */
        rc = store_probe(dir, why, sizeof(why));
        if (rc < 0 && rc != -ENOENT)
                return rc;
        s = calloc(1, sizeof(*s));
        if (s == NULL)
                return -ENOMEM;
        s->map_max = map_max;
        s->dir = strdup(dir);
        if (s->dir == NULL) {
                free(s);
                return -ENOMEM;
        }
        rc = seal_open(dir, false, &s->seal, NULL);
        if (rc < 0 && rc != -ENOENT) {
                free(s->dir);
                free(s);
                return rc;
        }
        pthread_mutex_init(&s->resize, NULL);
        rc = mdb_env_create(&s->env);
        if (rc != 0) {
                pthread_mutex_destroy(&s->resize);
                seal_free(&s->seal);
                free(s->dir);
                free(s);
                return st_err(rc);
        }
        mdb_env_set_maxdbs(s->env, DB_COUNT + 1); /* + "requests", migrated from schema 3 */
        /* MDB_NOTLS lets a backup or a reader live beside the writer on the same thread. The
         * defaults stay: full sync on commit, no WRITEMAP (a full disk must be an error, not a
         * SIGBUS). */
        rc = mdb_env_open(s->env, dir, MDB_NOTLS, 0640);
        if (rc == 0) {
                mdb_env_info(s->env, &info);
                if (info.me_mapsize < INITIAL_MAP && INITIAL_MAP <= map_max)
                        rc = mdb_env_set_mapsize(s->env, INITIAL_MAP);
        }
        if (rc == 0)
                rc = mdb_reader_check(s->env, &dead);
        if (rc != 0) {
                mdb_env_close(s->env);
                pthread_mutex_destroy(&s->resize);
                seal_free(&s->seal);
                free(s->dir);
                free(s);
                return st_err(rc);
        }
        /* A migration counts in UTC days, as the daemons before schema 8 did. */
        rc = tz_load("UTC", &s->stats_tz);
        if (rc == 0)
                rc = s_write_growing(s, s_open_txn, &a);
        if (rc < 0) {
                s_open_args_reset(&a);
                tz_free(&s->stats_tz);
                mdb_env_close(s->env);
                pthread_mutex_destroy(&s->resize);
                seal_free(&s->seal);
                free(s->dir);
                free(s);
                return rc;
        }
        s->country_code = a.code;
        s->rekeyed = a.rekeyed;
        s->rekeyed_from = a.was;
        s_load_stats_zone(s);
        if (s_needs_rewrite(s))
                return s_rewrite_and_open(&s, map_max, cc, keep, ret);
        *ret = s;
        return 0;
}

int
store_open_country(const char *dir, uint64_t map_max, const char *country_code, store_t **ret)
{
        return s_open(dir, map_max, country_code, false, ret);
}

int
store_open(const char *dir, uint64_t map_max, store_t **ret)
{
        return s_open(dir, map_max, NULL, true, ret);
}

static int
s_rekey_txn(store_txn_t *t, void *arg)
{
        return st_rekey_contacts(t, arg);
}

int
store_set_country_code(store_t *s, const char *country_code, bool *ret_rebuilt)
{
        const char *cc = country_code ? country_code : "";
        char *copy;
        int r;

        if (!s_country_code_valid(country_code))
                return -EINVAL;
        if (s_same_country_code(s->country_code, cc)) {
                *ret_rebuilt = false;
                return 0;
        }
        copy = strdup(cc);
        if (copy == NULL)
                return -ENOMEM;
        r = s_write_growing(s, s_rekey_txn, (void *)(uintptr_t)cc);
        if (r < 0) {
                free(copy);
                return r;
        }
        free(s->country_code);
        s->country_code = copy;
        *ret_rebuilt = true;
        return 0;
}

struct zone_args {
        const char *zone;
        uint64_t rules; /* tz_rules_digest() of zone */
        bool started;   /* valid after the commit */
};

/* Empties the counters and records zone for them; a rebuild starts unless there is nothing
 * to count. */
static int
s_stats_zone_txn(store_txn_t *t, void *arg)
{
        struct zone_args *a = arg;
        MDB_val mk = {strlen(META_STATS_REBUILD), (void *)META_STATS_REBUILD};
        MDB_stat st;
        int r, rc;

        a->started = false;
        r = st_err(mdb_drop(st_w(t), t->store->dbi[DB_STATS], 0));
        if (r == 0)
                r = st_meta_put_str(t, META_STATS_ZONE, a->zone);
        if (r == 0)
                r = st_meta_put_u64(t, META_STATS_RULES, a->rules);
        if (r == 0)
                r = st_err(mdb_stat(t->txn, t->store->dbi[DB_COMPLAINTS], &st));
        if (r < 0)
                return r;
        if (st.ms_entries > 0) {
                a->started = true;
                return st_meta_put_u64(t, META_STATS_REBUILD, 1);
        }
        rc = mdb_del(st_w(t), t->store->dbi[DB_META], &mk, NULL);
        return rc == MDB_NOTFOUND ? 0 : st_err(rc);
}

static int
s_stats_rules_txn(store_txn_t *t, void *arg)
{
        const struct zone_args *a = arg;

        return st_meta_put_u64(t, META_STATS_RULES, a->rules);
}

int
store_set_stats_zone(store_t *s, const char *zone, bool *ret_started)
{
        struct zone_args a = {.zone = zone};
        tz_t *tz = NULL;
        char *copy;
        int r;

        r = tz_load(zone, &tz);
        if (r < 0)
                return r;
        a.rules = tz_rules_digest(tz);
        if (s->stats_zone && strcmp(s->stats_zone, zone) == 0 && !s->stats_stale) {
                /* A store kept before the rules were recorded takes today's for its own. */
                if (!s->stats_rules_known)
                        r = s_write_growing(s, s_stats_rules_txn, &a);
                tz_free(&tz);
                if (r < 0)
                        return r;
                s->stats_rules_known = true;
                *ret_started = false;
                return 0;
        }
        copy = strdup(zone);
        if (copy == NULL) {
                tz_free(&tz);
                return -ENOMEM;
        }
        r = s_write_growing(s, s_stats_zone_txn, &a);
        if (r < 0) {
                tz_free(&tz);
                free(copy);
                return r;
        }
        tz_free(&s->stats_tz);
        s->stats_tz = tz;
        free(s->stats_zone);
        s->stats_zone = copy;
        s->stats_stale = false;
        s->stats_rules_known = true;
        *ret_started = a.started;
        return 0;
}

const char *
store_stats_zone(store_t *s)
{
        return s->stats_zone ? s->stats_zone : "UTC";
}

const tz_t *
store_stats_tz(store_t *s)
{
        return s->stats_tz;
}

const char *
store_country_code(store_t *s)
{
        return s->country_code;
}

bool
store_contacts_rekeyed(store_t *s, const char **ret_was)
{
        if (s->rekeyed && ret_was)
                *ret_was = s->rekeyed_from;
        return s->rekeyed;
}

void
store_close(store_t **sp)
{
        if (*sp == NULL)
                return;
        mdb_env_close((*sp)->env);
        pthread_mutex_destroy(&(*sp)->resize);
        seal_free(&(*sp)->seal);
        free((*sp)->dir);
        free((*sp)->country_code);
        free((*sp)->rekeyed_from);
        free((*sp)->stats_zone);
        tz_free(&(*sp)->stats_tz);
        free(*sp);
        *sp = NULL;
}

int
store_grow(store_t *s)
{
        MDB_envinfo info;
        uint64_t size;
        int rc;

        /* Growing a full disk's map only moves the failure. */
        if (s->disk_full || s_disk_short(s))
                return -ENOSPC;
        mdb_env_info(s->env, &info);
        if (info.me_mapsize >= s->map_max)
                return -ENOSPC;
        /* A backup's snapshot reads the map on another thread: resizing it under that reader
         * is what LMDB forbids. */
        if (pthread_mutex_trylock(&s->resize) != 0)
                return -EBUSY;
        size = info.me_mapsize * 2;
        if (size > s->map_max)
                size = s->map_max;
        rc = st_err(mdb_env_set_mapsize(s->env, size));
        pthread_mutex_unlock(&s->resize);
        return rc;
}

void
store_usage(store_t *s, uint64_t *ret_used, uint64_t *ret_map)
{
        MDB_envinfo info;
        MDB_stat st;

        mdb_env_info(s->env, &info);
        mdb_env_stat(s->env, &st);
        *ret_used = (uint64_t)(info.me_last_pgno + 1) * st.ms_psize;
        *ret_map = info.me_mapsize;
}

uint32_t
store_schema(store_t *s)
{
        return s->schema;
}

uint32_t
store_schema_migrated_from(store_t *s)
{
        return s->migrated_from ? s->migrated_from : s->schema;
}
