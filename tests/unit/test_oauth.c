/* OAuth token responses as Salesforce really sends them (salesforce-api.md §1, §2), the error
 * bodies it sends instead, and what is not a token response at all; plus the form encoding of
 * token requests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "http.h"
#include "oauth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW_MS 1736600000000LL /* the "now" every parse is given */
#define TTL_MS (7200LL * 1000) /* refresh.session_ttl_s default */
#define TOKEN "00D5g000004Xyz!AQ0AQHkSECRETACCESSTOKENvalue"
#define REFRESH "5Aep861SECRETREFRESHTOKENvalue"
#define INSTANCE "https://acme.my.salesforce.com"

static void assert_contains(const char *haystack, const char *needle)
{
    if (!haystack || !strstr(haystack, needle))
        fail_msg("expected \"%s\" in \"%s\"", needle, haystack ? haystack : "(null)");
}

static void assert_not_contains(const char *haystack, const char *needle)
{
    if (haystack && strstr(haystack, needle))
        fail_msg("\"%s\" must not appear in \"%s\"", needle, haystack);
}

static int parse(long status, const char *body, struct isf_session *s, struct isf_error *err)
{
    isf_err_init(err);
    return isf_oauth_parse_token_response(status, body, body ? strlen(body) : 0, NOW_MS, TTL_MS, s,
                                          err);
}

/* A 200 answer that must parse; returns the session (clear it after). */
static struct isf_session parse_ok(const char *body)
{
    struct isf_session s;
    struct isf_error err;
    int rc = parse(200, body, &s, &err);
    if (rc != ISF_OK)
        fail_msg("expected success, got %d: %s (body %s)", rc, err.message, body);
    assert_string_equal(s.access_token, TOKEN);
    assert_string_equal(s.instance_url, INSTANCE);
    return s;
}

/* An answer that must fail with `code`; the session stays empty and the message never shows the
 * token or refresh token that may be in the body. */
static void parse_fails(long status, const char *body, int code, struct isf_error *err)
{
    struct isf_session s;
    int rc = parse(status, body, &s, err);
    if (rc != code)
        fail_msg("expected %d, got %d: %s (HTTP %ld, body %s)", code, rc, err->message, status,
                 body ? body : "(null)");
    assert_int_equal(err->code, code);
    assert_true(err->message[0] != '\0');
    assert_null(s.access_token);
    assert_null(s.refresh_token);
    assert_null(s.instance_url);
    assert_not_contains(err->message, TOKEN);
    assert_not_contains(err->message, REFRESH);
}

/* A client-credentials answer (§1) with issued_at as given (JSON text, or NULL to leave it out). */
static char *cc_body(const char *issued_at_json)
{
    char ia[96] = "";
    if (issued_at_json)
        snprintf(ia, sizeof(ia), ",\"issued_at\":%s", issued_at_json);
    return isf_aprintf("{\"access_token\":\"" TOKEN "\",\"signature\":\"c2lnbmF0dXJl\","
                       "\"scope\":\"api\",\"instance_url\":\"" INSTANCE "\","
                       "\"id\":\"https://login.salesforce.com/id/00D5g000004Xyz/0055g00000AbC\","
                       "\"token_type\":\"Bearer\"%s}",
                       ia);
}

/* The issued_at the parse makes of this JSON value, checking expires_at = issued + TTL. */
static int64_t issued_of(const char *issued_at_json)
{
    char *body = cc_body(issued_at_json);
    struct isf_session s = parse_ok(body);
    free(body);
    int64_t issued = s.issued_at_ms;
    assert_int_equal(s.expires_at_ms, issued + TTL_MS);
    isf_session_clear(&s);
    return issued;
}

/* ---------------------------------------------------------------------------------------------
 * Successful answers.
 */

static void test_client_credentials_shape(void **state)
{
    (void)state;
    char *body = cc_body("\"1736530186928\"");
    struct isf_session s = parse_ok(body);
    free(body);
    assert_int_equal(s.issued_at_ms, 1736530186928LL);
    assert_int_equal(s.expires_at_ms, 1736530186928LL + TTL_MS);
    assert_null(s.refresh_token); /* this flow has none */
    assert_string_equal(s.scope, "api");
    assert_string_equal(s.id_url, "https://login.salesforce.com/id/00D5g000004Xyz/0055g00000AbC");
    isf_session_clear(&s);
}

