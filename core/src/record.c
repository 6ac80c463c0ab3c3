/* The OrgMaster record: stored form and public JSON form. */
#include "record.h"

#include <errno.h>

#include <stdlib.h>
#include <string.h>

/* One table drives both (de)serialisation of the plain string fields, so a field cannot be
 * written under one name and read under another. */
struct str_field {
    const char *key;
    size_t offset;
};
#define SF(k, m)                                                                                   \
    {                                                                                              \
        k, offsetof(struct isf_org, m)                                                             \
    }
static const struct str_field str_fields[] = {
    SF("name", name),
    SF("description", description),
    SF("mode", mode),
    SF("status", status),
    SF("status_detail", status_detail),
    SF("login_url", login_url),
    SF("instance_url", instance_url),
    SF("client_id", client_id),
    SF("redirect_uri", redirect_uri),
    SF("scope", scope),
    SF("named_credential", named_credential),
    SF("org_id", org_id),
    SF("org_name", org_name),
    SF("org_type", org_type),
    SF("instance_name", instance_name),
    SF("environment", environment),
    SF("username", username),
    SF("user_id", user_id),
    SF("api_version", api_version),
};
static const struct str_field secret_fields[] = {
    SF("client_secret", sealed_client_secret),
    SF("access_token", sealed_access_token),
    SF("refresh_token", sealed_refresh_token),
};
struct time_field {
    const char *key;
    size_t offset;
};
#define TF(k, m)                                                                                   \
    {                                                                                              \
        k, offsetof(struct isf_org, m)                                                             \
    }
static const struct time_field time_fields[] = {
    TF("connected_at", connected_at),
    TF("last_tested_at", last_tested_at),
    TF("last_refreshed_at", last_refreshed_at),
    TF("created_at", created_at),
    TF("updated_at", updated_at),
    TF("next_attempt_at", next_attempt_at),
};
/* Plain counts, stored and shown as integers (absent = 0). */
static const struct time_field int_fields[] = {
    TF("session_ttl_s", session_ttl_s),
    TF("refresh_failures", refresh_failures),
};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static char **str_at(const struct isf_org *o, size_t offset)
{
    return (char **)((char *)o + offset);
}

static int64_t *time_at(const struct isf_org *o, size_t offset)
{
    return (int64_t *)((char *)o + offset);
}

void isf_org_free_fields(struct isf_org *o)
{
    for (size_t i = 0; i < COUNT(str_fields); i++)
        free(*str_at(o, str_fields[i].offset));
    for (size_t i = 0; i < COUNT(secret_fields); i++)
        free(*str_at(o, secret_fields[i].offset));
    free(o->pkg_namespace);
    free(o->pkg_version);
    free(o->pkg_reason);
    memset(o, 0, sizeof(*o));
}

