/* complaint_keys.h: the CURVE keys of libcomplaint's clients, as text. It reads key files (a
 * client's key pair, as `complaintctl keygen` writes them) and public keys given as text or in
 * a file, writes fresh key files, and checks that a key is well-formed. It owns nothing: every key
 * is copied into the caller's buffer. Keys are ZeroMQ CURVE keys in Z85, 40 characters for 32
 * bytes.
 *
 * A key file:
 *
 *     # comments and blank lines are ignored
 *     public = <40 characters>
 *     secret = <40 characters>
 *
 * is the client's own and is kept private (mode 0600). The daemon's operator gets only the
 * public key, and the client gets the daemon's public key, given as the 40 characters or as a
 * file holding them (a key file serves too: only its public key is read). */
#ifndef COMPLAINT_KEYS_H
#define COMPLAINT_KEYS_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A CURVE key in Z85: 40 characters (32 bytes), plus the NUL. */
#define COMPLAINT_KEY_SIZE 41

/* Whether key is 40 Z85 characters that zmq_z85_decode() accepts. */
bool complaint_key_valid(const char *key);

/* Reads the key file at path: text lines `public = <40 chars>` and
 * `secret = <40 chars>` (the value may be in double quotes), blank lines and lines starting with
 * '#' ignored. Copies the keys, NUL-terminated, to ret_public and ret_secret. Returns 0; -EBADMSG
 * when the file is not such a file (another setting, a key given twice or missing, a malformed
 * key, a public key that is not the secret key's, or more than 64 KiB); or the -errno of opening
 * or reading it. The out-parameters are untouched on failure.
 *
 * The file's mode is not checked here: a secret readable by others is still a secret key, and
 * whether that is fatal is the caller's decision. complaint_keyfile_check_mode() tells. */
int complaint_keyfile_load(const char *path, char ret_public[COMPLAINT_KEY_SIZE],
                           char ret_secret[COMPLAINT_KEY_SIZE]);

/* Makes a fresh key pair (zmq_curve_keypair()) and writes it as a key file to path, created
 * with mode 0600 and never over an existing file, and synced to disk before it returns; the
 * secret key exists only in that file (and is wiped from memory here). Copies the public key to
 * ret_public. Returns 0; -EEXIST when path exists; -ENOTSUP when this libzmq was built without
 * CURVE; or the -errno of creating or writing the file (a partly written file is removed).
 * ret_public is untouched on failure. */
int complaint_keyfile_create(const char *path, char ret_public[COMPLAINT_KEY_SIZE]);

/* Whether only its owner may read or write the key file at path. Returns 0 when so, -EPERM when
 * its group or others may (the caller warns: chmod 600), or the -errno of stat(). */
int complaint_keyfile_check_mode(const char *path);

/* A public key given as text: key_or_path is either the 40 Z85 characters themselves or the path
 * of a file whose first line that is neither blank nor a comment is the 40 characters or
 * `public = <40 chars>` (so a key file serves as its public key too). The text is taken for a
 * key when it is 40 valid Z85 characters and no file by that name exists. (Z85 has '#' among
 * its characters, but no key starts with it: a line starting with '#' is a comment.) Copies the
 * key to ret_public. Returns 0; -EBADMSG when the file holds no public key in that place; or the
 * -errno of opening or reading it (-ENOENT also for text that is neither a key nor a file).
 * ret_public is untouched on failure. */
int complaint_public_key_load(const char *key_or_path, char ret_public[COMPLAINT_KEY_SIZE]);

#ifdef __cplusplus
}
#endif

#endif
