/* auth-client-credentials, the built plugin itself (dlopen), against the mock host: which settings
 * it demands, that connect and refresh run the client credentials grant through host->oauth_token
 * and hand its outcome back unchanged, and that revoke revokes the current access token. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mock_host.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PLUGIN ISF_TEST_PLUGIN_DIR "/auth-client-credentials.so"
#define SECRET "ClientSecretValue-8d1f"
#define ACCESS "00D5g000004Xyz!AQ0AQAccessTokenValue"
#define MY_DOMAIN "https://acme.my.salesforce.com"

struct fx {
    void *dl;
    struct mock_host *m;
    const struct isf_plugin_descriptor *desc;
    const struct isf_auth_ops *ops;
    json_t *opts_json;
    void *inst;
    struct mock_session session;
    struct isf_org_view org;
    struct isf_error err;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    f->dl = dlopen(PLUGIN, RTLD_NOW | RTLD_LOCAL);
    if (!f->dl) {
        fprintf(stderr, "dlopen %s: %s\n", PLUGIN, dlerror());
        return -1;
    }
    isf_plugin_init_fn init;
    *(void **)&init = dlsym(f->dl, ISF_PLUGIN_INIT_SYMBOL);
    f->m = mock_host_new();
    const struct isf_host *h = mock_host_table(f->m);
    f->err.struct_size = sizeof(f->err);
    if (!init || init(h, &f->desc, &f->err) != ISF_OK)
        return -1;
    f->ops = f->desc->ops;
    f->opts_json = json_object();
    if (mock_opts_apply_defaults(f->opts_json, f->desc->options) != 0)
        return -1;
    if (f->ops->create(h, mock_opts_from_json(f->opts_json), &f->inst, &f->err) != ISF_OK)
        return -1;
    /* A complete org in this mode, as the core would hand it over. */
    f->org = (struct isf_org_view){.struct_size = sizeof(f->org),
                                   .name = "acme",
                                   .login_url = MY_DOMAIN,
                                   .client_id = "3MVG9ClientId",
                                   .client_secret = SECRET};
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    f->ops->destroy(f->inst);
    /* Everything the plugin allocated through the host was released. */
    long live = mock_host_live_allocs(f->m);
    /* Nothing it logged may show the secret or the token. */
    int leaked = mock_host_log_contains(f->m, SECRET) || mock_host_log_contains(f->m, ACCESS);
    mock_session_clear(&f->session);
    mock_host_free(f->m);
    json_decref(f->opts_json);
    dlclose(f->dl);
    free(f);
    if (live != 0)
        print_error("the plugin left %ld host allocations unreleased\n", live);
    if (leaked)
        print_error("the plugin logged the client secret or the access token\n");
    return live == 0 && !leaked ? 0 : -1;
}

static void assert_contains(const char *haystack, const char *needle)
{
    if (!haystack || !strstr(haystack, needle))
        fail_msg("expected \"%s\" in \"%s\"", needle, haystack ? haystack : "(null)");
}

static int check(struct fx *f, int has_client_secret)
{
    struct isf_org_settings_check c = {sizeof(c), &f->org, has_client_secret};
    f->err.code = 0;
    f->err.message[0] = '\0';
    return f->ops->check_settings(f->inst, &c, &f->err);
}

/* check_settings must say ISF_E_USAGE with all of the (NULL-terminated) words in its message. */
static void expect_usage(struct fx *f, int has_client_secret, ...)
{
    int rc = check(f, has_client_secret);
    if (rc != ISF_E_USAGE)
        fail_msg("expected ISF_E_USAGE for login_url %s, got %d: %s",
                 f->org.login_url ? f->org.login_url : "(none)", rc, f->err.message);
    assert_int_equal(f->err.code, ISF_E_USAGE);
    assert_contains(f->err.message, "acme"); /* names the org */
    va_list ap;
    va_start(ap, has_client_secret);
    for (const char *w = va_arg(ap, const char *); w; w = va_arg(ap, const char *))
        assert_contains(f->err.message, w);
    va_end(ap);
    assert_int_equal(mock_host_oauth_count(f->m), 0); /* no network at add/edit */
}

/* ---------------------------------------------------------------------------------------------
 * What it is.
 */

static void test_descriptor(void **state)
{
    struct fx *f = *state;
    assert_int_equal(f->desc->kind, ISF_PLUGIN_AUTH);
    assert_string_equal(f->desc->name, "auth-client-credentials");
    assert_int_equal(f->desc->capabilities,
                     ISF_CAP_REFRESHABLE | ISF_CAP_PER_ORG_SECRET | ISF_CAP_REVOCABLE);
    assert_int_equal(f->ops->struct_size, sizeof(struct isf_auth_ops));
    assert_non_null(f->ops->revoke);
}

