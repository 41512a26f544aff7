/* store_int.h: the LMDB layout behind store.h, shared by the store_*.c files and by nothing
 * else (only they include lmdb.h).
 *
 * Databases (keys big-endian so that byte order is numeric order):
 *   meta        "schema" -> u32, "next_id" -> u64, "count/<status>" -> u64,
 *               "country_code" -> digits ("" for none) the contact index is keyed with,
 *               "stats_zone" -> the zone (IANA name) whose local days key the counters,
 *               "stats_rebuild" -> u64, only while the counters are rebuilt for that zone:
 *               the first complaint id not counted yet (store_stats_rebuild_step())
 *   complaints  id u64 -> Complaint
 *   history     id u64 . seq u32 -> HistoryEntry
 *   events      seq u64 -> Event
 *   request_ids request_id \0 actor -> hash u64 . Reply   (schema 3 and before: "requests",
 *               keyed actor \0 request_id; ids that begin with a time, as libcomplaint's
 *               do, then land side by side at the end of the tree)
 *   by_status   status u8 . id u64 -> ""
 *   by_dept     department \0 . id u64 -> ""
 *   by_category category \0 . id u64 -> ""
 *   overdue     id u64 -> level u32           complaints escalated on a running clock
 *   deadlines   due i64 . id u64 . clock u8 . type u8 -> ""
 *   policies    id u64 -> Policy
 *   streams     stream \0 . offset u64 -> seq u64   each department's stream of events
 *   stats       day u32 . stats key -> row           the report's counters (stats.h), by the
 *                                                    local day of creation in "stats_zone"
 *                                                    (UTC up to schema 7)
 *   ledger      complete u8 . created i64 . id u64 -> ""   every complaint by creation time,
 *                                                    those not closed (complete 0) first
 *   contacts    contact key \0 . created i64 . id u64 -> ""   complaints by phone and e-mail
 *   request_times  at i64 . request_id \0 actor -> ""   when each stored reply was written, so
 *               that replies older than the idempotency window are pruned oldest first
 *   retain      ended i64 . id u64 -> ""   closed and dismissed complaints whose complainant's
 *               contact details are still kept, by when they ended, for privacy.retention
 *
 * Since schema 6 no record holds a complainant in the clear: store_put_complaint() seals it
 * (seal.h) into the record's sealed_contact, and the contact index is keyed with the keyed hash
 * of each contact key ("h:" and SEAL_HASH_HEX hex digits), not with the phone or address.
 */
#ifndef COMPLAINTD_STORE_INT_H
#define COMPLAINTD_STORE_INT_H

#include <lmdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "contact.h"
#include "seal.h"
#include "stats.h"
#include "store.h"
#include "tz.h"

#define INITIAL_MAP (64ull << 20)
/* Below this much free space, a failed commit is taken for a full disk, not an I/O error. */
#define STORE_DISK_RESERVE (1ull << 20)
#define KEY_MAX 511 /* LMDB's default maximum key size */

enum {
        DB_META,
        DB_COMPLAINTS,
        DB_HISTORY,
        DB_EVENTS,
        DB_REQUESTS,
        DB_BY_STATUS,
        DB_BY_DEPT,
        DB_BY_CATEGORY,
        DB_OVERDUE,
        DB_DEADLINES,
        DB_POLICIES,
        DB_STREAMS,
        DB_STATS,
        DB_LEDGER,
        DB_CONTACTS,
        DB_REQUEST_TIMES,
        DB_RETAIN,
        DB_COUNT
};

#define DAY_MS 86400000ll
#define LEDGER_KEY 17

#define META_COUNTRY "country_code"
#define META_STATS_ZONE "stats_zone"
#define META_STATS_REBUILD "stats_rebuild"
/* tz_rules_digest() of the zone the counters are keyed in, as it was when they were: a tzdata
 * update that changes the zone's rules moves local days, and the counters are rebuilt. Absent
 * in stores kept before it was recorded: the rules then in force are taken for theirs. */
