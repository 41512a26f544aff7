/* width.c: display width of UTF-8 text (width.h), on the range tables of width_tables.h. */
#include <stdlib.h>
#include <string.h>

#include "width.h"

struct width_range {
        int32_t first, last;
};

#include "width_tables.h"

size_t
width_decode(const char *s, size_t n, int32_t *ret_cp)
{
        const unsigned char *u = (const unsigned char *)s;
        size_t len;
        int32_t cp, min;

        if (u[0] < 0x80) {
                *ret_cp = u[0];
                return 1;
        }
        if (u[0] >= 0xc2 && u[0] <= 0xdf)
                len = 2, cp = u[0] & 0x1f, min = 0x80;
        else if (u[0] >= 0xe0 && u[0] <= 0xef)
                len = 3, cp = u[0] & 0x0f, min = 0x800;
        else if (u[0] >= 0xf0 && u[0] <= 0xf4)
                len = 4, cp = u[0] & 0x07, min = 0x10000;
        else
                goto invalid;
        if (len > n)
                goto invalid;
        for (size_t i = 1; i < len; i++) {
                if ((u[i] & 0xc0) != 0x80)
                        goto invalid;
                cp = (cp << 6) | (u[i] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                goto invalid;
        *ret_cp = cp;
        return len;
invalid:
        *ret_cp = -1;
        return 1;
}

static bool
s_in(const struct width_range *t, size_t n, int32_t cp)
{
        size_t lo = 0, hi = n;

        if (n == 0 || cp < t[0].first || cp > t[n - 1].last)
                return false;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (cp > t[mid].last)
                        lo = mid + 1;
                else if (cp < t[mid].first)
                        hi = mid;
                else
                        return true;
        }
        return false;
}

int
width_codepoint(int32_t cp)
{
        if (cp < 0)
                return 1;
        if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
                return 0;
        if (cp < 0x300)
                return 1; /* Latin-1 and Latin Extended: narrow, the soft hyphen included */
        if (s_in(width_zero, sizeof(width_zero) / sizeof(width_zero[0]), cp))
                return 0;
        if (s_in(width_wide, sizeof(width_wide) / sizeof(width_wide[0]), cp))
                return 2;
        return 1;
}

size_t
width_strn(const char *s, size_t n)
{
        size_t cols = 0, i = 0;

        while (s && i < n && s[i]) {
                int32_t cp;

                i += width_decode(s + i, n - i, &cp);
                cols += (size_t)width_codepoint(cp);
        }
        return cols;
}

size_t
width_str(const char *s)
{
        return s ? width_strn(s, strlen(s)) : 0;
}

size_t
width_fit(const char *s, size_t cols, size_t *ret_cols)
{
        size_t n = s ? strlen(s) : 0, i = 0, used = 0;

        while (i < n) {
                int32_t cp;
                size_t len = width_decode(s + i, n - i, &cp);
                size_t w = (size_t)width_codepoint(cp);

                if (used + w > cols)
                        break;
                used += w;
                i += len;
        }
        if (ret_cols)
                *ret_cols = used;
        return i;
}

char *
width_truncate(const char *s, size_t cols)
{
        size_t keep;
        char *out;

        if (width_str(s) <= cols)
                return strdup(s ? s : "");
        if (cols == 0)
                return strdup("");
        keep = width_fit(s, cols - 1, NULL);
        out = malloc(keep + sizeof(WIDTH_ELLIPSIS));
        if (out == NULL)
                return NULL;
        memcpy(out, s, keep);
        memcpy(out + keep, WIDTH_ELLIPSIS, sizeof(WIDTH_ELLIPSIS));
        return out;
}

int
width_pad(FILE *f, const char *s, size_t cols, bool right)
{
        size_t w = width_str(s);
        size_t pad = w < cols ? cols - w : 0;

        if (right && fprintf(f, "%*s", (int)pad, "") < 0)
                return -1;
        if (fputs(s ? s : "", f) == EOF)
                return -1;
        if (!right && fprintf(f, "%*s", (int)pad, "") < 0)
                return -1;
        return (int)(w + pad);
}
