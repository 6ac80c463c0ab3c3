/* isf_refresh through the library API against the fake org: a refresh-token mode (the fixture
 * auth-refresh-grant, renewing through refresh_request like the web server modes) under refresh
 * token rotation — the rotated token is stored, and the next refresh works with it (reusing the
 * old one would make the org revoke the whole family); and the stop flag abandons a request in
 * flight promptly, leaving the record as it was and its lock free. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fake_org_harness.h"
#include "orgstore.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REDIRECT "http://localhost:1717/callback"

static struct fake_org fo;

static int setup(void **state)
{
    (void)state;
    static const char *const args[] = {"--rotate-refresh", NULL};
    char config[1024];
    snprintf(config, sizeof(config),
             "plugins:\n"
             "  load:\n"
             "    - name: store-file\n"
             "    - path: %s/auth-refresh-grant.so\n"
             "      options: {endpoint: fake}\n",
             ISF_TEST_FIXTURE_PLUGIN_DIR);
    return fake_org_start(&fo, args, config) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    fake_org_stop(&fo);
    return 0;
}

struct buf {
    char data[8192];
    size_t len;
};

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
    struct buf *b = arg;
    size_t take = size * n;
    if (b->len + take >= sizeof(b->data))
        return 0;
    memcpy(b->data + b->len, p, take);
    b->len += take;
    b->data[b->len] = '\0';
    return take;
}

/* A refresh token, the way a web server mode gets one: authorize (the fake org approves at
 * once and redirects with a code), then the authorization_code grant. */
static char *first_refresh_token(void)
{
    char url[512];
    char *location = NULL;
    snprintf(url, sizeof(url),
             "%s/services/oauth2/authorize?response_type=code&client_id=cid&redirect_uri=%s"
             "&scope=refresh_token%%20api",
             fo.url, REDIRECT);
    CURL *c = curl_easy_init();
    struct buf b = {.len = 0};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CAINFO, fo.ca_file);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &location);
    assert_non_null(location);
    const char *code = strstr(location, "code=");
    assert_non_null(code);
    char form[1024];
    snprintf(form, sizeof(form),
             "grant_type=authorization_code&code=%.*s&redirect_uri=%s&client_id=cid"
             "&client_secret=secret",
             (int)strcspn(code + 5, "&"), code + 5, REDIRECT);
    snprintf(url, sizeof(url), "%s/services/oauth2/token", fo.url);
    b.len = 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, form);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_cleanup(c);
    json_t *j = json_loads(b.data, 0, NULL);
    const char *rt = json_string_value(json_object_get(j, "refresh_token"));
    if (!rt)
        fail_msg("no refresh token in %s", b.data);
    char *out = strdup(rt);
    json_decref(j);
    return out;
}

static isf_ctx *open_ctx(void)
{
    struct isf_open_options o = {sizeof(o), NULL, ISF_LOG_ERROR, NULL, NULL};
    struct isf_error err;
    isf_ctx *ctx = NULL;
    if (isf_open(&o, &ctx, &err) != ISF_OK)
        fail_msg("isf_open: %s", err.message);
    return ctx;
}

/* A connected org of the fixture's mode whose session expired an hour ago. */
static void write_org(isf_ctx *ctx, const char *name, const char *refresh_token)
{
    struct isf_org o = {0};
    struct isf_error err;
    int64_t now = isf_now_ms();
    o.pkg_installed = -1;
    o.token_issued_at = now - 3 * 3600000LL;
    o.token_expires_at = now - 3600000LL;
    assert_int_equal(isf_org_set(&o.name, name) | isf_org_set(&o.mode, "refresh-grant") |
                         isf_org_set(&o.status, "connected") | isf_org_set(&o.login_url, fo.url) |
                         isf_org_set(&o.instance_url, fo.url) | isf_org_set(&o.client_id, "cid"),
                     0);
    if (isf_org_seal(ctx, &o, "client_secret", &o.sealed_client_secret, "secret", &err) ||
        isf_org_seal(ctx, &o, "access_token", &o.sealed_access_token, "00Dold!stale", &err) ||
        isf_org_seal(ctx, &o, "refresh_token", &o.sealed_refresh_token, refresh_token, &err) ||
        isf_orgstore_put(ctx, &o, &err))
        fail_msg("writing org %s: %s", name, err.message);
    isf_org_free_fields(&o);
}

