/* calendar.c: business calendars and business-time arithmetic; owns each calendar's zone,
 * weekly hours, holiday and make-up day tables.
 *
 * The time line is cut into local days. The business time of local day D is the union of the
 * intervals starting on D (clipped at midnight) and the tails of the overnight intervals that
 * started on D - 1, as wall-clock spans; each span is mapped to UTC with tz_utc_of_local(),
 * which never decreases, so the days' UTC spans are disjoint and in order. Arithmetic walks
 * day by day and skips whole weeks that are ordinary (no holiday or make-up day touching them,
 * no offset change inside): such a week holds exactly the weekly total. The cost is a
 * microsecond or so per week walked plus one per exceptional day, so an allowance of a month
 * takes microseconds; only allowances or ranges of centuries take long. */
#include "calendar.h"

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define DAY_S 86400
#define DAY_MIN 1440
/* Days from 1970-01-01 of 0001-01-01 and 9999-12-31; instants are accepted between those
 * days, with two days' margin for the neighbouring days the arithmetic looks at. */
#define FIRST_DAY (-719162)
#define LAST_DAY 2932896
#define MIN_MS ((int64_t)(FIRST_DAY + 2) * DAY_S * 1000)
#define MAX_MS ((int64_t)(LAST_DAY - 1) * DAY_S * 1000)

/* Minutes after the local midnight of the day the span belongs to; end may pass 1440 (an
 * overnight span) but stays below 2880. */
struct span {
        int32_t start, end;
};

struct hours {
        size_t n;
        struct span span[CALENDAR_MAX_INTERVALS]; /* sorted, disjoint, not touching */
};

struct workday {
        int64_t day;
        int weekday;
};

struct calendar {
        tz_t *tz; /* its name is the calendar's zone name */
        struct hours week[7];
        int64_t *holidays; /* local days, sorted, unique */
        size_t n_holidays, cap_holidays;
        struct workday *workdays; /* sorted by day, unique */
        size_t n_workdays, cap_workdays;
};

/* A day's business time in UTC milliseconds, [start, end). */
struct utc_span {
        int64_t start, end;
};

/* A stretch of local time [lo, hi) (local seconds) that maps to UTC by one offset: every wall
 * time l in it is the instant l - off (see s_linear()). A walk over the days asks about one
 * day or week after another, almost always inside the same stretch; remembering it saves the
 * zone's searches (hi is INT64_MAX when the zone never changes again). lo > hi: none known.
 * It lives for one call of the arithmetic, so a calendar stays read-only. */
struct stretch {
        int64_t lo, hi;
        int32_t off;
};

#define STRETCH_NONE ((struct stretch){1, 0, 0})

static int64_t
s_floor_div(int64_t a, int64_t b)
{
        int64_t q = a / b;

        if ((a % b != 0) && ((a < 0) != (b < 0)))
                q--;
        return q;
}

int
calendar_new(const char *tz_name, calendar_t **ret)
{
        calendar_t *cal;
        int r;

        assert(tz_name);
        assert(ret);

        cal = calloc(1, sizeof(*cal));
        if (!cal)
                return -ENOMEM;
        r = tz_load(tz_name, &cal->tz);
        if (r < 0) {
                free(cal);
                return r;
        }
        *ret = cal;
        return 0;
}

void
calendar_free(calendar_t **cal)
{
        if (!cal || !*cal)
                return;
        tz_free(&(*cal)->tz);
        free((*cal)->holidays);
        free((*cal)->workdays);
        free(*cal);
        *cal = NULL;
}

const char *
calendar_zone(const calendar_t *cal)
{
        assert(cal);
        return tz_name(cal->tz);
}

const tz_t *
calendar_tz(const calendar_t *cal)
{
        assert(cal);
        return cal->tz;
}

int
calendar_set_always_open(calendar_t *cal)
{
        assert(cal);
        for (int wd = 0; wd < 7; wd++) {
                cal->week[wd].n = 1;
                cal->week[wd].span[0] = (struct span){0, DAY_MIN};
        }
        return 0;
}

