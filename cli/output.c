/* Human output: an org's details, the org table, status colours (none when piped, with
 * NO_COLOR or --no-color). JSON output is the library's JSON, printed as is. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *status_color(struct cli *cli, const char *status)
{
    if (!cli->color || !status)
        return "";
    if (strcmp(status, "connected") == 0)
        return "\033[32m";
    if (strcmp(status, "failing") == 0)
        return "\033[33m";
    if (strcmp(status, "expired") == 0)
        return "\033[31m";
    return "\033[90m";
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
    if (cli->json) {
        printf("%s\n", list_json);
        return;
    }
    json_t *arr = json_loads(list_json, 0, NULL);
    if (!json_array_size(arr)) {
        if (!cli->quiet)
            fprintf(stderr, "no orgs; add one with isyncsf org add NAME --login-url URL ...\n");
        json_decref(arr);
        return;
    }
    printf("%-24s %-14s %-20s %-10s %-32s %s\n", "NAME", "STATUS", "MODE", "ENV", "ORG", "PACKAGE");
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o)
    {
        const char *status = s(o, "status");
        char org[64], pkg[64];
        snprintf(org, sizeof(org), "%s %s", s(o, "org_name"), s(o, "org_id"));
        package_text(o, pkg, sizeof(pkg));
        printf("%-24s %s●%s %-12s %-20s %-10s %-32s %s\n", s(o, "name"), status_color(cli, status),
               color_reset(cli), status, s(o, "mode"), env_badge(o), org, pkg);
    }
    json_decref(arr);
}
