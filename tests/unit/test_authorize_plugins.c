/* The two web server mode plugins (auth-webserver-eca, auth-webserver-connectedapp), built and
 * dlopen'ed, against the mock host: the settings each demands or refuses, where the client
 * credentials come from (the record, or the Connected App's options with the secret from an
 * environment variable or an owner-only file, never inline), refresh and its batched form
 * refresh_request, and revoke of the refresh token. (connect is host->oauth_authorize, which the
 * mock host does not offer: the plugins then refuse clearly; the flow itself is tested end to end.)
 */
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
#include <sys/stat.h>
#include <unistd.h>

#define ECA ISF_TEST_PLUGIN_DIR "/auth-webserver-eca.so"
#define CA ISF_TEST_PLUGIN_DIR "/auth-webserver-connectedapp.so"
#define SECRET "GlobalSecretValue-77ab"
#define REFRESH "5Aep861RefreshTokenValue"
#define ACCESS "00D5g000004Xyz!AQ0AQAccessTokenValue"
#define LOGIN "https://login.salesforce.com"

struct fx {
    void *dl;
    struct mock_host *m;
    const struct isf_plugin_descriptor *desc;
    const struct isf_auth_ops *ops;
    json_t *opts;
    void *inst;
    struct isf_error err;
};

static void assert_contains(const char *haystack, const char *needle)
{
    if (!haystack || !strstr(haystack, needle))
        fail_msg("expected \"%s\" in \"%s\"", needle, haystack ? haystack : "(null)");
}

/* Load `path` and create an instance with `opts_text` (JSON) as options. Returns create's code. */
static int load(struct fx *f, const char *path, const char *opts_text)
{
    memset(f, 0, sizeof(*f));
    f->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!f->dl)
        fail_msg("dlopen %s: %s", path, dlerror());
    isf_plugin_init_fn init;
    *(void **)&init = dlsym(f->dl, ISF_PLUGIN_INIT_SYMBOL);
    assert_non_null(init);
    f->m = mock_host_new();
    f->err.struct_size = sizeof(f->err);
    assert_int_equal(init(mock_host_table(f->m), &f->desc, &f->err), ISF_OK);
    f->ops = f->desc->ops;
    f->opts = json_loads(opts_text, 0, NULL);
    assert_non_null(f->opts);
    assert_int_equal(mock_opts_apply_defaults(f->opts, f->desc->options), 0);
    return f->ops->create(mock_host_table(f->m), mock_opts_from_json(f->opts), &f->inst, &f->err);
}

static void unload(struct fx *f)
{
    if (f->inst)
        f->ops->destroy(f->inst);
    assert_int_equal(mock_host_live_allocs(f->m), 0);
    if (mock_host_log_contains(f->m, SECRET) || mock_host_log_contains(f->m, REFRESH))
        fail_msg("a secret was logged");
    mock_host_free(f->m);
    json_decref(f->opts);
    dlclose(f->dl);
}

static struct isf_org_view eca_org(void)
{
    return (struct isf_org_view){.struct_size = sizeof(struct isf_org_view),
                                 .name = "acme",
                                 .login_url = LOGIN,
                                 .instance_url = "https://acme.my.salesforce.com",
                                 .client_id = "3MVG9Eca",
                                 .client_secret = "EcaSecret",
                                 .redirect_uri = "http://localhost:1717/OauthRedirect",
                                 .access_token = ACCESS,
                                 .refresh_token = REFRESH};
}

static int check(struct fx *f, const struct isf_org_view *org, int has_secret)
{
    struct isf_org_settings_check c = {sizeof(c), org, has_secret};
    f->err.code = 0;
    f->err.message[0] = '\0';
    return f->ops->check_settings(f->inst, &c, &f->err);
}

