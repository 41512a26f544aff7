/* stats.c: see stats.h. */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "macro.h"
#include "stats.h"

#define A(x) COMPLAINT__V1__ACTION__ACTION_##x
#define HIST_TOP_EXP 40 /* times of 2^40 ms (35 years) or more share the last bucket */

static void
s_add(struct stats_sparse *v, int field, int64_t value)
{
        assert(v->n < STATS_SPARSE_MAX && field >= 0 && field < SF_COUNT);
        if (value != 0)
                v->e[v->n++] = (struct stats_entry){(uint16_t)field, value};
}

/* Insertion sort: a contribution has a few dozen entries at most. */
static void
s_sort(struct stats_sparse *v)
{
        for (size_t i = 1; i < v->n; i++) {
                struct stats_entry e = v->e[i];
                size_t j = i;

                for (; j > 0 && v->e[j - 1].field > e.field; j--)
                        v->e[j] = v->e[j - 1];
                v->e[j] = e;
        }
}

void
stats_contrib(const pb_complaint_t *c, struct stats_sparse *ret)
{
        bool resolved = c->status == ST_RESOLVED || c->status == ST_CLOSED;

        ret->n = 0;
        s_add(ret, SF_COMPLAINTS, 1);
        if (clock_answered(c->response_clock)) {
                s_add(ret, SF_ACCEPTED, 1);
                s_add(ret, SF_RESPONSE_MET, c->response_clock->met);
                s_add(ret, SF_ACCEPT_HIST + (int)stats_bucket(c->response_clock->elapsed_ms), 1);
        }
        if (resolved) {
                s_add(ret, SF_RESOLVED, 1);
                if (clock_answered(c->resolution_clock)) {
                        s_add(ret, SF_RESOLUTION_TIMED, 1);
                        s_add(ret, SF_RESOLUTION_MET, c->resolution_clock->met);
                        s_add(ret,
                              SF_RESOLVE_HIST + (int)stats_bucket(c->resolution_clock->elapsed_ms),
                              1);
                }
                if (c->resolution && c->resolution->responsibility >= 1 &&
                    c->resolution->responsibility <= 4) {
                        s_add(ret, SF_RESPONSIBILITY + (int)c->resolution->responsibility - 1, 1);
                        s_add(ret, SF_COMPENSATION, c->resolution->compensation_cents);
                }
        }
        if (c->max_level > 0) {
                s_add(ret, SF_ESCALATED, 1);
                s_add(ret,
                      SF_LEVEL + (int)(c->max_level < STATS_LEVELS ? c->max_level : STATS_LEVELS) -
                          1,
                      1);
        }
        if (c->status == ST_CLOSED) {
                s_add(ret, SF_CLOSED, 1);
                if (c->follow_up && c->follow_up->call_failed) {
                        s_add(ret, SF_CALLS_FAILED, 1);
                } else if (c->follow_up && c->follow_up->satisfaction >= 1 &&
                           c->follow_up->satisfaction <= 5) {
                        s_add(ret, SF_FOLLOW_UPS, 1);
                        s_add(ret, SF_SATISFACTION + (int)c->follow_up->satisfaction - 1, 1);
                }
        }
        if (c->reopen_count > 0) {
                s_add(ret, SF_REOPENED, 1);
                s_add(ret, SF_REOPENS, c->reopen_count);
        }
        if (c->status == ST_DISMISSED)
                s_add(ret, SF_DISMISSED, 1);
        if (c->repeat)
                s_add(ret, SF_REPEAT, 1);
        if (c->erased_at_ms != 0)
                s_add(ret, SF_ERASED, 1);
        s_sort(ret);
}

void
stats_diff(const struct stats_sparse *a, const struct stats_sparse *b, struct stats_sparse *ret)
{
        size_t i = 0, j = 0;

        ret->n = 0;
        while (i < a->n || j < b->n) {
                if (j == b->n || (i < a->n && a->e[i].field < b->e[j].field)) {
                        s_add(ret, a->e[i].field, a->e[i].value);
                        i++;
                } else if (i == a->n || b->e[j].field < a->e[i].field) {
                        s_add(ret, b->e[j].field, -b->e[j].value);
                        j++;
                } else {
                        s_add(ret, a->e[i].field, a->e[i].value - b->e[j].value);
                        i++;
                        j++;
                }
        }
}

