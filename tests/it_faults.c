/* it_faults.c: issue 13 (DESIGN §12), fail-stop on faults and bounded work under hostile load,
 * each case against the real daemon started by the test:
 *  1. an I/O error on commit (EIO from pwrite or fdatasync; ENOSPC or a short write on a disk
 *     with room), injected by faultshim (tests/faultshim.c, preloaded): the batch in hand gets
 *     UNAVAILABLE or no reply, never OK for what is not on disk, never INTERNAL; the daemon
 *     exits non-zero within 5 s; after a restart every acknowledged change is there, and the
 *     unanswered ones, retried with their request ids, take effect once.
 *  2. a full disk (an 8 MiB tmpfs the test mounts, filled by a filler file): refusals are
 *     STORAGE_FULL, reads go on, the daemon stays up and does not grow its map; once the filler
 *     is gone creates succeed again without a restart.
 *  3. backups while concurrent creates grow a small map: no crash, each backup whole (checked
 *     with --check-store, mode 0640) or refused with a clear error, never "Bad address".
 *  4. the state directory deleted (or moved away) while running: the daemon exits non-zero
 *     within 5 s, and nothing sent after the deletion is acknowledged.
 *  5. truncated, empty and foreign data files: the daemon refuses to start and
 *     --check-store reports them, each in its own words, without SIGBUS.
 *  6. 1 MiB subscriptions on the event socket, 20 of them: the daemon's RSS stays bounded and
 *     it goes on publishing to a normal subscriber.
 *  7. file descriptors: with a hard limit of 128 and 200 idle TCP connections the log says
 *     the descriptors are running out; with 4096 and 1,100 of them a request is answered.
 * Measured figures are printed as "figure:" lines, skipped cases as "skipped:" lines. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>
#include <zmq.h>

#include "check.h"
#include "harness.h"

CHECK_DEFINE_COUNTERS();

#ifndef FAULTSHIM_LIB
#error "FAULTSHIM_LIB: the path of the faultshim module, set by tests/CMakeLists.txt"
#endif
#ifndef E_UNAVAILABLE
#define E_UNAVAILABLE COMPLAINT__V1__ERROR_CODE__ERROR_CODE_UNAVAILABLE
#endif
#ifndef E_BUSY
#define E_BUSY COMPLAINT__V1__ERROR_CODE__ERROR_CODE_BUSY
#endif

/* How long the daemon may take to stop after a fault. */
#define FAIL_STOP_MS 5000
/* Requests in flight when a fault is armed. */
#define BURST 8
#define IDS_MAX 4096

static harness_t h;

/* ------------------------------------------------------------------ helpers */

/* Points the harness at a fresh state directory h.dir/name and writes its configuration: the
 * harness's heartbeat of 100 ms and the (from, to) pairs of a NULL-terminated list. */
static void
s_setup(const char *name, const char *const *pairs)
{
        const char *all[16] = {"heartbeat = \"1s\";", "heartbeat = \"100ms\";"};
        size_t n = 2;

        for (size_t i = 0; pairs && pairs[i] && n < 14; i++)
                all[n++] = pairs[i];
        all[n] = NULL;
        snprintf(h.state, sizeof(h.state), "%s/%s", h.dir, name);
        REQUIRE(harness_write_conf(h.conf, all) == 0);
}

/* A description of 6,000 bytes, for creates that fill the store fast. */
static char long_description[6001];

/* A create whose request id is rid, with the request id in its subject and in the
 * complainant's address (one complainant per complaint: no repeat flags), and a long
 * description when big. Encoded; the caller frees it. */
static uint8_t *
s_create_bytes_sized(const char *rid, bool big, size_t *ret_len)
{
        Complaint__V1__CreateRequest q = COMPLAINT__V1__CREATE_REQUEST__INIT;
        pb_complainant_t who = COMPLAINT__V1__COMPLAINANT__INIT;
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        char subject[96], email[96];

        snprintf(subject, sizeof(subject), "subject %s", rid);
        snprintf(email, sizeof(email), "%s@example.org", rid);
        who.email = email;
        q.channel = COMPLAINT__V1__CHANNEL__CHANNEL_WEB;
        q.complainant = &who;
        q.subject = subject;
        q.description = big ? long_description : (char *)"Filed by the fault-injection test.";
        q.category = (char *)"metering";
        req.schema_version = PB_SCHEMA_VERSION;
        req.body_case = COMPLAINT__V1__REQUEST__BODY_CREATE;
        req.create = &q;
        req.request_id = (char *)(uintptr_t)rid;
        req.actor = (char *)"faults";
        return harness_encode(&req, ret_len);
}

static uint8_t *
s_create_bytes(const char *rid, size_t *ret_len)
{
        return s_create_bytes_sized(rid, false, ret_len);
}

/* Sends a create as rid and waits for its reply (caller frees; NULL: none within
 * timeout_ms). */
static pb_reply_t *
s_create_sized(harness_client_t *c, const char *rid, bool big, int timeout_ms)
{
        size_t len;
        uint8_t *bytes = s_create_bytes_sized(rid, big, &len);
        pb_reply_t *r = NULL;

        if (bytes == NULL || harness_client_call_raw(c, bytes, len, timeout_ms, &r) < 0)
                r = NULL;
        free(bytes);
        return r;
}

static pb_reply_t *
s_create(harness_client_t *c, const char *rid, int timeout_ms)
{
        return s_create_sized(c, rid, false, timeout_ms);
}

/* Sends a create as rid and waits up to timeout_ms for its reply or the daemon's exit,
 * whichever comes first. Returns 0 with the reply in *ret (caller frees), -ECHILD when the
 * daemon exited first, -ETIMEDOUT, or another negative errno. */
static int
s_create_or_exit(harness_client_t *c, const char *rid, int timeout_ms, pb_reply_t **ret)
{
        size_t len;
        uint8_t *bytes = s_create_bytes(rid, &len);
        const void *data[2] = {"", bytes};
        size_t size[2] = {0, len};
        zmq_pollitem_t items[2] = {{.socket = c->sock, .events = ZMQ_POLLIN},
                                   {.fd = h.pidfd, .events = ZMQ_POLLIN}};
        harness_frames_t f;
        int r;

        if (bytes == NULL)
                return -ENOMEM;
        r = harness_client_send(c, data, size, 2);
        free(bytes);
        if (r < 0)
                return r;
        r = zmq_poll(items, h.pidfd >= 0 ? 2 : 1, timeout_ms);
        if (r <= 0 || !(items[0].revents & ZMQ_POLLIN)) {
                harness_client_reset(c);
                return r < 0 ? -zmq_errno() : r == 0 ? -ETIMEDOUT : -ECHILD;
        }
        r = harness_client_recv(c, 0, &f);
        if (r < 0)
                return r;
        *ret = f.n == 2 ? complaint__v1__reply__unpack(NULL, f.size[1], f.data[1]) : NULL;
        harness_frames_free(&f);
        return *ret ? 0 : -EPROTO;
}

/* Replies by error code, for creates sent in bursts. */
#define CODES_MAX 32

/* Creates n complaints named prefix-0, prefix-1, ..., BURST at a time (with a long
 * description when big), records the ids of those acknowledged in ids (*n_ids grows) and
 * counts every reply by its error code in codes (CODES_MAX of them; NULL: refusals are
 * printed instead). Stops after a burst with a refusal when stop_refused. Returns how many
 * were acknowledged. */
