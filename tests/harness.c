/* harness.c: the integration-test harness (harness.h): a temporary directory, the real
 * complaintd in it, raw DEALER connections, complaintctl runs, and a small JSON reader. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "check.h"
#include "harness.h"

/* ------------------------------------------------------------------ misc */

uint64_t
harness_rand(uint64_t *state)
{
        uint64_t x = *state ? *state : 0x9E3779B97F4A7C15ULL;

        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        *state = x;
        return x * 0x2545F4914F6CDD1DULL;
}

int64_t
harness_now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
s_remaining(int64_t deadline)
{
        int64_t left = deadline - harness_now_ms();

        return left < 0 ? 0 : (int)left;
}

static char *
s_read_file(const char *path, size_t *ret_size)
{
        FILE *f = fopen(path, "rb");
        char *buf = NULL;
        size_t n = 0, cap = 0;

        if (f == NULL)
                return NULL;
        for (int i = 0; i < 1 << 20; i++) {
                if (cap - n < 4096) {
                        char *nb = realloc(buf, cap * 2 + 4096);

                        if (nb == NULL) {
                                free(buf);
                                fclose(f);
                                return NULL;
                        }
                        buf = nb;
                        cap = cap * 2 + 4096;
                }
                size_t got = fread(buf + n, 1, cap - n - 1, f);

                n += got;
                if (got == 0)
                        break;
        }
        fclose(f);
        if (buf == NULL)
                buf = calloc(1, 1);
        else
                buf[n] = '\0';
        if (ret_size)
                *ret_size = n;
        return buf;
}

/* ------------------------------------------------------------------ the daemon */

int
harness_write_conf(const char *path, const char *const *pairs)
{
        char src[PATH_MAX];
        char *text;
        FILE *f;

        snprintf(src, sizeof(src), "%s/conf/complaintd.conf", SOURCE_DIR);
        text = s_read_file(src, NULL);
        if (text == NULL) {
                fprintf(stderr, "harness: cannot read %s: %s\n", src, strerror(errno));
                return -errno;
        }
        for (size_t i = 0; pairs && pairs[i] && pairs[i + 1]; i += 2) {
                char *at = strstr(text, pairs[i]);
                size_t lf = strlen(pairs[i]), lt = strlen(pairs[i + 1]);
                char *nt;

                if (at == NULL) {
                        fprintf(stderr, "harness: \"%s\" is not in %s\n", pairs[i], src);
                        free(text);
                        return -ENOENT;
                }
                nt = malloc(strlen(text) - lf + lt + 1);
                if (nt == NULL) {
                        free(text);
                        return -ENOMEM;
                }
                memcpy(nt, text, (size_t)(at - text));
                memcpy(nt + (at - text), pairs[i + 1], lt);
                strcpy(nt + (at - text) + lt, at + lf);
                free(text);
                text = nt;
        }
        f = fopen(path, "w");
        if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
                int r = -errno;

                fprintf(stderr, "harness: cannot write %s: %s\n", path, strerror(errno));
                free(text);
                return r;
        }
        free(text);
        return 0;
}

int
harness_file_line(const char *path, const char *needle)
{
        char *text = s_read_file(path, NULL);
        char *at;
        int line = 1;

        if (text == NULL)
                return -1;
        at = strstr(text, needle);
        if (at == NULL) {
                free(text);
                return -1;
        }
        for (char *p = text; p < at; p++)
                line += *p == '\n';
        free(text);
        return line;
}

/* The harness of this process, for the exit handler. */
static harness_t *active;

/* A test that gives up (REQUIRE exits) must not leave its daemon running. */
static void
s_at_exit(void)
{
        if (active == NULL || active->pid <= 0)
                return;
        kill(active->pid, SIGKILL);
        fprintf(stderr, "harness: the test exited with complaintd running; killed it\n");
        harness_dump_log(active);
        fprintf(stderr, "harness: kept %s for inspection\n", active->dir);
}

int
harness_init(harness_t *h, const char *name)
{
        const char *tmp = getenv("TMPDIR");
        static const char *const pairs[] = {"heartbeat = \"1s\";", "heartbeat = \"100ms\";", NULL};

        memset(h, 0, sizeof(*h));
        h->pidfd = -1;
        if (tmp == NULL || tmp[0] == '\0' || strlen(tmp) > 40)
                tmp = "/tmp";
        snprintf(h->dir, sizeof(h->dir), "%s/cd-%s-XXXXXX", tmp, name);
        if (mkdtemp(h->dir) == NULL) {
                fprintf(stderr, "harness: mkdtemp %s: %s\n", h->dir, strerror(errno));
                return -errno;
        }
        snprintf(h->conf, sizeof(h->conf), "%s/complaintd.conf", h->dir);
        snprintf(h->state, sizeof(h->state), "%s/state", h->dir);
        snprintf(h->api, sizeof(h->api), "ipc://%s/api", h->dir);
        snprintf(h->events, sizeof(h->events), "ipc://%s/events", h->dir);
        snprintf(h->log, sizeof(h->log), "%s/complaintd.log", h->dir);
        h->zctx = zmq_ctx_new();
        if (h->zctx == NULL)
                return -errno;
        /* Tests kill and restart the daemon; a write to a dead pipe must not kill the test. */
        signal(SIGPIPE, SIG_IGN);
        if (active == NULL)
                atexit(s_at_exit);
        active = h;
        return harness_write_conf(h->conf, pairs);
}

void
harness_dump_log(const harness_t *h)
{
        size_t n = 0;
        char *text = s_read_file(h->log, &n);
        const size_t keep = 16384;

        if (text == NULL)
                return;
        fprintf(stderr, "---- %s%s ----\n", h->log, n > keep ? " (last 16 KiB)" : "");
        fputs(n > keep ? text + n - keep : text, stderr);
        fprintf(stderr, "---- end of log ----\n");
        free(text);
}

