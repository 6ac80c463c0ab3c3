/* The fixed sections of the config file: http, salesforce, refresh and store (a table of typed
 * fields written into struct isf_config), and key (where the master key comes from). */
#include "config_internal.h"

#include "util.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
        return cfg_get_path(d, n, path, (char **)slot, err);
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

int cfg_load_simple_section(struct isf_config *cfg, const struct cfg_doc *d, const char *name,
                            const yaml_node_t *n, struct isf_error *err)
{
    for (size_t i = 0; i < ARRAY_LEN(simple_sections); i++) {
        if (strcmp(name, simple_sections[i].name) == 0)
            return load_simple(cfg, d, &simple_sections[i], n, err);
    }
    return ISF_OK;
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
        return cfg_get_path(d, v, "key.file", &cfg->key_file, err);
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

int cfg_load_key(struct isf_config *cfg, const struct cfg_doc *d, const yaml_node_t *n,
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
