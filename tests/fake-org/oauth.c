/* The OAuth endpoints under /services/oauth2/ and the identity URL, with Salesforce's shapes:
 * errors are {"error","error_description"}, token answers carry issued_at as a string and no
 * expires_in. */
#include "fake_org.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NO_STORE "no-cache,must-revalidate,max-age=0,no-store,private"

enum client_check {
    CLIENT_OK,
    CLIENT_MISSING_ID,
    CLIENT_MISSING_SECRET,
    CLIENT_UNKNOWN_ID,
    CLIENT_BAD_SECRET,
};

/* The parameters of one OAuth request, taken from the form body (and the Basic header). */
struct oauth_params {
    char *client_id;
    char *client_secret;
};

static void params_free(struct oauth_params *p)
{
    free(p->client_id);
    fo_wipe_free(p->client_secret);
}

static char *form(const struct fo_request *req, const char *name)
{
    return fo_form_get(req->body, req->body_len, name);
}

static enum MHD_Result oauth_error(struct fo_request *req, unsigned status, const char *error,
                                   const char *description)
{
    return fo_reply_json_hdr(
        req, status, json_pack("{s:s, s:s}", "error", error, "error_description", description),
        "Cache-Control", NO_STORE);
}

static bool is_form(const struct fo_request *req)
{
    const char *ct = fo_header(req, MHD_HTTP_HEADER_CONTENT_TYPE);

    return ct && fo_starts_with_ci(ct, "application/x-www-form-urlencoded");
}

/* Client authentication, by `Authorization: Basic` or client_id/client_secret in the body. A
 * missing secret is fine for public clients (web server flow with PKCE) unless required. */
static enum client_check check_client(struct fo_server *srv, const struct fo_request *req,
                                      bool secret_required, int *client)
{
    struct oauth_params p = {0};
    enum client_check rc = CLIENT_UNKNOWN_ID;

    if (!fo_basic_auth(fo_header(req, MHD_HTTP_HEADER_AUTHORIZATION), &p.client_id,
                       &p.client_secret)) {
        p.client_id = form(req, "client_id");
        p.client_secret = form(req, "client_secret");
    }
    if (!p.client_id || !*p.client_id) {
        rc = CLIENT_MISSING_ID;
        goto out;
    }
    for (int i = 0; i < srv->nclients; i++) {
        const char *want = srv->clients[i].secret;
        if (strcmp(srv->clients[i].id, p.client_id) != 0)
            continue;
        *client = i;
        if (!p.client_secret || !*p.client_secret)
            rc = secret_required ? CLIENT_MISSING_SECRET : CLIENT_OK;
        else if (strlen(want) == strlen(p.client_secret) &&
                 CRYPTO_memcmp(want, p.client_secret, strlen(want)) == 0)
            rc = CLIENT_OK;
        else
            rc = CLIENT_BAD_SECRET;
        goto out;
    }
out:
    params_free(&p);
    return rc;
}

static enum MHD_Result client_error(struct fo_request *req, enum client_check rc)
{
    switch (rc) {
    case CLIENT_MISSING_ID:
        return oauth_error(req, 400, "invalid_request", "missing client_id");
    case CLIENT_MISSING_SECRET:
        return oauth_error(req, 400, "invalid_request", "missing client_secret");
    case CLIENT_UNKNOWN_ID:
        return oauth_error(req, 400, "invalid_client_id", "client identifier invalid");
    case CLIENT_BAD_SECRET:
    case CLIENT_OK:
        break;
    }
    return oauth_error(req, 400, "invalid_client", "invalid client credentials");
}

static void id_url(const struct fo_server *srv, char *out, size_t size)
{
    snprintf(out, size, "%s/id/%s/%s", srv->base_url, srv->org_id, srv->user_id);
}

/* The 200 answer of every grant; refresh may be NULL (client credentials, refresh without
 * rotation). */
