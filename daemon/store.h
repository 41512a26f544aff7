/* store.h: the durable state of complaintd in one LMDB environment: complaint records, their
 * append-only history, the numbered event log, the request-id table that makes changes
 * idempotent, and the indexes and counters that answer lists and status without scans.
 * Only the store*.c files include lmdb.h (through store_int.h, which documents the layout);
 * the environment and transactions are in store.c, each family of tables in a store_*.c.
 *
 * Every change of a request happens inside one write transaction, usually a nested one inside
 * the batch's transaction, so a request that fails leaves nothing behind while the rest of its
 * batch commits. Records read from a transaction are decoded into fresh allocations the caller
 * owns; nothing returned points into the map. */
#ifndef COMPLAINTD_STORE_H
#define COMPLAINTD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pb.h"
#include "policy.h"
#include "tz.h"

/* The layout version this daemon writes. A store with a higher one is refused; a lower one is
 * migrated on open, in one transaction. History of the layout:
 *   1  records, history, events, request ids, indexes, deadlines, policies
 *   2  events carry their stream and offset, and each department's stream is indexed
 *   3  the report's counters by day, the ledger by creation time, the contact index
 *   4  stored replies keyed by request id first, so that ids beginning with their time
 *      (libcomplaint's) are written side by side instead of all over the tree
 *   5  stored replies are indexed by when they were written, and pruned once older than the
 *      idempotency window
 *   6  personal data: complainants sealed in their records with the key in privacy.key (seal.h),
 *      the contact index keyed with keyed hashes, stored replies without complainants, and
 *      closed and dismissed complaints indexed for privacy.retention
 *   7  stored replies without descriptions either (an erasure of the text reaches them)
 *   8  the report's counters record the zone whose local days key them (UTC before: the
 *      migration records it, and a daemon whose centre is elsewhere rebuilds them) */
#define STORE_SCHEMA_VERSION 8

typedef struct store store_t;
typedef struct store_txn store_txn_t;

/* Opens (creating if needed) the store in directory dir, letting it grow up to map_max bytes,
 * and migrates a store of an older schema. The contact index keys phone numbers written
 * nationally with country_code (contact.h: the configured default country code's digits, NULL
 * or "" for none); the code in force is recorded in the store, and a store that recorded
 * another one (or none: it was indexed by an older daemon) has its contact index rebuilt from
 * the complaints, in the transaction of the open (store_contacts_rekeyed() tells). A migration
 * or a rebuild that fills the map grows it, up to map_max, and starts again. Returns
 * -EPROTONOSUPPORT for a store written by a newer daemon, -EINVAL for a country code that is
 * not 1 to 15 digits, -ENOKEY when dir/privacy.key is missing or is not this store's (it is
 * made, mode 0600, with a new store and when a store of schema 5 or less is migrated), -ENOSPC when
 * the migration or the rebuild does not fit in map_max, -errno otherwise. */
int store_open_country(const char *dir, uint64_t map_max, const char *country_code, store_t **ret);

/* store_open_country() keeping the country code recorded in the store (none for a new store
 * or one migrated here): the contact index is never rebuilt. For tools and tests that do not
 * read the configuration. */
int store_open(const char *dir, uint64_t map_max, store_t **ret);

/* Makes country_code (as for store_open_country()) the code of the contact index: when it is
 * not the one recorded, the index is rebuilt from the complaints and the code recorded, in one
 * write transaction that grows the map when it fills it (up to map_max). No transaction may be
 * open. *ret_rebuilt says whether the index was rebuilt. -EINVAL for a malformed code, -ENOSPC
 * when the index does not fit, -errno otherwise; on failure the old code and index stay. */
int store_set_country_code(store_t *store, const char *country_code, bool *ret_rebuilt);

/* The country code the contact index is keyed with ("" for none), borrowed from the store
 * until the next store_set_country_code(); NULL when the store does not record one (it was
 * indexed by an older daemon and opened with store_open()). */
const char *store_country_code(store_t *store);

/* Whether the open rebuilt the contact index for another country code; *ret_was (when not
 * NULL) is then the code it was keyed with before ("" for none, NULL when none was recorded),
 * borrowed like store_country_code(). */
bool store_contacts_rekeyed(store_t *store, const char **ret_was);

/* Checks the data file in dir before it is opened, the way store_open() does: 0 when it is
 * an LMDB data file whose size covers every page its newest meta page uses; -ENOENT when
 * there is none (a new store may be made there); -EBADMSG when it is empty, truncated or not
 * an LMDB data file, or when it is missing though its lock file says a store was there;
 * another -errno when it cannot be read. Writes a sentence saying which (with the path) into
 * why. store_open() refuses the same files with the same code. */