static int
s_create_tally(harness_client_t *c, const char *prefix, int n, bool big, uint64_t *ids,
               size_t *n_ids, int *codes, bool stop_refused)
{
        int acked = 0;
        bool refused = false;

        for (int first = 0; first < n && !(stop_refused && refused); first += BURST) {
                int k = n - first < BURST ? n - first : BURST, got = 0;

                for (int i = 0; i < k; i++) {
                        char rid[64];
                        size_t len;
                        uint8_t *bytes;
                        const void *data[2];
                        size_t size[2] = {0, 0};

                        snprintf(rid, sizeof(rid), "%s-%d", prefix, first + i);
                        bytes = s_create_bytes_sized(rid, big, &len);
                        REQUIRE(bytes != NULL);
                        data[0] = "";
                        data[1] = bytes;
                        size[1] = len;
                        CHECK_INT(harness_client_send(c, data, size, 2), 0);
                        free(bytes);
                }
                /* One reply per request, each within the call timeout. */
                for (int i = 0; i < k; i++) {
                        harness_frames_t f;
                        pb_reply_t *r;

                        if (harness_client_recv(c, HARNESS_CALL_TIMEOUT_MS, &f) < 0)
                                break;
                        r = f.n == 2 ? complaint__v1__reply__unpack(NULL, f.size[1], f.data[1])
                                     : NULL;
                        harness_frames_free(&f);
                        got++;
                        if (r == NULL)
                                continue;
                        if (codes)
                                codes[r->error < CODES_MAX ? r->error : CODES_MAX - 1]++;
                        if (r->error == E_OK && r->complaint) {
                                if (*n_ids < IDS_MAX)
                                        ids[(*n_ids)++] = r->complaint->id;
                                acked++;
                        } else {
                                refused = true;
                                if (codes == NULL)
                                        fprintf(stderr, "create refused: %s %s\n",
                                                pb_error_name(r->error), r->message);
                        }
                        complaint__v1__reply__free_unpacked(r, NULL);
                }
                if (got < k) {
                        fprintf(stderr, "%d of %d creates unanswered\n", k - got, k);
                        harness_client_reset(c);
                        break;
                }
        }
        return acked;
}

/* Creates n small complaints; see s_create_tally(). */
static int
s_create_many(harness_client_t *c, const char *prefix, int n, uint64_t *ids, size_t *n_ids)
{
        return s_create_tally(c, prefix, n, false, ids, n_ids, NULL, false);
}

/* Gets complaint id; the reply (caller frees) or NULL. */
static pb_reply_t *
s_get(harness_client_t *c, uint64_t id)
{
        Complaint__V1__GetRequest g = COMPLAINT__V1__GET_REQUEST__INIT;
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        pb_reply_t *r = NULL;

        g.id = id;
        req.schema_version = PB_SCHEMA_VERSION;
        req.body_case = COMPLAINT__V1__REQUEST__BODY_GET;
        req.get = &g;
        if (harness_client_call(c, &req, HARNESS_CALL_TIMEOUT_MS, &r) < 0)
                return NULL;
        return r;
}

/* How many of ids get finds (each once: ids are distinct). */
static size_t
s_count_found(harness_client_t *c, const uint64_t *ids, size_t n)
{
        size_t found = 0;

        for (size_t i = 0; i < n; i++) {
                pb_reply_t *r = s_get(c, ids[i]);

                if (r && r->error == E_OK && r->complaint && r->complaint->id == ids[i])
                        found++;
                else
                        fprintf(stderr, "complaint %" PRIu64 " acknowledged but not found: %s\n",
                                ids[i], r ? r->message : "no reply");
                if (r)
                        complaint__v1__reply__free_unpacked(r, NULL);
        }
        return found;
}

/* The number of complaints in the store, from a status request (-1: no answer). */
static int64_t
s_total(void)
{
        pb_reply_t *r = harness_status(&h);
        int64_t n = 0;

        if (r == NULL)
                return -1;
        for (int s = 1; s < ST_COUNT; s++)
                n += (int64_t)harness_status_count(r, s);
        complaint__v1__reply__free_unpacked(r, NULL);
        return n;
}

static off_t
s_file_size(const char *path)
{
        struct stat st;

        return stat(path, &st) == 0 ? st.st_size : -1;
}

static int
s_write_file(const char *path, const void *data, size_t len)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
        int r = 0;

        if (fd < 0)
                return -errno;
        if (len > 0 && write(fd, data, len) != (ssize_t)len)
                r = -EIO;
        if (close(fd) < 0 && r == 0)
                r = -errno;
        return r;
}

/* The first len bytes of the file at path (malloc'ed), or NULL. */
static uint8_t *
s_read_head(const char *path, size_t len)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        uint8_t *buf = malloc(len ? len : 1);

        if (fd < 0 || buf == NULL || pread(fd, buf, len, 0) != (ssize_t)len) {
                if (fd >= 0)
                        close(fd);
                free(buf);
                return NULL;
        }
        close(fd);
        return buf;
}

/* How many descriptors pid has open, or -1. */
static int
s_proc_fds(pid_t pid)
{
        char path[64];
        DIR *d;
        struct dirent *e;
        int n = 0;

        snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
        d = opendir(path);
        if (d == NULL)
                return -1;
        while ((e = readdir(d)) != NULL)
                n += e->d_name[0] != '.';
        closedir(d);
        return n;
}

/* ------------------------------------------------------------------ 1. I/O error on commit */

struct burst {
        char rid[BURST][64];
        uint8_t *bytes[BURST];
        size_t len[BURST];
        pb_reply_t *reply[BURST];
};

/* Sends the burst's requests on c and collects replies until each has one, the daemon has
 * exited (and what it sent before is read), or timeout_ms passed. */
static void
s_burst_collect(harness_client_t *c, struct burst *b, int timeout_ms)
{
        int64_t deadline = harness_now_ms() + timeout_ms;
        int answered = 0;
        bool exited = false;

        for (int i = 0; i < BURST; i++) {
                const void *data[2] = {"", b->bytes[i]};
                size_t size[2] = {0, b->len[i]};

                CHECK_INT(harness_client_send(c, data, size, 2), 0);
        }
        /* Each pass takes one reply, sees the exit, or waits out the deadline; after the exit
         * only what is already queued is read. */
        for (int i = 0; i < 4 * BURST + 100 && answered < BURST; i++) {
                zmq_pollitem_t items[2] = {{.socket = c->sock, .events = ZMQ_POLLIN},
                                           {.fd = h.pidfd, .events = ZMQ_POLLIN}};
                int64_t left = deadline - harness_now_ms();
                harness_frames_t f;
                pb_reply_t *r;
                int n;

                if (left < 0)
                        break;
                n = zmq_poll(items, exited || h.pidfd < 0 ? 1 : 2, exited ? 100 : (long)left);
                if (n < 0 && zmq_errno() == EINTR)
                        continue;
                if (n <= 0)
                        break;
                if (!exited && (items[1].revents & ZMQ_POLLIN))
                        exited = true;
                if (!(items[0].revents & ZMQ_POLLIN))
                        continue;
                if (harness_client_recv(c, 0, &f) < 0)
                        continue;
                r = f.n == 2 ? complaint__v1__reply__unpack(NULL, f.size[1], f.data[1]) : NULL;
                harness_frames_free(&f);
                for (int k = 0; r && k < BURST; k++) {
                        if (b->reply[k] == NULL && strcmp(r->request_id, b->rid[k]) == 0) {
                                b->reply[k] = r;
                                r = NULL;
                                answered++;
                        }
                }
                if (r) {
                        fprintf(stderr, "a reply to no request of the burst: %s\n", r->request_id);
                        complaint__v1__reply__free_unpacked(r, NULL);
                }
        }
}

