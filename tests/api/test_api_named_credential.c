/* Mode named-credential through the library API against the fake org: a long-running caller
 * (one context) holds the helper's token in memory until it is due, asks again when the org
 * refuses it, and another context (another process) asks for its own; no token ever reaches the
 * store. The helper gets its token from the fake org with curl and counts its runs. */
#define _GNU_SOURCE /* memmem */
#include "fake_org_harness.h"

#include <isyncsf/isyncsf.h>

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

static struct fake_org fo;
static char config_path[512], count_path[512];

static int setup(void **state)
{
    (void)state;
    if (fake_org_start(&fo, NULL, NULL) != 0)
        return -1;
    char helper[512];
    snprintf(helper, sizeof(helper), "%s/helper.sh", fo.dir);
    snprintf(count_path, sizeof(count_path), "%s/helper.count", fo.dir);
    FILE *h = fopen(helper, "w");
    if (!h)
        return -1;
    fprintf(h,
            "#!/bin/sh\n"
            "echo run >>'%s'\n"
            "tok=$(curl -s --cacert '%s' -d grant_type=client_credentials -d client_id=cid "
            "-d client_secret=secret '%s/services/oauth2/token' | sed 's/.*\"access_token\":"
            "\"\\([^\"]*\\)\".*/\\1/')\n"
            "printf '{\"status\":0,\"result\":{\"accessToken\":\"%%s\",\"instanceUrl\":\"%s\"}}' "
            "\"$tok\"\n",
            count_path, fo.ca_file, fo.url, fo.url);
    fclose(h);
    chmod(helper, 0700);
    snprintf(config_path, sizeof(config_path), "%s/nc.yaml", fo.dir);
    FILE *c = fopen(config_path, "w");
    if (!c)
        return -1;
    fprintf(c,
            "http: {ca_file: %s, retries: 0}\n"
            "plugins:\n"
            "  load:\n"
            "    - name: store-file\n"
            "    - name: auth-named-credential\n"
            "      options:\n"
            "        credentials:\n"
            "          fake: {url: \"%s\", command: [\"%s\"]}\n",
            fo.ca_file, fo.url, helper);
    fclose(c);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fake_org_stop(&fo);
    return 0;
}

static isf_ctx *open_ctx(void)
{
    struct isf_open_options o = {sizeof(o), config_path, ISF_LOG_ERROR, NULL, NULL};
    struct isf_error err;
    isf_ctx *ctx = NULL;
    if (isf_open(&o, &ctx, &err) != ISF_OK)
        fail_msg("isf_open: %s", err.message);
    return ctx;
}

static int helper_runs(void)
{
    FILE *f = fopen(count_path, "r");
    int n = 0, ch;
    if (!f)
        return 0;
    while ((ch = fgetc(f)) != EOF)
        n += ch == '\n';
    fclose(f);
    return n;
}

static char *token_of(isf_ctx *ctx, const char *name)
{
    struct isf_token t;
    struct isf_error err;
    if (isf_org_token(ctx, name, &t, &err) != ISF_OK)
        fail_msg("token %s: %s", name, err.message);
    assert_string_equal(t.instance_url, fo.url);
    assert_true(t.expires_at_ms > 0);
    char *copy = strdup(t.access_token);
    isf_token_clear(&t);
    return copy;
}

/* Non-zero when `needle` is in any file under `dir`. */
static int found_under(const char *dir, const char *needle)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int found = 0;
    while (d && !found && (e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            found = found_under(path, needle);
        } else if (S_ISREG(st.st_mode)) {
            FILE *f = fopen(path, "rb");
            char *buf = calloc(1, (size_t)st.st_size + 1);
            if (f && buf && fread(buf, 1, (size_t)st.st_size, f) == (size_t)st.st_size)
                found = memmem(buf, (size_t)st.st_size, needle, strlen(needle)) != NULL;
            free(buf);
            if (f)
                fclose(f);
        }
    }
    if (d)
        closedir(d);
    return found;
}

static void test_held_in_memory_until_refused(void **state)
{
    (void)state;
    isf_ctx *ctx = open_ctx();
    struct isf_org_settings s;
    memset(&s, 0, sizeof(s));
    s.struct_size = sizeof(s);
    s.mode = "named-credential";
    s.named_credential = "fake";
    struct isf_error err;
    if (isf_org_add(ctx, "nc", &s, &err) != ISF_OK)
        fail_msg("add: %s", err.message);
    if (isf_org_connect(ctx, "nc", NULL, &err) != ISF_OK)
        fail_msg("connect: %s", err.message);
    assert_int_equal(helper_runs(), 1);

    /* The same context: the connect's token, held in memory; the helper is not run again. */
    char *first = token_of(ctx, "nc");
    char *again = token_of(ctx, "nc");
    assert_string_equal(first, again);
    assert_int_equal(isf_org_test(ctx, "nc", &err), ISF_OK);
    assert_int_equal(helper_runs(), 1);

    /* Refused once: the helper is asked again, the call retried, the new token held. */
    assert_int_equal(fake_org_ctl(&fo, "/__fake/fault",
                                  "{\"kind\":\"unauthorized\",\"count\":1,"
                                  "\"path_prefix\":\"/services/data/v\"}",
                                  NULL),
                     200);
    assert_int_equal(isf_org_test(ctx, "nc", &err), ISF_OK);
    assert_int_equal(helper_runs(), 2);
    char *second = token_of(ctx, "nc");
    assert_string_not_equal(first, second);
    assert_int_equal(helper_runs(), 2);

    /* Another context holds nothing: nothing is shared through the store. */
    isf_ctx *other = open_ctx();
    char *third = token_of(other, "nc");
    assert_int_equal(helper_runs(), 3);
    isf_close(other);

    assert_true(found_under(fo.home, "named-credential")); /* the scan does read the record */
    assert_false(found_under(fo.home, first));
    assert_false(found_under(fo.home, second));
    assert_false(found_under(fo.home, third));

    /* Disconnected: the held token is dropped and not handed out. */
    int revoked = 1;
    assert_int_equal(isf_org_disconnect(ctx, "nc", 0, &revoked, &err), ISF_OK);
    assert_int_equal(revoked, 0);
    struct isf_token t;
    assert_int_equal(isf_org_token(ctx, "nc", &t, &err), ISF_E_AUTH);
    assert_int_equal(helper_runs(), 3);
    free(first);
    free(again);
    free(second);
    free(third);
    isf_close(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_held_in_memory_until_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
