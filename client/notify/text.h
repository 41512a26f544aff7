/* text.h: the text helpers of complaint-notify. It owns buf_t, a growable byte buffer, and the
 * pure functions that write into one: times in a zone and durations as people read them,
 * UTF-8-safe cutting, redaction of e-mail addresses and phone numbers in free text, JSON string
 * escaping, base64, and {placeholder} templates. No I/O, no logging.
 *
 * A buf_t that ran out of memory stays usable: every later write is dropped and buf_failed()
 * says so, so a caller writes a whole document and checks once. */
#ifndef COMPLAINT_NOTIFY_TEXT_H
#define COMPLAINT_NOTIFY_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tz.h"

typedef struct buf {
        char *p;    /* NUL-terminated once anything was written; NULL before */
        size_t len; /* bytes written, without the NUL */
        size_t cap;
        bool oom; /* a write failed for want of memory */
} buf_t;

#define BUF_INIT                  \
        {                         \
                NULL, 0, 0, false \
        }

void buf_putn(buf_t *b, const void *data, size_t n);
void buf_puts(buf_t *b, const char *s);
void buf_putc(buf_t *b, char c);
void buf_printf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The text written so far, "" when nothing was; borrowed until the next write or buf_free(). */
const char *buf_str(const buf_t *b);
/* Whether a write was dropped for want of memory. */
bool buf_failed(const buf_t *b);
/* Empties the buffer, keeping its memory. */
void buf_reset(buf_t *b);
/* Frees the memory; the buffer is empty and usable again. */
void buf_free(buf_t *b);
/* Hands the text over: the caller's, to free(); NULL when a write failed (the buffer is freed
 * then). The buffer is empty again. */
char *buf_steal(buf_t *b);

/* The length of the longest prefix of s, at most max bytes, that ends on a UTF-8 character
 * boundary. */
size_t text_utf8_cut(const char *s, size_t max);

/* Whether s is valid UTF-8 (no overlong forms, no surrogates). */
bool text_utf8_valid(const char *s, size_t n);

/* Writes the instant ms (UTC milliseconds) as local time in tz: "2026-12-03 19:52 +01:00" (with
 * seconds when seconds is true). tz NULL writes UTC. */
void text_time(buf_t *b, int64_t ms, const tz_t *tz, bool seconds);

/* Writes a duration as people read it, in at most two units: "45s", "3m12s", "4h5m", "2d3h".
 * Negative durations are written as 0s. */
void text_duration(buf_t *b, int64_t ms);

/* Appends s with every e-mail address and every phone number (a run of at least 7 digits,
 * allowing the separators of written numbers: spaces, '-', '.', '/', parentheses, a leading
 * '+') replaced by "[redacted]". Whatever else s holds is copied unchanged. */
void text_redact(buf_t *b, const char *s);

/* Appends s as a JSON string, quotes included: '"', '\\' and control characters escaped,
 * invalid UTF-8 bytes replaced by U+FFFD. NULL is written as "". */
void text_json_string(buf_t *b, const char *s);

/* Appends the base64 encoding (RFC 4648) of n bytes, with a '\n' after every line_len output
 * characters (0: on one line) and after the last line when line_len is not 0. */
void text_base64(buf_t *b, const void *data, size_t n, size_t line_len);

/* Decodes base64 (without line breaks) into a malloc'ed buffer. Returns 0 with *ret and
 * *ret_n, -EINVAL for malformed input, or -ENOMEM. */
int text_base64_decode(const char *s, size_t n, uint8_t **ret, size_t *ret_n);

/* Templates: text with {name} placeholders; "{{" and "}}" write a brace. Returns 0 when every
 * placeholder of tpl is one of the NULL-terminated names; otherwise -EINVAL with the first
 * offending placeholder (or "{" for an unclosed one) copied to bad (size bad_size). */
int text_template_check(const char *tpl, const char *const *names, char *bad, size_t bad_size);

/* Appends tpl with each {name} replaced by value(arg, name), which returns a borrowed string or
 * NULL for "" (the template was checked with text_template_check()). */
void text_template_expand(buf_t *b, const char *tpl, const char *(*value)(void *arg, const char *),
                          void *arg);

#endif
