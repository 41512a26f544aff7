/* complaintctl.c: the operators' command line. It parses the command and its options, builds one
 * complaint.v1.Request, sends it through the client library and prints the reply as text or
 * JSON. Exit status: 0 success, 1 the daemon refused (or answered nonsense, or a file or the
 * output could not be written), 2 usage error (also a bad key or settings file), 3 no answer
 * from the daemon, or a handshake that failed: the daemon refused this client's key, or its
 * key is not the server key given.
 *
 * Access control (settings.h): the daemon's endpoint, this client's key file and the daemon's
 * public key come each from the first of its option (--endpoint, --key, --server-key), the
 * environment ($COMPLAINT_ENDPOINT, $COMPLAINT_KEY, $COMPLAINT_SERVER_KEY), the per-user file
 * $XDG_CONFIG_HOME/complaintctl/config (default ~/.config/complaintctl/config) and the system
 * file /etc/complaintd/complaintctl.conf. Without a key the connection is plain, as a daemon
 * without access control expects. `keygen` makes a key file; `whoami` shows what the daemon
 * takes this client for. */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "complaint_client.h"
#include "json.h"
#include "render.h"
#include "report.h"
#include "settings.h"
#include "watch.h"

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
        OPT_MAX_
};

static const struct {
        const char *name;
        bool arg;
} options[OPT_MAX_] = {
    [OPT_ENDPOINT] = {"endpoint", true},
    [OPT_JSON] = {"json", false},
    [OPT_ACTOR] = {"actor", true},
    [OPT_TIMEOUT] = {"timeout", true},
    [OPT_RETRIES] = {"retries", true},
    [OPT_REQUEST_ID] = {"request-id", true},
    [OPT_HELP] = {"help", false},
    [OPT_VERSION] = {"version", false},
    [OPT_CHANNEL] = {"channel", true},
    [OPT_CATEGORY] = {"category", true},
    [OPT_SUBJECT] = {"subject", true},
    [OPT_DESCRIPTION] = {"description", true},
    [OPT_NAME] = {"name", true},
    [OPT_PHONE] = {"phone", true},
    [OPT_EMAIL] = {"email", true},
    [OPT_ADDRESS] = {"address", true},
    [OPT_NATURE] = {"nature", true},
    [OPT_PRIORITY] = {"priority", true},
    [OPT_REF] = {"ref", true},
    [OPT_NOTE] = {"note", true},
    [OPT_DEPARTMENT] = {"department", true},
    [OPT_CAUSE] = {"cause", true},
    [OPT_RESPONSIBILITY] = {"responsibility", true},
    [OPT_REPLY] = {"reply", true},
    [OPT_COMPENSATION] = {"compensation", true},
    [OPT_SATISFACTION] = {"satisfaction", true},
    [OPT_CALL_FAILED] = {"call-failed", false},
    [OPT_REASON] = {"reason", true},
    [OPT_STATUS] = {"status", true},
    [OPT_LIMIT] = {"limit", true},
    [OPT_BEFORE] = {"before", true},
    [OPT_KIND] = {"kind", true},
    [OPT_LEVEL] = {"level", true},
    [OPT_COUNT] = {"count", true},
    [OPT_FROM] = {"from", true},
    [OPT_STATE_FILE] = {"state-file", true},
    [OPT_OVERDUE] = {"overdue", false},
    [OPT_MONTH] = {"month", true},
    [OPT_TO] = {"to", true},
    [OPT_CSV] = {"csv", false},
    [OPT_KEY] = {"key", true},
    [OPT_SERVER_KEY] = {"server-key", true},
    [OPT_OUT] = {"out", true},
    [OPT_COMPLAINT] = {"complaint", true},
    [OPT_TEXT] = {"text", false},
};

#define O(x) (UINT64_C(1) << OPT_##x)
#define GLOBAL_OPTS                                                                             \
        (O(ENDPOINT) | O(JSON) | O(ACTOR) | O(TIMEOUT) | O(RETRIES) | O(REQUEST_ID) | O(HELP) | \
         O(VERSION) | O(KEY) | O(SERVER_KEY))

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
        char *request_id; /* NULL: the library chooses one */
        char request_id_buf[COMPLAINT_REQUEST_ID_SIZE];
};

static char s_empty[1] = "";

/* ------------------------------------------------------------------- messages */

