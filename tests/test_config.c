/* test_config.c: the configuration module (config.h): a good file loads, the example file
 * loads, the centre's zone and daemon.rebuild_batch take their defaults and their values, and
 * bad files are refused with errors naming file:line: setting. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "config.h"

CHECK_DEFINE_COUNTERS();

static char dir[] = "/tmp/test_config.XXXXXX";

/* Writes text to a file of the test's directory and returns its path (static). */
static const char *
s_file(const char *text)
{
        static char path[256];
        FILE *f;

        snprintf(path, sizeof(path), "%s/c.conf", dir);
        f = fopen(path, "w");
        REQUIRE(f != NULL);
        fputs(text, f);
        fclose(f);
        return path;
}

/* A small centre: calendars, the centre department on its own calendar, one category. */
#define CALENDARS(first_zone, centre_zone)                                                       \
        "calendars = (\n"                                                                        \
        "  { id = \"office\"; zone = \"" first_zone "\"; hours = { mon = [\"09:00-17:00\"]; }; " \
        "},\n"                                                                                   \
        "  { id = \"desk\"; zone = \"" centre_zone "\"; always_open = true; }\n"                 \
        ");\n"
#define DEPARTMENTS(centre_cal)                                                                   \
        "departments = (\n"                                                                       \
        "  { id = \"centre\"; name = \"Centre\"; " centre_cal " },\n"                             \
        "  { id = \"billing\"; name = \"Billing\"; calendar = \"office\"; response = \"2h\"; "    \
        "resolution = \"24h\";\n"                                                                 \
        "    chain = ( { role = \"chief\"; allowance = \"2h\"; } ); }\n"                          \
        ");\n"                                                                                    \
        "categories = ( { id = \"billing\"; name = \"Billing\"; department = \"billing\"; } );\n" \
        "centre = \"centre\";\n"

static conf_t *
s_load(const char *text, char **ret_errors)
{
        conf_t *cfg = NULL;
        char *errors = NULL;
        int r = config_load(s_file(text), &cfg, &errors);

        if (ret_errors)
                *ret_errors = errors;
        else
                free(errors);
        return r == 0 ? cfg : NULL;
}

/* The errors of a file that must be refused. */
static char *
s_refused(const char *text)
{
        char *errors = NULL;
        conf_t *cfg = s_load(text, &errors);

        CHECK(cfg == NULL);
        config_free(&cfg);
        CHECK(errors != NULL);
        return errors ? errors : strdup("");
}

static void
test_example(void)
{
        conf_t *cfg = NULL;
        char *errors = NULL;
        int r = config_load(SOURCE_DIR "/conf/complaintd.conf", &cfg, &errors);

        if (r < 0)
                fprintf(stderr, "%s", errors ? errors : "");
        CHECK_INT(r, 0);
        REQUIRE(cfg != NULL);
        CHECK(cfg->zone != NULL && cfg->zone[0]);
        CHECK(cfg->rebuild_batch > 0);
        config_free(&cfg);
        CHECK(cfg == NULL);
        free(errors);
}

static void
test_zone(void)
{
        conf_t *cfg;
        char *errors = NULL;

        /* The default: the centre's calendar, not the first one. */
        cfg = s_load(
            CALENDARS("Europe/Berlin", "Asia/Shanghai") DEPARTMENTS("calendar = \"desk\";"), NULL);
        REQUIRE(cfg != NULL);
        CHECK_STR(cfg->zone, "Asia/Shanghai");
        CHECK_INT(cfg->rebuild_batch, 2000);
        config_free(&cfg);

        /* A centre without a calendar: the first calendar's zone. */
        cfg = s_load(CALENDARS("Europe/Berlin", "Asia/Shanghai") DEPARTMENTS(""), NULL);
        REQUIRE(cfg != NULL);
        CHECK_STR(cfg->zone, "Europe/Berlin");
        config_free(&cfg);

        /* No calendar at all: UTC. */
        cfg = s_load("departments = ( { id = \"centre\"; name = \"C\"; } );\n"
                     "categories = ( { id = \"x\"; name = \"X\"; department = \"centre\"; } );\n"
                     "centre = \"centre\";\n",
                     NULL);
        REQUIRE(cfg != NULL);
        CHECK_STR(cfg->zone, "UTC");
        config_free(&cfg);

        /* Configured, and daemon.rebuild_batch. */
        cfg =
            s_load("zone = \"America/New_York\";\n"
                   "daemon = { rebuild_batch = 50; };\n" CALENDARS("Europe/Berlin", "Asia/Shanghai")
                       DEPARTMENTS("calendar = \"desk\";"),
                   &errors);
        if (cfg == NULL)
                fprintf(stderr, "%s", errors ? errors : "");
        REQUIRE(cfg != NULL);
        CHECK_STR(cfg->zone, "America/New_York");
        CHECK_INT(cfg->rebuild_batch, 50);
        config_free(&cfg);
        free(errors);
}

