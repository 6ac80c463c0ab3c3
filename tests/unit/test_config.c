/* The YAML configuration: file and data locations, defaults, every section, every error (with
 * file, line and key in the message), and plugin options against a declared schema. */
#define _XOPEN_SOURCE 700 /* nftw, to clean up the temporary home folder */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "config.h"
#include "util.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FIXTURES ISF_TEST_SOURCE_DIR "/fixtures/config"

/* Each test runs with HOME set to a fresh temporary folder and every isyncsf/XDG variable unset,
 * so nothing from the developer's own configuration leaks in. */
struct env {
    char home[64];
    char file[128]; /* the config file written by write_config */
};

static const char *const isf_vars[] = {"ISYNCSF_CONFIG", "ISYNCSF_HOME", "XDG_CONFIG_HOME",
                                       "XDG_DATA_HOME"};

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    if (!e)
        return -1;
    snprintf(e->home, sizeof(e->home), "/tmp/isf-test-config-XXXXXX");
    if (!mkdtemp(e->home))
        return -1;
    setenv("HOME", e->home, 1);
    for (size_t i = 0; i < sizeof(isf_vars) / sizeof(isf_vars[0]); i++)
        unsetenv(isf_vars[i]);
    *state = e;
    return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int teardown(void **state)
{
    struct env *e = *state;
    nftw(e->home, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(e);
    return 0;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

/* Write `text` as <home>/config.yaml and return its path. */
static const char *write_config(struct env *e, const char *text)
{
    snprintf(e->file, sizeof(e->file), "%s/config.yaml", e->home);
    write_file(e->file, text);
    return e->file;
}

static struct isf_config *load_ok(const char *path)
{
    struct isf_config *cfg = NULL;
    struct isf_error err;
    isf_err_init(&err);
    int rc = isf_config_load(path, &cfg, &err);
    if (rc != ISF_OK)
        fail_msg("loading %s failed: %s", path ? path : "(default)", err.message);
    assert_non_null(cfg);
    return cfg;
}

static void assert_contains(const char *haystack, const char *needle)
{
    if (!strstr(haystack, needle))
        fail_msg("expected \"%s\" in \"%s\"", needle, haystack);
}

/* Load `text`; it must fail with ISF_E_CONFIG, and the message must start with "FILE:LINE:" and
 * contain `key`. */
static void expect_error(struct env *e, const char *text, int line, const char *key)
{
    struct isf_config *cfg = (void *)1;
    struct isf_error err;
    isf_err_init(&err);
    const char *path = write_config(e, text);
    int rc = isf_config_load(path, &cfg, &err);
    assert_int_equal(rc, ISF_E_CONFIG);
    assert_int_equal(err.code, ISF_E_CONFIG);
    assert_null(cfg);
    char where[192];
    snprintf(where, sizeof(where), "%s:%d: ", path, line);
    if (strncmp(err.message, where, strlen(where)) != 0)
        fail_msg("expected the message to start with \"%s\": \"%s\"", where, err.message);
    assert_contains(err.message, key);
}

static char *home_path(const struct env *e, const char *rest)
{
    char *p = isf_aprintf("%s/%s", e->home, rest);
    assert_non_null(p);
    return p;
}

static void assert_home_path(const struct env *e, const char *actual, const char *rest)
{
    char *expected = home_path(e, rest);
    assert_non_null(actual);
    assert_string_equal(actual, expected);
    free(expected);
}

/* ---------------------------------------------------------------------------------------------
 * Locations and defaults.
 */

static void test_defaults_without_file(void **state)
{
    struct env *e = *state;
    struct isf_config *cfg = load_ok(NULL);
    assert_null(cfg->file);
    assert_null(cfg->priv);
    assert_home_path(e, cfg->data_dir, ".local/share/isyncsf");
    assert_int_equal(cfg->key_source, ISF_KEY_FILE);
    assert_home_path(e, cfg->key_file, ".local/share/isyncsf/master.key");
    assert_null(cfg->key_env);
    assert_null(cfg->key_command);
    assert_int_equal(cfg->n_plugin_path, 0);

    /* The bundled set: the default mode's plugin and a store, by name, with no options. */
    int has_default_auth = 0, has_store = 0;
    assert_true(cfg->n_plugins >= 2);
    for (size_t i = 0; i < cfg->n_plugins; i++) {
        assert_non_null(cfg->plugins[i].name);
        assert_null(cfg->plugins[i].path);
        assert_int_equal(cfg->plugins[i].line, 0);
        assert_int_equal(cfg->plugins[i].options_node, 0);
        has_default_auth |= strcmp(cfg->plugins[i].name, "auth-client-credentials") == 0;
        has_store |= strncmp(cfg->plugins[i].name, "store-", 6) == 0;
    }
    assert_true(has_default_auth);
    assert_true(has_store);

    assert_null(cfg->ca_file);
    assert_int_equal(cfg->timeout_s, 30);
    assert_int_equal(cfg->connect_timeout_s, 10);
    assert_null(cfg->proxy);
    assert_int_equal(cfg->max_response_bytes, 8388608);
    assert_int_equal(cfg->retries, 2);
    assert_string_equal(cfg->client_auth, "post");
    assert_null(cfg->api_version);
    assert_string_equal(cfg->package_namespace, "isyncsf");
    assert_int_equal(cfg->refresh_margin_s, 600);
    assert_int_equal(cfg->refresh_session_ttl_s, 7200);
    assert_int_equal(cfg->refresh_concurrency, 32);
    assert_int_equal(cfg->refresh_max_backoff_s, 3600);
    assert_int_equal(cfg->refresh_introspect, 0);
    assert_int_equal(cfg->lock_timeout_ms, 10000);
    isf_config_free(cfg);
}

static void test_defaults_function(void **state)
{
    struct env *e = *state;
    struct isf_config *cfg = NULL;
    struct isf_error err;
    isf_err_init(&err);
    assert_int_equal(isf_config_defaults(&cfg, &err), ISF_OK);
    assert_null(cfg->file);
    assert_home_path(e, cfg->key_file, ".local/share/isyncsf/master.key");
    assert_int_equal(cfg->timeout_s, 30);
    isf_config_free(cfg);
}

static void test_data_dir_resolution(void **state)
{
    struct env *e = *state;
    struct isf_config *cfg;

    setenv("XDG_DATA_HOME", "/srv/xdg-data", 1);
    cfg = load_ok(NULL);
    assert_string_equal(cfg->data_dir, "/srv/xdg-data/isyncsf");
    assert_string_equal(cfg->key_file, "/srv/xdg-data/isyncsf/master.key");
    isf_config_free(cfg);

    /* XDG: a relative value is invalid and ignored. */
    setenv("XDG_DATA_HOME", "relative/data", 1);
    cfg = load_ok(NULL);
    assert_home_path(e, cfg->data_dir, ".local/share/isyncsf");
    isf_config_free(cfg);

    /* ISYNCSF_HOME wins over XDG. */
    setenv("XDG_DATA_HOME", "/srv/xdg-data", 1);
    setenv("ISYNCSF_HOME", "/srv/isyncsf", 1);
    cfg = load_ok(NULL);
    assert_string_equal(cfg->data_dir, "/srv/isyncsf");
    assert_string_equal(cfg->key_file, "/srv/isyncsf/master.key");
    isf_config_free(cfg);
}

static void expect_path(const char *explicit_path, const char *expected)
{
    char *p = isf_config_default_path(explicit_path);
    assert_non_null(p);
    assert_string_equal(p, expected);
    free(p);
}

static void test_config_path_resolution(void **state)
{
    struct env *e = *state;
    char *p = home_path(e, ".config/isyncsf/config.yaml");
    expect_path(NULL, p);
    free(p);

    setenv("XDG_CONFIG_HOME", "/etc/xdg-user", 1);
    expect_path(NULL, "/etc/xdg-user/isyncsf/config.yaml");

    setenv("ISYNCSF_HOME", "/srv/isyncsf", 1);
    expect_path(NULL, "/srv/isyncsf/config.yaml");

    setenv("ISYNCSF_CONFIG", "/srv/from-env.yaml", 1);
    expect_path(NULL, "/srv/from-env.yaml");

    expect_path("/srv/explicit.yaml", "/srv/explicit.yaml");
    /* --config=~/x reaches the program unexpanded by the shell. */
    p = home_path(e, "mine.yaml");
    expect_path("~/mine.yaml", p);
    free(p);

    /* An empty variable counts as unset. */
    setenv("ISYNCSF_CONFIG", "", 1);
    expect_path(NULL, "/srv/isyncsf/config.yaml");
}

static void test_expand_home(void **state)
{
    struct env *e = *state;
    char *p = isf_expand_home("~");
    assert_string_equal(p, e->home);
    free(p);
    p = isf_expand_home("~/a/b");
    assert_home_path(e, p, "a/b");
    free(p);
    p = isf_expand_home("/abs/~/x");
    assert_string_equal(p, "/abs/~/x");
    free(p);
    p = isf_expand_home("~other/x"); /* other users' homes are not looked up */
    assert_string_equal(p, "~other/x");
    free(p);
    assert_null(isf_expand_home(NULL));
}

static void test_default_location_is_read(void **state)
{
    struct env *e = *state;
    char *dir = home_path(e, ".config");
    assert_int_equal(mkdir(dir, 0700), 0);
    free(dir);
    dir = home_path(e, ".config/isyncsf");
    assert_int_equal(mkdir(dir, 0700), 0);
    char *file = isf_aprintf("%s/config.yaml", dir);
    write_file(file, "http: {timeout_s: 5}\n");

    struct isf_config *cfg = load_ok(NULL);
    assert_string_equal(cfg->file, file);
    assert_int_equal(cfg->timeout_s, 5);
    assert_int_equal(cfg->connect_timeout_s, 10);
    isf_config_free(cfg);
    free(file);
    free(dir);
}

static void test_isyncsf_home_config_is_read(void **state)
{
    struct env *e = *state;
    setenv("ISYNCSF_HOME", e->home, 1);
    write_config(e, "refresh: {concurrency: 3}\n");
    struct isf_config *cfg = load_ok(NULL);
    assert_string_equal(cfg->file, e->file);
    assert_string_equal(cfg->data_dir, e->home);
    assert_int_equal(cfg->refresh_concurrency, 3);
    isf_config_free(cfg);
}

static void test_explicit_missing_file(void **state)
{
    struct env *e = *state;
    struct isf_config *cfg = NULL;
    struct isf_error err;
    isf_err_init(&err);
    char *missing = home_path(e, "nope.yaml");
    assert_int_equal(isf_config_load(missing, &cfg, &err), ISF_E_CONFIG);
    assert_null(cfg);
    assert_contains(err.message, "config file ");
    assert_contains(err.message, missing);
    assert_contains(err.message, "not found");

    /* $ISYNCSF_CONFIG names a file just as explicitly. */
    isf_err_init(&err);
    setenv("ISYNCSF_CONFIG", missing, 1);
    assert_int_equal(isf_config_load(NULL, &cfg, &err), ISF_E_CONFIG);
    assert_null(cfg);
    assert_contains(err.message, missing);
    assert_contains(err.message, "not found");
    free(missing);
}

static void test_empty_file_is_defaults(void **state)
{
    struct env *e = *state;
    const char *texts[] = {"", "# only a comment\n", "---\n"};
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        struct isf_config *cfg = load_ok(write_config(e, texts[i]));
        assert_string_equal(cfg->file, e->file);
        assert_int_equal(cfg->timeout_s, 30);
        assert_true(cfg->n_plugins >= 2);
        assert_int_equal(cfg->key_source, ISF_KEY_FILE);
        isf_config_free(cfg);
    }
}

/* ---------------------------------------------------------------------------------------------
 * Whole files.
 */

static void test_contract_example(void **state)
{
    struct env *e = *state;
    struct isf_config *cfg = load_ok(FIXTURES "/full.yaml");
    assert_string_equal(cfg->file, FIXTURES "/full.yaml");

    assert_int_equal(cfg->n_plugin_path, 1);
    assert_string_equal(cfg->plugin_path[0], "/usr/local/lib/isyncsf/plugins");
    assert_null(cfg->plugin_path[1]);

    static const char *const names[] = {"auth-client-credentials", "auth-webserver-eca",
                                        "auth-webserver-connectedapp", "auth-named-credential",
                                        "store-file"};
    static const int lines[] = {5, 6, 7, 9, 13, 15};
    assert_int_equal(cfg->n_plugins, 6);
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(cfg->plugins[i].name, names[i]);
        assert_null(cfg->plugins[i].path);
    }
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(cfg->plugins[i].line, lines[i]);
    assert_null(cfg->plugins[5].name);
    assert_string_equal(cfg->plugins[5].path, "/opt/vendor/auth-jwt-bearer.so");
    assert_int_equal(cfg->plugins[0].options_node, 0);
    assert_int_not_equal(cfg->plugins[2].options_node, 0);
    assert_int_not_equal(cfg->plugins[3].options_node, 0);

    assert_int_equal(cfg->key_source, ISF_KEY_FILE);
    assert_home_path(e, cfg->key_file, ".local/share/isyncsf/master.key");
    assert_string_equal(cfg->ca_file, "/etc/ssl/certs/ca-certificates.crt");
    assert_int_equal(cfg->timeout_s, 30);
    assert_non_null(cfg->proxy);
    assert_string_equal(cfg->proxy, "");
    assert_string_equal(cfg->api_version, "66.0");
    assert_string_equal(cfg->package_namespace, "isyncsf");
    assert_int_equal(cfg->refresh_margin_s, 600);
    assert_int_equal(cfg->refresh_session_ttl_s, 7200);
    assert_int_equal(cfg->refresh_concurrency, 32);
    /* Not in the file: defaults. */
    assert_int_equal(cfg->connect_timeout_s, 10);
    assert_int_equal(cfg->refresh_max_backoff_s, 3600);
    assert_int_equal(cfg->lock_timeout_ms, 10000);
    isf_config_free(cfg);
}

