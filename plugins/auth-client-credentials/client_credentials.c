/*
 * auth-client-credentials: OAuth 2.0 Client Credentials with an External Client App
 * (salesforce-api.md §1). Server to server, no person: a session is obtained by running the grant
 * against the org's My Domain, and "refreshing" is simply running it again. There is no refresh
 * token; revocation revokes the current access token.
 */
#include <isyncsf/plugin.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

struct cc_instance {
    const struct isf_host *host;
};

static const struct isf_option_spec cc_options[] = {
    {NULL, 0, NULL, 0, NULL},
};

static int cc_create(const struct isf_host *host, const struct isf_opts *opts, void **instance,
                     struct isf_error *err)
{
    (void)opts;
    struct cc_instance *cc = host->alloc(host, sizeof(*cc));
    if (!cc)
        return host->error_set(host, err, ISF_E_NOMEM, "out of memory");
    cc->host = host;
    *instance = cc;
    return ISF_OK;
}

static void cc_destroy(void *instance)
{
    struct cc_instance *cc = instance;
    if (cc)
        cc->host->free(cc->host, cc);
}

/* login.salesforce.com and test.salesforce.com refuse this grant ("request not supported on this
 * domain"): say so at `org add` rather than at the first connect. */
static int is_generic_login_host(const char *url)
{
    if (strncasecmp(url, "https://", 8) != 0)
        return 0; /* the core refuses non-https URLs itself */
    const char *host = url + strlen("https://");
    size_t n = strcspn(host, "/:?#");
    return (n == 20 && strncasecmp(host, "login.salesforce.com", n) == 0) ||
           (n == 19 && strncasecmp(host, "test.salesforce.com", n) == 0);
}

static int cc_check_settings(void *instance, const struct isf_org_settings_check *check,
                             struct isf_error *err)
{
    struct cc_instance *cc = instance;
    const struct isf_host *h = cc->host;
    const struct isf_org_view *org = check->org;
    if (!org->login_url)
        return h->error_set(h, err, ISF_E_USAGE,
                            "org %s: mode client-credentials needs --login-url (the org's My "
                            "Domain, e.g. https://acme.my.salesforce.com)",
                            org->name);
    if (is_generic_login_host(org->login_url))
        return h->error_set(h, err, ISF_E_USAGE,
                            "org %s: client credentials must use the org's My Domain URL, not "
                            "%s (Salesforce answers 'request not supported on this domain')",
                            org->name, org->login_url);
    if (!org->client_id)
        return h->error_set(h, err, ISF_E_USAGE,
                            "org %s: mode client-credentials needs --client-id (the External "
                            "Client App's consumer key)",
                            org->name);
    if (!check->has_client_secret)
        return h->error_set(h, err, ISF_E_USAGE,
                            "org %s: mode client-credentials needs a client secret: "
                            "--client-secret-stdin, --client-secret-env VAR or "
                            "--client-secret-file PATH",
                            org->name);
    return ISF_OK;
}

static int cc_grant(void *instance, const struct isf_org_view *org, struct isf_session *out,
                    struct isf_error *err)
{
    struct cc_instance *cc = instance;
    const struct isf_host *h = cc->host;
    if (!org->client_id || !org->client_secret)
        return h->error_set(h, err, ISF_E_AUTH,
                            "org %s has no client id or secret; set them with isyncsf org edit",
                            org->name);
    const char *form[] = {"grant_type", "client_credentials", NULL, NULL};
    return h->oauth_token(h, org, form, out, err);
}

/* ABI 1.2: the same grant, described for the refresh engine to run on its connection pool. */
static int cc_refresh_request(void *instance, const struct isf_org_view *org,
                              struct isf_token_request *req, struct isf_error *err)
{
    struct cc_instance *cc = instance;
    const struct isf_host *h = cc->host;
    if (!org->client_id || !org->client_secret)
        return h->error_set(h, err, ISF_E_AUTH,
                            "org %s has no client id or secret; set them with isyncsf org edit",
                            org->name);
    req->form[0] = "grant_type";
    req->form[1] = "client_credentials";
    req->form[2] = NULL;
    req->client_id = org->client_id;
    req->client_secret = org->client_secret;
    return ISF_OK;
}

static int cc_revoke(void *instance, const struct isf_org_view *org, struct isf_error *err)
{
    struct cc_instance *cc = instance;
    if (!org->access_token)
        return ISF_OK;
    return cc->host->oauth_revoke(cc->host, org, org->access_token, err);
}

static const struct isf_auth_ops cc_ops = {
    .struct_size = sizeof(struct isf_auth_ops),
    .create = cc_create,
    .destroy = cc_destroy,
    .check_settings = cc_check_settings,
    .connect = cc_grant,
    .refresh = cc_grant,
    .revoke = cc_revoke,
    .refresh_request = cc_refresh_request,
};

static const struct isf_plugin_descriptor cc_descriptor = {
    .struct_size = sizeof(struct isf_plugin_descriptor),
    .kind = ISF_PLUGIN_AUTH,
    .name = "auth-client-credentials",
    .version = "0.1.0",
    .description = "OAuth 2.0 client credentials with an External Client App (server to server)",
    .capabilities = ISF_CAP_REFRESHABLE | ISF_CAP_PER_ORG_SECRET | ISF_CAP_REVOCABLE,
    .options = cc_options,
    .ops = &cc_ops,
};

ISF_DEFINE_PLUGIN_ABI();

ISF_PLUGIN_EXPORT int isyncsf_plugin_init(const struct isf_host *host,
                                          const struct isf_plugin_descriptor **out,
                                          struct isf_error *err)
{
    /* Only ABI 1.0 host services are used: a 1.0 host (without exec_capture) is enough; a core
     * older than 1.2 copies only the ops it knows and never calls refresh_request. */
    if (!host || host->struct_size < offsetof(struct isf_host, session_set) + sizeof(void *)) {
        if (err)
            err->code = ISF_E_CONFIG;
        return ISF_E_CONFIG; /* a host older than ABI 1.0 cannot serve us */
    }
    *out = &cc_descriptor;
    return ISF_OK;
}