static int
s_pidfd_open(pid_t pid)
{
        return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* Waits up to timeout_ms for the child behind pidfd to exit and reaps it. Returns its exit
 * code or 128+signal, or -ETIMEDOUT (not reaped). */
static int
s_wait_child(pid_t pid, int pidfd, int timeout_ms)
{
        int st;

        if (pidfd >= 0) {
                struct pollfd p = {.fd = pidfd, .events = POLLIN};
                int r;

                do
                        r = poll(&p, 1, timeout_ms);
                while (r < 0 && errno == EINTR);
                if (r == 0)
                        return -ETIMEDOUT;
        } else if (timeout_ms >= 0) {
                /* No pidfd: only a finished child can be reaped without waiting. */
                if (waitpid(pid, &st, WNOHANG) == 0)
                        return -ETIMEDOUT;
                goto decode;
        }
        while (waitpid(pid, &st, 0) < 0) {
                if (errno != EINTR)
                        return -errno;
        }
decode:
        if (WIFEXITED(st))
                return WEXITSTATUS(st);
        if (WIFSIGNALED(st))
                return 128 + WTERMSIG(st);
        return -EIO;
}

static void
s_forget_child(harness_t *h)
{
        if (h->pidfd >= 0)
                close(h->pidfd);
        h->pidfd = -1;
        h->pid = 0;
}

bool
harness_running(harness_t *h)
{
        int st;

        if (h->pid <= 0)
                return false;
        if (h->pidfd >= 0) {
                struct pollfd p = {.fd = h->pidfd, .events = POLLIN};

                return poll(&p, 1, 0) == 0;
        }
        return waitpid(h->pid, &st, WNOHANG) == 0;
}

/* Sends a status request on c. */
static int
s_send_status(harness_client_t *c)
{
        Complaint__V1__StatusRequest st;
        pb_request_t req;
        uint8_t buf[64];
        size_t n;
        const void *data[2] = {"", buf};
        size_t size[2] = {0, 0};

        complaint__v1__status_request__init(&st);
        complaint__v1__request__init(&req);
        req.schema_version = PB_SCHEMA_VERSION;
        req.request_id = (char *)"harness-status";
        req.body_case = COMPLAINT__V1__REQUEST__BODY_STATUS;
        req.status = &st;
        n = complaint__v1__request__pack(&req, buf);
        size[1] = n;
        return harness_client_send(c, data, size, 2);
}

int
harness_start(harness_t *h)
{
        const char *argv[] = {COMPLAINTD_BIN, "--config", h->conf,    "--state-dir", h->state,
                              "--api",        h->api,     "--events", h->events,     NULL};
        harness_client_t c;
        int64_t deadline, resend;
        int logfd, devnull, r;
        pid_t pid, parent;

        assert(h->pid == 0);
        parent = getpid();
        logfd = open(h->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (logfd < 0)
                return -errno;
        devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
        pid = fork();
        if (pid < 0) {
                r = -errno;
                close(logfd);
                close(devnull);
                return r;
        }
        if (pid == 0) {
                /* Only async-signal-safe calls between fork and exec: tests may run threads.
                 * The daemon dies with the test, even when ctest kills the test. */
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (getppid() != parent)
                        _exit(127);
                if (devnull >= 0)
                        dup2(devnull, 0);
                dup2(logfd, 1);
                dup2(logfd, 2);
                execv(argv[0], (char *const *)(uintptr_t)argv);
                _exit(127);
        }
        close(logfd);
        if (devnull >= 0)
                close(devnull);
        h->pid = pid;
        h->pidfd = s_pidfd_open(pid);
        h->starts++;

        r = harness_client_open(h, &c);
        if (r < 0)
                goto fail;
        deadline = harness_now_ms() + HARNESS_START_TIMEOUT_MS;
        resend = 0;
        r = -ETIMEDOUT;
        /* Each pass waits for the reply or the child's exit, at most 200 ms; the loop ends at
         * the deadline, so it runs at most START_TIMEOUT / 200 + 1 times (plus early wakeups
         * from events that end it). */
        for (int i = 0; i < 10000 && harness_now_ms() < deadline; i++) {
                zmq_pollitem_t items[2] = {{.socket = c.sock, .events = ZMQ_POLLIN},
                                           {.fd = h->pidfd, .events = ZMQ_POLLIN}};
                int n;

                if (harness_now_ms() >= resend) {
                        /* A fresh socket every 2 s, in case the first try went nowhere. */
                        if (resend != 0)
                                harness_client_reset(&c);
                        s_send_status(&c);
                        resend = harness_now_ms() + 2000;
                }
                n = zmq_poll(items, h->pidfd >= 0 ? 2 : 1,
                             s_remaining(deadline) < 200 ? s_remaining(deadline) : 200);
                if (n < 0 && zmq_errno() != EINTR) {
                        r = -zmq_errno();
                        break;
                }
                if (!harness_running(h)) {
                        r = -ECHILD;
                        break;
                }
                if (n > 0 && (items[0].revents & ZMQ_POLLIN)) {
                        harness_frames_t f;

                        if (harness_client_recv(&c, 0, &f) == 0) {
                                harness_frames_free(&f);
                                r = 0;
                                break;
                        }
                }
        }
        harness_client_close(&c);
        if (r == 0)
                return 0;
fail:
        if (r == -ECHILD) {
                int code = s_wait_child(h->pid, h->pidfd, -1);

                fprintf(stderr, "harness: complaintd exited during start-up (status %d)\n", code);
        } else {
                fprintf(stderr, "harness: complaintd did not answer within %d ms: %s\n",
                        HARNESS_START_TIMEOUT_MS, strerror(-r));
                kill(h->pid, SIGKILL);
                s_wait_child(h->pid, h->pidfd, -1);
        }
        s_forget_child(h);
        harness_dump_log(h);
        return r;
}

int
harness_stop(harness_t *h)
{
        int r;

        if (h->pid <= 0)
                return -ESRCH;
        kill(h->pid, SIGTERM);
        r = s_wait_child(h->pid, h->pidfd, HARNESS_STOP_TIMEOUT_MS);
        if (r == -ETIMEDOUT) {
                fprintf(stderr, "harness: complaintd ignored SIGTERM for %d ms, killing it\n",
                        HARNESS_STOP_TIMEOUT_MS);
                kill(h->pid, SIGKILL);
                s_wait_child(h->pid, h->pidfd, -1);
        }
        s_forget_child(h);
        return r;
}

int
harness_kill(harness_t *h)
{
        int r;

        if (h->pid <= 0)
                return -ESRCH;
        if (kill(h->pid, SIGKILL) < 0)
                return -errno;
        r = s_wait_child(h->pid, h->pidfd, -1);
        s_forget_child(h);
        return r < 0 ? r : 0;
}

int
harness_cleanup(harness_t *h, int summary)
{
        if (h->pid > 0)
                harness_stop(h);
        /* Shut down, not terminate: zmq_ctx_term() would wait forever for a socket that a
         * failed test left open. The process is about to exit. */
        if (h->zctx)
                zmq_ctx_shutdown(h->zctx);
        if (active == h)
                active = NULL;
        if (h->dir[0] == '\0')
                return summary;
        if (summary == 0 && check_failed == 0) {
                check_rm_tree(h->dir);
        } else {
                harness_dump_log(h);
                fprintf(stderr, "harness: kept %s for inspection\n", h->dir);
        }
        return summary;
}

/* ------------------------------------------------------------------ running programs */

static int
s_append(char **buf, size_t *len, size_t *cap, const char *data, size_t n)
{
        if (*len + n + 1 > *cap) {
                size_t nc = (*cap + n) * 2 + 256;
                char *nb = realloc(*buf, nc);

                if (nb == NULL)
                        return -ENOMEM;
                *buf = nb;
                *cap = nc;
        }
        memcpy(*buf + *len, data, n);
        *len += n;
        (*buf)[*len] = '\0';
        return 0;
}

int
harness_run(const char *bin, const char *const *args, int timeout_ms, char **ret_out,
            char **ret_err)
{
        const char *argv[64];
        int out[2], err[2], pidfd, r;
        size_t argc = 0;
        char *buf[2] = {NULL, NULL};
        size_t len[2] = {0, 0}, cap[2] = {0, 0};
        bool open_[2] = {true, true};
        int64_t deadline;
        pid_t pid;

        argv[argc++] = bin;
        for (size_t i = 0; args[i] && argc < 63; i++)
                argv[argc++] = args[i];
        argv[argc] = NULL;
        if (pipe2(out, O_CLOEXEC) < 0)
                return -errno;
        if (pipe2(err, O_CLOEXEC) < 0) {
                r = -errno;
                close(out[0]);
                close(out[1]);
                return r;
        }
        pid = fork();
        if (pid < 0) {
                r = -errno;
                close(out[0]);
                close(out[1]);
                close(err[0]);
                close(err[1]);
                return r;
        }
        if (pid == 0) {
                int devnull = open("/dev/null", O_RDONLY);

                if (devnull >= 0)
                        dup2(devnull, 0);
                dup2(out[1], 1);
                dup2(err[1], 2);
                execv(bin, (char *const *)(uintptr_t)argv);
                _exit(127);
        }
        close(out[1]);
        close(err[1]);
        pidfd = s_pidfd_open(pid);
        deadline = harness_now_ms() + timeout_ms;
        s_append(&buf[0], &len[0], &cap[0], "", 0);
        s_append(&buf[1], &len[1], &cap[1], "", 0);
        /* Read both pipes until both are closed; every pass either reads, sees an end, or
         * waits for the remaining time, so the loop is bounded by the deadline. */
        for (int i = 0; i < 1000000 && (open_[0] || open_[1]); i++) {
                struct pollfd p[2] = {{.fd = open_[0] ? out[0] : -1, .events = POLLIN},
                                      {.fd = open_[1] ? err[0] : -1, .events = POLLIN}};
                int n = poll(p, 2, s_remaining(deadline));

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                for (int k = 0; k < 2; k++) {
                        char chunk[4096];
                        ssize_t got;

                        if (!open_[k] || p[k].revents == 0)
                                continue;
                        got = read(k == 0 ? out[0] : err[0], chunk, sizeof(chunk));
                        if (got <= 0)
                                open_[k] = false;
                        else
                                s_append(&buf[k], &len[k], &cap[k], chunk, (size_t)got);
                }
        }
        close(out[0]);
        close(err[0]);
        r = s_wait_child(pid, pidfd, s_remaining(deadline));
        if (r == -ETIMEDOUT) {
                fprintf(stderr, "harness: %s did not finish within %d ms, killing it\n", bin,
                        timeout_ms);
                kill(pid, SIGKILL);
                s_wait_child(pid, pidfd, -1);
        }
        if (pidfd >= 0)
                close(pidfd);
        if (ret_out)
                *ret_out = buf[0];
        else
                free(buf[0]);
        if (ret_err)
                *ret_err = buf[1];
        else
                free(buf[1]);
        return r;
}

harness_ctl_t
harness_ctl(harness_t *h, const char *const *args)
{
        const char *argv[64];
        harness_ctl_t res = {0};
        size_t n = 0;

        argv[n++] = "--endpoint";
        argv[n++] = h->api;
        argv[n++] = "--timeout";
        argv[n++] = "10000";
        for (size_t i = 0; args[i] && n < 63; i++)
                argv[n++] = args[i];
        argv[n] = NULL;
        res.code = harness_run(COMPLAINTCTL_BIN, argv, 30000, &res.out, &res.err);
        if (res.out)
                res.json = hjson_parse(res.out);
        return res;
}

void
harness_ctl_free(harness_ctl_t *r)
{
        free(r->out);
        free(r->err);
        hjson_free(&r->json);
        r->out = r->err = NULL;
}

/* ------------------------------------------------------------------ the API */

static int
s_client_connect(harness_client_t *c)
{
        int linger = 0;

        c->sock = zmq_socket(c->zctx, ZMQ_DEALER);
        if (c->sock == NULL)
                return -zmq_errno();
        zmq_setsockopt(c->sock, ZMQ_LINGER, &linger, sizeof(linger));
        if (zmq_connect(c->sock, c->endpoint) < 0) {
                int r = -zmq_errno();

                zmq_close(c->sock);
                c->sock = NULL;
                return r;
        }
        return 0;
}

int
harness_client_open(harness_t *h, harness_client_t *c)
{
        memset(c, 0, sizeof(*c));
        c->zctx = h->zctx;
        snprintf(c->endpoint, sizeof(c->endpoint), "%s", h->api);
        return s_client_connect(c);
}

int
harness_client_reset(harness_client_t *c)
{
        if (c->sock)
                zmq_close(c->sock);
        c->sock = NULL;
        return s_client_connect(c);
}

void
harness_client_close(harness_client_t *c)
{
        if (c->sock)
                zmq_close(c->sock);
        c->sock = NULL;
}

int
harness_client_send(harness_client_t *c, const void *const *data, const size_t *size, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                if (zmq_send(c->sock, data[i], size[i], i + 1 < n ? ZMQ_SNDMORE : 0) < 0)
                        return -zmq_errno();
        }
        return 0;
}

void
harness_frames_free(harness_frames_t *f)
{
        for (size_t i = 0; i < HARNESS_FRAMES_MAX && i < f->n; i++)
                free(f->data[i]);
        memset(f, 0, sizeof(*f));
}

int
harness_client_recv(harness_client_t *c, int timeout_ms, harness_frames_t *ret)
{
        zmq_pollitem_t item = {.socket = c->sock, .events = ZMQ_POLLIN};
        int n = zmq_poll(&item, 1, timeout_ms);

        memset(ret, 0, sizeof(*ret));
        if (n < 0)
                return -zmq_errno();
        if (n == 0)
                return -ETIMEDOUT;
        /* A message is at most a few frames; the bound only guards against a runaway peer. */
        for (int i = 0; i < 1000; i++) {
                zmq_msg_t m;
                int more;

                zmq_msg_init(&m);
                if (zmq_msg_recv(&m, c->sock, ZMQ_DONTWAIT) < 0) {
                        int r = -zmq_errno();

                        zmq_msg_close(&m);
                        harness_frames_free(ret);
                        return r;
                }
                if (ret->n < HARNESS_FRAMES_MAX) {
                        size_t sz = zmq_msg_size(&m);

                        ret->data[ret->n] = malloc(sz + 1);
                        if (ret->data[ret->n] == NULL) {
                                zmq_msg_close(&m);
                                harness_frames_free(ret);
                                return -ENOMEM;
                        }
                        memcpy(ret->data[ret->n], zmq_msg_data(&m), sz);
                        ret->data[ret->n][sz] = 0;
                        ret->size[ret->n] = sz;
                }
                ret->n++;
                more = zmq_msg_more(&m);
                zmq_msg_close(&m);
                if (!more)
                        return 0;
        }
        harness_frames_free(ret);
        return -EPROTO;
}

int
harness_client_call_raw(harness_client_t *c, const void *bytes, size_t size, int timeout_ms,
                        pb_reply_t **ret_reply)
{
        const void *data[2] = {"", bytes};
        size_t sizes[2] = {0, size};
        harness_frames_t f;
        pb_reply_t *reply;
        int r;

        r = harness_client_send(c, data, sizes, 2);
        if (r < 0)
                return r;
        r = harness_client_recv(c, timeout_ms, &f);
        if (r == -ETIMEDOUT)
                harness_client_reset(c);
        if (r < 0)
                return r;
        if (f.n != 2 || f.size[0] != 0) {
                fprintf(stderr, "harness: reply has %zu frames, first of %zu bytes\n", f.n,
                        f.size[0]);
                harness_frames_free(&f);
                return -EPROTO;
        }
        reply = complaint__v1__reply__unpack(NULL, f.size[1], f.data[1]);
        harness_frames_free(&f);
        if (reply == NULL)
                return -EPROTO;
        *ret_reply = reply;
        return 0;
}

uint8_t *
harness_encode(const pb_request_t *req, size_t *ret_size)
{
        size_t n = complaint__v1__request__get_packed_size(req);
        uint8_t *buf = malloc(n ? n : 1);

        if (buf == NULL)
                return NULL;
        *ret_size = complaint__v1__request__pack(req, buf);
        return buf;
}

int
harness_client_call(harness_client_t *c, const pb_request_t *req, int timeout_ms,
                    pb_reply_t **ret_reply)
{
        size_t n;
        uint8_t *buf = harness_encode(req, &n);
        int r;

        if (buf == NULL)
                return -ENOMEM;
        r = harness_client_call_raw(c, buf, n, timeout_ms, ret_reply);
        free(buf);
        return r;
}

pb_reply_t *
harness_change(harness_client_t *c, pb_request_t *req, const char *actor)
{
        static uint64_t counter;
        pb_reply_t *reply = NULL;
        char id[32];

        snprintf(id, sizeof(id), "h-%" PRIu64, ++counter);
        req->request_id = id;
        req->actor = (char *)(uintptr_t)actor;
        if (harness_client_call(c, req, HARNESS_CALL_TIMEOUT_MS, &reply) < 0) {
                fprintf(stderr, "no reply to request %s\n", id);
                reply = NULL;
        } else if (reply->error != E_OK) {
                fprintf(stderr, "request %s failed: %s\n", id, reply->message);
        }
        req->request_id = NULL;
        return reply;
}

pb_reply_t *
harness_status(harness_t *h)
{
        Complaint__V1__StatusRequest st;
        pb_request_t req;
        harness_client_t c;
        pb_reply_t *reply = NULL;

        complaint__v1__status_request__init(&st);
        complaint__v1__request__init(&req);
        req.schema_version = PB_SCHEMA_VERSION;
        req.body_case = COMPLAINT__V1__REQUEST__BODY_STATUS;
        req.status = &st;
        if (harness_client_open(h, &c) < 0)
                return NULL;
        if (harness_client_call(&c, &req, HARNESS_CALL_TIMEOUT_MS, &reply) < 0)
                reply = NULL;
        harness_client_close(&c);
        if (reply && (reply->error != E_OK || reply->status == NULL)) {
                fprintf(stderr, "harness: status failed: %s %s\n", pb_error_name(reply->error),
                        reply->message);
                complaint__v1__reply__free_unpacked(reply, NULL);
                return NULL;
        }
        return reply;
}

uint64_t
harness_status_count(const pb_reply_t *r, int s)
{
        if (r == NULL || r->status == NULL)
                return 0;
        for (size_t i = 0; i < r->status->n_by_status; i++) {
                if ((int)r->status->by_status[i]->status == s)
                        return r->status->by_status[i]->count;
        }
        return 0;
}

/* ------------------------------------------------------------------ JSON */

struct hjson {
        hjson_type_t type;
        bool b;
        bool integral;
        int64_t i;
        double d;
        char *s;     /* HJSON_STRING */
        size_t n;    /* members or elements */
        char **keys; /* HJSON_OBJECT */
        struct hjson **v;
};

#define HJSON_DEPTH_MAX 64

struct parser {
        const char *p;
};

static void
s_ws(struct parser *ps)
{
        while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')
                ps->p++;
}

static hjson_t *s_value(struct parser *ps, int depth);

static int
s_hex4(const char *p, unsigned *ret)
{
        unsigned v = 0;

        for (int i = 0; i < 4; i++) {
                char c = p[i];

                v <<= 4;
                if (c >= '0' && c <= '9')
                        v |= (unsigned)(c - '0');
                else if (c >= 'a' && c <= 'f')
                        v |= (unsigned)(c - 'a' + 10);
                else if (c >= 'A' && c <= 'F')
                        v |= (unsigned)(c - 'A' + 10);
                else
                        return -1;
        }
        *ret = v;
        return 0;
}

static size_t
s_utf8(unsigned cp, char *out)
{
        if (cp < 0x80) {
                out[0] = (char)cp;
                return 1;
        }
        if (cp < 0x800) {
                out[0] = (char)(0xC0 | (cp >> 6));
                out[1] = (char)(0x80 | (cp & 0x3F));
                return 2;
        }
        if (cp < 0x10000) {
                out[0] = (char)(0xE0 | (cp >> 12));
                out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
                out[2] = (char)(0x80 | (cp & 0x3F));
                return 3;
        }
        out[0] = (char)(0xF0 | (cp >> 18));
        out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[3] = (char)(0x80 | (cp & 0x3F));
        return 4;
}

/* Parses a string at ps->p (on the opening quote); returns it malloc'ed, or NULL. */
static char *
s_string(struct parser *ps)
{
        const char *p = ps->p + 1, *end = p;
        size_t n = 0;
        char *out;

        if (*ps->p != '"')
                return NULL;
        /* The decoded string is never longer than its source: find the closing quote. */
        while (*end && *end != '"')
                end += end[0] == '\\' && end[1] ? 2 : 1;
        out = malloc((size_t)(end - p) + 1);
        if (out == NULL)
                return NULL;
        for (;;) {
                unsigned char c = (unsigned char)*p;

                if (c == '\0' || c < 0x20)
                        goto bad;
                if (c == '"')
                        break;
                if (c != '\\') {
                        out[n++] = (char)c;
                        p++;
                        continue;
                }
                p++;
                switch (*p) {
                case '"':
                case '\\':
                case '/':
                        out[n++] = *p++;
                        break;
                case 'b':
                        out[n++] = '\b';
                        p++;
                        break;
                case 'f':
                        out[n++] = '\f';
                        p++;
                        break;
                case 'n':
                        out[n++] = '\n';
                        p++;
                        break;
                case 'r':
                        out[n++] = '\r';
                        p++;
                        break;
                case 't':
                        out[n++] = '\t';
                        p++;
                        break;
                case 'u': {
                        unsigned cp, lo;

                        if (s_hex4(p + 1, &cp) < 0)
                                goto bad;
                        p += 5;
                        if (cp >= 0xD800 && cp < 0xDC00) {
                                if (p[0] != '\\' || p[1] != 'u' || s_hex4(p + 2, &lo) < 0 ||
                                    lo < 0xDC00 || lo >= 0xE000)
                                        goto bad;
                                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                                p += 6;
                        } else if (cp >= 0xDC00 && cp < 0xE000) {
                                goto bad;
                        }
                        /* An escape is at least 6 bytes and its UTF-8 at most 4: no overflow. */
                        n += s_utf8(cp, out + n);
                        break;
                }
                default:
                        goto bad;
                }
        }
        out[n] = '\0';
        ps->p = p + 1;
        return out;
bad:
        free(out);
        return NULL;
}

static hjson_t *
s_new(hjson_type_t type)
{
        hjson_t *v = calloc(1, sizeof(*v));

        if (v)
                v->type = type;
        return v;
}

static int
s_push(hjson_t *c, char *key, hjson_t *item)
{
        hjson_t **nv = realloc(c->v, (c->n + 1) * sizeof(*nv));

        if (nv == NULL)
                return -ENOMEM;
        c->v = nv;
        if (c->type == HJSON_OBJECT) {
                char **nk = realloc(c->keys, (c->n + 1) * sizeof(*nk));

                if (nk == NULL)
                        return -ENOMEM;
                c->keys = nk;
                c->keys[c->n] = key;
        }
        c->v[c->n++] = item;
        return 0;
}

static hjson_t *
s_container(struct parser *ps, int depth, bool object)
{
        hjson_t *c = s_new(object ? HJSON_OBJECT : HJSON_ARRAY);
        char close = object ? '}' : ']';

        if (c == NULL)
                return NULL;
        ps->p++;
        s_ws(ps);
        if (*ps->p == close) {
                ps->p++;
                return c;
        }
        /* Each pass consumes at least one member, so the input's length bounds the loop. */
        for (;;) {
                char *key = NULL;
                hjson_t *item;

                if (object) {
                        s_ws(ps);
                        key = s_string(ps);
                        if (key == NULL)
                                goto bad;
                        s_ws(ps);
                        if (*ps->p != ':') {
                                free(key);
                                goto bad;
                        }
                        ps->p++;
                }
                item = s_value(ps, depth + 1);
                if (item == NULL || s_push(c, key, item) < 0) {
                        free(key);
                        hjson_free(&item);
                        goto bad;
                }
                s_ws(ps);
                if (*ps->p == ',') {
                        ps->p++;
                        continue;
                }
                if (*ps->p == close) {
                        ps->p++;
                        return c;
                }
                goto bad;
        }
bad:
        hjson_free(&c);
        return NULL;
}

static hjson_t *
s_number(struct parser *ps)
{
        const char *start = ps->p, *p = ps->p;
        bool integral = true;
        hjson_t *v;
        char *end;

        if (*p == '-')
                p++;
        if (*p == '0')
                p++;
        else if (*p >= '1' && *p <= '9')
                while (*p >= '0' && *p <= '9')
                        p++;
        else
                return NULL;
        if (*p == '.') {
                integral = false;
                p++;
                if (!(*p >= '0' && *p <= '9'))
                        return NULL;
                while (*p >= '0' && *p <= '9')
                        p++;
        }
        if (*p == 'e' || *p == 'E') {
                integral = false;
                p++;
                if (*p == '+' || *p == '-')
                        p++;
                if (!(*p >= '0' && *p <= '9'))
                        return NULL;
                while (*p >= '0' && *p <= '9')
                        p++;
        }
        v = s_new(HJSON_NUMBER);
        if (v == NULL)
                return NULL;
        v->d = strtod(start, &end);
        if (integral) {
                errno = 0;
                if (*start == '-') {
                        v->i = strtoll(start, &end, 10);
                } else {
                        unsigned long long u = strtoull(start, &end, 10);

                        /* Ids are uint64; values above INT64_MAX are kept as doubles only. */
                        v->i = u > INT64_MAX ? INT64_MAX : (int64_t)u;
                        if (u > INT64_MAX)
                                errno = ERANGE;
                }
                v->integral = errno == 0;
        }
        ps->p = p;
        return v;
}

static hjson_t *
s_value(struct parser *ps, int depth)
{
        hjson_t *v;

        if (depth > HJSON_DEPTH_MAX)
                return NULL;
        s_ws(ps);
        switch (*ps->p) {
        case '{':
                return s_container(ps, depth, true);
        case '[':
                return s_container(ps, depth, false);
        case '"': {
                char *s = s_string(ps);

                if (s == NULL)
                        return NULL;
                v = s_new(HJSON_STRING);
                if (v == NULL) {
                        free(s);
                        return NULL;
                }
                v->s = s;
                return v;
        }
        case 't':
        case 'f':
        case 'n': {
                static const struct {
                        const char *word;
                        hjson_type_t type;
                        bool b;
                } words[] = {{"true", HJSON_BOOL, true},
                             {"false", HJSON_BOOL, false},
                             {"null", HJSON_NULL, false}};

                for (size_t i = 0; i < 3; i++) {
                        size_t n = strlen(words[i].word);

                        if (strncmp(ps->p, words[i].word, n) == 0) {
                                v = s_new(words[i].type);
                                if (v)
                                        v->b = words[i].b;
                                ps->p += n;
                                return v;
                        }
                }
                return NULL;
        }
        default:
                return s_number(ps);
        }
}

hjson_t *
hjson_parse(const char *s)
{
        struct parser ps = {.p = s};
        hjson_t *v;

        if (s == NULL)
                return NULL;
        v = s_value(&ps, 0);
        if (v == NULL)
                return NULL;
        s_ws(&ps);
        if (*ps.p != '\0') {
                hjson_free(&v);
                return NULL;
        }
        return v;
}

void
hjson_free(hjson_t **pv)
{
        hjson_t *v;

        if (pv == NULL || *pv == NULL)
                return;
        v = *pv;
        for (size_t i = 0; i < v->n; i++) {
                if (v->keys)
                        free(v->keys[i]);
                hjson_free(&v->v[i]);
        }
        free(v->keys);
        free(v->v);
        free(v->s);
        free(v);
        *pv = NULL;
}

const hjson_t *
hjson_get(const hjson_t *v, const char *path)
{
        const char *p = path ? path : "";

        /* One pass per path component: bounded by the path's length. */
        while (v && *p) {
                const char *dot = strchr(p, '.');
                size_t len = dot ? (size_t)(dot - p) : strlen(p);
                const hjson_t *next = NULL;

                if (v->type == HJSON_OBJECT) {
                        for (size_t i = 0; i < v->n; i++) {
                                if (strlen(v->keys[i]) == len && strncmp(v->keys[i], p, len) == 0) {
                                        next = v->v[i];
                                        break;
                                }
                        }
                } else if (v->type == HJSON_ARRAY) {
                        char *end;
                        unsigned long idx = strtoul(p, &end, 10);

                        if (end == p + len && idx < v->n)
                                next = v->v[idx];
                }
                v = next;
                p += len;
                if (*p == '.')
                        p++;
        }
        return v;
}

hjson_type_t
hjson_type(const hjson_t *v)
{
        return v ? v->type : HJSON_NULL;
}

const char *
hjson_str(const hjson_t *v, const char *path)
{
        const hjson_t *x = hjson_get(v, path);

        return x && x->type == HJSON_STRING ? x->s : NULL;
}

int64_t
hjson_int(const hjson_t *v, const char *path, int64_t dflt)
{
        const hjson_t *x = hjson_get(v, path);

        return x && x->type == HJSON_NUMBER && x->integral ? x->i : dflt;
}

int
hjson_bool(const hjson_t *v, const char *path, int dflt)
{
        const hjson_t *x = hjson_get(v, path);

        return x && x->type == HJSON_BOOL ? x->b : dflt;
}

size_t
hjson_len(const hjson_t *v, const char *path)
{
        const hjson_t *x = hjson_get(v, path);

        return x && (x->type == HJSON_ARRAY || x->type == HJSON_OBJECT) ? x->n : 0;
}

/* ------------------------------------------------------------------ more ways to run it */

extern char **environ;

/* The test's environment with each "NAME=value" of add set, replacing NAME: a malloc'ed,
 * NULL-terminated array of borrowed strings, or NULL on no memory. */
static char **
s_env_with(const char *const *add)
{
        size_t n = 0, extra = 0, k = 0;
        char **env;

        while (environ && environ[n])
                n++;
        while (add && add[extra])
                extra++;
        env = calloc(n + extra + 1, sizeof(*env));
        if (env == NULL)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                bool replaced = false;

                for (size_t j = 0; j < extra && !replaced; j++) {
                        size_t len = strcspn(add[j], "=");

                        replaced = strncmp(environ[i], add[j], len) == 0 && environ[i][len] == '=';
                }
                if (!replaced)
                        env[k++] = environ[i];
        }
        for (size_t j = 0; j < extra; j++)
                env[k++] = (char *)(uintptr_t)add[j];
        env[k] = NULL;
        return env;
}

