/* Core-internal pieces of refreshing shared by the engine (isf_refresh), the daemon and
 * isf_org_token: when a session is due, and what a failure does to an org's schedule. */
#ifndef ISF_REFRESH_H
#define ISF_REFRESH_H

#include "record.h"

/* When the org next needs work, in ms since the epoch: its token's expires_at minus
 * refresh.margin_s, or its backoff retry time after a passing failure; INT64_MAX when it needs
 * none (new, disconnected, expired, or a mode that keeps no token). */
int64_t isf_refresh_due_ms(const struct isf_config *cfg, const struct isf_org *o);

/* The session lifetime that applies to the org, in ms: its own session_ttl_s, else
 * refresh.session_ttl_s. */
int64_t isf_refresh_ttl_ms(const struct isf_config *cfg, const struct isf_org *o);

/* When the stored token expires: token_expires_at, else token_issued_at + the TTL; 0 unknown. */
int64_t isf_refresh_expires_ms(const struct isf_config *cfg, const struct isf_org *o);

/* When the stored token becomes due (expires - margin); INT64_MIN when there is no token. */
int64_t isf_refresh_token_due_ms(const struct isf_config *cfg, const struct isf_org *o);

/* A session obtained through a path that only knew the global TTL (expires_at_ms = issued_at +
 * refresh.session_ttl_s): the expiry under the org's own TTL instead. Any other expiry (from
 * the server: expires_in, introspection) is returned unchanged. */
int64_t isf_refresh_apply_org_ttl(const struct isf_config *cfg, const struct isf_org *o,
                                  int64_t issued_at_ms, int64_t expires_at_ms);

/* The wait before retry number `failures` (>= 1) after passing failures: 30 s x 2^(failures-1),
 * times a jitter factor in [0.8, 1.2] taken from `random` (uniform over uint32), capped at
 * refresh.max_backoff_s. In ms. */
int64_t isf_refresh_backoff_ms(const struct isf_config *cfg, int64_t failures, uint32_t random);

/* Whether a failed attempt's status is permanent (a person must reconnect: the org becomes
 * expired and is never retried) rather than passing (failing, retried with backoff). */
int isf_refresh_is_permanent(int status);
/* Whether it is passing (network, timeout, 5xx, 429, REQUEST_LIMIT_EXCEEDED). */
int isf_refresh_is_passing(int status);

/* What an attempt decided before any request (the first steps of the engine, also used by the
 * daemon to know what it will do). */
enum isf_refresh_decision {
    ISF_DECIDE_GO = 0,    /* refresh it now */
    ISF_DECIDE_NOT_DUE,   /* fresh, not forced */
    ISF_DECIDE_SKIP,      /* new, disconnected, expired, or in backoff (message says which) */
    ISF_DECIDE_SKIP_AUTH, /* expired: skipped, and a person must act (counts as ISF_E_AUTH) */
};
int isf_refresh_decide(const struct isf_config *cfg, const struct isf_org *o, int64_t now_ms,
                       int force, char *why, size_t why_len);

/* Record the outcome of an attempt in the record (not written): success resets the failures
 * and marks it connected; a passing failure marks it failing with the next attempt after the
 * backoff; a permanent one marks it expired. Other statuses leave it unchanged. 0 ok, -1 OOM. */
int isf_refresh_note_success(struct isf_org *o, int64_t now_ms);
int isf_refresh_note_failure(const struct isf_config *cfg, struct isf_org *o, int status,
                             const char *message, int64_t now_ms, uint32_t random);

#endif
