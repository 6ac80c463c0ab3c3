/* host->oauth_authorize: the whole web server flow (RFC 6749 4.1 + PKCE, RFC 7636, on a loopback
 * redirect, RFC 8252), run for the org being connected by isf_org_connect. */
#ifndef ISF_AUTHORIZE_H
#define ISF_AUTHORIZE_H

#include "internal.h"

#define ISF_DEFAULT_REDIRECT_URI "http://localhost:1717/OauthRedirect"
#define ISF_DEFAULT_AUTHORIZE_TIMEOUT_S 300

/* Build the URL, listen, open the browser (or print the URL and read a pasted redirect), check
 * the state, exchange the code with the org's client credentials and record the session in out.
 * Only while ctx->connecting is set (ISF_E_UNSUPPORTED otherwise); see plugin.h for the codes. */
int isf_authorize(struct isf_ctx *ctx, const struct isf_org_view *org,
                  const struct isf_authorize_params *params, struct isf_session *out,
                  struct isf_error *err);

#endif
