/* The YAML configuration: where it lives, built-in defaults, and validation of every section
 * (see cli-contract.md "Files and environment" and "Config"). Plugin options are validated
 * later, once the plugin's schema is known (config_options.c); the parsed document therefore
 * stays alive in cfg->priv until isf_config_free. */
#include "config.h"

#include "config_node.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

/* core/CMakeLists.txt defines the real list; this keeps a direct compile working. */
#ifndef ISF_BUNDLED_PLUGINS
#define ISF_BUNDLED_PLUGINS "auth-client-credentials,store-file"
#endif

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------------------------------------
 * Paths and environment.
 */

/* An environment variable that is set and not empty (an empty one counts as unset, as in XDG). */
static const char *env_nonempty(const char *name)
{
    const char *v = getenv(name);
    return v && v[0] ? v : NULL;
}

/* XDG says relative values are invalid and must be ignored. */
static const char *env_absolute(const char *name)
{
    const char *v = env_nonempty(name);
    return v && v[0] == '/' ? v : NULL;
}

/* $HOME, else the password database (HOME is unset under some service managers). */
static char *home_dup(void)
{
    const char *h = env_nonempty("HOME");
    if (h)
        return strdup(h);
    struct passwd pw, *res = NULL;
    char buf[4096];
    if (getpwuid_r(getuid(), &pw, buf, sizeof(buf), &res) != 0 || !res || !res->pw_dir ||
        !res->pw_dir[0])
        return NULL;
    return strdup(res->pw_dir);
}

char *isf_expand_home(const char *path)
{
    if (!path)
        return NULL;
    if (path[0] != '~' || (path[1] != '\0' && path[1] != '/'))
        return strdup(path); /* "~user/..." is left alone: no lookups of other users */
    char *home = home_dup();
    if (!home)
        return strdup(path); /* the later open fails naming the path as written */
    char *out = isf_aprintf("%s%s", home, path + 1);
    free(home);
    return out;
}

/* A path under the home folder; NULL when there is no home folder to be found. */
static char *under_home(const char *rest)
{
    char *home = home_dup();
    if (!home)
        return NULL;
    char *out = isf_aprintf("%s/%s", home, rest);
    free(home);
    return out;
}

char *isf_config_default_path(const char *explicit_path)
{
    if (explicit_path)
        return isf_expand_home(explicit_path); /* --config=~/x reaches us unexpanded */
    const char *v = env_nonempty("ISYNCSF_CONFIG");
    if (v)
        return isf_expand_home(v);
    v = env_nonempty("ISYNCSF_HOME");
    if (v) {
        char *home = isf_expand_home(v);
        char *out = home ? isf_aprintf("%s/config.yaml", home) : NULL;
        free(home);
        return out;
    }
    v = env_absolute("XDG_CONFIG_HOME");
    if (v)
        return isf_aprintf("%s/isyncsf/config.yaml", v);
    return under_home(".config/isyncsf/config.yaml");
}

static char *data_dir_path(void)
{
    const char *v = env_nonempty("ISYNCSF_HOME");
    if (v)
        return isf_expand_home(v);
    v = env_absolute("XDG_DATA_HOME");
    if (v)
        return isf_aprintf("%s/isyncsf", v);
    return under_home(".local/share/isyncsf");
}

/* ---------------------------------------------------------------------------------------------
 * Built-in defaults.
 */

static void free_plugins(struct isf_config *cfg)
{
    for (size_t i = 0; i < cfg->n_plugins; i++) {
        free(cfg->plugins[i].name);
        free(cfg->plugins[i].path);
    }
    free(cfg->plugins);
    cfg->plugins = NULL;
    cfg->n_plugins = 0;
}

/* The comma-separated ISF_BUNDLED_PLUGINS as load entries without options (line 0). */
static int bundled_plugins(struct isf_config *cfg)
{
    char *list = strdup(ISF_BUNDLED_PLUGINS);
    size_t cap = 1;
    for (const char *p = ISF_BUNDLED_PLUGINS; *p; p++)
        cap += *p == ',';
    cfg->plugins = calloc(cap, sizeof(*cfg->plugins));
    if (!list || !cfg->plugins) {
        free(list);
        return ISF_E_NOMEM;
    }
    char *save = NULL;
    for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        cfg->plugins[cfg->n_plugins].name = strdup(tok);
        if (!cfg->plugins[cfg->n_plugins].name) {
            free(list);
            return ISF_E_NOMEM;
        }
        cfg->n_plugins++;
    }
    free(list);
    return ISF_OK;
}

