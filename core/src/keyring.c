/* The master key: where it comes from (key file, environment variable, command), how it is held
 * in memory, and how it is rotated. Sealing with it lives in seal.c. */
#include "keyring.h"

#include "b64.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define KEY_ID_LABEL "isyncsf key id v1"
#define NEXT_SUFFIX ".next"
/* A key file holds 44 characters and a newline; a few hundred bytes is plenty of slack for
 * stray whitespace while refusing to slurp a wrong, large file. */
#define KEY_TEXT_MAX 256
#define COMMAND_OUTPUT_MAX 4096
#define COMMAND_TIMEOUT_MS_DEFAULT 10000L

/* read_key_file's "no such file" outcome: not an error by itself, the caller decides. */
#define KEY_ABSENT 1

enum { SLOT_MAIN = 0, SLOT_NEXT = 1, N_SLOTS = 2 };

struct key_slot {
    int loaded;
    int id_ready; /* the id is computed on first need: see ensure_ids */
    unsigned char id[ISF_KEY_ID_LEN];
    char hex[2 * ISF_KEY_ID_LEN + 1];
};

struct isf_keyring {
    /* The key bytes of every slot, in one page of their own: mlock()ed so they are never
     * swapped out, and excluded from core dumps. Slot i's key is at secure + i * ISF_KEY_LEN. */
    unsigned char *secure;
    size_t secure_len;
    struct key_slot slot[N_SLOTS]; /* MAIN: the configured key; NEXT: a pending rotation key */
    int sealing;                   /* the slot isf_seal uses */
    char *key_file;                /* file source only, else NULL */
    char *next_file;               /* <key_file>.next */
};

static long command_timeout_ms = COMMAND_TIMEOUT_MS_DEFAULT;

void isf_keyring_set_command_timeout_ms(long ms)
{
    command_timeout_ms = ms > 0 ? ms : COMMAND_TIMEOUT_MS_DEFAULT;
}

/* ---------------------------------------------------------------------------------------------
 * Keys in memory */

static unsigned char *slot_key(const struct isf_keyring *kr, int slot)
{
    return kr->secure + (size_t)slot * ISF_KEY_LEN;
}

static int keyring_new(struct isf_keyring **out, struct isf_error *err)
{
    struct isf_keyring *kr = calloc(1, sizeof(*kr));
    if (!kr)
        return isf_err_set(err, ISF_E_NOMEM, "out of memory loading the master key");
    long page = sysconf(_SC_PAGESIZE);
    kr->secure_len = page >= N_SLOTS * ISF_KEY_LEN ? (size_t)page : 4096;
    void *p =
        mmap(NULL, kr->secure_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        free(kr);
        return isf_err_set(err, ISF_E_NOMEM, "cannot map memory for the master key: %s",
                           strerror(errno));
    }
    kr->secure = p;
    /* Best effort: RLIMIT_MEMLOCK may be tiny (containers); the key still works unlocked. */
    (void)mlock(p, kr->secure_len);
#ifdef MADV_DONTDUMP
    (void)madvise(p, kr->secure_len, MADV_DONTDUMP);
#endif
    *out = kr;
    return ISF_OK;
}

void isf_keyring_free(struct isf_keyring *kr)
{
    if (!kr)
        return;
    if (kr->secure) {
        isf_wipe(kr->secure, kr->secure_len);
        (void)munlock(kr->secure, kr->secure_len);
        munmap(kr->secure, kr->secure_len);
    }
    free(kr->key_file);
    free(kr->next_file);
    free(kr);
}

static int compute_key_id(const unsigned char key[ISF_KEY_LEN], unsigned char id[ISF_KEY_ID_LEN])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    int ok = HMAC(EVP_sha256(), key, ISF_KEY_LEN, (const unsigned char *)KEY_ID_LABEL,
                  strlen(KEY_ID_LABEL), mac, &mac_len) != NULL &&
             mac_len >= ISF_KEY_ID_LEN;
    if (ok)
        memcpy(id, mac, ISF_KEY_ID_LEN);
    isf_wipe(mac, sizeof(mac));
    return ok ? 0 : -1;
}

static void id_to_hex(const unsigned char id[ISF_KEY_ID_LEN], char hex[2 * ISF_KEY_ID_LEN + 1])
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < ISF_KEY_ID_LEN; i++) {
        hex[2 * i] = digits[id[i] >> 4];
        hex[2 * i + 1] = digits[id[i] & 15];
    }
    hex[2 * ISF_KEY_ID_LEN] = '\0';
}

