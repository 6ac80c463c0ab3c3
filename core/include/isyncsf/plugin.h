/*
 * isyncsf plugin ABI — the one header a plugin needs.
 *
 * A plugin is a shared object that exports exactly two symbols:
 *
 *   ISF_PLUGIN_EXPORT const struct isf_abi_version isyncsf_plugin_abi;
 *   ISF_PLUGIN_EXPORT int isyncsf_plugin_init(const struct isf_host *host,
 *                                             const struct isf_plugin_descriptor **out,
 *                                             struct isf_error *err);
 *
 * The core reads `isyncsf_plugin_abi` before running any plugin code: the major version must equal
 * ISF_ABI_MAJOR, the minor may be lower or equal. Then it calls `isyncsf_plugin_init`, which hands
 * back a pointer to a `static const` descriptor. Every struct that crosses the boundary starts with
 * `struct_size`; the core copies only as many bytes as the plugin declared, zero-fills the rest,
 * and checks that the mandatory operations are present. Minor versions only append members at the
 * end of a struct; a member is never removed, reordered or retyped within one major version.
 *
 * Conventions for every operation:
 *  - Return 0 (ISF_OK) on success, a negative ISF_E_* code on failure. On failure the plugin fills
 *    `err` (with host->error_set) so the message says what went wrong and what to do.
 *  - Inputs are borrowed for the duration of the call. Whoever allocates frees; memory handed
 *    across the boundary is allocated with host->alloc and released with host->free (or
 *    host->free_secret for secrets, which wipes before freeing).
 *  - Plugins never print, exit, abort or install signal handlers; they log through host->log.
 *  - Plugins never log or put into an error message a token, a secret or a password.
 *  - The core serialises calls into one plugin instance (no two ops of one instance run at once).
 *  - The core destroys every instance (destroy/close) before it dlclose()s the plugin.
 */
#ifndef ISYNCSF_PLUGIN_H
#define ISYNCSF_PLUGIN_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ABI 1.0: the first stable layout. 1.1 appends host->exec_capture (and struct
 * isf_exec_status) for plugins that run a helper command, and host->json_object_key for plugins
 * that read a mapping whose keys they do not know in advance (an ISF_OPT_MAP option). */
#define ISF_ABI_MAJOR 1
#define ISF_ABI_MINOR 1

#define ISF_PLUGIN_EXPORT __attribute__((visibility("default")))
#define ISF_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))

/* Names of the two exported symbols. */
#define ISF_PLUGIN_ABI_SYMBOL "isyncsf_plugin_abi"
#define ISF_PLUGIN_INIT_SYMBOL "isyncsf_plugin_init"

/* Status codes. 0 is success; negative values are errors; each maps to one CLI exit code. */
enum isf_status {
    ISF_OK = 0,
    ISF_E_FAILED = -1,      /* anything not covered below (exit 1) */
    ISF_E_USAGE = -2,       /* bad argument or setting given by the user (exit 2) */
    ISF_E_NOT_FOUND = -3,   /* org, plugin, credential, record absent (exit 3) */
    ISF_E_AUTH = -4,        /* a person must act: denied, invalid_grant, bad client (exit 4) */
    ISF_E_TRANSIENT = -5,   /* network, timeout, 5xx, rate limit, garbage answer (exit 5) */
    ISF_E_CONFIG = -6,      /* config or plugin error (exit 6) */
    ISF_E_STORE = -7,       /* store or key error: corrupt, undecryptable, unsafe (exit 7) */
    ISF_E_EXISTS = -8,      /* create of a record that already exists (exit 1) */
    ISF_E_CONFLICT = -9,    /* revision check failed: someone else wrote first (exit 7) */
    ISF_E_TIMEOUT = -10,    /* lock wait timed out (exit 7) */
    ISF_E_NOMEM = -11,      /* allocation failed (exit 1) */
    ISF_E_UNSUPPORTED = -12 /* the operation is not offered by this plugin (exit 1) */
};

/* ---------------------------------------------------------------------------------------------
 * Errors: a caller-owned struct; no heap string ever crosses the boundary.
 */
#define ISF_ERROR_MESSAGE_MAX 512
struct isf_error {
    uint32_t struct_size; /* sizeof(struct isf_error), set by whoever created it */
    int code;             /* an isf_status */
    char message[ISF_ERROR_MESSAGE_MAX];
};

