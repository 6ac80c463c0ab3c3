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
 *  - Thread-safety: one plugin instance is only ever called by one thread at a time, so an
 *    instance's own state needs no lock. A process may open several library contexts (one per
 *    thread), each creating its own instances of the same loaded code: keep no mutable static
 *    state, or guard it. Host functions may be called from whichever thread calls the plugin.
 *  - Pointers the core hands in (host, opts, org views, names, data) are never NULL unless a
 *    member's comment says so.
 *
 * ABI history (every member is ABI 1.0 unless its comment says "Added in 1.1"):
 *   1.0  the first stable layout.
 *   1.1  struct isf_host: exec_capture, json_object_key (appended); struct isf_exec_status and
 *        enum isf_exec_outcome (new).
 *   1.2  struct isf_host: oauth_authorize (appended; struct isf_authorize_params new);
 *        struct isf_auth_ops: refresh_request (optional, appended; struct isf_token_request new);
 *        struct isf_store_ops: watch, changes (optional, appended).
 * A plugin built against 1.0 or 1.1 loads unchanged in a 1.2 core. A plugin that wants a member
 * added in a later minor checks host->struct_size covers it before calling it (see struct
 * isf_host).
 *
 * Building: hidden visibility (-fvisibility=hidden) so that only the two ISF_PLUGIN_EXPORT
 * symbols leave the module, and -Wl,-z,defs so that no undefined symbol remains. The installed
 * SDK does this for you: find_package(isyncsf) + isyncsf_add_plugin(), or
 * `pkg-config --cflags isyncsf-plugin`. See docs/plugins.md.
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
#define ISF_ABI_MINOR 2

#define ISF_PLUGIN_EXPORT __attribute__((visibility("default")))
#define ISF_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))

/* ISF_PLUGIN_EXPORT marks the two exported symbols (everything else stays hidden);
 * ISF_PRINTF lets the compiler check the format strings of host->log and host->error_set.
 * Names of the two exported symbols, as the loader looks them up: */
#define ISF_PLUGIN_ABI_SYMBOL "isyncsf_plugin_abi"
#define ISF_PLUGIN_INIT_SYMBOL "isyncsf_plugin_init"

/* Status codes. 0 is success; negative values are errors; each maps to one CLI exit code (shown
 * after each). Choose by what the user must do: ISF_E_AUTH stops automatic refresh until a person
 * reconnects, ISF_E_TRANSIENT makes the scheduler retry with backoff. Values never change within
 * a major version; new codes may be added in a minor version (treat an unknown one as FAILED). */
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
    int code;             /* an isf_status; set with the message by host->error_set */
    /* NUL-terminated, cut to fit. Says what went wrong and what to do; never a secret. Fill it
     * only through host->error_set; read it only after a failed call. */
    char message[ISF_ERROR_MESSAGE_MAX];
};

/* ---------------------------------------------------------------------------------------------
 * ABI version data, exported by every plugin as `isyncsf_plugin_abi`.
 */
struct isf_abi_version {
    uint32_t major; /* must equal the core's ISF_ABI_MAJOR */
    uint32_t minor; /* the ISF_ABI_MINOR the plugin was built against */
};

/* Defines `isyncsf_plugin_abi` as the version of the header compiled against. Put it once in a
 * plugin. A plugin that deliberately targets an older minor (to load in older cores) defines
 * the symbol by hand with that minor instead, and uses only members of that minor. */
#define ISF_DEFINE_PLUGIN_ABI()                                                                    \
    ISF_PLUGIN_EXPORT const struct isf_abi_version isyncsf_plugin_abi = {ISF_ABI_MAJOR,            \
                                                                         ISF_ABI_MINOR}

/* ---------------------------------------------------------------------------------------------
 * Declared options. The core validates the plugin's YAML `options:` mapping against this table
 * (unknown keys, wrong types and missing required options are config errors naming file, line
 * and key), applies defaults, and hands the plugin a validated `struct isf_opts`.
 */
