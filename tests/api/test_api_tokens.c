/* The thread-safe token source (isf_tokens_*) against the fake org: many threads at once get
 * valid tokens; a due token is refreshed once per org however many threads ask at the same time
 * (single flight across threads); a missing org is a clear error. */
#include "fake_org_harness.h"

#include <isyncsf/isyncsf.h>

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#define THREADS 8
#define ORGS 3
#define TOKEN_MAX 256

static struct fake_org fo;
static const char *const org_names[ORGS] = {"alpha", "bravo", "charlie"};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- fixture: a fake org and three connected client-credentials orgs whose sessions are due
 * 1 s after they are issued (session_ttl_s 60, margin_s 59) ---------------------------------- */

static int setup(void **state)
{
    (void)state;
    if (fake_org_start(&fo, NULL, "refresh: {session_ttl_s: 60, margin_s: 59}\n") != 0)
        return -1;
    struct isf_open_options o = {sizeof(o), NULL, ISF_LOG_ERROR, NULL, NULL};
    struct isf_error err;
    isf_ctx *ctx = NULL;
    if (isf_open(&o, &ctx, &err) != ISF_OK) {
        fprintf(stderr, "isf_open: %s\n", err.message);
        return -1;
    }
    for (int i = 0; i < ORGS; i++) {
        struct isf_org_settings s;
        memset(&s, 0, sizeof(s));
        s.struct_size = sizeof(s);
        s.login_url = fo.url;
        s.client_id = "cid";
        s.client_secret = "secret";
        if (isf_org_add(ctx, org_names[i], &s, &err) != ISF_OK ||
            isf_org_connect(ctx, org_names[i], NULL, &err) != ISF_OK) {
            fprintf(stderr, "%s: %s\n", org_names[i], err.message);
            isf_close(ctx);
            return -1;
        }
    }
    isf_close(ctx);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fake_org_stop(&fo);
    return 0;
}

/* ---- the workers -------------------------------------------------------------------------- */

struct run {
    isf_tokens *t;
    pthread_barrier_t start;
    int calls_per_org;    /* per thread */
    int64_t run_until_ms; /* > 0: keep calling until then instead */
};

struct worker {
    struct run *run;
    pthread_t tid;
    long ok, failed;
    char last[ORGS][TOKEN_MAX]; /* the last token seen per org */
    char first_error[ISF_ERROR_MESSAGE_MAX];
};

static void one_call(struct worker *w, int org)
{
    struct isf_token tok;
    struct isf_error err;
    int rc = isf_tokens_get(w->run->t, org_names[org], &tok, &err);
    int good = rc == ISF_OK && tok.access_token && *tok.access_token && tok.instance_url &&
               strcmp(tok.instance_url, fo.url) == 0 && tok.expires_at_ms > now_ms() &&
               strlen(tok.access_token) < TOKEN_MAX;
    if (good) {
        w->ok++;
        snprintf(w->last[org], TOKEN_MAX, "%s", tok.access_token);
    } else {
        if (!w->failed)
            snprintf(w->first_error, sizeof(w->first_error), "%s: rc %d: %s", org_names[org], rc,
                     rc == ISF_OK ? "bad token, URL or expiry" : err.message);
        w->failed++;
    }
    isf_token_clear(&tok);
}

static void *work(void *arg)
{
    struct worker *w = arg;
    pthread_barrier_wait(&w->run->start);
    if (w->run->run_until_ms > 0) {
        for (long i = 0; now_ms() < w->run->run_until_ms; i++)
            one_call(w, (int)(i % ORGS));
        return NULL;
    }
    for (int k = 0; k < w->run->calls_per_org; k++)
        for (int org = 0; org < ORGS; org++)
            one_call(w, org);
    return NULL;
}

