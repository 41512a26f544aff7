/* json.c: the streaming JSON writer declared in json.h. */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>

#include "json.h"

void
json_init(json_t *j, FILE *f)
{
        assert(j);
        assert(f);
        *j = (json_t){.f = f, .first = true};
}

int
json_finish(json_t *j)
{
        assert(j->depth == 0 && !j->key);
        fputc('\n', j->f);
        if (fflush(j->f) != 0 || ferror(j->f))
                return -EIO;
        return 0;
}

/* Writes what separates the value about to be written from the one before it. */
static void
s_value_prefix(json_t *j)
{
        if (j->depth > 0 && j->object[j->depth - 1]) {
                /* Inside an object a value must follow its key. */
                assert(j->key);
                j->key = false;
                return;
        }
        if (!j->first)
                fputc(',', j->f);
        j->first = false;
}

static void
s_begin(json_t *j, bool object)
{
        s_value_prefix(j);
        assert(j->depth < JSON_DEPTH_MAX);
        j->object[j->depth++] = object;
        j->first = true;
        fputc(object ? '{' : '[', j->f);
}

static void
s_end(json_t *j, bool object)
{
        assert(j->depth > 0 && j->object[j->depth - 1] == object && !j->key);
        j->depth--;
        j->first = false;
        fputc(object ? '}' : ']', j->f);
}

void
json_object_begin(json_t *j)
{
        s_begin(j, true);
}

void
json_object_end(json_t *j)
{
        s_end(j, true);
}

void
json_array_begin(json_t *j)
{
        s_begin(j, false);
}

void
json_array_end(json_t *j)
{
        s_end(j, false);
}

/* The length of the valid UTF-8 sequence at s (1 to 4 bytes), or 0 when the bytes there are not
 * one: a stray continuation byte, a truncated sequence, an overlong form, a surrogate or a code
 * point past U+10FFFF. */
static size_t
s_utf8_len(const unsigned char *s)
{
        unsigned char c = s[0];
        size_t n;
        uint32_t cp;

        if (c < 0x80)
                return 1;
        if (c >= 0xc2 && c <= 0xdf) {
                n = 2;
                cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
                n = 3;
                cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
                n = 4;
                cp = c & 0x07;
        } else {
                return 0;
        }
        for (size_t i = 1; i < n; i++) {
                /* A NUL terminator is not a continuation byte, so this never reads past it. */
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3f);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return n;
}

static void
s_write_string(FILE *f, const char *str)
{
        const unsigned char *s = (const unsigned char *)(str ? str : "");

        fputc('"', f);
        while (*s) {
                size_t n;

                if (*s == '"' || *s == '\\') {
                        fputc('\\', f);
                        fputc(*s++, f);
                        continue;
                }
                if (*s < 0x20 || *s == 0x7f) {
                        fprintf(f, "\\u%04x", *s++);
                        continue;
                }
                n = s_utf8_len(s);
                if (n == 0) {
                        fputs("\\ufffd", f);
                        s++;
                        continue;
                }
                fwrite(s, 1, n, f);
                s += n;
        }
        fputc('"', f);
}

void
json_key(json_t *j, const char *key)
{
        assert(j->depth > 0 && j->object[j->depth - 1] && !j->key);
        assert(key);
        if (!j->first)
                fputc(',', j->f);
        j->first = false;
        s_write_string(j->f, key);
        fputc(':', j->f);
        j->key = true;
}

void
json_string(json_t *j, const char *s)
{
        s_value_prefix(j);
        s_write_string(j->f, s);
}

void
json_int(json_t *j, int64_t v)
{
        s_value_prefix(j);
        fprintf(j->f, "%" PRId64, v);
}

void
json_uint(json_t *j, uint64_t v)
{
        s_value_prefix(j);
        fprintf(j->f, "%" PRIu64, v);
}

void
json_bool(json_t *j, bool v)
{
        s_value_prefix(j);
        fputs(v ? "true" : "false", j->f);
}

void
json_double(json_t *j, double v)
{
        /* JSON has no NaN or infinity: those are written as null. */
        if (!isfinite(v)) {
                json_null(j);
                return;
        }
        s_value_prefix(j);
        fprintf(j->f, "%.17g", v);
}

void
json_null(json_t *j)
{
        s_value_prefix(j);
        fputs("null", j->f);
}

void
json_kv_string(json_t *j, const char *key, const char *s)
{
        json_key(j, key);
        json_string(j, s);
}

void
json_kv_int(json_t *j, const char *key, int64_t v)
{
        json_key(j, key);
        json_int(j, v);
}

void
json_kv_uint(json_t *j, const char *key, uint64_t v)
{
        json_key(j, key);
        json_uint(j, v);
}

void
json_kv_bool(json_t *j, const char *key, bool v)
{
        json_key(j, key);
        json_bool(j, v);
}
