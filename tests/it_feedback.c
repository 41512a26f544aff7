/* it_feedback.c: complaint-notify's messages to complainants, and quiet hours, against the real
 * daemon and the real complaint-notify, with msmtp (the sendmail interface) sending to an SMTP
 * server this test runs and the SMS gateway played by an HTTP server this test runs, both on
 * 127.0.0.1.
 *
 * (a) a complaint dispatched, accepted and resolved: the acknowledgement (reference and the
 *     date of the reply), the progress message and the reply reach the complainant by e-mail
 *     and SMS with the configured Chinese templates, and each is noted in the complaint's
 *     history; a complainant with neither an e-mail address nor a phone number is skipped, and
 *     that is noted too;
 * (b) a route with a business calendar, on a clock run ahead (--clock-offset) to 5 s before
 *     Monday's opening: a normal complaint's escalation waits until the opening, an urgent
 *     one's goes at once.
 *
 * Every wait is bounded: on the servers' condition variables or complaint-notify's log. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

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
    "    response = \"1s\"; resolution = \"2h\";\n"
    "    chain = ( { role = \"Section chief\"; allowance = \"1h\"; } ); }\n"
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

static uint64_t
s_create(const pb_complainant_t *who, int priority)
{
        Complaint__V1__CreateRequest q = COMPLAINT__V1__CREATE_REQUEST__INIT;
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        pb_reply_t *r;
        uint64_t id = 0;

        q.channel = COMPLAINT__V1__CHANNEL__CHANNEL_PHONE;
        q.complainant = (pb_complainant_t *)(uintptr_t)who;
        q.subject = (char *)"账单重复扣费";
        q.description = (char *)"十月账单有两行相同的扣费。";
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

/* assign, accept or resolve; returns the error code (-1: no reply). */
/* The resolution deadline the last assignment set. */
static int64_t assigned_due;

static int
s_change(int body, uint64_t id)
{
        Complaint__V1__AssignRequest as = COMPLAINT__V1__ASSIGN_REQUEST__INIT;
        Complaint__V1__AcceptRequest ac = COMPLAINT__V1__ACCEPT_REQUEST__INIT;
        Complaint__V1__ResolveRequest rs = COMPLAINT__V1__RESOLVE_REQUEST__INIT;
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        pb_reply_t *r;
        int code;

        req.body_case = body;
        as.id = ac.id = rs.id = id;
        as.department = (char *)"";
        rs.cause = (char *)"重复扣款";
        rs.responsibility = COMPLAINT__V1__RESPONSIBILITY__RESPONSIBILITY_COMPANY;
        rs.reply = (char *)"我们已退还重复扣除的费用。";
        req.assign = &as;
        if (body == COMPLAINT__V1__REQUEST__BODY_ACCEPT)
                req.accept = &ac;
        if (body == COMPLAINT__V1__REQUEST__BODY_RESOLVE)
                req.resolve = &rs;
        r = harness_change(&api, &req, "billing-agent");
        if (r == NULL)
                return -1;
        code = r->error;
        if (body == COMPLAINT__V1__REQUEST__BODY_ASSIGN && r->complaint &&
            r->complaint->resolution_clock)
                assigned_due = r->complaint->resolution_clock->due_at_ms;
        complaint__v1__reply__free_unpacked(r, NULL);
        return code;
}

static pb_reply_t *
s_get(uint64_t id)
{
        Complaint__V1__GetRequest g = COMPLAINT__V1__GET_REQUEST__INIT;
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        pb_reply_t *r = NULL;

        g.id = id;
        req.body_case = COMPLAINT__V1__REQUEST__BODY_GET;
        req.get = &g;
        if (harness_client_call(&api, &req, HARNESS_CALL_TIMEOUT_MS, &r) < 0)
                return NULL;
        return r;
}

