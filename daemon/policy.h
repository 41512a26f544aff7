/* policy.h: the policies clocks run under. A policy is a department's calendar, management
 * chain, warning fraction and re-alert interval as the configuration defined them when a clock
 * started. Each distinct policy is stored once in the store, keyed by a hash of its content,
 * and a clock names its policy by that id, so a reload changes only clocks started afterwards.
 * This module encodes a department's policy from the configuration, compiles stored policies
 * into calendars and caches them; it knows nothing of the store, which keeps the encoded
 * policies and loads them through this cache (store.h: store_get_policy(),
 * store_current_policy()). */
#ifndef COMPLAINTD_POLICY_H
#define COMPLAINTD_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "calendar.h"
#include "config.h"
#include "pb.h"

typedef Complaint__V1__Policy pb_policy_t;

typedef struct policy {
        uint64_t id;
        pb_policy_t *pb; /* the stored form */
        calendar_t *cal; /* compiled from pb */
} policy_t;

typedef struct policies policies_t;

int policies_new(policies_t **ret);
void policies_free(policies_t **p);

/* Encodes the policy in force in cfg for department dept; *ret_buf is the caller's to free.
 * Returns -ENOENT when the department is unknown or has no calendar (it is not timed),
 * -ENOMEM. */
int policies_encode(const conf_t *cfg, const char *dept, uint8_t **ret_buf, size_t *ret_len);

/* The id of an encoded policy: a hash of its bytes, never 0. */
uint64_t policies_id(const uint8_t *blob, size_t len);

/* The cached policy with id; -ENOENT when it is not in the cache. *ret is borrowed from the
 * cache and lives as long as it. */
int policies_find(policies_t *p, uint64_t id, const policy_t **ret);

/* Decodes and compiles the encoded policy blob (borrowed) into the cache, unless a policy with
 * its id is cached already; *ret as for policies_find(). -EBADMSG for a blob that does not
 * decode, the calendar's -errno for one that does not compile, -ENOMEM. */
int policies_add(policies_t *p, const uint8_t *blob, size_t len, const policy_t **ret);

#endif
