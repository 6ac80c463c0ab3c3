/* Org checks shared by every mode: API version, details, package, ping (salesforce-api.md
 * §6, §7, §8). */
#include "conn.h"
#include "http.h"
#include "restparse.h"

#include <stdlib.h>
#include <string.h>

static double version_number(const char *v)
{
    return v ? strtod(v, NULL) : 0.0;
}

/* Config wins; else the version cached in the record; else the newest the org offers
 * (GET /services/data/ needs no session and costs no API call). */
const char *isf_rest_newest_api_version(const json_t *root)
{
    const char *best = NULL;
    size_t i;
    const json_t *item;
    json_array_foreach(root, i, item)
    {
        const char *v = json_string_value(json_object_get(item, "version"));
        if (v && version_number(v) > version_number(best))
            best = v;
    }
    return best;
}

int isf_org_resolve_api_version(struct isf_conn *c, struct isf_error *err)
{
    const char *configured = c->ctx->cfg->api_version;
    if (configured)
        return isf_org_set(&c->org->api_version, configured) ? ISF_E_NOMEM : ISF_OK;
    if (c->org->api_version)
        return ISF_OK;
    char *url = isf_aprintf("%s/services/data/", c->org->instance_url);
    if (!url)
        return isf_err_set(err, ISF_E_NOMEM, "out of memory");
    const char *headers[] = {"Accept: application/json", NULL};
    struct isf_http_request req = {sizeof(req), "GET", url, headers, NULL, 0, 0};
    struct isf_http_response resp;
    int rc = isf_http_request(c->ctx, &req, &resp, err);
    free(url);
    if (rc != ISF_OK)
        return rc;
    json_t *root = resp.status == 200 ? json_loadb(resp.body, resp.body_len, 0, NULL) : NULL;
    const char *best = isf_rest_newest_api_version(root);
    if (best)
        rc = isf_org_set(&c->org->api_version, best) ? ISF_E_NOMEM : ISF_OK;
    else
        rc = isf_err_set(err, ISF_E_TRANSIENT,
                         "org %s: could not discover the API version (GET /services/data/ "
                         "answered HTTP %ld); set salesforce.api_version in the config",
                         c->org->name, resp.status);
    json_decref(root);
    isf_http_response_clear(&resp);
    return rc;
}

static int query(struct isf_conn *c, int tooling, const char *soql, json_t **out, char *error_code,
                 size_t len, struct isf_error *err)
{
    char *q = isf_url_escape(soql);
    char *path = q ? isf_aprintf("/services/data/v%s/%squery/?q=%s", c->org->api_version,
                                 tooling ? "tooling/" : "", q)
                   : NULL;
    free(q);
    if (!path)
        return isf_err_set(err, ISF_E_NOMEM, "out of memory");
    int rc = isf_conn_get(c, path, out, error_code, len, err);
    free(path);
    return rc;
}

static const char *str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* sfdx-core's rule: sandbox = IsSandbox && no TrialExpirationDate; scratch = IsSandbox with one;
 * production (and Developer Edition) = !IsSandbox. */
static const char *classify(const json_t *rec)
{
    if (!json_is_true(json_object_get(rec, "IsSandbox")))
        return "production";
    json_t *trial = json_object_get(rec, "TrialExpirationDate");
    return (trial && !json_is_null(trial)) ? "scratch" : "sandbox";
}

int isf_rest_take_organization(struct isf_org *o, const json_t *res)
{
    const json_t *rec = json_array_get(json_object_get(res, "records"), 0);
    if (!json_is_object(rec) || !str(rec, "Id"))
        return 1;
    int bad = isf_org_set(&o->org_id, str(rec, "Id")) ||
              isf_org_set(&o->org_name, str(rec, "Name")) ||
              isf_org_set(&o->org_type, str(rec, "OrganizationType")) ||
              isf_org_set(&o->instance_name, str(rec, "InstanceName")) ||
              isf_org_set(&o->environment, classify(rec));
    return bad ? ISF_E_NOMEM : ISF_OK;
}

static int read_organization(struct isf_conn *c, struct isf_error *err)
{
    json_t *res = NULL;
    char code[64] = "";
    int rc = query(c, 0,
                   "SELECT Id, Name, IsSandbox, OrganizationType, InstanceName, NamespacePrefix, "
                   "TrialExpirationDate FROM Organization",
                   &res, code, sizeof(code), err);
    if (rc != ISF_OK)
        return rc;
    rc = isf_rest_take_organization(c->org, res);
    json_decref(res);
    if (rc == 1)
        return isf_err_set(err, ISF_E_TRANSIENT,
                           "org %s: the Organization query answered without a record; try again",
                           c->org->name);
    return rc == ISF_OK ? ISF_OK : isf_err_set(err, ISF_E_NOMEM, "out of memory");
}

static int read_userinfo(struct isf_conn *c, struct isf_error *err)
{
    json_t *res = NULL;
    char code[64] = "";
    int rc = isf_conn_get(c, "/services/oauth2/userinfo", &res, code, sizeof(code), err);
    if (rc != ISF_OK)
        return rc;
    const char *user = str(res, "preferred_username");
    const char *uid = str(res, "user_id");
    int bad = (user && isf_org_set(&c->org->username, user)) ||
              (uid && isf_org_set(&c->org->user_id, uid));
    json_decref(res);
    return bad ? isf_err_set(err, ISF_E_NOMEM, "out of memory") : ISF_OK;
}

int isf_org_read_details(struct isf_conn *c, struct isf_error *err)
{
    int rc = isf_org_resolve_api_version(c, err);
    if (rc == ISF_OK)
        rc = read_organization(c, err);
    if (rc == ISF_OK)
        rc = read_userinfo(c, err);
    return rc;
}

