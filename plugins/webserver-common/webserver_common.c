/* The shared half of the web server mode plugins (webserver_common.h). */
#include "webserver_common.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define HOST_HAS(h, m) ((h)->struct_size >= offsetof(struct isf_host, m) + sizeof((h)->m))

int ws_init(const struct isf_host *host, const struct isf_plugin_descriptor *desc,
            const struct isf_plugin_descriptor **out, struct isf_error *err)
{
    if (!host || !HOST_HAS(host, session_set)) {
        if (err)
            err->code = ISF_E_CONFIG;
        return ISF_E_CONFIG; /* a host older than ABI 1.0 cannot serve us */
    }
    *out = desc;
    return ISF_OK;
}

int ws_create(const struct isf_host *host, const struct isf_opts *opts, const struct ws_mode *mode,
              struct ws_instance **out, struct isf_error *err)
{
    struct ws_instance *ws = host->alloc(host, sizeof(*ws));
    if (!ws)
        return host->error_set(host, err, ISF_E_NOMEM, "out of memory");
    memset(ws, 0, sizeof(*ws));
    ws->host = host;
    ws->opts = opts;
    ws->mode = mode;
    *out = ws;
    return ISF_OK;
}

void ws_destroy(struct ws_instance *ws)
{
    if (ws)
        ws->host->free(ws->host, ws);
}

/* RFC 8252 7.3 loopback redirect URIs only; the core checks the rest at connect. */
static int loopback_redirect(const char *uri)
{
    static const char *const prefixes[] = {
        "http://localhost:", "http://127.0.0.1:", "http://[::1]:"};
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
        if (strncasecmp(uri, prefixes[i], strlen(prefixes[i])) == 0)
            return 1;
    return 0;
}

int ws_check_common(const struct ws_instance *ws, const struct isf_org_view *org,
                    struct isf_error *err)
{
    const struct isf_host *h = ws->host;
    if (!org->login_url)
        return h->error_set(h, err, ISF_E_USAGE,
                            "org %s: mode %s needs --login-url: https://login.salesforce.com, "
                            "https://test.salesforce.com (sandboxes) or the org's My Domain URL",
                            org->name, ws->mode->mode);
    if (org->redirect_uri && !loopback_redirect(org->redirect_uri))
        return h->error_set(h, err, ISF_E_USAGE,
                            "org %s: --redirect-uri '%s' is not a loopback address; use "
                            "http://localhost:PORT/PATH (e.g. http://localhost:1717/OauthRedirect) "
                            "and register the same callback URL on the app",
                            org->name, org->redirect_uri);
    return ISF_OK;
}

/* The org view the core works with: the mode's client credentials and redirect URI. */
static void client_view(const struct isf_org_view *org, const struct ws_client *c,
                        struct isf_org_view *v)
{
    *v = *org;
    v->client_id = c->client_id;
    v->client_secret = c->client_secret;
    v->redirect_uri = c->redirect_uri;
    v->scope = c->scope;
}

int ws_connect(void *instance, const struct isf_org_view *org, struct isf_session *out,
               struct isf_error *err)
{
    struct ws_instance *ws = instance;
    const struct isf_host *h = ws->host;
    if (!HOST_HAS(h, oauth_authorize) || !h->oauth_authorize)
        return h->error_set(h, err, ISF_E_UNSUPPORTED,
                            "org %s: the browser login needs isyncsf with plugin ABI 1.2 or "
                            "later; upgrade isyncsf",
                            org->name);
    struct ws_client c = {0};
    int rc = ws->mode->client(ws, org, &c, err);
    if (rc != ISF_OK)
        return rc;
    struct isf_org_view v;
    client_view(org, &c, &v);
    struct isf_authorize_params p = {sizeof(p), c.prompt, h->opt_string(h, ws->opts, "login_hint")};
    return h->oauth_authorize(h, &v, &p, out, err);
}

static int need_refresh_token(const struct ws_instance *ws, const struct isf_org_view *org,
                              struct isf_error *err)
{
    if (org->refresh_token && *org->refresh_token)
        return ISF_OK;
    return ws->host->error_set(ws->host, err, ISF_E_AUTH,
                               "org %s holds no refresh token (was api refresh_token in the "
                               "scope?); run isyncsf org connect %s",
                               org->name, org->name);
}

int ws_refresh(void *instance, const struct isf_org_view *org, struct isf_session *out,
               struct isf_error *err)
{
    struct ws_instance *ws = instance;
    const struct isf_host *h = ws->host;
    struct ws_client c = {0};
    int rc = need_refresh_token(ws, org, err);
    if (rc == ISF_OK)
        rc = ws->mode->client(ws, org, &c, err);
    if (rc != ISF_OK)
        return rc;
    struct isf_org_view v;
    client_view(org, &c, &v);
    /* A rotated refresh token in the answer is stored by the core before the new access token
     * is used; an answer without one keeps the current one. */
    const char *form[] = {"grant_type", "refresh_token", "refresh_token", org->refresh_token, NULL,
                          NULL};
    rc = h->oauth_token(h, &v, form, out, err);
    if (rc == ISF_E_AUTH && strstr(err->message, "invalid_grant")) {
        /* invalid_grant here means the grant is gone (revoked, expired, a rotated-out token
         * reused): only a new browser login helps, so say that first. (A bad client id or
         * secret keeps the core's own advice.) */
        char why[ISF_ERROR_MESSAGE_MAX];
        snprintf(why, sizeof(why), "%s", err->message);
        h->error_set(h, err, ISF_E_AUTH,
                     "org %s needs a new login: run isyncsf org connect %s (%s)", org->name,
                     org->name, why);
    }
    return rc;
}

int ws_refresh_request(void *instance, const struct isf_org_view *org,
                       struct isf_token_request *req, struct isf_error *err)
{
    struct ws_instance *ws = instance;
    struct ws_client c = {0};
    int rc = need_refresh_token(ws, org, err);
    if (rc != ISF_OK)
        return rc;
    if (ws->mode->client(ws, org, &c, err) != ISF_OK)
        return ISF_E_UNSUPPORTED; /* refresh says why, with the right code */
    req->form[0] = "grant_type";
    req->form[1] = "refresh_token";
    req->form[2] = "refresh_token";
    req->form[3] = org->refresh_token;
    req->form[4] = NULL;
    req->form[5] = NULL;
    req->client_id = c.client_id;
    req->client_secret = c.client_secret;
    return ISF_OK;
}

int ws_revoke(void *instance, const struct isf_org_view *org, struct isf_error *err)
{
    struct ws_instance *ws = instance;
    /* Revoking the refresh token revokes the access tokens issued from it (salesforce-api.md). */
    const char *token = org->refresh_token ? org->refresh_token : org->access_token;
    if (!token)
        return ISF_OK;
    return ws->host->oauth_revoke(ws->host, org, token, err);
}
