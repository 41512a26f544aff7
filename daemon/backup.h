/* backup.h: one hot backup at a time, run on its own thread so the event loop goes on serving
 * while the store is copied. The loop polls backup_fd() and collects the result with
 * backup_finish(). */
#ifndef COMPLAINTD_BACKUP_H
#define COMPLAINTD_BACKUP_H

#include <stdint.h>

#include "store.h"

typedef struct backup backup_t;

/* Starts copying store (borrowed; it must stay open until backup_finish()) into path. *ret is
 * the caller's, ended with backup_finish(). -errno when the thread cannot start. */
int backup_start(store_t *store, const char *path, backup_t **ret);

/* A descriptor that becomes readable when the copy is done. */
int backup_fd(const backup_t *b);

/* Waits for the copy to end (it has, once backup_fd() is readable), frees the backup and NULLs
 * *b. Returns the copy's result (0 or -errno) and, on success, its size and duration. */
int backup_finish(backup_t **b, uint64_t *ret_bytes, int64_t *ret_took_ms);

/* The path being written (borrowed). */
const char *backup_path(const backup_t *b);

#endif