int store_probe(const char *dir, char *why, size_t why_size);

/* Whether the data file the store has open is still dir/data.mdb: -ENOENT when it was deleted
 * or replaced (the state directory was removed while running), -EIO when it cannot be told.
 * store_commit() checks it before every top-level write commit. */
int store_alive(store_t *store);

/* Whether the open found no store and made a new, empty one. */
bool store_created(store_t *store);

/* Whether an I/O error (a failed write or flush, LMDB's MDB_PANIC, or the data file gone)
 * left the store unusable: the owner must stop without retrying, and a restart recovers the
 * last commit. Once true it stays true. */
bool store_failed(store_t *store);

/* Whether the last top-level commit failed for want of disk space (cleared by one that
 * succeeds). */
bool store_disk_full(store_t *store);

/* Closes the environment. No transaction may be open. Accepts NULL; sets *store to NULL. */
void store_close(store_t **store);

/* Doubles the map, up to map_max. No transaction may be open. -ENOSPC when already at the
 * maximum or when the disk is full (growing would only move the failure), -EBUSY while a
 * backup reads the map. */
int store_grow(store_t *store);

/* Sizes of the map and of the part of it in use. */
void store_usage(store_t *store, uint64_t *ret_used, uint64_t *ret_map);

/* The schema version recorded in the store, and the one it had before this open migrated it
 * (equal when nothing was migrated). */
uint32_t store_schema(store_t *store);
uint32_t store_schema_migrated_from(store_t *store);

/* Writes a consistent copy of the store into the directory path (created if missing; it must
 * not already hold a store) as data.mdb, mode 0640, with its privacy key beside it (privacy.key,
 * mode 0600), flushed to disk with its directory before it returns. The copy is written record
 * by record from one snapshot, so that it holds nothing the store no longer holds (an erasure:
 * store_backup.c). Safe to call from another thread while the owner of the store goes on
 * writing: the map is not grown while it reads. -EEXIST when path holds a store, -ENOSPC when
 * its file system has less free space than the store uses; a copy that fails is removed. */
int store_backup(store_t *store, const char *path);

/* Verifies the store in dir (a live one or a backup) without changing it: the schema version,
 * every record and history entry decodes, every index and counter agrees with the records,
 * the deadline index matches the clocks, the event log and its streams are gap-free, every
 * report counter (stats.h) is what the complaints add up to, the ledger holds exactly the
 * complaints, and the contact index exactly the keys of their complainants under the country
 * code the store records.
 * Writes what it checked and every problem to report, one line each. Returns 0 when the store
 * is consistent, -EBADMSG when it is not, another -errno when it cannot be read. */
int store_check(const char *dir, FILE *report);

/* Transactions. store_begin() starts a top-level one (write: the single writer); begin_nested()
 * a child of a write transaction. commit and abort free the handle and NULL the pointer;
 * commit returns -ENOSPC when the map or the disk is full, and -EIO (or another -errno) for an
 * I/O error, after which store_failed() is true; the transaction is gone either way. */
int store_begin(store_t *store, bool write, store_txn_t **ret);
int store_begin_nested(store_txn_t *parent, store_txn_t **ret);
int store_commit(store_txn_t **txn);
void store_abort(store_txn_t **txn);
/* How many writes (puts, deletes, counter changes) the top-level transaction of txn and its
 * nested ones have made so far: work run straight in a transaction compares it before and after
 * to know whether a failure left something behind. */
uint64_t store_writes(const store_txn_t *txn);

/* Complaints. get returns -ENOENT for an unknown id; the record is the caller's, freed with
 * complaint__v1__complaint__free_unpacked(). put writes c and moves its index entries, state
 * counters, report counters and ledger entry from old (NULL for a new complaint), which must be
 * the record as stored. next_id reserves the next id. */
int store_get_complaint(store_txn_t *txn, uint64_t id, pb_complaint_t **ret);
int store_put_complaint(store_txn_t *txn, const pb_complaint_t *c, const pb_complaint_t *old);
int store_next_complaint_id(store_txn_t *txn, uint64_t *ret);

/* History: put appends one entry (its complaint_id and seq are the key, and an existing key is
 * refused with -EEXIST: history is never rewritten). get_history returns all entries of a
 * complaint in order, as an array of *ret_n entries the caller frees with
 * store_free_history(). */
