/* text.c: buf_t and the text helpers declared in text.h. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

/* -------------------------------------------------------------------- buf_t */

static bool
s_reserve(buf_t *b, size_t n)
{
        size_t cap;
        char *p;

        if (b->oom)
                return false;
        if (b->len + n + 1 <= b->cap)
                return true;
        cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
                cap *= 2;
        p = realloc(b->p, cap);
        if (p == NULL) {
                b->oom = true;
                return false;
        }
        b->p = p;
        b->cap = cap;
        return true;
}

void
buf_putn(buf_t *b, const void *data, size_t n)
{
        if (!s_reserve(b, n))
                return;
        if (n)
                memcpy(b->p + b->len, data, n);
        b->len += n;
        b->p[b->len] = '\0';
}

void
buf_puts(buf_t *b, const char *s)
{
        if (s)
                buf_putn(b, s, strlen(s));
}

void
buf_putc(buf_t *b, char c)
{
        buf_putn(b, &c, 1);
}

void
buf_printf(buf_t *b, const char *fmt, ...)
{
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n < 0 || !s_reserve(b, (size_t)n))
                return;
        va_start(ap, fmt);
        vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
        b->len += (size_t)n;
}

const char *
buf_str(const buf_t *b)
{
        return b->p && !b->oom ? b->p : "";
}

bool
buf_failed(const buf_t *b)
{
        return b->oom;
}

void
buf_reset(buf_t *b)
{
        b->len = 0;
        b->oom = false;
        if (b->p)
                b->p[0] = '\0';
}

void
buf_free(buf_t *b)
{
        free(b->p);
        *b = (buf_t)BUF_INIT;
}

char *
buf_steal(buf_t *b)
{
        char *p;

        if (b->oom || (b->p == NULL && !s_reserve(b, 0))) {
                buf_free(b);
                return NULL;
        }
        p = b->p;
        *b = (buf_t)BUF_INIT;
        return p;
}

/* -------------------------------------------------------------------- UTF-8 */

/* The length of the valid UTF-8 sequence at s (at most n bytes), or 0 when invalid. */
static size_t
s_utf8_len(const unsigned char *s, size_t n)
{
        uint32_t cp;
        size_t len;

        if (s[0] < 0x80)
                return 1;
        if (s[0] >= 0xc2 && s[0] <= 0xdf)
                len = 2, cp = s[0] & 0x1f;
        else if (s[0] >= 0xe0 && s[0] <= 0xef)
                len = 3, cp = s[0] & 0x0f;
        else if (s[0] >= 0xf0 && s[0] <= 0xf4)
                len = 4, cp = s[0] & 0x07;
        else
                return 0;
        if (len > n)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = cp << 6 | (s[i] & 0x3f);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return len;
}

bool
text_utf8_valid(const char *s, size_t n)
{
        const unsigned char *u = (const unsigned char *)s;

        for (size_t i = 0; i < n;) {
                size_t len = s_utf8_len(u + i, n - i);

                if (len == 0)
                        return false;
                i += len;
        }
        return true;
}

size_t
text_utf8_cut(const char *s, size_t max)
{
        size_t n = strnlen(s, max + 1);

        if (n <= max)
                return n;
        n = max;
        /* Back off continuation bytes, then the lead byte whose sequence does not fit. */
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
                n--;
        return n;
}

/* -------------------------------------------------------------------- times */

void
text_time(buf_t *b, int64_t ms, const tz_t *tz, bool seconds)
{
        int64_t utc_s = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
        int32_t off = tz ? tz_offset_at(tz, utc_s) : 0;
        int64_t local = utc_s + off, days, year;
        int month, day, sod, aoff = off < 0 ? -off : off;

        days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
        sod = (int)(local - days * 86400);
        tz_civil_from_days(days, &year, &month, &day);
        buf_printf(b, "%04" PRId64 "-%02d-%02d %02d:%02d", year, month, day, sod / 3600,
                   sod / 60 % 60);
        if (seconds)
                buf_printf(b, ":%02d", sod % 60);
        buf_printf(b, " %c%02d:%02d", off < 0 ? '-' : '+', aoff / 3600, aoff / 60 % 60);
}

