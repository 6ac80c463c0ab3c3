/* The library API end to end against the fake org: add, connect, token, test, show, list,
 * disconnect, remove; single-flight refresh across processes; key rotation cut short. */
#include "fake_org_harness.h"
#include "orgstore.h"

#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

static struct fake_org fo;

static isf_ctx *open_ctx_with(const char *config_path)
{
    struct isf_open_options o = {sizeof(o), config_path, ISF_LOG_ERROR, NULL, NULL};
    struct isf_error err;
    isf_ctx *ctx = NULL;
    if (isf_open(&o, &ctx, &err) != ISF_OK)
        fail_msg("isf_open: %s", err.message);
    return ctx;
}

static isf_ctx *open_ctx(void)
{
    return open_ctx_with(NULL);
}

static void add_org(isf_ctx *ctx, const char *name, const char *secret)
{
    struct isf_org_settings s;
    memset(&s, 0, sizeof(s));
    s.struct_size = sizeof(s);
    s.login_url = fo.url;
    s.client_id = "cid";
    s.client_secret = secret;
    s.description = "api test";
    struct isf_error err;
    if (isf_org_add(ctx, name, &s, &err) != ISF_OK)
        fail_msg("add %s: %s", name, err.message);
}

static void connect_org(isf_ctx *ctx, const char *name)
{
    struct isf_error err;
    if (isf_org_connect(ctx, name, NULL, &err) != ISF_OK)
        fail_msg("connect %s: %s", name, err.message);
}

static json_t *show(isf_ctx *ctx, const char *name)
{
    char *text = NULL;
    struct isf_error err;
    if (isf_org_show_json(ctx, name, &text, &err) != ISF_OK)
        fail_msg("show %s: %s", name, err.message);
    json_t *j = json_loads(text, 0, NULL);
    free(text);
    assert_non_null(j);
    return j;
}

