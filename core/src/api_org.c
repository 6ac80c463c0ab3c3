/* The org operations of the library API: add, edit, connect, test, show, token, disconnect,
 * remove. Every read-modify-write of a record runs under its lock with a revision check. */
#include "conn.h"
#include "refresh.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MODE "client-credentials"

static int oom(struct isf_error *err)
{
    return isf_err_set(err, ISF_E_NOMEM, "out of memory");
}

/* https://host[:port][/path] with a non-empty host and no credentials or spaces. */
static int check_login_url(const char *url, struct isf_error *err)
{
    if (strncmp(url, "https://", 8) != 0)
        return isf_err_set(err, ISF_E_USAGE,
                           "login URL '%s' is not https; use the org's https:// My Domain URL "
                           "(e.g. https://acme.my.salesforce.com)",
                           url);
    const char *host = url + 8;
    size_t hl = strcspn(host, "/?#");
    if (hl == 0 || memchr(host, '@', hl))
        return isf_err_set(err, ISF_E_USAGE, "login URL '%s' has no valid host", url);
    for (const char *p = url; *p; p++)
        if (isspace((unsigned char)*p) || iscntrl((unsigned char)*p))
            return isf_err_set(err, ISF_E_USAGE,
                               "login URL contains spaces or control "
                               "characters");
    if (host[hl] && strcmp(host + hl, "/") != 0)
        return isf_err_set(err, ISF_E_USAGE, "login URL '%s' has a path; give only https://host",
                           url);
    return ISF_OK;
}

static int apply_settings(struct isf_ctx *ctx, struct isf_org *o, const struct isf_org_settings *s,
                          int *changed_identity, struct isf_error *err)
{
    *changed_identity = 0;
    if (s->login_url) {
        int rc = check_login_url(s->login_url, err);
        if (rc != ISF_OK)
            return rc;
    }
    struct {
        const char *value;
        char **field;
        int identity;
    } map[] = {
        {s->mode, &o->mode, 1},
        {s->login_url, &o->login_url, 1},
        {s->client_id, &o->client_id, 1},
        {s->redirect_uri, &o->redirect_uri, 0},
        {s->scope, &o->scope, 0},
        {s->named_credential, &o->named_credential, 1},
        {s->description, &o->description, 0},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (!map[i].value)
            continue;
        const char *v = *map[i].value ? map[i].value : NULL; /* "" clears */
        if (map[i].identity && (!*map[i].field || !v || strcmp(*map[i].field, v) != 0))
            *changed_identity = 1;
        if (isf_org_set(map[i].field, v))
            return oom(err);
    }
    /* Appended member: read only when the caller's struct has it. */
    int64_t ttl = s->struct_size >= offsetof(struct isf_org_settings, session_ttl_s) +
                                        sizeof(s->session_ttl_s)
                      ? s->session_ttl_s
                      : 0;
    if (ttl == -1)
        o->session_ttl_s = 0;
    else if (ttl != 0 && (ttl < 60 || ttl > 604800))
        return isf_err_set(err, ISF_E_USAGE,
                           "session TTL %lld s is out of range; give 60 to 604800 seconds (the "
                           "org's Session Timeout), or 0 for refresh.session_ttl_s",
                           (long long)ttl);
    else if (ttl > 0)
        o->session_ttl_s = ttl;
    if (ttl != 0 && o->token_issued_at > 0) /* the stored token's expiry follows the new TTL */
        o->token_expires_at = o->token_issued_at + isf_refresh_ttl_ms(ctx->cfg, o);
    if (o->login_url) {
        /* Keep one canonical form: no trailing slash. */
        size_t n = strlen(o->login_url);
        if (n && o->login_url[n - 1] == '/')
            o->login_url[n - 1] = '\0';
    }
    if (s->client_secret)
        return isf_org_seal(ctx, o, "client_secret", &o->sealed_client_secret, s->client_secret,
                            err);
    return ISF_OK;
}

