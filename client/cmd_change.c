/* cmd_change.c: complaintctl's changes: create, assign, accept, pend, resume, escalate, resolve,
 * close, reopen, dismiss, note and erase. Each builds one request and prints what the daemon
 * left (ctl_change()), except erase, which prints how many complaints it touched. */
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

int
cmd_create(struct ctl *x)
{
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        Complaint__V1__CreateRequest q = COMPLAINT__V1__CREATE_REQUEST__INIT;
        pb_complainant_t who = COMPLAINT__V1__COMPLAINANT__INIT;
        int channel, nature, priority, r;

        if ((r = ctl_enum(x, OPT_CHANNEL, pb_channel_parse, pb_channel_name, &channel)) ||
            (r = ctl_enum(x, OPT_NATURE, pb_nature_parse, pb_nature_name, &nature)) ||
            (r = ctl_enum(x, OPT_PRIORITY, pb_priority_parse, pb_priority_name, &priority)) ||
            (r = ctl_need(x, OPT_CHANNEL)) || (r = ctl_need(x, OPT_CATEGORY)) ||
            (r = ctl_need(x, OPT_SUBJECT)) || (r = ctl_need(x, OPT_DESCRIPTION)))
                return r;
        q.channel = channel;
        q.nature = nature;
        q.priority = priority;
        q.category = ctl_opt(x, OPT_CATEGORY);
        q.subject = ctl_opt(x, OPT_SUBJECT);
        q.description = ctl_opt(x, OPT_DESCRIPTION);
        q.external_ref = ctl_opt(x, OPT_REF);
        q.note = ctl_opt(x, OPT_NOTE);
        if (x->val[OPT_NAME] || x->val[OPT_PHONE] || x->val[OPT_EMAIL] || x->val[OPT_ADDRESS]) {
                who.name = ctl_opt(x, OPT_NAME);
                who.phone = ctl_opt(x, OPT_PHONE);
                who.email = ctl_opt(x, OPT_EMAIL);
                who.address = ctl_opt(x, OPT_ADDRESS);
                q.complainant = &who;
        }
        req.body_case = COMPLAINT__V1__REQUEST__BODY_CREATE;
        req.create = &q;
        return ctl_change(x, &req, C_("change", "created"));
}

int
cmd_assign(struct ctl *x)
{
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        Complaint__V1__AssignRequest q = COMPLAINT__V1__ASSIGN_REQUEST__INIT;
        int r;

        if ((r = ctl_id(x, &q.id)))
                return r;
        q.department = ctl_opt(x, OPT_DEPARTMENT);
        q.note = ctl_opt(x, OPT_NOTE);
        req.body_case = COMPLAINT__V1__REQUEST__BODY_ASSIGN;
        req.assign = &q;
        return ctl_change(x, &req, C_("change", "assigned"));
}

/* accept, pend, resume, escalate: an id and a note. */
int
cmd_simple(struct ctl *x)
{
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        Complaint__V1__AcceptRequest accept = COMPLAINT__V1__ACCEPT_REQUEST__INIT;
        Complaint__V1__PendRequest pend = COMPLAINT__V1__PEND_REQUEST__INIT;
        Complaint__V1__ResumeRequest resume = COMPLAINT__V1__RESUME_REQUEST__INIT;
        Complaint__V1__EscalateRequest escalate = COMPLAINT__V1__ESCALATE_REQUEST__INIT;
        const char *name = x->cmd->name;
        uint64_t id = 0;
        int r;

        if ((r = ctl_id(x, &id)))
                return r;
        if (strcmp(name, "accept") == 0) {
                accept.id = id;
                accept.note = ctl_opt(x, OPT_NOTE);
                req.body_case = COMPLAINT__V1__REQUEST__BODY_ACCEPT;
                req.accept = &accept;
                return ctl_change(x, &req, C_("change", "accepted"));
        }
        if (strcmp(name, "pend") == 0) {
                if ((r = ctl_need(x, OPT_NOTE)))
                        return r;
                pend.id = id;
                pend.note = ctl_opt(x, OPT_NOTE);
                req.body_case = COMPLAINT__V1__REQUEST__BODY_PEND;
                req.pend = &pend;
                return ctl_change(x, &req, C_("change", "paused"));
        }
        if (strcmp(name, "resume") == 0) {
                resume.id = id;
                resume.note = ctl_opt(x, OPT_NOTE);
                req.body_case = COMPLAINT__V1__REQUEST__BODY_RESUME;
                req.resume = &resume;
                return ctl_change(x, &req, C_("change", "resumed"));
        }
        assert(strcmp(name, "escalate") == 0);
        escalate.id = id;
        escalate.note = ctl_opt(x, OPT_NOTE);
        req.body_case = COMPLAINT__V1__REQUEST__BODY_ESCALATE;
        req.escalate = &escalate;
        return ctl_change(x, &req, C_("change", "escalated"));
}