static void test_web_server_shape_with_refresh_token(void **state)
{
    (void)state;
    struct isf_session s = parse_ok(
        "{\"access_token\":\"" TOKEN "\",\"refresh_token\":\"" REFRESH "\",\"signature\":\"x\","
        "\"scope\":\"refresh_token api web\",\"id_token\":\"eyJhbGciOiJSUzI1NiJ9.e30.c2ln\","
        "\"instance_url\":\"" INSTANCE "\",\"id\":\"https://login.salesforce.com/id/00D/005\","
        "\"token_type\":\"Bearer\",\"issued_at\":\"1676372418560\"}");
    assert_string_equal(s.refresh_token, REFRESH);
    assert_string_equal(s.scope, "refresh_token api web");
    assert_int_equal(s.issued_at_ms, 1676372418560LL);
    isf_session_clear(&s);
}

/* Fields this client does not know (JWT tokens, Agent API, communities) change nothing. */
static void test_unknown_fields_ignored(void **state)
{
    (void)state;
    struct isf_session s = parse_ok(
        "{\"token_format\":\"jwt\",\"api_instance_url\":\"https://api.salesforce.com\","
        "\"sfdc_community_url\":\"https://acme.my.site.com\",\"sfdc_community_id\":\"0DB\","
        "\"nested\":{\"a\":[1,2,{\"b\":null}]},\"flag\":true,\"n\":1.5,"
        "\"access_token\":\"" TOKEN "\",\"instance_url\":\"" INSTANCE "\","
        "\"issued_at\":\"1736530186928\"}");
    assert_int_equal(s.issued_at_ms, 1736530186928LL);
    assert_null(s.refresh_token);
    assert_null(s.scope);
    assert_null(s.id_url);
    isf_session_clear(&s);
}

static void test_issued_at_forms(void **state)
{
    (void)state;
    /* Observed: a 13-digit millisecond string. Documented: seconds. Also as JSON numbers. */
    assert_int_equal(issued_of("\"1736530186928\""), 1736530186928LL);
    assert_int_equal(issued_of("\"1736530186\""), 1736530186000LL);
    assert_int_equal(issued_of("1736530186928"), 1736530186928LL);
    assert_int_equal(issued_of("1736530186"), 1736530186000LL);
    /* Where seconds end and milliseconds begin: 10^11 s would be the year 5138. */
    assert_int_equal(issued_of("\"99999999999\""), 99999999999000LL);
    assert_int_equal(issued_of("\"100000000000\""), 100000000000LL);
}

static void test_issued_at_missing_or_garbage_means_now(void **state)
{
    (void)state;
    static const char *const garbage[] = {NULL,
                                          "\"\"",
                                          "\"yesterday\"",
                                          "\"12abc\"",
                                          "\" 1736530186\"",
                                          "\"+1736530186\"",
                                          "\"-1736530186\"",
                                          "\"0\"",
                                          "0",
                                          "-5",
                                          "1.5e12",
                                          "true",
                                          "null",
                                          "[1736530186928]",
                                          "{\"ms\":1736530186928}"};
    for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
        int64_t issued = issued_of(garbage[i]);
        if (issued != NOW_MS)
            fail_msg("issued_at %s: expected now (%lld), got %lld",
                     garbage[i] ? garbage[i] : "(absent)", (long long)NOW_MS, (long long)issued);
    }
}

/* Regression (core/src/oauth.c, isf_oauth_parse_issued_at): an issued_at past LLONG_MAX was read
 * by strtoll as LLONG_MAX (ERANGE unchecked) and taken as milliseconds, and issued + ttl then
 * overflowed (undefined behaviour; expires_at wrapped negative, so the token looked expired
 * forever). A time Salesforce cannot have sent means "now", like any other garbage. */
static void test_issued_at_out_of_range_means_now(void **state)
{
    (void)state;
    static const char *const huge[] = {"\"99999999999999999999\"", "\"9223372036854775807\"",
                                       "9223372036854775807", "\"100000000000000\""};
    for (size_t i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
        char *body = cc_body(huge[i]);
        struct isf_session s = parse_ok(body);
        free(body);
        int64_t issued = s.issued_at_ms, expires = s.expires_at_ms;
        isf_session_clear(&s);
        /* Checked before any arithmetic on it, so the test itself cannot overflow. */
        assert_int_equal(issued, NOW_MS);
        assert_int_equal(expires, NOW_MS + TTL_MS);
    }
}

