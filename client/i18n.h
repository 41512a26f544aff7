/* i18n.h: complaintctl's messages, headings and help in the user's language, through gettext
 * (the GNU convention: _() translates a string where it is used, N_() marks one in a static
 * table, translated where it is printed). The catalogues are po/<lang>.po, built into
 * <localedir>/<lang>/LC_MESSAGES/complaintctl.mo. Enum words, JSON and CSV are never
 * translated: scripts do not change with the language. */
#ifndef COMPLAINTD_I18N_H
#define COMPLAINTD_I18N_H

#include <libintl.h>

#define I18N_DOMAIN "complaintctl"

#define _(s) dgettext(I18N_DOMAIN, s)
#define N_(s) (s)
/* A string in a context, for words that a translation must tell apart ("closed", the verb of
 * a change, and "closed", the label of a field): gettext's pgettext(), which glibc's libintl.h
 * leaves out. */
#define C_(ctx, s) i18n_pgettext(ctx "\004" s, s)
const char *i18n_pgettext(const char *ctx_id, const char *id);

/* Singular or plural by n. */
#define P_(s, p, n) dngettext(I18N_DOMAIN, s, p, (unsigned long)(n))

/* Sets the locale from the environment and binds the catalogues: LANGUAGE, LC_ALL,
 * LC_MESSAGES and LANG choose the language, as usual. When the locale the environment names is
 * not installed (a bare system with no locales generated), the program runs in C.UTF-8 and
 * still speaks that locale's language: LANGUAGE, when unset, is set from it. LC_NUMERIC stays
 * "C", so numbers print alike in every language. The catalogues are looked up in
 * $COMPLAINTCTL_LOCALEDIR when it is set (the build tree's tests), else in the installed
 * locale directory. */
void i18n_init(void);

#endif
