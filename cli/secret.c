/* Client secrets come from stdin, an environment variable or a file — never from argv, where
 * any user could read them with ps. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SECRET_MAX 4096

void cli_free_secret(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

/* Read at most SECRET_MAX bytes from fd; strip one trailing newline (echo, heredocs). */
static char *read_fd(int fd, const char **why)
{
    char *buf = malloc(SECRET_MAX + 2);
    if (!buf) {
        *why = "out of memory";
        return NULL;
    }
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, SECRET_MAX + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            *why = strerror(errno);
            goto fail;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > SECRET_MAX) {
            *why = "longer than 4096 bytes";
            goto fail;
        }
    }
    buf[len] = '\0';
    while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        buf[--len] = '\0';
    if (!len) {
        *why = "empty";
        goto fail;
    }
    return buf;
fail:
    explicit_bzero(buf, SECRET_MAX + 2);
    free(buf);
    return NULL;
}

int read_client_secret(struct cli *cli, const struct cli_args *a, char **secret, const char *usage)
{
    *secret = NULL;
    int from_stdin = cli_has(a, "client-secret-stdin");
    const char *env = cli_get(a, "client-secret-env");
    const char *file = cli_get(a, "client-secret-file");
    if (from_stdin + (env != NULL) + (file != NULL) > 1)
        return cli_usage_error(cli, usage,
                               "give only one of --client-secret-stdin, --client-secret-env, "
                               "--client-secret-file");
    const char *why = NULL;
    if (from_stdin) {
        *secret = read_fd(STDIN_FILENO, &why);
        if (!*secret)
            return cli_usage_error(cli, usage, "could not read the client secret from stdin: %s",
                                   why);
    } else if (env) {
        const char *v = getenv(env);
        if (!v || !*v)
            return cli_usage_error(cli, usage,
                                   "environment variable %s (--client-secret-env) is not set or "
                                   "empty",
                                   env);
        if (!(*secret = strdup(v)))
            return cli_usage_error(cli, usage, "out of memory");
    } else if (file) {
        int fd = open(file, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return cli_usage_error(cli, usage, "cannot open client secret file %s: %s", file,
                                   strerror(errno));
        *secret = read_fd(fd, &why);
        close(fd);
        if (!*secret)
            return cli_usage_error(cli, usage, "could not read client secret file %s: %s", file,
                                   why);
    }
    return 0;
}