int
calendar_add_hours(calendar_t *cal, int weekday, int start_min, int end_min)
{
        struct hours *h, out = {0};
        struct span add;
        size_t i;

        assert(cal);
        if (weekday < 0 || weekday > 6 || start_min < 0 || start_min >= DAY_MIN || end_min < 0 ||
            end_min > DAY_MIN)
                return -EINVAL;
        add = (struct span){start_min, end_min <= start_min ? end_min + DAY_MIN : end_min};

        /* Keep the spans that neither overlap nor touch the new one, absorbing the rest. */
        h = &cal->week[weekday];
        for (i = 0; i < h->n; i++) {
                const struct span *s = &h->span[i];

                if (s->end < add.start || s->start > add.end) {
                        out.span[out.n++] = *s;
                } else {
                        add.start = s->start < add.start ? s->start : add.start;
                        add.end = s->end > add.end ? s->end : add.end;
                }
        }
        if (out.n == CALENDAR_MAX_INTERVALS)
                return -E2BIG;
        for (i = out.n; i > 0 && out.span[i - 1].start > add.start; i--)
                out.span[i] = out.span[i - 1];
        out.span[i] = add;
        out.n++;
        *h = out;
        return 0;
}

static bool
s_valid_date(int year, int month, int day)
{
        return year >= 1 && year <= 9999 && month >= 1 && month <= 12 && day >= 1 &&
               day <= tz_days_in_month(year, month);
}

