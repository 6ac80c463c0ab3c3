/* isyncsf: keep authenticated connections to many Salesforce orgs. Entry point: global flags,
 * command dispatch, exit codes (cli-contract.md). */
#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char main_usage[] =
    "usage: isyncsf [--config PATH] [--json] [-q|--quiet] [-v|--verbose] [--no-color] COMMAND\n"
    "\n"
    "commands:\n"
    "  org add NAME [--mode M] [--login-url URL] [--client-id ID]\n"
    "          [--client-secret-stdin | --client-secret-env VAR | --client-secret-file F]\n"
    "          [--redirect-uri URI] [--scope S] [--named-credential NC] [--description T]\n"
    "  org edit NAME [same flags]\n"
    "  org connect NAME [--no-browser] [--timeout SEC]\n"
    "  org test NAME... | --all\n"
    "  org show NAME\n"
    "  org list [--filter TEXT] [--status S] [--mode M] [--env production|sandbox|scratch]\n"
    "  org token NAME\n"
    "  org disconnect NAME [--local-only]\n"
    "  org remove NAME [--local-only]\n"
    "  plugins\n"
    "  key rotate [--new-key-env VAR]\n"
    "\n"
    "exit codes: 0 ok, 1 failure, 2 usage, 3 not found, 4 authentication needs a person,\n"
    "            5 org unreachable or passing error, 6 config or plugin, 7 store or key\n";

static void log_to_stderr(void *arg, int level, const char *msg)
{
    (void)arg;
    static const char *const names[] = {"error", "warning", "info", "debug"};
    fprintf(stderr, "isyncsf: %s: %s\n", names[level < 0 ? 0 : level > 3 ? 3 : level], msg);
}

int cli_open(struct cli *cli)
{
    if (cli->ctx)
        return 0;
    struct isf_open_options o = {sizeof(o), cli->config,
                                 cli->verbose ? ISF_LOG_DEBUG
                                 : cli->quiet ? ISF_LOG_ERROR
                                              : ISF_LOG_WARN,
                                 log_to_stderr, NULL};
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
            cli->color = 0;
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

int main(int argc, char **argv)
{
    struct cli cli = {0};
    const char *no_color = getenv("NO_COLOR");
    cli.color = isatty(STDOUT_FILENO) && !(no_color && *no_color);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--version") == 0) {
            printf("isyncsf %s\n", isf_version());
            return 0;
        }
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0 ||
            (i == 1 && strcmp(argv[i], "help") == 0)) {
            if (i == 1 || strcmp(argv[1], "help") == 0) {
                printf("%s", main_usage);
                return 0;
            }
            break; /* a command's --help: the command prints its own usage */
        }
    }
    int rc = take_global(&cli, &argc, argv);
    if (rc)
        return rc;
    if (argc < 2)
        return cli_usage_error(&cli, main_usage, "no command given");
    const char *cmd = argv[1];
    if (strcmp(cmd, "org") == 0)
        rc = cmd_org(&cli, argc - 2, argv + 2);
    else if (strcmp(cmd, "plugins") == 0)
        rc = cmd_plugins(&cli, argc - 2, argv + 2);
    else if (strcmp(cmd, "key") == 0)
        rc = cmd_key(&cli, argc - 2, argv + 2);
    else
        rc = cli_usage_error(&cli, main_usage, "unknown command '%s'", cmd);
    isf_close(cli.ctx);
    return rc;
}
