/* pages.c: what one change writes to disk (issue 18, "fewer pages per change"). It drives the
 * daemon's own request path (service.h) in this process, on a store in STATE_DIR (filled
 * beforehand with bench_report_fill for a store of some size, or new): COUNT creates and
 * their dispatches (assign to the category's department), BATCH of them a commit (default 1,
 * as a single synchronous client's requests are; 64 is what the daemon's group commit makes
 * of 64 clients' requests): BATCH creates in one durable commit, then their BATCH dispatches in
 * the next. It reads this process's /proc/self/io around each commit, so the figures are the
 * store's writes alone (no sockets, no log file), and prints per create and per dispatch (the
 * mean and median over the commits of a commit's bytes over BATCH) the bytes
 * LMDB wrote (wchar: its dirty pages, 4 KiB each, and the lock file's few bytes) and the bytes
 * the kernel accounted to storage for them (write_bytes: on a kernel whose page cache holds
 * large folios, a 4 KiB page written into one dirties the whole folio), then each B-tree's
 * depth and size (mdb_stat) once the store is closed: a commit dirties each tree it touches
 * from root to leaf. With --trees, it also counts every page written by the tree that holds it
 * (pagemap.h: LMDB's writes are intercepted and the data file read after each commit).
 *
 *   bench_pages CONF STATE_DIR [COUNT [BATCH [--trees]]]
 *
 * COUNT defaults to 2000 and BATCH to 1 (at most 1000); CONF is a configuration such as
 * conf/complaintd.conf, its state_dir replaced by STATE_DIR.
 *
 * The state directory must be on a real disk (not a tmpfs) for write_bytes to count. */
#include <errno.h>
#include <inttypes.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "pagemap.h"
#include "service.h"
#include "store.h"

#define BATCH_MAX 1000

/* This process's counters of /proc/self/io: wchar, the bytes it handed to write calls (the
 * pages LMDB wrote), and write_bytes, what the kernel accounted to storage for them (whole
 * page-cache folios: more than wchar when a 4 KiB page is written into a larger folio). */
struct io {
        uint64_t wchar, write_bytes;
};

static struct io
s_io(void)
{
        FILE *f = fopen("/proc/self/io", "r");
        char line[128];
        struct io v = {0, 0};

        if (f == NULL)
                return v;
        while (fgets(line, sizeof(line), f) != NULL) {
                sscanf(line, "wchar: %" SCNu64, &v.wchar);
                sscanf(line, "write_bytes: %" SCNu64, &v.write_bytes);
        }
        fclose(f);
        return v;
}

static int
s_cmp(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

        return x < y ? -1 : x > y;
}

/* Handles the k requests q[] as one batch (one commit, as the daemon's group commit makes of
 * requests that arrive together); the complaint ids they answer with in ids[] (may be NULL).
 * -EPROTO when a reply is an error. */
static int
s_batch(service_t *svc, pb_request_t *q, size_t k, uint64_t *ids)
{
        struct service_request req[BATCH_MAX] = {{0}};
        struct service_outbox out = {0};
        int r = 0;

        for (size_t i = 0; i < k; i++) {
                size_t len = complaint__v1__request__get_packed_size(&q[i]);
                uint8_t *buf = malloc(len);

                if (buf == NULL)
                        return -ENOMEM;
                complaint__v1__request__pack(&q[i], buf);
                req[i].data = buf;
                req[i].len = len;
        }
        r = service_handle_batch(svc, req, k, &out);
        service_outbox_clear(&out);
        for (size_t i = 0; i < k; i++) {
                pb_reply_t *rep = NULL;

                free((void *)(uintptr_t)req[i].data);
                if (r == 0)
                        rep = complaint__v1__reply__unpack(NULL, req[i].reply_len, req[i].reply);
                free(req[i].reply);
                if (r < 0)
                        continue;
                if (rep == NULL) {
                        r = -EBADMSG;
                        continue;
                }
                if (rep->error != 0) {
                        fprintf(stderr, "bench_pages: %s\n", rep->message);
                        r = -EPROTO;
                } else if (ids != NULL && rep->complaint != NULL) {
                        ids[i] = rep->complaint->id;
                }
                complaint__v1__reply__free_unpacked(rep, NULL);
        }
        return r;
}

