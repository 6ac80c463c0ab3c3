/* The OrgMaster record: stored form round trip, refusal of damaged records, the contract's public
 * JSON (every key, RFC 3339 times, no secret), and the util.c helpers it rests on (org names,
 * RFC 3339 time). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "record.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEALED_SECRET "v1.k1.SEALEDCLIENTSECRETb64AAAA"
#define SEALED_ACCESS "v1.k1.SEALEDACCESSTOKENb64BBBB"
#define SEALED_REFRESH "v1.k1.SEALEDREFRESHTOKENb64CCCC"

static void assert_contains(const char *haystack, const char *needle)
{
    if (!haystack || !strstr(haystack, needle))
        fail_msg("expected \"%s\" in \"%s\"", needle, haystack ? haystack : "(null)");
}

static void set(char **field, const char *value)
{
    assert_int_equal(isf_org_set(field, value), 0);
}

/* A record with every field set to a distinct value, so a field written under one key and read
 * under another cannot go unnoticed. */
static void full_org(struct isf_org *o)
{
    memset(o, 0, sizeof(*o));
    set(&o->name, "acme-prod");
    set(&o->description, "Acme production \"main\" org, caf\xc3\xa9");
    set(&o->mode, "client-credentials");
    set(&o->status, "connected");
    set(&o->status_detail, "last refresh ok");
    set(&o->login_url, "https://acme.my.salesforce.com");
    set(&o->instance_url, "https://acme.my.salesforce.com/inst");
    set(&o->client_id, "3MVG9clientid");
    set(&o->redirect_uri, "http://localhost:1717/OauthRedirect");
    set(&o->scope, "api refresh_token");
    set(&o->named_credential, "acme-nc");
    set(&o->org_id, "00D5g000004XyzAEAA");
    set(&o->org_name, "Acme Inc.");
    set(&o->org_type, "Enterprise Edition");
    set(&o->instance_name, "EU45");
    set(&o->environment, "production");
    set(&o->username, "integration@acme.com");
    set(&o->user_id, "0055g00000AbCdEAAV");
    set(&o->api_version, "66.0");
    set(&o->pkg_namespace, "isyncsf");
    set(&o->pkg_version, "1.4.0");
    set(&o->pkg_reason, "installed");
    set(&o->sealed_client_secret, SEALED_SECRET);
    set(&o->sealed_access_token, SEALED_ACCESS);
    set(&o->sealed_refresh_token, SEALED_REFRESH);
    o->pkg_installed = 1;
    o->token_issued_at = 1736530186928LL;
    o->token_expires_at = 1736537386928LL;
    o->connected_at = 1736530187001LL;
    o->last_tested_at = 1736530188002LL;
    o->last_refreshed_at = 1736530189003LL;
    o->created_at = 1736000000004LL;
    o->updated_at = 1736530190005LL;
    o->pkg_checked_at = 1736530191006LL;
}

#define STR_EQ(a, b, f) assert_string_equal((a)->f, (b)->f)
#define INT_EQ(a, b, f) assert_int_equal((a)->f, (b)->f)

static void assert_same_org(const struct isf_org *a, const struct isf_org *b)
{
    STR_EQ(a, b, name);
    STR_EQ(a, b, description);
    STR_EQ(a, b, mode);
    STR_EQ(a, b, status);
    STR_EQ(a, b, status_detail);
    STR_EQ(a, b, login_url);
    STR_EQ(a, b, instance_url);
    STR_EQ(a, b, client_id);
    STR_EQ(a, b, redirect_uri);
    STR_EQ(a, b, scope);
    STR_EQ(a, b, named_credential);
    STR_EQ(a, b, org_id);
    STR_EQ(a, b, org_name);
    STR_EQ(a, b, org_type);
    STR_EQ(a, b, instance_name);
    STR_EQ(a, b, environment);
    STR_EQ(a, b, username);
    STR_EQ(a, b, user_id);
    STR_EQ(a, b, api_version);
    STR_EQ(a, b, pkg_namespace);
    STR_EQ(a, b, pkg_version);
    STR_EQ(a, b, pkg_reason);
    STR_EQ(a, b, sealed_client_secret);
    STR_EQ(a, b, sealed_access_token);
    STR_EQ(a, b, sealed_refresh_token);
    INT_EQ(a, b, pkg_installed);
    INT_EQ(a, b, token_issued_at);
    INT_EQ(a, b, token_expires_at);
    INT_EQ(a, b, connected_at);
    INT_EQ(a, b, last_tested_at);
    INT_EQ(a, b, last_refreshed_at);
    INT_EQ(a, b, created_at);
    INT_EQ(a, b, updated_at);
    INT_EQ(a, b, pkg_checked_at);
}

