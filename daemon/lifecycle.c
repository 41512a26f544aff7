/* lifecycle.c: the transition table. One row per state; a cell is the state an action leads
 * to, or 0 when the action is refused there. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lifecycle.h"
#include "pb.h"

#define A(x) COMPLAINT__V1__ACTION__ACTION_##x
#define ACTIONS (A(WARN) + 1)

static const int table[ST_COUNT][ACTIONS] = {
    [ST_NEW] = {[A(ASSIGN)] = ST_ASSIGNED,
                [A(RESOLVE)] = ST_RESOLVED,
                [A(DISMISS)] = ST_DISMISSED,
                [A(NOTE)] = ST_NEW},
    [ST_ASSIGNED] = {[A(ASSIGN)] = ST_ASSIGNED,
                     [A(ACCEPT)] = ST_ACCEPTED,
                     [A(PEND)] = ST_PENDING,
                     [A(RESOLVE)] = ST_RESOLVED,
                     [A(DISMISS)] = ST_DISMISSED,
                     [A(ESCALATE)] = ST_ASSIGNED,
                     [A(NOTE)] = ST_ASSIGNED},
    [ST_ACCEPTED] = {[A(ASSIGN)] = ST_ASSIGNED,
                     [A(PEND)] = ST_PENDING,
                     [A(RESOLVE)] = ST_RESOLVED,
                     [A(ESCALATE)] = ST_ACCEPTED,
                     [A(NOTE)] = ST_ACCEPTED},
    [ST_PENDING] = {[A(RESUME)] = ST_ACCEPTED,
                    [A(RESOLVE)] = ST_RESOLVED,
                    [A(ESCALATE)] = ST_PENDING,
                    [A(NOTE)] = ST_PENDING},
    [ST_RESOLVED] = {[A(CLOSE)] = ST_CLOSED, [A(REOPEN)] = ST_ASSIGNED, [A(NOTE)] = ST_RESOLVED},
    [ST_CLOSED] = {[A(REOPEN)] = ST_ASSIGNED, [A(NOTE)] = ST_CLOSED},
    [ST_DISMISSED] = {[A(REOPEN)] = ST_ASSIGNED, [A(NOTE)] = ST_DISMISSED},
};

static const char *const words[ACTIONS] = {
    [A(CREATE)] = "create",   [A(ASSIGN)] = "assign", [A(REASSIGN)] = "assign",
    [A(ACCEPT)] = "accept",   [A(PEND)] = "pend",     [A(RESUME)] = "resume",
    [A(RESOLVE)] = "resolve", [A(CLOSE)] = "close",   [A(REOPEN)] = "reopen",
    [A(DISMISS)] = "dismiss", [A(NOTE)] = "note",     [A(ESCALATE)] = "escalate",
    [A(WARN)] = "warn",
};

int
lifecycle_next(int status, int action, int *ret_status)
{
        if (status <= ST_NONE || status >= ST_COUNT || action <= 0 || action >= ACTIONS)
                return -EINVAL;
        if (table[status][action] == 0)
                return -EPERM;
        *ret_status = table[status][action];
        return 0;
}

const char *
lifecycle_allowed(int status, char *buf, size_t size)
{
        size_t len = 0;

        buf[0] = '\0';
        if (status <= ST_NONE || status >= ST_COUNT)
                return buf;
        for (int a = 1; a < ACTIONS; a++) {
                if (table[status][a] == 0)
                        continue;
                len += (size_t)snprintf(buf + len, len < size ? size - len : 0, "%s%s",
                                        len ? ", " : "", words[a]);
                if (len >= size)
                        break;
        }
        return buf;
}

const char *
lifecycle_action_word(int action)
{
        return action > 0 && action < ACTIONS && words[action] ? words[action] : "?";
}
