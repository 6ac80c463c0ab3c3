/* The master key file on disk: reading it with the checks ssh makes of a private key, creating
 * it without ever replacing one (link()), and putting a rotation's <key file>.next in its place. */
#include "keyring_internal.h"

#include "b64.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define NEXT_SUFFIX ".next"
/* A key file holds 44 characters and a newline; a few hundred bytes is plenty of slack for
 * stray whitespace while refusing to slurp a wrong, large file. */
#define KEY_TEXT_MAX 256

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

/* Make a rename or link in the folder of `path` durable. */
static int fsync_dir_of(const char *path, struct isf_error *err)
{
    int rc = ISF_OK;
    char *dir = dir_of(path);
    if (!dir)
        return isf_err_set(err, ISF_E_NOMEM, "out of memory");
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0)
        rc = isf_err_set(err, ISF_E_STORE, "cannot sync folder %s: %s", dir, strerror(errno));
    if (fd >= 0)
        close(fd);
    free(dir);
    return rc;
}

/* mkdir -p of the key's folder; folders we create are 0700 (the key's neighbours are private). */
static int make_parent_dirs(const char *path, struct isf_error *err)
{
    int rc = ISF_OK;
    char *dir = dir_of(path);
    if (!dir)
        return isf_err_set(err, ISF_E_NOMEM, "out of memory");
    for (char *p = dir + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
            rc = isf_err_set(err, ISF_E_STORE, "cannot create folder %s for the master key: %s",
                             dir, strerror(errno));
            break;
        }
        *p = saved;
        if (saved == '\0')
            break;
    }
    free(dir);
    return rc;
}

/* The checks ssh makes of a private key: a regular file, ours, closed to group and others. */
static int check_key_fd(int fd, const char *path, struct isf_error *err)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return isf_err_set(err, ISF_E_STORE, "cannot stat master key file %s: %s", path,
                           strerror(errno));
    if (!S_ISREG(st.st_mode))
        return isf_err_set(err, ISF_E_STORE,
                           "master key file %s is not a regular file; point key: at the key file",
                           path);
    if (st.st_uid != geteuid())
        return isf_err_set(err, ISF_E_STORE,
                           "master key file %s is owned by uid %lu, not by you (uid %lu); "
                           "run isyncsf as its owner or chown it",
                           path, (unsigned long)st.st_uid, (unsigned long)geteuid());
    if (st.st_mode & 077)
        return isf_err_set(err, ISF_E_STORE,
                           "master key file %s is accessible by group or others (mode %04o); "
                           "run: chmod 600 %s",
                           path, (unsigned)(st.st_mode & 07777), path);
    return ISF_OK;
}

