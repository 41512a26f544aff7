/* test_lifecycle.c: every allowed and every refused transition of DESIGN §2. */
#include <errno.h>

#include "check.h"
#include "lifecycle.h"
#include "pb.h"

CHECK_DEFINE_COUNTERS();

#define A(x) COMPLAINT__V1__ACTION__ACTION_##x

/* The table as the design states it, written out independently of lifecycle.c:
 * from state, action, resulting state. Anything not listed is refused. */
static const struct {
        int from, action, to;
} allowed[] = {
    {ST_NEW, A(ASSIGN), ST_ASSIGNED},        {ST_NEW, A(RESOLVE), ST_RESOLVED},
    {ST_NEW, A(DISMISS), ST_DISMISSED},      {ST_NEW, A(NOTE), ST_NEW},
    {ST_ASSIGNED, A(ASSIGN), ST_ASSIGNED},   {ST_ASSIGNED, A(ACCEPT), ST_ACCEPTED},
    {ST_ASSIGNED, A(PEND), ST_PENDING},      {ST_ASSIGNED, A(RESOLVE), ST_RESOLVED},
    {ST_ASSIGNED, A(DISMISS), ST_DISMISSED}, {ST_ASSIGNED, A(ESCALATE), ST_ASSIGNED},
    {ST_ASSIGNED, A(NOTE), ST_ASSIGNED},     {ST_ACCEPTED, A(PEND), ST_PENDING},
    {ST_ACCEPTED, A(RESOLVE), ST_RESOLVED},  {ST_ACCEPTED, A(ASSIGN), ST_ASSIGNED},
    {ST_ACCEPTED, A(ESCALATE), ST_ACCEPTED}, {ST_ACCEPTED, A(NOTE), ST_ACCEPTED},
    {ST_PENDING, A(RESUME), ST_ACCEPTED},    {ST_PENDING, A(RESOLVE), ST_RESOLVED},
    {ST_PENDING, A(ESCALATE), ST_PENDING},   {ST_PENDING, A(NOTE), ST_PENDING},
    {ST_RESOLVED, A(CLOSE), ST_CLOSED},      {ST_RESOLVED, A(REOPEN), ST_ASSIGNED},
    {ST_RESOLVED, A(NOTE), ST_RESOLVED},     {ST_CLOSED, A(REOPEN), ST_ASSIGNED},
    {ST_CLOSED, A(NOTE), ST_CLOSED},         {ST_DISMISSED, A(REOPEN), ST_ASSIGNED},
    {ST_DISMISSED, A(NOTE), ST_DISMISSED},
};

static int
s_expected(int from, int action)
{
        for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
                if (allowed[i].from == from && allowed[i].action == action)
                        return allowed[i].to;
        return 0;
}

int
main(void)
{
        /* Requests that are lifecycle actions; CREATE, REASSIGN and WARN are never asked of the
         * table by a client (create has no prior state, reassign is assign, warn is internal). */
        static const int actions[] = {A(ASSIGN), A(ACCEPT), A(PEND),    A(RESUME), A(RESOLVE),
                                      A(CLOSE),  A(REOPEN), A(DISMISS), A(NOTE),   A(ESCALATE)};
        char buf[200];
        int n_allowed = 0;

        for (int st = ST_NEW; st < ST_COUNT; st++) {
                for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
                        int to = -1, want = s_expected(st, actions[i]);
                        int r = lifecycle_next(st, actions[i], &to);

                        if (want) {
                                n_allowed++;
                                if (r != 0 || to != want)
                                        fprintf(stderr, "from %s by %s\n", pb_status_name(st),
                                                lifecycle_action_word(actions[i]));
                                CHECK_INT(r, 0);
                                CHECK_INT(to, want);
                        } else {
                                if (r != -EPERM)
                                        fprintf(stderr, "from %s by %s should be refused\n",
                                                pb_status_name(st),
                                                lifecycle_action_word(actions[i]));
                                CHECK_INT(r, -EPERM);
                                CHECK_INT(to, -1); /* untouched on failure */
                        }
                }
        }
        CHECK_INT(n_allowed, (int)(sizeof(allowed) / sizeof(allowed[0])));

        /* The error message names the allowed moves. */
        CHECK_STR(lifecycle_allowed(ST_RESOLVED, buf, sizeof(buf)), "close, reopen, note");
        CHECK_STR(lifecycle_allowed(ST_NEW, buf, sizeof(buf)), "assign, resolve, dismiss, note");
        CHECK_STR(lifecycle_allowed(ST_CLOSED, buf, sizeof(buf)), "reopen, note");
        /* A small buffer is cut, never overrun. */
        CHECK(strlen(lifecycle_allowed(ST_ASSIGNED, buf, 8)) < 8);

        /* Unknown states and actions are refused as invalid, not as transitions. */
        CHECK_INT(lifecycle_next(0, A(NOTE), &(int){0}), -EINVAL);
        CHECK_INT(lifecycle_next(99, A(NOTE), &(int){0}), -EINVAL);
        CHECK_INT(lifecycle_next(ST_NEW, 999, &(int){0}), -EINVAL);
        CHECK_INT(lifecycle_next(ST_NEW, -1, &(int){0}), -EINVAL);
        return check_summary();
}
