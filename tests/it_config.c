/* it_config.c: complaintd --check-config and start-up on broken configurations. Each broken
 * file is the bundled conf/complaintd.conf with one change, so it stays valid in every other
 * respect as the schema grows; the test looks up the line it changed and expects the error to
 * say "FILE:LINE:" and name the setting. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>

#include "check.h"
#include "harness.h"

CHECK_DEFINE_COUNTERS();

static harness_t h;

/* Runs complaintd with args; returns the exit code and the captured stdout and stderr. */
static int
s_complaintd(const char *const *args, char **out, char **err)
{
        return harness_run(COMPLAINTD_BIN, args, 20000, out, err);
}

static int
s_check_config(const char *file, char **out, char **err)
{
        const char *args[] = {"--config", file, "--check-config", NULL};

        return s_complaintd(args, out, err);
}

/* Writes the bundled configuration with `from` (its first occurrence) replaced by `to` to
 * dir/name, and returns the line on which `mark`, a string of the replacement, lands: the line
 * of `from` in the bundled file plus the line breaks in `to` before `mark`. */
static int
s_broken(const char *name, const char *from, const char *to, const char *mark, char *path,
         size_t size)
{
        const char *pairs[] = {from, to, NULL};
        const char *m = strstr(to, mark);
        char bundled[PATH_MAX];
        int line;

        snprintf(bundled, sizeof(bundled), "%s/conf/complaintd.conf", SOURCE_DIR);
        snprintf(path, size, "%s/%s", h.dir, name);
        REQUIRE(m != NULL);
        REQUIRE(harness_write_conf(path, pairs) == 0);
        line = harness_file_line(bundled, from);
        REQUIRE(line > 0);
        for (const char *p = to; p < m; p++)
                line += *p == '\n';
        return line;
}

/* Whether err has a line starting "path:line:" that also contains every word of the
 * NULL-terminated list. */
static bool
s_has_error(const char *err, const char *path, int line, const char *const *words)
{
        char prefix[PATH_MAX + 32];
        const char *p = err;
        size_t plen;

        snprintf(prefix, sizeof(prefix), "%s:%d:", path, line);
        plen = strlen(prefix);
        /* One pass per line of err. */
        while (p && *p) {
                const char *nl = strchr(p, '\n');
                size_t len = nl ? (size_t)(nl - p) : strlen(p);

                if (len >= plen && strncmp(p, prefix, plen) == 0) {
                        bool all = true;

                        for (size_t i = 0; words && words[i]; i++) {
                                const char *w = strstr(p, words[i]);

                                if (w == NULL || w >= p + len)
                                        all = false;
                        }
                        if (all)
                                return true;
                }
                p = nl ? nl + 1 : NULL;
        }
        return false;
}

static void
s_expect_error(const char *what, const char *path, int line, const char *const *words)
{
        char *out = NULL, *err = NULL;
        int code = s_check_config(path, &out, &err);
        bool found;

        CHECK(code > 0 && code < 128);
        found = s_has_error(err, path, line, words);
        CHECK(found);
        if (!found || code <= 0 || code >= 128) {
                fprintf(stderr, "%s: expected an error at %s:%d naming", what, path, line);
                for (size_t i = 0; words[i]; i++)
                        fprintf(stderr, " \"%s\"", words[i]);
                fprintf(stderr, "; exit %d, stdout: %s\nstderr:\n%s\n", code, out, err);
        }
        CHECK(out == NULL || strstr(out, "OK") == NULL);
        free(out);
        free(err);
}

static void
test_bundled_ok(void)
{
        char path[PATH_MAX], *out = NULL, *err = NULL;
        int code;

        snprintf(path, sizeof(path), "%s/conf/complaintd.conf", SOURCE_DIR);
        code = s_check_config(path, &out, &err);
        CHECK_INT(code, 0);
        CHECK(out && strcmp(out, "OK\n") == 0);
        if (code != 0)
                fprintf(stderr, "bundled config: stdout %s stderr %s\n", out, err);
        free(out);
        free(err);

        /* The harness's own variant (heartbeat 100ms) is valid too. */
        code = s_check_config(h.conf, &out, &err);
        CHECK_INT(code, 0);
        free(out);
        free(err);
}

static void
test_missing_file(void)
{
        char path[PATH_MAX], *out = NULL, *err = NULL;
        int code;

        snprintf(path, sizeof(path), "%s/no-such.conf", h.dir);
        code = s_check_config(path, &out, &err);
        CHECK(code > 0 && code < 128);
        CHECK(err && strstr(err, path) != NULL);
        CHECK(err && strstr(err, "cannot open") != NULL);
        if (err && strstr(err, path) == NULL)
                fprintf(stderr, "missing file: stderr does not name %s:\n%s\n", path, err);
        free(out);
        free(err);
}