/* Read at most cap bytes; more than cap is reported as cap + 1 so the caller can refuse it. */
static ssize_t read_upto(int fd, char *buf, size_t cap)
{
    size_t got = 0;
    while (got <= cap) {
        ssize_t n = read(fd, buf + got, cap + 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

/* O_NOFOLLOW refuses a symbolic link at `path`; check_key_fd refuses the rest. */
int isf_key_file_read(const char *path, unsigned char key[ISF_KEY_LEN], struct isf_error *err)
{
    char buf[KEY_TEXT_MAX + 1];
    int rc = ISF_OK;
    /* O_NONBLOCK: a FIFO planted at the key's path must not hang us; fstat refuses it. */
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return ISF_KEY_ABSENT;
    if (fd < 0 && errno == ELOOP)
        return isf_err_set(err, ISF_E_STORE,
                           "master key file %s is a symbolic link, which is refused; "
                           "point key: at the real file",
                           path);
    if (fd < 0)
        return isf_err_set(err, ISF_E_STORE, "cannot open master key file %s: %s", path,
                           strerror(errno));
    rc = check_key_fd(fd, path, err);
    if (rc != ISF_OK)
        goto cleanup;
    ssize_t n = read_upto(fd, buf, KEY_TEXT_MAX);
    if (n < 0) {
        rc = isf_err_set(err, ISF_E_STORE, "cannot read master key file %s: %s", path,
                         strerror(errno));
        goto cleanup;
    }
    if (n > KEY_TEXT_MAX || isf_key_parse_text(buf, (size_t)n, key) != 0)
        rc = isf_err_set(err, ISF_E_STORE,
                         "master key file %s does not hold a key (the base64 of 32 bytes on one "
                         "line); restore it from a backup or fix key: in the config",
                         path);
cleanup:
    isf_wipe(buf, sizeof(buf));
    close(fd);
    return rc;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Write the key as a new private file `tmp` (never an existing one), synced to disk. */
static int write_temp_key(const char *tmp, const unsigned char key[ISF_KEY_LEN],
                          struct isf_error *err)
{
    int rc = ISF_OK;
    char *b64 = isf_b64_encode(key, ISF_KEY_LEN);
    char line[64];
    if (!b64)
        return isf_err_set(err, ISF_E_NOMEM, "out of memory");
    int n = snprintf(line, sizeof(line), "%s\n", b64);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 || write_all(fd, line, (size_t)n) != 0 || fsync(fd) != 0)
        rc = isf_err_set(err, ISF_E_STORE, "cannot write master key file %s: %s", tmp,
                         strerror(errno));
    if (fd >= 0 && close(fd) != 0 && rc == ISF_OK)
        rc = isf_err_set(err, ISF_E_STORE, "cannot write master key file %s: %s", tmp,
                         strerror(errno));
    if (rc != ISF_OK && fd >= 0)
        unlink(tmp);
    isf_wipe(line, sizeof(line));
    isf_free_secret(b64);
    return rc;
}

static char *temp_name(const char *path)
{
    unsigned char r[6];
    char hex[2 * sizeof(r) + 1];
    if (RAND_bytes(r, sizeof(r)) != 1)
        return NULL;
    for (size_t i = 0; i < sizeof(r); i++)
        snprintf(hex + 2 * i, 3, "%02x", r[i]);
    return isf_aprintf("%s.tmp.%ld.%s", path, (long)getpid(), hex);
}

/* The key is published with link(), which never replaces an existing file, only after it is
 * complete and on disk, so every racer ends up with the same key. */
int isf_key_file_create(const char *path, unsigned char key[ISF_KEY_LEN], struct isf_error *err)
{
    unsigned char fresh[ISF_KEY_LEN];
    char *tmp = NULL;
    int rc = make_parent_dirs(path, err);
    if (rc != ISF_OK)
        goto cleanup;
    if (RAND_bytes(fresh, sizeof(fresh)) != 1 || !(tmp = temp_name(path))) {
        rc = isf_err_set(err, ISF_E_FAILED,
                         "cannot generate a master key (random generator or "
                         "memory failure)");
        goto cleanup;
    }
    rc = write_temp_key(tmp, fresh, err);
    if (rc != ISF_OK)
        goto cleanup;
    int linked = link(tmp, path);
    int link_errno = errno;
    unlink(tmp);
    if (linked == 0) {
        memcpy(key, fresh, ISF_KEY_LEN);
        rc = fsync_dir_of(path, err);
    } else if (link_errno == EEXIST) {
        rc = isf_key_file_read(path, key, err);
        if (rc == ISF_KEY_ABSENT)
            rc = isf_err_set(err, ISF_E_STORE,
                             "master key file %s appeared and vanished while being created; "
                             "try again",
                             path);
    } else {
        rc = isf_err_set(err, ISF_E_STORE, "cannot create master key file %s: %s", path,
                         strerror(link_errno));
    }
cleanup:
    isf_wipe(fresh, sizeof(fresh));
    free(tmp);
    return rc;
}

int isf_key_file_paths(const struct isf_config *cfg, char **key_file, char **next_file,
                       struct isf_error *err)
{
    if (cfg->key_file)
        *key_file = strdup(cfg->key_file);
    else if (cfg->data_dir)
        *key_file = isf_aprintf("%s/master.key", cfg->data_dir);
    else
        return isf_err_set(err, ISF_E_CONFIG, "no master key file configured (key: {file: PATH})");
    *next_file = *key_file ? isf_aprintf("%s" NEXT_SUFFIX, *key_file) : NULL;
    if (!*key_file || !*next_file)
        return isf_err_set(err, ISF_E_NOMEM, "out of memory");
    return ISF_OK;
}

int isf_key_file_load(const char *path, int create, unsigned char key[ISF_KEY_LEN],
                      struct isf_error *err)
{
    int rc = isf_key_file_read(path, key, err);
    if (rc == ISF_KEY_ABSENT && create)
        rc = isf_key_file_create(path, key, err);
    else if (rc == ISF_KEY_ABSENT)
        rc = isf_err_set(err, ISF_E_STORE,
                         "master key file %s not found; check key: in the config and "
                         "ISYNCSF_HOME (it is created when the first secret is stored)",
                         path);
    return rc;
}

static int fsync_file(const char *path, struct isf_error *err)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    int rc = ISF_OK;
    if (fd < 0 || fsync(fd) != 0)
        rc = isf_err_set(err, ISF_E_STORE, "cannot sync %s: %s", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    return rc;
}

/* Installing any other key than the one everything was just re-sealed with would lose every
 * record, hence the check. */
int isf_key_file_install(const char *next_file, const char *key_file,
                         const unsigned char id[ISF_KEY_ID_LEN], const char *id_hex,
                         struct isf_error *err)
{
    unsigned char key[ISF_KEY_LEN], got_id[ISF_KEY_ID_LEN];
    int rc = isf_key_file_read(next_file, key, err);
    if (rc == ISF_KEY_ABSENT)
        rc = isf_err_set(err, ISF_E_STORE,
                         "pending master key file %s disappeared during the rotation; run key "
                         "rotate again",
                         next_file);
    if (rc != ISF_OK)
        goto cleanup;
    if (isf_key_compute_id(key, got_id) != 0 || memcmp(got_id, id, ISF_KEY_ID_LEN) != 0) {
        rc = isf_err_set(err, ISF_E_STORE,
                         "pending master key file %s no longer holds key id %s that this rotation "
                         "used; run key rotate again",
                         next_file, id_hex);
        goto cleanup;
    }
    rc = fsync_file(next_file, err);
    if (rc != ISF_OK)
        goto cleanup;
    if (rename(next_file, key_file) != 0) {
        rc = isf_err_set(err, ISF_E_STORE, "cannot replace master key file %s by %s: %s", key_file,
                         next_file, strerror(errno));
        goto cleanup;
    }
    rc = fsync_dir_of(key_file, err);
cleanup:
    isf_wipe(key, sizeof(key));
    return rc;
}