void
text_duration(buf_t *b, int64_t ms)
{
        static const struct {
                int64_t ms;
                char unit;
        } units[] = {{86400000, 'd'}, {3600000, 'h'}, {60000, 'm'}, {1000, 's'}};
        int64_t s = ms > 0 ? ms : 0;

        for (size_t i = 0; i < 4; i++) {
                if (s >= units[i].ms || i == 3) {
                        buf_printf(b, "%" PRId64 "%c", s / units[i].ms, units[i].unit);
                        s %= units[i].ms;
                        if (i < 3 && s >= units[i + 1].ms)
                                buf_printf(b, "%" PRId64 "%c", s / units[i + 1].ms,
                                           units[i + 1].unit);
                        return;
                }
        }
}

/* -------------------------------------------------------------------- redaction */

static bool
s_email_char(unsigned char c)
{
        return isalnum(c) || strchr("._%+-", c) != NULL;
}

/* The length of an e-mail address starting at s (s is at the start of a word), or 0. */
static size_t
s_email_at(const char *s)
{
        size_t i = 0, dots = 0, host;

        while (s[i] && s_email_char((unsigned char)s[i]))
                i++;
        if (i == 0 || s[i] != '@')
                return 0;
        host = ++i;
        while (s[i] && (isalnum((unsigned char)s[i]) || s[i] == '-' || s[i] == '.')) {
                if (s[i] == '.' && isalnum((unsigned char)s[i + 1]))
                        dots++;
                i++;
        }
        while (i > host && s[i - 1] == '.')
                i--;
        return dots > 0 && i > host ? i : 0;
}

/* The length of a phone number starting at s (at least 7 digits with the separators of written
 * numbers), or 0. */
static size_t
s_phone_at(const char *s)
{
        size_t i = 0, digits = 0, end = 0;

        if (s[0] == '+')
                i++;
        for (; s[i]; i++) {
                if (isdigit((unsigned char)s[i])) {
                        digits++;
                        end = i + 1;
                } else if (!strchr(" -./()", s[i]) || s[i + 1] == '\0') {
                        break;
                }
        }
        return digits >= 7 ? end : 0;
}

void
text_redact(buf_t *b, const char *s)
{
        size_t i = 0;

        if (s == NULL)
                return;
        while (s[i]) {
                bool start = i == 0 || !s_email_char((unsigned char)s[i - 1]);
                size_t n = 0;

                if (start)
                        n = s_email_at(s + i);
                if (n == 0 && (i == 0 || !isalnum((unsigned char)s[i - 1])) &&
                    (s[i] == '+' || s[i] == '(' || isdigit((unsigned char)s[i])))
                        n = s_phone_at(s + i + (s[i] == '(')) + (s[i] == '(');
                if (n > (s[i] == '(' ? 1u : 0u)) {
                        buf_puts(b, "[redacted]");
                        i += n;
                        continue;
                }
                buf_putc(b, s[i++]);
        }
}

/* -------------------------------------------------------------------- JSON, base64 */

