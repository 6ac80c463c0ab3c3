/*
 * isyncsf benchmark: the performance targets of the foundation issue.
 *   1. `isyncsf org token NAME` with a valid token: median wall time at 1, 1,000, 10,000 orgs
 *      (target <= 5 ms at 10,000);
 *   2. `isyncsf org list --json` with 10,000 orgs (target <= 300 ms);
 *   3. one record update (lock, read, write with revision check, fsync) at 100 and 100,000 orgs
 *      (target: cost at 100,000 <= 1.5 x cost at 100).
 * Records are written straight through the core (sealed tokens valid for a day), so no org is
 * contacted: the token path measured is the no-network fast path.
 *
 * usage: isyncsf-bench [--max-orgs N] [--runs N]   (prints one line per figure)
 */
#include "orgstore.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static double median_ms(int64_t *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_i64);
    return (n % 2 ? (double)v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0) / 1000.0;
}

static void die(const char *what, const struct isf_error *err)
{
    fprintf(stderr, "bench: %s: %s\n", what, err ? err->message : strerror(errno));
    exit(1);
}

/* Write a config whose store folder is <home>/orgs; fsync as asked. */
static void write_config(const char *home, int fsync_on)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/config.yaml", home);
    FILE *f = fopen(path, "w");
    if (!f)
        die("config", NULL);
    fprintf(f,
            "plugins:\n  load:\n    - name: auth-client-credentials\n    - name: store-file\n"
            "      options: {dir: %s/orgs, fsync: %s}\n",
            home, fsync_on ? "true" : "false");
    fclose(f);
}

static isf_ctx *open_ctx(void)
{
    struct isf_open_options o = {sizeof(o), NULL, ISF_LOG_ERROR, NULL, NULL};
    struct isf_error err;
    isf_ctx *ctx;
    if (isf_open(&o, &ctx, &err) != ISF_OK)
        die("open", &err);
    return ctx;
}

/* Add connected orgs org-<from> .. org-<to-1> with a sealed token valid for a day. */
static void populate(int from, int to)
{
    isf_ctx *ctx = open_ctx();
    struct isf_error err;
    isf_err_init(&err);
    int64_t now = isf_now_ms();
    for (int i = from; i < to; i++) {
        struct isf_org o = {0};
        char name[32];
        snprintf(name, sizeof(name), "org-%06d", i);
        o.pkg_installed = 1;
        o.created_at = now;
        o.token_issued_at = now;
        o.token_expires_at = now + 86400000;
        if (isf_org_set(&o.name, name) || isf_org_set(&o.mode, "client-credentials") ||
            isf_org_set(&o.status, "connected") ||
            isf_org_set(&o.login_url, "https://bench.my.salesforce.com") ||
            isf_org_set(&o.instance_url, "https://bench.my.salesforce.com") ||
            isf_org_set(&o.client_id, "3MVG9bench") || isf_org_set(&o.org_id, "00D000000000001") ||
            isf_org_set(&o.org_name, "Bench Org") || isf_org_set(&o.environment, "production") ||
            isf_org_set(&o.pkg_namespace, "isyncsf") || isf_org_set(&o.pkg_version, "1.0.0.1"))
            die("oom", NULL);
        if (isf_org_seal(ctx, &o, "access_token", &o.sealed_access_token,
                         "00Dbench!AQ.bench-access-token-value", &err) != ISF_OK ||
            isf_org_seal(ctx, &o, "client_secret", &o.sealed_client_secret, "bench-secret", &err) !=
                ISF_OK ||
            isf_orgstore_put(ctx, &o, &err) != ISF_OK)
            die(name, &err);
        isf_org_free_fields(&o);
    }
    isf_close(ctx);
}

/* Run the CLI with stdout to /dev/null; return wall time in microseconds. */
static int64_t run_cli(const char *cli, char *const argv[])
{
    fflush(stdout); /* or the child's freopen would print our buffered lines again */
    int64_t t0 = now_us();
    pid_t pid = fork();
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stdout))
            _exit(127);
        execv(cli, argv);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    int64_t dt = now_us() - t0;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "bench: %s %s failed (status %d)\n", argv[1], argv[2], st);
        exit(1);
    }
    return dt;
}

