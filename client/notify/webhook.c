/* webhook.c: JSON POSTs through a reused libcurl easy handle (webhook.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "webhook.h"

/* The most bytes of an answer kept: enough for any robot's {"errcode":...,"errmsg":...}. */
#define ANSWER_MAX 4096

struct webhook {
        CURL *curl;
        char answer[ANSWER_MAX + 1];
        size_t answer_len;
};

static size_t
s_on_data(char *data, size_t size, size_t nmemb, void *arg)
{
        struct webhook *w = arg;
        size_t n = size * nmemb, take = n;

        if (take > ANSWER_MAX - w->answer_len)
                take = ANSWER_MAX - w->answer_len;
        memcpy(w->answer + w->answer_len, data, take);
        w->answer_len += take;
        w->answer[w->answer_len] = '\0';
        return n;
}

int
webhook_new(webhook_t **ret)
{
        static bool initialised;
        webhook_t *w;

        if (!initialised) {
                if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                        return -ENOMEM;
                initialised = true;
        }
        w = calloc(1, sizeof(*w));
        if (w == NULL)
                return -ENOMEM;
        w->curl = curl_easy_init();
        if (w->curl == NULL) {
                free(w);
                return -ENOMEM;
        }
        *ret = w;
        return 0;
}

void
webhook_free(webhook_t **w)
{
        if (w == NULL || *w == NULL)
                return;
        curl_easy_cleanup((*w)->curl);
        free(*w);
        *w = NULL;
}

/* The value of "errcode" in a JSON answer, 0 when there is none. */
static long
s_errcode(const char *answer)
{
        const char *p = strstr(answer, "\"errcode\"");

        if (p == NULL)
                return 0;
        p += strlen("\"errcode\"");
        p += strspn(p, " \t\r\n");
        if (*p != ':')
                return 0;
        return strtol(p + 1, NULL, 10);
}

int
webhook_post(webhook_t *w, const char *url, const char *const *headers, const webhook_auth_t *auth,
             const char *body, size_t n, int timeout_ms, int check_errcode, char *err,
             size_t err_size)
{
        struct curl_slist *list = NULL, *next;
        char bearer[1200];
        CURLcode rc;
        long status = 0;
        int r = 0;

        err[0] = '\0';
        curl_easy_reset(w->curl);
        w->answer_len = 0;
        w->answer[0] = '\0';
        next = curl_slist_append(list, "Content-Type: application/json; charset=utf-8");
        if (next)
                next = curl_slist_append(list = next, "Expect:");
        for (const char *const *h = headers; next && h && *h; h++)
                next = curl_slist_append(list = next, *h);
        if (next && auth && auth->bearer) {
                snprintf(bearer, sizeof(bearer), "Authorization: Bearer %s", auth->bearer);
                next = curl_slist_append(list = next, bearer);
        }
        if (next == NULL) {
                curl_slist_free_all(list);
                return -ENOMEM;
        }
        list = next;
        curl_easy_setopt(w->curl, CURLOPT_URL, url);
        curl_easy_setopt(w->curl, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(w->curl, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(w->curl, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(w->curl, CURLOPT_SSL_VERIFYHOST, 2L);
        curl_easy_setopt(w->curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(w->curl, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
        curl_easy_setopt(w->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
        curl_easy_setopt(w->curl, CURLOPT_POST, 1L);
        curl_easy_setopt(w->curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(w->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)n);
        curl_easy_setopt(w->curl, CURLOPT_HTTPHEADER, list);
        curl_easy_setopt(w->curl, CURLOPT_USERAGENT, "complaint-notify/" COMPLAINTD_VERSION);
        curl_easy_setopt(w->curl, CURLOPT_WRITEFUNCTION, s_on_data);
        curl_easy_setopt(w->curl, CURLOPT_WRITEDATA, w);
        if (auth && auth->user) {
                curl_easy_setopt(w->curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
                curl_easy_setopt(w->curl, CURLOPT_USERNAME, auth->user);
                curl_easy_setopt(w->curl, CURLOPT_PASSWORD, auth->password ? auth->password : "");
        }
        rc = curl_easy_perform(w->curl);
        if (rc != CURLE_OK) {
                snprintf(err, err_size, "%s", curl_easy_strerror(rc));
                r = -EAGAIN;
        } else {
                curl_easy_getinfo(w->curl, CURLINFO_RESPONSE_CODE, &status);
                if (status < 200 || status > 299) {
                        snprintf(err, err_size, "HTTP status %ld: %.200s", status, w->answer);
                        r = -EAGAIN;
                } else if (check_errcode && s_errcode(w->answer) != 0) {
                        snprintf(err, err_size, "the robot refused it: %.200s", w->answer);
                        r = -EAGAIN;
                }
        }
        /* The handle keeps its connection for the next call, not the header list. */
        curl_easy_setopt(w->curl, CURLOPT_HTTPHEADER, NULL);
        curl_slist_free_all(list);
        return r;
}
