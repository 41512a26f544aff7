/* test_width.c: client/width.c, the display width of UTF-8 text: the columns of CJK, kana,
 * Hangul, fullwidth and halfwidth forms, combining marks, zero-width and invalid bytes; the
 * longest prefix that fits; truncation with an ellipsis that never splits a sequence (checked
 * over every code point and over random byte strings); padding. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "width.h"

CHECK_DEFINE_COUNTERS();

/* Encodes cp as UTF-8 into buf (5 bytes); returns the length. */
static size_t
s_encode(int32_t cp, char *buf)
{
        unsigned char *u = (unsigned char *)buf;
        size_t n;

        if (cp < 0x80) {
                u[0] = (unsigned char)cp, n = 1;
        } else if (cp < 0x800) {
                u[0] = (unsigned char)(0xc0 | (cp >> 6));
                u[1] = (unsigned char)(0x80 | (cp & 0x3f)), n = 2;
        } else if (cp < 0x10000) {
                u[0] = (unsigned char)(0xe0 | (cp >> 12));
                u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
                u[2] = (unsigned char)(0x80 | (cp & 0x3f)), n = 3;
        } else {
                u[0] = (unsigned char)(0xf0 | (cp >> 18));
                u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
                u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
                u[3] = (unsigned char)(0x80 | (cp & 0x3f)), n = 4;
        }
        buf[n] = '\0';
        return n;
}

static void
test_widths(void)
{
        CHECK_INT(width_str(""), 0);
        CHECK_INT(width_str(NULL), 0);
        CHECK_INT(width_str("abc"), 3);
        CHECK_INT(width_str("王芳"), 4);                     /* CJK ideographs */
        CHECK_INT(width_str("日本語のテキスト"), 16);        /* kanji, hiragana, katakana */
        CHECK_INT(width_str("ｶﾀｶﾅ"), 4);                     /* halfwidth katakana: narrow */
        CHECK_INT(width_str("ＡＢＣ"), 6);                   /* fullwidth Latin */
        CHECK_INT(width_str("한국어"), 6);                   /* Hangul syllables */
        CHECK_INT(width_str("\xe1\x84\x80\xe1\x85\xa1"), 2); /* U+1100 U+1161: jamo, 2 + 0 */
        CHECK_INT(width_str("e\xcc\x81"), 1);                /* e + combining acute */
        CHECK_INT(width_str("a\xe2\x80\x8b"
                            "b"),
                  2); /* zero width space */
        CHECK_INT(width_str("a\xe2\x80\x8d"
                            "b"),
                  2);                                /* zero width joiner */
        CHECK_INT(width_str("\xf0\x9f\x98\x80"), 2); /* U+1F600, an emoji */
        CHECK_INT(width_str("\xf0\xa0\x80\x80"), 2); /* U+20000, CJK extension B */
        CHECK_INT(width_str("Müller"), 6);
        CHECK_INT(width_str("王芳 (Wang Fang)"), 16);
        CHECK_INT(width_str("。、"), 4);       /* ideographic punctuation */
        CHECK_INT(width_str("，"), 2);         /* fullwidth comma */
        CHECK_INT(width_codepoint(0x3000), 2); /* ideographic space */
        CHECK_INT(width_codepoint(0x302A), 0); /* ideographic tone mark */
        CHECK_INT(width_codepoint(0x00AD), 1); /* soft hyphen */
        CHECK_INT(width_codepoint(0x0A), 0);
        CHECK_INT(width_codepoint(0xFEFF), 0); /* BOM, a format character */
        CHECK_INT(width_codepoint(0x4DFF), 1); /* a hexagram symbol: neutral */
        CHECK_INT(width_codepoint(-1), 1);
        CHECK_INT(width_strn("王芳", 3), 2);
}

static void
test_invalid(void)
{
        int32_t cp;

        CHECK_INT(width_decode("\xff", 1, &cp), 1);
        CHECK_INT(cp, -1);
        CHECK_INT(width_decode("\xe7\x8e", 2, &cp), 1); /* truncated */
        CHECK_INT(cp, -1);
        CHECK_INT(width_decode("\xc0\xaf", 2, &cp), 1); /* overlong '/' */
        CHECK_INT(cp, -1);
        CHECK_INT(width_decode("\xed\xa0\x80", 3, &cp), 1); /* a surrogate */
        CHECK_INT(cp, -1);
        CHECK_INT(width_decode("\xf4\x90\x80\x80", 4, &cp), 1); /* past U+10FFFF */
        CHECK_INT(cp, -1);
        CHECK_INT(width_decode("\xe7\x8e\x8b", 2, &cp), 1); /* only 2 bytes available */
        CHECK_INT(width_decode("\xe7\x8e\x8b", 3, &cp), 3);
        CHECK_INT(cp, 0x738B);
        CHECK_INT(width_str("\xff"), 1);
        CHECK_INT(width_str("\xe7\x8e"), 2);
        CHECK_INT(width_str("\xed\xa0\x80"), 3);
        CHECK_INT(width_str("a\x80"
                            "b"),
                  3);
}

