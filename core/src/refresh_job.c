/* One org of a refresh: lock it without waiting, re-read it, decide, describe its token request;
 * when the answer comes, seal and store the new session (or the failure and its backoff) under
 * the same lock, and report. */
#include "refresh_engine.h"

#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

static uint32_t jitter_random(void)
{
    uint32_t r = 0;
    if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
        r = (uint32_t)rand();
    return r;
}

/* The most serious status wins: store > config > auth > transient > other. */
static int severity(int status)
{
    switch (isf_exit_code(status)) {
    case 0:
        return 0;
    case 7:
        return 5;
    case 6:
        return 4;
    case 4:
        return 3;
    case 5:
        return 2;
    default:
        return 1;
    }
}

static void report(struct rf_run *run, struct rf_job *job, int outcome, int status,
                   const char *message, int64_t next_due_ms)
{
    struct isf_refresh_summary *sum = run->sum;
    switch (outcome) {
    case ISF_REFRESH_DONE:
        sum->done++;
        break;
    case ISF_REFRESH_NOT_DUE:
        sum->not_due++;
        break;
    case ISF_REFRESH_BY_OTHER:
        sum->by_other++;
        break;
    case ISF_REFRESH_SKIPPED:
        sum->skipped++;
        break;
    default:
        sum->failed++;
        break;
    }
    if (status != ISF_OK && severity(status) > severity(sum->worst_status)) {
        sum->worst_status = status;
        isf_err_set(run->first_err, status, "org %s: %s", job->name, message ? message : "failed");
    }
    if (!run->opts->on_result)
        return;
    int64_t now = isf_monotonic_ms();
    struct isf_refresh_result r = {
        .name = job->name,
        .outcome = outcome,
        .status = status,
        .message = message && *message ? message : NULL,
        .expires_at_ms = job->have_org ? isf_refresh_expires_ms(run->ctx->cfg, &job->org) : 0,
        .next_due_ms = next_due_ms,
        .elapsed_ms = now - job->started_mono,
        .finished_ms = now - run->start_mono,
    };
    run->opts->on_result(run->opts->arg, &r);
}

void rf_job_release(struct rf_run *run, struct rf_job *job)
{
    isf_oauth_request_clear(&job->req);
    isf_org_view_clear(&job->vb);
    isf_session_clear(&job->session);
    if (job->have_org)
        isf_org_free_fields(&job->org);
    job->have_org = 0;
    if (job->lock)
        run->ctx->store->store.unlock(run->ctx->store->instance, job->lock);
    job->lock = NULL;
    job->introspecting = 0;
}

void rf_job_report_error(struct rf_run *run, struct rf_job *job, int st, const char *message)
{
    /* Nothing about the org was learnt: look again after a short while. */
    rf_job_release(run, job);
    report(run, job, ISF_REFRESH_FAILED, st, message, isf_now_ms() + 30000);
}

/* Report, then let go of the record. */
static int finish(struct rf_run *run, struct rf_job *job, int outcome, int status,
                  const char *message)
{
    int64_t next = job->have_org ? isf_refresh_due_ms(run->ctx->cfg, &job->org) : INT64_MAX;
    report(run, job, outcome, status, message, next);
    rf_job_release(run, job);
    return RF_FINISHED;
}

/* A failed attempt: its effect on the record (expired, or failing with a backoff) is stored
 * before the lock is released. */
static int finish_failure(struct rf_run *run, struct rf_job *job, int st,
                          const struct isf_error *err)
{
    struct isf_org *o = &job->org;
    if (isf_refresh_is_permanent(st) || isf_refresh_is_passing(st)) {
        struct isf_error perr;
        isf_err_init(&perr);
        if (isf_refresh_note_failure(run->ctx->cfg, o, st, err->message, isf_now_ms(),
                                     jitter_random()) != 0 ||
            isf_orgstore_put(run->ctx, o, &perr) != ISF_OK)
            isf_log(run->ctx, ISF_LOG_WARN, "org %s: could not record the failure: %s", o->name,
                    perr.message[0] ? perr.message : "out of memory");
    }
    return finish(run, job, ISF_REFRESH_FAILED, st, err->message);
}

static struct isf_plugin *auth_for(struct rf_run *run, const char *mode, struct isf_error *err)
{
    /* Thousands of orgs share a handful of modes: skip the plugin search for a repeat. */
    if (run->cached_mode && strcmp(run->cached_mode, mode) == 0)
        return run->cached_auth;
    struct isf_plugin *p = NULL;
    if (isf_auth_plugin_for_mode(run->ctx, mode, &p, err) != ISF_OK)
        return NULL;
    run->cached_mode = p->name + strlen("auth-");
    run->cached_auth = p;
    return p;
}