int
cmd_resolve(struct ctl *x)
{
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        Complaint__V1__ResolveRequest q = COMPLAINT__V1__RESOLVE_REQUEST__INIT;
        int responsibility, r;

        if ((r = ctl_id(x, &q.id)) || (r = ctl_need(x, OPT_CAUSE)) ||
            (r = ctl_need(x, OPT_RESPONSIBILITY)) || (r = ctl_need(x, OPT_REPLY)) ||
            (r = ctl_enum(x, OPT_RESPONSIBILITY, pb_responsibility_parse, pb_responsibility_name,
                          &responsibility)))
                return r;
        if (x->val[OPT_COMPENSATION] &&
            !ctl_parse_cents(x->val[OPT_COMPENSATION], &q.compensation_cents))
                return ctl_usage_error(
                    x,
                    _("--compensation: '%s' is not an amount (units with up to 2 "
                      "decimals, e.g. 12.50)"),
                    x->val[OPT_COMPENSATION]);
        q.cause = ctl_opt(x, OPT_CAUSE);
        q.responsibility = responsibility;
        q.reply = ctl_opt(x, OPT_REPLY);
        q.note = ctl_opt(x, OPT_NOTE);
        req.body_case = COMPLAINT__V1__REQUEST__BODY_RESOLVE;
        req.resolve = &q;
        return ctl_change(x, &req, C_("change", "resolved"));
}

int
cmd_close(struct ctl *x)
{
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        Complaint__V1__CloseRequest q = COMPLAINT__V1__CLOSE_REQUEST__INIT;
        uint64_t satisfaction;
        int r;

        if ((r = ctl_id(x, &q.id)))
                return r;
        if ((x->val[OPT_SATISFACTION] != NULL) == (x->val[OPT_CALL_FAILED] != NULL))
                return ctl_usage_error(
                    x, _("close needs either --satisfaction 1..5 or --call-failed"));
        if ((r = ctl_number(x, OPT_SATISFACTION, 1, 5, &satisfaction)))
                return r;
        q.satisfaction = (uint32_t)satisfaction;
        q.call_failed = x->val[OPT_CALL_FAILED] != NULL;
        q.note = ctl_opt(x, OPT_NOTE);
        req.body_case = COMPLAINT__V1__REQUEST__BODY_CLOSE;
        req.close = &q;
        return ctl_change(x, &req, C_("change", "closed"));
}

int
cmd_reopen(struct ctl *x)
{
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        Complaint__V1__ReopenRequest q = COMPLAINT__V1__REOPEN_REQUEST__INIT;
        int r;

        if ((r = ctl_id(x, &q.id)) || (r = ctl_need(x, OPT_REASON)))
                return r;
        q.reason = ctl_opt(x, OPT_REASON);
        q.department = ctl_opt(x, OPT_DEPARTMENT);
        req.body_case = COMPLAINT__V1__REQUEST__BODY_REOPEN;
        req.reopen = &q;
        return ctl_change(x, &req, C_("change", "reopened"));
}

int
cmd_dismiss(struct ctl *x)
{
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        Complaint__V1__DismissRequest q = COMPLAINT__V1__DISMISS_REQUEST__INIT;
        int reason, r;

        if ((r = ctl_id(x, &q.id)) || (r = ctl_need(x, OPT_REASON)) ||
            (r = ctl_enum(x, OPT_REASON, pb_dismiss_reason_parse, pb_dismiss_reason_name, &reason)))
                return r;
        q.reason = reason;
        q.note = ctl_opt(x, OPT_NOTE);
        req.body_case = COMPLAINT__V1__REQUEST__BODY_DISMISS;
        req.dismiss = &q;
        return ctl_change(x, &req, C_("change", "dismissed"));
}

int
cmd_note(struct ctl *x)
{
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        Complaint__V1__NoteRequest q = COMPLAINT__V1__NOTE_REQUEST__INIT;
        int r;

        if ((r = ctl_id(x, &q.id)))
                return r;
        if (x->nargs == 2 && x->val[OPT_NOTE])
                return ctl_usage_error(x, _("give the note as TEXT or as --note, not both"));
        q.note = x->nargs == 2 ? x->arg[1] : ctl_opt(x, OPT_NOTE);
        if (q.note[0] == '\0')
                return ctl_usage_error(x, _("note needs the text of the note"));
        req.body_case = COMPLAINT__V1__REQUEST__BODY_NOTE;
        req.note = &q;
        return ctl_change(x, &req, C_("change", "noted"));
}

