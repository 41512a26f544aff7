/* notify_conf_feedback.c: the messages to complainants (acknowledgement, progress, reply) and
 * the SMS gateway of complaint-notify's configuration, with the placeholders templates may use. */
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

const char *const nconf_feedback_fields[] = {
    "ref",   "id",      "subject", "category", "department", "status",       "due",
    "reply", "contact", "name",    "created",  "priority",   "external_ref", NULL};

/* ----------------------------------------------------------------- feedback, sms */

static const char *const message_keys[] = {"subject", "text", "sms", NULL};
static const char *const message_names[] = {"acknowledgement", "progress", "reply"};

static void
s_get_template(struct loader *l, const config_setting_t *g, const char *key, char **field)
{
        char bad[64];

        if (nc_get_string(l, g, key, false, field) > 0 &&
            text_template_check(*field, nconf_feedback_fields, bad, sizeof(bad)) < 0)
                cfg_error(&l->log, config_setting_get_member(g, key), NULL,
                          "%s is not a placeholder: use {ref}, {id}, {subject}, {category}, "
                          "{department}, {status}, {due}, {reply}, {contact}, {name}, {created}, "
                          "{priority}, {external_ref}, and {{ or }} for a brace",
                          bad);
}

static void
s_load_message(struct loader *l, const config_setting_t *g, struct nc_message *msg)
{
        if (!cfg_group(&l->log, g, message_keys))
                return;
        s_get_template(l, g, "subject", &msg->subject);
        s_get_template(l, g, "text", &msg->text);
        s_get_template(l, g, "sms", &msg->sms);
        if (msg->subject && strchr(msg->subject, '\n'))
                cfg_error(&l->log, config_setting_get_member(g, "subject"), NULL,
                          "must be one line");
        if ((msg->subject == NULL) != (msg->text == NULL))
                cfg_error(&l->log, g, msg->subject ? "text" : "subject",
                          "missing: a message has a subject and a text");
}

static const char *const feedback_keys[] = {
    "via",         "calendar",        "progress_every", "reference", "contact", "no_due",
    "departments", "acknowledgement", "progress",       "reply",     NULL};

void
nc_load_feedback(struct loader *l, const config_setting_t *g)
{
        struct nc_feedback *fb = &l->cfg->feedback;
        const config_setting_t *m;
        char **via = NULL;
        size_t n_via = 0;

        if (!cfg_group(&l->log, g, feedback_keys))
                return;
        fb->enabled = true;
        if ((m = config_setting_get_member(g, "via")) == NULL) {
                cfg_error(&l->log, g, "via",
                          "missing: [\"email\"], [\"sms\"] or [\"email\", \"sms\"]");
        } else if (nc_get_strings(l, m, &via, &n_via) >= 0) {
                for (size_t i = 0; i < n_via; i++) {
                        if (strcmp(via[i], "email") == 0)
                                fb->via_email = true;
                        else if (strcmp(via[i], "sms") == 0)
                                fb->via_sms = true;
                        else
                                cfg_error(&l->log, config_setting_get_elem(m, (unsigned)i), NULL,
                                          "\"%s\" is not email or sms", via[i]);
                }
        }
        nc_free_strings(&via, &n_via);
        fb->calendar = nc_get_calendar(l, g, "calendar");
        if ((m = config_setting_get_member(g, "progress_every")) != NULL) {
                if (config_setting_type(m) != CONFIG_TYPE_INT || config_setting_get_int(m) < 0 ||
                    config_setting_get_int(m) > 365)
                        cfg_error(&l->log, m, NULL, "must be a number of business days, 0 to 365");
                else
                        fb->progress_every = (uint32_t)config_setting_get_int(m);
                if (fb->progress_every && fb->calendar == NULL)
                        cfg_error(&l->log, g, "calendar",
                                  "missing: business days are counted on a calendar");
        }
        nc_get_line(l, g, "reference", false, &fb->reference);
        if (fb->reference &&
            text_template_check(fb->reference, (const char *const[]){"id", NULL}, NULL, 0) < 0)
                cfg_error(&l->log, config_setting_get_member(g, "reference"), NULL,
                          "may use only {id}, such as \"C-{id}\"");
        nc_get_string(l, g, "contact", false, &fb->contact);
        nc_get_line(l, g, "no_due", false, &fb->no_due);
        if ((m = config_setting_get_member(g, "departments")) != NULL) {
                int n = config_setting_length(m);

                if (!config_setting_is_group(m)) {
                        cfg_error(&l->log, m, NULL,
                                  "must be a group { billing = \"Billing\"; ... }");
                } else if ((fb->names = calloc(2 * (size_t)n + 1, sizeof(char *))) != NULL) {
                        for (int i = 0; i < n; i++) {
                                const config_setting_t *e = config_setting_get_elem(m, (unsigned)i);
                                const char *v = config_setting_get_string(e);

                                if (v == NULL || !nc_clean(v, false)) {
                                        cfg_error(&l->log, e, NULL, "must be a name on one line");
                                        continue;
                                }
                                fb->names[fb->n_names++] = strdup(config_setting_name(e));
                                fb->names[fb->n_names++] = strdup(v);
                        }
                }
        }
        for (int k = 0; k < FEEDBACK_COUNT; k++)
                s_load_message(l, config_setting_get_member(g, message_names[k]), &fb->msg[k]);
        if (fb->via_sms && l->cfg->sms.url == NULL)
                cfg_error(&l->log, g, "via", "\"sms\" needs the gateway: sms = { url = ...; }");
}

static const char *const sms_keys[] = {"url",    "user",    "password", "token",
                                       "sender", "headers", NULL};

void
nc_load_sms(struct loader *l, const config_setting_t *g)
{
        struct nc_sms *sms = &l->cfg->sms;

        if (!cfg_group(&l->log, g, sms_keys))
                return;
        if (nc_get_line(l, g, "url", true, &sms->url) > 0 && !nc_valid_url(sms->url))
                cfg_error(&l->log, config_setting_get_member(g, "url"), NULL,
                          "\"%s\" is not an http:// or https:// URL", sms->url);
        nc_get_line(l, g, "user", false, &sms->user);
        nc_get_line(l, g, "password", false, &sms->password);
        nc_get_line(l, g, "token", false, &sms->token);
        nc_get_line(l, g, "sender", false, &sms->sender);
        if ((sms->user == NULL) != (sms->password == NULL))
                cfg_error(&l->log, g, sms->user ? "password" : "user",
                          "missing: give user and password");
        nc_load_headers(l, g, &sms->headers, &sms->n_headers);
}

const char *
nconf_department_name(const nconf_t *cfg, const char *id)
{
        for (size_t i = 0; i + 1 < cfg->feedback.n_names; i += 2)
                if (cfg->feedback.names[i] && strcmp(cfg->feedback.names[i], id) == 0)
                        return cfg->feedback.names[i + 1] ? cfg->feedback.names[i + 1] : id;
        return id;
}