const char *
stats_dim_name(int dim)
{
        static const char *const names[STATS_DIM_COUNT] = {
            "total", "category", "nature", "priority", "channel", "department",
        };

        return dim >= 0 && dim < STATS_DIM_COUNT ? names[dim] : "?";
}

size_t
stats_scope(const char *dept, const char *cat, uint8_t *buf, size_t size)
{
        const char *prefix = "", *id = "";
        size_t n;

        if (dept && dept[0]) {
                prefix = "d:";
                id = dept;
        } else if (cat && cat[0]) {
                prefix = "c:";
                id = cat;
        }
        n = strlen(prefix) + strlen(id) + 1;
        if (n > size)
                return 0;
        memcpy(buf, prefix, strlen(prefix));
        memcpy(buf + strlen(prefix), id, strlen(id) + 1);
        return n;
}

static void
s_key(struct stats_key *k, const char *dept, const char *cat, int dim, const char *value)
{
        size_t n = stats_scope(dept, cat, k->data, sizeof(k->data)), v = strlen(value);

        /* Ids are at most 64 bytes (config and request checks), so a key always fits. */
        assert(n > 0 && n + 1 + v <= sizeof(k->data));
        k->data[n] = (uint8_t)dim;
        memcpy(k->data + n + 1, value, v);
        k->len = n + 1 + v;
}

size_t
stats_keys(const pb_complaint_t *c, struct stats_key *ret)
{
        const char *scopes[3][2] = {{NULL, NULL}, {c->department, NULL}, {NULL, c->category}};
        size_t n = 0;

        for (int s = 0; s < 3; s++) {
                const char *dept = scopes[s][0], *cat = scopes[s][1];

                if (s == 1 && !c->department[0])
                        continue;
                s_key(&ret[n++], dept, cat, STATS_DIM_TOTAL, "");
                if (s != 2)
                        s_key(&ret[n++], dept, cat, STATS_DIM_CATEGORY, c->category);
                s_key(&ret[n++], dept, cat, STATS_DIM_NATURE, pb_nature_name(c->nature));
                s_key(&ret[n++], dept, cat, STATS_DIM_PRIORITY, pb_priority_name(c->priority));
                s_key(&ret[n++], dept, cat, STATS_DIM_CHANNEL, pb_channel_name(c->channel));
                if (s != 1)
                        s_key(&ret[n++], dept, cat, STATS_DIM_DEPARTMENT, c->department);
        }
        assert(n <= STATS_KEYS_MAX);
        return n;
}

int
stats_key_split(const uint8_t *key, size_t len, int *ret_dim, const uint8_t **ret_value,
                size_t *ret_value_len)
{
        const uint8_t *nul = memchr(key, '\0', len);
        size_t at;

        if (nul == NULL || (size_t)(nul - key) + 2 > len)
                return -EBADMSG;
        at = (size_t)(nul - key) + 1;
        if (key[at] >= STATS_DIM_COUNT)
                return -EBADMSG;
        *ret_dim = key[at];
        *ret_value = key + at + 1;
        *ret_value_len = len - at - 1;
        return 0;
}

/* ---------------------------------------------------------------- encoding */

static size_t
s_put_varint(uint8_t *p, uint64_t v)
{
        size_t n = 0;

        while (v >= 0x80) {
                p[n++] = (uint8_t)(v | 0x80);
                v >>= 7;
        }
        p[n++] = (uint8_t)v;
        return n;
}

static int
s_get_varint(const uint8_t *p, size_t len, size_t *at, uint64_t *ret)
{
        uint64_t v = 0;

        for (unsigned shift = 0; shift < 64; shift += 7) {
                if (*at >= len)
                        return -EBADMSG;
                v |= (uint64_t)(p[*at] & 0x7f) << shift;
                if (!(p[(*at)++] & 0x80)) {
                        *ret = v;
                        return 0;
                }
        }
        return -EBADMSG;
}

/* Reads the next (field, value) pair of an encoded row; 1 at the end. */
static int
s_next(const uint8_t *row, size_t len, size_t *at, int *ret_field, int64_t *ret_value)
{
        uint64_t f, v;

        if (*at >= len)
                return 1;
        if (s_get_varint(row, len, at, &f) < 0 || s_get_varint(row, len, at, &v) < 0 ||
            f >= SF_COUNT || v > INT64_MAX)
                return -EBADMSG;
        *ret_field = (int)f;
        *ret_value = (int64_t)v;
        return 0;
}

