/* test_notify_render.c: complaint-notify's pure modules: text helpers (redaction, templates,
 * base64), mail composition (RFC 2047 subjects, header injection refused), alerts (no contact
 * details even when the event carries them), the outbox (a torn last line, a reopened
 * journal), and the bundled configuration. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alert.h"
#include "check.h"
#include "mailmsg.h"
#include "notify_conf.h"
#include "outbox.h"
#include "text.h"

CHECK_DEFINE_COUNTERS();

static void
test_text(void)
{
        buf_t b = BUF_INIT;

        text_redact(&b, "Call 0049 (30) 1234-567 or mail a.b@example.org; bill 2026 is 12.50");
        CHECK_STR(buf_str(&b), "Call [redacted] or mail [redacted]; bill 2026 is 12.50");
        buf_reset(&b);
        text_redact(&b, "请联系我 13812345678 或 zhang@example.cn。");
        CHECK_STR(buf_str(&b), "请联系我 [redacted] 或 [redacted]。");
        buf_reset(&b);
        CHECK_INT(text_utf8_cut("账单", 4), 3);
        text_duration(&b, 3723000);
        CHECK_STR(buf_str(&b), "1h2m");
        buf_reset(&b);
        text_json_string(&b, "a\"b\\\n\x01");
        CHECK_STR(buf_str(&b), "\"a\\\"b\\\\\\n\\u0001\"");
        buf_reset(&b);
        text_base64(&b, "账单", strlen("账单"), 0);
        CHECK_STR(buf_str(&b), "6LSm5Y2V");
        buf_free(&b);
        {
                const char *const names[] = {"id", "ref", NULL};
                char bad[32];

                CHECK(text_template_check("C-{id} {{x}}", names, bad, sizeof(bad)) == 0);
                CHECK(text_template_check("{nope}", names, bad, sizeof(bad)) == -EINVAL);
                CHECK_STR(bad, "{nope}");
                CHECK(text_template_check("{id", names, bad, sizeof(bad)) == -EINVAL);
        }
}

static void
test_mail(void)
{
        buf_t b = BUF_INIT;
        const char *extra[] = {"X-Complaint-Id: 7", NULL};

        CHECK(mailmsg_build(&b, "Centre <c@example.org>", "x@example.org", "账单重复扣费", "正文\n",
                            "e1.c7.x@example.org", 0, extra) == 0);
        CHECK(strstr(buf_str(&b), "Subject: =?UTF-8?B?6LSm5Y2V6YeN5aSN5omj6LS5?=\n") != NULL);
        CHECK(strstr(buf_str(&b), "Date: Thu, 01 Jan 1970 00:00:00 +0000\n") != NULL);
        CHECK(strstr(buf_str(&b), "Content-Transfer-Encoding: base64\n") != NULL);
        CHECK(strstr(buf_str(&b), "\n\n5q2j5paHCg==\n") != NULL);
        buf_reset(&b);
        /* A line break in an address is a header injection: refused. */
        CHECK(mailmsg_build(&b, "c@example.org", "x@example.org\nBcc: y@example.org", "s", "b",
                            "m@example.org", 0, NULL) == -EINVAL);
        buf_free(&b);
}

