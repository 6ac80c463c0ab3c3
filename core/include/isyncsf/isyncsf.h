/*
 * libisyncsf — the library API used by the isyncsf CLI and by the sync engine.
 *
 * A context (isf_ctx) holds the loaded config, plugins, master key and one HTTP connection
 * cache. It is not thread-safe: use one context per thread. Every call returns ISF_OK (0) or a
 * negative ISF_E_* status (see isyncsf/plugin.h) and fills the caller's struct isf_error with a
 * message that says what went wrong and what to do; messages never contain a secret.
 *
 * Strings returned through `char **` are malloc'd and owned by the caller (free()); tokens are
 * returned in struct isf_token, which the caller clears with isf_token_clear (it wipes them).
 */
#ifndef ISYNCSF_H
#define ISYNCSF_H

#include <isyncsf/plugin.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ISF_API __attribute__((visibility("default")))

typedef struct isf_ctx isf_ctx;

/* Log sink: level is an isf_log_level; msg is one line without a trailing newline. */
typedef void (*isf_log_fn)(void *arg, int level, const char *msg);

struct isf_open_options {
    uint32_t struct_size;
    const char *config_path; /* NULL: $ISYNCSF_CONFIG, $ISYNCSF_HOME/config.yaml, XDG default */
    int log_level;           /* most verbose level passed to log_fn (default ISF_LOG_WARN) */
    isf_log_fn log_fn;       /* NULL: stderr */
    void *log_arg;
};

ISF_API const char *isf_version(void);
/* Loads config and plugins. A plugin that fails to load is reported (isf_plugins_json) and the
 * rest still work; the call itself fails only when the config is unusable. */
ISF_API int isf_open(const struct isf_open_options *opts, isf_ctx **out, struct isf_error *err);
ISF_API void isf_close(isf_ctx *ctx);

/* Settings for org add / edit. NULL members mean "not given" (edit keeps the stored value).
 * client_secret is plaintext; the library seals it and never keeps a plaintext copy. */
struct isf_org_settings {
    uint32_t struct_size;
    const char *mode; /* default "client-credentials" on add */
    const char *login_url;
    const char *client_id;
    const char *client_secret;
    const char *redirect_uri;
    const char *scope;
    const char *named_credential;
    const char *description;
    /* The org's session lifetime in seconds (its Session Timeout policy), which decides when a
     * token is due: 0 = not given; -1 = clear it (refresh.session_ttl_s applies); else 60 ..
     * 604800. */
    int64_t session_ttl_s;
};

ISF_API int isf_org_add(isf_ctx *ctx, const char *name, const struct isf_org_settings *s,
                        struct isf_error *err);
ISF_API int isf_org_edit(isf_ctx *ctx, const char *name, const struct isf_org_settings *s,
                         struct isf_error *err);

struct isf_connect_options {
    uint32_t struct_size;
    int no_browser; /* web server modes: print the URL instead of opening a browser */
    int timeout_s;  /* web server modes: how long to wait for the redirect (0 = 300) */
};
/* Authenticate, store the tokens sealed, read the org's details and verify the package. */
ISF_API int isf_org_connect(isf_ctx *ctx, const char *name, const struct isf_connect_options *o,
                            struct isf_error *err);
/* One authenticated call (refreshing once on an expired session); updates status and
 * last_tested_at. */
ISF_API int isf_org_test(isf_ctx *ctx, const char *name, struct isf_error *err);

/* The contract's org object as JSON text (no secrets). */
ISF_API int isf_org_show_json(isf_ctx *ctx, const char *name, char **json, struct isf_error *err);

struct isf_org_filter {
    uint32_t struct_size;
    const char *text;        /* case-insensitive substring of name, org name, org id,
                                instance URL, description; NULL = any */
    const char *status;      /* exact status, or NULL */
    const char *mode;        /* exact mode, or NULL */
    const char *environment; /* production|sandbox|scratch, or NULL */
};
/* Every record matching the filter, sorted by name, as a JSON array. Reads only the store.
 * Records that cannot be read are reported through *bad_json (an array of
 * {"org","error"} objects, or NULL when all read) and do not stop the listing. */
