/* The REST side: /services/data/ (versions), and per version the resources map, SOQL queries on
 * Organization and PackageLicense, the Tooling query on InstalledSubscriberPackage, and limits.
 * SOQL is parsed loosely: only the object after FROM and one quoted namespace in WHERE matter. */
#include "fake_org.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DATA_PREFIX "/services/data/v"
#define DAILY_API_MAX 100000L

/* Accepts `Authorization: Bearer <token>` and Salesforce's older `OAuth <token>` scheme. */
bool fo_bearer_ok(struct fo_server *srv, const struct fo_request *req)
{
    const char *auth = fo_header(req, MHD_HTTP_HEADER_AUTHORIZATION);

    if (!auth)
        return false;
    if (fo_starts_with_ci(auth, "Bearer "))
        auth += 7;
    else if (fo_starts_with_ci(auth, "OAuth "))
        auth += 6;
    else
        return false;
    while (*auth == ' ')
        auth++;
    return fo_state_lookup(srv, auth, FO_TOKEN_ACCESS, NULL);
}

enum MHD_Result fo_rest_versions(struct fo_server *srv, struct fo_request *req)
{
    json_t *arr = json_array();

    for (int i = 0; arr && i < srv->napi_versions; i++) {
        char label[32], url[48];
        fo_api_label(srv->api_versions[i], label, sizeof(label));
        snprintf(url, sizeof(url), "/services/data/v%s", srv->api_versions[i]);
        json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "label", label, "url", url,
                                             "version", srv->api_versions[i]));
    }
    return fo_reply_json(req, 200, arr);
}

/* Every answer under /services/data/vNN.N carries the org's API usage, as Salesforce's do. */
static enum MHD_Result rest_reply(struct fo_server *srv, struct fo_request *req, unsigned status,
                                  json_t *json)
{
    char usage[64];
    long used;

    pthread_mutex_lock(&srv->lock);
    used = srv->counters.rest_calls;
    pthread_mutex_unlock(&srv->lock);
    snprintf(usage, sizeof(usage), "api-usage=%ld/%ld", used, DAILY_API_MAX);
    return fo_reply_json_hdr(req, status, json, "Sforce-Limit-Info", usage);
}

static enum MHD_Result rest_error(struct fo_server *srv, struct fo_request *req, unsigned status,
                                  const char *code, const char *message)
{
    return rest_reply(srv, req, status,
                      json_pack("[{s:s, s:s}]", "message", message, "errorCode", code));
}

static bool soql_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '(' || c == ')' || c == ',';
}

/* Finds a SOQL keyword as a whole word. */
static const char *soql_keyword(const char *q, const char *kw)
{
    size_t n = strlen(kw);

    for (const char *p = q; (p = fo_ci_find(p, kw)); p += n) {
        if ((p == q || soql_space(p[-1])) && (p[n] == '\0' || soql_space(p[n])))
            return p;
    }
    return NULL;
}

/* The object after FROM, e.g. "Organization". */
static bool soql_from(const char *q, char *out, size_t size)
{
    const char *p = soql_keyword(q, "from");
    size_t n = 0;

    if (!p)
        return false;
    for (p += 4; soql_space(*p); p++)
        ;
    while ((isalnum((unsigned char)*p) || *p == '_' || *p == '.') && n + 1 < size)
        out[n++] = *p++;
    out[n] = '\0';
    return n > 0;
}

static bool field_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '.';
}

/* The quoted literal compared to field in the WHERE clause (`field = 'x'`); false if none. */
static bool soql_where_eq(const char *q, const char *field, char *out, size_t size)
{
    const char *where = soql_keyword(q, "where");
    size_t flen = strlen(field);
    size_t n = 0;

    if (!where)
        return false;
    for (const char *p = where; (p = fo_ci_find(p, field)); p += flen) {
        const char *v = p + flen;
        if (field_char(p[-1]) || field_char(*v))
            continue;
        while (*v == ' ')
            v++;
        if (*v++ != '=')
            continue;
        while (*v == ' ')
            v++;
        if (*v++ != '\'')
            continue;
        for (; *v && *v != '\'' && n + 1 < size; v++)
            out[n++] = (*v == '\\' && v[1]) ? *++v : *v;
        out[n] = '\0';
        return true;
    }
    return false;
}

/* Whether the package matches the query: installed, and the namespace asked for (if any) is ours.
 */
/* Whether the package is there for a query. `forbidden` means only the Tooling API is closed to
 * the user: the package is installed, and PackageLicense (the fallback) still shows it. */
static bool package_matches(const struct fo_knobs *knobs, const char *q, const char *field,
                            bool tooling)
{
    char ns[128];

    if (knobs->package != FO_PKG_INSTALLED && (tooling || knobs->package != FO_PKG_FORBIDDEN))
        return false;
    if (!soql_where_eq(q, field, ns, sizeof(ns)))
        return true;
    return strcasecmp(ns, knobs->namespace_prefix) == 0;
}

