/* When a session is due (refresh_due.c): TTL from the config or the org, margin, issued_at in
 * seconds or milliseconds, an introspected or server expiry; backoff growth, jitter bounds and
 * cap; which failures are permanent; what an attempt does to the record. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "oauth.h"
#include "refresh.h"

#include <stdlib.h>
#include <string.h>

#define NOW 1765000000000LL /* ms */
#define MIN_MS 60000LL

static struct isf_config cfg(void)
{
    struct isf_config c = {0};
    c.refresh_margin_s = 600;
    c.refresh_session_ttl_s = 7200;
    c.refresh_max_backoff_s = 3600;
    return c;
}

static struct isf_org connected(int64_t issued, int64_t expires)
{
    struct isf_org o = {0};
    o.name = strdup("acme");
    o.status = strdup("connected");
    o.sealed_access_token = strdup("sealed");
    o.token_issued_at = issued;
    o.token_expires_at = expires;
    return o;
}

static void test_due_from_stored_expiry_and_margin(void **state)
{
    (void)state;
    struct isf_config c = cfg();
    struct isf_org o = connected(NOW, NOW + 7200 * 1000);
    assert_int_equal(isf_refresh_due_ms(&c, &o), NOW + 7200 * 1000 - 600 * 1000);
    c.refresh_margin_s = 0;
    assert_int_equal(isf_refresh_due_ms(&c, &o), NOW + 7200 * 1000);
    isf_org_free_fields(&o);
}

static void test_due_from_issued_at_and_ttl(void **state)
{
    (void)state;
    struct isf_config c = cfg();
    struct isf_org o = connected(NOW, 0); /* no stored expiry: issued_at + TTL */
    assert_int_equal(isf_refresh_due_ms(&c, &o), NOW + (7200 - 600) * 1000LL);
    o.session_ttl_s = 900; /* the org's own Session Timeout */
    assert_int_equal(isf_refresh_due_ms(&c, &o), NOW + (900 - 600) * 1000LL);
    assert_int_equal(isf_refresh_ttl_ms(&c, &o), 900 * 1000LL);
    isf_org_free_fields(&o);
}

static void test_issued_at_seconds_or_ms_give_the_same_due(void **state)
{
    (void)state;
    struct isf_config c = cfg();
    struct isf_session s_ms, s_s;
    struct isf_error err;
    isf_err_init(&err);
    const char *ms = "{\"access_token\":\"00Dx!tok\",\"instance_url\":\"https://a.example\","
                     "\"issued_at\":\"1765000000000\"}";
    const char *sec = "{\"access_token\":\"00Dx!tok\",\"instance_url\":\"https://a.example\","
                      "\"issued_at\":1765000000}";
    assert_int_equal(isf_oauth_parse_token_response(200, ms, strlen(ms), 1, 7200000, &s_ms, &err),
                     ISF_OK);
    assert_int_equal(isf_oauth_parse_token_response(200, sec, strlen(sec), 1, 7200000, &s_s, &err),
                     ISF_OK);
    assert_int_equal(s_ms.issued_at_ms, NOW);
    assert_int_equal(s_s.issued_at_ms, NOW);
    struct isf_org a = connected(s_ms.issued_at_ms, s_ms.expires_at_ms);
    struct isf_org b = connected(s_s.issued_at_ms, s_s.expires_at_ms);
    assert_int_equal(isf_refresh_due_ms(&c, &a), isf_refresh_due_ms(&c, &b));
    assert_int_equal(isf_refresh_due_ms(&c, &a), NOW + (7200 - 600) * 1000LL);
    isf_session_clear(&s_ms);
    isf_session_clear(&s_s);
    isf_org_free_fields(&a);
    isf_org_free_fields(&b);
}

static void test_org_ttl_replaces_only_the_default_expiry(void **state)
{
    (void)state;
    struct isf_config c = cfg();
    struct isf_org o = connected(0, 0);
    o.session_ttl_s = 1800;
    /* The path that only knew the global TTL: corrected to the org's. */
    assert_int_equal(isf_refresh_apply_org_ttl(&c, &o, NOW, NOW + 7200 * 1000LL),
                     NOW + 1800 * 1000LL);
    /* An expiry from the server (introspection exp, expires_in) is kept. */
    assert_int_equal(isf_refresh_apply_org_ttl(&c, &o, NOW, NOW + 3000 * 1000LL),
                     NOW + 3000 * 1000LL);
    o.session_ttl_s = 0;
    assert_int_equal(isf_refresh_apply_org_ttl(&c, &o, NOW, NOW + 7200 * 1000LL),
                     NOW + 7200 * 1000LL);
    isf_org_free_fields(&o);
}