/* A host older than ABI 1.0's table cannot serve it: init refuses rather than read past it. */
static void test_init_refuses_short_host(void **state)
{
    struct fx *f = *state;
    isf_plugin_init_fn init;
    *(void **)&init = dlsym(f->dl, ISF_PLUGIN_INIT_SYMBOL);
    struct isf_host shorter = *mock_host_table(f->m);
    shorter.struct_size = offsetof(struct isf_host, session_set);
    const struct isf_plugin_descriptor *d = NULL;
    assert_int_equal(init(&shorter, &d, &f->err), ISF_E_CONFIG);
    assert_null(d);
}

/* ---------------------------------------------------------------------------------------------
 * check_settings.
 */

static void test_check_needs_login_url(void **state)
{
    struct fx *f = *state;
    f->org.login_url = NULL;
    expect_usage(f, 1, "--login-url", "My Domain", NULL);
}

static void test_check_refuses_generic_login_hosts(void **state)
{
    struct fx *f = *state;
    static const char *const generic[] = {
        "https://login.salesforce.com",    "https://test.salesforce.com",
        "https://login.salesforce.com/",   "https://LOGIN.Salesforce.com",
        "https://test.salesforce.com:443", "https://login.salesforce.com?x=1"};
    for (size_t i = 0; i < sizeof(generic) / sizeof(generic[0]); i++) {
        f->org.login_url = generic[i];
        expect_usage(f, 1, "My Domain", generic[i], NULL);
    }
}

/* Hosts that merely contain the generic names are somebody's My Domain. */
static void test_check_accepts_my_domains(void **state)
{
    struct fx *f = *state;
    static const char *const mine[] = {MY_DOMAIN,
                                       "https://acme--uat.sandbox.my.salesforce.com",
                                       "https://acme-dev-ed.develop.my.salesforce.com",
                                       "https://mylogin.salesforce.com",
                                       "https://login.salesforce.com.example.org",
                                       "https://test.salesforce.community"};
    for (size_t i = 0; i < sizeof(mine) / sizeof(mine[0]); i++) {
        f->org.login_url = mine[i];
        int rc = check(f, 1);
        if (rc != ISF_OK)
            fail_msg("%s should be accepted: %s", mine[i], f->err.message);
    }
}

static void test_check_needs_client_id(void **state)
{
    struct fx *f = *state;
    f->org.client_id = NULL;
    expect_usage(f, 1, "--client-id", NULL);
}

static void test_check_needs_secret(void **state)
{
    struct fx *f = *state;
    /* At add/edit the secret is sealed already; only has_client_secret says it is there. */
    f->org.client_secret = NULL;
    expect_usage(f, 0, "client secret", "--client-secret-stdin", NULL);
    assert_int_equal(check(f, 1), ISF_OK);
}

static void test_check_complete(void **state)
{
    struct fx *f = *state;
    assert_int_equal(check(f, 1), ISF_OK);
    assert_int_equal(f->err.code, 0);
}

/* ---------------------------------------------------------------------------------------------
 * connect / refresh: one client credentials grant through host->oauth_token.
 */

typedef int (*grant_fn)(void *, const struct isf_org_view *, struct isf_session *,
                        struct isf_error *);

static void expect_grant(struct fx *f, grant_fn grant)
{
    mock_host_push_oauth(f->m, ISF_OK, NULL, ACCESS, MY_DOMAIN, NULL, 1736537386928LL);
    int rc = grant(f->inst, &f->org, mock_session_ptr(&f->session), &f->err);
    if (rc != ISF_OK)
        fail_msg("grant failed: %s", f->err.message);
    assert_int_equal(mock_host_oauth_count(f->m), 1);
    const struct mock_oauth_call *c = mock_host_oauth_call(f->m, 0);
    /* Only the grant type: the core adds the client authentication (post or basic, as
     * configured), so the plugin must not put the secret into the form itself. */
    assert_int_equal(c->n_pairs, 1);
    assert_string_equal(mock_host_oauth_form_get(f->m, 0, "grant_type"), "client_credentials");
    /* The org view went through as given, secret included, for the core to use. */
    assert_string_equal(c->org_name, "acme");
    assert_string_equal(c->client_id, "3MVG9ClientId");
    assert_string_equal(c->client_secret, SECRET);
    /* The session is what the host recorded, untouched. */
    assert_int_equal(f->session.set_count, 1);
    assert_string_equal(f->session.access_token, ACCESS);
    assert_string_equal(f->session.instance_url, MY_DOMAIN);
    assert_null(f->session.refresh_token);
    assert_int_equal(f->session.expires_at_ms, 1736537386928LL);
    assert_int_equal(mock_host_session_set_count(f->m), 0);
    assert_int_equal(mock_host_http_count(f->m), 0);
}

