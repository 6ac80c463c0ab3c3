/* isyncsf org test NAME... | --all: one authenticated call per org, several orgs at a time.
 *
 * The library context is not thread-safe, so each worker thread opens its own (isf_open, same
 * options as the main one) and tests the orgs it takes from a shared queue. Each org's time is
 * bounded by the library's HTTP time limit (http.timeout_s caps every call), so no extra timer is
 * needed here. Workers touch no jansson object: they keep plain strings, and the main thread
 * builds the output once all are done, in the order the orgs were named. */
#include "help.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TEST_MAX_JOBS 64
#define TEST_DEFAULT_JOBS 8

struct test_job {
    const char *name;
    int st;               /* isf_org_test's status */
    struct isf_error err; /* its error, when st != ISF_OK */
    char *org_json;       /* isf_org_show_json afterwards, or NULL */
};

struct test_run {
    struct cli *cli;
    struct test_job *jobs;
    size_t njobs, next, done;
    int progress; /* draw a progress bar on stderr */
    pthread_mutex_t mu;
};

static void draw_progress(struct test_run *r)
{
    enum { WIDTH = 30 };
    size_t fill = r->njobs ? r->done * WIDTH / r->njobs : WIDTH;
    char bar[WIDTH + 1];
    for (size_t i = 0; i < WIDTH; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[WIDTH] = '\0';
    fprintf(stderr, "\r[%s] %zu/%zu tested", bar, r->done, r->njobs);
    if (r->done == r->njobs)
        fprintf(stderr, "\r\033[K");
    fflush(stderr);
}

static void *worker(void *arg)
{
    struct test_run *r = arg;
    struct isf_open_options o;
    cli_open_options(r->cli, &o);
    isf_ctx *ctx = NULL;
    struct isf_error open_err;
    int open_st = isf_open(&o, &ctx, &open_err);
    for (;;) {
        pthread_mutex_lock(&r->mu);
        size_t i = r->next < r->njobs ? r->next++ : r->njobs;
        pthread_mutex_unlock(&r->mu);
        if (i == r->njobs)
            break;
        struct test_job *j = &r->jobs[i];
        if (open_st != ISF_OK) {
            j->st = open_st;
            j->err = open_err;
        } else {
            j->st = isf_org_test(ctx, j->name, &j->err);
            struct isf_error serr;
            if (isf_org_show_json(ctx, j->name, &j->org_json, &serr) != ISF_OK)
                j->org_json = NULL;
        }
        pthread_mutex_lock(&r->mu);
        r->done++;
        if (r->progress)
            draw_progress(r);
        pthread_mutex_unlock(&r->mu);
    }
    isf_close(ctx);
    return NULL;
}

/* Every org of the store, the unreadable records included (their test reports why). */
static int collect_all_names(struct cli *cli, json_t **names)
{
    char *list = NULL, *bad = NULL;
    struct isf_error err;
    if (isf_org_list_json(cli->ctx, NULL, &list, &bad, &err) != ISF_OK)
        return cli_fail(cli, &err, NULL);
    json_t *arr = json_loads(list, 0, NULL);
    *names = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        json_array_append(*names, json_object_get(v, "name"));
    }
    json_t *badarr = bad ? json_loads(bad, 0, NULL) : NULL;
    json_array_foreach(badarr, i, v)
    {
        json_array_append(*names, json_object_get(v, "org"));
    }
    json_decref(arr);
    json_decref(badarr);
    free(list);
    free(bad);
    return 0;
}

/* Run the jobs on up to `jobs` threads (fewer if a thread cannot be started; at worst, on
 * this one). */
