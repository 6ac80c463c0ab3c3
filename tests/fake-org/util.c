/* Stateless helpers: random tokens, Salesforce IDs, form and Basic-auth parsing, base64, PKCE. */
#include "fake_org.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Fills out[0..len) from alphabet and terminates it. The modulo bias is irrelevant here: these
 * values only need to be unique and unguessable enough for tests. */
int fo_random_string(char *out, size_t len, const char *alphabet)
{
    unsigned char raw[256];
    size_t n = strlen(alphabet);
    size_t done = 0;

    while (done < len) {
        size_t chunk = len - done < sizeof(raw) ? len - done : sizeof(raw);
        if (RAND_bytes(raw, (int)chunk) != 1)
            return -1;
        for (size_t i = 0; i < chunk; i++)
            out[done + i] = alphabet[raw[i] % n];
        done += chunk;
    }
    out[len] = '\0';
    return 0;
}

/* The 18-character form of a 15-character ID: three suffix letters that encode, per 5-character
 * chunk, which characters are upper case, so clients that check IDs accept ours. */
void fo_salesforce_id(const char *id15, char out[19])
{
    static const char map[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

    memcpy(out, id15, 15);
    for (int chunk = 0; chunk < 3; chunk++) {
        int bits = 0;
        for (int i = 0; i < 5; i++) {
            char c = id15[chunk * 5 + i];
            if (c >= 'A' && c <= 'Z')
                bits |= 1 << i;
        }
        out[15 + chunk] = map[bits];
    }
    out[18] = '\0';
}

bool fo_salesforce_id_valid(const char *id)
{
    char expect[19];

    if (strlen(id) != 18)
        return false;
    for (int i = 0; i < 18; i++) {
        if (!isalnum((unsigned char)id[i]))
            return false;
    }
    fo_salesforce_id(id, expect);
    return strcmp(expect, id) == 0;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes one application/x-www-form-urlencoded component of len bytes into a new string. */
static char *form_decode(const char *s, size_t len)
{
    char *out = malloc(len + 1);
    size_t o = 0;

    if (!out)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '+') {
            out[o++] = ' ';
        } else if (s[i] == '%' && i + 2 < len && hex_value(s[i + 1]) >= 0 &&
                   hex_value(s[i + 2]) >= 0) {
            out[o++] = (char)(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return out;
}

/* The decoded value of the first `name=` field of a urlencoded body, or NULL if absent. */
char *fo_form_get(const char *body, size_t len, const char *name)
{
    size_t name_len = strlen(name);
    const char *p = body;
    const char *end = body + len;

    while (p && p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *field_end = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(field_end - p));
        if (eq && (size_t)(eq - p) == name_len && memcmp(p, name, name_len) == 0)
            return form_decode(eq + 1, (size_t)(field_end - eq - 1));
        p = amp ? amp + 1 : NULL;
    }
    return NULL;
}

/* A base64 digit's value; strict_url accepts only the URL-safe alphabet (RFC 4648 §5). */
static int b64_value(char c, bool strict_url)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-' || (c == '+' && !strict_url))
        return 62;
    if (c == '_' || (c == '/' && !strict_url))
        return 63;
    return -1;
}

unsigned char *fo_base64_decode(const char *s, size_t len, bool strict_url, size_t *out_len)
{
    unsigned char *out = malloc(len + 1);
    unsigned acc = 0;
    int bits = 0;
    size_t o = 0;

    if (!out || (strict_url && len % 4 == 1)) {
        free(out);
        return NULL;
    }
    for (size_t i = 0; i < len && (strict_url || s[i] != '='); i++) {
        int v = b64_value(s[i], strict_url);
        if (v < 0) {
            free(out);
            return NULL;
        }
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)((acc >> bits) & 0xff);
        }
    }
    out[o] = '\0';
    if (out_len)
        *out_len = o;
    return out;
}

/* Splits an `Authorization: Basic base64(id:secret)` header. */
bool fo_basic_auth(const char *header, char **id, char **secret)
{
    char *plain = NULL;
    char *colon;

    if (!header || !fo_starts_with_ci(header, "Basic "))
        return false;
    header += 6;
    while (*header == ' ')
        header++;
    plain = (char *)fo_base64_decode(header, strlen(header), false, NULL);
    if (!plain)
        return false;
    colon = strchr(plain, ':');
    if (!colon) {
        fo_wipe_free(plain);
        return false;
    }
    *colon = '\0';
    *id = strdup(plain);
    *secret = strdup(colon + 1);
    fo_wipe_free(plain);
    if (!*id || !*secret) {
        free(*id);
        fo_wipe_free(*secret);
        return false;
    }
    return true;
}

char *fo_base64(const unsigned char *data, size_t len, bool url)
{
    char *out = malloc(4 * ((len + 2) / 3) + 1);

    if (!out)
        return NULL;
    EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    if (url) {
        /* RFC 4648 §5 without padding, as PKCE's code_challenge uses. */
        for (char *p = out; *p; p++) {
            if (*p == '+')
                *p = '-';
            else if (*p == '/')
                *p = '_';
            else if (*p == '=')
                *p = '\0';
        }
    }
    return out;
}

bool fo_pkce_matches(const char *verifier, const char *challenge)
{
    unsigned char digest[SHA256_DIGEST_LENGTH];
    char *expect;
    bool ok;

    SHA256((const unsigned char *)verifier, strlen(verifier), digest);
    expect = fo_base64(digest, sizeof(digest), true);
    ok = expect && strcmp(expect, challenge) == 0;
    free(expect);
    return ok;
}

/* Salesforce's `signature`: base64(HMAC-SHA256(id URL + issued_at)) under a private key. */
char *fo_hmac_signature(const unsigned char key[32], const char *id, const char *issued_at)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    char msg[512];

    snprintf(msg, sizeof(msg), "%s%s", id, issued_at);
    if (!HMAC(EVP_sha256(), key, 32, (const unsigned char *)msg, strlen(msg), md, &mdlen))
        return NULL;
    return fo_base64(md, mdlen, false);
}

const char *fo_ci_find(const char *hay, const char *needle)
{
    size_t n = strlen(needle);

    for (; *hay; hay++) {
        if (strncasecmp(hay, needle, n) == 0)
            return hay;
    }
    return NULL;
}

bool fo_starts_with_ci(const char *s, const char *prefix)
{
    return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

char *fo_url_encode(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = malloc(strlen(s) * 3 + 1);
    char *o = out;

    if (!out)
        return NULL;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            *o++ = (char)c;
        } else {
            *o++ = '%';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    *o = '\0';
    return out;
}

/* Release names follow a fixed cycle: 62.0 = Winter '25, then Spring, Summer, Winter '26 = 65.0. */
void fo_api_label(const char *version, char *out, size_t size)
{
    static const char *season[] = {"Winter", "Spring", "Summer"};
    long k = strtol(version, NULL, 10) - 62;
    long year = 25 + (k >= 0 ? k / 3 : -((-k + 2) / 3));
    long idx = ((k % 3) + 3) % 3;

    snprintf(out, size, "%s '%02ld", season[idx], ((year % 100) + 100) % 100);
}

int64_t fo_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Secrets and tokens are wiped before their memory goes back to the allocator. */
void fo_wipe_free(char *s)
{
    if (!s)
        return;
    OPENSSL_cleanse(s, strlen(s));
    free(s);
}