static double bench_token(const char *cli, int runs)
{
    int64_t *t = calloc((size_t)runs, sizeof(*t));
    char *argv[] = {(char *)cli, "org", "token", "org-000000", NULL};
    run_cli(cli, argv); /* warm the page cache */
    for (int i = 0; i < runs; i++)
        t[i] = run_cli(cli, argv);
    double m = median_ms(t, runs);
    free(t);
    return m;
}

static double bench_list(const char *cli, int runs)
{
    int64_t *t = calloc((size_t)runs, sizeof(*t));
    char *argv[] = {(char *)cli, "org", "list", "--json", NULL};
    run_cli(cli, argv);
    for (int i = 0; i < runs; i++)
        t[i] = run_cli(cli, argv);
    double m = median_ms(t, runs);
    free(t);
    return m;
}

/* One update = the library's org edit: lock, read, revision-checked atomic write. */
static double bench_update(int runs)
{
    isf_ctx *ctx = open_ctx();
    int64_t *t = calloc((size_t)runs, sizeof(*t));
    struct isf_error err;
    for (int i = 0; i < runs; i++) {
        char desc[32];
        snprintf(desc, sizeof(desc), "update %d", i);
        struct isf_org_settings s;
        memset(&s, 0, sizeof(s));
        s.struct_size = sizeof(s);
        s.description = desc;
        int64_t t0 = now_us();
        if (isf_org_edit(ctx, "org-000000", &s, &err) != ISF_OK)
            die("edit", &err);
        t[i] = now_us() - t0;
    }
    double m = median_ms(t, runs);
    free(t);
    isf_close(ctx);
    return m;
}

int main(int argc, char **argv)
{
    int max_orgs = 100000, runs = 41;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--max-orgs") == 0)
            max_orgs = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--runs") == 0)
            runs = atoi(argv[i + 1]);
    }
    char home[] = "/tmp/isyncsf-bench.XXXXXX";
    if (!mkdtemp(home))
        die("mkdtemp", NULL);
    setenv("ISYNCSF_HOME", home, 1);
    unsetenv("ISYNCSF_CONFIG");
    const char *cli = ISF_BENCH_BIN_DIR "/isyncsf";
    printf("isyncsf benchmark (store in %s, %d runs per figure, medians)\n", home, runs);

    write_config(home, 0); /* populate fast; reads do not depend on fsync */
    int have = 0;
    static const int token_sizes[] = {1, 1000, 10000};
    for (size_t k = 0; k < 3 && token_sizes[k] <= max_orgs; k++) {
        populate(have, token_sizes[k]);
        have = token_sizes[k];
        printf("org token, %6d orgs: %7.2f ms\n", have, bench_token(cli, runs));
    }
    if (have >= 10000)
        printf("org list --json, %d orgs: %7.1f ms (target <= 300 ms)\n", have,
               bench_list(cli, runs < 11 ? runs : 11));

    /* Updates in a store of their own: 100 orgs, then 100,000; measured with fsync on, as
     * users get them (populating runs without it). */
    char home2[] = "/tmp/isyncsf-bench-upd.XXXXXX";
    if (!mkdtemp(home2))
        die("mkdtemp", NULL);
    setenv("ISYNCSF_HOME", home2, 1);
    write_config(home2, 0);
    populate(0, 100);
    write_config(home2, 1);
    double small = bench_update(runs * 5);
    printf("record update, %6d orgs: %7.3f ms\n", 100, small);
    if (max_orgs >= 100000) {
        write_config(home2, 0);
        populate(100, 100000);
        write_config(home2, 1);
        double big = bench_update(runs * 5);
        printf("record update, %6d orgs: %7.3f ms (ratio %.2f, target <= 1.5)\n", 100000, big,
               big / small);
    }
    char cmd[4200];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", home2);
    if (system(cmd) != 0)
        die("rm", NULL);
    if (getenv("ISF_BENCH_KEEP")) { /* for profiling: leave the store in place */
        printf("store kept in %s\n", home);
        return 0;
    }
    snprintf(cmd, sizeof(cmd), "rm -rf %s", home);
    return system(cmd) == 0 ? 0 : 1;
}