static const char *jstr(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static int setup(void **state)
{
    (void)state;
    const char *args[] = {"--org-name", "Acme API", "--package", "installed", "--package-version",
                          "2.3.0.1",    "--env",    "sandbox",   NULL};
    return fake_org_start(&fo, args, NULL);
}

static int teardown(void **state)
{
    (void)state;
    fake_org_stop(&fo);
    return 0;
}

static void test_full_flow(void **state)
{
    (void)state;
    isf_ctx *ctx = open_ctx();
    add_org(ctx, "flow", "secret");
    json_t *o = show(ctx, "flow");
    assert_string_equal(jstr(o, "status"), "new");
    assert_string_equal(jstr(o, "mode"), "client-credentials");
    json_decref(o);

    long grants = fake_org_counter(&fo, "token_grants");
    connect_org(ctx, "flow");
    assert_int_equal(fake_org_counter(&fo, "token_grants"), grants + 1);
    o = show(ctx, "flow");
    assert_string_equal(jstr(o, "status"), "connected");
    assert_string_equal(jstr(o, "org_name"), "Acme API");
    assert_string_equal(jstr(o, "environment"), "sandbox");
    assert_non_null(jstr(o, "org_id"));
    assert_non_null(jstr(o, "username"));
    json_t *pkg = json_object_get(o, "package");
    assert_true(json_is_true(json_object_get(pkg, "installed")));
    assert_string_equal(jstr(pkg, "version"), "2.3.0.1");
    assert_string_equal(jstr(pkg, "namespace"), "isyncsf");
    json_decref(o);

    /* A fresh token comes from the store alone: no token request. */
    struct isf_token t;
    struct isf_error err;
    long requests = fake_org_counter(&fo, "token_requests");
    assert_int_equal(isf_org_token(ctx, "flow", &t, &err), ISF_OK);
    assert_non_null(t.access_token);
    assert_string_equal(t.instance_url, fo.url);
    assert_true(t.expires_at_ms > 0);
    isf_token_clear(&t);
    assert_null(t.access_token);
    assert_int_equal(fake_org_counter(&fo, "token_requests"), requests);

    assert_int_equal(isf_org_test(ctx, "flow", &err), ISF_OK);

    long revocations = fake_org_counter(&fo, "revocations");
    int revoked = 0;
    assert_int_equal(isf_org_disconnect(ctx, "flow", 0, &revoked, &err), ISF_OK);
    assert_true(revoked);
    assert_int_equal(fake_org_counter(&fo, "revocations"), revocations + 1);
    assert_int_equal(isf_org_token(ctx, "flow", &t, &err), ISF_E_AUTH);
    assert_non_null(strstr(err.message, "org connect"));

    assert_int_equal(isf_org_remove(ctx, "flow", 0, &err), ISF_OK);
    char *text = NULL;
    assert_int_equal(isf_org_show_json(ctx, "flow", &text, &err), ISF_E_NOT_FOUND);
    assert_null(text);
    isf_close(ctx);
}

/* A wrong secret: exit code 4's status, Salesforce's description, the record unchanged. */
static void test_wrong_secret(void **state)
{
    (void)state;
    isf_ctx *ctx = open_ctx();
    add_org(ctx, "wrongsecret", "not-the-secret");
    struct isf_error err;
    assert_int_equal(isf_org_connect(ctx, "wrongsecret", NULL, &err), ISF_E_AUTH);
    assert_int_equal(isf_exit_code(err.code), 4);
    assert_non_null(strstr(err.message, "invalid client credentials"));
    assert_null(strstr(err.message, "not-the-secret"));
    json_t *o = show(ctx, "wrongsecret");
    assert_string_equal(jstr(o, "status"), "new");
    json_decref(o);
    isf_close(ctx);
}

/* RFC 6749 §2.3.1 client_secret_basic: the same grant with the credentials in the header. */
static void test_client_secret_basic(void **state)
{
    (void)state;
    char path[400];
    snprintf(path, sizeof(path), "%s/basic.yaml", fo.home);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "http: {ca_file: %s, client_auth: basic}\n", fo.ca_file);
    fclose(f);
    isf_ctx *ctx = open_ctx_with(path);
    add_org(ctx, "basic-ok", "secret");
    connect_org(ctx, "basic-ok");
    add_org(ctx, "basic-bad", "wrong");
    struct isf_error err;
    assert_int_equal(isf_org_connect(ctx, "basic-bad", NULL, &err), ISF_E_AUTH);
    assert_non_null(strstr(err.message, "invalid client credentials"));
    isf_close(ctx);
}

/* The master key file is created on first sealing while no record holds a sealed value (a mode
 * without a client secret adds records before anything is sealed), and never once one does. */