static int set_defaults(struct isf_config *cfg)
{
    cfg->key_source = ISF_KEY_FILE;
    cfg->key_file = isf_aprintf("%s/master.key", cfg->data_dir);
    cfg->timeout_s = 30;
    cfg->connect_timeout_s = 10;
    cfg->max_response_bytes = 8L * 1024 * 1024;
    cfg->retries = 2;
    cfg->client_auth = strdup("post");
    cfg->package_namespace = strdup("isyncsf");
    cfg->refresh_margin_s = 600;
    cfg->refresh_session_ttl_s = 7200;
    cfg->refresh_concurrency = 32;
    cfg->refresh_max_backoff_s = 3600;
    cfg->refresh_introspect = 0;
    cfg->lock_timeout_ms = 10000;
    if (!cfg->key_file || !cfg->client_auth || !cfg->package_namespace)
        return ISF_E_NOMEM;
    return bundled_plugins(cfg);
}

int isf_config_defaults(struct isf_config **out, struct isf_error *err)
{
    *out = NULL;
    struct isf_config *cfg = calloc(1, sizeof(*cfg));
    if (!cfg)
        return isf_err_set(err, ISF_E_NOMEM, "out of memory loading the configuration");
    cfg->data_dir = data_dir_path();
    if (!cfg->data_dir) {
        isf_config_free(cfg);
        return isf_err_set(err, ISF_E_CONFIG,
                           "cannot tell where to keep data: HOME is not set and the user has no "
                           "home folder; set ISYNCSF_HOME to a folder");
    }
    if (set_defaults(cfg) != ISF_OK) {
        isf_config_free(cfg);
        return isf_err_set(err, ISF_E_NOMEM, "out of memory loading the configuration");
    }
    *out = cfg;
    return ISF_OK;
}

void isf_config_free(struct isf_config *cfg)
{
    if (!cfg)
        return;
    free(cfg->file);
    free(cfg->data_dir);
    cfg_free_string_list(cfg->plugin_path);
    free_plugins(cfg);
    free(cfg->key_file);
    free(cfg->key_env);
    cfg_free_string_list(cfg->key_command);
    free(cfg->ca_file);
    free(cfg->proxy);
    free(cfg->client_auth);
    free(cfg->api_version);
    free(cfg->package_namespace);
    if (cfg->priv) {
        yaml_document_delete(cfg->priv);
        free(cfg->priv);
    }
    free(cfg);
}

/* ---------------------------------------------------------------------------------------------
 * Simple sections (http, salesforce, refresh, store): a table of typed fields.
 */

enum field_type {
    FT_INT,         /* plain decimal in [min, max] */
    FT_BOOL,        /* true/false/yes/no */
    FT_TEXT,        /* any scalar; "" allowed (proxy: "" turns proxies off) */
    FT_PATH,        /* non-empty, ~ expanded */
    FT_CLIENT_AUTH, /* "post" or "basic" */
    FT_API_VERSION, /* "66.0" */
    FT_NAMESPACE    /* a Salesforce namespace prefix */
};

struct field {
    const char *key;
    enum field_type type;
    size_t off; /* where it goes in struct isf_config */
    long min, max;
};

struct section {
    const char *name;
    const struct field *fields;
    size_t n_fields;
};

#define F(key, type, member, min, max)                                                             \
    {                                                                                              \
        key, type, offsetof(struct isf_config, member), min, max                                   \
    }

static const struct field http_fields[] = {
    F("ca_file", FT_PATH, ca_file, 0, 0),
    F("timeout_s", FT_INT, timeout_s, 1, 86400),
    F("connect_timeout_s", FT_INT, connect_timeout_s, 1, 3600),
    F("proxy", FT_TEXT, proxy, 0, 0),
    F("max_response_bytes", FT_INT, max_response_bytes, 1024, 1L << 30),
    F("retries", FT_INT, retries, 0, 10),
    F("client_auth", FT_CLIENT_AUTH, client_auth, 0, 0),
};

static const struct field salesforce_fields[] = {
    F("api_version", FT_API_VERSION, api_version, 0, 0),
    F("package_namespace", FT_NAMESPACE, package_namespace, 0, 0),
};

