/* Human output: an org's details, the org table, status colours (none when piped, with
 * NO_COLOR or --no-color; ISYNCSF_COLOR=always|never overrides the terminal test, NO_COLOR
 * still wins). JSON output is the library's JSON, printed as is. */
#include "cli.h"
#include "table.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *status_color(struct cli *cli, const char *status)
{
    return cli->color ? table_status_color(status) : "";
}

const char *color_reset(struct cli *cli)
{
    return cli->color ? "\033[0m" : "";
}

static const char *s(json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : "-";
}

static const char *env_badge(json_t *o)
{
    const char *e = json_string_value(json_object_get(o, "environment"));
    if (!e)
        return "-";
    return strcmp(e, "production") == 0 ? "PRODUCTION"
           : strcmp(e, "sandbox") == 0  ? "SANDBOX"
                                        : "SCRATCH";
}

static void package_text(json_t *o, char *buf, size_t len)
{
    json_t *pkg = json_object_get(o, "package");
    json_t *inst = json_object_get(pkg, "installed");
    const char *ns = json_string_value(json_object_get(pkg, "namespace"));
    const char *ver = json_string_value(json_object_get(pkg, "version"));
    if (json_is_true(inst))
        snprintf(buf, len, "%s %s", ns ? ns : "", ver ? ver : "installed");
    else if (json_is_false(inst))
        snprintf(buf, len, "missing");
    else
        snprintf(buf, len, "unknown");
}

void out_org(struct cli *cli, const char *org_json, const char *headline)
{
    if (cli->json) {
        printf("%s\n", org_json);
        return;
    }
    if (cli->quiet)
        return;
    json_t *o = json_loads(org_json, 0, NULL);
    if (!o)
        return;
    const char *status = s(o, "status");
    if (headline)
        printf("%s: %s\n", s(o, "name"), headline);
    printf("%s  %s●%s %s\n", s(o, "name"), status_color(cli, status), color_reset(cli), status);
    const char *detail = json_string_value(json_object_get(o, "status_detail"));
    if (detail)
        printf("  %-14s %s\n", "detail", detail);
    printf("  %-14s %s\n", "mode", s(o, "mode"));
    const char *desc = json_string_value(json_object_get(o, "description"));
    if (desc)
        printf("  %-14s %s\n", "description", desc);
    printf("  %-14s %s\n", "login URL", s(o, "login_url"));
    printf("  %-14s %s\n", "instance URL", s(o, "instance_url"));
    printf("  %-14s %s (%s)  %s  %s\n", "org", s(o, "org_name"), s(o, "org_id"), env_badge(o),
           s(o, "org_type"));
    printf("  %-14s %s\n", "user", s(o, "username"));
    char pkg[128];
    package_text(o, pkg, sizeof(pkg));
    const char *reason =
        json_string_value(json_object_get(json_object_get(o, "package"), "reason"));
    printf("  %-14s %s%s%s\n", "package", pkg, reason ? " — " : "", reason ? reason : "");
    json_t *tok = json_object_get(o, "token");
    printf("  %-14s issued %s, expires %s%s\n", "token", s(tok, "issued_at"), s(tok, "expires_at"),
           json_is_true(json_object_get(o, "has_refresh_token")) ? ", refresh token held" : "");
    printf("  %-14s %s\n", "connected at", s(o, "connected_at"));
    printf("  %-14s %s\n", "last tested", s(o, "last_tested_at"));
    json_decref(o);
}

void out_org_list(struct cli *cli, const char *list_json)
{
    printf("%s\n", list_json); /* --json: the library's array, as is (the table: out_org_table) */
    (void)cli;
}

int out_color(const struct cli *cli)
{
    return cli->color; /* decided once in main() */
}

void out_org_table(struct cli *cli, const struct isf_org_row *rows, size_t n, int width)
{
    if (!n) {
        if (!cli->quiet)
            fprintf(stderr, "no orgs; add one with isyncsf org add NAME --login-url URL ...\n");
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    table_print_orgs(stdout, rows, n, table_width(width, STDOUT_FILENO), out_color(cli),
                     (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}
