/* The isyncsf command line: shared declarations of the front end. */
#ifndef ISF_CLI_H
#define ISF_CLI_H

#include <isyncsf/isyncsf.h>
#include <jansson.h>
#include <stdio.h>

/* Global flags. */
struct cli {
    const char *config;
    int json, quiet, verbose;
    int color;       /* colour on stdout: decided once in main() */
    int no_color;    /* --no-color, NO_COLOR or ISYNCSF_COLOR=never */
    int force_color; /* ISYNCSF_COLOR=always (tests, pagers that keep escapes) */
    isf_ctx *ctx;
};

/* Parsed command arguments: positionals and --flags of the command. */
#define CLI_MAX_ARGS 64
struct cli_args {
    const char *pos[CLI_MAX_ARGS];
    int npos;
    const char *names[CLI_MAX_ARGS];
    const char *values[CLI_MAX_ARGS]; /* NULL for a flag without value */
    int nflags;
};

/* A command's flags: name without dashes, and whether it takes a value. */
struct cli_flag {
    const char *name;
    int has_value;
};

/* Parse argv (after the command words) against a command's flag table. Unknown flag or missing
 * value → prints a usage error and returns 2. */
int cli_parse(struct cli *cli, int argc, char **argv, const struct cli_flag *flags,
              struct cli_args *out, const char *usage);
const char *cli_get(const struct cli_args *a, const char *name); /* value, or NULL */
int cli_has(const struct cli_args *a, const char *name);

/* The org filter flags shared by `org list` and `org select` (--filter, --status, --mode, --env),
 * checked; a bad value prints a usage error with `usage` and returns 2. */
int cli_org_filter(struct cli *cli, const struct cli_args *a, const char *usage,
                   struct isf_org_filter *out);

/* Report a failure from the library (JSON or text) and return its exit code. */
int cli_fail(struct cli *cli, const struct isf_error *err, const char *org);
/* Report a usage error (exit 2). */
int cli_usage_error(struct cli *cli, const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Open the library context on demand. */
int cli_open(struct cli *cli);

/* Output helpers (output.c). */
void out_org(struct cli *cli, const char *org_json, const char *headline);
void out_org_list(struct cli *cli, const char *list_json);
const char *status_color(struct cli *cli, const char *status);
const char *color_reset(struct cli *cli);

/* Commands. */
int cmd_org(struct cli *cli, int argc, char **argv);
int cmd_plugins(struct cli *cli, int argc, char **argv);
int cmd_key(struct cli *cli, int argc, char **argv);

/* Secret input (secret.c): exactly one of the three --client-secret-* flags, or none. Returns
 * 0 and *secret (NULL when none given; wipe with isf_free_secret-like cli_free_secret). */
int read_client_secret(struct cli *cli, const struct cli_args *a, char **secret, const char *usage);
void cli_free_secret(char *s);

#endif