static void
test_errors(void)
{
        char *e;

        /* An unknown zone, on the line it is on. */
        e = s_refused("\n\nzone = \"Mars/Olympus\";\n" CALENDARS("Europe/Berlin", "UTC")
                          DEPARTMENTS(""));
        CHECK(strstr(e, "c.conf:3: zone: \"Mars/Olympus\" is not a time zone") != NULL);
        free(e);
        /* Not a string. */
        e = s_refused("zone = 8;\n" CALENDARS("Europe/Berlin", "UTC") DEPARTMENTS(""));
        CHECK(strstr(e, "c.conf:1: zone: must be a string") != NULL);
        free(e);
        /* A zone name that tries to leave the zoneinfo directory. */
        e = s_refused("zone = \"../../etc/passwd\";\n" CALENDARS("Europe/Berlin", "UTC")
                          DEPARTMENTS(""));
        CHECK(strstr(e, "c.conf:1: zone:") != NULL);
        free(e);
        /* daemon.rebuild_batch out of range, and not a number. */
        e = s_refused("daemon = {\n  rebuild_batch = 0;\n};\n" CALENDARS("Europe/Berlin", "UTC")
                          DEPARTMENTS(""));
        CHECK(strstr(e, "c.conf:2: daemon.rebuild_batch: 0 is out of range") != NULL);
        free(e);
        e = s_refused("daemon = {\n  rebuild_batch = 20001;\n};\n" CALENDARS("Europe/Berlin", "UTC")
                          DEPARTMENTS(""));
        CHECK(strstr(e, "c.conf:2: daemon.rebuild_batch: 20001 is out of range (1 to 20000)") !=
              NULL);
        free(e);
        e = s_refused("daemon = { rebuild_batch = \"many\"; };\n" CALENDARS("Europe/Berlin", "UTC")
                          DEPARTMENTS(""));
        CHECK(strstr(e, "daemon.rebuild_batch: must be an integer") != NULL);
        free(e);
        /* The calendars' own checks, now in config_calendar.c. */
        e = s_refused(CALENDARS("Nowhere/Town", "UTC") DEPARTMENTS(""));
        CHECK(strstr(e, "calendars.[0].zone: \"Nowhere/Town\" is not a time zone") != NULL ||
              strstr(e, "calendars[0].zone: \"Nowhere/Town\" is not a time zone") != NULL);
        free(e);
        e = s_refused("calendars = ( { id = \"x\"; zone = \"UTC\"; hours = { mon = [\"9-5\"]; }; "
                      "} );\n" DEPARTMENTS(""));
        CHECK(strstr(e, "is not working hours") != NULL);
        CHECK(strstr(e, "has no working hours") != NULL);
        free(e);
        e = s_refused("calendars = ( { id = \"x\"; zone = \"UTC\"; always_open = true;\n"
                      "  holidays = [\"2026-02-30\"]; } );\n" DEPARTMENTS(""));
        CHECK(strstr(e, "c.conf:2: calendars[0].holidays[0]: \"2026-02-30\" is not a date") !=
              NULL);
        free(e);
        /* An unknown top-level setting. */
        e = s_refused("zones = \"UTC\";\n" DEPARTMENTS(""));
        CHECK(strstr(e, "c.conf:1: zones: unknown setting") != NULL);
        free(e);
}

int
main(void)
{
        REQUIRE(mkdtemp(dir) != NULL);
        test_example();
        test_zone();
        test_errors();
        check_rm_tree(dir);
        return check_summary();
}