/* Erasure (PROTOCOL.md, "Personal data"): the daemon erases at most a batch per request and
 * says when more remain; each further request is a new change, under a new request id. The
 * bound on rounds only guards against a daemon that always says "more". */
#define ERASE_ROUNDS_MAX 10000

int
cmd_erase(struct ctl *x)
{
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        Complaint__V1__EraseRequest q = COMPLAINT__V1__ERASE_REQUEST__INIT;
        uint64_t *ids = NULL, id = 0, total = 0;
        size_t n_ids = 0;
        bool replayed = false, more = false;
        int given, r;

        given = (x->val[OPT_PHONE] != NULL) + (x->val[OPT_EMAIL] != NULL) +
                (x->val[OPT_COMPLAINT] != NULL);
        if (given != 1)
                return ctl_usage_error(x, _("erase needs exactly one of --phone, --email and "
                                            "--complaint"));
        if ((r = ctl_need(x, OPT_REASON)))
                return r;
        if (x->val[OPT_PHONE] && (r = ctl_need(x, OPT_PHONE)))
                return r;
        if (x->val[OPT_EMAIL] && (r = ctl_need(x, OPT_EMAIL)))
                return r;
        if (x->val[OPT_COMPLAINT] && (!ctl_parse_u64(x->val[OPT_COMPLAINT], &id) || id == 0))
                return ctl_usage_error(x,
                                       _("--complaint: '%s' is not a complaint id (a positive "
                                         "decimal number)"),
                                       x->val[OPT_COMPLAINT]);
        q.phone = ctl_opt(x, OPT_PHONE);
        q.email = ctl_opt(x, OPT_EMAIL);
        q.id = id;
        q.text = x->val[OPT_TEXT] != NULL;
        q.reason = ctl_opt(x, OPT_REASON);
        req.body_case = COMPLAINT__V1__REQUEST__BODY_ERASE;
        req.erase = &q;
        for (int round = 0; round < ERASE_ROUNDS_MAX && (round == 0 || more); round++) {
                pb_reply_t *reply = NULL;
                const Complaint__V1__EraseReply *e;
                uint64_t *grown;

                if (round > 0) {
                        r = complaint_request_id_generate(x->request_id_buf);
                        if (r < 0) {
                                free(ids);
                                return ctl_fail(_("cannot make a request id: %s"), strerror(-r));
                        }
                        x->request_id = x->request_id_buf;
                }
                if ((r = ctl_call(x, &req, &reply))) {
                        free(ids);
                        return r;
                }
                e = reply->erase;
                if (e == NULL) {
                        complaint__v1__reply__free_unpacked(reply, NULL);
                        free(ids);
                        return ctl_fail(_("the reply from %s carries no erasure"), x->endpoint);
                }
                grown = realloc(ids, (n_ids + e->n_ids + 1) * sizeof(*ids));
                if (grown == NULL) {
                        complaint__v1__reply__free_unpacked(reply, NULL);
                        free(ids);
                        return ctl_fail(_("out of memory"));
                }
                ids = grown;
                if (e->n_ids) /* protobuf-c leaves an empty repeated field NULL */
                        memcpy(ids + n_ids, e->ids, e->n_ids * sizeof(*ids));
                n_ids += e->n_ids;
                total += e->erased;
                replayed = replayed || reply->replayed;
                more = e->more;
                complaint__v1__reply__free_unpacked(reply, NULL);
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
                json_kv_bool(&j, "more", more);
                json_object_end(&j);
                json_finish(&j);
        } else {
                printf(P_("erased %" PRIu64 " complaint", "erased %" PRIu64 " complaints", total),
                       total);
                for (size_t i = 0; i < n_ids; i++)
                        printf("%s%" PRIu64, i ? _(", ") : _(": "), ids[i]);
                if (q.text)
                        printf(_(" (contact details and text)"));
                if (replayed)
                        printf(_(" [replayed]"));
                putchar('\n');
        }
        free(ids);
        if ((r = ctl_flush()))
                return r;
        /* A privacy tool does not say done while details remain. */
        if (more)
                return ctl_fail(_("more complaints of this complainant remain: run the same "
                                  "erase again"));
        return 0;
}