static void test_every_key(void **state)
{
    struct env *e = *state;
    struct isf_config *cfg = load_ok(FIXTURES "/every-key.yaml");
    assert_int_equal(cfg->n_plugin_path, 2);
    assert_home_path(e, cfg->plugin_path[0], "plugins");
    assert_string_equal(cfg->plugin_path[1], "/opt/isyncsf/plugins");
    assert_true(cfg->n_plugins >= 2); /* no plugins.load: the bundled set */
    assert_int_equal(cfg->plugins[0].line, 0);

    assert_int_equal(cfg->key_source, ISF_KEY_COMMAND);
    assert_null(cfg->key_file);
    assert_string_equal(cfg->key_command[0], "pass");
    assert_string_equal(cfg->key_command[1], "show");
    assert_string_equal(cfg->key_command[2], "isyncsf/master-key");
    assert_null(cfg->key_command[3]);

    assert_home_path(e, cfg->ca_file, "ca.pem");
    assert_int_equal(cfg->timeout_s, 45);
    assert_int_equal(cfg->connect_timeout_s, 5);
    assert_string_equal(cfg->proxy, "http://proxy.example:3128");
    assert_int_equal(cfg->max_response_bytes, 1048576);
    assert_int_equal(cfg->retries, 0);
    assert_string_equal(cfg->client_auth, "basic");
    assert_string_equal(cfg->api_version, "62.0");
    assert_string_equal(cfg->package_namespace, "acme_sync");
    assert_int_equal(cfg->refresh_margin_s, 300);
    assert_int_equal(cfg->refresh_session_ttl_s, 3600);
    assert_int_equal(cfg->refresh_concurrency, 8);
    assert_int_equal(cfg->refresh_max_backoff_s, 900);
    assert_int_equal(cfg->refresh_introspect, 1);
    assert_int_equal(cfg->lock_timeout_ms, 2500);
    isf_config_free(cfg);
}

