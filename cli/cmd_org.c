/* isyncsf org ...: the OrgMaster commands. */
#include "cli.h"
#include "table.h"
#include "help.h"
#include "select.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static const struct cli_flag settings_flags[] = {{"mode", 1},
                                                 {"login-url", 1},
                                                 {"client-id", 1},
                                                 {"client-secret-stdin", 0},
                                                 {"client-secret-env", 1},
                                                 {"client-secret-file", 1},
                                                 {"redirect-uri", 1},
                                                 {"scope", 1},
                                                 {"named-credential", 1},
                                                 {"description", 1},
                                                 {"session-ttl", 1},
                                                 {NULL, 0}};

static int one_name(struct cli *cli, const struct cli_args *a, const char *what)
{
    if (a->npos != 1)
        return cli_usage_error(cli, help_text("org"), "org %s needs exactly one NAME", what);
    return 0;
}

/* Print the org after a change (JSON: the org object; text: a headline or the details). */
static int show_after(struct cli *cli, const char *name, const char *headline)
{
    char *json = NULL;
    struct isf_error err;
    if (isf_org_show_json(cli->ctx, name, &json, &err) != ISF_OK)
        return cli_fail(cli, &err, name);
    out_org(cli, json, headline);
    free(json);
    return 0;
}

static int org_add_edit(struct cli *cli, int argc, char **argv, int is_add)
{
    struct cli_args a;
    int rc = cli_parse(cli, argc, argv, settings_flags, &a, help_text("org"));
    if (rc)
        return rc < 0 ? 0 : rc;
    if ((rc = one_name(cli, &a, is_add ? "add" : "edit")) != 0)
        return rc;
    int64_t ttl = 0;
    const char *ttl_text = cli_get(&a, "session-ttl");
    if (ttl_text) {
        char *end;
        long long v = strtoll(ttl_text, &end, 10);
        if (!*ttl_text || *end || (v != 0 && (v < 60 || v > 604800)))
            return cli_usage_error(cli, help_text("org"),
                                   "--session-ttl needs seconds from 60 to 604800, or 0 for the "
                                   "config's refresh.session_ttl_s");
        ttl = v ? v : -1;
    }
    char *secret = NULL;
    if ((rc = read_client_secret(cli, &a, &secret, help_text("org"))) != 0)
        return rc;
    if ((rc = cli_open(cli)) != 0)
        goto done;
    struct isf_org_settings s = {sizeof(s),
                                 cli_get(&a, "mode"),
                                 cli_get(&a, "login-url"),
                                 cli_get(&a, "client-id"),
                                 secret,
                                 cli_get(&a, "redirect-uri"),
                                 cli_get(&a, "scope"),
                                 cli_get(&a, "named-credential"),
                                 cli_get(&a, "description"),
                                 ttl};
    struct isf_error err;
    int st = is_add ? isf_org_add(cli->ctx, a.pos[0], &s, &err)
                    : isf_org_edit(cli->ctx, a.pos[0], &s, &err);
    if (st != ISF_OK) {
        rc = cli_fail(cli, &err, a.pos[0]);
        goto done;
    }
    rc = show_after(cli, a.pos[0], is_add ? "added" : "updated");
done:
    cli_free_secret(secret);
    return rc;
}

static int org_connect(struct cli *cli, int argc, char **argv)
{
    static const struct cli_flag flags[] = {{"no-browser", 0}, {"timeout", 1}, {NULL, 0}};
    struct cli_args a;
    int rc = cli_parse(cli, argc, argv, flags, &a, help_text("org"));
    if (rc)
        return rc < 0 ? 0 : rc;
    if ((rc = one_name(cli, &a, "connect")) != 0)
        return rc;
    struct isf_connect_options o = {sizeof(o), cli_has(&a, "no-browser"), 0};
    const char *t = cli_get(&a, "timeout");
    if (t) {
        char *end;
        long v = strtol(t, &end, 10);
        if (*end || v <= 0 || v > 86400)
            return cli_usage_error(cli, help_text("org"), "--timeout needs seconds (1..86400)");
        o.timeout_s = (int)v;
    }
    if ((rc = cli_open(cli)) != 0)
        return rc;
    struct isf_error err;
    if (isf_org_connect(cli->ctx, a.pos[0], &o, &err) != ISF_OK)
        return cli_fail(cli, &err, a.pos[0]);
    return show_after(cli, a.pos[0], "connected");
}

static int org_show(struct cli *cli, int argc, char **argv)
{
    struct cli_args a;
    int rc = cli_parse(cli, argc, argv, NULL, &a, help_text("org"));
    if (rc)
        return rc < 0 ? 0 : rc;
    if ((rc = one_name(cli, &a, "show")) != 0 || (rc = cli_open(cli)) != 0)
        return rc;
    return show_after(cli, a.pos[0], NULL);
}