enum isf_option_type {
    ISF_OPT_STRING = 1,      /* any string; read with opt_string */
    ISF_OPT_INT = 2,         /* 64-bit signed; read with opt_int */
    ISF_OPT_BOOL = 3,        /* true/false; read with opt_bool */
    ISF_OPT_PATH = 4,        /* a string; a leading ~/ is expanded to $HOME by the core */
    ISF_OPT_STRING_LIST = 5, /* a sequence of strings, e.g. an argv; opt_list_size/opt_list_get */
    ISF_OPT_MAP = 6          /* a free mapping handed on as JSON (opt_json); the plugin validates
                                inside, e.g. iterating with json_object_key (1.1) */
};

/* One declared option. A plugin's table is static const, ends with a {NULL} entry, and is read
 * by the core (never written). A string option whose value starts with "${data_dir}" gets
 * isyncsf's data folder in its place. (Its member order is the ABI 1.0 layout and stays, padding
 * and all: a table of many options trips clang-tidy's padding check, hence the NOLINT.) */
struct isf_option_spec { // NOLINT(clang-analyzer-optin.performance.Padding)
    const char *name;    /* the key under `options:` in YAML; NULL terminates the table */
    enum isf_option_type type;
    const char *default_value; /* as text ("30", "true", "~/x"); NULL = no default */
    int required;              /* non-zero: the option must be given */
    const char *description;   /* one line, shown by `isyncsf plugins -v` */
};

struct isf_opts; /* opaque: validated options of one plugin instance; lives as long as it */
struct isf_json; /* opaque: a JSON value owned by the host; read with the host->json_* calls */

/* ---------------------------------------------------------------------------------------------
 * Org view: what the core tells an auth plugin about one org. Borrowed for one call; secrets
 * are plaintext here and wiped by the core right after the call.
 */
struct isf_org_view {
    uint32_t struct_size;         /* sizeof(struct isf_org_view) of the core */
    const char *name;             /* the org's name in isyncsf (never NULL) */
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

/* Settings an auth plugin may check at `org add` / `org edit`. Borrowed for one call. */
struct isf_org_settings_check {
    uint32_t struct_size;           /* sizeof(struct isf_org_settings_check) of the core */
    const struct isf_org_view *org; /* the settings as they will be stored; client_secret,
                                       access_token and refresh_token are NULL here */
    int has_client_secret;          /* non-zero when a client secret is stored or being set */
};

/* Opaque: where a grant's outcome is recorded. Filled through host->oauth_token or
 * host->session_set; owned by the core. */
struct isf_session;

/* ---------------------------------------------------------------------------------------------
 * HTTP, as offered by the core: TLS verification always on, timeouts, size cap, proxy.
 */
/* Filled by the plugin (any storage; borrowed by the host for the call). */
struct isf_http_request {
    uint32_t struct_size;       /* sizeof(struct isf_http_request) */
    const char *method;         /* "GET", "POST" */
    const char *url;            /* https only */
    const char *const *headers; /* NULL-terminated "Name: value" lines, or NULL */
    const char *body;           /* request body, or NULL */
    size_t body_len;            /* bytes of body (0 with a NULL body) */
    int sensitive;              /* non-zero: the body/headers carry secrets (never logged) */
};

/* Filled by host->http; the plugin sets struct_size and zeroes the rest before the call. */
struct isf_http_response {
    uint32_t struct_size; /* sizeof(struct isf_http_response), set by the caller */
    long status;          /* HTTP status code */
    char *body;           /* NUL-terminated; allocated by the host; free with host->http_free */
    size_t body_len;      /* bytes of body, without the terminating NUL */
    char *content_type;   /* allocated by the host, or NULL */
};

/* ---------------------------------------------------------------------------------------------
 * Running a helper command (host->exec_capture). Added in 1.1, with everything down to the host
 * table.
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
    uint32_t struct_size; /* set by the caller: sizeof(struct isf_exec_status) */
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
 * lives until the plugin is unloaded; keep the pointer, never copy the table. Every function
 * takes it as its first argument. All functions are safe to call from the thread that calls into
 * the plugin. Every member is always set (non-NULL) by a core whose struct_size covers it.
 *
 * Members added by a later minor version exist only when the core is that new. Before using one,
 * check that the table covers it:
 *
 *   #define HOST_HAS(h, m) ((h)->struct_size >= offsetof(struct isf_host, m) + sizeof((h)->m))
 *   if (!HOST_HAS(host, exec_capture))
 *       return host->error_set(host, err, ISF_E_UNSUPPORTED, "needs isyncsf plugin ABI 1.1");
 *
 * (A plugin exporting minor 1 is refused by a 1.0 core anyway; the check matters for a plugin
 * that exports a lower minor and uses the newer member only when present.)
 */
enum isf_log_level { ISF_LOG_ERROR = 0, ISF_LOG_WARN = 1, ISF_LOG_INFO = 2, ISF_LOG_DEBUG = 3 };

/* Added in 1.2: what an interactive mode may ask of host->oauth_authorize besides the org view.
 * NULL members mean the default. */
struct isf_authorize_params {
    uint32_t struct_size;   /* sizeof(struct isf_authorize_params) the plugin was built with */
    const char *prompt;     /* OAuth `prompt` ("login", "consent", "select_account"...), or NULL */
    const char *login_hint; /* a username to pre-fill on the login page, or NULL */
};

struct isf_host {
    uint32_t struct_size;       /* sizeof(struct isf_host) of the core: what members it has */
    struct isf_abi_version abi; /* the core's ABI version */
    const char *core_version;   /* e.g. "0.1.0" */
    void *host_data;            /* core-private; do not touch */

