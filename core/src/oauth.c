/* OAuth 2.0 token endpoint and revocation. */
#include "oauth.h"

#include "http.h"
#include <ctype.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

void isf_session_clear(struct isf_session *s)
{
    if (!s)
        return;
    isf_free_secret(s->access_token);
    isf_free_secret(s->refresh_token);
    free(s->instance_url);
    free(s->id_url);
    free(s->scope);
    memset(s, 0, sizeof(*s));
}

int isf_oauth_parse_issued_at(const json_t *v, int64_t *ms)
{
    long long n;
    if (json_is_integer(v)) {
        n = json_integer_value(v);
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        if (!*s || !isdigit((unsigned char)*s) || strlen(s) > 15)
            return -1;
        n = strtoll(s, &end, 10);
        if (*end)
            return -1;
    } else {
        return -1;
    }
    /* Salesforce documents seconds but sends 13-digit milliseconds. Seconds cover 2001..5138,
     * milliseconds 1973..5138; anything outside is not a time Salesforce sends. */
    static const long long min_s = 1000000000LL, max_ms = 99999999999999LL;
    if (n < min_s || n > max_ms)
        return -1;
    *ms = n >= 100000000000LL ? n : n * 1000;
    return 0;
}

/* Which OAuth error codes mean "a person must act" (exit 4) rather than "try again" (exit 5). */
static int oauth_error_status(const char *code, long http_status)
{
    static const char *const transient[] = {"rate_limit_exceeded", "temporarily_unavailable",
                                            "server_error", NULL};
    for (const char *const *t = transient; *t; t++)
        if (strcmp(code, *t) == 0)
            return ISF_E_TRANSIENT;
    if (http_status >= 500)
        return ISF_E_TRANSIENT;
    return ISF_E_AUTH;
}

static const char *auth_hint(const char *code)
{
    if (strcmp(code, "invalid_client") == 0 || strcmp(code, "invalid_client_id") == 0)
        return "check the client id and secret of the External Client App "
               "(isyncsf org edit NAME --client-id ... --client-secret-stdin)";
    if (strcmp(code, "invalid_grant") == 0)
        return "the authorization is no longer valid; reconnect with isyncsf org connect NAME "
               "(client credentials: use the org's My Domain URL and set a Run As user)";
    if (strcmp(code, "unsupported_grant_type") == 0)
        return "enable this OAuth flow on the app, and use the org's My Domain URL";
    return "check the app's OAuth settings in the org";
}

/* Whether the first len bytes of buf hold needle: the body is length-delimited (strstr could
 * read past it when it is not NUL-terminated). */
static int bytes_contain(const char *buf, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; n <= len && i <= len - n; i++)
        if (memcmp(buf + i, needle, n) == 0)
            return 1;
    return 0;
}

int isf_oauth_parse_token_response(long status, const char *body, size_t len, int64_t now_ms,
                                   int64_t session_ttl_ms, struct isf_session *out,
                                   struct isf_error *err)
{
    int rc = ISF_OK;
    json_error_t jerr;
    int nomem = 0;
    json_t *root = isf_json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, &jerr, &nomem);
    memset(out, 0, sizeof(*out));
    if (nomem) {
        rc = isf_err_set(err, ISF_E_NOMEM, "out of memory reading the token response");
        goto done;
    }
    if (status >= 500 || status == 429) {
        rc = isf_err_set(err, ISF_E_TRANSIENT,
                         "the token endpoint answered HTTP %ld; try again later", status);
        goto done;
    }
    if (status == 403 && body && bytes_contain(body, len, "REQUEST_LIMIT_EXCEEDED")) {
        rc = isf_err_set(err, ISF_E_TRANSIENT,
                         "the org's API request limit is exceeded (HTTP 403 "
                         "REQUEST_LIMIT_EXCEEDED); try again later");
        goto done;
    }
    if (!json_is_object(root)) {
        rc = isf_err_set(err, ISF_E_TRANSIENT,
                         "the token endpoint answered HTTP %ld with something that is not a JSON "
                         "object; is the login URL a Salesforce org?",
                         status);
        goto done;
    }
    const char *error = json_string_value(json_object_get(root, "error"));
    if (status != 200 || error) {
        const char *desc = json_string_value(json_object_get(root, "error_description"));
        if (!error) {
            rc = isf_err_set(err, ISF_E_TRANSIENT,
                             "the token endpoint answered HTTP %ld without an OAuth error", status);
            goto done;
        }
        rc = oauth_error_status(error, status);
        isf_err_set(err, rc, "Salesforce refused the token request: %s (%s); %s", error,
                    desc ? desc : "no description",
                    rc == ISF_E_AUTH ? auth_hint(error) : "try again later");
        goto done;
    }
    const char *access = json_string_value(json_object_get(root, "access_token"));
    const char *instance = json_string_value(json_object_get(root, "instance_url"));
    if (!access || !*access || !instance || strncmp(instance, "https://", 8) != 0) {
        rc = isf_err_set(err, ISF_E_TRANSIENT,
                         "the token response lacks access_token or an https instance_url; "
                         "is the login URL a Salesforce org?");
        goto done;
    }
    int64_t issued = 0;
    json_t *ia = json_object_get(root, "issued_at");
    if (!ia || isf_oauth_parse_issued_at(ia, &issued) != 0)
        issued = now_ms;
    out->access_token = strdup(access);
    out->instance_url = strdup(instance);
    out->refresh_token = isf_strdup(json_string_value(json_object_get(root, "refresh_token")));
    out->id_url = isf_strdup(json_string_value(json_object_get(root, "id")));
    out->scope = isf_strdup(json_string_value(json_object_get(root, "scope")));
    out->issued_at_ms = issued;
    /* Salesforce sends no expires_in; honour it if a stricter server does. A lifetime beyond a
     * year is capped there: it is no real session's, and unbounded it overflowed the
     * arithmetic below (found by fuzz_token_response). */
    json_t *exp = json_object_get(root, "expires_in");
    static const json_int_t max_expires_in_s = 365LL * 24 * 3600;
    if (json_is_integer(exp) && json_integer_value(exp) > 0)
        out->expires_at_ms =
            issued + (json_integer_value(exp) < max_expires_in_s ? json_integer_value(exp)
                                                                 : max_expires_in_s) *
                         1000;
    else
        out->expires_at_ms = issued + session_ttl_ms;
    if (!out->access_token || !out->instance_url) {
        isf_session_clear(out);
        rc = isf_err_set(err, ISF_E_NOMEM, "out of memory");
    }
