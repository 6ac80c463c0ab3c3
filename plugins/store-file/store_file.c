/*
 * store-file: the bundled store plugin. One file per record, so reading or writing one org costs
 * the same with 10 or 100,000 records: only list reads the whole record folder.
 *
 * Layout of the `dir` folder (0700, created with its parents when missing):
 *   <name>.rec             the record: header line + payload (see sf_record.h), mode 0600
 *   .tmp/                  0700; holds only the temp files of writes in progress:
 *     .<name>.<pid>.<rand>.tmp   a write in progress; renamed onto <name>.rec when complete
 *   .locks/<name>.lock     the caller-visible record lock (ops->lock)
 *   .locks/<name>.wlock    the short internal write lock around read-compare-rename
 *
 * Temp files have their own folder so that open can look for leftovers without reading the
 * record folder: that scan made every command cost O(number of records) (~4 ms more at 10,000
 * records), while .tmp is empty unless a writer is busy or died. .tmp is a subfolder, hence on
 * the same file system, so the rename into the record folder stays atomic; both folders are
 * 0700 and checked like the record folder.
 *
 * The parts, one job each:
 *   store_file.c   this file: options, opening the folders, open/close, the plugin descriptor
 *   sf_read.c      reading and verifying a record file; get
 *   sf_write.c     the atomic write through .tmp, the revision check; put and remove
 *   sf_lock.c      the lock files in .locks: the record lock (lock/unlock) and the write lock
 *   sf_scan.c      the folder scans: leftover temp files at open; list
 *   sf_watch.c     change watching with inotify (watch, changes) for the daemon
 *   sf_record.c    the record file format (header line, CRC-32C)
 *   sf_fs.c        file-system helpers that report plain errno values
 * Only the two ABI symbols are exported: the plugin is built with hidden visibility.
 *
 * Record contents are never logged: they hold sealed secrets and org metadata.
 */
#include "sf_fs.h"
#include "sf_lock.h"
#include "sf_read.h"
#include "sf_scan.h"
#include "sf_store.h"
#include "sf_watch.h"
#include "sf_write.h"

#include <isyncsf/plugin.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct isf_option_spec sf_options[] = {
    {"dir", ISF_OPT_PATH, "${data_dir}/orgs", 0,
     "folder holding one <name>.rec file per org (default: <data dir>/orgs; the core expands "
     "${data_dir})"},
    {"fsync", ISF_OPT_BOOL, "true", 0,
     "flush every write to disk before reporting success; false only for tests and benchmarks "
     "(a power cut may then lose or roll back recent writes)"},
    {NULL, 0, NULL, 0, NULL}};

/* ---- names -------------------------------------------------------------------------------- */

int sf_check_name(const struct sf_store *st, const char *name, struct isf_error *err)
{
    if (sf_valid_name(name))
        return ISF_OK;
    return SF_ERR(st, err, ISF_E_USAGE,
                  "store-file: invalid record name \"%.80s\": use 1 to 64 letters, digits, '.', "
                  "'_' or '-', starting with a letter or digit",
                  name ? name : "(null)");
}

/* ---- folders ------------------------------------------------------------------------------ */

/* Refuse a folder that is not ours alone: the records hold sealed secrets, and a folder others
 * can write lets them swap records. */
static int check_private_dir(const struct sf_store *st, int fd, const char *path,
                             struct isf_error *err)
{
    struct stat sb;

    if (fstat(fd, &sb) != 0)
        return SF_ERR(st, err, ISF_E_STORE,
                      "store-file: cannot inspect folder %s: %s; check the disk", path,
                      strerror(errno));
    if (sb.st_uid != geteuid())
        return SF_ERR(st, err, ISF_E_STORE,
                      "store-file: folder %s belongs to uid %ld, not to you (uid %ld); "
                      "run: chown %ld %s, or point the store's dir option elsewhere",
                      path, (long)sb.st_uid, (long)geteuid(), (long)geteuid(), path);
    if (sb.st_mode & 077)
        return SF_ERR(st, err, ISF_E_STORE,
                      "store-file: folder %s is open to group or others (mode %04o); "
                      "run: chmod 700 %s",
                      path, (unsigned)(sb.st_mode & 07777), path);
    return ISF_OK;
}