/* One I/O fault: the daemon runs with faultshim preloaded, failing call (a FAULTSHIM_CALL
 * list) with error (a FAULTSHIM_ERROR) for writes of at least min_size bytes. */
static void
test_io_fault(const char *name, const char *call, const char *error, const char *min_size)
{
        static uint64_t ids[IDS_MAX];
        size_t n_ids = 0, n_before;
        char arm[PATH_MAX], env_call[64], env_error[64], env_min[64], env_arm[PATH_MAX + 16];
        char env_asan[512], prefix[64];
        const char *asan = getenv("ASAN_OPTIONS");
        const char *env[] = {
            "LD_PRELOAD=" FAULTSHIM_LIB, env_call, env_error, env_min, env_arm, env_asan, NULL};
        harness_start_opts_t opts = {.env = env};
        harness_client_t c;
        struct burst b = {0};
        int ok = 0, unavailable = 0, internal = 0, other = 0, none = 0, code;
        int64_t armed_at, stopped_ms;
        off_t log_at;
        int fd;

        s_setup(name, NULL);
        snprintf(arm, sizeof(arm), "%s/arm-%s", h.dir, name);
        snprintf(env_call, sizeof(env_call), "FAULTSHIM_CALL=%s", call);
        snprintf(env_error, sizeof(env_error), "FAULTSHIM_ERROR=%s", error);
        snprintf(env_min, sizeof(env_min), "FAULTSHIM_MIN_SIZE=%s", min_size);
        snprintf(env_arm, sizeof(env_arm), "FAULTSHIM_ARM=%s", arm);
        /* The shim comes before the sanitizers' runtime in a sanitized daemon. */
        snprintf(env_asan, sizeof(env_asan), "ASAN_OPTIONS=%s%sverify_asan_link_order=0",
                 asan ? asan : "", asan && asan[0] ? ":" : "");
        REQUIRE(harness_start_with(&h, &opts) == 0);
        REQUIRE(harness_client_open(&h, &c) == 0);
        snprintf(prefix, sizeof(prefix), "%s-before", name);
        CHECK_INT(s_create_many(&c, prefix, 20, ids, &n_ids), 20);
        n_before = n_ids;

        /* Arm, and send a burst: the batch that meets the fault. */
        log_at = harness_log_size(&h);
        fd = open(arm, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        REQUIRE(fd >= 0);
        close(fd);
        for (int i = 0; i < BURST; i++) {
                snprintf(b.rid[i], sizeof(b.rid[i]), "%s-burst-%d", name, i);
                b.bytes[i] = s_create_bytes(b.rid[i], &b.len[i]);
                REQUIRE(b.bytes[i] != NULL);
        }
        armed_at = harness_now_ms();
        s_burst_collect(&c, &b, FAIL_STOP_MS);
        code = harness_wait_exit(&h, (int)(FAIL_STOP_MS - (harness_now_ms() - armed_at)) > 0
                                         ? (int)(FAIL_STOP_MS - (harness_now_ms() - armed_at))
                                         : 0);
        stopped_ms = harness_now_ms() - armed_at;
        for (int i = 0; i < BURST; i++) {
                pb_reply_t *r = b.reply[i];

                if (r == NULL)
                        none++;
                else if (r->error == E_OK)
                        ok++;
                else if (r->error == E_UNAVAILABLE)
                        unavailable++;
                else if (r->error == E_INTERNAL)
                        internal++;
                else
                        other++;
                if (r && r->error != E_OK && r->error != E_UNAVAILABLE)
                        fprintf(stderr, "%s: %s answered %s: %s\n", name, b.rid[i],
                                pb_error_name(r->error), r->message);
                if (r && r->error == E_OK && r->complaint && n_ids < IDS_MAX)
                        ids[n_ids++] = r->complaint->id;
        }
        printf("figure: %s (%s %s): %s %d %" PRId64 " ms after the fault was armed; burst of %d: "
               "%d OK, %d UNAVAILABLE, %d INTERNAL, %d other, %d unanswered\n",
               name, call, error, code == -ETIMEDOUT ? "still running, status" : "exit status",
               code, stopped_ms, BURST, ok, unavailable, internal, other, none);
        CHECK(harness_log_count(&h, "faultshim: injected", log_at) > 0);
        /* The daemon stopped by itself, with a failure status, not a crash. */
        CHECK(code > 0 && code < 128);
        CHECK(stopped_ms <= FAIL_STOP_MS);
        CHECK_INT(internal, 0);
        CHECK_INT(other, 0);
        if (code == -ETIMEDOUT)
                harness_kill(&h);

        /* Restart without the fault: what was acknowledged is there... */
        unlink(arm);
        REQUIRE(harness_start(&h) == 0);
        harness_client_reset(&c);
        CHECK_INT(s_count_found(&c, ids, n_ids), n_ids);
        /* ... and what was not, retried with its request id, takes effect once: a change that
         * made it to disk unacknowledged is answered from its record, not made again. */
        for (int i = 0; i < BURST; i++) {
                pb_reply_t *r = NULL;

                if (b.reply[i] && b.reply[i]->error == E_OK)
                        continue;
                CHECK_INT(
                    harness_client_call_raw(&c, b.bytes[i], b.len[i], HARNESS_CALL_TIMEOUT_MS, &r),
                    0);
                CHECK(r && r->error == E_OK && r->complaint);
                if (r && r->error == E_OK && r->complaint && n_ids < IDS_MAX)
                        ids[n_ids++] = r->complaint->id;
                if (r)
                        complaint__v1__reply__free_unpacked(r, NULL);
        }
        CHECK_INT(n_ids, n_before + BURST);
        CHECK_INT(s_total(), (int64_t)n_ids);
        for (size_t i = 0; i < n_ids; i++)
                for (size_t k = i + 1; k < n_ids; k++)
                        CHECK(ids[i] != ids[k]);
        for (int i = 0; i < BURST; i++) {
                free(b.bytes[i]);
                if (b.reply[i])
                        complaint__v1__reply__free_unpacked(b.reply[i], NULL);
        }
        harness_client_close(&c);
        CHECK_INT(harness_stop(&h), 0);
}

/* ------------------------------------------------------------------ 2. full disk */

static char mounted[PATH_MAX];

static void
s_unmount(void)
{
        if (mounted[0] && umount2(mounted, MNT_DETACH) == 0)
                mounted[0] = '\0';
}

/* Writes a file at path until the file system of path has at most leave bytes free (0: until
 * it is full). Returns the bytes written. */
static off_t
s_fill(const char *path, uint64_t leave)
{
        static char chunk[65536];
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        off_t total = 0;

        REQUIRE(fd >= 0);
        memset(chunk, 'x', sizeof(chunk));
        /* At most the 8 MiB of the file system in steps of 64 KiB, then of 4 KiB up to its last
         * page. */
        for (int i = 0; i < 256 + 64; i++) {
                struct statvfs vfs;
                ssize_t n;

                if (statvfs(path, &vfs) == 0 && (uint64_t)vfs.f_bavail * vfs.f_frsize <= leave)
                        break;
                n = write(fd, chunk, i < 256 ? sizeof(chunk) : 4096);
                if (n <= 0 && i < 256)
                        i = 255; /* on to the small steps */
                else if (n <= 0)
                        break;
                else
                        total += n;
        }
        fsync(fd);
        close(fd);
        return total;
}

static uint64_t
s_free_bytes(const char *path)
{
        struct statvfs vfs;

        return statvfs(path, &vfs) == 0 ? (uint64_t)vfs.f_bavail * vfs.f_frsize : 0;
}

/* Creates sent to the full disk after the first refusal. */
#define FULL_MORE 64

static void
test_full_disk(void)
{
        static uint64_t ids[IDS_MAX];
        /* Below 64 MiB the map starts at LMDB's 1 MiB and doubles as the store grows. */
        static const char *const pairs[] = {"store_max = \"8G\";", "store_max = \"32M\";", NULL};
        char fs[PATH_MAX], room[PATH_MAX + 16], rest[PATH_MAX + 16], data[PATH_MAX + 16];
        int codes[CODES_MAX] = {0}, after[CODES_MAX] = {0}, refused = 0, refused_after = 0;
        size_t n_ids = 0, n_small;
        harness_client_t c;
        off_t log_at, size_at, size_end, filled;
        int64_t t0;
        pb_reply_t *r;

        snprintf(fs, sizeof(fs), "%s/fs", h.dir);
        REQUIRE(mkdir(fs, 0750) == 0);
        if (mount("tmpfs", fs, "tmpfs", MS_NOSUID | MS_NODEV, "size=8m,mode=0750") < 0) {
                if (errno == EPERM || errno == EACCES) {
                        printf("skipped: full disk: cannot mount a tmpfs on %s: %s\n", fs,
                               strerror(errno));
                        return;
                }
                fprintf(stderr, "mount tmpfs on %s: %s\n", fs, strerror(errno));
                CHECK(!"the tmpfs is mounted");
                return;
        }
        snprintf(mounted, sizeof(mounted), "%s", fs);
        s_setup("fs/state", pairs);
        REQUIRE(harness_start(&h) == 0);
        REQUIRE(harness_client_open(&h, &c) == 0);
        CHECK_INT(s_create_many(&c, "full-small", 30, ids, &n_ids), 30);
        n_small = n_ids;

        /* A filler leaves 3 MiB, which complaints with long descriptions fill, growing the map
         * on the way, until the disk refuses them; a second filler takes what is left. */
        snprintf(room, sizeof(room), "%s/filler-room", fs);
        snprintf(rest, sizeof(rest), "%s/filler-rest", fs);
        snprintf(data, sizeof(data), "%s/data.mdb", h.state);
        filled = s_fill(room, 3u << 20);
        t0 = harness_now_ms();
        s_create_tally(&c, "full-big", 2000, true, ids, &n_ids, codes, true);
        for (int i = 1; i < CODES_MAX; i++)
                refused += codes[i];
        log_at = harness_log_size(&h);
        size_at = s_file_size(data);
        filled += s_fill(rest, 0);
        printf("figure: full disk: fillers of %jd bytes; %d creates with long descriptions "
               "accepted in %" PRId64 " ms before the disk refused %d (%d STORAGE_FULL), with the "
               "map grown %zu times; %ju bytes free now\n",
               (intmax_t)filled, codes[E_OK], harness_now_ms() - t0, refused, codes[E_STORAGE_FULL],
               harness_log_count(&h, "grew the map", 0), (uintmax_t)s_free_bytes(fs));
        CHECK(refused > 0);
        CHECK_INT(codes[E_STORAGE_FULL], refused);

        /* On the full disk: more creates, each refused as a full disk or taken (in pages
         * LMDB freed). */
        s_create_tally(&c, "full-more", FULL_MORE, true, ids, &n_ids, after, false);
        for (int i = 1; i < CODES_MAX; i++)
                refused_after += after[i];
        size_end = s_file_size(data);
        printf("figure: full disk: then %d creates: %d OK, %d refused (%d STORAGE_FULL, %d "
               "INTERNAL); data.mdb %jd bytes at the first refusal, %jd at the end; %zu log "
               "lines of failed batches since the first refusal\n",
               FULL_MORE, after[E_OK], refused_after, after[E_STORAGE_FULL], after[E_INTERNAL],
               (intmax_t)size_at, (intmax_t)size_end,
               harness_log_count(&h, "store: a batch of", log_at));
        CHECK(refused_after > 0);
        CHECK_INT(after[E_STORAGE_FULL], refused_after);
        CHECK_INT(after[E_INTERNAL], 0);

        /* Reads go on, the daemon stays, the map was not grown on the full disk. */
        r = s_get(&c, ids[0]);
        CHECK(r && r->error == E_OK && r->complaint && r->complaint->id == ids[0]);
        if (r)
                complaint__v1__reply__free_unpacked(r, NULL);
        CHECK(s_total() >= (int64_t)n_small);
        CHECK(harness_running(&h));
        CHECK_INT(harness_log_count(&h, "grew the map", log_at), 0);

        /* Room again: creates succeed without a restart. */
        REQUIRE(unlink(rest) == 0);
        REQUIRE(unlink(room) == 0);
        r = s_create_sized(&c, "full-after-first", true, HARNESS_CALL_TIMEOUT_MS);
        CHECK(r && r->error == E_OK);
        if (r && r->error != E_OK)
                fprintf(stderr, "full disk: with room again: %s %s\n", pb_error_name(r->error),
                        r->message);
        if (r && r->error == E_OK && r->complaint && n_ids < IDS_MAX)
                ids[n_ids++] = r->complaint->id;
        if (r)
                complaint__v1__reply__free_unpacked(r, NULL);
        CHECK_INT(s_create_tally(&c, "full-after", 16, true, ids, &n_ids, NULL, false), 16);
        CHECK_INT(s_count_found(&c, ids, n_ids), n_ids);
        harness_client_close(&c);
        CHECK_INT(harness_stop(&h), 0);
        s_unmount();
}

/* ------------------------------------------------------------------ 3. backup during growth */

struct grower {
        pthread_t thread;
        int idx;
        atomic_bool *stop;
        int ok, full, busy, internal, other, none;
};

static void *
s_grow(void *arg)
{
        struct grower *g = arg;
        harness_client_t c;
        int64_t end = harness_now_ms() + 30000;

        if (harness_client_open(&h, &c) < 0)
                return NULL;
        for (int i = 0; i < 100000 && !atomic_load(g->stop) && harness_now_ms() < end; i++) {
                char rid[64];
                pb_reply_t *r;

                snprintf(rid, sizeof(rid), "grow-%d-%d", g->idx, i);
                r = s_create_sized(&c, rid, true, HARNESS_CALL_TIMEOUT_MS);
                if (r == NULL)
                        g->none++;
                else if (r->error == E_OK)
                        g->ok++;
                else if (r->error == E_STORAGE_FULL)
                        g->full++;
                else if (r->error == E_BUSY)
                        g->busy++;
                else if (r->error == E_INTERNAL)
                        g->internal++;
                else
                        g->other++;
                if (r && r->error != E_OK && g->internal + g->other <= 3)
                        fprintf(stderr, "grow: %s refused: %s %s\n", rid, pb_error_name(r->error),
                                r->message);
                if (r)
                        complaint__v1__reply__free_unpacked(r, NULL);
        }
        harness_client_close(&c);
        return NULL;
}

static pb_reply_t *
s_backup(harness_client_t *c, const char *name)
{
        Complaint__V1__BackupRequest b = COMPLAINT__V1__BACKUP_REQUEST__INIT;
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        pb_reply_t *r = NULL;

        b.name = (char *)(uintptr_t)name;
        req.schema_version = PB_SCHEMA_VERSION;
        req.body_case = COMPLAINT__V1__REQUEST__BODY_BACKUP;
        req.backup = &b;
        req.request_id = (char *)(uintptr_t)name;
        req.actor = (char *)"operator";
        if (harness_client_call(c, &req, 30000, &r) < 0)
                return NULL;
        return r;
}

#define GROWERS 3
#define BACKUPS_MAX 40
/* The map starts at LMDB's 1 MiB below 64 MiB of daemon.store_max, and doubles: to 16 MiB. */
#define GROWTHS_WANTED 4

static void
test_backup_growth(void)
{
        static const char *const pairs[] = {"store_max = \"8G\";", "store_max = \"32M\";", NULL};
        static struct grower g[GROWERS];
        char paths[BACKUPS_MAX][PATH_MAX];
        atomic_bool stop = false;
        harness_client_t c;
        int n_ok = 0, n_failed = 0, n_bad_address = 0, growths_during = 0, growths;
        int64_t began = harness_now_ms(), end = began + 8000;
        off_t log_at;
        int ok = 0, full = 0, busy = 0, internal = 0, other = 0, none = 0;

        s_setup("growth", pairs);
        REQUIRE(harness_start(&h) == 0);
        REQUIRE(harness_client_open(&h, &c) == 0);
        log_at = harness_log_size(&h);
        for (int i = 0; i < GROWERS; i++) {
                g[i] = (struct grower){.idx = i, .stop = &stop};
                REQUIRE(pthread_create(&g[i].thread, NULL, s_grow, &g[i]) == 0);
        }
        /* Backups back to back while the creates grow the map, until it grew a few times
         * with backups around it (or the time is up). */
        for (int i = 0; i < BACKUPS_MAX && harness_now_ms() < end; i++) {
                char name[32];
                off_t before = harness_log_size(&h);
                pb_reply_t *r;

                snprintf(name, sizeof(name), "grow-%d", i);
                r = s_backup(&c, name);
                growths_during += (int)harness_log_count(&h, "grew the map", before);
                paths[n_ok][0] = '\0';
                if (r == NULL) {
                        n_failed++;
                        fprintf(stderr, "backup %s: no reply\n", name);
                } else if (r->error == E_OK && r->backup) {
                        snprintf(paths[n_ok++], sizeof(paths[0]), "%s", r->backup->path);
                } else {
                        n_failed++;
                        fprintf(stderr, "backup %s refused: %s %s\n", name, pb_error_name(r->error),
                                r->message);
                        /* A clear error says what failed, in words. */
                        CHECK(r->message && strlen(r->message) > 10);
                }
                if (r && r->message && strstr(r->message, "Bad address"))
                        n_bad_address++;
                if (r)
                        complaint__v1__reply__free_unpacked(r, NULL);
                if (harness_log_count(&h, "grew the map", log_at) >= GROWTHS_WANTED ||
                    !harness_running(&h))
                        break;
        }
        atomic_store(&stop, true);
        for (int i = 0; i < GROWERS; i++) {
                pthread_join(g[i].thread, NULL);
                ok += g[i].ok;
                full += g[i].full;
                busy += g[i].busy;
                internal += g[i].internal;
                other += g[i].other;
                none += g[i].none;
        }
        growths = (int)harness_log_count(&h, "grew the map", log_at);
        printf("figure: backup during growth: %" PRId64 " ms; map grown %d times (%d while a "
               "backup was asked for); %d backups whole, %d refused; creates: %d OK, %d "
               "STORAGE_FULL, %d BUSY, %d INTERNAL, %d other, %d unanswered\n",
               harness_now_ms() - began, growths, growths_during, n_ok, n_failed, ok, full, busy,
               internal, other, none);
        CHECK(growths >= 1);
        CHECK(n_ok >= 1);
        CHECK_INT(n_bad_address, 0);
        CHECK_INT(harness_log_count(&h, "Bad address", log_at), 0);
        /* Creates that met a backup while the map was full wait or are refused as such: an
         * INTERNAL error says the daemon failed, and it did not. */
        CHECK_INT(internal, 0);
        CHECK_INT(other, 0);
        CHECK_INT(none, 0);
        /* No crash: the daemon is there and answers. */
        CHECK(harness_running(&h));
        CHECK(s_total() >= ok);
        harness_client_close(&c);
        CHECK_INT(harness_stop(&h), 0);

        for (int i = 0; i < n_ok; i++) {
                char data[PATH_MAX + 16], *out = NULL;
                struct stat st;
                int code;

                snprintf(data, sizeof(data), "%.4000s/data.mdb", paths[i]);
                CHECK(stat(data, &st) == 0 && (st.st_mode & 0777) == 0640);
                code = harness_run(COMPLAINTD_BIN,
                                   (const char *const[]){"--check-store", paths[i], NULL}, 30000,
                                   &out, NULL);
                CHECK_INT(code, 0);
                CHECK(out && strstr(out, "OK: 0 problems"));
                if (code != 0)
                        fprintf(stderr, "--check-store %s:\n%s", paths[i], out ? out : "");
                free(out);
        }
}

/* ------------------------------------------------------------------ 4. state dir deleted */

static void
test_state_deleted(const char *name, bool move)
{
        static uint64_t ids[IDS_MAX];
        char moved[PATH_MAX];
        size_t n_ids = 0;
        harness_client_t c;
        int acked = 0, unavailable = 0, other = 0, none = 0, sent = 0, code;
        int64_t gone_at, stopped_ms;

        s_setup(name, NULL);
        REQUIRE(harness_start(&h) == 0);
        REQUIRE(harness_client_open(&h, &c) == 0);
        CHECK_INT(s_create_many(&c, name, 10, ids, &n_ids), 10);

        snprintf(moved, sizeof(moved), "%.4000s-moved", h.state);
        if (move)
                REQUIRE(rename(h.state, moved) == 0);
        else
                check_rm_tree(h.state);
        REQUIRE(access(h.state, F_OK) < 0);
        gone_at = harness_now_ms();
        /* Creates, one at a time, until the daemon is gone (bounded in count and time). */
        for (int i = 0; i < 50 && harness_running(&h) && harness_now_ms() - gone_at < FAIL_STOP_MS;
             i++) {
                char rid[64];
                pb_reply_t *r = NULL;

                snprintf(rid, sizeof(rid), "%s-after-%d", name, i);
                sent++;
                if (s_create_or_exit(&c, rid, FAIL_STOP_MS, &r) < 0) {
                        none++;
                        continue;
                }
                if (r->error == E_OK)
                        acked++;
                else if (r->error == E_UNAVAILABLE)
                        unavailable++;
                else
                        other++;
                if (r->error != E_UNAVAILABLE)
                        fprintf(stderr, "%s: %s after the deletion answered %s: %s\n", name, rid,
                                pb_error_name(r->error), r->message);
                complaint__v1__reply__free_unpacked(r, NULL);
        }
        {
                int left = (int)(FAIL_STOP_MS - (harness_now_ms() - gone_at));

                code = harness_wait_exit(&h, left > 0 ? left : 0);
        }
        stopped_ms = harness_now_ms() - gone_at;
        printf("figure: %s: %s %d %" PRId64 " ms after the state directory was %s; %d creates "
               "sent after: %d OK, %d UNAVAILABLE, %d other, %d unanswered\n",
               name, code == -ETIMEDOUT ? "still running, status" : "exit status", code, stopped_ms,
               move ? "moved away" : "deleted", sent, acked, unavailable, other, none);
        CHECK(code > 0 && code < 128);
        CHECK_INT(acked, 0);
        CHECK_INT(other, 0);
        if (code == -ETIMEDOUT)
                harness_kill(&h);
        harness_client_close(&c);
        if (move) {
                /* What was acknowledged before is in the store that was moved. */
                snprintf(h.state, sizeof(h.state), "%s", moved);
                REQUIRE(harness_start(&h) == 0);
                REQUIRE(harness_client_open(&h, &c) == 0);
                CHECK_INT(s_count_found(&c, ids, n_ids), n_ids);
                harness_client_close(&c);
                CHECK_INT(harness_stop(&h), 0);
        }
}

/* ------------------------------------------------------------------ 5. start-up checks */

static void
test_start_checks(void)
{
        static uint64_t ids[IDS_MAX];
        static const char foreign[] = "this is no database at all, only text written over it.\n";
        static const struct {
                const char *name;
                const char *words;
        } kinds[] = {
            {"truncated", "is truncated"},
            {"empty", "is empty"},
            {"foreign", "is not an LMDB data file"},
        };
        char good[PATH_MAX + 16], api[PATH_MAX], events[PATH_MAX];
        size_t n_ids = 0;
        harness_client_t c;
        off_t size;
        uint8_t *head;

        s_setup("good", NULL);
        REQUIRE(harness_start(&h) == 0);
        REQUIRE(harness_client_open(&h, &c) == 0);
        CHECK_INT(s_create_many(&c, "good", 200, ids, &n_ids), 200);
        harness_client_close(&c);
        CHECK_INT(harness_stop(&h), 0);
        snprintf(good, sizeof(good), "%s/data.mdb", h.state);
        size = s_file_size(good);
        REQUIRE(size > 16384);
        head = s_read_head(good, (size_t)size / 2);
        REQUIRE(head != NULL);
        snprintf(api, sizeof(api), "ipc://%s/api-refused", h.dir);
        snprintf(events, sizeof(events), "ipc://%s/events-refused", h.dir);

        for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
                char dir[PATH_MAX], data[PATH_MAX + 16], *out = NULL, *err = NULL;
                int code;
                int64_t t0;

                snprintf(dir, sizeof(dir), "%s/refused-%s", h.dir, kinds[k].name);
                REQUIRE(mkdir(dir, 0750) == 0);
                snprintf(data, sizeof(data), "%s/data.mdb", dir);
                if (strcmp(kinds[k].name, "truncated") == 0) {
                        REQUIRE(s_write_file(data, head, (size_t)size / 2) == 0);
                } else if (strcmp(kinds[k].name, "empty") == 0) {
                        REQUIRE(s_write_file(data, "", 0) == 0);
                } else {
                        char text[sizeof(foreign) * 100];

                        for (int i = 0; i < 100; i++)
                                memcpy(text + i * (sizeof(foreign) - 1), foreign,
                                       sizeof(foreign) - 1);
                        REQUIRE(s_write_file(data, text, 100 * (sizeof(foreign) - 1)) == 0);
                }
                t0 = harness_now_ms();
                code = harness_run(COMPLAINTD_BIN,
                                   (const char *const[]){"--config", h.conf, "--state-dir", dir,
                                                         "--api", api, "--events", events, NULL},
                                   10000, &out, &err);
                printf("figure: start on a %s data.mdb: exit status %d after %" PRId64 " ms\n",
                       kinds[k].name, code, harness_now_ms() - t0);
                CHECK(code > 0 && code < 128);
                CHECK(code != 128 + SIGBUS);
                CHECK(err && strstr(err, kinds[k].words));
                if (err == NULL || strstr(err, kinds[k].words) == NULL)
                        fprintf(stderr, "start on a %s data.mdb said:\n%s", kinds[k].name,
                                err ? err : "");
                free(out);
                free(err);
                out = err = NULL;
                code =
                    harness_run(COMPLAINTD_BIN, (const char *const[]){"--check-store", dir, NULL},
                                10000, &out, &err);
                CHECK_INT(code, 1);
                CHECK(out && strstr(out, kinds[k].words));
                if (out == NULL || strstr(out, kinds[k].words) == NULL)
                        fprintf(stderr, "--check-store on a %s data.mdb said:\n%s%s", kinds[k].name,
                                out ? out : "", err ? err : "");
                free(out);
                free(err);
                /* The refused file is left as it was. */
                CHECK_INT(s_file_size(data), strcmp(kinds[k].name, "truncated") == 0 ? size / 2
                                             : strcmp(kinds[k].name, "empty") == 0
                                                 ? 0
                                                 : (off_t)(100 * (sizeof(foreign) - 1)));
        }
        free(head);
}