int isf_org_set(char **field, const char *value)
{
    char *copy = NULL;
    if (value && !(copy = strdup(value)))
        return -1;
    free(*field);
    *field = copy;
    return 0;
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* The setters return -1 when jansson could not allocate: a record missing a field must never
 * be written (an out-of-memory serialize once dropped "schema" and wrote a record no one could
 * read again — found by tests/robust/alloc_fail.c). json_object_set_new frees the value on
 * failure, and fails on a NULL value. */
static int set_str(json_t *obj, const char *key, const char *v)
{
    return v ? json_object_set_new(obj, key, json_string(v)) : 0;
}

static int set_ms(json_t *obj, const char *key, int64_t ms)
{
    return ms > 0 ? json_object_set_new(obj, key, json_integer(ms)) : 0;
}

char *isf_org_serialize(const struct isf_org *o)
{
    json_t *root = json_object();
    json_t *secrets = json_object();
    json_t *pkg = json_object();
    json_t *token = json_object();
    char *out = NULL;
    if (!root || !secrets || !pkg || !token)
        goto done;
    int bad = json_object_set_new(root, "schema", json_integer(ISF_RECORD_SCHEMA));
    /* Absent means null: leaving nulls out keeps records small, and `org list` parses them
     * all. */
    for (size_t i = 0; i < COUNT(str_fields); i++)
        bad |= set_str(root, str_fields[i].key, *str_at(o, str_fields[i].offset));
    for (size_t i = 0; i < COUNT(time_fields); i++)
        bad |= set_ms(root, time_fields[i].key, *time_at(o, time_fields[i].offset));
    for (size_t i = 0; i < COUNT(int_fields); i++)
        bad |= set_ms(root, int_fields[i].key, *time_at(o, int_fields[i].offset));
    bad |= set_str(pkg, "namespace", o->pkg_namespace);
    if (o->pkg_installed >= 0)
        bad |= json_object_set_new(pkg, "installed", json_boolean(o->pkg_installed));
    bad |= set_str(pkg, "version", o->pkg_version);
    bad |= set_str(pkg, "reason", o->pkg_reason);
    bad |= set_ms(pkg, "checked_at", o->pkg_checked_at);
    bad |= json_object_set(root, "package", pkg);
    bad |= set_ms(token, "issued_at", o->token_issued_at);
    bad |= set_ms(token, "expires_at", o->token_expires_at);
    bad |= json_object_set(root, "token", token);
    for (size_t i = 0; i < COUNT(secret_fields); i++)
        bad |= set_str(secrets, secret_fields[i].key, *str_at(o, secret_fields[i].offset));
    bad |= json_object_set(root, "sealed", secrets);
    if (bad)
        goto done;
    out = isf_json_dumps(root, JSON_COMPACT);
done:
    json_decref(secrets);
    json_decref(pkg);
    json_decref(token);
    json_decref(root);
    return out;
}

static int get_str(json_t *obj, const char *key, char **dst)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return -1;
    return isf_org_set(dst, json_string_value(v));
}

static int get_time(json_t *obj, const char *key, int64_t *dst)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_integer(v))
        return -1;
    *dst = json_integer_value(v);
    return 0;
}

int isf_org_parse(const char *name, const char *data, size_t len, struct isf_org *o,
                  struct isf_error *err)
{
    json_error_t jerr;
    memset(o, 0, sizeof(*o));
    o->pkg_installed = -1;
    /* Out of memory is told apart from damage (errno ENOMEM from a failed copy of a field, or
     * jansson's own): "corrupt" would send the user to delete a good record. */
    int nomem = 0;
    errno = 0;
    json_t *root = isf_json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr, &nomem);
    const char *bad = NULL;
    if (!json_is_object(root)) {
        bad = "not a JSON object";
        goto fail;
    }
    json_t *schema = json_object_get(root, "schema");
    if (!json_is_integer(schema) || json_integer_value(schema) != ISF_RECORD_SCHEMA) {
        bad = "unknown record schema";
        goto fail;
    }
    for (size_t i = 0; i < COUNT(str_fields); i++)
        if (get_str(root, str_fields[i].key, str_at(o, str_fields[i].offset))) {
            bad = str_fields[i].key;
            goto fail;
        }
    for (size_t i = 0; i < COUNT(time_fields); i++)
        if (get_time(root, time_fields[i].key, time_at(o, time_fields[i].offset))) {
            bad = time_fields[i].key;
            goto fail;
        }
    for (size_t i = 0; i < COUNT(int_fields); i++)
        if (get_time(root, int_fields[i].key, time_at(o, int_fields[i].offset)) ||
            *time_at(o, int_fields[i].offset) < 0) {
            bad = int_fields[i].key;
            goto fail;
        }
    json_t *sealed = json_object_get(root, "sealed");
    json_t *pkg = json_object_get(root, "package");
    json_t *token = json_object_get(root, "token");
    if ((sealed && !json_is_object(sealed)) || (pkg && !json_is_object(pkg)) ||
        (token && !json_is_object(token))) {
        bad = "sealed, package or token is not an object";
        goto fail;
    }
    for (size_t i = 0; json_is_object(sealed) && i < COUNT(secret_fields); i++)
        if (get_str(sealed, secret_fields[i].key, str_at(o, secret_fields[i].offset))) {
            bad = secret_fields[i].key;
            goto fail;
        }
    if (json_is_object(pkg)) {
        json_t *inst = json_object_get(pkg, "installed");
        o->pkg_installed = json_is_boolean(inst) ? json_is_true(inst) : -1;
        if (get_str(pkg, "namespace", &o->pkg_namespace) ||
            get_str(pkg, "version", &o->pkg_version) || get_str(pkg, "reason", &o->pkg_reason) ||
            get_time(pkg, "checked_at", &o->pkg_checked_at)) {
            bad = "package";
            goto fail;
        }
    }
    if (json_is_object(token) && (get_time(token, "issued_at", &o->token_issued_at) ||
                                  get_time(token, "expires_at", &o->token_expires_at))) {
        bad = "token";
        goto fail;
    }
    if (!o->name || strcmp(o->name, name) != 0 || !o->mode || !o->status) {
        bad = "name, mode or status missing or wrong";
        goto fail;
    }
    json_decref(root);
    return ISF_OK;
