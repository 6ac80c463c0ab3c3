/*
 * auth-jwt-bearer: the OAuth 2.0 JWT Bearer flow (RFC 7523) as Salesforce runs it — what
 * `sf org login jwt` does. No person and no client secret: the plugin signs a short-lived
 * assertion (RS256) with the private key whose certificate is uploaded to the External Client App
 * (or Connected App), and posts it to the org's token endpoint:
 *
 *   grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<JWT>
 *
 * Claims: iss = the app's consumer key (the org's --client-id), sub = the Salesforce username
 * (the `username` option), aud = the login host (the org's --login-url), exp = now + 180 s.
 * There is no refresh token; "refreshing" signs a new assertion.
 *
 * An example of a third-party plugin built only against the installed isyncsf SDK.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* open flags, fstat */
#endif
#include <isyncsf/plugin.h>

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define JWT_GRANT_TYPE "urn:ietf:params:oauth:grant-type:jwt-bearer"
#define JWT_LIFETIME_S 180 /* Salesforce accepts at most 3 minutes */
#define KEY_FILE_MAX (64 * 1024)

struct jb_instance {
    const struct isf_host *host;
    const char *key_file; /* borrowed from the opts, which live as long as the instance */
    const char *username;
};

static const struct isf_option_spec jb_options[] = {
    {"private_key_file", ISF_OPT_PATH, NULL, 1,
     "PEM RSA private key whose certificate is uploaded to the app (mode 0600)"},
    {"username", ISF_OPT_STRING, NULL, 1,
     "Salesforce username the assertion is issued for (its sub claim)"},
    {NULL, 0, NULL, 0, NULL},
};

static int jb_create(const struct isf_host *host, const struct isf_opts *opts, void **instance,
                     struct isf_error *err)
{
    const char *key_file = host->opt_string(host, opts, "private_key_file");
    const char *username = host->opt_string(host, opts, "username");
    if (!key_file || !*key_file)
        return host->error_set(host, err, ISF_E_CONFIG,
                               "auth-jwt-bearer: option private_key_file is empty");
    if (!username || !*username)
        return host->error_set(host, err, ISF_E_CONFIG,
                               "auth-jwt-bearer: option username is empty");
    struct jb_instance *jb = host->alloc(host, sizeof(*jb));
    if (!jb)
        return host->error_set(host, err, ISF_E_NOMEM, "out of memory");
    jb->host = host;
    jb->key_file = key_file;
    jb->username = username;
    *instance = jb;
    return ISF_OK;
}

static void jb_destroy(void *instance)
{
    struct jb_instance *jb = instance;
    if (jb)
        jb->host->free(jb->host, jb);
}

static int jb_check_settings(void *instance, const struct isf_org_settings_check *check,
                             struct isf_error *err)
{
    struct jb_instance *jb = instance;
    const struct isf_host *h = jb->host;
    const struct isf_org_view *org = check->org;
    if (!org->login_url || strncasecmp(org->login_url, "https://", 8) != 0)
        return h->error_set(h, err, ISF_E_USAGE,
                            "org %s: mode jwt-bearer needs an https --login-url (the assertion's "
                            "audience: https://login.salesforce.com, https://test.salesforce.com "
                            "or the org's My Domain)",
                            org->name);
    if (!org->client_id || !*org->client_id)
        return h->error_set(h, err, ISF_E_USAGE,
                            "org %s: mode jwt-bearer needs --client-id (the consumer key of the "
                            "app holding the certificate)",
                            org->name);
    if (check->has_client_secret)
        h->log(h, ISF_LOG_WARN,
               "org %s: mode jwt-bearer does not use a client secret; it is ignored", org->name);
    return ISF_OK;
}

/* ---- the assertion ------------------------------------------------------------------------- */

/* base64url without padding (RFC 7515 §2) of len bytes into out (room for 4*ceil(len/3)+1). */
static size_t b64url(const unsigned char *in, size_t len, char *out)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        unsigned long v = (unsigned long)in[i] << 16;
        if (i + 1 < len)
            v |= (unsigned long)in[i + 1] << 8;
        if (i + 2 < len)
            v |= in[i + 2];
        out[o++] = tbl[(v >> 18) & 63];
        out[o++] = tbl[(v >> 12) & 63];
        if (i + 1 < len)
            out[o++] = tbl[(v >> 6) & 63];
        if (i + 2 < len)
            out[o++] = tbl[v & 63];
    }
    out[o] = '\0';
    return o;
}

/* Appends s as a JSON string (quotes included) at out[*n]; the caller sized out for 6x + 2. */
static void json_str(char *out, size_t *n, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    out[(*n)++] = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            out[(*n)++] = '\\';
            out[(*n)++] = (char)*p;
        } else if (*p < 0x20) {
            out[(*n)++] = '\\';
            out[(*n)++] = 'u';
            out[(*n)++] = '0';
            out[(*n)++] = '0';
            out[(*n)++] = hex[*p >> 4];
            out[(*n)++] = hex[*p & 15];
        } else {
            out[(*n)++] = (char)*p;
        }
    }
    out[(*n)++] = '"';
}