static void test_descriptors(void **state)
{
    (void)state;
    struct fx f;
    assert_int_equal(load(&f, ECA, "{}"), ISF_OK);
    assert_string_equal(f.desc->name, "auth-webserver-eca");
    assert_int_equal(f.desc->capabilities, ISF_CAP_INTERACTIVE | ISF_CAP_REFRESHABLE |
                                               ISF_CAP_REVOCABLE | ISF_CAP_PER_ORG_SECRET);
    assert_true(f.ops->struct_size >=
                offsetof(struct isf_auth_ops, refresh_request) + sizeof(void *));
    assert_non_null(f.ops->refresh_request);
    unload(&f);
    assert_int_equal(load(&f, CA, "{}"), ISF_OK); /* loads without options (bundled) */
    assert_string_equal(f.desc->name, "auth-webserver-connectedapp");
    assert_int_equal(f.desc->capabilities,
                     ISF_CAP_INTERACTIVE | ISF_CAP_REFRESHABLE | ISF_CAP_REVOCABLE);
    unload(&f);
}

static void test_eca_settings(void **state)
{
    (void)state;
    struct fx f;
    assert_int_equal(load(&f, ECA, "{}"), ISF_OK);
    struct isf_org_view o = eca_org();
    o.client_secret = o.access_token = o.refresh_token = NULL;
    assert_int_equal(check(&f, &o, 1), ISF_OK);
    assert_int_equal(check(&f, &o, 0), ISF_OK); /* a PKCE-only app needs no secret */
    o.client_id = NULL;
    assert_int_equal(check(&f, &o, 1), ISF_E_USAGE);
    assert_contains(f.err.message, "--client-id");
    o = eca_org();
    o.login_url = NULL;
    assert_int_equal(check(&f, &o, 1), ISF_E_USAGE);
    assert_contains(f.err.message, "--login-url");
    o = eca_org();
    o.redirect_uri = "https://example.com/callback";
    assert_int_equal(check(&f, &o, 1), ISF_E_USAGE);
    assert_contains(f.err.message, "loopback");
    unload(&f);
}

static void test_eca_refresh_and_request(void **state)
{
    (void)state;
    struct fx f;
    assert_int_equal(load(&f, ECA, "{}"), ISF_OK);
    struct isf_org_view o = eca_org();
    struct mock_session s = {0};
    mock_host_push_oauth(f.m, 0, NULL, "NEW-ACCESS", "https://acme.my.salesforce.com",
                         "NEW-REFRESH", 0);
    assert_int_equal(f.ops->refresh(f.inst, &o, mock_session_ptr(&s), &f.err), ISF_OK);
    assert_int_equal(mock_host_oauth_count(f.m), 1);
    assert_string_equal(mock_host_oauth_form_get(f.m, 0, "grant_type"), "refresh_token");
    assert_string_equal(mock_host_oauth_form_get(f.m, 0, "refresh_token"), REFRESH);
    assert_string_equal(mock_host_oauth_call(f.m, 0)->client_id, "3MVG9Eca");
    assert_string_equal(mock_host_oauth_call(f.m, 0)->client_secret, "EcaSecret");
    assert_string_equal(s.refresh_token, "NEW-REFRESH"); /* handed back for the core to store */
    mock_session_clear(&s);

    /* invalid_grant: a person must log in again, and the message says how. */
    mock_host_push_oauth(f.m, ISF_E_AUTH, "invalid_grant (expired access/refresh token)", NULL,
                         NULL, NULL, 0);
    assert_int_equal(f.ops->refresh(f.inst, &o, mock_session_ptr(&s), &f.err), ISF_E_AUTH);
    assert_contains(f.err.message, "isyncsf org connect acme");
    assert_contains(f.err.message, "invalid_grant");
    mock_session_clear(&s);
    /* A bad client keeps the core's own advice (check the id and secret), not "log in again". */
    mock_host_push_oauth(f.m, ISF_E_AUTH, "invalid_client (check the client id and secret)", NULL,
                         NULL, NULL, 0);
    assert_int_equal(f.ops->refresh(f.inst, &o, mock_session_ptr(&s), &f.err), ISF_E_AUTH);
    assert_contains(f.err.message, "check the client id and secret");
    if (strstr(f.err.message, "needs a new login"))
        fail_msg("a bad client is not cured by a new login: %s", f.err.message);
    mock_session_clear(&s);

    struct isf_token_request req = {sizeof(req), {NULL}, NULL, NULL};
    assert_int_equal(f.ops->refresh_request(f.inst, &o, &req, &f.err), ISF_OK);
    assert_string_equal(req.form[0], "grant_type");
    assert_string_equal(req.form[1], "refresh_token");
    assert_string_equal(req.form[2], "refresh_token");
    assert_string_equal(req.form[3], REFRESH);
    assert_null(req.form[4]);
    assert_string_equal(req.client_id, "3MVG9Eca");
    assert_string_equal(req.client_secret, "EcaSecret");

    /* No refresh token: ISF_E_AUTH from both, and no request made. */
    o.refresh_token = NULL;
    assert_int_equal(f.ops->refresh(f.inst, &o, mock_session_ptr(&s), &f.err), ISF_E_AUTH);
    assert_contains(f.err.message, "org connect acme");
    assert_int_equal(f.ops->refresh_request(f.inst, &o, &req, &f.err), ISF_E_AUTH);
    assert_int_equal(mock_host_oauth_count(f.m), 3);
    mock_session_clear(&s);
    unload(&f);
}

