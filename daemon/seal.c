/* seal.c: the privacy keys on disk, the contact index's keyed hash, and sealed boxes. */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "seal.h"

#define MAGIC "CDPK"
#define VERSION 1
#define KEY_LEN 32
#define KEYS_MAX 64 /* sealing keys a file may hold */
#define BOX_VERSION 1

_Static_assert(SEAL_OVERHEAD == 1 + 4 + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES +
                                    crypto_aead_xchacha20poly1305_ietf_ABYTES,
               "SEAL_OVERHEAD");

struct seal_key {
        uint32_t epoch;
        uint8_t key[KEY_LEN];
};

struct seal {
        uint8_t hash_key[KEY_LEN];
        struct seal_key *keys;
        size_t n_keys;
};

static void
s_put_be32(uint8_t *p, uint32_t v)
{
        p[0] = (uint8_t)(v >> 24);
        p[1] = (uint8_t)(v >> 16);
        p[2] = (uint8_t)(v >> 8);
        p[3] = (uint8_t)v;
}

static uint32_t
s_get_be32(const uint8_t *p)
{
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void
seal_free(seal_t **sp)
{
        seal_t *s = *sp;

        if (s == NULL)
                return;
        if (s->keys)
                sodium_memzero(s->keys, s->n_keys * sizeof(*s->keys));
        free(s->keys);
        sodium_memzero(s, sizeof(*s));
        free(s);
        *sp = NULL;
}

static int
s_sync_dir(const char *dir)
{
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int r = 0;

        if (fd < 0)
                return -errno;
        if (fsync(fd) < 0)
                r = -errno;
        close(fd);
        return r;
}

/* Writes the file whole under a temporary name, flushes it, and renames it into place. */
static int
s_write(const seal_t *s, const char *dir, bool replace)
{
        size_t len = 4 + 1 + KEY_LEN + 4 + s->n_keys * (4 + KEY_LEN), off = 0;
        char path[4096], tmp[4096];
        uint8_t *buf = malloc(len);
        int fd, r = 0;

        if (buf == NULL)
                return -ENOMEM;
        memcpy(buf, MAGIC, 4);
        buf[4] = VERSION;
        memcpy(buf + 5, s->hash_key, KEY_LEN);
        s_put_be32(buf + 5 + KEY_LEN, (uint32_t)s->n_keys);
        off = 9 + KEY_LEN;
        for (size_t i = 0; i < s->n_keys; i++, off += 4 + KEY_LEN) {
                s_put_be32(buf + off, s->keys[i].epoch);
                memcpy(buf + off + 4, s->keys[i].key, KEY_LEN);
        }
        snprintf(path, sizeof(path), "%s/%s", dir, SEAL_FILE);
        snprintf(tmp, sizeof(tmp), "%s/%s.new", dir, SEAL_FILE);
        if (!replace && access(path, F_OK) == 0) {
                sodium_memzero(buf, len);
                free(buf);
                return -EEXIST;
        }
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                r = -errno;
        for (off = 0; r == 0 && off < len;) {
                ssize_t w = write(fd, buf + off, len - off);

                if (w < 0 && errno != EINTR)
                        r = -errno;
                else if (w > 0)
                        off += (size_t)w;
        }
        sodium_memzero(buf, len);
        free(buf);
        if (fd >= 0) {
                if (r == 0 && fsync(fd) < 0)
                        r = -errno;
                if (close(fd) < 0 && r == 0)
                        r = -errno;
        }
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r == 0)
                r = s_sync_dir(dir);
        if (r < 0)
                unlink(tmp);
        return r;
}

static int
s_read(const char *path, seal_t *s)
{
        uint8_t buf[9 + KEY_LEN + KEYS_MAX * (4 + KEY_LEN) + 1];
        size_t len = 0, n;
        struct stat st;
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), r = 0;

        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                r = -errno;
        else if (st.st_mode & 077)
                r = -EACCES;
        while (r == 0 && len < sizeof(buf)) {
                ssize_t got = read(fd, buf + len, sizeof(buf) - len);

                if (got < 0 && errno != EINTR)
                        r = -errno;
                else if (got == 0)
                        break;
                else if (got > 0)
                        len += (size_t)got;
        }
        close(fd);
        if (r == 0 && (len < 9 + KEY_LEN || memcmp(buf, MAGIC, 4) != 0 || buf[4] != VERSION))
                r = -EBADMSG;
        if (r == 0) {
                n = s_get_be32(buf + 5 + KEY_LEN);
                if (n == 0 || n > KEYS_MAX || len != 9 + KEY_LEN + n * (4 + KEY_LEN))
                        r = -EBADMSG;
        }
        if (r == 0 && (s->keys = calloc(n, sizeof(*s->keys))) == NULL)
                r = -ENOMEM;
        if (r == 0) {
                memcpy(s->hash_key, buf + 5, KEY_LEN);
                s->n_keys = n;
                for (size_t i = 0, off = 9 + KEY_LEN; i < n; i++, off += 4 + KEY_LEN) {
                        s->keys[i].epoch = s_get_be32(buf + off);
                        memcpy(s->keys[i].key, buf + off + 4, KEY_LEN);
                }
        }
        sodium_memzero(buf, sizeof(buf));
        return r;
}

