/* The master key (file, env and command sources, rotation) and AES-256-GCM sealing. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "b64.h"
#include "config.h"
#include "keyring.h"
#include "util.h"

/* Key 00 01 .. 1f and its id, computed independently (Python hmac) to pin the key id format. */
#define KEY_A_B64 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define KEY_A_ID "2210361a8e978494"
/* Key ff fe .. e0. */
#define KEY_B_B64 "//79/Pv6+fj39vX08/Lx8O/u7ezr6uno5+bl5OPi4eA="
#define KEY_B_ID "da4699d150e045f7"

#define SECRET "s3cr3t-refresh-token-value"

struct fixture {
    char dir[64];
    char key_file[128];
    struct isf_config cfg;
};

/* ------------------------------------------------------------------------------------------ */
/* Helpers */

static void key_a(unsigned char key[ISF_KEY_LEN])
{
    for (int i = 0; i < ISF_KEY_LEN; i++)
        key[i] = (unsigned char)i;
}

static void key_b(unsigned char key[ISF_KEY_LEN])
{
    for (int i = 0; i < ISF_KEY_LEN; i++)
        key[i] = (unsigned char)(0xff - i);
}

static struct isf_keyring *keyring_a(void)
{
    unsigned char key[ISF_KEY_LEN];
    struct isf_keyring *kr = NULL;
    struct isf_error err;
    isf_err_init(&err);
    key_a(key);
    assert_int_equal(isf_keyring_from_bytes(key, &kr, &err), ISF_OK);
    return kr;
}

static struct isf_keyring *keyring_b(void)
{
    unsigned char key[ISF_KEY_LEN];
    struct isf_keyring *kr = NULL;
    struct isf_error err;
    isf_err_init(&err);
    key_b(key);
    assert_int_equal(isf_keyring_from_bytes(key, &kr, &err), ISF_OK);
    return kr;
}