    /* Memory. alloc returns NULL when out of memory (size 0 gives a valid 1-byte block);
     * free and free_secret accept NULL. free_secret wipes `len` bytes (or strlen+1 when len is
     * 0) before freeing: use it for anything that held a secret. strdup(NULL) returns NULL.
     * wipe zeroes memory in a way the compiler cannot drop. Memory from these is released with
     * these, never with the C library's free (and the other way round). */
    void *(*alloc)(const struct isf_host *h, size_t size);
    void (*free)(const struct isf_host *h, void *p);
    void (*free_secret)(const struct isf_host *h, void *p, size_t len);
    char *(*strdup)(const struct isf_host *h, const char *s);
    void (*wipe)(const struct isf_host *h, void *p, size_t len);

    /* Logging (tagged with the plugin name by the core; cut at 1 KiB; never a secret) and
     * errors. error_set formats the message into err (cut to fit), sets err->code and returns
     * `code`, so `return host->error_set(host, err, ISF_E_USAGE, "...")` is the idiom. */
    void (*log)(const struct isf_host *h, enum isf_log_level level, const char *fmt, ...)
        ISF_PRINTF(3, 4);
    int (*error_set)(const struct isf_host *h, struct isf_error *err, int code, const char *fmt,
                     ...) ISF_PRINTF(4, 5); /* returns code */

    /* Options of this plugin instance (validated, defaults applied), by declared name. Strings,
     * list items and JSON are borrowed from the opts and live as long as the instance. An
     * option that is absent (not given, no default) reads as NULL, 0, false or 0 items; reading
     * an option as another type than declared gives the same. */
    const char *(*opt_string)(const struct isf_host *h, const struct isf_opts *o, const char *key);
    int64_t (*opt_int)(const struct isf_host *h, const struct isf_opts *o, const char *key);
    int (*opt_bool)(const struct isf_host *h, const struct isf_opts *o, const char *key);
    size_t (*opt_list_size)(const struct isf_host *h, const struct isf_opts *o, const char *key);
    const char *(*opt_list_get)(const struct isf_host *h, const struct isf_opts *o, const char *key,
                                size_t i);
    const struct isf_json *(*opt_json)(const struct isf_host *h, const struct isf_opts *o,
                                       const char *key);

    /* JSON. json_parse parses `len` bytes of text (any JSON value; duplicate keys rejected) into a
     * value released with json_free; on bad JSON it returns NULL and sets err (ISF_E_TRANSIENT,
     * since bad JSON usually comes from a server). The getters borrow from their argument and
     * accept NULL: json_get returns NULL when obj is not an object or lacks the key;
     * json_string NULL when v is not a string; json_int returns 0 and sets *out for an integer,
     * non-zero otherwise; json_array_size is 0 and json_array_get NULL for a non-array or past
     * the end. */
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

