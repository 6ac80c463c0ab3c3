/* The front half of the web server flow (authorize_url.h): base64url, PKCE (RFC 7636 Appendix B),
 * state randomness, loopback redirect URIs (RFC 8252 7.3) and the authorization URL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "authorize_url.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static int unreserved_only(const char *s)
{
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_'))
            return 0;
    return 1;
}

static void test_b64url_vectors(void **state)
{
    (void)state;
    char out[16];
    /* RFC 4648 section 10 vectors, without padding, and the two URL-safe characters. */
    assert_int_equal(isf_b64url_nopad((const unsigned char *)"", 0, out, sizeof(out)), 0);
    assert_string_equal(out, "");
    isf_b64url_nopad((const unsigned char *)"f", 1, out, sizeof(out));
    assert_string_equal(out, "Zg");
    isf_b64url_nopad((const unsigned char *)"fo", 2, out, sizeof(out));
    assert_string_equal(out, "Zm8");
    isf_b64url_nopad((const unsigned char *)"foo", 3, out, sizeof(out));
    assert_string_equal(out, "Zm9v");
    isf_b64url_nopad((const unsigned char *)"foobar", 6, out, sizeof(out));
    assert_string_equal(out, "Zm9vYmFy");
    const unsigned char urlsafe[] = {0xfb, 0xff};
    isf_b64url_nopad(urlsafe, 2, out, sizeof(out));
    assert_string_equal(out, "-_8");
    /* Too small a buffer: nothing written past it, 0 returned. */
    assert_int_equal(isf_b64url_nopad((const unsigned char *)"foobar", 6, out, 8), 0);
}

/* RFC 7636 Appendix B. (The brief quoted the challenge as "...CHxeNqNiqLGkiDhu5jw5Cw0";
 * the RFC and `openssl dgst -sha256 -binary | base64url` both give the value below.) */