/* rm -rf of the fixture folder (symbolic links removed, never followed). */
static void rm_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        for (struct dirent *e; d && (e = readdir(d));) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char *child = isf_aprintf("%s/%s", path, e->d_name);
            rm_tree(child);
            free(child);
        }
        if (d)
            closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    umask(022); /* a lax umask: created files must still come out 0600 / 0700 */
    snprintf(f->dir, sizeof(f->dir), "/tmp/isf-keyring-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->key_file, sizeof(f->key_file), "%s/data/sub/master.key", f->dir);
    f->cfg.key_source = ISF_KEY_FILE;
    f->cfg.key_file = f->key_file;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    rm_tree(f->dir);
    unsetenv("ISF_TEST_KEY");
    unsetenv("ISF_TEST_NEW_KEY");
    isf_keyring_set_command_timeout_ms(0);
    free(f);
    return 0;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

static void read_file(const char *path, char *buf, size_t cap)
{
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    size_t n = fread(buf, 1, cap - 1, fp);
    buf[n] = '\0';
    fclose(fp);
}

/* Key file in a folder that exists, with the given content and mode. */
static void put_key_file(struct fixture *f, const char *text, mode_t mode)
{
    snprintf(f->key_file, sizeof(f->key_file), "%s/master.key", f->dir);
    write_file(f->key_file, text, mode);
}

static char *seal_ok(const struct isf_keyring *kr, const char *rec, const char *field,
                     const char *text)
{
    char *sealed = NULL;
    struct isf_error err;
    isf_err_init(&err);
    assert_int_equal(isf_seal(kr, rec, field, text, strlen(text), &sealed, &err), ISF_OK);
    assert_non_null(sealed);
    return sealed;
}

static void assert_unseals_to(const struct isf_keyring *kr, const char *rec, const char *field,
                              const char *sealed, const char *want)
{
    char *pt = NULL;
    size_t len = 0;
    struct isf_error err;
    isf_err_init(&err);
    int rc = isf_unseal(kr, rec, field, sealed, &pt, &len, &err);
    if (rc != ISF_OK)
        fail_msg("unseal failed: %s", err.message);
    assert_int_equal(len, strlen(want));
    assert_string_equal(pt, want);
    isf_free_secret(pt);
}

/* Unseal must fail with ISF_E_STORE, a message containing `want` and naming record and field,
 * never the plaintext, and leave no output. */
static void assert_unseal_fails(const struct isf_keyring *kr, const char *rec, const char *field,
                                const char *sealed, const char *want)
{
    char *pt = (char *)"untouched";
    struct isf_error err;
    isf_err_init(&err);
    assert_int_equal(isf_unseal(kr, rec, field, sealed, &pt, NULL, &err), ISF_E_STORE);
    assert_null(pt);
    if (!strstr(err.message, want))
        fail_msg("message \"%s\" lacks \"%s\"", err.message, want);
    assert_non_null(strstr(err.message, rec));
    assert_non_null(strstr(err.message, field));
    assert_null(strstr(err.message, SECRET));
}

/* Decode a sealed value, flip bit `mask` of byte `at`, encode it again. */
static char *flip_bit(const char *sealed, size_t at, unsigned char mask)
{
    unsigned char *blob = NULL;
    size_t len = 0;
    assert_int_equal(isf_b64_decode(sealed, strlen(sealed), &blob, &len), 0);
    assert_true(at < len);
    blob[at] ^= mask;
    char *out = isf_b64_encode(blob, len);
    free(blob);
    return out;
}

static struct isf_error load_err(const struct isf_config *cfg, int create, int want_rc)
{
    struct isf_keyring *kr = NULL;
    struct isf_error err;
    isf_err_init(&err);
    assert_int_equal(isf_keyring_load(cfg, create, &kr, &err), want_rc);
    assert_null(kr);
    return err;
}

static struct isf_keyring *load_ok(const struct isf_config *cfg, int create)
{
    struct isf_keyring *kr = NULL;
    struct isf_error err;
    isf_err_init(&err);
    int rc = isf_keyring_load(cfg, create, &kr, &err);
    if (rc != ISF_OK)
        fail_msg("load failed: %s", err.message);
    return kr;
}

static void assert_contains(const char *msg, const char *part)
{
    if (!strstr(msg, part))
        fail_msg("message \"%s\" lacks \"%s\"", msg, part);
}

static mode_t mode_of(const char *path)
{
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    return st.st_mode & 07777;
}

/* Entries of a folder other than . and .. */
static int count_entries(const char *path)
{
    DIR *d = opendir(path);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Base64 */

static void test_b64_vectors(void **state)
{
    (void)state;
    static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const enc[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                      "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
        char *e = isf_b64_encode(plain[i], strlen(plain[i]));
        assert_string_equal(e, enc[i]);
        free(e);
        unsigned char *d = NULL;
        size_t len = 0;
        assert_int_equal(isf_b64_decode(enc[i], strlen(enc[i]), &d, &len), 0);
        assert_int_equal(len, strlen(plain[i]));
        assert_memory_equal(d, plain[i], len);
        free(d);
    }
    /* Every byte value round-trips (the branch-free mapping covers the whole alphabet). */
    unsigned char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    char *e = isf_b64_encode(all, sizeof(all));
    unsigned char *d = NULL;
    size_t len = 0;
    assert_int_equal(isf_b64_decode(e, strlen(e), &d, &len), 0);
    assert_int_equal(len, sizeof(all));
    assert_memory_equal(d, all, len);
    free(d);
    free(e);
}

static void test_b64_rejects(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "Zg=",      /* not a multiple of 4 */
        "Zg",       /* missing padding */
        "Z===",     /* too much padding */
        "=Zg=",     /* padding first */
        "Zg==Zm9v", /* padding in the middle */
        "Zh==",     /* stray bits under the padding */
        "Zm9=",     /* stray bits under the padding */
        "Zm9v\n",   /* whitespace */
        "Zm 9",     /* whitespace */
        "Zm9-",     /* base64url alphabet */
        "Zm9\x80",  /* high byte */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        unsigned char *d = (unsigned char *)"x";
        size_t len = 0;
        if (isf_b64_decode(bad[i], strlen(bad[i]), &d, &len) != -1)
            fail_msg("accepted invalid base64 \"%s\"", bad[i]);
        assert_null(d);
    }
    unsigned char small[2];
    size_t len = 0;
    assert_int_equal(isf_b64_decode_buf("Zm9v", 4, small, sizeof(small), &len), -1);
}

/* ------------------------------------------------------------------------------------------ */
/* Sealing */

static void test_key_id(void **state)
{
    (void)state;
    struct isf_keyring *a = keyring_a(), *b = keyring_b();
    assert_string_equal(isf_keyring_current_id(a), KEY_A_ID);
    assert_string_equal(isf_keyring_current_id(b), KEY_B_ID);
    isf_keyring_free(a);
    isf_keyring_free(b);
    isf_keyring_free(NULL);
}

static void test_round_trip(void **state)
{
    (void)state;
    struct isf_keyring *kr = keyring_a();
    char *sealed = seal_ok(kr, "acme-prod", "refresh_token", SECRET);
    assert_null(strstr(sealed, SECRET));
    assert_unseals_to(kr, "acme-prod", "refresh_token", sealed, SECRET);
    free(sealed);

    sealed = seal_ok(kr, "acme-prod", "client_secret", "");
    assert_unseals_to(kr, "acme-prod", "client_secret", sealed, "");
    free(sealed);

    /* 10 KB of every byte value, NULs included: the length is what counts. */
    size_t big_len = 10 * 1024;
    unsigned char *big = malloc(big_len);
    for (size_t i = 0; i < big_len; i++)
        big[i] = (unsigned char)(i * 7);
    struct isf_error err;
    isf_err_init(&err);
    assert_int_equal(isf_seal(kr, "r", "f", big, big_len, &sealed, &err), ISF_OK);
    char *pt = NULL;
    size_t len = 0;
    assert_int_equal(isf_unseal(kr, "r", "f", sealed, &pt, &len, &err), ISF_OK);
    assert_int_equal(len, big_len);
    assert_memory_equal(pt, big, big_len);
    assert_int_equal(pt[len], '\0');
    free(pt);
    free(sealed);
    free(big);
    isf_keyring_free(kr);
}

/* The exact envelope, checked by decrypting with OpenSSL directly. */
static void test_format(void **state)
{
    (void)state;
    struct isf_keyring *kr = keyring_a();
    char *sealed = seal_ok(kr, "rec", "fld", SECRET);
    unsigned char *blob = NULL;
    size_t len = 0;
    assert_int_equal(isf_b64_decode(sealed, strlen(sealed), &blob, &len), 0);
    size_t n = strlen(SECRET);
    assert_int_equal(len, 1 + 8 + 12 + n + 16);
    assert_int_equal(blob[0], 0x01);
    static const unsigned char id_a[8] = {0x22, 0x10, 0x36, 0x1a, 0x8e, 0x97, 0x84, 0x94};
    assert_memory_equal(blob + 1, id_a, 8);

    unsigned char key[ISF_KEY_LEN], out[64];
    /* "isyncsf/v1" NUL "rec" NUL "fld" NUL, then the version byte and key id from the blob. */
    static const unsigned char prefix[] = "isyncsf/v1\0rec\0fld";
    unsigned char aad[sizeof(prefix) + 9];
    memcpy(aad, prefix, sizeof(prefix));
    memcpy(aad + sizeof(prefix), blob, 9);
    int outl = 0;
    key_a(key);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    assert_int_equal(EVP_DecryptInit_ex2(ctx, EVP_aes_256_gcm(), key, blob + 9, NULL), 1);
    assert_int_equal(EVP_DecryptUpdate(ctx, NULL, &outl, aad, (int)sizeof(aad)), 1);
    assert_int_equal(EVP_DecryptUpdate(ctx, out, &outl, blob + 21, (int)n), 1);
    assert_int_equal(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, blob + 21 + n), 1);
    assert_true(EVP_DecryptFinal_ex(ctx, out + outl, &outl) > 0);
    EVP_CIPHER_CTX_free(ctx);
    assert_memory_equal(out, SECRET, n);
    free(blob);
    free(sealed);
    isf_keyring_free(kr);
}

