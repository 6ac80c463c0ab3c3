/* auth-named-credential, the built plugin itself (dlopen), against the mock host (whose
 * exec_capture really runs commands through the core's runner): the credential table and its
 * config errors, the settings check, each source (command in both output shapes, variable,
 * file) and each way a source can fail, with the error code and a message that never quotes
 * the token or the helper's output. */
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

#define PLUGIN ISF_TEST_PLUGIN_DIR "/auth-named-credential.so"
#define TOKEN "00D5g000004Xyz!AQ0AQNamedCredentialToken"
#define URL "https://acme.my.salesforce.com"

struct fx {
    void *dl;
    isf_plugin_init_fn init;
    struct mock_host *m;
    const struct isf_plugin_descriptor *desc;
    const struct isf_auth_ops *ops;
    json_t *opts;
    void *inst;
    struct mock_session session;
    struct isf_org_view org;
    struct isf_error err;
    char dir[64];
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
    *(void **)&f->init = dlsym(f->dl, ISF_PLUGIN_INIT_SYMBOL);
    f->m = mock_host_new();
    f->err.struct_size = sizeof(f->err);
    if (!f->init || f->init(mock_host_table(f->m), &f->desc, &f->err) != ISF_OK)
        return -1;
    f->ops = f->desc->ops;
    snprintf(f->dir, sizeof(f->dir), "/tmp/isf-nc-test.XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    f->org = (struct isf_org_view){.struct_size = sizeof(f->org), .name = "acme"};
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    if (f->inst)
        f->ops->destroy(f->inst);
    long live = mock_host_live_allocs(f->m);
    int leaked = mock_host_log_contains(f->m, TOKEN);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        print_error("could not remove %s\n", f->dir);
    mock_session_clear(&f->session);
    mock_host_free(f->m);
    json_decref(f->opts);
    dlclose(f->dl);
    free(f);
    if (live != 0)
        print_error("the plugin left %ld host allocations unreleased\n", live);
    if (leaked)
        print_error("the plugin logged the token\n");
    return live == 0 && !leaked ? 0 : -1;
}

static void assert_contains(const char *haystack, const char *needle)
{
    if (!haystack || !strstr(haystack, needle))
        fail_msg("expected \"%s\" in \"%s\"", needle, haystack ? haystack : "(null)");
}

/* Create the instance from options given as JSON text (scalars as text, as the core hands them
 * over), defaults applied. Returns create's status. */
static int create(struct fx *f, const char *options_json)
{
    if (f->inst) {
        f->ops->destroy(f->inst);
        f->inst = NULL;
    }
    json_decref(f->opts);
    f->opts = json_loads(options_json, 0, NULL);
    if (!f->opts)
        fail_msg("bad test JSON: %s", options_json);
    assert_int_equal(mock_opts_apply_defaults(f->opts, f->desc->options), 0);
    f->err.code = 0;
    f->err.message[0] = '\0';
    return f->ops->create(mock_host_table(f->m), mock_opts_from_json(f->opts), &f->inst, &f->err);
}

/* One credential "c" whose source is the JSON members `source` (e.g. "\"token_env\":\"X\""). */
static void create_one(struct fx *f, const char *source)
{
    char json[4096];
    snprintf(json, sizeof(json), "{\"credentials\":{\"c\":{\"url\":\"%s\",%s}}}", URL, source);
    if (create(f, json) != ISF_OK)
        fail_msg("create failed: %s", f->err.message);
    f->org.named_credential = "c";
}

/* A command credential running `sh -c SCRIPT`. */
static void create_sh(struct fx *f, const char *script, const char *extra)
{
    json_t *argv = json_pack("[sss]", "/bin/sh", "-c", script);
    char *argv_text = json_dumps(argv, 0);
    char source[4096];
    snprintf(source, sizeof(source), "\"command\":%s%s", argv_text, extra ? extra : "");
    create_one(f, source);
    free(argv_text);
    json_decref(argv);
}

static int resolve(struct fx *f)
{
    mock_session_clear(&f->session);
    f->err.code = 0;
    f->err.message[0] = '\0';
    return f->ops->refresh(f->inst, &f->org, mock_session_ptr(&f->session), &f->err);
}

static void expect_fail(struct fx *f, int code, const char *text)
{
    int rc = resolve(f);
    if (rc != code)
        fail_msg("expected %d, got %d: %s", code, rc, f->err.message);
    assert_int_equal(f->err.code, code);
    assert_contains(f->err.message, text);
    assert_null(strstr(f->err.message, TOKEN));
    assert_null(f->session.access_token);
}

/* ------------------------------------------------------------------------------------------ */

static void test_descriptor(void **state)
{
    struct fx *f = *state;
    assert_string_equal(f->desc->name, "auth-named-credential");
    assert_int_equal(f->desc->capabilities, ISF_CAP_REFRESHABLE | ISF_CAP_NO_TOKEN_STORE);
    assert_null(f->ops->revoke); /* the token is not isyncsf's to revoke */
}

static void test_older_host_refused(void **state)
{
    struct fx *f = *state;
    const struct isf_plugin_descriptor *d = NULL;
    mock_host_set_struct_size(f->m, offsetof(struct isf_host, exec_capture)); /* ABI 1.0 */
    assert_int_equal(f->init(mock_host_table(f->m), &d, &f->err), ISF_E_CONFIG);
    assert_contains(f->err.message, "ABI 1.1");
    assert_null(d);
    mock_host_set_struct_size(f->m, sizeof(struct isf_host));
}

static void test_bad_tables_are_config_errors(void **state)
{
    struct fx *f = *state;
    static const struct {
        const char *json, *text;
    } cases[] = {
        {"{\"credentials\":{\"a\":{\"url\":\"" URL "\"}}}", "exactly one source"},
        {"{\"credentials\":{\"a\":{\"url\":\"" URL
         "\",\"token_env\":\"X\",\"token_file\":\"/f\"}}}",
         "exactly one source"},
        {"{\"credentials\":{\"a\":{\"url\":\"http://x\",\"token_env\":\"X\"}}}", "https"},
        {"{\"credentials\":{\"a\":{\"url\":\"https://x/path\",\"token_env\":\"X\"}}}", "https"},
        {"{\"credentials\":{\"a\":{\"token_env\":\"X\"}}}", "url"},
        {"{\"credentials\":{\"a\":{\"url\":\"" URL "\",\"token_env\":\"X\",\"tok\":\"1\"}}}",
         "unknown key 'tok'"},
        {"{\"credentials\":{\"a\":{\"url\":\"" URL "\",\"command\":[]}}}", "non-empty list"},
        {"{\"credentials\":{\"a\":{\"url\":\"" URL "\",\"command\":\"sf org display\"}}}",
         "non-empty list"},
        {"{\"credentials\":{\"a\":{\"url\":\"" URL "\",\"token_env\":\"NOT A NAME\"}}}",
         "variable name"},
        {"{\"credentials\":{\"a\":{\"url\":\"" URL "\",\"token_env\":\"X\",\"timeout_s\":\"0\"}}}",
         "timeout_s"},
        {"{\"credentials\":{\"a\":{\"url\":\"" URL "\",\"token_env\":\"X\",\"timeout_s\":\"9x\"}}}",
         "timeout_s"},
        {"{\"credentials\":{\"a\":\"text\"}}", "mapping"},
        {"{\"timeout_s\":0}", "timeout_s"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = create(f, cases[i].json);
        if (rc != ISF_E_CONFIG)
            fail_msg("case %zu: expected ISF_E_CONFIG, got %d (%s)", i, rc, f->err.message);
        assert_contains(f->err.message, cases[i].text);
        assert_int_equal(mock_host_live_allocs(f->m), 0); /* a refused table is freed */
    }
    assert_int_equal(create(f, "{}"), ISF_OK); /* no credential at all is fine */
}

static void test_check_settings(void **state)
{
    struct fx *f = *state;
    assert_int_equal(create(f, "{\"credentials\":{\"prod\":{\"url\":\"" URL "\",\"token_env\":"
                               "\"A\"},\"dev\":{\"url\":\"" URL "\",\"token_env\":\"B\"}}}"),
                     ISF_OK);
    struct isf_org_settings_check chk = {sizeof(chk), &f->org, 0};
    assert_int_equal(f->ops->check_settings(f->inst, &chk, &f->err), ISF_E_USAGE);
    assert_contains(f->err.message, "--named-credential");
    f->org.named_credential = "qa";
    assert_int_equal(f->ops->check_settings(f->inst, &chk, &f->err), ISF_E_NOT_FOUND);
    assert_contains(f->err.message, "named credential qa not found");
    assert_contains(f->err.message, "prod, dev");
    f->org.named_credential = "dev";
    assert_int_equal(f->ops->check_settings(f->inst, &chk, &f->err), ISF_OK);
    assert_int_equal(mock_host_exec_count(f->m), 0); /* nothing is run at add/edit */
}

static void test_command_own_shape(void **state)
{
    struct fx *f = *state;
    create_sh(
        f,
        "printf '{\"version\":1,\"access_token\":\"" TOKEN "\",\"instance_url\":"
        "\"https://acme.my.salesforce.com\",\"expires_at\":\"2026-01-02T03:04:05.250+02:00\"}'",
        NULL);
    assert_int_equal(resolve(f), ISF_OK);
    assert_string_equal(f->session.access_token, TOKEN);
    assert_string_equal(f->session.instance_url, URL);
    assert_null(f->session.refresh_token);
    /* 2026-01-02T01:04:05.250Z */
    assert_int_equal(f->session.expires_at_ms, INT64_C(1767315845250));
    const struct mock_exec_call *c = mock_host_exec_call(f->m, 0);
    assert_non_null(c);
    assert_int_equal(c->timeout_ms, 30000); /* the default */
    assert_int_equal(c->out_cap, 1024 * 1024);
}

static void test_command_environment_is_clean(void **state)
{
    struct fx *f = *state;
    setenv("ISF_NC_TEST_SECRET", "must-not-pass", 1);
    create_sh(f, "printf '{\"access_token\":\"" TOKEN "\"}'", ",\"timeout_s\":\"7\"");
    assert_int_equal(resolve(f), ISF_OK);
    unsetenv("ISF_NC_TEST_SECRET");
    assert_string_equal(f->session.instance_url, URL); /* none printed: the credential's */
    assert_int_equal(f->session.expires_at_ms, 0);     /* none printed: unknown */
    const struct mock_exec_call *c = mock_host_exec_call(f->m, 0);
    assert_int_equal(c->timeout_ms, 7000);
    assert_null(strstr(c->envp, "ISF_NC_TEST_SECRET"));
    assert_contains(c->envp, "PATH=");
    char *env = strdup(c->envp);
    for (char *line = strtok(env, "\n"); line; line = strtok(NULL, "\n")) {
        size_t n = strcspn(line, "=");
        int allowed =
            (n == 4 && !strncmp(line, "PATH", 4)) || (n == 4 && !strncmp(line, "HOME", 4)) ||
            (n == 4 && !strncmp(line, "LANG", 4)) || (n == 6 && !strncmp(line, "LC_ALL", 6)) ||
            (n == 6 && !strncmp(line, "TMPDIR", 6));
        if (!allowed)
            fail_msg("unexpected variable in the helper's environment: %.*s", (int)n, line);
    }
    free(env);
}

static void test_command_sf_shape(void **state)
{
    struct fx *f = *state;
    create_sh(f,
              "printf '{\"status\":0,\"result\":{\"accessToken\":\"" TOKEN "\",\"instanceUrl\":"
              "\"https://acme--dev.my.salesforce.com\",\"username\":\"u@acme\"}}'",
              NULL);
    assert_int_equal(resolve(f), ISF_OK);
    assert_string_equal(f->session.access_token, TOKEN);
    assert_string_equal(f->session.instance_url, "https://acme--dev.my.salesforce.com");
}

static void test_command_bad_outputs(void **state)
{
    struct fx *f = *state;
    static const struct {
        const char *out, *text;
    } cases[] = {
        {"not json " TOKEN, "not a JSON object"},
        {"[\"" TOKEN "\"]", "not a JSON object"},
        {"", "printed nothing"},
        {"{\"token\":\"" TOKEN "\"}", "without access_token"},
        {"{\"access_token\":\"has space\"}", "malformed access token"},
        {"{\"access_token\":\"\"}", "malformed access token"},
        {"{\"version\":2,\"access_token\":\"" TOKEN "\"}", "version 2"},
        {"{\"access_token\":\"" TOKEN "\",\"expires_at\":\"tomorrow\"}", "RFC 3339"},
        {"{\"access_token\":\"" TOKEN "\",\"instance_url\":\"http://x\"}", "not https"},
        {"{\"result\":{\"accessToken\":\"" TOKEN "\",\"instanceUrl\":\"http://x\"}}", "not https"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char script[512];
        snprintf(script, sizeof(script), "printf '%%s' '%s'", cases[i].out);
        create_sh(f, script, NULL);
        int rc = resolve(f);
        if (rc != ISF_E_FAILED || !strstr(f->err.message, cases[i].text))
            fail_msg("case %zu: got %d: %s", i, rc, f->err.message);
        assert_null(strstr(f->err.message, TOKEN));
    }
}

static void test_command_failures(void **state)
{
    struct fx *f = *state;
    create_sh(f, "echo 'no such org' >&2; exit 3", NULL);
    expect_fail(f, ISF_E_FAILED, "exited with status 3");

    create_sh(f, "exec sleep 30", ",\"timeout_s\":\"1\"");
    expect_fail(f, ISF_E_TRANSIENT, "did not finish within 1 s and was killed");

    create_sh(f, "head -c 10000000 /dev/zero", NULL);
    expect_fail(f, ISF_E_FAILED, "printed more than 1048576 bytes");

    create_sh(f, "kill -TERM $$", NULL);
    expect_fail(f, ISF_E_FAILED, "signal 15");

    create_one(f, "\"command\":[\"/nonexistent/helper\"]");
    expect_fail(f, ISF_E_CONFIG, "cannot run the helper /nonexistent/helper");
}

static void test_stderr_summary_is_short_and_redacted(void **state)
{
    struct fx *f = *state;
    create_sh(f,
              "echo 'boom: the token " TOKEN " was refused;' >&2; "
              "echo 'key=c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0' >&2; exit 2",
              NULL);
    expect_fail(f, ISF_E_FAILED,
                "exited with status 2 (stderr: \"boom: the token [redacted] was "
                "refused; key=[redacted]\")");
    assert_null(strstr(f->err.message, "c2VjcmV0"));

    /* Long explanations are cut; a quiet failure quotes nothing. */
    create_sh(f, "for i in $(seq 100); do printf 'word%d ' $i >&2; done; exit 1", NULL);
    expect_fail(f, ISF_E_FAILED, "...\")");
    assert_null(strstr(f->err.message, "word99"));
    create_sh(f, "exit 1", NULL);
    expect_fail(f, ISF_E_FAILED, "exited with status 1;");
    assert_null(strstr(f->err.message, "stderr"));

    /* A chatty helper that succeeds is not held up by what it prints on stderr. */
    create_sh(f, "head -c 300000 /dev/zero >&2; printf '{\"access_token\":\"" TOKEN "\"}'", NULL);
    assert_int_equal(resolve(f), ISF_OK);
}

static void test_env_source(void **state)
{
    struct fx *f = *state;
    create_one(f, "\"token_env\":\"ISF_NC_TEST_TOKEN\"");
    unsetenv("ISF_NC_TEST_TOKEN");
    expect_fail(f, ISF_E_CONFIG, "ISF_NC_TEST_TOKEN is not set");
    setenv("ISF_NC_TEST_TOKEN", "", 1);
    expect_fail(f, ISF_E_CONFIG, "not set or empty");
    setenv("ISF_NC_TEST_TOKEN", TOKEN, 1);
    assert_int_equal(resolve(f), ISF_OK);
    unsetenv("ISF_NC_TEST_TOKEN");
    assert_string_equal(f->session.access_token, TOKEN);
    assert_string_equal(f->session.instance_url, URL);
    assert_int_equal(mock_host_exec_count(f->m), 0);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    assert_int_equal(fclose(fp), 0);
    assert_int_equal(chmod(path, mode), 0);
}

static void test_file_source(void **state)
{
    struct fx *f = *state;
    char path[128], source[256];
    snprintf(path, sizeof(path), "%s/token", f->dir);
    snprintf(source, sizeof(source), "\"token_file\":\"%s\"", path);
    create_one(f, source);
    expect_fail(f, ISF_E_CONFIG, "cannot open token file");
    write_file(path, TOKEN "\n", 0644);
    expect_fail(f, ISF_E_CONFIG, "chmod 600");
    write_file(path, "\n", 0600);
    expect_fail(f, ISF_E_CONFIG, "does not hold a usable token");
    write_file(path, TOKEN "\n", 0600);
    assert_int_equal(resolve(f), ISF_OK);
    assert_string_equal(f->session.access_token, TOKEN); /* without the newline */
}

static void test_connect_and_refresh_ask_every_time(void **state)
{
    struct fx *f = *state;
    create_sh(f, "printf '{\"access_token\":\"" TOKEN "\"}'", NULL);
    assert_int_equal(f->ops->connect(f->inst, &f->org, mock_session_ptr(&f->session), &f->err),
                     ISF_OK);
    assert_int_equal(resolve(f), ISF_OK);
    assert_int_equal(resolve(f), ISF_OK);
    assert_int_equal(mock_host_exec_count(f->m), 3);
    f->org.named_credential = "gone";
    expect_fail(f, ISF_E_NOT_FOUND, "named credential gone not found");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_descriptor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_older_host_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_tables_are_config_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_settings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_command_own_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_command_environment_is_clean, setup, teardown),
        cmocka_unit_test_setup_teardown(test_command_sf_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_command_bad_outputs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_command_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stderr_summary_is_short_and_redacted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env_source, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_source, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connect_and_refresh_ask_every_time, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