static void test_key_env(void **state)
{
    struct env *e = *state;
    struct isf_config *cfg = load_ok(write_config(e, "key:\n  env: ISYNCSF_MASTER_KEY\n"));
    assert_int_equal(cfg->key_source, ISF_KEY_ENV);
    assert_string_equal(cfg->key_env, "ISYNCSF_MASTER_KEY");
    assert_null(cfg->key_file);
    isf_config_free(cfg);
}

static void test_null_values_keep_defaults(void **state)
{
    struct env *e = *state;
    struct isf_config *cfg =
        load_ok(write_config(e, "http:\n  timeout_s:\n  proxy: ~\nrefresh:\nplugins:\n  load:\n"));
    assert_int_equal(cfg->timeout_s, 30);
    assert_null(cfg->proxy);
    assert_true(cfg->n_plugins >= 2);
    isf_config_free(cfg);
}

static void test_booleans(void **state)
{
    struct env *e = *state;
    static const struct {
        const char *text;
        int value;
    } cases[] = {{"true", 1},  {"TRUE", 1},  {"yes", 1}, {"Yes", 1},
                 {"false", 0}, {"False", 0}, {"no", 0},  {"NO", 0}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[64];
        snprintf(text, sizeof(text), "refresh:\n  introspect: %s\n", cases[i].text);
        struct isf_config *cfg = load_ok(write_config(e, text));
        assert_int_equal(cfg->refresh_introspect, cases[i].value);
        isf_config_free(cfg);
    }
}