static int set_slot(struct isf_keyring *kr, int slot, const unsigned char key[ISF_KEY_LEN],
                    struct isf_error *err)
{
    (void)err;
    struct key_slot *s = &kr->slot[slot];
    memcpy(slot_key(kr, slot), key, ISF_KEY_LEN);
    s->id_ready = 0;
    s->loaded = 1;
    return ISF_OK;
}

/* Key ids are computed when first needed, not at load: the HMAC makes OpenSSL build its digest
 * tables (~3 M instructions), and the hot path (`org token` opening one sealed value under the
 * only key loaded) needs no id at all. The cached id is not part of the keyring's logical state,
 * hence the cast from const. */
static void ensure_ids(const struct isf_keyring *ckr)
{
    struct isf_keyring *kr = (struct isf_keyring *)ckr;
    for (int i = 0; i < N_SLOTS; i++) {
        struct key_slot *s = &kr->slot[i];
        if (!s->loaded || s->id_ready)
            continue;
        if (compute_key_id(slot_key(kr, i), s->id) != 0) {
            /* HMAC-SHA256 cannot fail short of memory exhaustion; an all-zero id then simply
             * matches nothing, and unseal reports the key as unknown. */
            memset(s->id, 0, sizeof(s->id));
        }
        id_to_hex(s->id, s->hex);
        s->id_ready = 1;
    }
}

const unsigned char *isf_keyring_only_key(const struct isf_keyring *kr)
{
    int n = 0, which = 0;
    for (int i = 0; i < N_SLOTS; i++)
        if (kr->slot[i].loaded) {
            n++;
            which = i;
        }
    return n == 1 ? slot_key(kr, which) : NULL;
}

static void clear_slot(struct isf_keyring *kr, int slot)
{
    isf_wipe(slot_key(kr, slot), ISF_KEY_LEN);
    memset(&kr->slot[slot], 0, sizeof(kr->slot[slot]));
}

int isf_keyring_from_bytes(const unsigned char key[ISF_KEY_LEN], struct isf_keyring **out,
                           struct isf_error *err)
{
    struct isf_keyring *kr = NULL;
    if (!out || !key)
        return isf_err_set(err, ISF_E_USAGE, "isf_keyring_from_bytes: missing argument");
    *out = NULL;
    int rc = keyring_new(&kr, err);
    if (rc == ISF_OK && kr)
        rc = set_slot(kr, SLOT_MAIN, key, err);
    if (rc != ISF_OK) {
        isf_keyring_free(kr);
        return rc;
    }
    *out = kr;
    return ISF_OK;
}

const unsigned char *isf_keyring_sealing_key(const struct isf_keyring *kr,
                                             unsigned char id[ISF_KEY_ID_LEN])
{
    ensure_ids(kr);
    memcpy(id, kr->slot[kr->sealing].id, ISF_KEY_ID_LEN);
    return slot_key(kr, kr->sealing);
}

const unsigned char *isf_keyring_key_for_id(const struct isf_keyring *kr,
                                            const unsigned char id[ISF_KEY_ID_LEN])
{
    ensure_ids(kr);
    for (int i = 0; i < N_SLOTS; i++) {
        if (kr->slot[i].loaded && memcmp(kr->slot[i].id, id, ISF_KEY_ID_LEN) == 0)
            return slot_key(kr, i);
    }
    return NULL;
}

void isf_keyring_describe_ids(const struct isf_keyring *kr, char *buf, size_t len)
{
    ensure_ids(kr);
    const struct key_slot *s = &kr->slot[kr->sealing];
    const struct key_slot *o = &kr->slot[kr->sealing == SLOT_MAIN ? SLOT_NEXT : SLOT_MAIN];
    if (o->loaded)
        snprintf(buf, len, "%s and %s", s->hex, o->hex);
    else
        snprintf(buf, len, "%s", s->hex);
}

const char *isf_keyring_current_id(const struct isf_keyring *kr)
{
    if (!kr)
        return "";
    ensure_ids(kr);
    return kr->slot[kr->sealing].hex;
}