done:
    if (root) {
        /* Wipe token strings inside the parsed tree before freeing it. */
        const char *k;
        json_t *v;
        json_object_foreach(root, k, v)
        {
            if (json_is_string(v))
                isf_wipe((void *)json_string_value(v), json_string_length(v));
        }
        json_decref(root);
    }
    return rc;
}

static char *basic_auth_header(const char *id, const char *secret)
{
    /* RFC 6749 §2.3.1: both parts form-urlencoded before base64. */
    char *eid = isf_url_escape(id), *esec = isf_url_escape(secret);
    char *pair = (eid && esec) ? isf_aprintf("%s:%s", eid, esec) : NULL;
    char *hdr = NULL;
    if (pair) {
        size_t n = strlen(pair);
        size_t b64len = 4 * ((n + 2) / 3) + 1;
        hdr = malloc(b64len + 32);
        if (hdr) {
            int off = snprintf(hdr, 32, "Authorization: Basic ");
            EVP_EncodeBlock((unsigned char *)hdr + off, (const unsigned char *)pair, (int)n);
        }
    }
    free(eid);
    isf_free_secret(esec);
    isf_free_secret(pair);
    return hdr;
}

static char *endpoint(const char *base, const char *path)
{
    size_t n = strlen(base);
    while (n && base[n - 1] == '/')
        n--;
    return isf_aprintf("%.*s%s", (int)n, base, path);
}

int isf_oauth_build_request(const struct isf_config *cfg, const char *login_url, const char *path,
                            const char *const *form, const char *client_id,
                            const char *client_secret, struct isf_oauth_request *out,
                            struct isf_error *err)
{
    memset(out, 0, sizeof(*out));
    int use_basic =
        cfg->client_auth && strcmp(cfg->client_auth, "basic") == 0 && client_id && client_secret;
    const char *pairs[2 * ISF_OAUTH_MAX_PAIRS + 6];
    size_t n = 0;
    for (const char *const *p = form; p[0] && p[1] && n < 2 * ISF_OAUTH_MAX_PAIRS; p += 2) {
        pairs[n++] = p[0];
        pairs[n++] = p[1];
    }
    if (!use_basic && client_id) {
        pairs[n++] = "client_id";
        pairs[n++] = client_id;
        if (client_secret) {
            pairs[n++] = "client_secret";
            pairs[n++] = client_secret;
        }
    }
    pairs[n] = pairs[n + 1] = NULL;
    out->url = endpoint(login_url, path);
    out->body = isf_form_encode(pairs);
    out->auth = use_basic ? basic_auth_header(client_id, client_secret) : NULL;
    if (!out->url || !out->body || (use_basic && !out->auth)) {
        isf_oauth_request_clear(out);
        return isf_err_set(err, ISF_E_NOMEM, "out of memory");
    }
    out->headers[0] = "Content-Type: application/x-www-form-urlencoded";
    out->headers[1] = "Accept: application/json";
    out->headers[2] = out->auth;
    out->headers[3] = NULL;
    struct isf_http_request req = {sizeof(req),       "POST", out->url, out->headers, out->body,
                                   strlen(out->body), 1};
    out->req = req;
    return ISF_OK;
}