/* A mode without refresh_request (e.g. a helper command): its plugin's refresh, inline. */
static int refresh_inline(struct rf_run *run, struct rf_job *job)
{
    struct isf_conn c = {0};
    struct isf_error err;
    isf_err_init(&err);
    int rc = isf_conn_open(run->ctx, &job->org, &c, &err);
    if (rc == ISF_OK)
        rc = isf_conn_refresh(&c, &err);
    if (rc == ISF_OK) {
        /* isf_conn_refresh stored the session with the org's TTL already applied. */
        if (isf_refresh_note_success(&job->org, isf_now_ms()) != 0)
            rc = isf_err_set(&err, ISF_E_NOMEM, "out of memory");
        else
            rc = isf_orgstore_put(run->ctx, &job->org, &err);
    }
    isf_conn_close(&c);
    if (rc != ISF_OK)
        return finish_failure(run, job, rc, &err);
    return finish(run, job, ISF_REFRESH_DONE, ISF_OK, NULL);
}

/* The plugin's view for a renewal: the client secret and refresh token, unsealed; the current
 * access token is left sealed (a renewal does not use it, and it is one decryption less per
 * org). */
static int load_view(struct isf_ctx *ctx, const struct isf_org *o, struct isf_view_buf *vb,
                     struct isf_error *err)
{
    int rc = isf_org_view_load(ctx, o, 0, vb, err);
    if (rc == ISF_OK)
        rc = isf_org_unseal(ctx, o, "refresh_token", o->sealed_refresh_token, &vb->refresh_token,
                            err);
    if (rc != ISF_OK) {
        isf_org_view_clear(vb);
        return rc;
    }
    vb->view.refresh_token = vb->refresh_token;
    return ISF_OK;
}

/* A connected org of a mode that keeps no token (named credentials) has none in its record by
 * design; isf_refresh_decide would take it for a broken connection. */
static int keeps_no_token(struct rf_run *run, const struct isf_org *o)
{
    if (o->sealed_access_token ||
        (strcmp(o->status, "connected") != 0 && strcmp(o->status, "failing") != 0))
        return 0;
    struct isf_error ignored;
    isf_err_init(&ignored);
    const struct isf_plugin *p = auth_for(run, o->mode, &ignored);
    return p && (p->desc.capabilities & ISF_CAP_NO_TOKEN_STORE);
}

int rf_job_start(struct rf_run *run, struct rf_job *job)
{
    struct isf_ctx *ctx = run->ctx;
    struct isf_error err;
    isf_err_init(&err);
    int rc = ctx->store->store.lock(ctx->store->instance, job->name, 0, &job->lock, &err);
    if (rc == ISF_E_TIMEOUT) {
        job->lock = NULL;
        return RF_BUSY;
    }
    if (rc != ISF_OK) {
        job->lock = NULL;
        rf_job_report_error(run, job, rc, err.message);
        return RF_FINISHED;
    }
    rc = isf_orgstore_get(ctx, job->name, &job->org, &err);
    if (rc != ISF_OK) {
        rf_job_report_error(run, job, rc, err.message);
        return RF_FINISHED;
    }
    job->have_org = 1;
    struct isf_org *o = &job->org;
    if (o->last_refreshed_at >= run->start_wall)
        return finish(run, job, ISF_REFRESH_BY_OTHER, ISF_OK,
                      "refreshed by another process meanwhile");
    if (keeps_no_token(run, o)) {
        /* Nothing stored goes stale, and a token obtained here would die with this process; a
         * forced refresh still asks the credential's source, so a broken helper shows up in the
         * org's status before a sync needs it. */
        if (!run->opts->force)
            return finish(run, job, ISF_REFRESH_SKIPPED, ISF_OK,
                          "its mode keeps no token in the store: nothing to refresh (--force asks "
                          "its credential source once)");
        job->auth = auth_for(run, o->mode, &err);
        return refresh_inline(run, job);
    }
    char why[ISF_ERROR_MESSAGE_MAX];
    int d = isf_refresh_decide(ctx->cfg, o, isf_now_ms(), run->opts->force, why, sizeof(why));
    if (d == ISF_DECIDE_NOT_DUE)
        return finish(run, job, ISF_REFRESH_NOT_DUE, ISF_OK, NULL);
    if (d == ISF_DECIDE_SKIP || d == ISF_DECIDE_SKIP_AUTH)
        return finish(run, job, ISF_REFRESH_SKIPPED, d == ISF_DECIDE_SKIP ? ISF_OK : ISF_E_AUTH,
                      why);
    if (!(job->auth = auth_for(run, o->mode, &err)))
        return finish(run, job, ISF_REFRESH_FAILED, err.code, err.message);
    if (!job->auth->auth.refresh_request)
        return refresh_inline(run, job);
    rc = load_view(ctx, o, &job->vb, &err);
    if (rc != ISF_OK)
        return finish(run, job, ISF_REFRESH_FAILED, rc, err.message);
    struct isf_token_request tr = {.struct_size = sizeof(tr)};
    rc = job->auth->auth.refresh_request(job->auth->instance, &job->vb.view, &tr, &err);
    if (rc == ISF_E_UNSUPPORTED) {
        isf_org_view_clear(&job->vb);
        return refresh_inline(run, job);
    }
    if (rc == ISF_OK)
        rc = isf_oauth_build_request(ctx->cfg, o->login_url, "/services/oauth2/token", tr.form,
                                     tr.client_id, tr.client_secret, &job->req, &err);
    if (rc != ISF_OK)
        return finish_failure(run, job, rc, &err);
    return RF_IN_FLIGHT;
}

