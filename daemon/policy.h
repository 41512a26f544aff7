/* policy.h: the policies clocks run under. A policy is a department's calendar, management
 * chain, warning fraction and re-alert interval as the configuration defined them when a clock
 * started. Each distinct policy is stored once in the store, keyed by a hash of its content,
 * and a clock names its policy by that id, so a reload changes only clocks started afterwards.
 * This module compiles policies into calendars and caches them. */
#ifndef COMPLAINTD_POLICY_H
#define COMPLAINTD_POLICY_H

#include <stdint.h>

#include "calendar.h"
#include "config.h"
#include "pb.h"
#include "store.h"

typedef Complaint__V1__Policy pb_policy_t;

typedef struct policy {
        uint64_t id;
        pb_policy_t *pb; /* the stored form */
        calendar_t *cal; /* compiled from pb */
} policy_t;

typedef struct policies policies_t;

int policies_new(policies_t **ret);
void policies_free(policies_t **p);

/* The policy in force in cfg for department dept, stored in txn if the store does not hold it
 * yet. *ret is borrowed from the cache and lives as long as it. Returns -ENOENT when the
 * department is unknown or has no calendar (it is not timed), -errno otherwise. */
int policies_current(policies_t *p, const conf_t *cfg, const char *dept, store_txn_t *txn,
                     const policy_t **ret);

/* The policy with id, from the cache or the store. -ENOENT when it is stored nowhere. */
int policies_get(policies_t *p, store_txn_t *txn, uint64_t id, const policy_t **ret);

#endif
