/* fuzz_tzif.c: the time-zone reader (daemon/tz.h). An input that starts with "TZif" is parsed
 * as a zoneinfo file, anything else as a POSIX TZ string; a zone that loads is then asked for
 * offsets, wall times and transitions at instants drawn from the input, and the answers are
 * checked against what tz.h promises. Civil-date arithmetic is checked on the way. */
#include <inttypes.h>

#include "fuzz.h"
#include "tz.h"

/* Instants queried stay well inside the range tz.c computes in (about +-2^59 s). */
#define SPAN ((int64_t)1 << 50)
#define MAX_OFF (26 * 3600)
#define QUERIES 24
#define WALK 48

/* splitmix64: instants from a seed, so that each input asks the same questions each run. */
static uint64_t
s_next(uint64_t *state)
{
        uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
}

/* Mostly instants of the last and the next few centuries, where zones have their rules and
 * transitions, sometimes any instant of the range. */
static int64_t
s_instant(uint64_t *state)
{
        uint64_t v = s_next(state);

        if (v % 4 == 0)
                return (int64_t)(s_next(state) % (2 * (uint64_t)SPAN)) - SPAN;
        /* 1800 to 2300, roughly. */
        return (int64_t)(s_next(state) % (500ull * 366 * 86400)) - 170ll * 366 * 86400;
}

static void
s_check_civil(int64_t days)
{
        int64_t year;
        int month, day, wd = tz_weekday_from_days(days);

        tz_civil_from_days(days, &year, &month, &day);
        FUZZ_CHECK(month >= 1 && month <= 12 && day >= 1 && day <= tz_days_in_month(year, month),
                   "day %" PRId64 " is %" PRId64 "-%d-%d", days, year, month, day);
        FUZZ_CHECK(tz_days_from_civil(year, month, day) == days, "day %" PRId64, days);
        FUZZ_CHECK(wd >= 0 && wd <= 6 && tz_weekday_from_days(days + 1) == (wd + 1) % 7,
                   "day %" PRId64 " weekday %d", days, wd);
}

/* The wall clock first reads local l at tz_utc_of_local(l): at that instant it reads l or
 * later, one second before it still less; and the mapping never decreases. */
static void
s_check_local(const tz_t *tz, int64_t l, int64_t *prev_l, int64_t *prev_u)
{
        int64_t u = tz_utc_of_local(tz, l);

        FUZZ_CHECK(tz_local_of_utc(tz, u) >= l, "local %" PRId64 " -> utc %" PRId64, l, u);
        FUZZ_CHECK(tz_local_of_utc(tz, u - 1) < l, "local %" PRId64 " -> utc %" PRId64, l, u);
        if (*prev_l <= l)
                FUZZ_CHECK(*prev_u <= u,
                           "local %" PRId64 " -> %" PRId64 " but local %" PRId64 " -> %" PRId64,
                           *prev_l, *prev_u, l, u);
        *prev_l = l;
        *prev_u = u;
}

/* From t on, each transition lies strictly later, and the offset does not change before it. */
static void
s_check_walk(const tz_t *tz, int64_t t)
{
        for (int i = 0; i < WALK && t < SPAN; i++) {
                int64_t next;
                int32_t off = tz_offset_at(tz, t);

                if (tz_next_transition(tz, t, &next) < 0) {
                        FUZZ_CHECK(tz_offset_at(tz, SPAN) == off,
                                   "no transition after %" PRId64 " but the offset changes", t);
                        return;
                }
                FUZZ_CHECK(next > t, "transition %" PRId64 " after %" PRId64, next, t);
                FUZZ_CHECK(tz_offset_at(tz, next - 1) == off,
                           "offset %d at %" PRId64 ", %d at %" PRId64 " before the transition "
                           "at %" PRId64,
                           off, t, tz_offset_at(tz, next - 1), next - 1, next);
                t = next;
        }
}

static void
s_check_zone(const tz_t *tz, uint64_t seed)
{
        int64_t prev_l = INT64_MAX, prev_u = 0;
        int64_t ls[QUERIES];

        for (int i = 0; i < QUERIES; i++) {
                int64_t t = s_instant(&seed);
                int32_t off = tz_offset_at(tz, t);

                FUZZ_CHECK(off >= -MAX_OFF && off <= MAX_OFF, "offset %d at %" PRId64, off, t);
                FUZZ_CHECK(tz_local_of_utc(tz, t) == t + off, "at %" PRId64, t);
                ls[i] = t + off;
                if (i < 4)
                        s_check_walk(tz, t);
        }
        /* Sorted, so that monotonicity is checked across the whole set. */
        for (int i = 1; i < QUERIES; i++)
                for (int j = i; j > 0 && ls[j - 1] > ls[j]; j--) {
                        int64_t x = ls[j];

                        ls[j] = ls[j - 1];
                        ls[j - 1] = x;
                }
        for (int i = 0; i < QUERIES; i++) {
                s_check_local(tz, ls[i], &prev_l, &prev_u);
                /* Around it too: gaps and folds are a few hours wide. */
                s_check_local(tz, ls[i] + (int64_t)(s_next(&seed) % 7200), &prev_l, &prev_u);
        }
        for (int i = 0; i < 4; i++) {
                int64_t t = s_instant(&seed);

                s_check_civil(t / 86400 - (t % 86400 < 0));
        }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        uint64_t seed = 0xcbf29ce484222325ull;
        tz_t *tz = NULL;
        char spec[256];
        int r;

        for (size_t i = 0; i < size; i++)
                seed = (seed ^ data[i]) * 0x100000001b3ull;
        if (size >= 4 && memcmp(data, "TZif", 4) == 0) {
                r = tz_parse_tzif("fuzz", data, size, &tz);
        } else {
                size_t n = size < sizeof(spec) - 1 ? size : sizeof(spec) - 1;

                memcpy(spec, data, n);
                spec[n] = '\0';
                r = tz_load_posix(spec, &tz);
        }
        if (r < 0) {
                FUZZ_CHECK(r == -EINVAL && tz == NULL, "r = %d", r);
                return 0;
        }
        FUZZ_CHECK(r == 0 && tz != NULL, "r = %d", r);
        s_check_zone(tz, seed);
        tz_free(&tz);
        FUZZ_CHECK(tz == NULL, "tz_free() left the pointer");
        return 0;
}
