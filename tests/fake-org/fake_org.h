/* fake-org: a small HTTPS server that imitates the parts of a Salesforce org that isyncsf talks to
 * (OAuth endpoints, REST versions/resources/queries), with a control API under /__fake/ that tests
 * use to change the org's answers and inject faults. Shared declarations of all its files. */
#ifndef FAKE_ORG_H
#define FAKE_ORG_H

#include <jansson.h>
#include <microhttpd.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define FO_MAX_CLIENTS 32
#define FO_MAX_API_VERSIONS 32
#define FO_MAX_FAULTS 32
#define FO_MAX_BODY (1024 * 1024)
#define FO_TOKEN_MAX 128 /* buffer size for any token value we issue */
#define FO_MAX_USERS 16
#define FO_MAX_CALLBACKS 64 /* --callback ID:URL, all clients together */
#define FO_MAX_PENDING 1024 /* authorization requests waiting for a login or a consent */
#define FO_PENDING_TTL 600  /* seconds a login or consent page stays usable */
#define FO_PENDING_ID_LEN 40
#define FO_DEFAULT_CODE_TTL 600 /* Salesforce codes live 15 min; 10 is plenty for a test */

enum fo_env { FO_ENV_PRODUCTION, FO_ENV_SANDBOX, FO_ENV_SCRATCH };

enum fo_package { FO_PKG_INSTALLED, FO_PKG_ABSENT, FO_PKG_FORBIDDEN, FO_PKG_FORBIDDEN_ALL };

/* The knobs a test may change at run time (POST /__fake/config); copied whole under the lock so a
 * handler always sees one consistent set. */
struct fo_knobs {
    enum fo_env env;
    enum fo_package package;
    char package_version[32];
    char namespace_prefix[64];
    char org_name[128];
    char username[128];
    long token_ttl;
    bool deny;
    bool rotate_refresh;
    bool issued_at_seconds;
    bool require_secret;
    bool login_form; /* authorize serves the login and consent pages instead of approving */
    long code_ttl;   /* seconds an authorization code lives; 0 = expired at once */
};

struct fo_client {
    char *id;
    char *secret;      /* "" for a client registered only by --jwt-client */
    EVP_PKEY *jwt_key; /* --jwt-client: the RSA key that verifies its assertions, or NULL */
};

/* --callback ID:URL: a redirect URI registered for a client (by id, so the flag order is free). */
struct fo_callback {
    char *client_id;
    char *url;
};

/* --user NAME:PASSWORD: who may log in on the login page. */
struct fo_user {
    char *name;
    char *password;
};

struct fo_counters {
    long token_requests;
    long token_grants;
    long revocations;
    long revoke_requests;
    long introspections;
    long userinfo;
    long authorize_requests;
    long rest_calls;
    long requests;
    long faults_injected;
    long logins;
    long login_failures;
    long consents_allowed;
    long consents_denied;
    long codes_issued;
    long codes_redeemed;
};

enum fo_fault_kind {
    FO_FAULT_STATUS,
    FO_FAULT_DELAY,
    FO_FAULT_MALFORMED,
    FO_FAULT_HUGE,
    FO_FAULT_UNAUTHORIZED,
    FO_FAULT_CLOSE,
};

struct fo_fault {
    char path_prefix[256]; /* empty: every non-control path */
    char client_id[128];   /* non-empty: only requests of this OAuth client (body or Basic) */
    enum fo_fault_kind kind;
    unsigned status;
    long delay_ms;
    long count; /* matching requests left; -1 = until reset */
    size_t bytes;
    char *body;         /* NULL: a Salesforce-like default for the status */
    char *content_type; /* NULL: guessed from the body */
};

enum fo_token_kind { FO_TOKEN_ACCESS, FO_TOKEN_REFRESH, FO_TOKEN_CODE };

struct fo_token {
    struct fo_token *next; /* hash chain */
    char *value;
    enum fo_token_kind kind;
    int client;
    uint64_t family; /* refresh-token family: a refresh token and what it issued; 0 = none */
    time_t issued_at;
    time_t expires_at; /* 0 = never; a revoked token is removed from the table */
    bool rotated;      /* a refresh token replaced under rotation; reusing it kills the family */
    char *scope;
    char *redirect_uri;   /* codes only */
    char *code_challenge; /* codes only; NULL without PKCE */
};

struct fo_token_table {
    struct fo_token **buckets;
    size_t nbuckets;
    size_t count;
    size_t purge_at;
    uint64_t next_family;
};

/* An authorization request on its way from GET /authorize to a code: what the code will carry. */
struct fo_authz {
    int client;
    char *redirect_uri;
    char *state;          /* NULL: the client sent none, and none is echoed */
    char *scope;          /* never NULL */
    char *code_challenge; /* NULL: no PKCE */
};

enum fo_pending_stage { FO_PENDING_LOGIN, FO_PENDING_CONSENT };

