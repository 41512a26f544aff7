/* it_notify.c: complaint-notify's alerts to staff, against the real daemon, a real MTA and a
 * real HTTP client. complaintd runs with a billing department whose response limit is 1 s; the
 * real complaint-notify follows it and sends through msmtp (the sendmail interface, Debian's
 * msmtp package) to an SMTP server this test runs on 127.0.0.1, and through libcurl to an HTTP
 * server this test runs on 127.0.0.1.
 *
 * (a) an escalation of a complaint in Chinese produces exactly the expected mail (headers, the
 *     UTF-8 subject as encoded-words, the base64 body) and the JSON of each webhook format, with
 *     no contact details; a server that fails the first two calls gets the alert on the third;
 *     a server that is down past the give-up time is logged as given up with the alert's id,
 *     and the others still get theirs;
 * (b) complaint-notify killed with SIGKILL during a burst of escalations and started again:
 *     every alert arrives, and every repeat carries the Message-ID and id of the first;
 * (c) throughput: 100 escalations that fell due while complaint-notify was stopped, sent at its
 *     start through the MTA and the webhook server; the alerts a second are printed.
 *
 * Every wait is bounded: on the servers' condition variables, the log pipe or a SUB socket. */
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "check.h"
#include "harness.h"
#include "http_sink.h"
#include "notify_run.h"
#include "smtp_sink.h"

CHECK_DEFINE_COUNTERS();

#define A(x) COMPLAINT__V1__ACTION__ACTION_##x

static const char *const daemon_conf =
    "daemon: { heartbeat = \"100ms\"; };\n"
    "centre = \"centre\";\n"
    "escalation: { warning = 0; realert = \"1h\"; followup = \"1h\"; };\n"
    "departments = (\n"
    "  { id = \"centre\"; name = \"Centre\"; calendar = \"24x7\";\n"
    "    chain = ( { role = \"Supervisor\"; allowance = \"1h\"; } ); },\n"
    "  { id = \"billing\"; name = \"Billing\"; calendar = \"24x7\";\n"
    "    response = \"1s\"; resolution = \"1h\";\n"
    "    chain = ( { role = \"Section chief\"; allowance = \"1h\"; },\n"
    "              { role = \"Head of billing\"; allowance = \"1h\"; } ); }\n"
    ");\n"
    "categories = ( { id = \"billing\"; name = \"Billing\"; department = \"billing\"; } );\n";

static harness_t h;
static harness_client_t api;
static smtp_sink_t *smtp;
static http_sink_t *http;
static notify_proc_t notify;
static char notify_conf[PATH_MAX], msmtprc[PATH_MAX];

static int
s_write(const char *path, const char *text)
{
        FILE *f = fopen(path, "w");

        if (f == NULL)
                return -1;
        fputs(text, f);
        return fclose(f);
}

/* ------------------------------------------------------------ the daemon */

static uint64_t
s_create(const char *subject, const char *description, int priority)
{
        Complaint__V1__CreateRequest q = COMPLAINT__V1__CREATE_REQUEST__INIT;
        pb_complainant_t who = COMPLAINT__V1__COMPLAINANT__INIT;
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        pb_reply_t *r;
        uint64_t id = 0;

        who.name = (char *)"张三";
        who.phone = (char *)"+86 138 1234 5678";
        who.email = (char *)"zhang.san@example.cn";
        q.channel = COMPLAINT__V1__CHANNEL__CHANNEL_PHONE;
        q.complainant = &who;
        q.subject = (char *)(uintptr_t)subject;
        q.description = (char *)(uintptr_t)description;
        q.category = (char *)"billing";
        q.priority = priority;
        req.body_case = COMPLAINT__V1__REQUEST__BODY_CREATE;
        req.create = &q;
        r = harness_change(&api, &req, "agent");
        if (r && r->error == E_OK && r->complaint)
                id = r->complaint->id;
        if (r)
                complaint__v1__reply__free_unpacked(r, NULL);
        return id;
}

