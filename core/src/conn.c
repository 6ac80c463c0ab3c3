/* The single authenticated-call path. */
#include "conn.h"

#include "http.h"
#include "refresh.h"
#include "restparse.h"
#include <stdlib.h>
#include <string.h>

int isf_org_view_load(struct isf_ctx *ctx, const struct isf_org *o, int with_tokens,
                      struct isf_view_buf *vb, struct isf_error *err)
{
    memset(vb, 0, sizeof(*vb));
    int rc =
        isf_org_unseal(ctx, o, "client_secret", o->sealed_client_secret, &vb->client_secret, err);
    if (rc == ISF_OK && with_tokens)
        rc = isf_org_unseal(ctx, o, "access_token", o->sealed_access_token, &vb->access_token, err);
    if (rc == ISF_OK && with_tokens)
        rc = isf_org_unseal(ctx, o, "refresh_token", o->sealed_refresh_token, &vb->refresh_token,
                            err);
    if (rc != ISF_OK) {
        isf_org_view_clear(vb);
        return rc;
    }
    struct isf_org_view *v = &vb->view;
    v->struct_size = sizeof(*v);
    v->name = o->name;
    v->login_url = o->login_url;
    v->instance_url = o->instance_url;
    v->client_id = o->client_id;
    v->client_secret = vb->client_secret;
    v->redirect_uri = o->redirect_uri;
    v->scope = o->scope;
    v->named_credential = o->named_credential;
    v->access_token = vb->access_token;
    v->refresh_token = vb->refresh_token;
    return ISF_OK;
}

void isf_org_view_clear(struct isf_view_buf *vb)
{
    isf_free_secret(vb->client_secret);
    isf_free_secret(vb->access_token);
    isf_free_secret(vb->refresh_token);
    memset(vb, 0, sizeof(*vb));
}

/* The identity URL ends in /<org id>/<user id>: a free source of both. */
static void ids_from_id_url(struct isf_org *o, const char *id_url)
{
    const char *user = strrchr(id_url, '/');
    if (!user || user == id_url)
        return;
    const char *org = user - 1;
    while (org > id_url && *org != '/')
        org--;
    char *org_id = isf_aprintf("%.*s", (int)(user - org - 1), org + 1);
    if (org_id && strlen(org_id) >= 15 && !o->org_id)
        isf_org_set(&o->org_id, org_id);
    free(org_id);
    if (strlen(user + 1) >= 15)
        isf_org_set(&o->user_id, user + 1);
}

int isf_conn_apply_session(struct isf_conn *c, const struct isf_session *s, struct isf_error *err)
{
    struct isf_org *o = c->org;
    int rc = ISF_OK;
    int64_t expires_at =
        isf_refresh_apply_org_ttl(c->ctx->cfg, o, s->issued_at_ms, s->expires_at_ms);
    if (!c->no_token_store) {
        rc = isf_org_seal(c->ctx, o, "access_token", &o->sealed_access_token, s->access_token, err);
        if (rc == ISF_OK && s->refresh_token)
            rc = isf_org_seal(c->ctx, o, "refresh_token", &o->sealed_refresh_token,
                              s->refresh_token, err);
        if (rc != ISF_OK)
            return rc;
        o->token_issued_at = s->issued_at_ms;
        o->token_expires_at = expires_at;
        o->last_refreshed_at = isf_now_ms();
    }
    isf_free_secret(c->access_token);
    c->access_token = strdup(s->access_token);
    c->expires_at_ms = expires_at;
    if (!c->access_token || isf_org_set(&o->instance_url, s->instance_url))
        return isf_err_set(err, ISF_E_NOMEM, "out of memory");
    if (c->no_token_store)
        isf_heldtoken_put(c->ctx, o, c->access_token, c->expires_at_ms);
    if (s->id_url)
        ids_from_id_url(o, s->id_url);
    return ISF_OK;
}

int isf_conn_open(struct isf_ctx *ctx, struct isf_org *o, struct isf_conn *c, struct isf_error *err)
{
    memset(c, 0, sizeof(*c));
    c->ctx = ctx;
    c->org = o;
    int rc = isf_auth_plugin_for_mode(ctx, o->mode, &c->auth, err);
    if (rc != ISF_OK)
        return rc;
    c->no_token_store = (c->auth->desc.capabilities & ISF_CAP_NO_TOKEN_STORE) != 0;
    c->expires_at_ms = o->token_expires_at;
    if (c->no_token_store) {
        /* A token held from an earlier call of this process; if the org refuses it, it is
         * asked for again once (c->refreshed stays 0). */
        const struct isf_heldtoken *t = isf_heldtoken_get(ctx, o);
        if (t) {
            c->expires_at_ms = t->expires_at_ms;
            c->access_token = strdup(t->access_token);
            if (!c->access_token)
                return isf_err_set(err, ISF_E_NOMEM, "out of memory");
        }
        return ISF_OK;
    }
    return isf_org_unseal(ctx, o, "access_token", o->sealed_access_token, &c->access_token, err);
}

void isf_conn_close(struct isf_conn *c)
{
    isf_free_secret(c->access_token);
    c->access_token = NULL;
}

/* Ask the plugin for a session. `retry`: this replaces a session the org refused, so a second
 * refusal is final; the first session of a mode that keeps no token is not a retry. */