__attribute__((format(printf, 2, 3))) static int
s_usage_error(const struct ctl *x, const char *fmt, ...)
{
        va_list ap;

        fputs("complaintctl: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        if (x->cmd)
                fprintf(stderr, "\nTry 'complaintctl %s --help'.\n", x->cmd->name);
        else
                fputs("\nTry 'complaintctl --help'.\n", stderr);
        return EXIT_USAGE;
}

__attribute__((format(printf, 1, 2))) static int
s_fail(const char *fmt, ...)
{
        va_list ap;

        fputs("complaintctl: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return EXIT_REFUSED;
}

/* The words of an enum, "a, b or c", from its pb.h name function (values are 1, 2, ...). */
static const char *
s_words(const char *(*name)(int), char *buf, size_t size)
{
        size_t o = 0;
        int n = 0;

        while (strcmp(name(n + 1), "?") != 0)
                n++;
        buf[0] = '\0';
        for (int v = 1; v <= n && o < size; v++)
                o += (size_t)snprintf(buf + o, size - o, "%s%s",
                                      v == 1   ? ""
                                      : v == n ? " or "
                                               : ", ",
                                      name(v));
        return buf;
}

/* ------------------------------------------------------------------- values */

static bool
s_parse_u64(const char *s, uint64_t *ret)
{
        uint64_t v = 0;

        if (s == NULL || *s == '\0')
                return false;
        for (; *s; s++) {
                if (*s < '0' || *s > '9' || v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
                        return false;
                v = v * 10 + (uint64_t)(*s - '0');
        }
        *ret = v;
        return true;
}

/* Currency units with up to two decimals ("12", "12.5", "12.50") to cents. */
static bool
s_parse_cents(const char *s, int64_t *ret)
{
        const char *dot = strchr(s, '.');
        char units[24];
        uint64_t u, frac = 0;
        size_t ulen = dot ? (size_t)(dot - s) : strlen(s);

        if (ulen == 0 || ulen >= sizeof(units))
                return false;
        memcpy(units, s, ulen);
        units[ulen] = '\0';
        if (!s_parse_u64(units, &u) || u > (uint64_t)(INT64_MAX - 99) / 100)
                return false;
        if (dot) {
                size_t flen = strlen(dot + 1);

                if (flen < 1 || flen > 2 || !s_parse_u64(dot + 1, &frac))
                        return false;
                if (flen == 1)
                        frac *= 10;
        }
        *ret = (int64_t)(u * 100 + frac);
        return true;
}

/* The value of an option, or "" when it was not given: what protobuf-c holds for an unset
 * string. */
static char *
s_opt(const struct ctl *x, enum opt o)
{
        return x->val[o] ? x->val[o] : s_empty;
}

static int
s_need(const struct ctl *x, enum opt o)
{
        if (x->val[o] == NULL || x->val[o][0] == '\0')
                return s_usage_error(x, "%s needs --%s", x->cmd->name, options[o].name);
        return 0;
}

static int
s_id(const struct ctl *x, uint64_t *ret)
{
        uint64_t id;

        if (!s_parse_u64(x->arg[0], &id) || id == 0)
                return s_usage_error(x, "'%s' is not a complaint id (a positive decimal number)",
                                     x->arg[0]);
        *ret = id;
        return 0;
}

static int
s_enum(const struct ctl *x, enum opt o, int (*parse)(const char *), const char *(*name)(int),
       int *ret)
{
        char words[256];
        int v;

        *ret = 0; /* also on error: the compiler cannot tell that the error is never 0 */
        if (x->val[o] == NULL)
                return 0;
        v = parse(x->val[o]);
        if (v < 0)
                return s_usage_error(x, "--%s: unknown word '%s' (one of %s)", options[o].name,
                                     x->val[o], s_words(name, words, sizeof(words)));
        *ret = v;
        return 0;
}

static int
s_number(const struct ctl *x, enum opt o, uint64_t min, uint64_t max, uint64_t *ret)
{
        uint64_t v;

        *ret = 0; /* also on error, as above */
        if (x->val[o] == NULL)
                return 0;
        if (!s_parse_u64(x->val[o], &v) || v < min || v > max)
                return s_usage_error(x, "--%s: '%s' is not a number from %" PRIu64 " to %" PRIu64,
                                     options[o].name, x->val[o], min, max);
        *ret = v;
        return 0;
}

/* ------------------------------------------------------------------- calls */

static void
s_print_error_json(const pb_reply_t *reply)
{
        json_t j;

        json_init(&j, stdout);
        json_object_begin(&j);
        json_kv_string(&j, "error", pb_error_name(reply->error));
        json_kv_string(&j, "message", reply->message);
        json_kv_string(&j, "field", reply->field);
        json_kv_string(&j, "request_id", reply->request_id);
        json_kv_bool(&j, "replayed", reply->replayed);
        json_object_end(&j);
        json_finish(&j);
}

/* Sends req and waits for a successful reply. Returns 0 with *ret_reply set (the caller's), or
 * the exit status after saying what went wrong. */
static int
s_call(struct ctl *x, pb_request_t *req, pb_reply_t **ret_reply)
{
        complaint_client_t *client = NULL;
        pb_reply_t *reply = NULL;
        int r;

        char why[512];

        r = complaint_client_new(x->endpoint, &client);
        if (r == -EINVAL || r == -EPROTONOSUPPORT)
                return s_usage_error(x, "invalid endpoint '%s': %s", x->endpoint, strerror(-r));
        if (r < 0)
                return s_fail("cannot connect to %s: %s", x->endpoint, strerror(-r));
        r = settings_apply_client(&x->settings, client);
        if (r < 0) {
                complaint_client_free(&client);
                return s_fail("cannot use the keys: %s", strerror(-r));
        }
        req->actor = x->actor;
        if (x->request_id)
                req->request_id = x->request_id;
        r = complaint_client_call(client, req, x->timeout_ms, x->retries, &reply);
        complaint_client_free(&client);
        if (settings_handshake_message(&x->settings, r, why, sizeof(why))) {
                fprintf(stderr, "complaintctl: %s\n", why);
                return EXIT_NO_ANSWER;
        }
        if (r == -ETIMEDOUT) {
                fprintf(stderr,
                        "complaintctl: no answer from complaintd at %s after %d %s (is it "
                        "running?)\n",
                        x->endpoint, x->retries + 1, x->retries ? "tries" : "try");
                if (x->cmd->change)
                        fprintf(stderr,
                                "complaintctl: the daemon may still apply it; to repeat it "
                                "safely, add --request-id %s\n",
                                x->request_id);
                return EXIT_NO_ANSWER;
        }
        if (r == -EPROTO)
                return s_fail("the answer from %s is not a complaintd reply", x->endpoint);
        if (r < 0)
                return s_fail("talking to %s: %s", x->endpoint, strerror(-r));
        if (reply->error != E_OK) {
                if (x->json)
                        s_print_error_json(reply);
                render_error_text(stderr, reply);
                complaint__v1__reply__free_unpacked(reply, NULL);
                return EXIT_REFUSED;
        }
        *ret_reply = reply;
        return 0;
}

static int
s_flush(void)
{
        if (fflush(stdout) != 0 || ferror(stdout))
                return s_fail("writing the output: %s", strerror(errno));
        return 0;
}

/* Sends a change and prints the complaint it left: the record in JSON, or one line of text
 * made of the verb and what follows it. */
static int
s_change(struct ctl *x, pb_request_t *req, const char *verb)
{
        pb_reply_t *reply = NULL;
        const pb_complaint_t *c;
        int r;

        r = s_call(x, req, &reply);
        if (r != 0)
                return r;
        c = reply->complaint;
        if (c == NULL) {
                complaint__v1__reply__free_unpacked(reply, NULL);
                return s_fail("the reply from %s carries no complaint", x->endpoint);
        }
        if (x->json) {
                json_t j;

                json_init(&j, stdout);
                json_object_begin(&j);
                render_complaint_members_json(&j, c);
                json_kv_bool(&j, "replayed", reply->replayed);
                json_object_end(&j);
                json_finish(&j);
        } else {
                printf("%s complaint %" PRIu64, verb, c->id);
                if (req->body_case == COMPLAINT__V1__REQUEST__BODY_CREATE)
                        printf(" (%s, owner %s)", pb_status_name(c->status), c->owner);
                else if (req->body_case == COMPLAINT__V1__REQUEST__BODY_ASSIGN ||
                         req->body_case == COMPLAINT__V1__REQUEST__BODY_REOPEN)
                        printf(" to %s (%s)", c->department, pb_status_name(c->status));
                else if (req->body_case == COMPLAINT__V1__REQUEST__BODY_ESCALATE)
                        printf(" to level %" PRIu32 " (%s, %s)", c->level,
                               pb_status_name(c->status), c->department);
                else if (c->department[0])
                        printf(" (%s, %s)", pb_status_name(c->status), c->department);
                else
                        printf(" (%s)", pb_status_name(c->status));
                if (reply->replayed)
                        printf(" [replayed]");
                putchar('\n');
        }
        complaint__v1__reply__free_unpacked(reply, NULL);
        return s_flush();
}

/* ------------------------------------------------------------------- commands */

static int
s_create(struct ctl *x)
{
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        Complaint__V1__CreateRequest q = COMPLAINT__V1__CREATE_REQUEST__INIT;
        pb_complainant_t who = COMPLAINT__V1__COMPLAINANT__INIT;
        int channel, nature, priority, r;

        if ((r = s_enum(x, OPT_CHANNEL, pb_channel_parse, pb_channel_name, &channel)) ||
            (r = s_enum(x, OPT_NATURE, pb_nature_parse, pb_nature_name, &nature)) ||
            (r = s_enum(x, OPT_PRIORITY, pb_priority_parse, pb_priority_name, &priority)) ||
            (r = s_need(x, OPT_CHANNEL)) || (r = s_need(x, OPT_CATEGORY)) ||
            (r = s_need(x, OPT_SUBJECT)) || (r = s_need(x, OPT_DESCRIPTION)))
                return r;
        q.channel = channel;
        q.nature = nature;
        q.priority = priority;
        q.category = s_opt(x, OPT_CATEGORY);
        q.subject = s_opt(x, OPT_SUBJECT);
        q.description = s_opt(x, OPT_DESCRIPTION);
        q.external_ref = s_opt(x, OPT_REF);
        q.note = s_opt(x, OPT_NOTE);
        if (x->val[OPT_NAME] || x->val[OPT_PHONE] || x->val[OPT_EMAIL] || x->val[OPT_ADDRESS]) {
                who.name = s_opt(x, OPT_NAME);
                who.phone = s_opt(x, OPT_PHONE);
                who.email = s_opt(x, OPT_EMAIL);
                who.address = s_opt(x, OPT_ADDRESS);
                q.complainant = &who;
        }
        req.body_case = COMPLAINT__V1__REQUEST__BODY_CREATE;
        req.create = &q;
        return s_change(x, &req, "created");
}

static int
s_assign(struct ctl *x)
{
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        Complaint__V1__AssignRequest q = COMPLAINT__V1__ASSIGN_REQUEST__INIT;
        int r;

        if ((r = s_id(x, &q.id)))
                return r;
        q.department = s_opt(x, OPT_DEPARTMENT);
        q.note = s_opt(x, OPT_NOTE);
        req.body_case = COMPLAINT__V1__REQUEST__BODY_ASSIGN;
        req.assign = &q;
        return s_change(x, &req, "assigned");
}

/* accept, pend, resume, escalate: an id and a note. */
static int
s_simple(struct ctl *x)
{
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        Complaint__V1__AcceptRequest accept = COMPLAINT__V1__ACCEPT_REQUEST__INIT;
        Complaint__V1__PendRequest pend = COMPLAINT__V1__PEND_REQUEST__INIT;
        Complaint__V1__ResumeRequest resume = COMPLAINT__V1__RESUME_REQUEST__INIT;
        Complaint__V1__EscalateRequest escalate = COMPLAINT__V1__ESCALATE_REQUEST__INIT;
        const char *name = x->cmd->name;
        uint64_t id = 0;
        int r;

        if ((r = s_id(x, &id)))
                return r;
        if (strcmp(name, "accept") == 0) {
                accept.id = id;
                accept.note = s_opt(x, OPT_NOTE);
                req.body_case = COMPLAINT__V1__REQUEST__BODY_ACCEPT;
                req.accept = &accept;
                return s_change(x, &req, "accepted");
        }
        if (strcmp(name, "pend") == 0) {
                if ((r = s_need(x, OPT_NOTE)))
                        return r;
                pend.id = id;
                pend.note = s_opt(x, OPT_NOTE);
                req.body_case = COMPLAINT__V1__REQUEST__BODY_PEND;
                req.pend = &pend;
                return s_change(x, &req, "paused");
        }
        if (strcmp(name, "resume") == 0) {
                resume.id = id;
                resume.note = s_opt(x, OPT_NOTE);
                req.body_case = COMPLAINT__V1__REQUEST__BODY_RESUME;
                req.resume = &resume;
                return s_change(x, &req, "resumed");
        }
        assert(strcmp(name, "escalate") == 0);
        escalate.id = id;
        escalate.note = s_opt(x, OPT_NOTE);
        req.body_case = COMPLAINT__V1__REQUEST__BODY_ESCALATE;
        req.escalate = &escalate;
        return s_change(x, &req, "escalated");
}

static int
s_resolve(struct ctl *x)
{
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        Complaint__V1__ResolveRequest q = COMPLAINT__V1__RESOLVE_REQUEST__INIT;
        int responsibility, r;

        if ((r = s_id(x, &q.id)) || (r = s_need(x, OPT_CAUSE)) ||
            (r = s_need(x, OPT_RESPONSIBILITY)) || (r = s_need(x, OPT_REPLY)) ||
            (r = s_enum(x, OPT_RESPONSIBILITY, pb_responsibility_parse, pb_responsibility_name,
                        &responsibility)))
                return r;
        if (x->val[OPT_COMPENSATION] &&
            !s_parse_cents(x->val[OPT_COMPENSATION], &q.compensation_cents))
                return s_usage_error(x,
                                     "--compensation: '%s' is not an amount (units with up to 2 "
                                     "decimals, e.g. 12.50)",
                                     x->val[OPT_COMPENSATION]);
        q.cause = s_opt(x, OPT_CAUSE);
        q.responsibility = responsibility;
        q.reply = s_opt(x, OPT_REPLY);
        q.note = s_opt(x, OPT_NOTE);
        req.body_case = COMPLAINT__V1__REQUEST__BODY_RESOLVE;
        req.resolve = &q;
        return s_change(x, &req, "resolved");
}

static int
s_close(struct ctl *x)
{
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        Complaint__V1__CloseRequest q = COMPLAINT__V1__CLOSE_REQUEST__INIT;
        uint64_t satisfaction;
        int r;

        if ((r = s_id(x, &q.id)))
                return r;
        if ((x->val[OPT_SATISFACTION] != NULL) == (x->val[OPT_CALL_FAILED] != NULL))
                return s_usage_error(x, "close needs either --satisfaction 1..5 or --call-failed");
        if ((r = s_number(x, OPT_SATISFACTION, 1, 5, &satisfaction)))
                return r;
        q.satisfaction = (uint32_t)satisfaction;
        q.call_failed = x->val[OPT_CALL_FAILED] != NULL;
        q.note = s_opt(x, OPT_NOTE);
        req.body_case = COMPLAINT__V1__REQUEST__BODY_CLOSE;
        req.close = &q;
        return s_change(x, &req, "closed");
}

static int
s_reopen(struct ctl *x)
{
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        Complaint__V1__ReopenRequest q = COMPLAINT__V1__REOPEN_REQUEST__INIT;
        int r;

        if ((r = s_id(x, &q.id)) || (r = s_need(x, OPT_REASON)))
                return r;
        q.reason = s_opt(x, OPT_REASON);
        q.department = s_opt(x, OPT_DEPARTMENT);
        req.body_case = COMPLAINT__V1__REQUEST__BODY_REOPEN;
        req.reopen = &q;
        return s_change(x, &req, "reopened");
}

static int
s_dismiss(struct ctl *x)
{
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        Complaint__V1__DismissRequest q = COMPLAINT__V1__DISMISS_REQUEST__INIT;
        int reason, r;

        if ((r = s_id(x, &q.id)) || (r = s_need(x, OPT_REASON)) ||
            (r = s_enum(x, OPT_REASON, pb_dismiss_reason_parse, pb_dismiss_reason_name, &reason)))
                return r;
        q.reason = reason;
        q.note = s_opt(x, OPT_NOTE);
        req.body_case = COMPLAINT__V1__REQUEST__BODY_DISMISS;
        req.dismiss = &q;
        return s_change(x, &req, "dismissed");
}

static int
s_note(struct ctl *x)
{
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        Complaint__V1__NoteRequest q = COMPLAINT__V1__NOTE_REQUEST__INIT;
        int r;

        if ((r = s_id(x, &q.id)))
                return r;
        if (x->nargs == 2 && x->val[OPT_NOTE])
                return s_usage_error(x, "give the note as TEXT or as --note, not both");
        q.note = x->nargs == 2 ? x->arg[1] : s_opt(x, OPT_NOTE);
        if (q.note[0] == '\0')
                return s_usage_error(x, "note needs the text of the note");
        req.body_case = COMPLAINT__V1__REQUEST__BODY_NOTE;
        req.note = &q;
        return s_change(x, &req, "noted");
}

/* Erasure (PROTOCOL.md, "Personal data"): the daemon erases at most a batch per request and
 * says when more remain; each further request is a new change, under a new request id. The
 * bound on rounds only guards against a daemon that always says "more". */
#define ERASE_ROUNDS_MAX 10000

static int
s_erase(struct ctl *x)
{
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        Complaint__V1__EraseRequest q = COMPLAINT__V1__ERASE_REQUEST__INIT;
        uint64_t *ids = NULL, id = 0, total = 0;
        size_t n_ids = 0;
        bool replayed = false;
        int given, r;

        given = (x->val[OPT_PHONE] != NULL) + (x->val[OPT_EMAIL] != NULL) +
                (x->val[OPT_COMPLAINT] != NULL);
        if (given != 1)
                return s_usage_error(x, "erase needs exactly one of --phone, --email and "
                                        "--complaint");
        if ((r = s_need(x, OPT_REASON)))
                return r;
        if (x->val[OPT_PHONE] && (r = s_need(x, OPT_PHONE)))
                return r;
        if (x->val[OPT_EMAIL] && (r = s_need(x, OPT_EMAIL)))
                return r;
        if (x->val[OPT_COMPLAINT] && (!s_parse_u64(x->val[OPT_COMPLAINT], &id) || id == 0))
                return s_usage_error(x,
                                     "--complaint: '%s' is not a complaint id (a positive "
                                     "decimal number)",
                                     x->val[OPT_COMPLAINT]);
        q.phone = s_opt(x, OPT_PHONE);
        q.email = s_opt(x, OPT_EMAIL);
        q.id = id;
        q.text = x->val[OPT_TEXT] != NULL;
        q.reason = s_opt(x, OPT_REASON);
        req.body_case = COMPLAINT__V1__REQUEST__BODY_ERASE;
        req.erase = &q;
        for (int round = 0; round < ERASE_ROUNDS_MAX; round++) {
                pb_reply_t *reply = NULL;
                const Complaint__V1__EraseReply *e;
                uint64_t *grown;
                bool more;

                if (round > 0) {
                        r = complaint_request_id_generate(x->request_id_buf);
                        if (r < 0) {
                                free(ids);
                                return s_fail("cannot make a request id: %s", strerror(-r));
                        }
                        x->request_id = x->request_id_buf;
                }
                if ((r = s_call(x, &req, &reply))) {
                        free(ids);
                        return r;
                }
                e = reply->erase;
                if (e == NULL) {
                        complaint__v1__reply__free_unpacked(reply, NULL);
                        free(ids);
                        return s_fail("the reply from %s carries no erasure", x->endpoint);
                }
                grown = realloc(ids, (n_ids + e->n_ids + 1) * sizeof(*ids));
                if (grown == NULL) {
                        complaint__v1__reply__free_unpacked(reply, NULL);
                        free(ids);
                        return s_fail("out of memory");
                }
                ids = grown;
                memcpy(ids + n_ids, e->ids, e->n_ids * sizeof(*ids));
                n_ids += e->n_ids;
                total += e->erased;
                replayed = replayed || reply->replayed;
                more = e->more;
                complaint__v1__reply__free_unpacked(reply, NULL);
                if (!more)
                        break;
        }
        if (x->json) {
                json_t j;

                json_init(&j, stdout);
                json_object_begin(&j);
                json_kv_uint(&j, "erased", total);
                json_key(&j, "ids");
                json_array_begin(&j);
                for (size_t i = 0; i < n_ids; i++)
                        json_uint(&j, ids[i]);
                json_array_end(&j);
                json_kv_bool(&j, "text", q.text);
                json_kv_bool(&j, "replayed", replayed);
                json_object_end(&j);
                json_finish(&j);
        } else {
                printf("erased %" PRIu64 " %s", total, total == 1 ? "complaint" : "complaints");
                for (size_t i = 0; i < n_ids; i++)
                        printf("%s%" PRIu64, i ? ", " : ": ", ids[i]);
                if (q.text)
                        printf(" (contact details and text)");
                if (replayed)
                        printf(" [replayed]");
                putchar('\n');
        }
        free(ids);
        return s_flush();
}

/* The rest of a complaint's history after the first page of a get: the daemon returns it in
 * pages (limits.reply), and show prints it whole. The pages are kept in *pages (the caller
 * frees them) because hist points into them. */
static int
s_history_rest(struct ctl *x, pb_request_t *req, pb_reply_t *first, pb_reply_t ***pages,
               size_t *n_pages, pb_history_t ***hist, size_t *n_hist)
{
        uint32_t after = first->history_next_after;
        size_t cap = first->n_history;

        *hist = malloc((cap ? cap : 1) * sizeof(**hist));
        if (*hist == NULL)
                return s_fail("out of memory");
        memcpy(*hist, first->history, first->n_history * sizeof(**hist));
        *n_hist = first->n_history;
        /* Each page moves on by at least one entry: bounded by the history's length. */
        while (after != 0) {
                pb_reply_t *page = NULL, **grown_pages;
                pb_history_t **grown;
                int r;

                req->get->history_after = after;
                if ((r = s_call(x, req, &page)))
                        return r;
                grown_pages = realloc(*pages, (*n_pages + 1) * sizeof(**pages));
                grown = realloc(*hist, (*n_hist + page->n_history + 1) * sizeof(**hist));
                if (grown_pages)
                        *pages = grown_pages;
                if (grown)
                        *hist = grown;
                if (grown_pages == NULL || grown == NULL) {
                        complaint__v1__reply__free_unpacked(page, NULL);
                        return s_fail("out of memory");
                }
                (*pages)[(*n_pages)++] = page;
                memcpy(*hist + *n_hist, page->history, page->n_history * sizeof(**hist));
                *n_hist += page->n_history;
                if (page->history_next_after <= after)
                        break;
                after = page->history_next_after;
        }
        return 0;
}

static int
s_show(struct ctl *x)
{
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        Complaint__V1__GetRequest q = COMPLAINT__V1__GET_REQUEST__INIT;
        pb_reply_t *reply = NULL, **pages = NULL;
        pb_history_t **hist = NULL;
        size_t n_pages = 0, n_hist = 0;
        int r;

        if ((r = s_id(x, &q.id)))
                return r;
        req.body_case = COMPLAINT__V1__REQUEST__BODY_GET;
        req.get = &q;
        if ((r = s_call(x, &req, &reply)))
                return r;
        if (reply->complaint == NULL) {
                complaint__v1__reply__free_unpacked(reply, NULL);
                return s_fail("the reply from %s carries no complaint", x->endpoint);
        }
        r = s_history_rest(x, &req, reply, &pages, &n_pages, &hist, &n_hist);
        if (r == 0 && x->json) {
                json_t j;

                json_init(&j, stdout);
                json_object_begin(&j);
                json_key(&j, "complaint");
                render_complaint_json(&j, reply->complaint);
                json_key(&j, "history");
                json_array_begin(&j);
                for (size_t i = 0; i < n_hist; i++)
                        render_history_json(&j, hist[i]);
                json_array_end(&j);
                json_key(&j, "complainant_complaints");
                json_array_begin(&j);
                for (size_t i = 0; i < reply->n_complainant_complaints; i++)
                        json_uint(&j, reply->complainant_complaints[i]);
                json_array_end(&j);
                json_object_end(&j);
                json_finish(&j);
        } else if (r == 0) {
                render_complaint_text(stdout, reply->complaint);
                if (reply->n_complainant_complaints > 0) {
                        printf("\nthe complainant's other complaints (newest first)\n ");
                        for (size_t i = 0; i < reply->n_complainant_complaints; i++)
                                printf(" %" PRIu64, reply->complainant_complaints[i]);
                        printf("\n");
                }
                printf("\nhistory\n");
                render_history_text(stdout, hist, n_hist);
        }
        for (size_t i = 0; i < n_pages; i++)
                complaint__v1__reply__free_unpacked(pages[i], NULL);
        free(pages);
        free(hist);
        complaint__v1__reply__free_unpacked(reply, NULL);
        return r ? r : s_flush();
}

static int
s_list(struct ctl *x)
{
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        Complaint__V1__ListRequest q = COMPLAINT__V1__LIST_REQUEST__INIT;
        pb_reply_t *reply = NULL;
        const pb_list_t *l;
        uint64_t limit, before, level;
        int status, r;

        if ((r = s_enum(x, OPT_STATUS, pb_status_parse, pb_status_name, &status)) ||
            (r = s_number(x, OPT_LIMIT, 1, UINT32_MAX, &limit)) ||
            (r = s_number(x, OPT_BEFORE, 0, UINT64_MAX, &before)) ||
            (r = s_number(x, OPT_LEVEL, 1, UINT32_MAX, &level)))
                return r;
        q.overdue = x->val[OPT_OVERDUE] != NULL;
        q.level = (uint32_t)level;
        q.department = s_opt(x, OPT_DEPARTMENT);
        q.status = status;
        q.category = s_opt(x, OPT_CATEGORY);
        q.limit = (uint32_t)limit;
        q.before_id = before;
        req.body_case = COMPLAINT__V1__REQUEST__BODY_LIST;
        req.list = &q;
        if ((r = s_call(x, &req, &reply)))
                return r;
        l = reply->list;
        if (x->json) {
                json_t j;

                json_init(&j, stdout);
                json_object_begin(&j);
                json_key(&j, "complaints");
                json_array_begin(&j);
                for (size_t i = 0; l && i < l->n_complaints; i++)
                        render_complaint_json(&j, l->complaints[i]);
                json_array_end(&j);
                json_kv_uint(&j, "next_before_id", l ? l->next_before_id : 0);
                json_object_end(&j);
                json_finish(&j);
        } else if (l == NULL || l->n_complaints == 0) {
                printf("no complaints\n");
        } else {
                render_list_text(stdout, l->complaints, l->n_complaints);
                if (l->next_before_id)
                        printf("(more: add --before %" PRIu64 ")\n", l->next_before_id);
        }
        complaint__v1__reply__free_unpacked(reply, NULL);
        return s_flush();
}

static int
s_status_call(struct ctl *x, pb_reply_t **ret_reply)
{
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        Complaint__V1__StatusRequest q = COMPLAINT__V1__STATUS_REQUEST__INIT;
        pb_reply_t *reply = NULL;
        int r;

        req.body_case = COMPLAINT__V1__REQUEST__BODY_STATUS;
        req.status = &q;
        if ((r = s_call(x, &req, &reply)))
                return r;
        if (reply->status == NULL) {
                complaint__v1__reply__free_unpacked(reply, NULL);
                return s_fail("the reply from %s carries no status", x->endpoint);
        }
        *ret_reply = reply;
        return 0;
}

static int
s_status(struct ctl *x)
{
        pb_reply_t *reply = NULL;
        int r;

        if ((r = s_status_call(x, &reply)))
                return r;
        if (x->json) {
                json_t j;

                json_init(&j, stdout);
                json_object_begin(&j);
                render_status_members_json(&j, reply->status);
                json_object_end(&j);
                json_finish(&j);
        } else {
                render_status_text(stdout, reply->status);
        }
        complaint__v1__reply__free_unpacked(reply, NULL);
        return s_flush();
}

static int
s_backup(struct ctl *x)
{
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        Complaint__V1__BackupRequest q = COMPLAINT__V1__BACKUP_REQUEST__INIT;
        pb_reply_t *reply = NULL;
        int r;

        q.name = x->arg[0];
        req.body_case = COMPLAINT__V1__REQUEST__BODY_BACKUP;
        req.backup = &q;
        /* The reply comes when the copy is done; a retry would find the name taken. */
        if (x->timeout_ms < 30 * 60 * 1000 && x->val[OPT_TIMEOUT] == NULL)
                x->timeout_ms = 30 * 60 * 1000;
        x->retries = 0;
        if ((r = s_call(x, &req, &reply)))
                return r;
        if (reply->backup == NULL) {
                complaint__v1__reply__free_unpacked(reply, NULL);
                return s_fail("the reply from %s carries no backup", x->endpoint);
        }
        if (x->json) {
                json_t j;

                json_init(&j, stdout);
                json_object_begin(&j);
                json_kv_string(&j, "path", reply->backup->path);
                json_kv_uint(&j, "bytes", reply->backup->bytes);
                json_kv_int(&j, "took_ms", reply->backup->took_ms);
                json_kv_uint(&j, "last_event_seq", reply->backup->last_event_seq);
                json_object_end(&j);
                json_finish(&j);
        } else {
                printf("backup written to %s: %.1f MiB in %.1f s, holding every change up to "
                       "event %" PRIu64 "\n",
                       reply->backup->path, (double)reply->backup->bytes / (1 << 20),
                       (double)reply->backup->took_ms / 1000.0, reply->backup->last_event_seq);
        }
        complaint__v1__reply__free_unpacked(reply, NULL);
        return s_flush();
}

static int
s_watch(struct ctl *x)
{
        struct watch_options o = {
            .json = x->json, .endpoint = x->endpoint, .settings = &x->settings};
        char why[512];
        uint64_t level, count, from;
        int r;

        if ((r = s_number(x, OPT_LEVEL, 1, UINT32_MAX, &level)) ||
            (r = s_number(x, OPT_COUNT, 1, UINT64_MAX, &count)) ||
            (r = s_number(x, OPT_FROM, 1, UINT64_MAX, &from)))
                return r;
        if (level && x->val[OPT_KIND] && strcmp(x->val[OPT_KIND], "escalated") != 0)
                return s_usage_error(x, "--level applies only to --kind escalated");
        if ((x->val[OPT_DEPARTMENT] &&
             (x->val[OPT_DEPARTMENT][0] == '\0' || strchr(x->val[OPT_DEPARTMENT], '/'))) ||
            (x->val[OPT_KIND] && x->val[OPT_KIND][0] == '\0'))
                return s_usage_error(x, "--department and --kind must be non-empty words");
        if (x->val[OPT_STATE_FILE] && x->val[OPT_STATE_FILE][0] == '\0')
                return s_usage_error(x, "--state-file must not be empty");
        o.department = x->val[OPT_DEPARTMENT];
        o.kind = x->val[OPT_KIND];
        o.level = (uint32_t)level;
        o.count = count;
        o.from = from;
        o.state_file = x->val[OPT_STATE_FILE];
        r = watch_run(&o);
        if (settings_handshake_message(&x->settings, r, why, sizeof(why))) {
                fprintf(stderr, "complaintctl: %s\n", why);
                return EXIT_NO_ANSWER;
        }
        if (r == -EINVAL || r == -EPROTONOSUPPORT)
                return s_usage_error(x, "invalid endpoint '%s': %s", x->endpoint, strerror(-r));
        if (r == -EPERM)
                return s_fail("the daemon does not let this principal read these events "
                              "(FORBIDDEN; complaintctl whoami shows what it may)");
        if (r == -EBADMSG)
                return s_fail("%s is not a state file of complaintctl watch", o.state_file);
        if (r < 0)
                return s_fail("watching %s: %s", x->endpoint, strerror(-r));
        return 0;
}

/* report and ledger: the options as report.c takes them; it checks the period and the rest. */
static int
s_report_options(struct ctl *x, struct report_options *o)
{
        uint64_t limit;
        int r;

        if ((r = s_number(x, OPT_LIMIT, 1, UINT32_MAX, &limit)))
                return r;
        *o = (struct report_options){
            .endpoint = x->endpoint,
            .settings = &x->settings,
            .actor = x->actor,
            .timeout_ms = x->timeout_ms,
            .retries = x->retries,
            .json = x->json,
            .csv = x->val[OPT_CSV] != NULL,
            .month = x->val[OPT_MONTH],
            .from = x->val[OPT_FROM],
            .to = x->val[OPT_TO],
            .department = x->val[OPT_DEPARTMENT],
            .category = x->val[OPT_CATEGORY],
            .limit = (uint32_t)limit,
        };
        return 0;
}

static int
s_report(struct ctl *x)
{
        struct report_options o;
        int r = s_report_options(x, &o);

        return r ? r : report_run(&o);
}

static int
s_ledger(struct ctl *x)
{
        struct report_options o;
        int r = s_report_options(x, &o);

        return r ? r : report_ledger_run(&o);
}

static int
s_whoami(struct ctl *x)
{
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        Complaint__V1__WhoAmIRequest q = COMPLAINT__V1__WHO_AM_IREQUEST__INIT;
        const Complaint__V1__WhoAmIReply *w;
        pb_reply_t *reply = NULL;
        int r;

        req.body_case = COMPLAINT__V1__REQUEST__BODY_WHOAMI;
        req.whoami = &q;
        if ((r = s_call(x, &req, &reply)))
                return r;
        w = reply->whoami;
        if (w == NULL) {
                complaint__v1__reply__free_unpacked(reply, NULL);
                return s_fail("the reply from %s carries no whoami", x->endpoint);
        }
        if (x->json) {
                json_t j;

                json_init(&j, stdout);
                json_object_begin(&j);
                json_kv_bool(&j, "access_control", w->access_control);
                json_kv_string(&j, "principal", w->principal);
                json_kv_string(&j, "role", w->role);
                json_key(&j, "departments");
                json_array_begin(&j);
                for (size_t i = 0; i < w->n_departments; i++)
                        json_string(&j, w->departments[i]);
                json_array_end(&j);
                json_key(&j, "levels");
                json_array_begin(&j);
                for (size_t i = 0; i < w->n_levels; i++)
                        json_uint(&j, w->levels[i]);
                json_array_end(&j);
                json_kv_bool(&j, "contact", w->contact);
                json_kv_bool(&j, "acts_for_people", w->acts_for_people);
                json_kv_string(&j, "actor", w->actor);
                json_object_end(&j);
                json_finish(&j);
        } else if (!w->access_control) {
                printf("access control is off: complaintd at %s takes plain connections (on ipc "
                       "and loopback only) and knows no principals\n"
                       "actor            %s\n",
                       x->endpoint, w->actor[0] ? w->actor : x->actor);
        } else {
                printf("principal        %s\n"
                       "role             %s\n"
                       "departments      ",
                       w->principal, w->role);
                for (size_t i = 0; i < w->n_departments; i++)
                        printf("%s%s", i ? ", " : "", w->departments[i]);
                printf("%s\nlevels           ", w->n_departments ? "" : "-");
                for (size_t i = 0; i < w->n_levels; i++)
                        printf("%s%" PRIu32, i ? ", " : "", w->levels[i]);
                printf("%s\n"
                       "contact          %s\n"
                       "acts for people  %s\n"
                       "actor            %s\n",
                       w->n_levels ? "" : "all", w->contact ? "yes" : "no",
                       w->acts_for_people ? "yes" : "no", w->actor);
        }
        complaint__v1__reply__free_unpacked(reply, NULL);
        return s_flush();
}

/* A principal's name as keygen takes it: the file's name and the stanza's. */
static bool
s_principal_name_ok(const char *name)
{
        size_t len = strlen(name);

        if (len == 0 || len > 64 || name[0] == '.' || name[0] == '-')
                return false;
        for (const char *p = name; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
                        return false;
        return true;
}

static int
s_keygen(struct ctl *x)
{
        const char *name = x->arg[0], *dir = x->val[OPT_OUT] ? x->val[OPT_OUT] : ".";
        char path[PATH_MAX], public[COMPLAINT_KEY_SIZE], stanza[256];
        int r;

        if (!s_principal_name_ok(name))
                return s_usage_error(x,
                                     "'%s' is not a principal name (up to 64 letters, digits, "
                                     "'-', '_' and '.', not starting with '-' or '.')",
                                     name);
        if (dir[0] == '\0')
                return s_usage_error(x, "--out must not be empty");
        if ((size_t)snprintf(path, sizeof(path), "%s/%s.key", dir, name) >= sizeof(path))
                return s_usage_error(x, "--out: the path is too long");
        r = complaint_keyfile_create(path, public);
        if (r == -EEXIST)
                return s_fail("%s exists already: keygen never overwrites a key (remove it "
                              "first, or choose another name or --out)",
                              path);
        if (r == -ENOTSUP)
                return s_fail("this libzmq was built without CURVE: it cannot make keys");
        if (r < 0)
                return s_fail("cannot write %s: %s", path, strerror(-r));
        snprintf(stanza, sizeof(stanza), "{ name = \"%s\"; key = \"%s\"; role = \"intake\"; }",
                 name, public);
        if (x->json) {
                json_t j;

                json_init(&j, stdout);
                json_object_begin(&j);
                json_kv_string(&j, "name", name);
                json_kv_string(&j, "file", path);
                json_kv_string(&j, "public", public);
                json_kv_string(&j, "principal", stanza);
                json_object_end(&j);
                json_finish(&j);
        } else {
                printf("wrote %s: the key pair of %s (keep it private: mode 0600)\n"
                       "public key: %s\n"
                       "For the daemon's configuration, a principal in its access group (set "
                       "its role,\nand its departments or levels where the role needs them):\n"
                       "  %s\n"
                       "The client uses it with --key %s and --server-key (the daemon's "
                       "public key).\n",
                       path, name, public, stanza, path);
        }
        return s_flush();
}

/* ------------------------------------------------------------------- table and help */

static const struct command commands[] = {
    {"create", s_create,
     O(CHANNEL) | O(CATEGORY) | O(SUBJECT) | O(DESCRIPTION) | O(NAME) | O(PHONE) | O(EMAIL) |
         O(ADDRESS) | O(NATURE) | O(PRIORITY) | O(REF) | O(NOTE),
     0, 0, true,
     "--channel C --category CAT --subject S --description D [--name N] [--phone P] "
     "[--email E] [--address A] [--nature N] [--priority P] [--ref R] [--note N]",
     "Record a new complaint; you become its owner.\n"
     "  channel: phone, web, app, email, letter, walk_in, social\n"
     "  nature: valid (default), help, inquiry, venting\n"
     "  priority: normal (default), major, urgent\n"
     "  --ref: a reference from the intake system (ticket number, call id)"},
    {"assign", s_assign, O(DEPARTMENT) | O(NOTE), 1, 1, true, "ID [--department D] [--note N]",
     "Dispatch a complaint to a department, or reassign it. Without --department, the\n"
     "category's default department."},
    {"accept", s_simple, O(NOTE), 1, 1, true, "ID [--note N]",
     "Acknowledge a complaint assigned to your department; stops the response clock."},
    {"pend", s_simple, O(NOTE), 1, 1, true, "ID --note N",
     "Wait on the complainant or a third party (the note says on what); pauses the\n"
     "resolution clock."},
    {"resume", s_simple, O(NOTE), 1, 1, true, "ID [--note N]",
     "Resume work on a pending complaint."},
    {"resolve", s_resolve, O(CAUSE) | O(RESPONSIBILITY) | O(REPLY) | O(COMPENSATION) | O(NOTE), 1,
     1, true, "ID --cause C --responsibility R --reply TEXT [--compensation 12.50] [--note N]",
     "Report the result: the cause, who was responsible (company, customer, shared,\n"
     "third_party), the reply given to the complainant, and any compensation in currency\n"
     "units with up to 2 decimals."},
    {"close", s_close, O(SATISFACTION) | O(CALL_FAILED) | O(NOTE), 1, 1, true,
     "ID (--satisfaction 1..5 | --call-failed) [--note N]",
     "Record the follow-up call: the complainant's satisfaction from 1 (very dissatisfied)\n"
     "to 5 (very satisfied), or that the call failed."},
    {"reopen", s_reopen, O(REASON) | O(DEPARTMENT), 1, 1, true, "ID --reason R [--department D]",
     "Reopen a resolved, closed or dismissed complaint and assign it again; without\n"
     "--department, to the department it was last assigned to."},
    {"dismiss", s_dismiss, O(REASON) | O(NOTE), 1, 1, true,
     "ID --reason duplicate|abusive|out_of_scope|other [--note N]",
     "Dismiss a complaint that is not a valid one."},
    {"note", s_note, O(NOTE), 1, 2, true, "ID TEXT  (or ID --note TEXT)",
     "Add a note to a complaint's history."},
    {"escalate", s_simple, O(NOTE), 1, 1, true, "ID [--note N]",
     "Escalate a complaint one level up its department's management chain by hand."},
    {"erase", s_erase, O(PHONE) | O(EMAIL) | O(COMPLAINT) | O(TEXT) | O(REASON), 0, 0, true,
     "(--phone P | --email E | --complaint ID) --reason R [--text]",
     "Erase a complainant's contact details (name, phone, e-mail, address) from every\n"
     "complaint that holds them: the complainant with that phone number or e-mail address,\n"
     "or the complainant of complaint ID. --text also replaces the description and the\n"
     "intake's notes with a marker. The reason is kept in the history. Admin only under\n"
     "access control; says how many complaints were touched."},
    {"show", s_show, 0, 1, 1, false, "ID", "Show a complaint and its full history."},
    {"list", s_list,
     O(DEPARTMENT) | O(STATUS) | O(CATEGORY) | O(OVERDUE) | O(LEVEL) | O(LIMIT) | O(BEFORE), 0, 0,
     false,
     "[--department D] [--status S] [--category C] [--overdue] [--level N] [--limit N] "
     "[--before ID]",
     "List complaints, newest first. --overdue: only open complaints escalated at least\n"
     "once; --level N: only those at management level N. For the next page pass the id it\n"
     "reports as --before."},
    {"status", s_status, 0, 0, 0, false, "",
     "Show the daemon's version, uptime, counts by state, overdue complaints, the next\n"
     "deadline, the event streams' heads, and the endpoints."},
    {"backup", s_backup, 0, 1, 1, false, "NAME",
     "Write a compacted, consistent copy of the store to daemon.backup_dir/NAME while the\n"
     "daemon goes on serving. Check it with `complaintd --check-store PATH`; restore by\n"
     "making it the state directory of a stopped daemon."},
    {"report", s_report, O(MONTH) | O(FROM) | O(TO) | O(DEPARTMENT) | O(CATEGORY) | O(CSV), 0, 0,
     false, "(--month YYYY-MM | --from WHEN --to WHEN) [--department D | --category C] [--csv]",
     "The analysis of the complaints created in a period: counts by category, nature,\n"
     "priority, channel and department; the share handled within the response and\n"
     "resolution limits; escalations by level; median and 90th-percentile business time to\n"
     "acceptance and to resolution; follow-up rate and satisfaction; reopened and dismissed;\n"
     "responsibility and compensation. Periods are in UTC; WHEN is a date (2026-11-01, --to\n"
     "includes that day), a time (2026-11-01T08:30Z) or @MILLISECONDS. --csv: one line per\n"
     "figure set, for spreadsheets."},
    {"ledger", s_ledger,
     O(MONTH) | O(FROM) | O(TO) | O(DEPARTMENT) | O(CATEGORY) | O(CSV) | O(LIMIT), 0, 0, false,
     "(--month YYYY-MM | --from WHEN --to WHEN) [--department D | --category C] [--csv]",
     "The reply ledger: every complaint created in the period with its intake owner,\n"
     "department, the reply given, the follow-up call and whether each limit was met;\n"
     "complaints without a reply or a follow-up first. --limit: rows per request."},
    {"watch", s_watch, O(DEPARTMENT) | O(KIND) | O(LEVEL) | O(FROM) | O(STATE_FILE) | O(COUNT), 0,
     0, false,
     "[--department D] [--kind K] [--level L] [--from OFFSET] [--state-file PATH] [--count N]",
     "Print events in order, none missed and none twice, until interrupted or after N\n"
     "events. Topics are <department>/<kind> (created, assigned, reassigned, accepted,\n"
     "pending, resumed, resolved, closed, reopened, dismissed, noted, flagged,\n"
     "warning/<level>) and\n"
     "<department>/escalated/<level>.\n"
     "  --from OFFSET      replay from this offset of the department's stream (of the\n"
     "                     global stream, whose offsets are event numbers, without\n"
     "                     --department), then go on live\n"
     "  --state-file PATH  keep the position there and start after it next time\n"
     "Without either, only new events are shown. --json: one object per line, with seq,\n"
     "stream, offset and topic."},
    {"whoami", s_whoami, 0, 0, 0, false, "",
     "Show what the daemon takes this client for: its principal, role, departments and\n"
     "levels, whether it sees complainants' contact details and may act for people, and the\n"
     "actor a change it sends now would be recorded under. Against a daemon without access\n"
     "control it says that access control is off."},
    {"keygen", s_keygen, O(OUT), 1, 1, false, "NAME [--out DIR]",
     "Make a key pair for the client NAME and write it to DIR/NAME.key (default: the\n"
     "current directory), mode 0600, never over an existing file. Prints the public key and\n"
     "a principal for the daemon's configuration; use the file with --key. Talks to no\n"
     "daemon."},
};

#define GLOBAL_HELP                                                                            \
        "Global options (before or after the command):\n"                                      \
        "  --endpoint EP     the daemon's API (default: $COMPLAINT_ENDPOINT, else the\n"       \
        "                    settings files, else " COMPLAINT_DEFAULT_ENDPOINT ")\n"           \
        "  --key FILE        this client's key file, for a daemon with access control\n"       \
        "                    (default: $COMPLAINT_KEY, else the settings files; none: no\n"    \
        "                    key, a plain connection)\n"                                       \
        "  --server-key KEY  the daemon's public key, pinned: 40 characters or a file\n"       \
        "                    holding them (default: $COMPLAINT_SERVER_KEY, else the\n"         \
        "                    settings files)\n"                                                \
        "  --actor NAME      who does it (default: $COMPLAINT_ACTOR, else $USER)\n"            \
        "  --json            print one JSON object (watch: one per line)\n"                    \
        "  --timeout MS      wait this long for each try (default 5000)\n"                     \
        "  --retries N       tries after the first that got no answer (default 2)\n"           \
        "  --request-id ID   the id of a change, to repeat it safely after no answer\n"        \
        "  --help            this help; COMMAND --help for one command\n"                      \
        "  --version         the version of complaintctl\n"                                    \
        "Settings files, read for what the options and the environment leave unset: first\n"   \
        "$XDG_CONFIG_HOME/complaintctl/config (default ~/.config/complaintctl/config), "       \
        "then\n" SETTINGS_SYSTEM_FILE ", each with lines `endpoint = EP`, `key = FILE`\n"      \
        "and `server_key = KEY|FILE` (relative paths from the file's directory). Without a\n"  \
        "key the connection is plain, as a daemon without access control expects.\n"           \
        "Exit status: 0 success; 1 refused by the daemon, or a file or the output could not\n" \
        "be written; 2 usage error, also a bad key or settings file; 3 no answer, or the\n"    \
        "daemon refused this client's key, or its key is not the server key given.\n"

static void
s_help(const struct command *cmd)
{
        if (cmd) {
                printf("Usage: complaintctl [OPTIONS] %s%s%s\n\n%s\n\n%s", cmd->name,
                       cmd->synopsis[0] ? " " : "", cmd->synopsis, cmd->help, GLOBAL_HELP);
                return;
        }
        printf("Usage: complaintctl [OPTIONS] COMMAND [ARGS]\n\n"
               "Drive complaintd, the complaint-escalation daemon.\n\nCommands:\n");
        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
                if (commands[i].synopsis[0])
                        printf("  %-9s %s\n", commands[i].name, commands[i].synopsis);
                else
                        printf("  %s\n", commands[i].name);
        printf("\n%s", GLOBAL_HELP);
}

/* ------------------------------------------------------------------- arguments */

static const struct command *
s_command(const char *name)
{
        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
                if (strcmp(commands[i].name, name) == 0)
                        return &commands[i];
        return NULL;
}

static int
s_option(const char *name, size_t len)
{
        for (int o = 0; o < OPT_MAX_; o++)
                if (options[o].name && strlen(options[o].name) == len &&
                    strncmp(options[o].name, name, len) == 0)
                        return o;
        return -1;
}

/* Reads argv into x. Options may come before or after the command; "--" ends them. Returns 0,
 * or the exit status after a usage error. */
static int
s_parse(struct ctl *x, int argc, char **argv)
{
        bool options_end = false;

        for (int i = 1; i < argc; i++) {
                char *a = argv[i];

                if (!options_end && strcmp(a, "--") == 0) {
                        options_end = true;
                } else if (!options_end && strcmp(a, "-h") == 0) {
                        x->val[OPT_HELP] = a;
                } else if (!options_end && a[0] == '-' && a[1] != '\0') {
                        const char *name = a + 2, *eq = strchr(name, '=');
                        size_t len = eq ? (size_t)(eq - name) : strlen(name);
                        int o = a[1] == '-' ? s_option(name, len) : -1;

                        if (o < 0)
                                return s_usage_error(x, "unknown option '%s'", a);
                        if (x->val[o] && o != OPT_JSON && o != OPT_HELP)
                                return s_usage_error(x, "--%s given twice", options[o].name);
                        if (!options[o].arg) {
                                if (eq)
                                        return s_usage_error(x, "--%s takes no value",
                                                             options[o].name);
                                x->val[o] = a;
                        } else if (eq) {
                                x->val[o] = a + 2 + len + 1;
                        } else if (i + 1 < argc) {
                                x->val[o] = argv[++i];
                        } else {
                                return s_usage_error(x, "--%s needs a value", options[o].name);
                        }
                } else if (x->cmd == NULL) {
                        if (strcmp(a, "help") == 0 && !options_end) {
                                x->val[OPT_HELP] = a;
                                continue;
                        }
                        x->cmd = s_command(a);
                        if (x->cmd == NULL)
                                return s_usage_error(x, "unknown command '%s'", a);
                } else {
                        if (x->nargs == ARGS_MAX)
                                return s_usage_error(x, "unexpected argument '%s'", a);
                        x->arg[x->nargs++] = a;
                }
        }
        return 0;
}

/* Checks the parsed arguments against the command and settles the global settings. */
static int
s_settle(struct ctl *x)
{
        uint64_t v;
        int r;

        for (int o = 0; o < OPT_MAX_; o++)
                if (x->val[o] && !(GLOBAL_OPTS & (UINT64_C(1) << o)) &&
                    !(x->cmd->opts & (UINT64_C(1) << o)))
                        return s_usage_error(x, "--%s does not apply to %s", options[o].name,
                                             x->cmd->name);
        if (x->nargs < x->cmd->min_args) {
                const char *synopsis = x->cmd->synopsis;

                if (strncmp(synopsis, "ID", 2) == 0)
                        return s_usage_error(x, "%s needs a complaint ID", x->cmd->name);
                return s_usage_error(x, "%s needs %.*s", x->cmd->name, (int)strcspn(synopsis, " "),
                                     synopsis);
        }
        if (x->nargs > x->cmd->max_args)
                return s_usage_error(x, "unexpected argument '%s'", x->arg[x->cmd->max_args]);

        /* keygen talks to no daemon: a settings file it cannot read is no reason to fail. */
        if (x->cmd->run != s_keygen) {
                char err[1024];

                r = settings_load(&x->settings, x->val[OPT_ENDPOINT], x->val[OPT_KEY],
                                  x->val[OPT_SERVER_KEY], err, sizeof(err));
                if (r == -ENOMEM)
                        return s_fail("out of memory");
                if (r < 0)
                        return s_usage_error(x, "%s", err);
                x->endpoint = x->settings.endpoint;
                if (x->settings.key_exposed)
                        fprintf(stderr,
                                "complaintctl: warning: the key file %s may be read by others "
                                "than its owner: chmod 600 it\n",
                                x->settings.key_file);
        }
        if (x->val[OPT_ACTOR]) {
                x->actor = x->val[OPT_ACTOR];
        } else if ((x->actor = getenv("COMPLAINT_ACTOR")) == NULL || x->actor[0] == '\0') {
                x->actor = getenv("USER");
                if (x->actor == NULL || x->actor[0] == '\0')
                        x->actor = "operator";
        }
        if (x->actor[0] == '\0')
                return s_usage_error(x, "--actor must not be empty");
        x->json = x->val[OPT_JSON] != NULL;
        x->timeout_ms = DEFAULT_TIMEOUT_MS;
        if (x->val[OPT_TIMEOUT]) {
                if (!s_parse_u64(x->val[OPT_TIMEOUT], &v) || v == 0 || v > INT_MAX)
                        return s_usage_error(x, "--timeout: '%s' is not a number of milliseconds",
                                             x->val[OPT_TIMEOUT]);
                x->timeout_ms = (int)v;
        }
        x->retries = DEFAULT_RETRIES;
        if (x->val[OPT_RETRIES]) {
                if (!s_parse_u64(x->val[OPT_RETRIES], &v) || v > 100)
                        return s_usage_error(x, "--retries: '%s' is not a number from 0 to 100",
                                             x->val[OPT_RETRIES]);
                x->retries = (int)v;
        }
        if (x->val[OPT_REQUEST_ID]) {
                if (x->val[OPT_REQUEST_ID][0] == '\0')
                        return s_usage_error(x, "--request-id must not be empty");
                x->request_id = x->val[OPT_REQUEST_ID];
        } else if (x->cmd->change) {
                /* Chosen here rather than in the library so that it can be shown when the
                 * daemon does not answer. */
                r = complaint_request_id_generate(x->request_id_buf);
                if (r < 0)
                        return s_fail("cannot make a request id: %s", strerror(-r));
                x->request_id = x->request_id_buf;
        }
        return 0;
}

int
main(int argc, char **argv)
{
        struct ctl x = {0};
        int r;

        r = s_parse(&x, argc, argv);
        if (r != 0)
                return r;
        if (x.val[OPT_HELP]) {
                s_help(x.cmd);
                return fflush(stdout) == 0 ? 0 : EXIT_REFUSED;
        }
        if (x.val[OPT_VERSION]) {
                printf("complaintctl %s\n", COMPLAINTD_VERSION);
                return 0;
        }
        if (x.cmd == NULL)
                return s_usage_error(&x, "no command given");
        r = s_settle(&x);
        if (r == 0)
                r = x.cmd->run(&x);
        settings_free(&x.settings);
        return r;
}