/* ---------------------------------------------------------------------------------------------
 * ABI version data, exported by every plugin as `isyncsf_plugin_abi`.
 */
struct isf_abi_version {
    uint32_t major; /* must equal the core's ISF_ABI_MAJOR */
    uint32_t minor; /* the ISF_ABI_MINOR the plugin was built against */
};

#define ISF_DEFINE_PLUGIN_ABI()                                                                    \
    ISF_PLUGIN_EXPORT const struct isf_abi_version isyncsf_plugin_abi = {ISF_ABI_MAJOR,            \
                                                                         ISF_ABI_MINOR}

/* ---------------------------------------------------------------------------------------------
 * Declared options. The core validates the plugin's YAML `options:` mapping against this table
 * (unknown keys, wrong types and missing required options are config errors naming file, line
 * and key), applies defaults, and hands the plugin a validated `struct isf_opts`.
 */
enum isf_option_type {
    ISF_OPT_STRING = 1,
    ISF_OPT_INT = 2,         /* 64-bit signed */
    ISF_OPT_BOOL = 3,        /* true/false */
    ISF_OPT_PATH = 4,        /* a string; a leading ~/ is expanded to $HOME by the core */
    ISF_OPT_STRING_LIST = 5, /* a sequence of strings, e.g. an argv */
    ISF_OPT_MAP = 6          /* a free mapping handed on as JSON; the plugin validates inside */
};

struct isf_option_spec {
    const char *name; /* NULL terminates the table */
    enum isf_option_type type;
    const char *default_value; /* as text ("30", "true", "~/x"); NULL = no default */
    int required;              /* non-zero: the option must be given */
    const char *description;   /* one line, shown by `isyncsf plugins -v` */
};

struct isf_opts; /* opaque: validated options of one plugin instance */
struct isf_json; /* opaque: a JSON value owned by the host */

/* ---------------------------------------------------------------------------------------------
 * Org view: what the core tells an auth plugin about one org. Borrowed for one call; secrets
 * are plaintext here and wiped by the core right after the call.
 */
struct isf_org_view {
    uint32_t struct_size;
    const char *name;
    const char *login_url;        /* https URL of the login host or My Domain */
    const char *instance_url;     /* NULL until first connected */
    const char *client_id;        /* per-org client id, or NULL */
    const char *client_secret;    /* per-org client secret (plaintext), or NULL */
    const char *redirect_uri;     /* web server modes, or NULL */
    const char *scope;            /* requested scope, or NULL */
    const char *named_credential; /* named-credential mode, or NULL */
    const char *access_token;     /* current access token (plaintext), or NULL */
    const char *refresh_token;    /* current refresh token (plaintext), or NULL */
};

/* Settings an auth plugin may check at `org add` / `org edit`. */
struct isf_org_settings_check {
    uint32_t struct_size;
    const struct isf_org_view *org;
    int has_client_secret; /* non-zero when a client secret is stored or being set */
};

/* Opaque: where a grant's outcome is recorded. Filled through host->oauth_token or
 * host->session_set; owned by the core. */
struct isf_session;

/* ---------------------------------------------------------------------------------------------
 * HTTP, as offered by the core: TLS verification always on, timeouts, size cap, proxy.
 */
struct isf_http_request {
    uint32_t struct_size;
    const char *method;         /* "GET", "POST" */
    const char *url;            /* https only */
    const char *const *headers; /* NULL-terminated "Name: value" lines, or NULL */
    const char *body;           /* request body, or NULL */
    size_t body_len;
    int sensitive; /* non-zero: the body/headers carry secrets (never logged) */
};

struct isf_http_response {
    uint32_t struct_size;
    long status; /* HTTP status code */
    char *body;  /* NUL-terminated; allocated by the host; free with host->http_free */
    size_t body_len;
    char *content_type; /* allocated by the host, or NULL */
};

/* ---------------------------------------------------------------------------------------------
 * Running a helper command (host->exec_capture, added in 1.1).
 */
