/* The credential table: the `credentials` option of auth-named-credential, checked once when the
 * instance is created (the core prefixes the messages with the plugin's name), so that a mistake is
 * a config error at start-up rather than at the first connect. The core hands ISF_OPT_MAP values
 * over as JSON whose scalars are text. */
#include "nc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TIMEOUT_MAX_S 3600

static const char *const known_keys[] = {"url",        "command",   "token_env",
                                         "token_file", "timeout_s", NULL};

static int is_known_key(const char *key)
{
    for (size_t i = 0; known_keys[i]; i++)
        if (strcmp(key, known_keys[i]) == 0)
            return 1;
    return 0;
}

static int bad(const struct isf_host *h, struct isf_error *err, const char *name, const char *what)
{
    return h->error_set(h, err, ISF_E_CONFIG, "credentials.%s: %s", name, what);
}

/* https://host[:port] with a host and nothing after it but an optional '/'. */
static int url_ok(const char *url)
{
    if (strncmp(url, "https://", 8) != 0)
        return 0;
    const char *host = url + 8;
    size_t n = strcspn(host, "/?#@ \t\r\n");
    return n > 0 && (host[n] == '\0' || (host[n] == '/' && host[n + 1] == '\0'));
}

static int env_name_ok(const char *v)
{
    if (!v || !(isalpha((unsigned char)*v) || *v == '_'))
        return 0;
    for (; *v; v++)
        if (!(isalnum((unsigned char)*v) || *v == '_'))
            return 0;
    return 1;
}

/* A timeout given as text ("10") or as a number; 1..TIMEOUT_MAX_S seconds. */
static int parse_timeout(const struct isf_host *h, const struct isf_json *v, long *seconds)
{
    int64_t n;
    const char *s = h->json_string(h, v);
    if (s) {
        char *end;
        long l = strtol(s, &end, 10);
        if (end == s || *end)
            return -1;
        n = l;
    } else if (h->json_int(h, v, &n) != 0) {
        return -1;
    }
    if (n < 1 || n > TIMEOUT_MAX_S)
        return -1;
    *seconds = (long)n;
    return 0;
}

static char *expand_home(const struct isf_host *h, const char *path)
{
    const char *home = getenv("HOME");
    if (strncmp(path, "~/", 2) != 0 || !home || !*home)
        return h->strdup(h, path);
    size_t n = strlen(home) + strlen(path);
    char *out = h->alloc(h, n);
    if (out)
        snprintf(out, n, "%s%s", home, path + 1);
    return out;
}

static int load_command(const struct isf_host *h, const char *name, const struct isf_json *cmd,
                        struct nc_credential *c, struct isf_error *err)
{
    size_t n = h->json_array_size(h, cmd);
    if (n == 0)
        return bad(h, err, name, "command must be a non-empty list: [program, arg, ...]");
    c->argv = h->alloc(h, (n + 1) * sizeof(char *));
    if (!c->argv)
        return h->error_set(h, err, ISF_E_NOMEM, "out of memory");
    memset(c->argv, 0, (n + 1) * sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        const char *arg = h->json_string(h, h->json_array_get(h, cmd, i));
        if (!arg || (i == 0 && !*arg))
            return bad(h, err, name, "command must be a list of strings, the first non-empty");
        if (!(c->argv[i] = h->strdup(h, arg)))
            return h->error_set(h, err, ISF_E_NOMEM, "out of memory");
    }
    c->kind = NC_SRC_COMMAND;
    return ISF_OK;
}

static int load_source(const struct isf_host *h, const char *name, const struct isf_json *v,
                       struct nc_credential *c, struct isf_error *err)
{
    const struct isf_json *cmd = h->json_get(h, v, "command");
    const struct isf_json *env = h->json_get(h, v, "token_env");
    const struct isf_json *file = h->json_get(h, v, "token_file");
    if ((cmd != NULL) + (env != NULL) + (file != NULL) != 1)
        return bad(h, err, name, "give exactly one source: command, token_env or token_file");
    if (cmd)
        return load_command(h, name, cmd, c, err);
    if (env) {
        const char *var = h->json_string(h, env);
        if (!env_name_ok(var))
            return bad(h, err, name, "token_env must be an environment variable name");
        c->kind = NC_SRC_ENV;
        c->var = h->strdup(h, var);
        return c->var ? ISF_OK : h->error_set(h, err, ISF_E_NOMEM, "out of memory");
    }
    const char *path = h->json_string(h, file);
    if (!path || !*path)
        return bad(h, err, name, "token_file must be a file path");
    c->kind = NC_SRC_FILE;
    c->path = expand_home(h, path);
    return c->path ? ISF_OK : h->error_set(h, err, ISF_E_NOMEM, "out of memory");
}