ISF_API int isf_org_list_json(isf_ctx *ctx, const struct isf_org_filter *f, char **json,
                              char **bad_json, struct isf_error *err);

/* One org of a listing, for a front end that renders its own table (no JSON in between).
 * Strings are NULL when unknown. */
struct isf_org_row {
    char *name, *status, *mode;
    char *environment; /* production|sandbox|scratch, or NULL */
    char *org_name, *org_id;
    char *package_namespace, *package_version;
    int package_installed;      /* 1 yes, 0 no, -1 unknown */
    int64_t last_checked_at_ms; /* last_tested_at, else last_refreshed_at; 0 = never */
};
/* isf_org_list_json's listing as rows: same filter, same order, same *bad_json. Free the rows
 * with isf_org_rows_free. */
ISF_API int isf_org_list_rows(isf_ctx *ctx, const struct isf_org_filter *f,
                              struct isf_org_row **rows, size_t *n, char **bad_json,
                              struct isf_error *err);
ISF_API void isf_org_rows_free(struct isf_org_row *rows, size_t n);

struct isf_token {
    char *access_token; /* secret: wiped by isf_token_clear */
    char *instance_url;
    int64_t expires_at_ms; /* 0 when unknown */
};
/* A valid access token for the org, refreshed first when due. */
ISF_API int isf_org_token(isf_ctx *ctx, const char *name, struct isf_token *out,
                          struct isf_error *err);
ISF_API void isf_token_clear(struct isf_token *t);

/* Revoke at the org (unless local_only) and clear the stored tokens; status disconnected.
 * *revoked tells whether a revocation was sent and accepted. */
ISF_API int isf_org_disconnect(isf_ctx *ctx, const char *name, int local_only, int *revoked,
                               struct isf_error *err);
/* Disconnect, then delete the record. */
ISF_API int isf_org_remove(isf_ctx *ctx, const char *name, int local_only, struct isf_error *err);

/* The loaded (and failed) plugins as a JSON array of
 * {name, kind, version, abi, path, capabilities, status, error}. */
ISF_API int isf_plugins_json(isf_ctx *ctx, char **json, struct isf_error *err);

/* Re-encrypt every stored secret under a new master key. Safe to interrupt and re-run.
 * new_key_env: for env/command key sources, the variable holding the new key; else NULL.
 * *count gets the number of records re-sealed. */
ISF_API int isf_key_rotate(isf_ctx *ctx, const char *new_key_env, int *count,
                           struct isf_error *err);

/* ---------------------------------------------------------------------------------------------
 * Refreshing (the engine behind `isyncsf refresh` and the daemon).
 */
enum isf_refresh_outcome {
    ISF_REFRESH_DONE = 0,     /* a new session was obtained and stored */
    ISF_REFRESH_NOT_DUE = 1,  /* the token is still fresh (without force): nothing done */
    ISF_REFRESH_BY_OTHER = 2, /* another process refreshed it meanwhile: nothing done */
    ISF_REFRESH_SKIPPED = 3,  /* not refreshable now (new, disconnected, expired, in backoff, a
                                 mode that keeps no token): message says which */
    ISF_REFRESH_FAILED = 4    /* the attempt failed; status says how (TRANSIENT → failing and
                                 retried with backoff, AUTH → expired) */
};

struct isf_refresh_result {
    const char *name;    /* borrowed for the callback */
    int outcome;         /* enum isf_refresh_outcome */
    int status;          /* ISF_OK or the ISF_E_* of a failure */
    const char *message; /* borrowed; one line, never a secret; NULL when there is nothing to say */
    int64_t expires_at_ms; /* the stored session's expiry after this, 0 when unknown */
    int64_t next_due_ms;   /* when this org next needs work (refresh or retry); INT64_MAX never */
    int64_t elapsed_ms;    /* wall time spent on this org */
    int64_t finished_ms;   /* when it completed, in ms after the isf_refresh call began */
};
typedef void (*isf_refresh_fn)(void *arg, const struct isf_refresh_result *r);