static void append(char *out, size_t *n, const char *s)
{
    size_t l = strlen(s);
    memcpy(out + *n, s, l);
    *n += l;
}

/* The audience is the login host as given, without trailing slashes. */
static size_t aud_len(const char *login_url)
{
    size_t n = strlen(login_url);
    while (n > 8 && login_url[n - 1] == '/')
        n--;
    return n;
}

/* {"iss":...,"sub":...,"aud":...,"exp":N}, host-allocated. */
static char *claims_json(const struct isf_host *h, const char *iss, const char *sub,
                         const char *login_url, long long exp)
{
    size_t alen = aud_len(login_url);
    size_t cap = 6 * (strlen(iss) + strlen(sub) + alen) + 96;
    char *aud = h->alloc(h, alen + 1);
    char *out = h->alloc(h, cap);
    char num[32];
    size_t n = 0;
    if (!aud || !out) {
        h->free(h, aud);
        h->free(h, out);
        return NULL;
    }
    memcpy(aud, login_url, alen);
    aud[alen] = '\0';
    snprintf(num, sizeof(num), "%lld", exp);
    append(out, &n, "{\"iss\":");
    json_str(out, &n, iss);
    append(out, &n, ",\"sub\":");
    json_str(out, &n, sub);
    append(out, &n, ",\"aud\":");
    json_str(out, &n, aud);
    append(out, &n, ",\"exp\":");
    append(out, &n, num);
    append(out, &n, "}");
    out[n] = '\0';
    h->free(h, aud);
    return out;
}

/* Never prompt for a passphrase (a plugin must not touch the terminal). */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return -1;
}

/* Loads the RSA private key, refusing a file that group or others may read. */
static int load_key(struct jb_instance *jb, const char *org_name, EVP_PKEY **out,
                    struct isf_error *err)
{
    const struct isf_host *h = jb->host;
    struct stat st;
    int fd = open(jb->key_file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return h->error_set(h, err, ISF_E_CONFIG,
                            "org %s: cannot open the private key file %s: %s (option "
                            "private_key_file of auth-jwt-bearer)",
                            org_name, jb->key_file, strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return h->error_set(h, err, ISF_E_CONFIG,
                            "org %s: the private key file %s is not a regular file", org_name,
                            jb->key_file);
    }
    if (st.st_mode & 077) {
        close(fd);
        return h->error_set(h, err, ISF_E_CONFIG,
                            "org %s: the private key file %s may be read by others (mode %03o); "
                            "refusing it: chmod 600 %s",
                            org_name, jb->key_file, (unsigned)(st.st_mode & 0777), jb->key_file);
    }
    if (st.st_uid != geteuid()) {
        close(fd);
        return h->error_set(h, err, ISF_E_CONFIG,
                            "org %s: the private key file %s belongs to another user; refusing "
                            "it (chown it, then chmod 600 %s)",
                            org_name, jb->key_file, jb->key_file);
    }
    if (st.st_size <= 0 || st.st_size > KEY_FILE_MAX) {
        close(fd);
        return h->error_set(h, err, ISF_E_CONFIG,
                            "org %s: the private key file %s is empty or too large", org_name,
                            jb->key_file);
    }
    size_t size = (size_t)st.st_size, got = 0;
    char *pem = h->alloc(h, size);
    if (!pem) {
        close(fd);
        return h->error_set(h, err, ISF_E_NOMEM, "out of memory");
    }
    while (got < size) {
        ssize_t r = read(fd, pem + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    EVP_PKEY *pkey = NULL;
    BIO *bio = got == size ? BIO_new_mem_buf(pem, (int)size) : NULL;
    if (bio) {
        pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
        BIO_free(bio);
    }
    h->free_secret(h, pem, size);
    ERR_clear_error();
    if (!pkey)
        return h->error_set(h, err, ISF_E_CONFIG,
                            "org %s: %s is not an unencrypted PEM private key (make one with "
                            "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out %s)",
                            org_name, jb->key_file, jb->key_file);
    if (EVP_PKEY_base_id(pkey) != EVP_PKEY_RSA) {
        EVP_PKEY_free(pkey);
        return h->error_set(h, err, ISF_E_CONFIG,
                            "org %s: %s is not an RSA key; Salesforce wants RS256 (RSA, SHA-256)",
                            org_name, jb->key_file);
    }
    *out = pkey;
    return ISF_OK;
}

/* header.claims.signature, host-allocated (release with free_secret). */
static int make_assertion(struct jb_instance *jb, const struct isf_org_view *org, char **out,
                          struct isf_error *err)
{
    const struct isf_host *h = jb->host;
    static const char header_b64[] = "eyJhbGciOiJSUzI1NiJ9"; /* {"alg":"RS256"} */
    EVP_PKEY *pkey = NULL;
    int rc = load_key(jb, org->name, &pkey, err);
    if (rc != ISF_OK)
        return rc;

    long long exp = (long long)(h->now_ms(h) / 1000) + JWT_LIFETIME_S;
    char *claims = claims_json(h, org->client_id, jb->username, org->login_url, exp);
    size_t sig_cap = (size_t)EVP_PKEY_size(pkey);
    unsigned char *sig = h->alloc(h, sig_cap > 0 ? sig_cap : 1);
    char *jwt = NULL;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!claims || !sig || !md) {
        rc = h->error_set(h, err, ISF_E_NOMEM, "out of memory");
        goto done;
    }
    size_t clen = strlen(claims);
    size_t cap = sizeof(header_b64) + 1 + 4 * ((clen + 2) / 3) + 1 + 4 * ((sig_cap + 2) / 3) + 1;
    jwt = h->alloc(h, cap);
    if (!jwt) {
        rc = h->error_set(h, err, ISF_E_NOMEM, "out of memory");
        goto done;
    }
    size_t n = sizeof(header_b64) - 1;
    memcpy(jwt, header_b64, n);
    jwt[n++] = '.';
    n += b64url((const unsigned char *)claims, clen, jwt + n);
    size_t siglen = sig_cap;
    if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pkey) != 1 ||
        EVP_DigestSign(md, sig, &siglen, (const unsigned char *)jwt, n) != 1) {
        ERR_clear_error();
        rc = h->error_set(h, err, ISF_E_FAILED, "org %s: signing the JWT with %s failed", org->name,
                          jb->key_file);
        goto done;
    }
    jwt[n++] = '.';
    b64url(sig, siglen, jwt + n);
    *out = jwt;
    jwt = NULL;
done:
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(pkey);
    if (jwt)
        h->free_secret(h, jwt, 0);
    h->free(h, sig);
    h->free(h, claims);
    return rc;
}