static void
s_print(const char *what, const char *counter, uint64_t *b, size_t n)
{
        uint64_t sum = 0;

        qsort(b, n, sizeof(*b), s_cmp);
        for (size_t i = 0; i < n; i++)
                sum += b[i];
        printf("%-8s %-11s bytes/change mean %8.0f  median %8" PRIu64 "  (4 KiB pages: mean %6.1f  "
               "median %6.1f)\n",
               what, counter, (double)sum / (double)n, b[n / 2], (double)sum / (double)n / 4096.0,
               (double)b[n / 2] / 4096.0);
}

/* Each named tree's depth, pages and entries, read with LMDB once the store is closed. */
static void
s_trees(const char *dir)
{
        MDB_env *env;
        MDB_txn *txn;
        MDB_dbi main_dbi;
        MDB_cursor *cur;
        MDB_val k, v;
        MDB_stat st;

        if (mdb_env_create(&env) != 0)
                return;
        mdb_env_set_maxdbs(env, 64);
        if (mdb_env_open(env, dir, MDB_RDONLY, 0600) != 0 ||
            mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) != 0) {
                mdb_env_close(env);
                return;
        }
        mdb_dbi_open(txn, NULL, 0, &main_dbi);
        mdb_stat(txn, main_dbi, &st);
        printf("%-16s depth %u  branch %6zu  leaf %8zu  overflow %6zu  entries %9zu\n", "(main)",
               st.ms_depth, st.ms_branch_pages, st.ms_leaf_pages, st.ms_overflow_pages,
               st.ms_entries);
        mdb_cursor_open(txn, main_dbi, &cur);
        while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0) {
                char name[64];
                MDB_dbi dbi;

                snprintf(name, sizeof(name), "%.*s", (int)k.mv_size, (const char *)k.mv_data);
                if (mdb_dbi_open(txn, name, 0, &dbi) != 0 || mdb_stat(txn, dbi, &st) != 0)
                        continue;
                printf("%-16s depth %u  branch %6zu  leaf %8zu  overflow %6zu  entries %9zu\n",
                       name, st.ms_depth, st.ms_branch_pages, st.ms_leaf_pages,
                       st.ms_overflow_pages, st.ms_entries);
        }
        mdb_cursor_close(cur);
        mdb_txn_abort(txn);
        mdb_env_close(env);
}