static void test_fresh_nonce(void **state)
{
    (void)state;
    struct isf_keyring *kr = keyring_a();
    char *s1 = seal_ok(kr, "r", "f", SECRET);
    char *s2 = seal_ok(kr, "r", "f", SECRET);
    assert_string_not_equal(s1, s2);
    assert_unseals_to(kr, "r", "f", s1, SECRET);
    assert_unseals_to(kr, "r", "f", s2, SECRET);
    free(s1);
    free(s2);
    isf_keyring_free(kr);
}

static void test_moved_value_fails(void **state)
{
    (void)state;
    struct isf_keyring *kr = keyring_a();
    char *sealed = seal_ok(kr, "acme-prod", "refresh_token", SECRET);
    const char *msg = "failed authentication: tampered, or moved from another record/field";
    assert_unseal_fails(kr, "acme-dev", "refresh_token", sealed, msg);
    assert_unseal_fails(kr, "acme-prod", "access_token", sealed, msg);
    /* The NUL separators keep "ab"+"c" and "a"+"bc" apart. */
    char *s2 = seal_ok(kr, "ab", "c", SECRET);
    assert_unseal_fails(kr, "a", "bc", s2, msg);
    free(s2);
    free(sealed);
    isf_keyring_free(kr);
}

/* One flipped bit anywhere fails, with the message of the part it hit. */
static void test_bit_flips(void **state)
{
    (void)state;
    struct isf_keyring *kr = keyring_a();
    char *sealed = seal_ok(kr, "rec", "fld", SECRET);
    size_t total = 1 + 8 + 12 + strlen(SECRET) + 16;
    for (size_t at = 0; at < total; at++) {
        for (unsigned char mask = 1; mask; mask = (unsigned char)(mask << 1)) {
            char *bad = flip_bit(sealed, at, mask);
            const char *want = at == 0  ? "format version"
                               : at < 9 ? "was sealed with master key id"
                                        : "failed authentication";
            assert_unseal_fails(kr, "rec", "fld", bad, want);
            free(bad);
        }
    }
    /* The key id message names both ids. */
    char *bad = flip_bit(sealed, 1, 0x01);
    assert_unseal_fails(kr, "rec", "fld", bad, "the loaded key is " KEY_A_ID);
    free(bad);
    free(sealed);
    isf_keyring_free(kr);
}