static int
s_assign(uint64_t id)
{
        Complaint__V1__AssignRequest q = COMPLAINT__V1__ASSIGN_REQUEST__INIT;
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        pb_reply_t *r;
        int code;

        q.id = id;
        q.department = (char *)"";
        req.body_case = COMPLAINT__V1__REQUEST__BODY_ASSIGN;
        req.assign = &q;
        r = harness_change(&api, &req, "agent");
        if (r == NULL)
                return -1;
        code = r->error;
        complaint__v1__reply__free_unpacked(r, NULL);
        return code;
}

/* The seq and time of complaint id's escalation event; 0 when there is none. */
static uint64_t
s_escalation(uint64_t id, int64_t *ret_at)
{
        Complaint__V1__GetRequest g = COMPLAINT__V1__GET_REQUEST__INIT;
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        pb_reply_t *r = NULL;
        uint64_t seq = 0;

        g.id = id;
        req.body_case = COMPLAINT__V1__REQUEST__BODY_GET;
        req.get = &g;
        if (harness_client_call(&api, &req, HARNESS_CALL_TIMEOUT_MS, &r) == 0 && r->error == E_OK)
                for (size_t i = 0; i < r->n_history; i++)
                        if (r->history[i]->action == A(ESCALATE)) {
                                seq = r->history[i]->event_seq;
                                if (ret_at)
                                        *ret_at = r->history[i]->at_ms;
                        }
        if (r)
                complaint__v1__reply__free_unpacked(r, NULL);
        return seq;
}

/* ------------------------------------------------------------ complaint-notify */

static void
s_write_notify_conf(const char *state, int down_port)
{
        char text[16384];
        int port = http_sink_port(http);

        snprintf(text, sizeof(text),
                 "notify: { api = \"%s\"; state_dir = \"%s\"; log_level = \"info\";\n"
                 "  from = \"Complaint centre <complaints@example.org>\";\n"
                 "  sendmail = [\"" MSMTP_BIN "\", \"-C\", \"%s\", \"-t\", \"-oi\"];\n"
                 "  zone = \"UTC\"; timeout = \"2s\"; retry_min = \"100ms\"; retry_max = "
                 "\"400ms\";\n"
                 "  give_up = \"1500ms\"; };\n"
                 "recipients = (\n"
                 "  { id = \"chief\"; email = \"chief@example.org\"; },\n"
                 "  { id = \"hook-json\"; webhook = \"http://127.0.0.1:%d/json\"; },\n"
                 "  { id = \"hook-slack\"; webhook = \"http://127.0.0.1:%d/slack\"; format = "
                 "\"slack\"; },\n"
                 "  { id = \"hook-wecom\"; webhook = \"http://127.0.0.1:%d/wecom\"; format = "
                 "\"wecom\"; },\n"
                 "  { id = \"hook-dingtalk\"; webhook = \"http://127.0.0.1:%d/dingtalk\"; "
                 "format = \"dingtalk\"; headers = [\"X-Test: yes\"]; },\n"
                 "  { id = \"flaky\"; webhook = \"http://127.0.0.1:%d/flaky\"; },\n"
                 "  { id = \"down\"; webhook = \"http://127.0.0.1:%d/down\"; }\n"
                 ");\n"
                 "routes = (\n"
                 "  { departments = [\"billing\"]; kinds = [\"escalated\"]; levels = [1];\n"
                 "    to = [\"chief\", \"hook-json\"]; },\n"
                 "  { departments = [\"billing\"]; kinds = [\"escalated\"]; levels = [1];\n"
                 "    to = [\"hook-json\", \"hook-slack\", \"hook-wecom\", \"hook-dingtalk\"]; }\n"
                 "%s"
                 ");\n",
                 h.api, state, msmtprc, port, port, port, port, port, down_port,
                 down_port ? ", { departments = [\"billing\"]; kinds = [\"escalated\"];\n"
                             "    to = [\"flaky\", \"down\"]; }\n"
                           : "");
        REQUIRE(s_write(notify_conf, text) == 0);
}