/* How a command ended. The output is kept only for EXITED and SIGNALED. */
enum isf_exec_outcome {
    ISF_EXEC_EXITED = 0,      /* it exited by itself: exit_code (0 = success) */
    ISF_EXEC_SIGNALED = 1,    /* a signal not sent by us ended it: signal */
    ISF_EXEC_TIMEOUT = 2,     /* still running at the time limit: killed (SIGKILL) and reaped */
    ISF_EXEC_TOO_BIG = 3,     /* printed more than the cap: killed and reaped */
    ISF_EXEC_NOT_STARTED = 4, /* could not be started (not found, not executable...): sys_errno */
    ISF_EXEC_READ_ERROR = 5   /* reading its stdout failed (sys_errno): killed and reaped */
};

#define ISF_EXEC_STDERR_MAX 256
struct isf_exec_status {
    uint32_t struct_size; /* set by the caller */
    int outcome;          /* an enum isf_exec_outcome */
    int exit_code;        /* EXITED: the exit status (0-255); else 0 */
    int signal;           /* SIGNALED: the signal number; else 0 */
    int sys_errno;        /* NOT_STARTED, READ_ERROR: the errno value; else 0 */
    /* EXITED, SIGNALED: the first bytes (at most ISF_EXEC_STDERR_MAX - 1) the command printed on
     * stderr, NUL-terminated, and their count; the rest was dropped. Else empty. It may hold a
     * secret: redact it before showing any of it, and never log it whole. */
    uint32_t stderr_len;
    char stderr_head[ISF_EXEC_STDERR_MAX];
};

/* ---------------------------------------------------------------------------------------------
 * The host service table, handed to isyncsf_plugin_init and to every create/open. It is const and
 * lives until the plugin is unloaded. All functions are safe to call from the thread that calls
 * into the plugin.
 */
enum isf_log_level { ISF_LOG_ERROR = 0, ISF_LOG_WARN = 1, ISF_LOG_INFO = 2, ISF_LOG_DEBUG = 3 };

struct isf_host {
    uint32_t struct_size;
    struct isf_abi_version abi; /* the core's ABI version */
    const char *core_version;   /* e.g. "0.1.0" */
    void *host_data;            /* core-private; do not touch */

    /* Memory. free_secret wipes `len` bytes (or strlen+1 when len is 0) before freeing. */
    void *(*alloc)(const struct isf_host *h, size_t size);
    void (*free)(const struct isf_host *h, void *p);
    void (*free_secret)(const struct isf_host *h, void *p, size_t len);
    char *(*strdup)(const struct isf_host *h, const char *s);
    void (*wipe)(const struct isf_host *h, void *p, size_t len);

    /* Logging (tagged with the plugin name by the core) and errors. */
    void (*log)(const struct isf_host *h, enum isf_log_level level, const char *fmt, ...)
        ISF_PRINTF(3, 4);
    int (*error_set)(const struct isf_host *h, struct isf_error *err, int code, const char *fmt,
                     ...) ISF_PRINTF(4, 5); /* returns code */

    /* Options of this plugin instance (defaults applied). Strings are borrowed from the opts. */
    const char *(*opt_string)(const struct isf_host *h, const struct isf_opts *o, const char *key);
    int64_t (*opt_int)(const struct isf_host *h, const struct isf_opts *o, const char *key);
    int (*opt_bool)(const struct isf_host *h, const struct isf_opts *o, const char *key);
    size_t (*opt_list_size)(const struct isf_host *h, const struct isf_opts *o, const char *key);
    const char *(*opt_list_get)(const struct isf_host *h, const struct isf_opts *o, const char *key,
                                size_t i);
    const struct isf_json *(*opt_json)(const struct isf_host *h, const struct isf_opts *o,
                                       const char *key);

    /* JSON: parse returns a value to release with json_free; getters borrow from it. */
    struct isf_json *(*json_parse)(const struct isf_host *h, const char *text, size_t len,
                                   struct isf_error *err);
    void (*json_free)(const struct isf_host *h, struct isf_json *v);
    const struct isf_json *(*json_get)(const struct isf_host *h, const struct isf_json *obj,
                                       const char *key);
    const char *(*json_string)(const struct isf_host *h, const struct isf_json *v);    /* or NULL */
    int (*json_int)(const struct isf_host *h, const struct isf_json *v, int64_t *out); /* 0 ok */
    size_t (*json_array_size)(const struct isf_host *h, const struct isf_json *v);
    const struct isf_json *(*json_array_get)(const struct isf_host *h, const struct isf_json *v,
                                             size_t i);

