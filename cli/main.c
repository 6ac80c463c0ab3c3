/* isyncsf: keep authenticated connections to many Salesforce orgs. Entry point: global flags,
 * command dispatch, exit codes (cli-contract.md). */
#include "cli.h"
#include "help.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define main_usage help_text("")

static void log_to_stderr(void *arg, int level, const char *msg)
{
    (void)arg;
    static const char *const names[] = {"error", "warning", "info", "debug"};
    fprintf(stderr, "isyncsf: %s: %s\n", names[level < 0 ? 0 : level > 3 ? 3 : level], msg);
}

void cli_open_options(const struct cli *cli, struct isf_open_options *o)
{
    struct isf_open_options d = {sizeof(d), cli->config,
                                 cli->verbose ? ISF_LOG_DEBUG
                                 : cli->quiet ? ISF_LOG_ERROR
                                              : ISF_LOG_WARN,
                                 log_to_stderr, NULL};
    *o = d;
}

int cli_open(struct cli *cli)
{
    if (cli->ctx)
        return 0;
    struct isf_open_options o;
    cli_open_options(cli, &o);
    struct isf_error err;
    int rc = isf_open(&o, &cli->ctx, &err);
    return rc == ISF_OK ? 0 : cli_fail(cli, &err, NULL);
}

int cli_fail(struct cli *cli, const struct isf_error *err, const char *org)
{
    int code = isf_exit_code(err->code);
    if (cli->json) {
        json_t *e = json_pack("{s:s, s:s, s:o}", "code", isf_status_name(err->code), "message",
                              err->message, "org", org ? json_string(org) : json_null());
        json_t *root = json_pack("{s:o}", "error", e);
        char *text = json_dumps(root, JSON_COMPACT);
        if (text)
            printf("%s\n", text);
        free(text);
        json_decref(root);
    } else {
        fprintf(stderr, "isyncsf: error: %s\n", err->message);
    }
    return code ? code : 1;
}

int cli_usage_error(struct cli *cli, const char *usage, const char *fmt, ...)
{
    struct isf_error err = {sizeof(err), ISF_E_USAGE, ""};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err.message, sizeof(err.message), fmt, ap);
    va_end(ap);
    cli_fail(cli, &err, NULL);
    if (!cli->json && usage)
        fprintf(stderr, "%s", usage);
    return 2;
}

/* Global flags may stand anywhere; they are taken out of argv here. */
static int take_global(struct cli *cli, int *argc, char **argv)
{
    int out = 1;
    for (int i = 1; i < *argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--json") == 0) {
            cli->json = 1;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            cli->quiet = 1;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            cli->verbose = 1;
        } else if (strcmp(a, "--no-color") == 0) {
            cli->no_color = 1;
        } else if (strcmp(a, "--config") == 0) {
            if (i + 1 >= *argc)
                return cli_usage_error(cli, main_usage, "--config needs a PATH");
            cli->config = argv[++i];
        } else if (strncmp(a, "--config=", 9) == 0) {
            cli->config = a + 9;
        } else {
            argv[out++] = argv[i];
        }
    }
    *argc = out;
    argv[out] = NULL;
    return 0;
}

/* --help or -h anywhere before "--": the help of the command words that come first. */
static int wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return 0;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct cli cli = {0};
    const char *no_color = getenv("NO_COLOR"), *force = getenv("ISYNCSF_COLOR");
    cli.no_color = (no_color && *no_color) || (force && strcmp(force, "never") == 0);
    cli.force_color = force && strcmp(force, "always") == 0;
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "--version") == 0) {
            printf("isyncsf %s\n", isf_version());
            return 0;
        }
    }
    int rc = take_global(&cli, &argc, argv);
    if (rc)
        return rc;
    /* NO_COLOR and --no-color win over everything; ISYNCSF_COLOR=always over the terminal test. */
    cli.color = !cli.no_color && (cli.force_color || isatty(STDOUT_FILENO));
    if (wants_help(argc, argv)) {
        /* `isyncsf X --help` prints exactly what `isyncsf help X` prints (help.c). */
        const char *text = argc < 2 || argv[1][0] == '-'  ? main_usage
                           : strcmp(argv[1], "help") == 0 ? help_text("help")
                                                          : help_for_words(argc - 1, argv + 1);
        if (!text)
            return cli_usage_error(&cli, main_usage, "unknown command '%s'", argv[1]);
        printf("%s", text);
        return 0;
    }
    if (argc < 2)
        return cli_usage_error(&cli, main_usage, "no command given");
    const char *cmd = argv[1];
    if (strcmp(cmd, "help") == 0)
        rc = cmd_help(&cli, argc - 2, argv + 2);
    else if (strcmp(cmd, "org") == 0 && argc > 2 && strcmp(argv[2], "names") == 0)
        rc = cmd_org_names(&cli, argc - 3, argv + 3);
    else if (strcmp(cmd, "org") == 0)
        rc = cmd_org(&cli, argc - 2, argv + 2);
    else if (strcmp(cmd, "refresh") == 0)
        rc = cmd_refresh(&cli, argc - 2, argv + 2);
    else if (strcmp(cmd, "daemon") == 0)
        rc = cmd_daemon(&cli, argc - 2, argv + 2);
    else if (strcmp(cmd, "plugins") == 0)
        rc = cmd_plugins(&cli, argc - 2, argv + 2);
    else if (strcmp(cmd, "key") == 0)
        rc = cmd_key(&cli, argc - 2, argv + 2);
    else
        rc = cli_usage_error(&cli, main_usage, "unknown command '%s'", cmd);
    isf_close(cli.ctx);
    return rc;
}
