/*
 * auth-named-credential: an org names a credential defined in this plugin's options, whose secret
 * lives elsewhere (salesforce-api.md §10), as a Salesforce Named Credential's does. The token
 * comes from a helper command, an environment variable or a file readable by its owner only, each
 * time one is needed: the plugin declares ISF_CAP_NO_TOKEN_STORE, so the core never writes the
 * token to the store, and asks again (refresh) in every process that needs it and once more when
 * the org answers 401. Nothing is revoked: the token is not isyncsf's.
 */
#include "nc.h"

#include <stddef.h>
#include <stdio.h>

struct nc_instance {
    const struct isf_host *host;
    struct nc_table table;
};

static const struct isf_option_spec nc_options[] = {
    {"credentials", ISF_OPT_MAP, NULL, 0,
     "name: {url, and one of command: [argv...], token_env: VAR, token_file: PATH; timeout_s}"},
    {"timeout_s", ISF_OPT_INT, "30", 0, "time limit of a helper command, in seconds"},
    {NULL, 0, NULL, 0, NULL},
};

static int nc_create(const struct isf_host *host, const struct isf_opts *opts, void **instance,
                     struct isf_error *err)
{
    struct nc_instance *nc = host->alloc(host, sizeof(*nc));
    if (!nc)
        return host->error_set(host, err, ISF_E_NOMEM, "out of memory");
    nc->host = host;
    int rc = nc_table_load(host, opts, &nc->table, err);
    if (rc != ISF_OK) {
        host->free(host, nc);
        return rc;
    }
    *instance = nc;
    return ISF_OK;
}

static void nc_destroy(void *instance)
{
    struct nc_instance *nc = instance;
    if (!nc)
        return;
    nc_table_free(nc->host, &nc->table);
    nc->host->free(nc->host, nc);
}

/* The org's credential, or ISF_E_NOT_FOUND naming the ones defined. (The codes are returned
 * literally, not through error_set's return value, so that analysers see *out set on ISF_OK.) */
static int find(struct nc_instance *nc, const struct isf_org_view *org,
                const struct nc_credential **out, struct isf_error *err)
{
    const struct isf_host *h = nc->host;
    *out = NULL;
    if (!org->named_credential) {
        h->error_set(h, err, ISF_E_USAGE,
                     "org %s: mode named-credential needs --named-credential NC (a credential "
                     "defined in the options of auth-named-credential)",
                     org->name);
        return ISF_E_USAGE;
    }
    *out = nc_table_find(&nc->table, org->named_credential);
    if (*out)
        return ISF_OK;
    char names[256];
    nc_table_names(&nc->table, names, sizeof(names));
    h->error_set(h, err, ISF_E_NOT_FOUND,
                 "named credential %s not found (defined: %s); define it under credentials in "
                 "the options of auth-named-credential",
                 org->named_credential, names);
    return ISF_E_NOT_FOUND;
}

static int nc_check_settings(void *instance, const struct isf_org_settings_check *check,
                             struct isf_error *err)
{
    const struct nc_credential *c;
    return find(instance, check->org, &c, err);
}

static const char *source_name(const struct nc_credential *c)
{
    return c->kind == NC_SRC_COMMAND ? "helper command"
           : c->kind == NC_SRC_ENV   ? "environment variable"
                                     : "token file";
}

/* connect and refresh alike: ask the source now. */
static int nc_resolve(void *instance, const struct isf_org_view *org, struct isf_session *out,
                      struct isf_error *err)
{
    struct nc_instance *nc = instance;
    const struct isf_host *h = nc->host;
    const struct nc_credential *c;
    struct nc_token t;
    int rc = find(nc, org, &c, err);
    if (rc != ISF_OK)
        return rc;
    rc = nc_fetch(h, c, &t, err);
    if (rc != ISF_OK)
        return rc;
    rc = h->session_set(h, out, t.access_token, t.instance_url ? t.instance_url : c->url, NULL,
                        h->now_ms(h), t.expires_at_ms, err);
    nc_token_clear(h, &t);
    if (rc == ISF_OK)
        h->log(h, ISF_LOG_DEBUG, "org %s: token from the %s of named credential %s", org->name,
               source_name(c), c->name);
    return rc;
}

static const struct isf_auth_ops nc_ops = {
    .struct_size = sizeof(struct isf_auth_ops),
    .create = nc_create,
    .destroy = nc_destroy,
    .check_settings = nc_check_settings,
    .connect = nc_resolve,
    .refresh = nc_resolve,
    .revoke = NULL, /* the token belongs to its source, not to isyncsf */
};

static const struct isf_plugin_descriptor nc_descriptor = {
    .struct_size = sizeof(struct isf_plugin_descriptor),
    .kind = ISF_PLUGIN_AUTH,
    .name = "auth-named-credential",
    .version = "0.1.0",
    .description = "a credential defined outside isyncsf (helper command, variable or file); "
                   "its token is never stored",
    .capabilities = ISF_CAP_REFRESHABLE | ISF_CAP_NO_TOKEN_STORE,
    .options = nc_options,
    .ops = &nc_ops,
};

ISF_DEFINE_PLUGIN_ABI();

ISF_PLUGIN_EXPORT int isyncsf_plugin_init(const struct isf_host *host,
                                          const struct isf_plugin_descriptor **out,
                                          struct isf_error *err)
{
    /* json_object_key (ABI 1.1) reads the credential table; exec_capture is checked where a
     * helper is run, so token_env / token_file would still work without it. */
    if (!host || host->struct_size < offsetof(struct isf_host, json_object_key) + sizeof(void *)) {
        if (host && err)
            host->error_set(host, err, ISF_E_CONFIG,
                            "auth-named-credential needs plugin ABI 1.1; upgrade isyncsf");
        return ISF_E_CONFIG;
    }
    *out = &nc_descriptor;
    return ISF_OK;
}