/* ------------------------------------------------------------------ 6. huge subscriptions */

#define ATTACKERS 20
#define SUBSCRIPTION_SIZE (1 << 20)
/* Less than half of what the twenty subscriptions take when they are kept. */
#define RSS_GROWTH_MAX_KIB (8 * 1024)

/* Waits up to timeout_ms on sub for an event that is not a heartbeat and, when id is not 0,
 * is about complaint id. Returns whether one came. */
static bool
s_await_event(void *sub, uint64_t id, bool heartbeat, int timeout_ms)
{
        int64_t deadline = harness_now_ms() + timeout_ms;

        /* One message per pass, or the deadline. */
        for (int i = 0; i < 100000 && harness_now_ms() < deadline; i++) {
                zmq_pollitem_t item = {.socket = sub, .events = ZMQ_POLLIN};
                zmq_msg_t topic, body;
                pb_event_t *ev;
                bool hit = false;

                if (zmq_poll(&item, 1, (long)(deadline - harness_now_ms())) <= 0)
                        continue;
                zmq_msg_init(&topic);
                zmq_msg_init(&body);
                if (zmq_msg_recv(&topic, sub, 0) < 0 || !zmq_msg_more(&topic) ||
                    zmq_msg_recv(&body, sub, 0) < 0) {
                        zmq_msg_close(&topic);
                        zmq_msg_close(&body);
                        continue;
                }
                ev = complaint__v1__event__unpack(NULL, zmq_msg_size(&body), zmq_msg_data(&body));
                if (ev)
                        hit = heartbeat
                                  ? ev->heartbeat
                                  : !ev->heartbeat &&
                                        (id == 0 || (ev->complaint && ev->complaint->id == id));
                if (ev)
                        complaint__v1__event__free_unpacked(ev, NULL);
                zmq_msg_close(&topic);
                zmq_msg_close(&body);
                if (hit)
                        return true;
        }
        return false;
}

