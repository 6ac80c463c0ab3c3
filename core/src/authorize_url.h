/* The front half of the OAuth 2.0 web server flow: the PKCE pair (RFC 7636), the state, the
 * authorization URL (RFC 6749 4.1.1) and the check of a loopback redirect URI (RFC 8252 7.3).
 * Pure functions apart from the randomness: unit-tested without a network. */
#ifndef ISF_AUTHORIZE_URL_H
#define ISF_AUTHORIZE_URL_H

#include "b64.h" /* isf_b64url_nopad */

#include <isyncsf/plugin.h>
#include <stddef.h>

/* 32 random bytes give a 43-character verifier (RFC 7636 4.1: 43..128 unreserved characters,
 * at least 256 bits of entropy recommended); the state gets 16 bytes (128 bits), as the issue
 * requires at least that much. */
#define ISF_PKCE_VERIFIER_BYTES 32
#define ISF_STATE_BYTES 16
/* base64url without padding of 32 bytes: 43 characters; of SHA-256: 43 as well. */
#define ISF_PKCE_TEXT_MAX 129

/* A fresh random string of `bytes` random bytes, base64url without padding. 0 ok, -1 when the
 * CSPRNG failed or it does not fit. */
int isf_random_b64url(size_t bytes, char *out, size_t cap);

/* The S256 code challenge of a verifier: base64url(SHA-256(verifier)) without padding.
 * 0 ok, -1 on failure (the verifier must be 43..128 unreserved characters). */
int isf_pkce_challenge(const char *verifier, char *out, size_t cap);

/* A redirect URI as RFC 8252 7.3 allows for a native app on this machine:
 * http://localhost|127.0.0.1|[::1]:PORT/path, an explicit port 1..65535, a path starting with '/'
 * (no query or fragment, no userinfo). */
struct isf_redirect {
    int ipv6;       /* [::1]: listen on ::1; else 127.0.0.1 */
    unsigned port;  /* 1..65535 */
    char path[256]; /* e.g. "/OauthRedirect" */
};
/* ISF_OK, or ISF_E_USAGE with a message that names the URI and shows the accepted form. */
int isf_redirect_parse(const char *uri, struct isf_redirect *out, struct isf_error *err);

/* What the authorization request carries besides the fixed parameters. */
struct isf_authorize_request {
    const char *login_url;    /* https://host (no trailing slash needed) */
    const char *client_id;    /* required */
    const char *redirect_uri; /* required */
    const char *scope;        /* NULL or "" = "api refresh_token" */
    const char *state;        /* required */
    const char *challenge;    /* required: the S256 code challenge */
    const char *prompt;       /* NULL or "" = not sent */
    const char *login_hint;   /* NULL or "" = not sent */
};
#define ISF_DEFAULT_SCOPE "api refresh_token"

/* <login_url>/services/oauth2/authorize?response_type=code&client_id=..&redirect_uri=..&scope=..
 * &state=..&code_challenge=..&code_challenge_method=S256[&prompt=..][&login_hint=..], every value
 * percent-encoded (RFC 3986 unreserved kept). malloc'd; NULL when out of memory. */
char *isf_authorize_url(const struct isf_authorize_request *r);

#endif
