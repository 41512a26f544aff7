/* it_width_cli.c: complaintctl's tables with Chinese, Japanese and mixed cells (issue 17),
 * against the real daemon. Complaints are filed by agents named in Chinese, Japanese and a mix
 * of scripts, with such subjects and replies (one too wide for its column); then `list` and
 * `ledger` (the report's reply ledger) are printed as text, and on every row every column must
 * start at the display column where its heading starts, as counted by client/width.c, on a
 * character boundary, after a space. A cut cell ends in an ellipsis and splits no character. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "harness.h"
#include "width.h"

CHECK_DEFINE_COUNTERS();

static const char *const actors[] = {"王芳", "山田太郎", "Ann Lee", "李Li混合テスト", "Zoë"};
static const char *const subjects[] = {
    "网络中断三天了，没人处理",
    "請求書の金額が間違っています",
    "Bill wrong 账单错误 請求",
    "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十 far too long",
    "e\xcc\x81 combining, ｶﾀｶﾅ halfwidth, ＡＢＣ fullwidth",
};
#define N (sizeof(actors) / sizeof(actors[0]))

/* The byte offset in line at which display column col begins on a character boundary, or -1
 * when a wide character straddles it or the line is shorter. */
static long
s_offset_at(const char *line, size_t len, size_t col)
{
        size_t i = 0, c = 0;

        while (i < len && c < col) {
                int32_t cp;

                i += width_decode(line + i, len - i, &cp);
                c += (size_t)width_codepoint(cp);
        }
        return c == col && i < len ? (long)i : -1;
}

/* Checks every line after the heading against the heading's column starts (titles must not
 * hold spaces). Returns the data lines checked. */
static int
s_check_columns(const char *what, const char *out)
{
        size_t starts[16], n = 0;
        const char *eol = strchr(out, '\n'), *p;
        int rows = 0;

        REQUIRE(eol != NULL);
        for (p = out; p < eol && n < 16; p++)
                if (*p != ' ' && (p == out || p[-1] == ' '))
                        starts[n++] = width_strn(out, (size_t)(p - out));
        CHECK(n >= 5);
        for (const char *line = eol + 1; *line; line = eol + 1) {
                size_t len;

                eol = strchr(line, '\n');
                if (eol == NULL)
                        eol = line + strlen(line);
                len = (size_t)(eol - line);
                if (len == 0 || line[0] == '(')
                        break; /* the end of the table: "(more: ...)" or a blank line */
                rows++;
                for (size_t k = 1; k < n; k++) {
                        long off = s_offset_at(line, len, starts[k]);

                        if (off <= 0 || line[off - 1] != ' ' || line[off] == ' ') {
                                fprintf(stderr,
                                        "%s: column %zu (display column %zu) misaligned in\n%.*s\n",
                                        what, k, starts[k], (int)len, line);
                                check_failed++;
                                break;
                        }
                        check_passed++;
                }
                /* No split sequence: the line decodes without an invalid byte. */
                for (size_t i = 0; i < len;) {
                        int32_t cp;

                        i += width_decode(line + i, len - i, &cp);
                        if (cp < 0) {
                                fprintf(stderr, "%s: an invalid byte in\n%.*s\n", what, (int)len,
                                        line);
                                check_failed++;
                                break;
                        }
                }
                if (!*eol)
                        break;
        }
        return rows;
}

int
main(void)
{
        harness_t h;
        harness_ctl_t r;
        uint64_t ids[N];
        char from[32], to[32];
        struct timespec ts;
        int64_t t0;

        clock_gettime(CLOCK_REALTIME, &ts);
        t0 = (int64_t)ts.tv_sec * 1000 - 1000;
        REQUIRE(harness_init(&h, "width_cli") == 0);
        REQUIRE(harness_start(&h) == 0);
        for (size_t i = 0; i < N; i++) {
                r = HARNESS_CTL(&h, "--json", "--actor", actors[i], "create", "--channel", "phone",
                                "--category", i % 2 ? "network" : "billing", "--subject",
                                subjects[i], "--description", "详细描述 詳細な説明", "--phone",
                                "+86 10 12345678");
                CHECK_INT(r.code, 0);
                if (r.code)
                        fprintf(stderr, "create: %s", r.err ? r.err : "");
                ids[i] = (uint64_t)hjson_int(r.json, "id", 0);
                harness_ctl_free(&r);
        }
        /* Replies in Chinese and Japanese for the ledger; the second too wide for its column. */
        for (size_t i = 0; i < 2; i++) {
                char id[24];

                snprintf(id, sizeof(id), "%" PRIu64, ids[i]);
                r = HARNESS_CTL(&h, "--actor", actors[i], "assign", id);
                CHECK_INT(r.code, 0);
                harness_ctl_free(&r);
                r = HARNESS_CTL(&h, "--actor", actors[i], "resolve", id, "--cause", "原因",
                                "--responsibility", "company", "--reply",
                                i == 0 ? "已退款，抱歉给您带来不便。"
                                       : "ご迷惑をおかけして申し訳ございません。差額は来月の請求"
                                         "書で返金いたします。");
                CHECK_INT(r.code, 0);
                if (r.code)
                        fprintf(stderr, "%s", r.err ? r.err : "");
                harness_ctl_free(&r);
        }

        r = HARNESS_CTL(&h, "list");
        CHECK_INT(r.code, 0);
        REQUIRE(r.out != NULL);
        CHECK_INT(s_check_columns("list", r.out), (int)N);
        CHECK(strstr(r.out, "王芳") != NULL);
        CHECK(strstr(r.out, "…") != NULL); /* the long subject, cut */
        printf("%s", r.out);
        harness_ctl_free(&r);

        snprintf(from, sizeof(from), "@%" PRId64, t0);
        snprintf(to, sizeof(to), "@%" PRId64, t0 + 3600 * 1000);
        r = HARNESS_CTL(&h, "ledger", "--from", from, "--to", to);
        CHECK_INT(r.code, 0);
        REQUIRE(r.out != NULL);
        CHECK_INT(s_check_columns("ledger", r.out), (int)N);
        CHECK(strstr(r.out, "已退款") != NULL);
        CHECK(strstr(r.out, "…") != NULL); /* the Japanese reply and the mixed name, cut */
        printf("%s", r.out);
        harness_ctl_free(&r);

        r = HARNESS_CTL(&h, "report", "--from", from, "--to", to);
        CHECK_INT(r.code, 0);
        harness_ctl_free(&r);
        return harness_cleanup(&h, check_summary());
}
