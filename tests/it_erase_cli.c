/* it_erase_cli.c: `complaintctl erase` (issue 15) against the real daemon.
 *
 *   A  without access control: two complaints of one complainant and one of another, filed
 *      through complaintctl; erase without --reason is refused by complaintctl itself (exit 2,
 *      nothing sent); erase --phone says it touched two complaints (text and --json), show
 *      prints when the details were erased (text) and erased_at_ms/text_erased (--json),
 *      erase --complaint ID --text erases the third with its text, and report counts all
 *      three in text, --json and --csv;
 *   B  with access control (CURVE, as in it_access.c): an intake principal's erase is
 *      FORBIDDEN (exit 1), an admin's succeeds.
 *
 * Nothing sleeps: complaintctl waits for each reply with a bounded timeout. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "harness.h"

CHECK_DEFINE_COUNTERS();

static int64_t
s_utc_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Files a complaint through complaintctl (with --json) and returns its id, 0 on failure. */
static uint64_t
s_create(harness_t *h, const char *const *extra, const char *phone)
{
        const char *argv[32];
        size_t n = 0;
        harness_ctl_t r;
        uint64_t id;

        if (extra)
                for (; extra[n]; n++)
                        argv[n] = extra[n];
        argv[n++] = "--json";
        argv[n++] = "create";
        argv[n++] = "--channel";
        argv[n++] = "phone";
        argv[n++] = "--category";
        argv[n++] = "billing";
        argv[n++] = "--subject";
        argv[n++] = "Wrong bill";
        argv[n++] = "--description";
        argv[n++] = "Charged twice for November";
        argv[n++] = "--name";
        argv[n++] = "Erika Mustermann";
        argv[n++] = "--phone";
        argv[n++] = phone;
        argv[n] = NULL;
        r = harness_ctl(h, argv);
        CHECK_INT(r.code, 0);
        id = (uint64_t)hjson_int(r.json, "id", 0);
        if (r.code != 0)
                fprintf(stderr, "create: %s\n", r.err ? r.err : "");
        harness_ctl_free(&r);
        return id;
}

static void
case_plain(void)
{
        harness_t h;
        harness_ctl_t r;
        uint64_t a, b, c;
        char as[24], cs[24], from[32], to[32];
        int64_t t0 = s_utc_ms() - 1000;

        REQUIRE(harness_init(&h, "erase_cli") == 0);
        REQUIRE(harness_start(&h) == 0);
        a = s_create(&h, NULL, "+49 30 1234567");
        b = s_create(&h, NULL, "+49 30 1234567");
        c = s_create(&h, NULL, "+49 40 7654321");
        REQUIRE(a && b && c);
        snprintf(as, sizeof(as), "%" PRIu64, a);
        snprintf(cs, sizeof(cs), "%" PRIu64, c);

        /* The reason is required: complaintctl refuses before it sends anything. */
        r = HARNESS_CTL(&h, "erase", "--phone", "+49 30 1234567");
        CHECK_INT(r.code, 2);
        CHECK(r.err && strstr(r.err, "--reason") != NULL);
        harness_ctl_free(&r);
        r = HARNESS_CTL(&h, "erase", "--phone", "+49 30 1234567", "--email", "a@example.org",
                        "--reason", "asked");
        CHECK_INT(r.code, 2);
        harness_ctl_free(&r);
        r = HARNESS_CTL(&h, "erase", "--reason", "asked");
        CHECK_INT(r.code, 2);
        harness_ctl_free(&r);
        r = HARNESS_CTL(&h, "--json", "show", as);
        CHECK_INT(hjson_int(r.json, "complaint.erased_at_ms", -1), 0);
        harness_ctl_free(&r);

        r = HARNESS_CTL(&h, "erase", "--phone", "+49 30 1234567", "--reason",
                        "the complainant asked (letter of 1 December)");
        CHECK_INT(r.code, 0);
        CHECK(r.out && strncmp(r.out, "erased 2 complaints", 19) == 0);
        if (r.code)
                fprintf(stderr, "erase: %s\n", r.err ? r.err : "");
        harness_ctl_free(&r);

        /* Again, in JSON: idempotent, the same complaints (nothing left to erase is fine). */
        r = HARNESS_CTL(&h, "--json", "erase", "--phone", "+49 30 1234567", "--reason", "again");
        CHECK_INT(r.code, 0);
        if (r.code)
                fprintf(stderr, "erase again: %s%s\n", r.out ? r.out : "", r.err ? r.err : "");
        CHECK(hjson_int(r.json, "erased", -1) >= 0);
        CHECK_INT(hjson_bool(r.json, "text", -1), 0);
        harness_ctl_free(&r);

        r = HARNESS_CTL(&h, "show", as);
        CHECK_INT(r.code, 0);
        CHECK(r.out && strstr(r.out, "\n  erased          ") != NULL);
        CHECK(r.out && strstr(r.out, "1234567") == NULL);
        CHECK(r.out && strstr(r.out, "Erika") == NULL);
        harness_ctl_free(&r);
        r = HARNESS_CTL(&h, "--json", "show", as);
        CHECK(hjson_int(r.json, "complaint.erased_at_ms", 0) >= t0);
        CHECK_INT(hjson_bool(r.json, "complaint.text_erased", -1), 0);
        harness_ctl_free(&r);

        /* By complaint, with the text: one complaint, in JSON. */
        r = HARNESS_CTL(&h, "--json", "erase", "--complaint", cs, "--text", "--reason", "asked");
        CHECK_INT(r.code, 0);
        CHECK_INT(hjson_int(r.json, "erased", -1), 1);
        CHECK_INT(hjson_int(r.json, "ids.0", -1), (int64_t)c);
        CHECK_INT(hjson_bool(r.json, "text", -1), 1);
        harness_ctl_free(&r);
        r = HARNESS_CTL(&h, "--json", "show", cs);
        CHECK_INT(hjson_bool(r.json, "complaint.text_erased", -1), 1);
        CHECK(r.out && strstr(r.out, "Charged twice") == NULL);
        harness_ctl_free(&r);
        r = HARNESS_CTL(&h, "show", cs);
        CHECK(r.out && strstr(r.out, "contact details and text") != NULL);
        harness_ctl_free(&r);

        /* The report counts the three. */
        snprintf(from, sizeof(from), "@%" PRId64, t0);
        snprintf(to, sizeof(to), "@%" PRId64, s_utc_ms() + 60000);
        r = HARNESS_CTL(&h, "--json", "report", "--from", from, "--to", to);
        CHECK_INT(r.code, 0);
        CHECK_INT(hjson_int(r.json, "total.erased", -1), 3);
        CHECK_INT(hjson_int(r.json, "total.complaints", -1), 3);
        harness_ctl_free(&r);
        r = HARNESS_CTL(&h, "report", "--from", from, "--to", to);
        CHECK_INT(r.code, 0);
        CHECK(r.out && strstr(r.out, "erased (personal data)        3\n") != NULL);
        harness_ctl_free(&r);
        r = HARNESS_CTL(&h, "report", "--from", from, "--to", to, "--csv");
        CHECK_INT(r.code, 0);
        CHECK(r.out && strstr(r.out, ",repeat,erased\n") != NULL);
        CHECK(r.out && strstr(r.out, "\ntotal,,3,") != NULL);
        {
                /* The total line's last column is the erased count. */
                const char *t = r.out ? strstr(r.out, "\ntotal,,") : NULL;
                const char *eol = t ? strchr(t + 1, '\n') : NULL;

                CHECK(eol && eol - t > 2 && strncmp(eol - 2, ",3", 2) == 0);
        }
        harness_ctl_free(&r);
        harness_cleanup(&h, 0);
}