static void test_key_created_only_while_nothing_sealed(void **state)
{
    (void)state;
    char home[400], cfg[450], key[450];
    snprintf(home, sizeof(home), "%s/keyless", fo.home);
    snprintf(cfg, sizeof(cfg), "%s/config.yaml", home);
    snprintf(key, sizeof(key), "%s/master.key", home);
    assert_int_equal(mkdir(home, 0700), 0);
    FILE *f = fopen(cfg, "w");
    assert_non_null(f);
    fprintf(f, "http: {ca_file: %s}\n", fo.ca_file);
    fclose(f);
    assert_int_equal(setenv("ISYNCSF_HOME", home, 1), 0);

    isf_ctx *ctx = open_ctx();
    struct isf_org o;
    memset(&o, 0, sizeof(o));
    o.pkg_installed = -1;
    assert_int_equal(isf_org_set(&o.name, "nosecret"), 0);
    assert_int_equal(isf_org_set(&o.mode, "client-credentials"), 0);
    assert_int_equal(isf_org_set(&o.status, "new"), 0);
    assert_int_equal(isf_org_set(&o.login_url, fo.url), 0);
    assert_int_equal(isf_org_set(&o.client_id, "cid"), 0);
    struct isf_error err;
    assert_int_equal(isf_orgstore_put(ctx, &o, &err), ISF_OK);
    isf_org_free_fields(&o);
    struct stat st;
    assert_int_not_equal(stat(key, &st), 0); /* nothing sealed yet: no key */

    struct isf_org_settings s;
    memset(&s, 0, sizeof(s));
    s.struct_size = sizeof(s);
    s.client_secret = "secret";
    if (isf_org_edit(ctx, "nosecret", &s, &err) != ISF_OK)
        fail_msg("first sealing with a record but nothing sealed: %s", err.message);
    assert_int_equal(stat(key, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    isf_close(ctx);

    /* The key vanishes while a sealed value exists: refused, never replaced. */
    assert_int_equal(unlink(key), 0);
    ctx = open_ctx();
    assert_int_equal(isf_org_edit(ctx, "nosecret", &s, &err), ISF_E_STORE);
    assert_non_null(strstr(err.message, "is missing"));
    assert_int_not_equal(stat(key, &st), 0);
    isf_close(ctx);
    assert_int_equal(setenv("ISYNCSF_HOME", fo.home, 1), 0);
}

/* Make a connected org's token due by moving its expiry into the past. */
static void expire_token(const char *name)
{
    isf_ctx *ctx = open_ctx();
    struct isf_org o;
    struct isf_error err;
    assert_int_equal(isf_orgstore_get(ctx, name, &o, &err), ISF_OK);
    o.token_expires_at = isf_now_ms() - 1000;
    assert_int_equal(isf_orgstore_put(ctx, &o, &err), ISF_OK);
    isf_org_free_fields(&o);
    isf_close(ctx);
}

/* Four processes ask for a due token at once: exactly one renews it, the others re-read the
 * record under the lock and take the new token. */
static void test_single_flight_refresh(void **state)
{
    (void)state;
    isf_ctx *ctx = open_ctx();
    add_org(ctx, "flight", "secret");
    connect_org(ctx, "flight");
    isf_close(ctx);
    expire_token("flight");
    long grants = fake_org_counter(&fo, "token_grants");
    enum { N = 4 };
    pid_t kids[N];
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    for (int i = 0; i < N; i++) {
        kids[i] = fork();
        if (kids[i] == 0) {
            char go;
            close(pipefd[1]);
            if (read(pipefd[0], &go, 1) < 0) /* start together */
                _exit(3);
            isf_ctx *c = open_ctx();
            struct isf_token t;
            struct isf_error err;
            int rc = isf_org_token(c, "flight", &t, &err);
            isf_token_clear(&t);
            isf_close(c);
            _exit(rc == ISF_OK ? 0 : 1);
        }
    }
    close(pipefd[0]);
    close(pipefd[1]); /* EOF releases every child at once */
    for (int i = 0; i < N; i++) {
        int st;
        waitpid(kids[i], &st, 0);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    assert_int_equal(fake_org_counter(&fo, "token_grants"), grants + 1);
}

/* 401 INVALID_SESSION_ID once: refreshed once, retried once, success. */
static void test_refresh_once_on_401(void **state)
{
    (void)state;
    isf_ctx *ctx = open_ctx();
    add_org(ctx, "once", "secret");
    connect_org(ctx, "once");
    long grants = fake_org_counter(&fo, "token_grants");
    assert_int_equal(fake_org_ctl(&fo, "/__fake/fault",
                                  "{\"kind\":\"unauthorized\",\"count\":1,"
                                  "\"path_prefix\":\"/services/data/v\"}",
                                  NULL),
                     200);
    struct isf_error err;
    assert_int_equal(isf_org_test(ctx, "once", &err), ISF_OK);
    assert_int_equal(fake_org_counter(&fo, "token_grants"), grants + 1);
    /* Every call 401: refresh once, then give up as expired. */
    assert_int_equal(fake_org_ctl(&fo, "/__fake/fault",
                                  "{\"kind\":\"unauthorized\",\"count\":-1,"
                                  "\"path_prefix\":\"/services/data/v\"}",
                                  NULL),
                     200);
    assert_int_equal(isf_org_test(ctx, "once", &err), ISF_E_AUTH);
    assert_int_equal(fake_org_counter(&fo, "token_grants"), grants + 2);
    json_t *o = show(ctx, "once");
    assert_string_equal(jstr(o, "status"), "expired");
    json_decref(o);
    assert_int_equal(fake_org_ctl(&fo, "/__fake/reset", "{}", NULL), 200);
    isf_close(ctx);
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *buf = calloc(1, 4096);
    if (buf && fread(buf, 1, 4095, f) == 0) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

/* A rotation cut short after re-sealing one record leaves every org readable; running it again
 * finishes with the same new key. */
static void test_key_rotation_resumes(void **state)
{
    (void)state;
    isf_ctx *ctx = open_ctx();
    const char *names[] = {"rot-a", "rot-b", "rot-c"};
    for (int i = 0; i < 3; i++) {
        add_org(ctx, names[i], "secret");
        connect_org(ctx, names[i]);
    }
    isf_close(ctx);
    char keyfile[400], nextfile[420];
    snprintf(keyfile, sizeof(keyfile), "%s/master.key", fo.home);
    snprintf(nextfile, sizeof(nextfile), "%s.next", keyfile);
    char *old_key = read_file(keyfile);
    assert_non_null(old_key);

    /* The cut: begin a rotation and re-seal rot-a only, as if killed right after. */
    ctx = open_ctx();
    struct isf_keyring *kr;
    struct isf_error err;
    assert_int_equal(isf_ctx_keyring(ctx, 0, &kr, &err), ISF_OK);
    assert_int_equal(isf_keyring_begin_rotation(kr, NULL, &err), ISF_OK);
    struct isf_org o;
    assert_int_equal(isf_orgstore_get(ctx, "rot-a", &o, &err), ISF_OK);
    char *plain = NULL;
    assert_int_equal(isf_org_unseal(ctx, &o, "access_token", o.sealed_access_token, &plain, &err),
                     ISF_OK);
    assert_int_equal(isf_org_seal(ctx, &o, "access_token", &o.sealed_access_token, plain, &err),
                     ISF_OK);
    isf_free_secret(plain);
    assert_int_equal(isf_orgstore_put(ctx, &o, &err), ISF_OK);
    isf_org_free_fields(&o);
    isf_close(ctx);
    char *next_key = read_file(nextfile);
    assert_non_null(next_key);

    /* Every org still opens: old-key and new-key values side by side. */
    ctx = open_ctx();
    for (int i = 0; i < 3; i++) {
        struct isf_token t;
        if (isf_org_token(ctx, names[i], &t, &err) != ISF_OK)
            fail_msg("token %s after a cut rotation: %s", names[i], err.message);
        isf_token_clear(&t);
    }
    int count = 0;
    assert_int_equal(isf_key_rotate(ctx, NULL, &count, &err), ISF_OK);
    assert_true(count >= 2); /* rot-b and rot-c at least; rot-a's secret too */
    isf_close(ctx);

    char *new_key = read_file(keyfile);
    assert_non_null(new_key);
    assert_string_equal(new_key, next_key); /* resumed with the same new key */
    assert_string_not_equal(new_key, old_key);
    struct stat st;
    assert_int_not_equal(stat(nextfile, &st), 0);
    assert_int_equal(stat(keyfile, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    ctx = open_ctx();
    for (int i = 0; i < 3; i++) {
        struct isf_token t;
        if (isf_org_token(ctx, names[i], &t, &err) != ISF_OK)
            fail_msg("token %s after rotation: %s", names[i], err.message);
        isf_token_clear(&t);
        assert_int_equal(isf_org_test(ctx, names[i], &err), ISF_OK);
    }
    isf_close(ctx);
    free(old_key);
    free(next_key);
    free(new_key);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_flow),
        cmocka_unit_test(test_wrong_secret),
        cmocka_unit_test(test_client_secret_basic),
        cmocka_unit_test(test_key_created_only_while_nothing_sealed),
        cmocka_unit_test(test_single_flight_refresh),
        cmocka_unit_test(test_refresh_once_on_401),
        cmocka_unit_test(test_key_rotation_resumes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