    /* Randomness: fills buf with len bytes from the CSPRNG; ISF_OK, or ISF_E_FAILED when it
     * cannot (then do not use buf). Time: wall clock, for token expiry. */
    int (*random_bytes)(const struct isf_host *h, void *buf, size_t len);
    int64_t (*now_ms)(const struct isf_host *h); /* wall clock, ms since the epoch */

    /* HTTP through the core's libcurl setup: TLS verification always on, the configured CA file,
     * proxy, timeouts and response size cap. Returns ISF_OK when a response arrived, whatever
     * its status (check resp->status); ISF_E_TRANSIENT for network errors, timeouts and an
     * oversized answer; ISF_E_USAGE for a bad request (not https...), all with err set. Free
     * the response with http_free (wipes the body; safe on a zeroed response). */
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
    /* Record a session obtained another way (e.g. from an external helper). The strings are
     * copied (refresh_token may be NULL); issued_at_ms 0 means now; expires_at_ms may be 0 when
     * unknown, and the core then applies the session TTL. ISF_E_FAILED when access_token is
     * empty or instance_url is not https; ISF_E_NOMEM. */
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

    /* Added in 1.2. The whole OAuth 2.0 web server flow (RFC 6749 4.1 with PKCE, RFC 7636, on a
     * loopback redirect, RFC 8252), run by the core so every interactive mode behaves alike:
     * builds the authorization URL on org->login_url (client_id, redirect_uri, scope — default
     * "api refresh_token" — a fresh state and S256 code challenge, prompt), listens on the
     * redirect URI's loopback port, opens the browser ($BROWSER, else xdg-open) or, when the
     * user asked for --no-browser, prints the URL and also accepts the redirect URL pasted on
     * stdin; checks state; exchanges the code (grant_type=authorization_code with code,
     * redirect_uri, code_verifier and the client authentication of org->client_id and
     * org->client_secret) and records the session in `out`. Pass a copy of the org view with
     * client_id, client_secret and redirect_uri set to what the mode uses (e.g. one global
     * Connected App). Returns ISF_OK; ISF_E_AUTH when the user denied access, the redirect's
     * state did not match or the org refused the code; ISF_E_TRANSIENT when nobody completed
     * the login in time (connect --timeout) or the org could not be reached; ISF_E_USAGE for a
     * redirect URI that is not http://localhost|127.0.0.1|[::1]:PORT/path or a port already in
     * use; with err set. Only valid inside connect (ISF_E_UNSUPPORTED elsewhere, e.g. in
     * refresh: a person is not there). */
    int (*oauth_authorize)(const struct isf_host *h, const struct isf_org_view *org,
                           const struct isf_authorize_params *params, struct isf_session *out,
                           struct isf_error *err);
    /* ABI 1.2 ends here. */
};

/* ---------------------------------------------------------------------------------------------
 * Plugin kinds, capabilities and descriptor.
 */
enum isf_plugin_kind { ISF_PLUGIN_AUTH = 1, ISF_PLUGIN_STORE = 2 };

/* Capability bits of an auth plugin (descriptor->capabilities); a store plugin sets 0. */
#define ISF_CAP_INTERACTIVE (1u << 0)    /* connect needs a person (browser) */
#define ISF_CAP_REFRESHABLE (1u << 1)    /* refresh renews the session without a person */
#define ISF_CAP_PER_ORG_SECRET (1u << 2) /* the org record holds a client id and secret */
#define ISF_CAP_NO_TOKEN_STORE (1u << 3) /* tokens are never written to the store */
#define ISF_CAP_REVOCABLE (1u << 4)      /* revoke invalidates the grant at the org */

/* What isyncsf_plugin_init hands back: static const, read by the core until dlclose. The core
 * copies struct_size bytes of it (at least up to and including `ops`, the ABI 1.0 layout, or
 * the plugin is refused as too small). Every string is static and lives as long as the module. */
struct isf_plugin_descriptor {
    uint32_t struct_size;      /* sizeof(struct isf_plugin_descriptor) */
    enum isf_plugin_kind kind; /* auth or store; decides the type of `ops` */
    const char *name;          /* "auth-<mode>" or "store-<backend>"; must match [a-z0-9-]+ and,
                                  when loaded by name, equal the name asked for (the file name) */
    const char *version;       /* the plugin's own version, e.g. "1.2.0" */
    const char *description;   /* one line */
    uint32_t capabilities;     /* ISF_CAP_* (auth plugins) */
    const struct isf_option_spec *options; /* NULL-name terminated, or NULL for none */
    const void *ops; /* struct isf_auth_ops or struct isf_store_ops, per kind */
};

/* ---------------------------------------------------------------------------------------------
 * Auth plugins. Mandatory: create, destroy, check_settings, connect, refresh (a NULL one, or a
 * struct_size that ends before revoke, gets the plugin refused at load). All ABI 1.0.
 *
 * connect and refresh record their outcome in `out` through host->oauth_token or
 * host->session_set (never directly: the struct is opaque). The core then stores the tokens
 * sealed, unless the plugin has ISF_CAP_NO_TOKEN_STORE. Return codes: ISF_OK; ISF_E_AUTH when a
 * person must act (denied, invalid_grant, bad client or key); ISF_E_TRANSIENT when a retry may
 * work (network, 5xx, rate limit); ISF_E_USAGE or ISF_E_CONFIG for bad settings or options;
 * ISF_E_NOMEM; ISF_E_FAILED otherwise. `org` and its strings are borrowed for the call.
 */
/* Added in 1.2: one token-endpoint request, described by auth_ops->refresh_request. */
#define ISF_TOKEN_FORM_PAIRS 8
struct isf_token_request {
    uint32_t struct_size; /* set by the core: sizeof(struct isf_token_request) it was built with */
    const char *form[2 * ISF_TOKEN_FORM_PAIRS + 2]; /* "grant_type", "refresh_token", ..., NULL */
    const char *client_id;                          /* client authentication, or NULL */
    const char *client_secret;                      /* secret, or NULL */
};

struct isf_auth_ops {
    uint32_t struct_size; /* sizeof(struct isf_auth_ops) the plugin was built with */
    /* One instance per loaded plugin, after its options were validated; `opts` lives as long as
     * the instance, `host` as long as the plugin. Set *instance (anything, even NULL) and return
     * ISF_OK, or fail with err set (the plugin is then marked failed with that message). */
    int (*create)(const struct isf_host *host, const struct isf_opts *opts, void **instance,
                  struct isf_error *err);
    /* Release everything create allocated (wipe secrets). Called once, before dlclose. */
    void (*destroy)(void *instance);
    /* At org add/edit: say whether the org's settings are complete for this mode
     * (ISF_E_USAGE with what to add). No network. */
    int (*check_settings)(void *instance, const struct isf_org_settings_check *check,
                          struct isf_error *err);
    /* Obtain a session for the org (first connection). Record it in `out`. */
    int (*connect)(void *instance, const struct isf_org_view *org, struct isf_session *out,
                   struct isf_error *err);
    /* Renew the session without a person (org->refresh_token / access_token hold the current
     * ones, or NULL). ISF_E_AUTH when the grant is gone for good. Called by the scheduler and
     * on demand; a plugin without ISF_CAP_REFRESHABLE may answer ISF_E_AUTH. */
    int (*refresh)(void *instance, const struct isf_org_view *org, struct isf_session *out,
                   struct isf_error *err);
    /* Optional: revoke the grant at the org (typically host->oauth_revoke of the refresh or
     * access token). NULL = nothing to revoke (local clear only). An already invalid grant
     * counts as revoked (ISF_OK); ISF_E_TRANSIENT when the org could not be reached. */
    int (*revoke)(void *instance, const struct isf_org_view *org, struct isf_error *err);
    /* ABI 1.0 ends here. */