/* Run THREADS workers released together; returns the calls made, asserting all succeeded. */
static long run_workers(struct run *run, struct worker *ws)
{
    long calls = 0;
    memset(ws, 0, THREADS * sizeof(*ws));
    assert_int_equal(pthread_barrier_init(&run->start, NULL, THREADS), 0);
    for (int i = 0; i < THREADS; i++) {
        ws[i].run = run;
        assert_int_equal(pthread_create(&ws[i].tid, NULL, work, &ws[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(ws[i].tid, NULL);
        if (ws[i].failed)
            fail_msg("thread %d: %ld of %ld calls failed; first: %s", i, ws[i].failed,
                     ws[i].failed + ws[i].ok, ws[i].first_error);
        calls += ws[i].ok;
    }
    pthread_barrier_destroy(&run->start);
    return calls;
}

static isf_tokens *open_tokens(void)
{
    struct isf_open_options o = {sizeof(o), NULL, ISF_LOG_ERROR, NULL, NULL};
    struct isf_error err;
    isf_tokens *t = NULL;
    if (isf_tokens_open(&o, &t, &err) != ISF_OK)
        fail_msg("isf_tokens_open: %s", err.message);
    return t;
}

/* ---- tests -------------------------------------------------------------------------------- */

static void test_due_tokens_refresh_once_across_threads(void **state)
{
    (void)state;
    struct worker ws[THREADS];
    struct run run;
    memset(&run, 0, sizeof(run));
    run.t = open_tokens();

    /* Connected just now, due 1 s after issue: wait until every session is due. */
    sleep_ms(1200);
    long grants0 = fake_org_counter(&fo, "token_grants");
    assert_true(grants0 >= ORGS);
    run.calls_per_org = 1; /* every thread asks for every org at the same moment */
    assert_int_equal(run_workers(&run, ws), THREADS * ORGS);
    /* One grant per org, however many threads found it due. */
    assert_int_equal(fake_org_counter(&fo, "token_grants") - grants0, ORGS);
    for (int org = 0; org < ORGS; org++)
        for (int i = 1; i < THREADS; i++)
            assert_string_equal(ws[i].last[org], ws[0].last[org]); /* all got the new token */

    /* Now fresh for ~1 s: many calls, no request at all (the fast path, in parallel). */
    long grants1 = fake_org_counter(&fo, "token_grants");
    long requests1 = fake_org_counter(&fo, "token_requests");
    run.calls_per_org = 20;
    assert_int_equal(run_workers(&run, ws), THREADS * ORGS * 20);
    long grants2 = fake_org_counter(&fo, "token_grants");
    long requests2 = fake_org_counter(&fo, "token_requests");
    /* The batch may straddle the 1 s due time once: at most one more grant per org. */
    assert_true(grants2 - grants1 <= ORGS);
    assert_true(requests2 - requests1 == grants2 - grants1);
    isf_tokens_close(run.t);
}

static void test_hammering_through_expiries(void **state)
{
    (void)state;
    struct worker ws[THREADS];
    struct run run;
    memset(&run, 0, sizeof(run));
    run.t = open_tokens();
    long grants0 = fake_org_counter(&fo, "token_grants");
    int64_t t0 = now_ms();
    run.run_until_ms = t0 + 3000; /* ~3 due times per org */
    long calls = run_workers(&run, ws);
    int64_t elapsed = now_ms() - t0;
    long grants = fake_org_counter(&fo, "token_grants") - grants0;
    /* Every call succeeded (run_workers) and tokens were renewed as they fell due, but never
     * more than once per org per due time: sessions are due 1 s after issue, so a run of
     * `elapsed` ms allows at most elapsed/1000 + 1 refreshes per org. */
    assert_true(calls > THREADS * ORGS);
    assert_true(grants >= ORGS);
    assert_true(grants <= ORGS * (elapsed / 1000 + 1));
    isf_tokens_close(run.t);
}

static void test_unknown_org_and_bad_config(void **state)
{
    (void)state;
    isf_tokens *t = open_tokens();
    struct isf_token tok;
    struct isf_error err;
    assert_int_equal(isf_tokens_get(t, "nobody", &tok, &err), ISF_E_NOT_FOUND);
    assert_non_null(strstr(err.message, "nobody"));
    assert_null(tok.access_token);
    assert_int_equal(isf_tokens_get(NULL, "alpha", &tok, &err), ISF_E_USAGE);
    isf_tokens_close(t);

    struct isf_open_options o = {sizeof(o), "/nonexistent/isyncsf/config.yaml", ISF_LOG_ERROR, NULL,
                                 NULL};
    isf_tokens *bad = NULL;
    assert_int_not_equal(isf_tokens_open(&o, &bad, &err), ISF_OK);
    assert_null(bad);
    assert_true(strlen(err.message) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_due_tokens_refresh_once_across_threads),
        cmocka_unit_test(test_hammering_through_expiries),
        cmocka_unit_test(test_unknown_org_and_bad_config),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