static const struct field refresh_fields[] = {
    F("margin_s", FT_INT, refresh_margin_s, 0, 86400),
    F("session_ttl_s", FT_INT, refresh_session_ttl_s, 60, 604800),
    F("concurrency", FT_INT, refresh_concurrency, 1, 1024),
    F("max_backoff_s", FT_INT, refresh_max_backoff_s, 1, 604800),
    F("introspect", FT_BOOL, refresh_introspect, 0, 0),
};

static const struct field store_fields[] = {
    F("lock_timeout_ms", FT_INT, lock_timeout_ms, 1, 3600000),
};

#undef F

static const struct section simple_sections[] = {
    {"http", http_fields, ARRAY_LEN(http_fields)},
    {"salesforce", salesforce_fields, ARRAY_LEN(salesforce_fields)},
    {"refresh", refresh_fields, ARRAY_LEN(refresh_fields)},
    {"store", store_fields, ARRAY_LEN(store_fields)},
};

/* digits "." digits, as Salesforce writes API versions ("66.0"). */
static int valid_api_version(const char *s)
{
    const char *p = s;
    if (!isdigit((unsigned char)*p))
        return 0;
    while (isdigit((unsigned char)*p))
        p++;
    if (*p++ != '.' || !isdigit((unsigned char)*p))
        return 0;
    while (isdigit((unsigned char)*p))
        p++;
    return *p == '\0';
}

/* Salesforce namespace prefixes: a letter, then up to 14 letters, digits or underscores. */
static int valid_namespace(const char *s)
{
    if (!isalpha((unsigned char)s[0]))
        return 0;
    size_t n = 0;
    for (; s[n]; n++) {
        if (!isalnum((unsigned char)s[n]) && s[n] != '_')
            return 0;
    }
    return n <= 15;
}

static int get_path(const struct cfg_doc *d, const yaml_node_t *n, const char *path, char **out,
                    struct isf_error *err)
{
    char *raw = NULL;
    int rc = cfg_get_string(d, n, path, 1, &raw, err);
    if (rc)
        return rc;
    char *expanded = isf_expand_home(raw);
    free(raw);
    if (!expanded)
        return isf_err_set(err, ISF_E_NOMEM, "out of memory reading %s", path);
    free(*out);
    *out = expanded;
    return ISF_OK;
}

/* A text checked by `valid`; `expected` says what a good one looks like. */
static int get_checked(const struct cfg_doc *d, const yaml_node_t *n, const char *path,
                       int (*valid)(const char *), const char *expected, char **out,
                       struct isf_error *err)
{
    const char *s = cfg_scalar(n);
    if (!s || !valid(s))
        return cfg_wrong_type(d, n, path, expected, err);
    return cfg_get_string(d, n, path, 1, out, err);
}

static int valid_client_auth(const char *s)
{
    return strcmp(s, "post") == 0 || strcmp(s, "basic") == 0;
}

static int apply_field(struct isf_config *cfg, const struct cfg_doc *d, const struct field *f,
                       const yaml_node_t *n, const char *path, struct isf_error *err)
{
    void *slot = (char *)cfg + f->off;
    long long v;
    int rc;
    switch (f->type) {
    case FT_INT:
        rc = cfg_get_llong(d, n, path, f->min, f->max, &v, err);
        if (rc == ISF_OK)
            *(long *)slot = (long)v;
        return rc;
    case FT_BOOL:
        return cfg_get_bool(d, n, path, (int *)slot, err);
    case FT_TEXT:
        return cfg_get_string(d, n, path, 0, (char **)slot, err);
    case FT_PATH:
        return get_path(d, n, path, (char **)slot, err);
    case FT_CLIENT_AUTH:
        return get_checked(d, n, path, valid_client_auth, "'post' or 'basic'", (char **)slot, err);
    case FT_API_VERSION:
        /* YAML reads an unquoted 66.0 as a float; the scalar's text is what we keep. */
        return get_checked(d, n, path, valid_api_version, "an API version such as \"66.0\"",
                           (char **)slot, err);
    case FT_NAMESPACE:
        return get_checked(d, n, path, valid_namespace,
                           "a namespace prefix (a letter, then up to 14 letters, digits or _)",
                           (char **)slot, err);
    }
    return isf_err_set(err, ISF_E_FAILED, "internal error: unknown field type for %s", path);
}

