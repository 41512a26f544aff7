/* it_i18n_cli.c: complaintctl in Chinese and in English (issue 17), against the real daemon.
 * With LANG=zh_CN.UTF-8 (whether or not that locale is installed: the test machine may have
 * none), --help, show and the error messages (complaintctl's own and a refusal by the daemon)
 * print the Simplified Chinese of po/zh_CN.po; with LANG=C, English; --json prints the same
 * bytes in both. In Chinese, the headings of `list` and of the report's breakdown are wide
 * characters: every column still starts (left-aligned) or ends (right-aligned) at the same
 * display column on every row, as client/width.c counts. The catalogue is the build tree's
 * ($COMPLAINTCTL_LOCALEDIR). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "harness.h"
#include "width.h"

CHECK_DEFINE_COUNTERS();

static void
s_lang(const char *lang)
{
        unsetenv("LANGUAGE");
        unsetenv("LC_ALL");
        unsetenv("LC_MESSAGES");
        setenv("LANG", lang, 1);
}

/* The display columns at which the space-separated tokens of a line start and end. */
static size_t
s_tokens(const char *line, size_t len, size_t *starts, size_t *ends, size_t max)
{
        size_t n = 0, col = 0, i = 0;
        bool in = false;

        while (i < len) {
                int32_t cp;
                size_t l = width_decode(line + i, len - i, &cp);

                if (cp == ' ') {
                        if (in && n < max)
                                ends[n++] = col;
                        in = false;
                } else if (!in) {
                        if (n < max)
                                starts[n] = col;
                        in = true;
                }
                col += (size_t)width_codepoint(cp);
                i += l;
        }
        if (in && n < max)
                ends[n++] = col;
        return n;
}

/* The report's breakdown tables: after each "By" heading, the line of column headings and the
 * rows under it have as many tokens; the first starts where the heading's first starts, the
 * others (right-aligned numbers) end where their headings end. Returns the rows checked. */
static int
s_check_breakdown(const char *out)
{
        size_t hs[16], he[16], hn = 0;
        int rows = 0, state = 0; /* 0 outside, 1 the headings come next, 2 in a table */

        for (const char *line = out; *line;) {
                const char *eol = strchr(line, '\n');
                size_t len = eol ? (size_t)(eol - line) : strlen(line);
                size_t s[16], e[16], n;

                if (len == 0) {
                        state = 0;
                } else if (state == 1) {
                        hn = s_tokens(line, len, hs, he, 16);
                        CHECK_INT(hn, 8);
                        state = 2;
                } else if (state == 2) {
                        bool ok;

                        n = s_tokens(line, len, s, e, 16);
                        ok = n == hn && s[0] == hs[0];
                        for (size_t k = 1; ok && k < n; k++)
                                ok = e[k] == he[k];
                        if (!ok)
                                fprintf(stderr, "breakdown row misaligned:\n%.*s\n", (int)len,
                                        line);
                        CHECK(ok);
                        rows++;
                } else if (strncmp(line, "By ", 3) == 0 || strncmp(line, "按 ", 4) == 0) {
                        state = 1;
                }
                if (!eol)
                        break;
                line = eol + 1;
        }
        return rows;
}

/* As in it_width_cli: the data lines of a table start their columns where the heading's do. */
static int
s_check_columns(const char *out)
{
        size_t hs[16], he[16], hn, rows = 0;
        const char *eol = strchr(out, '\n');

        REQUIRE(eol != NULL);
        hn = s_tokens(out, (size_t)(eol - out), hs, he, 16);
        for (const char *line = eol + 1; *line; line = eol + 1) {
                size_t len, col = 0, i = 0, k = 1;

                eol = strchr(line, '\n');
                len = eol ? (size_t)(eol - line) : strlen(line);
                if (len == 0 || line[0] == '(')
                        break;
                rows++;
                /* Walk the line: at each heading start, a character boundary after a space. */
                while (i < len && k < hn) {
                        int32_t cp;
                        size_t l = width_decode(line + i, len - i, &cp);

                        if (col == hs[k]) {
                                if (line[i - 1] != ' ' || line[i] == ' ') {
                                        fprintf(stderr, "list column %zu misaligned:\n%.*s\n", k,
                                                (int)len, line);
                                        check_failed++;
                                        break;
                                }
                                check_passed++;
                                k++;
                        } else if (col > hs[k]) {
                                fprintf(stderr, "list column %zu straddled:\n%.*s\n", k, (int)len,
                                        line);
                                check_failed++;
                                break;
                        }
                        col += (size_t)width_codepoint(cp);
                        i += l;
                }
                if (!eol)
                        break;
        }
        return (int)rows;
}

