/* settings.h: complaintctl's connection settings: the daemon's endpoint, this client's key file
 * and the daemon's public key. It owns the resolved values and the keys read from the files (the
 * secret is wiped when they are freed), and the words that explain a refused handshake.
 *
 * Each setting comes from the first place that gives it:
 *   1. the option (--endpoint, --key, --server-key);
 *   2. the environment ($COMPLAINT_ENDPOINT, $COMPLAINT_KEY, $COMPLAINT_SERVER_KEY; empty is
 *      unset);
 *   3. the per-user file $XDG_CONFIG_HOME/complaintctl/config (default
 *      ~/.config/complaintctl/config);
 *   4. the system file /etc/complaintd/complaintctl.conf (skipped when this user may not read
 *      it: the package writes it for root);
 * else the endpoint is COMPLAINT_DEFAULT_ENDPOINT and there is no key. The files hold lines
 * `endpoint = EP`, `key = FILE` and `server_key = KEY|FILE`, blank lines and '#' comments; a
 * value may be in double quotes, and a relative path (or "~/...") in a file is taken from that
 * file's directory (or the home directory). Without a key the connection is plain ZMTP, and a
 * server key alone is not used; the key "none" asks for a plain connection whatever a later place
 * says. */
#ifndef COMPLAINTD_SETTINGS_H
#define COMPLAINTD_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>

#include "complaint_sub.h"

/* The system-wide file, read last. */
#define SETTINGS_SYSTEM_FILE "/etc/complaintd/complaintctl.conf"

struct settings {
        char *endpoint;        /* the daemon's API */
        char *key_file;        /* this client's key file, or NULL: a plain connection */
        char *key_from;        /* where key_file was given ("--key", "$COMPLAINT_KEY", FILE:LINE) */
        char *server_key;      /* the daemon's key as given (a key or a path), or NULL */
        char *server_key_from; /* where it was given */
        bool curve;            /* the keys below are loaded: speak CURVE */
        bool key_exposed;      /* the key file may be read by its group or others */
        char client_public[COMPLAINT_KEY_SIZE];
        char client_secret[COMPLAINT_KEY_SIZE];
        char server_public[COMPLAINT_KEY_SIZE];
};

/* Resolves the settings into *s from the options given (each borrowed, NULL when not given),
 * the environment and the files, and loads the keys. Returns 0; -EINVAL after writing into err
 * (one sentence, naming the file and line, or the option or variable) what is wrong with a file
 * or a key; -ENOMEM. *s is the caller's to settings_free() either way. */
int settings_load(struct settings *s, const char *opt_endpoint, const char *opt_key,
                  const char *opt_server_key, char *err, size_t err_size);

/* Frees what *s holds and wipes the secret key; *s may be all zero. */
void settings_free(struct settings *s);

/* Gives a client or a subscriber the keys, when there are any. Returns 0 or the library's
 * negative errno. */
int settings_apply_client(const struct settings *s, complaint_client_t *c);
int settings_apply_sub(const struct settings *s, complaint_sub_t *sub);

/* When r is one of complaint_client_call()'s handshake errors, writes what it means for these
 * settings into buf (one sentence, without "complaintctl: ") and returns buf; otherwise returns
 * NULL. Such a failure is complaintctl's exit status 3. */
const char *settings_handshake_message(const struct settings *s, int r, char *buf, size_t size);

#endif