static int load_simple(struct isf_config *cfg, const struct cfg_doc *d, const struct section *sec,
                       const yaml_node_t *n, struct isf_error *err)
{
    const char *names[16];
    char where[64];
    size_t count = sec->n_fields < ARRAY_LEN(names) ? sec->n_fields : ARRAY_LEN(names);
    for (size_t i = 0; i < count; i++)
        names[i] = sec->fields[i].key;
    snprintf(where, sizeof(where), "in '%s'", sec->name);
    struct cfg_keyset keys = {names, count, "key", where};
    int rc = cfg_check_map(d, n, sec->name, &keys, err);
    for (size_t i = 0; rc == ISF_OK && i < count; i++) {
        const yaml_node_t *v = cfg_map_get(d, n, sec->fields[i].key);
        if (!v || cfg_is_null(v))
            continue; /* "timeout_s:" with nothing keeps the default */
        char path[96];
        snprintf(path, sizeof(path), "%s.%s", sec->name, sec->fields[i].key);
        rc = apply_field(cfg, d, &sec->fields[i], v, path, err);
    }
    return rc;
}

/* ---------------------------------------------------------------------------------------------
 * key: exactly one of file, env, command.
 */

static int valid_env_name(const char *s)
{
    if (!isalpha((unsigned char)s[0]) && s[0] != '_')
        return 0;
    for (const char *p = s; *p; p++) {
        if (!isalnum((unsigned char)*p) && *p != '_')
            return 0;
    }
    return 1;
}

static int load_key_command(struct isf_config *cfg, const struct cfg_doc *d, const yaml_node_t *v,
                            struct isf_error *err)
{
    size_t n = 0;
    int rc = cfg_get_string_list(d, v, "key.command", &cfg->key_command, &n, err);
    if (rc)
        return rc;
    if (n == 0 || cfg->key_command[0][0] == '\0')
        return cfg_wrong_type(d, v, "key.command",
                              "a command as a list of arguments, e.g. [pass, show, isyncsf]", err);
    return ISF_OK;
}

static int load_key_source(struct isf_config *cfg, const struct cfg_doc *d, const char *source,
                           const yaml_node_t *v, struct isf_error *err)
{
    if (strcmp(source, "file") == 0)
        return get_path(d, v, "key.file", &cfg->key_file, err);
    /* The master key then lives elsewhere: no key file must be read, written or rotated. */
    free(cfg->key_file);
    cfg->key_file = NULL;
    if (strcmp(source, "env") == 0) {
        cfg->key_source = ISF_KEY_ENV;
        return get_checked(d, v, "key.env", valid_env_name,
                           "the name of an environment variable holding the base64 key",
                           &cfg->key_env, err);
    }
    cfg->key_source = ISF_KEY_COMMAND;
    return load_key_command(cfg, d, v, err);
}

static int load_key(struct isf_config *cfg, const struct cfg_doc *d, const yaml_node_t *n,
                    struct isf_error *err)
{
    static const char *const names[] = {"file", "env", "command"};
    struct cfg_keyset keys = {names, ARRAY_LEN(names), "key", "in 'key'"};
    int rc = cfg_check_map(d, n, "key", &keys, err);
    if (rc || cfg_is_null(n))
        return rc;
    const char *found = NULL;
    const yaml_node_t *value = NULL;
    for (size_t i = 0; i < ARRAY_LEN(names); i++) {
        const yaml_node_t *v = cfg_map_get(d, n, names[i]);
        if (!v)
            continue;
        if (found)
            return isf_err_set(err, ISF_E_CONFIG,
                               "%s:%d: key: give exactly one of file, env or command, not both "
                               "'%s' and '%s'; remove one",
                               d->file, cfg_line(v), found, names[i]);
        found = names[i];
        value = v;
    }
    if (!found)
        return isf_err_set(err, ISF_E_CONFIG,
                           "%s:%d: key: give exactly one of file, env or command "
                           "(e.g. key: {file: ~/.local/share/isyncsf/master.key})",
                           d->file, cfg_line(n));
    return load_key_source(cfg, d, found, value, err);
}

/* ---------------------------------------------------------------------------------------------
 * plugins: {path: [folders], load: [{name|path, options}]}.
 */

