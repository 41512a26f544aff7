/* complaint_keys.c: CURVE keys as text (complaint_keys.h). It reads key files and public keys,
 * writes fresh key files, and uses libzmq only for Z85 and the CURVE key arithmetic. It owns no
 * socket, and no memory beyond one call: a buffer that held a secret key is wiped before it is
 * freed. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zmq.h>

#include "complaint_keys.h"

#define KEY_LEN (COMPLAINT_KEY_SIZE - 1)
#define FILE_MAX (64 * 1024) /* a key file is a few lines; anything bigger is not one */

bool
complaint_key_valid(const char *key)
{
        uint8_t bin[32];

        return key && strlen(key) == KEY_LEN && zmq_z85_decode(bin, key) != NULL;
}

/* Reads the whole file at path into *ret_text, NUL-terminated; *ret_size is its length. The text
 * is the caller's, to be wiped (it may hold a secret) and freed. */
static int
s_read(const char *path, char **ret_text, size_t *ret_size)
{
        char *text;
        size_t size = 0;
        int fd, r = 0;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        text = malloc(FILE_MAX + 1);
        if (text == NULL) {
                close(fd);
                return -ENOMEM;
        }
        /* One byte more than allowed, so that a file too big is told from one just big enough. */
        while (size <= FILE_MAX) {
                ssize_t n = read(fd, text + size, FILE_MAX + 1 - size);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = -errno;
                        break;
                }
                if (n == 0)
                        break;
                size += (size_t)n;
        }
        close(fd);
        if (r == 0 && (size > FILE_MAX || memchr(text, '\0', size)))
                r = -EBADMSG;
        if (r < 0) {
                explicit_bzero(text, size);
                free(text);
                return r;
        }
        text[size] = '\0';
        *ret_text = text;
        *ret_size = size;
        return 0;
}

static void
s_wipe(char *text, size_t size)
{
        if (text)
                explicit_bzero(text, size);
        free(text);
}

/* Trims blanks (spaces, tabs, carriage returns) from both ends of s, in place. */
static char *
s_trim(char *s)
{
        size_t len;

        while (*s == ' ' || *s == '\t' || *s == '\r')
                s++;
        len = strlen(s);
        while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
                s[--len] = '\0';
        return s;
}

/* Splits a trimmed line "name = value" in place; the value loses a pair of double quotes around
 * it. Returns false for a line without '='. */
static bool
s_setting(char *line, char **ret_name, char **ret_value)
{
        char *eq = strchr(line, '='), *value;
        size_t len;

        if (eq == NULL)
                return false;
        *eq = '\0';
        value = s_trim(eq + 1);
        len = strlen(value);
        if (len >= 2 && value[0] == '"' && value[len - 1] == '"') {
                value[len - 1] = '\0';
                value++;
        }
        *ret_name = s_trim(line);
        *ret_value = value;
        return true;
}

/* The next line of *cursor (split in place), or NULL at the end. */
static char *
s_line(char **cursor)
{
        char *line = *cursor, *nl;

        if (*line == '\0')
                return NULL;
        nl = strchr(line, '\n');
        if (nl) {
                *nl = '\0';
                *cursor = nl + 1;
        } else {
                *cursor = line + strlen(line);
        }
        return line;
}