static enum MHD_Result reply_tokens(struct fo_server *srv, struct fo_request *req,
                                    const char *access, const char *refresh, const char *scope)
{
    struct fo_knobs knobs;
    char issued_at[32];
    char id[160];
    char *signature;
    json_t *obj;

    fo_state_knobs(srv, &knobs);
    fo_state_count(srv, &srv->counters.token_grants);
    snprintf(issued_at, sizeof(issued_at), "%lld",
             (long long)(knobs.issued_at_seconds ? fo_now_ms() / 1000 : fo_now_ms()));
    id_url(srv, id, sizeof(id));
    signature = fo_hmac_signature(srv->sign_key, id, issued_at);
    obj = json_pack("{s:s, s:s*, s:s, s:s, s:s, s:s, s:s, s:s}", "access_token", access,
                    "refresh_token", refresh, "signature", signature ? signature : "", "scope",
                    scope, "instance_url", srv->base_url, "id", id, "token_type", "Bearer",
                    "issued_at", issued_at);
    free(signature);
    return fo_reply_json_hdr(req, 200, obj, "Cache-Control", NO_STORE);
}

static enum MHD_Result grant_client_credentials(struct fo_server *srv, struct fo_request *req)
{
    char access[FO_TOKEN_MAX];
    enum client_check cc;
    int client = -1;

    cc = check_client(srv, req, true, &client);
    if (cc != CLIENT_OK)
        return client_error(req, cc);
    if (fo_state_issue(srv, FO_TOKEN_ACCESS, client, 0, "api", NULL, NULL, access, sizeof(access),
                       NULL) != 0)
        return oauth_error(req, 500, "server_error", "could not issue a token");
    return reply_tokens(srv, req, access, NULL, "api");
}

/* RFC 7523 as Salesforce runs it: the signed assertion authenticates the client; no secret, no
 * refresh token. */
static enum MHD_Result grant_jwt_bearer(struct fo_server *srv, struct fo_request *req)
{
    char access[FO_TOKEN_MAX];
    char *assertion = form(req, "assertion");
    const char *desc;
    enum MHD_Result rc;
    int client = -1;

    if (!assertion || !*assertion) {
        rc = oauth_error(req, 400, "invalid_request", "missing assertion");
        goto out;
    }
    desc = fo_jwt_check(srv, assertion, &client);
    if (desc)
        rc = oauth_error(req, 400, "invalid_grant", desc);
    else if (fo_state_issue(srv, FO_TOKEN_ACCESS, client, 0, "api", NULL, NULL, access,
                            sizeof(access), NULL) != 0)
        rc = oauth_error(req, 500, "server_error", "could not issue a token");
    else
        rc = reply_tokens(srv, req, access, NULL, "api");
out:
    fo_wipe_free(assertion);
    return rc;
}

static bool scope_has(const char *scope, const char *word)
{
    size_t n = strlen(word);

    for (const char *p = scope; (p = strstr(p, word)); p += n) {
        if ((p == scope || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' '))
            return true;
    }
    return false;
}

static enum MHD_Result grant_refresh_token(struct fo_server *srv, struct fo_request *req)
{
    char access[FO_TOKEN_MAX], refresh[FO_TOKEN_MAX], scope[256];
    struct fo_knobs knobs;
    uint64_t family = 0;
    enum client_check cc;
    enum MHD_Result rc;
    int client = -1;
    char *rt = NULL;

    fo_state_knobs(srv, &knobs);
    cc = check_client(srv, req, knobs.require_secret, &client);
    if (cc != CLIENT_OK)
        return client_error(req, cc);
    rt = form(req, "refresh_token");
    if (!rt || !*rt) {
        rc = oauth_error(req, 400, "invalid_request", "missing refresh_token");
        goto out;
    }
    if (fo_state_use_refresh(srv, rt, client, knobs.rotate_refresh, &family, scope,
                             sizeof(scope)) != FO_REFRESH_OK) {
        rc = oauth_error(req, 400, "invalid_grant", "expired access/refresh token");
        goto out;
    }
    if ((knobs.rotate_refresh && fo_state_issue(srv, FO_TOKEN_REFRESH, client, family, scope, NULL,
                                                NULL, refresh, sizeof(refresh), NULL) != 0) ||
        fo_state_issue(srv, FO_TOKEN_ACCESS, client, family, scope, NULL, NULL, access,
                       sizeof(access), NULL) != 0) {
        rc = oauth_error(req, 500, "server_error", "could not issue a token");
        goto out;
    }
    rc = reply_tokens(srv, req, access, knobs.rotate_refresh ? refresh : NULL, scope);
out:
    fo_wipe_free(rt);
    return rc;
}