static json_t *attributes(const char *type, const char *version, bool tooling, const char *id)
{
    char url[160];

    snprintf(url, sizeof(url), "/services/data/v%s/%ssobjects/%s/%s", version,
             tooling ? "tooling/" : "", type, id);
    return json_pack("{s:s, s:s}", "type", type, "url", url);
}

static json_t *query_result(json_t *records)
{
    size_t n = json_array_size(records);

    return json_pack("{s:I, s:b, s:o}", "totalSize", (json_int_t)n, "done", 1, "records", records);
}

static json_t *organization_record(const struct fo_server *srv, const struct fo_knobs *k,
                                   const char *version)
{
    bool sandbox = k->env != FO_ENV_PRODUCTION;
    const char *trial = k->env == FO_ENV_SCRATCH ? "2026-12-31T00:00:00.000+0000" : NULL;

    return json_pack("{s:o, s:s, s:s, s:b, s:s, s:s, s:n, s:s?}", "attributes",
                     attributes("Organization", version, false, srv->org_id), "Id", srv->org_id,
                     "Name", k->org_name, "IsSandbox", sandbox, "OrganizationType",
                     k->env == FO_ENV_SCRATCH ? "Developer Edition" : "Enterprise Edition",
                     "InstanceName", "NA123", "NamespacePrefix", "TrialExpirationDate", trial);
}

static json_t *package_license_record(const struct fo_knobs *k, const char *version)
{
    char id[19];

    fo_salesforce_id("0500b000000FaKe", id);
    return json_pack("{s:o, s:s, s:s, s:s, s:n, s:i, s:i}", "attributes",
                     attributes("PackageLicense", version, false, id), "Id", id, "NamespacePrefix",
                     k->namespace_prefix, "Status", "Active", "ExpirationDate", "AllowedLicenses",
                     -1, "UsedLicenses", 0);
}

static enum MHD_Result query(struct fo_server *srv, struct fo_request *req, const char *version,
                             const char *q)
{
    struct fo_knobs k;
    char object[64];
    json_t *records;

    fo_state_knobs(srv, &k);
    if (!soql_from(q, object, sizeof(object)))
        return rest_error(srv, req, 400, "MALFORMED_QUERY", "unexpected token: missing FROM");
    if (strcasecmp(object, "Organization") == 0) {
        records = json_pack("[o]", organization_record(srv, &k, version));
    } else if (strcasecmp(object, "PackageLicense") == 0) {
        if (k.package == FO_PKG_FORBIDDEN_ALL)
            return rest_error(srv, req, 400, "INVALID_TYPE",
                              "sObject type 'PackageLicense' is not supported. If you are "
                              "attempting to use a custom object, be sure to append the '__c' "
                              "after the entity name.");
        records = json_array();
        if (records && package_matches(&k, q, "NamespacePrefix", false))
            json_array_append_new(records, package_license_record(&k, version));
    } else {
        return rest_error(srv, req, 400, "MALFORMED_QUERY",
                          "The fake org only answers queries on Organization and PackageLicense");
    }
    return rest_reply(srv, req, 200, query_result(records));
}

static json_t *subscriber_package_record(const struct fo_knobs *k, const char *version)
{
    int v[4] = {0, 0, 0, 0};
    char id[19], pkg_id[19], ver_id[19], name[96], ver_name[64];

    sscanf(k->package_version, "%d.%d.%d.%d", &v[0], &v[1], &v[2], &v[3]);
    fo_salesforce_id("0A30b000000FaKe", id);
    fo_salesforce_id("0330b000000FaKe", pkg_id);
    fo_salesforce_id("04t0b000000FaKe", ver_id);
    snprintf(name, sizeof(name), "%s package", k->namespace_prefix);
    snprintf(ver_name, sizeof(ver_name), "Version %d.%d", v[0], v[1]);
    return json_pack("{s:o, s:s, s:s, s:{s:o, s:s, s:s}, s:{s:o, s:s, s:s, s:i, s:i, s:i, s:i}}",
                     "attributes", attributes("InstalledSubscriberPackage", version, true, id),
                     "Id", id, "SubscriberPackageId", pkg_id, "SubscriberPackage", "attributes",
                     attributes("SubscriberPackage", version, true, pkg_id), "NamespacePrefix",
                     k->namespace_prefix, "Name", name, "SubscriberPackageVersion", "attributes",
                     attributes("SubscriberPackageVersion", version, true, ver_id), "Id", ver_id,
                     "Name", ver_name, "MajorVersion", v[0], "MinorVersion", v[1], "PatchVersion",
                     v[2], "BuildNumber", v[3]);
}