static void test_empty_load_list(void **state)
{
    struct env *e = *state;
    struct isf_config *cfg = load_ok(write_config(e, "plugins: {load: []}\n"));
    assert_int_equal(cfg->n_plugins, 0);
    isf_config_free(cfg);
}

/* ---------------------------------------------------------------------------------------------
 * Errors: each names the file, the line and the key.
 */

static void test_error_malformed_yaml(void **state)
{
    expect_error(*state, "http:\n  timeout_s: 30\n  proxy: [unclosed\nrefresh: {}\n", 4,
                 "invalid YAML");
    expect_error(*state, "http:\n  timeout_s: 30\n   retries: 2\n", 3, "invalid YAML");
}

static void test_error_unknown_top_level_key(void **state)
{
    struct env *e = *state;
    expect_error(e, "http: {timeout_s: 5}\n\nfoo: 1\n", 3, "unknown key 'foo' at the top level");
    /* The message lists the keys that would have been accepted. */
    struct isf_config *cfg = NULL;
    struct isf_error err;
    isf_err_init(&err);
    assert_int_equal(isf_config_load(e->file, &cfg, &err), ISF_E_CONFIG);
    assert_contains(err.message, "known keys: plugins, key, http, salesforce, refresh, store");
}

static void test_error_unknown_nested_key(void **state)
{
    struct env *e = *state;
    expect_error(e, "http:\n  timeout_s: 5\n  timeuot_s: 6\n", 3,
                 "unknown key 'timeuot_s' in 'http' (known keys: ca_file, timeout_s");
    expect_error(e, "refresh:\n  margin: 5\n", 2, "unknown key 'margin' in 'refresh'");
    expect_error(e, "plugins:\n  paths: [/x]\n", 2, "unknown key 'paths' in 'plugins'");
    expect_error(e, "plugins:\n  load:\n    - name: store-file\n      option: {}\n", 4,
                 "unknown key 'option' in a 'plugins.load' entry");
    expect_error(e, "key:\n  path: /x\n", 2, "unknown key 'path' in 'key'");
}

