/* test_store_files.c: the store's files against a real LMDB environment in a temporary
 * directory: data files that are empty, truncated, foreign or gone are refused before LMDB maps
 * them (by the open and by the check, with a sentence that says which); a store whose file is
 * deleted while open refuses to commit and says it failed; a backup is a whole copy, mode
 * 0640, refused where a store already is. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "store.h"

CHECK_DEFINE_COUNTERS();

#define MAP (64ull << 20)

/* Makes a store in dir holding n complaints, and closes it. */
static void
s_make(const char *dir, uint64_t n)
{
        store_t *s = NULL;
        store_txn_t *t = NULL;

        REQUIRE(store_open(dir, MAP, &s) == 0);
        REQUIRE(store_begin(s, true, &t) == 0);
        for (uint64_t id = 1; id <= n; id++) {
                pb_complaint_t c;

                complaint__v1__complaint__init(&c);
                c.id = id;
                c.status = ST_NEW;
                c.department = (char *)"billing";
                c.category = (char *)"billing";
                c.subject = (char *)"a subject long enough to take some room in the pages";
                CHECK_INT(store_put_complaint(t, &c, NULL), 0);
        }
        REQUIRE(store_commit(&t) == 0);
        store_close(&s);
}

static void
s_copy_tree(const char *from, const char *to)
{
        char cmd[1024];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s' && cp -a '%s' '%s'", to, from, to);
        REQUIRE(system(cmd) == 0);
}

static off_t
s_size(const char *path)
{
        struct stat st;

        return stat(path, &st) == 0 ? st.st_size : -1;
}

/* The probe, the open and the check all refuse dir, and the probe's sentence holds want. */
static void
s_refused(const char *dir, const char *want)
{
        char why[512] = "", out[4096] = "";
        store_t *s = NULL;
        FILE *report = fmemopen(out, sizeof(out) - 1, "w");

        CHECK_INT(store_probe(dir, why, sizeof(why)), -EBADMSG);
        if (strstr(why, want) == NULL)
                fprintf(stderr, "probe of %s said \"%s\", expected \"%s\" in it\n", dir, why, want);
        CHECK(strstr(why, want) != NULL);
        CHECK_INT(store_open(dir, MAP, &s), -EBADMSG);
        CHECK(s == NULL);
        REQUIRE(report != NULL);
        CHECK_INT(store_check(dir, report), -EBADMSG);
        fclose(report);
        CHECK(strstr(out, want) != NULL);
}

static void
test_refused_files(const char *root)
{
        char good[512], dir[512], data[600], why[512];
        off_t size;
        int fd;

        snprintf(good, sizeof(good), "%s/good", root);
        s_make(good, 2000);
        snprintf(data, sizeof(data), "%s/data.mdb", good);
        size = s_size(data);
        REQUIRE(size > 64 * 1024);
        CHECK_INT(store_probe(good, why, sizeof(why)), 0);

        /* Empty: LMDB would start a new store in it, and every complaint would be gone. */
        snprintf(dir, sizeof(dir), "%s/empty", root);
        s_copy_tree(good, dir);
        snprintf(data, sizeof(data), "%s/data.mdb", dir);
        REQUIRE(truncate(data, 0) == 0);
        s_refused(dir, "is empty");

        /* Truncated: LMDB would map pages past the end of the file, and die of SIGBUS. */
        snprintf(dir, sizeof(dir), "%s/truncated", root);
        s_copy_tree(good, dir);
        snprintf(data, sizeof(data), "%s/data.mdb", dir);
        REQUIRE(truncate(data, size / 2) == 0);
        s_refused(dir, "is truncated");

        /* Cut inside its meta pages. */
        snprintf(dir, sizeof(dir), "%s/short", root);
        s_copy_tree(good, dir);
        snprintf(data, sizeof(data), "%s/data.mdb", dir);
        REQUIRE(truncate(data, 5000) == 0);
        s_refused(dir, "is truncated");

        /* Foreign: any other file in its place. */
        snprintf(dir, sizeof(dir), "%s/foreign", root);
        REQUIRE(mkdir(dir, 0750) == 0);
        snprintf(data, sizeof(data), "%s/data.mdb", dir);
        fd = open(data, O_WRONLY | O_CREAT | O_TRUNC, 0640);
        REQUIRE(fd >= 0);
        for (int i = 0; i < 100; i++)
                REQUIRE(write(fd, "this is no database at all, only text written over it.\n", 56) ==
                        56);
        close(fd);
        s_refused(dir, "is not an LMDB data file");

        /* Gone: the data file deleted, its lock file left behind. */
        snprintf(dir, sizeof(dir), "%s/gone", root);
        s_copy_tree(good, dir);
        snprintf(data, sizeof(data), "%s/lock.mdb", dir);
        CHECK(access(data, F_OK) == 0);
        snprintf(data, sizeof(data), "%s/data.mdb", dir);
        REQUIRE(unlink(data) == 0);
        s_refused(dir, "is missing though its lock file is there");

        /* A new directory is no problem: that is how a store begins. */
        snprintf(dir, sizeof(dir), "%s/new", root);
        CHECK_INT(store_probe(dir, why, sizeof(why)), -ENOENT);
}

