/* pagemap.c: which B-tree each page LMDB writes belongs to, for bench_pages --trees. It wraps
 * the write calls LMDB makes on the data file (pwrite, and lseek + writev: LMDB 0.9 without
 * MDB_USE_PWRITEV), which this executable's definitions interpose on liblmdb's, recording the
 * page numbers written; after a commit, pagemap_attribute() reads the data file as it is then
 * (LMDB's on-disk format: meta pages 0 and 1, the newest by txnid; each tree's branch pages
 * from its root) and counts the recorded pages by the tree that holds them. Every page a
 * commit writes is live right after it, so each is found, but for overflow pages (values of
 * more than a page), which are left unattributed, and the meta page. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "pagemap.h"

#define PAGE 4096
#define PAGEHDR 16
#define MAX_WRITTEN 65536

/* LMDB 0.9's page header and node flags. */
#define P_BRANCH 0x01
#define F_SUBDATA 0x02

static int data_fd = -1; /* the data file's descriptor once seen (-2: not tracking) */
static uint64_t written[MAX_WRITTEN];
static size_t n_written;
static bool tracking;

struct tree {
        char name[32];
        uint64_t pages; /* pages counted so far */
};
static struct tree trees[PAGEMAP_TREES];
static size_t n_trees;
static uint64_t unattributed, meta_pages;

static bool
s_is_data_fd(int fd)
{
        char link[64], path[4096];
        ssize_t n;

        if (!tracking)
                return false;
        if (fd == data_fd)
                return true;
        snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
        n = readlink(link, path, sizeof(path) - 1);
        if (n <= 0)
                return false;
        path[n] = '\0';
        if (n >= 9 && strcmp(path + n - 9, "/data.mdb") == 0) {
                data_fd = fd;
                return true;
        }
        return false;
}

static void
s_record(uint64_t off, size_t len)
{
        if (off < 2 * PAGE && len < PAGE) {
                meta_pages++;
                return;
        }
        for (uint64_t p = off / PAGE; p < (off + len + PAGE - 1) / PAGE; p++)
                if (n_written < MAX_WRITTEN)
                        written[n_written++] = p;
}

ssize_t
pwrite64(int fd, const void *buf, size_t n, off_t off)
{
        static ssize_t (*real)(int, const void *, size_t, off_t);

        if (real == NULL)
                *(void **)&real = dlsym(RTLD_NEXT, "pwrite64");
        if (s_is_data_fd(fd))
                s_record((uint64_t)off, n);
        return real(fd, buf, n, off);
}

ssize_t
pwrite(int fd, const void *buf, size_t n, off_t off)
{
        return pwrite64(fd, buf, n, off);
}

ssize_t
writev(int fd, const struct iovec *iov, int cnt)
{
        static ssize_t (*real)(int, const struct iovec *, int);

        if (real == NULL)
                *(void **)&real = dlsym(RTLD_NEXT, "writev");
        if (s_is_data_fd(fd)) {
                off_t off = lseek(fd, 0, SEEK_CUR);
                size_t len = 0;

                for (int i = 0; i < cnt; i++)
                        len += iov[i].iov_len;
                if (off >= 0)
                        s_record((uint64_t)off, len);
        }
        return real(fd, iov, cnt);
}

void
pagemap_start(void)
{
        tracking = true;
        n_written = 0;
}

static int
s_read_page(int fd, uint64_t pgno, uint8_t *buf)
{
        return pread(fd, buf, PAGE, (off_t)(pgno * PAGE)) == PAGE ? 0 : -EIO;
}

static int
s_cmp(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

        return x < y ? -1 : x > y;
}

static uint16_t
s_u16(const uint8_t *p)
{
        uint16_t v;

        memcpy(&v, p, 2);
        return v;
}

static uint64_t
s_u64(const uint8_t *p)
{
        uint64_t v;

        memcpy(&v, p, 8);
        return v;
}

static struct tree *
s_tree(const char *name)
{
        for (size_t i = 0; i < n_trees; i++)
                if (strcmp(trees[i].name, name) == 0)
                        return &trees[i];
        if (n_trees == PAGEMAP_TREES)
                return NULL;
        snprintf(trees[n_trees].name, sizeof(trees[n_trees].name), "%s", name);
        return &trees[n_trees++];
}

/* Marks in owner[] (indexed like written[]) the written pages of the tree whose root is root,
 * depth levels deep: its branch pages are read, its leaves are the children of the lowest. */