static void test_error_wrong_type(void **state)
{
    struct env *e = *state;
    expect_error(e, "http:\n  timeout_s: thirty\n", 2, "http.timeout_s: expected a whole number");
    expect_error(e, "http:\n  timeout_s: \"30\"\n", 2, "http.timeout_s");
    expect_error(e, "http:\n  timeout_s: -1\n", 2, "http.timeout_s");
    expect_error(e, "http:\n  timeout_s: 0\n", 2, "http.timeout_s: expected a whole number from 1");
    expect_error(e, "http:\n  timeout_s: 1.5\n", 2, "http.timeout_s");
    expect_error(e, "http:\n  timeout_s: 010\n", 2, "http.timeout_s");
    expect_error(e, "store:\n  lock_timeout_ms: 99999999999999999999999\n", 2,
                 "store.lock_timeout_ms");
    expect_error(e, "\nhttp:\n  timeout_s: {a: 1}\n", 3, "http.timeout_s: expected a whole number");
    expect_error(e, "http:\n  ca_file: [a, b]\n", 2,
                 "http.ca_file: expected a non-empty text, got a list");
    expect_error(e, "http:\n  client_auth: jwt\n", 2,
                 "http.client_auth: expected 'post' or 'basic'");
    expect_error(e, "refresh:\n  introspect: maybe\n", 2,
                 "refresh.introspect: expected true or false");
    expect_error(e, "refresh:\n  introspect: 1\n", 2, "refresh.introspect");
    expect_error(e, "salesforce:\n  api_version: v66\n", 2, "salesforce.api_version");
    expect_error(e, "salesforce:\n  api_version: 66\n", 2, "salesforce.api_version");
    expect_error(e, "salesforce:\n  package_namespace: \"a b\"\n", 2,
                 "salesforce.package_namespace");
    expect_error(e, "http: [timeout_s]\n", 1, "http: expected a mapping");
    expect_error(e, "- http\n", 1, "the top level: expected a mapping");
    expect_error(e, "plugins:\n  path: /usr/lib\n", 2, "plugins.path: expected a list");
    expect_error(e, "plugins:\n  load: {name: x}\n", 2, "plugins.load: expected a list");
    expect_error(e, "plugins:\n  load:\n    - store-file\n", 3,
                 "plugins.load[0]: expected a mapping");
    expect_error(e, "plugins:\n  load:\n    - name: store-file\n      options: [a]\n", 4,
                 "plugins.load[0].options: expected a mapping");
    expect_error(e, "key:\n  env: \"NOT VALID\"\n", 2, "key.env");
    expect_error(e, "key:\n  command: []\n", 2, "key.command");
}

static void test_error_duplicate_key(void **state)
{
    struct env *e = *state;
    expect_error(e, "http:\n  timeout_s: 5\n  retries: 1\n  timeout_s: 6\n", 4,
                 "duplicate key 'timeout_s' in 'http' (first given on line 2)");
    expect_error(e, "http: {}\nrefresh: {}\nhttp: {}\n", 3, "duplicate key 'http'");
}

