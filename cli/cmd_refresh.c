/* isyncsf refresh [NAME...|--all] [--force] [--jobs N] [--timeout SEC]: the refresh engine on
 * the command line. Results stream as the orgs complete: with --json an array of per-org objects
 * (written as they come, so 10,000 orgs cost no memory here), else one line per failure and a
 * summary. The exit code is the worst outcome's (isf_refresh's status). */
#include "help.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define REFRESH_MAX_JOBS 1024

struct refresh_out {
    struct cli *cli;
    size_t total; /* 0 with --all: not known before the end */
    size_t seen;
    int progress;
};

static const char *outcome_name(int outcome)
{
    static const char *const names[] = {"refreshed", "not_due", "by_other", "skipped", "failed"};
    return outcome >= 0 && outcome <= 4 ? names[outcome] : "failed";
}

static void draw_progress(const struct refresh_out *r)
{
    enum { WIDTH = 30 };
    if (r->total) {
        size_t fill = r->seen * WIDTH / r->total;
        char bar[WIDTH + 1];
        for (size_t i = 0; i < WIDTH; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[WIDTH] = '\0';
        fprintf(stderr, "\r[%s] %zu/%zu", bar, r->seen, r->total);
    } else {
        fprintf(stderr, "\r%zu orgs done", r->seen);
    }
    fflush(stderr);
}

/* RFC 3339 UTC to the second, like every time in the library's JSON. */
static void put_time(json_t *o, const char *key, int64_t ms)
{
    char buf[32];
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (ms > 0 && ms != INT64_MAX && gmtime_r(&t, &tm) &&
        strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm)) {
        json_object_set_new(o, key, json_string(buf));
    } else {
        json_object_set_new(o, key, json_null());
    }
}

static void on_result(void *arg, const struct isf_refresh_result *res)
{
    struct refresh_out *r = arg;
    struct cli *cli = r->cli;
    r->seen++;
    if (r->progress)
        fprintf(stderr, "\r\033[K");
    if (cli->json) {
        json_t *o =
            json_pack("{s:s, s:s}", "org", res->name, "outcome", outcome_name(res->outcome));
        if (res->status != ISF_OK)
            json_object_set_new(o, "status", json_string(isf_status_name(res->status)));
        if (res->message)
            json_object_set_new(o, "message", json_string(res->message));
        put_time(o, "expires_at", res->expires_at_ms);
        put_time(o, "next_due_at", res->next_due_ms);
        json_object_set_new(o, "elapsed_ms", json_integer(res->elapsed_ms));
        json_object_set_new(o, "finished_ms", json_integer(res->finished_ms));
        char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        printf("%s%s", r->seen > 1 ? ",\n" : "[\n", text ? text : "{}");
        free(text);
        json_decref(o);
    } else if (res->outcome == ISF_REFRESH_FAILED ||
               (res->outcome == ISF_REFRESH_SKIPPED && res->status != ISF_OK)) {
        fprintf(cli->quiet ? stderr : stdout, "%s: %s\n", res->name,
                res->message ? res->message : isf_status_name(res->status));
    }
    if (r->progress)
        draw_progress(r);
}

static int parse_positive(const char *v, long max, long *out)
{
    char *end;
    long n = strtol(v, &end, 10);
    if (!*v || *end || n < 1 || n > max)
        return -1;
    *out = n;
    return 0;
}

int cmd_refresh(struct cli *cli, int argc, char **argv)
{
    static const struct cli_flag flags[] = {
        {"all", 0}, {"force", 0}, {"jobs", 1}, {"timeout", 1}, {NULL, 0}};
    const char *usage = help_text("refresh");
    struct cli_args a;
    int rc = cli_parse(cli, argc, argv, flags, &a, usage);
    if (rc)
        return rc < 0 ? 0 : rc;
    int all = cli_has(&a, "all");
    if ((a.npos == 0) == !all)
        return cli_usage_error(cli, usage, "refresh needs NAME... or --all (not both)");
    long jobs = 0, timeout = 0;
    if (cli_get(&a, "jobs") && parse_positive(cli_get(&a, "jobs"), REFRESH_MAX_JOBS, &jobs))
        return cli_usage_error(cli, usage, "--jobs needs a number from 1 to %d", REFRESH_MAX_JOBS);
    if (cli_get(&a, "timeout") && parse_positive(cli_get(&a, "timeout"), 3600, &timeout))
        return cli_usage_error(cli, usage, "--timeout needs seconds from 1 to 3600");
    if ((rc = cli_open(cli)) != 0)
        return rc;
    struct refresh_out out = {cli, all ? 0 : (size_t)a.npos, 0,
                              !cli->quiet && !cli->json && isatty(STDERR_FILENO)};
    struct isf_refresh_options o = {
        .struct_size = sizeof(o),
        .all = all,
        .force = cli_has(&a, "force"),
        .concurrency = (int)jobs,
        .timeout_s = (int)timeout,
        .on_result = on_result,
        .arg = &out,
    };
    struct isf_refresh_summary sum;
    struct isf_error err;
    if (out.progress)
        draw_progress(&out);
    rc = isf_refresh(cli->ctx, a.pos, (size_t)a.npos, &o, &sum, &err);
    if (out.progress)
        fprintf(stderr, "\r\033[K");
    if (cli->json) {
        if (out.seen)
            printf("\n]\n");
        else if (rc == ISF_OK || sum.total == 0)
            printf("[]\n");
        else
            return cli_fail(cli, &err, NULL); /* nothing was attempted: say why */
    } else if (out.seen == 0 && rc != ISF_OK) {
        return cli_fail(cli, &err, NULL);
    } else if (!cli->quiet) {
        printf("refreshed %zu, not due %zu, by another process %zu, skipped %zu, failed %zu\n",
               sum.done, sum.not_due, sum.by_other, sum.skipped, sum.failed);
    }
    fflush(stdout);
    int code = rc == ISF_OK ? 0 : isf_exit_code(rc);
    return rc != ISF_OK && !code ? 1 : code;
}
