/* access.c: the rules behind access.h. */
#include <stdio.h>
#include <string.h>

#include "access.h"

#define B(x) COMPLAINT__V1__REQUEST__BODY_##x
#define ROLES(...) s_in(p->role, (const int[]){__VA_ARGS__, 0})

static bool
s_in(int role, const int *roles)
{
        for (; *roles; roles++)
                if (*roles == role)
                        return true;
        return false;
}

bool
access_may_request(const struct config_principal *p, int body_case, const char **ret_what)
{
        const char *what = NULL;
        bool ok = false;

        if (p == NULL || p->role == ROLE_ADMIN)
                return true;
        switch (body_case) {
        case B(CREATE):
                ok = ROLES(ROLE_INTAKE), what = "file complaints";
                break;
        case B(ASSIGN):
                ok = ROLES(ROLE_INTAKE, ROLE_SUPERVISOR), what = "dispatch or reassign complaints";
                break;
        case B(ACCEPT):
        case B(PEND):
        case B(RESUME):
                ok = ROLES(ROLE_DEPARTMENT), what = "accept, pend or resume complaints";
                break;
        case B(RESOLVE):
                ok = ROLES(ROLE_DEPARTMENT, ROLE_INTAKE), what = "resolve complaints";
                break;
        case B(CLOSE):
        case B(REOPEN):
        case B(DISMISS):
                ok = ROLES(ROLE_INTAKE), what = "close, reopen or dismiss complaints";
                break;
        case B(NOTE):
                ok = ROLES(ROLE_INTAKE, ROLE_DEPARTMENT, ROLE_SUPERVISOR), what = "add notes";
                break;
        case B(ESCALATE):
                ok = ROLES(ROLE_SUPERVISOR), what = "escalate complaints by hand";
                break;
        case B(REPORT):
        case B(LEDGER):
                ok = ROLES(ROLE_ANALYST), what = "read the report or the ledger";
                break;
        case B(BACKUP):
                what = "start backups";
                break;
        case B(ERASE):
                what = "erase personal data";
                break;
        default: /* get, list, status, replay, whoami: every role, within its scope */
                ok = true;
                break;
        }
        if (!ok && ret_what)
                *ret_what = what;
        return ok;
}

bool
access_may_complaint(const struct config_principal *p, int body_case, const pb_complaint_t *c,
                     const char **ret_what)
{
        if (p == NULL || p->role == ROLE_ADMIN)
                return true;
        if (p->role == ROLE_INTAKE && body_case == B(RESOLVE) && c->status != ST_NEW) {
                *ret_what = "resolve a complaint once it is dispatched (intake settles new "
                            "complaints on the spot)";
                return false;
        }
        if (!config_principal_covers(p, c->department)) {
                *ret_what = "touch complaints of departments it does not cover";
                return false;
        }
        return true;
}

/* Whether prefix is "<dept>/<rest...>" for a department p covers, with what follows the
 * department in *ret_rest. */
static bool
s_own_topic(const struct config_principal *p, const char *prefix, size_t len, const char **rest,
            size_t *rest_len)
{
        for (size_t i = 0; i < p->n_departments; i++) {
                size_t n = strlen(p->departments[i]);

                if (len > n && memcmp(prefix, p->departments[i], n) == 0 && prefix[n] == '/') {
                        *rest = prefix + n + 1;
                        *rest_len = len - n - 1;
                        return true;
                }
        }
        return false;
}

static bool
s_starts(const char *s, size_t len, const char *with)
{
        size_t n = strlen(with);

        return len >= n && memcmp(s, with, n) == 0;
}

bool
access_may_topic(const struct config_principal *p, const char *prefix, size_t len)
{
        const char *rest;
        size_t rest_len;

        if (p == NULL || s_starts(prefix, len, "_heartbeat"))
                return true;
        if (p->role != ROLE_DEPARTMENT && p->role != ROLE_SUPERVISOR)
                return true;
        if (!s_own_topic(p, prefix, len, &rest, &rest_len))
                return false;
        if (p->role == ROLE_DEPARTMENT)
                return true;
        /* A supervisor hears warnings and escalations: at its levels, exactly, when it has
         * some ("escalated/2"; chains are at most 9 levels deep, so no level is a prefix of
         * another). */
        for (const char *const *kind = (const char *const[]){"warning/", "escalated/", NULL}; *kind;
             kind++) {
                size_t k = strlen(*kind);

                if (!s_starts(rest, rest_len, *kind))
                        continue;
                if (p->n_levels == 0)
                        return true;
                for (size_t i = 0; i < p->n_levels; i++) {
                        char level[12];
                        int n = snprintf(level, sizeof(level), "%u", p->levels[i]);

                        if (rest_len == k + (size_t)n && memcmp(rest + k, level, (size_t)n) == 0)
                                return true;
                }
        }
        return false;
}

const char *
access_actor(const struct config_principal *p, const char *actor, char *buf, size_t size)
{
        int n;

        if (p == NULL)
                n = snprintf(buf, size, "%s", actor);
        else if (p->acts_for_people && actor[0])
                n = snprintf(buf, size, "%s:%s", p->name, actor);
        else
                n = snprintf(buf, size, "%s", p->name);
        return n >= 0 && (size_t)n < size ? buf : NULL;
}