static enum MHD_Result code_error(struct fo_request *req, enum fo_code_result rc)
{
    switch (rc) {
    case FO_CODE_EXPIRED:
        return oauth_error(req, 400, "invalid_grant", "expired authorization code");
    case FO_CODE_REDIRECT_MISMATCH:
        return oauth_error(req, 400, "redirect_uri_mismatch",
                           "redirect_uri must match configuration");
    case FO_CODE_VERIFIER_MISSING:
        return oauth_error(req, 400, "invalid_grant", "invalid code verifier");
    case FO_CODE_VERIFIER_MISMATCH:
        return oauth_error(req, 400, "invalid_request", "invalid code verifier");
    case FO_CODE_INVALID:
    case FO_CODE_WRONG_CLIENT:
    case FO_CODE_OK:
        break;
    }
    return oauth_error(req, 400, "invalid_grant", "invalid authorization code");
}

/* Issues the refresh token (when the scope asks for one) and the access token of a new family. */
static enum MHD_Result issue_code_tokens(struct fo_server *srv, struct fo_request *req, int client,
                                         const char *scope)
{
    char access[FO_TOKEN_MAX], refresh[FO_TOKEN_MAX];
    bool want_refresh = scope_has(scope, "refresh_token") || scope_has(scope, "offline_access");
    uint64_t family = fo_state_new_family(srv);

    if ((want_refresh && fo_state_issue(srv, FO_TOKEN_REFRESH, client, family, scope, NULL, NULL,
                                        refresh, sizeof(refresh), NULL) != 0) ||
        fo_state_issue(srv, FO_TOKEN_ACCESS, client, family, scope, NULL, NULL, access,
                       sizeof(access), NULL) != 0)
        return oauth_error(req, 500, "server_error", "could not issue a token");
    return reply_tokens(srv, req, access, want_refresh ? refresh : NULL, scope);
}

static enum MHD_Result grant_authorization_code(struct fo_server *srv, struct fo_request *req)
{
    char *code = NULL, *redirect_uri = NULL, *verifier = NULL;
    struct fo_knobs knobs;
    enum fo_code_result cr;
    enum client_check cc;
    enum MHD_Result rc;
    char scope[256];
    int client = -1;

    fo_state_knobs(srv, &knobs);
    cc = check_client(srv, req, knobs.require_secret, &client);
    if (cc != CLIENT_OK)
        return client_error(req, cc);
    code = form(req, "code");
    redirect_uri = form(req, "redirect_uri");
    verifier = form(req, "code_verifier");
    if (!code || !*code || !redirect_uri) {
        rc = oauth_error(req, 400, "invalid_request", "missing code or redirect_uri");
        goto out;
    }
    cr = fo_state_use_code(srv, code, client, redirect_uri, verifier, scope, sizeof(scope));
    if (cr == FO_CODE_OK)
        fo_state_count(srv, &srv->counters.codes_redeemed);
    rc = cr == FO_CODE_OK ? issue_code_tokens(srv, req, client, scope) : code_error(req, cr);
out:
    fo_wipe_free(code);
    free(redirect_uri);
    fo_wipe_free(verifier);
    return rc;
}

enum MHD_Result fo_oauth_token(struct fo_server *srv, struct fo_request *req)
{
    enum MHD_Result rc;
    char *grant;

    if (!is_form(req))
        return oauth_error(req, 400, "invalid_request",
                           "Content-Type must be application/x-www-form-urlencoded");
    grant = form(req, "grant_type");
    if (!grant || !*grant)
        rc = oauth_error(req, 400, "invalid_request", "missing grant_type");
    else if (strcmp(grant, "client_credentials") == 0)
        rc = grant_client_credentials(srv, req);
    else if (strcmp(grant, "refresh_token") == 0)
        rc = grant_refresh_token(srv, req);
    else if (strcmp(grant, "authorization_code") == 0)
        rc = grant_authorization_code(srv, req);
    else if (strcmp(grant, "urn:ietf:params:oauth:grant-type:jwt-bearer") == 0)
        rc = grant_jwt_bearer(srv, req);
    else
        rc = oauth_error(req, 400, "unsupported_grant_type", "grant type not supported");
    free(grant);
    return rc;
}

