/* mailmsg.c: RFC 5322 and MIME composition (mailmsg.h). */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "mailmsg.h"

/* Raw bytes per encoded-word: 45 bytes are 60 base64 characters, and with "=?UTF-8?B?" and
 * "?=" the word is 72 characters, under RFC 2047's 75. */
#define WORD_RAW 45
/* The longest body line sent as 7bit (RFC 5322 allows 998; stay well under). */
#define LINE_7BIT 900

static bool
s_ascii(const char *s)
{
        for (; *s; s++)
                if ((unsigned char)*s >= 0x80)
                        return false;
        return true;
}

/* Whether s may go into a header as it is: no line breaks or control characters. */
static bool
s_header_safe(const char *s)
{
        for (; *s; s++)
                if ((unsigned char)*s < 0x20 || *s == 0x7f)
                        return false;
        return true;
}

void
mailmsg_encode_words(buf_t *out, const char *text)
{
        size_t n = strlen(text), i = 0;

        while (i < n) {
                size_t take = text_utf8_cut(text + i, WORD_RAW);

                if (take == 0) /* a stray byte longer than a word cannot happen; be safe */
                        take = 1;
                if (i > 0)
                        buf_puts(out, "\n ");
                buf_puts(out, "=?UTF-8?B?");
                text_base64(out, text + i, take, 0);
                buf_puts(out, "?=");
                i += take;
        }
}

/* A header whose value is free text: encoded-words when not ASCII, else folded at spaces. */
static void
s_text_header(buf_t *out, const char *name, const char *value)
{
        buf_t clean = BUF_INIT;
        size_t col;

        for (const char *p = value; *p; p++)
                buf_putc(&clean, (unsigned char)*p < 0x20 || *p == 0x7f ? ' ' : *p);
        buf_printf(out, "%s: ", name);
        if (!s_ascii(buf_str(&clean)) || strstr(buf_str(&clean), "=?")) {
                mailmsg_encode_words(out, buf_str(&clean));
        } else {
                col = strlen(name) + 2;
                for (const char *p = buf_str(&clean); *p;) {
                        size_t word = strcspn(p + 1, " ") + 1;

                        if (*p == ' ' && col + word > 76 && col > strlen(name) + 2) {
                                buf_putc(out, '\n');
                                col = 0;
                        }
                        buf_putn(out, p, word);
                        col += word;
                        p += word;
                }
        }
        buf_putc(out, '\n');
        buf_free(&clean);
}

static void
s_date(buf_t *out, int64_t ms)
{
        static const char *const wd[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
        static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
        int64_t s = ms / 1000, days = s / 86400, year;
        int month, day, sod = (int)(s % 86400);

        tz_civil_from_days(days, &year, &month, &day);
        buf_printf(out, "Date: %s, %02d %s %04" PRId64 " %02d:%02d:%02d +0000\n",
                   wd[tz_weekday_from_days(days)], day, mon[month - 1], year, sod / 3600,
                   sod / 60 % 60, sod % 60);
}

static void
s_from(buf_t *out, const char *from)
{
        const char *lt = strrchr(from, '<');
        size_t name_len;

        if (lt == NULL || s_ascii(from)) {
                buf_printf(out, "From: %s\n", from);
                return;
        }
        name_len = (size_t)(lt - from);
        while (name_len > 0 && from[name_len - 1] == ' ')
                name_len--;
        buf_puts(out, "From: ");
        {
                buf_t name = BUF_INIT;

                buf_putn(&name, from, name_len);
                mailmsg_encode_words(out, buf_str(&name));
                buf_free(&name);
        }
        buf_printf(out, " %s\n", lt);
}

/* Whether the body can go as 7bit: ASCII, no bare CR, lines of at most LINE_7BIT bytes. */
static bool
s_7bit(const char *body)
{
        size_t line = 0;

        for (const char *p = body; *p; p++) {
                if ((unsigned char)*p >= 0x80 || *p == '\r')
                        return false;
                line = *p == '\n' ? 0 : line + 1;
                if (line > LINE_7BIT)
                        return false;
        }
        return true;
}

int
mailmsg_build(buf_t *out, const char *from, const char *to, const char *subject, const char *body,
              const char *message_id, int64_t date_ms, const char *const *extra)
{
        if (!s_header_safe(from) || !s_header_safe(to) || !s_header_safe(message_id) ||
            strpbrk(to, " <>,;\"") || strchr(to, '@') == NULL || strpbrk(message_id, "<> "))
                return -EINVAL;
        for (const char *const *h = extra; h && *h; h++)
                if (!s_header_safe(*h) || strchr(*h, ':') == NULL)
                        return -EINVAL;
        s_from(out, from);
        buf_printf(out, "To: %s\n", to);
        s_text_header(out, "Subject", subject ? subject : "");
        s_date(out, date_ms);
        buf_printf(out, "Message-ID: <%s>\n", message_id);
        buf_puts(out, "MIME-Version: 1.0\n"
                      "Content-Type: text/plain; charset=UTF-8\n");
        if (s_7bit(body))
                buf_puts(out, "Content-Transfer-Encoding: 7bit\n");
        else
                buf_puts(out, "Content-Transfer-Encoding: base64\n");
        buf_puts(out, "Auto-Submitted: auto-generated\n");
        for (const char *const *h = extra; h && *h; h++)
                buf_printf(out, "%s\n", *h);
        buf_putc(out, '\n');
        if (s_7bit(body)) {
                buf_puts(out, body);
                if (body[0] && body[strlen(body) - 1] != '\n')
                        buf_putc(out, '\n');
        } else {
                text_base64(out, body, strlen(body), 76);
        }
        return buf_failed(out) ? -ENOMEM : 0;
}