int
main(int argc, char **argv)
{
        static char subject[] = "Charged twice for the same trip";
        static char description[] = "The statement shows the same toll twice on the 3rd.";
        static char cats[][16] = {"billing", "network", "metering", "equipment", "other"};
        static char actor[] = "agent:bench";
        conf_t *cfg = NULL;
        store_t *store = NULL;
        service_t *svc = NULL;
        char *errors = NULL;
        uint64_t *bc, *bd, *wc, *wd, seed = 7;
        size_t count = argc > 3 ? strtoul(argv[3], NULL, 10) : 2000, n = 0;
        size_t batch = argc > 4 ? strtoul(argv[4], NULL, 10) : 1;
        bool by_tree = argc > 5 && strcmp(argv[5], "--trees") == 0;
        int r;

        if (argc < 3 || count == 0 || batch == 0 || batch > BATCH_MAX) {
                fprintf(stderr, "usage: bench_pages CONF STATE_DIR [COUNT [BATCH [--trees]]]\n");
                return 2;
        }
        r = config_load(argv[1], &cfg, &errors);
        if (r < 0) {
                fprintf(stderr, "bench_pages: %s: %s\n", argv[1], errors ? errors : strerror(-r));
                return 1;
        }
        if (config_set_string(&cfg->state_dir, argv[2]) < 0)
                return 1;
        log_set_level(LOG_WARNING);
        r = store_open_country(cfg->state_dir, cfg->store_max, cfg->country_code, &store);
        if (r == 0)
                r = service_new(store, cfg, &svc);
        if (r < 0) {
                fprintf(stderr, "bench_pages: %s: %s\n", argv[2], strerror(-r));
                return 1;
        }
        bc = calloc(count, sizeof(*bc));
        bd = calloc(count, sizeof(*bd));
        wc = calloc(count, sizeof(*wc));
        wd = calloc(count, sizeof(*wd));
        if (bc == NULL || bd == NULL || wc == NULL || wd == NULL)
                return 1;
        if (by_tree)
                pagemap_start();
        for (size_t i = 0; i < count && r == 0; i += batch) {
                static pb_request_t q[BATCH_MAX];
                static Complaint__V1__CreateRequest cr[BATCH_MAX];
                static Complaint__V1__AssignRequest ar[BATCH_MAX];
                static pb_complainant_t who[BATCH_MAX];
                static char rid[BATCH_MAX][64], phone[BATCH_MAX][32];
                uint64_t ids[BATCH_MAX] = {0};
                size_t k = count - i < batch ? count - i : batch;
                struct io w, e;

                for (size_t j = 0; j < k; j++) {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        complaint__v1__request__init(&q[j]);
                        complaint__v1__create_request__init(&cr[j]);
                        complaint__v1__complainant__init(&who[j]);
                        snprintf(phone[j], sizeof(phone[j]), "+49 30 %07" PRIu64, seed % 400000);
                        who[j].phone = phone[j];
                        cr[j].channel = 1 + (int)(seed % 7);
                        cr[j].complainant = &who[j];
                        cr[j].subject = subject;
                        cr[j].description = description;
                        cr[j].category = cats[(seed >> 8) % 5];
                        cr[j].nature = 1 + (int)((seed >> 16) % 4);
                        cr[j].priority = 1 + (int)((seed >> 24) % 3);
                        q[j].schema_version = PB_SCHEMA_VERSION;
                        q[j].actor = actor;
                        q[j].request_id = rid[j];
                        snprintf(rid[j], sizeof(rid[j]), "bench-pages-%d-%zu-c-%" PRIu64,
                                 (int)getpid(), i + j, seed);
                        q[j].body_case = COMPLAINT__V1__REQUEST__BODY_CREATE;
                        q[j].create = &cr[j];
                }
                w = s_io();
                r = s_batch(svc, q, k, ids);
                e = s_io();
                if (by_tree && r == 0)
                        r = pagemap_attribute(argv[2]);
                bc[n] = (e.write_bytes - w.write_bytes) / k;
                wc[n] = (e.wchar - w.wchar) / k;
                if (r < 0)
                        break;
                for (size_t j = 0; j < k; j++) {
                        complaint__v1__assign_request__init(&ar[j]);
                        ar[j].id = ids[j];
                        rid[j][strlen(rid[j]) - strlen(strrchr(rid[j], '-')) - 1] = 'a';
                        q[j].body_case = COMPLAINT__V1__REQUEST__BODY_ASSIGN;
                        q[j].assign = &ar[j];
                }
                w = s_io();
                r = s_batch(svc, q, k, NULL);
                e = s_io();
                if (by_tree && r == 0)
                        r = pagemap_attribute(argv[2]);
                bd[n] = (e.write_bytes - w.write_bytes) / k;
                wd[n] = (e.wchar - w.wchar) / k;
                n++;
        }
        service_free(&svc);
        store_close(&store);
        if (r < 0) {
                fprintf(stderr, "bench_pages: a request failed: %s\n", strerror(-r));
                return 1;
        }
        printf("%zu creates and dispatches, %zu per commit, store %s\n", count, batch, argv[2]);
        s_print("create", "wchar", wc, n);
        s_print("create", "write_bytes", bc, n);
        s_print("dispatch", "wchar", wd, n);
        s_print("dispatch", "write_bytes", bd, n);
        if (by_tree) {
                printf("pages written by tree, creates and dispatches together (--trees):\n");
                pagemap_print(2 * count);
        }
        s_trees(argv[2]);
        free(bc);
        free(bd);
        free(wc);
        free(wd);
        config_free(&cfg);
        return 0;
}