static void test_introspection_exp(void **state)
{
    (void)state;
    struct isf_error err;
    int64_t exp = 0;
    const char *ok = "{\"active\":true,\"exp\":1765003600,\"client_id\":\"x\"}";
    assert_int_equal(isf_oauth_parse_introspection(200, ok, strlen(ok), &exp, &err), ISF_OK);
    assert_int_equal(exp, 1765003600000LL);
    const char *inactive = "{\"active\":false}";
    assert_int_equal(isf_oauth_parse_introspection(200, inactive, strlen(inactive), &exp, &err),
                     ISF_E_FAILED);
    const char *noexp = "{\"active\":true}";
    assert_int_equal(isf_oauth_parse_introspection(200, noexp, strlen(noexp), &exp, &err),
                     ISF_E_FAILED);
    assert_int_equal(isf_oauth_parse_introspection(503, "", 0, &exp, &err), ISF_E_TRANSIENT);
    /* The introspected expiry is what the due time follows. */
    struct isf_config c = cfg();
    struct isf_org o = connected(NOW, 1765003600000LL);
    assert_int_equal(isf_refresh_due_ms(&c, &o), 1765003600000LL - 600 * 1000);
    isf_org_free_fields(&o);
}

static void test_not_due_statuses(void **state)
{
    (void)state;
    struct isf_config c = cfg();
    static const char *const never[] = {"new", "disconnected", "expired"};
    for (size_t i = 0; i < 3; i++) {
        struct isf_org o = connected(NOW, NOW + 1000);
        isf_org_set(&o.status, never[i]);
        assert_true(isf_refresh_due_ms(&c, &o) == INT64_MAX);
        isf_org_free_fields(&o);
    }
    struct isf_org nt = connected(NOW, NOW + 1000);
    free(nt.sealed_access_token); /* a mode that keeps no token */
    nt.sealed_access_token = NULL;
    assert_true(isf_refresh_due_ms(&c, &nt) == INT64_MAX);
    isf_org_free_fields(&nt);
}

static void test_backoff_growth_jitter_and_cap(void **state)
{
    (void)state;
    struct isf_config c = cfg();
    /* Exact middle of the jitter range (random = 2^31) gives the base. */
    assert_int_equal(isf_refresh_backoff_ms(&c, 1, 0x80000000u), 30000);
    assert_int_equal(isf_refresh_backoff_ms(&c, 2, 0x80000000u), 60000);
    assert_int_equal(isf_refresh_backoff_ms(&c, 3, 0x80000000u), 120000);
    for (int64_t n = 1; n <= 12; n++) {
        int64_t base = 30000LL << (n - 1);
        if (base > 3600000)
            base = 3600000;
        int64_t lo = isf_refresh_backoff_ms(&c, n, 0);
        int64_t hi = isf_refresh_backoff_ms(&c, n, 0xffffffffu);
        assert_int_equal(lo, base - base / 5);
        assert_true(hi <= 3600000);
        assert_true(hi <= base + base / 5 && hi >= base);
        for (uint32_t r = 1; r < 0xff000000u; r += 0x0f1f1f1fu) {
            int64_t w = isf_refresh_backoff_ms(&c, n, r);
            assert_true(w >= lo && w <= hi);
        }
    }
    /* Capped: never longer than max_backoff_s, whatever the count. */
    assert_int_equal(isf_refresh_backoff_ms(&c, 1000, 0xffffffffu), 3600000);
    c.refresh_max_backoff_s = 10;
    assert_int_equal(isf_refresh_backoff_ms(&c, 1, 0xffffffffu), 10000);
}

static void test_failure_classification(void **state)
{
    (void)state;
    assert_true(isf_refresh_is_permanent(ISF_E_AUTH));
    assert_false(isf_refresh_is_passing(ISF_E_AUTH));
    assert_true(isf_refresh_is_passing(ISF_E_TRANSIENT));
    assert_false(isf_refresh_is_permanent(ISF_E_TRANSIENT));
    assert_false(isf_refresh_is_permanent(ISF_E_STORE));
    assert_false(isf_refresh_is_passing(ISF_E_STORE));
    /* What the token endpoint answers maps onto them. */
    struct isf_session s;
    struct isf_error err;
    static const struct {
        long status;
        const char *body;
        int want;
    } cases[] = {
        {400,
         "{\"error\":\"invalid_grant\",\"error_description\":\"expired access/refresh token\"}",
         ISF_E_AUTH},
        {400, "{\"error\":\"invalid_client\",\"error_description\":\"invalid client credentials\"}",
         ISF_E_AUTH},
        {400,
         "{\"error\":\"invalid_client_id\",\"error_description\":\"client identifier invalid\"}",
         ISF_E_AUTH},
        {503, "{\"error\":\"server_error\"}", ISF_E_TRANSIENT},
        {500, "", ISF_E_TRANSIENT},
        {429, "", ISF_E_TRANSIENT},
        {403,
         "[{\"message\":\"TotalRequests Limit "
         "exceeded.\",\"errorCode\":\"REQUEST_LIMIT_EXCEEDED\"}]",
         ISF_E_TRANSIENT},
        {400, "{\"error\":\"rate_limit_exceeded\"}", ISF_E_TRANSIENT},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        isf_err_init(&err);
        int rc = isf_oauth_parse_token_response(cases[i].status, cases[i].body,
                                                strlen(cases[i].body), NOW, 7200000, &s, &err);
        if (rc != cases[i].want)
            fail_msg("case %zu: got %d, want %d (%s)", i, rc, cases[i].want, err.message);
    }
}