/* Connects to the ipc:// endpoint as a raw ZMTP 3.0 peer of type SUB (no ZeroMQ here:
 * libzmq's own SUB and XSUB keep a subscription in a trie built by recursion, one level per
 * byte, and a 1 MiB one overflows the client's stack before it leaves) and sends one
 * subscription of size bytes. Writes what the daemon takes until timeout_ms; returns the
 * socket (the caller closes it), or -errno. */
static int
s_raw_subscribe(const char *endpoint, size_t size, int timeout_ms)
{
        static const uint8_t greeting[64] = {
            0xFF, 0,   0,   0,   0, 0, 0, 0, 1, 0x7F, /* signature */
            3,    0,                                  /* ZMTP 3.0 */
            'N',  'U', 'L', 'L',                      /* the NULL mechanism, padded to 20 bytes */
        };
        static const uint8_t ready[] = {
            0x04, 25,                                                    /* a short command */
            5,    'R', 'E', 'A', 'D', 'Y',                               /* its name */
            11,   'S', 'o', 'c', 'k', 'e', 't', '-', 'T', 'y', 'p', 'e', /* a property */
            0,    0,   0,   3,   'S', 'U', 'B',
        };
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        int64_t deadline = harness_now_ms() + timeout_ms;
        uint8_t head[9] = {0x02}; /* a long frame, the last */
        uint8_t *body = malloc(size);
        struct iovec parts[4];
        size_t sent = 0, total = 0;
        int fd, r;

        if (body == NULL)
                return -ENOMEM;
        if (strncmp(endpoint, "ipc://", 6) != 0 || strlen(endpoint + 6) >= sizeof(a.sun_path)) {
                free(body);
                return -EINVAL;
        }
        snprintf(a.sun_path, sizeof(a.sun_path), "%s", endpoint + 6);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
                r = -errno;
                if (fd >= 0)
                        close(fd);
                free(body);
                return r;
        }
        for (int i = 0; i < 8; i++)
                head[1 + i] = (uint8_t)((uint64_t)size >> (56 - 8 * i));
        body[0] = 1; /* subscribe */
        memset(body + 1, 'a', size - 1);
        parts[0] = (struct iovec){(void *)(uintptr_t)greeting, sizeof(greeting)};
        parts[1] = (struct iovec){(void *)(uintptr_t)ready, sizeof(ready)};
        parts[2] = (struct iovec){head, sizeof(head)};
        parts[3] = (struct iovec){body, size};
        for (int i = 0; i < 4; i++)
                total += parts[i].iov_len;
        /* Each pass writes what the socket takes, or waits for room, until all is sent, the
         * daemon hangs up, or the time is up. */
        for (int pass = 0; pass < 100000 && sent < total && harness_now_ms() < deadline; pass++) {
                struct pollfd p = {.fd = fd, .events = POLLOUT};
                struct iovec rest[4];
                size_t skip = sent;
                int n = 0;
                ssize_t w;

                for (int i = 0; i < 4; i++) {
                        if (skip >= parts[i].iov_len) {
                                skip -= parts[i].iov_len;
                                continue;
                        }
                        rest[n].iov_base = (uint8_t *)parts[i].iov_base + skip;
                        rest[n].iov_len = parts[i].iov_len - skip;
                        skip = 0;
                        n++;
                }
                w = writev(fd, rest, n);
                if (w > 0) {
                        sent += (size_t)w;
                        continue;
                }
                if (w < 0 && errno != EAGAIN && errno != EINTR)
                        break; /* EPIPE, ECONNRESET: the daemon hung up */
                poll(&p, 1, (int)(deadline - harness_now_ms()));
        }
        free(body);
        return fd;
}

