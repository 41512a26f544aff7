/* analysis.h: the report and the ledger, the reads over a period. The report sums the figures
 * of the complaints created in it, by dimension: whole local days of the centre's zone from the
 * day counters (stats.h), the parts of days at its edges from the complaints themselves; while
 * the counters are rebuilt for a new zone it answers BUSY. The ledger lists
 * the period's complaints one row each, in pages. service.c calls both inside the batch's read
 * transaction; request_finish() frees a report with the request's context. */
#ifndef COMPLAINTD_ANALYSIS_H
#define COMPLAINTD_ANALYSIS_H

#include "request.h"

/* Each answers the request of x, read in x->txn, into x's reply. Returns 0, or -1 with the
 * error reply set. */
int analysis_report(struct ctx *x);
int analysis_ledger(struct ctx *x);

/* Frees a report analysis_report() made (x->report) and NULLs *rp; accepts NULL. */
void analysis_report_free(struct report_out **rp);

#endif