/* ^[a-z0-9][a-z0-9-]*$: a name is looked up in plugin folders, so it must not be a path. */
static int valid_plugin_name(const char *s)
{
    if (!islower((unsigned char)s[0]) && !isdigit((unsigned char)s[0]))
        return 0;
    for (const char *p = s; *p; p++) {
        if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '-')
            return 0;
    }
    return 1;
}

static int load_plugin_name(struct isf_plugin_conf *pc, const struct cfg_doc *d,
                            const yaml_node_t *v, const char *path, struct isf_error *err)
{
    const char *s = cfg_scalar(v);
    if (s && !valid_plugin_name(s))
        return isf_err_set(err, ISF_E_CONFIG,
                           "%s:%d: %s: '%.40s' is not a plugin name (lowercase letters, digits "
                           "and '-', no '/' or '..'); to load a file by its location, write "
                           "'path:' instead of 'name:'",
                           d->file, cfg_line(v), path, s);
    return cfg_get_string(d, v, path, 1, &pc->name, err);
}

static int load_plugin_options(struct isf_plugin_conf *pc, const struct cfg_doc *d,
                               const yaml_node_t *v, const char *path, struct isf_error *err)
{
    if (!v || cfg_is_null(v))
        return ISF_OK;
    if (v->type != YAML_MAPPING_NODE)
        return cfg_wrong_type(d, v, path, "a mapping of the plugin's options", err);
    pc->options_node = cfg_index(d, v);
    return ISF_OK;
}

static int load_plugin_entry(struct isf_plugin_conf *pc, const struct cfg_doc *d,
                             const yaml_node_t *item, size_t idx, struct isf_error *err)
{
    static const char *const names[] = {"name", "path", "options"};
    struct cfg_keyset keys = {names, ARRAY_LEN(names), "key", "in a 'plugins.load' entry"};
    char path[64], sub[80];
    snprintf(path, sizeof(path), "plugins.load[%zu]", idx);
    if (!item || item->type != YAML_MAPPING_NODE)
        return cfg_wrong_type(d, item, path, "a mapping such as {name: store-file}", err);
    int rc = cfg_check_map(d, item, path, &keys, err);
    if (rc)
        return rc;
    pc->line = cfg_line(item);
    const yaml_node_t *name = cfg_map_get(d, item, "name");
    const yaml_node_t *file = cfg_map_get(d, item, "path");
    if (!name == !file)
        return isf_err_set(err, ISF_E_CONFIG,
                           "%s:%d: %s: give exactly one of 'name' (a plugin looked up in the "
                           "plugin folders) or 'path' (a plugin file)%s",
                           d->file, pc->line, path, name ? ", not both" : "");
    snprintf(sub, sizeof(sub), "%s.%s", path, name ? "name" : "path");
    rc = name ? load_plugin_name(pc, d, name, sub, err) : get_path(d, file, sub, &pc->path, err);
    if (rc)
        return rc;
    snprintf(sub, sizeof(sub), "%s.options", path);
    return load_plugin_options(pc, d, cfg_map_get(d, item, "options"), sub, err);
}

/* The same plugin twice would register the same mode twice. */
static int check_plugin_twice(const struct isf_config *cfg, const struct cfg_doc *d,
                              struct isf_error *err)
{
    for (size_t i = 1; i < cfg->n_plugins; i++) {
        const struct isf_plugin_conf *b = &cfg->plugins[i];
        for (size_t j = 0; j < i; j++) {
            const struct isf_plugin_conf *a = &cfg->plugins[j];
            const char *sa = a->name ? a->name : a->path, *sb = b->name ? b->name : b->path;
            if (sa && sb && !a->name == !b->name && strcmp(sa, sb) == 0)
                return isf_err_set(err, ISF_E_CONFIG,
                                   "%s:%d: plugin '%s' is listed twice in plugins.load (first on "
                                   "line %d); keep one entry",
                                   d->file, b->line, sb, a->line);
        }
    }
    return ISF_OK;
}