/* Waits up to timeout_ms for the peer of fd to hang up, reading and dropping what it sends.
 * Returns whether it did. */
static bool
s_await_hangup(int fd, int timeout_ms)
{
        int64_t deadline = harness_now_ms() + timeout_ms;

        /* Each pass reads what came or waits for more, until the end or the deadline. */
        for (int pass = 0; pass < 100000 && harness_now_ms() < deadline; pass++) {
                struct pollfd p = {.fd = fd, .events = POLLIN};
                char buf[4096];
                ssize_t n;

                if (poll(&p, 1, (int)(deadline - harness_now_ms())) <= 0)
                        continue;
                n = read(fd, buf, sizeof(buf));
                if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
                        return true;
        }
        return false;
}

static void
test_huge_subscriptions(void)
{
        int attackers[ATTACKERS], linger = 0, n_dropped = 0;
        long rss0, rss1, hwm;
        int64_t t0, deadline;
        harness_client_t c;
        pb_reply_t *r;
        void *sub;

        s_setup("subscriptions", NULL);
        REQUIRE(harness_start(&h) == 0);
        sub = zmq_socket(h.zctx, ZMQ_SUB);
        REQUIRE(sub != NULL);
        zmq_setsockopt(sub, ZMQ_LINGER, &linger, sizeof(linger));
        REQUIRE(zmq_connect(sub, h.events) == 0);
        zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "", 0);
        /* The first heartbeat proves the subscription is in place. */
        REQUIRE(s_await_event(sub, 0, true, 5000));
        rss0 = harness_proc_kib(h.pid, "VmRSS");

        /* Twenty peers, each sending a subscription of 1 MiB, all held open; then a while for
         * the daemon to hang up on them (ZMQ_MAXMSGSIZE does at the frame's size) or to take in
         * what they sent. */
        t0 = harness_now_ms();
        for (int i = 0; i < ATTACKERS; i++) {
                attackers[i] = s_raw_subscribe(h.events, SUBSCRIPTION_SIZE, 2000);
                CHECK(attackers[i] >= 0);
        }
        deadline = harness_now_ms() + 2000;
        for (int i = 0; i < ATTACKERS; i++) {
                int64_t left = deadline - harness_now_ms();

                if (attackers[i] >= 0 && s_await_hangup(attackers[i], left > 0 ? (int)left : 0))
                        n_dropped++;
        }
        rss1 = harness_proc_kib(h.pid, "VmRSS");
        hwm = harness_proc_kib(h.pid, "VmHWM");
        printf("figure: huge subscriptions: %d of %d peers sending 1 MiB were hung up on, in "
               "%" PRId64 " ms; daemon VmRSS %ld KiB before, %ld KiB after (peak %ld KiB)\n",
               n_dropped, ATTACKERS, harness_now_ms() - t0, rss0, rss1, hwm);
        CHECK(harness_running(&h));
        CHECK(rss0 > 0 && rss1 > 0);
        /* Bounded: a daemon that keeps what it is sent grows by 36 MiB here; one that hangs up
         * at the frame's size by some KiB. */
        CHECK(rss1 - rss0 < RSS_GROWTH_MAX_KIB);

        /* It goes on publishing to the subscriber that behaved. */
        REQUIRE(harness_client_open(&h, &c) == 0);
        r = s_create(&c, "events-after", HARNESS_CALL_TIMEOUT_MS);
        CHECK(r && r->error == E_OK && r->complaint);
        if (r && r->error == E_OK && r->complaint)
                CHECK(s_await_event(sub, r->complaint->id, false, 5000));
        if (r)
                complaint__v1__reply__free_unpacked(r, NULL);
        CHECK(s_await_event(sub, 0, true, 5000));
        harness_client_close(&c);
        for (int i = 0; i < ATTACKERS; i++)
                if (attackers[i] >= 0)
                        close(attackers[i]);
        zmq_close(sub);
        CHECK_INT(harness_stop(&h), 0);
}