static void
s_walk(int fd, uint64_t root, unsigned depth, struct tree *t, struct tree **owner,
       void (*leaf)(int, const uint8_t *, struct tree **))
{
        uint8_t page[PAGE];
        unsigned nkeys;

        const uint64_t *w = bsearch(&root, written, n_written, sizeof(*written), s_cmp);

        if (w != NULL && owner[w - written] == NULL)
                owner[w - written] = t;
        if (depth <= 1) {
                if (leaf != NULL && s_read_page(fd, root, page) == 0)
                        leaf(fd, page, owner);
                return;
        }
        if (s_read_page(fd, root, page) < 0 || !(s_u16(page + 10) & P_BRANCH))
                return;
        nkeys = (unsigned)(s_u16(page + 12) - PAGEHDR) / 2;
        for (unsigned k = 0; k < nkeys; k++) {
                const uint8_t *node = page + s_u16(page + PAGEHDR + 2 * k);
                uint64_t child = (uint64_t)s_u16(node) | (uint64_t)s_u16(node + 2) << 16 |
                                 (uint64_t)s_u16(node + 4) << 32;

                s_walk(fd, child, depth - 1, t, owner, leaf);
        }
}

/* A leaf of the main tree: each named tree's record, walked. */
static void
s_main_leaf(int fd, const uint8_t *page, struct tree **owner)
{
        unsigned nkeys = (unsigned)(s_u16(page + 12) - PAGEHDR) / 2;

        for (unsigned k = 0; k < nkeys; k++) {
                const uint8_t *node = page + s_u16(page + PAGEHDR + 2 * k);
                unsigned ksize = s_u16(node + 6);
                char name[32];
                const uint8_t *db;

                if (!(s_u16(node + 4) & F_SUBDATA))
                        continue;
                snprintf(name, sizeof(name), "%.*s", (int)ksize, (const char *)node + 8);
                db = node + 8 + ksize; /* MDB_db: pad, flags, depth, counts, root */
                if (s_u16(db + 6) > 0)
                        s_walk(fd, s_u64(db + 40), s_u16(db + 6), s_tree(name), owner, NULL);
        }
}

int
pagemap_attribute(const char *dir)
{
        char path[4200];
        uint8_t m0[PAGE], m1[PAGE], *m;
        struct tree **owner;
        int fd;

        snprintf(path, sizeof(path), "%s/data.mdb", dir);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (s_read_page(fd, 0, m0) < 0 || s_read_page(fd, 1, m1) < 0) {
                close(fd);
                return -EIO;
        }
        /* Sorted, without the pages written twice (LMDB writes each once a commit). */
        qsort(written, n_written, sizeof(*written), s_cmp);
        owner = calloc(n_written ? n_written : 1, sizeof(*owner));
        if (owner == NULL) {
                close(fd);
                return -ENOMEM;
        }
        /* MDB_meta after the header: magic, version, address, mapsize, dbs[2] (free, main),
         * last_pg, txnid. */
        m = s_u64(m0 + PAGEHDR + 128) >= s_u64(m1 + PAGEHDR + 128) ? m0 : m1;
        if (s_u16(m + PAGEHDR + 24 + 6) > 0)
                s_walk(fd, s_u64(m + PAGEHDR + 24 + 40), s_u16(m + PAGEHDR + 24 + 6),
                       s_tree("(free list)"), owner, NULL);
        if (s_u16(m + PAGEHDR + 72 + 6) > 0)
                s_walk(fd, s_u64(m + PAGEHDR + 72 + 40), s_u16(m + PAGEHDR + 72 + 6),
                       s_tree("(main)"), owner, s_main_leaf);
        for (size_t i = 0; i < n_written; i++) {
                if (owner[i] != NULL)
                        owner[i]->pages++;
                else
                        unattributed++;
        }
        free(owner);
        close(fd);
        n_written = 0;
        return 0;
}

void
pagemap_print(uint64_t changes)
{
        for (size_t i = 0; i < n_trees; i++)
                if (trees[i].pages > 0)
                        printf("  %-16s %6.2f pages/change\n", trees[i].name,
                               (double)trees[i].pages / (double)changes);
        printf("  %-16s %6.2f pages/change\n", "(unattributed)",
               (double)unattributed / (double)changes);
        printf("  %-16s %6.2f writes/change\n", "(meta page)",
               (double)meta_pages / (double)changes);
}
