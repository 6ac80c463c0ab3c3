/*
 * auth-webserver-eca: the OAuth 2.0 web server flow (authorization code + PKCE) with an External
 * Client App whose consumer key and secret are kept per org, in the org's record (the secret
 * sealed). The secret is optional: an app with "Require secret for Web Server Flow" turned off
 * is a public PKCE client; when the record holds one, it is sent. Everything else is shared with
 * auth-webserver-connectedapp (plugins/webserver-common).
 */
#include "webserver_common.h"

#include <stddef.h>

static const struct isf_option_spec eca_options[] = {
    WS_COMMON_OPTIONS,
    {NULL, 0, NULL, 0, NULL},
};

static int eca_client(const struct ws_instance *ws, const struct isf_org_view *org,
                      struct ws_client *c, struct isf_error *err)
{
    const struct isf_host *h = ws->host;
    if (!org->client_id || !*org->client_id)
        return h->error_set(h, err, ISF_E_USAGE,
                            "org %s has no client id; set the External Client App's consumer key "
                            "with isyncsf org edit %s --client-id KEY",
                            org->name, org->name);
    c->client_id = org->client_id;
    c->client_secret = org->client_secret;
    c->redirect_uri = org->redirect_uri;
    c->scope = org->scope;
    c->prompt = h->opt_string(h, ws->opts, "prompt");
    return ISF_OK;
}

static const struct ws_mode eca_mode = {"webserver-eca", eca_client};

static int eca_create(const struct isf_host *host, const struct isf_opts *opts, void **instance,
                      struct isf_error *err)
{
    struct ws_instance *ws = NULL;
    int rc = ws_create(host, opts, &eca_mode, &ws, err);
    *instance = ws;
    return rc;
}

static void eca_destroy(void *instance)
{
    ws_destroy(instance);
}

static int eca_check_settings(void *instance, const struct isf_org_settings_check *check,
                              struct isf_error *err)
{
    struct ws_instance *ws = instance;
    const struct isf_org_view *org = check->org;
    int rc = ws_check_common(ws, org, err);
    if (rc == ISF_OK && (!org->client_id || !*org->client_id))
        rc = ws->host->error_set(ws->host, err, ISF_E_USAGE,
                                 "org %s: mode webserver-eca needs --client-id (the External "
                                 "Client App's consumer key) and, unless the app's \"Require "
                                 "secret for Web Server Flow\" is off, its secret "
                                 "(--client-secret-stdin, --client-secret-env VAR or "
                                 "--client-secret-file PATH)",
                                 org->name);
    return rc;
}

static const struct isf_auth_ops eca_ops = WS_AUTH_OPS(eca_create, eca_destroy, eca_check_settings);

WS_PLUGIN("auth-webserver-eca",
          "OAuth 2.0 web server flow (browser login, PKCE) with an External Client App "
          "kept per org",
          ISF_CAP_PER_ORG_SECRET, eca_options, eca_ops)