enum MHD_Result fo_oauth_revoke(struct fo_server *srv, struct fo_request *req)
{
    char *token = form(req, "token");
    bool ok = token && *token && fo_state_revoke(srv, token);

    fo_wipe_free(token);
    if (!ok)
        return oauth_error(req, 400, "invalid_token", "Token was invalid");
    return fo_reply(req, 200, NULL, "", 0, "Cache-Control", NO_STORE);
}

/* A token only introspects as active for the client it was issued to. */
static bool introspect_lookup(struct fo_server *srv, const char *token, const char *hint,
                              int client, struct fo_token_info *info)
{
    bool refresh_first = hint && strcmp(hint, "refresh_token") == 0;
    enum fo_token_kind first = refresh_first ? FO_TOKEN_REFRESH : FO_TOKEN_ACCESS;
    enum fo_token_kind second = refresh_first ? FO_TOKEN_ACCESS : FO_TOKEN_REFRESH;

    if (!fo_state_lookup(srv, token, first, info) && !fo_state_lookup(srv, token, second, info))
        return false;
    return info->client == client;
}

static json_t *introspection(struct fo_server *srv, const struct fo_token_info *info)
{
    struct fo_knobs knobs;
    char sub[160];
    json_t *obj;

    fo_state_knobs(srv, &knobs);
    id_url(srv, sub, sizeof(sub));
    obj = json_pack("{s:b, s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "active", 1, "scope", info->scope,
                    "client_id", srv->clients[info->client].id, "username", knobs.username, "sub",
                    sub, "token_type",
                    info->kind == FO_TOKEN_ACCESS ? "access_token" : "refresh_token", "iat",
                    (json_int_t)info->issued_at, "nbf", (json_int_t)info->issued_at);
    if (obj && info->expires_at)
        json_object_set_new(obj, "exp", json_integer((json_int_t)info->expires_at));
    return obj;
}

enum MHD_Result fo_oauth_introspect(struct fo_server *srv, struct fo_request *req)
{
    struct fo_token_info info;
    char *token = NULL, *hint = NULL;
    enum MHD_Result rc;
    int client = -1;

    if (check_client(srv, req, true, &client) != CLIENT_OK)
        return oauth_error(req, 401, "invalid_client", "invalid client credentials");
    token = form(req, "token");
    hint = form(req, "token_type_hint");
    if (!token || !*token)
        rc = oauth_error(req, 400, "invalid_request", "missing token");
    else if (introspect_lookup(srv, token, hint, client, &info))
        rc = fo_reply_json(req, 200, introspection(srv, &info));
    else
        rc = fo_reply_json(req, 200, json_pack("{s:b}", "active", 0));
    fo_wipe_free(token);
    free(hint);
    return rc;
}

/* The `urls` map of userinfo and the identity URL; {version} stays literal unless asked for. */
static json_t *identity_urls(const struct fo_server *srv, const char *version)
{
    const char *v = version && *version ? version : "{version}";
    const char *b = srv->base_url;
    char org15[16], user15[16];
    char u[17][256];

    snprintf(org15, sizeof(org15), "%.15s", srv->org_id);
    snprintf(user15, sizeof(user15), "%.15s", srv->user_id);
    snprintf(u[0], sizeof(u[0]), "%s/services/Soap/c/%s/%s", b, v, org15);
    snprintf(u[1], sizeof(u[1]), "%s/services/Soap/m/%s/%s", b, v, org15);
    snprintf(u[2], sizeof(u[2]), "%s/services/Soap/u/%s/%s", b, v, org15);
    snprintf(u[3], sizeof(u[3]), "%s/services/data/v%s/", b, v);
    snprintf(u[4], sizeof(u[4]), "%s/services/data/v%s/sobjects/", b, v);
    snprintf(u[5], sizeof(u[5]), "%s/services/data/v%s/search/", b, v);
    snprintf(u[6], sizeof(u[6]), "%s/services/data/v%s/query/", b, v);
    snprintf(u[7], sizeof(u[7]), "%s/services/data/v%s/recent/", b, v);
    snprintf(u[8], sizeof(u[8]), "%s/services/Soap/T/%s/%s", b, v, org15);
    snprintf(u[9], sizeof(u[9]), "%s/services/data/v%s/tooling/", b, v);
    snprintf(u[10], sizeof(u[10]), "%s/%s", b, user15);
    snprintf(u[11], sizeof(u[11]), "%s/services/data/v%s/chatter/feeds", b, v);
    snprintf(u[12], sizeof(u[12]), "%s/services/data/v%s/chatter/groups", b, v);
    snprintf(u[13], sizeof(u[13]), "%s/services/data/v%s/chatter/users", b, v);
    snprintf(u[14], sizeof(u[14]), "%s/services/data/v%s/chatter/feed-items", b, v);
    snprintf(u[15], sizeof(u[15]), "%s/services/data/v%s/chatter/feed-elements", b, v);
    snprintf(u[16], sizeof(u[16]), "%s", b);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, "
                     "s:s, s:s}",
                     "enterprise", u[0], "metadata", u[1], "partner", u[2], "rest", u[3],
                     "sobjects", u[4], "search", u[5], "query", u[6], "recent", u[7],
                     "tooling_soap", u[8], "tooling_rest", u[9], "profile", u[10], "feeds", u[11],
                     "groups", u[12], "users", u[13], "feed_items", u[14], "feed_elements", u[15],
                     "custom_domain", u[16]);
}