/* Base64 text of a key, surrounding whitespace (a trailing newline) allowed, into key. */
static int parse_key_text(const char *text, size_t n, unsigned char key[ISF_KEY_LEN])
{
    static const char ws[] = " \t\r\n";
    while (n > 0 && strchr(ws, text[0]) && text[0] != '\0') {
        text++;
        n--;
    }
    while (n > 0 && strchr(ws, text[n - 1]) && text[n - 1] != '\0')
        n--;
    size_t got = 0;
    int ok = isf_b64_decode_buf(text, n, key, ISF_KEY_LEN, &got) == 0 && got == ISF_KEY_LEN;
    if (!ok)
        isf_wipe(key, ISF_KEY_LEN);
    return ok ? 0 : -1;
}

/* ---------------------------------------------------------------------------------------------
 * File source */

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

/* Returns ISF_OK with the key, KEY_ABSENT (err untouched) when there is no such file, or an
 * ISF_E_STORE error naming the file. */
static int read_key_file(const char *path, unsigned char key[ISF_KEY_LEN], struct isf_error *err)
{
    char buf[KEY_TEXT_MAX + 1];
    int rc = ISF_OK;
    /* O_NONBLOCK: a FIFO planted at the key's path must not hang us; fstat refuses it. */
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return KEY_ABSENT;
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
    if (n > KEY_TEXT_MAX || parse_key_text(buf, (size_t)n, key) != 0)
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

/* Create the key file at `path` with a new random key, or, when another process creates it
 * first, use that one: the key is published with link(), which never replaces an existing
 * file, only after it is complete and on disk, so every racer ends up with the same key. */
static int create_key_file(const char *path, unsigned char key[ISF_KEY_LEN], struct isf_error *err)
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
        rc = read_key_file(path, key, err);
        if (rc == KEY_ABSENT)
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

static int load_file_source(struct isf_keyring *kr, const struct isf_config *cfg, int create,
                            struct isf_error *err)
{
    unsigned char key[ISF_KEY_LEN];
    int rc;
    if (cfg->key_file)
        kr->key_file = strdup(cfg->key_file);
    else if (cfg->data_dir)
        kr->key_file = isf_aprintf("%s/master.key", cfg->data_dir);
    else
        return isf_err_set(err, ISF_E_CONFIG, "no master key file configured (key: {file: PATH})");
    kr->next_file = kr->key_file ? isf_aprintf("%s" NEXT_SUFFIX, kr->key_file) : NULL;
    if (!kr->key_file || !kr->next_file)
        return isf_err_set(err, ISF_E_NOMEM, "out of memory");

    rc = read_key_file(kr->key_file, key, err);
    if (rc == KEY_ABSENT && create)
        rc = create_key_file(kr->key_file, key, err);
    else if (rc == KEY_ABSENT)
        rc = isf_err_set(err, ISF_E_STORE,
                         "master key file %s not found; check key: in the config and "
                         "ISYNCSF_HOME (it is created when the first secret is stored)",
                         kr->key_file);
    if (rc == ISF_OK)
        rc = set_slot(kr, SLOT_MAIN, key, err);
    if (rc != ISF_OK)
        goto cleanup;
    /* A rotation cut short leaves records sealed under the .next key: load it for opening,
     * but keep sealing with the main key until a rotation is begun again. */
    rc = read_key_file(kr->next_file, key, err);
    if (rc == KEY_ABSENT)
        rc = ISF_OK;
    else if (rc == ISF_OK)
        rc = set_slot(kr, SLOT_NEXT, key, err);
cleanup:
    isf_wipe(key, sizeof(key));
    return rc;
}

/* ---------------------------------------------------------------------------------------------
 * Environment source */

static int key_from_env(const char *var, unsigned char key[ISF_KEY_LEN], struct isf_error *err)
{
    if (!var || !*var)
        return isf_err_set(err, ISF_E_CONFIG,
                           "key: {env: VAR} names no variable; give the name of the variable "
                           "that holds the master key");
    const char *v = getenv(var);
    if (!v || !*v)
        return isf_err_set(err, ISF_E_STORE,
                           "master key variable %s is not set; set it to the master key (the "
                           "base64 of 32 bytes; `openssl rand -base64 32` makes a new one)",
                           var);
    if (parse_key_text(v, strlen(v), key) != 0)
        return isf_err_set(err, ISF_E_STORE,
                           "master key variable %s does not hold a key (the base64 of 32 bytes); "
                           "check its value",
                           var);
    return ISF_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Command source: run directly (no shell), stdout is the key. */

static void spawn_cleanup(posix_spawn_file_actions_t *fa, posix_spawnattr_t *attr)
{
    posix_spawn_file_actions_destroy(fa);
    posix_spawnattr_destroy(attr);
}

/* Start argv with stdout on a pipe (returned in *out_fd) and stdin on /dev/null, so the command
 * can neither consume input meant for isyncsf (--client-secret-stdin) nor wait on it. stderr is
 * inherited: what the command says there is for the user. */
static int spawn_command(char *const argv[], pid_t *pid, int *out_fd, struct isf_error *err)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t none, reset;
    int p[2];
    if (pipe(p) != 0)
        return isf_err_set(err, ISF_E_FAILED, "cannot create a pipe: %s", strerror(errno));
    /* Keep the read end (and, after dup2, the write end) out of other children. */
    fcntl(p[0], F_SETFD, FD_CLOEXEC);
    fcntl(p[1], F_SETFD, FD_CLOEXEC);
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    /* The daemon may block or ignore signals; the helper must start with the usual ones. */
    sigemptyset(&none);
    sigemptyset(&reset);
    sigaddset(&reset, SIGPIPE);
    sigaddset(&reset, SIGINT);
    sigaddset(&reset, SIGTERM);
    sigaddset(&reset, SIGHUP);
    sigaddset(&reset, SIGQUIT);
    sigaddset(&reset, SIGCHLD);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &reset);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    int e = posix_spawnp(pid, argv[0], &fa, &attr, argv, environ);
    spawn_cleanup(&fa, &attr);
    close(p[1]);
    if (e != 0) {
        close(p[0]);
        return isf_err_set(err, ISF_E_STORE, "master key command %s could not be started: %s",
                           argv[0], strerror(e));
    }
    *out_fd = p[0];
    return ISF_OK;
}