/* Waits until the daemon just started answers a status request, as harness_start() does;
 * kills and reaps it when it does not. */
static int
s_await_ready(harness_t *h)
{
        harness_client_t c;
        int64_t deadline, resend = 0;
        int r = harness_client_open(h, &c);

        if (r < 0)
                goto fail;
        deadline = harness_now_ms() + HARNESS_START_TIMEOUT_MS;
        r = -ETIMEDOUT;
        /* Each pass waits at most 200 ms for the reply or the child's exit, until the
         * deadline. */
        for (int i = 0; i < 10000 && harness_now_ms() < deadline; i++) {
                zmq_pollitem_t items[2] = {{.socket = c.sock, .events = ZMQ_POLLIN},
                                           {.fd = h->pidfd, .events = ZMQ_POLLIN}};
                harness_frames_t f;
                int n;

                if (harness_now_ms() >= resend) {
                        if (resend != 0)
                                harness_client_reset(&c);
                        s_send_status(&c);
                        resend = harness_now_ms() + 2000;
                }
                n = zmq_poll(items, h->pidfd >= 0 ? 2 : 1,
                             s_remaining(deadline) < 200 ? s_remaining(deadline) : 200);
                if (n < 0 && zmq_errno() != EINTR) {
                        r = -zmq_errno();
                        break;
                }
                if (!harness_running(h)) {
                        r = -ECHILD;
                        break;
                }
                if (n > 0 && (items[0].revents & ZMQ_POLLIN) &&
                    harness_client_recv(&c, 0, &f) == 0) {
                        harness_frames_free(&f);
                        r = 0;
                        break;
                }
        }
        harness_client_close(&c);
        if (r == 0)
                return 0;
fail:
        if (r == -ECHILD) {
                fprintf(stderr, "harness: complaintd exited during start-up (status %d)\n",
                        s_wait_child(h->pid, h->pidfd, -1));
        } else {
                fprintf(stderr, "harness: complaintd did not answer within %d ms: %s\n",
                        HARNESS_START_TIMEOUT_MS, strerror(-r));
                kill(h->pid, SIGKILL);
                s_wait_child(h->pid, h->pidfd, -1);
        }
        s_forget_child(h);
        harness_dump_log(h);
        return r;
}

