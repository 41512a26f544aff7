/* analysis.h: the report (figures over a period, from the day counters and the complaints at
 * its edges) and the ledger (one row per complaint of a period). Both are reads; service.c
 * calls them inside the batch's read transaction, and frees a report with the request's
 * context. */
#ifndef COMPLAINTD_ANALYSIS_H
#define COMPLAINTD_ANALYSIS_H

#include "request.h"

void analysis_report_free(struct report_out **rp);
int analysis_report(struct ctx *x);
int analysis_ledger(struct ctx *x);

#endif
