/* curve.c: the CURVE client side of bench_loadgen behind curve.h, and its zmq_connect(). */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "curve.h"

#define KEY_LEN 40 /* Z85 of a 32-byte key */

typedef int connect_fn(void *, const char *);

static struct {
        bool on;
        char server_public[KEY_LEN + 1];
        char public_key[KEY_LEN + 1];
        char secret_key[KEY_LEN + 1];
} curve;

static connect_fn *real_connect;
static pthread_once_t real_once = PTHREAD_ONCE_INIT;
static atomic_uint_fast64_t connects, sub_connects;

static void
s_resolve(void)
{
        real_connect = (connect_fn *)dlsym(RTLD_NEXT, "zmq_connect");
}

/* libzmq's zmq_connect(), with the CURVE client options set first when they are on (curve.h).
 * The options are the socket's from then on, as for any setsockopt before a connect. */
int
zmq_connect(void *sock, const char *endpoint)
{
        pthread_once(&real_once, s_resolve);
        if (real_connect == NULL) {
                errno = ENOSYS;
                return -1;
        }
        if (curve.on) {
                int type = 0;
                size_t len = sizeof(type);

                if (zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, curve.server_public, KEY_LEN) < 0 ||
                    zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, curve.public_key, KEY_LEN) < 0 ||
                    zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, curve.secret_key, KEY_LEN) < 0)
                        return -1;
                atomic_fetch_add(&connects, 1);
                if (zmq_getsockopt(sock, ZMQ_TYPE, &type, &len) == 0 && type == ZMQ_SUB)
                        atomic_fetch_add(&sub_connects, 1);
        }
        return real_connect(sock, endpoint);
}

/* Writes "public = ..." (and "secret = ..." when secret is not NULL) to dir/name, created or
 * truncated with exactly mode. */
static int
s_write_key(const char *dir, const char *name, mode_t mode, const char *public_key,
            const char *secret_key)
{
        char path[PATH_MAX];
        FILE *f;
        int fd;

        if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
                return -ENAMETOOLONG;
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        if (fd < 0)
                return -errno;
        /* The umask may have taken bits away, and an existing file keeps its mode. */
        if (fchmod(fd, mode) < 0 || (f = fdopen(fd, "w")) == NULL) {
                int r = -errno;

                close(fd);
                return r;
        }
        fprintf(f, "public = %s\n", public_key);
        if (secret_key)
                fprintf(f, "secret = %s\n", secret_key);
        return fclose(f) == 0 ? 0 : -errno;
}

int
bench_curve_keygen(const char *dir)
{
        char sp[KEY_LEN + 1], ss[KEY_LEN + 1], cp[KEY_LEN + 1], cs[KEY_LEN + 1];
        int r;

        if (!zmq_has("curve"))
                return -ENOTSUP;
        if (zmq_curve_keypair(sp, ss) < 0 || zmq_curve_keypair(cp, cs) < 0)
                return -zmq_errno();
        if ((r = s_write_key(dir, "server.key", 0600, sp, ss)) < 0 ||
            (r = s_write_key(dir, "server.pub", 0644, sp, NULL)) < 0 ||
            (r = s_write_key(dir, "client.key", 0600, cp, cs)) < 0 ||
            (r = s_write_key(dir, "client.pub", 0644, cp, NULL)) < 0)
                return r;
        return 0;
}

/* Reads the "public" and, when ret_secret is not NULL, the "secret" key of dir/name. */
static int
s_read_key(const char *dir, const char *name, char *ret_public, char *ret_secret)
{
        char path[PATH_MAX], line[256], pub[KEY_LEN + 1] = "", sec[KEY_LEN + 1] = "";
        FILE *f;

        if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
                return -ENAMETOOLONG;
        if ((f = fopen(path, "re")) == NULL)
                return -errno;
        while (fgets(line, sizeof(line), f)) {
                char key[16], value[64];

                if (sscanf(line, " %15[a-z] = %63s", key, value) != 2 || strlen(value) != KEY_LEN)
                        continue;
                if (strcmp(key, "public") == 0)
                        memcpy(pub, value, sizeof(pub));
                else if (strcmp(key, "secret") == 0)
                        memcpy(sec, value, sizeof(sec));
        }
        fclose(f);
        if (pub[0] == '\0' || (ret_secret && sec[0] == '\0'))
                return -EBADMSG;
        memcpy(ret_public, pub, sizeof(pub));
        if (ret_secret)
                memcpy(ret_secret, sec, sizeof(sec));
        return 0;
}

int
bench_curve_load(const char *dir)
{
        int r;

        if (!zmq_has("curve"))
                return -ENOTSUP;
        /* What libcomplaint's calls resolve to: this file's zmq_connect(), when the linker
         * exported it from the executable (it does for a symbol a linked library uses). */
        if (dlsym(RTLD_DEFAULT, "zmq_connect") != (void *)zmq_connect)
                return -ELIBBAD;
        if ((r = s_read_key(dir, "server.pub", curve.server_public, NULL)) < 0 ||
            (r = s_read_key(dir, "client.key", curve.public_key, curve.secret_key)) < 0)
                return r;
        curve.on = true;
        return 0;
}

bool
bench_curve_on(void)
{
        return curve.on;
}

uint64_t
bench_curve_connects(void)
{
        return atomic_load(&connects);
}

uint64_t
bench_curve_sub_connects(void)
{
        return atomic_load(&sub_connects);
}