enum { OUT_DONE = 0, OUT_TIMEOUT = 1, OUT_TOO_BIG = 2, OUT_ERROR = 3 };

/* Collect the command's stdout until EOF, the deadline, or more than `cap` bytes. */
static int read_output(int fd, int64_t deadline, char *buf, size_t cap, size_t *got)
{
    *got = 0;
    for (;;) {
        int64_t left = deadline - isf_monotonic_ms();
        if (left <= 0)
            return OUT_TIMEOUT;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int r = poll(&pfd, 1, (int)(left > 1000 ? 1000 : left));
        if (r < 0 && errno != EINTR)
            return OUT_ERROR;
        if (r <= 0)
            continue;
        ssize_t n = read(fd, buf + *got, cap + 1 - *got);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0)
            return OUT_ERROR;
        if (n == 0)
            return OUT_DONE;
        *got += (size_t)n;
        if (*got > cap)
            return OUT_TOO_BIG;
    }
}

/* Reap pid, waiting no later than the deadline; past it the command is killed. Returns 0 with
 * *status, or 1 when it had to be killed. */
static int wait_child(pid_t pid, int64_t deadline, int *status)
{
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid || (r < 0 && errno != EINTR))
            return 0;
        if (isf_monotonic_ms() >= deadline)
            break;
        struct timespec nap = {0, 5 * 1000 * 1000};
        nanosleep(&nap, NULL);
    }
    kill(pid, SIGKILL);
    while (waitpid(pid, status, 0) < 0 && errno == EINTR)
        ;
    return 1;
}

static int command_failure(const char *cmd, int outcome, int status, struct isf_error *err)
{
    long ms = command_timeout_ms;
    if (outcome == OUT_TIMEOUT)
        return isf_err_set(err, ISF_E_STORE,
                           "master key command %s did not finish within %ld %s and was killed; "
                           "make sure it runs without waiting for input",
                           cmd, ms % 1000 ? ms : ms / 1000, ms % 1000 ? "ms" : "s");
    if (outcome == OUT_TOO_BIG)
        return isf_err_set(err, ISF_E_STORE,
                           "master key command %s printed more than %d bytes; it must print "
                           "only the base64 key",
                           cmd, COMMAND_OUTPUT_MAX);
    if (outcome == OUT_ERROR)
        return isf_err_set(err, ISF_E_STORE, "cannot read the output of master key command %s",
                           cmd);
    if (WIFSIGNALED(status))
        return isf_err_set(err, ISF_E_STORE, "master key command %s was killed by signal %d", cmd,
                           WTERMSIG(status));
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    /* 127 is how a spawn that could not exec reports itself where posix_spawnp cannot (the
     * fork-based fallback some libcs and valgrind use). */
    return isf_err_set(err, ISF_E_STORE,
                       "master key command %s failed (exit status %d%s); run it by hand to see why",
                       cmd, code, code == 127 ? ": not found or not executable?" : "");
}