int
stats_row_apply(const uint8_t *row, size_t len, const struct stats_sparse *delta, uint8_t *out,
                size_t *ret_len)
{
        return stats_row_add(row, len, delta->e, delta->n, out, ret_len);
}

int
stats_row_add(const uint8_t *row, size_t len, const struct stats_entry *e, size_t n, uint8_t *out,
              size_t *ret_len)
{
        size_t at = 0, i = 0, o = 0;
        int field = 0, last = -1, r;
        int64_t value = 0;
        bool clamped = false;

        r = s_next(row, len, &at, &field, &value);
        while (r == 0 || i < n) {
                int64_t v;
                int f;

                if (r < 0)
                        return r;
                if (r == 0 && (i == n || field < e[i].field)) {
                        f = field;
                        v = value;
                        r = s_next(row, len, &at, &field, &value);
                } else if (r != 0 || e[i].field < field) {
                        f = e[i].field;
                        v = e[i++].value;
                } else {
                        f = field;
                        v = value + e[i++].value;
                        r = s_next(row, len, &at, &field, &value);
                }
                if (f <= last)
                        return -EBADMSG;
                last = f;
                if (v < 0) {
                        clamped = true;
                        v = 0;
                }
                if (v == 0)
                        continue;
                o += s_put_varint(out + o, (uint64_t)f);
                o += s_put_varint(out + o, (uint64_t)v);
        }
        if (r < 0)
                return r;
        *ret_len = o;
        return clamped ? 1 : 0;
}

int
stats_row_sum(const uint8_t *row, size_t len, int64_t *sum)
{
        size_t at = 0;
        int field, r;
        int64_t value;

        while ((r = s_next(row, len, &at, &field, &value)) == 0)
                sum[field] += value;
        return r < 0 ? r : 0;
}

void
stats_sparse_sum(const struct stats_sparse *v, int64_t *sum)
{
        for (size_t i = 0; i < v->n; i++)
                sum[v->e[i].field] += v->e[i].value;
}

/* ------------------------------------------------------------ pending deltas */

/* One row's summed delta: dense, SF_COUNT counters, since a batch's complaints may touch
 * hundreds of histogram buckets of one row. */
struct pending_row {
        uint8_t key[4 + STATS_KEY_MAX]; /* day be32 . stats key */
        size_t key_len;
        int64_t *sum;
        uint64_t last_id;
};

/* An undoable delta entry: the row's index in rows[], field, value. */
struct pending_undo {
        uint32_t row;
        uint16_t field;
        int64_t value;
};

struct stats_pending {
        struct pending_row *rows; /* in order of first use; an index into it never changes */
        size_t n, cap_rows;
        uint32_t *table; /* open addressing over rows: index + 1, 0 for a free slot */
        size_t cap;      /* a power of two, at least twice n */
        struct pending_undo *undo;
        size_t n_undo, cap_undo;
        struct stats_entry e[SF_COUNT]; /* drain's scratch */
};

static uint32_t *
s_pending_slot(const stats_pending_t *p, const uint8_t *key, size_t len)
{
        size_t i = (size_t)hash_fnv1a(key, len) & (p->cap - 1);

        for (; p->table[i]; i = (i + 1) & (p->cap - 1)) {
                const struct pending_row *row = &p->rows[p->table[i] - 1];

                if (row->key_len == len && memcmp(row->key, key, len) == 0)
                        break;
        }
        return &p->table[i];
}

/* Room for one more row: the rows array and a table kept at most half full. */
static int
s_pending_reserve(stats_pending_t *p)
{
        if (p->n == p->cap_rows) {
                size_t cap = p->cap_rows ? p->cap_rows * 2 : 32;
                struct pending_row *rows = realloc(p->rows, cap * sizeof(*rows));

                if (rows == NULL)
                        return -ENOMEM;
                p->rows = rows;
                p->cap_rows = cap;
        }
        if ((p->n + 1) * 2 > p->cap) {
                size_t cap = p->cap ? p->cap * 2 : 64;
                uint32_t *table = calloc(cap, sizeof(*table));

                if (table == NULL)
                        return -ENOMEM;
                free(p->table);
                p->table = table;
                p->cap = cap;
                for (size_t i = 0; i < p->n; i++)
                        *s_pending_slot(p, p->rows[i].key, p->rows[i].key_len) = (uint32_t)i + 1;
        }
        return 0;
}

