/* config.h: the daemon's configuration, read from a libconfig file and checked in full
 * before use. A conf_t is immutable once loaded; a reload builds a new one and swaps it
 * only when it is entirely valid. Only config.c includes libconfig.h. */
#ifndef COMPLAINTD_CONFIG_H
#define COMPLAINTD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A business calendar as written in the file; policy.c compiles it. */
struct config_interval {
        int weekday; /* 0 = Sunday */
        int start_min, end_min;
};

struct config_date {
        int year, month, day;
        int as_weekday; /* for make-up working days */
};

struct config_calendar {
        char *id;
        char *zone;
        bool always_open;
        struct config_interval *hours;
        size_t n_hours;
        struct config_date *holidays;
        size_t n_holidays;
        struct config_date *workdays;
        size_t n_workdays;
};

/* One level of a management chain. */
struct config_level {
        char *role;
        int64_t allowance_ms;
};

struct config_department {
        char *id;
        char *name;
        const struct config_calendar *calendar; /* NULL: not timed */
        int64_t response_ms;                    /* 0: no response clock */
        int64_t resolution_ms;                  /* 0: no resolution clock */
        struct config_level *chain;
        size_t n_chain;
};

struct config_category {
        char *id;
        char *name;
        char *department;      /* the default department for `assign` */
        int64_t response_ms;   /* 0: the department's */
        int64_t resolution_ms; /* 0: the department's */
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
        uint32_t replay_max;
        uint32_t reply;           /* bytes of history in one get reply (past its first entry) */
        uint32_t scan_max;        /* index entries one list request examines */
        int64_t compensation_max; /* cents */
};

/* Access control (the `access` group): roles as the centre's practice has them. */
enum config_role {
        ROLE_INTAKE = 1, /* agents: record, dispatch, settle, dismiss, call back, reopen */
        ROLE_DEPARTMENT, /* a department system: its own complaints, accept to resolve */
        ROLE_SUPERVISOR, /* a manager: its departments' complaints, escalate and reassign */
        ROLE_ANALYST,    /* the monthly analysis: report, ledger, reads without contacts */
        ROLE_ADMIN,      /* everything, backups included */
};

#define CONFIG_KEY_LEN 40 /* a CURVE key in Z85 */

/* One principal: a client key and what it may do. */
struct config_principal {
        char *name;
        char key[CONFIG_KEY_LEN + 1]; /* its public key, Z85 */
        int role;                     /* enum config_role */
        char **departments;           /* department and supervisor: the departments it covers */
        size_t n_departments;
        uint32_t *levels; /* supervisor: the management levels it is alerted at (none: all) */
        size_t n_levels;
        bool contact;         /* it sees complainants' contact details */
        bool acts_for_people; /* it may name the person it acts for: "name:person" */
};

struct config_access {
        char server_public[CONFIG_KEY_LEN + 1]; /* the daemon's key pair, Z85 */
        char server_secret[CONFIG_KEY_LEN + 1];
        struct config_principal *principals;
        size_t n_principals;
};

typedef struct conf {
        char *file; /* the file it was read from */
        char *state_dir;
        char *api;
        char *events;
        char *backup_dir; /* where `backup` writes copies; NULL: <state_dir>/backups */
        int log_level;    /* LOG_* from syslog.h */
        int64_t heartbeat_ms;
        int64_t read_budget_ms;        /* reads of one batch, before the rest wait a turn */
        int64_t idempotency_window_ms; /* how long a change's reply is kept for a retry */
        uint32_t reply_queue;          /* replies queued for one client that does not read them */
        uint64_t store_max;            /* bytes */
        uint32_t batch_max;
        uint32_t event_hwm; /* events queued per subscriber before ZeroMQ drops them */
        struct config_limits limits;
        char *centre;
        char *zone; /* the centre's time zone (IANA name): the report's days and months; by
                     * default the zone of the centre's calendar (config_calendar.c) */
        uint32_t rebuild_batch;    /* complaints counted again per step of a counter rebuild */
        double priority_scale[4];  /* indexed by the Priority enum value; six decimals at most */
        double warning;            /* fraction of an allowance at which to warn; 0: never; six
                                    * decimals at most */
        int64_t realert_ms;        /* past the top level, alert again after this */
        int64_t followup_ms;       /* the follow-up call's limit, on the centre's calendar */
        int64_t keep_events_ms;    /* events older than this are pruned */
        uint64_t keep_events;      /* at most this many events are kept */
        uint32_t repeat_threshold; /* flagged past this many complaints in the window; 0: off */
        int64_t repeat_window_ms;
        char *country_code; /* digits of the default country code of phone numbers; NULL: none */
        int64_t privacy_retention_ms; /* contact details erased this long after a complaint
                                       * ended; 0: kept until erased by request */
        int64_t privacy_rekey_ms;     /* the privacy key is replaced at most this often, after
                                       * erasures */
        struct config_calendar *calendars;
        size_t n_calendars;
        struct config_department *departments;
        size_t n_departments;
        struct config_category *categories;
        size_t n_categories;
        struct config_access *access; /* NULL: no access control (loopback and ipc:// only) */
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
const struct config_calendar *config_find_calendar(const conf_t *cfg, const char *id);

/* The principal whose public key (Z85) is key; NULL when there is none or access control is
 * off. Borrowed from cfg. */
const struct config_principal *config_find_principal(const conf_t *cfg, const char *key);

/* The word for a role ("intake", ...), and back (-1 for an unknown word). */
const char *config_role_name(int role);
int config_role_parse(const char *word);

/* Whether principal p covers department dept (its departments; every department for the
 * roles that are not limited to some). */
bool config_principal_covers(const struct config_principal *p, const char *dept);

/* Reads a key file: lines "public = <Z85>" and "secret = <Z85>" (blank lines and # comments
 * allowed). Returns 0, -errno when it cannot be read, -EBADMSG when it is malformed. */
int config_read_keyfile(const char *path, char ret_public[CONFIG_KEY_LEN + 1],
                        char ret_secret[CONFIG_KEY_LEN + 1]);

/* Parses a duration such as "90s", "30m", "2h", "3d", "1h30m" or "250ms" into milliseconds.
 * Returns 0, or -EINVAL for anything else (empty, no unit, overflow, zero). */
int config_parse_duration(const char *s, int64_t *ret_ms);

/* Parses a size such as "512M", "8G", "65536" into bytes; -EINVAL otherwise. */
int config_parse_size(const char *s, uint64_t *ret);

#endif
