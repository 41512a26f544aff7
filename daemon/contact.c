/* contact.c: see contact.h. */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "contact.h"

/* True when every digit is the same: "0000000", "9999999", the placeholders typed when a
 * complainant gives no number, which would link strangers. */
static bool
s_placeholder(const char *digits)
{
        for (const char *d = digits; *d; d++)
                if (*d != digits[0])
                        return false;
        return true;
}

size_t
contact_phone_key(const char *phone, const char *country_code, char *buf)
{
        char digits[CONTACT_KEY_MAX];
        const char *p = phone;
        const char *cc = "";
        size_t n = 0, skip = 0, cc_len;
        const char *subscriber = NULL; /* the digits after a known country code */
        bool international;
        int written;

        while (*p == ' ' || *p == '\t')
                p++;
        for (const char *q = p; *q; q++) {
                if (!isdigit((unsigned char)*q))
                        continue;
                if (n + 1 >= sizeof(digits))
                        return 0;
                digits[n++] = *q;
        }
        digits[n] = '\0';
        international = p[0] == '+' || (n >= 2 && digits[0] == '0' && digits[1] == '0');
        if (p[0] != '+' && international) {
                skip = 2;
        } else if (!international && n >= 1 && digits[0] == '0' && country_code &&
                   country_code[0]) {
                skip = 1;
                cc = country_code;
        }
        /* "+49 (0)30 ..." and "+49 030 ...": the national trunk "0" written after the
         * country code is not dialled internationally. Known only for the default country. */
        if (international && country_code && country_code[0]) {
                size_t k = strlen(country_code);

                if (n - skip > k && strncmp(digits + skip, country_code, k) == 0) {
                        if (digits[skip + k] == '0') {
                                memmove(digits + skip + k, digits + skip + k + 1, n - skip - k);
                                n--;
                        }
                        subscriber = digits + skip + k;
                }
        }
        cc_len = strlen(cc);
        if (n - skip < CONTACT_PHONE_MIN_DIGITS || cc_len + n - skip + 3 > CONTACT_KEY_MAX ||
            s_placeholder(subscriber ? subscriber : digits + skip))
                return 0;
        written = snprintf(buf, CONTACT_KEY_MAX, "p:%s%s", cc, digits + skip);
        return written > 0 ? (size_t)written : 0;
}

size_t
contact_email_key(const char *email, char *buf)
{
        const char *start = email, *end = email + strlen(email);
        size_t n;

        while (*start && isspace((unsigned char)*start))
                start++;
        while (end > start && isspace((unsigned char)end[-1]))
                end--;
        n = (size_t)(end - start);
        if (n == 0 || n + 3 > CONTACT_KEY_MAX)
                return 0;
        buf[0] = 'e';
        buf[1] = ':';
        for (size_t i = 0; i < n; i++)
                buf[2 + i] = (char)tolower((unsigned char)start[i]);
        buf[2 + n] = '\0';
        return n + 2;
}