/* The event seq of complaint id's history entry with action (the first one). */
static uint64_t
s_event_of(const pb_reply_t *r, int action)
{
        for (size_t i = 0; r && i < r->n_history; i++)
                if ((int)r->history[i]->action == action)
                        return r->history[i]->event_seq;
        return 0;
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
                const char *p = in[i] ? strchr(abc, in[i]) : NULL;

                if (p == NULL)
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
                                char dec[512];

                                if (strncmp(p, "=?UTF-8?B?", 10) == 0 && len > 12 && len < 500) {
                                        size_t d = s_b64_decode(p + 10, len - 12, dec);

                                        if (o + d < size) {
                                                memcpy(out + o, dec, d);
                                                o += d;
                                        }
                                } else if (o + len < size) {
                                        memcpy(out + o, p, len);
                                        o += len;
                                }
                                if (eol[1] != ' ')
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

static char *
s_body(const char *msg)
{
        const char *b = strstr(msg, "\n\n");
        char *out = b ? malloc(strlen(b) + 1) : NULL;

        if (out)
                s_b64_decode(b + 2, strlen(b + 2), out);
        return out;
}

/* The mail whose Message-ID contains needle (the caller frees it). */
static bool
s_mail(const char *needle, smtp_message_t *ret)
{
        char v[512];

        for (size_t i = 0; i < smtp_sink_wait(smtp, 0, 0); i++) {
                smtp_message_t m = {0};

                if (smtp_sink_get(smtp, i, &m) == 0 &&
                    s_header(m.data, "Message-ID", v, sizeof(v)) && strstr(v, needle)) {
                        *ret = m;
                        return true;
                }
                smtp_message_free(&m);
        }
        return false;
}

/* The SMS request whose id is id (the caller frees it). */
static bool
s_sms(const char *id, http_request_t *ret)
{
        for (size_t i = 0; i < http_sink_count(http); i++) {
                http_request_t r = {0};
                hjson_t *j = NULL;
                bool match;

                if (http_sink_get(http, i, &r) < 0)
                        break;
                j = r.body ? hjson_parse(r.body) : NULL;
                match = j && hjson_str(j, "id") && strcmp(hjson_str(j, "id"), id) == 0;
                hjson_free(&j);
                if (match) {
                        *ret = r;
                        return true;
                }
                http_request_free(&r);
        }
        return false;
}

static void
s_time(int64_t ms, char *buf, size_t size)
{
        time_t t = (time_t)(ms / 1000);
        struct tm tm;

        gmtime_r(&t, &tm);
        strftime(buf, size, "%Y-%m-%d %H:%M +00:00", &tm);
}

/* ------------------------------------------------------------ (a) feedback */

static void
s_check_message(uint64_t id, const char *word, uint64_t seq, const char *subject,
                const char *body_part, const char *sms_part)
{
        char mid[160], v[512];
        smtp_message_t m = {0};
        http_request_t r = {0};
        hjson_t *j;
        char *body;

        snprintf(mid, sizeof(mid), "c%" PRIu64 ".%s.e%" PRIu64 ".email@example.org", id, word, seq);
        REQUIRE(s_mail(mid, &m));
        CHECK(s_header(m.data, "To", v, sizeof(v)) && strcmp(v, "li.si@example.cn") == 0);
        CHECK(strstr(m.rcpt, "li.si@example.cn") != NULL);
        CHECK(s_header(m.data, "Subject", v, sizeof(v)));
        CHECK_STR(v, subject);
        CHECK(s_header(m.data, "Content-Type", v, sizeof(v)) &&
              strcmp(v, "text/plain; charset=UTF-8") == 0);
        body = s_body(m.data);
        REQUIRE(body);
        if (strstr(body, body_part) == NULL)
                fprintf(stderr, "%s mail body:\n%s\nwithout: %s\n", word, body, body_part);
        CHECK(strstr(body, body_part) != NULL);
        free(body);
        smtp_message_free(&m);

        snprintf(mid, sizeof(mid), "c%" PRIu64 ".%s.e%" PRIu64 ".sms", id, word, seq);
        REQUIRE(s_sms(mid, &r));
        CHECK_STR(r.path, "/sms");
        CHECK(strstr(r.headers, "Authorization: Bearer sms-secret") != NULL);
        j = hjson_parse(r.body);
        REQUIRE(j);
        CHECK_STR(hjson_str(j, "to"), "+86 139 8765 4321");
        CHECK_STR(hjson_str(j, "from"), "Centre");
        snprintf(v, sizeof(v), "C-%" PRIu64, id);
        CHECK_STR(hjson_str(j, "reference"), v);
        if (hjson_str(j, "text") == NULL || strstr(hjson_str(j, "text"), sms_part) == NULL)
                fprintf(stderr, "%s SMS: %s\nwithout: %s\n", word, r.body, sms_part);
        CHECK(hjson_str(j, "text") && strstr(hjson_str(j, "text"), sms_part) != NULL);
        hjson_free(&j);
        http_request_free(&r);
}

static void
test_feedback(void)
{
        pb_complainant_t li = COMPLAINT__V1__COMPLAINANT__INIT;
        pb_complainant_t letter = COMPLAINT__V1__COMPLAINANT__INIT;
        char text[16384], want[512], due[64], needle[512];
        uint64_t id, other, ack, progress, reply, other_ack;
        size_t notes = 0;
        int64_t due_ms;
        pb_reply_t *r;

        snprintf(text, sizeof(text),
                 "notify: { api = \"%s\"; state_dir = \"%s/notify-a\"; actor = \"notifier\";\n"
                 "  from = \"客服中心 <complaints@example.org>\";\n"
                 "  sendmail = [\"" MSMTP_BIN "\", \"-C\", \"%s\", \"-t\", \"-oi\"];\n"
                 "  zone = \"UTC\"; retry_min = \"100ms\"; retry_max = \"400ms\"; };\n"
                 "sms: { url = \"http://127.0.0.1:%d/sms\"; token = \"sms-secret\"; sender = "
                 "\"Centre\"; };\n"
                 "feedback: { via = [\"email\", \"sms\"]; reference = \"C-{id}\";\n"
                 "  contact = \"客服热线 12345\";\n"
                 "  departments = { billing = \"账务部\"; };\n"
                 "  acknowledgement: { subject = \"您的投诉 {ref} 已受理\";\n"
                 "    text = \"{name}，您好：\\n您的投诉“{subject}”已受理，编号 {ref}。{department}"
                 "将在 {due} 前答复。\\n{contact}\\n\";\n"
                 "    sms = \"投诉 {ref} 已受理，{due} 前答复。{contact}\"; };\n"
                 "  progress: { subject = \"您的投诉 {ref} 正在处理\";\n"
                 "    text = \"{name}，您好：\\n{department}正在处理您的投诉 {ref}。\\n\"; };\n"
                 "  reply: { subject = \"您的投诉 {ref} 已处理完毕\";\n"
                 "    text = \"{name}，您好：\\n关于投诉 {ref} 的答复：{reply}\\n\";\n"
                 "    sms = \"投诉 {ref} 答复：{reply}\"; };\n"
                 "};\n",
                 h.api, h.dir, msmtprc, http_sink_port(http));
        REQUIRE(s_write(notify_conf, text) == 0);
        REQUIRE(notify_start(&notify, notify_conf, NULL) == 0);
        REQUIRE(notify_wait_log(&notify, "starting after event", 1, 10000));

        li.name = (char *)"李四";
        li.email = (char *)"li.si@example.cn";
        li.phone = (char *)"+86 139 8765 4321";
        letter.name = (char *)"王五";
        letter.address = (char *)"北京市朝阳区某路1号";
        id = s_create(&li, COMPLAINT__V1__PRIORITY__PRIORITY_NORMAL);
        other = s_create(&letter, COMPLAINT__V1__PRIORITY__PRIORITY_NORMAL);
        REQUIRE(id && other);
        REQUIRE(s_change(COMPLAINT__V1__REQUEST__BODY_ASSIGN, id) == E_OK);
        due_ms = assigned_due;
        REQUIRE(s_change(COMPLAINT__V1__REQUEST__BODY_ASSIGN, other) == E_OK);
        REQUIRE(s_change(COMPLAINT__V1__REQUEST__BODY_ACCEPT, id) == E_OK);
        REQUIRE(s_change(COMPLAINT__V1__REQUEST__BODY_RESOLVE, id) == E_OK);

        /* Three mails, three SMS, each noted; "sent" is logged after the note is recorded. */
        CHECK(smtp_sink_wait(smtp, 3, 15000) == 3);
        CHECK(http_sink_wait(http, "/sms", 3, 15000) == 3);
        snprintf(needle, sizeof(needle), "sent c%" PRIu64 ".", id);
        CHECK(notify_wait_log(&notify, needle, 6, 15000));
        snprintf(needle, sizeof(needle), "sent c%" PRIu64 ".ack.", other);
        CHECK(notify_wait_log(&notify, needle, 2, 15000));

        r = s_get(id);
        REQUIRE(r && r->error == E_OK && r->complaint && r->complaint->resolution_clock);
        ack = s_event_of(r, A(ASSIGN));
        progress = s_event_of(r, A(ACCEPT));
        reply = s_event_of(r, A(RESOLVE));
        s_time(due_ms, due, sizeof(due));
        snprintf(want, sizeof(want), "您的投诉 C-%" PRIu64 " 已受理", id);
        snprintf(text, sizeof(text),
                 "李四，您好：\n您的投诉“账单重复扣费”已受理，编号 C-%" PRIu64 "。账务部将在 %s "
                 "前答复。\n客服热线 12345\n",
                 id, due);
        snprintf(needle, sizeof(needle), "投诉 C-%" PRIu64 " 已受理，%s 前答复。客服热线 12345", id,
                 due);
        s_check_message(id, "ack", ack, want, text, needle);
        snprintf(want, sizeof(want), "您的投诉 C-%" PRIu64 " 正在处理", id);
        snprintf(text, sizeof(text), "李四，您好：\n账务部正在处理您的投诉 C-%" PRIu64 "。\n", id);
        s_check_message(id, "progress", progress, want, text, "正在处理您的投诉");
        snprintf(want, sizeof(want), "您的投诉 C-%" PRIu64 " 已处理完毕", id);
        snprintf(text, sizeof(text),
                 "李四，您好：\n关于投诉 C-%" PRIu64 " 的答复：我们已退还重复扣除的费用。\n", id);
        snprintf(needle, sizeof(needle), "投诉 C-%" PRIu64 " 答复：我们已退还重复扣除的费用。", id);
        s_check_message(id, "reply", reply, want, text, needle);

        /* The ledger shows the feedback: one note each, by complaint-notify's actor. */
        for (size_t i = 0; i < r->n_history; i++) {
                const pb_history_t *e = r->history[i];
                const char *word = NULL;
                uint64_t seq = 0;

                if (e->action != A(NOTE))
                        continue;
                CHECK_STR(e->actor, "notifier");
                notes++;
                if (strstr(e->note, "acknowledgement"))
                        word = "ack", seq = ack;
                else if (strstr(e->note, "progress message"))
                        word = "progress", seq = progress;
                else if (strstr(e->note, "reply"))
                        word = "reply", seq = reply;
                CHECK(word != NULL);
                if (strstr(e->note, "by e-mail"))
                        snprintf(want, sizeof(want),
                                 "(Message-ID <c%" PRIu64 ".%s.e%" PRIu64 ".email@example.org>).",
                                 id, word ? word : "", seq);
                else
                        snprintf(want, sizeof(want), "(message c%" PRIu64 ".%s.e%" PRIu64 ".sms).",
                                 id, word ? word : "", seq);
                CHECK(strstr(e->note, want) != NULL);
        }
        CHECK_INT(notes, 6);
        complaint__v1__reply__free_unpacked(r, NULL);

        /* The complainant who wrote a letter: no message, and a note saying so. */
        r = s_get(other);
        REQUIRE(r && r->error == E_OK);
        other_ack = s_event_of(r, A(ASSIGN));
        notes = 0;
        for (size_t i = 0; i < r->n_history; i++)
                if (r->history[i]->action == A(NOTE)) {
                        notes++;
                        CHECK_STR(r->history[i]->note,
                                  "Complainant not informed: acknowledgement not sent, no usable "
                                  "e-mail address or phone number on record.");
                }
        CHECK_INT(notes, 1);
        CHECK(other_ack != 0);
        complaint__v1__reply__free_unpacked(r, NULL);
        /* Nothing else went out. */
        CHECK_INT(smtp_sink_wait(smtp, 0, 0), 3);
        CHECK_INT(http_sink_count(http), 3);
        CHECK_INT(notify_stop(&notify), 0);
}

/* ------------------------------------------------------------ (b) quiet hours */

static void
test_quiet_hours(void)
{
        pb_complainant_t who = COMPLAINT__V1__COMPLAINANT__INIT;
        char text[16384], offset[32], v[256];
        struct timespec ts;
        int64_t real_now, days, opening, opening_real, shift;
        uint64_t normal, urgent;
        smtp_message_t m = {0};
        size_t mails0 = smtp_sink_wait(smtp, 0, 0);
        bool got_normal = false, got_urgent = false;
        int64_t at_normal = 0, at_urgent = 0;

        /* The next Monday 08:00 UTC at least two days ahead; the clock set 5 s before it. */
        clock_gettime(CLOCK_REALTIME, &ts);
        real_now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
        days = real_now / 86400000 + 2;
        while ((days + 4) % 7 != 1) /* 1970-01-01 was a Thursday: weekday = (days + 4) % 7 */
                days++;
        opening = days * 86400000 + 8 * 3600000;
        shift = opening - 5000 - real_now;
        opening_real = opening - shift;
        snprintf(offset, sizeof(offset), "%" PRId64, shift);

        snprintf(text, sizeof(text),
                 "notify: { api = \"%s\"; state_dir = \"%s/notify-b\";\n"
                 "  from = \"Complaint centre <complaints@example.org>\";\n"
                 "  sendmail = [\"" MSMTP_BIN "\", \"-C\", \"%s\", \"-t\", \"-oi\"]; };\n"
                 "calendars = ( { id = \"office\"; zone = \"UTC\";\n"
                 "                hours = { mon = [\"08:00-18:00\"]; }; } );\n"
                 "recipients = ( { id = \"chief\"; email = \"chief@example.org\"; } );\n"
                 "routes = ( { departments = [\"billing\"]; kinds = [\"escalated\"];\n"
                 "             to = [\"chief\"]; calendar = \"office\"; } );\n",
                 h.api, h.dir, msmtprc);
        REQUIRE(s_write(notify_conf, text) == 0);
        REQUIRE(notify_start(&notify, notify_conf,
                             (const char *const[]){"--clock-offset", offset, NULL}) == 0);
        REQUIRE(notify_wait_log(&notify, "starting after event", 2, 10000));

        who.phone = (char *)"+49 30 555 0100";
        normal = s_create(&who, COMPLAINT__V1__PRIORITY__PRIORITY_NORMAL);
        urgent = s_create(&who, COMPLAINT__V1__PRIORITY__PRIORITY_URGENT);
        REQUIRE(normal && urgent);
        REQUIRE(s_change(COMPLAINT__V1__REQUEST__BODY_ASSIGN, normal) == E_OK);
        REQUIRE(s_change(COMPLAINT__V1__REQUEST__BODY_ASSIGN, urgent) == E_OK);
        /* Both escalate within about a second; only the urgent one may go before 08:00. */
        for (int round = 0; round < 20 && !(got_normal && got_urgent); round++) {
                size_t n = smtp_sink_wait(smtp, 0, 0);

                for (size_t i = mails0; i < n; i++) {
                        char want[64];

                        if (smtp_sink_get(smtp, i, &m) < 0)
                                continue;
                        snprintf(want, sizeof(want), ".c%" PRIu64 ".chief@", normal);
                        if (s_header(m.data, "Message-ID", v, sizeof(v)) && strstr(v, want) &&
                            !got_normal) {
                                got_normal = true;
                                at_normal = m.at_ms;
                                CHECK(s_header(m.data, "Date", v, sizeof(v)) &&
                                      strncmp(v, "Mon, ", 5) == 0 && strstr(v, " 08:00:") != NULL);
                        }
                        snprintf(want, sizeof(want), ".c%" PRIu64 ".chief@", urgent);
                        if (s_header(m.data, "Message-ID", v, sizeof(v)) && strstr(v, want) &&
                            !got_urgent) {
                                got_urgent = true;
                                at_urgent = m.at_ms;
                        }
                        smtp_message_free(&m);
                }
                mails0 = n;
                if (!(got_normal && got_urgent) && smtp_sink_wait(smtp, n + 1, 15000) <= n)
                        break;
        }
        CHECK(got_normal && got_urgent);
        CHECK(at_urgent < opening_real);
        CHECK(at_normal >= opening_real);
        printf("quiet hours: urgent sent %" PRId64 " ms before the opening, normal %" PRId64
               " ms after it\n",
               opening_real - at_urgent, at_normal - opening_real);
        CHECK_INT(notify_stop(&notify), 0);
}

int
main(void)
{
        int r;

        REQUIRE(harness_init(&h, "it_feedback") == 0);
        REQUIRE(s_write(h.conf, daemon_conf) == 0);
        REQUIRE(harness_start(&h) == 0);
        REQUIRE(harness_client_open(&h, &api) == 0);
        REQUIRE(smtp_sink_start(&smtp) == 0);
        REQUIRE(http_sink_start(&http) == 0);
        snprintf(notify_conf, sizeof(notify_conf), "%s/notify.conf", h.dir);
        snprintf(msmtprc, sizeof(msmtprc), "%s/msmtprc", h.dir);
        REQUIRE(notify_write_msmtprc(msmtprc, smtp_sink_port(smtp), "complaints@example.org") == 0);

        test_feedback();
        test_quiet_hours();

        if (check_failed)
                notify_dump_log(&notify);
        notify_free(&notify);
        harness_client_close(&api);
        smtp_sink_stop(&smtp);
        http_sink_stop(&http);
        r = check_summary();
        return harness_cleanup(&h, r);
}