static char *stored_refresh_token(isf_ctx *ctx, const char *name, struct isf_org *o)
{
    struct isf_error err;
    char *rt = NULL;
    assert_int_equal(isf_orgstore_get(ctx, name, o, &err), ISF_OK);
    assert_int_equal(isf_org_unseal(ctx, o, "refresh_token", o->sealed_refresh_token, &rt, &err),
                     ISF_OK);
    return rt;
}

static void test_rotated_refresh_token_is_stored_and_used(void **state)
{
    (void)state;
    isf_ctx *ctx = open_ctx();
    char *rt1 = first_refresh_token();
    write_org(ctx, "rot", rt1);
    long grants = fake_org_counter(&fo, "token_grants");
    const char *names[] = {"rot"};
    struct isf_refresh_options opts = {.struct_size = sizeof(opts)};
    struct isf_refresh_summary sum;
    struct isf_error err;
    assert_int_equal(isf_refresh(ctx, names, 1, &opts, &sum, &err), ISF_OK);
    assert_int_equal(sum.done, 1);
    struct isf_org o;
    char *rt2 = stored_refresh_token(ctx, "rot", &o);
    assert_non_null(rt2);
    assert_string_not_equal(rt1, rt2); /* rotated, and the new one is what was stored */
    assert_string_equal(o.status, "connected");
    assert_true(o.token_expires_at > isf_now_ms());
    isf_org_free_fields(&o);
    /* Again, forced: it must present rt2 (rt1 would revoke the family: invalid_grant). */
    opts.force = 1;
    assert_int_equal(isf_refresh(ctx, names, 1, &opts, &sum, &err), ISF_OK);
    assert_int_equal(sum.done, 1);
    char *rt3 = stored_refresh_token(ctx, "rot", &o);
    assert_string_not_equal(rt2, rt3);
    isf_org_free_fields(&o);
    assert_int_equal(fake_org_counter(&fo, "token_grants"), grants + 2);
    free(rt1);
    isf_free_secret(rt2);
    isf_free_secret(rt3);
    isf_close(ctx);
}

static volatile int stop_flag;

static void *stop_soon(void *arg)
{
    (void)arg;
    struct timespec ts = {0, 300 * 1000000L};
    nanosleep(&ts, NULL);
    stop_flag = 1;
    return NULL;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_stop_abandons_requests_in_flight(void **state)
{
    (void)state;
    isf_ctx *ctx = open_ctx();
    char *rt = first_refresh_token();
    write_org(ctx, "stopped", rt);
    struct isf_org before;
    struct isf_error err;
    assert_int_equal(isf_orgstore_get(ctx, "stopped", &before, &err), ISF_OK);
    /* The org takes 5 s to answer; the stop comes after 0.3 s. */
    assert_int_equal(fake_org_ctl(&fo, "/__fake/fault",
                                  "{\"kind\":\"delay\",\"delay_ms\":5000,\"path_prefix\":"
                                  "\"/services/oauth2/token\",\"count\":1}",
                                  NULL),
                     200);
    stop_flag = 0;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, stop_soon, NULL), 0);
    const char *names[] = {"stopped"};
    struct isf_refresh_options opts = {
        .struct_size = sizeof(opts), .force = 1, .timeout_s = 30, .stop = &stop_flag};
    struct isf_refresh_summary sum;
    int64_t t0 = mono_ms();
    int rc = isf_refresh(ctx, names, 1, &opts, &sum, &err);
    int64_t took = mono_ms() - t0;
    pthread_join(t, NULL);
    assert_int_equal(rc, ISF_OK);
    assert_int_equal(sum.done + sum.failed, 0);
    if (took > 1500)
        fail_msg("isf_refresh took %lld ms to stop", (long long)took);
    struct isf_org after;
    assert_int_equal(isf_orgstore_get(ctx, "stopped", &after, &err), ISF_OK);
    assert_int_equal(after.revision, before.revision); /* untouched */
    /* Its lock is free again. */
    void *lock = NULL;
    assert_int_equal(ctx->store->store.lock(ctx->store->instance, "stopped", 0, &lock, &err),
                     ISF_OK);
    ctx->store->store.unlock(ctx->store->instance, lock);
    isf_org_free_fields(&before);
    isf_org_free_fields(&after);
    free(rt);
    fake_org_ctl(&fo, "/__fake/reset", "{}", NULL);
    isf_close(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rotated_refresh_token_is_stored_and_used),
        cmocka_unit_test(test_stop_abandons_requests_in_flight),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
