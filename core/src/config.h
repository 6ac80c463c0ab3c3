/* The YAML configuration: shape, defaults, validation (see cli-contract.md "Config"). */
#ifndef ISF_CONFIG_H
#define ISF_CONFIG_H

#include <isyncsf/plugin.h>
#include <jansson.h>
#include <stddef.h>

enum isf_key_source { ISF_KEY_FILE = 0, ISF_KEY_ENV = 1, ISF_KEY_COMMAND = 2 };

/* One entry of plugins.load. */
struct isf_plugin_conf {
    char *name;       /* given by name ("auth-client-credentials"), or NULL */
    char *path;       /* given by path (~ expanded), or NULL */
    int line;         /* 1-based line in the config file; 0 for built-in defaults */
    int options_node; /* private: index of the options mapping in the YAML document, 0 = none */
};

struct isf_config {
    char *file;     /* the config file that was read, or NULL when built-in defaults apply */
    char *data_dir; /* $ISYNCSF_HOME, else $XDG_DATA_HOME/isyncsf, else ~/.local/share/isyncsf */

    char **plugin_path; /* plugins.path, ~ expanded */
    size_t n_plugin_path;
    struct isf_plugin_conf *plugins; /* plugins.load, or the bundled set when absent */
    size_t n_plugins;

    enum isf_key_source key_source; /* key: {file|env|command}; default file */
    char *key_file;                 /* default <data_dir>/master.key */
    char *key_env;                  /* name of the variable holding the base64 key */
    char **key_command;             /* NULL-terminated argv */

    char *ca_file;           /* http.ca_file, or NULL (system default) */
    long timeout_s;          /* http.timeout_s, default 30 */
    long connect_timeout_s;  /* http.connect_timeout_s, default 10 */
    char *proxy;             /* http.proxy, or NULL */
    long max_response_bytes; /* http.max_response_bytes, default 8 MiB */
    long retries;            /* http.retries (idempotent GETs), default 2 */
    char *client_auth;       /* http.client_auth: "post" (default) or "basic" */

    char *api_version;       /* salesforce.api_version, or NULL (discover) */
    char *package_namespace; /* salesforce.package_namespace, default "isyncsf" */

    long refresh_margin_s;      /* refresh.margin_s, default 600 */
    long refresh_session_ttl_s; /* refresh.session_ttl_s, default 7200 */
    long refresh_concurrency;   /* refresh.concurrency, default 32 */
    long refresh_max_backoff_s; /* refresh.max_backoff_s, default 3600 */
    int refresh_introspect;     /* refresh.introspect, default false */

    long lock_timeout_ms; /* store.lock_timeout_ms, default 10000 */

    void *priv; /* private: the parsed YAML document */
};

/* Which config file applies: explicit, else $ISYNCSF_CONFIG, else $ISYNCSF_HOME/config.yaml,
 * else $XDG_CONFIG_HOME/isyncsf/config.yaml (default ~/.config/...). Returns a malloc'd path. */
char *isf_config_default_path(const char *explicit_path);

/* Load and validate. `explicit_path` NULL = resolve as above; a missing file at a resolved
 * (non-explicit) location means built-in defaults; a missing explicit file is ISF_E_CONFIG.
 * Errors name file, line and key. */
int isf_config_load(const char *explicit_path, struct isf_config **out, struct isf_error *err);
/* Built-in defaults only (no file). */
int isf_config_defaults(struct isf_config **out, struct isf_error *err);
void isf_config_free(struct isf_config *cfg);

/* Validate plugin i's `options:` against its declared schema and return them as a JSON object
 * with defaults applied (ISF_OPT_PATH expanded, ISF_OPT_INT as integer, ISF_OPT_BOOL as boolean,
 * ISF_OPT_STRING_LIST as array of strings, ISF_OPT_MAP as object). Errors name file, line, key. */
int isf_config_plugin_options(const struct isf_config *cfg, size_t i,
                              const struct isf_option_spec *specs, const char *plugin_name,
                              json_t **out, struct isf_error *err);

/* Expand a leading "~/" (or "~") with $HOME. Returns malloc'd string. */
char *isf_expand_home(const char *path);

#endif