static int org_list(struct cli *cli, int argc, char **argv)
{
    static const struct cli_flag flags[] = {{"filter", 1}, {"status", 1}, {"mode", 1},
                                            {"env", 1},    {"width", 1},  {NULL, 0}};
    struct cli_args a;
    int rc = cli_parse(cli, argc, argv, flags, &a, help_text("org"));
    if (rc)
        return rc < 0 ? 0 : rc;
    if (a.npos)
        return cli_usage_error(cli, help_text("org"), "org list takes no NAME (use --filter)");
    /* --width N (not in the usage: for tests and scripts) renders the table N columns wide. */
    const char *width_arg = cli_get(&a, "width");
    char *width_end = NULL;
    long width = width_arg ? strtol(width_arg, &width_end, 10) : 0;
    if (width_arg && (*width_end || width < 20 || width > 10000))
        return cli_usage_error(cli, help_text("org"),
                               "--width needs a number of columns (20..10000)");
    struct isf_org_filter f;
    if ((rc = cli_org_filter(cli, &a, help_text("org"), &f)) != 0)
        return rc;
    if ((rc = cli_open(cli)) != 0)
        return rc;
    char *list = NULL, *bad = NULL;
    struct isf_org_row *rows = NULL;
    size_t nrows = 0;
    struct isf_error err;
    int st = cli->json ? isf_org_list_json(cli->ctx, &f, &list, &bad, &err)
                       : isf_org_list_rows(cli->ctx, &f, &rows, &nrows, &bad, &err);
    if (st != ISF_OK)
        return cli_fail(cli, &err, NULL);
    if (cli->json)
        out_org_list(cli, list);
    else
        out_org_table(cli, rows, nrows, (int)width);
    isf_org_rows_free(rows, nrows);
    rc = 0;
    if (bad) {
        /* Unreadable records are named on stderr and make the exit code 7, but every readable
         * org is still listed. */
        json_t *arr = json_loads(bad, 0, NULL);
        size_t i;
        json_t *v;
        json_array_foreach(arr, i, v)
        {
            fprintf(stderr, "isyncsf: error: %s\n",
                    json_string_value(json_object_get(v, "message")));
        }
        json_decref(arr);
        rc = 7;
    }
    free(list);
    free(bad);
    return rc;
}

static int org_token(struct cli *cli, int argc, char **argv)
{
    struct cli_args a;
    int rc = cli_parse(cli, argc, argv, NULL, &a, help_text("org"));
    if (rc)
        return rc < 0 ? 0 : rc;
    if ((rc = one_name(cli, &a, "token")) != 0 || (rc = cli_open(cli)) != 0)
        return rc;
    struct isf_token t;
    struct isf_error err;
    if (isf_org_token(cli->ctx, a.pos[0], &t, &err) != ISF_OK)
        return cli_fail(cli, &err, a.pos[0]);
    if (cli->json) {
        char expires[32] = "";
        if (t.expires_at_ms > 0) {
            time_t secs = (time_t)(t.expires_at_ms / 1000);
            struct tm tm;
            gmtime_r(&secs, &tm);
            strftime(expires, sizeof(expires), "%Y-%m-%dT%H:%M:%SZ", &tm);
        }
        json_t *o = json_pack("{s:s, s:s, s:o}", "access_token", t.access_token, "instance_url",
                              t.instance_url, "expires_at",
                              expires[0] ? json_string(expires) : json_null());
        char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
        if (text) {
            printf("%s\n", text);
            cli_free_secret(text);
        }
        /* jansson copied the token: wipe its copy before freeing the object. */
        json_t *tok = json_object_get(o, "access_token");
        if (tok)
            explicit_bzero((char *)json_string_value(tok), json_string_length(tok));
        json_decref(o);
    } else {
        printf("%s\n", t.access_token);
    }
    fflush(stdout);
    isf_token_clear(&t);
    return 0;
}

static int org_disconnect_remove(struct cli *cli, int argc, char **argv, int remove)
{
    static const struct cli_flag flags[] = {{"local-only", 0}, {NULL, 0}};
    struct cli_args a;
    int rc = cli_parse(cli, argc, argv, flags, &a, help_text("org"));
    if (rc)
        return rc < 0 ? 0 : rc;
    if ((rc = one_name(cli, &a, remove ? "remove" : "disconnect")) != 0 ||
        (rc = cli_open(cli)) != 0)
        return rc;
    int local = cli_has(&a, "local-only");
    struct isf_error err;
    if (remove) {
        if (isf_org_remove(cli->ctx, a.pos[0], local, &err) != ISF_OK)
            return cli_fail(cli, &err, a.pos[0]);
        if (cli->json)
            printf("{\"name\":\"%s\",\"removed\":true}\n", a.pos[0]);
        else if (!cli->quiet)
            printf("removed %s\n", a.pos[0]);
        return 0;
    }
    int revoked = 0;
    if (isf_org_disconnect(cli->ctx, a.pos[0], local, &revoked, &err) != ISF_OK)
        return cli_fail(cli, &err, a.pos[0]);
    return show_after(cli, a.pos[0],
                      revoked ? "disconnected (tokens revoked at the org)" : "disconnected");
}

int cmd_org(struct cli *cli, int argc, char **argv)
{
    if (argc < 1)
        return cli_usage_error(cli, help_text("org"), "org needs a subcommand");
    const char *sub = argv[0];
    argc--;
    argv++;
    if (strcmp(sub, "add") == 0)
        return org_add_edit(cli, argc, argv, 1);
    if (strcmp(sub, "edit") == 0)
        return org_add_edit(cli, argc, argv, 0);
    if (strcmp(sub, "connect") == 0)
        return org_connect(cli, argc, argv);
    if (strcmp(sub, "test") == 0)
        return cmd_org_test(cli, argc, argv); /* cmd_test.c */
    if (strcmp(sub, "show") == 0)
        return org_show(cli, argc, argv);
    if (strcmp(sub, "list") == 0)
        return org_list(cli, argc, argv);
    if (strcmp(sub, "select") == 0)
        return org_select(cli, argc, argv);
    if (strcmp(sub, "token") == 0)
        return org_token(cli, argc, argv);
    if (strcmp(sub, "disconnect") == 0)
        return org_disconnect_remove(cli, argc, argv, 0);
    if (strcmp(sub, "remove") == 0)
        return org_disconnect_remove(cli, argc, argv, 1);
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "help") == 0) {
        printf("%s", help_text("org")); /* the one text `isyncsf help org` prints */
        return 0;
    }
    return cli_usage_error(cli, help_text("org"), "unknown org subcommand '%s'", sub);
}
