/* cfg.c: see cfg.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"

/* Writes the path of a setting ("departments[2].id") into buf. */
static void
s_path(const config_setting_t *s, char *buf, size_t size)
{
        const config_setting_t *parent = config_setting_parent(s);
        char prefix[256] = "";

        if (parent == NULL) {
                buf[0] = '\0';
                return;
        }
        s_path(parent, prefix, sizeof(prefix));
        if (config_setting_name(s))
                snprintf(buf, size, "%s%s%s", prefix, prefix[0] ? "." : "", config_setting_name(s));
        else
                snprintf(buf, size, "%s[%d]", prefix, config_setting_index(s));
}

static void
s_add(struct cfg_log *log, const char *line)
{
        size_t n = strlen(line);
        char *p = realloc(log->errors, log->errors_len + n + 2);

        log->n_errors++;
        if (p == NULL)
                return;
        log->errors = p;
        memcpy(log->errors + log->errors_len, line, n);
        /* One error, one line: a value quoted in it may hold a newline or another control. */
        for (size_t i = log->errors_len; i < log->errors_len + n; i++)
                if ((unsigned char)log->errors[i] < 0x20 || log->errors[i] == 0x7f)
                        log->errors[i] = '?';
        log->errors_len += n;
        log->errors[log->errors_len++] = '\n';
        log->errors[log->errors_len] = '\0';
}

void
cfg_error(struct cfg_log *log, const config_setting_t *s, const char *key, const char *fmt, ...)
{
        char path[256] = "", reason[512], line[1024];
        const char *file = log->path;
        unsigned lineno = 0;
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(reason, sizeof(reason), fmt, ap);
        va_end(ap);
        if (s != NULL) {
                s_path(s, path, sizeof(path));
                lineno = config_setting_source_line(s);
                if (config_setting_source_file(s))
                        file = config_setting_source_file(s);
        }
        if (key != NULL) {
                size_t n = strlen(path);
                snprintf(path + n, sizeof(path) - n, "%s%s", n ? "." : "", key);
        }
        snprintf(line, sizeof(line), "%s:%u: %s: %s", file, lineno, path[0] ? path : "(top)",
                 reason);
        s_add(log, line);
}

void
cfg_error_line(struct cfg_log *log, const char *fmt, ...)
{
        char line[1024];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        s_add(log, line);
}

void
cfg_check_keys(struct cfg_log *log, const config_setting_t *group, const char *const *known)
{
        int n = config_setting_length(group);

        for (int i = 0; i < n; i++) {
                const config_setting_t *m = config_setting_get_elem(group, (unsigned)i);
                const char *name = config_setting_name(m);
                bool found = false;

                for (const char *const *k = known; *k && name; k++)
                        if (strcmp(*k, name) == 0)
                                found = true;
                if (!found)
                        cfg_error(log, m, NULL, "unknown setting");
        }
}

bool
cfg_group(struct cfg_log *log, const config_setting_t *g, const char *const *known)
{
        if (g == NULL)
                return false;
        if (!config_setting_is_group(g)) {
                cfg_error(log, g, NULL, "must be a group { ... }");
                return false;
        }
        cfg_check_keys(log, g, known);
        return true;
}

bool
cfg_parse_interval(const char *s, int *ret_start, int *ret_end)
{
        int h1, m1, h2, m2, n = 0;

        if (sscanf(s, "%2d:%2d-%2d:%2d%n", &h1, &m1, &h2, &m2, &n) != 4 || s[n] != '\0' || h1 < 0 ||
            h1 > 23 || m1 < 0 || m1 > 59 || h2 < 0 || h2 > 24 || m2 < 0 || m2 > 59 ||
            (h2 == 24 && m2 != 0))
                return false;
        *ret_start = h1 * 60 + m1;
        *ret_end = h2 * 60 + m2;
        return true;
}
