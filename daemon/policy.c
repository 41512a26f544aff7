/* policy.c: encoding, compiling and caching policies; see policy.h. */
#include <errno.h>
#include <string.h>

#include "macro.h"
#include "policy.h"

/* Policies are few (departments times configuration versions): a list is enough. */
struct policies {
        policy_t *items;
        size_t n, cap;
};

int
policies_new(policies_t **ret)
{
        *ret = calloc(1, sizeof(**ret));
        return *ret ? 0 : -ENOMEM;
}

void
policies_free(policies_t **pp)
{
        policies_t *p = *pp;

        if (p == NULL)
                return;
        for (size_t i = 0; i < p->n; i++) {
                complaint__v1__policy__free_unpacked(p->items[i].pb, NULL);
                calendar_free(&p->items[i].cal);
        }
        free(p->items);
        free(p);
        *pp = NULL;
}

/* A policy's id: its hash, never 0. */
static uint64_t
s_hash(const uint8_t *b, size_t n)
{
        uint64_t h = hash_fnv1a(b, n);

        return h ? h : 1;
}

static int
s_compile(const pb_policy_t *pb, calendar_t **ret)
{
        calendar_t *cal = NULL;
        int r = calendar_new(pb->zone, &cal);

        if (r < 0)
                return r;
        if (pb->always_open)
                r = calendar_set_always_open(cal);
        for (size_t i = 0; r == 0 && i < pb->n_hours; i++)
                r = calendar_add_hours(cal, (int)pb->hours[i]->weekday,
                                       (int)pb->hours[i]->start_min,
                                       (int)pb->hours[i]->end_min % 1440);
        for (size_t i = 0; r == 0 && i < pb->n_holidays; i++)
                r = calendar_add_holiday(cal, (int)pb->holidays[i]->year,
                                         (int)pb->holidays[i]->month, (int)pb->holidays[i]->day);
        for (size_t i = 0; r == 0 && i < pb->n_workdays; i++)
                r = calendar_add_workday(cal, (int)pb->workdays[i]->year,
                                         (int)pb->workdays[i]->month, (int)pb->workdays[i]->day,
                                         (int)pb->workdays[i]->as_weekday);
        if (r < 0) {
                calendar_free(&cal);
                return r;
        }
        *ret = cal;
        return 0;
}

static policy_t *
s_find(policies_t *p, uint64_t id)
{
        for (size_t i = 0; i < p->n; i++)
                if (p->items[i].id == id)
                        return &p->items[i];
        return NULL;
}

/* Adds a decoded policy to the cache, taking pb. */
static int
s_add(policies_t *p, uint64_t id, pb_policy_t *pb, const policy_t **ret)
{
        calendar_t *cal = NULL;
        int r;

        if (p->n == p->cap) {
                size_t cap = p->cap ? p->cap * 2 : 16;
                policy_t *items = realloc(p->items, cap * sizeof(*items));

                if (items == NULL) {
                        complaint__v1__policy__free_unpacked(pb, NULL);
                        return -ENOMEM;
                }
                p->items = items;
                p->cap = cap;
        }
        r = s_compile(pb, &cal);
        if (r < 0) {
                complaint__v1__policy__free_unpacked(pb, NULL);
                return r;
        }
        p->items[p->n] = (policy_t){.id = id, .pb = pb, .cal = cal};
        *ret = &p->items[p->n++];
        return 0;
}

int
policies_find(policies_t *p, uint64_t id, const policy_t **ret)
{
        const policy_t *found = s_find(p, id);

        if (found == NULL)
                return -ENOENT;
        *ret = found;
        return 0;
}

uint64_t
policies_id(const uint8_t *blob, size_t len)
{
        return s_hash(blob, len);
}

int
policies_add(policies_t *p, const uint8_t *blob, size_t len, const policy_t **ret)
{
        uint64_t id = s_hash(blob, len);
        const policy_t *found = s_find(p, id);
        pb_policy_t *pb;

        if (found) {
                *ret = found;
                return 0;
        }
        pb = complaint__v1__policy__unpack(NULL, len, blob);
        if (pb == NULL)
                return -EBADMSG;
        return s_add(p, id, pb, ret);
}