static void test_error_plugin_entry(void **state)
{
    struct env *e = *state;
    expect_error(e,
                 "plugins:\n  load:\n    - name: store-file\n    - name: auth-x\n"
                 "      path: /opt/auth-x.so\n",
                 4, "plugins.load[1]: give exactly one of 'name'");
    expect_error(e, "plugins:\n  load:\n    - options: {a: 1}\n", 3,
                 "plugins.load[0]: give exactly one of 'name'");
    expect_error(e, "plugins:\n  load:\n    - name: ../evil\n", 3, "plugins.load[0].name");
    expect_error(e, "plugins:\n  load:\n    - name: store-file\n    - name: x/auth-evil\n", 4,
                 "plugins.load[1].name: 'x/auth-evil' is not a plugin name");
    expect_error(e, "plugins:\n  load:\n    - name: Store-File\n", 3, "plugins.load[0].name");
    expect_error(e, "plugins:\n  load:\n    - name: \"\"\n", 3, "plugins.load[0].name");
    expect_error(e, "plugins:\n  load:\n    - name: store-file\n    - name: store-file\n", 4,
                 "plugin 'store-file' is listed twice in plugins.load (first on line 3)");
}

static void test_error_key_sources(void **state)
{
    struct env *e = *state;
    expect_error(e, "key:\n  file: /k\n  env: K\n", 3, "not both 'file' and 'env'");
    expect_error(e, "\nkey: {}\n", 2, "key: give exactly one of file, env or command");
}

static void test_error_second_document(void **state)
{
    expect_error(*state, "http: {}\n---\nhttp: {}\n", 3, "a second YAML document");
}

/* ---------------------------------------------------------------------------------------------
 * Plugin options against a declared schema.
 */

static const struct isf_option_spec specs[] = {
    {"client_id", ISF_OPT_STRING, NULL, 1, "the Connected App's consumer key"},
    {"port", ISF_OPT_INT, "1717", 0, "loopback port"},
    {"verbose", ISF_OPT_BOOL, "false", 0, "log more"},
    {"dir", ISF_OPT_PATH, "~/orgs", 0, "where records live"},
    {"command", ISF_OPT_STRING_LIST, "[sf, org, display]", 0, "helper argv"},
    {"credentials", ISF_OPT_MAP, "{}", 0, "named credentials"},
    {"scope", ISF_OPT_STRING, NULL, 0, "optional, no default"},
    {NULL, 0, NULL, 0, NULL},
};

static json_t *options_ok(const struct isf_config *cfg, size_t i,
                          const struct isf_option_spec *table)
{
    json_t *obj = NULL;
    struct isf_error err;
    isf_err_init(&err);
    int rc = isf_config_plugin_options(cfg, i, table, "auth-test", &obj, &err);
    if (rc != ISF_OK)
        fail_msg("options of plugin %zu: %s", i, err.message);
    assert_true(json_is_object(obj));
    return obj;
}

/* Options of plugins.load[0] in `text` must fail naming FILE:LINE and `key`. */
static void expect_option_error(struct env *e, const char *text,
                                const struct isf_option_spec *table, int line, const char *key)
{
    struct isf_config *cfg = load_ok(write_config(e, text));
    json_t *obj = (void *)1;
    struct isf_error err;
    isf_err_init(&err);
    assert_int_equal(isf_config_plugin_options(cfg, 0, table, "auth-test", &obj, &err),
                     ISF_E_CONFIG);
    assert_int_equal(err.code, ISF_E_CONFIG);
    assert_null(obj);
    char where[192];
    snprintf(where, sizeof(where), "%s:%d: ", e->file, line);
    if (strncmp(err.message, where, strlen(where)) != 0)
        fail_msg("expected the message to start with \"%s\": \"%s\"", where, err.message);
    assert_contains(err.message, key);
    isf_config_free(cfg);
}

