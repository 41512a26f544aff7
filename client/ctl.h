/* ctl.h: what complaintctl's modules share: the options, the parsed invocation (struct ctl),
 * the command table's entry, the exit statuses, and the helpers every command uses to read its
 * options, call the daemon and report failures (ctl_call.c). The commands themselves live in
 * cmd_change.c (the changes), cmd_read.c (show, list) and cmd_ops.c (status, backup, watch,
 * report, ledger, whoami, keygen); ctl.c parses the command line and dispatches. */
#ifndef COMPLAINTD_CTL_H
#define COMPLAINTD_CTL_H

#include <stdbool.h>
#include <stdint.h>

#include "complaint_client.h"
#include "settings.h"

#define EXIT_REFUSED 1
#define EXIT_USAGE 2
#define EXIT_NO_ANSWER 3

#define DEFAULT_TIMEOUT_MS 5000
#define DEFAULT_RETRIES 2
#define ARGS_MAX 4

/* Every option, global or not. An option takes the same kind of value wherever it appears;
 * which commands accept it is in the command table. */
enum opt {
        OPT_ENDPOINT,
        OPT_JSON,
        OPT_ACTOR,
        OPT_TIMEOUT,
        OPT_RETRIES,
        OPT_REQUEST_ID,
        OPT_HELP,
        OPT_VERSION,
        OPT_CHANNEL,
        OPT_CATEGORY,
        OPT_SUBJECT,
        OPT_DESCRIPTION,
        OPT_NAME,
        OPT_PHONE,
        OPT_EMAIL,
        OPT_ADDRESS,
        OPT_NATURE,
        OPT_PRIORITY,
        OPT_REF,
        OPT_NOTE,
        OPT_DEPARTMENT,
        OPT_CAUSE,
        OPT_RESPONSIBILITY,
        OPT_REPLY,
        OPT_COMPENSATION,
        OPT_SATISFACTION,
        OPT_CALL_FAILED,
        OPT_REASON,
        OPT_STATUS,
        OPT_LIMIT,
        OPT_BEFORE,
        OPT_KIND,
        OPT_LEVEL,
        OPT_COUNT,
        OPT_FROM,
        OPT_STATE_FILE,
        OPT_OVERDUE,
        OPT_MONTH,
        OPT_TO,
        OPT_CSV,
        OPT_KEY,
        OPT_SERVER_KEY,
        OPT_OUT,
        OPT_COMPLAINT,
        OPT_TEXT,
        OPT_UTC,
        OPT_MAX_
};

/* An option's long name and whether it takes a value; indexed by enum opt (ctl.c). */
struct ctl_option {
        const char *name;
        bool arg;
};

extern const struct ctl_option ctl_options[OPT_MAX_];

struct ctl;

struct command {
        const char *name;
        int (*run)(struct ctl *x);
        uint64_t opts; /* the command's own options */
        int min_args, max_args;
        bool change; /* a change: carries a request id the operator may need to repeat it */
        const char *synopsis;
        const char *help;
};

/* One invocation: what was parsed, and the settings that follow from it. */
struct ctl {
        const struct command *cmd;
        char *val[OPT_MAX_]; /* argv strings; a flag points at its own argument */
        char *arg[ARGS_MAX];
        int nargs;
        struct settings settings; /* the endpoint and the keys; owned */
        const char *endpoint;     /* settings.endpoint */
        char *actor;
        int timeout_ms;
        int retries;
        bool json;
        bool utc;         /* --utc: times in UTC, RFC 3339 */
        struct tz *zone;  /* the centre's zone once ctl_times() loaded it; owned */
        char *request_id; /* NULL: the library chooses one */
        char request_id_buf[COMPLAINT_REQUEST_ID_SIZE];
};

/* Messages: "complaintctl: " and the message on stderr. ctl_usage_error() adds where to find
 * help and returns EXIT_USAGE; ctl_fail() returns EXIT_REFUSED. */
