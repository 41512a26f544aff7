/* config.h: the daemon's configuration, read from a libconfig file and checked in full
 * before use. A conf_t is immutable once loaded; a reload builds a new one and swaps it
 * only when it is entirely valid. Only config.c includes libconfig.h. */
#ifndef COMPLAINTD_CONFIG_H
#define COMPLAINTD_CONFIG_H

#include <stddef.h>
#include <stdint.h>

struct config_department {
        char *id;
        char *name;
};

struct config_category {
        char *id;
        char *name;
        char *department; /* the default department for `assign` */
};

/* Size limits on everything a client sends, in bytes (counts for list_max). */
struct config_limits {
        uint32_t message;
        uint32_t name;
        uint32_t phone;
        uint32_t email;
        uint32_t address;
        uint32_t subject;
        uint32_t description;
        uint32_t note;
        uint32_t actor;
        uint32_t request_id;
        uint32_t external_ref;
        uint32_t list_max;
        int64_t compensation_max; /* cents */
};

typedef struct conf {
        char *file; /* the file it was read from */
        char *state_dir;
        char *api;
        char *events;
        int log_level; /* LOG_* from syslog.h */
        int64_t heartbeat_ms;
        uint64_t store_max; /* bytes */
        uint32_t batch_max;
        struct config_limits limits;
        char *centre;
        double priority_scale[4]; /* indexed by the Priority enum value */
        struct config_department *departments;
        size_t n_departments;
        struct config_category *categories;
        size_t n_categories;
} conf_t;

/* Reads and checks the file at path. On success *ret is the caller's, to free with
 * config_free(). On failure returns -EINVAL (or -ENOMEM) and, when ret_errors is not NULL,
 * stores every error found, one "file:line: setting: reason" per line, as a string the
 * caller frees; *ret is untouched. */
int config_load(const char *path, conf_t **ret, char **ret_errors);

/* Frees a configuration; accepts NULL and sets *cfg to NULL. */
void config_free(conf_t **cfg);

/* Replace a string setting (command-line overrides); -ENOMEM on failure. */
int config_set_string(char **field, const char *value);

/* Look-ups by id; NULL when there is none. The result is borrowed from cfg. */
const struct config_department *config_find_department(const conf_t *cfg, const char *id);
const struct config_category *config_find_category(const conf_t *cfg, const char *id);

/* Parses a duration such as "90s", "30m", "2h", "3d", "1h30m" or "250ms" into milliseconds.
 * Returns 0, or -EINVAL for anything else (empty, no unit, overflow, zero). */
int config_parse_duration(const char *s, int64_t *ret_ms);

/* Parses a size such as "512M", "8G", "65536" into bytes; -EINVAL otherwise. */
int config_parse_size(const char *s, uint64_t *ret);

#endif
