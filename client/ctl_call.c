/* ctl_call.c: complaintctl's shared helpers: messages, option values, and the call to the
 * daemon with its failures told apart (ctl.h). */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>

#include "ctl.h"
#include "i18n.h"
#include "json.h"
#include "render.h"
#include "zone.h"

static char s_empty[1] = "";

/* ------------------------------------------------------------------- messages */

__attribute__((format(printf, 2, 3))) int
ctl_usage_error(const struct ctl *x, const char *fmt, ...)
{
        va_list ap;

        fputs("complaintctl: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        if (x->cmd)
                fprintf(stderr, _("\nTry 'complaintctl %s --help'.\n"), x->cmd->name);
        else
                fputs(_("\nTry 'complaintctl --help'.\n"), stderr);
        return EXIT_USAGE;
}

__attribute__((format(printf, 1, 2))) int
ctl_fail(const char *fmt, ...)
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
                                      : v == n ? _(" or ")
                                               : _(", "),
                                      name(v));
        return buf;
}

/* ------------------------------------------------------------------- values */

bool
ctl_parse_u64(const char *s, uint64_t *ret)
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
bool
ctl_parse_cents(const char *s, int64_t *ret)
{
        const char *dot = strchr(s, '.');
        char units[24];
        uint64_t u, frac = 0;
        size_t ulen = dot ? (size_t)(dot - s) : strlen(s);

        if (ulen == 0 || ulen >= sizeof(units))
                return false;
        memcpy(units, s, ulen);
        units[ulen] = '\0';
        if (!ctl_parse_u64(units, &u) || u > (uint64_t)(INT64_MAX - 99) / 100)
                return false;
        if (dot) {
                size_t flen = strlen(dot + 1);

                if (flen < 1 || flen > 2 || !ctl_parse_u64(dot + 1, &frac))
                        return false;
                if (flen == 1)
                        frac *= 10;
        }
        *ret = (int64_t)(u * 100 + frac);
        return true;
}

/* The value of an option, or "" when it was not given: what protobuf-c holds for an unset
 * string. */
char *
ctl_opt(const struct ctl *x, enum opt o)
{
        return x->val[o] ? x->val[o] : s_empty;
}

int
ctl_need(const struct ctl *x, enum opt o)
{
        if (x->val[o] == NULL || x->val[o][0] == '\0')
                return ctl_usage_error(x, _("%s needs --%s"), x->cmd->name, ctl_options[o].name);
        return 0;
}

int
ctl_id(const struct ctl *x, uint64_t *ret)
{
        uint64_t id;

        if (!ctl_parse_u64(x->arg[0], &id) || id == 0)
                return ctl_usage_error(
                    x, _("'%s' is not a complaint id (a positive decimal number)"), x->arg[0]);
        *ret = id;
        return 0;
}

int
ctl_enum(const struct ctl *x, enum opt o, int (*parse)(const char *), const char *(*name)(int),
         int *ret)
{
        char words[256];
        int v;

        *ret = 0; /* also on error: the compiler cannot tell that the error is never 0 */
        if (x->val[o] == NULL)
                return 0;
        v = parse(x->val[o]);
        if (v < 0)
                return ctl_usage_error(x, _("--%s: unknown word '%s' (one of %s)"),
                                       ctl_options[o].name, x->val[o],
                                       s_words(name, words, sizeof(words)));
        *ret = v;
        return 0;
}