static int load_plugin_list(struct isf_config *cfg, const struct cfg_doc *d, const yaml_node_t *n,
                            struct isf_error *err)
{
    if (n->type != YAML_SEQUENCE_NODE)
        return cfg_wrong_type(d, n, "plugins.load",
                              "a list of entries such as '- name: store-file'", err);
    size_t count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    free_plugins(cfg);
    cfg->plugins = calloc(count ? count : 1, sizeof(*cfg->plugins));
    if (!cfg->plugins)
        return isf_err_set(err, ISF_E_NOMEM, "out of memory reading plugins.load");
    for (size_t i = 0; i < count; i++) {
        cfg->n_plugins++; /* counted first so a half-filled entry is freed too */
        const yaml_node_t *item = cfg_node(d, n->data.sequence.items.start[i]);
        int rc = load_plugin_entry(&cfg->plugins[i], d, item, i, err);
        if (rc)
            return rc;
    }
    return check_plugin_twice(cfg, d, err);
}

static int load_plugin_path(struct isf_config *cfg, const struct cfg_doc *d, const yaml_node_t *n,
                            struct isf_error *err)
{
    int rc = cfg_get_string_list(d, n, "plugins.path", &cfg->plugin_path, &cfg->n_plugin_path, err);
    for (size_t i = 0; rc == ISF_OK && i < cfg->n_plugin_path; i++) {
        const yaml_node_t *item = cfg_node(d, n->data.sequence.items.start[i]);
        char *expanded = isf_expand_home(cfg->plugin_path[i]);
        if (!expanded)
            return isf_err_set(err, ISF_E_NOMEM, "out of memory reading plugins.path");
        free(cfg->plugin_path[i]);
        cfg->plugin_path[i] = expanded;
        if (expanded[0] == '\0')
            rc = cfg_wrong_type(d, item, "plugins.path", "a list of folders", err);
    }
    return rc;
}