static void test_notes_change_the_record(void **state)
{
    (void)state;
    struct isf_config c = cfg();
    struct isf_org o = connected(NOW, NOW + 1000);
    assert_int_equal(isf_refresh_note_failure(&c, &o, ISF_E_TRANSIENT, "HTTP 503", NOW, 0), 0);
    assert_string_equal(o.status, "failing");
    assert_int_equal(o.refresh_failures, 1);
    assert_int_equal(o.next_attempt_at, NOW + 24000);
    assert_int_equal(isf_refresh_note_failure(&c, &o, ISF_E_TRANSIENT, "HTTP 503", NOW, 0), 0);
    assert_int_equal(o.next_attempt_at, NOW + 48000);
    /* Due no earlier than the retry time. */
    assert_int_equal(isf_refresh_due_ms(&c, &o), NOW + 48000);
    char why[256];
    assert_int_equal(isf_refresh_decide(&c, &o, NOW + 1000, 0, why, sizeof(why)), ISF_DECIDE_SKIP);
    assert_non_null(strstr(why, "failing"));
    assert_int_equal(isf_refresh_decide(&c, &o, NOW + 1000, 1, why, sizeof(why)), ISF_DECIDE_GO);
    assert_int_equal(isf_refresh_decide(&c, &o, NOW + 49000, 0, why, sizeof(why)), ISF_DECIDE_GO);
    /* Other failures (store, config) leave the schedule alone. */
    assert_int_equal(isf_refresh_note_failure(&c, &o, ISF_E_STORE, "disk", NOW, 0), 0);
    assert_int_equal(o.refresh_failures, 2);
    assert_int_equal(isf_refresh_note_success(&o, NOW + 5), 0);
    assert_string_equal(o.status, "connected");
    assert_null(o.status_detail);
    assert_int_equal(o.refresh_failures, 0);
    assert_int_equal(o.next_attempt_at, 0);
    assert_int_equal(o.last_refreshed_at, NOW + 5);
    assert_int_equal(isf_refresh_note_failure(&c, &o, ISF_E_AUTH, "invalid_grant", NOW, 0), 0);
    assert_string_equal(o.status, "expired");
    assert_true(isf_refresh_due_ms(&c, &o) == INT64_MAX);
    assert_int_equal(isf_refresh_decide(&c, &o, NOW, 1, why, sizeof(why)), ISF_DECIDE_SKIP_AUTH);
    isf_org_free_fields(&o);
}

static void test_decide_due_and_not_due(void **state)
{
    (void)state;
    struct isf_config c = cfg();
    char why[256];
    struct isf_org o = connected(NOW, NOW + 7200 * 1000LL);
    assert_int_equal(isf_refresh_decide(&c, &o, NOW, 0, why, sizeof(why)), ISF_DECIDE_NOT_DUE);
    assert_int_equal(isf_refresh_decide(&c, &o, NOW, 1, why, sizeof(why)), ISF_DECIDE_GO);
    /* One ms before the margin: not due; at it: due. */
    int64_t due = NOW + (7200 - 600) * 1000LL;
    assert_int_equal(isf_refresh_decide(&c, &o, due - 1, 0, why, sizeof(why)), ISF_DECIDE_NOT_DUE);
    assert_int_equal(isf_refresh_decide(&c, &o, due, 0, why, sizeof(why)), ISF_DECIDE_GO);
    isf_org_set(&o.status, "new");
    assert_int_equal(isf_refresh_decide(&c, &o, due, 1, why, sizeof(why)), ISF_DECIDE_SKIP);
    assert_non_null(strstr(why, "org connect acme"));
    isf_org_free_fields(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_due_from_stored_expiry_and_margin),
        cmocka_unit_test(test_due_from_issued_at_and_ttl),
        cmocka_unit_test(test_issued_at_seconds_or_ms_give_the_same_due),
        cmocka_unit_test(test_org_ttl_replaces_only_the_default_expiry),
        cmocka_unit_test(test_introspection_exp),
        cmocka_unit_test(test_not_due_statuses),
        cmocka_unit_test(test_backoff_growth_jitter_and_cap),
        cmocka_unit_test(test_failure_classification),
        cmocka_unit_test(test_notes_change_the_record),
        cmocka_unit_test(test_decide_due_and_not_due),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