static void parse_ok(const char *name, const char *text, struct isf_org *out)
{
    struct isf_error err;
    isf_err_init(&err);
    int rc = isf_org_parse(name, text, strlen(text), out, &err);
    if (rc != ISF_OK)
        fail_msg("parse failed: %s (%s)", err.message, text);
}

/* ---------------------------------------------------------------------------------------------
 * Stored form.
 */

static void test_round_trip_every_field(void **state)
{
    (void)state;
    struct isf_org a, b;
    full_org(&a);
    char *text = isf_org_serialize(&a);
    assert_non_null(text);
    parse_ok("acme-prod", text, &b);
    assert_same_org(&a, &b);
    assert_int_equal(b.revision, 0); /* the store's business, not the record's */
    free(text);
    isf_org_free_fields(&a);
    isf_org_free_fields(&b);
}

/* A fresh record: only name, mode, status; everything else absent, package state unknown. */
static void test_round_trip_minimal(void **state)
{
    (void)state;
    struct isf_org a = {0}, b;
    set(&a.name, "n");
    set(&a.mode, "webserver-eca");
    set(&a.status, "new");
    a.pkg_installed = -1;
    char *text = isf_org_serialize(&a);
    assert_non_null(text);
    parse_ok("n", text, &b);
    assert_string_equal(b.name, "n");
    assert_null(b.description);
    assert_null(b.login_url);
    assert_null(b.sealed_access_token);
    assert_null(b.sealed_refresh_token);
    assert_null(b.pkg_namespace);
    assert_int_equal(b.pkg_installed, -1);
    assert_int_equal(b.token_expires_at, 0);
    assert_int_equal(b.created_at, 0);
    free(text);
    isf_org_free_fields(&a);
    isf_org_free_fields(&b);
}

static void test_round_trip_package_not_installed(void **state)
{
    (void)state;
    struct isf_org a, b;
    full_org(&a);
    a.pkg_installed = 0;
    set(&a.pkg_version, NULL);
    set(&a.sealed_refresh_token, NULL);
    char *text = isf_org_serialize(&a);
    parse_ok("acme-prod", text, &b);
    assert_int_equal(b.pkg_installed, 0);
    assert_null(b.pkg_version);
    assert_null(b.sealed_refresh_token);
    assert_string_equal(b.sealed_access_token, SEALED_ACCESS);
    free(text);
    isf_org_free_fields(&a);
    isf_org_free_fields(&b);
}

/* Must be refused as ISF_E_STORE with the record's name in the message, leaving `out` empty. */
static void expect_corrupt(const char *name, const char *text, size_t len)
{
    struct isf_org o;
    struct isf_error err;
    isf_err_init(&err);
    int rc = isf_org_parse(name, text, len, &o, &err);
    if (rc != ISF_E_STORE)
        fail_msg("expected ISF_E_STORE, got %d for %.*s", rc, (int)len, text);
    assert_int_equal(err.code, ISF_E_STORE);
    char quoted[96];
    snprintf(quoted, sizeof(quoted), "record %s ", name);
    assert_contains(err.message, quoted);
    assert_null(o.name);
    assert_null(o.mode);
    assert_null(o.sealed_access_token);
}

#define CORRUPT(name, text) expect_corrupt((name), (text), strlen(text))