    /* Randomness (CSPRNG) and time. */
    int (*random_bytes)(const struct isf_host *h, void *buf, size_t len);
    int64_t (*now_ms)(const struct isf_host *h); /* wall clock, ms since the epoch */

    /* HTTP. Free the response with http_free (wipes the body). */
    int (*http)(const struct isf_host *h, const struct isf_http_request *req,
                struct isf_http_response *resp, struct isf_error *err);
    void (*http_free)(const struct isf_host *h, struct isf_http_response *resp);

    /* OAuth 2.0 machinery. oauth_token posts `form` (NULL-terminated key, value pairs) to the
     * org's token endpoint (login_url + /services/oauth2/token), adds client authentication from
     * org->client_id / org->client_secret (client_secret_post or _basic, as configured), parses
     * the token response and records it in `out`. Error responses map to ISF_E_AUTH (invalid_grant,
     * invalid_client, ...) or ISF_E_TRANSIENT (5xx, timeout, rate limit, malformed answer), with
     * Salesforce's error_description in the message. */
    int (*oauth_token)(const struct isf_host *h, const struct isf_org_view *org,
                       const char *const *form, struct isf_session *out, struct isf_error *err);
    /* RFC 7009 revocation of one token at the org. An already invalid token counts as revoked. */
    int (*oauth_revoke)(const struct isf_host *h, const struct isf_org_view *org, const char *token,
                        struct isf_error *err);
    /* Record a session obtained another way (e.g. from an external helper). expires_at_ms may be
     * 0 when unknown; the core then applies the session TTL. */
    int (*session_set)(const struct isf_host *h, struct isf_session *out, const char *access_token,
                       const char *instance_url, const char *refresh_token, int64_t issued_at_ms,
                       int64_t expires_at_ms, struct isf_error *err);
    /* ABI 1.0 ends here. Later minor versions append below. */

    /* Added in 1.1 (check h->struct_size covers it before use). Run argv[0] (looked up in PATH
     * when it has no '/') directly, never through a shell, with the environment `envp`
     * (NULL-terminated "NAME=value"; pass an explicit minimal list), stdin on /dev/null, stderr
     * captured into st->stderr_head (its start only; it never reaches isyncsf's own stderr or
     * log), and a time limit of timeout_ms (> 0) past which it is killed and reaped. Its
     * stdout is collected up to out_cap bytes (at most 16 MiB); more ends the run as TOO_BIG.
     * Returns ISF_OK when *st says how the command ended, whatever that was; then for EXITED and
     * SIGNALED *out is a NUL-terminated host allocation of *out_len bytes that the caller releases
     * with free_secret (it may hold a secret), else *out is NULL. Other returns are ISF_E_USAGE
     * (bad arguments), ISF_E_NOMEM or ISF_E_FAILED, with err set. Nothing of the output is
     * logged. */
    int (*exec_capture)(const struct isf_host *h, char *const argv[], char *const envp[],
                        long timeout_ms, size_t out_cap, char **out, size_t *out_len,
                        struct isf_exec_status *st, struct isf_error *err);
    /* Added in 1.1. The i-th key (0-based, in document order) of a JSON object, with its value in
     * *value (borrowed from obj); NULL past the last key or when obj is not an object. */
    const char *(*json_object_key)(const struct isf_host *h, const struct isf_json *obj, size_t i,
                                   const struct isf_json **value);
    /* ABI 1.1 ends here. */
};

/* ---------------------------------------------------------------------------------------------
 * Plugin kinds, capabilities and descriptor.
 */
enum isf_plugin_kind { ISF_PLUGIN_AUTH = 1, ISF_PLUGIN_STORE = 2 };

/* Capability bits of an auth plugin. */
#define ISF_CAP_INTERACTIVE (1u << 0)    /* connect needs a person (browser) */
#define ISF_CAP_REFRESHABLE (1u << 1)    /* refresh renews the session without a person */
#define ISF_CAP_PER_ORG_SECRET (1u << 2) /* the org record holds a client id and secret */
#define ISF_CAP_NO_TOKEN_STORE (1u << 3) /* tokens are never written to the store */
#define ISF_CAP_REVOCABLE (1u << 4)      /* revoke invalidates the grant at the org */