/* Encodes the department's policy as cfg defines it; the caller frees *ret_buf. */
static int
s_encode(const conf_t *cfg, const struct config_department *dep, uint8_t **ret_buf, size_t *ret_len)
{
        const struct config_calendar *cal = dep->calendar;
        pb_policy_t pb = COMPLAINT__V1__POLICY__INIT;
        size_t n_iv = cal->n_hours, n_hol = cal->n_holidays, n_wd = cal->n_workdays;
        size_t n_lv = dep->n_chain, n_all = n_iv + n_hol + n_wd + n_lv + 1;
        Complaint__V1__Policy__Interval *iv = calloc(n_iv + 1, sizeof(*iv));
        Complaint__V1__Policy__Date *dates = calloc(n_hol + n_wd + 1, sizeof(*dates));
        Complaint__V1__Policy__Level *lv = calloc(n_lv + 1, sizeof(*lv));
        void **ptrs = calloc(n_all, sizeof(*ptrs));
        int r = -ENOMEM;

        if (iv == NULL || dates == NULL || lv == NULL || ptrs == NULL)
                goto out;
        pb.department = dep->id;
        pb.calendar = cal->id;
        pb.zone = cal->zone;
        pb.always_open = cal->always_open;
        pb.warning = cfg->warning;
        pb.realert_ms = cfg->realert_ms;
        pb.hours = (Complaint__V1__Policy__Interval **)ptrs;
        pb.n_hours = n_iv;
        for (size_t i = 0; i < n_iv; i++) {
                complaint__v1__policy__interval__init(&iv[i]);
                iv[i].weekday = (uint32_t)cal->hours[i].weekday;
                iv[i].start_min = (uint32_t)cal->hours[i].start_min;
                iv[i].end_min = (uint32_t)cal->hours[i].end_min;
                pb.hours[i] = &iv[i];
        }
        pb.holidays = (Complaint__V1__Policy__Date **)(ptrs + n_iv);
        pb.n_holidays = n_hol;
        pb.workdays = (Complaint__V1__Policy__Date **)(ptrs + n_iv + n_hol);
        pb.n_workdays = n_wd;
        for (size_t i = 0; i < n_hol + n_wd; i++) {
                const struct config_date *d =
                    i < n_hol ? &cal->holidays[i] : &cal->workdays[i - n_hol];

                complaint__v1__policy__date__init(&dates[i]);
                dates[i].year = (uint32_t)d->year;
                dates[i].month = (uint32_t)d->month;
                dates[i].day = (uint32_t)d->day;
                dates[i].as_weekday = i < n_hol ? 0 : (uint32_t)d->as_weekday;
                if (i < n_hol)
                        pb.holidays[i] = &dates[i];
                else
                        pb.workdays[i - n_hol] = &dates[i];
        }
        pb.chain = (Complaint__V1__Policy__Level **)(ptrs + n_iv + n_hol + n_wd);
        pb.n_chain = n_lv;
        for (size_t i = 0; i < n_lv; i++) {
                complaint__v1__policy__level__init(&lv[i]);
                lv[i].role = dep->chain[i].role;
                lv[i].allowance_ms = dep->chain[i].allowance_ms;
                pb.chain[i] = &lv[i];
        }
        *ret_len = protobuf_c_message_get_packed_size(&pb.base);
        *ret_buf = malloc(*ret_len ? *ret_len : 1);
        if (*ret_buf) {
                protobuf_c_message_pack(&pb.base, *ret_buf);
                r = 0;
        }
out:
        free(iv);
        free(dates);
        free(lv);
        free(ptrs);
        return r;
}

int
policies_encode(const conf_t *cfg, const char *dept, uint8_t **ret_buf, size_t *ret_len)
{
        const struct config_department *dep = config_find_department(cfg, dept);

        if (dep == NULL || dep->calendar == NULL)
                return -ENOENT;
        return s_encode(cfg, dep, ret_buf, ret_len);
}
