/* settings.c: complaintctl's connection settings (settings.h): where each one comes from, the
 * two setting files, the keys, and what a refused handshake means. */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "settings.h"

#define LINE_MAX_ 4096
#define LINES_MAX 1000 /* a settings file is a few lines; anything longer is not one */

enum { S_ENDPOINT, S_KEY, S_SERVER_KEY, S_MAX_ };

static const char *const names[S_MAX_] = {"endpoint", "key", "server_key"};
static const char *const env_names[S_MAX_] = {"COMPLAINT_ENDPOINT", "COMPLAINT_KEY",
                                              "COMPLAINT_SERVER_KEY"};
static const char *const opt_names[S_MAX_] = {"--endpoint", "--key", "--server-key"};

/* One setting as found: its value (a path made absolute when it came from a file) and where. */
struct found {
        char *value;
        char *from;
};

__attribute__((format(printf, 3, 4))) static int
s_err(char *err, size_t size, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(err, size, fmt, ap);
        va_end(ap);
        return -EINVAL;
}

static char *
s_trim(char *s)
{
        size_t len;

        while (*s == ' ' || *s == '\t' || *s == '\r')
                s++;
        len = strlen(s);
        while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r' ||
                           s[len - 1] == '\n'))
                s[--len] = '\0';
        return s;
}

/* A value from the file at path: "~/x" from the home directory, a relative path from the file's
 * directory; a key itself (40 Z85 characters) and any value of the endpoint as it is. */
static char *
s_file_value(const char *path, int setting, const char *value)
{
        const char *home = getenv("HOME"), *slash = strrchr(path, '/');
        char *out = NULL;

        if (setting == S_ENDPOINT || value[0] == '/' || strcmp(value, "none") == 0 ||
            (setting == S_SERVER_KEY && complaint_key_valid(value)))
                return strdup(value);
        if (strncmp(value, "~/", 2) == 0 && home && home[0])
                return asprintf(&out, "%s/%s", home, value + 2) < 0 ? NULL : out;
        if (slash == NULL)
                return strdup(value);
        return asprintf(&out, "%.*s/%s", (int)(slash - path), path, value) < 0 ? NULL : out;
}

/* Reads the settings file at path into the settings not found yet. A file that does not exist
 * gives nothing; neither does the system file when this user may not read it. */
static int
s_file_read(const char *path, bool system, struct found found[S_MAX_], char *err, size_t size)
{
        char line[LINE_MAX_];
        bool seen[S_MAX_] = {false};
        FILE *f = fopen(path, "re");
        int n = 0, r = 0;

        if (f == NULL) {
                if (errno == ENOENT || errno == ENOTDIR || (system && errno == EACCES))
                        return 0;
                return s_err(err, size, _("%s: cannot read it: %s"), path, strerror(errno));
        }
        while (r == 0 && fgets(line, sizeof(line), f)) {
                char *t, *eq, *name, *value;
                size_t len;
                int k;

                n++;
                if (strchr(line, '\n') == NULL && !feof(f)) {
                        r = s_err(err, size, _("%s:%d: the line is too long"), path, n);
                        break;
                }
                if (n > LINES_MAX) {
                        r = s_err(err, size, _("%s:%d: too many lines for a settings file"), path,
                                  n);
                        break;
                }
                t = s_trim(line);
                if (*t == '\0' || *t == '#')
                        continue;
                eq = strchr(t, '=');
                if (eq == NULL) {
                        r = s_err(err, size, _("%s:%d: not a `name = value` line"), path, n);
                        break;
                }
                *eq = '\0';
                name = s_trim(t);
                value = s_trim(eq + 1);
                len = strlen(value);
                if (len >= 2 && value[0] == '"' && value[len - 1] == '"') {
                        value[len - 1] = '\0';
                        value++;
                }
                for (k = 0; k < S_MAX_ && strcmp(name, names[k]) != 0; k++)
                        ;
                if (k == S_MAX_) {
                        r = s_err(err, size,
                                  _("%s:%d: %s: unknown setting (endpoint, key or server_key)"),
                                  path, n, name);
                        break;
                }
                if (seen[k]) {
                        r = s_err(err, size, _("%s:%d: %s: given twice"), path, n, name);
                        break;
                }
                seen[k] = true;
                if (value[0] == '\0') {
                        r = s_err(err, size, _("%s:%d: %s: empty value"), path, n, name);
                        break;
                }
                if (found[k].value)
                        continue; /* an earlier place gave it */
                found[k].value = s_file_value(path, k, value);
                if (found[k].value == NULL || asprintf(&found[k].from, "%s:%d", path, n) < 0) {
                        found[k].from = NULL;
                        r = -ENOMEM;
                }
        }
        if (r == 0 && ferror(f))
                r = s_err(err, size, _("%s: cannot read it: %s"), path, strerror(errno));
        fclose(f);
        return r;
}

static int
s_found_set(struct found *f, const char *value, const char *from)
{
        f->value = strdup(value);
        f->from = strdup(from);
        return f->value && f->from ? 0 : -ENOMEM;
}

/* The per-user file's path, or NULL when there is no home to find it in. */
static char *
s_user_file(void)
{
        const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
        char *path = NULL;

        /* The XDG base directory specification: a relative $XDG_CONFIG_HOME is ignored. */
        if (xdg && xdg[0] == '/')
                return asprintf(&path, "%s/complaintctl/config", xdg) < 0 ? NULL : path;
        if (home && home[0])
                return asprintf(&path, "%s/.config/complaintctl/config", home) < 0 ? NULL : path;
        return NULL;
}

