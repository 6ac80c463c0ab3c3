/*
 * store-file: scanning .tmp for leftover temp files, and listing the records.
 *
 * Leftover temp files in .tmp (a writer died between create and rename) are removed at open
 * when their writer pid no longer exists (kill(pid, 0) fails with ESRCH), or when they are over
 * an hour old (pids get reused; no write takes an hour). We chose the pid over a plain age rule
 * so a crash is cleaned up at the next start, not an hour later. The one case it misjudges is a
 * writer in another pid namespace sharing the folder: its temp file may be removed mid-write,
 * and then its rename fails and that put reports an error; no record is ever damaged by it. Temp
 * files never show in list and are never read, so a leftover costs only disk space until the
 * next open.
 */
#include "sf_scan.h"

#include "sf_fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Age after which a temp file is removed even if its pid looks alive (pid reuse). */
#define STALE_TEMP_AGE_S 3600

/* ---- leftover temp files ------------------------------------------------------------------ */

static int temp_is_stale(const struct sf_store *st, const char *fname)
{
    struct stat sb;
    pid_t pid;

    /* Only files shaped like ours: anything else in .tmp was put there by someone else. */
    if (!sf_temp_parse(fname, &pid))
        return 0;
    if (kill(pid, 0) != 0 && errno == ESRCH)
        return 1;
    if (fstatat(st->tmpfd, fname, &sb, AT_SYMLINK_NOFOLLOW) != 0)
        return 0;
    return time(NULL) - sb.st_mtime > STALE_TEMP_AGE_S;
}

/* Scans .tmp only, never the record folder: see the top of store_file.c. Best effort: a temp
 * file we cannot remove is only wasted space, so failures are logged. */
void sf_remove_stale_temps(const struct sf_store *st)
{
    /* A descriptor of its own: closedir closes the one fdopendir takes. */
    int fd = openat(st->tmpfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    struct dirent *e;

    if (!d) {
        if (fd >= 0)
            close(fd);
        return;
    }
    while ((e = readdir(d)) != NULL) {
        if (!temp_is_stale(st, e->d_name))
            continue;
        if (unlinkat(st->tmpfd, e->d_name, 0) == 0)
            st->host->log(st->host, ISF_LOG_INFO,
                          "removed %s/" TEMP_DIR "/%s, left by an interrupted write", st->dir,
                          e->d_name);
        else
            st->host->log(st->host, ISF_LOG_WARN,
                          "cannot remove %s/" TEMP_DIR "/%s (left by an interrupted write): %s",
                          st->dir, e->d_name, strerror(errno));
    }
    closedir(d);
}

/* ---- list --------------------------------------------------------------------------------- */

/* The record name of a folder entry "<name>.rec" into buf, or 0 for any other entry (dot files,
 * the .tmp and .locks folders, stray files). */
static int rec_entry_name(const char *fname, char *buf, size_t cap)
{
    size_t n = strlen(fname);

    if (fname[0] == '.' || n <= 4 || n - 4 >= cap || strcmp(fname + n - 4, ".rec") != 0)
        return 0;
    memcpy(buf, fname, n - 4);
    buf[n - 4] = '\0';
    return sf_valid_name(buf);
}

int sf_list(void *store, isf_store_list_cb cb, void *arg, struct isf_error *err)
{
    struct sf_store *st = store;
    char name[SF_NAME_MAX + 1];
    int fd = openat(st->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    struct dirent *e;
    int rc = ISF_OK;

    if (!d) {
        rc = SF_ERR(st, err, ISF_E_STORE,
                    "store-file: cannot list the records in %s: %s; check the folder's "
                    "permissions",
                    st->dir, strerror(errno));
        if (fd >= 0)
            close(fd);
        return rc;
    }
    for (;;) {
        errno = 0;
        if ((e = readdir(d)) == NULL)
            break;
        if (rec_entry_name(e->d_name, name, sizeof(name)) && cb(arg, name) != 0)
            break;
    }
    if (!e && errno != 0)
        rc = SF_ERR(st, err, ISF_E_STORE,
                    "store-file: cannot list the records in %s: %s; check the disk", st->dir,
                    strerror(errno));
    closedir(d);
    return rc;
}
