/* check.h: the assertion macros every test uses; a failed check prints where and why and
 * counts as a failure, and main() returns check_summary(). */
#ifndef COMPLAINTD_TESTS_CHECK_H
#define COMPLAINTD_TESTS_CHECK_H

#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern int check_failed;
extern int check_passed;

#define CHECK(cond)                                                                              \
        do {                                                                                     \
                if (cond) {                                                                      \
                        check_passed++;                                                          \
                } else {                                                                         \
                        check_failed++;                                                          \
                        fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
                }                                                                                \
        } while (0)

#define CHECK_INT(a, b)                                                                       \
        do {                                                                                  \
                long long check_a_ = (long long)(a), check_b_ = (long long)(b);               \
                if (check_a_ == check_b_) {                                                   \
                        check_passed++;                                                       \
                } else {                                                                      \
                        check_failed++;                                                       \
                        fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", __FILE__, \
                                __LINE__, #a, check_a_, #b, check_b_);                        \
                }                                                                             \
        } while (0)

#define CHECK_STR(a, b)                                                                     \
        do {                                                                                \
                const char *check_a_ = (a), *check_b_ = (b);                                \
                if (check_a_ && check_b_ && strcmp(check_a_, check_b_) == 0) {              \
                        check_passed++;                                                     \
                } else {                                                                    \
                        check_failed++;                                                     \
                        fprintf(stderr, "%s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__, \
                                __LINE__, #a, check_a_ ? check_a_ : "(null)",               \
                                check_b_ ? check_b_ : "(null)");                            \
                }                                                                           \
        } while (0)

/* A check that must hold for the rest of the test to make sense. */
#define REQUIRE(cond)                                                                       \
        do {                                                                                \
                if (!(cond)) {                                                              \
                        fprintf(stderr, "%s:%d: REQUIRE(%s) failed, giving up\n", __FILE__, \
                                __LINE__, #cond);                                           \
                        exit(1);                                                            \
                }                                                                           \
                check_passed++;                                                             \
        } while (0)

#define CHECK_DEFINE_COUNTERS() \
        int check_failed;       \
        int check_passed

/* Prints the closing line ctest and CI read, and returns main()'s exit code. */
static inline int
check_summary(void)
{
        printf("%d passed, %d failed\n", check_passed, check_failed);
        return check_failed == 0 && check_passed > 0 ? 0 : 1;
}

static inline int
check_rm_entry_(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st;
        (void)flag;
        (void)ftw;
        return remove(path);
}

/* Removes the directory tree at dir (a test's temporary store), quietly. */
static inline void
check_rm_tree(const char *dir)
{
        nftw(dir, check_rm_entry_, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