static void
s_start_notify(void)
{
        REQUIRE(notify_start(&notify, notify_conf, NULL) == 0);
}

/* ------------------------------------------------------------ decoding, as a reader would */

static size_t
s_b64_decode(const char *in, size_t n, char *out)
{
        static const char abc[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        uint32_t v = 0;
        int bits = 0;
        size_t o = 0;

        for (size_t i = 0; i < n; i++) {
                const char *p = strchr(abc, in[i]);

                if (in[i] == '=' || in[i] == '\n' || in[i] == '\r' || p == NULL || in[i] == 0)
                        continue;
                v = v << 6 | (uint32_t)(p - abc);
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        out[o++] = (char)(v >> bits & 0xff);
                }
        }
        out[o] = '\0';
        return o;
}

/* The value of header name (unfolded, encoded-words decoded) into out. */
static bool
s_header(const char *msg, const char *name, char *out, size_t size)
{
        const char *end = strstr(msg, "\n\n"), *p = msg;
        size_t nl = strlen(name), o = 0;

        while (p && p < end) {
                if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
                        p += nl + 1;
                        while (*p == ' ')
                                p++;
                        for (;;) {
                                const char *eol = strchr(p, '\n');
                                size_t len = (size_t)(eol - p);

                                if (strncmp(p, "=?UTF-8?B?", 10) == 0 && len > 12) {
                                        char dec[512];
                                        size_t d = s_b64_decode(p + 10, len - 12, dec);

                                        if (o + d < size) {
                                                memcpy(out + o, dec, d);
                                                o += d;
                                        }
                                } else if (o + len < size) {
                                        memcpy(out + o, p, len);
                                        o += len;
                                }
                                if (eol[1] != ' ' && eol[1] != '\t')
                                        break;
                                p = eol + 2;
                        }
                        out[o] = '\0';
                        return true;
                }
                p = strchr(p, '\n');
                p = p ? p + 1 : NULL;
        }
        return false;
}

/* The decoded body of a base64 message (the caller frees it). */
static char *
s_body(const char *msg)
{
        const char *b = strstr(msg, "\n\n");
        char *out;

        if (b == NULL)
                return NULL;
        b += 2;
        out = malloc(strlen(b) + 1);
        if (out)
                s_b64_decode(b, strlen(b), out);
        return out;
}

static void
s_time(int64_t ms, char *buf, size_t size)
{
        time_t t = (time_t)(ms / 1000);
        struct tm tm;

        gmtime_r(&t, &tm);
        strftime(buf, size, "%Y-%m-%d %H:%M +00:00", &tm);
}

/* The last request to path, or NULL (the caller frees it). */
static bool
s_request(const char *path, bool ok_only, http_request_t *ret)
{
        bool found = false;

        for (size_t i = 0; i < http_sink_count(http); i++) {
                http_request_t r = {0};

                if (http_sink_get(http, i, &r) < 0)
                        break;
                if (r.path && strcmp(r.path, path) == 0 && (!ok_only || r.status == 200)) {
                        if (found)
                                http_request_free(ret);
                        *ret = r;
                        found = true;
                } else {
                        http_request_free(&r);
                }
        }
        return found;
}

static size_t
s_requests(const char *path)
{
        size_t n = 0;

        for (size_t i = 0; i < http_sink_count(http); i++) {
                http_request_t r = {0};

                if (http_sink_get(http, i, &r) < 0)
                        break;
                n += r.path && strcmp(r.path, path) == 0;
                http_request_free(&r);
        }
        return n;
}

/* ------------------------------------------------------------ (a) one escalation */

static const char *const subject_zh = "账单重复扣费";
static const char *const description_zh =
    "十月账单有两行相同的扣费。请联系我 13812345678 或 zhang.san@example.cn";

