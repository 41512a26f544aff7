/* i18n.c: the locale and the message catalogues of complaintctl (i18n.h). */
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"

#ifndef COMPLAINTCTL_LOCALEDIR
#define COMPLAINTCTL_LOCALEDIR "/usr/share/locale"
#endif

/* The first of the variables that name the locale of messages, or NULL. */
static const char *
s_wanted(void)
{
        static const char *const vars[] = {"LC_ALL", "LC_MESSAGES", "LANG"};

        for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
                const char *v = getenv(vars[i]);

                if (v && v[0])
                        return v;
        }
        return NULL;
}

const char *
i18n_pgettext(const char *ctx_id, const char *id)
{
        const char *t = dgettext(I18N_DOMAIN, ctx_id);

        return t == ctx_id ? id : t;
}

void
i18n_init(void)
{
        const char *dir = getenv("COMPLAINTCTL_LOCALEDIR");

        if (setlocale(LC_ALL, "") == NULL) {
                const char *want = s_wanted(), *language = getenv("LANGUAGE");

                /* gettext ignores LANGUAGE in the "C" locale, but not in C.UTF-8, which glibc
                 * always has. */
                if (setlocale(LC_ALL, "C.UTF-8") == NULL)
                        setlocale(LC_ALL, "C");
                if (want && strcmp(want, "C") != 0 && strcmp(want, "POSIX") != 0 &&
                    (language == NULL || language[0] == '\0')) {
                        char lang[64];
                        size_t n = strcspn(want, ".@");

                        if (n > 0 && n < sizeof(lang)) {
                                memcpy(lang, want, n);
                                lang[n] = '\0';
                                setenv("LANGUAGE", lang, 1);
                        }
                }
        }
        setlocale(LC_NUMERIC, "C");
        bindtextdomain(I18N_DOMAIN, dir && dir[0] ? dir : COMPLAINTCTL_LOCALEDIR);
        bind_textdomain_codeset(I18N_DOMAIN, "UTF-8");
}
