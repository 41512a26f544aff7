/* cmd_ops.c: complaintctl's operations: status, backup, watch, report, ledger, whoami and
 * keygen. */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "i18n.h"
#include "json.h"
#include "render.h"
#include "report.h"
#include "settings.h"
#include "watch.h"
#include "width.h"

int
cmd_status(struct ctl *x)
{
        pb_reply_t *reply = NULL;
        int r;

        if ((r = ctl_status(x, &reply)))
                return r;
        if (x->json) {
                json_t j;

                json_init(&j, stdout);
                json_object_begin(&j);
                render_status_members_json(&j, reply->status);
                json_object_end(&j);
                json_finish(&j);
        } else {
                ctl_times(x, reply->status->zone);
                render_status_text(stdout, reply->status);
        }
        complaint__v1__reply__free_unpacked(reply, NULL);
        return ctl_flush();
}

int
cmd_backup(struct ctl *x)
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
        if ((r = ctl_call(x, &req, &reply)))
                return r;
        if (reply->backup == NULL) {
                complaint__v1__reply__free_unpacked(reply, NULL);
                return ctl_fail(_("the reply from %s carries no backup"), x->endpoint);
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
                printf(_("backup written to %s: %.1f MiB in %.1f s, holding every change up "
                         "to event %" PRIu64 "\n"),
                       reply->backup->path, (double)reply->backup->bytes / (1 << 20),
                       (double)reply->backup->took_ms / 1000.0, reply->backup->last_event_seq);
        }
        complaint__v1__reply__free_unpacked(reply, NULL);
        return ctl_flush();
}

int
cmd_watch(struct ctl *x)
{
        struct watch_options o = {
            .json = x->json, .endpoint = x->endpoint, .settings = &x->settings};
        char why[512];
        uint64_t level, count, from;
        int r;

        if ((r = ctl_number(x, OPT_LEVEL, 1, UINT32_MAX, &level)) ||
            (r = ctl_number(x, OPT_COUNT, 1, UINT64_MAX, &count)) ||
            (r = ctl_number(x, OPT_FROM, 1, UINT64_MAX, &from)))
                return r;
        if (level && x->val[OPT_KIND] && strcmp(x->val[OPT_KIND], "escalated") != 0)
                return ctl_usage_error(x, _("--level applies only to --kind escalated"));
        if ((x->val[OPT_DEPARTMENT] &&
             (x->val[OPT_DEPARTMENT][0] == '\0' || strchr(x->val[OPT_DEPARTMENT], '/'))) ||
            (x->val[OPT_KIND] && x->val[OPT_KIND][0] == '\0'))
                return ctl_usage_error(x, _("--department and --kind must be non-empty words"));
        if (x->val[OPT_STATE_FILE] && x->val[OPT_STATE_FILE][0] == '\0')
                return ctl_usage_error(x, _("--state-file must not be empty"));
        o.department = x->val[OPT_DEPARTMENT];
        o.kind = x->val[OPT_KIND];
        o.level = (uint32_t)level;
        o.count = count;
        o.from = from;
        o.state_file = x->val[OPT_STATE_FILE];
        ctl_times(x, NULL);
        r = watch_run(&o);
        if (settings_handshake_message(&x->settings, r, why, sizeof(why))) {
                fprintf(stderr, "complaintctl: %s\n", why);
                return EXIT_NO_ANSWER;
        }
        if (r == -EINVAL || r == -EPROTONOSUPPORT)
                return ctl_usage_error(x, _("invalid endpoint '%s': %s"), x->endpoint,
                                       strerror(-r));
        if (r == -EPERM)
                return ctl_fail(_("the daemon does not let this principal read these events "
                                  "(FORBIDDEN; complaintctl whoami shows what it may)"));
        if (r == -EBADMSG)
                return ctl_fail(_("%s is not a state file of complaintctl watch"), o.state_file);
        if (r < 0)
                return ctl_fail(_("watching %s: %s"), x->endpoint, strerror(-r));
        return 0;
}

static void
s_times(void *ctx)
{
        ctl_times(ctx, NULL);
}

/* report and ledger: the options as report.c takes them; it checks the period and the rest. */
static int
s_report_options(struct ctl *x, struct report_options *o)
{
        const struct tz *zone = NULL;
        uint64_t limit;
        int64_t from, to;
        char err[256];
        int r;

        if ((r = ctl_number(x, OPT_LIMIT, 1, UINT32_MAX, &limit)))
                return r;
        /* The period is the centre's: check its form first, then ask the daemon for its zone. */
        if (report_period(x->val[OPT_MONTH], x->val[OPT_FROM], x->val[OPT_TO], NULL, &from, &to,
                          err, sizeof(err)) < 0)
                return ctl_usage_error(x, "%s", err);
        if ((r = ctl_centre_zone(x, &zone)))
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
            .zone = zone,
            .times = s_times,
            .times_ctx = x,
        };
        return 0;
}