static void
test_one_escalation(void)
{
        char state[PATH_MAX], v[1024], want[512], when[64];
        smtp_message_t m = {0};
        http_request_t r = {0};
        http_sink_t *gone = NULL;
        int down_port;
        uint64_t id, seq;
        int64_t at = 0;
        hjson_t *j;
        char *body;

        /* A port nobody listens on: a server that is down. */
        REQUIRE(http_sink_start(&gone) == 0);
        down_port = http_sink_port(gone);
        http_sink_stop(&gone);

        snprintf(state, sizeof(state), "%s/notify-a", h.dir);
        s_write_notify_conf(state, down_port);
        http_sink_fail(http, "/flaky", 2, 503);
        s_start_notify();
        REQUIRE(notify_wait_log(&notify, "starting after event", 1, 10000));

        id = s_create(subject_zh, description_zh, COMPLAINT__V1__PRIORITY__PRIORITY_MAJOR);
        REQUIRE(id != 0);
        REQUIRE(s_assign(id) == E_OK);
        /* Major: half of the 1 s response limit. */
        REQUIRE(smtp_sink_wait(smtp, 1, 10000) >= 1);
        CHECK(http_sink_wait(http, "/json", 1, 5000) == 1);
        CHECK(http_sink_wait(http, "/slack", 1, 5000) == 1);
        CHECK(http_sink_wait(http, "/wecom", 1, 5000) == 1);
        CHECK(http_sink_wait(http, "/dingtalk", 1, 5000) == 1);
        CHECK(http_sink_wait(http, "/flaky", 1, 5000) == 1);
        seq = s_escalation(id, &at);
        REQUIRE(seq != 0);

        /* The mail. */
        REQUIRE(smtp_sink_get(smtp, 0, &m) == 0);
        CHECK(strstr(m.rcpt, "chief@example.org") != NULL);
        CHECK(s_header(m.data, "From", v, sizeof(v)));
        CHECK_STR(v, "Complaint centre <complaints@example.org>");
        CHECK(s_header(m.data, "To", v, sizeof(v)));
        CHECK_STR(v, "chief@example.org");
        CHECK(s_header(m.data, "Subject", v, sizeof(v)));
        snprintf(want, sizeof(want),
                 "Complaint %" PRIu64 " escalated to level 1 (Section chief) in billing: %s", id,
                 subject_zh);
        CHECK_STR(v, want);
        CHECK(strstr(m.data, "\nSubject: =?UTF-8?B?") != NULL);
        CHECK(s_header(m.data, "Message-ID", v, sizeof(v)));
        snprintf(want, sizeof(want), "<e%" PRIu64 ".c%" PRIu64 ".chief@example.org>", seq, id);
        CHECK_STR(v, want);
        CHECK(s_header(m.data, "Date", v, sizeof(v)) && strlen(v) == 31 &&
              strcmp(v + 26, "+0000") == 0);
        CHECK(s_header(m.data, "MIME-Version", v, sizeof(v)) && strcmp(v, "1.0") == 0);
        CHECK(s_header(m.data, "Content-Type", v, sizeof(v)));
        CHECK_STR(v, "text/plain; charset=UTF-8");
        CHECK(s_header(m.data, "Content-Transfer-Encoding", v, sizeof(v)));
        CHECK_STR(v, "base64");
        CHECK(s_header(m.data, "Auto-Submitted", v, sizeof(v)));
        CHECK_STR(v, "auto-generated");
        snprintf(want, sizeof(want), "e%" PRIu64 ".c%" PRIu64 ".chief", seq, id);
        CHECK(s_header(m.data, "X-Complaint-Alert", v, sizeof(v)));
        CHECK_STR(v, want);
        body = s_body(m.data);
        REQUIRE(body != NULL);
        snprintf(want, sizeof(want),
                 "Complaint %" PRIu64 " escalated to level 1 (Section chief) in billing.\n\n"
                 "  Complaint       %" PRIu64 "\n  Subject         %s\n  Category        billing\n"
                 "  Priority        major\n  Status          assigned\n"
                 "  Department      billing\n  Level           1 (Section chief)\n"
                 "  Clock           response\n",
                 id, id, subject_zh);
        CHECK(strncmp(body, want, strlen(want)) == 0);
        s_time(at, when, sizeof(when));
        snprintf(want, sizeof(want), "\n  Was due         %s\n", when);
        CHECK(strstr(body, want) != NULL);
        CHECK(strstr(body, "\n  Overdue by      ") != NULL);
        snprintf(want, sizeof(want), "\n  Event           %" PRIu64 " (billing/escalated/1)\n",
                 seq);
        CHECK(strstr(body, want) != NULL);
        CHECK(strstr(body, "\nDescription:\n  十月账单有两行相同的扣费。请联系我 [redacted] 或 "
                           "[redacted]\n") != NULL);
        CHECK(strstr(body, "\nWhat to do: Its response deadline passed. You are now responsible "
                           "for it at level 1: see that billing accepts (acknowledges) it before "
                           "the next deadline, or it goes to level 2.\n") != NULL);
        /* No contact details, in any form. */
        CHECK(strstr(m.data, "张三") == NULL && strstr(body, "张三") == NULL);
        CHECK(strstr(body, "13812345678") == NULL && strstr(body, "1234 5678") == NULL);
        CHECK(strstr(body, "zhang.san") == NULL);
        free(body);
        smtp_message_free(&m);

        /* The generic JSON document. */
        REQUIRE(s_request("/json", true, &r));
        j = hjson_parse(r.body);
        REQUIRE(j != NULL);
        snprintf(want, sizeof(want), "e%" PRIu64 ".c%" PRIu64 ".hook-json", seq, id);
        CHECK_STR(hjson_str(j, "id"), want);
        CHECK_STR(hjson_str(j, "kind"), "escalated");
        CHECK_INT(hjson_int(j, "event_seq", 0), seq);
        CHECK_INT(hjson_int(j, "complaint_id", 0), id);
        CHECK_STR(hjson_str(j, "department"), "billing");
        CHECK_INT(hjson_int(j, "level", -1), 1);
        CHECK_STR(hjson_str(j, "role"), "Section chief");
        CHECK_STR(hjson_str(j, "clock"), "response");
        CHECK_INT(hjson_int(j, "due_at_ms", 0), at);
        CHECK_STR(hjson_str(j, "subject"), subject_zh);
        CHECK_STR(hjson_str(j, "priority"), "major");
        CHECK_STR(hjson_str(j, "category"), "billing");
        CHECK(strstr(hjson_str(j, "description"), "[redacted]") != NULL);
        CHECK(strstr(r.body, "13812345678") == NULL && strstr(r.body, "张三") == NULL);
        CHECK(strstr(r.headers, "Content-Type: application/json") != NULL);
        hjson_free(&j);
        http_request_free(&r);

        /* Slack-compatible: one text field, mrkdwn. */
        REQUIRE(s_request("/slack", true, &r));
        j = hjson_parse(r.body);
        REQUIRE(j != NULL);
        CHECK_INT(hjson_len(j, ""), 1);
        snprintf(want, sizeof(want),
                 "*Complaint %" PRIu64 " escalated to level 1 (Section chief) in billing*\n", id);
        CHECK(hjson_str(j, "text") && strncmp(hjson_str(j, "text"), want, strlen(want)) == 0);
        CHECK(strstr(hjson_str(j, "text"), subject_zh) != NULL);
        hjson_free(&j);
        http_request_free(&r);

        /* WeCom: msgtype markdown, markdown.content. */
        REQUIRE(s_request("/wecom", true, &r));
        j = hjson_parse(r.body);
        REQUIRE(j != NULL);
        CHECK_STR(hjson_str(j, "msgtype"), "markdown");
        snprintf(want, sizeof(want),
                 "### Complaint %" PRIu64 " escalated to level 1 (Section chief) in billing\n", id);
        CHECK(hjson_str(j, "markdown.content") &&
              strncmp(hjson_str(j, "markdown.content"), want, strlen(want)) == 0);
        CHECK(strstr(hjson_str(j, "markdown.content"), "> **Subject:** 账单重复扣费\n") != NULL);
        hjson_free(&j);
        http_request_free(&r);

        /* DingTalk: msgtype markdown, markdown.title and markdown.text; the extra header. */
        REQUIRE(s_request("/dingtalk", true, &r));
        j = hjson_parse(r.body);
        REQUIRE(j != NULL);
        CHECK_STR(hjson_str(j, "msgtype"), "markdown");
        snprintf(want, sizeof(want),
                 "Complaint %" PRIu64 " escalated to level 1 (Section chief) in billing", id);
        CHECK_STR(hjson_str(j, "markdown.title"), want);
        CHECK(hjson_str(j, "markdown.text") &&
              strstr(hjson_str(j, "markdown.text"), "\n- **Level:** 1 (Section chief)\n"));
        CHECK(strstr(r.headers, "X-Test: yes") != NULL);
        hjson_free(&j);
        http_request_free(&r);

        /* The flaky server failed twice, then took the same alert. */
        CHECK_INT(s_requests("/flaky"), 3);
        CHECK(notify_log_count(&notify, "to flaky failed, next try in") == 2);

        /* The server that is down: given up, with the alert's id, after give_up (1.5 s). */
        snprintf(want, sizeof(want), "gave up e%" PRIu64 ".c%" PRIu64 ".down", seq, id);
        CHECK(notify_wait_log(&notify, want, 1, 10000));
        CHECK(notify_log_count(&notify, "gave up") == 1);
        /* Each of the others got exactly one. */
        CHECK_INT(smtp_sink_wait(smtp, 1, 0), 1);
        CHECK_INT(s_requests("/json"), 1);
        CHECK_INT(s_requests("/slack"), 1);
        CHECK_INT(notify_stop(&notify), 0);
        http_sink_fail(http, "/flaky", 0, 0);
}