int store_put_history(store_txn_t *txn, const pb_history_t *h);
int store_get_history(store_txn_t *txn, uint64_t id, pb_history_t ***ret, size_t *ret_n);
/* One page of a complaint's history: the entries after seq after_seq, in order, at most max_n
 * of them and, past the first, at most max_bytes of stored entries. *ret_next is the seq to
 * pass as after_seq for the next page, 0 when there is no more (ret_next may be NULL). Frees
 * and errors as store_get_history(). */
int store_get_history_page(store_txn_t *txn, uint64_t id, uint32_t after_seq, uint32_t max_n,
                           size_t max_bytes, pb_history_t ***ret, size_t *ret_n,
                           uint32_t *ret_next);
void store_free_history(pb_history_t ***entries, size_t n);
/* Replaces history entry h (its complaint_id and seq name it) with h, for erasing personal
 * data from it: -ENOENT when there is no such entry. */
int store_rewrite_history(store_txn_t *txn, const pb_history_t *h);

/* Events: append numbers ev globally (ev->seq = last + 1, also written into the entry it
 * carries, ev->entry->event_seq) and in its stream ev->stream (ev->offset = that stream's
 * head + 1) and stores it; last_event_seq is 0 for an empty log.
 * get_event returns -ENOENT for a seq not stored. */
int store_append_event(store_txn_t *txn, pb_event_t *ev);
int store_last_event_seq(store_txn_t *txn, uint64_t *ret);
int store_get_event(store_txn_t *txn, uint64_t seq, pb_event_t **ret);
/* Replaces stored event ev->seq with ev (same stream and offset), for erasing personal data
 * from it: -ENOENT when it is no longer kept. */
int store_rewrite_event(store_txn_t *txn, const pb_event_t *ev);

/* The newest and the oldest kept offset of a stream ("" is the global stream, whose offsets
 * are seqs); 0 when it holds nothing. */
int store_stream_head(store_txn_t *txn, const char *stream, uint64_t *ret);
int store_stream_first(store_txn_t *txn, const char *stream, uint64_t *ret);

/* Reads the events of stream after offset `after`, in order, keeping those whose topic starts
 * with one of the n_prefixes prefixes (all when n_prefixes is 0), until limit are kept,
 * scan_max have been examined, or (past the first) the kept ones pass max_bytes (0: no
 * bound). The array and its events are the caller's (free with
 * store_free_events()); *ret_next is the last offset examined (after, when none was). */
int store_replay(store_txn_t *txn, const char *stream, uint64_t after, char *const *prefixes,
                 size_t n_prefixes, uint32_t limit, uint32_t scan_max, size_t max_bytes,
                 pb_event_t ***ret, size_t *ret_n, uint64_t *ret_next);
void store_free_events(pb_event_t ***events, size_t n);

/* Deletes the oldest events while more than keep_count are kept or they are older than
 * before_ms, at most max of them. *ret_n is how many were deleted. */
int store_prune_events(store_txn_t *txn, uint64_t keep_count, int64_t before_ms, uint32_t max,
                       uint32_t *ret_n);

/* Request ids: the reply given to (actor, request_id), with the hash of the request it
 * answered, written at at_ms. get returns -ENOENT when the id was not used; *ret_reply is the
 * caller's (free()).*/
int store_get_request(store_txn_t *txn, const char *actor, const char *request_id,
                      uint64_t *ret_hash, uint8_t **ret_reply, size_t *ret_len);
int store_put_request(store_txn_t *txn, const char *actor, const char *request_id, uint64_t hash,
                      const uint8_t *reply, size_t len, int64_t at_ms);

/* Deletes the stored replies written before before_ms, oldest first, at most max of them;
 * *ret_n is how many. A request repeated after its reply was pruned is handled as new. */
int store_prune_requests(store_txn_t *txn, int64_t before_ms, uint32_t max, uint32_t *ret_n);

/* Policies (policy.h), stored encoded and content-addressed, loaded through a cache of
 * compiled ones. get_policy returns the policy with id from cache, reading and compiling it
 * from the store when it is not cached; -ENOENT when it is stored nowhere, policies_add()'s
 * errors otherwise. current_policy returns the policy cfg defines for department dept,
 * storing it when the store does not hold it yet (in txn, so with the clock that first uses
 * it); -ENOENT when the department is unknown or not timed. *ret is borrowed from cache. */
