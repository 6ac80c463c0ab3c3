/* Command flag parsing: --name VALUE, --name=VALUE, and positionals; "--" ends flags. */
#include "cli.h"

#include <string.h>

static const struct cli_flag *find_flag(const struct cli_flag *flags, const char *name, size_t n)
{
    for (const struct cli_flag *f = flags; f && f->name; f++)
        if (strlen(f->name) == n && strncmp(f->name, name, n) == 0)
            return f;
    return NULL;
}

int cli_parse(struct cli *cli, int argc, char **argv, const struct cli_flag *flags,
              struct cli_args *out, const char *usage)
{
    memset(out, 0, sizeof(*out));
    int only_pos = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!only_pos && strcmp(a, "--") == 0) {
            only_pos = 1;
            continue;
        }
        if (!only_pos && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
            printf("%s", usage);
            return -1;
        }
        if (only_pos || a[0] != '-' || a[1] == '\0') {
            if (out->npos == CLI_MAX_ARGS)
                return cli_usage_error(cli, usage, "too many arguments");
            out->pos[out->npos++] = a;
            continue;
        }
        if (a[1] != '-')
            return cli_usage_error(cli, usage, "unknown flag '%s'", a);
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t n = eq ? (size_t)(eq - name) : strlen(name);
        const struct cli_flag *f = find_flag(flags, name, n);
        if (!f)
            return cli_usage_error(cli, usage, "unknown flag '--%.*s'", (int)n, name);
        if (out->nflags == CLI_MAX_ARGS)
            return cli_usage_error(cli, usage, "too many flags");
        const char *value = NULL;
        if (f->has_value) {
            if (eq)
                value = eq + 1;
            else if (i + 1 < argc)
                value = argv[++i];
            else
                return cli_usage_error(cli, usage, "--%s needs a value", f->name);
        } else if (eq) {
            return cli_usage_error(cli, usage, "--%s takes no value", f->name);
        }
        out->names[out->nflags] = f->name;
        out->values[out->nflags++] = value;
    }
    return 0;
}

const char *cli_get(const struct cli_args *a, const char *name)
{
    const char *v = NULL;
    for (int i = 0; i < a->nflags; i++) /* the last one given wins, as in most tools */
        if (strcmp(a->names[i], name) == 0)
            v = a->values[i];
    return v;
}

int cli_has(const struct cli_args *a, const char *name)
{
    for (int i = 0; i < a->nflags; i++)
        if (strcmp(a->names[i], name) == 0)
            return 1;
    return 0;
}

int cli_org_filter(struct cli *cli, const struct cli_args *a, const char *usage,
                   struct isf_org_filter *out)
{
    static const char *const envs[] = {"production", "sandbox", "scratch", NULL};
    static const char *const statuses[] = {"new",     "connected",    "failing",
                                           "expired", "disconnected", NULL};
    const char *env = cli_get(a, "env");
    const char *status = cli_get(a, "status");
    int env_ok = !env, status_ok = !status;
    for (const char *const *e = envs; env && *e; e++)
        env_ok |= strcmp(env, *e) == 0;
    for (const char *const *s = statuses; status && *s; s++)
        status_ok |= strcmp(status, *s) == 0;
    if (!env_ok)
        return cli_usage_error(cli, usage, "--env must be production, sandbox or scratch");
    if (!status_ok)
        return cli_usage_error(cli, usage,
                               "--status must be new, connected, failing, expired or "
                               "disconnected");
    *out = (struct isf_org_filter){sizeof(*out), cli_get(a, "filter"), status, cli_get(a, "mode"),
                                   env};
    return 0;
}
