/* The JWT bearer grant (RFC 7523) as Salesforce checks it: an RS256 assertion signed with the key
 * of a registered client (--jwt-client ID:PEM), iss = the client id, aud = the login host, exp in
 * the future and at most a few minutes ahead, sub = a username. */
#include "fake_org.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JWT_MAX_AHEAD_S 300 /* Salesforce wants exp within ~3 minutes; allow some clock skew */

EVP_PKEY *fo_jwt_load_key(const char *path)
{
    FILE *f = fopen(path, "r");
    EVP_PKEY *key = NULL;
    X509 *cert;

    if (!f)
        return NULL;
    key = PEM_read_PUBKEY(f, NULL, NULL, NULL);
    if (!key) { /* a certificate (what one uploads to Salesforce) will do too */
        rewind(f);
        cert = PEM_read_X509(f, NULL, NULL, NULL);
        if (cert) {
            key = X509_get_pubkey(cert);
            X509_free(cert);
        }
    }
    fclose(f);
    ERR_clear_error();
    if (key && EVP_PKEY_base_id(key) != EVP_PKEY_RSA) {
        EVP_PKEY_free(key);
        key = NULL;
    }
    return key;
}

static json_t *decode_json(const char *s, size_t len)
{
    size_t n = 0;
    unsigned char *raw = fo_base64_decode(s, len, true, &n);
    json_t *v = raw ? json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, NULL) : NULL;

    free(raw);
    if (v && !json_is_object(v)) {
        json_decref(v);
        v = NULL;
    }
    return v;
}

static bool signature_ok(EVP_PKEY *key, const char *signed_part, size_t signed_len,
                         const char *sig_b64, size_t sig_b64_len)
{
    size_t sig_len = 0;
    unsigned char *sig = fo_base64_decode(sig_b64, sig_b64_len, true, &sig_len);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    bool ok =
        sig && md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
        EVP_DigestVerify(md, sig, sig_len, (const unsigned char *)signed_part, signed_len) == 1;

    EVP_MD_CTX_free(md);
    free(sig);
    ERR_clear_error();
    return ok;
}

static bool audience_ok(const struct fo_server *srv, const json_t *aud)
{
    size_t n = strlen(srv->base_url);
    const char *s = json_string_value(aud);
    size_t i;
    json_t *v;

    if (json_is_array(aud)) {
        json_array_foreach(aud, i, v)
        {
            if (audience_ok(srv, v))
                return true;
        }
        return false;
    }
    return s && strncmp(s, srv->base_url, n) == 0 && (s[n] == '\0' || strcmp(s + n, "/") == 0);
}

const char *fo_jwt_check(struct fo_server *srv, const char *assertion, int *client)
{
    const char *dot1 = strchr(assertion, '.');
    const char *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
    json_t *header = NULL, *claims = NULL;
    const char *desc = "invalid assertion";
    const char *iss, *sub, *alg;
    json_t *exp;
    int64_t now;

    if (!dot1 || !dot2 || strchr(dot2 + 1, '.'))
        goto out;
    header = decode_json(assertion, (size_t)(dot1 - assertion));
    claims = decode_json(dot1 + 1, (size_t)(dot2 - dot1 - 1));
    if (!header || !claims)
        goto out;
    alg = json_string_value(json_object_get(header, "alg"));
    iss = json_string_value(json_object_get(claims, "iss"));
    sub = json_string_value(json_object_get(claims, "sub"));
    exp = json_object_get(claims, "exp");
    if (!alg || strcmp(alg, "RS256") != 0 || !iss || !*iss)
        goto out;
    *client = -1;
    for (int i = 0; i < srv->nclients; i++) {
        if (srv->clients[i].jwt_key && strcmp(srv->clients[i].id, iss) == 0)
            *client = i;
    }
    if (*client < 0) {
        desc = "user hasn't approved this consumer";
        goto out;
    }
    if (!signature_ok(srv->clients[*client].jwt_key, assertion, (size_t)(dot2 - assertion),
                      dot2 + 1, strlen(dot2 + 1)))
        goto out;
    if (!audience_ok(srv, json_object_get(claims, "aud"))) {
        desc = "audience is invalid";
        goto out;
    }
    now = fo_now_ms() / 1000;
    if (!json_is_integer(exp))
        goto out;
    if (json_integer_value(exp) <= now) {
        desc = "expired JWT";
        goto out;
    }
    if (json_integer_value(exp) > now + JWT_MAX_AHEAD_S)
        goto out; /* Salesforce: "invalid assertion" for a far-off expiry */
    if (!sub || !*sub)
        goto out;
    desc = NULL;
out:
    json_decref(header);
    json_decref(claims);
    return desc;
}