static void test_pkce_rfc7636_appendix_b(void **state)
{
    (void)state;
    char challenge[ISF_PKCE_TEXT_MAX];
    assert_int_equal(isf_pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", challenge,
                                        sizeof(challenge)),
                     0);
    assert_string_equal(challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

static void test_pkce_rejects_bad_verifiers(void **state)
{
    (void)state;
    char c[ISF_PKCE_TEXT_MAX];
    char v[200];
    memset(v, 'a', 42);
    v[42] = '\0';
    assert_int_equal(isf_pkce_challenge(v, c, sizeof(c)), -1); /* 42: too short */
    memset(v, 'a', 129);
    v[129] = '\0';
    assert_int_equal(isf_pkce_challenge(v, c, sizeof(c)), -1); /* 129: too long */
    v[128] = '\0';
    assert_int_equal(isf_pkce_challenge(v, c, sizeof(c)), 0); /* 128: fine */
    memset(v, 'a', 50);
    v[50] = '\0';
    v[10] = '+';
    assert_int_equal(isf_pkce_challenge(v, c, sizeof(c)), -1); /* not unreserved */
    v[10] = '~';
    assert_int_equal(isf_pkce_challenge(v, c, sizeof(c)), 0); /* '~' is unreserved */
}

static void test_random_verifier_and_state(void **state)
{
    (void)state;
    char v1[ISF_PKCE_TEXT_MAX], v2[ISF_PKCE_TEXT_MAX], c[ISF_PKCE_TEXT_MAX];
    assert_int_equal(isf_random_b64url(ISF_PKCE_VERIFIER_BYTES, v1, sizeof(v1)), 0);
    assert_int_equal(isf_random_b64url(ISF_PKCE_VERIFIER_BYTES, v2, sizeof(v2)), 0);
    assert_int_equal(strlen(v1), 43); /* 256 bits */
    assert_true(unreserved_only(v1));
    assert_string_not_equal(v1, v2);
    assert_int_equal(isf_pkce_challenge(v1, c, sizeof(c)), 0);
    assert_int_equal(strlen(c), 43);
    assert_true(unreserved_only(c));

    /* States: 128 bits (22 characters), never repeating over many draws. */
    enum { N = 500 };
    static char states[N][ISF_PKCE_TEXT_MAX];
    for (int i = 0; i < N; i++) {
        assert_int_equal(isf_random_b64url(ISF_STATE_BYTES, states[i], sizeof(states[i])), 0);
        assert_int_equal(strlen(states[i]), 22);
        assert_true(unreserved_only(states[i]));
        for (int j = 0; j < i; j++)
            assert_string_not_equal(states[i], states[j]);
    }
    /* Every base64url character shows up somewhere: the bytes are not stuck. */
    int seen[256] = {0};
    for (int i = 0; i < N; i++)
        for (const char *p = states[i]; *p; p++)
            seen[(unsigned char)*p] = 1;
    int distinct = 0;
    for (int i = 0; i < 256; i++)
        distinct += seen[i];
    assert_int_equal(distinct, 64);
    assert_int_equal(isf_random_b64url(0, c, sizeof(c)), -1);
    assert_int_equal(isf_random_b64url(32, c, 10), -1);
}

static void test_redirect_good(void **state)
{
    (void)state;
    struct isf_redirect r;
    struct isf_error err = {sizeof(err), 0, ""};
    assert_int_equal(isf_redirect_parse("http://localhost:1717/OauthRedirect", &r, &err), ISF_OK);
    assert_int_equal(r.port, 1717);
    assert_int_equal(r.ipv6, 0);
    assert_string_equal(r.path, "/OauthRedirect");
    assert_int_equal(isf_redirect_parse("http://127.0.0.1:65535/", &r, &err), ISF_OK);
    assert_int_equal(r.port, 65535);
    assert_string_equal(r.path, "/");
    assert_int_equal(isf_redirect_parse("http://[::1]:8080/cb/done", &r, &err), ISF_OK);
    assert_int_equal(r.ipv6, 1);
    assert_int_equal(r.port, 8080);
    assert_string_equal(r.path, "/cb/done");
}

static void expect_bad_redirect(const char *uri, const char *why)
{
    struct isf_redirect r;
    struct isf_error err = {sizeof(err), 0, ""};
    if (isf_redirect_parse(uri, &r, &err) != ISF_E_USAGE)
        fail_msg("'%s' was accepted", uri);
    assert_int_equal(err.code, ISF_E_USAGE);
    assert_contains(err.message, why);
    assert_contains(err.message, "http://localhost:1717/OauthRedirect"); /* says what works */
}

static void test_redirect_bad(void **state)
{
    (void)state;
    expect_bad_redirect("https://localhost:1717/OauthRedirect", "loopback");
    expect_bad_redirect("http://example.com:1717/cb", "loopback");
    expect_bad_redirect("http://localhost.evil.example:1717/cb", "loopback");
    expect_bad_redirect("http://user@localhost:1717/cb", "loopback");
    expect_bad_redirect("http://localhost/OauthRedirect", "loopback"); /* no port */
    expect_bad_redirect("http://localhost:/cb", "port");
    expect_bad_redirect("http://localhost:0/cb", "port");
    expect_bad_redirect("http://localhost:65536/cb", "port");
    expect_bad_redirect("http://localhost:1717", "path");
    expect_bad_redirect("http://localhost:1717?x=1", "path");
    expect_bad_redirect("http://localhost:1717/cb?x=1", "query");
    expect_bad_redirect("http://localhost:1717/cb#top", "fragment");
    expect_bad_redirect("http://localhost:1717/c b", "spaces");
    expect_bad_redirect("", "empty");
}

static void test_authorize_url_every_parameter(void **state)
{
    (void)state;
    struct isf_authorize_request r = {"https://acme.my.salesforce.com/",
                                      "3MVG9.id+with/odd=chars",
                                      "http://localhost:1717/OauthRedirect",
                                      "api refresh_token web",
                                      "st4te_-x",
                                      "E9Melhoa2OwvFrEMTJguCHxeNqNiqLGkiDhu5jw5Cw0",
                                      "login consent",
                                      "ann+test@example.com"};
    char *url = isf_authorize_url(&r);
    assert_non_null(url);
    assert_string_equal(url, "https://acme.my.salesforce.com/services/oauth2/authorize"
                             "?response_type=code"
                             "&client_id=3MVG9.id%2Bwith%2Fodd%3Dchars"
                             "&redirect_uri=http%3A%2F%2Flocalhost%3A1717%2FOauthRedirect"
                             "&scope=api%20refresh_token%20web"
                             "&state=st4te_-x"
                             "&code_challenge=E9Melhoa2OwvFrEMTJguCHxeNqNiqLGkiDhu5jw5Cw0"
                             "&code_challenge_method=S256"
                             "&prompt=login%20consent"
                             "&login_hint=ann%2Btest%40example.com");
    free(url);
}

static void test_authorize_url_defaults(void **state)
{
    (void)state;
    struct isf_authorize_request r = {"https://login.salesforce.com",
                                      "cid",
                                      "http://127.0.0.1:5000/cb",
                                      NULL,
                                      "s",
                                      "c",
                                      "",
                                      NULL};
    char *url = isf_authorize_url(&r);
    assert_non_null(url);
    assert_contains(url, "https://login.salesforce.com/services/oauth2/authorize?response_type="
                         "code&");
    assert_contains(url, "&scope=api%20refresh_token&"); /* the default scope */
    assert_not_contains(url, "prompt=");
    assert_not_contains(url, "login_hint=");
    assert_not_contains(url, "client_secret");
    assert_not_contains(url, "code_verifier");
    free(url);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64url_vectors),
        cmocka_unit_test(test_pkce_rfc7636_appendix_b),
        cmocka_unit_test(test_pkce_rejects_bad_verifiers),
        cmocka_unit_test(test_random_verifier_and_state),
        cmocka_unit_test(test_redirect_good),
        cmocka_unit_test(test_redirect_bad),
        cmocka_unit_test(test_authorize_url_every_parameter),
        cmocka_unit_test(test_authorize_url_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