static void test_revoke_prefers_refresh_token(void **state)
{
    (void)state;
    struct fx f;
    assert_int_equal(load(&f, ECA, "{}"), ISF_OK);
    struct isf_org_view o = eca_org();
    assert_int_equal(f.ops->revoke(f.inst, &o, &f.err), ISF_OK);
    assert_string_equal(mock_host_revoke_call(f.m, 0)->token, REFRESH);
    o.refresh_token = NULL;
    assert_int_equal(f.ops->revoke(f.inst, &o, &f.err), ISF_OK);
    assert_string_equal(mock_host_revoke_call(f.m, 1)->token, ACCESS);
    mock_host_push_revoke(f.m, ISF_E_TRANSIENT, "revocation answered HTTP 503");
    assert_int_equal(f.ops->revoke(f.inst, &o, &f.err), ISF_E_TRANSIENT);
    o.access_token = NULL;
    assert_int_equal(f.ops->revoke(f.inst, &o, &f.err), ISF_OK); /* nothing to revoke */
    assert_int_equal(mock_host_revoke_count(f.m), 3);
    unload(&f);
}

static void test_connect_without_oauth_authorize(void **state)
{
    (void)state;
    struct fx f;
    assert_int_equal(load(&f, ECA, "{}"), ISF_OK);
    /* A core older than ABI 1.2 has no oauth_authorize: a clear refusal, not a crash. */
    mock_host_set_struct_size(f.m, offsetof(struct isf_host, oauth_authorize));
    struct isf_org_view o = eca_org();
    struct mock_session s = {0};
    assert_int_equal(f.ops->connect(f.inst, &o, mock_session_ptr(&s), &f.err), ISF_E_UNSUPPORTED);
    assert_contains(f.err.message, "1.2");
    unload(&f);
}

static void test_connectedapp_secret_from_env(void **state)
{
    (void)state;
    struct fx f;
    setenv("ISF_TEST_CA_SECRET", SECRET "\n", 1);
    assert_int_equal(load(&f, CA,
                          "{\"client_id\":\"3MVG9Global\","
                          "\"client_secret_env\":\"ISF_TEST_CA_SECRET\",\"scope\":\"api web\"}"),
                     ISF_OK);
    struct isf_org_view o = eca_org();
    o.client_id = NULL;
    o.client_secret = NULL;
    o.redirect_uri = NULL;
    struct isf_token_request req = {sizeof(req), {NULL}, NULL, NULL};
    assert_int_equal(f.ops->refresh_request(f.inst, &o, &req, &f.err), ISF_OK);
    assert_string_equal(req.client_id, "3MVG9Global");
    assert_string_equal(req.client_secret, SECRET); /* the trailing newline trimmed */
    struct mock_session s = {0};
    mock_host_push_oauth(f.m, 0, NULL, "A", "https://acme.my.salesforce.com", NULL, 0);
    assert_int_equal(f.ops->refresh(f.inst, &o, mock_session_ptr(&s), &f.err), ISF_OK);
    assert_string_equal(mock_host_oauth_call(f.m, 0)->client_id, "3MVG9Global");
    assert_string_equal(mock_host_oauth_call(f.m, 0)->client_secret, SECRET);
    mock_session_clear(&s);

    /* A record of this mode keeps no client credentials of its own. */
    struct isf_org_view r = o;
    r.access_token = r.refresh_token = NULL;
    assert_int_equal(check(&f, &r, 0), ISF_OK);
    assert_int_equal(check(&f, &r, 1), ISF_E_USAGE);
    assert_contains(f.err.message, "client_secret_env");
    r.client_id = "3MVG9Own";
    assert_int_equal(check(&f, &r, 0), ISF_E_USAGE);
    unload(&f);
    unsetenv("ISF_TEST_CA_SECRET");
}