#define META_STATS_RULES "stats_rules"
/* The keyed hash of SEAL_CHECK_TEXT with the store's privacy key: tells a wrong key file. */
#define META_SEAL_CHECK "seal_check"
#define SEAL_CHECK_TEXT "complaintd: the privacy key of this store"
#define ERASED_TEXT STORE_ERASED_TEXT
/* Set by a migration that rewrote records in place: their old bytes (complainants in the
 * clear, before schema 6) stay in free pages until the file is rewritten, which the open
 * does next (st_rewrite_file()). */
#define META_REWRITE "rewrite_file"
#define COUNTRY_CODE_MAX 15 /* digits: E.164 numbers are at most 15 */

struct store {
        MDB_env *env;
        MDB_dbi dbi[DB_COUNT];
        uint64_t map_max;
        uint32_t schema;
        uint32_t migrated_from;
        char *country_code; /* the contact index's ("" none); NULL: not recorded */
        bool rekeyed;       /* the open rebuilt the contact index */
        char *rekeyed_from; /* the code it had before (NULL: none recorded) */
        char *dir;
        char *stats_zone;       /* the zone the counters are keyed in (META_STATS_ZONE) */
        tz_t *stats_tz;         /* ... loaded; UTC when it cannot be (a rebuild follows) */
        bool stats_stale;       /* the counters' zone could not be loaded, or its rules changed
                                 * since they were keyed (META_STATS_RULES): rebuild them even
                                 * for the same zone name */
        bool stats_rules_known; /* META_STATS_RULES is recorded */
        seal_t *seal;           /* the privacy keys (seal.h) */
        bool created;           /* the open made a new, empty store */
        bool failed;            /* an I/O error left the environment unusable: stop */
        bool disk_full;         /* the last commit failed for want of disk space */
        pthread_mutex_t resize; /* held by a backup's copy: the map must not be resized */
};

struct store_txn {
        store_t *store;
        MDB_txn *txn;
        store_txn_t *root;        /* the top-level transaction (itself when it is one) */
        stats_pending_t *pending; /* root only: counter changes written at commit */
        size_t mark;              /* nested only: where its counter changes begin */
        uint64_t writes;          /* root only: puts, deletes and counter changes so far */
        bool write;
};

/* The LMDB transaction of t, for a write: counted on the top-level one (store_writes()). */
static inline MDB_txn *
st_w(store_txn_t *t)
{
        t->root->writes++;
        return t->txn;
}

static inline void
st_put_be64(uint8_t *p, uint64_t v)
{
        for (int i = 7; i >= 0; i--, v >>= 8)
                p[i] = (uint8_t)v;
}

static inline uint64_t
st_get_be64(const uint8_t *p)
{
        uint64_t v = 0;

        for (int i = 0; i < 8; i++)
                v = v << 8 | p[i];
        return v;
}

static inline void
st_put_be32(uint8_t *p, uint32_t v)
{
        for (int i = 3; i >= 0; i--, v >>= 8)
                p[i] = (uint8_t)v;
}