int
ctl_number(const struct ctl *x, enum opt o, uint64_t min, uint64_t max, uint64_t *ret)
{
        uint64_t v;

        *ret = 0; /* also on error, as above */
        if (x->val[o] == NULL)
                return 0;
        if (!ctl_parse_u64(x->val[o], &v) || v < min || v > max)
                return ctl_usage_error(x,
                                       _("--%s: '%s' is not a number from %" PRIu64 " to %" PRIu64),
                                       ctl_options[o].name, x->val[o], min, max);
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
int
ctl_call(struct ctl *x, pb_request_t *req, pb_reply_t **ret_reply)
{
        complaint_client_t *client = NULL;
        pb_reply_t *reply = NULL;
        int r;

        char why[512];

        r = complaint_client_new(x->endpoint, &client);
        if (r == -EINVAL || r == -EPROTONOSUPPORT)
                return ctl_usage_error(x, _("invalid endpoint '%s': %s"), x->endpoint,
                                       strerror(-r));
        if (r < 0)
                return ctl_fail(_("cannot connect to %s: %s"), x->endpoint, strerror(-r));
        r = settings_apply_client(&x->settings, client);
        if (r < 0) {
                complaint_client_free(&client);
                return ctl_fail(_("cannot use the keys: %s"), strerror(-r));
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
                        P_("complaintctl: no answer from complaintd at %s after %d try (is it "
                           "running?)\n",
                           "complaintctl: no answer from complaintd at %s after %d tries (is it "
                           "running?)\n",
                           x->retries + 1),
                        x->endpoint, x->retries + 1);
                if (x->cmd->change)
                        fprintf(stderr,
                                _("complaintctl: the daemon may still apply it; to repeat it "
                                  "safely, add --request-id %s\n"),
                                x->request_id);
                return EXIT_NO_ANSWER;
        }
        if (r == -EPROTO)
                return ctl_fail(_("the answer from %s is not a complaintd reply"), x->endpoint);
        if (r < 0)
                return ctl_fail(_("talking to %s: %s"), x->endpoint, strerror(-r));
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

/* The daemon's status, asked quietly: NULL on any failure (the caller falls back). */
static pb_reply_t *
s_status_quiet(struct ctl *x)
{
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        Complaint__V1__StatusRequest q = COMPLAINT__V1__STATUS_REQUEST__INIT;
        complaint_client_t *client = NULL;
        pb_reply_t *reply = NULL;

        if (complaint_client_new(x->endpoint, &client) < 0)
                return NULL;
        req.body_case = COMPLAINT__V1__REQUEST__BODY_STATUS;
        req.status = &q;
        req.actor = x->actor;
        if (settings_apply_client(&x->settings, client) < 0 ||
            complaint_client_call(client, &req, x->timeout_ms, 0, &reply) < 0)
                reply = NULL;
        complaint_client_free(&client);
        if (reply && (reply->error != E_OK || reply->status == NULL)) {
                complaint__v1__reply__free_unpacked(reply, NULL);
                reply = NULL;
        }
        return reply;
}

void
ctl_times(struct ctl *x, const char *zone_name)
{
        pb_reply_t *reply = NULL;

        if (x->json || x->utc)
                return;
        if (x->zone == NULL) {
                if (zone_name == NULL) {
                        reply = s_status_quiet(x);
                        zone_name = reply ? reply->status->zone : "";
                }
                if (zone_load(zone_name, &x->zone) < 0 && zone_load("UTC", &x->zone) < 0)
                        x->zone = NULL;
        }
        render_set_zone(x->zone);
        if (reply)
                complaint__v1__reply__free_unpacked(reply, NULL);
}

int
ctl_status(struct ctl *x, pb_reply_t **ret_reply)
{
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        Complaint__V1__StatusRequest q = COMPLAINT__V1__STATUS_REQUEST__INIT;
        pb_reply_t *reply = NULL;
        int r;

        req.body_case = COMPLAINT__V1__REQUEST__BODY_STATUS;
        req.status = &q;
        if ((r = ctl_call(x, &req, &reply)))
                return r;
        if (reply->status == NULL) {
                complaint__v1__reply__free_unpacked(reply, NULL);
                return ctl_fail(_("the reply from %s carries no status"), x->endpoint);
        }
        *ret_reply = reply;
        return 0;
}

int
ctl_centre_zone(struct ctl *x, const struct tz **ret)
{
        pb_reply_t *reply = NULL;
        int r;

        if (x->zone == NULL) {
                if ((r = ctl_status(x, &reply)))
                        return r;
                r = zone_load(reply->status->zone, &x->zone);
                if (r < 0)
                        r = ctl_fail(_("the centre's time zone '%s' is not in this machine's "
                                       "time zone data (install tzdata): %s"),
                                     reply->status->zone, strerror(-r));
                complaint__v1__reply__free_unpacked(reply, NULL);
                if (r)
                        return r;
        }
        *ret = x->zone;
        return 0;
}

int
ctl_flush(void)
{
        if (fflush(stdout) != 0 || ferror(stdout))
                return ctl_fail(_("writing the output: %s"), strerror(errno));
        return 0;
}

/* Sends a change and prints the complaint it left: the record in JSON, or one line of text
 * made of the verb and what follows it. */
int
ctl_change(struct ctl *x, pb_request_t *req, const char *verb)
{
        pb_reply_t *reply = NULL;
        const pb_complaint_t *c;
        int r;

        r = ctl_call(x, req, &reply);
        if (r != 0)
                return r;
        c = reply->complaint;
        if (c == NULL) {
                complaint__v1__reply__free_unpacked(reply, NULL);
                return ctl_fail(_("the reply from %s carries no complaint"), x->endpoint);
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
                /* TRANSLATORS: the first %s is a past participle: "created", "assigned"... */
                printf(_("%s complaint %" PRIu64), verb, c->id);
                if (req->body_case == COMPLAINT__V1__REQUEST__BODY_CREATE)
                        printf(_(" (%s, owner %s)"), pb_status_name(c->status), c->owner);
                else if (req->body_case == COMPLAINT__V1__REQUEST__BODY_ASSIGN ||
                         req->body_case == COMPLAINT__V1__REQUEST__BODY_REOPEN)
                        printf(_(" to %s (%s)"), c->department, pb_status_name(c->status));
                else if (req->body_case == COMPLAINT__V1__REQUEST__BODY_ESCALATE)
                        printf(_(" to level %" PRIu32 " (%s, %s)"), c->level,
                               pb_status_name(c->status), c->department);
                else if (c->department[0])
                        printf(" (%s, %s)", pb_status_name(c->status), c->department);
                else
                        printf(" (%s)", pb_status_name(c->status));
                if (reply->replayed)
                        printf(_(" [replayed]"));
                putchar('\n');
        }
        complaint__v1__reply__free_unpacked(reply, NULL);
        return ctl_flush();
}
