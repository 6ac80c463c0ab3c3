/* Administrative library calls: the plugin list and master key rotation. */
#include "orgstore.h"

#include <stdlib.h>
#include <string.h>

static const char *kind_name(const struct isf_plugin *p)
{
    if (p->failed && !p->desc.kind)
        return NULL;
    return p->desc.kind == ISF_PLUGIN_AUTH ? "auth" : "store";
}

/* A plugin's declared options, so users can see what they may set under options:. */
static json_t *options_json(const struct isf_plugin *p)
{
    static const char *const type_names[] = {"?",    "string",      "int", "bool",
                                             "path", "string list", "map"};
    json_t *arr = json_array();
    for (const struct isf_option_spec *o = p->failed ? NULL : p->desc.options; o && o->name; o++) {
        unsigned t = (unsigned)o->type < 7 ? (unsigned)o->type : 0;
        json_array_append_new(
            arr,
            json_pack("{s:s, s:s, s:o, s:b, s:o}", "name", o->name, "type", type_names[t],
                      "default", o->default_value ? json_string(o->default_value) : json_null(),
                      "required", o->required != 0, "description",
                      o->description ? json_string(o->description) : json_null()));
    }
    return arr;
}

ISF_API int isf_plugins_json(isf_ctx *ctx, char **json, struct isf_error *err)
{
    isf_err_init(err);
    json_t *arr = json_array();
    for (size_t i = 0; i < ctx->n_plugins; i++) {
        const struct isf_plugin *p = &ctx->plugins[i];
        const char *kind = kind_name(p);
        char abi[32];
        snprintf(abi, sizeof(abi), "%d.%u", ISF_ABI_MAJOR, p->abi_minor);
        json_t *caps = json_array();
        static const struct {
            uint32_t bit;
            const char *name;
        } cap_names[] = {{ISF_CAP_INTERACTIVE, "interactive"},
                         {ISF_CAP_REFRESHABLE, "refreshable"},
                         {ISF_CAP_PER_ORG_SECRET, "per_org_secret"},
                         {ISF_CAP_NO_TOKEN_STORE, "no_token_store"},
                         {ISF_CAP_REVOCABLE, "revocable"}};
        for (size_t c = 0; c < sizeof(cap_names) / sizeof(cap_names[0]); c++)
            if (!p->failed && (p->desc.capabilities & cap_names[c].bit))
                json_array_append_new(caps, json_string(cap_names[c].name));
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(p->name ? p->name : "?"));
        json_object_set_new(o, "kind", kind ? json_string(kind) : json_null());
        json_object_set_new(o, "mode",
                            (!p->failed && p->desc.kind == ISF_PLUGIN_AUTH)
                                ? json_string(p->desc.name + 5)
                                : json_null());
        json_object_set_new(o, "version",
                            p->desc.version ? json_string(p->desc.version) : json_null());
        json_object_set_new(o, "abi", p->dl && !p->failed ? json_string(abi) : json_null());
        json_object_set_new(o, "path", p->path ? json_string(p->path) : json_null());
        json_object_set_new(o, "description",
                            p->desc.description && !p->failed ? json_string(p->desc.description)
                                                              : json_null());
        json_object_set_new(o, "capabilities", caps);
        json_object_set_new(o, "options", options_json(p));
        json_object_set_new(o, "status", json_string(p->failed ? "failed" : "loaded"));
        json_object_set_new(o, "error", p->failed ? json_string(p->error) : json_null());
        json_array_append_new(arr, o);
    }
    *json = json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(arr);
    return *json ? ISF_OK : isf_err_set(err, ISF_E_NOMEM, "out of memory");
}

static int collect_name(void *arg, const char *name)
{
    json_t *arr = arg;
    return json_array_append_new(arr, json_string(name)) != 0;
}

/* Re-seal one field under the current (new) sealing key; untouched when already under it. */
static int reseal(struct isf_ctx *ctx, struct isf_org *o, const char *field, char **sealed,
                  int *changed, struct isf_error *err)
{
    if (!*sealed || isf_sealed_under_current(ctx->keyring, *sealed))
        return ISF_OK;
    char *plain = NULL;
    int rc = isf_org_unseal(ctx, o, field, *sealed, &plain, err);
    if (rc == ISF_OK)
        rc = isf_org_seal(ctx, o, field, sealed, plain, err);
    isf_free_secret(plain);
    if (rc == ISF_OK)
        *changed = 1;
    return rc;
}

static int rotate_locked(struct isf_ctx *ctx, struct isf_org *o, void *arg, struct isf_error *err)
{
    int *count = arg;
    int changed = 0;
    int rc = reseal(ctx, o, "client_secret", &o->sealed_client_secret, &changed, err);
    if (rc == ISF_OK)
        rc = reseal(ctx, o, "access_token", &o->sealed_access_token, &changed, err);
    if (rc == ISF_OK)
        rc = reseal(ctx, o, "refresh_token", &o->sealed_refresh_token, &changed, err);
    if (rc == ISF_OK && changed) {
        rc = isf_orgstore_put(ctx, o, err);
        if (rc == ISF_OK)
            (*count)++;
    }
    return rc;
}

static int rotate_record(struct isf_ctx *ctx, const char *name, int *count, struct isf_error *err)
{
    int rc = isf_orgstore_update(ctx, name, rotate_locked, count, err);
    return rc == ISF_E_NOT_FOUND ? ISF_OK : rc; /* removed meanwhile */
}

/* Order makes it safe to cut at any point: the new key is on disk (key file .next) before any
 * record is re-sealed, both keys open records until the end, and the key file is replaced only
 * after every record is under the new key. Re-running resumes with the same new key. */
ISF_API int isf_key_rotate(isf_ctx *ctx, const char *new_key_env, int *count, struct isf_error *err)
{
    isf_err_init(err);
    *count = 0;
    struct isf_keyring *kr;
    int rc = isf_store_ready(ctx, err);
    if (rc == ISF_OK)
        rc = isf_ctx_keyring(ctx, 0, &kr, err);
    if (rc == ISF_OK)
        rc = isf_keyring_begin_rotation(kr, new_key_env, err);
    if (rc != ISF_OK)
        return rc;
    json_t *names = json_array();
    rc = ctx->store->store.list(ctx->store->instance, collect_name, names, err);
    size_t i;
    json_t *v;
    int failures = 0;
    struct isf_error first;
    isf_err_init(&first);
    json_array_foreach(names, i, v)
    {
        if (rc != ISF_OK)
            break;
        struct isf_error rerr;
        isf_err_init(&rerr);
        if (rotate_record(ctx, json_string_value(v), count, &rerr) != ISF_OK) {
            isf_log(ctx, ISF_LOG_ERROR, "%s", rerr.message);
            if (!failures++)
                first = rerr;
        }
    }
    json_decref(names);
    if (rc != ISF_OK)
        return rc;
    if (failures)
        return isf_err_set(err, first.code,
                           "%d record(s) could not be re-encrypted (first: %s); the old key is "
                           "kept so nothing is lost; fix them and run isyncsf key rotate again",
                           failures, first.message);
    return isf_keyring_commit_rotation(kr, err);
}