static void
test_deleted_while_open(const char *root)
{
        char dir[512], moved[600];
        store_t *s = NULL;
        store_txn_t *t = NULL;
        uint64_t id = 0;

        snprintf(dir, sizeof(dir), "%s/deleted", root);
        s_make(dir, 1);
        REQUIRE(store_open(dir, MAP, &s) == 0);
        CHECK_INT(store_alive(s), 0);
        CHECK(!store_failed(s));

        /* The state directory is moved away (as rm -r or a mistaken cleanup would leave it):
         * the open file is no longer the store's. */
        snprintf(moved, sizeof(moved), "%s/deleted-moved", root);
        REQUIRE(rename(dir, moved) == 0);
        CHECK_INT(store_alive(s), -ENOENT);
        REQUIRE(store_begin(s, true, &t) == 0);
        CHECK_INT(store_next_complaint_id(t, &id), 0);
        CHECK_INT(store_commit(&t), -EIO);
        CHECK(t == NULL);
        CHECK(store_failed(s));
        store_close(&s);

        /* Unlinked outright: the link count says so. */
        s_make(dir, 1);
        REQUIRE(store_open(dir, MAP, &s) == 0);
        snprintf(moved, sizeof(moved), "%s/data.mdb", dir);
        REQUIRE(unlink(moved) == 0);
        CHECK_INT(store_alive(s), -ENOENT);
        REQUIRE(store_begin(s, true, &t) == 0);
        CHECK_INT(store_next_complaint_id(t, &id), 0);
        CHECK_INT(store_commit(&t), -EIO);
        CHECK(store_failed(s));
        store_close(&s);
}

static void
test_backup(const char *root)
{
        char dir[512], copy[512], data[600], out[8192] = "";
        store_t *s = NULL;
        struct stat st;
        FILE *report;

        snprintf(dir, sizeof(dir), "%s/backed", root);
        REQUIRE(store_open(dir, MAP, &s) == 0);
        CHECK(store_created(s));
        store_close(&s);
        s_make(dir, 500);
        REQUIRE(store_open(dir, MAP, &s) == 0);
        CHECK(!store_created(s));
        snprintf(copy, sizeof(copy), "%s/backups", root);
        REQUIRE(mkdir(copy, 0750) == 0);
        snprintf(copy, sizeof(copy), "%s/backups/first", root);
        CHECK_INT(store_backup(s, copy), 0);
        snprintf(data, sizeof(data), "%s/data.mdb", copy);
        REQUIRE(stat(data, &st) == 0);
        CHECK_INT(st.st_mode & 0777, 0640);
        /* A second copy into the same place is refused; the first stays whole. */
        CHECK_INT(store_backup(s, copy), -EEXIST);
        store_close(&s);
        report = fmemopen(out, sizeof(out) - 1, "w");
        REQUIRE(report != NULL);
        CHECK_INT(store_check(copy, report), 0);
        fclose(report);
}

int
main(void)
{
        char dir[] = "/tmp/test_store_files.XXXXXX";

        REQUIRE(mkdtemp(dir) != NULL);
        test_refused_files(dir);
        test_deleted_while_open(dir);
        test_backup(dir);
        check_rm_tree(dir);
        return check_summary();
}