static void
case_access(void)
{
        harness_t h;
        harness_keypair_t server, root, agent;
        char server_file[PATH_MAX], root_file[PATH_MAX], agent_file[PATH_MAX];
        static const char *const pairs[] = {NULL};
        harness_ctl_t r;
        uint64_t id;
        FILE *f;

        REQUIRE(harness_init(&h, "erase_cli_access") == 0);
        REQUIRE(harness_keypair(&server) == 0);
        REQUIRE(harness_keypair(&root) == 0);
        REQUIRE(harness_keypair(&agent) == 0);
        snprintf(server_file, sizeof(server_file), "%s/server.key", h.dir);
        snprintf(root_file, sizeof(root_file), "%s/root.key", h.dir);
        snprintf(agent_file, sizeof(agent_file), "%s/agent.key", h.dir);
        REQUIRE(harness_write_keyfile(server_file, &server, 0600) == 0);
        REQUIRE(harness_write_keyfile(root_file, &root, 0600) == 0);
        REQUIRE(harness_write_keyfile(agent_file, &agent, 0600) == 0);
        REQUIRE(harness_write_conf(h.conf, pairs) == 0);
        f = fopen(h.conf, "a");
        REQUIRE(f != NULL);
        fprintf(f,
                "\naccess: {\n  server_key = \"%s\";\n  principals = (\n"
                "    { name = \"root\"; key = \"%s\"; role = \"admin\"; },\n"
                "    { name = \"agent\"; key = \"%s\"; role = \"intake\"; }\n  );\n};\n",
                server_file, root.public_key, agent.public_key);
        REQUIRE(fclose(f) == 0);
        REQUIRE(harness_start_curve(&h, server.public_key, &root) == 0);

        {
                const char *const as_agent[] = {"--key", agent_file, "--server-key",
                                                server.public_key, NULL};

                id = s_create(&h, as_agent, "+49 89 5550001");
                CHECK(id != 0);
        }
        r = HARNESS_CTL(&h, "--key", agent_file, "--server-key", server.public_key, "erase",
                        "--phone", "+49 89 5550001", "--reason", "asked");
        CHECK_INT(r.code, 1);
        CHECK(r.err && strstr(r.err, "forbidden") != NULL);
        harness_ctl_free(&r);
        r = HARNESS_CTL(&h, "--key", agent_file, "--server-key", server.public_key, "--json",
                        "erase", "--phone", "+49 89 5550001", "--reason", "asked");
        CHECK_INT(r.code, 1);
        CHECK_STR(hjson_str(r.json, "error"), "forbidden");
        harness_ctl_free(&r);
        r = HARNESS_CTL(&h, "--key", root_file, "--server-key", server.public_key, "erase",
                        "--phone", "+49 89 5550001", "--reason", "asked");
        CHECK_INT(r.code, 0);
        CHECK(r.out && strncmp(r.out, "erased 1 complaint", 18) == 0);
        harness_ctl_free(&r);
        harness_cleanup(&h, 0);
}

int
main(void)
{
        case_plain();
        case_access();
        return check_summary();
}