int
complaint_keyfile_load(const char *path, char ret_public[COMPLAINT_KEY_SIZE],
                       char ret_secret[COMPLAINT_KEY_SIZE])
{
        char public[COMPLAINT_KEY_SIZE] = "", secret[COMPLAINT_KEY_SIZE] = "";
        char derived[COMPLAINT_KEY_SIZE];
        char *text = NULL, *cursor, *line;
        size_t size = 0;
        int r;

        assert(path && ret_public && ret_secret);
        r = s_read(path, &text, &size);
        if (r < 0)
                return r;
        cursor = text;
        while (r == 0 && (line = s_line(&cursor)) != NULL) {
                char *t = s_trim(line), *name, *value, *into;

                if (*t == '\0' || *t == '#')
                        continue;
                if (!s_setting(t, &name, &value)) {
                        r = -EBADMSG;
                        break;
                }
                into = strcmp(name, "public") == 0   ? public
                       : strcmp(name, "secret") == 0 ? secret
                                                     : NULL;
                if (into == NULL || into[0] != '\0' || !complaint_key_valid(value))
                        r = -EBADMSG;
                else
                        memcpy(into, value, COMPLAINT_KEY_SIZE);
        }
        s_wipe(text, size);
        /* A public key that is not the secret's would be refused by the daemon with a message
         * naming the wrong key: catch the mix-up here instead. */
        if (r == 0 && (public[0] == '\0' || secret[0] == '\0' ||
                       zmq_curve_public(derived, secret) < 0 || strcmp(derived, public) != 0))
                r = -EBADMSG;
        if (r == 0) {
                memcpy(ret_public, public, COMPLAINT_KEY_SIZE);
                memcpy(ret_secret, secret, COMPLAINT_KEY_SIZE);
        }
        explicit_bzero(secret, sizeof(secret));
        return r;
}

int
complaint_keyfile_check_mode(const char *path)
{
        struct stat st;

        assert(path);
        if (stat(path, &st) < 0)
                return -errno;
        return (st.st_mode & 077) ? -EPERM : 0;
}

int
complaint_public_key_load(const char *key_or_path, char ret_public[COMPLAINT_KEY_SIZE])
{
        char *text = NULL, *cursor, *line;
        size_t size = 0;
        int r;

        assert(key_or_path && ret_public);
        if (complaint_key_valid(key_or_path) && access(key_or_path, F_OK) < 0) {
                memcpy(ret_public, key_or_path, COMPLAINT_KEY_SIZE);
                return 0;
        }
        r = s_read(key_or_path, &text, &size);
        if (r < 0)
                return r;
        r = -EBADMSG;
        cursor = text;
        while ((line = s_line(&cursor)) != NULL) {
                char *t = s_trim(line), *name, *value;

                if (*t == '\0' || *t == '#')
                        continue;
                /* The first line that says anything says the public key, or the file is not
                 * one that holds it. */
                if (complaint_key_valid(t)) {
                        memcpy(ret_public, t, COMPLAINT_KEY_SIZE);
                        r = 0;
                } else if (s_setting(t, &name, &value) && strcmp(name, "public") == 0 &&
                           complaint_key_valid(value)) {
                        memcpy(ret_public, value, COMPLAINT_KEY_SIZE);
                        r = 0;
                }
                break;
        }
        /* A key file holds the secret too. */
        s_wipe(text, size);
        return r;
}

int
complaint_keyfile_create(const char *path, char ret_public[COMPLAINT_KEY_SIZE])
{
        char public[COMPLAINT_KEY_SIZE], secret[COMPLAINT_KEY_SIZE], text[512];
        size_t len, done = 0;
        int fd, r = 0;

        assert(path && ret_public);
        if (zmq_curve_keypair(public, secret) < 0)
                return -errno;
        len = (size_t)snprintf(text, sizeof(text),
                               "# A complaintd client key pair (ZeroMQ CURVE, in Z85).\n"
                               "# The secret is this client's alone: keep this file private\n"
                               "# (mode 0600), and give the daemon's operator only the public "
                               "key.\n"
                               "public = %s\n"
                               "secret = %s\n",
                               public, secret);
        explicit_bzero(secret, sizeof(secret));
        assert(len < sizeof(text));
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0) {
                r = -errno;
                explicit_bzero(text, sizeof(text));
                return r;
        }
        while (r == 0 && done < len) {
                ssize_t n = write(fd, text + done, len - done);

                if (n < 0 && errno != EINTR)
                        r = -errno;
                else if (n > 0)
                        done += (size_t)n;
        }
        explicit_bzero(text, sizeof(text));
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        if (close(fd) < 0 && r == 0)
                r = -errno;
        if (r < 0) {
                unlink(path);
                return r;
        }
        memcpy(ret_public, public, COMPLAINT_KEY_SIZE);
        return 0;
}