static void test_truncated_and_garbage(void **state)
{
    (void)state;
    struct isf_keyring *kr = keyring_a();
    char *sealed = seal_ok(kr, "rec", "fld", SECRET);
    size_t n = strlen(sealed);
    char *cut = strndup(sealed, n - 4); /* still base64, three bytes of tag short */
    assert_unseal_fails(kr, "rec", "fld", cut, "failed authentication");
    free(cut);
    cut = strndup(sealed, 48); /* shorter than the envelope itself */
    assert_unseal_fails(kr, "rec", "fld", cut, "truncated");
    free(cut);
    cut = strndup(sealed, n - 1);
    assert_unseal_fails(kr, "rec", "fld", cut, "not valid base64 (corrupt record)");
    free(cut);
    assert_unseal_fails(kr, "rec", "fld", "", "truncated");
    assert_unseal_fails(kr, "rec", "fld", "not base64 at all!", "not valid base64");
    char *spaced = isf_aprintf("%s\n", sealed);
    assert_unseal_fails(kr, "rec", "fld", spaced, "not valid base64");
    free(spaced);
    free(sealed);
    isf_keyring_free(kr);
}

static void test_wrong_key(void **state)
{
    (void)state;
    struct isf_keyring *a = keyring_a(), *b = keyring_b();
    char *sealed = seal_ok(a, "acme", "refresh_token", SECRET);
    assert_unseal_fails(b, "acme", "refresh_token", sealed,
                        "record acme field refresh_token was sealed with master key id " KEY_A_ID
                        ", but the loaded key is " KEY_B_ID
                        ": wrong master key? (check key: in the config / ISYNCSF_HOME)");
    assert_true(isf_sealed_under_current(a, sealed));
    assert_false(isf_sealed_under_current(b, sealed));
    assert_false(isf_sealed_under_current(a, "garbage"));
    assert_false(isf_sealed_under_current(a, ""));
    free(sealed);
    isf_keyring_free(a);
    isf_keyring_free(b);
}

/* ------------------------------------------------------------------------------------------ */
/* File source */

static void test_file_created_then_reused(void **state)
{
    struct fixture *f = *state;
    struct isf_error err = load_err(&f->cfg, 0, ISF_E_STORE);
    assert_contains(err.message, "master key file");
    assert_contains(err.message, f->key_file);
    assert_contains(err.message, "not found");
    assert_false(exists(f->key_file));

    struct isf_keyring *kr = load_ok(&f->cfg, 1);
    char id[32];
    snprintf(id, sizeof(id), "%s", isf_keyring_current_id(kr));
    assert_int_equal(strlen(id), 16);
    assert_int_equal(mode_of(f->key_file), 0600);
    char sub[160];
    snprintf(sub, sizeof(sub), "%s/data/sub", f->dir);
    assert_int_equal(mode_of(sub), 0700);
    snprintf(sub, sizeof(sub), "%s/data", f->dir);
    assert_int_equal(mode_of(sub), 0700);
    char text[128];
    read_file(f->key_file, text, sizeof(text));
    assert_int_equal(strlen(text), 45); /* 44 base64 characters and a newline */
    assert_int_equal(text[44], '\n');
    char *sealed = seal_ok(kr, "r", "f", SECRET);
    isf_keyring_free(kr);

    kr = load_ok(&f->cfg, 1);
    assert_string_equal(isf_keyring_current_id(kr), id);
    assert_unseals_to(kr, "r", "f", sealed, SECRET);
    isf_keyring_free(kr);
    kr = load_ok(&f->cfg, 0);
    assert_string_equal(isf_keyring_current_id(kr), id);
    isf_keyring_free(kr);
    free(sealed);

    /* No temporary file left behind. */
    snprintf(sub, sizeof(sub), "%s/data/sub", f->dir);
    assert_int_equal(count_entries(sub), 1);
}