/* A namespace goes inside a SOQL string literal: allow only what a namespace can hold. */
static int valid_namespace(const char *ns)
{
    if (!ns || !*ns || strlen(ns) > 15)
        return 0;
    for (const char *p = ns; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_'))
            return 0;
    return 1;
}

static int set_package(struct isf_org *o, int installed, const char *version, const char *reason)
{
    o->pkg_installed = installed;
    o->pkg_checked_at = isf_now_ms();
    return isf_org_set(&o->pkg_version, version) || isf_org_set(&o->pkg_reason, reason);
}

int isf_rest_tooling_package_version(const json_t *res, char *version, size_t len)
{
    const json_t *rec = json_array_get(json_object_get(res, "records"), 0);
    version[0] = '\0';
    if (!json_is_object(rec))
        return 0;
    const json_t *v = json_object_get(rec, "SubscriberPackageVersion");
    snprintf(version, len, "%lld.%lld.%lld.%lld",
             (long long)json_integer_value(json_object_get(v, "MajorVersion")),
             (long long)json_integer_value(json_object_get(v, "MinorVersion")),
             (long long)json_integer_value(json_object_get(v, "PatchVersion")),
             (long long)json_integer_value(json_object_get(v, "BuildNumber")));
    return 1;
}

static int package_from_tooling(struct isf_conn *c, const char *ns, int *fallback,
                                struct isf_error *err)
{
    char soql[512];
    snprintf(soql, sizeof(soql),
             "SELECT Id, SubscriberPackageId, SubscriberPackage.NamespacePrefix, "
             "SubscriberPackage.Name, SubscriberPackageVersion.Id, SubscriberPackageVersion.Name, "
             "SubscriberPackageVersion.MajorVersion, SubscriberPackageVersion.MinorVersion, "
             "SubscriberPackageVersion.PatchVersion, SubscriberPackageVersion.BuildNumber "
             "FROM InstalledSubscriberPackage WHERE SubscriberPackage.NamespacePrefix = '%s'",
             ns);
    json_t *res = NULL;
    char code[64] = "";
    *fallback = 0;
    int rc = query(c, 1, soql, &res, code, sizeof(code), err);
    if (rc == ISF_E_FAILED && strcmp(code, "INVALID_TYPE") == 0) {
        *fallback = 1; /* no Tooling permission: try PackageLicense */
        return ISF_OK;
    }
    if (rc != ISF_OK)
        return rc;
    char version[64];
    int installed = isf_rest_tooling_package_version(res, version, sizeof(version));
    json_decref(res);
    if (set_package(c->org, installed, installed ? version : NULL, NULL))
        return isf_err_set(err, ISF_E_NOMEM, "out of memory");
    return ISF_OK;
}

int isf_rest_license_installed(const json_t *res)
{
    return json_integer_value(json_object_get(res, "totalSize")) > 0 ||
           json_array_size(json_object_get(res, "records")) > 0;
}

static int package_from_license(struct isf_conn *c, const char *ns, struct isf_error *err)
{
    char soql[256];
    snprintf(soql, sizeof(soql),
             "SELECT NamespacePrefix, Status, ExpirationDate FROM PackageLicense WHERE "
             "NamespacePrefix = '%s'",
             ns);
    json_t *res = NULL;
    char code[64] = "";
    struct isf_error qerr;
    isf_err_init(&qerr);
    int rc = query(c, 0, soql, &res, code, sizeof(code), &qerr);
    if (rc == ISF_E_FAILED) {
        /* Neither object is readable by this user: say so, do not guess. */
        char reason[ISF_ERROR_MESSAGE_MAX];
        snprintf(reason, sizeof(reason),
                 "cannot tell: the user may not read InstalledSubscriberPackage or "
                 "PackageLicense (%s); grant 'Download AppExchange Packages' or 'View Setup'",
                 code[0] ? code : qerr.message);
        return set_package(c->org, -1, NULL, reason) ? isf_err_set(err, ISF_E_NOMEM, "oom")
                                                     : ISF_OK;
    }
    if (rc != ISF_OK) {
        *err = qerr;
        return rc;
    }
    int installed = isf_rest_license_installed(res);
    json_decref(res);
    return set_package(c->org, installed, NULL,
                       installed ? "found by PackageLicense (version unknown without Tooling "
                                   "API access)"
                                 : NULL)
               ? isf_err_set(err, ISF_E_NOMEM, "out of memory")
               : ISF_OK;
}

int isf_org_check_package(struct isf_conn *c, struct isf_error *err)
{
    const char *ns = c->ctx->cfg->package_namespace;
    if (isf_org_set(&c->org->pkg_namespace, ns))
        return isf_err_set(err, ISF_E_NOMEM, "out of memory");
    if (!valid_namespace(ns))
        return isf_err_set(err, ISF_E_CONFIG,
                           "salesforce.package_namespace '%s' is not a valid namespace prefix",
                           ns ? ns : "");
    int rc = isf_org_resolve_api_version(c, err);
    if (rc != ISF_OK)
        return rc;
    int fallback = 0;
    rc = package_from_tooling(c, ns, &fallback, err);
    if (rc == ISF_OK && fallback)
        rc = package_from_license(c, ns, err);
    return rc;
}

int isf_org_ping(struct isf_conn *c, struct isf_error *err)
{
    int rc = isf_org_resolve_api_version(c, err);
    if (rc != ISF_OK)
        return rc;
    char path[64];
    snprintf(path, sizeof(path), "/services/data/v%s/", c->org->api_version);
    json_t *res = NULL;
    char code[64] = "";
    rc = isf_conn_get(c, path, &res, code, sizeof(code), err);
    json_decref(res);
    return rc;
}