int
harness_start_with(harness_t *h, const harness_start_opts_t *opts)
{
        const char *argv[] = {COMPLAINTD_BIN, "--config", h->conf,    "--state-dir", h->state,
                              "--api",        h->api,     "--events", h->events,     NULL};
        struct rlimit nofile = {0, 0};
        char **env;
        int logfd, devnull, r;
        pid_t pid, parent;

        if (opts == NULL)
                return harness_start(h);
        assert(h->pid == 0);
        nofile.rlim_cur = nofile.rlim_max = opts->nofile;
        env = s_env_with(opts->env);
        if (env == NULL)
                return -ENOMEM;
        parent = getpid();
        logfd = open(h->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (logfd < 0) {
                r = -errno;
                free(env);
                return r;
        }
        devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
        pid = fork();
        if (pid < 0) {
                r = -errno;
                close(logfd);
                if (devnull >= 0)
                        close(devnull);
                free(env);
                return r;
        }
        if (pid == 0) {
                /* Only async-signal-safe calls between fork and exec, as in harness_start(). */
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (getppid() != parent)
                        _exit(127);
                if (devnull >= 0)
                        dup2(devnull, 0);
                dup2(logfd, 1);
                dup2(logfd, 2);
                if (opts->nofile > 0 && setrlimit(RLIMIT_NOFILE, &nofile) < 0)
                        _exit(126);
                execve(argv[0], (char *const *)(uintptr_t)argv, env);
                _exit(127);
        }
        close(logfd);
        if (devnull >= 0)
                close(devnull);
        free(env);
        h->pid = pid;
        h->pidfd = s_pidfd_open(pid);
        h->starts++;
        return s_await_ready(h);
}

int
harness_wait_exit(harness_t *h, int timeout_ms)
{
        int r;

        if (h->pid <= 0)
                return -ESRCH;
        r = s_wait_child(h->pid, h->pidfd, timeout_ms);
        if (r != -ETIMEDOUT)
                s_forget_child(h);
        return r;
}

off_t
harness_log_size(const harness_t *h)
{
        struct stat st;

        return stat(h->log, &st) == 0 ? st.st_size : 0;
}

/* The log from byte offset from on (malloc'ed), or NULL. */
static char *
s_log_from(const harness_t *h, off_t from, size_t *ret_skipped)
{
        size_t n = 0;
        char *text = s_read_file(h->log, &n);

        if (text == NULL)
                return NULL;
        *ret_skipped = from <= 0 ? 0 : (size_t)from < n ? (size_t)from : n;
        return text;
}

size_t
harness_log_count(const harness_t *h, const char *needle, off_t from)
{
        size_t skipped, count = 0;
        char *text = s_log_from(h, from, &skipped);

        if (text == NULL || needle[0] == '\0') {
                free(text);
                return 0;
        }
        /* Each pass moves past one occurrence: bounded by the log's length. */
        for (const char *p = strstr(text + skipped, needle); p;
             p = strstr(p + strlen(needle), needle))
                count++;
        free(text);
        return count;
}

off_t
harness_wait_log(const harness_t *h, const char *needle, off_t from, int timeout_ms)
{
        int64_t deadline = harness_now_ms() + timeout_ms;
        int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        off_t found = -ETIMEDOUT;

        if (fd < 0)
                return -errno;
        /* Watch first, then look: what is written in between wakes the poll. */
        if (inotify_add_watch(fd, h->log, IN_MODIFY) < 0) {
                int r = -errno;

                close(fd);
                return r;
        }
        /* Each pass looks once and then waits for the next write to the log or the deadline;
         * the count only guards against a log written to without end. */
        for (int i = 0; i < 100000; i++) {
                size_t skipped;
                char *text = s_log_from(h, from, &skipped);
                const char *at = text ? strstr(text + skipped, needle) : NULL;
                struct pollfd p = {.fd = fd, .events = POLLIN};
                char events[4096];

                if (at)
                        found = at - text;
                free(text);
                if (at || s_remaining(deadline) == 0)
                        break;
                if (poll(&p, 1, s_remaining(deadline)) < 0 && errno != EINTR)
                        break;
                for (int k = 0; k < 64 && read(fd, events, sizeof(events)) > 0; k++)
                        ;
        }
        close(fd);
        return found;
}

/* ------------------------------------------------------------------ access control (CURVE) */

int
harness_keypair(harness_keypair_t *ret)
{
        harness_keypair_t kp;

        if (!zmq_has("curve"))
                return -ENOTSUP;
        if (zmq_curve_keypair(kp.public_key, kp.secret_key) < 0)
                return -zmq_errno();
        *ret = kp;
        return 0;
}

int
harness_write_keyfile(const char *path, const harness_keypair_t *kp, mode_t mode)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        FILE *f;

        if (fd < 0)
                return -errno;
        /* The umask may have taken bits away, and an existing file keeps its mode. */
        if (fchmod(fd, mode) < 0) {
                int r = -errno;

                close(fd);
                return r;
        }
        f = fdopen(fd, "w");
        if (f == NULL) {
                int r = -errno;

                close(fd);
                return r;
        }
        fprintf(f, "public = %s\nsecret = %s\n", kp->public_key, kp->secret_key);
        return fclose(f) == 0 ? 0 : -errno;
}