/* connect and refresh alike: a fresh assertion for every session. */
static int jb_grant(void *instance, const struct isf_org_view *org, struct isf_session *out,
                    struct isf_error *err)
{
    struct jb_instance *jb = instance;
    const struct isf_host *h = jb->host;
    if (!org->login_url || !org->client_id)
        return h->error_set(h, err, ISF_E_USAGE,
                            "org %s has no login URL or client id; set them with isyncsf org edit",
                            org->name);
    char *assertion = NULL;
    int rc = make_assertion(jb, org, &assertion, err);
    if (rc != ISF_OK)
        return rc;
    /* The assertion is the client's authentication: send neither client_id nor client_secret
     * (the core adds them from the view, so hand it a copy without them). */
    struct isf_org_view view;
    memset(&view, 0, sizeof(view));
    size_t n = org->struct_size < sizeof(view) ? org->struct_size : sizeof(view);
    memcpy(&view, org, n);
    view.struct_size = (uint32_t)sizeof(view);
    view.client_id = NULL;
    view.client_secret = NULL;
    const char *form[] = {"grant_type", JWT_GRANT_TYPE, "assertion", assertion, NULL, NULL};
    rc = h->oauth_token(h, &view, form, out, err);
    h->free_secret(h, assertion, 0);
    return rc;
}

static const struct isf_auth_ops jb_ops = {
    .struct_size = sizeof(struct isf_auth_ops),
    .create = jb_create,
    .destroy = jb_destroy,
    .check_settings = jb_check_settings,
    .connect = jb_grant,
    .refresh = jb_grant,
    .revoke = NULL, /* nothing to revoke but the short-lived access token: cleared locally */
};

static const struct isf_plugin_descriptor jb_descriptor = {
    .struct_size = sizeof(struct isf_plugin_descriptor),
    .kind = ISF_PLUGIN_AUTH,
    .name = "auth-jwt-bearer",
    .version = "0.1.0",
    .description = "OAuth 2.0 JWT bearer flow: an RS256 assertion signed with the app's key",
    .capabilities = ISF_CAP_REFRESHABLE,
    .options = jb_options,
    .ops = &jb_ops,
};

ISF_DEFINE_PLUGIN_ABI();

ISF_PLUGIN_EXPORT int isyncsf_plugin_init(const struct isf_host *host,
                                          const struct isf_plugin_descriptor **out,
                                          struct isf_error *err)
{
    /* Only ABI 1.0 services are used. */
    if (!host || host->struct_size < offsetof(struct isf_host, session_set) + sizeof(void *)) {
        if (err)
            err->code = ISF_E_CONFIG;
        return ISF_E_CONFIG;
    }
    *out = &jb_descriptor;
    return ISF_OK;
}
