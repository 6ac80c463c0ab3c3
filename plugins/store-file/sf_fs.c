/* store-file file-system helpers: see sf_fs.h. */
#include "sf_fs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int name_char_ok(char c, int first)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
        return 1;
    return !first && (c == '.' || c == '_' || c == '-');
}

int sf_valid_name(const char *name)
{
    size_t i = 0;

    if (!name)
        return 0;
    for (; name[i]; i++)
        if (i >= SF_NAME_MAX || !name_char_ok(name[i], i == 0))
            return 0;
    return i > 0;
}

/* Create one folder; on success force 0700 (mkdir's mode is filtered by the umask, and a umask
 * such as 0277 would leave a folder we cannot write). EEXIST counts as success. */
static int mkdir_private(const char *path)
{
    if (mkdir(path, 0700) == 0)
        return chmod(path, 0700) == 0 ? 0 : errno;
    return errno == EEXIST ? 0 : errno;
}

int sf_mkdirs(const char *path, char *failed_at, size_t cap)
{
    size_t n = strlen(path);
    char *buf = malloc(n + 1);
    int rc = 0;

    if (!buf) {
        if (failed_at)
            snprintf(failed_at, cap, "%s", path);
        return ENOMEM;
    }
    memcpy(buf, path, n + 1);
    /* Each '/' after the first character ends one ancestor; the path itself comes last. */
    for (size_t i = 1; i <= n && rc == 0; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char saved = buf[i];
        buf[i] = '\0';
        if (buf[i - 1] != '/')
            rc = mkdir_private(buf);
        if (rc != 0 && failed_at)
            snprintf(failed_at, cap, "%s", buf);
        buf[i] = saved;
    }
    free(buf);
    return rc;
}

int sf_write_full(int fd, const void *buf, size_t len)
{
    const unsigned char *p = buf;

    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int sf_read_full(int fd, void *buf, size_t len, size_t *got)
{
    unsigned char *p = buf;
    size_t done = 0;

    while (done < len) {
        ssize_t n = read(fd, p + done, len - done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            *got = done;
            return errno;
        }
        if (n == 0)
            break;
        done += (size_t)n;
    }
    *got = done;
    return 0;
}

int sf_temp_name(char *buf, size_t cap, const char *name, pid_t pid, const unsigned char rnd[8])
{
    char hex[17];

    for (int i = 0; i < 8; i++)
        snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
    int n = snprintf(buf, cap, ".%s.%ld.%s.tmp", name, (long)pid, hex);
    return (n < 0 || (size_t)n >= cap) ? -1 : 0;
}

/* Parse ".<name>.<pid>.<16 hex>.tmp" from the end, since names may contain dots. */
int sf_temp_parse(const char *fname, pid_t *pid)
{
    size_t n = strlen(fname);
    const size_t tail = 1 + 16 + 4; /* ".<16 hex>.tmp" */

    if (n < 1 + 1 + 2 + tail || fname[0] != '.' || strcmp(fname + n - 4, ".tmp") != 0)
        return 0;
    const char *hex = fname + n - tail + 1;
    if (hex[-1] != '.')
        return 0;
    for (int i = 0; i < 16; i++)
        if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f')))
            return 0;
    const char *end = hex - 1; /* the '.' before the hex digits */
    const char *p = end;
    while (p > fname + 1 && p[-1] >= '0' && p[-1] <= '9')
        p--;
    if (p == end || p[-1] != '.' || p - 1 <= fname + 1 || end - p > 10)
        return 0;
    long v = 0;
    for (const char *q = p; q < end; q++)
        v = v * 10 + (*q - '0');
    if (v <= 0)
        return 0;
    *pid = (pid_t)v;
    return 1;
}