static void test_parse_rejects_not_json(void **state)
{
    (void)state;
    CORRUPT("acme", "");
    CORRUPT("acme", "not json at all");
    CORRUPT("acme", "[{\"schema\":1,\"name\":\"acme\",\"mode\":\"m\",\"status\":\"new\"}]");
    CORRUPT("acme", "\"acme\"");
    CORRUPT("acme", "{\"schema\":1,\"name\":\"acme\",\"name\":\"acme\",\"mode\":\"m\","
                    "\"status\":\"new\"}"); /* duplicate key */
    /* Binary garbage with a NUL inside. */
    expect_corrupt("acme", "{\"schema\":1\0garbage}", 20);
}

static void test_parse_rejects_wrong_schema(void **state)
{
    (void)state;
    CORRUPT("acme", "{\"name\":\"acme\",\"mode\":\"m\",\"status\":\"new\"}");
    CORRUPT("acme", "{\"schema\":2,\"name\":\"acme\",\"mode\":\"m\",\"status\":\"new\"}");
    CORRUPT("acme", "{\"schema\":\"1\",\"name\":\"acme\",\"mode\":\"m\",\"status\":\"new\"}");
    CORRUPT("acme", "{\"schema\":1.0,\"name\":\"acme\",\"mode\":\"m\",\"status\":\"new\"}");
}

/* A file renamed (or copied) to another name must not be taken for that org. */
static void test_parse_rejects_name_mismatch(void **state)
{
    (void)state;
    struct isf_org a;
    full_org(&a);
    char *text = isf_org_serialize(&a);
    CORRUPT("acme-sandbox", text);
    CORRUPT("ACME-PROD", text);
    CORRUPT("acme-pro", text);
    free(text);
    isf_org_free_fields(&a);
}

