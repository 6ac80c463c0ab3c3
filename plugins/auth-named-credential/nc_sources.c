/* Where a credential's token comes from: a helper command (run by the host, with a clean
 * environment and a time limit), an environment variable, or a file readable by its owner only.
 * Errors say which source failed and how; none contains the token or the helper's output. */
#define _GNU_SOURCE /* O_CLOEXEC on older libcs */
#include "nc.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A helper prints one small JSON object; this only stops a runaway. */
#define OUTPUT_CAP ((size_t)1024 * 1024)
#define TOKEN_FILE_MAX 65536
#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

/* The helper's whole environment: enough to find programs (PATH), its configuration (HOME, e.g.
 * ~/.sfdx for the Salesforce CLI), its language and a scratch folder; nothing else of ours, since
 * the caller's variables may hold secrets (a client secret in --client-secret-env, a CI token). */
static const char *const passed_env[] = {"HOME", "LANG", "LC_ALL", "TMPDIR", NULL};

void nc_token_clear(const struct isf_host *h, struct nc_token *t)
{
    h->free_secret(h, t->access_token, 0);
    h->free(h, t->instance_url);
    memset(t, 0, sizeof(*t));
}

static char *env_entry(const struct isf_host *h, const char *name, const char *value)
{
    size_t n = strlen(name) + strlen(value) + 2;
    char *e = h->alloc(h, n);
    if (e)
        snprintf(e, n, "%s=%s", name, value);
    return e;
}

static void free_env(const struct isf_host *h, char **envp)
{
    for (size_t i = 0; envp && envp[i]; i++)
        h->free(h, envp[i]);
    h->free(h, envp);
}

/* PATH (a default when unset), then each of passed_env that is set. */
static char **clean_env(const struct isf_host *h)
{
    size_t n = sizeof(passed_env) / sizeof(passed_env[0]) + 1;
    char **envp = h->alloc(h, n * sizeof(char *));
    if (!envp)
        return NULL;
    memset(envp, 0, n * sizeof(char *));
    const char *path = getenv("PATH");
    size_t k = 0;
    if (!(envp[k++] = env_entry(h, "PATH", path && *path ? path : DEFAULT_PATH)))
        goto oom;
    for (size_t i = 0; passed_env[i]; i++) {
        const char *v = getenv(passed_env[i]);
        if (v && !(envp[k++] = env_entry(h, passed_env[i], v)))
            goto oom;
    }
    return envp;
oom:
    free_env(h, envp);
    return NULL;
}

/* Turn how the helper ended into an error, or ISF_OK when it exited 0. */
static int check_status(const struct isf_host *h, const struct nc_credential *c,
                        const struct isf_exec_status *st, struct isf_error *err)
{
    const char *prog = c->argv[0];
    /* Its own explanation, shortened and redacted; quoted only when it failed. */
    char said[NC_SUMMARY_MAX + 40] = "";
    char summary[NC_SUMMARY_MAX + 8];
    nc_summarize_stderr(st->stderr_head, st->stderr_len, summary, sizeof(summary));
    if (summary[0])
        snprintf(said, sizeof(said), " (stderr: \"%s\")", summary);
    h->wipe(h, summary, sizeof(summary));
    switch (st->outcome) {
    case ISF_EXEC_EXITED:
        if (st->exit_code == 0)
            return ISF_OK;
        return h->error_set(h, err, ISF_E_FAILED,
                            "named credential %s: the helper %s exited with status %d%s; fix what "
                            "it reports and run it by hand to check",
                            c->name, prog, st->exit_code, said);
    case ISF_EXEC_SIGNALED:
        return h->error_set(h, err, ISF_E_FAILED,
                            "named credential %s: the helper %s was ended by signal %d%s", c->name,
                            prog, st->signal, said);
    case ISF_EXEC_TIMEOUT:
        return h->error_set(h, err, ISF_E_TRANSIENT,
                            "named credential %s: the helper %s did not finish within %ld s and "
                            "was killed; make it faster or raise timeout_s",
                            c->name, prog, c->timeout_ms / 1000);
    case ISF_EXEC_TOO_BIG:
        return h->error_set(h, err, ISF_E_FAILED,
                            "named credential %s: the helper %s printed more than %zu bytes and "
                            "was stopped; it must print one small JSON object",
                            c->name, prog, OUTPUT_CAP);
    case ISF_EXEC_NOT_STARTED:
        return h->error_set(h, err, ISF_E_CONFIG,
                            "named credential %s: cannot run the helper %s: %s; check the "
                            "credential's command (a program on PATH or a full path)",
                            c->name, prog, strerror(st->sys_errno));
    default:
        return h->error_set(h, err, ISF_E_TRANSIENT,
                            "named credential %s: reading the output of the helper %s failed: "
                            "%s; try again",
                            c->name, prog, strerror(st->sys_errno));
    }
}