static int check_with_plugin(struct isf_ctx *ctx, struct isf_org *o, struct isf_error *err)
{
    struct isf_plugin *p;
    int rc = isf_auth_plugin_for_mode(ctx, o->mode, &p, err);
    if (rc != ISF_OK)
        return rc;
    struct isf_org_view v = {
        sizeof(v), o->name,         o->login_url, o->instance_url,     o->client_id,
        NULL,      o->redirect_uri, o->scope,     o->named_credential, NULL,
        NULL};
    struct isf_org_settings_check chk = {sizeof(chk), &v, o->sealed_client_secret != NULL};
    rc = p->auth.check_settings(p->instance, &chk, err);
    if (rc != ISF_OK && err->code == ISF_OK)
        isf_err_set(err, rc, "org %s: settings incomplete for mode %s", o->name, o->mode);
    return rc;
}

ISF_API int isf_org_add(isf_ctx *ctx, const char *name, const struct isf_org_settings *s,
                        struct isf_error *err)
{
    isf_err_init(err);
    if (!isf_valid_org_name(name))
        return isf_err_set(err, ISF_E_USAGE,
                           "invalid org name '%s': use letters, digits, '.', '_' and '-' "
                           "(start with a letter or digit, at most 64)",
                           name ? name : "");
    struct isf_org o = {0};
    int changed, rc;
    o.pkg_installed = -1;
    if (isf_org_set(&o.name, name) || isf_org_set(&o.mode, DEFAULT_MODE) ||
        isf_org_set(&o.status, "new")) {
        rc = oom(err);
        goto done;
    }
    o.created_at = isf_now_ms();
    rc = apply_settings(ctx, &o, s, &changed, err);
    if (rc == ISF_OK)
        rc = check_with_plugin(ctx, &o, err);
    if (rc == ISF_OK)
        rc = isf_orgstore_put(ctx, &o, err);
done:
    isf_org_free_fields(&o);
    return rc;
}

static int edit_locked(struct isf_ctx *ctx, struct isf_org *o, void *arg, struct isf_error *err)
{
    const struct isf_org_settings *s = arg;
    int changed;
    int rc = apply_settings(ctx, o, s, &changed, err);
    if (rc == ISF_OK)
        rc = check_with_plugin(ctx, o, err);
    if (rc == ISF_OK && changed)
        isf_heldtoken_drop(ctx, o->name);
    if (rc == ISF_OK && changed && (o->sealed_access_token || o->sealed_refresh_token)) {
        /* Tokens belong to the old mode/host/app: drop them rather than use them wrongly. */
        free(o->sealed_access_token);
        free(o->sealed_refresh_token);
        o->sealed_access_token = o->sealed_refresh_token = NULL;
        o->token_issued_at = o->token_expires_at = 0;
        if (isf_org_set(&o->status, "new") ||
            isf_org_set(&o->status_detail, "settings changed; run isyncsf org connect"))
            rc = oom(err);
    }
    if (rc == ISF_OK)
        rc = isf_orgstore_put(ctx, o, err);
    return rc;
}

ISF_API int isf_org_edit(isf_ctx *ctx, const char *name, const struct isf_org_settings *s,
                         struct isf_error *err)
{
    isf_err_init(err);
    return isf_orgstore_update(ctx, name, edit_locked, (void *)s, err);
}

/* Status rules after a failed attempt: a person is needed → expired; a passing failure →
 * failing (only for orgs that were working; a new org stays new). */
static void record_failure(struct isf_ctx *ctx, struct isf_org *o, const struct isf_error *why)
{
    const char *status = o->status;
    if (why->code == ISF_E_AUTH && strcmp(o->status, "new") != 0)
        status = "expired";
    else if (why->code == ISF_E_TRANSIENT && strcmp(o->status, "connected") == 0)
        status = "failing";
    if (isf_org_set(&o->status, status) || isf_org_set(&o->status_detail, why->message))
        return;
    struct isf_error perr;
    isf_err_init(&perr);
    if (isf_orgstore_put(ctx, o, &perr) != ISF_OK)
        isf_log(ctx, ISF_LOG_WARN, "could not record the failure of org %s: %s", o->name,
                perr.message);
}