/* RFC 7662 on the token just issued, for its real expiry (Salesforce sends no expires_in). */
static int start_introspection(struct rf_run *run, struct rf_job *job, struct isf_error *err)
{
    const struct isf_org_view *v = &job->vb.view;
    const char *form[] = {
        "token", job->session.access_token, "token_type_hint", "access_token", NULL, NULL};
    isf_oauth_request_clear(&job->req);
    int rc =
        isf_oauth_build_request(run->ctx->cfg, job->org.login_url, "/services/oauth2/introspect",
                                form, v->client_id, v->client_secret, &job->req, err);
    if (rc == ISF_OK)
        job->introspecting = 1;
    return rc;
}

/* Seal and store the new session; the rotated refresh token is in the same atomic write, so it
 * is on disk before anyone can use the new access token. */
static int store_session(struct rf_run *run, struct rf_job *job, int64_t exp_ms,
                         struct isf_error *err)
{
    struct isf_org *o = &job->org;
    const struct isf_session *s = &job->session;
    int rc =
        isf_org_seal(run->ctx, o, "access_token", &o->sealed_access_token, s->access_token, err);
    if (rc == ISF_OK && s->refresh_token)
        rc = isf_org_seal(run->ctx, o, "refresh_token", &o->sealed_refresh_token, s->refresh_token,
                          err);
    if (rc != ISF_OK)
        return rc;
    o->token_issued_at = s->issued_at_ms;
    o->token_expires_at =
        exp_ms > 0 ? exp_ms
                   : isf_refresh_apply_org_ttl(run->ctx->cfg, o, s->issued_at_ms, s->expires_at_ms);
    if (isf_org_set(&o->instance_url, s->instance_url) ||
        isf_refresh_note_success(o, isf_now_ms()) != 0)
        return isf_err_set(err, ISF_E_NOMEM, "out of memory");
    if (!run->writer)
        return isf_orgstore_put(run->ctx, o, err);
    /* What isf_orgstore_put does, with the store write itself on a writer thread. */
    o->updated_at = isf_now_ms();
    struct rf_write *w = &job->write;
    memset(w, 0, sizeof(*w));
    if (!(w->data = isf_org_serialize(o)))
        return isf_err_set(err, ISF_E_NOMEM, "out of memory serialising org %s", o->name);
    w->name = job->name;
    w->len = strlen(w->data);
    w->expected_revision = o->revision;
    w->cookie = job;
    rf_writer_submit(run->writer, w);
    return RF_WRITING;
}

void rf_job_written(struct rf_run *run, struct rf_job *job)
{
    struct rf_write *w = &job->write;
    free(w->data);
    w->data = NULL;
    if (w->status != ISF_OK) {
        if (w->status == ISF_E_CONFLICT)
            isf_err_prefix(&w->err,
                           "org %s was changed by another process meanwhile; nothing was "
                           "overwritten; run the command again",
                           job->name);
        finish(run, job, ISF_REFRESH_FAILED, w->status, w->err.message);
        return;
    }
    job->org.revision = w->new_revision;
    finish(run, job, ISF_REFRESH_DONE, ISF_OK, NULL);
}

int rf_job_complete(struct rf_run *run, struct rf_job *job, int st,
                    const struct isf_http_response *resp, struct isf_error *err)
{
    int64_t exp_ms = 0;
    if (job->introspecting) {
        job->introspecting = 0;
        if (st == ISF_OK)
            st = isf_oauth_parse_introspection(resp->status, resp->body, resp->body_len, &exp_ms,
                                               err);
        if (st != ISF_OK) {
            /* The session itself is good: keep it, with the TTL's expiry. */
            isf_log(run->ctx, ISF_LOG_WARN,
                    "org %s: introspection failed (%s); using the session TTL", job->name,
                    err->message);
            exp_ms = 0;
        }
    } else {
        if (st == ISF_OK)
            st = isf_oauth_parse_token_response(
                resp->status, resp->body, resp->body_len, isf_now_ms(),
                isf_refresh_ttl_ms(run->ctx->cfg, &job->org), &job->session, err);
        if (st != ISF_OK)
            return finish_failure(run, job, st, err);
        if (run->ctx->cfg->refresh_introspect && job->vb.view.client_id &&
            job->vb.view.client_secret && start_introspection(run, job, err) == ISF_OK)
            return RF_IN_FLIGHT;
    }
    /* With the per-org TTL already in the parse, the expiry needs no second adjustment. */
    if (exp_ms == 0)
        exp_ms = job->session.expires_at_ms;
    st = store_session(run, job, exp_ms, err);
    if (st == RF_WRITING)
        return RF_WRITING;
    if (st != ISF_OK) {
        /* The org issued a session we could not keep (store or key problem): the record is
         * unchanged; its old refresh token, if any, stays valid unless rotation revoked it. */
        return finish(run, job, ISF_REFRESH_FAILED, st, err->message);
    }
    return finish(run, job, ISF_REFRESH_DONE, ISF_OK, NULL);
}