/* ------------------------------------------------------------------ 7. file descriptors */

#define MANY_CONNECTIONS_MAX 1100

/* A TCP port on the loopback that was free a moment ago. */
static int
s_free_port(void)
{
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof(a);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

        if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
            getsockname(fd, (struct sockaddr *)&a, &len) == 0)
                port = ntohs(a.sin_port);
        if (fd >= 0)
                close(fd);
        return port;
}

/* Opens n idle TCP connections to port on the loopback (non-blocking: those the daemon
 * cannot accept wait in its backlog); their descriptors go into fds. Returns how many
 * sockets were made. */
static int
s_connect_idle(int port, int *fds, int n)
{
        struct sockaddr_in a = {.sin_family = AF_INET,
                                .sin_port = htons((uint16_t)port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        int made = 0;

        for (int i = 0; i < n; i++) {
                fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
                if (fds[i] < 0)
                        break;
                if (connect(fds[i], (struct sockaddr *)&a, sizeof(a)) < 0 && errno != EINPROGRESS) {
                        close(fds[i]);
                        fds[i] = -1;
                        break;
                }
                made++;
        }
        return made;
}

/* Waits up to timeout_ms for the daemon to accept the n connections in fds: ZeroMQ greets
 * each peer as soon as it accepts it, so a connection with something to read was accepted
 * (the kernel completes the handshake of one it has not, in the listen backlog). Returns how
 * many were. */
static int
s_await_accepted(const int *fds, int n, int timeout_ms)
{
        static struct pollfd p[MANY_CONNECTIONS_MAX];
        int64_t deadline = harness_now_ms() + timeout_ms;
        int done = 0;

        n = n < MANY_CONNECTIONS_MAX ? n : MANY_CONNECTIONS_MAX;
        for (int i = 0; i < n; i++)
                p[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
        /* Each pass sees at least one more greeting, or waits out the deadline. */
        for (int pass = 0; pass < n + 1 && done < n && harness_now_ms() < deadline; pass++) {
                if (poll(p, (nfds_t)n, (int)(deadline - harness_now_ms())) <= 0)
                        break;
                for (int i = 0; i < n; i++) {
                        if (p[i].fd >= 0 && p[i].revents) {
                                done += (p[i].revents & POLLIN) != 0;
                                p[i].fd = -1; /* seen: poll skips it from now on */
                        }
                }
        }
        return done;
}

static void
s_close_all(int *fds, int n)
{
        for (int i = 0; i < n; i++)
                if (fds[i] >= 0)
                        close(fds[i]);
}

#define FEW_FDS 128
#define FEW_CONNECTIONS 200
#define MANY_FDS 4096
#define MANY_CONNECTIONS MANY_CONNECTIONS_MAX

static void
test_descriptors(void)
{
        static int fds[MANY_CONNECTIONS];
        char api[PATH_MAX];
        harness_start_opts_t opts = {.nofile = FEW_FDS};
        struct rlimit rl;
        pb_reply_t *r;
        int port, made, daemon_fds, connected = 0;
        int64_t t0;
        off_t log_at, found;

        if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_max < MANY_CONNECTIONS + 256) {
                printf("skipped: file descriptors: the hard limit here is below %d\n",
                       MANY_CONNECTIONS + 256);
                return;
        }
        /* The test holds the connections: it needs the descriptors itself. */
        rl.rlim_cur = rl.rlim_max;
        REQUIRE(setrlimit(RLIMIT_NOFILE, &rl) == 0);
        snprintf(api, sizeof(api), "%s", h.api);

        /* Few descriptors, more connections than they allow. */
        port = s_free_port();
        REQUIRE(port > 0);
        snprintf(h.api, sizeof(h.api), "tcp://127.0.0.1:%d", port);
        s_setup("fds-few", NULL);
        REQUIRE(harness_start_with(&h, &opts) == 0);
        log_at = harness_log_size(&h);
        t0 = harness_now_ms();
        made = s_connect_idle(port, fds, FEW_CONNECTIONS);
        CHECK_INT(made, FEW_CONNECTIONS);
        found = harness_wait_log(&h, "in use", log_at, 5000);
        daemon_fds = s_proc_fds(h.pid);
        if (found >= 0)
                printf("figure: %d descriptors, %d idle connections: the daemon holds %d; the log "
                       "says they run out %" PRId64 " ms after the first connection\n",
                       FEW_FDS, made, daemon_fds, harness_now_ms() - t0);
        else
                printf("figure: %d descriptors, %d idle connections: the daemon holds %d; nothing "
                       "about them in the log within 5 s\n",
                       FEW_FDS, made, daemon_fds);
        /* The warning: "file descriptors: N of M in use; ...". */
        CHECK(found >= 0);
        CHECK(harness_log_count(&h, "file descriptors:", log_at) > 0);
        CHECK(harness_running(&h));
        s_close_all(fds, made);
        /* With the connections gone, it serves again. */
        r = harness_status(&h);
        CHECK(r != NULL);
        if (r)
                complaint__v1__reply__free_unpacked(r, NULL);
        CHECK_INT(harness_stop(&h), 0);

        /* Enough descriptors: 1,100 idle connections, and a request is answered. */
        opts.nofile = MANY_FDS;
        port = s_free_port();
        REQUIRE(port > 0);
        snprintf(h.api, sizeof(h.api), "tcp://127.0.0.1:%d", port);
        s_setup("fds-many", NULL);
        REQUIRE(harness_start_with(&h, &opts) == 0);
        /* Fifty at a time, each group accepted before the next: more at once would overflow
         * the listen backlog (ZeroMQ's 100), and the kernel would retry them a second later. */
        t0 = harness_now_ms();
        made = 0;
        for (int group = 0; group < MANY_CONNECTIONS / 50; group++) {
                int k = s_connect_idle(port, fds + made, 50);

                connected += s_await_accepted(fds + made, k, 3000);
                made += k;
        }
        CHECK_INT(made, MANY_CONNECTIONS);
        CHECK_INT(connected, MANY_CONNECTIONS);
        printf("figure: %d idle connections accepted in %" PRId64 " ms\n", connected,
               harness_now_ms() - t0);
        t0 = harness_now_ms();
        r = harness_status(&h);
        daemon_fds = s_proc_fds(h.pid);
        printf("figure: %d descriptors, %d idle connections: a status request answered in %" PRId64
               " ms; the daemon holds %d descriptors\n",
               MANY_FDS, made, harness_now_ms() - t0, daemon_fds);
        CHECK(r != NULL);
        /* The request came after them all on the same listener: they are all accepted. */
        CHECK(daemon_fds >= MANY_CONNECTIONS);
        if (r)
                complaint__v1__reply__free_unpacked(r, NULL);
        s_close_all(fds, made);
        CHECK_INT(harness_stop(&h), 0);
        snprintf(h.api, sizeof(h.api), "%s", api);
}

/* ------------------------------------------------------------------ main */

int
main(void)
{
        int64_t began = harness_now_ms();
        bool private_mounts;

        /* Figures reach the output even if the test dies. */
        setvbuf(stdout, NULL, _IOLBF, 0);
        /* The tmpfs of the full-disk case goes into a mount namespace of this process (and
         * its daemon), so that nothing is left mounted whatever happens to the test. Before
         * any thread exists: unshare() refuses a process with threads. */
        private_mounts =
            unshare(CLONE_NEWNS) == 0 && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0;
        atexit(s_unmount);
        memset(long_description, 'd', sizeof(long_description) - 1);
        REQUIRE(harness_init(&h, "it_faults") == 0);
        if (!private_mounts)
                printf("note: no mount namespace of its own: the tmpfs is unmounted at exit\n");

        test_io_fault("io-pwrite-eio", "pwrite", "EIO", "0");
        test_io_fault("io-fdatasync-eio", "fdatasync", "EIO", "0");
        test_io_fault("io-enospc-with-room", "pwrite,writev", "ENOSPC", "4096");
        test_io_fault("io-short-write", "pwrite,writev", "short", "4096");
        test_full_disk();
        test_backup_growth();
        test_state_deleted("deleted", false);
        test_state_deleted("moved", true);
        test_start_checks();
        test_huge_subscriptions();
        test_descriptors();

        printf("figure: it_faults ran for %" PRId64 " ms\n", harness_now_ms() - began);
        s_unmount();
        return harness_cleanup(&h, check_summary());
}
