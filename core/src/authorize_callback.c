/* Parsing and judging the authorization redirect (authorize_callback.h). */
#include "authorize_callback.h"

#include "util.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

static int set_once(struct isf_callback *cb, char **field, const char *value)
{
    if (*field) {
        cb->duplicate = 1;
        return 0;
    }
    if (strlen(value) > ISF_CALLBACK_VALUE_MAX) {
        cb->too_long = 1;
        return 0;
    }
    *field = strdup(value);
    return *field ? 0 : -1;
}

int isf_callback_add(struct isf_callback *cb, const char *name, const char *value)
{
    if (strcmp(name, "code") == 0)
        return set_once(cb, &cb->code, value);
    if (strcmp(name, "state") == 0)
        return set_once(cb, &cb->state, value);
    if (strcmp(name, "error") == 0)
        return set_once(cb, &cb->error, value);
    if (strcmp(name, "error_description") == 0)
        return set_once(cb, &cb->error_description, value);
    return 0;
}

/* Decode n bytes of form-encoded text into out (n + 1 bytes); a malformed %XX stays as is. */
static void form_decode(const char *s, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (s[i] == '+') {
            out[o++] = ' ';
        } else if (s[i] == '%' && i + 2 < n &&
                   (hi = OPENSSL_hexchar2int((unsigned char)s[i + 1])) >= 0 &&
                   (lo = OPENSSL_hexchar2int((unsigned char)s[i + 2])) >= 0) {
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
}

int isf_callback_parse_query(struct isf_callback *cb, const char *text)
{
    const char *q = strchr(text, '?');
    q = q ? q + 1 : text;
    size_t qlen = strcspn(q, "#\r\n");
    int rc = 0;
    while (qlen > 0 && rc == 0) {
        size_t plen = strcspn(q, "&");
        if (plen > qlen)
            plen = qlen;
        const char *eq = memchr(q, '=', plen);
        size_t klen = eq ? (size_t)(eq - q) : plen;
        size_t vlen = eq ? plen - klen - 1 : 0;
        char *key = malloc(klen + 1), *val = malloc(vlen + 1);
        if (!key || !val) {
            rc = -1;
        } else {
            form_decode(q, klen, key);
            form_decode(eq ? eq + 1 : "", vlen, val);
            rc = isf_callback_add(cb, key, val);
        }
        free(key);
        if (val)
            isf_free_secret(val); /* it may be the code */
        q += plen;
        qlen -= plen;
        if (qlen > 0) { /* skip the '&' */
            q++;
            qlen--;
        }
    }
    return rc;
}

int isf_callback_present(const struct isf_callback *cb)
{
    return cb->code || cb->state || cb->error;
}

/* RFC 6749 4.1.2.1: server_error and temporarily_unavailable are worth a retry; the rest
 * (access_denied, invalid_request, unauthorized_client, unsupported_response_type,
 * invalid_scope, and whatever else an org sends) needs a person to change something. */
static int error_status(const char *error)
{
    return strcmp(error, "server_error") == 0 || strcmp(error, "temporarily_unavailable") == 0
               ? ISF_E_TRANSIENT
               : ISF_E_AUTH;
}

/* Printable ASCII only: the description comes from the network and ends up on a terminal. */
static void sanitize(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    for (const char *p = in; *p && o + 1 < cap; p++)
        out[o++] = ((unsigned char)*p >= ' ' && (unsigned char)*p < 0x7f) ? *p : '?';
    out[o] = '\0';
}

int isf_callback_check(const struct isf_callback *cb, const char *org, const char *expected_state,
                       struct isf_error *err)
{
    if (cb->duplicate || cb->too_long)
        return isf_err_set(
            err, ISF_E_AUTH,
            "org %s: the login redirect %s; nothing was stored; run isyncsf org "
            "connect %s again",
            org, cb->duplicate ? "repeated a parameter" : "carried an oversized value", org);
    size_t n = strlen(expected_state);
    if (!cb->state || strlen(cb->state) != n || CRYPTO_memcmp(cb->state, expected_state, n) != 0)
        return isf_err_set(err, ISF_E_AUTH,
                           "org %s: the login redirect has %s state, so it does not answer this "
                           "login (a stale tab or a forged request); nothing was stored; run "
                           "isyncsf org connect %s again and finish the login in the page it opens",
                           org, cb->state ? "the wrong" : "no", org);
    if (cb->error) {
        char error[64], desc[256];
        sanitize(cb->error, error, sizeof(error));
        sanitize(cb->error_description ? cb->error_description : "no description", desc,
                 sizeof(desc));
        int rc = error_status(cb->error);
        if (strcmp(cb->error, "access_denied") == 0)
            return isf_err_set(err, rc,
                               "org %s: access was denied at the login page (%s); nothing was "
                               "stored; run isyncsf org connect %s and choose Allow",
                               org, desc, org);
        return isf_err_set(
            err, rc, "org %s: the org refused the authorization request: %s (%s); %s", org, error,
            desc,
            rc == ISF_E_TRANSIENT ? "try again later"
                                  : "check the app's callback URL, scopes and OAuth settings, then "
                                    "run isyncsf org connect again");
    }
    if (!cb->code || !*cb->code)
        return isf_err_set(err, ISF_E_AUTH,
                           "org %s: the login redirect carried no authorization code; nothing was "
                           "stored; run isyncsf org connect %s again",
                           org, org);
    return ISF_OK;
}

void isf_callback_clear(struct isf_callback *cb)
{
    isf_free_secret(cb->code);
    free(cb->state);
    free(cb->error);
    free(cb->error_description);
    memset(cb, 0, sizeof(*cb));
}
