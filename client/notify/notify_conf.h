/* notify_conf.h: the configuration of complaint-notify, read from a libconfig file and checked
 * in full before use: where the daemon is, how mail and webhooks are sent, the business
 * calendars (the daemon's syntax, compiled with its calendar code), the recipients, the routes
 * from events to recipients, and the messages to complainants. An nconf_t is immutable once
 * loaded; a reload builds a new one and swaps it only when it is entirely valid. Only
 * the notify_conf*.c files include libconfig.h (through notify_conf_int.h). */
#ifndef COMPLAINT_NOTIFY_CONF_H
#define COMPLAINT_NOTIFY_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "calendar.h"

/* What an event is, for routing: bits of nc_route.kinds. */
enum {
        KIND_WARNING = 1 << 0,   /* a deadline is near (<dept>/warning/<level>) */
        KIND_ESCALATED = 1 << 1, /* escalated to a level (<dept>/escalated/<level>) */
        KIND_REALERT = 1 << 2,   /* alerted again past the top of the chain */
        KIND_ASSIGNED = 1 << 3,  /* assigned, reassigned or reopened to the department */
};

/* How a recipient is reached. */
enum {
        FORMAT_EMAIL,    /* a mail through the sendmail command */
        FORMAT_JSON,     /* a generic JSON document, POSTed */
        FORMAT_SLACK,    /* {"text": ...}: Slack, Mattermost, Rocket.Chat incoming webhooks */
        FORMAT_WECOM,    /* WeCom (WeChat Work) group robot, msgtype markdown */
        FORMAT_DINGTALK, /* DingTalk group robot, msgtype markdown */
};

/* The messages to complainants. */
enum {
        FEEDBACK_ACK,      /* acknowledgement, when the complaint is dispatched */
        FEEDBACK_PROGRESS, /* progress: accepted by the department, then every N business days */
        FEEDBACK_REPLY,    /* the reply, when it is resolved */
        FEEDBACK_COUNT,
};

/* The most recipients and routes a file may hold. */
#define NC_RECIPIENTS_MAX 1024
#define NC_ROUTES_MAX 1024

struct nc_recipient {
        char *id;
        int format;
        char *email;    /* FORMAT_EMAIL: the address */
        char *url;      /* the others: http:// or https:// */
        char **headers; /* extra HTTP headers, "Name: value" */
        size_t n_headers;
};

struct nc_calendar {
        char *id;
        calendar_t *cal;
};

struct nc_route {
        unsigned kinds;     /* KIND_* bits */
        char **departments; /* none: every department */
        size_t n_departments;
        uint32_t *levels; /* none: every level */
        size_t n_levels;
        size_t *to; /* indexes into nconf_t.recipients */
        size_t n_to;
        const struct nc_calendar *calendar; /* quiet hours; NULL: always */
};

struct nc_message {
        char *subject; /* e-mail subject; NULL: this message is not sent */
        char *text;    /* e-mail body */
        char *sms;     /* SMS text; NULL: the e-mail text */
};

struct nc_feedback {
        bool enabled;
        bool via_email, via_sms;
        const struct nc_calendar *calendar; /* quiet hours and business days; NULL: always */
        uint32_t progress_every;            /* business days; 0: only at acceptance */
        char *reference;                    /* a template of {id}: the complaint's reference */
        char *contact;                      /* the centre's contact, for {contact} */
        char *no_due;                       /* {due} when the complaint has no deadline */
        char **names;                       /* department id, name, id, name, ... */
        size_t n_names;
        struct nc_message msg[FEEDBACK_COUNT];
};

struct nc_sms {
        char *url; /* NULL: no SMS gateway */
        char *user, *password;
        char *token; /* sent as "Authorization: Bearer <token>" */
        char *sender;
        char **headers;
        size_t n_headers;
};

typedef struct nconf {
        char *file;
        char *api;
        char *key;        /* its key file, for a daemon with access control; NULL: none */
        char *server_key; /* the daemon's public key, or a file holding it */
        char *state_dir;
        char *actor; /* who complaint-notify is in the complaints' history */
        int log_level;
        char *from;      /* From: of every mail, "Name <address>" or an address */
        char *domain;    /* the domain of from's address: Message-IDs end in it */
        char **sendmail; /* argv, NULL-terminated */
        char *zone_name;
        tz_t *zone;                  /* times in messages are written in it */
        int64_t timeout_ms;          /* one webhook call */
        int64_t sendmail_timeout_ms; /* one run of the sendmail command */
        int64_t retry_min_ms, retry_max_ms;
        int64_t give_up_ms; /* a delivery still failing this long after it was due is dropped */
        struct nc_calendar *calendars;
        size_t n_calendars;
        struct nc_recipient *recipients;
        size_t n_recipients;
        struct nc_route *routes;
        size_t n_routes;
        struct nc_feedback feedback;
        struct nc_sms sms;
} nconf_t;

/* Loads and checks the file at path. Returns 0 with *ret (the caller's, freed with
 * nconf_free()); -EINVAL when the file is invalid or unreadable, with every problem as a line
 * "file:line: setting: reason" in *ret_errors (the caller's to free; NULL ret_errors discards
 * them); or -ENOMEM. */
int nconf_load(const char *path, nconf_t **ret, char **ret_errors);

/* Accepts NULL and a pointer to NULL; sets *cfg to NULL. */
void nconf_free(nconf_t **cfg);

/* The recipient called id, or NULL; borrowed from cfg. */
const struct nc_recipient *nconf_recipient(const nconf_t *cfg, const char *id);

/* The configured name of department id for complainants, or id itself; borrowed. */
const char *nconf_department_name(const nconf_t *cfg, const char *id);

/* Parses a duration such as "90s", "30m", "2h", "3d", "1h30m" or "250ms" into milliseconds,
 * as the daemon's configuration writes them. Returns 0 or -EINVAL. */
int nconf_parse_duration(const char *s, int64_t *ret_ms);

/* The names of KIND_* bits, for logs and messages: "warning", "escalated", ... */
const char *nconf_kind_name(unsigned kind);
const char *nconf_format_name(int format);

/* The placeholders the templates of complainant messages may use. */
extern const char *const nconf_feedback_fields[];

#endif