/* One page shown and waiting for its form: the id is the page's hidden field, single use. */
struct fo_pending {
    struct fo_pending *next;
    char id[FO_PENDING_ID_LEN + 1];
    enum fo_pending_stage stage;
    time_t expires_at;
    struct fo_authz authz;
};

/* What a handler learns about a token; a copy, so it stays valid after the lock is released. */
struct fo_token_info {
    enum fo_token_kind kind;
    int client;
    time_t issued_at;
    time_t expires_at;
    char scope[256];
};

struct fo_server {
    /* Fixed at start-up. */
    struct fo_client clients[FO_MAX_CLIENTS];
    int nclients;
    struct fo_callback callbacks[FO_MAX_CALLBACKS];
    int ncallbacks;
    struct fo_user users[FO_MAX_USERS];
    int nusers;
    char api_versions[FO_MAX_API_VERSIONS][8];
    int napi_versions;
    char org_id[19];
    char user_id[19];
    char base_url[64]; /* https://127.0.0.1:PORT, also the instance URL and login host */
    unsigned char sign_key[32];
    bool verbose;

    /* Everything below is guarded by lock. */
    pthread_mutex_t lock;
    pthread_cond_t wake; /* lets delay faults end early at shutdown */
    bool stopping;
    struct fo_knobs knobs;
    struct fo_counters counters;
    struct fo_fault faults[FO_MAX_FAULTS];
    int nfaults;
    struct fo_token_table tokens;
    struct fo_pending *pending;
    size_t npending;
};

/* Per-request state kept by MHD between the calls of the access handler. */
struct fo_request {
    struct MHD_Connection *conn;
    const char *method;
    const char *url;
    char *body;
    size_t body_len;
    size_t body_cap;
    bool body_too_large;
    unsigned status; /* answered status, for --verbose */
};

/* server.c: MHD callbacks, routing and answers. */
enum MHD_Result fo_access_handler(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls);
void fo_request_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                          enum MHD_RequestTerminationCode toe);
size_t fo_unescape(void *cls, struct MHD_Connection *conn, char *s);
enum MHD_Result fo_dispatch(struct fo_server *srv, struct fo_request *req);
enum MHD_Result fo_reply(struct fo_request *req, unsigned status, const char *content_type,
                         const char *body, size_t len, const char *hdr_name, const char *hdr_value);
enum MHD_Result fo_reply_json(struct fo_request *req, unsigned status, json_t *json);
enum MHD_Result fo_reply_json_hdr(struct fo_request *req, unsigned status, json_t *json,
                                  const char *hdr_name, const char *hdr_value);
enum MHD_Result fo_reply_rest_error(struct fo_request *req, unsigned status, const char *code,
                                    const char *message);
enum MHD_Result fo_reply_invalid_session(struct fo_request *req);
bool fo_method_is(const struct fo_request *req, const char *method);
const char *fo_header(const struct fo_request *req, const char *name);
const char *fo_query_arg(const struct fo_request *req, const char *name);

/* oauth.c: /services/oauth2/... */
enum MHD_Result fo_oauth_token(struct fo_server *srv, struct fo_request *req);
enum MHD_Result fo_oauth_revoke(struct fo_server *srv, struct fo_request *req);
enum MHD_Result fo_oauth_introspect(struct fo_server *srv, struct fo_request *req);
enum MHD_Result fo_oauth_userinfo(struct fo_server *srv, struct fo_request *req);
enum MHD_Result fo_identity(struct fo_server *srv, struct fo_request *req);

/* authorize.c: the browser's side of the web server flow (authorize, login form, consent). */
enum MHD_Result fo_oauth_authorize(struct fo_server *srv, struct fo_request *req);
enum MHD_Result fo_login_submit(struct fo_server *srv, struct fo_request *req);
enum MHD_Result fo_consent_submit(struct fo_server *srv, struct fo_request *req);

/* pages.c: the HTML pages (self-contained: no scripts, styles or images from elsewhere). */
enum MHD_Result fo_page_error(struct fo_request *req, unsigned status, const char *error,
                              const char *description);
enum MHD_Result fo_page_login(struct fo_request *req, const char *pending_id, const char *client_id,
                              const char *username, const char *error);
enum MHD_Result fo_page_consent(struct fo_request *req, const char *pending_id,
                                const char *client_id, const char *scope, const char *username);

/* pending.c: the pages waiting for their form (behind srv->lock). fo_pending_add copies authz;
 * fo_pending_take removes the entry and hands its authz over (free with fo_authz_free). */
void fo_authz_free(struct fo_authz *a);
int fo_pending_add(struct fo_server *srv, enum fo_pending_stage stage, const struct fo_authz *authz,
                   char id[FO_PENDING_ID_LEN + 1]);
bool fo_pending_take(struct fo_server *srv, const char *id, enum fo_pending_stage stage,
                     struct fo_authz *out);
void fo_pending_free_all(struct fo_server *srv);