static int key_from_command(char *const argv[], unsigned char key[ISF_KEY_LEN],
                            struct isf_error *err)
{
    char out[COMMAND_OUTPUT_MAX + 1];
    size_t got = 0;
    pid_t pid = -1;
    int fd = -1, status = 0;
    if (!argv || !argv[0] || !*argv[0])
        return isf_err_set(err, ISF_E_CONFIG,
                           "key: {command: [...]} is empty; give the command and its arguments");
    int64_t deadline = isf_monotonic_ms() + command_timeout_ms;
    int rc = spawn_command(argv, &pid, &fd, err);
    if (rc != ISF_OK)
        return rc;
    int outcome = read_output(fd, deadline, out, COMMAND_OUTPUT_MAX, &got);
    close(fd);
    if (outcome != OUT_DONE)
        deadline = 0; /* no point letting it run on: kill it now */
    if (wait_child(pid, deadline, &status) && outcome == OUT_DONE)
        outcome = OUT_TIMEOUT;
    if (outcome != OUT_DONE || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        rc = command_failure(argv[0], outcome, status, err);
    else if (parse_key_text(out, got, key) != 0)
        rc = isf_err_set(err, ISF_E_STORE,
                         "master key command %s did not print a key (the base64 of 32 bytes)",
                         argv[0]);
    isf_wipe(out, sizeof(out));
    return rc;
}

/* ---------------------------------------------------------------------------------------------
 * Loading and rotation */

int isf_keyring_load(const struct isf_config *cfg, int create, struct isf_keyring **out,
                     struct isf_error *err)
{
    struct isf_keyring *kr = NULL;
    unsigned char key[ISF_KEY_LEN];
    if (!cfg || !out)
        return isf_err_set(err, ISF_E_USAGE, "isf_keyring_load: missing argument");
    *out = NULL;
    int rc = keyring_new(&kr, err);
    if (rc != ISF_OK || !kr)
        return rc != ISF_OK ? rc : ISF_E_NOMEM;
    switch (cfg->key_source) {
    case ISF_KEY_FILE:
        rc = load_file_source(kr, cfg, create, err);
        break;
    case ISF_KEY_ENV:
        rc = key_from_env(cfg->key_env, key, err);
        if (rc == ISF_OK)
            rc = set_slot(kr, SLOT_MAIN, key, err);
        break;
    case ISF_KEY_COMMAND:
        rc = key_from_command(cfg->key_command, key, err);
        if (rc == ISF_OK)
            rc = set_slot(kr, SLOT_MAIN, key, err);
        break;
    default:
        rc = isf_err_set(err, ISF_E_CONFIG, "unknown master key source %d", (int)cfg->key_source);
    }
    isf_wipe(key, sizeof(key));
    if (rc != ISF_OK) {
        isf_keyring_free(kr);
        return rc;
    }
    *out = kr;
    return ISF_OK;
}

/* File source: the pending key loaded with the keyring, else <key file>.next as it is on disk
 * (left by an interrupted rotation, or made by a concurrent one), else a new one. */
static int next_key_from_file(struct isf_keyring *kr, unsigned char key[ISF_KEY_LEN],
                              struct isf_error *err)
{
    if (kr->slot[SLOT_NEXT].loaded) {
        memcpy(key, slot_key(kr, SLOT_NEXT), ISF_KEY_LEN);
        return ISF_OK;
    }
    int rc = read_key_file(kr->next_file, key, err);
    if (rc == KEY_ABSENT)
        rc = create_key_file(kr->next_file, key, err);
    return rc;
}

int isf_keyring_begin_rotation(struct isf_keyring *kr, const char *new_key_env,
                               struct isf_error *err)
{
    unsigned char key[ISF_KEY_LEN], id[ISF_KEY_ID_LEN];
    int rc;
    if (!kr)
        return isf_err_set(err, ISF_E_USAGE, "isf_keyring_begin_rotation: missing keyring");
    ensure_ids(kr);
    if (kr->key_file)
        rc = next_key_from_file(kr, key, err);
    else if (!new_key_env)
        return isf_err_set(err, ISF_E_USAGE,
                           "key rotate with an env/command key needs --new-key-env VAR");
    else
        rc = key_from_env(new_key_env, key, err);
    if (rc != ISF_OK)
        goto cleanup;
    if (compute_key_id(key, id) != 0) {
        rc = isf_err_set(err, ISF_E_FAILED, "cannot compute the master key id (OpenSSL error)");
        goto cleanup;
    }
    if (memcmp(id, kr->slot[SLOT_MAIN].id, ISF_KEY_ID_LEN) == 0) {
        rc = isf_err_set(err, ISF_E_USAGE,
                         "the new master key is the current one (key id %s); give a different key",
                         kr->slot[SLOT_MAIN].hex);
        goto cleanup;
    }
    /* Replacing a pending key would strand whatever was already sealed under it. */
    if (kr->slot[SLOT_NEXT].loaded && memcmp(id, kr->slot[SLOT_NEXT].id, ISF_KEY_ID_LEN) != 0) {
        rc = isf_err_set(err, ISF_E_USAGE,
                         "a rotation to master key id %s is already in progress; commit it first",
                         kr->slot[SLOT_NEXT].hex);
        goto cleanup;
    }
    rc = set_slot(kr, SLOT_NEXT, key, err);
    if (rc == ISF_OK)
        kr->sealing = SLOT_NEXT;
cleanup:
    isf_wipe(key, sizeof(key));
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

/* Put <key file>.next in place of the key file, after checking it still holds the key that
 * everything was just re-sealed with: installing any other key would lose every record. */
static int install_next_file(struct isf_keyring *kr, struct isf_error *err)
{
    unsigned char key[ISF_KEY_LEN], id[ISF_KEY_ID_LEN];
    int rc = read_key_file(kr->next_file, key, err);
    if (rc == KEY_ABSENT)
        rc = isf_err_set(err, ISF_E_STORE,
                         "pending master key file %s disappeared during the rotation; run key "
                         "rotate again",
                         kr->next_file);
    if (rc != ISF_OK)
        goto cleanup;
    if (compute_key_id(key, id) != 0 || memcmp(id, kr->slot[SLOT_NEXT].id, ISF_KEY_ID_LEN) != 0) {
        rc = isf_err_set(err, ISF_E_STORE,
                         "pending master key file %s no longer holds key id %s that this rotation "
                         "used; run key rotate again",
                         kr->next_file, kr->slot[SLOT_NEXT].hex);
        goto cleanup;
    }
    rc = fsync_file(kr->next_file, err);
    if (rc != ISF_OK)
        goto cleanup;
    if (rename(kr->next_file, kr->key_file) != 0) {
        rc = isf_err_set(err, ISF_E_STORE, "cannot replace master key file %s by %s: %s",
                         kr->key_file, kr->next_file, strerror(errno));
        goto cleanup;
    }
    rc = fsync_dir_of(kr->key_file, err);
cleanup:
    isf_wipe(key, sizeof(key));
    return rc;
}

int isf_keyring_commit_rotation(struct isf_keyring *kr, struct isf_error *err)
{
    if (kr)
        ensure_ids(kr);
    if (!kr || kr->sealing != SLOT_NEXT)
        return isf_err_set(err, ISF_E_USAGE, "no master key rotation in progress; begin one first");
    if (kr->key_file) {
        int rc = install_next_file(kr, err);
        if (rc != ISF_OK)
            return rc;
    }
    /* Env/command sources: the new key lives wherever the user keeps it, so only memory changes
     * here. The caller must tell the user to put the new key in their variable or command now:
     * the next run loads whatever that source gives, and only the new key opens the records. */
    memcpy(slot_key(kr, SLOT_MAIN), slot_key(kr, SLOT_NEXT), ISF_KEY_LEN);
    kr->slot[SLOT_MAIN] = kr->slot[SLOT_NEXT];
    clear_slot(kr, SLOT_NEXT);
    kr->sealing = SLOT_MAIN;
    return ISF_OK;
}