static enum MHD_Result tooling_query(struct fo_server *srv, struct fo_request *req,
                                     const char *version, const char *q)
{
    struct fo_knobs k;
    char object[64];
    json_t *records;
    size_t n;

    fo_state_knobs(srv, &k);
    if (!soql_from(q, object, sizeof(object)))
        return rest_error(srv, req, 400, "MALFORMED_QUERY", "unexpected token: missing FROM");
    if (strcasecmp(object, "InstalledSubscriberPackage") != 0)
        return rest_error(srv, req, 400, "MALFORMED_QUERY",
                          "The fake org only answers Tooling queries on "
                          "InstalledSubscriberPackage");
    if (k.package == FO_PKG_FORBIDDEN || k.package == FO_PKG_FORBIDDEN_ALL)
        return rest_error(srv, req, 400, "INVALID_TYPE",
                          "sObject type 'InstalledSubscriberPackage' is not supported. If you are "
                          "attempting to use a custom object, be sure to append the '__c' after "
                          "the entity name.");
    records = json_array();
    if (records && package_matches(&k, q, "SubscriberPackage.NamespacePrefix", true))
        json_array_append_new(records, subscriber_package_record(&k, version));
    n = json_array_size(records);
    return rest_reply(srv, req, 200,
                      json_pack("{s:I, s:I, s:b, s:n, s:s, s:o}", "size", (json_int_t)n,
                                "totalSize", (json_int_t)n, "done", 1, "queryLocator",
                                "entityTypeName", "InstalledSubscriberPackage", "records",
                                records));
}

/* The resources map of GET /services/data/vNN.N/ (a representative subset of the real one). */
static json_t *resources(const char *version)
{
    static const char names[] = "tooling metadata chatter tabs appMenu quickActions queryAll "
                                "search identity composite recent connect limits process query "
                                "compactLayouts sobjects actions support";
    json_t *obj = json_object();
    char buf[sizeof(names)];

    memcpy(buf, names, sizeof(names));
    for (char *save = NULL, *n = strtok_r(buf, " ", &save); obj && n;
         n = strtok_r(NULL, " ", &save)) {
        char url[96];
        snprintf(url, sizeof(url), "/services/data/v%s/%s", version, n);
        json_object_set_new(obj, n, json_string(url));
    }
    return obj;
}

static enum MHD_Result limits(struct fo_server *srv, struct fo_request *req)
{
    long used;

    pthread_mutex_lock(&srv->lock);
    used = srv->counters.rest_calls;
    pthread_mutex_unlock(&srv->lock);
    return rest_reply(srv, req, 200,
                      json_pack("{s:{s:I, s:I}, s:{s:i, s:i}}", "DailyApiRequests", "Max",
                                (json_int_t)DAILY_API_MAX, "Remaining",
                                (json_int_t)(DAILY_API_MAX - used), "ConcurrentPerOrgLongTxn",
                                "Max", 10, "Remaining", 10));
}

static bool api_version_known(const struct fo_server *srv, const char *version)
{
    for (int i = 0; i < srv->napi_versions; i++) {
        if (strcmp(srv->api_versions[i], version) == 0)
            return true;
    }
    return false;
}

/* Splits /services/data/vNN.N/rest into version and rest (without a trailing slash). */
static bool split_path(const char *url, char *version, size_t vsize, char *rest, size_t rsize)
{
    const char *p = url + strlen(DATA_PREFIX);
    const char *slash = strchr(p, '/');
    size_t vlen = slash ? (size_t)(slash - p) : strlen(p);
    size_t rlen;

    if (vlen == 0 || vlen >= vsize)
        return false;
    memcpy(version, p, vlen);
    version[vlen] = '\0';
    snprintf(rest, rsize, "%s", slash ? slash : "");
    rlen = strlen(rest);
    if (rlen > 0 && rest[rlen - 1] == '/')
        rest[rlen - 1] = '\0';
    return true;
}

enum MHD_Result fo_rest(struct fo_server *srv, struct fo_request *req)
{
    char version[16], rest[256];
    const char *q;

    if (!split_path(req->url, version, sizeof(version), rest, sizeof(rest)) ||
        !api_version_known(srv, version))
        return rest_error(srv, req, 404, "NOT_FOUND", "The requested resource does not exist");
    if (!fo_bearer_ok(srv, req))
        return fo_reply_invalid_session(req);
    if (rest[0] == '\0')
        return rest_reply(srv, req, 200, resources(version));
    if (strcmp(rest, "/limits") == 0)
        return limits(srv, req);
    if (strcmp(rest, "/query") != 0 && strcmp(rest, "/tooling/query") != 0)
        return rest_error(srv, req, 404, "NOT_FOUND", "The requested resource does not exist");
    q = fo_query_arg(req, "q");
    if (!q || !*q)
        return rest_error(srv, req, 400, "MALFORMED_QUERY", "A query string (q) is required");
    if (strcmp(rest, "/query") == 0)
        return query(srv, req, version, q);
    return tooling_query(srv, req, version, q);
}