static void expect_config_problem(const char *opts, const char *needle)
{
    struct fx f;
    assert_int_equal(load(&f, CA, opts), ISF_OK); /* loads; the problem shows where used */
    struct isf_org_view o = eca_org();
    o.client_id = NULL;
    o.client_secret = NULL;
    struct mock_session s = {0};
    assert_int_equal(f.ops->refresh(f.inst, &o, mock_session_ptr(&s), &f.err), ISF_E_CONFIG);
    assert_contains(f.err.message, needle);
    assert_int_equal(mock_host_oauth_count(f.m), 0);
    struct isf_token_request req = {sizeof(req), {NULL}, NULL, NULL};
    assert_int_equal(f.ops->refresh_request(f.inst, &o, &req, &f.err), ISF_E_UNSUPPORTED);
    o.access_token = o.refresh_token = NULL;
    assert_int_equal(check(&f, &o, 0), ISF_E_CONFIG);
    assert_contains(f.err.message, needle);
    unload(&f);
}

static void test_connectedapp_config_problems(void **state)
{
    (void)state;
    unsetenv("ISF_TEST_CA_UNSET");
    expect_config_problem("{}", "client_id");
    expect_config_problem("{\"client_id\":\"X\"}", "exactly one");
    expect_config_problem("{\"client_id\":\"X\",\"client_secret_env\":\"A\","
                          "\"client_secret_file\":\"/tmp/x\"}",
                          "exactly one");
    expect_config_problem("{\"client_id\":\"X\",\"client_secret_env\":\"ISF_TEST_CA_UNSET\"}",
                          "ISF_TEST_CA_UNSET");
    expect_config_problem("{\"client_id\":\"X\",\"client_secret_file\":\"/nonexistent/secret\"}",
                          "client_secret_file");
}

static void test_connectedapp_secret_file(void **state)
{
    (void)state;
    char path[] = "/tmp/isf-ca-secret.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, SECRET "\n", strlen(SECRET) + 1), (ssize_t)strlen(SECRET) + 1);
    close(fd);
    char opts[256];
    snprintf(opts, sizeof(opts), "{\"client_id\":\"X\",\"client_secret_file\":\"%s\"}", path);
    struct fx f;
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(load(&f, CA, opts), ISF_OK);
    struct isf_org_view o = eca_org();
    o.client_id = o.client_secret = NULL;
    struct isf_token_request req = {sizeof(req), {NULL}, NULL, NULL};
    assert_int_equal(f.ops->refresh_request(f.inst, &o, &req, &f.err), ISF_OK);
    assert_string_equal(req.client_secret, SECRET);
    unload(&f);
    /* Readable by others: refused, saying how to fix it. */
    assert_int_equal(chmod(path, 0640), 0);
    expect_config_problem(opts, "chmod 600");
    unlink(path);
}

static void test_connectedapp_inline_secret_refused(void **state)
{
    (void)state;
    struct fx f;
    assert_int_equal(load(&f, CA,
                          "{\"client_id\":\"X\",\"client_secret\":\"" SECRET "\","
                          "\"client_secret_env\":\"A\"}"),
                     ISF_E_CONFIG);
    assert_contains(f.err.message, "client_secret");
    assert_contains(f.err.message, "client_secret_env");
    if (strstr(f.err.message, SECRET))
        fail_msg("the inline secret is quoted in the error");
    f.inst = NULL;
    unload(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_descriptors),
        cmocka_unit_test(test_eca_settings),
        cmocka_unit_test(test_eca_refresh_and_request),
        cmocka_unit_test(test_revoke_prefers_refresh_token),
        cmocka_unit_test(test_connect_without_oauth_authorize),
        cmocka_unit_test(test_connectedapp_secret_from_env),
        cmocka_unit_test(test_connectedapp_config_problems),
        cmocka_unit_test(test_connectedapp_secret_file),
        cmocka_unit_test(test_connectedapp_inline_secret_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