/* Loads the keys the found settings name. */
static int
s_keys(struct settings *s, char *err, size_t size)
{
        int r;

        r = complaint_keyfile_load(s->key_file, s->client_public, s->client_secret);
        if (r == -EBADMSG)
                return s_err(err, size,
                             _("%s (from %s) is not a key file: it needs the lines `public = KEY` "
                               "and `secret = KEY` of one key pair, 40 characters each (see "
                               "complaintctl keygen)"),
                             s->key_file, s->key_from);
        if (r < 0)
                return s_err(err, size, _("cannot read the key file %s (from %s): %s"), s->key_file,
                             s->key_from, strerror(-r));
        s->key_exposed = complaint_keyfile_check_mode(s->key_file) == -EPERM;
        if (s->server_key == NULL)
                return s_err(err, size,
                             _("the key %s (from %s) needs the daemon's public key too: "
                               "--server-key KEY|FILE, $COMPLAINT_SERVER_KEY or server_key in a "
                               "settings file"),
                             s->key_file, s->key_from);
        r = complaint_public_key_load(s->server_key, s->server_public);
        if (r == -EBADMSG)
                return s_err(err, size,
                             _("%s (from %s) holds no public key: its first line must be the 40 "
                               "characters or `public = KEY`"),
                             s->server_key, s->server_key_from);
        if (r == -ENOENT)
                return s_err(err, size,
                             _("'%s' (from %s) is neither a public key (40 Z85 characters) nor a "
                               "file"),
                             s->server_key, s->server_key_from);
        if (r < 0)
                return s_err(err, size, _("cannot read the server key %s (from %s): %s"),
                             s->server_key, s->server_key_from, strerror(-r));
        s->curve = true;
        return 0;
}

int
settings_load(struct settings *s, const char *opt_endpoint, const char *opt_key,
              const char *opt_server_key, char *err, size_t err_size)
{
        const char *opts[S_MAX_] = {opt_endpoint, opt_key, opt_server_key};
        struct found found[S_MAX_] = {{NULL, NULL}};
        char *user = NULL;
        int r = 0;

        assert(s && err);
        memset(s, 0, sizeof(*s));
        for (int k = 0; r == 0 && k < S_MAX_; k++) {
                const char *env = getenv(env_names[k]);
                char from[64];

                if (opts[k]) {
                        r = s_found_set(&found[k], opts[k], opt_names[k]);
                } else if (env && env[0]) {
                        snprintf(from, sizeof(from), "$%s", env_names[k]);
                        r = s_found_set(&found[k], env, from);
                }
        }
        if (r == 0 && (found[S_ENDPOINT].value == NULL || found[S_KEY].value == NULL ||
                       found[S_SERVER_KEY].value == NULL)) {
                user = s_user_file();
                if (user)
                        r = s_file_read(user, false, found, err, err_size);
                if (r == 0)
                        r = s_file_read(SETTINGS_SYSTEM_FILE, true, found, err, err_size);
        }
        free(user);
        if (r == 0 && found[S_ENDPOINT].value == NULL)
                r = s_found_set(&found[S_ENDPOINT], COMPLAINT_DEFAULT_ENDPOINT, _("the default"));
        s->endpoint = found[S_ENDPOINT].value;
        free(found[S_ENDPOINT].from);
        s->key_file = found[S_KEY].value;
        s->key_from = found[S_KEY].from;
        s->server_key = found[S_SERVER_KEY].value;
        s->server_key_from = found[S_SERVER_KEY].from;
        if (r < 0)
                return r;
        if (s->endpoint[0] == '\0')
                return s_err(err, err_size, _("--endpoint must not be empty"));
        if (s->key_file && s->key_file[0] == '\0')
                return s_err(err, err_size, _("--key must not be empty (none: no key)"));
        if (s->key_file == NULL || strcmp(s->key_file, "none") == 0)
                return 0;
        return s_keys(s, err, err_size);
}

void
settings_free(struct settings *s)
{
        if (s == NULL)
                return;
        free(s->endpoint);
        free(s->key_file);
        free(s->key_from);
        free(s->server_key);
        free(s->server_key_from);
        explicit_bzero(s->client_secret, sizeof(s->client_secret));
        memset(s, 0, sizeof(*s));
}

int
settings_apply_client(const struct settings *s, complaint_client_t *c)
{
        if (!s->curve)
                return 0;
        return complaint_client_set_curve(c, s->client_public, s->client_secret, s->server_public);
}

int
settings_apply_sub(const struct settings *s, complaint_sub_t *sub)
{
        if (!s->curve)
                return 0;
        return complaint_sub_set_curve(sub, s->client_public, s->client_secret, s->server_public);
}

const char *
settings_handshake_message(const struct settings *s, int r, char *buf, size_t size)
{
        switch (r) {
        case -EACCES:
                snprintf(buf, size,
                         _("the daemon refused this client's key (%s): it is not a principal in "
                           "its configuration"),
                         s->client_public);
                return buf;
        case -EKEYREJECTED:
                snprintf(buf, size,
                         _("the daemon's key does not match the server key given (%s): refusing "
                           "to talk to it"),
                         s->server_public);
                return buf;
        case -ENOKEY:
                snprintf(
                    buf, size,
                    _("the daemon at %s runs with access control and wants a client key: "
                      "give --key FILE and --server-key KEY (complaintctl keygen makes a key)"),
                    s->endpoint);
                return buf;
        case -ENOPROTOOPT:
                snprintf(buf, size,
                         _("the daemon at %s runs without access control (plain connections, on "
                           "ipc or loopback only), so it cannot take the key %s (from %s): give "
                           "--key none to talk to it"),
                         s->endpoint, s->key_file, s->key_from);
                return buf;
        case -ECONNREFUSED:
                snprintf(buf, size,
                         _("the daemon at %s could not check this client's key (its "
                           "authentication failed): try again later"),
                         s->endpoint);
                return buf;
        default:
                return NULL;
        }
}
