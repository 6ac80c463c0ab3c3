/*
 * store-file: the lock files in .locks (see sf_lock.h).
 *
 * Why two lock files: put must work while the caller holds lock() on the same record (the core
 * holds the record lock across a whole refresh and writes inside it), yet the revision check and
 * the rename must be one atomic step against other processes. Both are flock(2) locks: they hold
 * across processes, two opens in one process exclude each other, and the kernel drops them when
 * the holder dies, so a crashed process never leaves a record locked.
 *
 * Lock files: .locks keeps one small empty .wlock file per record and a .lock file per record
 * ever locked. A remove deletes both, except a .lock someone holds (it stays, and is reused if the
 * name comes back). Only the holder of a lock file deletes it, and every taker checks that the
 * file it locked is still the one in the folder (lock_take), so deleting never lets two holders
 * in at once.
 *
 * Lock handles are plain descriptors opened O_CLOEXEC: a child that execs drops them, while a
 * child that forks without exec keeps the lock until it exits, as flock(2) does.
 */
#include "sf_lock.h"

#include "sf_fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* How long put/remove wait for another process's write lock. It is held only for one
 * read-compare-write-rename, so waiting this long means that process is stuck. */
#define WRITE_LOCK_WAIT_MS 10000

struct sf_lock {
    int fd;
};

/* Milliseconds on the monotonic clock. */
static int64_t monotonic_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* ---- taking a lock file ------------------------------------------------------------------- */

/* Whether fd is still the file at dirfd/rel (it was not deleted or replaced meanwhile). */
static int still_linked(int fd, int dirfd, const char *rel)
{
    struct stat a, b;

    if (fstat(fd, &a) != 0 || fstatat(dirfd, rel, &b, AT_SYMLINK_NOFOLLOW) != 0)
        return 0;
    return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static int open_lock_file(int dirfd, const char *rel, int create, int *fd)
{
    int flags = O_RDWR | O_NOFOLLOW | O_CLOEXEC | (create ? O_CREAT : 0);

    *fd = openat(dirfd, rel, flags, 0600);
    return *fd < 0 ? errno : 0;
}

/* Take an exclusive lock on the lock file `rel` inside folder `dirfd`, creating the file (0600)
 * when `create` is set. Waits up to timeout_ms (<= 0: one try). Locks are flock(2) locks, so they
 * hold across processes, conflict between two opens in one process, and vanish when the holder
 * dies. A lock file may be deleted only by its holder; a waiter that wins the lock on a file
 * that was deleted meanwhile notices (inode check) and starts over on the new file.
 * Returns 0 with *fd_out set, ETIMEDOUT, ENOENT (create == 0 and no file) or another errno. */
static int lock_take(int dirfd, const char *rel, int create, int timeout_ms, int *fd_out)
{
    const int64_t deadline = monotonic_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    int pause_ms = 1;
    int fd = -1;
    int rc;

    for (;;) {
        if (fd < 0 && (rc = open_lock_file(dirfd, rel, create, &fd)) != 0)
            return rc;
        if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
            if (still_linked(fd, dirfd, rel)) {
                *fd_out = fd;
                return 0;
            }
            /* We won a lock on a file its previous holder deleted: take the current file. */
            close(fd);
            fd = -1;
            continue;
        }
        rc = errno;
        if (rc == EINTR)
            continue;
        if (rc != EWOULDBLOCK)
            goto fail;
        int64_t left = deadline - monotonic_ms();
        if (left <= 0) {
            rc = ETIMEDOUT;
            goto fail;
        }
        /* Poll: flock has no timed wait, and a blocking wait could not be bounded without
         * signals, which plugins must not install. Back off from 1 ms to 16 ms. */
        sleep_ms(left < pause_ms ? (int)left : pause_ms);
        if (pause_ms < 16)
            pause_ms *= 2;
    }
fail:
    close(fd);
    return rc;
}

/* ---- the internal write lock -------------------------------------------------------------- */

int sf_write_lock(const struct sf_store *st, const char *name, int *fd, struct isf_error *err)
{
    char rel[SF_FILE_NAME_MAX];

    sf_file_name(rel, sizeof(rel), name, ".wlock");
    int rc = lock_take(st->locksfd, rel, 1, WRITE_LOCK_WAIT_MS, fd);
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

/* Delete the caller-visible lock file of a removed record, unless someone holds it. */
static void remove_user_lock_file(const struct sf_store *st, const char *name)
{
    char rel[SF_FILE_NAME_MAX];
    int fd;

    sf_file_name(rel, sizeof(rel), name, ".lock");
    if (lock_take(st->locksfd, rel, 0, 0, &fd) != 0)
        return; /* absent, or held: the holder keeps using it */
    unlinkat(st->locksfd, rel, 0);
    close(fd);
}

void sf_lock_files_delete(const struct sf_store *st, const char *name)
{
    char wrel[SF_FILE_NAME_MAX];

    remove_user_lock_file(st, name);
    /* We hold the write lock, so deleting its file is safe (see lock_take). */
    sf_file_name(wrel, sizeof(wrel), name, ".wlock");
    unlinkat(st->locksfd, wrel, 0);
}

/* ---- the caller-visible record lock ------------------------------------------------------- */

/* timeout_ms <= 0 means one try without waiting. */
int sf_lock(void *store, const char *name, int timeout_ms, void **lock, struct isf_error *err)
{
    struct sf_store *st = store;
    char rel[SF_FILE_NAME_MAX];
    struct sf_lock *lk;
    int fd = -1;
    int rc = sf_check_name(st, name, err);

    *lock = NULL;
    if (rc != ISF_OK)
        return rc;
    sf_file_name(rel, sizeof(rel), name, ".lock");
    rc = lock_take(st->locksfd, rel, 1, timeout_ms, &fd);
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

void sf_unlock(void *store, void *lock)
{
    struct sf_store *st = store;
    struct sf_lock *lk = lock;

    if (!lk)
        return;
    close(lk->fd); /* closing the only descriptor of the open file releases the flock */
    st->host->free(st->host, lk);
}
