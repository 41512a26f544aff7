/* reads.h: the requests that read: get, list, status and replay, and backup's request side
 * (its checks, and the reply once the copy is done). service.c calls them inside the batch's
 * read transaction, after the changes commit. */
#ifndef COMPLAINTD_READS_H
#define COMPLAINTD_READS_H

#include "request.h"

int reads_get(struct ctx *x);
int reads_list(struct ctx *x);
int reads_stream_heads(service_t *s, store_txn_t *txn, Complaint__V1__StreamHead **ret_heads,
                       Complaint__V1__StreamHead ***ret_ptrs, size_t *ret_n);
int reads_replay(struct ctx *x);
int reads_backup(struct ctx *x, struct service_request *rq);
int reads_status(struct ctx *x);

#endif
