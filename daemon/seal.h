/* seal.h: the store's secrets for personal data, kept in <state_dir>/privacy.key (mode 0600,
 * never in the store itself): a key for the keyed hash (HMAC-SHA-256) that the contact index
 * is keyed with, so that the index holds no phone number or e-mail address, and a key that
 * seals (XChaCha20-Poly1305) each complainant's contact details inside their record, so that
 * the store file never holds them in the clear. Only seal.c includes sodium.h. No logging.
 *
 * The file: "CDPK", a version byte (1), the 32-byte hash key, a 32-bit big-endian count of
 * sealing keys, and that many (32-bit epoch, 32-byte key); the last is the one that seals. A
 * sealed box names its epoch. A rotation adds a key; once every box is sealed with it, the
 * older keys are dropped from the file, and whatever an old key sealed (erased details left
 * in the store file's free pages) can no longer be opened. */
#ifndef COMPLAINTD_SEAL_H
#define COMPLAINTD_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SEAL_FILE "privacy.key"
#define SEAL_HASH_HEX 32 /* hex digits of a keyed hash (128 bits) */
#define SEAL_OVERHEAD 45 /* bytes a box adds: version, epoch, nonce, tag */

typedef struct seal seal_t;

/* Reads dir/privacy.key into *ret (the caller's, freed with seal_free()). When the file is
 * missing and create is true, makes new random keys and writes them first (mode 0600, flushed
 * with the directory); *ret_created (may be NULL) says so. -ENOENT when missing and !create,
 * -EBADMSG when it is malformed, -EACCES when anyone but its owner may read it, -errno. */
int seal_open(const char *dir, bool create, seal_t **ret, bool *ret_created);
void seal_free(seal_t **seal);

/* Writes the keys into dir/privacy.key (mode 0600, flushed with dir), for a backup. -EEXIST
 * when the file is there, or -errno. */
int seal_write_copy(const seal_t *seal, const char *dir);

/* Rotation. rotating: whether the file holds more than one sealing key (a rotation is under
 * way). rotate adds a new key and makes it the one that seals; drop_old keeps only that one.
 * Both rewrite dir/privacy.key whole (flushed, then renamed into place) before they change
 * seal; -errno leaves both as they were. stale: whether a box was sealed with an older key. */
bool seal_rotating(const seal_t *seal);
int seal_rotate(seal_t *seal, const char *dir);
int seal_drop_old(seal_t *seal, const char *dir);
bool seal_stale(const seal_t *seal, const uint8_t *box, size_t len);

/* The keyed hash of s as SEAL_HASH_HEX lowercase hex digits and a NUL, in out. */
void seal_hash_hex(const seal_t *seal, const char *s, char out[SEAL_HASH_HEX + 1]);

/* Seals len bytes of in into out (len + SEAL_OVERHEAD bytes), bound to id: a box moved to
 * another record does not open. */
void seal_box(const seal_t *seal, uint64_t id, const uint8_t *in, size_t len, uint8_t *out);

/* Opens a box of len bytes sealed for id into out (len - SEAL_OVERHEAD bytes) and sets
 * *ret_len. -EBADMSG when it is not a box, was sealed for another id or was altered; -ENOKEY
 * when its epoch's key is not held. */
int seal_unbox(const seal_t *seal, uint64_t id, const uint8_t *in, size_t len, uint8_t *out,
               size_t *ret_len);

#endif