fail:
    json_decref(root);
    isf_org_free_fields(o);
    if (nomem || errno == ENOMEM)
        return isf_err_set(err, ISF_E_NOMEM, "out of memory reading record %s", name);
    return isf_err_set(err, ISF_E_STORE,
                       "record %s is corrupt (%s); restore it from a backup, or run "
                       "isyncsf org remove %s --local-only and add it again",
                       name, bad, name);
}

static json_t *time_json(int64_t ms)
{
    if (ms <= 0)
        return json_null();
    char buf[32];
    isf_format_time(ms, buf, sizeof(buf));
    return json_string(buf);
}

json_t *isf_org_public_json(const struct isf_org *o)
{
    json_t *root = json_object();
    if (!root)
        return NULL;
    static const char *const keys[] = {"name",
                                       "description",
                                       "mode",
                                       "status",
                                       "status_detail",
                                       "login_url",
                                       "instance_url",
                                       "org_id",
                                       "org_name",
                                       "org_type",
                                       "environment",
                                       "username",
                                       "client_id",
                                       "redirect_uri",
                                       "scope",
                                       "named_credential",
                                       "instance_name",
                                       "api_version",
                                       NULL};
    /* Every set is checked: under memory pressure an org object missing a key must not be
     * printed as if complete (found by tests/robust/alloc_fail.c). */
    int bad = 0;
    for (const char *const *k = keys; *k; k++) {
        for (size_t i = 0; i < COUNT(str_fields); i++)
            if (strcmp(str_fields[i].key, *k) == 0)
                bad |= json_object_set_new(root, *k, str_or_null(*str_at(o, str_fields[i].offset)));
    }
    json_t *pkg = json_object();
    bad |= json_object_set_new(pkg, "namespace", str_or_null(o->pkg_namespace));
    bad |= json_object_set_new(pkg, "installed",
                               o->pkg_installed < 0 ? json_null() : json_boolean(o->pkg_installed));
    bad |= json_object_set_new(pkg, "version", str_or_null(o->pkg_version));
    bad |= json_object_set_new(pkg, "reason", str_or_null(o->pkg_reason));
    bad |= json_object_set_new(pkg, "checked_at", time_json(o->pkg_checked_at));
    bad |= json_object_set_new(root, "package", pkg);
    json_t *token = json_object();
    bad |= json_object_set_new(token, "issued_at", time_json(o->token_issued_at));
    bad |= json_object_set_new(token, "expires_at", time_json(o->token_expires_at));
    bad |= json_object_set_new(root, "token", token);
    bad |= json_object_set_new(root, "has_refresh_token",
                               json_boolean(o->sealed_refresh_token != NULL));
    bad |= json_object_set_new(root, "has_client_secret",
                               json_boolean(o->sealed_client_secret != NULL));
    for (size_t i = 0; i < COUNT(time_fields); i++)
        bad |= json_object_set_new(root, time_fields[i].key,
                                   time_json(*time_at(o, time_fields[i].offset)));
    bad |= json_object_set_new(root, "session_ttl_s",
                               o->session_ttl_s > 0 ? json_integer(o->session_ttl_s) : json_null());
    bad |= json_object_set_new(root, "refresh_failures", json_integer(o->refresh_failures));
    if (bad) {
        json_decref(root);
        return NULL;
    }
    return root;
}
