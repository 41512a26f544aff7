/* privacy.h: erasing complainants' personal data, on request (the `erase` request, admin only)
 * and once privacy.retention has passed since a complaint was closed or dismissed. privacy.c
 * implements privacy_erase() for changes.c and service_retain() (service.h) for the loop.
 *
 * What an erasure removes: the complainant's contact details (name, phone, e-mail, address)
 * from the record (its sealed box, seal.h) and its entries in the contact index; on request
 * also the free text the complainant gave (the description, and the notes of the intake: the
 * complaint's first entry and every note its owner wrote) from the record, its history and the
 * events still kept, each replaced by "[erased]". What stays: the complaint, its history, its
 * figures in the report and the ledger, and a history entry (ACTION_ERASE) saying who erased
 * what and why. */
#ifndef COMPLAINTD_PRIVACY_H
#define COMPLAINTD_PRIVACY_H

#include "request.h"

#define ERASE_MAX 200 /* complaints one erase request erases; the reply says when more remain */

/* Handles x's EraseRequest inside x->txn and sets its reply. Returns 0 (the reply may still be
 * an error), -ENOSPC, or -1 with the error reply set. */
int privacy_erase(struct ctx *x);

#endif