static json_t *photos(const struct fo_server *srv)
{
    char pic[128], thumb[128];

    snprintf(pic, sizeof(pic), "%s/profilephoto/005/F", srv->base_url);
    snprintf(thumb, sizeof(thumb), "%s/profilephoto/005/T", srv->base_url);
    return json_pack("{s:s, s:s}", "picture", pic, "thumbnail", thumb);
}

enum MHD_Result fo_oauth_userinfo(struct fo_server *srv, struct fo_request *req)
{
    struct fo_knobs knobs;
    char sub[160];

    if (!fo_bearer_ok(srv, req))
        return fo_reply_invalid_session(req);
    fo_state_knobs(srv, &knobs);
    id_url(srv, sub, sizeof(sub));
    return fo_reply_json(
        req, 200,
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:s, s:s, s:s, s:o, s:b, s:o, s:b, "
                  "s:s, s:s, s:s, s:i, s:s, s:b}",
                  "sub", sub, "user_id", srv->user_id, "organization_id", srv->org_id,
                  "preferred_username", knobs.username, "nickname", "integration", "name",
                  "Integration User", "email", knobs.username, "email_verified", 1, "given_name",
                  "Integration", "family_name", "User", "zoneinfo", "America/Los_Angeles", "photos",
                  photos(srv), "is_salesforce_integration_user", 1, "urls",
                  identity_urls(srv, fo_query_arg(req, "version")), "active", 1, "user_type",
                  "STANDARD", "language", "en_US", "locale", "en_US", "utcOffset", -28800000,
                  "updated_at", "2026-01-01T00:00:00Z", "is_app_installed", 1));
}

/* GET /id/<orgId>/<userId>: the identity URL of the token's user. */
enum MHD_Result fo_identity(struct fo_server *srv, struct fo_request *req)
{
    struct fo_knobs knobs;
    char self[160];

    snprintf(self, sizeof(self), "/id/%s/%s", srv->org_id, srv->user_id);
    if (strcmp(req->url, self) != 0)
        return fo_reply_rest_error(req, 404, "NOT_FOUND", "The requested resource does not exist");
    if (!fo_bearer_ok(srv, req))
        return fo_reply_invalid_session(req);
    fo_state_knobs(srv, &knobs);
    id_url(srv, self, sizeof(self));
    return fo_reply_json(
        req, 200,
        json_pack("{s:s, s:b, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:b, s:s, s:s, s:s, s:i, "
                  "s:s, s:b}",
                  "id", self, "asserted_user", 1, "user_id", srv->user_id, "organization_id",
                  srv->org_id, "username", knobs.username, "nick_name", "integration",
                  "display_name", "Integration User", "email", knobs.username, "photos",
                  photos(srv), "urls", identity_urls(srv, fo_query_arg(req, "version")), "active",
                  1, "user_type", "STANDARD", "language", "en_US", "locale", "en_US", "utcOffset",
                  -28800000, "last_modified_date", "2026-01-01T00:00:00.000+0000",
                  "is_app_installed", 1));
}
