/* Reading and writing OrgMaster records through the store plugin. */
#include "orgstore.h"

#include <stdlib.h>
#include <string.h>

int isf_orgstore_read(struct isf_ctx *ctx, const char *name, struct isf_blob *blob,
                      uint64_t *revision, struct isf_error *err)
{
    memset(blob, 0, sizeof(*blob));
    if (!isf_valid_org_name(name))
        return isf_err_set(err, ISF_E_USAGE,
                           "invalid org name '%s': use letters, digits, '.', '_' and '-' "
                           "(start with a letter or digit, at most 64)",
                           name);
    int rc = isf_store_ready(ctx, err);
    if (rc != ISF_OK)
        return rc;
    struct isf_plugin *s = ctx->store;
    rc = s->store.get(s->instance, name, blob, revision, err);
    if (rc == ISF_E_NOT_FOUND)
        return isf_err_set(err, ISF_E_NOT_FOUND,
                           "org %s not found; see isyncsf org list for the known orgs", name);
    return rc;
}

void isf_orgstore_blob_free(struct isf_ctx *ctx, struct isf_blob *blob)
{
    if (blob->data)
        ctx->store->host.free(&ctx->store->host, blob->data); /* the plugin's host->alloc */
    memset(blob, 0, sizeof(*blob));
}

int isf_orgstore_get(struct isf_ctx *ctx, const char *name, struct isf_org *o,
                     struct isf_error *err)
{
    memset(o, 0, sizeof(*o));
    struct isf_blob blob;
    uint64_t rev = 0;
    int rc = isf_orgstore_read(ctx, name, &blob, &rev, err);
    if (rc != ISF_OK)
        return rc;
    rc = isf_org_parse(name, blob.data, blob.len, o, err);
    isf_orgstore_blob_free(ctx, &blob);
    o->revision = rev;
    return rc;
}

int isf_orgstore_put(struct isf_ctx *ctx, struct isf_org *o, struct isf_error *err)
{
    int rc = isf_store_ready(ctx, err);
    if (rc != ISF_OK)
        return rc;
    o->updated_at = isf_now_ms();
    char *data = isf_org_serialize(o);
    if (!data)
        return isf_err_set(err, ISF_E_NOMEM, "out of memory serialising org %s", o->name);
    uint64_t rev = 0;
    struct isf_plugin *s = ctx->store;
    rc = s->store.put(s->instance, o->name, data, strlen(data), o->revision, &rev, err);
    free(data);
    if (rc == ISF_OK)
        o->revision = rev;
    else if (rc == ISF_E_EXISTS)
        isf_err_set(err, ISF_E_EXISTS,
                    "org %s already exists; pick another name or use isyncsf org edit %s", o->name,
                    o->name);
    else if (rc == ISF_E_CONFLICT)
        isf_err_prefix(err,
                       "org %s was changed by another process meanwhile; nothing was "
                       "overwritten; run the command again",
                       o->name);
    return rc;
}

int isf_orgstore_remove(struct isf_ctx *ctx, const struct isf_org *o, struct isf_error *err)
{
    int rc = isf_store_ready(ctx, err);
    if (rc != ISF_OK)
        return rc;
    return ctx->store->store.remove(ctx->store->instance, o->name, o->revision, err);
}

int isf_orgstore_lock(struct isf_ctx *ctx, const char *name, void **lock, struct isf_error *err)
{
    int rc = isf_store_ready(ctx, err);
    if (rc != ISF_OK)
        return rc;
    rc = ctx->store->store.lock(ctx->store->instance, name, (int)ctx->cfg->lock_timeout_ms, lock,
                                err);
    if (rc == ISF_E_TIMEOUT)
        err->code = ISF_E_TIMEOUT;
    return rc;
}

void isf_orgstore_unlock(struct isf_ctx *ctx, void *lock)
{
    if (lock && ctx->store)
        ctx->store->store.unlock(ctx->store->instance, lock);
}

int isf_orgstore_update(struct isf_ctx *ctx, const char *name, isf_org_fn fn, void *arg,
                        struct isf_error *err)
{
    void *lock = NULL;
    struct isf_org o;
    int rc = isf_orgstore_lock(ctx, name, &lock, err);
    if (rc != ISF_OK)
        return rc;
    rc = isf_orgstore_get(ctx, name, &o, err);
    if (rc == ISF_OK) {
        rc = fn(ctx, &o, arg, err);
        isf_org_free_fields(&o);
    }
    isf_orgstore_unlock(ctx, lock);
    return rc;
}

int isf_org_seal(struct isf_ctx *ctx, struct isf_org *o, const char *field_name, char **field,
                 const char *value, struct isf_error *err)
{
    if (!value || !*value) {
        free(*field);
        *field = NULL;
        return ISF_OK;
    }
    struct isf_keyring *kr;
    int rc = isf_ctx_keyring(ctx, 1, &kr, err);
    if (rc != ISF_OK)
        return rc;
    char *sealed = NULL;
    rc = isf_seal(kr, o->name, field_name, value, strlen(value), &sealed, err);
    if (rc != ISF_OK)
        return rc;
    free(*field);
    *field = sealed;
    return ISF_OK;
}

int isf_org_unseal(struct isf_ctx *ctx, const struct isf_org *o, const char *field_name,
                   const char *field, char **plain, struct isf_error *err)
{
    *plain = NULL;
    if (!field)
        return ISF_OK;
    struct isf_keyring *kr;
    int rc = isf_ctx_keyring(ctx, 0, &kr, err);
    if (rc != ISF_OK)
        return rc;
    size_t len;
    return isf_unseal(kr, o->name, field_name, field, plain, &len, err);
}