static int load_plugins(struct isf_config *cfg, const struct cfg_doc *d, const yaml_node_t *n,
                        struct isf_error *err)
{
    static const char *const names[] = {"path", "load"};
    struct cfg_keyset keys = {names, ARRAY_LEN(names), "key", "in 'plugins'"};
    int rc = cfg_check_map(d, n, "plugins", &keys, err);
    const yaml_node_t *v = cfg_map_get(d, n, "path");
    if (rc == ISF_OK && v && !cfg_is_null(v))
        rc = load_plugin_path(cfg, d, v, err);
    v = cfg_map_get(d, n, "load");
    /* "load:" with nothing means the same as no load: the bundled set. */
    if (rc == ISF_OK && v && !cfg_is_null(v))
        rc = load_plugin_list(cfg, d, v, err);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
 * The document.
 */

static int load_section(struct isf_config *cfg, const struct cfg_doc *d, const char *name,
                        const yaml_node_t *n, struct isf_error *err)
{
    if (strcmp(name, "plugins") == 0)
        return load_plugins(cfg, d, n, err);
    if (strcmp(name, "key") == 0)
        return load_key(cfg, d, n, err);
    for (size_t i = 0; i < ARRAY_LEN(simple_sections); i++) {
        if (strcmp(name, simple_sections[i].name) == 0)
            return load_simple(cfg, d, &simple_sections[i], n, err);
    }
    return ISF_OK;
}

static int load_root(struct isf_config *cfg, const struct cfg_doc *d, const yaml_node_t *root,
                     struct isf_error *err)
{
    static const char *const names[] = {"plugins", "key", "http", "salesforce", "refresh", "store"};
    struct cfg_keyset keys = {names, ARRAY_LEN(names), "key", "at the top level"};
    if (!root || cfg_is_null(root))
        return ISF_OK; /* an empty file (or only comments): built-in defaults */
    int rc = cfg_check_map(d, root, "the top level", &keys, err);
    for (size_t i = 0; rc == ISF_OK && i < ARRAY_LEN(names); i++) {
        const yaml_node_t *n = cfg_map_get(d, root, names[i]);
        if (n)
            rc = load_section(cfg, d, names[i], n, err);
    }
    return rc;
}

static int yaml_error(const yaml_parser_t *p, const char *file, struct isf_error *err)
{
    if (p->error == YAML_MEMORY_ERROR)
        return isf_err_set(err, ISF_E_NOMEM, "%s: out of memory parsing YAML", file);
    if (p->error == YAML_READER_ERROR)
        return isf_err_set(err, ISF_E_CONFIG, "%s: cannot read as UTF-8 text: %s (at byte %zu)",
                           file, p->problem ? p->problem : "input error", p->problem_offset);
    if (p->context)
        return isf_err_set(err, ISF_E_CONFIG,
                           "%s:%zu: invalid YAML: %s %s that starts on line %zu; fix the syntax",
                           file, p->problem_mark.line + 1, p->problem ? p->problem : "error",
                           p->context, p->context_mark.line + 1);
    return isf_err_set(err, ISF_E_CONFIG, "%s:%zu: invalid YAML: %s; fix the syntax", file,
                       p->problem_mark.line + 1, p->problem ? p->problem : "error");
}

/* A second document after "---" would be silently ignored: refuse it instead. */
static int check_single_document(yaml_parser_t *parser, const char *file, struct isf_error *err)
{
    yaml_document_t extra;
    if (!yaml_parser_load(parser, &extra))
        return yaml_error(parser, file, err);
    const yaml_node_t *root = yaml_document_get_root_node(&extra);
    int line = root ? (int)root->start_mark.line + 1 : 0;
    yaml_document_delete(&extra);
    if (root)
        return isf_err_set(err, ISF_E_CONFIG,
                           "%s:%d: a second YAML document ('---'); keep the whole configuration "
                           "in one",
                           file, line);
    return ISF_OK;
}

static int parse_file(struct isf_config *cfg, FILE *fp, struct isf_error *err)
{
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return isf_err_set(err, ISF_E_NOMEM, "out of memory parsing %s", cfg->file);
    yaml_parser_set_input_file(&parser, fp);
    int rc = ISF_OK;
    yaml_document_t *doc = calloc(1, sizeof(*doc));
    if (!doc) {
        rc = isf_err_set(err, ISF_E_NOMEM, "out of memory parsing %s", cfg->file);
        goto cleanup;
    }
    if (!yaml_parser_load(&parser, doc)) {
        free(doc);
        rc = yaml_error(&parser, cfg->file, err);
        goto cleanup;
    }
    cfg->priv = doc; /* from here on isf_config_free deletes it */
    rc = check_single_document(&parser, cfg->file, err);
    if (rc)
        goto cleanup;
    struct cfg_doc d = {doc, cfg->file};
    rc = load_root(cfg, &d, yaml_document_get_root_node(doc), err);
cleanup:
    yaml_parser_delete(&parser);
    return rc;
}

/* Open the config file. A missing file is fine (*fp NULL) unless it was named explicitly. */
static int open_file(const char *path, int explicit, FILE **fp, struct isf_error *err)
{
    struct stat st;
    *fp = NULL;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT && !explicit)
            return ISF_OK;
        if (errno == ENOENT)
            return isf_err_set(err, ISF_E_CONFIG,
                               "config file %s: not found; check --config / ISYNCSF_CONFIG", path);
        return isf_err_set(err, ISF_E_CONFIG, "config file %s: %s", path, strerror(errno));
    }
    if (!S_ISREG(st.st_mode))
        return isf_err_set(err, ISF_E_CONFIG, "config file %s: not a regular file", path);
    *fp = fopen(path, "r");
    if (!*fp)
        return isf_err_set(err, ISF_E_CONFIG, "config file %s: cannot open: %s", path,
                           strerror(errno));
    return ISF_OK;
}

int isf_config_load(const char *explicit_path, struct isf_config **out, struct isf_error *err)
{
    struct isf_config *cfg = NULL;
    FILE *fp = NULL;
    *out = NULL;
    int explicit = explicit_path != NULL || env_nonempty("ISYNCSF_CONFIG") != NULL;
    char *path = isf_config_default_path(explicit_path);
    int rc;
    if (!path) {
        rc = isf_err_set(err, ISF_E_CONFIG,
                         "cannot find the config file: HOME is not set; set ISYNCSF_HOME or "
                         "ISYNCSF_CONFIG, or pass --config");
        goto cleanup;
    }
    rc = isf_config_defaults(&cfg, err);
    if (rc == ISF_OK)
        rc = open_file(path, explicit, &fp, err);
    if (rc || !fp || !cfg)
        goto cleanup;
    cfg->file = path;
    path = NULL;
    rc = parse_file(cfg, fp, err);
cleanup:
    if (fp)
        fclose(fp);
    free(path);
    if (rc) {
        isf_config_free(cfg);
        return rc;
    }
    *out = cfg;
    return ISF_OK;
}
