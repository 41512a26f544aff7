/* cmd_read.c: complaintctl's reads of complaints: show (a complaint and its whole history) and
 * list. */
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
                return ctl_fail(_("out of memory"));
        if (first->n_history) /* an empty repeated field is NULL: no memcpy from it */
                memcpy(*hist, first->history, first->n_history * sizeof(**hist));
        *n_hist = first->n_history;
        /* Each page moves on by at least one entry: bounded by the history's length. */
        while (after != 0) {
                pb_reply_t *page = NULL, **grown_pages;
                pb_history_t **grown;
                int r;

                req->get->history_after = after;
                if ((r = ctl_call(x, req, &page)))
                        return r;
                grown_pages = realloc(*pages, (*n_pages + 1) * sizeof(**pages));
                grown = realloc(*hist, (*n_hist + page->n_history + 1) * sizeof(**hist));
                if (grown_pages)
                        *pages = grown_pages;
                if (grown)
                        *hist = grown;
                if (grown_pages == NULL || grown == NULL) {
                        complaint__v1__reply__free_unpacked(page, NULL);
                        return ctl_fail(_("out of memory"));
                }
                (*pages)[(*n_pages)++] = page;
                if (page->n_history)
                        memcpy(*hist + *n_hist, page->history, page->n_history * sizeof(**hist));
                *n_hist += page->n_history;
                if (page->history_next_after <= after)
                        break;
                after = page->history_next_after;
        }
        return 0;
}

int
cmd_show(struct ctl *x)
{
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        Complaint__V1__GetRequest q = COMPLAINT__V1__GET_REQUEST__INIT;
        pb_reply_t *reply = NULL, **pages = NULL;
        pb_history_t **hist = NULL;
        size_t n_pages = 0, n_hist = 0;
        int r;

        if ((r = ctl_id(x, &q.id)))
                return r;
        req.body_case = COMPLAINT__V1__REQUEST__BODY_GET;
        req.get = &q;
        if ((r = ctl_call(x, &req, &reply)))
                return r;
        if (reply->complaint == NULL) {
                complaint__v1__reply__free_unpacked(reply, NULL);
                return ctl_fail(_("the reply from %s carries no complaint"), x->endpoint);
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
                ctl_times(x, NULL);
                render_complaint_text(stdout, reply->complaint);
                if (reply->n_complainant_complaints > 0) {
                        printf(_("\nthe complainant's other complaints (newest first)\n "));
                        for (size_t i = 0; i < reply->n_complainant_complaints; i++)
                                printf(" %" PRIu64, reply->complainant_complaints[i]);
                        printf("\n");
                }
                printf(_("\nhistory\n"));
                render_history_text(stdout, hist, n_hist);
        }
        for (size_t i = 0; i < n_pages; i++)
                complaint__v1__reply__free_unpacked(pages[i], NULL);
        free(pages);
        free(hist);
        complaint__v1__reply__free_unpacked(reply, NULL);
        return r ? r : ctl_flush();
}

int
cmd_list(struct ctl *x)
{
        pb_request_t req = COMPLAINT__V1__REQUEST__INIT;
        Complaint__V1__ListRequest q = COMPLAINT__V1__LIST_REQUEST__INIT;
        pb_reply_t *reply = NULL;
        const pb_list_t *l;
        uint64_t limit, before, level;
        int status, r;

        if ((r = ctl_enum(x, OPT_STATUS, pb_status_parse, pb_status_name, &status)) ||
            (r = ctl_number(x, OPT_LIMIT, 1, UINT32_MAX, &limit)) ||
            (r = ctl_number(x, OPT_BEFORE, 0, UINT64_MAX, &before)) ||
            (r = ctl_number(x, OPT_LEVEL, 1, UINT32_MAX, &level)))
                return r;
        q.overdue = x->val[OPT_OVERDUE] != NULL;
        q.level = (uint32_t)level;
        q.department = ctl_opt(x, OPT_DEPARTMENT);
        q.status = status;
        q.category = ctl_opt(x, OPT_CATEGORY);
        q.limit = (uint32_t)limit;
        q.before_id = before;
        req.body_case = COMPLAINT__V1__REQUEST__BODY_LIST;
        req.list = &q;
        if ((r = ctl_call(x, &req, &reply)))
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
                printf(_("no complaints\n"));
        } else {
                ctl_times(x, NULL);
                render_list_text(stdout, l->complaints, l->n_complaints);
                if (l->next_before_id)
                        printf(_("(more: add --before %" PRIu64 ")\n"), l->next_before_id);
        }
        complaint__v1__reply__free_unpacked(reply, NULL);
        return ctl_flush();
}
