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

/* The exit code the contract assigns to a status (0..7). */
ISF_API int isf_exit_code(int status);
/* A stable snake_case name for a status, for JSON errors ("not_found", "auth_required", ...). */
ISF_API const char *isf_status_name(int status);

#ifdef __cplusplus
}
#endif
#endif /* ISYNCSF_H */