int store_get_policy(store_txn_t *txn, policies_t *cache, uint64_t id, const policy_t **ret);
int store_current_policy(store_txn_t *txn, policies_t *cache, const conf_t *cfg, const char *dept,
                         const policy_t **ret);

/* The deadline index: one entry per warning or escalation due, kept by store_put_complaint()
 * from the complaint's clocks, ordered by time. first_deadline() is the next one due
 * (-ENOENT when there is none); delete_deadline() removes an entry that no longer matches its
 * complaint. */
enum store_deadline_type { STORE_DEADLINE_WARN = 1, STORE_DEADLINE_BREACH = 2 };
struct store_deadline {
        int64_t due_ms;
        uint64_t id;
        int clock; /* ClockKind */
        int type;  /* enum store_deadline_type */
};
int store_first_deadline(store_txn_t *txn, struct store_deadline *ret);
int store_delete_deadline(store_txn_t *txn, const struct store_deadline *d);

/* The number of complaints in a status (ST_NONE: all of them). */
int store_count(store_txn_t *txn, int status, uint64_t *ret);

/* The number of complaints escalated (level 1 or above) on a running clock. */
int store_count_overdue(store_txn_t *txn, uint64_t *ret);

/* Lists complaints newest first, below before_id (0: from the newest), matching every filter
 * that is set (NULL / ST_NONE: any), at most limit of them, examining at most scan_max index
 * entries. The array and records are the caller's, freed with store_free_list(); *ret_next is
 * the before_id of the next page, 0 at the end: a page cut short by scan_max may hold fewer
 * than limit complaints, or none, with *ret_next set. */
struct store_filter {
        const char *department;
        const char *category;
        int status;
        bool overdue;     /* only complaints at level 1 or above */
        uint32_t level;   /* only complaints at this level (0: any) */
        size_t max_bytes; /* a page ends once its records pass this many bytes (0: no bound) */
};
int store_list(store_txn_t *txn, const struct store_filter *f, uint64_t before_id, uint32_t limit,
               uint32_t scan_max, pb_complaint_t ***ret, size_t *ret_n, uint64_t *ret_next);
void store_free_list(pb_complaint_t ***list, size_t n);

/* The report's counters (stats.h), kept by store_put_complaint() by the local day of creation
 * (days since 1970-01-01 on the local calendar) in the zone the store records for them. Calls fn
 * for every row of the days [day_from, day_to) whose key starts with the scope prefix scope
 * (stats_scope()); key and row are borrowed for the call. fn returns 0 to go on, or a negative
 * errno that ends the walk and is returned. */
typedef int (*store_stats_fn)(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *row,
                              size_t row_len);
int store_stats_rows(store_txn_t *txn, uint32_t day_from, uint32_t day_to, const uint8_t *scope,
                     size_t scope_len, store_stats_fn fn, void *ctx);

/* The zone of the counters. set_stats_zone makes zone (an IANA name) the zone whose local days
 * key the counters: when it is not the one recorded, or it is but its rules changed since the
 * counters were keyed in it (a tzdata update: tz_rules_digest()), or the recorded zone could not
 * be loaded at open, the counters are emptied and a rebuild starts, in a write transaction of its
 * own (no transaction may be open; the map grows as for store_set_country_code()); *ret_started
 * says whether it did. A store without complaints records the zone and has nothing to rebuild.
 * -ENOENT or -EINVAL (tz_load()) for a zone that cannot be loaded, -ENOSPC, -errno; on failure
 * nothing changes. stats_zone and stats_tz are the recorded zone, borrowed until the next
 * set_stats_zone. */
int store_set_stats_zone(store_t *store, const char *zone, bool *ret_started);
const char *store_stats_zone(store_t *store);
const tz_t *store_stats_tz(store_t *store);

/* The rebuild of the counters, in bounded steps so that the loop goes on between them.
 * stats_rebuilding is 0 while one is under way, storing the first complaint id it has not
 * counted yet in *ret_next (may be NULL), and -ENOENT when none is; the counters hold only
 * the complaints below it meanwhile (store_put_complaint() leaves the others to the rebuild),
 * so a report must not read them. rebuild_step counts the next max complaints into the
 * counters in write transaction txn (the caller commits it), *ret_n says how many and
 * *ret_done whether it reached the last complaint (the rebuild is over once txn commits).
 * A rebuild survives a restart: the next step goes on where the last committed one ended. */
int store_stats_rebuilding(store_txn_t *txn, uint64_t *ret_next);
int store_stats_rebuild_step(store_txn_t *txn, uint32_t max, uint32_t *ret_n, bool *ret_done);