static void test_file_known_key(void **state)
{
    struct fixture *f = *state;
    put_key_file(f, KEY_A_B64 "\n", 0600);
    struct isf_keyring *kr = load_ok(&f->cfg, 0);
    assert_string_equal(isf_keyring_current_id(kr), KEY_A_ID);
    isf_keyring_free(kr);
    put_key_file(f, KEY_B_B64, 0400); /* no newline, read-only: fine */
    kr = load_ok(&f->cfg, 0);
    assert_string_equal(isf_keyring_current_id(kr), KEY_B_ID);
    isf_keyring_free(kr);
}

static void test_file_loose_mode_refused(void **state)
{
    struct fixture *f = *state;
    put_key_file(f, KEY_A_B64 "\n", 0644);
    struct isf_error err = load_err(&f->cfg, 1, ISF_E_STORE);
    char want[512];
    snprintf(want, sizeof(want),
             "master key file %s is accessible by group or others (mode 0644); run: chmod 600 %s",
             f->key_file, f->key_file);
    assert_string_equal(err.message, want);
    assert_null(strstr(err.message, KEY_A_B64));
    chmod(f->key_file, 0660);
    err = load_err(&f->cfg, 1, ISF_E_STORE);
    assert_contains(err.message, "(mode 0660)");
    chmod(f->key_file, 0600);
    isf_keyring_free(load_ok(&f->cfg, 0));
}

static void test_file_garbage_refused(void **state)
{
    struct fixture *f = *state;
    static const char *const bad[] = {
        "this is not a key\n",
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd\n",         /* 30 bytes */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gIQ==\n", /* 34 bytes */
        "AAECAwQFBgcICQoLDA0ODxAR\nEhMUFRYXGBkaGxwdHh8=\n",   /* two lines */
        "",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        put_key_file(f, bad[i], 0600);
        struct isf_error err = load_err(&f->cfg, 1, ISF_E_STORE);
        assert_contains(err.message, f->key_file);
        assert_contains(err.message, "does not hold a key");
    }
    /* Refused, not replaced: the file is left for the user to restore. */
    char text[64];
    read_file(f->key_file, text, sizeof(text));
    assert_string_equal(text, "");
}

static void test_file_symlink_and_dir_refused(void **state)
{
    struct fixture *f = *state;
    char real[128];
    snprintf(real, sizeof(real), "%s/real.key", f->dir);
    write_file(real, KEY_A_B64 "\n", 0600);
    snprintf(f->key_file, sizeof(f->key_file), "%s/master.key", f->dir);
    assert_int_equal(symlink(real, f->key_file), 0);
    struct isf_error err = load_err(&f->cfg, 1, ISF_E_STORE);
    assert_contains(err.message, "symbolic link");
    assert_contains(err.message, f->key_file);
    /* A dangling link is refused too, not followed to create a key elsewhere. */
    unlink(real);
    err = load_err(&f->cfg, 1, ISF_E_STORE);
    assert_contains(err.message, "symbolic link");
    assert_false(exists(real));

    unlink(f->key_file);
    assert_int_equal(mkdir(f->key_file, 0700), 0);
    err = load_err(&f->cfg, 1, ISF_E_STORE);
    assert_contains(err.message, "not a regular file");
}

/* Several processes creating the key at once all end up with the one key on disk. */
static void test_file_concurrent_create(void **state)
{
    struct fixture *f = *state;
    enum { N = 8 };
    int go[2], ids[2];
    pid_t pids[N];
    assert_int_equal(pipe(go), 0);
    assert_int_equal(pipe(ids), 0);
    for (int i = 0; i < N; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            char c;
            close(go[1]);
            (void)!read(go[0], &c, 1); /* wait until every racer is ready */
            struct isf_keyring *kr = NULL;
            struct isf_error err;
            isf_err_init(&err);
            char line[17] = "xxxxxxxxxxxxxxxx";
            if (isf_keyring_load(&f->cfg, 1, &kr, &err) == ISF_OK)
                memcpy(line, isf_keyring_current_id(kr), 16);
            (void)!write(ids[1], line, 16);
            _exit(0);
        }
    }
    close(go[0]);
    close(go[1]); /* start them all */
    close(ids[1]);
    char got[N][17];
    for (int i = 0; i < N; i++) {
        size_t have = 0;
        while (have < 16) {
            ssize_t n = read(ids[0], got[i] + have, 16 - have);
            assert_true(n > 0);
            have += (size_t)n;
        }
        got[i][16] = '\0';
    }
    close(ids[0]);
    for (int i = 0; i < N; i++) {
        int st;
        assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
    }
    struct isf_keyring *kr = load_ok(&f->cfg, 0);
    for (int i = 0; i < N; i++)
        assert_string_equal(got[i], isf_keyring_current_id(kr));
    isf_keyring_free(kr);
}

/* ------------------------------------------------------------------------------------------ */
/* Env source */