/* The index of the first holiday at or after day. */
static size_t
s_holiday_lower_bound(const calendar_t *cal, int64_t day)
{
        size_t lo = 0, hi = cal->n_holidays;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (cal->holidays[mid] < day)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

static size_t
s_workday_lower_bound(const calendar_t *cal, int64_t day)
{
        size_t lo = 0, hi = cal->n_workdays;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (cal->workdays[mid].day < day)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

/* Makes room for one more element in a growing array. */
static int
s_reserve(void **array, size_t *cap, size_t n, size_t size)
{
        size_t new_cap;
        void *p;

        if (n < *cap)
                return 0;
        new_cap = *cap ? *cap * 2 : 16;
        p = realloc(*array, new_cap * size);
        if (!p)
                return -ENOMEM;
        *array = p;
        *cap = new_cap;
        return 0;
}

int
calendar_add_holiday(calendar_t *cal, int year, int month, int day)
{
        int64_t d;
        size_t i;
        int r;

        assert(cal);
        if (!s_valid_date(year, month, day))
                return -EINVAL;
        d = tz_days_from_civil(year, month, day);
        i = s_holiday_lower_bound(cal, d);
        if (i < cal->n_holidays && cal->holidays[i] == d)
                return 0;
        r = s_reserve((void **)&cal->holidays, &cal->cap_holidays, cal->n_holidays,
                      sizeof(*cal->holidays));
        if (r < 0)
                return r;
        memmove(cal->holidays + i + 1, cal->holidays + i,
                (cal->n_holidays - i) * sizeof(*cal->holidays));
        cal->holidays[i] = d;
        cal->n_holidays++;
        return 0;
}

int
calendar_add_workday(calendar_t *cal, int year, int month, int day, int as_weekday)
{
        int64_t d;
        size_t i;
        int r;

        assert(cal);
        if (!s_valid_date(year, month, day) || as_weekday < 0 || as_weekday > 6)
                return -EINVAL;
        d = tz_days_from_civil(year, month, day);
        i = s_workday_lower_bound(cal, d);
        if (i < cal->n_workdays && cal->workdays[i].day == d) {
                cal->workdays[i].weekday = as_weekday;
                return 0;
        }
        r = s_reserve((void **)&cal->workdays, &cal->cap_workdays, cal->n_workdays,
                      sizeof(*cal->workdays));
        if (r < 0)
                return r;
        memmove(cal->workdays + i + 1, cal->workdays + i,
                (cal->n_workdays - i) * sizeof(*cal->workdays));
        cal->workdays[i] = (struct workday){d, as_weekday};
        cal->n_workdays++;
        return 0;
}

/* The intervals starting on local day day, or NULL on a holiday. */
static const struct hours *
s_hours_of_day(const calendar_t *cal, int64_t day)
{
        size_t i = s_holiday_lower_bound(cal, day);

        if (i < cal->n_holidays && cal->holidays[i] == day)
                return NULL;
        i = s_workday_lower_bound(cal, day);
        if (i < cal->n_workdays && cal->workdays[i].day == day)
                return &cal->week[cal->workdays[i].weekday];
        return &cal->week[tz_weekday_from_days(day)];
}

/* The open spans of a day, in minutes after its midnight, clipped to [0, 1440], sorted and
 * disjoint: the tails of prev's overnight intervals and today's intervals. Either may be NULL
 * (a holiday). out holds CALENDAR_MAX_INTERVALS + 1 spans; returns how many were filled. */
static size_t
s_day_spans(const struct hours *prev, const struct hours *today, struct span *out)
{
        int32_t carry = 0;
        size_t n = 0;

        for (size_t i = 0; prev && i < prev->n; i++)
                if (prev->span[i].end - DAY_MIN > carry)
                        carry = prev->span[i].end - DAY_MIN;
        if (carry > 0)
                out[n++] = (struct span){0, carry};
        for (size_t i = 0; today && i < today->n; i++) {
                struct span s = today->span[i];

                if (s.end > DAY_MIN)
                        s.end = DAY_MIN;
                if (n > 0 && s.start <= out[n - 1].end) {
                        if (s.end > out[n - 1].end)
                                out[n - 1].end = s.end;
                } else {
                        out[n++] = s;
                }
        }
        return n;
}

/* The business time of an ordinary week, in milliseconds. Every weekday occurs once, and so
 * does every weekday's predecessor, whichever day the week starts on. */
static int64_t
s_week_total_ms(const calendar_t *cal)
{
        struct span spans[CALENDAR_MAX_INTERVALS + 1];
        int64_t total = 0;

        for (int wd = 0; wd < 7; wd++) {
                size_t n = s_day_spans(&cal->week[(wd + 6) % 7], &cal->week[wd], spans);

                for (size_t i = 0; i < n; i++)
                        total += (int64_t)(spans[i].end - spans[i].start) * 60 * 1000;
        }
        return total;
}

/* Which weekdays of an ordinary week have business time: intervals of their own, or the tail
 * of an overnight interval of the day before. */
static void
s_week_open(const calendar_t *cal, bool ret_open[7])
{
        struct span spans[CALENDAR_MAX_INTERVALS + 1];

        for (int wd = 0; wd < 7; wd++)
                ret_open[wd] = s_day_spans(&cal->week[(wd + 6) % 7], &cal->week[wd], spans) > 0;
}

/* Whether the UTC offset is the same throughout the local days [day, day + ndays) and their
 * start maps to an instant (not a gap end): then local second l maps to l - *ret_off. When it
 * is, *st (if not NULL) is the stretch found, and a later question about days inside it is
 * answered from it: local0 mapped to u0 exactly, so no earlier instant read local0 or later,
 * and every wall time from local0 up to the next change (next + off) maps to l - off, where
 * the offset and the next change are those found at u0. */
static bool
s_linear(const calendar_t *cal, struct stretch *st, int64_t day, int ndays, int32_t *ret_off)
{
        int64_t local0 = day * DAY_S, local1 = local0 + ndays * DAY_S, u0, next;
        int32_t off;
        bool changes;

        if (st && local0 >= st->lo && local1 < st->hi) {
                *ret_off = st->off;
                return true;
        }
        u0 = tz_utc_of_local(cal->tz, local0);
        off = tz_offset_at(cal->tz, u0);
        if (u0 + off != local0)
                return false;
        changes = tz_next_transition(cal->tz, u0, &next) == 0;
        if (changes && next <= local1 - off)
                return false;
        if (st)
                *st = (struct stretch){local0, changes ? next + off : INT64_MAX, off};
        *ret_off = off;
        return true;
}

/* The business time of local day day in UTC milliseconds, sorted, disjoint, non-empty. out
 * holds CALENDAR_MAX_INTERVALS + 1 spans; returns how many were filled. */
static size_t
s_day_utc(const calendar_t *cal, struct stretch *st, int64_t day, struct utc_span *out)
{
        struct span spans[CALENDAR_MAX_INTERVALS + 1];
        size_t n = s_day_spans(s_hours_of_day(cal, day - 1), s_hours_of_day(cal, day), spans);
        size_t k = 0;
        int32_t off = 0;
        bool linear;

        if (n == 0)
                return 0;
        linear = s_linear(cal, st, day, 1, &off);
        for (size_t i = 0; i < n; i++) {
                int64_t l0 = day * DAY_S + spans[i].start * 60,
                        l1 = day * DAY_S + spans[i].end * 60;
                int64_t u0 = linear ? l0 - off : tz_utc_of_local(cal->tz, l0);
                int64_t u1 = linear ? l1 - off : tz_utc_of_local(cal->tz, l1);

                if (u1 > u0)
                        out[k++] = (struct utc_span){u0 * 1000, u1 * 1000};
        }
        return k;
}

/* Whether local days [day, day + 7) form an ordinary week, holding exactly the weekly total:
 * no holiday or make-up day on them or on the day before (whose overnight intervals run into
 * the week), one offset throughout. Sets the week's UTC bounds in milliseconds. */
static bool
s_plain_week(const calendar_t *cal, struct stretch *st, int64_t day, int64_t *ret_start_ms,
             int64_t *ret_end_ms)
{
        size_t i;
        int32_t off;

        i = s_holiday_lower_bound(cal, day - 1);
        if (i < cal->n_holidays && cal->holidays[i] < day + 7)
                return false;
        i = s_workday_lower_bound(cal, day - 1);
        if (i < cal->n_workdays && cal->workdays[i].day < day + 7)
                return false;
        if (!s_linear(cal, st, day, 7, &off))
                return false;
        *ret_start_ms = (day * DAY_S - off) * 1000;
        *ret_end_ms = ((day + 7) * DAY_S - off) * 1000;
        return true;
}

/* The local day of instant ms, minus one: the earliest day whose business time can reach
 * past ms (an overnight interval of the day before, or a repeated fall-back hour). */
static int64_t
s_first_day(const calendar_t *cal, int64_t ms)
{
        int64_t s = s_floor_div(ms, 1000);

        return s_floor_div(tz_local_of_utc(cal->tz, s), DAY_S) - 1;
}

/* The first holiday or make-up day at or after day; INT64_MAX when there is none. */
static int64_t
s_next_exception(const calendar_t *cal, int64_t day)
{
        size_t i = s_holiday_lower_bound(cal, day), j = s_workday_lower_bound(cal, day);
        int64_t next = i < cal->n_holidays ? cal->holidays[i] : INT64_MAX;

        if (j < cal->n_workdays && cal->workdays[j].day < next)
                next = cal->workdays[j].day;
        return next;
}

/* How many ordinary weeks in a row, the first starting on day (an ordinary week, its stretch
 * in *st), the walk of calendar_add_business_time() skips one at a time, with remaining >
 * week_ms of the allowance left: as long as more than a week's total is left, no holiday
 * or make-up day touches the week (from the day before it), the stretch of one offset covers
 * it, and it starts by the year 9999. At least 1. Taking them in one step makes an allowance
 * of months on a calendar open a few hours a week as cheap as one of a day. */
static int64_t
s_plain_weeks(const calendar_t *cal, const struct stretch *st, int64_t day, int64_t remaining,
              int64_t week_ms)
{
        int64_t k, next;

        /* A week without business time: one at a time, to the closed days' limit. */
        if (week_ms == 0)
                return 1;
        k = (remaining - 1) / week_ms;
        next = s_next_exception(cal, day - 1);
        if (next != INT64_MAX && (next - day) / 7 < k)
                k = (next - day) / 7;
        if (st->hi != INT64_MAX && (st->hi - 1 - day * DAY_S) / (7 * DAY_S) < k)
                k = (st->hi - 1 - day * DAY_S) / (7 * DAY_S);
        if ((LAST_DAY - day) / 7 + 1 < k)
                k = (LAST_DAY - day) / 7 + 1;
        assert(k >= 1);
        return k;
}

/* Whether local day day has any business time. */
static bool
s_day_open(const calendar_t *cal, int64_t day)
{
        struct utc_span spans[CALENDAR_MAX_INTERVALS + 1];

        return s_day_utc(cal, NULL, day, spans) > 0;
}

int
calendar_check_closed_days(const calendar_t *cal, int64_t *ret_first_day, int64_t *ret_days)
{
        int64_t lo = INT64_MAX, hi = INT64_MIN, day, run_start, next, w0, w1;
        bool open[7];

        assert(cal);
        assert(ret_first_day);
        assert(ret_days);
        if (s_week_total_ms(cal) == 0) {
                *ret_first_day = 0;
                *ret_days = INT64_MAX;
                return -ERANGE;
        }
        if (cal->n_holidays > 0) {
                lo = cal->holidays[0];
                hi = cal->holidays[cal->n_holidays - 1];
        }
        if (cal->n_workdays > 0) {
                lo = cal->workdays[0].day < lo ? cal->workdays[0].day : lo;
                hi = cal->workdays[cal->n_workdays - 1].day > hi
                         ? cal->workdays[cal->n_workdays - 1].day
                         : hi;
        }
        if (lo > hi)
                return 0;
        s_week_open(cal, open);

        /* The run under way when the exceptions begin started after the last open day before
         * them, which ordinary days reach within a week or two. */
        for (day = lo - 1; day > FIRST_DAY && !s_day_open(cal, day); day--)
                ;
        run_start = day + 1;
        for (day = run_start; day <= LAST_DAY;) {
                int64_t open_day, after;

                if (s_plain_week(cal, NULL, day, &w0, &w1)) {
                        /* An ordinary week has business time (the weekly total is not 0), on
                         * the weekdays that have it in every ordinary week. */
                        int wd = tz_weekday_from_days(day), lead = 0, trail = 0;

                        while (!open[(wd + lead) % 7])
                                lead++;
                        while (!open[(wd + 6 - trail) % 7])
                                trail++;
                        open_day = day + lead;
                        after = day + 7 - trail;
                        day += 7;
                } else if (s_day_open(cal, day)) {
                        open_day = day;
                        after = ++day;
                } else {
                        day++;
                        continue;
                }
                if (open_day - run_start > CALENDAR_MAX_CLOSED_DAYS) {
                        *ret_first_day = run_start;
                        *ret_days = open_day - run_start;
                        return -ERANGE;
                }
                /* Every day after an open day past the exceptions is ordinary, and ordinary
                 * days have business time every week or two (a DST change can swallow one). */
                if (open_day > hi)
                        return 0;
                run_start = after;
                /* Between exceptions weeks apart, the days are ordinary: go on from the last
                 * open day before the next exception. */
                next = s_next_exception(cal, day);
                if (next != INT64_MAX && next - day > 14) {
                        int64_t d = next - 1;

                        while (d > day && !s_day_open(cal, d))
                                d--;
                        if (d > day)
                                run_start = day = d + 1;
                }
        }
        /* Closed to the end of the year 9999. */
        day = day < LAST_DAY + 1 ? day : LAST_DAY + 1;
        if (day - run_start > CALENDAR_MAX_CLOSED_DAYS) {
                *ret_first_day = run_start;
                *ret_days = day - run_start;
                return -ERANGE;
        }
        return 0;
}

int
calendar_add_business_time(const calendar_t *cal, int64_t start_ms, int64_t allowance_ms,
                           int64_t *ret_due_ms)
{
        struct utc_span spans[CALENDAR_MAX_INTERVALS + 1];
        struct stretch st = STRETCH_NONE;
        int64_t week_ms, remaining = allowance_ms, day, last_open;
        bool open[7];

        assert(cal);
        assert(ret_due_ms);
        if (allowance_ms < 0 || start_ms < MIN_MS || start_ms > MAX_MS)
                return -EINVAL;

        /* Business time never outruns real time, so an allowance longer than what is left
         * of the year 9999 cannot be met; refusing it here also bounds the walk below. */
        if (allowance_ms > MAX_MS - start_ms)
                return -ERANGE;

        week_ms = s_week_total_ms(cal);
        s_week_open(cal, open);
        day = s_first_day(cal, start_ms);
        /* The last day seen with business time, for counting closed days in a row exactly as
         * calendar_check_closed_days() does, so that a calendar it accepts never ends here. */
        last_open = day - 1;
        for (;;) {
                int64_t w0, w1;
                size_t n;

                if (day > LAST_DAY || day - 1 - last_open > CALENDAR_MAX_CLOSED_DAYS)
                        return -ERANGE;
                /* Skip a whole week when it lies after the start and the allowance outlasts
                 * it (strictly: an allowance ending with the week's last interval ends at that
                 * interval's end, found below). */
                if (remaining > week_ms && s_plain_week(cal, &st, day, &w0, &w1) &&
                    w0 >= start_ms) {
                        int wd = tz_weekday_from_days(day), trail = 0;
                        int64_t k = s_plain_weeks(cal, &st, day, remaining, week_ms);

                        while (week_ms > 0 && !open[(wd + 6 - trail) % 7])
                                trail++;
                        if (week_ms > 0)
                                last_open = day + 7 * (k - 1) + 6 - trail;
                        remaining -= k * week_ms;
                        day += 7 * k;
                        continue;
                }
                n = s_day_utc(cal, &st, day, spans);
                if (n > 0)
                        last_open = day;
                for (size_t i = 0; i < n; i++) {
                        int64_t from, avail;

                        if (spans[i].end <= start_ms)
                                continue;
                        from = spans[i].start > start_ms ? spans[i].start : start_ms;
                        avail = spans[i].end - from;
                        if (remaining <= avail) {
                                *ret_due_ms = from + remaining;
                                return 0;
                        }
                        remaining -= avail;
                }
                day++;
        }
}

int
calendar_business_time_between(const calendar_t *cal, int64_t from_ms, int64_t to_ms,
                               int64_t *ret_ms)
{
        struct utc_span spans[CALENDAR_MAX_INTERVALS + 1];
        struct stretch st = STRETCH_NONE;
        int64_t week_ms, total = 0, day;

        assert(cal);
        assert(ret_ms);
        if (to_ms <= from_ms) {
                *ret_ms = 0;
                return 0;
        }
        if (from_ms < MIN_MS || to_ms > MAX_MS)
                return -EINVAL;

        week_ms = s_week_total_ms(cal);
        day = s_first_day(cal, from_ms);
        for (;;) {
                int64_t w0, w1;
                size_t n;

                if (s_plain_week(cal, &st, day, &w0, &w1) && w0 >= from_ms && w1 <= to_ms) {
                        total += week_ms;
                        day += 7;
                        continue;
                }
                n = s_day_utc(cal, &st, day, spans);
                for (size_t i = 0; i < n; i++) {
                        int64_t lo = spans[i].start > from_ms ? spans[i].start : from_ms;
                        int64_t hi = spans[i].end < to_ms ? spans[i].end : to_ms;

                        if (hi > lo)
                                total += hi - lo;
                }
                /* Days after this one start where this one ends, in UTC. */
                day++;
                if (tz_utc_of_local(cal->tz, day * DAY_S) * 1000 >= to_ms)
                        break;
        }
        *ret_ms = total;
        return 0;
}