static int renew(struct isf_conn *c, int retry, struct isf_error *err)
{
    struct isf_view_buf vb;
    struct isf_session s = {0};
    int rc = isf_org_view_load(c->ctx, c->org, 1, &vb, err);
    if (rc != ISF_OK)
        return rc;
    rc = c->auth->auth.refresh(c->auth->instance, &vb.view, &s, err);
    isf_org_view_clear(&vb);
    if (rc != ISF_OK)
        goto done;
    int url_changed = !c->org->instance_url || !s.instance_url ||
                      strcmp(c->org->instance_url, s.instance_url) != 0;
    rc = isf_conn_apply_session(c, &s, err);
    if (rc == ISF_OK && (!c->no_token_store || url_changed))
        rc = isf_orgstore_put(c->ctx, c->org, err);
    if (rc != ISF_OK)
        goto done;
    c->refreshed |= retry;
    isf_log(c->ctx, ISF_LOG_INFO, "org %s: session %s", c->org->name,
            retry ? "refreshed" : "obtained");
done:
    isf_session_clear(&s);
    return rc;
}

int isf_conn_refresh(struct isf_conn *c, struct isf_error *err)
{
    return renew(c, 1, err);
}

/* Salesforce REST errors are a JSON array of {message, errorCode}. */
void isf_rest_error_parse(const char *body, char *code, size_t code_len, char *msg, size_t msg_len)
{
    code[0] = msg[0] = '\0';
    json_t *root = json_loads(body ? body : "", 0, NULL);
    json_t *first = json_is_array(root) ? json_array_get(root, 0) : root;
    const char *c = json_string_value(json_object_get(first, "errorCode"));
    const char *m = json_string_value(json_object_get(first, "message"));
    if (c)
        snprintf(code, code_len, "%s", c);
    if (m)
        snprintf(msg, msg_len, "%s", m);
    json_decref(root);
}

/* jsforce's skip-list: these 401s are policy problems that a refresh cannot cure. */
static int refresh_would_help(const char *body, const char *code)
{
    if (strcmp(code, "INVALID_SESSION_ID") != 0)
        return 0;
    return !(body && (strstr(body, "This session is not valid for use with the REST API") ||
                      strstr(body, "Connected app is not attached to Agent")));
}

static int get_once(struct isf_conn *c, const char *url, struct isf_http_response *resp,
                    struct isf_error *err)
{
    if (!c->access_token)
        return isf_err_set(err, ISF_E_AUTH, "org %s has no session; run isyncsf org connect %s",
                           c->org->name, c->org->name);
    char *auth = isf_aprintf("Authorization: Bearer %s", c->access_token);
    if (!auth)
        return isf_err_set(err, ISF_E_NOMEM, "out of memory");
    const char *headers[] = {auth, "Accept: application/json", NULL};
    struct isf_http_request req = {sizeof(req), "GET", url, headers, NULL, 0, 1};
    int rc = isf_http_request(c->ctx, &req, resp, err);
    isf_free_secret(auth);
    return rc;
}

int isf_conn_get(struct isf_conn *c, const char *path, json_t **out, char *error_code,
                 size_t error_code_len, struct isf_error *err)
{
    *out = NULL;
    if (error_code_len)
        error_code[0] = '\0';
    if (!c->org->instance_url)
        return isf_err_set(err, ISF_E_AUTH,
                           "org %s has never been connected; run isyncsf org "
                           "connect %s",
                           c->org->name, c->org->name);
    char *url = isf_aprintf("%s%s", c->org->instance_url, path);
    if (!url)
        return isf_err_set(err, ISF_E_NOMEM, "out of memory");
    struct isf_http_response resp = {0};
    char code[64], msg[256];
    int rc = ISF_OK;
    /* A mode that keeps no token has none until its plugin is asked for one. */
    if (!c->access_token && c->no_token_store) {
        rc = renew(c, 0, err);
        if (rc != ISF_OK)
            goto done;
    }
    for (;;) {
        rc = get_once(c, url, &resp, err);
        if (rc != ISF_OK)
            goto done;
        if (resp.status != 401)
            break;
        isf_rest_error_parse(resp.body, code, sizeof(code), msg, sizeof(msg));
        if (c->refreshed || !refresh_would_help(resp.body, code)) {
            rc = isf_err_set(err, ISF_E_AUTH,
                             "org %s refused the session (HTTP 401 %s%s%s); reconnect with "
                             "isyncsf org connect %s",
                             c->org->name, code[0] ? code : "", msg[0] ? ": " : "", msg,
                             c->org->name);
            goto done;
        }
        isf_http_response_clear(&resp);
        isf_log(c->ctx, ISF_LOG_INFO, "org %s: session expired, refreshing once", c->org->name);
        rc = isf_conn_refresh(c, err);
        if (rc != ISF_OK)
            goto done;
    }
    if (resp.status < 200 || resp.status >= 300) {
        isf_rest_error_parse(resp.body, code, sizeof(code), msg, sizeof(msg));
        if (error_code_len)
            snprintf(error_code, error_code_len, "%s", code);
        int transient =
            resp.status >= 500 || resp.status == 429 || strcmp(code, "REQUEST_LIMIT_EXCEEDED") == 0;
        rc = isf_err_set(err, transient ? ISF_E_TRANSIENT : ISF_E_FAILED,
                         "org %s answered HTTP %ld%s%s%s%s%s%s", c->org->name, resp.status,
                         code[0] ? " " : "", code, msg[0] ? " (" : "", msg, msg[0] ? ")" : "",
                         transient ? "; try again later" : "");
        goto done;
    }
    json_error_t jerr;
    int nomem = 0;
    *out = isf_json_loadb(resp.body, resp.body_len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr,
                          &nomem);
    if (nomem)
        rc = isf_err_set(err, ISF_E_NOMEM, "out of memory reading the answer of org %s",
                         c->org->name);
    else if (!*out)
        rc = isf_err_set(err, ISF_E_TRANSIENT,
                         "org %s answered with something that is not JSON (%s); try again later",
                         c->org->name, jerr.text);
done:
    isf_http_response_clear(&resp);
    free(url);
    return rc;
}