static void
test_syntax_error(void)
{
        char path[PATH_MAX];
        int line = s_broken("syntax.conf", "batch_max = 256;", "batch_max = = 256;",
                            "batch_max = =", path, sizeof(path));

        s_expect_error("syntax error", path, line, (const char *const[]){NULL});
}

static void
test_unknown_department(void)
{
        char path[PATH_MAX];
        int line = s_broken("unknown-dept.conf", "department = \"metering\";",
                            "department = \"nowhere\";", "\"nowhere\"", path, sizeof(path));

        s_expect_error("unknown department", path, line,
                       (const char *const[]){"department", "nowhere", NULL});
}

static void
test_duplicate_department(void)
{
        char path[PATH_MAX];
        /* The first `id = "safety";` is the department's (departments come first). */
        int line = s_broken("dup-dept.conf", "id = \"safety\";", "id = \"billing\";", "billing",
                            path, sizeof(path));

        /* The category "safety" now names a missing department too; only the duplicate is
         * checked here. */
        s_expect_error("duplicate department", path, line,
                       (const char *const[]){"billing", "duplicate", NULL});
}

static void
test_unknown_key(void)
{
        char path[PATH_MAX];
        int line =
            s_broken("unknown-key.conf", "batch_max = 256;", "batch_max = 256;\n  frobnicate = 1;",
                     "frobnicate", path, sizeof(path));

        s_expect_error("unknown key", path, line, (const char *const[]){"frobnicate", NULL});
}

static void
test_bad_value(void)
{
        char path[PATH_MAX];
        int line = s_broken("bad-heartbeat.conf", "heartbeat = \"1s\";", "heartbeat = \"soon\";",
                            "\"soon\"", path, sizeof(path));

        s_expect_error("bad duration", path, line, (const char *const[]){"heartbeat", NULL});
}

/* Scales and fractions are taken to six decimals, exactly: a seventh would be dropped. */
static void
test_six_decimals(void)
{
        char path[PATH_MAX];
        int line = s_broken("scale-decimals.conf", "urgent = 0.25;", "urgent = 0.1234567;",
                            "0.1234567", path, sizeof(path));

        s_expect_error("scale with seven decimals", path, line,
                       (const char *const[]){"priorities.urgent", "six decimals", NULL});
        line = s_broken("warning-decimals.conf", "warning = 0.8;", "warning = 0.8000001;",
                        "0.8000001", path, sizeof(path));
        s_expect_error("warning with seven decimals", path, line,
                       (const char *const[]){"escalation.warning", "six decimals", NULL});
        s_broken("scale-six.conf", "urgent = 0.25;", "urgent = 0.000001;", "0.000001", path,
                 sizeof(path));
        {
                char *out = NULL, *err = NULL;

                CHECK_INT(s_check_config(path, &out, &err), 0);
                free(out);
                free(err);
        }
}

/* A setting that must be a group, given as a number. */
static void
test_not_a_group(void)
{
        char path[PATH_MAX];
        int line = s_broken("not-a-group.conf", "repeat: {", "repeat = 3;\nrepeat_was: {",
                            "repeat = 3", path, sizeof(path));

        s_expect_error("not a group", path, line, (const char *const[]){"repeat", "group", NULL});
}

/* Starting (not checking) on file fails at once, with an error at path:line naming words. */
static void
s_expect_refused_start(const char *what, const char *path, int line, const char *const *words)
{
        char api[PATH_MAX + 8], events[PATH_MAX + 8], state[PATH_MAX];
        char *out = NULL, *err = NULL;
        int code;

        snprintf(api, sizeof(api), "ipc://%s/refused-api", h.dir);
        snprintf(events, sizeof(events), "ipc://%s/refused-events", h.dir);
        snprintf(state, sizeof(state), "%s/refused-state", h.dir);
        code = s_complaintd((const char *const[]){"--config", path, "--state-dir", state, "--api",
                                                  api, "--events", events, NULL},
                            &out, &err);
        CHECK(code > 0 && code < 128);
        CHECK(s_has_error(err, path, line, words));
        if (code <= 0 || code >= 128 || !s_has_error(err, path, line, words))
                fprintf(stderr, "%s: start: exit %d, stderr:\n%s\n", what, code, err);
        free(out);
        free(err);
}

/* A date that is both a holiday and a make-up working day is a contradiction (the calendar
 * would keep it closed): refused where the make-up day is written, at start as well. */
static void
test_holiday_workday(void)
{
        char path[PATH_MAX];
        int line =
            s_broken("holiday-workday.conf", "workdays = [ \"2026-12-19=mon\" ];",
                     "workdays = [ \"2026-12-19=mon\",\n                \"2026-12-24=mon\" ];",
                     "\"2026-12-24=mon\"", path, sizeof(path));
        const char *const words[] = {"workdays", "2026-12-24", "holiday", NULL};

        s_expect_error("holiday and workday", path, line, words);
        s_expect_refused_start("holiday and workday", path, line, words);
}

