/*
 * store-file: reading records. A record is read without any lock: writers replace the file by
 * rename, so a reader sees either the old record or the new one, never a mix.
 */
#include "sf_read.h"

#include "sf_fs.h"
#include "sf_record.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- reading records ---------------------------------------------------------------------- */

void sf_rec_release(const struct sf_store *st, struct sf_rec *rec)
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

/* See sf_read.h. */
int sf_read_rec(const struct sf_store *st, const char *name, int check_mode, struct sf_rec *rec,
                struct isf_error *err)
{
    char fname[SF_FILE_NAME_MAX];
    int rc;

    memset(rec, 0, sizeof(*rec));
    sf_file_name(fname, sizeof(fname), name, ".rec");
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

/* ---- get ---------------------------------------------------------------------------------- */

int sf_get(void *store, const char *name, struct isf_blob *out, uint64_t *revision,
           struct isf_error *err)
{
    struct sf_store *st = store;
    struct sf_rec rec;
    int rc = sf_check_name(st, name, err);

    if (rc != ISF_OK)
        return rc;
    rc = sf_read_rec(st, name, 1, &rec, err);
    if (rc != ISF_OK || !rec.buf) {
        sf_rec_release(st, &rec);
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