static int from_command(const struct isf_host *h, const struct nc_credential *c,
                        struct nc_token *out, struct isf_error *err)
{
    if (h->struct_size < offsetof(struct isf_host, exec_capture) + sizeof(void *) ||
        !h->exec_capture)
        return h->error_set(h, err, ISF_E_CONFIG,
                            "named credential %s: this isyncsf cannot run helper commands (plugin "
                            "ABI 1.1 needed); upgrade isyncsf or use token_env / token_file",
                            c->name);
    char **envp = clean_env(h);
    if (!envp)
        return h->error_set(h, err, ISF_E_NOMEM, "out of memory");
    struct isf_exec_status st;
    memset(&st, 0, sizeof(st));
    st.struct_size = sizeof(st);
    char *text = NULL;
    size_t len = 0;
    int rc = h->exec_capture(h, c->argv, envp, c->timeout_ms, OUTPUT_CAP, &text, &len, &st, err);
    free_env(h, envp);
    if (rc == ISF_OK)
        rc = check_status(h, c, &st, err);
    h->wipe(h, st.stderr_head, sizeof(st.stderr_head));
    if (rc == ISF_OK)
        rc = nc_parse_output(h, c, text, len, out, err);
    if (text)
        h->free_secret(h, text, len + 1);
    return rc;
}

/* Copy `value` without trailing whitespace (a file's final newline) as the token. */
static int take_token(const struct isf_host *h, const char *value, size_t len, struct nc_token *out)
{
    while (len && (value[len - 1] == '\n' || value[len - 1] == '\r' || value[len - 1] == ' ' ||
                   value[len - 1] == '\t'))
        len--;
    char *t = h->alloc(h, len + 1);
    if (!t)
        return ISF_E_NOMEM;
    memcpy(t, value, len);
    t[len] = '\0';
    if (!nc_token_is_sane(t)) {
        h->free_secret(h, t, len + 1);
        return ISF_E_FAILED;
    }
    out->access_token = t;
    return ISF_OK;
}

static int from_env(const struct isf_host *h, const struct nc_credential *c, struct nc_token *out,
                    struct isf_error *err)
{
    const char *v = getenv(c->var);
    if (!v || !*v)
        return h->error_set(h, err, ISF_E_CONFIG,
                            "named credential %s: environment variable %s is not set or empty; "
                            "set it to the org's access token",
                            c->name, c->var);
    int rc = take_token(h, v, strlen(v), out);
    if (rc == ISF_E_NOMEM)
        return h->error_set(h, err, rc, "out of memory");
    if (rc != ISF_OK)
        return h->error_set(h, err, ISF_E_CONFIG,
                            "named credential %s: environment variable %s does not hold a "
                            "usable token (it has spaces or control characters)",
                            c->name, c->var);
    return ISF_OK;
}

static int read_file(const struct isf_host *h, const struct nc_credential *c, int fd, char *buf,
                     size_t *len, struct isf_error *err)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        return h->error_set(h, err, ISF_E_CONFIG,
                            "named credential %s: token file %s is not a regular file", c->name,
                            c->path);
    if (st.st_mode & 077)
        return h->error_set(h, err, ISF_E_CONFIG,
                            "named credential %s: token file %s is accessible by group or others "
                            "(mode %04o); run: chmod 600 %s",
                            c->name, c->path, (unsigned)(st.st_mode & 07777), c->path);
    *len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + *len, TOKEN_FILE_MAX + 1 - *len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return h->error_set(h, err, ISF_E_CONFIG,
                                "named credential %s: cannot read token file %s: %s", c->name,
                                c->path, strerror(errno));
        if (n == 0)
            return ISF_OK;
        *len += (size_t)n;
        if (*len > TOKEN_FILE_MAX)
            return h->error_set(h, err, ISF_E_CONFIG,
                                "named credential %s: token file %s is larger than %d bytes; it "
                                "must hold only the access token",
                                c->name, c->path, TOKEN_FILE_MAX);
    }
}

static int from_file(const struct isf_host *h, const struct nc_credential *c, struct nc_token *out,
                     struct isf_error *err)
{
    int fd = open(c->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return h->error_set(h, err, ISF_E_CONFIG,
                            "named credential %s: cannot open token file %s: %s", c->name, c->path,
                            strerror(errno));
    char *buf = h->alloc(h, TOKEN_FILE_MAX + 1);
    if (!buf) {
        close(fd);
        return h->error_set(h, err, ISF_E_NOMEM, "out of memory");
    }
    size_t len = 0;
    int rc = read_file(h, c, fd, buf, &len, err);
    close(fd);
    if (rc == ISF_OK) {
        rc = take_token(h, buf, len, out);
        if (rc == ISF_E_NOMEM)
            h->error_set(h, err, rc, "out of memory");
        else if (rc != ISF_OK)
            rc = h->error_set(h, err, ISF_E_CONFIG,
                              "named credential %s: token file %s does not hold a usable token "
                              "(empty, or spaces or control characters inside)",
                              c->name, c->path);
    }
    h->free_secret(h, buf, TOKEN_FILE_MAX + 1);
    return rc;
}

int nc_fetch(const struct isf_host *h, const struct nc_credential *c, struct nc_token *out,
             struct isf_error *err)
{
    memset(out, 0, sizeof(*out));
    switch (c->kind) {
    case NC_SRC_COMMAND:
        return from_command(h, c, out, err);
    case NC_SRC_ENV:
        return from_env(h, c, out, err);
    default:
        return from_file(h, c, out, err);
    }
}