int
seal_open(const char *dir, bool create, seal_t **ret, bool *ret_created)
{
        char path[4096];
        seal_t *s;
        bool made = false;
        int r;

        if (sodium_init() < 0)
                return -EIO;
        s = calloc(1, sizeof(*s));
        if (s == NULL)
                return -ENOMEM;
        snprintf(path, sizeof(path), "%s/%s", dir, SEAL_FILE);
        r = s_read(path, s);
        if (r == -ENOENT && create) {
                s->keys = calloc(1, sizeof(*s->keys));
                if (s->keys == NULL) {
                        seal_free(&s);
                        return -ENOMEM;
                }
                s->n_keys = 1;
                s->keys[0].epoch = 1;
                randombytes_buf(s->hash_key, KEY_LEN);
                randombytes_buf(s->keys[0].key, KEY_LEN);
                r = s_write(s, dir, false);
                made = r == 0;
        }
        if (r < 0) {
                seal_free(&s);
                return r;
        }
        if (ret_created)
                *ret_created = made;
        *ret = s;
        return 0;
}

bool
seal_rotating(const seal_t *s)
{
        return s->n_keys > 1;
}

int
seal_rotate(seal_t *s, const char *dir)
{
        struct seal_key *keys;
        seal_t next;
        int r;

        if (s->n_keys >= KEYS_MAX)
                return -E2BIG;
        keys = calloc(s->n_keys + 1, sizeof(*keys));
        if (keys == NULL)
                return -ENOMEM;
        memcpy(keys, s->keys, s->n_keys * sizeof(*keys));
        keys[s->n_keys].epoch = s->keys[s->n_keys - 1].epoch + 1;
        randombytes_buf(keys[s->n_keys].key, KEY_LEN);
        next = *s;
        next.keys = keys;
        next.n_keys = s->n_keys + 1;
        r = s_write(&next, dir, true);
        if (r < 0) {
                sodium_memzero(keys, next.n_keys * sizeof(*keys));
                free(keys);
                return r;
        }
        sodium_memzero(s->keys, s->n_keys * sizeof(*s->keys));
        free(s->keys);
        s->keys = keys;
        s->n_keys = next.n_keys;
        return 0;
}

int
seal_drop_old(seal_t *s, const char *dir)
{
        seal_t next = *s;
        int r;

        if (s->n_keys == 1)
                return 0;
        next.keys = &s->keys[s->n_keys - 1];
        next.n_keys = 1;
        r = s_write(&next, dir, true);
        if (r < 0)
                return r;
        memmove(s->keys, &s->keys[s->n_keys - 1], sizeof(*s->keys));
        sodium_memzero(&s->keys[1], (s->n_keys - 1) * sizeof(*s->keys));
        s->n_keys = 1;
        return 0;
}

bool
seal_stale(const seal_t *s, const uint8_t *box, size_t len)
{
        return len >= 5 && s_get_be32(box + 1) != s->keys[s->n_keys - 1].epoch;
}

int
seal_write_copy(const seal_t *s, const char *dir)
{
        return s_write(s, dir, false);
}

void
seal_hash_hex(const seal_t *s, const char *in, char out[SEAL_HASH_HEX + 1])
{
        uint8_t mac[crypto_auth_hmacsha256_BYTES];

        crypto_auth_hmacsha256(mac, (const unsigned char *)in, strlen(in), s->hash_key);
        sodium_bin2hex(out, SEAL_HASH_HEX + 1, mac, SEAL_HASH_HEX / 2);
}

static void
s_ad(uint8_t ad[8], uint64_t id)
{
        for (int i = 7; i >= 0; i--, id >>= 8)
                ad[i] = (uint8_t)id;
}

void
seal_box(const seal_t *s, uint64_t id, const uint8_t *in, size_t len, uint8_t *out)
{
        const struct seal_key *k = &s->keys[s->n_keys - 1];
        uint8_t *nonce = out + 5;
        uint8_t ad[8];

        out[0] = BOX_VERSION;
        s_put_be32(out + 1, k->epoch);
        randombytes_buf(nonce, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
        s_ad(ad, id);
        crypto_aead_xchacha20poly1305_ietf_encrypt(
            nonce + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, NULL, in, len, ad, sizeof(ad),
            NULL, nonce, k->key);
}

int
seal_unbox(const seal_t *s, uint64_t id, const uint8_t *in, size_t len, uint8_t *out,
           size_t *ret_len)
{
        const uint8_t *nonce = in + 5;
        const struct seal_key *k = NULL;
        unsigned long long n;
        uint8_t ad[8];
        uint32_t epoch;

        if (len < SEAL_OVERHEAD || in[0] != BOX_VERSION)
                return -EBADMSG;
        epoch = s_get_be32(in + 1);
        for (size_t i = 0; i < s->n_keys && k == NULL; i++)
                if (s->keys[i].epoch == epoch)
                        k = &s->keys[i];
        if (k == NULL)
                return -ENOKEY;
        s_ad(ad, id);
        if (crypto_aead_xchacha20poly1305_ietf_decrypt(
                out, &n, NULL, nonce + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
                len - 5 - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, ad, sizeof(ad), nonce,
                k->key) != 0)
                return -EBADMSG;
        *ret_len = (size_t)n;
        return 0;
}