int
stats_pending_add(stats_pending_t **pp, uint32_t day, const struct stats_key *key,
                  const struct stats_sparse *delta, uint64_t id, bool undoable)
{
        stats_pending_t *p = *pp;
        uint8_t kb[4 + STATS_KEY_MAX];
        struct pending_row *row;
        size_t len = 4 + key->len;
        uint32_t *slot;

        assert(key->len <= STATS_KEY_MAX);
        if (delta->n == 0)
                return 0;
        if (p == NULL) {
                p = *pp = calloc(1, sizeof(*p));
                if (p == NULL)
                        return -ENOMEM;
        }
        if (s_pending_reserve(p) < 0)
                return -ENOMEM;
        kb[0] = (uint8_t)(day >> 24);
        kb[1] = (uint8_t)(day >> 16);
        kb[2] = (uint8_t)(day >> 8);
        kb[3] = (uint8_t)day;
        memcpy(kb + 4, key->data, key->len);
        slot = s_pending_slot(p, kb, len);
        if (*slot == 0) {
                row = &p->rows[p->n];
                row->sum = calloc(SF_COUNT, sizeof(*row->sum));
                if (row->sum == NULL)
                        return -ENOMEM;
                memcpy(row->key, kb, len);
                row->key_len = len;
                *slot = (uint32_t)++p->n;
        }
        row = &p->rows[*slot - 1];
        if (undoable && p->n_undo + delta->n > p->cap_undo) {
                size_t cap = p->cap_undo ? p->cap_undo * 2 : 256;
                struct pending_undo *u;

                while (cap < p->n_undo + delta->n)
                        cap *= 2;
                u = realloc(p->undo, cap * sizeof(*u));
                if (u == NULL)
                        return -ENOMEM;
                p->undo = u;
                p->cap_undo = cap;
        }
        for (size_t i = 0; i < delta->n; i++) {
                row->sum[delta->e[i].field] += delta->e[i].value;
                if (undoable)
                        p->undo[p->n_undo++] =
                            (struct pending_undo){*slot - 1, delta->e[i].field, delta->e[i].value};
        }
        row->last_id = id;
        return 0;
}

size_t
stats_pending_mark(const stats_pending_t *p)
{
        return p ? p->n_undo : 0;
}

void
stats_pending_rollback(stats_pending_t *p, size_t mark)
{
        if (p == NULL)
                return;
        while (p->n_undo > mark) {
                const struct pending_undo *u = &p->undo[--p->n_undo];

                p->rows[u->row].sum[u->field] -= u->value;
        }
}

void
stats_pending_forget(stats_pending_t *p, size_t mark)
{
        if (p && p->n_undo > mark)
                p->n_undo = mark;
}

int
stats_pending_drain(stats_pending_t *p, stats_pending_fn fn, void *ctx)
{
        int r = 0;

        if (p == NULL)
                return 0;
        for (size_t i = 0; i < p->n; i++) {
                struct pending_row *row = &p->rows[i];
                size_t n = 0;

                for (int f = 0; f < SF_COUNT && r >= 0; f++)
                        if (row->sum[f] != 0)
                                p->e[n++] = (struct stats_entry){(uint16_t)f, row->sum[f]};
                if (n > 0 && r >= 0)
                        r = fn(ctx, row->key, row->key_len, p->e, n, row->last_id);
                free(row->sum);
        }
        if (p->cap)
                memset(p->table, 0, p->cap * sizeof(*p->table));
        p->n = 0;
        p->n_undo = 0;
        return r < 0 ? r : 0;
}

void
stats_pending_free(stats_pending_t **pp)
{
        stats_pending_t *p = *pp;

        if (p == NULL)
                return;
        for (size_t i = 0; i < p->n; i++)
                free(p->rows[i].sum);
        free(p->rows);
        free(p->table);
        free(p->undo);
        free(p);
        *pp = NULL;
}

/* --------------------------------------------------------------- histograms */

unsigned
stats_bucket(int64_t ms)
{
        unsigned e;

        if (ms < 16)
                return ms < 0 ? 0 : (unsigned)ms;
        if (ms >= (int64_t)1 << HIST_TOP_EXP)
                return STATS_BUCKETS - 1;
        e = 63u - (unsigned)__builtin_clzll((unsigned long long)ms);
        return 16 + (e - 4) * 8 + (unsigned)((ms >> (e - 3)) & 7);
}