/* A socket of type with CURVE client options, connected to endpoint; NULL on failure. */
static void *
s_curve_socket(void *zctx, int type, const char *endpoint, const char *server_public,
               const harness_keypair_t *kp, const char *const *prefixes)
{
        void *sock = zmq_socket(zctx, type);
        int linger = 0;

        if (sock == NULL)
                return NULL;
        zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof(linger));
        if (zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, server_public, 40) < 0 ||
            zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, kp->public_key, 40) < 0 ||
            zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, kp->secret_key, 40) < 0)
                goto fail;
        for (size_t i = 0; prefixes && prefixes[i]; i++)
                if (zmq_setsockopt(sock, ZMQ_SUBSCRIBE, prefixes[i], strlen(prefixes[i])) < 0)
                        goto fail;
        if (zmq_connect(sock, endpoint) < 0)
                goto fail;
        return sock;
fail:
        fprintf(stderr, "harness: CURVE socket to %s: %s\n", endpoint, zmq_strerror(zmq_errno()));
        zmq_close(sock);
        return NULL;
}

int
harness_client_open_curve(harness_t *h, harness_client_t *c, const char *endpoint,
                          const char *server_public, const harness_keypair_t *kp)
{
        memset(c, 0, sizeof(*c));
        c->zctx = h->zctx;
        snprintf(c->endpoint, sizeof(c->endpoint), "%s", endpoint ? endpoint : h->api);
        c->sock = s_curve_socket(c->zctx, ZMQ_DEALER, c->endpoint, server_public, kp, NULL);
        return c->sock ? 0 : -EIO;
}