int
main(void)
{
        harness_t h;
        harness_ctl_t zh, en;
        char id[24], from[32], to[32];
        struct timespec ts;
        int64_t t0;

        setenv("COMPLAINTCTL_LOCALEDIR", COMPLAINTCTL_MO_DIR, 1);
        clock_gettime(CLOCK_REALTIME, &ts);
        t0 = (int64_t)ts.tv_sec * 1000 - 1000;
        REQUIRE(harness_init(&h, "i18n_cli") == 0);
        REQUIRE(harness_start(&h) == 0);

        s_lang("C");
        en = HARNESS_CTL(&h, "--json", "--actor", "王芳", "create", "--channel", "phone",
                         "--category", "billing", "--subject", "账单金额错误", "--description",
                         "十一月的账单重复收费", "--phone", "+86 10 12345678");
        CHECK_INT(en.code, 0);
        snprintf(id, sizeof(id), "%" PRId64, hjson_int(en.json, "id", 0));
        harness_ctl_free(&en);
        en = HARNESS_CTL(&h, "--actor", "山田太郎", "create", "--channel", "web", "--category",
                         "network", "--subject", "ネットが繋がらない", "--description", "三日間",
                         "--phone", "+81 3 1234 5678");
        CHECK_INT(en.code, 0);
        CHECK(en.out && strncmp(en.out, "created complaint ", 18) == 0);
        harness_ctl_free(&en);
        en = HARNESS_CTL(&h, "assign", id);
        CHECK_INT(en.code, 0);
        CHECK(en.out && strncmp(en.out, "assigned complaint ", 19) == 0);
        harness_ctl_free(&en);

        /* --help */
        s_lang("zh_CN.UTF-8");
        zh = HARNESS_CTL(&h, "--help");
        CHECK_INT(zh.code, 0);
        CHECK(zh.out && strstr(zh.out, "用法：complaintctl [选项] 命令 [参数]") != NULL);
        CHECK(zh.out && strstr(zh.out, "全局选项") != NULL);
        harness_ctl_free(&zh);
        zh = HARNESS_CTL(&h, "erase", "--help");
        CHECK(zh.out && strstr(zh.out, "清除") != NULL);
        harness_ctl_free(&zh);
        s_lang("C");
        en = HARNESS_CTL(&h, "--help");
        CHECK_INT(en.code, 0);
        CHECK(en.out && strstr(en.out, "Usage: complaintctl [OPTIONS] COMMAND [ARGS]") != NULL);
        CHECK(en.out && strstr(en.out, "用法") == NULL);
        harness_ctl_free(&en);
        /* LANGUAGE, which gettext puts first, is honoured too. */
        setenv("LANG", "C.UTF-8", 1);
        setenv("LANGUAGE", "zh_CN", 1);
        zh = HARNESS_CTL(&h, "--help");
        CHECK(zh.out && strstr(zh.out, "用法：") != NULL);
        harness_ctl_free(&zh);

        /* show */
        s_lang("zh_CN.UTF-8");
        zh = HARNESS_CTL(&h, "show", id);
        CHECK_INT(zh.code, 0);
        CHECK(zh.out && strncmp(zh.out, "投诉 ", 7) == 0);
        CHECK(zh.out && strstr(zh.out, "\n  状态            assigned\n") != NULL);
        CHECK(zh.out && strstr(zh.out, "\n处理记录\n") != NULL);
        CHECK(zh.out && strstr(zh.out, "操作人") != NULL);
        printf("%s", zh.out ? zh.out : "");
        harness_ctl_free(&zh);
        s_lang("C");
        en = HARNESS_CTL(&h, "show", id);
        CHECK(en.out && strstr(en.out, "\n  status          assigned\n") != NULL);
        CHECK(en.out && strstr(en.out, "\nhistory\n") != NULL);
        harness_ctl_free(&en);

        /* Errors: complaintctl's own, and the daemon's refusal (its message stays English). */
        s_lang("zh_CN.UTF-8");
        zh = HARNESS_CTL(&h, "frobnicate");
        CHECK_INT(zh.code, 2);
        CHECK(zh.err && strstr(zh.err, "未知命令“frobnicate”") != NULL);
        CHECK(zh.err && strstr(zh.err, "请试用“complaintctl --help”。") != NULL);
        harness_ctl_free(&zh);
        zh = HARNESS_CTL(&h, "show", "424242");
        CHECK_INT(zh.code, 1);
        CHECK(zh.err && strstr(zh.err, "未找到（not_found）") != NULL);
        harness_ctl_free(&zh);
        zh = HARNESS_CTL(&h, "erase", "--phone", "+86 10 12345678");
        CHECK_INT(zh.code, 2);
        CHECK(zh.err && strstr(zh.err, "erase 需要 --reason") != NULL);
        harness_ctl_free(&zh);
        s_lang("C");
        en = HARNESS_CTL(&h, "frobnicate");
        CHECK(en.err && strstr(en.err, "unknown command 'frobnicate'") != NULL);
        harness_ctl_free(&en);
        en = HARNESS_CTL(&h, "show", "424242");
        CHECK(en.err && strncmp(en.err, "complaintctl: not_found: ", 25) == 0);
        harness_ctl_free(&en);

        /* --json: the same bytes in both languages, also for a refusal (under a request id of the
         * test's, which the reply echoes). The status is left out: it carries the time. */
        snprintf(from, sizeof(from), "@%" PRId64, t0);
        snprintf(to, sizeof(to), "@%" PRId64, t0 + 3600 * 1000);
        {
                const char *const cmds[][8] = {
                    {"--json", "show", id, NULL},
                    {"--json", "list", NULL},
                    {"--json", "whoami", NULL},
                    {"--json", "report", "--from", from, "--to", to, NULL},
                    {"--json", "ledger", "--from", from, "--to", to, NULL},
                    {"--json", "--request-id", "it-i18n-1", "show", "424242", NULL},
                    {"report", "--from", from, "--to", to, "--csv", NULL},
                };

                for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
                        s_lang("zh_CN.UTF-8");
                        zh = harness_ctl(&h, cmds[i]);
                        s_lang("C");
                        en = harness_ctl(&h, cmds[i]);
                        CHECK_INT(zh.code, en.code);
                        CHECK(zh.out && en.out && strcmp(zh.out, en.out) == 0);
                        if (!(zh.out && en.out && strcmp(zh.out, en.out) == 0))
                                fprintf(stderr, "differs: %s %s\n", cmds[i][0], cmds[i][1]);
                        harness_ctl_free(&zh);
                        harness_ctl_free(&en);
                }
        }

        /* Chinese headings over Chinese and Japanese cells: list and report. */
        s_lang("zh_CN.UTF-8");
        zh = HARNESS_CTL(&h, "list");
        CHECK_INT(zh.code, 0);
        CHECK(zh.out && strncmp(zh.out, "编号", 6) == 0);
        CHECK_INT(s_check_columns(zh.out ? zh.out : "x\n"), 2);
        printf("%s", zh.out ? zh.out : "");
        harness_ctl_free(&zh);
        zh = HARNESS_CTL(&h, "report", "--from", from, "--to", to);
        CHECK_INT(zh.code, 0);
        CHECK(zh.out && strstr(zh.out, "投诉报告") != NULL);
        CHECK(zh.out && s_check_breakdown(zh.out) >= 4);
        printf("%s", zh.out ? zh.out : "");
        harness_ctl_free(&zh);
        s_lang("C");
        en = HARNESS_CTL(&h, "report", "--from", from, "--to", to);
        CHECK(en.out && s_check_breakdown(en.out) >= 4);
        harness_ctl_free(&en);

        return harness_cleanup(&h, check_summary());
}
