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
 * Why two lock files: put must work while the caller holds lock() on the same record (the core
 * holds the record lock across a whole refresh and writes inside it), yet the revision check and
 * the rename must be one atomic step against other processes. Both are flock(2) locks: they hold
 * across processes, two opens in one process exclude each other, and the kernel drops them when
 * the holder dies, so a crashed process never leaves a record locked.
 *
 * Leftover temp files in .tmp (a writer died between create and rename) are removed at open
 * when their writer pid no longer exists (kill(pid, 0) fails with ESRCH), or when they are over
 * an hour old (pids get reused; no write takes an hour). We chose the pid over a plain age rule
 * so a crash is cleaned up at the next start, not an hour later. The one case it misjudges is a
 * writer in another pid namespace sharing the folder: its temp file may be removed mid-write,
 * and then its rename fails and that put reports an error; no record is ever damaged by it. Temp
 * files never show in list and are never read, so a leftover costs only disk space until the
 * next open.
 *
 * Lock files: .locks keeps one small empty .wlock file per record and a .lock file per record
 * ever locked. A remove deletes both, except a .lock someone holds (it stays, and is reused if the
 * name comes back). Only the holder of a lock file deletes it, and every taker checks that the
 * file it locked is still the one in the folder (sf_lock_take), so deleting never lets two
 * holders in at once.
 *
 * Lock handles are plain descriptors opened O_CLOEXEC: a child that execs drops them, while a
 * child that forks without exec keeps the lock until it exits, as flock(2) does.
 *
 * remove(expected_revision 0) removes whatever the revision, and is the only way to remove a
 * damaged record: the core uses it for `org remove --local-only` on a record it cannot read.
 *
 * Record contents are never logged: they hold sealed secrets and org metadata.
 */
#include "sf_fs.h"
#include "sf_record.h"

#include <isyncsf/plugin.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LOCKS_DIR ".locks"
#define TEMP_DIR ".tmp"
/* How long put/remove wait for another process's write lock. It is held only for one
 * read-compare-write-rename, so waiting this long means that process is stuck. */
#define WRITE_LOCK_WAIT_MS 10000
/* Age after which a temp file is removed even if its pid looks alive (pid reuse). */
#define STALE_TEMP_AGE_S 3600

struct sf_store {
    const struct isf_host *host;
    char *dir;   /* the folder, as configured (for messages) */
    int dirfd;   /* the record folder; every file operation is relative to it or a subfolder */
    int locksfd; /* dir/.locks */
    int tmpfd;   /* dir/.tmp: temp files of writes in progress */
    int fsync;   /* fsync files and the folder on every write (option `fsync`) */
};

struct sf_lock {
    int fd;
};

/* A record read from disk. buf is allocated with host->alloc and wiped on release. */
struct sf_rec {
    unsigned char *buf;
    size_t size;
    uint64_t revision;
    size_t off;
    size_t len;
    int damaged; /* ISF_E_STORE because of the file itself (content, type or mode) */
};

static const struct isf_option_spec sf_options[] = {
    {"dir", ISF_OPT_PATH, "${data_dir}/orgs", 0,
     "folder holding one <name>.rec file per org (default: <data dir>/orgs; the core expands "
     "${data_dir})"},
    {"fsync", ISF_OPT_BOOL, "true", 0,
     "flush every write to disk before reporting success; false only for tests and benchmarks "
     "(a power cut may then lose or roll back recent writes)"},
    {NULL, 0, NULL, 0, NULL}};

#define SF_ERR(st, err, code, ...) (st)->host->error_set((st)->host, (err), (code), __VA_ARGS__)

/* ---- names and paths ---------------------------------------------------------------------- */

static int check_name(const struct sf_store *st, const char *name, struct isf_error *err)
{
    if (sf_valid_name(name))
        return ISF_OK;
    return SF_ERR(st, err, ISF_E_USAGE,
                  "store-file: invalid record name \"%.80s\": use 1 to 64 letters, digits, '.', "
                  "'_' or '-', starting with a letter or digit",
                  name ? name : "(null)");
}

