/* it_systemd.c: complaintd under a service manager. The test plays systemd's side of the
 * notification protocol: it binds an AF_UNIX datagram socket in the temporary directory, starts
 * the real daemon with NOTIFY_SOCKET naming it and WATCHDOG_USEC=400000, and reads what the
 * daemon says: READY=1, STATUS= with live counts, WATCHDOG=1 at least every 400 ms, RELOADING=1
 * (with MONOTONIC_USEC=) then READY=1 around a SIGHUP, and STOPPING=1 on SIGTERM. A reload of a
 * broken file keeps the daemon on its running configuration and logs the file and line; a
 * reload that adds a department makes it usable at once.
 *
 * Every wait is a poll() on the notification socket with a bounded timeout; only datagrams
 * whose SCM_CREDENTIALS name the daemon's pid count. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "check.h"
#include "harness.h"

CHECK_DEFINE_COUNTERS();

/* The watchdog interval the test asks for; the daemon pings at half of it. */
#define WATCHDOG_USEC 400000
/* How long one notification may take to arrive. */
#define NOTIFY_TIMEOUT_MS 5000

static harness_t h;
static int notify_fd = -1;

/* ------------------------------------------------------------ the manager's socket */

static int
s_notify_open(const char *path)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        int fd, on = 1;

        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, path, strlen(path) + 1);
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) < 0 ||
            bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                int r = -errno;

                close(fd);
                return r;
        }
        return fd;
}

/* Receives one datagram from the daemon into buf, waiting up to timeout_ms. Datagrams from
 * other processes are skipped. Returns 0, -ETIMEDOUT, or a negative errno. */
static int
s_notify_recv(char *buf, size_t size, int timeout_ms)
{
        int64_t deadline = harness_now_ms() + timeout_ms;

        for (;;) {
                union {
                        struct cmsghdr align;
                        char buf[CMSG_SPACE(sizeof(struct ucred))];
                } control;
                struct iovec iov = {.iov_base = buf, .iov_len = size - 1};
                struct msghdr mh = {.msg_iov = &iov,
                                    .msg_iovlen = 1,
                                    .msg_control = &control,
                                    .msg_controllen = sizeof(control)};
                struct pollfd p = {.fd = notify_fd, .events = POLLIN};
                int64_t left = deadline - harness_now_ms();
                pid_t sender = 0;
                ssize_t n;

                if (left <= 0)
                        return -ETIMEDOUT;
                if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
                        return -errno;
                n = recvmsg(notify_fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
                if (n < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                continue;
                        return -errno;
                }
                buf[n] = '\0';
                for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
                                struct ucred cred;

                                memcpy(&cred, CMSG_DATA(c), sizeof(cred));
                                sender = cred.pid;
                        }
                if (sender == h.pid)
                        return 0;
        }
}

/* Whether the message has the line `line` ("READY=1"), or, when line ends in '=', a line
 * starting with it; *ret_value is then what follows (borrowed from msg). */
static bool
s_has_line(const char *msg, const char *line, const char **ret_value)
{
        size_t len = strlen(line);
        bool prefix = len > 0 && line[len - 1] == '=';

        for (const char *p = msg; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
                size_t l = strchr(p, '\n') ? (size_t)(strchr(p, '\n') - p) : strlen(p);

                if (prefix ? l >= len && strncmp(p, line, len) == 0
                           : l == len && strncmp(p, line, len) == 0) {
                        if (ret_value)
                                *ret_value = p + len;
                        return true;
                }
        }
        return false;
}

/* Waits up to timeout_ms for a message with `line`; copies the whole message to ret (when
 * not NULL). Messages before it are dropped. Returns true when it came. */
static bool
s_wait_for(const char *line, int timeout_ms, char *ret, size_t size)
{
        int64_t deadline = harness_now_ms() + timeout_ms;
        char msg[4096];

        while (harness_now_ms() < deadline) {
                if (s_notify_recv(msg, sizeof(msg), (int)(deadline - harness_now_ms())) < 0)
                        break;
                if (s_has_line(msg, line, NULL)) {
                        if (ret)
                                snprintf(ret, size, "%s", msg);
                        return true;
                }
        }
        fprintf(stderr, "no \"%s\" from the daemon within %d ms\n", line, timeout_ms);
        return false;
}

/* Waits up to timeout_ms for a STATUS= line containing `needle`; copies its value to ret
 * (when not NULL). */
