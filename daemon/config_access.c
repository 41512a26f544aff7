/* config_access.c: the `access` group of the configuration: the daemon's key pair and the
 * principals (a client key each, a role, and the departments and levels it covers). Checked in
 * full like the rest: every error is "file:line: setting: reason". Principals live in the
 * configuration file, not in a directory of key files, so that a reload checks them with
 * everything they refer to (departments) and swaps them all at once. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cfg.h"
#include "config_int.h"
#include "macro.h"

static const char *const role_names[] = {NULL,         "intake",  "department",
                                         "supervisor", "analyst", "admin"};

const char *
config_role_name(int role)
{
        return role >= ROLE_INTAKE && role <= ROLE_ADMIN ? role_names[role] : "?";
}

int
config_role_parse(const char *word)
{
        for (int r = ROLE_INTAKE; r <= ROLE_ADMIN; r++)
                if (strcmp(word, role_names[r]) == 0)
                        return r;
        return -1;
}

/* Z85 (ZeroMQ RFC 32): 40 characters of its alphabet encode a 32-byte CURVE key. */
static bool
s_z85_key(const char *s)
{
        static const char alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS"
                                       "TUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

        if (strlen(s) != CONFIG_KEY_LEN)
                return false;
        for (; *s; s++)
                if (strchr(alphabet, *s) == NULL)
                        return false;
        return true;
}

const struct config_principal *
config_find_principal(const conf_t *cfg, const char *key)
{
        if (cfg->access == NULL || key == NULL)
                return NULL;
        for (size_t i = 0; i < cfg->access->n_principals; i++)
                if (strcmp(cfg->access->principals[i].key, key) == 0)
                        return &cfg->access->principals[i];
        return NULL;
}

bool
config_principal_covers(const struct config_principal *p, const char *dept)
{
        if (p->role != ROLE_DEPARTMENT && p->role != ROLE_SUPERVISOR)
                return true;
        for (size_t i = 0; i < p->n_departments; i++)
                if (strcmp(p->departments[i], dept) == 0)
                        return true;
        return false;
}

/* One "name = value" line of a key file into ret (CONFIG_KEY_LEN + 1). */
static int
s_key_line(const char *line, const char *name, char *ret)
{
        size_t n = strlen(name);
        char value[64];

        line += strspn(line, " \t");
        if (strncmp(line, name, n) != 0)
                return 0;
        line += n;
        line += strspn(line, " \t");
        if (*line != '=')
                return 0;
        line++;
        if (sscanf(line, " %63s", value) != 1 || !s_z85_key(value))
                return -EBADMSG;
        memcpy(ret, value, CONFIG_KEY_LEN + 1);
        return 1;
}

int
config_read_keyfile(const char *path, char ret_public[CONFIG_KEY_LEN + 1],
                    char ret_secret[CONFIG_KEY_LEN + 1])
{
        char line[256], pub[CONFIG_KEY_LEN + 1] = "", sec[CONFIG_KEY_LEN + 1] = "";
        FILE *f = fopen(path, "re");
        int r = 0;

        if (f == NULL)
                return -errno;
        while (r >= 0 && fgets(line, sizeof(line), f)) {
                int a = s_key_line(line, "public", pub),
                    b = a ? 0 : s_key_line(line, "secret", sec);

                if (a < 0 || b < 0)
                        r = -EBADMSG;
        }
        fclose(f);
        if (r < 0 || pub[0] == '\0' || sec[0] == '\0')
                return -EBADMSG;
        memcpy(ret_public, pub, sizeof(pub));
        memcpy(ret_secret, sec, sizeof(sec));
        explicit_bzero(sec, sizeof(sec));
        return 0;
}

/* A principal's name: what the history records as the actor, so no ':' (which separates the
 * person a front-end acts for) and nothing that would need quoting. */
static bool
s_valid_name(const char *s)
{
        size_t n = strlen(s);

        /* "complaintd" is the daemon's own actor (escalations): nobody may write as it. */
        if (n == 0 || n > 64 || strcmp(s, "complaintd") == 0)
                return false;
        for (; *s; s++)
                if (!(*s >= 'a' && *s <= 'z') && !(*s >= '0' && *s <= '9') && *s != '-' &&
                    *s != '_' && *s != '.')
                        return false;
        return true;
}

