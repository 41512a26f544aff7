/* reads.h: the requests that read the store: get, list, status and replay, and backup's
 * request side (its checks, and service_backup_reply() once the copy is done). service.c calls
 * each handler inside the batch's read transaction, after the changes commit, so that a client
 * reads its own writes; the heartbeat sends the stream heads too. */
#ifndef COMPLAINTD_READS_H
#define COMPLAINTD_READS_H

#include "request.h"

/* Each answers the request of x, read in x->txn, into x's reply. Returns 0, or -1 with the
 * error reply set. */
int reads_get(struct ctx *x);
int reads_list(struct ctx *x);
int reads_replay(struct ctx *x);
int reads_status(struct ctx *x);

/* Checks a backup request. When it is valid, rq->backup_path and rq->request_id are set (the
 * caller's to free, and to run the copy with), x is finished here and 0 is returned: the reply
 * waits for the copy. Returns -1 with the error reply set when the request is refused. */
int reads_backup(struct ctx *x, struct service_request *rq);

/* The head of the global stream and of every configured department's stream, read in txn. The
 * arrays are the caller's to free; the strings are borrowed from the configuration. Returns 0,
 * -ENOMEM or the store's -errno, with the out-parameters untouched. */
int reads_stream_heads(service_t *s, store_txn_t *txn, Complaint__V1__StreamHead **ret_heads,
                       Complaint__V1__StreamHead ***ret_ptrs, size_t *ret_n);

/* Who the request's principal is (WhoAmIReply); every principal may ask. */
int reads_whoami(struct ctx *x);

#endif