static void test_env_source(void **state)
{
    struct fixture *f = *state;
    f->cfg.key_source = ISF_KEY_ENV;
    f->cfg.key_env = (char *)"ISF_TEST_KEY";
    setenv("ISF_TEST_KEY", KEY_A_B64, 1);
    struct isf_keyring *kr = load_ok(&f->cfg, 1);
    assert_string_equal(isf_keyring_current_id(kr), KEY_A_ID);
    isf_keyring_free(kr);
    assert_false(exists(f->key_file)); /* never touches a key file */

    unsetenv("ISF_TEST_KEY");
    struct isf_error err = load_err(&f->cfg, 1, ISF_E_STORE);
    assert_contains(err.message, "ISF_TEST_KEY is not set");
    setenv("ISF_TEST_KEY", "", 1);
    err = load_err(&f->cfg, 1, ISF_E_STORE);
    assert_contains(err.message, "ISF_TEST_KEY is not set");

    static const char *const bad[] = {"TOPSECRETVALUE", KEY_A_B64 "AAAA",
                                      "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        setenv("ISF_TEST_KEY", bad[i], 1);
        err = load_err(&f->cfg, 1, ISF_E_STORE);
        assert_contains(err.message, "ISF_TEST_KEY does not hold a key");
        assert_null(strstr(err.message, bad[i]));
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Command source */

static void test_command_source(void **state)
{
    struct fixture *f = *state;
    char *echo_ok[] = {(char *)"/bin/echo", (char *)KEY_A_B64, NULL};
    f->cfg.key_source = ISF_KEY_COMMAND;
    f->cfg.key_command = echo_ok;
    struct isf_keyring *kr = load_ok(&f->cfg, 1);
    assert_string_equal(isf_keyring_current_id(kr), KEY_A_ID);
    isf_keyring_free(kr);

    char *path_lookup[] = {(char *)"echo", (char *)"  " KEY_B_B64 "  ", NULL};
    f->cfg.key_command = path_lookup;
    kr = load_ok(&f->cfg, 1);
    assert_string_equal(isf_keyring_current_id(kr), KEY_B_ID);
    isf_keyring_free(kr);

    /* No shell: metacharacters are plain arguments, so this prints them and is not a key. */
    char *no_shell[] = {(char *)"/bin/echo", (char *)KEY_A_B64 "; true", NULL};
    f->cfg.key_command = no_shell;
    struct isf_error err = load_err(&f->cfg, 1, ISF_E_STORE);
    assert_contains(err.message, "master key command /bin/echo did not print a key");
    assert_null(strstr(err.message, KEY_A_B64));
}

static void test_command_failures(void **state)
{
    struct fixture *f = *state;
    f->cfg.key_source = ISF_KEY_COMMAND;

    char *failing[] = {(char *)"/bin/false", NULL};
    f->cfg.key_command = failing;
    struct isf_error err = load_err(&f->cfg, 1, ISF_E_STORE);
    assert_contains(err.message, "master key command /bin/false failed (exit status 1)");

    char *missing[] = {(char *)"/nonexistent/isf-key-helper", NULL};
    f->cfg.key_command = missing;
    err = load_err(&f->cfg, 1, ISF_E_STORE);
    /* glibc reports a failed exec from posix_spawnp; a fork-based spawn (valgrind) exits 127. */
    if (!strstr(err.message, "/nonexistent/isf-key-helper could not be started"))
        assert_contains(err.message, "/nonexistent/isf-key-helper failed (exit status 127: not "
                                     "found or not executable?)");

    char *chatty[] = {(char *)"head", (char *)"-c", (char *)"100000", (char *)"/dev/zero", NULL};
    f->cfg.key_command = chatty;
    err = load_err(&f->cfg, 1, ISF_E_STORE);
    assert_contains(err.message, "printed more than 4096 bytes");

    char *empty[] = {NULL};
    f->cfg.key_command = empty;
    err = load_err(&f->cfg, 1, ISF_E_CONFIG);
    assert_contains(err.message, "empty");
}

static void test_command_timeout(void **state)
{
    struct fixture *f = *state;
    char *slow[] = {(char *)"/bin/sleep", (char *)"30", NULL};
    f->cfg.key_source = ISF_KEY_COMMAND;
    f->cfg.key_command = slow;
    isf_keyring_set_command_timeout_ms(300);
    int64_t t0 = isf_monotonic_ms();
    struct isf_error err = load_err(&f->cfg, 1, ISF_E_STORE);
    int64_t took = isf_monotonic_ms() - t0;
    assert_contains(err.message, "master key command /bin/sleep did not finish within 300 ms");
    assert_true(took >= 250 && took < 5000);
    /* The child was killed and reaped: nothing left to wait for. */
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
    assert_int_equal(errno, ECHILD);
}

/* ------------------------------------------------------------------------------------------ */
/* Rotation */

static char *next_path(const struct fixture *f)
{
    return isf_aprintf("%s.next", f->key_file);
}

static void test_rotation_file(void **state)
{
    struct fixture *f = *state;
    char *next = next_path(f);
    struct isf_keyring *kr = load_ok(&f->cfg, 1);
    char old_id[17];
    snprintf(old_id, sizeof(old_id), "%s", isf_keyring_current_id(kr));
    char *old_sealed = seal_ok(kr, "r", "f", "old secret");
    assert_true(isf_sealed_under_current(kr, old_sealed));

    struct isf_error err;
    isf_err_init(&err);
    assert_int_equal(isf_keyring_commit_rotation(kr, &err), ISF_E_USAGE); /* nothing begun */
    assert_int_equal(isf_keyring_begin_rotation(kr, NULL, &err), ISF_OK);
    assert_true(exists(next));
    assert_int_equal(mode_of(next), 0600);
    char new_id[17];
    snprintf(new_id, sizeof(new_id), "%s", isf_keyring_current_id(kr));
    assert_string_not_equal(new_id, old_id);
    assert_false(isf_sealed_under_current(kr, old_sealed));
    char *new_sealed = seal_ok(kr, "r", "f", "new secret");
    assert_true(isf_sealed_under_current(kr, new_sealed));
    assert_unseals_to(kr, "r", "f", old_sealed, "old secret");
    assert_unseals_to(kr, "r", "f", new_sealed, "new secret");
    /* Beginning again in the same process keeps the same pending key. */
    assert_int_equal(isf_keyring_begin_rotation(kr, NULL, &err), ISF_OK);
    assert_string_equal(isf_keyring_current_id(kr), new_id);

    assert_int_equal(isf_keyring_commit_rotation(kr, &err), ISF_OK);
    assert_string_equal(isf_keyring_current_id(kr), new_id);
    assert_false(exists(next));
    assert_int_equal(mode_of(f->key_file), 0600);
    /* The old key is gone from memory. */
    assert_unseal_fails(kr, "r", "f", old_sealed, "was sealed with master key id");
    assert_unseals_to(kr, "r", "f", new_sealed, "new secret");
    isf_keyring_free(kr);

    /* The key file now holds the new key. */
    kr = load_ok(&f->cfg, 0);
    assert_string_equal(isf_keyring_current_id(kr), new_id);
    assert_unseals_to(kr, "r", "f", new_sealed, "new secret");
    assert_unseal_fails(kr, "r", "f", old_sealed, old_id);
    isf_keyring_free(kr);
    free(old_sealed);
    free(new_sealed);
    free(next);
}

static void test_rotation_interrupted(void **state)
{
    struct fixture *f = *state;
    char *next = next_path(f);
    struct isf_error err;
    isf_err_init(&err);
    struct isf_keyring *kr = load_ok(&f->cfg, 1);
    char old_id[17], new_id[17];
    snprintf(old_id, sizeof(old_id), "%s", isf_keyring_current_id(kr));
    char *old_sealed = seal_ok(kr, "r", "f", "old secret");
    assert_int_equal(isf_keyring_begin_rotation(kr, NULL, &err), ISF_OK);
    snprintf(new_id, sizeof(new_id), "%s", isf_keyring_current_id(kr));
    char *new_sealed = seal_ok(kr, "r", "f", "new secret");
    isf_keyring_free(kr); /* cut short: no commit */

    /* Both keys open, but sealing stays with the main key until a rotation begins again. */
    kr = load_ok(&f->cfg, 0);
    assert_string_equal(isf_keyring_current_id(kr), old_id);
    assert_unseals_to(kr, "r", "f", old_sealed, "old secret");
    assert_unseals_to(kr, "r", "f", new_sealed, "new secret");
    assert_true(isf_sealed_under_current(kr, old_sealed));
    assert_false(isf_sealed_under_current(kr, new_sealed));
    /* A wrong key message lists both loaded ids. */
    char *bad = flip_bit(old_sealed, 1, 0x80);
    char want[64];
    snprintf(want, sizeof(want), "the loaded key is %s and %s", old_id, new_id);
    assert_unseal_fails(kr, "r", "f", bad, want);
    free(bad);

    assert_int_equal(isf_keyring_begin_rotation(kr, NULL, &err), ISF_OK);
    assert_string_equal(isf_keyring_current_id(kr), new_id); /* the same .next, reused */
    assert_true(isf_sealed_under_current(kr, new_sealed));
    assert_int_equal(isf_keyring_commit_rotation(kr, &err), ISF_OK);
    isf_keyring_free(kr);
    assert_false(exists(next));

    /* A loose .next is refused like the key file itself. */
    kr = load_ok(&f->cfg, 0);
    assert_int_equal(isf_keyring_begin_rotation(kr, NULL, &err), ISF_OK);
    isf_keyring_free(kr);
    chmod(next, 0640);
    struct isf_error e2 = load_err(&f->cfg, 0, ISF_E_STORE);
    assert_contains(e2.message, next);
    assert_contains(e2.message, "mode 0640");
    free(old_sealed);
    free(new_sealed);
    free(next);
}

/* A rotation commits only the key it sealed with: a .next replaced behind its back is refused. */
static void test_rotation_commit_checks_next(void **state)
{
    struct fixture *f = *state;
    char *next = next_path(f);
    struct isf_error err;
    isf_err_init(&err);
    struct isf_keyring *kr = load_ok(&f->cfg, 1);
    char old_id[17];
    snprintf(old_id, sizeof(old_id), "%s", isf_keyring_current_id(kr));
    assert_int_equal(isf_keyring_begin_rotation(kr, NULL, &err), ISF_OK);
    write_file(next, KEY_B_B64 "\n", 0600);
    assert_int_equal(isf_keyring_commit_rotation(kr, &err), ISF_E_STORE);
    assert_contains(err.message, "no longer holds key id");
    isf_keyring_free(kr);
    kr = load_ok(&f->cfg, 0);
    assert_string_equal(isf_keyring_current_id(kr), old_id); /* key file untouched */
    isf_keyring_free(kr);
    free(next);
}

static void test_rotation_env(void **state)
{
    struct fixture *f = *state;
    f->cfg.key_source = ISF_KEY_ENV;
    f->cfg.key_env = (char *)"ISF_TEST_KEY";
    setenv("ISF_TEST_KEY", KEY_A_B64, 1);
    struct isf_keyring *kr = load_ok(&f->cfg, 1);
    char *old_sealed = seal_ok(kr, "r", "f", "old secret");
    struct isf_error err;
    isf_err_init(&err);

    assert_int_equal(isf_keyring_begin_rotation(kr, NULL, &err), ISF_E_USAGE);
    assert_string_equal(err.message, "key rotate with an env/command key needs --new-key-env VAR");
    assert_int_equal(isf_keyring_begin_rotation(kr, "ISF_TEST_NEW_KEY", &err), ISF_E_STORE);
    assert_contains(err.message, "ISF_TEST_NEW_KEY is not set");
    assert_int_equal(isf_keyring_begin_rotation(kr, "ISF_TEST_KEY", &err), ISF_E_USAGE);
    assert_contains(err.message, "is the current one");
    assert_string_equal(isf_keyring_current_id(kr), KEY_A_ID);

    setenv("ISF_TEST_NEW_KEY", KEY_B_B64, 1);
    assert_int_equal(isf_keyring_begin_rotation(kr, "ISF_TEST_NEW_KEY", &err), ISF_OK);
    assert_string_equal(isf_keyring_current_id(kr), KEY_B_ID);
    char *new_sealed = seal_ok(kr, "r", "f", "new secret");
    assert_unseals_to(kr, "r", "f", old_sealed, "old secret");
    assert_unseals_to(kr, "r", "f", new_sealed, "new secret");
    assert_int_equal(isf_keyring_commit_rotation(kr, &err), ISF_OK);
    assert_string_equal(isf_keyring_current_id(kr), KEY_B_ID);
    assert_unseal_fails(kr, "r", "f", old_sealed, "sealed with master key id " KEY_A_ID);
    assert_unseals_to(kr, "r", "f", new_sealed, "new secret");
    assert_false(exists(f->key_file));
    isf_keyring_free(kr);
    free(old_sealed);
    free(new_sealed);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_b64_vectors),
        T(test_b64_rejects),
        T(test_key_id),
        T(test_round_trip),
        T(test_format),
        T(test_fresh_nonce),
        T(test_moved_value_fails),
        T(test_bit_flips),
        T(test_truncated_and_garbage),
        T(test_wrong_key),
        T(test_file_created_then_reused),
        T(test_file_known_key),
        T(test_file_loose_mode_refused),
        T(test_file_garbage_refused),
        T(test_file_symlink_and_dir_refused),
        T(test_file_concurrent_create),
        T(test_env_source),
        T(test_command_source),
        T(test_command_failures),
        T(test_command_timeout),
        T(test_rotation_file),
        T(test_rotation_interrupted),
        T(test_rotation_commit_checks_next),
        T(test_rotation_env),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
