/* The library context: config, plugins, key, logging. */
#include "heldtoken.h"
#include "http.h"
#include "internal.h"
#include "orgstore.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

ISF_API const char *isf_version(void)
{
    return ISF_VERSION;
}

void isf_log(struct isf_ctx *ctx, int level, const char *fmt, ...)
{
    if (!ctx || level > ctx->log_level)
        return;
    char msg[1536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (ctx->log_fn) {
        ctx->log_fn(ctx->log_arg, level, msg);
        return;
    }
    static const char *const names[] = {"error", "warning", "info", "debug"};
    fprintf(stderr, "isyncsf: %s: %s\n", names[level < 0 ? 0 : level > 3 ? 3 : level], msg);
}

/* Secrets live in this process's memory: keep them out of core dumps and ptrace by others. */
static void protect_process(void)
{
    struct rlimit rl = {0, 0};
    setrlimit(RLIMIT_CORE, &rl);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

/* OpenSSL 3 loads thousands of error strings on first use; isyncsf never shows OpenSSL's error
 * text (its messages say what failed in its own words), and skipping them is ~10% of the
 * `org token` budget. The legacy name tables cannot be skipped the same way: X.509 signature
 * checks in TLS look digests up through them. The system's openssl.cnf is still honoured.
 * Must run before any other OpenSSL call in the process. */
static void init_openssl(void)
{
    OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS, NULL);
}

ISF_API int isf_open(const struct isf_open_options *opts, isf_ctx **out, struct isf_error *err)
{
    isf_err_init(err);
    *out = NULL;
    protect_process();
    init_openssl();
    struct isf_ctx *ctx = calloc(1, sizeof(*ctx));
    if (!ctx)
        return isf_err_set(err, ISF_E_NOMEM, "out of memory");
    ctx->log_level = ISF_LOG_WARN;
    if (opts) {
        ctx->log_level = opts->log_level;
        ctx->log_fn = opts->log_fn;
        ctx->log_arg = opts->log_arg;
    }
    int rc = isf_config_load(opts ? opts->config_path : NULL, &ctx->cfg, err);
    if (rc != ISF_OK)
        goto fail;
    rc = isf_plugins_load_all(ctx, err);
    if (rc != ISF_OK)
        goto fail;
    *out = ctx;
    return ISF_OK;
fail:
    isf_close(ctx);
    return rc;
}

ISF_API void isf_close(isf_ctx *ctx)
{
    if (!ctx)
        return;
    isf_heldtoken_drop_all(ctx);
    isf_plugins_unload_all(ctx);
    isf_keyring_free(ctx->keyring);
    isf_http_free(ctx->http);
    isf_config_free(ctx->cfg);
    free(ctx);
}

struct sealed_scan {
    struct isf_ctx *ctx;
    int found;
};

static int has_sealed(void *arg, const char *name)
{
    struct sealed_scan *scan = arg;
    struct isf_org o;
    struct isf_error ignored;
    isf_err_init(&ignored);
    if (isf_orgstore_get(scan->ctx, name, &o, &ignored) != ISF_OK) {
        scan->found = 1; /* unreadable: assume it may hold sealed values */
        return 1;
    }
    scan->found = o.sealed_client_secret || o.sealed_access_token || o.sealed_refresh_token;
    isf_org_free_fields(&o);
    return scan->found;
}

/* Whether any record holds a sealed value (stops at the first). Only runs when the key file is
 * missing, so reading every record is acceptable. */
static int store_has_sealed(struct isf_ctx *ctx, int *found, struct isf_error *err)
{
    struct sealed_scan scan = {ctx, 0};
    int rc = isf_store_ready(ctx, err);
    if (rc == ISF_OK)
        rc = ctx->store->store.list(ctx->store->instance, has_sealed, &scan, err);
    *found = scan.found;
    return rc;
}

int isf_ctx_keyring(struct isf_ctx *ctx, int for_sealing, struct isf_keyring **out,
                    struct isf_error *err)
{
    if (!ctx->keyring) {
        int create = 0;
        const struct isf_config *cfg = ctx->cfg;
        if (for_sealing && cfg->key_source == ISF_KEY_FILE && cfg->key_file &&
            access(cfg->key_file, F_OK) != 0 && errno == ENOENT) {
            int sealed = 0;
            int rc = store_has_sealed(ctx, &sealed, err);
            if (rc != ISF_OK)
                return rc;
            if (sealed)
                return isf_err_set(err, ISF_E_STORE,
                                   "master key file %s is missing, but the store already holds "
                                   "orgs sealed under a key; restore the key file from a backup "
                                   "(or point key: in the config at it) — a new key would make "
                                   "their secrets unreadable",
                                   cfg->key_file);
            create = 1;
        }
        int rc = isf_keyring_load(cfg, create, &ctx->keyring, err);
        if (rc != ISF_OK)
            return rc;
    }
    *out = ctx->keyring;
    return ISF_OK;
}

ISF_API int isf_exit_code(int status)
{
    switch (status) {
    case ISF_OK:
        return 0;
    case ISF_E_USAGE:
        return 2;
    case ISF_E_NOT_FOUND:
        return 3;
    case ISF_E_AUTH:
        return 4;
    case ISF_E_TRANSIENT:
        return 5;
    case ISF_E_CONFIG:
        return 6;
    case ISF_E_STORE:
    case ISF_E_CONFLICT:
    case ISF_E_TIMEOUT:
        return 7;
    default:
        return 1;
    }
}

ISF_API const char *isf_status_name(int status)
{
    switch (status) {
    case ISF_OK:
        return "ok";
    case ISF_E_USAGE:
        return "usage";
    case ISF_E_NOT_FOUND:
        return "not_found";
    case ISF_E_AUTH:
        return "auth_required";
    case ISF_E_TRANSIENT:
        return "org_unreachable";
    case ISF_E_CONFIG:
        return "config_error";
    case ISF_E_STORE:
        return "store_error";
    case ISF_E_EXISTS:
        return "already_exists";
    case ISF_E_CONFLICT:
        return "conflict";
    case ISF_E_TIMEOUT:
        return "lock_timeout";
    case ISF_E_NOMEM:
        return "out_of_memory";
    case ISF_E_UNSUPPORTED:
        return "unsupported";
    default:
        return "failed";
    }
}
