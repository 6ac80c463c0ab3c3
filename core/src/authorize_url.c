/* PKCE, state, the authorization URL and the loopback redirect URI check (authorize_url.h). */
#include "authorize_url.h"

#include "http.h"
#include "util.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int isf_random_b64url(size_t bytes, char *out, size_t cap)
{
    unsigned char buf[96];
    if (bytes == 0 || bytes > sizeof(buf) || RAND_bytes(buf, (int)bytes) != 1)
        return -1;
    size_t n = isf_b64url_nopad(buf, bytes, out, cap);
    isf_wipe(buf, sizeof(buf));
    return n ? 0 : -1;
}

/* RFC 7636 4.1: code-verifier = 43*128unreserved. */
static int valid_verifier(const char *v)
{
    size_t n = strlen(v);
    if (n < 43 || n > 128)
        return 0;
    for (const char *p = v; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '.' || *p == '_' || *p == '~'))
            return 0;
    return 1;
}

int isf_pkce_challenge(const char *verifier, char *out, size_t cap)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    if (!valid_verifier(verifier) ||
        EVP_Digest(verifier, strlen(verifier), md, &md_len, EVP_sha256(), NULL) != 1)
        return -1;
    return isf_b64url_nopad(md, md_len, out, cap) ? 0 : -1;
}

static int bad_redirect(const char *uri, const char *why, struct isf_error *err)
{
    return isf_err_set(err, ISF_E_USAGE,
                       "redirect URI '%s' %s; use a loopback URI such as "
                       "http://localhost:1717/OauthRedirect (http://localhost, 127.0.0.1 or "
                       "[::1], an explicit port, a path) and register the same callback URL "
                       "on the app",
                       uri, why);
}

int isf_redirect_parse(const char *uri, struct isf_redirect *out, struct isf_error *err)
{
    static const struct {
        const char *prefix;
        int ipv6;
    } hosts[] = {{"http://localhost:", 0}, {"http://127.0.0.1:", 0}, {"http://[::1]:", 1}};
    memset(out, 0, sizeof(*out));
    if (!uri || !*uri)
        return bad_redirect("", "is empty", err);
    const char *rest = NULL;
    for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
        size_t n = strlen(hosts[i].prefix);
        if (strncmp(uri, hosts[i].prefix, n) == 0) {
            rest = uri + n;
            out->ipv6 = hosts[i].ipv6;
            break;
        }
    }
    if (!rest)
        return bad_redirect(uri, "is not an http loopback address with a port", err);
    unsigned long port = 0;
    const char *p = rest;
    while (*p >= '0' && *p <= '9' && p - rest < 6)
        port = port * 10 + (unsigned long)(*p++ - '0');
    if (p == rest || port == 0 || port > 65535)
        return bad_redirect(uri, "has no valid port (1-65535)", err);
    if (*p != '/')
        return bad_redirect(uri, "has no path after the port", err);
    size_t plen = strlen(p);
    if (strpbrk(p, "?#") || plen >= sizeof(out->path))
        return bad_redirect(uri, "has a query, a fragment or a path that is too long", err);
    for (const char *c = p; *c; c++)
        if ((unsigned char)*c <= ' ' || (unsigned char)*c >= 0x7f)
            return bad_redirect(uri, "contains spaces or control characters", err);
    out->port = (unsigned)port;
    memcpy(out->path, p, plen + 1);
    return ISF_OK;
}

/* Appends "&key=<escaped value>" (no '&' for the first) to *buf; 0 ok, -1 out of memory. */
static int append_param(char **buf, size_t *len, size_t *cap, const char *key, const char *value)
{
    char *ev = isf_url_escape(value);
    if (!ev)
        return -1;
    size_t need = *len + strlen(key) + strlen(ev) + 3;
    if (need > *cap) {
        size_t ncap = need * 2;
        char *nb = realloc(*buf, ncap);
        if (!nb) {
            free(ev);
            return -1;
        }
        *buf = nb;
        *cap = ncap;
    }
    *len += (size_t)snprintf(*buf + *len, *cap - *len, "%s%s=%s",
                             (*buf)[*len - 1] == '?' ? "" : "&", key, ev);
    free(ev);
    return 0;
}

char *isf_authorize_url(const struct isf_authorize_request *r)
{
    size_t n = strlen(r->login_url);
    while (n && r->login_url[n - 1] == '/')
        n--;
    char *buf = isf_aprintf("%.*s/services/oauth2/authorize?", (int)n, r->login_url);
    if (!buf)
        return NULL;
    size_t len = strlen(buf), cap = len + 1;
    const char *scope = r->scope && *r->scope ? r->scope : ISF_DEFAULT_SCOPE;
    const char *pairs[] = {"response_type",
                           "code",
                           "client_id",
                           r->client_id,
                           "redirect_uri",
                           r->redirect_uri,
                           "scope",
                           scope,
                           "state",
                           r->state,
                           "code_challenge",
                           r->challenge,
                           "code_challenge_method",
                           "S256",
                           "prompt",
                           r->prompt,
                           "login_hint",
                           r->login_hint};
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i += 2) {
        if (!pairs[i + 1] || !*pairs[i + 1])
            continue; /* prompt and login_hint are optional */
        if (append_param(&buf, &len, &cap, pairs[i], pairs[i + 1]) != 0) {
            free(buf);
            return NULL;
        }
    }
    return buf;
}