struct isf_refresh_options {
    uint32_t struct_size;
    int all;                  /* every org in the store (names are then ignored) */
    int force;                /* refresh even when not due; still single-flight: an org refreshed by
                                 another process since this call began is reported BY_OTHER */
    int concurrency;          /* token requests in flight at once; 0 = refresh.concurrency */
    int timeout_s;            /* per-org time limit; 0 = http.timeout_s */
    isf_refresh_fn on_result; /* called once per org as it completes (any order), or NULL */
    void *arg;
    const volatile int *stop; /* optional: when it turns non-zero, no new org is started and
                                 requests in flight are abandoned (no record is half-written) */
};

struct isf_refresh_summary {
    size_t total, done, not_due, by_other, skipped, failed;
    int worst_status; /* the most serious ISF_E_* met (store > config > auth > transient >
                         other), ISF_OK when none */
};

/* Refresh the named orgs (or all), concurrently on one connection pool. Returns ISF_OK when
 * every org ended DONE, NOT_DUE, BY_OTHER or SKIPPED-for-a-benign-reason; else the summary's
 * worst status, with err describing the first failure of that kind. */
ISF_API int isf_refresh(isf_ctx *ctx, const char *const *names, size_t n,
                        const struct isf_refresh_options *o, struct isf_refresh_summary *sum,
                        struct isf_error *err);

/* ---------------------------------------------------------------------------------------------
 * The background scheduler (`isyncsf daemon`).
 */
struct isf_daemon_options {
    uint32_t struct_size;
    int once;                   /* one pass over what is due, then return (for cron) */
    const volatile int *stop;   /* set non-zero (e.g. from SIGTERM/SIGINT) to stop within 3 s */
    const volatile int *reload; /* set non-zero (e.g. from SIGHUP) to reload the config */
};
/* Keep every connected org's session fresh until *stop. Logs one line per event through the
 * context's log function (logfmt: "event=... org=... outcome=..."; never a secret).
 * Signals: the caller installs the handlers that set *stop and *reload; they must be SIGTERM,
 * SIGINT or SIGHUP, which the daemon keeps blocked except inside its one sleep (ppoll) so a
 * signal can never be missed between the flag check and the sleep.
 * Returns ISF_OK when stopped; with `once`, the status of the pass (isf_refresh's). Reload:
 * when *reload turns non-zero the function returns ISF_OK with *reload still set; the caller
 * then clears it, opens a new context (isf_open reads the config again), closes the old one
 * and calls isf_daemon_run again, which re-reads the store. The daemon keeps no state across
 * calls, so a caller whose new config fails to load may simply go on with the old context. */
ISF_API int isf_daemon_run(isf_ctx *ctx, const struct isf_daemon_options *o, struct isf_error *err);

/* ---------------------------------------------------------------------------------------------
 * A thread-safe token source for the sync engine: any number of threads may call
 * isf_tokens_get at once on one isf_tokens; each gets a valid token for the org, refreshed first
 * when due (single-flight across threads and processes).
 */
typedef struct isf_tokens isf_tokens;
ISF_API int isf_tokens_open(const struct isf_open_options *opts, isf_tokens **out,
                            struct isf_error *err);
ISF_API int isf_tokens_get(isf_tokens *t, const char *name, struct isf_token *out,
                           struct isf_error *err);
ISF_API void isf_tokens_close(isf_tokens *t);

/* The exit code the contract assigns to a status (0..7). */
ISF_API int isf_exit_code(int status);
/* A stable snake_case name for a status, for JSON errors ("not_found", "auth_required", ...). */
ISF_API const char *isf_status_name(int status);

#ifdef __cplusplus
}
#endif
#endif /* ISYNCSF_H */