struct isf_plugin_descriptor {
    uint32_t struct_size;
    enum isf_plugin_kind kind;
    const char *name;        /* "auth-<mode>" or "store-<backend>"; must match [a-z0-9-]+ */
    const char *version;     /* the plugin's own version, e.g. "1.2.0" */
    const char *description; /* one line */
    uint32_t capabilities;   /* ISF_CAP_* (auth plugins) */
    const struct isf_option_spec *options; /* NULL-name terminated, or NULL for none */
    const void *ops; /* struct isf_auth_ops or struct isf_store_ops, per kind */
};

/* ---------------------------------------------------------------------------------------------
 * Auth plugins. Mandatory: create, destroy, check_settings, connect, refresh.
 */
struct isf_auth_ops {
    uint32_t struct_size;
    /* One instance per loaded plugin; `opts` lives as long as the instance. */
    int (*create)(const struct isf_host *host, const struct isf_opts *opts, void **instance,
                  struct isf_error *err);
    void (*destroy)(void *instance);
    /* At org add/edit: say whether the org's settings are complete for this mode
     * (ISF_E_USAGE with what to add). No network. */
    int (*check_settings)(void *instance, const struct isf_org_settings_check *check,
                          struct isf_error *err);
    /* Obtain a session for the org (first connection). Record it in `out`. */
    int (*connect)(void *instance, const struct isf_org_view *org, struct isf_session *out,
                   struct isf_error *err);
    /* Renew the session without a person. ISF_E_AUTH when the grant is gone for good. */
    int (*refresh)(void *instance, const struct isf_org_view *org, struct isf_session *out,
                   struct isf_error *err);
    /* Optional: revoke the grant at the org. NULL = nothing to revoke (local clear only). */
    int (*revoke)(void *instance, const struct isf_org_view *org, struct isf_error *err);
    /* ABI 1.0 ends here. */
};

/* ---------------------------------------------------------------------------------------------
 * Store plugins keep opaque record bytes (secrets inside are already sealed by the core) with a
 * revision number. Mandatory: every op below.
 */
struct isf_blob {
    void *data; /* allocated by the plugin with host->alloc; the caller frees with host->free */
    size_t len;
};

/* Called once per record name; return non-zero to stop early. */
typedef int (*isf_store_list_cb)(void *arg, const char *name);

struct isf_store_ops {
    uint32_t struct_size;
    int (*open)(const struct isf_host *host, const struct isf_opts *opts, void **store,
                struct isf_error *err);
    void (*close)(void *store);
    /* Read a record and its revision (>= 1). ISF_E_NOT_FOUND when absent; ISF_E_STORE (naming
     * the record) when it is truncated or corrupt. */
    int (*get)(void *store, const char *name, struct isf_blob *out, uint64_t *revision,
               struct isf_error *err);
    /* Write atomically. expected_revision 0 = create (ISF_E_EXISTS if present); otherwise the
     * current revision must equal it (ISF_E_CONFLICT if not). *new_revision gets the new one.
     * Must not block on (or be blocked by) the caller's own `lock` of the same record. */
    int (*put)(void *store, const char *name, const void *data, size_t len,
               uint64_t expected_revision, uint64_t *new_revision, struct isf_error *err);
    /* Delete with the same revision check; ISF_E_NOT_FOUND when absent. expected_revision 0
     * deletes whatever revision is there (used to drop a record too corrupt to read). */
    int (*remove)(void *store, const char *name, uint64_t expected_revision, struct isf_error *err);
    /* Every record name, in no particular order. */
    int (*list)(void *store, isf_store_list_cb cb, void *arg, struct isf_error *err);
    /* An exclusive per-record lock that holds across processes (single-flight refresh).
     * Waits up to timeout_ms (ISF_E_TIMEOUT after; timeout_ms <= 0 tries once). The lock is
     * released by unlock, or when the process dies. The record need not exist. */
    int (*lock)(void *store, const char *name, int timeout_ms, void **lock, struct isf_error *err);
    void (*unlock)(void *store, void *lock);
    /* ABI 1.0 ends here. */
};

/* The init function's type, for the loader. */
typedef int (*isf_plugin_init_fn)(const struct isf_host *host,
                                  const struct isf_plugin_descriptor **out, struct isf_error *err);

#ifdef __cplusplus
}
#endif
#endif /* ISYNCSF_PLUGIN_H */