void isf_oauth_request_clear(struct isf_oauth_request *r)
{
    free(r->url);
    isf_free_secret(r->body);
    isf_free_secret(r->auth);
    memset(r, 0, sizeof(*r));
}

int isf_oauth_token(struct isf_ctx *ctx, const struct isf_org_view *org, const char *const *form,
                    struct isf_session *out, struct isf_error *err)
{
    struct isf_oauth_request r;
    int rc = isf_oauth_build_request(ctx->cfg, org->login_url, "/services/oauth2/token", form,
                                     org->client_id, org->client_secret, &r, err);
    if (rc != ISF_OK)
        return rc;
    struct isf_http_response resp;
    rc = isf_http_request(ctx, &r.req, &resp, err);
    if (rc == ISF_OK) {
        rc = isf_oauth_parse_token_response(resp.status, resp.body, resp.body_len, isf_now_ms(),
                                            ctx->cfg->refresh_session_ttl_s * 1000, out, err);
        isf_http_response_clear(&resp);
    }
    if (rc != ISF_OK)
        isf_err_prefix(err, "org %s", org->name);
    isf_oauth_request_clear(&r);
    return rc;
}

int isf_oauth_parse_introspection(long status, const char *body, size_t len, int64_t *exp_ms,
                                  struct isf_error *err)
{
    *exp_ms = 0;
    if (status != 200)
        return isf_err_set(err, status >= 500 || status == 429 ? ISF_E_TRANSIENT : ISF_E_FAILED,
                           "the introspection endpoint answered HTTP %ld", status);
    json_error_t jerr;
    json_t *root = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, &jerr);
    json_t *exp = json_object_get(root, "exp");
    int rc = ISF_OK;
    if (!json_is_true(json_object_get(root, "active")))
        rc = isf_err_set(err, ISF_E_FAILED, "introspection says the new token is not active");
    else if (!json_is_integer(exp) || json_integer_value(exp) <= 0)
        rc = isf_err_set(err, ISF_E_FAILED, "the introspection answer has no exp");
    else
        *exp_ms = (int64_t)json_integer_value(exp) * 1000;
    json_decref(root);
    return rc;
}

/* Revocation errors may come as JSON or as a urlencoded body (jsforce parses them so). */
/* Returns 1 when out of memory kept the answer from being read. */
static int revoke_error_code(const char *body, char *code, size_t len)
{
    code[0] = '\0';
    int nomem = 0;
    json_t *root = isf_json_loadb(body ? body : "", body ? strlen(body) : 0, 0, NULL, &nomem);
    const char *e = json_string_value(json_object_get(root, "error"));
    if (e) {
        snprintf(code, len, "%s", e);
    } else if (body && (e = strstr(body, "error=")) != NULL) {
        snprintf(code, len, "%.*s", (int)strcspn(e + 6, "&"), e + 6);
    }
    json_decref(root);
    return nomem;
}

int isf_oauth_revoke(struct isf_ctx *ctx, const struct isf_org_view *org, const char *token,
                     struct isf_error *err)
{
    const char *base = org->instance_url ? org->instance_url : org->login_url;
    char *url = endpoint(base, "/services/oauth2/revoke");
    const char *pairs[] = {"token", token, NULL, NULL};
    char *body = isf_form_encode(pairs);
    int rc;
    if (!url || !body) {
        rc = isf_err_set(err, ISF_E_NOMEM, "out of memory");
        goto done;
    }
    const char *headers[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    struct isf_http_request req = {sizeof(req), "POST", url, headers, body, strlen(body), 1};
    struct isf_http_response resp;
    rc = isf_http_request(ctx, &req, &resp, err);
    if (rc != ISF_OK)
        goto done;
    char code[64];
    if (revoke_error_code(resp.body, code, sizeof(code))) {
        rc = isf_err_set(err, ISF_E_NOMEM, "out of memory reading the revocation answer");
    } else if (resp.status == 200) {
        rc = ISF_OK;
    } else if (resp.status == 400 && strcmp(code, "invalid_token") == 0) {
        /* Already revoked or expired: the goal (a dead token) holds. */
        isf_log(ctx, ISF_LOG_INFO, "org %s: token was already invalid at the org", org->name);
        rc = ISF_OK;
    } else if (resp.status >= 500 || resp.status == 429) {
        rc = isf_err_set(err, ISF_E_TRANSIENT,
                         "org %s: revocation answered HTTP %ld; nothing was changed locally; "
                         "try again, or use --local-only",
                         org->name, resp.status);
    } else {
        rc = isf_err_set(err, ISF_E_FAILED,
                         "org %s: revocation refused (HTTP %ld%s%s); nothing was changed locally; "
                         "use --local-only to forget the tokens anyway",
                         org->name, resp.status, code[0] ? ", " : "", code);
    }
    isf_http_response_clear(&resp);
done:
    free(url);
    isf_free_secret(body);
    return rc;
}
