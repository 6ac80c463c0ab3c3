/* OAuth 2.0 client machinery shared by every auth mode (RFC 6749, 7009). */
#ifndef ISF_OAUTH_H
#define ISF_OAUTH_H

#include "internal.h"

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
