/* isyncsf plugins, isyncsf key rotate, isyncsf org names (hidden, for completion). */
#include "cli.h"
#include "help.h"

#include <stdlib.h>
#include <string.h>

/* -v: each plugin's declared options, as they go under `options:` in the config. */
static void print_options(json_t *opts)
{
    size_t i;
    json_t *o;
    json_array_foreach(opts, i, o)
    {
        const char *def = json_string_value(json_object_get(o, "default"));
        const char *desc = json_string_value(json_object_get(o, "description"));
        printf("    option %s (%s%s%s%s): %s\n", json_string_value(json_object_get(o, "name")),
               json_string_value(json_object_get(o, "type")),
               json_is_true(json_object_get(o, "required")) ? ", required" : "",
               def && *def ? ", default " : "", def && *def ? def : "", desc ? desc : "");
    }
}

int cmd_plugins(struct cli *cli, int argc, char **argv)
{
    struct cli_args a;
    int rc = cli_parse(cli, argc, argv, NULL, &a, help_text("plugins"));
    if (rc)
        return rc < 0 ? 0 : rc;
    if (a.npos)
        return cli_usage_error(cli, help_text("plugins"), "plugins takes no arguments");
    if ((rc = cli_open(cli)) != 0)
        return rc;
    char *json = NULL;
    struct isf_error err;
    if (isf_plugins_json(cli->ctx, &json, &err) != ISF_OK)
        return cli_fail(cli, &err, NULL);
    json_t *arr = json_loads(json, 0, NULL);
    int failed = 0;
    size_t i;
    json_t *p;
    json_array_foreach(arr, i, p)
    {
        failed |= json_is_string(json_object_get(p, "error"));
    }
    if (cli->json) {
        printf("%s\n", json);
    } else {
        printf("%-28s %-6s %-8s %-4s %s\n", "NAME", "KIND", "VERSION", "ABI", "PATH");
        json_array_foreach(arr, i, p)
        {
            const char *err_text = json_string_value(json_object_get(p, "error"));
            const char *kind = json_string_value(json_object_get(p, "kind"));
            const char *ver = json_string_value(json_object_get(p, "version"));
            const char *abi = json_string_value(json_object_get(p, "abi"));
            const char *path = json_string_value(json_object_get(p, "path"));
            printf("%-28s %-6s %-8s %-4s %s\n", json_string_value(json_object_get(p, "name")),
                   kind ? kind : "-", ver ? ver : "-", abi ? abi : "-", path ? path : "-");
            if (err_text)
                printf("  FAILED: %s\n", err_text);
            if (cli->verbose)
                print_options(json_object_get(p, "options"));
        }
    }
    free(json);
    json_decref(arr);
    return failed ? 6 : 0;
}

int cmd_key(struct cli *cli, int argc, char **argv)
{
    static const struct cli_flag flags[] = {{"new-key-env", 1}, {NULL, 0}};
    struct cli_args a;
    int rc = cli_parse(cli, argc, argv, flags, &a, help_text("key rotate"));
    if (rc)
        return rc < 0 ? 0 : rc;
    if (a.npos != 1 || strcmp(a.pos[0], "rotate") != 0)
        return cli_usage_error(cli, help_text("key rotate"), "key needs the subcommand 'rotate'");
    if ((rc = cli_open(cli)) != 0)
        return rc;
    int count = 0;
    struct isf_error err;
    if (isf_key_rotate(cli->ctx, cli_get(&a, "new-key-env"), &count, &err) != ISF_OK)
        return cli_fail(cli, &err, NULL);
    if (cli->json)
        printf("{\"rotated\":true,\"records_resealed\":%d}\n", count);
    else if (!cli->quiet)
        printf("master key rotated; %d record(s) re-encrypted\n", count);
    return 0;
}

/* Every org name, one a line, unreadable records included; reads only the store. Shell
 * completion calls it, so it is quiet: no diagnostics unless -v. */
int cmd_org_names(struct cli *cli, int argc, char **argv)
{
    struct cli_args a;
    int rc = cli_parse(cli, argc, argv, NULL, &a, help_text("org names"));
    if (rc)
        return rc < 0 ? 0 : rc;
    if (a.npos)
        return cli_usage_error(cli, help_text("org names"), "org names takes no arguments");
    if ((rc = cli_open(cli)) != 0)
        return rc;
    char *list = NULL, *bad = NULL;
    struct isf_error err;
    if (isf_org_list_json(cli->ctx, NULL, &list, &bad, &err) != ISF_OK)
        return cli_fail(cli, &err, NULL);
    json_t *arr = json_loads(list, 0, NULL);
    json_t *badarr = bad ? json_loads(bad, 0, NULL) : NULL;
    json_t *names = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        json_array_append(names, json_object_get(v, "name"));
    }
    json_array_foreach(badarr, i, v)
    {
        json_array_append(names, json_object_get(v, "org"));
    }
    if (cli->json) {
        char *text = json_dumps(names, JSON_COMPACT);
        printf("%s\n", text ? text : "[]");
        free(text);
    } else {
        json_array_foreach(names, i, v)
        {
            if (json_is_string(v))
                printf("%s\n", json_string_value(v));
        }
    }
    json_decref(names);
    json_decref(arr);
    json_decref(badarr);
    free(list);
    free(bad);
    return 0;
}