/* ------------------------------------------------------------ (b) SIGKILL during a burst */

#define BURST 40

static void
test_kill_during_burst(void)
{
        char state[PATH_MAX], v[256], want[256];
        uint64_t ids[BURST];
        size_t mails0 = smtp_sink_wait(smtp, 0, 0);
        size_t total, dup = 0, got = 0;
        bool seen[BURST] = {false}, seen_json[BURST] = {false};

        snprintf(state, sizeof(state), "%s/notify-b", h.dir);
        s_write_notify_conf(state, 0);
        s_start_notify();
        REQUIRE(notify_wait_log(&notify, "starting after event", 2, 10000));
        for (int i = 0; i < BURST; i++) {
                ids[i] = s_create("Burst", "A burst of escalations.",
                                  COMPLAINT__V1__PRIORITY__PRIORITY_NORMAL);
                REQUIRE(ids[i] != 0);
        }
        for (int i = 0; i < BURST; i++)
                REQUIRE(s_assign(ids[i]) == E_OK);
        /* Kill it in the middle of sending. */
        REQUIRE(smtp_sink_wait(smtp, mails0 + 8, 15000) >= mails0 + 8);
        REQUIRE(notify_kill(&notify) == 128 + SIGKILL);
        got = smtp_sink_wait(smtp, 0, 0) - mails0;
        CHECK(got < BURST);
        s_start_notify();
        /* Every alert arrives: a mail and a JSON document for each complaint. */
        for (int round = 0; round < 2 * BURST; round++) {
                size_t n = smtp_sink_wait(smtp, 0, 0);

                for (size_t i = mails0; i < n; i++) {
                        smtp_message_t m = {0};

                        if (smtp_sink_get(smtp, i, &m) < 0 ||
                            !s_header(m.data, "Message-ID", v, sizeof(v))) {
                                smtp_message_free(&m);
                                continue;
                        }
                        for (int k = 0; k < BURST; k++) {
                                snprintf(want, sizeof(want), ".c%" PRIu64 ".chief@", ids[k]);
                                if (strstr(v, want))
                                        seen[k] = true;
                        }
                        smtp_message_free(&m);
                }
                got = 0;
                for (int k = 0; k < BURST; k++)
                        got += seen[k];
                if (got == BURST || smtp_sink_wait(smtp, n + 1, 10000) <= n)
                        break;
        }
        CHECK_INT(got, BURST);

        /* Repeats carry the Message-ID (and id) of the first: one distinct id per complaint. */
        total = smtp_sink_wait(smtp, 0, 0) - mails0;
        for (int k = 0; k < BURST; k++) {
                size_t distinct = 0;
                char first[256] = "";

                for (size_t i = mails0; i < mails0 + total; i++) {
                        smtp_message_t m = {0};

                        snprintf(want, sizeof(want), ".c%" PRIu64 ".chief@", ids[k]);
                        if (smtp_sink_get(smtp, i, &m) == 0 &&
                            s_header(m.data, "Message-ID", v, sizeof(v)) && strstr(v, want)) {
                                if (first[0] == '\0') {
                                        snprintf(first, sizeof(first), "%s", v);
                                        distinct = 1;
                                } else if (strcmp(first, v) != 0) {
                                        distinct++;
                                }
                        }
                        smtp_message_free(&m);
                }
                CHECK_INT(distinct, 1);
        }
        for (int round = 0; round < 2 * BURST; round++) {
                size_t n = http_sink_count(http), ok = http_sink_wait(http, "/json", 0, 0);

                dup = 0;
                memset(seen_json, 0, sizeof(seen_json));
                for (size_t i = 0; i < n; i++) {
                        http_request_t r = {0};
                        hjson_t *j;

                        if (http_sink_get(http, i, &r) < 0 || strcmp(r.path, "/json") != 0 ||
                            r.status != 200 || (j = hjson_parse(r.body)) == NULL) {
                                http_request_free(&r);
                                continue;
                        }
                        for (int k = 0; k < BURST; k++)
                                if ((uint64_t)hjson_int(j, "complaint_id", 0) == ids[k]) {
                                        snprintf(want, sizeof(want),
                                                 "e%" PRId64 ".c%" PRIu64 ".hook-json",
                                                 hjson_int(j, "event_seq", 0), ids[k]);
                                        CHECK_STR(hjson_str(j, "id"), want);
                                        dup += seen_json[k];
                                        seen_json[k] = true;
                                }
                        hjson_free(&j);
                        http_request_free(&r);
                }
                got = 0;
                for (int k = 0; k < BURST; k++)
                        got += seen_json[k];
                if (got == BURST || http_sink_wait(http, "/json", ok + 1, 10000) <= ok)
                        break;
        }
        got = 0;
        for (int k = 0; k < BURST; k++) {
                got += seen_json[k];
                if (!seen_json[k])
                        fprintf(stderr, "no JSON alert for complaint %" PRIu64 "\n", ids[k]);
        }
        CHECK_INT(got, BURST);
        printf("burst: %d escalations, %zu mails (%zu repeated after SIGKILL), %zu JSON repeats\n",
               BURST, total, total - BURST, dup);
        CHECK_INT(notify_stop(&notify), 0);
}