static void test_options_all_types(void **state)
{
    struct env *e = *state;
    const char *text = "plugins:\n"
                       "  load:\n"
                       "    - name: auth-test\n"
                       "      options:\n"
                       "        client_id: 3MVG9abc\n"
                       "        port: 8080\n"
                       "        verbose: yes\n"
                       "        dir: ~/elsewhere\n"
                       "        command: [pass, show, \"a b\"]\n"
                       "        credentials:\n"
                       "          acme-prod:\n"
                       "            url: https://acme.my.salesforce.com\n"
                       "            command: [sf, org, display]\n"
                       "            timeout_s: 30\n"
                       "            token_file: ~\n";
    struct isf_config *cfg = load_ok(write_config(e, text));
    json_t *o = options_ok(cfg, 0, specs);
    assert_string_equal(json_string_value(json_object_get(o, "client_id")), "3MVG9abc");
    assert_true(json_is_integer(json_object_get(o, "port")));
    assert_int_equal(json_integer_value(json_object_get(o, "port")), 8080);
    assert_true(json_is_true(json_object_get(o, "verbose")));
    char *dir = home_path(e, "elsewhere");
    assert_string_equal(json_string_value(json_object_get(o, "dir")), dir);
    free(dir);

    json_t *cmd = json_object_get(o, "command");
    assert_int_equal(json_array_size(cmd), 3);
    assert_string_equal(json_string_value(json_array_get(cmd, 2)), "a b");

    /* MAP: converted whole; scalars stay text, YAML null becomes JSON null. */
    json_t *acme = json_object_get(json_object_get(o, "credentials"), "acme-prod");
    assert_true(json_is_object(acme));
    assert_string_equal(json_string_value(json_object_get(acme, "url")),
                        "https://acme.my.salesforce.com");
    assert_int_equal(json_array_size(json_object_get(acme, "command")), 3);
    assert_string_equal(json_string_value(json_object_get(acme, "timeout_s")), "30");
    assert_true(json_is_null(json_object_get(acme, "token_file")));

    assert_null(json_object_get(o, "scope")); /* not given, no default: absent */
    assert_int_equal(json_object_size(o), 6);
    json_decref(o);
    isf_config_free(cfg);
}

static void test_options_defaults_applied(void **state)
{
    struct env *e = *state;
    struct isf_config *cfg = load_ok(write_config(e, "plugins:\n  load:\n    - name: auth-test\n"
                                                     "      options: {client_id: abc}\n"));
    json_t *o = options_ok(cfg, 0, specs);
    assert_int_equal(json_integer_value(json_object_get(o, "port")), 1717);
    assert_true(json_is_false(json_object_get(o, "verbose")));
    char *dir = home_path(e, "orgs"); /* the default "~/orgs", expanded */
    assert_string_equal(json_string_value(json_object_get(o, "dir")), dir);
    free(dir);
    json_t *cmd = json_object_get(o, "command");
    assert_int_equal(json_array_size(cmd), 3);
    assert_string_equal(json_string_value(json_array_get(cmd, 0)), "sf");
    assert_true(json_is_object(json_object_get(o, "credentials")));
    assert_int_equal(json_object_size(json_object_get(o, "credentials")), 0);
    assert_null(json_object_get(o, "scope"));
    json_decref(o);
    isf_config_free(cfg);
}

static void test_options_of_default_entries(void **state)
{
    /* No config file: the bundled entries have no options, so only defaults apply. */
    static const struct isf_option_spec optional[] = {
        {"dir", ISF_OPT_PATH, "~/.local/share/isyncsf/orgs", 0, "records"},
        {"fsync", ISF_OPT_BOOL, "yes", 0, "durability"},
        {"note", ISF_OPT_STRING, NULL, 0, "absent"},
        {NULL, 0, NULL, 0, NULL},
    };
    struct env *e = *state;
    struct isf_config *cfg = load_ok(NULL);
    json_t *o = options_ok(cfg, 0, optional);
    char *dir = home_path(e, ".local/share/isyncsf/orgs");
    assert_string_equal(json_string_value(json_object_get(o, "dir")), dir);
    free(dir);
    assert_true(json_is_true(json_object_get(o, "fsync")));
    assert_int_equal(json_object_size(o), 2);
    json_decref(o);

    /* A required option cannot be met by defaults: the message says where to add it. */
    struct isf_error err;
    isf_err_init(&err);
    o = NULL;
    assert_int_equal(isf_config_plugin_options(cfg, 0, specs, "auth-test", &o, &err), ISF_E_CONFIG);
    assert_null(o);
    assert_contains(err.message, "plugin 'auth-test'");
    assert_contains(err.message, "'client_id'");
    assert_contains(err.message, "plugins.load");

    /* A plugin without options at all. */
    o = options_ok(cfg, 1, NULL);
    assert_int_equal(json_object_size(o), 0);
    json_decref(o);
    isf_config_free(cfg);
}