static int open_dir(struct sf_store *st, struct isf_error *err)
{
    char failed[512];
    int rc = sf_mkdirs(st->dir, failed, sizeof(failed));

    if (rc != 0)
        return SF_ERR(st, err, ISF_E_STORE,
                      "store-file: cannot create folder %s: %s; check the store's dir option "
                      "and the permissions of its parent folders",
                      failed, strerror(rc));
    st->dirfd = open(st->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (st->dirfd < 0)
        return SF_ERR(st, err, ISF_E_STORE,
                      "store-file: cannot open folder %s: %s; check the store's dir option",
                      st->dir, strerror(errno));
    return check_private_dir(st, st->dirfd, st->dir, err);
}

/* Create (exactly 0700, whatever the umask) and open the private subfolder `rel` of the record
 * folder: .locks or .tmp. */
static int open_subdir(const struct sf_store *st, const char *rel, int *fd, struct isf_error *err)
{
    char path[4096];

    snprintf(path, sizeof(path), "%s/%s", st->dir, rel);
    if (mkdirat(st->dirfd, rel, 0700) != 0 ? errno != EEXIST
                                           : fchmodat(st->dirfd, rel, 0700, 0) != 0)
        return SF_ERR(st, err, ISF_E_STORE,
                      "store-file: cannot create folder %s: %s; check the permissions of %s", path,
                      strerror(errno), st->dir);
    *fd = openat(st->dirfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (*fd < 0)
        return SF_ERR(st, err, ISF_E_STORE,
                      "store-file: cannot open folder %s: %s; it must be a folder, not a "
                      "symbolic link",
                      path, strerror(errno));
    return check_private_dir(st, *fd, path, err);
}

/* ---- open / close ------------------------------------------------------------------------- */

static void sf_close(void *store)
{
    struct sf_store *st = store;

    if (!st)
        return;
    if (st->watchfd >= 0)
        close(st->watchfd);
    if (st->tmpfd >= 0)
        close(st->tmpfd);
    if (st->locksfd >= 0)
        close(st->locksfd);
    if (st->dirfd >= 0)
        close(st->dirfd);
    st->host->free(st->host, st->dir);
    st->host->free(st->host, st);
}

/* Copy the dir option without trailing slashes, so messages read "<dir>/<name>.rec". */
static char *dup_dir(const struct isf_host *host, const char *dir)
{
    char *copy = host->strdup(host, dir);
    size_t n = copy ? strlen(copy) : 0;

    while (n > 1 && copy[n - 1] == '/')
        copy[--n] = '\0';
    return copy;
}

static int sf_open(const struct isf_host *host, const struct isf_opts *opts, void **store,
                   struct isf_error *err)
{
    const char *dir = host->opt_string(host, opts, "dir");
    struct sf_store *st;
    int rc;

    *store = NULL;
    if (!dir || !*dir)
        return host->error_set(host, err, ISF_E_CONFIG,
                               "store-file: option dir is empty; set it to the folder for the "
                               "org records (options: {dir: ~/.local/share/isyncsf/orgs})");
    st = host->alloc(host, sizeof(*st));
    if (!st)
        return host->error_set(host, err, ISF_E_NOMEM, "store-file: out of memory");
    memset(st, 0, sizeof(*st));
    st->host = host;
    st->dirfd = st->locksfd = st->tmpfd = st->watchfd = -1;
    st->fsync = host->opt_bool(host, opts, "fsync");
    st->dir = dup_dir(host, dir);
    if (!st->dir) {
        rc = host->error_set(host, err, ISF_E_NOMEM, "store-file: out of memory");
        goto fail;
    }
    if ((rc = open_dir(st, err)) != ISF_OK ||
        (rc = open_subdir(st, LOCKS_DIR, &st->locksfd, err)) != ISF_OK ||
        (rc = open_subdir(st, TEMP_DIR, &st->tmpfd, err)) != ISF_OK)
        goto fail;
    sf_remove_stale_temps(st);
    *store = st;
    return ISF_OK;
fail:
    sf_close(st);
    return rc;
}

/* ---- plugin glue -------------------------------------------------------------------------- */

static const struct isf_store_ops sf_ops = {
    .struct_size = sizeof(struct isf_store_ops),
    .open = sf_open,
    .close = sf_close,
    .get = sf_get,
    .put = sf_put,
    .remove = sf_remove,
    .list = sf_list,
    .lock = sf_lock,
    .unlock = sf_unlock,
    .watch = sf_watch,
    .changes = sf_changes,
};

static const struct isf_plugin_descriptor sf_descriptor = {
    .struct_size = sizeof(struct isf_plugin_descriptor),
    .kind = ISF_PLUGIN_STORE,
    .name = "store-file",
    .version = "1.0.0",
    .description = "keeps each org record in its own checksummed file in a private folder",
    .capabilities = 0,
    .options = sf_options,
    .ops = &sf_ops,
};

ISF_DEFINE_PLUGIN_ABI();

ISF_PLUGIN_EXPORT int isyncsf_plugin_init(const struct isf_host *host,
                                          const struct isf_plugin_descriptor **out,
                                          struct isf_error *err)
{
    (void)host;
    (void)err;
    *out = &sf_descriptor;
    return ISF_OK;
}