static void run_jobs(struct test_run *r, int jobs)
{
    pthread_t tids[TEST_MAX_JOBS];
    int started = 0;
    if (r->progress)
        draw_progress(r);
    for (int i = 0; i < jobs; i++) {
        if (pthread_create(&tids[started], NULL, worker, r) != 0)
            break;
        started++;
    }
    if (!started)
        worker(r);
    for (int i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
}

static void print_table(struct cli *cli, const struct test_job *jobs, size_t n)
{
    int w = 4;
    for (size_t i = 0; i < n; i++)
        if ((int)strlen(jobs[i].name) > w)
            w = (int)strlen(jobs[i].name);
    printf("%-*s  %-14s %s\n", w, "NAME", "STATUS", "DETAIL");
    for (size_t i = 0; i < n; i++) {
        const struct test_job *j = &jobs[i];
        json_t *o = j->org_json ? json_loads(j->org_json, 0, NULL) : NULL;
        const char *status = json_string_value(json_object_get(o, "status"));
        const char *detail = json_string_value(json_object_get(o, "status_detail"));
        if (j->st != ISF_OK && (!status || !detail || !*detail))
            detail = j->err.message;
        if (!status)
            status = isf_status_name(j->st);
        printf("%-*s  %s●%s %-12s %s\n", w, j->name, status_color(cli, status), color_reset(cli),
               status, detail && *detail ? detail : "-");
        json_decref(o);
    }
}

static void print_json(struct cli *cli, const struct test_job *jobs, size_t n, int single)
{
    (void)cli;
    json_t *results = json_array();
    for (size_t i = 0; i < n; i++) {
        const struct test_job *j = &jobs[i];
        json_t *o = j->org_json ? json_loads(j->org_json, 0, NULL) : NULL;
        if (!o && j->st != ISF_OK)
            o = json_pack("{s:s, s:{s:s, s:s}}", "name", j->name, "error", "code",
                          isf_status_name(j->st), "message", j->err.message);
        if (o)
            json_array_append_new(results, o);
    }
    /* One org named: its org object, as every single-org command prints; else an array. */
    json_t *shown = single && json_array_size(results) == 1 ? json_array_get(results, 0) : results;
    char *text = json_dumps(shown, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    printf("%s\n", text ? text : "[]");
    free(text);
    json_decref(results);
}

int cmd_org_test(struct cli *cli, int argc, char **argv)
{
    static const struct cli_flag flags[] = {{"all", 0}, {"jobs", 1}, {NULL, 0}};
    const char *usage = help_text("org test");
    struct cli_args a;
    int rc = cli_parse(cli, argc, argv, flags, &a, usage);
    if (rc)
        return rc < 0 ? 0 : rc;
    int all = cli_has(&a, "all");
    if ((a.npos == 0) == !all)
        return cli_usage_error(cli, usage, "org test needs NAME... or --all");
    int jobs = TEST_DEFAULT_JOBS;
    const char *jv = cli_get(&a, "jobs");
    if (jv) {
        char *end;
        long v = strtol(jv, &end, 10);
        if (*end || !*jv || v < 1 || v > TEST_MAX_JOBS)
            return cli_usage_error(cli, usage, "--jobs needs a number from 1 to %d", TEST_MAX_JOBS);
        jobs = (int)v;
    }
    if ((rc = cli_open(cli)) != 0)
        return rc;
    json_t *names = NULL;
    if (all) {
        if ((rc = collect_all_names(cli, &names)) != 0)
            return rc;
    } else {
        names = json_array();
        for (int i = 0; i < a.npos; i++)
            json_array_append_new(names, json_string(a.pos[i]));
    }
    size_t n = json_array_size(names);
    struct test_job *list = calloc(n ? n : 1, sizeof(*list));
    if (!list) {
        json_decref(names);
        fprintf(stderr, "isyncsf: error: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        const char *name = json_string_value(json_array_get(names, i));
        list[i].name = name ? name : "";
    }
    struct test_run r = {cli,
                         list,
                         n,
                         0,
                         0,
                         n > 0 && !cli->quiet && isatty(STDERR_FILENO),
                         PTHREAD_MUTEX_INITIALIZER};
    if ((size_t)jobs > n)
        jobs = (int)n;
    if (n)
        run_jobs(&r, jobs);

    int worst = 0;
    for (size_t i = 0; i < n; i++) {
        int code = list[i].st == ISF_OK ? 0 : isf_exit_code(list[i].st);
        if (list[i].st != ISF_OK && !code)
            code = 1;
        if (list[i].st != ISF_OK && !cli->json)
            fprintf(stderr, "isyncsf: error: %s\n", list[i].err.message);
        /* The worst outcome decides the exit code; any failure is at least 1. */
        if (code > worst)
            worst = code;
    }
    if (cli->json)
        print_json(cli, list, n, !all && a.npos == 1);
    else if (!cli->quiet && n)
        print_table(cli, list, n);
    for (size_t i = 0; i < n; i++)
        free(list[i].org_json);
    free(list);
    json_decref(names);
    pthread_mutex_destroy(&r.mu);
    return worst;
}