void *
harness_sub_open_curve(harness_t *h, const char *server_public, const harness_keypair_t *kp,
                       const char *const *prefixes)
{
        return s_curve_socket(h->zctx, ZMQ_SUB, h->events, server_public, kp, prefixes);
}

int
harness_start_curve(harness_t *h, const char *server_public, const harness_keypair_t *kp)
{
        const char *argv[] = {COMPLAINTD_BIN, "--config", h->conf,    "--state-dir", h->state,
                              "--api",        h->api,     "--events", h->events,     NULL};
        harness_client_t c = {0};
        int64_t deadline, resend = 0;
        int logfd, devnull, r;
        pid_t pid, parent;

        assert(h->pid == 0);
        parent = getpid();
        logfd = open(h->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (logfd < 0)
                return -errno;
        devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
        pid = fork();
        if (pid < 0) {
                r = -errno;
                close(logfd);
                if (devnull >= 0)
                        close(devnull);
                return r;
        }
        if (pid == 0) {
                /* Only async-signal-safe calls between fork and exec, as in harness_start(). */
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (getppid() != parent)
                        _exit(127);
                if (devnull >= 0)
                        dup2(devnull, 0);
                dup2(logfd, 1);
                dup2(logfd, 2);
                execv(argv[0], (char *const *)(uintptr_t)argv);
                _exit(127);
        }
        close(logfd);
        if (devnull >= 0)
                close(devnull);
        h->pid = pid;
        h->pidfd = s_pidfd_open(pid);
        h->starts++;

        deadline = harness_now_ms() + HARNESS_START_TIMEOUT_MS;
        r = -ETIMEDOUT;
        /* Each pass waits at most 200 ms for the reply or the child's exit, until the
         * deadline; a fresh CURVE connection every 2 s in case the first went nowhere. */
        for (int i = 0; i < 10000 && harness_now_ms() < deadline; i++) {
                zmq_pollitem_t items[2] = {{.events = ZMQ_POLLIN},
                                           {.fd = h->pidfd, .events = ZMQ_POLLIN}};
                harness_frames_t f;
                int n;

                if (harness_now_ms() >= resend) {
                        harness_client_close(&c);
                        r = harness_client_open_curve(h, &c, NULL, server_public, kp);
                        if (r < 0)
                                break;
                        r = -ETIMEDOUT;
                        s_send_status(&c);
                        resend = harness_now_ms() + 2000;
                }
                items[0].socket = c.sock;
                n = zmq_poll(items, h->pidfd >= 0 ? 2 : 1,
                             s_remaining(deadline) < 200 ? s_remaining(deadline) : 200);
                if (n < 0 && zmq_errno() != EINTR) {
                        r = -zmq_errno();
                        break;
                }
                if (!harness_running(h)) {
                        r = -ECHILD;
                        break;
                }
                if (n > 0 && (items[0].revents & ZMQ_POLLIN) &&
                    harness_client_recv(&c, 0, &f) == 0) {
                        harness_frames_free(&f);
                        r = 0;
                        break;
                }
        }
        harness_client_close(&c);
        if (r == 0)
                return 0;
        if (r == -ECHILD) {
                fprintf(stderr, "harness: complaintd exited during start-up (status %d)\n",
                        s_wait_child(h->pid, h->pidfd, -1));
        } else {
                fprintf(stderr,
                        "harness: complaintd did not answer a CURVE client within %d ms: %s\n",
                        HARNESS_START_TIMEOUT_MS, strerror(-r));
                kill(h->pid, SIGKILL);
                s_wait_child(h->pid, h->pidfd, -1);
        }
        s_forget_child(h);
        harness_dump_log(h);
        return r;
}

long
harness_proc_kib(pid_t pid, const char *field)
{
        char path[64], line[256];
        FILE *f;
        long kib = -1;

        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
        f = fopen(path, "re");
        if (f == NULL)
                return -1;
        /* A few dozen lines. */
        while (fgets(line, sizeof(line), f))
                if (strncmp(line, field, strlen(field)) == 0 &&
                    sscanf(line + strlen(field), ": %ld", &kib) == 1)
                        break;
        fclose(f);
        return kib;
}