    /* Added in 1.2, optional (NULL = the core always calls refresh). Describe the renewal as one
     * request to <org->login_url>/services/oauth2/token instead of making it, so the refresh
     * scheduler can run thousands of them concurrently on one connection pool. Fill req->form
     * (name/value pairs, NULL-terminated, at most ISF_TOKEN_FORM_PAIRS pairs, without client
     * authentication) and req->client_id / req->client_secret (the core adds them per
     * http.client_auth, as for host->oauth_token). Every string must stay valid as long as `org`
     * does: point into `org`, the instance or static storage. The core parses the answer exactly
     * as host->oauth_token would. Return ISF_OK, ISF_E_UNSUPPORTED to have refresh called instead
     * for this org (e.g. a helper command must run), or ISF_E_AUTH when the grant is gone
     * (no refresh token). No I/O. */
    int (*refresh_request)(void *instance, const struct isf_org_view *org,
                           struct isf_token_request *req, struct isf_error *err);
    /* ABI 1.2 ends here. */
};

/* ---------------------------------------------------------------------------------------------
 * Store plugins keep opaque record bytes (secrets inside are already sealed by the core) with a
 * revision number. Mandatory: every op below.
 */
struct isf_blob {
    void *data; /* allocated by the plugin with host->alloc; the caller frees with host->free */
    size_t len; /* bytes of data (records are binary, not NUL-terminated) */
};

/* Called once per record name; return non-zero to stop early. `name` is borrowed for the
 * callback (copy it to keep it). */
typedef int (*isf_store_list_cb)(void *arg, const char *name);

/* Record names are org names (letters, digits, '.', '_', '-'; starting with a letter or digit;
 * at most 64 bytes), borrowed for the call; a record store may take them as file names. Every op
 * returns ISF_OK or an ISF_E_* with err set; besides the codes named below, ISF_E_STORE for an
 * I/O or safety problem (say which path and what to do) and ISF_E_NOMEM. All ABI 1.0. */
struct isf_store_ops {
    uint32_t struct_size; /* sizeof(struct isf_store_ops) the plugin was built with */
    /* Open the store (create its folder, connect to its database...) with the validated
     * options; `opts` lives as long as the store. Set *store; fail with err set (the plugin is
     * then marked failed and isyncsf says the store is unavailable, with that message). */
    int (*open)(const struct isf_host *host, const struct isf_opts *opts, void **store,
                struct isf_error *err);
    /* Release everything; no lock of this store is held any more. Called once, before dlclose. */
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
     * released by unlock, or when the process dies. The record need not exist. *lock gets a
     * handle (plugin-owned) that unlock takes back; it is never used after unlock. */
    int (*lock)(void *store, const char *name, int timeout_ms, void **lock, struct isf_error *err);
    /* Release a lock taken by `lock` (and free its handle). Cannot fail. */
    void (*unlock)(void *store, void *lock);
    /* ABI 1.0 ends here. */

    /* Added in 1.2, optional (both or neither; without them the daemon re-lists the store
     * periodically). watch: start watching for changes made by any process and set *fd to a
     * descriptor (owned by the store, valid until close) that becomes readable when records may
     * have changed; the daemon sleeps on it. changes: consume what is pending on that descriptor
     * without blocking and call cb(arg, name) once per record created, written or removed since
     * the last call (names may repeat or include the caller's own writes), or cb(arg, NULL) when
     * the store cannot tell which (e.g. an event queue overflowed): then re-list everything. */
    int (*watch)(void *store, int *fd, struct isf_error *err);
    int (*changes)(void *store, isf_store_list_cb cb, void *arg, struct isf_error *err);
    /* ABI 1.2 ends here. */
};

/* The init function's type, for the loader. init runs once, right after the ABI check: it may
 * keep `host`, must set *out to its static const descriptor and return ISF_OK, or return an
 * ISF_E_* with err set (the plugin is then refused with that message). It should do no I/O and
 * start no thread. */
typedef int (*isf_plugin_init_fn)(const struct isf_host *host,
                                  const struct isf_plugin_descriptor **out, struct isf_error *err);

#ifdef __cplusplus
}
#endif
#endif /* ISYNCSF_PLUGIN_H */
