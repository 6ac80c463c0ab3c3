/*
 * store-file: put and remove.
 *
 * A write goes to a new temp file in .tmp, which is renamed onto <name>.rec once complete (see
 * write_rec), so readers never need a lock. Put and remove take the record's write lock (sf_lock.h)
 * around reading the current revision, comparing it with the caller's and renaming or deleting,
 * so two processes can never both win the same compare.
 *
 * remove(expected_revision 0) removes whatever the revision, and is the only way to remove a
 * damaged record: the core uses it for `org remove --local-only` on a record it cannot read.
 */
#include "sf_write.h"

#include "sf_fs.h"
#include "sf_lock.h"
#include "sf_read.h"
#include "sf_record.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- writing records ---------------------------------------------------------------------- */

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
    sf_file_name(fname, sizeof(fname), name, ".rec");
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

/* ---- put / remove ------------------------------------------------------------------------- */

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
    int rc = sf_read_rec(st, name, 1, &rec, err);

    sf_rec_release(st, &rec);
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

int sf_put(void *store, const char *name, const void *data, size_t len, uint64_t expected_revision,
           uint64_t *new_revision, struct isf_error *err)
{
    struct sf_store *st = store;
    int wfd = -1;
    int rc = sf_check_name(st, name, err);

    if (rc != ISF_OK)
        return rc;
    if (len > SF_RECORD_MAX_PAYLOAD)
        return SF_ERR(st, err, ISF_E_USAGE,
                      "store-file: record %s is too large (%zu bytes; the limit is %zu)", name, len,
                      SF_RECORD_MAX_PAYLOAD);
    if (!data && len > 0)
        return SF_ERR(st, err, ISF_E_USAGE, "store-file: record %s: no data given", name);
    if ((rc = sf_write_lock(st, name, &wfd, err)) != ISF_OK)
        return rc;
    rc = put_locked(st, name, data ? data : "", len, expected_revision, new_revision, err);
    close(wfd);
    return rc;
}

/* Under the write lock: check the revision and delete. expected 0 skips the check: the core
 * uses it to clear a record it cannot read (`org remove --local-only` on a damaged record), so a
 * damaged file is deleted then, and refused otherwise (no caller can hold its revision). */
static int remove_locked(const struct sf_store *st, const char *name, uint64_t expected,
                         struct isf_error *err)
{
    char fname[SF_FILE_NAME_MAX];
    struct sf_rec rec;
    int rc = sf_read_rec(st, name, 0, &rec, err);

    sf_rec_release(st, &rec);
    if (rc == ISF_OK && expected != 0) {
        rc = check_revision(st, name, rec.revision, expected, err);
    } else if (rc == ISF_E_STORE && rec.damaged && expected == 0) {
        st->host->log(st->host, ISF_LOG_WARN, "record %s is damaged; removing it as asked", name);
        rc = ISF_OK;
    }
    if (rc != ISF_OK)
        return rc;
    sf_file_name(fname, sizeof(fname), name, ".rec");
    if (unlinkat(st->dirfd, fname, 0) != 0)
        return SF_ERR(st, err, ISF_E_STORE,
                      "store-file: cannot remove record %s (%s/%s): %s; check the folder's "
                      "permissions",
                      name, st->dir, fname, strerror(errno));
    return sync_dir(st, name, err);
}

int sf_remove(void *store, const char *name, uint64_t expected_revision, struct isf_error *err)
{
    struct sf_store *st = store;
    int wfd = -1;
    int rc = sf_check_name(st, name, err);

    if (rc != ISF_OK)
        return rc;
    if ((rc = sf_write_lock(st, name, &wfd, err)) != ISF_OK)
        return rc;
    rc = remove_locked(st, name, expected_revision, err);
    if (rc == ISF_OK)
        sf_lock_files_delete(st, name);
    close(wfd);
    return rc;
}