static void
test_fit_truncate(void)
{
        size_t cols = 99;
        char *t;

        CHECK_INT(width_fit("王芳abc", 3, &cols), 3); /* 王 only: 芳 would make 4 */
        CHECK_INT(cols, 2);
        CHECK_INT(width_fit("王芳abc", 4, &cols), 6);
        CHECK_INT(width_fit("王芳abc", 100, &cols), 9);
        CHECK_INT(cols, 7);
        CHECK_INT(width_fit("e\xcc\x81x", 1, &cols), 3); /* the mark stays with its base */
        CHECK_INT(width_fit("王", 1, &cols), 0);
        CHECK_INT(cols, 0);

        t = width_truncate("王芳王芳", 8);
        CHECK_STR(t, "王芳王芳");
        free(t);
        t = width_truncate("王芳王芳", 7);
        CHECK_STR(t, "王芳王…");
        free(t);
        t = width_truncate("王芳王芳", 6);
        CHECK_STR(t, "王芳…");
        free(t);
        t = width_truncate("abcdef", 4);
        CHECK_STR(t, "abc…");
        free(t);
        t = width_truncate("abcdef", 0);
        CHECK_STR(t, "");
        free(t);
        t = width_truncate("e\xcc\x81"
                           "e\xcc\x81"
                           "e\xcc\x81",
                           2);
        CHECK_STR(t, "e\xcc\x81…");
        free(t);
        t = width_truncate("\xff\xfe\xfd", 2);
        CHECK_STR(t, "\xff…");
        free(t);
        t = width_truncate(NULL, 3);
        CHECK_STR(t, "");
        free(t);
}

/* Every code point: decoded back from its encoding, 0 to 2 columns, and a truncation of
 * "x<cp><cp>" to any width keeps whole sequences. */
static void
test_every_code_point(void)
{
        int bad = 0;

        for (int32_t cp = 1; cp <= 0x10ffff; cp++) {
                char buf[8], s[24];
                int32_t back;
                size_t n;
                int w;

                if (cp >= 0xd800 && cp <= 0xdfff)
                        continue;
                n = s_encode(cp, buf);
                if (width_decode(buf, n, &back) != n || back != cp)
                        bad++;
                w = width_codepoint(cp);
                if (w < 0 || w > 2)
                        bad++;
                if ((cp & 0xff) == 0) {
                        snprintf(s, sizeof(s), "x%s%s", buf, buf);
                        for (size_t c = 0; c <= 6; c++) {
                                char *t = width_truncate(s, c);
                                size_t keep = t ? strlen(t) : 0;

                                if (t == NULL || width_str(t) > c)
                                        bad++;
                                if (keep >= 3 && strcmp(t + keep - 3, WIDTH_ELLIPSIS) == 0)
                                        keep -= 3;
                                /* The kept bytes are "x" and whole copies of buf. */
                                if (t && keep > 0 && (keep - 1) % n != 0)
                                        bad++;
                                free(t);
                        }
                }
        }
        CHECK_INT(bad, 0);
}

/* Random bytes: a truncation never cuts a valid sequence and never exceeds its width. */
static void
test_random(void)
{
        unsigned seed = 12345;
        int bad = 0;

        for (int round = 0; round < 20000; round++) {
                char s[24];
                size_t len = 0;

                /* A mix of ASCII, CJK, marks and stray bytes. */
                while (len < 18) {
                        static const char *const piece[] = {
                            "a",    "王",       "テ", "e\xcc\x81",
                            "\xff", "\xe7\x8e", "한", "\xf0\x9f\x98\x80",
                            " "};
                        const char *p;

                        seed = seed * 1103515245u + 12345u;
                        p = piece[(seed >> 16) % (sizeof(piece) / sizeof(piece[0]))];
                        if (len + strlen(p) >= sizeof(s) - 1)
                                break;
                        memcpy(s + len, p, strlen(p));
                        len += strlen(p);
                }
                s[len] = '\0';
                for (size_t c = 0; c <= 12; c++) {
                        char *t = width_truncate(s, c);
                        size_t keep;

                        if (t == NULL || width_str(t) > c) {
                                bad++;
                                free(t);
                                continue;
                        }
                        keep = strlen(t);
                        if (keep >= 3 && strcmp(t + keep - 3, WIDTH_ELLIPSIS) == 0 &&
                            strncmp(s, t, keep) != 0)
                                keep -= 3;
                        /* The kept part is a prefix of s that ends where a sequence of s
                         * ends: decoding s from the start lands exactly on keep. */
                        if (strncmp(s, t, keep) != 0) {
                                bad++;
                        } else {
                                size_t i = 0;

                                while (i < keep) {
                                        int32_t cp;

                                        i += width_decode(s + i, len - i, &cp);
                                }
                                if (i != keep)
                                        bad++;
                        }
                        free(t);
                }
        }
        CHECK_INT(bad, 0);
}

static void
test_pad(void)
{
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        REQUIRE(f != NULL);
        CHECK_INT(width_pad(f, "王芳", 6, false), 6);
        fputc('|', f);
        CHECK_INT(width_pad(f, "ab", 6, true), 6);
        fputc('|', f);
        CHECK_INT(width_pad(f, "王芳王芳", 6, false), 8);
        fputc('|', f);
        REQUIRE(fclose(f) == 0);
        CHECK_STR(buf, "王芳  |    ab|王芳王芳|");
        free(buf);
}

int
main(void)
{
        test_widths();
        test_invalid();
        test_fit_truncate();
        test_every_code_point();
        test_random();
        test_pad();
        return check_summary();
}