static bool
s_wait_status(const char *needle, int timeout_ms, char *ret, size_t size)
{
        int64_t deadline = harness_now_ms() + timeout_ms;
        char msg[4096], last[4096] = "";

        while (harness_now_ms() < deadline) {
                const char *value;

                if (s_notify_recv(msg, sizeof(msg), (int)(deadline - harness_now_ms())) < 0)
                        break;
                if (s_has_line(msg, "STATUS=", &value)) {
                        snprintf(last, sizeof(last), "%s", value);
                        if (strstr(value, needle)) {
                                if (ret)
                                        snprintf(ret, size, "%s", value);
                                return true;
                        }
                }
        }
        fprintf(stderr, "no STATUS= with \"%s\" within %d ms; last STATUS=%s\n", needle, timeout_ms,
                last);
        return false;
}

/* ------------------------------------------------------------ the API */

static uint64_t req_counter;

/* Sends one change; returns its error code, -1 without a reply; *ret_id gets a created id. */
static int
s_call(harness_client_t *c, pb_request_t *req, uint64_t *ret_id)
{
        pb_reply_t *reply = NULL;
        char id[32];
        int code;

        snprintf(id, sizeof(id), "sd-%" PRIu64, ++req_counter);
        req->schema_version = PB_SCHEMA_VERSION;
        req->request_id = id;
        req->actor = (char *)"tester";
        if (harness_client_call(c, req, HARNESS_CALL_TIMEOUT_MS, &reply) < 0) {
                fprintf(stderr, "no reply to request %s\n", id);
                return -1;
        }
        code = reply->error;
        if (code != E_OK)
                fprintf(stderr, "request %s: error %d: %s\n", id, code, reply->message);
        if (ret_id && code == E_OK && reply->complaint)
                *ret_id = reply->complaint->id;
        complaint__v1__reply__free_unpacked(reply, NULL);
        return code;
}

static uint64_t
s_create(harness_client_t *c)
{
        Complaint__V1__CreateRequest q = COMPLAINT__V1__CREATE_REQUEST__INIT;
        pb_complainant_t who = COMPLAINT__V1__COMPLAINANT__INIT;
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        uint64_t id = 0;

        who.phone = (char *)"+49 30 555 0100";
        q.channel = COMPLAINT__V1__CHANNEL__CHANNEL_PHONE;
        q.complainant = &who;
        q.subject = (char *)"The shop was closed during opening hours";
        q.description = (char *)"Nobody there at 11:00 on a Tuesday.";
        q.category = (char *)"other";
        req.body_case = COMPLAINT__V1__REQUEST__BODY_CREATE;
        req.create = &q;
        return s_call(c, &req, &id) == E_OK ? id : 0;
}

static int
s_assign(harness_client_t *c, uint64_t id, const char *department)
{
        Complaint__V1__AssignRequest as = COMPLAINT__V1__ASSIGN_REQUEST__INIT;
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;

        as.id = id;
        as.department = (char *)(uintptr_t)department;
        req.body_case = COMPLAINT__V1__REQUEST__BODY_ASSIGN;
        req.assign = &as;
        return s_call(c, &req, NULL);
}

/* ------------------------------------------------------------ the tests */

/* READY=1 came before the daemon answered its first request; then STATUS= with the counts. */
static void
test_ready_and_status(void)
{
        harness_client_t c;
        uint64_t id;

        CHECK(s_wait_for("READY=1", NOTIFY_TIMEOUT_MS, NULL, 0));
        CHECK(s_wait_status("0 open, 0 overdue, last event", NOTIFY_TIMEOUT_MS, NULL, 0));
        REQUIRE(harness_client_open(&h, &c) == 0);
        id = s_create(&c);
        CHECK(id != 0);
        /* The figures are live: the new complaint shows within a refresh or two. */
        CHECK(s_wait_status("1 open, 0 overdue", NOTIFY_TIMEOUT_MS, NULL, 0));
        harness_client_close(&c);
}

/* WATCHDOG=1 comes from the loop at least every WATCHDOG_USEC (it aims at half of it). */
static void
test_watchdog(void)
{
        int64_t start = harness_now_ms(), last = 0, gap = 0;
        int pings = 0;
        char msg[4096];

        while (harness_now_ms() - start < 2000) {
                if (s_notify_recv(msg, sizeof(msg), (int)(2000 - (harness_now_ms() - start))) < 0)
                        break;
                if (!s_has_line(msg, "WATCHDOG=1", NULL))
                        continue;
                if (last > 0 && harness_now_ms() - last > gap)
                        gap = harness_now_ms() - last;
                last = harness_now_ms();
                pings++;
        }
        /* About ten at 200 ms; five allow for a loaded machine. */
        CHECK(pings >= 5);
        CHECK(gap < WATCHDOG_USEC / 1000);
        if (pings < 5 || gap >= WATCHDOG_USEC / 1000)
                fprintf(stderr, "watchdog: %d pings in 2 s, longest gap %" PRId64 " ms\n", pings,
                        gap);
}