static void
s_free_principal(struct config_principal *p)
{
        free(p->name);
        for (size_t i = 0; i < p->n_departments; i++)
                free(p->departments[i]);
        free(p->departments);
        free(p->levels);
}

void
config_free_access(conf_t *cfg)
{
        struct config_access *a = cfg->access;

        if (a == NULL)
                return;
        for (size_t i = 0; i < a->n_principals; i++)
                s_free_principal(&a->principals[i]);
        free(a->principals);
        explicit_bzero(a, sizeof(*a));
        free(a);
        cfg->access = NULL;
}

static const char *const access_keys[] = {"server_key", "principals", NULL};
static const char *const principal_keys[] = {
    "name", "key", "role", "departments", "levels", "contact", "acts_for_people", NULL};

static void
s_load_departments(struct loader *l, const config_setting_t *g, struct config_principal *p)
{
        const config_setting_t *list = config_setting_get_member(g, "departments");
        int n = list ? config_setting_length(list) : 0;

        if (list && !config_setting_is_array(list) && !config_setting_is_list(list)) {
                cfg_error(&l->log, list, NULL,
                          "must be a list of department ids [\"billing\", ...]");
                return;
        }
        if (p->role != ROLE_DEPARTMENT && p->role != ROLE_SUPERVISOR) {
                if (list)
                        cfg_error(&l->log, list, NULL,
                                  "only department and supervisor principals are "
                                  "limited to departments");
                return;
        }
        if (n == 0) {
                cfg_error(&l->log, g, "departments", "a %s principal needs its departments",
                          config_role_name(p->role));
                return;
        }
        p->departments = calloc((size_t)n, sizeof(*p->departments));
        if (p->departments == NULL)
                return;
        for (int i = 0; i < n; i++) {
                const config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
                const char *id = config_setting_get_string(e);

                if (id == NULL || config_find_department(l->cfg, id) == NULL) {
                        cfg_error(&l->log, e, NULL, "\"%s\" is not a configured department",
                                  id ? id : "(not a string)");
                        continue;
                }
                p->departments[p->n_departments] = strdup(id);
                if (p->departments[p->n_departments])
                        p->n_departments++;
        }
}

static void
s_load_levels(struct loader *l, const config_setting_t *g, struct config_principal *p)
{
        const config_setting_t *list = config_setting_get_member(g, "levels");
        int n = list ? config_setting_length(list) : 0;

        if (list == NULL)
                return;
        if (p->role != ROLE_SUPERVISOR) {
                cfg_error(&l->log, list, NULL, "only supervisors are limited to levels");
                return;
        }
        p->levels = calloc((size_t)n + 1, sizeof(*p->levels));
        if (p->levels == NULL)
                return;
        for (int i = 0; i < n; i++) {
                const config_setting_t *e = config_setting_get_elem(list, (unsigned)i);

                if (config_setting_type(e) != CONFIG_TYPE_INT || config_setting_get_int(e) < 1 ||
                    config_setting_get_int(e) > 9) {
                        cfg_error(&l->log, e, NULL, "a level is a number from 1 to 9");
                        continue;
                }
                p->levels[p->n_levels++] = (uint32_t)config_setting_get_int(e);
        }
}

static bool
s_get_bool(struct loader *l, const config_setting_t *g, const char *key, bool dflt)
{
        const config_setting_t *m = config_setting_get_member(g, key);

        if (m == NULL)
                return dflt;
        if (config_setting_type(m) != CONFIG_TYPE_BOOL) {
                cfg_error(&l->log, m, NULL, "must be true or false");
                return dflt;
        }
        return config_setting_get_bool(m);
}