static inline uint32_t
st_get_be32(const uint8_t *p)
{
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Helpers shared by the store's files, each defined in the file named above it. None logs;
 * each returns 0 or a negative errno, with out-parameters untouched on failure. */

/* store.c: the table names, LMDB's codes as -errno (MDB_NOTFOUND -ENOENT, a full map or disk
 * -ENOSPC, ...), the meta table's numbers and strings (a missing number reads as 0, a missing
 * string is -ENOENT; strings are the caller's), and protobuf messages packed straight into
 * the map (put, with MDB_RESERVE) or decoded into a fresh allocation (get, -EBADMSG when it
 * does not decode). */
extern const char *const st_db_names[DB_COUNT];
int st_err(int rc);
int st_meta_get_u64(store_txn_t *t, const char *key, uint64_t *ret);
int st_meta_put_u64(store_txn_t *t, const char *key, uint64_t value);
int st_meta_get_str(store_txn_t *t, const char *key, char **ret);
int st_meta_put_str(store_txn_t *t, const char *key, const char *value);
int st_put_message(store_txn_t *t, int db, MDB_val *key, const ProtobufCMessage *m, unsigned flags);
int st_get_message(store_txn_t *t, int db, MDB_val *key, const ProtobufCMessageDescriptor *d,
                   ProtobufCMessage **ret);

/* store_migrate.c: brings a store of schema `from` to STORE_SCHEMA_VERSION in t, keying the
 * contact index with country code cc. */
int st_migrate(store_txn_t *t, uint32_t from, const char *cc);

/* store_complaints.c: writing record c alone (no index), its complainant sealed: never in
 * the clear in the store file. */
int st_put_record(store_txn_t *t, const pb_complaint_t *c);

/* store_backup.c: replaces the store's data file with a copy written record by record (none
 * of the old file's free bytes), for after a migration; no transaction may be open, and the
 * environment must be closed and opened again after it. 0 or -errno (the old file stays). */
int st_rewrite_file(store_t *s);

/* store_complaints.c: the key of a department or category index entry (prefix \0 id) in buf,
 * which holds KEY_MAX bytes; returns its length. */
size_t st_index_key(uint8_t *buf, const char *prefix, uint64_t id);

/* store_clocks.c: the deadline entries a complaint's clocks hold (at most 6) and their keys
 * (18 bytes); moving a complaint's deadline and overdue entries from old (NULL: new) to c. */
size_t st_clock_deadlines(const pb_complaint_t *c, struct store_deadline *out);
size_t st_deadline_key(uint8_t *kb, const struct store_deadline *d);
int st_update_deadlines(store_txn_t *t, const pb_complaint_t *c, const pb_complaint_t *old);
int st_update_overdue(store_txn_t *t, const pb_complaint_t *c, const pb_complaint_t *old);

/* store_report.c: the local day of an instant in the counters' zone and a day's name
 * (YYYY-MM-DD), a counter row's name
 * for reports of problems, writing a transaction's pending counter rows (at the top-level
 * commit), the ledger key (LEDGER_KEY bytes), and moving a complaint's counters and ledger
 * entry from old (NULL: new) to c. */
uint32_t st_day(const tz_t *tz, int64_t ms);
void st_day_name(uint32_t day, char *buf, size_t size);
void st_row_name(const uint8_t *key, size_t len, char *buf, size_t size);
int st_stats_flush(store_txn_t *t);
size_t st_ledger_key(uint8_t *kb, bool complete, int64_t created, uint64_t id);
int st_update_report(store_txn_t *t, const pb_complaint_t *c, const pb_complaint_t *old);

/* store_requests.c: indexes the stored reply under key (request_id \0 actor, len bytes) by the
 * time it was written. */
int st_request_time(store_txn_t *t, const uint8_t *key, size_t len, int64_t at_ms);

/* store_contacts.c: a complaint's contact keys under country code cc (at most 2) and adding
 * them to the index, rebuilding the whole index for cc (and recording cc), and a contact
 * index key in kb (KEY_MAX bytes, which the caller checks the contact fits); returns its
 * length. */
size_t st_contact_keys(const store_t *s, const pb_complaint_t *c, const char *cc,
                       char keys[2][CONTACT_KEY_MAX]);
int st_put_contacts(store_txn_t *t, const pb_complaint_t *c, const char *cc);
int st_rekey_contacts(store_txn_t *t, const char *cc);
size_t st_contact_key(uint8_t *kb, const char *contact, int64_t created, uint64_t id);
/* ... and a complaint's complainant, in the clear: a copy of c->complainant, or the opened
 * sealed_contact (-ENOENT when it has neither), the caller's to free. */
int st_complainant(const store_t *s, const pb_complaint_t *c, pb_complainant_t **ret);
/* ... keeping the retention index of c (old: NULL when new). */
int st_update_retain(store_txn_t *t, const pb_complaint_t *c, const pb_complaint_t *old);
/* ... and whether c belongs in the retention index, with its key (16 bytes) in kb. */
bool st_retain_key(const pb_complaint_t *c, uint8_t kb[16]);

#endif