/* A calendar whose holidays close more than 400 days in a row would make every deadline
 * across them fail, however often retried: refused at the first holiday of the run. The "noc"
 * calendar becomes Saturdays 09:00-10:00 with the 57 Saturdays from 2027-01-02 holidays:
 * closed from Sunday 2026-12-27 to Friday 2028-02-04, 405 days. */
static void
test_closed_days(void)
{
        static const int len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        char path[PATH_MAX], to[4096];
        int y = 2027, m = 1, d = 2, n;
        int line;

        n = snprintf(to, sizeof(to), "hours = { sat = [\"09:00-10:00\"]; };\n    holidays = [ ");
        for (int k = 0; k < 57; k++) {
                n += snprintf(to + n, sizeof(to) - (size_t)n, "%s\"%04d-%02d-%02d\"", k ? ", " : "",
                              y, m, d);
                /* No leap day between 2027-01 and 2028-02. */
                if ((d += 7) > len[m - 1]) {
                        d -= len[m - 1];
                        if (++m > 12) {
                                m = 1;
                                y++;
                        }
                }
        }
        REQUIRE(n + 3 < (int)sizeof(to));
        snprintf(to + n, sizeof(to) - (size_t)n, " ];");
        line = s_broken("closed-days.conf", "always_open = true;", to, "\"2027-01-02\"", path,
                        sizeof(path));
        s_expect_error("closed days", path, line,
                       (const char *const[]){"holidays", "\"noc\"", "no business time", "405",
                                             "2026-12-27", "400", NULL});
        s_expect_refused_start("closed days", path, line,
                               (const char *const[]){"holidays", "no business time", NULL});

        /* 56 of them close 398 days: accepted. */
        REQUIRE(strstr(to, ", \"2028-01-29\"") != NULL);
        strcpy(strstr(to, ", \"2028-01-29\""), " ];");
        {
                const char *pairs[] = {"always_open = true;", to, NULL};
                char *out = NULL, *err = NULL;

                snprintf(path, sizeof(path), "%s/closed-days-398.conf", h.dir);
                REQUIRE(harness_write_conf(path, pairs) == 0);
                CHECK_INT(s_check_config(path, &out, &err), 0);
                if (out == NULL || strcmp(out, "OK\n") != 0)
                        fprintf(stderr, "398 closed days: stdout %s stderr %s\n", out, err);
                free(out);
                free(err);
        }
}

/* Every error is reported, not only the first. */
static void
test_every_error(void)
{
        char path[PATH_MAX];
        const char *pairs[] = {"batch_max = 256;", "batch_max = 256;\n  frobnicate = 1;",
                               "department = \"metering\";", "department = \"nowhere\";", NULL};
        char *out = NULL, *err = NULL;
        int l1, l2, code;

        snprintf(path, sizeof(path), "%s/two-errors.conf", h.dir);
        REQUIRE(harness_write_conf(path, pairs) == 0);
        l1 = harness_file_line(path, "frobnicate");
        l2 = harness_file_line(path, "\"nowhere\"");
        code = s_check_config(path, &out, &err);
        CHECK(code > 0 && code < 128);
        CHECK(s_has_error(err, path, l1, (const char *const[]){"frobnicate", NULL}));
        CHECK(s_has_error(err, path, l2, (const char *const[]){"department", NULL}));
        if (!s_has_error(err, path, l2, (const char *const[]){"department", NULL}) ||
            !s_has_error(err, path, l1, (const char *const[]){"frobnicate", NULL}))
                fprintf(stderr, "two errors: expected lines %d and %d, got:\n%s\n", l1, l2, err);
        free(out);
        free(err);
}