static void
s_load_principal(struct loader *l, const config_setting_t *g, struct config_principal *p)
{
        _cleanup_free_ char *key = NULL, *role = NULL;
        const config_setting_t *contact = config_setting_get_member(g, "contact");

        cfg_check_keys(&l->log, g, principal_keys);
        if (cfg_get_string(l, g, "name", true, &p->name) > 0 && !s_valid_name(p->name))
                cfg_error(&l->log, config_setting_get_member(g, "name"), NULL,
                          "\"%s\" is not a principal's name: use 1 to 64 lower-case letters, "
                          "digits, '.', '-' and '_'",
                          p->name);
        if (cfg_get_string(l, g, "key", true, &key) > 0) {
                if (s_z85_key(key))
                        memcpy(p->key, key, sizeof(p->key));
                else
                        cfg_error(&l->log, config_setting_get_member(g, "key"), NULL,
                                  "not a public key: 40 characters of Z85, as `complaintctl "
                                  "keygen` prints them");
        }
        if (cfg_get_string(l, g, "role", true, &role) > 0) {
                p->role = config_role_parse(role);
                if (p->role < 0)
                        cfg_error(&l->log, config_setting_get_member(g, "role"), NULL,
                                  "\"%s\" is not one of intake, department, supervisor, "
                                  "analyst, admin",
                                  role);
        }
        if (p->role <= 0)
                return;
        s_load_departments(l, g, p);
        s_load_levels(l, g, p);
        /* Contact details go to those who call complainants back: intake and admin always, a
         * department system when it is configured to, nobody else. */
        p->contact = p->role == ROLE_INTAKE || p->role == ROLE_ADMIN;
        if (contact && p->role != ROLE_DEPARTMENT)
                cfg_error(&l->log, contact, NULL,
                          "only a department principal's access to contact "
                          "details is configured (intake and admin always see "
                          "them, supervisors and analysts never)");
        else if (contact)
                p->contact = s_get_bool(l, g, "contact", false);
        p->acts_for_people = s_get_bool(l, g, "acts_for_people", false);
}

void
cfg_load_access(struct loader *l, const config_setting_t *g)
{
        const config_setting_t *list;
        _cleanup_free_ char *keyfile = NULL;
        struct config_access *a;
        struct stat st;
        int n, r;

        if (!cfg_group(&l->log, g, access_keys))
                return;
        a = calloc(1, sizeof(*a));
        if (a == NULL)
                return;
        l->cfg->access = a;
        if (cfg_get_string(l, g, "server_key", true, &keyfile) > 0) {
                r = config_read_keyfile(keyfile, a->server_public, a->server_secret);
                if (r < 0)
                        cfg_error(&l->log, config_setting_get_member(g, "server_key"), NULL,
                                  "%s: %s", keyfile,
                                  r == -EBADMSG ? "not a key file (public = ...; secret = ...), "
                                                  "as `complaintctl keygen` writes them"
                                                : strerror(-r));
                else if (stat(keyfile, &st) == 0 && (st.st_mode & 077) != 0)
                        cfg_error(&l->log, config_setting_get_member(g, "server_key"), NULL,
                                  "%s: the daemon's secret key is readable by others (mode "
                                  "%04o): chmod 0600 it",
                                  keyfile, (unsigned)(st.st_mode & 07777));
        }
        list = config_setting_get_member(g, "principals");
        if (list == NULL || !config_setting_is_list(list)) {
                cfg_error(&l->log, list ? list : g, list ? NULL : "principals",
                          "must be a list of principals ( { name = ...; key = ...; role = ...; "
                          "}, ... )");
                return;
        }
        n = config_setting_length(list);
        a->principals = calloc((size_t)n + 1, sizeof(*a->principals));
        if (a->principals == NULL)
                return;
        for (int i = 0; i < n; i++) {
                const config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
                struct config_principal *p = &a->principals[a->n_principals];
                bool dup = false;

                if (!config_setting_is_group(e)) {
                        cfg_error(&l->log, e, NULL, "must be a group { name = ...; key = ...; }");
                        continue;
                }
                s_load_principal(l, e, p);
                for (size_t j = 0; j < a->n_principals && p->name && p->key[0]; j++) {
                        const struct config_principal *q = &a->principals[j];

                        if (q->name && strcmp(q->name, p->name) == 0)
                                cfg_error(&l->log, e, "name", "a second principal named \"%s\"",
                                          p->name);
                        else if (strcmp(q->key, p->key) == 0)
                                cfg_error(&l->log, e, "key",
                                          "the key of principal \"%s\" again: a key "
                                          "is one principal",
                                          q->name ? q->name : "?");
                        else
                                continue;
                        dup = true;
                }
                if (dup || p->name == NULL || p->key[0] == '\0' || p->role <= 0) {
                        s_free_principal(p);
                        memset(p, 0, sizeof(*p));
                        continue;
                }
                a->n_principals++;
        }
}
