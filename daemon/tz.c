/* tz.c: the TZif and POSIX TZ parser and the offset arithmetic behind tz.h; owns nothing but
 * the tz_t values it returns. */
#ifndef _GNU_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "tz.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Zoneinfo files are a few kilobytes; anything much larger is not one. */
#define TZ_MAX_FILE (1024 * 1024)
#define TZ_MAX_NAME 255
/* Offsets beyond +-26 hours are refused (RFC 8536 suggests -89999..93599); the bound keeps
 * tz_utc_of_local()'s search window small. */
#define TZ_MAX_UTOFF (26 * 3600)
/* Instants are clamped to about +-18 billion years so no arithmetic below can overflow. */
#define TZ_CLAMP ((int64_t)1 << 59)
#define TZ_DAY 86400

enum rule_kind {
        RULE_JULIAN1, /* Jn: day 1..365, February 29 never counted */
        RULE_JULIAN0, /* n: day 0..365, February 29 counted */
        RULE_MONTH,   /* Mm.w.d: weekday d of week w (5 = last) of month m */
};

struct rule_date {
        enum rule_kind kind;
        int day; /* for Jn and n */
        int month, week, wday;
        int32_t time; /* local seconds after midnight, -167h..167h */
};

struct posix_tz {
        bool has_dst;
        int32_t std_off, dst_off; /* seconds east */
        struct rule_date start, end;
};

struct tz {
        char *name;
        size_t n_trans;
        int64_t *trans;      /* strictly ascending */
        uint8_t *trans_type; /* index into type_off, one per transition */
        size_t n_types;
        int32_t *type_off;
        bool has_rule; /* the footer holds a rule for instants past the last transition */
        struct posix_tz rule;
};

static int64_t
s_floor_div(int64_t a, int64_t b)
{
        int64_t q = a / b;

        if ((a % b != 0) && ((a < 0) != (b < 0)))
                q--;
        return q;
}

static int64_t
s_clamp(int64_t t)
{
        if (t < -TZ_CLAMP)
                return -TZ_CLAMP;
        if (t > TZ_CLAMP)
                return TZ_CLAMP;
        return t;
}