/* Starting (not checking) on a broken file fails at once with the same errors. */
static void
test_start_broken(void)
{
        char path[PATH_MAX], api[PATH_MAX + 8], events[PATH_MAX + 8], state[PATH_MAX];
        int line = s_broken("start-broken.conf", "department = \"metering\";",
                            "department = \"nowhere\";", "\"nowhere\"", path, sizeof(path));
        char *out = NULL, *err = NULL;
        int code;

        snprintf(api, sizeof(api), "ipc://%s/broken-api", h.dir);
        snprintf(events, sizeof(events), "ipc://%s/broken-events", h.dir);
        snprintf(state, sizeof(state), "%s/broken-state", h.dir);
        code = s_complaintd((const char *const[]){"--config", path, "--state-dir", state, "--api",
                                                  api, "--events", events, NULL},
                            &out, &err);
        CHECK(code > 0 && code < 128);
        CHECK(s_has_error(err, path, line, (const char *const[]){"department", NULL}));
        if (code <= 0 || code >= 128)
                fprintf(stderr, "start on a broken config: exit %d, stderr:\n%s\n", code, err);
        free(out);
        free(err);

        /* Through the harness: the early exit is seen at once, not after the start timeout. */
        {
                char saved[PATH_MAX];
                int64_t t0 = harness_now_ms();

                snprintf(saved, sizeof(saved), "%s", h.conf);
                snprintf(h.conf, sizeof(h.conf), "%s", path);
                fprintf(stderr, "(a start-up failure and its log are expected next)\n");
                CHECK_INT(harness_start(&h), -ECHILD);
                CHECK(harness_now_ms() - t0 < HARNESS_START_TIMEOUT_MS);
                CHECK(!harness_running(&h));
                snprintf(h.conf, sizeof(h.conf), "%s", saved);
        }

        /* And on a missing file. */
        snprintf(path, sizeof(path), "%s/no-such.conf", h.dir);
        code = s_complaintd((const char *const[]){"--config", path, "--state-dir", state, "--api",
                                                  api, "--events", events, NULL},
                            &out, &err);
        CHECK(code > 0 && code < 128);
        CHECK(err && strstr(err, path) != NULL);
        free(out);
        free(err);
}

/* complaintd --keygen writes a key file (0600, never over another) whose public key it prints,
 * and an access group naming it loads; one with a group-readable key, an unknown role or a
 * principal naming an unknown department is refused with the line of each (issue 14). */
static void
test_keygen_and_access(void)
{
        char key[PATH_MAX], conf[PATH_MAX], access[PATH_MAX + 1024], line[128];
        const char *args[] = {"--keygen", key, NULL};
        char *out = NULL, *err = NULL;
        struct stat st;
        FILE *f;

        snprintf(key, sizeof(key), "%s/server.key", h.dir);
        CHECK_INT(s_complaintd(args, &out, &err), 0);
        REQUIRE(out != NULL && strlen(out) == 41);
        CHECK(stat(key, &st) == 0 && (st.st_mode & 0777) == 0600);
        f = fopen(key, "r");
        REQUIRE(f != NULL);
        line[0] = '\0';
        while (fgets(line, sizeof(line), f) && strncmp(line, "public = ", 9) != 0)
                ;
        fclose(f);
        CHECK(strncmp(line + 9, out, 40) == 0);
        free(err);
        err = NULL;
        /* Never over an existing key. */
        CHECK(s_complaintd(args, NULL, &err) != 0);
        CHECK(err && strstr(err, "File exists") != NULL);
        free(err);
        err = NULL;

        snprintf(access, sizeof(access),
                 "access: { server_key = \"%s\"; principals = ( { name = \"root\"; key = "
                 "\"%.40s\"; role = \"admin\"; } ); };\ncentre = \"centre\";",
                 key, out);
        {
                const char *pairs[] = {"centre = \"centre\";", access, NULL};

                snprintf(conf, sizeof(conf), "%s/access.conf", h.dir);
                REQUIRE(harness_write_conf(conf, pairs) == 0);
        }
        CHECK_INT(s_check_config(conf, NULL, &err), 0);
        free(err);
        err = NULL;
        /* A server key others can read is no secret. */
        REQUIRE(chmod(key, 0640) == 0);
        CHECK(s_check_config(conf, NULL, &err) != 0);
        CHECK(err && strstr(err, "access.server_key") && strstr(err, "readable by others"));
        free(err);
        err = NULL;
        REQUIRE(chmod(key, 0600) == 0);
        snprintf(access, sizeof(access),
                 "access: { server_key = \"%s\"; principals = ( { name = \"billing\"; key = "
                 "\"%.40s\"; role = \"department\"; departments = [\"nowhere\"]; }, "
                 "{ name = \"x\"; key = \"%.40s\"; role = \"boss\"; } ); };\n"
                 "centre = \"centre\";",
                 key, out, out);
        {
                const char *pairs[] = {"centre = \"centre\";", access, NULL};

                REQUIRE(harness_write_conf(conf, pairs) == 0);
        }
        CHECK(s_check_config(conf, NULL, &err) != 0);
        CHECK(err && strstr(err, "\"nowhere\" is not a configured department"));
        CHECK(err && strstr(err, "\"boss\" is not one of intake"));
        free(err);
        free(out);
}

int
main(void)
{
        REQUIRE(harness_init(&h, "it_config") == 0);
        test_bundled_ok();
        test_missing_file();
        test_syntax_error();
        test_unknown_department();
        test_duplicate_department();
        test_unknown_key();
        test_bad_value();
        test_not_a_group();
        test_six_decimals();
        test_every_error();
        test_start_broken();
        test_holiday_workday();
        test_closed_days();
        test_keygen_and_access();
        return harness_cleanup(&h, check_summary());
}