void
text_json_string(buf_t *b, const char *s)
{
        const unsigned char *u = (const unsigned char *)(s ? s : "");
        size_t n = strlen((const char *)u);

        buf_putc(b, '"');
        for (size_t i = 0; i < n;) {
                unsigned char c = u[i];
                size_t len;

                if (c == '"' || c == '\\') {
                        buf_putc(b, '\\');
                        buf_putc(b, (char)c);
                        i++;
                } else if (c == '\n') {
                        buf_puts(b, "\\n");
                        i++;
                } else if (c == '\t') {
                        buf_puts(b, "\\t");
                        i++;
                } else if (c < 0x20 || c == 0x7f) {
                        buf_printf(b, "\\u%04x", c);
                        i++;
                } else if ((len = s_utf8_len(u + i, n - i)) == 0) {
                        buf_puts(b, "\xef\xbf\xbd");
                        i++;
                } else {
                        buf_putn(b, u + i, len);
                        i += len;
                }
        }
        buf_putc(b, '"');
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void
text_base64(buf_t *b, const void *data, size_t n, size_t line_len)
{
        const unsigned char *d = data;
        size_t col = 0;

        for (size_t i = 0; i < n; i += 3) {
                uint32_t v = (uint32_t)d[i] << 16;
                char out[4];

                if (i + 1 < n)
                        v |= (uint32_t)d[i + 1] << 8;
                if (i + 2 < n)
                        v |= d[i + 2];
                out[0] = b64[v >> 18 & 63];
                out[1] = b64[v >> 12 & 63];
                out[2] = i + 1 < n ? b64[v >> 6 & 63] : '=';
                out[3] = i + 2 < n ? b64[v & 63] : '=';
                buf_putn(b, out, 4);
                col += 4;
                if (line_len && col >= line_len) {
                        buf_putc(b, '\n');
                        col = 0;
                }
        }
        if (line_len && col)
                buf_putc(b, '\n');
}

int
text_base64_decode(const char *s, size_t n, uint8_t **ret, size_t *ret_n)
{
        uint8_t *out;
        size_t o = 0;

        if (n % 4)
                return -EINVAL;
        out = malloc(n / 4 * 3 + 1);
        if (out == NULL)
                return -ENOMEM;
        for (size_t i = 0; i < n; i += 4) {
                uint32_t v = 0;
                int pad = 0;

                for (int k = 0; k < 4; k++) {
                        const char *p = s[i + k] ? strchr(b64, s[i + k]) : NULL;

                        if (s[i + k] == '=' && i + 4 == n && k >= 2) {
                                pad++;
                                v <<= 6;
                        } else if (p == NULL || pad) {
                                free(out);
                                return -EINVAL;
                        } else {
                                v = v << 6 | (uint32_t)(p - b64);
                        }
                }
                out[o++] = (uint8_t)(v >> 16);
                if (pad < 2)
                        out[o++] = (uint8_t)(v >> 8);
                if (pad < 1)
                        out[o++] = (uint8_t)v;
        }
        *ret = out;
        *ret_n = o;
        return 0;
}

/* -------------------------------------------------------------------- templates */

/* Calls fn for each literal run and each placeholder of tpl; stops at the first error. */
static int
s_template_walk(const char *tpl, int (*fn)(void *arg, bool name, const char *s, size_t n),
                void *arg)
{
        const char *p = tpl;
        int r = 0;

        while (*p && r == 0) {
                const char *brace = strpbrk(p, "{}");

                if (brace == NULL) {
                        r = fn(arg, false, p, strlen(p));
                        break;
                }
                if (brace > p)
                        r = fn(arg, false, p, (size_t)(brace - p));
                if (r)
                        break;
                if (brace[0] == brace[1]) {
                        r = fn(arg, false, brace, 1);
                        p = brace + 2;
                } else if (brace[0] == '}') {
                        r = fn(arg, true, NULL, 0); /* a lone '}' */
                        p = brace + 1;
                } else {
                        const char *end = strchr(brace + 1, '}');

                        if (end == NULL) {
                                r = fn(arg, true, NULL, 0);
                                break;
                        }
                        r = fn(arg, true, brace + 1, (size_t)(end - brace - 1));
                        p = end + 1;
                }
        }
        return r;
}

struct check {
        const char *const *names;
        char *bad;
        size_t bad_size;
};

static int
s_check_part(void *arg, bool name, const char *s, size_t n)
{
        struct check *c = arg;

        if (!name)
                return 0;
        if (s != NULL)
                for (const char *const *k = c->names; *k; k++)
                        if (strlen(*k) == n && memcmp(*k, s, n) == 0)
                                return 0;
        if (c->bad_size)
                snprintf(c->bad, c->bad_size, "{%.*s%s", s ? (int)(n > 40 ? 40 : n) : 0, s ? s : "",
                         s ? "}" : "");
        return -EINVAL;
}

int
text_template_check(const char *tpl, const char *const *names, char *bad, size_t bad_size)
{
        struct check c = {names, bad, bad_size};

        return s_template_walk(tpl, s_check_part, &c);
}

struct expand {
        buf_t *b;
        const char *(*value)(void *arg, const char *name);
        void *arg;
};

static int
s_expand_part(void *arg, bool name, const char *s, size_t n)
{
        struct expand *x = arg;
        char key[64];

        if (!name) {
                buf_putn(x->b, s, n);
                return 0;
        }
        if (s == NULL || n >= sizeof(key))
                return 0;
        memcpy(key, s, n);
        key[n] = '\0';
        buf_puts(x->b, x->value(x->arg, key));
        return 0;
}

void
text_template_expand(buf_t *b, const char *tpl, const char *(*value)(void *arg, const char *),
                     void *arg)
{
        struct expand x = {b, value, arg};

        s_template_walk(tpl, s_expand_part, &x);
}