/* ------------------------------------------------------------ (c) throughput */

#define LOAD 100

static void
test_throughput(void)
{
        char state[PATH_MAX];
        uint64_t ids[LOAD];
        size_t mails0, json0;
        void *sub = zmq_socket(h.zctx, ZMQ_SUB);
        int seen = 0;
        int64_t t0, t_end = 0;

        REQUIRE(sub != NULL);
        REQUIRE(zmq_connect(sub, h.events) == 0);
        REQUIRE(zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "billing/escalated/", 18) == 0);
        /* A position before the load: start, take the head, stop. */
        snprintf(state, sizeof(state), "%s/notify-c", h.dir);
        s_write_notify_conf(state, 0);
        s_start_notify();
        REQUIRE(notify_wait_log(&notify, "starting after event", 3, 10000));
        REQUIRE(notify_stop(&notify) == 0);

        for (int i = 0; i < LOAD; i++) {
                ids[i] = s_create("Load", "Throughput.", COMPLAINT__V1__PRIORITY__PRIORITY_NORMAL);
                REQUIRE(ids[i] != 0);
        }
        for (int i = 0; i < LOAD; i++)
                REQUIRE(s_assign(ids[i]) == E_OK);
        /* Every escalation happened while complaint-notify was stopped. */
        for (int round = 0; round < 10 * LOAD && seen < LOAD; round++) {
                zmq_pollitem_t it = {.socket = sub, .events = ZMQ_POLLIN};
                zmq_msg_t msg;

                if (zmq_poll(&it, 1, 10000) <= 0)
                        break;
                zmq_msg_init(&msg);
                if (zmq_msg_recv(&msg, sub, 0) >= 0 && !zmq_msg_more(&msg))
                        seen++;
                while (zmq_msg_more(&msg) && zmq_msg_recv(&msg, sub, 0) >= 0) {
                        if (!zmq_msg_more(&msg))
                                seen++;
                }
                zmq_msg_close(&msg);
        }
        REQUIRE(seen >= LOAD);
        zmq_close(sub);

        mails0 = smtp_sink_wait(smtp, 0, 0);
        json0 = http_sink_wait(http, "/json", 0, 0);
        t0 = harness_now_ms();
        s_start_notify();
        CHECK(smtp_sink_wait(smtp, mails0 + LOAD, 30000) >= mails0 + LOAD);
        CHECK(http_sink_wait(http, "/json", json0 + LOAD, 30000) >= json0 + LOAD);
        for (size_t i = mails0; i < mails0 + LOAD; i++) {
                smtp_message_t m = {0};

                if (smtp_sink_get(smtp, i, &m) == 0 && m.at_ms > t_end)
                        t_end = m.at_ms;
                smtp_message_free(&m);
        }
        for (size_t i = 0; i < http_sink_count(http); i++) {
                http_request_t r = {0};

                if (http_sink_get(http, i, &r) == 0 && r.at_ms > t_end)
                        t_end = r.at_ms;
                http_request_free(&r);
        }
        /* at_ms is wall-clock time, t0 monotonic: convert t0 by the offset between them now. */
        {
                struct timespec ts;
                int64_t wall_minus_mono;

                clock_gettime(CLOCK_REALTIME, &ts);
                wall_minus_mono =
                    (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 - harness_now_ms();
                t0 += wall_minus_mono;
        }
        printf("throughput: complaint-notify sent %d alerts (%d mails through msmtp to the test's "
               "SMTP server, %d JSON POSTs to the test's HTTP server) in %" PRId64
               " ms from its start: %.0f alerts/s\n",
               2 * LOAD, LOAD, LOAD, t_end - t0,
               t_end > t0 ? 2000.0 * LOAD / (double)(t_end - t0) : 0.0);
        CHECK_INT(notify_stop(&notify), 0);
}

int
main(void)
{
        int r;

        REQUIRE(harness_init(&h, "it_notify") == 0);
        REQUIRE(s_write(h.conf, daemon_conf) == 0);
        REQUIRE(harness_start(&h) == 0);
        REQUIRE(harness_client_open(&h, &api) == 0);
        REQUIRE(smtp_sink_start(&smtp) == 0);
        REQUIRE(http_sink_start(&http) == 0);
        snprintf(notify_conf, sizeof(notify_conf), "%s/notify.conf", h.dir);
        snprintf(msmtprc, sizeof(msmtprc), "%s/msmtprc", h.dir);
        REQUIRE(notify_write_msmtprc(msmtprc, smtp_sink_port(smtp), "complaints@example.org") == 0);

        test_one_escalation();
        test_kill_during_burst();
        test_throughput();

        if (check_failed)
                notify_dump_log(&notify);
        notify_free(&notify);
        harness_client_close(&api);
        smtp_sink_stop(&smtp);
        http_sink_stop(&http);
        r = check_summary();
        return harness_cleanup(&h, r);
}