/* "<name><suffix>" into buf; names are checked first, so this always fits. */
static void file_name(char *buf, size_t cap, const char *name, const char *suffix)
{
    snprintf(buf, cap, "%s%s", name, suffix);
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

/* fsync the folder so a rename or unlink survives a power cut. */
static int sync_dir(const struct sf_store *st, const char *name, struct isf_error *err)
{
    if (!st->fsync || fsync(st->dirfd) == 0)
        return ISF_OK;
    return SF_ERR(st, err, ISF_E_STORE,
                  "store-file: cannot flush folder %s after writing record %s: %s; check the "
                  "disk",
                  st->dir, name, strerror(errno));
}

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

/* Scans .tmp only, never the record folder: see the top of this file. Best effort: a temp file
 * we cannot remove is only wasted space, so failures are logged. */
static void remove_stale_temps(const struct sf_store *st)
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

/* ---- open / close ------------------------------------------------------------------------- */

static void sf_close(void *store)
{
    struct sf_store *st = store;

    if (!st)
        return;
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
    st->dirfd = st->locksfd = st->tmpfd = -1;
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
    remove_stale_temps(st);
    *store = st;
    return ISF_OK;
fail:
    sf_close(st);
    return rc;
}

/* ---- reading records ---------------------------------------------------------------------- */

static void rec_release(const struct sf_store *st, struct sf_rec *rec)
{
    if (rec->buf)
        st->host->free_secret(st->host, rec->buf, rec->size ? rec->size : 1);
    rec->buf = NULL;
}

static int damaged(const struct sf_store *st, struct sf_rec *rec, const char *name, const char *why,
                   struct isf_error *err)
{
    rec->damaged = 1;
    return SF_ERR(st, err, ISF_E_STORE,
                  "store-file: record %s is damaged (%s) in %s/%s.rec; restore that file from a "
                  "backup, or run `isyncsf org remove %s --local-only` and add the org again",
                  name, why, st->dir, name, name);
}

/* Check the open record file is a private regular file and of a sane size. */
static int check_rec_file(const struct sf_store *st, int fd, const char *name, int check_mode,
                          struct sf_rec *rec, struct isf_error *err)
{
    struct stat sb;

    if (fstat(fd, &sb) != 0)
        return SF_ERR(st, err, ISF_E_STORE,
                      "store-file: cannot inspect record %s (%s/%s.rec): %s; check the disk", name,
                      st->dir, name, strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return damaged(st, rec, name, "not a regular file", err);
    if (check_mode && (sb.st_mode & 077)) {
        rec->damaged = 1;
        return SF_ERR(st, err, ISF_E_STORE,
                      "store-file: record %s is open to group or others (mode %04o): run "
                      "chmod 600 %s/%s.rec, and reconnect the org if others may have copied it",
                      name, (unsigned)(sb.st_mode & 07777), st->dir, name);
    }
    if ((uint64_t)sb.st_size > SF_RECORD_MAX_PAYLOAD + SF_RECORD_HEADER_MAX)
        return damaged(st, rec, name, "far larger than any record", err);
    rec->size = (size_t)sb.st_size;
    return ISF_OK;
}

static int read_rec_bytes(const struct sf_store *st, int fd, const char *name, struct sf_rec *rec,
                          struct isf_error *err)
{
    char why[160];
    size_t got = 0;

    rec->buf = st->host->alloc(st->host, rec->size ? rec->size : 1);
    if (!rec->buf)
        return SF_ERR(st, err, ISF_E_NOMEM, "store-file: out of memory reading record %s", name);
    int rc = sf_read_full(fd, rec->buf, rec->size, &got);
    if (rc != 0)
        return SF_ERR(st, err, ISF_E_STORE,
                      "store-file: cannot read record %s (%s/%s.rec): %s; check the disk", name,
                      st->dir, name, strerror(rc));
    /* A file shorter than fstat said was cut while we read it: judge what is there. */
    if (sf_record_parse(rec->buf, got, &rec->revision, &rec->off, &rec->len, why, sizeof(why)) != 0)
        return damaged(st, rec, name, why, err);
    return ISF_OK;
}

/* Read and verify <name>.rec. ISF_OK, ISF_E_NOT_FOUND, or an error with rec->damaged telling a
 * bad file from a failing system. The caller releases rec in every case. */
static int read_rec(const struct sf_store *st, const char *name, int check_mode, struct sf_rec *rec,
                    struct isf_error *err)
{
    char fname[SF_FILE_NAME_MAX];
    int rc;

    memset(rec, 0, sizeof(*rec));
    file_name(fname, sizeof(fname), name, ".rec");
    int fd = openat(st->dirfd, fname, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT)
            return SF_ERR(st, err, ISF_E_NOT_FOUND, "store-file: no record named %s in %s", name,
                          st->dir);
        if (errno == ELOOP)
            return damaged(st, rec, name, "a symbolic link, which the store never makes", err);
        return SF_ERR(st, err, ISF_E_STORE,
                      "store-file: cannot open record %s (%s/%s): %s; check the file's owner and "
                      "permissions",
                      name, st->dir, fname, strerror(errno));
    }
    rc = check_rec_file(st, fd, name, check_mode, rec, err);
    if (rc == ISF_OK)
        rc = read_rec_bytes(st, fd, name, rec, err);
    close(fd);
    return rc;
}

/* ---- writing records ---------------------------------------------------------------------- */

static int write_temp(const struct sf_store *st, int fd, const char *name, const char *header,
                      size_t header_len, const void *data, size_t len, struct isf_error *err)
{
    int rc = sf_write_full(fd, header, header_len);

    if (rc == 0)
        rc = sf_write_full(fd, data, len);
    if (rc == 0 && st->fsync && fsync(fd) != 0)
        rc = errno;
    if (rc != 0)
        return SF_ERR(st, err, ISF_E_STORE,
                      "store-file: cannot write record %s in %s: %s; check free disk space and "
                      "retry",
                      name, st->dir, strerror(rc));
    return ISF_OK;
}

/* Create a new temp file for record `name` in .tmp; *fd is -1 unless it was created. */
static int create_temp(const struct sf_store *st, const char *name, char *tmp, size_t cap, int *fd,
                       struct isf_error *err)
{
    unsigned char rnd[8];

    /* A fresh random part makes a collision with another writer's name practically impossible;
     * O_EXCL turns the remaining chance into a retry instead of a shared file. */
    for (int attempt = 0; attempt < 8; attempt++) {
        if (st->host->random_bytes(st->host, rnd, sizeof(rnd)) != 0)
            return SF_ERR(st, err, ISF_E_STORE,
                          "store-file: cannot write record %s: no random bytes for a temp file "
                          "name; check the system's random source and retry",
                          name);
        sf_temp_name(tmp, cap, name, getpid(), rnd);
        *fd = openat(st->tmpfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (*fd >= 0)
            return ISF_OK;
        if (errno != EEXIST)
            break;
    }
    return SF_ERR(st, err, ISF_E_STORE,
                  "store-file: cannot create a temp file for record %s in %s/" TEMP_DIR
                  ": %s; check the folder's permissions and free disk space",
                  name, st->dir, strerror(errno));
}

/* Fill the temp file and close it. Closes fd in every case. */
static int fill_temp(const struct sf_store *st, int fd, const char *name, const void *data,
                     size_t len, uint64_t revision, struct isf_error *err)
{
    char header[SF_RECORD_HEADER_MAX];
    int header_len = sf_record_header(header, sizeof(header), revision, data, len);
    int rc;

    if (header_len < 0) { /* cannot happen: SF_RECORD_HEADER_MAX fits every header */
        close(fd);
        return SF_ERR(st, err, ISF_E_STORE,
                      "store-file: cannot write record %s: its header does not fit (a bug; "
                      "please report it)",
                      name);
    }
    rc = write_temp(st, fd, name, header, (size_t)header_len, data, len, err);
    if (close(fd) != 0 && rc == ISF_OK)
        rc = SF_ERR(st, err, ISF_E_STORE,
                    "store-file: cannot write record %s in %s: %s; check free disk space and "
                    "retry",
                    name, st->dir, strerror(errno));
    return rc;
}

/* Write <name>.rec atomically: temp file in .tmp, fsync, rename onto <name>.rec, fsync the record
 * folder. A crash at any point leaves either the old record or the new one, never a mix. .tmp
 * itself is never synced: nothing in it has to survive a crash, and a temp file a crash leaves
 * behind is removed at a later open. */
static int write_rec(const struct sf_store *st, const char *name, const void *data, size_t len,
                     uint64_t revision, struct isf_error *err)
{
    char tmp[SF_FILE_NAME_MAX], fname[SF_FILE_NAME_MAX];
    int fd = -1;
    int rc = create_temp(st, name, tmp, sizeof(tmp), &fd, err);

    if (rc != ISF_OK)
        return rc;
    /* fchmod: the umask can only take bits away from 0600, but say exactly what we mean. */
    if (fchmod(fd, 0600) != 0) {
        rc = SF_ERR(st, err, ISF_E_STORE,
                    "store-file: cannot write record %s: setting mode 0600 on %s/" TEMP_DIR
                    "/%s failed: %s; check the folder's file system",
                    name, st->dir, tmp, strerror(errno));
        close(fd);
        goto fail;
    }
    if ((rc = fill_temp(st, fd, name, data, len, revision, err)) != ISF_OK)
        goto fail;
    file_name(fname, sizeof(fname), name, ".rec");
    if (renameat(st->tmpfd, tmp, st->dirfd, fname) != 0) {
        rc = SF_ERR(st, err, ISF_E_STORE,
                    "store-file: cannot write record %s: renaming onto %s/%s failed: %s; check "
                    "the folder's permissions",
                    name, st->dir, fname, strerror(errno));
        goto fail;
    }
    return sync_dir(st, name, err);
fail:
    unlinkat(st->tmpfd, tmp, 0); /* ours: created with O_EXCL above */
    return rc;
}

/* ---- the internal write lock -------------------------------------------------------------- */

static int write_lock(const struct sf_store *st, const char *name, int *fd, struct isf_error *err)
{
    char rel[SF_FILE_NAME_MAX];

    file_name(rel, sizeof(rel), name, ".wlock");
    int rc = sf_lock_take(st->locksfd, rel, 1, WRITE_LOCK_WAIT_MS, fd);
    if (rc == 0)
        return ISF_OK;
    if (rc == ETIMEDOUT)
        return SF_ERR(st, err, ISF_E_TIMEOUT,
                      "store-file: record %s: another process has held its write lock "
                      "(%s/" LOCKS_DIR "/%s) for over %d s; look for a stuck isyncsf process "
                      "(fuser %s/" LOCKS_DIR "/%s) and retry",
                      name, st->dir, rel, WRITE_LOCK_WAIT_MS / 1000, st->dir, rel);
    return SF_ERR(st, err, ISF_E_STORE,
                  "store-file: cannot lock record %s (%s/" LOCKS_DIR "/%s): %s; check the "
                  "permissions of that folder",
                  name, st->dir, rel, strerror(rc));
}

/* ---- get / put / remove ------------------------------------------------------------------- */

static int sf_get(void *store, const char *name, struct isf_blob *out, uint64_t *revision,
                  struct isf_error *err)
{
    struct sf_store *st = store;
    struct sf_rec rec;
    int rc = check_name(st, name, err);

    if (rc != ISF_OK)
        return rc;
    rc = read_rec(st, name, 1, &rec, err);
    if (rc != ISF_OK || !rec.buf) {
        rec_release(st, &rec);
        return rc != ISF_OK ? rc : ISF_E_STORE;
    }
    /* Hand the read buffer over: move the payload to its start instead of copying it. */
    memmove(rec.buf, rec.buf + rec.off, rec.len);
    st->host->wipe(st->host, rec.buf + rec.len, rec.size - rec.len);
    out->data = rec.buf;
    out->len = rec.len;
    *revision = rec.revision;
    return ISF_OK;
}

/* The revision check shared by put and remove. `current` is 0 when the record is absent. */
static int check_revision(const struct sf_store *st, const char *name, uint64_t current,
                          uint64_t expected, struct isf_error *err)
{
    if (expected == 0 && current != 0)
        return SF_ERR(st, err, ISF_E_EXISTS,
                      "store-file: record %s already exists (revision %" PRIu64
                      "); pick another name or remove it first",
                      name, current);
    if (expected != 0 && current == 0)
        return SF_ERR(st, err, ISF_E_NOT_FOUND,
                      "store-file: record %s is gone (another process removed it); add it again "
                      "if it is still wanted",
                      name);
    if (expected != current)
        return SF_ERR(st, err, ISF_E_CONFLICT,
                      "store-file: record %s changed meanwhile: expected revision %" PRIu64
                      ", found %" PRIu64 "; read it again and retry",
                      name, expected, current);
    return ISF_OK;
}

/* Under the write lock: read the current revision, compare, write. */
static int put_locked(const struct sf_store *st, const char *name, const void *data, size_t len,
                      uint64_t expected, uint64_t *new_revision, struct isf_error *err)
{
    struct sf_rec rec;
    uint64_t current = 0;
    int rc = read_rec(st, name, 1, &rec, err);

    rec_release(st, &rec);
    if (rc == ISF_OK)
        current = rec.revision;
    else if (rc != ISF_E_NOT_FOUND)
        return rc;
    if ((rc = check_revision(st, name, current, expected, err)) != ISF_OK)
        return rc;
    if (current == UINT64_MAX)
        return SF_ERR(st, err, ISF_E_STORE,
                      "store-file: record %s has run out of revisions; remove it and add it "
                      "again",
                      name);
    if ((rc = write_rec(st, name, data, len, current + 1, err)) != ISF_OK)
        return rc;
    if (new_revision)
        *new_revision = current + 1;
    return ISF_OK;
}

static int sf_put(void *store, const char *name, const void *data, size_t len,
                  uint64_t expected_revision, uint64_t *new_revision, struct isf_error *err)
{
    struct sf_store *st = store;
    int wfd = -1;
    int rc = check_name(st, name, err);

    if (rc != ISF_OK)
        return rc;
    if (len > SF_RECORD_MAX_PAYLOAD)
        return SF_ERR(st, err, ISF_E_USAGE,
                      "store-file: record %s is too large (%zu bytes; the limit is %zu)", name, len,
                      SF_RECORD_MAX_PAYLOAD);
    if (!data && len > 0)
        return SF_ERR(st, err, ISF_E_USAGE, "store-file: record %s: no data given", name);
    if ((rc = write_lock(st, name, &wfd, err)) != ISF_OK)
        return rc;
    rc = put_locked(st, name, data ? data : "", len, expected_revision, new_revision, err);
    close(wfd);
    return rc;
}

/* Delete the caller-visible lock file of a removed record, unless someone holds it. */
static void remove_user_lock_file(const struct sf_store *st, const char *name)
{
    char rel[SF_FILE_NAME_MAX];
    int fd;

    file_name(rel, sizeof(rel), name, ".lock");
    if (sf_lock_take(st->locksfd, rel, 0, 0, &fd) != 0)
        return; /* absent, or held: the holder keeps using it */
    unlinkat(st->locksfd, rel, 0);
    close(fd);
}

/* Under the write lock: check the revision and delete. expected 0 skips the check: the core
 * uses it to clear a record it cannot read (`org remove --local-only` on a damaged record), so a
 * damaged file is deleted then, and refused otherwise (no caller can hold its revision). */
static int remove_locked(const struct sf_store *st, const char *name, uint64_t expected,
                         struct isf_error *err)
{
    char fname[SF_FILE_NAME_MAX];
    struct sf_rec rec;
    int rc = read_rec(st, name, 0, &rec, err);

    rec_release(st, &rec);
    if (rc == ISF_OK && expected != 0) {
        rc = check_revision(st, name, rec.revision, expected, err);
    } else if (rc == ISF_E_STORE && rec.damaged && expected == 0) {
        st->host->log(st->host, ISF_LOG_WARN, "record %s is damaged; removing it as asked", name);
        rc = ISF_OK;
    }
    if (rc != ISF_OK)
        return rc;
    file_name(fname, sizeof(fname), name, ".rec");
    if (unlinkat(st->dirfd, fname, 0) != 0)
        return SF_ERR(st, err, ISF_E_STORE,
                      "store-file: cannot remove record %s (%s/%s): %s; check the folder's "
                      "permissions",
                      name, st->dir, fname, strerror(errno));
    return sync_dir(st, name, err);
}

static int sf_remove(void *store, const char *name, uint64_t expected_revision,
                     struct isf_error *err)
{
    struct sf_store *st = store;
    char wrel[SF_FILE_NAME_MAX];
    int wfd = -1;
    int rc = check_name(st, name, err);

    if (rc != ISF_OK)
        return rc;
    if ((rc = write_lock(st, name, &wfd, err)) != ISF_OK)
        return rc;
    rc = remove_locked(st, name, expected_revision, err);
    if (rc == ISF_OK) {
        remove_user_lock_file(st, name);
        /* We hold the write lock, so deleting its file is safe (see sf_lock_take). */
        file_name(wrel, sizeof(wrel), name, ".wlock");
        unlinkat(st->locksfd, wrel, 0);
    }
    close(wfd);
    return rc;
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

static int sf_list(void *store, isf_store_list_cb cb, void *arg, struct isf_error *err)
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

/* ---- the caller-visible record lock ------------------------------------------------------- */

/* timeout_ms <= 0 means one try without waiting. */
static int sf_lock(void *store, const char *name, int timeout_ms, void **lock,
                   struct isf_error *err)
{
    struct sf_store *st = store;
    char rel[SF_FILE_NAME_MAX];
    struct sf_lock *lk;
    int fd = -1;
    int rc = check_name(st, name, err);

    *lock = NULL;
    if (rc != ISF_OK)
        return rc;
    file_name(rel, sizeof(rel), name, ".lock");
    rc = sf_lock_take(st->locksfd, rel, 1, timeout_ms, &fd);
    if (rc == ETIMEDOUT)
        return SF_ERR(st, err, ISF_E_TIMEOUT,
                      "store-file: record %s is locked: another isyncsf process holds it "
                      "(%s/" LOCKS_DIR "/%s) and did not let go within %d ms; retry later, or "
                      "find the holder with: fuser %s/" LOCKS_DIR "/%s",
                      name, st->dir, rel, timeout_ms > 0 ? timeout_ms : 0, st->dir, rel);
    if (rc != 0)
        return SF_ERR(st, err, ISF_E_STORE,
                      "store-file: cannot lock record %s (%s/" LOCKS_DIR "/%s): %s; check the "
                      "permissions of that folder",
                      name, st->dir, rel, strerror(rc));
    lk = st->host->alloc(st->host, sizeof(*lk));
    if (!lk) {
        close(fd);
        return SF_ERR(st, err, ISF_E_NOMEM, "store-file: out of memory locking record %s", name);
    }
    lk->fd = fd;
    *lock = lk;
    return ISF_OK;
}

static void sf_unlock(void *store, void *lock)
{
    struct sf_store *st = store;
    struct sf_lock *lk = lock;

    if (!lk)
        return;
    close(lk->fd); /* closing the only descriptor of the open file releases the flock */
    st->host->free(st->host, lk);
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