bool
tz_is_leap_year(int64_t year)
{
        return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int
tz_days_in_month(int64_t year, int month)
{
        static const int len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

        assert(month >= 1 && month <= 12);
        if (month == 2 && tz_is_leap_year(year))
                return 29;
        return len[month - 1];
}

/* Howard Hinnant's days_from_civil and civil_from_days: 400-year eras of 146097 days, with
 * the year starting on March 1 so that the leap day falls at its end. */
int64_t
tz_days_from_civil(int64_t year, int month, int day)
{
        int64_t y = year - (month <= 2);
        int64_t era = s_floor_div(y, 400);
        int64_t yoe = y - era * 400;
        int64_t doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
        int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

        return era * 146097 + doe - 719468;
}

void
tz_civil_from_days(int64_t days, int64_t *ret_year, int *ret_month, int *ret_day)
{
        int64_t z = days + 719468;
        int64_t era = s_floor_div(z, 146097);
        int64_t doe = z - era * 146097;
        int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        int64_t mp = (5 * doy + 2) / 153;
        int month = (int)(mp < 10 ? mp + 3 : mp - 9);

        *ret_year = yoe + era * 400 + (month <= 2);
        *ret_month = month;
        *ret_day = (int)(doy - (153 * mp + 2) / 5 + 1);
}

int
tz_weekday_from_days(int64_t days)
{
        /* 1970-01-01 was a Thursday. */
        return (int)(days - s_floor_div(days + 4, 7) * 7 + 4);
}

/* POSIX TZ strings. */

static bool
s_is_alpha(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
s_is_digit(char c)
{
        return c >= '0' && c <= '9';
}

/* A number of at most max_digits digits no greater than max. */
static int
s_parse_num(const char **p, int max_digits, int max, int *ret)
{
        const char *s = *p;
        int v = 0, n = 0;

        while (s_is_digit(*s) && n < max_digits) {
                v = v * 10 + (*s - '0');
                s++;
                n++;
        }
        if (n == 0 || s_is_digit(*s) || v > max)
                return -EINVAL;
        *p = s;
        *ret = v;
        return 0;
}

/* A zone abbreviation: three or more letters, or anything of alphanumerics, '+' and '-'
 * between angle brackets. Only its syntax matters here. */
static int
s_parse_abbr(const char **p)
{
        const char *s = *p;
        size_t n = 0;

        if (*s == '<') {
                s++;
                while (s_is_alpha(*s) || s_is_digit(*s) || *s == '+' || *s == '-') {
                        s++;
                        n++;
                }
                if (*s != '>' || n < 1)
                        return -EINVAL;
                s++;
        } else {
                while (s_is_alpha(*s)) {
                        s++;
                        n++;
                }
                if (n < 3)
                        return -EINVAL;
        }
        *p = s;
        return 0;
}

/* [+-]hh[:mm[:ss]] with hh up to max_hours, as seconds (with the sign as written). */
static int
s_parse_hms(const char **p, int max_hours, int32_t *ret)
{
        const char *s = *p;
        int sign = 1, h, m = 0, sec = 0;

        if (*s == '+' || *s == '-') {
                sign = *s == '-' ? -1 : 1;
                s++;
        }
        if (s_parse_num(&s, 3, max_hours, &h) < 0)
                return -EINVAL;
        if (*s == ':') {
                s++;
                if (s_parse_num(&s, 2, 59, &m) < 0)
                        return -EINVAL;
                if (*s == ':') {
                        s++;
                        if (s_parse_num(&s, 2, 59, &sec) < 0)
                                return -EINVAL;
                }
        }
        *p = s;
        *ret = sign * (h * 3600 + m * 60 + sec);
        return 0;
}

static int
s_parse_rule_date(const char **p, struct rule_date *ret)
{
        const char *s = *p;
        struct rule_date r = {.time = 2 * 3600};

        if (*s == 'J') {
                s++;
                r.kind = RULE_JULIAN1;
                if (s_parse_num(&s, 3, 365, &r.day) < 0 || r.day < 1)
                        return -EINVAL;
        } else if (*s == 'M') {
                s++;
                r.kind = RULE_MONTH;
                if (s_parse_num(&s, 2, 12, &r.month) < 0 || r.month < 1 || *s++ != '.' ||
                    s_parse_num(&s, 1, 5, &r.week) < 0 || r.week < 1 || *s++ != '.' ||
                    s_parse_num(&s, 1, 6, &r.wday) < 0)
                        return -EINVAL;
        } else {
                r.kind = RULE_JULIAN0;
                if (s_parse_num(&s, 3, 365, &r.day) < 0)
                        return -EINVAL;
        }
        if (*s == '/') {
                s++;
                if (s_parse_hms(&s, 167, &r.time) < 0)
                        return -EINVAL;
        }
        *p = s;
        *ret = r;
        return 0;
}

static int
s_parse_posix(const char *spec, struct posix_tz *ret)
{
        const char *s = spec;
        struct posix_tz tz = {0};
        int32_t off;

        if (s_parse_abbr(&s) < 0 || s_parse_hms(&s, 24, &off) < 0)
                return -EINVAL;
        /* POSIX offsets count hours west of Greenwich. */
        tz.std_off = -off;
        tz.dst_off = tz.std_off;
        if (*s == '\0') {
                *ret = tz;
                return 0;
        }
        if (s_parse_abbr(&s) < 0)
                return -EINVAL;
        tz.has_dst = true;
        tz.dst_off = tz.std_off + 3600;
        if (*s != ',' && *s != '\0') {
                if (s_parse_hms(&s, 24, &off) < 0)
                        return -EINVAL;
                tz.dst_off = -off;
        }
        if (*s == '\0') {
                /* No rule: glibc's default, the US rules. */
                tz.start = (struct rule_date){
                    .kind = RULE_MONTH, .month = 3, .week = 2, .wday = 0, .time = 7200};
                tz.end = (struct rule_date){
                    .kind = RULE_MONTH, .month = 11, .week = 1, .wday = 0, .time = 7200};
        } else {
                if (*s++ != ',' || s_parse_rule_date(&s, &tz.start) < 0 || *s++ != ',' ||
                    s_parse_rule_date(&s, &tz.end) < 0 || *s != '\0')
                        return -EINVAL;
        }
        *ret = tz;
        return 0;
}

/* The local wall time (local seconds) at which rule date r falls in year. */
static int64_t
s_rule_local(const struct rule_date *r, int64_t year)
{
        int64_t jan1 = tz_days_from_civil(year, 1, 1), day;

        switch (r->kind) {
        case RULE_JULIAN1:
                day = jan1 + r->day - 1;
                if (r->day >= 60 && tz_is_leap_year(year))
                        day++;
                break;
        case RULE_JULIAN0:
                day = jan1 + r->day;
                break;
        case RULE_MONTH:
        default: {
                int64_t first = tz_days_from_civil(year, r->month, 1);
                int64_t limit = first + tz_days_in_month(year, r->month);

                day = first + (r->wday - tz_weekday_from_days(first) + 7) % 7 +
                      (int64_t)(r->week - 1) * 7;
                while (day >= limit)
                        day -= 7;
                break;
        }
        }
        return day * TZ_DAY + r->time;
}

/* The UTC instants at which DST starts and ends in year. The start is written in standard
 * time, the end in daylight time. */
static void
s_rule_year(const struct posix_tz *p, int64_t year, int64_t *ret_start, int64_t *ret_end)
{
        *ret_start = s_rule_local(&p->start, year) - p->std_off;
        *ret_end = s_rule_local(&p->end, year) - p->dst_off;
}

static int64_t
s_rule_year_of(const struct posix_tz *p, int64_t t)
{
        int64_t year;
        int month, day;

        tz_civil_from_days(s_floor_div(t + p->std_off, TZ_DAY), &year, &month, &day);
        return year;
}

/* The offset the rule puts in force at t: that of the latest rule change at or before t,
 * looking at the neighbouring years too, so that changes near New Year (or rules such as
 * "J1/0,J365/25", DST all year) come out right. At equal instants the later year wins.
 * A year's changes can fall up to about nine days into the next year (day 365 at 167 hours),
 * so early in January both changes of the year before may still lie ahead: the latest one
 * passed is then two years back. */
static int32_t
s_rule_offset(const struct posix_tz *p, int64_t t)
{
        int64_t year, best = INT64_MIN;
        bool dst = false;

        /* Without DST the year (a civil-date conversion) is not needed: calendars ask this
         * for every week they walk. */
        if (!p->has_dst)
                return p->std_off;
        year = s_rule_year_of(p, t);
        for (int64_t y = year - 2; y <= year + 1; y++) {
                int64_t start, end;

                s_rule_year(p, y, &start, &end);
                if (start <= t && start >= best) {
                        best = start;
                        dst = true;
                }
                if (end <= t && end >= best) {
                        best = end;
                        dst = false;
                }
        }
        return dst ? p->dst_off : p->std_off;
}

static int
s_rule_next(const struct posix_tz *p, int64_t t, int64_t *ret)
{
        int64_t year, best = INT64_MAX;

        if (!p->has_dst)
                return -ENOENT;
        year = s_rule_year_of(p, t);
        for (int64_t y = year - 1; y <= year + 2; y++) {
                int64_t start, end;

                s_rule_year(p, y, &start, &end);
                if (start > t && start < best)
                        best = start;
                if (end > t && end < best)
                        best = end;
        }
        *ret = best;
        return 0;
}

/* TZif. */

struct tzif_header {
        char version;
        uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static uint32_t
s_be32(const unsigned char *p)
{
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t
s_be64(const unsigned char *p)
{
        return (int64_t)((uint64_t)s_be32(p) << 32 | s_be32(p + 4));
}

static int
s_read_header(const unsigned char *p, size_t left, struct tzif_header *ret)
{
        if (left < 44 || memcmp(p, "TZif", 4) != 0)
                return -EINVAL;
        ret->version = (char)p[4];
        ret->isutcnt = s_be32(p + 20);
        ret->isstdcnt = s_be32(p + 24);
        ret->leapcnt = s_be32(p + 28);
        ret->timecnt = s_be32(p + 32);
        ret->typecnt = s_be32(p + 36);
        ret->charcnt = s_be32(p + 40);
        return 0;
}

/* The size of the data block that follows header h, with times of time_size bytes. */
static uint64_t
s_block_size(const struct tzif_header *h, unsigned time_size)
{
        return (uint64_t)h->timecnt * (time_size + 1) + (uint64_t)h->typecnt * 6 + h->charcnt +
               (uint64_t)h->leapcnt * (time_size + 4) + h->isstdcnt + h->isutcnt;
}

static tz_t *
s_tz_new(const char *name)
{
        tz_t *tz = calloc(1, sizeof(*tz));

        if (!tz)
                return NULL;
        tz->name = strdup(name);
        if (!tz->name) {
                free(tz);
                return NULL;
        }
        return tz;
}

/* Fills tz from the data block at p (left bytes available) described by h. */
static int
s_parse_block(tz_t *tz, const struct tzif_header *h, unsigned time_size, const unsigned char *p,
              size_t left)
{
        if (h->typecnt < 1 || h->typecnt > 256 || h->charcnt < 1 ||
            (h->isstdcnt != 0 && h->isstdcnt != h->typecnt) ||
            (h->isutcnt != 0 && h->isutcnt != h->typecnt) || s_block_size(h, time_size) > left)
                return -EINVAL;

        tz->n_trans = h->timecnt;
        tz->n_types = h->typecnt;
        tz->trans = calloc(h->timecnt ? h->timecnt : 1, sizeof(*tz->trans));
        tz->trans_type = calloc(h->timecnt ? h->timecnt : 1, 1);
        tz->type_off = calloc(h->typecnt, sizeof(*tz->type_off));
        if (!tz->trans || !tz->trans_type || !tz->type_off)
                return -ENOMEM;

        for (size_t i = 0; i < h->timecnt; i++) {
                const unsigned char *q = p + i * time_size;

                tz->trans[i] = time_size == 8 ? s_be64(q) : (int32_t)s_be32(q);
                if (i > 0 && tz->trans[i] <= tz->trans[i - 1])
                        return -EINVAL;
        }
        p += (size_t)h->timecnt * time_size;
        for (size_t i = 0; i < h->timecnt; i++) {
                if (p[i] >= h->typecnt)
                        return -EINVAL;
                tz->trans_type[i] = p[i];
        }
        p += h->timecnt;
        for (size_t i = 0; i < h->typecnt; i++, p += 6) {
                int32_t off = (int32_t)s_be32(p);

                if (off < -TZ_MAX_UTOFF || off > TZ_MAX_UTOFF || p[4] > 1 || p[5] >= h->charcnt)
                        return -EINVAL;
                tz->type_off[i] = off;
        }
        /* Abbreviations, leap seconds and the standard/UT indicators are not needed. */
        return 0;
}

/* Fills tz from the TZif image p of size bytes. */
static int
s_parse_tzif(tz_t *tz, const unsigned char *p, size_t size)
{
        struct tzif_header h;
        uint64_t skip;
        const unsigned char *nl;
        char footer[256];
        size_t len;
        int r;

        if (s_read_header(p, size, &h) < 0)
                return -EINVAL;
        if (h.version == '\0')
                return s_parse_block(tz, &h, 4, p + 44, size - 44);

        /* Version 2 and later: skip the 32-bit block, use the 64-bit one and the footer. */
        skip = 44 + s_block_size(&h, 4);
        if (skip > size || s_read_header(p + skip, size - skip, &h) < 0 || h.version < '2')
                return -EINVAL;
        p += skip + 44;
        size -= skip + 44;
        r = s_parse_block(tz, &h, 8, p, size);
        if (r < 0)
                return r;
        p += s_block_size(&h, 8);
        size -= s_block_size(&h, 8);

        /* The footer: a POSIX TZ string between two newlines, possibly empty. */
        if (size < 2 || p[0] != '\n')
                return -EINVAL;
        nl = memchr(p + 1, '\n', size - 1);
        if (!nl)
                return -EINVAL;
        len = (size_t)(nl - (p + 1));
        if (len == 0)
                return 0;
        if (len >= sizeof(footer) || memchr(p + 1, '\0', len))
                return -EINVAL;
        memcpy(footer, p + 1, len);
        footer[len] = '\0';
        r = s_parse_posix(footer, &tz->rule);
        if (r < 0)
                return r;
        tz->has_rule = true;
        return 0;
}

int
tz_parse_tzif(const char *name, const void *data, size_t size, tz_t **ret)
{
        tz_t *tz;
        int r;

        assert(name);
        assert(ret);

        if (!data)
                return -EINVAL;
        tz = s_tz_new(name);
        if (!tz)
                return -ENOMEM;
        r = s_parse_tzif(tz, data, size);
        if (r < 0) {
                tz_free(&tz);
                return r;
        }
        *ret = tz;
        return 0;
}

int
tz_load_posix(const char *spec, tz_t **ret)
{
        struct posix_tz rule;
        tz_t *tz;

        assert(spec);
        assert(ret);

        if (s_parse_posix(spec, &rule) < 0)
                return -EINVAL;
        tz = s_tz_new(spec);
        if (!tz)
                return -ENOMEM;
        tz->n_types = 1;
        tz->type_off = calloc(1, sizeof(*tz->type_off));
        if (!tz->type_off) {
                tz_free(&tz);
                return -ENOMEM;
        }
        tz->type_off[0] = rule.std_off;
        tz->rule = rule;
        tz->has_rule = true;
        *ret = tz;
        return 0;
}

static int
s_read_all(int fd, size_t size, unsigned char *buf)
{
        size_t got = 0;

        while (got < size) {
                ssize_t n = read(fd, buf + got, size - got);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return -EINVAL; /* shrank under us */
                got += (size_t)n;
        }
        return 0;
}

int
tz_load(const char *name, tz_t **ret)
{
        const char *dir = getenv("COMPLAINTD_ZONEINFO");
        char path[PATH_MAX];
        unsigned char *buf;
        struct stat st;
        int fd, r;

        assert(name);
        assert(ret);

        if (name[0] == '\0' || name[0] == '/' || strlen(name) > TZ_MAX_NAME || strstr(name, ".."))
                return -EINVAL;
        if (!dir || dir[0] == '\0')
                dir = TZ_DEFAULT_ZONEINFO;
        r = snprintf(path, sizeof(path), "%s/%s", dir, name);
        if (r < 0 || (size_t)r >= sizeof(path))
                return -ENAMETOOLONG;

        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                r = -errno;
                if (r == -ENOENT && strcmp(name, "UTC") == 0)
                        return tz_load_posix("UTC0", ret) < 0 ? -ENOMEM : 0;
                return r == -ENOTDIR ? -ENOENT : r;
        }
        if (fstat(fd, &st) < 0) {
                r = -errno;
                close(fd);
                return r;
        }
        if (!S_ISREG(st.st_mode)) {
                close(fd);
                return -ENOENT;
        }
        if (st.st_size > TZ_MAX_FILE) {
                close(fd);
                return -EINVAL;
        }
        buf = malloc(st.st_size > 0 ? (size_t)st.st_size : 1);
        if (!buf) {
                close(fd);
                return -ENOMEM;
        }
        r = s_read_all(fd, (size_t)st.st_size, buf);
        close(fd);
        if (r == 0)
                r = tz_parse_tzif(name, buf, (size_t)st.st_size, ret);
        free(buf);
        return r;
}

void
tz_free(tz_t **tz)
{
        if (!tz || !*tz)
                return;
        free((*tz)->name);
        free((*tz)->trans);
        free((*tz)->trans_type);
        free((*tz)->type_off);
        free(*tz);
        *tz = NULL;
}

/* FNV-1a, 64 bits, over v as 8 little-endian bytes: the digest must not depend on the host. */
static uint64_t
s_fnv(uint64_t h, int64_t v)
{
        uint64_t u = (uint64_t)v;

        for (int i = 0; i < 8; i++) {
                h ^= (u >> (8 * i)) & 0xff;
                h *= 0x100000001b3ULL;
        }
        return h;
}

static uint64_t
s_fnv_rule_date(uint64_t h, const struct rule_date *d)
{
        h = s_fnv(h, d->kind);
        h = s_fnv(h, d->day);
        h = s_fnv(h, d->month);
        h = s_fnv(h, d->week);
        h = s_fnv(h, d->wday);
        return s_fnv(h, d->time);
}

uint64_t
tz_rules_digest(const tz_t *tz)
{
        uint64_t h = 0xcbf29ce484222325ULL;

        /* What the offsets are and when they change, not how the file spelt it. */
        h = s_fnv(h, (int64_t)tz->n_trans);
        h = s_fnv(h, tz->n_types ? tz->type_off[0] : 0);
        for (size_t i = 0; i < tz->n_trans; i++) {
                h = s_fnv(h, tz->trans[i]);
                h = s_fnv(h, tz->type_off[tz->trans_type[i]]);
        }
        h = s_fnv(h, tz->has_rule);
        if (tz->has_rule) {
                h = s_fnv(h, tz->rule.has_dst);
                h = s_fnv(h, tz->rule.std_off);
                h = s_fnv(h, tz->rule.dst_off);
                if (tz->rule.has_dst) {
                        h = s_fnv_rule_date(h, &tz->rule.start);
                        h = s_fnv_rule_date(h, &tz->rule.end);
                }
        }
        return h ? h : 1; /* 0 is what a store without a recorded digest reads */
}

const char *
tz_name(const tz_t *tz)
{
        assert(tz);
        return tz->name;
}

/* Whether t lies past the explicit transitions, where the footer rule decides. */
static bool
s_uses_rule(const tz_t *tz, int64_t t)
{
        return tz->has_rule && (tz->n_trans == 0 || t >= tz->trans[tz->n_trans - 1]);
}

/* The number of transitions at or before t. */
static size_t
s_count_at_or_before(const tz_t *tz, int64_t t)
{
        size_t lo = 0, hi = tz->n_trans;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (tz->trans[mid] <= t)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

int32_t
tz_offset_at(const tz_t *tz, int64_t utc_s)
{
        int64_t t = s_clamp(utc_s);
        size_t n;

        assert(tz);
        if (s_uses_rule(tz, t))
                return s_rule_offset(&tz->rule, t);
        n = s_count_at_or_before(tz, t);
        if (n == 0)
                return tz->type_off[0];
        return tz->type_off[tz->trans_type[n - 1]];
}

int64_t
tz_local_of_utc(const tz_t *tz, int64_t utc_s)
{
        int64_t t = s_clamp(utc_s);

        return t + tz_offset_at(tz, t);
}

int
tz_next_transition(const tz_t *tz, int64_t utc_s, int64_t *ret_utc_s)
{
        int64_t t = s_clamp(utc_s);
        size_t n;

        assert(tz);
        assert(ret_utc_s);
        if (s_uses_rule(tz, t))
                return s_rule_next(&tz->rule, t, ret_utc_s);
        n = s_count_at_or_before(tz, t);
        if (n < tz->n_trans) {
                *ret_utc_s = tz->trans[n];
                return 0;
        }
        /* Past the last transition without a rule: the last type holds for ever. */
        return -ENOENT;
}

int64_t
tz_utc_of_local(const tz_t *tz, int64_t local_s)
{
        int64_t l = s_clamp(local_s);
        /* Two days before, the wall clock (offsets within +-26 h) surely read less than l. */
        int64_t a = l - 2 * TZ_DAY;

        assert(tz);
        /* Walk the stretches of constant offset [a, b) in order; the first that reaches l
         * holds the answer: l itself if the stretch covers it, or its start if the clock
         * jumped over l into it. */
        for (;;) {
                int32_t off = tz_offset_at(tz, a);
                int64_t b;

                if (l <= a + off)
                        return a;
                if (tz_next_transition(tz, a, &b) < 0 || l < b + off)
                        return l - off;
                a = b;
        }
}