int
cmd_report(struct ctl *x)
{
        struct report_options o;
        int r = s_report_options(x, &o);

        return r ? r : report_run(&o);
}

int
cmd_ledger(struct ctl *x)
{
        struct report_options o;
        int r = s_report_options(x, &o);

        return r ? r : report_ledger_run(&o);
}

/* A label of whoami's text, padded to 17 display columns. */
static void
s_label(const char *label)
{
        width_pad(stdout, label, 16, false);
        putchar(' ');
}

int
cmd_whoami(struct ctl *x)
{
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        Complaint__V1__WhoAmIRequest q = COMPLAINT__V1__WHO_AM_IREQUEST__INIT;
        const Complaint__V1__WhoAmIReply *w;
        pb_reply_t *reply = NULL;
        int r;

        req.body_case = COMPLAINT__V1__REQUEST__BODY_WHOAMI;
        req.whoami = &q;
        if ((r = ctl_call(x, &req, &reply)))
                return r;
        w = reply->whoami;
        if (w == NULL) {
                complaint__v1__reply__free_unpacked(reply, NULL);
                return ctl_fail(_("the reply from %s carries no whoami"), x->endpoint);
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
                printf(_("access control is off: complaintd at %s takes plain connections (on "
                         "ipc and loopback only) and knows no principals\n"),
                       x->endpoint);
                s_label(_("actor"));
                printf("%s\n", w->actor[0] ? w->actor : x->actor);
        } else {
                s_label(_("principal"));
                printf("%s\n", w->principal);
                s_label(_("role"));
                printf("%s\n", w->role);
                s_label(_("departments"));
                for (size_t i = 0; i < w->n_departments; i++)
                        printf("%s%s", i ? ", " : "", w->departments[i]);
                printf("%s\n", w->n_departments ? "" : "-");
                s_label(_("levels"));
                for (size_t i = 0; i < w->n_levels; i++)
                        printf("%s%" PRIu32, i ? ", " : "", w->levels[i]);
                printf("%s\n", w->n_levels ? "" : _("all"));
                s_label(_("contact"));
                printf("%s\n", w->contact ? _("yes") : _("no"));
                s_label(_("acts for people"));
                printf("%s\n", w->acts_for_people ? _("yes") : _("no"));
                s_label(_("actor"));
                printf("%s\n", w->actor);
        }
        complaint__v1__reply__free_unpacked(reply, NULL);
        return ctl_flush();
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

int
cmd_keygen(struct ctl *x)
{
        const char *name = x->arg[0], *dir = x->val[OPT_OUT] ? x->val[OPT_OUT] : ".";
        char path[PATH_MAX], public[COMPLAINT_KEY_SIZE], stanza[256];
        int r;

        if (!s_principal_name_ok(name))
                return ctl_usage_error(x,
                                       _("'%s' is not a principal name (up to 64 letters, digits, "
                                         "'-', '_' and '.', not starting with '-' or '.')"),
                                       name);
        if (dir[0] == '\0')
                return ctl_usage_error(x, _("--out must not be empty"));
        if ((size_t)snprintf(path, sizeof(path), "%s/%s.key", dir, name) >= sizeof(path))
                return ctl_usage_error(x, _("--out: the path is too long"));
        r = complaint_keyfile_create(path, public);
        if (r == -EEXIST)
                return ctl_fail(_("%s exists already: keygen never overwrites a key (remove it "
                                  "first, or choose another name or --out)"),
                                path);
        if (r == -ENOTSUP)
                return ctl_fail(_("this libzmq was built without CURVE: it cannot make keys"));
        if (r < 0)
                return ctl_fail(_("cannot write %s: %s"), path, strerror(-r));
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
                printf(_("wrote %s: the key pair of %s (keep it private: mode 0600)\n"
                         "public key: %s\n"
                         "For the daemon's configuration, a principal in its access group (set "
                         "its role,\nand its departments or levels where the role needs them):\n"
                         "  %s\n"
                         "The client uses it with --key %s and --server-key (the daemon's "
                         "public key).\n"),
                       path, name, public, stanza, path);
        }
        return ctl_flush();
}
