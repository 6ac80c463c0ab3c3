/* OAuth 2.0 client machinery shared by every auth mode (RFC 6749, 7009). */
#ifndef ISF_OAUTH_H
#define ISF_OAUTH_H

#include "internal.h"

/* A token-endpoint (or introspection) request, built: POST <login_url><path> with the form and
 * the client authentication (client_secret_post or client_secret_basic per http.client_auth).
 * `req` points into the struct itself: keep it in place until the request is done. */
#define ISF_OAUTH_MAX_PAIRS 12
struct isf_oauth_request {
    char *url;
    char *body; /* secret */
    char *auth; /* "Authorization: Basic ..." (secret), or NULL */
    const char *headers[4];
    struct isf_http_request req;
};
int isf_oauth_build_request(const struct isf_config *cfg, const char *login_url, const char *path,
                            const char *const *form, const char *client_id,
                            const char *client_secret, struct isf_oauth_request *out,
                            struct isf_error *err);
/* Wipes the secrets. Safe on a zeroed struct. */
void isf_oauth_request_clear(struct isf_oauth_request *r);

/* An RFC 7662 answer about a token just issued: its exp in ms. ISF_E_FAILED when inactive or
 * without exp; ISF_E_TRANSIENT for 5xx/429. */
int isf_oauth_parse_introspection(long status, const char *body, size_t len, int64_t *exp_ms,
                                  struct isf_error *err);

/* POST form pairs to <login_url>/services/oauth2/token with client authentication from the org
 * (client_secret_post or client_secret_basic per http.client_auth) and parse the answer. */
int isf_oauth_token(struct isf_ctx *ctx, const struct isf_org_view *org, const char *const *form,
                    struct isf_session *out, struct isf_error *err);

/* Parse a token endpoint answer (status + body) into a session or an error.
 * Exposed for unit tests and fuzzing. */
int isf_oauth_parse_token_response(long status, const char *body, size_t len, int64_t now_ms,
                                   int64_t session_ttl_ms, struct isf_session *out,
                                   struct isf_error *err);

/* issued_at as Salesforce sends it: a string or number, in ms (13 digits) or seconds. */
int isf_oauth_parse_issued_at(const json_t *v, int64_t *ms);

/* RFC 7009 revocation at <instance_url or login_url>/services/oauth2/revoke. */
int isf_oauth_revoke(struct isf_ctx *ctx, const struct isf_org_view *org, const char *token,
                     struct isf_error *err);

#endif