static int load_one(const struct isf_host *h, const char *name, const struct isf_json *v,
                    long default_timeout_s, struct nc_credential *c, struct isf_error *err)
{
    const char *key;
    if (!h->json_object_key(h, v, 0, NULL))
        return bad(h, err, name, "must be a mapping with url and one source");
    for (size_t i = 0; (key = h->json_object_key(h, v, i, NULL)); i++)
        if (!is_known_key(key))
            return h->error_set(h, err, ISF_E_CONFIG,
                                "credentials.%s: unknown key '%s' (known: url, command, "
                                "token_env, token_file, timeout_s)",
                                name, key);
    if (!(c->name = h->strdup(h, name)))
        return h->error_set(h, err, ISF_E_NOMEM, "out of memory");
    const char *url = h->json_string(h, h->json_get(h, v, "url"));
    if (!url || !url_ok(url))
        return bad(h, err, name,
                   "url must be the org's https URL, e.g. https://acme.my.salesforce.com");
    if (!(c->url = h->strdup(h, url)))
        return h->error_set(h, err, ISF_E_NOMEM, "out of memory");
    size_t n = strlen(c->url);
    if (c->url[n - 1] == '/')
        c->url[n - 1] = '\0';
    long timeout_s = default_timeout_s;
    const struct isf_json *t = h->json_get(h, v, "timeout_s");
    if (t && parse_timeout(h, t, &timeout_s) != 0)
        return bad(h, err, name, "timeout_s must be a whole number of seconds from 1 to 3600");
    c->timeout_ms = timeout_s * 1000;
    return load_source(h, name, v, c, err);
}

int nc_table_load(const struct isf_host *h, const struct isf_opts *opts, struct nc_table *t,
                  struct isf_error *err)
{
    memset(t, 0, sizeof(*t));
    int64_t timeout_s = h->opt_int(h, opts, "timeout_s");
    if (timeout_s < 1 || timeout_s > TIMEOUT_MAX_S)
        return h->error_set(h, err, ISF_E_CONFIG,
                            "timeout_s must be a whole number of seconds from 1 to 3600");
    const struct isf_json *creds = h->opt_json(h, opts, "credentials");
    if (!creds)
        return ISF_OK; /* no credential defined: every org of this mode is refused by name */
    size_t n = 0;
    while (h->json_object_key(h, creds, n, NULL))
        n++;
    if (n == 0 && h->json_string(h, creds))
        return h->error_set(h, err, ISF_E_CONFIG,
                            "credentials must be a mapping of name: {url, source}");
    if (n == 0)
        return ISF_OK;
    t->items = h->alloc(h, n * sizeof(*t->items));
    if (!t->items)
        return h->error_set(h, err, ISF_E_NOMEM, "out of memory");
    memset(t->items, 0, n * sizeof(*t->items));
    t->n = n;
    for (size_t i = 0; i < n; i++) {
        const struct isf_json *v = NULL;
        const char *name = h->json_object_key(h, creds, i, &v);
        int rc = load_one(h, name, v, (long)timeout_s, &t->items[i], err);
        if (rc != ISF_OK) {
            nc_table_free(h, t);
            return rc;
        }
    }
    return ISF_OK;
}

void nc_table_free(const struct isf_host *h, struct nc_table *t)
{
    for (size_t i = 0; i < t->n; i++) {
        struct nc_credential *c = &t->items[i];
        for (size_t k = 0; c->argv && c->argv[k]; k++)
            h->free(h, c->argv[k]);
        h->free(h, c->argv);
        h->free(h, c->name);
        h->free(h, c->url);
        h->free(h, c->var);
        h->free(h, c->path);
    }
    h->free(h, t->items);
    memset(t, 0, sizeof(*t));
}

const struct nc_credential *nc_table_find(const struct nc_table *t, const char *name)
{
    for (size_t i = 0; name && i < t->n; i++)
        if (strcmp(t->items[i].name, name) == 0)
            return &t->items[i];
    return NULL;
}

void nc_table_names(const struct nc_table *t, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    if (t->n == 0) {
        snprintf(buf, len, "none");
        return;
    }
    for (size_t i = 0; i < t->n && used < len; i++) {
        int w = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", t->items[i].name);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}