/* SIGHUP: RELOADING=1 with MONOTONIC_USEC, then READY=1, in that order. */
static void
s_reload(const char *what)
{
        char msg[4096];
        const char *usec = NULL;

        REQUIRE(kill(h.pid, SIGHUP) == 0);
        CHECK(s_wait_for("RELOADING=1", NOTIFY_TIMEOUT_MS, msg, sizeof(msg)));
        CHECK(s_has_line(msg, "MONOTONIC_USEC=", &usec) && usec && strtoull(usec, NULL, 10) > 0);
        CHECK(s_wait_for("READY=1", NOTIFY_TIMEOUT_MS, NULL, 0));
        CHECK(harness_running(&h));
        if (!harness_running(&h))
                fprintf(stderr, "the daemon died on the reload of %s\n", what);
}

static char *
s_read_log(void)
{
        FILE *f = fopen(h.log, "r");
        char *text = NULL;
        size_t size = 0;

        if (f == NULL)
                return NULL;
        if (getdelim(&text, &size, '\0', f) < 0) {
                free(text);
                text = NULL;
        }
        fclose(f);
        return text;
}

/* A broken file is rejected, the reason logged with file and line, and the daemon serves on. */
static void
test_reload_broken(void)
{
        static const char *const broken[] = {"heartbeat = \"1s\";", "heartbeat = \"soon\";", NULL};
        char where[PATH_MAX + 16];
        pb_reply_t *r;
        char *log;
        int line;

        REQUIRE(harness_write_conf(h.conf, broken) == 0);
        line = harness_file_line(h.conf, "heartbeat = \"soon\";");
        REQUIRE(line > 0);
        s_reload("a broken file");
        CHECK(s_wait_status("last reload rejected", NOTIFY_TIMEOUT_MS, NULL, 0));
        snprintf(where, sizeof(where), "%s:%d:", h.conf, line);
        log = s_read_log();
        CHECK(log && strstr(log, "rejected") && strstr(log, where) && strstr(log, "heartbeat"));
        if (!(log && strstr(log, where)))
                fprintf(stderr, "the log does not name %s\n", where);
        free(log);
        r = harness_status(&h);
        CHECK(r != NULL && r->error == E_OK);
        if (r)
                complaint__v1__reply__free_unpacked(r, NULL);
}

/* A valid file that adds a department: assigning to it works once it is reloaded. */
static void
test_reload_new_department(void)
{
        static const char *const added[] = {
            "  { id = \"safety\"; name = \"Health, safety and environment\";",
            "  { id = \"ombudsman\"; name = \"Ombudsman's office\"; },\n"
            "  { id = \"safety\"; name = \"Health, safety and environment\";",
            NULL};
        harness_client_t c;
        char status[256] = "";
        uint64_t id;

        REQUIRE(harness_client_open(&h, &c) == 0);
        id = s_create(&c);
        REQUIRE(id != 0);
        CHECK(s_assign(&c, id, "ombudsman") != E_OK);

        REQUIRE(harness_write_conf(h.conf, added) == 0);
        s_reload("a file with a new department");
        id = s_create(&c);
        REQUIRE(id != 0);
        CHECK_INT(s_assign(&c, id, "ombudsman"), E_OK);
        CHECK(s_wait_status("3 open, 0 overdue", NOTIFY_TIMEOUT_MS, status, sizeof(status)));
        /* The rejected reload before it is no longer news. */
        CHECK(strstr(status, "rejected") == NULL);
        harness_client_close(&c);
}

/* SIGTERM: STOPPING=1, then a clean exit. */
static void
test_stop(void)
{
        REQUIRE(kill(h.pid, SIGTERM) == 0);
        CHECK(s_wait_for("STOPPING=1", NOTIFY_TIMEOUT_MS, NULL, 0));
        CHECK_INT(harness_stop(&h), 0);
}

int
main(void)
{
        char path[PATH_MAX];
        char usec[32];

        REQUIRE(harness_init(&h, "it_systemd") == 0);
        snprintf(path, sizeof(path), "%s/notify", h.dir);
        notify_fd = s_notify_open(path);
        REQUIRE(notify_fd >= 0);
        /* The daemon inherits these. WATCHDOG_PID may name only the daemon, so it stays unset;
         * JOURNAL_STREAM would only mislead it (its stderr is the harness's log file). */
        snprintf(usec, sizeof(usec), "%d", WATCHDOG_USEC);
        REQUIRE(setenv("NOTIFY_SOCKET", path, 1) == 0);
        REQUIRE(setenv("WATCHDOG_USEC", usec, 1) == 0);
        unsetenv("WATCHDOG_PID");
        unsetenv("JOURNAL_STREAM");
        REQUIRE(harness_start(&h) == 0);

        test_ready_and_status();
        test_watchdog();
        test_reload_broken();
        test_reload_new_department();
        test_stop();

        if (check_failed)
                harness_dump_log(&h);
        close(notify_fd);
        return harness_cleanup(&h, check_summary());
}