static void test_parse_issued_at_direct(void **state)
{
    (void)state;
    int64_t ms = -1;
    json_t *v = json_string("1736530186928");
    assert_int_equal(isf_oauth_parse_issued_at(v, &ms), 0);
    assert_int_equal(ms, 1736530186928LL);
    json_decref(v);
    v = json_integer(1736530186);
    assert_int_equal(isf_oauth_parse_issued_at(v, &ms), 0);
    assert_int_equal(ms, 1736530186000LL);
    json_decref(v);
    /* Refusals leave the output alone. */
    ms = 42;
    v = json_real(1736530186.0);
    assert_int_equal(isf_oauth_parse_issued_at(v, &ms), -1);
    json_decref(v);
    v = json_string("");
    assert_int_equal(isf_oauth_parse_issued_at(v, &ms), -1);
    json_decref(v);
    v = json_integer(0);
    assert_int_equal(isf_oauth_parse_issued_at(v, &ms), -1);
    json_decref(v);
    assert_int_equal(isf_oauth_parse_issued_at(NULL, &ms), -1);
    assert_int_equal(ms, 42);
}

static void test_expires_in_honoured(void **state)
{
    (void)state;
    struct isf_session s = parse_ok("{\"access_token\":\"" TOKEN "\",\"instance_url\":\"" INSTANCE
                                    "\",\"issued_at\":\"1736530186928\",\"expires_in\":3600}");
    assert_int_equal(s.expires_at_ms, 1736530186928LL + 3600 * 1000);
    isf_session_clear(&s);
    /* Without issued_at, counted from now. */
    s = parse_ok("{\"access_token\":\"" TOKEN "\",\"instance_url\":\"" INSTANCE
                 "\",\"expires_in\":900}");
    assert_int_equal(s.issued_at_ms, NOW_MS);
    assert_int_equal(s.expires_at_ms, NOW_MS + 900 * 1000);
    isf_session_clear(&s);
    /* Nonsense expires_in falls back to the configured session TTL. */
    static const char *const bad[] = {"0", "-60", "\"3600\"", "null", "36.5"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *body = isf_aprintf("{\"access_token\":\"" TOKEN "\",\"instance_url\":\"" INSTANCE
                                 "\",\"issued_at\":\"1736530186928\",\"expires_in\":%s}",
                                 bad[i]);
        s = parse_ok(body);
        free(body);
        assert_int_equal(s.expires_at_ms, 1736530186928LL + TTL_MS);
        isf_session_clear(&s);
    }
}

/* ---------------------------------------------------------------------------------------------
 * Error answers.
 */

static void test_invalid_client_is_auth(void **state)
{
    (void)state;
    struct isf_error err;
    parse_fails(400,
                "{\"error\":\"invalid_client\",\"error_description\":\"invalid client "
                "credentials\"}",
                ISF_E_AUTH, &err);
    assert_contains(err.message, "invalid_client");
    assert_contains(err.message, "invalid client credentials");
    parse_fails(400,
                "{\"error\":\"invalid_client_id\",\"error_description\":\"client identifier "
                "invalid\"}",
                ISF_E_AUTH, &err);
    assert_contains(err.message, "client identifier invalid");
    /* 401 is how some servers say it. */
    parse_fails(401, "{\"error\":\"invalid_client\"}", ISF_E_AUTH, &err);
    assert_contains(err.message, "invalid_client");
}

static void test_invalid_grant_is_auth(void **state)
{
    (void)state;
    struct isf_error err;
    parse_fails(400,
                "{\"error\":\"invalid_grant\",\"error_description\":\"request not supported on "
                "this domain\"}",
                ISF_E_AUTH, &err);
    assert_contains(err.message, "invalid_grant");
    assert_contains(err.message, "request not supported on this domain");
    assert_contains(err.message, "My Domain");
    parse_fails(400,
                "{\"error\":\"invalid_grant\",\"error_description\":\"expired access/refresh "
                "token\"}",
                ISF_E_AUTH, &err);
    assert_contains(err.message, "expired access/refresh token");
    parse_fails(400,
                "{\"error\":\"unsupported_grant_type\",\"error_description\":\"grant type not "
                "supported\"}",
                ISF_E_AUTH, &err);
    assert_contains(err.message, "grant type not supported");
}

