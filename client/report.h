/* report.h: complaintctl's `report` (the monthly analysis) and `ledger` (the reply ledger)
 * commands: the period they cover, the requests, and the output as text tables, JSON or CSV.
 *
 * Periods are the centre's (its zone, StatusReply.zone): --month 2026-11 is from midnight on 1
 * November to midnight on 1 December on the centre's clocks. --from and --to take a date
 * (2026-11-01: --from at the start of that local day, --to at its end, so the day is included),
 * a local time (2026-11-01T08:30 or 2026-11-01T08:30:15; with a Z, 2026-11-01T08:30Z, a UTC
 * one; --to excluded), or @MILLISECONDS since the epoch (excluded for --to). A complaint
 * belongs to the period of the instant it was created. */
#ifndef COMPLAINTD_REPORT_H
#define COMPLAINTD_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "complaint_client.h"
#include "settings.h"

struct tz;

/* What complaintctl parsed for report and ledger; every string is borrowed. */
struct report_options {
        const char *endpoint;            /* the daemon's API */
        const struct settings *settings; /* the keys, when there are any */
        const char *actor;
        int timeout_ms;
        int retries;
        bool json;              /* one JSON document */
        bool csv;               /* comma-separated values with a header line (RFC 4180 quoting) */
        const char *month;      /* YYYY-MM, or NULL */
        const char *from, *to;  /* see above, or NULL; both or neither, and not with month */
        const char *department; /* NULL: all */
        const char *category;   /* NULL: all; not with department */
        uint32_t limit;         /* ledger rows per request; 0: the daemon's default */
        const struct tz *zone;  /* the centre's zone, in which the period is read; NULL: UTC */
        /* Called, when not NULL, once the reply is in and before text (not JSON or CSV) is
         * printed: complaintctl sets the zone of the times there (ctl_times()). */
        void (*times)(void *ctx);
        void *times_ctx;
};

/* Turns the options' period, read in zone (NULL: UTC), into [*ret_from, *ret_to) in UTC
 * milliseconds. Returns 0, or
 * -EINVAL after writing what is wrong (one sentence, naming the option) into err; the
 * out-parameters are then untouched. */
int report_period(const char *month, const char *from, const char *to, const struct tz *zone,
                  int64_t *ret_from, int64_t *ret_to, char *err, size_t err_size);

/* Runs `report` or `ledger` against the daemon and prints the result on stdout, messages on
 * stderr. Returns complaintctl's exit status: 0 done, 1 the daemon refused (or the output could
 * not be written), 2 a usage error in the options, 3 no answer or a failed handshake. The ledger
 * asks page after page until it has every complaint of the period. */
int report_run(const struct report_options *o);
int report_ledger_run(const struct report_options *o);

#endif