static void test_options_errors(void **state)
{
    struct env *e = *state;
    expect_option_error(e,
                        "plugins:\n  load:\n    - name: auth-test\n      options:\n"
                        "        client_id: abc\n        prot: 1\n",
                        specs, 6,
                        "unknown option 'prot' for plugin 'auth-test' (known options: "
                        "client_id, port, verbose");
    expect_option_error(e,
                        "plugins:\n  load:\n    - name: auth-test\n      options:\n"
                        "        client_id: abc\n        port: eighty\n",
                        specs, 6, "option 'port' of plugin 'auth-test': expected a whole number");
    expect_option_error(e,
                        "plugins:\n  load:\n    - name: auth-test\n      options:\n"
                        "        client_id: abc\n        verbose: sometimes\n",
                        specs, 6, "option 'verbose' of plugin 'auth-test': expected true or false");
    expect_option_error(e,
                        "plugins:\n  load:\n    - name: auth-test\n      options:\n"
                        "        client_id: abc\n        command: pass\n",
                        specs, 6, "option 'command' of plugin 'auth-test': expected a list");
    expect_option_error(e,
                        "plugins:\n  load:\n    - name: auth-test\n      options:\n"
                        "        client_id: abc\n        credentials: [a]\n",
                        specs, 6, "option 'credentials' of plugin 'auth-test': expected a mapping");
    expect_option_error(e,
                        "plugins:\n  load:\n    - name: auth-test\n      options:\n"
                        "        client_id: [a]\n",
                        specs, 5, "option 'client_id' of plugin 'auth-test'");
    expect_option_error(e,
                        "plugins:\n  load:\n    - name: auth-test\n      options:\n"
                        "        client_id: abc\n        client_id: def\n",
                        specs, 6, "duplicate option 'client_id' for plugin 'auth-test'");
    expect_option_error(e,
                        "plugins:\n  load:\n    - name: auth-test\n      options:\n"
                        "        client_id: abc\n        credentials:\n          a: 1\n"
                        "          a: 2\n",
                        specs, 8, "duplicate key 'a'");
    /* Missing required: the entry's line. */
    expect_option_error(e,
                        "\nplugins:\n  load:\n    - name: auth-test\n      options:\n"
                        "        port: 1\n",
                        specs, 4, "plugin 'auth-test' needs option 'client_id'");
    expect_option_error(e, "plugins:\n  load:\n    - path: /opt/auth-test.so\n", specs, 3,
                        "needs option 'client_id' (the Connected App's consumer key)");
    /* A plugin that takes no options. */
    expect_option_error(e, "plugins:\n  load:\n    - name: auth-test\n      options: {x: 1}\n",
                        NULL, 4, "unknown option 'x' for plugin 'auth-test' (known options: none)");
}

static void test_options_alias_loop(void **state)
{
    /* A self-referencing alias must not recurse forever when copied into JSON. */
    expect_option_error(*state,
                        "plugins:\n  load:\n    - name: auth-test\n      options:\n"
                        "        client_id: abc\n        credentials: &a {loop: [*a]}\n",
                        specs, 6, "nested too deeply");
}

static void test_options_bad_default_is_plugin_bug(void **state)
{
    static const struct isf_option_spec broken[] = {
        {"port", ISF_OPT_INT, "eighty", 0, "bad default"},
        {NULL, 0, NULL, 0, NULL},
    };
    (void)state;
    struct isf_config *cfg = load_ok(NULL);
    json_t *o = NULL;
    struct isf_error err;
    isf_err_init(&err);
    assert_int_equal(isf_config_plugin_options(cfg, 0, broken, "auth-test", &o, &err),
                     ISF_E_CONFIG);
    assert_null(o);
    assert_contains(err.message, "invalid default");
    assert_contains(err.message, "'port'");
    isf_config_free(cfg);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_defaults_without_file),
        T(test_defaults_function),
        T(test_data_dir_resolution),
        T(test_config_path_resolution),
        T(test_expand_home),
        T(test_default_location_is_read),
        T(test_isyncsf_home_config_is_read),
        T(test_explicit_missing_file),
        T(test_empty_file_is_defaults),
        T(test_contract_example),
        T(test_every_key),
        T(test_key_env),
        T(test_null_values_keep_defaults),
        T(test_booleans),
        T(test_empty_load_list),
        T(test_error_malformed_yaml),
        T(test_error_unknown_top_level_key),
        T(test_error_unknown_nested_key),
        T(test_error_wrong_type),
        T(test_error_duplicate_key),
        T(test_error_plugin_entry),
        T(test_error_key_sources),
        T(test_error_second_document),
        T(test_options_all_types),
        T(test_options_defaults_applied),
        T(test_options_of_default_entries),
        T(test_options_errors),
        T(test_options_alias_loop),
        T(test_options_bad_default_is_plugin_bug),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