/* The local day (store_stats_rows()) of instant ms in tz, and the UTC instant (ms) its first
 * second begins at: a day's counters hold the complaints created in [start(day),
 * start(day + 1)). Instants before the first day count in day 0. */
uint32_t store_local_day(const tz_t *tz, int64_t ms);
int64_t store_local_day_start(const tz_t *tz, uint32_t day);

/* The ledger: every complaint by creation time, kept by store_put_complaint(), those not closed
 * (without a reply or without a follow-up) before the closed ones. next stores in *ret the
 * position of the first complaint after *after (NULL: from the start) created in
 * [from_ms, to_ms), in the order (complete, created_ms, id). -ENOENT past the last. */
struct store_ledger_pos {
        bool complete; /* closed */
        int64_t created_ms;
        uint64_t id;
};
int store_ledger_next(store_txn_t *txn, const struct store_ledger_pos *after, int64_t from_ms,
                      int64_t to_ms, struct store_ledger_pos *ret);

/* One part of the ledger only (complete: the closed complaints, or the others), in the order
 * (created_ms, id): stores in *ret the first entry of that part created before to_ms and
 * strictly after (after_created_ms, after_id) when started, or at or after from_ms when not
 * (a position before from_ms counts as not started). A caller merges the two parts by
 * (created_ms, id) to walk the period in creation order. -ENOENT when there is none. */
int store_ledger_next_in(store_txn_t *txn, bool complete, int64_t after_created_ms,
                         uint64_t after_id, bool started, int64_t from_ms, int64_t to_ms,
                         struct store_ledger_pos *ret);

/* The contact index, linking a complainant's complaints by a key of contact.h (phone numbers
 * keyed with store_country_code()). put adds complaint id created at created_ms under contact;
 * contact_ids stores in ids the complaints under contact created at or after since_ms, newest
 * first, at most max, and their number in *ret_n. -E2BIG for a key too long to index. */
int store_put_contact(store_txn_t *txn, const char *contact, int64_t created_ms, uint64_t id);
int store_contact_ids(store_txn_t *txn, const char *contact, int64_t since_ms, uint64_t *ids,
                      size_t max, size_t *ret_n);
/* ... and del removes one entry (-ENOENT when it is not there). */
int store_del_contact(store_txn_t *txn, const char *contact, int64_t created_ms, uint64_t id);

/* What erased free text reads as (the description, the intake's notes: privacy.h). */
#define STORE_ERASED_TEXT "[erased]"

/* Personal data. A complaint read from the store carries its complainant sealed
 * (sealed_contact) and complainant NULL; store_put_complaint() seals a complainant it is given
 * in the clear and keeps a sealed one as it is. open_contact stores in *ret (the caller's) the
 * complainant of c in the clear: -ENOENT when it has none (erased), -EBADMSG when the seal
 * does not open. */
int store_open_contact(store_txn_t *txn, const pb_complaint_t *c, pb_complainant_t **ret);

/* Rotating the privacy key, after erasures: the details they removed may stay, sealed, in
 * the store file's free pages; once every record is sealed with a new key and the old one is
 * gone from privacy.key, nothing opens them. note_erasure counts an erasure (in the
 * transaction of it); rekey_due says whether some were made since the last rotation began and
 * interval_ms has passed since; rekey_start adds a new key to privacy.key (written at once:
 * the rest of the rotation is resumable) and starts the pass; rekeying says whether a
 * rotation is under way (privacy.key holds more than one key, also after a restart);
 * rekey_step seals again, with the new key, the records sealed with an old one among the next
 * max, saying in *ret_n how many and in *ret_done whether the pass reached the end; after the
 * step that did commits, rekey_finish drops the old keys from privacy.key. Each returns 0 or
 * a negative errno. */
int store_note_erasure(store_txn_t *txn);
int store_rekey_due(store_txn_t *txn, int64_t now_ms, int64_t interval_ms, bool *ret_due);
int store_rekey_start(store_txn_t *txn, int64_t now_ms);
bool store_rekeying(store_t *store);
int store_rekey_step(store_txn_t *txn, uint32_t max, uint32_t *ret_n, bool *ret_done);
int store_rekey_finish(store_t *store);

/* The retention index: stores in ids the complaints closed or dismissed before ended_before_ms
 * whose complainant's details are still kept, oldest first, at most max, and their number in
 * *ret_n. */
int store_retain_due(store_txn_t *txn, int64_t ended_before_ms, uint64_t *ids, size_t max,
                     size_t *ret_n);

#endif
