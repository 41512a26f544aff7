/* notify_conf_check.c: the checks every group of complaint-notify's configuration uses:
 * errors as "file:line: setting: reason", unknown keys, strings, ids, durations, lists,
 * addresses and URLs. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "notify_conf.h"
#include "notify_conf_int.h"
#include "text.h"

int
nc_set(char **field, const char *v)
{
        char *copy = strdup(v);

        if (copy == NULL)
                return -ENOMEM;
        free(*field);
        *field = copy;
        return 0;
}

/* Whether s has no control characters and is valid UTF-8: what may go into a header or a
 * journal line. */
bool
nc_clean(const char *s, bool newlines)
{
        for (const char *p = s; *p; p++)
                if ((unsigned char)*p < 0x20 && !(newlines && (*p == '\n' || *p == '\t')))
                        return false;
        return text_utf8_valid(s, strlen(s));
}

/* Copies a string member. Returns 1 when present and valid, 0 when absent (an error if
 * required), -1 when present but wrong. */
int
nc_get_string(struct loader *l, const config_setting_t *group, const char *key, bool required,
              char **field)
{
        const config_setting_t *m = config_setting_get_member(group, key);
        const char *v;

        if (m == NULL) {
                if (required)
                        cfg_error(&l->log, group, key, "missing");
                return 0;
        }
        v = config_setting_get_string(m);
        if (v == NULL) {
                cfg_error(&l->log, m, NULL, "must be a string");
                return -1;
        }
        if (!nc_clean(v, true)) {
                cfg_error(&l->log, m, NULL, "must be UTF-8 without control characters");
                return -1;
        }
        return nc_set(field, v) < 0 ? -1 : 1;
}

/* A string that must fit on one line (headers, addresses, URLs). */
int
nc_get_line(struct loader *l, const config_setting_t *group, const char *key, bool required,
            char **field)
{
        int r = nc_get_string(l, group, key, required, field);

        if (r > 0 && !nc_clean(*field, false)) {
                cfg_error(&l->log, config_setting_get_member(group, key), NULL,
                          "must be one line without tabs");
                return -1;
        }
        return r;
}

/* Recipient and calendar ids: letters, digits, '_' and '-', starting with a letter. */
static bool
s_valid_id(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n > 64 || !isalpha((unsigned char)s[0]))
                return false;
        for (; *s; s++)
                if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
                        return false;
        return true;
}

int
nc_get_id(struct loader *l, const config_setting_t *group, const char *key, char **field)
{
        int r = nc_get_string(l, group, key, true, field);

        if (r > 0 && !s_valid_id(*field)) {
                cfg_error(&l->log, config_setting_get_member(group, key), NULL,
                          "\"%s\" is not an id: 1 to 64 letters, digits, '_' and '-', starting "
                          "with a letter",
                          *field);
                return -1;
        }
        return r;
}

void
nc_get_duration(struct loader *l, const config_setting_t *group, const char *key, int64_t min_ms,
                int64_t *field)
{
        const config_setting_t *m = config_setting_get_member(group, key);
        const char *v;
        int64_t ms;

        if (m == NULL)
                return;
        v = config_setting_get_string(m);
        if (v == NULL || nconf_parse_duration(v, &ms) < 0)
                cfg_error(&l->log, m, NULL,
                          "must be a duration such as \"500ms\", \"90s\", \"30m\", \"2h\", "
                          "\"1h30m\"");
        else if (ms < min_ms)
                cfg_error(&l->log, m, NULL, "must be at least %lldms", (long long)min_ms);
        else
                *field = ms;
}

/* A list of strings (an array or a list), each one line. Returns the count, or -1. */
int
nc_get_strings(struct loader *l, const config_setting_t *m, char ***ret, size_t *ret_n)
{
        int n;

        if (!config_setting_is_array(m) && !config_setting_is_list(m)) {
                cfg_error(&l->log, m, NULL, "must be a list [\"...\", ...]");
                return -1;
        }
        n = config_setting_length(m);
        *ret = calloc((size_t)n + 1, sizeof(**ret));
        if (*ret == NULL)
                return -1;
        for (int i = 0; i < n; i++) {
                const config_setting_t *e = config_setting_get_elem(m, (unsigned)i);
                const char *v = config_setting_get_string(e);

                if (v == NULL || !nc_clean(v, false)) {
                        cfg_error(&l->log, e, NULL, "must be a string on one line");
                        continue;
                }
                if (nc_set(&(*ret)[*ret_n], v) == 0)
                        (*ret_n)++;
        }
        return (int)*ret_n;
}

void
nc_free_strings(char ***v, size_t *n)
{
        for (size_t i = 0; *v && i < *n; i++)
                free((*v)[i]);
        free(*v);
        *v = NULL;
        *n = 0;
}

/* "Name <local@domain>" or "local@domain": the address part, or NULL when malformed. */
const char *
nc_address_of(const char *from, char *buf, size_t size)
{
        const char *lt = strrchr(from, '<'), *at;
        size_t n;

        if (lt) {
                const char *gt = strchr(lt, '>');

                if (gt == NULL || gt[1] != '\0')
                        return NULL;
                n = (size_t)(gt - lt - 1);
                from = lt + 1;
        } else {
                n = strlen(from);
        }
        if (n == 0 || n >= size)
                return NULL;
        memcpy(buf, from, n);
        buf[n] = '\0';
        at = strchr(buf, '@');
        if (at == NULL || at == buf || at[1] == '\0' || strchr(at + 1, '@') ||
            strpbrk(buf, " \t<>,;\"()[]\\"))
                return NULL;
        return buf;
}

bool
nc_valid_url(const char *s)
{
        return (strncmp(s, "http://", 7) == 0 && s[7]) || (strncmp(s, "https://", 8) == 0 && s[8]);
}

int
nconf_parse_duration(const char *s, int64_t *ret_ms)
{
        int64_t total = 0;

        if (s == NULL || *s == '\0')
                return -EINVAL;
        while (*s) {
                int64_t v = 0, unit;
                int digits = 0;

                while (isdigit((unsigned char)*s) && digits < 12) {
                        v = v * 10 + (*s++ - '0');
                        digits++;
                }
                if (digits == 0 || isdigit((unsigned char)*s))
                        return -EINVAL;
                if (strncmp(s, "ms", 2) == 0) {
                        unit = 1;
                        s += 2;
                } else if (*s == 's') {
                        unit = 1000;
                        s++;
                } else if (*s == 'm') {
                        unit = 60000;
                        s++;
                } else if (*s == 'h') {
                        unit = 3600000;
                        s++;
                } else if (*s == 'd') {
                        unit = 86400000;
                        s++;
                } else {
                        return -EINVAL;
                }
                if (v > (INT64_MAX / 4 - total) / unit)
                        return -EINVAL;
                total += v * unit;
        }
        *ret_ms = total;
        return 0;
}
