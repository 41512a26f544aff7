/* fuzz_config.c: the configuration loader (daemon/config.h). Each input is written to a file
 * and loaded as the configuration; the loader must either accept it, with every reference
 * resolved, or refuse it with -EINVAL and "file:line: setting: reason" lines, leaving the
 * out-parameter alone. Durations and sizes are parsed on their own too, from the input's
 * first line. */
#include <errno.h>
#include <inttypes.h>

#include "config.h"
#include "fuzz.h"

static char path[4200];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
        (void)argc;
        (void)argv;
        snprintf(path, sizeof(path), "%s/fuzz.conf", fuzz_scratch("fuzz_config"));
        return 0;
}

/* A configuration that loaded keeps the promises of config.h: references resolve, the
 * built-in 24x7 calendar exists. */
static void
s_check_loaded(const conf_t *cfg)
{
        FUZZ_CHECK(strcmp(cfg->file, path) == 0, "file %s", cfg->file);
        FUZZ_CHECK(cfg->state_dir && cfg->api && cfg->events, "endpoints");
        FUZZ_CHECK(cfg->centre && config_find_department(cfg, cfg->centre), "centre");
        FUZZ_CHECK(config_find_calendar(cfg, "24x7") != NULL, "24x7");
        for (size_t i = 0; i < cfg->n_calendars; i++) {
                const struct config_calendar *c = &cfg->calendars[i];

                FUZZ_CHECK(config_find_calendar(cfg, c->id) == c, "calendar %s", c->id);
                FUZZ_CHECK(c->always_open || c->n_hours > 0, "calendar %s has no hours", c->id);
                for (size_t h = 0; h < c->n_hours; h++)
                        FUZZ_CHECK(c->hours[h].weekday >= 0 && c->hours[h].weekday <= 6 &&
                                       c->hours[h].start_min >= 0 && c->hours[h].start_min < 1440 &&
                                       c->hours[h].end_min >= 0 && c->hours[h].end_min <= 1440,
                                   "calendar %s interval %zu", c->id, h);
        }
        for (size_t i = 0; i < cfg->n_departments; i++) {
                const struct config_department *d = &cfg->departments[i];

                FUZZ_CHECK(config_find_department(cfg, d->id) == d, "department %s", d->id);
                FUZZ_CHECK(d->name != NULL, "department %s has no name", d->id);
                FUZZ_CHECK(!(d->response_ms || d->resolution_ms) || d->calendar,
                           "department %s is timed without a calendar", d->id);
                for (size_t l = 0; l < d->n_chain; l++)
                        FUZZ_CHECK(d->chain[l].role && d->chain[l].allowance_ms > 0,
                                   "department %s level %zu", d->id, l + 1);
        }
        for (size_t i = 0; i < cfg->n_categories; i++) {
                const struct config_category *c = &cfg->categories[i];

                FUZZ_CHECK(config_find_category(cfg, c->id) == c, "category %s", c->id);
                FUZZ_CHECK(config_find_department(cfg, c->department) != NULL,
                           "category %s: department %s", c->id, c->department);
        }
}

/* Every error is a line "file:line: setting: reason". */
static void
s_check_errors(const char *errors)
{
        const char *line = errors;

        FUZZ_CHECK(errors && errors[0], "refused without an error");
        while (*line) {
                const char *nl = strchr(line, '\n');

                FUZZ_CHECK(nl != NULL, "an error without its newline: %s", line);
                FUZZ_CHECK(memchr(line, ':', (size_t)(nl - line)) != NULL, "%.*s", (int)(nl - line),
                           line);
                line = nl + 1;
        }
}

static void
s_check_parsers(const uint8_t *data, size_t size)
{
        const uint8_t *nl = memchr(data, '\n', size);
        size_t n = nl ? (size_t)(nl - data) : size;
        char s[64];
        int64_t ms = -1;
        uint64_t bytes = 0;

        if (n >= sizeof(s) || memchr(data, '\0', n))
                return;
        memcpy(s, data, n);
        s[n] = '\0';
        if (config_parse_duration(s, &ms) == 0)
                FUZZ_CHECK(ms > 0, "duration %s: %" PRId64, s, ms);
        else
                FUZZ_CHECK(ms == -1, "duration %s: set on failure", s);
        if (config_parse_size(s, &bytes) < 0)
                FUZZ_CHECK(bytes == 0, "size %s: set on failure", s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        conf_t *cfg = NULL;
        char *errors = NULL;
        int r;

        s_check_parsers(data, size);
        if (fuzz_write_file(path, data, size) < 0) {
                perror(path);
                abort();
        }
        r = config_load(path, &cfg, &errors);
        if (r == 0) {
                FUZZ_CHECK(cfg != NULL && errors == NULL, "loaded, yet errors");
                s_check_loaded(cfg);
                config_free(&cfg);
                FUZZ_CHECK(cfg == NULL, "config_free() left the pointer");
        } else {
                FUZZ_CHECK(r == -EINVAL && cfg == NULL, "r = %d", r);
                s_check_errors(errors);
                free(errors);
        }
        return 0;
}