int64_t
stats_bucket_upper(unsigned bucket)
{
        unsigned e, sub;

        if (bucket < 16)
                return bucket;
        if (bucket >= STATS_BUCKETS)
                bucket = STATS_BUCKETS - 1;
        e = 4 + (bucket - 16) / 8;
        sub = (bucket - 16) % 8;
        return ((int64_t)(9 + sub) << (e - 3)) - 1;
}

int64_t
stats_percentile(const int64_t *hist, unsigned pct)
{
        int64_t n = 0, rank, seen = 0;

        for (unsigned b = 0; b < STATS_BUCKETS; b++)
                n += hist[b];
        if (n <= 0 || pct == 0)
                return 0;
        if (pct > 100)
                pct = 100;
        rank = (n * (int64_t)pct + 99) / 100;
        for (unsigned b = 0; b < STATS_BUCKETS; b++) {
                seen += hist[b];
                if (seen >= rank)
                        return stats_bucket_upper(b);
        }
        return stats_bucket_upper(STATS_BUCKETS - 1);
}

static double
s_share(int64_t part, int64_t whole)
{
        return whole > 0 ? (double)part / (double)whole : 0.0;
}

void
stats_figures(const int64_t *s, struct stats_figures *ret)
{
        Complaint__V1__ReportFigures *f = &ret->f;
        int64_t scored = 0, points = 0;

        complaint__v1__report_figures__init(f);
        f->complaints = (uint64_t)s[SF_COMPLAINTS];
        f->accepted = (uint64_t)s[SF_ACCEPTED];
        f->response_met = (uint64_t)s[SF_RESPONSE_MET];
        f->response_met_share = s_share(s[SF_RESPONSE_MET], s[SF_ACCEPTED]);
        f->resolved = (uint64_t)s[SF_RESOLVED];
        f->resolution_timed = (uint64_t)s[SF_RESOLUTION_TIMED];
        f->resolution_met = (uint64_t)s[SF_RESOLUTION_MET];
        f->resolution_met_share = s_share(s[SF_RESOLUTION_MET], s[SF_RESOLUTION_TIMED]);
        f->escalated = (uint64_t)s[SF_ESCALATED];
        for (int i = 0; i < STATS_LEVELS; i++)
                ret->levels[i] = (uint64_t)s[SF_LEVEL + i];
        f->escalated_by_level = ret->levels;
        f->n_escalated_by_level = STATS_LEVELS;
        f->accept_p50_ms = stats_percentile(s + SF_ACCEPT_HIST, 50);
        f->accept_p90_ms = stats_percentile(s + SF_ACCEPT_HIST, 90);
        f->resolve_p50_ms = stats_percentile(s + SF_RESOLVE_HIST, 50);
        f->resolve_p90_ms = stats_percentile(s + SF_RESOLVE_HIST, 90);
        f->closed = (uint64_t)s[SF_CLOSED];
        f->follow_ups = (uint64_t)s[SF_FOLLOW_UPS];
        f->calls_failed = (uint64_t)s[SF_CALLS_FAILED];
        f->follow_up_rate = s_share(s[SF_FOLLOW_UPS], s[SF_RESOLVED]);
        for (int i = 0; i < 5; i++) {
                ret->satisfaction[i] = (uint64_t)s[SF_SATISFACTION + i];
                scored += s[SF_SATISFACTION + i];
                points += s[SF_SATISFACTION + i] * (i + 1);
        }
        f->satisfaction = ret->satisfaction;
        f->n_satisfaction = 5;
        f->satisfaction_avg = s_share(points, scored);
        f->reopened = (uint64_t)s[SF_REOPENED];
        f->reopens = (uint64_t)s[SF_REOPENS];
        f->dismissed = (uint64_t)s[SF_DISMISSED];
        for (int i = 0; i < 4; i++)
                ret->responsibility[i] = (uint64_t)s[SF_RESPONSIBILITY + i];
        f->responsibility = ret->responsibility;
        f->n_responsibility = 4;
        f->compensation_cents = s[SF_COMPENSATION];
        f->repeat = (uint64_t)s[SF_REPEAT];
        f->erased = (uint64_t)s[SF_ERASED];
}