static void test_passing_errors_are_transient(void **state)
{
    (void)state;
    struct isf_error err;
    parse_fails(400,
                "{\"error\":\"rate_limit_exceeded\",\"error_description\":\"too many requests\"}",
                ISF_E_TRANSIENT, &err);
    assert_contains(err.message, "rate_limit_exceeded");
    parse_fails(400, "{\"error\":\"temporarily_unavailable\"}", ISF_E_TRANSIENT, &err);
    parse_fails(400, "{\"error\":\"server_error\"}", ISF_E_TRANSIENT, &err);
    parse_fails(429, "{\"error\":\"invalid_grant\"}", ISF_E_TRANSIENT, &err);
    assert_contains(err.message, "429");
}

static void test_5xx_html_is_transient(void **state)
{
    (void)state;
    struct isf_error err;
    parse_fails(503,
                "<!DOCTYPE html><html><head><title>Maintenance</title></head><body>Salesforce is "
                "down for maintenance</body></html>",
                ISF_E_TRANSIENT, &err);
    assert_contains(err.message, "503");
    /* Even a JSON OAuth error that says "a person must act" is passing when the server is
     * failing: the 5xx decides. */
    parse_fails(500, "{\"error\":\"invalid_grant\"}", ISF_E_TRANSIENT, &err);
    parse_fails(502, "", ISF_E_TRANSIENT, &err);
}