/* accounts.c: users and registered callbacks (fixed at start-up, read without the lock). */
int fo_add_user(struct fo_server *srv, const char *arg);
int fo_add_callback(struct fo_server *srv, const char *arg);
int fo_accounts_finish(struct fo_server *srv);
void fo_accounts_free(struct fo_server *srv);
bool fo_user_ok(const struct fo_server *srv, const char *name, const char *password);
bool fo_redirect_allowed(const struct fo_server *srv, int client, const char *uri);
bool fo_is_loopback_url(const char *uri);

/* jwt.c: the JWT bearer grant's assertion. fo_jwt_check returns NULL when the assertion is good
 * (*client = its issuer), else Salesforce's error_description. */
EVP_PKEY *fo_jwt_load_key(const char *path);
const char *fo_jwt_check(struct fo_server *srv, const char *assertion, int *client);

/* rest.c: /services/data/... */
enum MHD_Result fo_rest_versions(struct fo_server *srv, struct fo_request *req);
enum MHD_Result fo_rest(struct fo_server *srv, struct fo_request *req);
bool fo_bearer_ok(struct fo_server *srv, const struct fo_request *req);

/* control.c: /__fake/... and the names of knob values. */
int fo_parse_env(const char *s, enum fo_env *out);
int fo_parse_package(const char *s, enum fo_package *out);
bool fo_package_version_valid(const char *s);
enum MHD_Result fo_control(struct fo_server *srv, struct fo_request *req);
enum MHD_Result fo_fault_answer(struct fo_server *srv, struct fo_request *req,
                                struct fo_fault *fault);

/* state.c: everything behind srv->lock. Functions named fo_state_* take the lock themselves. */
int fo_state_init(struct fo_server *srv);
void fo_state_free(struct fo_server *srv);
void fo_state_knobs(struct fo_server *srv, struct fo_knobs *out);
void fo_state_set_knobs(struct fo_server *srv, const struct fo_knobs *knobs);
long fo_state_count(struct fo_server *srv, long *counter);
void fo_state_counters(struct fo_server *srv, struct fo_counters *out, long *active_tokens);
void fo_state_reset(struct fo_server *srv);
int fo_state_add_fault(struct fo_server *srv, struct fo_fault *fault);
/* client_id: the request's OAuth client, or NULL when it names none. */
bool fo_state_take_fault(struct fo_server *srv, const char *url, const char *client_id,
                         struct fo_fault *out);
void fo_fault_clear(struct fo_fault *fault);
void fo_state_sleep_ms(struct fo_server *srv, long ms);
void fo_state_stop(struct fo_server *srv);
int fo_state_issue(struct fo_server *srv, enum fo_token_kind kind, int client, uint64_t family,
                   const char *scope, const char *redirect_uri, const char *code_challenge,
                   char *out, size_t out_size, time_t *issued_at);
uint64_t fo_state_new_family(struct fo_server *srv);
bool fo_state_lookup(struct fo_server *srv, const char *value, enum fo_token_kind kind,
                     struct fo_token_info *out);
bool fo_state_revoke(struct fo_server *srv, const char *value);
void fo_state_revoke_all(struct fo_server *srv);

enum fo_refresh_result { FO_REFRESH_OK, FO_REFRESH_INVALID, FO_REFRESH_WRONG_CLIENT };
enum fo_refresh_result fo_state_use_refresh(struct fo_server *srv, const char *value, int client,
                                            bool rotate, uint64_t *family, char *scope,
                                            size_t scope_size);

enum fo_code_result {
    FO_CODE_OK,
    FO_CODE_INVALID,
    FO_CODE_EXPIRED,
    FO_CODE_WRONG_CLIENT,
    FO_CODE_REDIRECT_MISMATCH,
    FO_CODE_VERIFIER_MISSING,
    FO_CODE_VERIFIER_MISMATCH,
};
enum fo_code_result fo_state_use_code(struct fo_server *srv, const char *code, int client,
                                      const char *redirect_uri, const char *verifier, char *scope,
                                      size_t scope_size);

/* util.c: small helpers without state. */
int fo_random_string(char *out, size_t len, const char *alphabet);
void fo_salesforce_id(const char *id15, char out[19]);
bool fo_salesforce_id_valid(const char *id);
char *fo_form_get(const char *body, size_t len, const char *name);
bool fo_basic_auth(const char *header, char **id, char **secret);
char *fo_base64(const unsigned char *data, size_t len, bool url);
/* Decodes s[0..len) into a new NUL-terminated buffer (*out_len bytes when non-NULL), or NULL.
 * strict_url: the URL-safe alphabet only, no padding (JWT segments); else either alphabet, with
 * optional padding (Basic auth). */
unsigned char *fo_base64_decode(const char *s, size_t len, bool strict_url, size_t *out_len);
bool fo_pkce_matches(const char *verifier, const char *challenge);
char *fo_hmac_signature(const unsigned char key[32], const char *id, const char *issued_at);
const char *fo_ci_find(const char *hay, const char *needle);
bool fo_starts_with_ci(const char *s, const char *prefix);
char *fo_url_encode(const char *s);
void fo_api_label(const char *version, char *out, size_t size);
int64_t fo_now_ms(void);
void fo_wipe_free(char *s);

#endif
