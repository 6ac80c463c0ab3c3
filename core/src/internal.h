/* Core-private types shared by the core's files: the context, loaded plugins, sessions. */
#ifndef ISF_INTERNAL_H
#define ISF_INTERNAL_H

#include "config.h"
#include "keyring.h"
#include "util.h"
#include <isyncsf/isyncsf.h>
#include <isyncsf/plugin.h>
#include <jansson.h>

struct isf_http; /* http.h */

/* One plugin as loaded (or as it failed to load). */
struct isf_plugin {
    struct isf_ctx *ctx;
    char *name; /* descriptor name, or the requested name when loading failed */
    char *path; /* resolved file path, or NULL */
    void *dl;   /* dlopen handle */
    uint32_t abi_minor;
    int failed; /* non-zero: not usable; error says why */
    int error_code;
    char error[ISF_ERROR_MESSAGE_MAX];
    struct isf_plugin_descriptor desc; /* copied, size-gated */
    struct isf_auth_ops auth;          /* copied, size-gated (kind auth) */
    struct isf_store_ops store;        /* copied, size-gated (kind store) */
    struct isf_host host;              /* host table handed to this plugin */
    json_t *options;                   /* validated options (struct isf_opts) */
    void *instance;                    /* create()/open() result */
};

struct isf_ctx {
    struct isf_config *cfg;
    int log_level;
    isf_log_fn log_fn;
    void *log_arg;
    struct isf_plugin *plugins;
    size_t n_plugins;
    struct isf_plugin *store;    /* the store plugin in use, or NULL */
    struct isf_keyring *keyring; /* loaded on first use */
    struct isf_http *http;       /* created on first use */
    /* Tokens of modes that keep none in the store, in memory only (heldtoken.h). */
    struct isf_heldtoken *held_tokens;
    /* The options of the isf_org_connect call in progress, or NULL: host->oauth_authorize (a
     * person at the browser) is only valid while it is set. */
    const struct isf_connect_options *connecting;
};

/* The outcome of a grant, filled by host->oauth_token / host->session_set. */
struct isf_session {
    char *access_token;  /* secret */
    char *refresh_token; /* secret, or NULL */
    char *instance_url;
    char *id_url;
    char *scope;
    int64_t issued_at_ms;
    int64_t expires_at_ms;
};
void isf_session_clear(struct isf_session *s);

/* Logging. */
void isf_log(struct isf_ctx *ctx, int level, const char *fmt, ...) ISF_PRINTF(3, 4);

/* Loader (loader.c). */
int isf_plugins_load_all(struct isf_ctx *ctx, struct isf_error *err);
void isf_plugins_unload_all(struct isf_ctx *ctx);
/* The auth plugin for a mode ("client-credentials" → auth-client-credentials). */
int isf_auth_plugin_for_mode(struct isf_ctx *ctx, const char *mode, struct isf_plugin **out,
                             struct isf_error *err);
int isf_store_ready(struct isf_ctx *ctx, struct isf_error *err);

/* Host table (host.c). */
void isf_host_init(struct isf_plugin *p);

/* Keyring on first use (context.c). A missing key file is created only when `for_sealing` and
 * no record holds a sealed value yet: a key that vanished must never be silently replaced, or
 * every record sealed under it would be lost for good. */
int isf_ctx_keyring(struct isf_ctx *ctx, int for_sealing, struct isf_keyring **out,
                    struct isf_error *err);

#endif