static void test_not_a_json_object_is_transient(void **state)
{
    (void)state;
    struct isf_error err;
    static const char *const bodies[] = {
        "<html><body>Welcome to our captive portal</body></html>",
        "[{\"access_token\":\"" TOKEN "\",\"instance_url\":\"" INSTANCE "\"}]",
        "\"" TOKEN "\"",
        "",
        "{\"access_token\":\"" TOKEN "\",\"instance_url\":\"" INSTANCE "\"", /* truncated */
        /* Duplicate keys: which token would be the real one? */
        "{\"access_token\":\"a\",\"access_token\":\"" TOKEN "\",\"instance_url\":\"" INSTANCE "\"}",
        "access_token=" TOKEN "&instance_url=" INSTANCE,
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
        parse_fails(200, bodies[i], ISF_E_TRANSIENT, &err);
    parse_fails(200, NULL, ISF_E_TRANSIENT, &err);
    parse_fails(400, "Bad Request", ISF_E_TRANSIENT, &err);
}

static void test_error_status_without_oauth_error(void **state)
{
    (void)state;
    struct isf_error err;
    parse_fails(404, "{\"message\":\"not here\"}", ISF_E_TRANSIENT, &err);
    assert_contains(err.message, "404");
    /* A 200 that carries an OAuth error is an error. */
    parse_fails(200, "{\"error\":\"invalid_grant\",\"access_token\":\"" TOKEN "\"}", ISF_E_AUTH,
                &err);
}

static void test_200_without_token_or_https_instance(void **state)
{
    (void)state;
    struct isf_error err;
    static const char *const bodies[] = {
        "{\"instance_url\":\"" INSTANCE "\",\"issued_at\":\"1736530186928\"}",
        "{\"access_token\":\"\",\"instance_url\":\"" INSTANCE "\"}",
        "{\"access_token\":12345,\"instance_url\":\"" INSTANCE "\"}",
        "{\"access_token\":\"" TOKEN "\"}",
        "{\"access_token\":\"" TOKEN "\",\"instance_url\":\"http://acme.my.salesforce.com\"}",
        "{\"access_token\":\"" TOKEN "\",\"instance_url\":\"HTTP://acme.my.salesforce.com\"}",
        "{\"access_token\":\"" TOKEN "\",\"instance_url\":\"acme.my.salesforce.com\"}",
        "{\"access_token\":\"" TOKEN "\",\"refresh_token\":\"" REFRESH "\","
        "\"instance_url\":\"ftp://acme.my.salesforce.com\"}",
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        parse_fails(200, bodies[i], ISF_E_TRANSIENT, &err);
        assert_contains(err.message, "instance_url");
    }
}

/* Whatever goes wrong, a token in the body never reaches the message (checked in parse_fails
 * for every case above; here the error fields themselves carry the token). */
static void test_message_never_echoes_token(void **state)
{
    (void)state;
    struct isf_error err;
    parse_fails(400,
                "{\"error\":\"invalid_grant\",\"error_description\":\"bad\","
                "\"access_token\":\"" TOKEN "\",\"refresh_token\":\"" REFRESH "\"}",
                ISF_E_AUTH, &err);
    parse_fails(503, "{\"access_token\":\"" TOKEN "\",\"instance_url\":\"" INSTANCE "\"}",
                ISF_E_TRANSIENT, &err);
}

/* ---------------------------------------------------------------------------------------------
 * Form encoding of token requests (application/x-www-form-urlencoded).
 */

static void expect_escape(const char *in, const char *want)
{
    char *out = isf_url_escape(in);
    assert_non_null(out);
    assert_string_equal(out, want);
    free(out);
}

static void test_url_escape(void **state)
{
    (void)state;
    expect_escape("", "");
    expect_escape("AZaz09-._~", "AZaz09-._~"); /* RFC 3986 unreserved stay */
    expect_escape(" ", "%20");
    expect_escape("+", "%2B");
    expect_escape("&", "%26");
    expect_escape("=", "%3D");
    expect_escape("%", "%25");
    expect_escape(":/?#[]@", "%3A%2F%3F%23%5B%5D%40");
    expect_escape("!$'()*,;", "%21%24%27%28%29%2A%2C%3B");
    expect_escape("\"<>\\^`{|}", "%22%3C%3E%5C%5E%60%7B%7C%7D");
    expect_escape("\t\n\x7f", "%09%0A%7F");
    expect_escape("caf\xc3\xa9", "caf%C3%A9"); /* UTF-8, byte by byte, upper-case hex */
    expect_escape("\xe6\x97\xa5\xf0\x9f\x94\x91", "%E6%97%A5%F0%9F%94%91");
    expect_escape("http://localhost:1717/OauthRedirect",
                  "http%3A%2F%2Flocalhost%3A1717%2FOauthRedirect");
}

static void expect_form(const char *const *pairs, const char *want)
{
    char *out = isf_form_encode(pairs);
    assert_non_null(out);
    assert_string_equal(out, want);
    free(out);
}

static void test_form_encode(void **state)
{
    (void)state;
    const char *const cc[] = {
        "grant_type",    "client_credentials", "client_id", "3MVG9.key+with/odd=chars",
        "client_secret", "s3cr3t&x=y z",       NULL,        NULL};
    expect_form(cc, "grant_type=client_credentials&client_id=3MVG9.key%2Bwith%2Fodd%3Dchars"
                    "&client_secret=s3cr3t%26x%3Dy%20z");
    const char *const none[] = {NULL, NULL};
    expect_form(none, "");
    const char *const empty_value[] = {"code", "", NULL, NULL};
    expect_form(empty_value, "code=");
    const char *const odd_key[] = {"a b", "\xc3\xa9", NULL, NULL};
    expect_form(odd_key, "a%20b=%C3%A9");
    /* A key without its value ends the list: nothing half-written goes on the wire. */
    const char *const dangling[] = {"a", "1", "b", NULL};
    expect_form(dangling, "a=1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_client_credentials_shape),
        cmocka_unit_test(test_web_server_shape_with_refresh_token),
        cmocka_unit_test(test_unknown_fields_ignored),
        cmocka_unit_test(test_issued_at_forms),
        cmocka_unit_test(test_issued_at_missing_or_garbage_means_now),
        cmocka_unit_test(test_issued_at_out_of_range_means_now),
        cmocka_unit_test(test_parse_issued_at_direct),
        cmocka_unit_test(test_expires_in_honoured),
        cmocka_unit_test(test_invalid_client_is_auth),
        cmocka_unit_test(test_invalid_grant_is_auth),
        cmocka_unit_test(test_passing_errors_are_transient),
        cmocka_unit_test(test_5xx_html_is_transient),
        cmocka_unit_test(test_not_a_json_object_is_transient),
        cmocka_unit_test(test_error_status_without_oauth_error),
        cmocka_unit_test(test_200_without_token_or_https_instance),
        cmocka_unit_test(test_message_never_echoes_token),
        cmocka_unit_test(test_url_escape),
        cmocka_unit_test(test_form_encode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