static void
test_alert_no_contacts(void)
{
        pb_event_t ev = COMPLAINT__V1__EVENT__INIT;
        pb_history_t h = COMPLAINT__V1__HISTORY_ENTRY__INIT;
        pb_complaint_t c = COMPLAINT__V1__COMPLAINT__INIT;
        pb_complainant_t who = COMPLAINT__V1__COMPLAINANT__INIT;
        alert_ctx_t ctx = {.id = "e9.c3.chief", .now_ms = 60000};
        buf_t subject = BUF_INIT, body = BUF_INIT, json = BUF_INIT;

        /* An event that carries contact details, as no daemon should send: none may show. */
        who.name = (char *)"Ann Smith";
        who.phone = (char *)"+49 30 1234 567";
        who.email = (char *)"ann@example.org";
        who.address = (char *)"1 High Street";
        c.id = 3;
        c.complainant = &who;
        c.subject = (char *)"Charged twice";
        c.description = (char *)"Ann Smith, ring +49 30 1234 567";
        c.category = (char *)"billing";
        c.priority = COMPLAINT__V1__PRIORITY__PRIORITY_URGENT;
        h.action = COMPLAINT__V1__ACTION__ACTION_ESCALATE;
        h.level = 2;
        h.role = (char *)"Head of billing";
        h.clock = COMPLAINT__V1__CLOCK_KIND__CLOCK_KIND_RESOLUTION;
        h.at_ms = 1000;
        h.department = (char *)"billing";
        ev.seq = 9;
        ev.topic = (char *)"billing/escalated/2";
        ev.stream = (char *)"billing";
        ev.entry = &h;
        ev.complaint = &c;
        CHECK_INT(alert_kind(&ev), KIND_ESCALATED);
        CHECK(alert_render_mail(&ev, &ctx, &subject, &body) == 0);
        CHECK_STR(buf_str(&subject),
                  "Complaint 3 escalated to level 2 (Head of billing) in billing: Charged twice");
        CHECK(strstr(buf_str(&body), "  Overdue by      59s\n") != NULL);
        CHECK(strstr(buf_str(&body), "  Priority        urgent\n") != NULL);
        for (int f = FORMAT_JSON; f <= FORMAT_DINGTALK; f++) {
                buf_reset(&json);
                CHECK(alert_render_webhook(&ev, f, &ctx, &json) == 0);
                CHECK(strstr(buf_str(&json), "1234") == NULL);
                CHECK(strstr(buf_str(&json), "ann@") == NULL);
                CHECK(strstr(buf_str(&json), "High Street") == NULL);
        }
        CHECK(strstr(buf_str(&body), "1234") == NULL && strstr(buf_str(&body), "ann@") == NULL);
        CHECK(strstr(buf_str(&body), "High Street") == NULL);
        /* A name typed into free text cannot be recognised: the record's name is never used. */
        CHECK(strstr(buf_str(&body), "Name") == NULL);
        buf_free(&subject);
        buf_free(&body);
        buf_free(&json);
}

static void
test_outbox(void)
{
        char dir[] = "/tmp/test_notify_outbox-XXXXXX", path[64];
        outbox_item_t a = {.id = (char *)"e1.c1.x",
                           .type = OUTBOX_ALERT,
                           .target = (char *)"x",
                           .complaint_id = 1,
                           .event_seq = 1,
                           .data = (uint8_t *)"\x01\x02",
                           .size = 2};
        outbox_item_t b = a;
        outbox_t *o = NULL;
        unsigned skipped = 9;
        uint64_t pos = 0;
        FILE *f;

        REQUIRE(mkdtemp(dir) != NULL);
        snprintf(path, sizeof(path), "%s/outbox", dir);
        REQUIRE(outbox_open(path, &o, &skipped) == 0);
        CHECK_INT(skipped, 0);
        CHECK(outbox_position(o, &pos) == -ENOENT);
        b.id = (char *)"e2.c1.x";
        CHECK(outbox_add(o, &a) == 0);
        CHECK(outbox_add(o, &a) == -EEXIST);
        CHECK(outbox_add(o, &b) == 0);
        outbox_set_position(o, 2);
        CHECK(outbox_sync(o, true) == 0);
        CHECK(outbox_done(o, "e1.c1.x") == 0);
        CHECK(outbox_mark_sent(o, "e2.c1.x") == 0);
        outbox_free(&o);
        /* A crash in the middle of an append leaves a torn line: ignored, not counted. */
        f = fopen(path, "a");
        REQUIRE(f);
        fputs("A\te3.c1.x\ta\tx\t1\t3\t0\t0\t0\t-\t1234", f);
        fclose(f);
        REQUIRE(outbox_open(path, &o, &skipped) == 0);
        CHECK_INT(skipped, 0);
        CHECK(outbox_position(o, &pos) == 0 && pos == 2);
        CHECK_INT(outbox_count(o), 1);
        CHECK(outbox_find(o, "e2.c1.x") && outbox_find(o, "e2.c1.x")->sent);
        CHECK(outbox_find(o, "e2.c1.x")->size == 2 &&
              memcmp(outbox_find(o, "e2.c1.x")->data, "\x01\x02", 2) == 0);
        outbox_free(&o);
        check_rm_tree(dir);
}

static void
test_bundled_conf(void)
{
        nconf_t *cfg = NULL;
        char *errors = NULL;

        CHECK(nconf_load(SOURCE_DIR "/conf/complaint-notify.conf", &cfg, &errors) == 0);
        if (errors)
                fputs(errors, stderr);
        REQUIRE(cfg != NULL);
        CHECK(cfg->n_routes > 0 && cfg->feedback.enabled && cfg->feedback.via_sms);
        CHECK_STR(cfg->domain, "example.org");
        nconf_free(&cfg);
        free(errors);
}

int
main(void)
{
        test_text();
        test_mail();
        test_alert_no_contacts();
        test_outbox();
        test_bundled_conf();
        return check_summary();
}