__attribute__((format(printf, 2, 3))) int ctl_usage_error(const struct ctl *x, const char *fmt,
                                                          ...);
__attribute__((format(printf, 1, 2))) int ctl_fail(const char *fmt, ...);

/* Values. ctl_parse_u64() reads a decimal number, ctl_parse_cents() currency units with up to
 * two decimals; both return false (leaving *ret alone) for anything else. */
bool ctl_parse_u64(const char *s, uint64_t *ret);
bool ctl_parse_cents(const char *s, int64_t *ret);

/* The value of an option, or "" when it was not given (borrowed from argv). */
char *ctl_opt(const struct ctl *x, enum opt o);

/* Each returns 0, or the exit status after a usage error: ctl_need() that the option was given
 * non-empty, ctl_id() the complaint id of the first argument, ctl_enum() an enum option's word
 * (0 when not given), ctl_number() a number option within [min, max] (0 when not given). */
int ctl_need(const struct ctl *x, enum opt o);
int ctl_id(const struct ctl *x, uint64_t *ret);
int ctl_enum(const struct ctl *x, enum opt o, int (*parse)(const char *), const char *(*name)(int),
             int *ret);
int ctl_number(const struct ctl *x, enum opt o, uint64_t min, uint64_t max, uint64_t *ret);

/* Sends req and waits for a successful reply. Returns 0 with *ret_reply set (the caller's), or
 * the exit status after saying what went wrong. */
int ctl_call(struct ctl *x, pb_request_t *req, pb_reply_t **ret_reply);

/* The daemon's status through ctl_call(): 0 with *ret_reply (the caller's, status set), or
 * the exit status after saying what failed. */
int ctl_status(struct ctl *x, pb_reply_t **ret_reply);

/* Makes the text output print times in the centre's zone (render_set_zone()): the zone the
 * daemon reports in its status (StatusReply.zone), UTC when it reports none or cannot be asked,
 * or the zone is unknown here. Nothing with --json or --utc, whose times stay RFC 3339 UTC.
 * Called once a command has its reply, so a daemon that does not answer is not asked twice.
 * zone_name, when not NULL, is the zone already known (from a status reply). */
void ctl_times(struct ctl *x, const char *zone_name);

/* The centre's zone, in which report periods are read (--month is the centre's month): the one
 * already loaded, or the zone of the daemon's status, loaded into x->zone (still owned by x).
 * Unlike ctl_times() it asks with --json and --utc too, and a failure is the command's: returns
 * 0, or the exit status after saying what failed (no answer, or a zone this machine's tzdata
 * lacks). */
int ctl_centre_zone(struct ctl *x, const struct tz **ret);

/* Flushes stdout: 0, or EXIT_REFUSED after saying why it could not be written. */
int ctl_flush(void);

/* Sends a change and prints the complaint it left (JSON, or one line that starts with verb).
 * Returns the exit status. */
int ctl_change(struct ctl *x, pb_request_t *req, const char *verb); /* verb: translated */

/* The commands (the command table in ctl.c): each returns complaintctl's exit status. */
int cmd_create(struct ctl *x);
int cmd_assign(struct ctl *x);
int cmd_simple(struct ctl *x); /* accept, pend, resume, escalate */
int cmd_resolve(struct ctl *x);
int cmd_close(struct ctl *x);
int cmd_reopen(struct ctl *x);
int cmd_dismiss(struct ctl *x);
int cmd_note(struct ctl *x);
int cmd_erase(struct ctl *x);
int cmd_show(struct ctl *x);
int cmd_list(struct ctl *x);
int cmd_status(struct ctl *x);
int cmd_backup(struct ctl *x);
int cmd_watch(struct ctl *x);
int cmd_report(struct ctl *x);
int cmd_ledger(struct ctl *x);
int cmd_whoami(struct ctl *x);
int cmd_keygen(struct ctl *x);

#endif