static int mark_connected(struct isf_org *o, struct isf_error *err)
{
    /* Working again: the refresh backoff of earlier passing failures no longer applies. */
    o->refresh_failures = 0;
    o->next_attempt_at = 0;
    if (isf_org_set(&o->status, "connected") || isf_org_set(&o->status_detail, NULL))
        return oom(err);
    return ISF_OK;
}

/* A grant obtained for an org, with the identity (mode, login URL, client id) it was obtained
 * for. */
struct connect_grant {
    struct isf_session s;
    char *mode, *login_url, *client_id;
};

static int same_text(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Store a grant obtained outside the lock: the record is re-read under it, and refused when its
 * identity changed meanwhile (the grant would belong to another app or org). */
static int store_grant_locked(struct isf_ctx *ctx, struct isf_org *o, void *arg,
                              struct isf_error *err)
{
    struct connect_grant *g = arg;
    if (!same_text(o->mode, g->mode) || !same_text(o->login_url, g->login_url) ||
        !same_text(o->client_id, g->client_id))
        return isf_err_set(err, ISF_E_CONFLICT,
                           "org %s was edited (mode, login URL or client id) while it was being "
                           "connected; the new grant was not stored; run isyncsf org connect %s "
                           "again",
                           o->name, o->name);
    struct isf_conn c = {0};
    int rc = isf_conn_open(ctx, o, &c, err);
    if (rc != ISF_OK)
        goto done;
    /* A reconnect fully replaces the old grant: drop the old refresh token first. */
    free(o->sealed_refresh_token);
    o->sealed_refresh_token = NULL;
    rc = isf_conn_apply_session(&c, &g->s, err);
    if (rc != ISF_OK)
        goto done;
    c.refreshed = 1; /* a fresh grant: a 401 now is not an expired session */
    rc = isf_org_read_details(&c, err);
    if (rc == ISF_OK)
        rc = isf_org_check_package(&c, err);
    if (rc != ISF_OK) {
        record_failure(ctx, o, err);
        goto done;
    }
    o->connected_at = o->last_tested_at = isf_now_ms();
    rc = mark_connected(o, err);
    if (rc == ISF_OK)
        rc = isf_orgstore_put(ctx, o, err);
done:
    isf_conn_close(&c);
    return rc;
}

/* Ask the mode's plugin for a grant. The record is not locked meanwhile: an interactive mode
 * waits for a person (up to connect --timeout), and other processes must keep refreshing and
 * reading the org. The browser options reach host->oauth_authorize through the context, for the
 * duration of the plugin's connect only. */
static int obtain_grant(struct isf_ctx *ctx, const struct isf_org *o,
                        const struct isf_connect_options *co, struct connect_grant *g,
                        struct isf_error *err)
{
    struct isf_plugin *p;
    struct isf_view_buf vb;
    int rc = isf_auth_plugin_for_mode(ctx, o->mode, &p, err);
    if (rc == ISF_OK)
        rc = isf_org_view_load(ctx, o, 0, &vb, err);
    if (rc != ISF_OK)
        return rc;
    ctx->connecting = co;
    rc = p->auth.connect(p->instance, &vb.view, &g->s, err);
    ctx->connecting = NULL;
    isf_org_view_clear(&vb);
    if (rc != ISF_OK)
        return rc; /* no new grant (denied, timed out, refused): the record stays as it was */
    g->mode = isf_strdup(o->mode);
    g->login_url = isf_strdup(o->login_url);
    g->client_id = isf_strdup(o->client_id);
    if (!g->mode || (o->login_url && !g->login_url) || (o->client_id && !g->client_id))
        return oom(err);
    return ISF_OK;
}

ISF_API int isf_org_connect(isf_ctx *ctx, const char *name, const struct isf_connect_options *co,
                            struct isf_error *err)
{
    isf_err_init(err);
    static const struct isf_connect_options defaults = {sizeof(defaults), 0, 0};
    struct isf_org o;
    struct connect_grant g;
    memset(&g, 0, sizeof(g));
    int rc = isf_orgstore_get(ctx, name, &o, err);
    if (rc != ISF_OK)
        return rc;
    rc = obtain_grant(ctx, &o, co ? co : &defaults, &g, err);
    if (rc == ISF_OK)
        rc = isf_orgstore_update(ctx, name, store_grant_locked, &g, err);
    isf_session_clear(&g.s);
    free(g.mode);
    free(g.login_url);
    free(g.client_id);
    isf_org_free_fields(&o);
    return rc;
}

/* The mode declares that its tokens are never stored (ISF_CAP_NO_TOKEN_STORE): a connected org
 * of that mode has no token in its record, and every token comes from the plugin. */
static int keeps_no_token(struct isf_ctx *ctx, const struct isf_org *o)
{
    struct isf_plugin *p;
    struct isf_error ignored;
    isf_err_init(&ignored);
    return isf_auth_plugin_for_mode(ctx, o->mode, &p, &ignored) == ISF_OK &&
           (p->desc.capabilities & ISF_CAP_NO_TOKEN_STORE);
}

static int require_connectable(struct isf_ctx *ctx, const struct isf_org *o, struct isf_error *err)
{
    int no_token = 0;
    if (!o->sealed_access_token && strcmp(o->status, "new") != 0 &&
        strcmp(o->status, "disconnected") != 0) {
        /* Connected without a stored token is normal only for a mode that keeps none; when
         * the mode's plugin is unavailable, that is what the user must hear about. */
        struct isf_plugin *p;
        int rc = isf_auth_plugin_for_mode(ctx, o->mode, &p, err);
        if (rc != ISF_OK)
            return rc;
        no_token = (p->desc.capabilities & ISF_CAP_NO_TOKEN_STORE) != 0;
    }
    if (strcmp(o->status, "new") == 0 || strcmp(o->status, "disconnected") == 0 ||
        (!o->sealed_access_token && !no_token))
        return isf_err_set(err, ISF_E_AUTH,
                           "org %s is not connected (status %s); run isyncsf "
                           "org connect %s",
                           o->name, o->status, o->name);
    if (strcmp(o->status, "expired") == 0)
        return isf_err_set(err, ISF_E_AUTH, "org %s is expired (%s); run isyncsf org connect %s",
                           o->name, o->status_detail ? o->status_detail : "authorization gone",
                           o->name);
    return ISF_OK;
}

static int test_locked(struct isf_ctx *ctx, struct isf_org *o, void *arg, struct isf_error *err)
{
    (void)arg;
    struct isf_conn c = {0};
    int rc = require_connectable(ctx, o, err);
    if (rc == ISF_OK)
        rc = isf_conn_open(ctx, o, &c, err);
    if (rc == ISF_OK)
        rc = isf_org_ping(&c, err);
    if (rc == ISF_OK) {
        o->last_tested_at = isf_now_ms();
        rc = mark_connected(o, err);
        if (rc == ISF_OK)
            rc = isf_orgstore_put(ctx, o, err);
    } else if (err->code == ISF_E_AUTH || err->code == ISF_E_TRANSIENT) {
        o->last_tested_at = isf_now_ms();
        record_failure(ctx, o, err);
    }
    isf_conn_close(&c);
    return rc;
}

ISF_API int isf_org_test(isf_ctx *ctx, const char *name, struct isf_error *err)
{
    isf_err_init(err);
    return isf_orgstore_update(ctx, name, test_locked, NULL, err);
}

ISF_API int isf_org_show_json(isf_ctx *ctx, const char *name, char **json, struct isf_error *err)
{
    isf_err_init(err);
    struct isf_org o;
    *json = NULL;
    int rc = isf_orgstore_get(ctx, name, &o, err);
    if (rc != ISF_OK)
        return rc;
    json_t *j = isf_org_public_json(&o);
    *json = j ? isf_json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    isf_org_free_fields(&o);
    return *json ? ISF_OK : oom(err);
}

/* A failing org (a passing network problem) may still hold a perfectly valid token. */
static int usable_status(const struct isf_org *o)
{
    return strcmp(o->status, "connected") == 0 || strcmp(o->status, "failing") == 0;
}

static int token_is_fresh(struct isf_ctx *ctx, const struct isf_org *o)
{
    return o->sealed_access_token && usable_status(o) &&
           isf_refresh_token_due_ms(ctx->cfg, o) > isf_now_ms();
}

static int held_token_out(const struct isf_heldtoken *t, struct isf_token *out,
                          struct isf_error *err)
{
    out->access_token = isf_strdup(t->access_token);
    out->instance_url = isf_strdup(t->instance_url);
    out->expires_at_ms = t->expires_at_ms;
    return out->access_token && out->instance_url ? ISF_OK : oom(err);
}

static int token_out(struct isf_ctx *ctx, const struct isf_org *o, struct isf_token *out,
                     struct isf_error *err)
{
    int rc =
        isf_org_unseal(ctx, o, "access_token", o->sealed_access_token, &out->access_token, err);
    if (rc != ISF_OK)
        return rc;
    out->instance_url = isf_strdup(o->instance_url);
    out->expires_at_ms = o->token_expires_at;
    return out->instance_url ? ISF_OK : oom(err);
}

/* A token just obtained in this connection, for a mode that keeps none in the record. */
static int conn_token_out(const struct isf_conn *c, struct isf_token *out, struct isf_error *err)
{
    out->access_token = isf_strdup(c->access_token);
    out->instance_url = isf_strdup(c->org->instance_url);
    out->expires_at_ms = c->expires_at_ms;
    return out->access_token && out->instance_url ? ISF_OK : oom(err);
}

/* Refresh under the lock, re-reading first: another process may have refreshed meanwhile. A mode
 * that keeps no token is never fresh here, so its plugin is asked every time. */
static int refresh_locked(struct isf_ctx *ctx, struct isf_org *o, void *arg, struct isf_error *err)
{
    struct isf_token *out = arg;
    if (token_is_fresh(ctx, o))
        return token_out(ctx, o, out, err);
    struct isf_conn c = {0};
    int rc = require_connectable(ctx, o, err);
    if (rc == ISF_OK)
        rc = isf_conn_open(ctx, o, &c, err);
    if (rc == ISF_OK)
        rc = isf_conn_refresh(&c, err);
    if (rc == ISF_OK && strcmp(o->status, "connected") != 0) {
        rc = mark_connected(o, err);
        if (rc == ISF_OK)
            rc = isf_orgstore_put(ctx, o, err);
    } else if (rc == ISF_E_AUTH || rc == ISF_E_TRANSIENT) {
        record_failure(ctx, o, err);
    }
    if (rc == ISF_OK)
        rc = c.no_token_store ? conn_token_out(&c, out, err) : token_out(ctx, o, out, err);
    isf_conn_close(&c);
    return rc;
}

ISF_API int isf_org_token(isf_ctx *ctx, const char *name, struct isf_token *out,
                          struct isf_error *err)
{
    isf_err_init(err);
    memset(out, 0, sizeof(*out));
    struct isf_org o;
    int rc = isf_orgstore_get(ctx, name, &o, err);
    if (rc != ISF_OK)
        return rc;
    /* Fast path: a valid token needs no lock and no network; for a mode that keeps no token,
     * one this process holds in memory. */
    const struct isf_heldtoken *held = NULL;
    if (token_is_fresh(ctx, &o))
        rc = token_out(ctx, &o, out, err);
    else if (usable_status(&o) && (held = isf_heldtoken_get(ctx, &o)))
        rc = held_token_out(held, out, err);
    else {
        rc = require_connectable(ctx, &o, err);
        if (rc == ISF_OK)
            rc = isf_orgstore_update(ctx, name, refresh_locked, out, err);
    }
    isf_org_free_fields(&o);
    if (rc != ISF_OK)
        isf_token_clear(out);
    return rc;
}

ISF_API void isf_token_clear(struct isf_token *t)
{
    if (!t)
        return;
    isf_free_secret(t->access_token);
    free(t->instance_url);
    memset(t, 0, sizeof(*t));
}

static int revoke_at_org(struct isf_ctx *ctx, struct isf_org *o, int *revoked,
                         struct isf_error *err)
{
    struct isf_plugin *p;
    struct isf_view_buf vb;
    int rc = isf_auth_plugin_for_mode(ctx, o->mode, &p, err);
    if (rc != ISF_OK) {
        /* Nothing changed: say how to forget the tokens without the mode's plugin. */
        isf_err_prefix(err,
                       "org %s: cannot revoke its tokens (use --local-only to forget them "
                       "without revoking)",
                       o->name);
        return rc;
    }
    if (!p->auth.revoke) {
        isf_log(ctx, ISF_LOG_INFO, "org %s: mode %s has nothing to revoke at the org", o->name,
                o->mode);
        return ISF_OK;
    }
    rc = isf_org_view_load(ctx, o, 1, &vb, err);
    if (rc != ISF_OK)
        return rc;
    if (vb.view.access_token || vb.view.refresh_token) {
        rc = p->auth.revoke(p->instance, &vb.view, err);
        *revoked = rc == ISF_OK;
    }
    isf_org_view_clear(&vb);
    return rc;
}

static int disconnect_locked(struct isf_ctx *ctx, struct isf_org *o, int local_only, int *revoked,
                             struct isf_error *err)
{
    int rc = ISF_OK;
    if (!local_only && (o->sealed_access_token || o->sealed_refresh_token))
        rc = revoke_at_org(ctx, o, revoked, err);
    if (rc != ISF_OK)
        return rc; /* nothing changed locally: the user can retry or use --local-only */
    free(o->sealed_access_token);
    free(o->sealed_refresh_token);
    o->sealed_access_token = o->sealed_refresh_token = NULL;
    o->token_issued_at = o->token_expires_at = 0;
    isf_heldtoken_drop(ctx, o->name);
    /* A mode that keeps no token holds nothing to revoke: its token belongs to whoever issued
     * it (a helper, a CI secret), and isyncsf does not revoke what it does not own. */
    const char *detail = local_only ? "disconnected locally; tokens not revoked" : NULL;
    if (keeps_no_token(ctx, o))
        detail = "disconnected; isyncsf held no token of this org, so none was revoked (the "
                 "credential's token belongs to its source and stays valid)";
    if (isf_org_set(&o->status, "disconnected") || isf_org_set(&o->status_detail, detail))
        return oom(err);
    return isf_orgstore_put(ctx, o, err);
}

struct disconnect_args {
    int local_only;
    int *revoked;
};

static int disconnect_cb(struct isf_ctx *ctx, struct isf_org *o, void *arg, struct isf_error *err)
{
    struct disconnect_args *a = arg;
    return disconnect_locked(ctx, o, a->local_only, a->revoked, err);
}

ISF_API int isf_org_disconnect(isf_ctx *ctx, const char *name, int local_only, int *revoked,
                               struct isf_error *err)
{
    isf_err_init(err);
    *revoked = 0;
    struct disconnect_args a = {local_only, revoked};
    return isf_orgstore_update(ctx, name, disconnect_cb, &a, err);
}

ISF_API int isf_org_remove(isf_ctx *ctx, const char *name, int local_only, struct isf_error *err)
{
    isf_err_init(err);
    void *lock = NULL;
    struct isf_org o;
    int revoked = 0;
    int rc = isf_orgstore_lock(ctx, name, &lock, err);
    if (rc != ISF_OK)
        return rc;
    rc = isf_orgstore_get(ctx, name, &o, err);
    if (rc == ISF_E_STORE && local_only) {
        /* A corrupt record can still be deleted locally: that is the documented way out. */
        isf_log(ctx, ISF_LOG_WARN, "org %s: %s; removing it locally as asked", name, err->message);
        isf_err_init(err);
        rc = ctx->store->store.remove(ctx->store->instance, name, 0, err);
        goto unlock;
    }
    if (rc != ISF_OK)
        goto unlock;
    if (o.sealed_access_token || o.sealed_refresh_token)
        rc = disconnect_locked(ctx, &o, local_only, &revoked, err);
    if (rc == ISF_OK)
        rc = isf_orgstore_remove(ctx, &o, err);
    if (rc == ISF_OK)
        isf_heldtoken_drop(ctx, name);
    isf_org_free_fields(&o);
unlock:
    isf_orgstore_unlock(ctx, lock);
    return rc;
}