static void test_parse_rejects_wrong_types(void **state)
{
    (void)state;
    static const char *const bodies[] = {
        "{\"schema\":1,\"name\":\"acme\",\"mode\":5,\"status\":\"new\"}",
        "{\"schema\":1,\"name\":[\"acme\"],\"mode\":\"m\",\"status\":\"new\"}",
        "{\"schema\":1,\"name\":\"acme\",\"mode\":\"m\",\"status\":\"new\",\"login_url\":true}",
        "{\"schema\":1,\"name\":\"acme\",\"mode\":\"m\",\"status\":\"new\","
        "\"created_at\":\"2026-01-01T00:00:00Z\"}",
        "{\"schema\":1,\"name\":\"acme\",\"mode\":\"m\",\"status\":\"new\",\"updated_at\":1.5}",
        "{\"schema\":1,\"name\":\"acme\",\"mode\":\"m\",\"status\":\"new\","
        "\"token\":{\"issued_at\":\"soon\"}}",
        "{\"schema\":1,\"name\":\"acme\",\"mode\":\"m\",\"status\":\"new\","
        "\"token\":{\"expires_at\":{}}}",
        "{\"schema\":1,\"name\":\"acme\",\"mode\":\"m\",\"status\":\"new\","
        "\"package\":{\"version\":3}}",
        "{\"schema\":1,\"name\":\"acme\",\"mode\":\"m\",\"status\":\"new\","
        "\"package\":{\"checked_at\":\"x\"}}",
        "{\"schema\":1,\"name\":\"acme\",\"mode\":\"m\",\"status\":\"new\","
        "\"sealed\":{\"access_token\":5}}",
        "{\"schema\":1,\"name\":\"acme\",\"mode\":\"m\",\"status\":\"new\","
        "\"sealed\":{\"refresh_token\":[\"x\"]}}",
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
        CORRUPT("acme", bodies[i]);
}

static void test_parse_rejects_missing_mode_or_status(void **state)
{
    (void)state;
    CORRUPT("acme", "{\"schema\":1,\"name\":\"acme\",\"status\":\"new\"}");
    CORRUPT("acme", "{\"schema\":1,\"name\":\"acme\",\"mode\":\"m\"}");
    CORRUPT("acme", "{\"schema\":1,\"name\":\"acme\",\"mode\":null,\"status\":\"new\"}");
    CORRUPT("acme", "{\"schema\":1,\"mode\":\"m\",\"status\":\"new\"}");
}

/* A write cut short (full disk, crash without the store's atomic rename): every prefix of a
 * valid record is refused, never half-read. */
static void test_parse_rejects_truncated(void **state)
{
    (void)state;
    struct isf_org a;
    full_org(&a);
    char *text = isf_org_serialize(&a);
    size_t len = strlen(text);
    for (size_t cut = 0; cut < len; cut += 7)
        expect_corrupt("acme-prod", text, cut);
    expect_corrupt("acme-prod", text, len - 1);
    free(text);
    isf_org_free_fields(&a);
}

/* ---------------------------------------------------------------------------------------------
 * Public JSON (the contract's org object).
 */

static const char *const contract_keys[] = {"name",         "description",    "mode",
                                            "status",       "status_detail",  "login_url",
                                            "instance_url", "org_id",         "org_name",
                                            "org_type",     "environment",    "username",
                                            "package",      "token",          "has_refresh_token",
                                            "connected_at", "last_tested_at", "last_refreshed_at",
                                            "created_at",   "updated_at"};

static const char *const time_keys[] = {"connected_at", "last_tested_at", "last_refreshed_at",
                                        "created_at", "updated_at"};

static void assert_rfc3339_of(const json_t *v, int64_t ms)
{
    char want[32];
    isf_format_time(ms, want, sizeof(want));
    assert_true(json_is_string(v));
    assert_string_equal(json_string_value(v), want);
    /* And it reads back to the same second. */
    int64_t back;
    assert_int_equal(isf_parse_time(json_string_value(v), &back), 0);
    assert_int_equal(back, ms / 1000 * 1000);
}

static void test_public_json_has_contract_keys(void **state)
{
    (void)state;
    struct isf_org o;
    full_org(&o);
    json_t *j = isf_org_public_json(&o);
    assert_non_null(j);
    for (size_t i = 0; i < sizeof(contract_keys) / sizeof(contract_keys[0]); i++)
        if (!json_object_get(j, contract_keys[i]))
            fail_msg("the org object lacks '%s'", contract_keys[i]);
    assert_string_equal(json_string_value(json_object_get(j, "name")), "acme-prod");
    assert_string_equal(json_string_value(json_object_get(j, "org_id")), "00D5g000004XyzAEAA");
    assert_string_equal(json_string_value(json_object_get(j, "environment")), "production");
    assert_string_equal(json_string_value(json_object_get(j, "username")), "integration@acme.com");
    json_t *pkg = json_object_get(j, "package");
    assert_string_equal(json_string_value(json_object_get(pkg, "namespace")), "isyncsf");
    assert_true(json_is_true(json_object_get(pkg, "installed")));
    assert_string_equal(json_string_value(json_object_get(pkg, "version")), "1.4.0");
    json_t *token = json_object_get(j, "token");
    assert_rfc3339_of(json_object_get(token, "issued_at"), o.token_issued_at);
    assert_rfc3339_of(json_object_get(token, "expires_at"), o.token_expires_at);
    assert_true(json_is_true(json_object_get(j, "has_refresh_token")));
    const int64_t times[] = {o.connected_at, o.last_tested_at, o.last_refreshed_at, o.created_at,
                             o.updated_at};
    for (size_t i = 0; i < sizeof(time_keys) / sizeof(time_keys[0]); i++)
        assert_rfc3339_of(json_object_get(j, time_keys[i]), times[i]);
    assert_string_equal(json_string_value(json_object_get(j, "created_at")),
                        "2025-01-04T14:13:20Z");
    json_decref(j);
    isf_org_free_fields(&o);
}

/* Unknown values are JSON null, never "" or 0 or 1970. */
static void test_public_json_nulls(void **state)
{
    (void)state;
    struct isf_org o = {0};
    set(&o.name, "n");
    set(&o.mode, "client-credentials");
    set(&o.status, "new");
    o.pkg_installed = -1;
    json_t *j = isf_org_public_json(&o);
    for (size_t i = 0; i < sizeof(contract_keys) / sizeof(contract_keys[0]); i++) {
        const char *k = contract_keys[i];
        json_t *v = json_object_get(j, k);
        if (!v)
            fail_msg("the org object lacks '%s'", k);
        if (strcmp(k, "name") && strcmp(k, "mode") && strcmp(k, "status") && strcmp(k, "package") &&
            strcmp(k, "token") && strcmp(k, "has_refresh_token") && !json_is_null(v))
            fail_msg("'%s' should be null for a new org", k);
    }
    json_t *pkg = json_object_get(j, "package");
    assert_true(json_is_null(json_object_get(pkg, "namespace")));
    assert_true(json_is_null(json_object_get(pkg, "installed")));
    assert_true(json_is_null(json_object_get(pkg, "version")));
    json_t *token = json_object_get(j, "token");
    assert_true(json_is_null(json_object_get(token, "issued_at")));
    assert_true(json_is_null(json_object_get(token, "expires_at")));
    assert_true(json_is_false(json_object_get(j, "has_refresh_token")));
    json_decref(j);
    isf_org_free_fields(&o);
}

static void test_public_json_has_no_secret(void **state)
{
    (void)state;
    struct isf_org o;
    full_org(&o);
    json_t *j = isf_org_public_json(&o);
    char *text = json_dumps(j, JSON_COMPACT);
    assert_non_null(text);
    static const char *const secrets[] = {SEALED_SECRET, SEALED_ACCESS, SEALED_REFRESH, "SEALED"};
    for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
        if (strstr(text, secrets[i]))
            fail_msg("the public JSON shows a sealed secret: %s", text);
    static const char *const forbidden[] = {"sealed", "client_secret", "access_token",
                                            "refresh_token"};
    for (size_t i = 0; i < sizeof(forbidden) / sizeof(forbidden[0]); i++)
        assert_null(json_object_get(j, forbidden[i]));
    free(text);
    json_decref(j);
    isf_org_free_fields(&o);
}

static void test_public_json_package_not_installed(void **state)
{
    (void)state;
    struct isf_org o;
    full_org(&o);
    o.pkg_installed = 0;
    set(&o.sealed_refresh_token, NULL);
    json_t *j = isf_org_public_json(&o);
    assert_true(json_is_false(json_object_get(json_object_get(j, "package"), "installed")));
    assert_true(json_is_false(json_object_get(j, "has_refresh_token")));
    json_decref(j);
    isf_org_free_fields(&o);
}

/* ---------------------------------------------------------------------------------------------
 * util.c: org names and time.
 */

static void test_valid_org_name(void **state)
{
    (void)state;
    char n64[65], n65[66];
    memset(n64, 'a', 64);
    n64[64] = '\0';
    memset(n65, 'a', 65);
    n65[65] = '\0';
    static const char *const good[] = {"a", "Z", "0", "acme-prod", "Acme.Prod_2", "a..b", "9-"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        if (!isf_valid_org_name(good[i]))
            fail_msg("'%s' should be a valid org name", good[i]);
    assert_true(isf_valid_org_name(n64));
    assert_false(isf_valid_org_name(n65));
    static const char *const bad[] = {"",     ".acme", "-acme",  "_acme",       "..",
                                      "a b",  "a/b",   "../x",   "caf\xc3\xa9", "\xc3\xa9t\xc3\xa9",
                                      "a\tb", "a\nb",  "acme:1", "a*",          "~a"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (isf_valid_org_name(bad[i]))
            fail_msg("'%s' should be refused as an org name", bad[i]);
    assert_false(isf_valid_org_name(NULL));
}

static int64_t parse_time_ok(const char *s)
{
    int64_t ms = 0;
    if (isf_parse_time(s, &ms) != 0)
        fail_msg("'%s' should parse", s);
    return ms;
}

static void test_parse_time(void **state)
{
    (void)state;
    const int64_t base = 1796415688000LL; /* 2026-12-04T20:21:28Z */
    assert_int_equal(parse_time_ok("2026-12-04T20:21:28Z"), base);
    assert_int_equal(parse_time_ok("2026-12-04t20:21:28z"), base);
    assert_int_equal(parse_time_ok("2026-12-04 20:21:28Z"), base);
    assert_int_equal(parse_time_ok("2026-12-04T21:21:28+01:00"), base);
    assert_int_equal(parse_time_ok("2026-12-04T15:21:28-05:00"), base);
    assert_int_equal(parse_time_ok("2026-12-05T02:51:28+06:30"), base);
    assert_int_equal(parse_time_ok("2026-12-04T20:21:28+00:00"), base);
    assert_int_equal(parse_time_ok("2026-12-04T20:21:28.5Z"), base + 500);
    assert_int_equal(parse_time_ok("2026-12-04T20:21:28.05Z"), base + 50);
    assert_int_equal(parse_time_ok("2026-12-04T20:21:28.123Z"), base + 123);
    assert_int_equal(parse_time_ok("2026-12-04T20:21:28.123999Z"), base + 123); /* truncated */
    assert_int_equal(parse_time_ok("2026-12-04T21:21:28.250+01:00"), base + 250);
    assert_int_equal(parse_time_ok("1970-01-01T00:00:01Z"), 1000);
    assert_int_equal(parse_time_ok("2024-02-29T00:00:00Z"), 1709164800000LL); /* leap day */
    /* Salesforce's own form: "2026-12-04T20:21:28.000+0000" has no colon in the offset. */
    static const char *const bad[] = {
        "",
        "2026-12-04",
        "2026-12-04T20:21Z",
        "2026-12-04T20:21:28",
        "2026-12-04T20:21:28+0100",
        "2026-12-04T20:21:28Z ",
        "2026-12-04T20:21:28.Z",
        "2026-13-04T20:21:28Z",
        "2026-00-04T20:21:28Z",
        "2026-12-00T20:21:28Z",
        "2026-12-32T20:21:28Z",
        "2026-12-04T24:00:00Z",
        "2026-12-04T20:60:00Z",
        "2026-12-04X20:21:28Z",
        "26-12-04T20:21:28Z",
        "yesterday",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t ms = 7;
        if (isf_parse_time(bad[i], &ms) == 0)
            fail_msg("'%s' should be refused (got %lld)", bad[i], (long long)ms);
    }
    int64_t ms;
    assert_int_equal(isf_parse_time(NULL, &ms), -1);
}

static void test_format_time(void **state)
{
    (void)state;
    char buf[32];
    isf_format_time(1796415688000LL, buf, sizeof(buf));
    assert_string_equal(buf, "2026-12-04T20:21:28Z");
    isf_format_time(1796415688999LL, buf, sizeof(buf)); /* whole seconds: truncated */
    assert_string_equal(buf, "2026-12-04T20:21:28Z");
    isf_format_time(1000, buf, sizeof(buf));
    assert_string_equal(buf, "1970-01-01T00:00:01Z");
    strcpy(buf, "junk");
    isf_format_time(0, buf, sizeof(buf));
    assert_string_equal(buf, "");
    strcpy(buf, "junk");
    isf_format_time(-5000, buf, sizeof(buf));
    assert_string_equal(buf, "");
}

static void test_time_round_trip(void **state)
{
    (void)state;
    const int64_t values[] = {1000,
                              86400000LL,
                              951782400000LL /* 2000-02-29 */,
                              1709164800000LL,
                              1796415688000LL,
                              4102444799000LL /* 2099-12-31 */,
                              253402300799000LL /* 9999-12-31T23:59:59Z */};
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        char buf[32];
        isf_format_time(values[i], buf, sizeof(buf));
        assert_int_equal(strlen(buf), 20);
        assert_int_equal(parse_time_ok(buf), values[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_every_field),
        cmocka_unit_test(test_round_trip_minimal),
        cmocka_unit_test(test_round_trip_package_not_installed),
        cmocka_unit_test(test_parse_rejects_not_json),
        cmocka_unit_test(test_parse_rejects_wrong_schema),
        cmocka_unit_test(test_parse_rejects_name_mismatch),
        cmocka_unit_test(test_parse_rejects_wrong_types),
        cmocka_unit_test(test_parse_rejects_missing_mode_or_status),
        cmocka_unit_test(test_parse_rejects_truncated),
        cmocka_unit_test(test_public_json_has_contract_keys),
        cmocka_unit_test(test_public_json_nulls),
        cmocka_unit_test(test_public_json_has_no_secret),
        cmocka_unit_test(test_public_json_package_not_installed),
        cmocka_unit_test(test_valid_org_name),
        cmocka_unit_test(test_parse_time),
        cmocka_unit_test(test_format_time),
        cmocka_unit_test(test_time_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