static void test_connect_runs_grant(void **state)
{
    struct fx *f = *state;
    expect_grant(f, f->ops->connect);
}

/* Refreshing is simply running the grant again (there is no refresh token in this flow). */
static void test_refresh_runs_grant(void **state)
{
    struct fx *f = *state;
    f->org.instance_url = MY_DOMAIN;
    f->org.access_token = "00Dold!expired";
    expect_grant(f, f->ops->refresh);
}

static void test_grant_without_secret_is_auth(void **state)
{
    struct fx *f = *state;
    f->org.client_secret = NULL;
    assert_int_equal(f->ops->connect(f->inst, &f->org, mock_session_ptr(&f->session), &f->err),
                     ISF_E_AUTH);
    assert_contains(f->err.message, "acme");
    f->org.client_secret = SECRET;
    f->org.client_id = NULL;
    assert_int_equal(f->ops->refresh(f->inst, &f->org, mock_session_ptr(&f->session), &f->err),
                     ISF_E_AUTH);
    assert_int_equal(mock_host_oauth_count(f->m), 0);
    assert_int_equal(f->session.set_count, 0);
}

/* Whatever the token endpoint said (as the core classified it) reaches the caller unchanged. */
static void test_grant_failure_propagates(void **state)
{
    struct fx *f = *state;
    static const int codes[] = {ISF_E_AUTH, ISF_E_TRANSIENT, ISF_E_NOMEM, ISF_E_FAILED};
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        char msg[64];
        snprintf(msg, sizeof(msg), "scripted failure %zu", i);
        mock_host_push_oauth(f->m, codes[i], msg, NULL, NULL, NULL, 0);
        grant_fn grant = i % 2 ? f->ops->refresh : f->ops->connect;
        int rc = grant(f->inst, &f->org, mock_session_ptr(&f->session), &f->err);
        assert_int_equal(rc, codes[i]);
        assert_int_equal(f->err.code, codes[i]);
        assert_string_equal(f->err.message, msg);
    }
    assert_int_equal(mock_host_oauth_count(f->m), 4);
    assert_int_equal(f->session.set_count, 0);
}

/* ---------------------------------------------------------------------------------------------
 * revoke.
 */

static void test_revoke_revokes_access_token(void **state)
{
    struct fx *f = *state;
    f->org.instance_url = MY_DOMAIN;
    f->org.access_token = ACCESS;
    assert_int_equal(f->ops->revoke(f->inst, &f->org, &f->err), ISF_OK);
    assert_int_equal(mock_host_revoke_count(f->m), 1);
    const struct mock_revoke_call *c = mock_host_revoke_call(f->m, 0);
    assert_string_equal(c->org_name, "acme");
    assert_string_equal(c->token, ACCESS);
    assert_int_equal(mock_host_oauth_count(f->m), 0);
}

static void test_revoke_without_token_is_noop(void **state)
{
    struct fx *f = *state;
    f->org.access_token = NULL;
    assert_int_equal(f->ops->revoke(f->inst, &f->org, &f->err), ISF_OK);
    assert_int_equal(mock_host_revoke_count(f->m), 0);
}

static void test_revoke_failure_propagates(void **state)
{
    struct fx *f = *state;
    f->org.access_token = ACCESS;
    mock_host_push_revoke(f->m, ISF_E_TRANSIENT, "revocation answered HTTP 503");
    assert_int_equal(f->ops->revoke(f->inst, &f->org, &f->err), ISF_E_TRANSIENT);
    assert_string_equal(f->err.message, "revocation answered HTTP 503");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_descriptor),
        T(test_init_refuses_short_host),
        T(test_check_needs_login_url),
        T(test_check_refuses_generic_login_hosts),
        T(test_check_accepts_my_domains),
        T(test_check_needs_client_id),
        T(test_check_needs_secret),
        T(test_check_complete),
        T(test_connect_runs_grant),
        T(test_refresh_runs_grant),
        T(test_grant_without_secret_is_auth),
        T(test_grant_failure_propagates),
        T(test_revoke_revokes_access_token),
        T(test_revoke_without_token_is_noop),
        T(test_revoke_failure_propagates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
