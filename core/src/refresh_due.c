/* When a session is due, and what a failed attempt does to an org's schedule. Pure arithmetic
 * on the record and the config: no I/O, so the engine, the daemon and `org token` agree. */
#include "refresh.h"

#include <stdio.h>
#include <string.h>

#define BACKOFF_BASE_MS 30000LL

static int status_is(const struct isf_org *o, const char *s)
{
    return o->status && strcmp(o->status, s) == 0;
}

int64_t isf_refresh_ttl_ms(const struct isf_config *cfg, const struct isf_org *o)
{
    return (o->session_ttl_s > 0 ? o->session_ttl_s : (int64_t)cfg->refresh_session_ttl_s) * 1000;
}

int64_t isf_refresh_expires_ms(const struct isf_config *cfg, const struct isf_org *o)
{
    if (o->token_expires_at > 0)
        return o->token_expires_at;
    if (o->token_issued_at > 0)
        return o->token_issued_at + isf_refresh_ttl_ms(cfg, o);
    return 0;
}

int64_t isf_refresh_token_due_ms(const struct isf_config *cfg, const struct isf_org *o)
{
    int64_t exp = isf_refresh_expires_ms(cfg, o);
    if (!o->sealed_access_token || exp <= 0)
        return INT64_MIN;
    return exp - (int64_t)cfg->refresh_margin_s * 1000;
}

int64_t isf_refresh_apply_org_ttl(const struct isf_config *cfg, const struct isf_org *o,
                                  int64_t issued_at_ms, int64_t expires_at_ms)
{
    int64_t global = (int64_t)cfg->refresh_session_ttl_s * 1000;
    if (o->session_ttl_s > 0 && expires_at_ms == issued_at_ms + global)
        return issued_at_ms + o->session_ttl_s * 1000;
    return expires_at_ms;
}

int64_t isf_refresh_due_ms(const struct isf_config *cfg, const struct isf_org *o)
{
    if (!status_is(o, "connected") && !status_is(o, "failing"))
        return INT64_MAX;
    if (!o->sealed_access_token)
        return INT64_MAX; /* a mode that keeps no token: nothing stored goes stale */
    int64_t due = isf_refresh_token_due_ms(cfg, o);
    if (due == INT64_MIN)
        due = 0; /* a token of unknown age: due now */
    /* In backoff, not before the retry time; a forced refresh that failed while the token was
     * still fresh need not be retried before the token is due. */
    if (o->refresh_failures > 0 && o->next_attempt_at > due)
        due = o->next_attempt_at;
    return due;
}

int64_t isf_refresh_backoff_ms(const struct isf_config *cfg, int64_t failures, uint32_t random)
{
    int64_t cap = (int64_t)cfg->refresh_max_backoff_s * 1000;
    int shift = failures <= 1 ? 0 : failures > 30 ? 30 : (int)(failures - 1);
    int64_t base = BACKOFF_BASE_MS << shift;
    if (base > cap)
        base = cap;
    /* Jitter in [0.8, 1.2]: many orgs failing together (an outage) spread their retries. */
    int64_t span = base * 2 / 5;
    int64_t wait = base - base / 5 + (int64_t)((double)random / 4294967296.0 * (double)span);
    return wait > cap ? cap : wait;
}

int isf_refresh_is_permanent(int status)
{
    return status == ISF_E_AUTH;
}

int isf_refresh_is_passing(int status)
{
    return status == ISF_E_TRANSIENT;
}

int isf_refresh_decide(const struct isf_config *cfg, const struct isf_org *o, int64_t now_ms,
                       int force, char *why, size_t why_len)
{
    why[0] = '\0';
    if (status_is(o, "new") || status_is(o, "disconnected") ||
        (!status_is(o, "expired") && !o->sealed_access_token)) {
        snprintf(why, why_len, "not connected (status %s); run isyncsf org connect %s",
                 o->status ? o->status : "?", o->name);
        return ISF_DECIDE_SKIP;
    }
    if (status_is(o, "expired")) {
        snprintf(why, why_len, "expired (%s); run isyncsf org connect %s",
                 o->status_detail ? o->status_detail : "the authorization is gone", o->name);
        return ISF_DECIDE_SKIP_AUTH;
    }
    if (!force && o->refresh_failures > 0 && o->next_attempt_at > now_ms) {
        char when[32];
        isf_format_time(o->next_attempt_at, when, sizeof(when));
        snprintf(why, why_len, "failing; next attempt at %s (or use --force)", when);
        return ISF_DECIDE_SKIP;
    }
    int64_t due = isf_refresh_token_due_ms(cfg, o);
    if (!force && due != INT64_MIN && due > now_ms && o->refresh_failures == 0)
        return ISF_DECIDE_NOT_DUE;
    return ISF_DECIDE_GO;
}

int isf_refresh_note_success(struct isf_org *o, int64_t now_ms)
{
    o->last_refreshed_at = now_ms;
    o->refresh_failures = 0;
    o->next_attempt_at = 0;
    if (isf_org_set(&o->status, "connected") || isf_org_set(&o->status_detail, NULL))
        return -1;
    return 0;
}

int isf_refresh_note_failure(const struct isf_config *cfg, struct isf_org *o, int status,
                             const char *message, int64_t now_ms, uint32_t random)
{
    if (isf_refresh_is_permanent(status)) {
        o->refresh_failures = 0;
        o->next_attempt_at = 0;
        return isf_org_set(&o->status, "expired") || isf_org_set(&o->status_detail, message) ? -1
                                                                                             : 0;
    }
    if (!isf_refresh_is_passing(status))
        return 0;
    o->refresh_failures++;
    o->next_attempt_at = now_ms + isf_refresh_backoff_ms(cfg, o->refresh_failures, random);
    return isf_org_set(&o->status, "failing") || isf_org_set(&o->status_detail, message) ? -1 : 0;
}
