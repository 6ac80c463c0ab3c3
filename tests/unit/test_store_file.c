/*
 * store-file plugin: tested through its public surface only. The built store-file.so is
 * dlopen()ed (RTLD_NOW | RTLD_LOCAL, as the core loads it), initialised with the mock host, and
 * driven through its isf_store_ops on a fresh temporary folder per test. Cross-process behaviour
 * (locks, compare-and-swap) is tested with fork()ed children that open their own store instance.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "mock_host.h"

#include <isyncsf/plugin.h>

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PLUGIN_PATH ISF_TEST_PLUGIN_DIR "/store-file.so"
#define PATH_CAP 1024
/* Marker put in payloads; the teardown checks it never reaches the log. */
#define SECRET "sealed-secret-7f3a"

static void *g_dl;
static const struct isf_plugin_descriptor *g_desc;
static const struct isf_store_ops *g_ops;

struct fx {
    struct mock_host *m;
    const struct isf_host *h;
    json_t *opts;
    char root[PATH_CAP]; /* mkdtemp folder, removed after the test */
    char dir[PATH_CAP];  /* <root>/data/orgs: the store's folder (created by open) */
    void *store;
    struct isf_error err;
};

/* ---- helpers ------------------------------------------------------------------------------ */

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void join(const char *base, const char *rel, char *out)
{
    int n = snprintf(out, PATH_CAP, "%s/%s", base, rel);
    assert_true(n > 0 && n < PATH_CAP);
}

/* A path inside the store's folder / inside the test's root folder. */
static void path_in(const struct fx *f, const char *rel, char *out)
{
    join(f->dir, rel, out);
}

static void root_path(const struct fx *f, const char *rel, char *out)
{
    join(f->root, rel, out);
}

static void rm_rf_at(int dirfd, const char *name)
{
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
        DIR *d = fdopendir(fd);
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL)
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                rm_rf_at(fd, e->d_name);
        if (d)
            closedir(d);
        unlinkat(dirfd, name, AT_REMOVEDIR);
    } else {
        unlinkat(dirfd, name, 0);
    }
}

static void write_raw(const char *path, const void *data, size_t len, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

/* Read a whole small file into a NUL-terminated malloc'd buffer. */
static char *read_raw(const char *path, size_t *len)
{
    char *buf = calloc(1, 65536);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_non_null(buf);
    assert_true(fd >= 0);
    ssize_t n = read(fd, buf, 65535);
    assert_true(n >= 0);
    close(fd);
    *len = (size_t)n;
    return buf;
}

/* CRC-32C straight from its definition, one bit at a time: an independent reference for the
 * plugin's table-driven version (which the test cannot call: only the ABI symbols are exported). */
static uint32_t ref_crc32c(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ ((crc & 1u) ? 0x82F63B78u : 0u);
    }
    return ~crc;
}

/* The whole file a record with this payload and revision must be, built independently of the
 * plugin. Returns its length; *out is malloc'd. */
static size_t expected_file(const void *payload, size_t len, uint64_t rev, char **out)
{
    char header[128];
    int n = snprintf(header, sizeof(header), "ISFREC2 %" PRIu64 " %zu %08" PRIx32 "\n", rev, len,
                     ref_crc32c(payload, len));
    assert_true(n > 0 && (size_t)n < sizeof(header));
    *out = malloc((size_t)n + len + 1);
    assert_non_null(*out);
    memcpy(*out, header, (size_t)n);
    memcpy(*out + n, payload, len);
    (*out)[(size_t)n + len] = '\0';
    return (size_t)n + len;
}

/* Number of entries in a folder, "." and ".." not counted. */
static int count_entries(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    int n = 0;
    assert_non_null(d);
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static mode_t mode_of(const char *path)
{
    struct stat sb;
    assert_int_equal(lstat(path, &sb), 0);
    return sb.st_mode & 07777;
}

static int exists(const char *path)
{
    struct stat sb;
    return lstat(path, &sb) == 0;
}

static json_t *make_opts(const char *dir, int fsync_on)
{
    json_t *o = json_pack("{s:s, s:b}", "dir", dir, "fsync", fsync_on);
    assert_non_null(o);
    assert_int_equal(mock_opts_apply_defaults(o, g_desc->options), 0);
    return o;
}

static int open_store(struct fx *f, void **store)
{
    return g_ops->open(f->h, mock_opts_from_json(f->opts), store, &f->err);
}

static int put_str(struct fx *f, const char *name, const char *s, uint64_t expected, uint64_t *rev)
{
    uint64_t r = 0;
    int rc = g_ops->put(f->store, name, s, strlen(s), expected, &r, &f->err);
    if (rev)
        *rev = r;
    return rc;
}

/* get into a malloc'd NUL-terminated copy (the blob itself is released with host->free). */
static int get_str(struct fx *f, void *store, const char *name, char **out, uint64_t *rev)
{
    struct isf_blob blob = {0};
    uint64_t r = 0;
    int rc = g_ops->get(store, name, &blob, &r, &f->err);
    *out = NULL;
    if (rc == ISF_OK) {
        *out = calloc(1, blob.len + 1);
        assert_non_null(*out);
        memcpy(*out, blob.data, blob.len);
        f->h->free(f->h, blob.data);
        if (rev)
            *rev = r;
    }
    return rc;
}

static void assert_record(struct fx *f, const char *name, const char *want, uint64_t want_rev)
{
    char *got;
    uint64_t rev = 0;
    assert_int_equal(get_str(f, f->store, name, &got, &rev), ISF_OK);
    assert_string_equal(got, want);
    assert_int_equal(rev, want_rev);
    free(got);
}

static void assert_err(struct fx *f, int rc, int want, const char *needle)
{
    assert_int_equal(rc, want);
    assert_int_equal(f->err.code, want);
    if (needle && !strstr(f->err.message, needle))
        fail_msg("error message \"%s\" lacks \"%s\"", f->err.message, needle);
}

/* ---- fixtures ----------------------------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    g_dl = dlopen(PLUGIN_PATH, RTLD_NOW | RTLD_LOCAL);
    if (!g_dl) {
        fprintf(stderr, "cannot load %s: %s\n", PLUGIN_PATH, dlerror());
        return -1;
    }
    const struct isf_abi_version *abi = dlsym(g_dl, ISF_PLUGIN_ABI_SYMBOL);
    isf_plugin_init_fn init;
    *(void **)&init = dlsym(g_dl, ISF_PLUGIN_INIT_SYMBOL);
    if (!abi || !init || abi->major != ISF_ABI_MAJOR)
        return -1;
    struct mock_host *m = mock_host_new();
    struct isf_error err = {sizeof(err), 0, ""};
    int rc = init(mock_host_table(m), &g_desc, &err);
    mock_host_free(m); /* the descriptor is static data of the plugin */
    if (rc != ISF_OK || !g_desc)
        return -1;
    g_ops = g_desc->ops;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    if (g_dl)
        dlclose(g_dl);
    return 0;
}

static struct fx *fx_new(int fsync_on)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    const char *tmp = getenv("TMPDIR");
    snprintf(f->root, sizeof(f->root), "%s/isf-store-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(f->root));
    root_path(f, "data/orgs", f->dir);
    f->m = mock_host_new();
    f->h = mock_host_table(f->m);
    f->err.struct_size = sizeof(f->err);
    f->opts = make_opts(f->dir, fsync_on);
    return f;
}

static int setup_common(void **state, int fsync_on)
{
    struct fx *f = fx_new(fsync_on);
    int rc = open_store(f, &f->store);
    if (rc != ISF_OK) {
        fprintf(stderr, "open failed: %s\n", f->err.message);
        return -1;
    }
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_common(state, 1);
}

static int setup_nosync(void **state)
{
    return setup_common(state, 0);
}

static int teardown(void **state)
{
    struct fx *f = *state;
    if (f->store)
        g_ops->close(f->store);
    /* Everything the plugin allocated through the host was released, and no record content
     * ever reached the log. */
    assert_int_equal(mock_host_live_allocs(f->m), 0);
    assert_false(mock_host_log_contains(f->m, SECRET));
    rm_rf_at(AT_FDCWD, f->root);
    json_decref(f->opts);
    mock_host_free(f->m);
    free(f);
    return 0;
}

/* ---- descriptor --------------------------------------------------------------------------- */

static void test_descriptor(void **state)
{
    (void)state;
    const struct isf_abi_version *abi = dlsym(g_dl, ISF_PLUGIN_ABI_SYMBOL);
    assert_int_equal(abi->major, ISF_ABI_MAJOR);
    assert_int_equal(abi->minor, ISF_ABI_MINOR);
    assert_int_equal(g_desc->struct_size, sizeof(struct isf_plugin_descriptor));
    assert_int_equal(g_desc->kind, ISF_PLUGIN_STORE);
    assert_string_equal(g_desc->name, "store-file");
    assert_non_null(g_desc->version);
    assert_non_null(g_desc->description);
    assert_int_equal(g_ops->struct_size, sizeof(struct isf_store_ops));
    assert_true(g_ops->open && g_ops->close && g_ops->get && g_ops->put && g_ops->remove &&
                g_ops->list && g_ops->lock && g_ops->unlock);

    int seen = 0;
    for (const struct isf_option_spec *o = g_desc->options; o->name; o++) {
        if (strcmp(o->name, "dir") == 0) {
            assert_int_equal(o->type, ISF_OPT_PATH);
            seen |= 1;
        } else if (strcmp(o->name, "fsync") == 0) {
            assert_int_equal(o->type, ISF_OPT_BOOL);
            assert_string_equal(o->default_value, "true");
            seen |= 2;
        } else {
            fail_msg("unexpected option %s", o->name);
        }
        assert_non_null(o->description);
    }
    assert_int_equal(seen, 3);
    /* Nothing but the two ABI symbols is exported. */
    assert_null(dlsym(g_dl, "sf_valid_name"));
    assert_null(dlsym(g_dl, "sf_record_parse"));
}

/* ---- get / put / remove ------------------------------------------------------------------- */

static void test_create_get_put_revisions(void **state)
{
    struct fx *f = *state;
    uint64_t rev = 0;

    assert_int_equal(put_str(f, "acme-prod", SECRET " v1", 0, &rev), ISF_OK);
    assert_int_equal(rev, 1);
    assert_record(f, "acme-prod", SECRET " v1", 1);
    assert_int_equal(put_str(f, "acme-prod", SECRET " v2", 1, &rev), ISF_OK);
    assert_int_equal(rev, 2);
    assert_int_equal(put_str(f, "acme-prod", "v3", 2, &rev), ISF_OK);
    assert_int_equal(rev, 3);
    assert_record(f, "acme-prod", "v3", 3);

    /* An empty payload is a valid record; binary bytes survive unchanged. */
    assert_int_equal(put_str(f, "empty", "", 0, &rev), ISF_OK);
    assert_record(f, "empty", "", 1);
    const unsigned char bin[] = {0, 1, 2, '\n', 0xff, 0};
    assert_int_equal(g_ops->put(f->store, "bin", bin, sizeof(bin), 0, &rev, &f->err), ISF_OK);
    struct isf_blob blob = {0};
    assert_int_equal(g_ops->get(f->store, "bin", &blob, &rev, &f->err), ISF_OK);
    assert_int_equal(blob.len, sizeof(bin));
    assert_memory_equal(blob.data, bin, sizeof(bin));
    f->h->free(f->h, blob.data);
}

static void test_file_format(void **state)
{
    struct fx *f = *state;
    char path[PATH_CAP], *want;
    size_t len;
    const char *payload = "{\"name\":\"a\"}";

    assert_int_equal(put_str(f, "a", payload, 0, NULL), ISF_OK);
    assert_int_equal(put_str(f, "a", payload, 1, NULL), ISF_OK);
    expected_file(payload, strlen(payload), 2, &want);
    path_in(f, "a.rec", path);
    char *raw = read_raw(path, &len);
    assert_string_equal(raw, want);
    free(raw);
    free(want);
    /* Writes went through .tmp and left nothing behind there. */
    path_in(f, ".tmp", path);
    assert_int_equal(count_entries(path), 0);
}

/* The checksum is CRC-32C: the standard check value, RFC 3720's 32-zero-byte vector, the empty
 * payload, and a payload long enough to reach every table entry, all checked on the files the
 * plugin writes, and read back. */
static void test_crc32c(void **state)
{
    struct fx *f = *state;
    char path[PATH_CAP], *want;
    size_t len;
    uint64_t rev;

    /* The reference itself first, so a wrong reference cannot bless a wrong plugin. */
    assert_int_equal(ref_crc32c("123456789", 9), 0xE3069283u);
    const unsigned char zeros[32] = {0};
    assert_int_equal(ref_crc32c(zeros, sizeof(zeros)), 0x8A9136AAu);

    assert_int_equal(put_str(f, "check", "123456789", 0, NULL), ISF_OK);
    path_in(f, "check.rec", path);
    char *raw = read_raw(path, &len);
    assert_string_equal(raw, "ISFREC2 1 9 e3069283\n123456789");
    free(raw);

    assert_int_equal(g_ops->put(f->store, "zeros", zeros, sizeof(zeros), 0, &rev, &f->err), ISF_OK);
    path_in(f, "zeros.rec", path);
    raw = read_raw(path, &len);
    assert_int_equal(len, strlen("ISFREC2 1 32 8a9136aa\n") + 32);
    assert_memory_equal(raw, "ISFREC2 1 32 8a9136aa\n", strlen("ISFREC2 1 32 8a9136aa\n"));
    free(raw);

    assert_int_equal(put_str(f, "empty", "", 0, NULL), ISF_OK);
    path_in(f, "empty.rec", path);
    raw = read_raw(path, &len);
    assert_string_equal(raw, "ISFREC2 1 0 00000000\n");
    free(raw);

    /* 40 KiB of pseudo-random bytes (fixed seed: reproducible). */
    enum { BIG = 40000 };
    unsigned char *big = malloc(BIG);
    uint32_t x = 0x12345678u;
    assert_non_null(big);
    for (size_t i = 0; i < BIG; i++) {
        x = x * 1103515245u + 12345u;
        big[i] = (unsigned char)(x >> 24);
    }
    assert_int_equal(g_ops->put(f->store, "big", big, BIG, 0, &rev, &f->err), ISF_OK);
    size_t want_len = expected_file(big, BIG, 1, &want);
    path_in(f, "big.rec", path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    char *file = malloc(want_len + 1);
    assert_non_null(file);
    assert_int_equal(read(fd, file, want_len + 1), (ssize_t)want_len);
    close(fd);
    assert_memory_equal(file, want, want_len);
    struct isf_blob blob = {0};
    assert_int_equal(g_ops->get(f->store, "big", &blob, &rev, &f->err), ISF_OK);
    assert_int_equal(blob.len, BIG);
    assert_memory_equal(blob.data, big, BIG);
    f->h->free(f->h, blob.data);
    free(file);
    free(want);
    free(big);
}

static void test_create_twice_exists(void **state)
{
    struct fx *f = *state;

    assert_int_equal(put_str(f, "a", "first", 0, NULL), ISF_OK);
    assert_err(f, put_str(f, "a", "second", 0, NULL), ISF_E_EXISTS, "record a already exists");
    assert_record(f, "a", "first", 1);
}

static void test_stale_revision_conflict(void **state)
{
    struct fx *f = *state;

    assert_int_equal(put_str(f, "a", "v1", 0, NULL), ISF_OK);
    assert_int_equal(put_str(f, "a", "v2", 1, NULL), ISF_OK);
    assert_err(f, put_str(f, "a", "lost", 1, NULL), ISF_E_CONFLICT, "expected revision 1");
    assert_non_null(strstr(f->err.message, "found 2"));
    assert_non_null(strstr(f->err.message, "record a"));
    assert_err(f, put_str(f, "a", "lost", 7, NULL), ISF_E_CONFLICT, "expected revision 7");
    assert_record(f, "a", "v2", 2);
}

static void test_missing_record(void **state)
{
    struct fx *f = *state;
    char *s;

    assert_err(f, get_str(f, f->store, "nope", &s, NULL), ISF_E_NOT_FOUND, "nope");
    assert_err(f, put_str(f, "nope", "x", 3, NULL), ISF_E_NOT_FOUND, "record nope is gone");
    assert_err(f, g_ops->remove(f->store, "nope", 1, &f->err), ISF_E_NOT_FOUND, "nope");
    assert_err(f, get_str(f, f->store, "nope", &s, NULL), ISF_E_NOT_FOUND, NULL);
}

static void test_remove(void **state)
{
    struct fx *f = *state;
    char path[PATH_CAP];
    uint64_t rev;
    char *s;

    assert_int_equal(put_str(f, "a", "v1", 0, NULL), ISF_OK);
    assert_int_equal(put_str(f, "a", "v2", 1, NULL), ISF_OK);
    assert_int_equal(put_str(f, "b", "other", 0, NULL), ISF_OK);
    assert_err(f, g_ops->remove(f->store, "a", 1, &f->err), ISF_E_CONFLICT, "found 2");
    assert_record(f, "a", "v2", 2);

    assert_int_equal(g_ops->remove(f->store, "a", 2, &f->err), ISF_OK);
    assert_err(f, get_str(f, f->store, "a", &s, NULL), ISF_E_NOT_FOUND, NULL);
    path_in(f, "a.rec", path);
    assert_false(exists(path));
    path_in(f, ".locks/a.wlock", path);
    assert_false(exists(path)); /* nobody held it: deleted with the record */
    assert_err(f, g_ops->remove(f->store, "a", 2, &f->err), ISF_E_NOT_FOUND, NULL);
    assert_record(f, "b", "other", 1);

    /* The name can be used again and starts over at revision 1. */
    assert_int_equal(put_str(f, "a", "again", 0, &rev), ISF_OK);
    assert_int_equal(rev, 1);

    /* Revision 0 removes whatever the revision (the core's way to clear a record). */
    assert_int_equal(g_ops->remove(f->store, "b", 0, &f->err), ISF_OK);
    assert_err(f, get_str(f, f->store, "b", &s, NULL), ISF_E_NOT_FOUND, NULL);
}

static int collect_cb(void *arg, const char *name)
{
    char *acc = arg;
    strcat(acc, "[");
    strcat(acc, name);
    strcat(acc, "]");
    return 0;
}

static int stop_cb(void *arg, const char *name)
{
    (void)name;
    ++*(int *)arg;
    return 1;
}

static void test_list(void **state)
{
    struct fx *f = *state;
    char path[PATH_CAP], tmpname[128];
    char acc[512] = "";
    int calls = 0;

    assert_int_equal(g_ops->list(f->store, collect_cb, acc, &f->err), ISF_OK);
    assert_string_equal(acc, "");

    assert_int_equal(put_str(f, "a", "1", 0, NULL), ISF_OK);
    assert_int_equal(put_str(f, "b.c", "2", 0, NULL), ISF_OK);
    assert_int_equal(put_str(f, "d-1_x", "3", 0, NULL), ISF_OK);
    /* A lock on a name that was never written makes no record. */
    void *lk = NULL;
    assert_int_equal(g_ops->lock(f->store, "locked-only", 0, &lk, &f->err), ISF_OK);
    /* Things that are not records: a live writer's temp file (in .tmp, and one shaped like it
     * in the record folder), dot files, stray files. */
    snprintf(tmpname, sizeof(tmpname), ".tmp/.a.%ld.0123456789abcdef.tmp", (long)getpid());
    path_in(f, tmpname, path);
    write_raw(path, "partial", 7, 0600);
    path_in(f, tmpname + strlen(".tmp/"), path);
    write_raw(path, "partial", 7, 0600);
    path_in(f, ".hidden.rec", path);
    write_raw(path, "x", 1, 0600);
    path_in(f, "notes.txt", path);
    write_raw(path, "x", 1, 0600);
    path_in(f, "bad name.rec", path);
    write_raw(path, "x", 1, 0600);

    assert_int_equal(g_ops->list(f->store, collect_cb, acc, &f->err), ISF_OK);
    /* Order is unspecified: check membership and count. */
    assert_non_null(strstr(acc, "[a]"));
    assert_non_null(strstr(acc, "[b.c]"));
    assert_non_null(strstr(acc, "[d-1_x]"));
    assert_int_equal(strlen(acc), strlen("[a][b.c][d-1_x]"));

    /* A non-zero return from the callback stops the listing. */
    assert_int_equal(g_ops->list(f->store, stop_cb, &calls, &f->err), ISF_OK);
    assert_int_equal(calls, 1);
    g_ops->unlock(f->store, lk);
}

/* ---- damage and permissions --------------------------------------------------------------- */

static void test_truncated_record(void **state)
{
    struct fx *f = *state;
    char path[PATH_CAP], *s;

    assert_int_equal(put_str(f, "a", SECRET " payload of record a", 0, NULL), ISF_OK);
    assert_int_equal(put_str(f, "b", "payload of record b", 0, NULL), ISF_OK);
    path_in(f, "a.rec", path);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(truncate(path, sb.st_size - 5), 0);

    assert_err(f, get_str(f, f->store, "a", &s, NULL), ISF_E_STORE, "truncated");
    assert_non_null(strstr(f->err.message, "record a "));
    assert_non_null(strstr(f->err.message, path));
    assert_non_null(strstr(f->err.message, "isyncsf org remove a --local-only"));
    assert_null(strstr(f->err.message, SECRET));
    /* The other record is unaffected. */
    assert_record(f, "b", "payload of record b", 1);
    /* A put over a damaged record is refused too: it has no revision to compare. */
    assert_err(f, put_str(f, "a", "new", 1, NULL), ISF_E_STORE, "record a");

    /* Cut inside the header. */
    assert_int_equal(truncate(path, 12), 0);
    assert_err(f, get_str(f, f->store, "a", &s, NULL), ISF_E_STORE, "bad header");
    /* An empty file. */
    assert_int_equal(truncate(path, 0), 0);
    assert_err(f, get_str(f, f->store, "a", &s, NULL), ISF_E_STORE, "record a");
}

static void test_corrupt_byte(void **state)
{
    struct fx *f = *state;
    char path[PATH_CAP], *s;
    size_t len;

    assert_int_equal(put_str(f, "a", "payload of record a", 0, NULL), ISF_OK);
    path_in(f, "a.rec", path);
    char *raw = read_raw(path, &len);
    raw[len - 3] ^= 0x20;
    write_raw(path, raw, len, 0600);
    free(raw);

    assert_err(f, get_str(f, f->store, "a", &s, NULL), ISF_E_STORE, "checksum");
    assert_non_null(strstr(f->err.message, path));
    /* remove with a revision is refused (no caller can hold it); with 0 it clears the record. */
    assert_err(f, g_ops->remove(f->store, "a", 1, &f->err), ISF_E_STORE, "record a");
    assert_true(exists(path));
    assert_int_equal(g_ops->remove(f->store, "a", 0, &f->err), ISF_OK);
    assert_false(exists(path));
    assert_true(mock_host_log_contains(f->m, "record a is damaged"));
}

static void test_bad_header(void **state)
{
    struct fx *f = *state;
    char path[PATH_CAP], *s;
    const char *bad[] = {
        "hello\nworld",
        /* The unreleased SHA-256 format, well formed and with the right hash of "hello": an
         * unknown format now, reported like any damage. */
        "ISFREC1 1 5 2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824\nhello",
        "ISFREC3 1 5 9a71bb4c\nhello",                  /* unknown magic */
        "ISFREC2 0 0 00000000\n",                       /* revision 0 */
        "ISFREC2 01 0 00000000\n",                      /* leading zero */
        "ISFREC2 1 5 9A71BB4C\nhello",                  /* upper-case checksum */
        "ISFREC2 1 5 9a71bb4\nhello",                   /* 7 hex digits */
        "ISFREC2 1 5 09a71bb4c\nhello",                 /* 9 hex digits */
        "ISFREC2 1 5 0x71bb4c\nhello",                  /* not hex */
        "ISFREC2 1 0 00000000",                         /* no newline */
        "ISFREC2 99999999999999999999999 0 00000000\n", /* overflow */
    };

    path_in(f, "a.rec", path);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        write_raw(path, bad[i], strlen(bad[i]), 0600);
        assert_err(f, get_str(f, f->store, "a", &s, NULL), ISF_E_STORE, "bad header");
        assert_non_null(strstr(f->err.message, "record a "));
    }
    /* Well-formed records read (written by hand, not by the plugin); the same with trailing bytes
     * does not. */
    const char *hello = "ISFREC2 7 5 9a71bb4c\nhello";
    write_raw(path, hello, strlen(hello), 0600);
    assert_record(f, "a", "hello", 7);
    const char *ok = "ISFREC2 4 0 00000000\n";
    write_raw(path, ok, strlen(ok), 0600);
    assert_record(f, "a", "", 4);
    char trailing[200];
    snprintf(trailing, sizeof(trailing), "%sxyz", ok);
    write_raw(path, trailing, strlen(trailing), 0600);
    assert_err(f, get_str(f, f->store, "a", &s, NULL), ISF_E_STORE, "trailing bytes");

    /* A symbolic link is never followed. */
    char target[PATH_CAP];
    path_in(f, "elsewhere", target);
    write_raw(target, ok, strlen(ok), 0600);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(symlink(target, path), 0);
    assert_err(f, get_str(f, f->store, "a", &s, NULL), ISF_E_STORE, "symbolic link");
}

static void test_modes(void **state)
{
    (void)state;
    /* A hostile umask must not weaken (or break) the modes: 0700 folders, 0600 files. */
    struct fx *f = fx_new(1);
    char path[PATH_CAP];
    mode_t old = umask(0277);
    int rc = open_store(f, &f->store);
    if (rc == ISF_OK)
        rc = put_str(f, "a", "x", 0, NULL);
    umask(old);
    assert_int_equal(rc, ISF_OK);

    root_path(f, "data", path);
    assert_int_equal(mode_of(path), 0700); /* parents created too, 0700 */
    assert_int_equal(mode_of(f->dir), 0700);
    path_in(f, ".locks", path);
    assert_int_equal(mode_of(path), 0700);
    path_in(f, ".tmp", path);
    assert_int_equal(mode_of(path), 0700);
    path_in(f, "a.rec", path);
    assert_int_equal(mode_of(path), 0600);
    void *lk = NULL;
    assert_int_equal(g_ops->lock(f->store, "a", 0, &lk, &f->err), ISF_OK);
    path_in(f, ".locks/a.lock", path);
    assert_int_equal(mode_of(path) & 077, 0);
    g_ops->unlock(f->store, lk);
    void *st = f;
    teardown(&st);
}

static void test_open_folder_mode_refused(void **state)
{
    struct fx *f = *state;
    void *other = NULL;

    assert_int_equal(chmod(f->dir, 0755), 0);
    assert_err(f, open_store(f, &other), ISF_E_STORE, "chmod 700");
    assert_null(other);
    assert_non_null(strstr(f->err.message, f->dir));
    assert_int_equal(chmod(f->dir, 0700), 0);
    assert_int_equal(open_store(f, &other), ISF_OK);
    g_ops->close(other);
    other = NULL;

    /* The temp folder is checked the same way: others must not plant or swap temp files. */
    char tmpdir[PATH_CAP], elsewhere[PATH_CAP];
    path_in(f, ".tmp", tmpdir);
    assert_int_equal(chmod(tmpdir, 0770), 0);
    assert_err(f, open_store(f, &other), ISF_E_STORE, "chmod 700");
    assert_non_null(strstr(f->err.message, tmpdir));
    assert_null(other);
    /* ...and must be a real folder, not a symbolic link to one. */
    assert_int_equal(chmod(tmpdir, 0700), 0);
    root_path(f, "elsewhere", elsewhere);
    assert_int_equal(rename(tmpdir, elsewhere), 0);
    assert_int_equal(symlink(elsewhere, tmpdir), 0);
    assert_err(f, open_store(f, &other), ISF_E_STORE, "symbolic link");
    assert_null(other);
    assert_int_equal(unlink(tmpdir), 0);
    assert_int_equal(open_store(f, &other), ISF_OK); /* created again */
    assert_int_equal(mode_of(tmpdir), 0700);
    g_ops->close(other);
}

static void test_open_dir_option(void **state)
{
    struct fx *f = *state;
    void *other = NULL;
    char path[PATH_CAP];

    json_object_set_new(f->opts, "dir", json_string(""));
    assert_err(f, open_store(f, &other), ISF_E_CONFIG, "store-file: option dir is empty");
    assert_null(other);

    /* A regular file where the folder should be. */
    root_path(f, "file", path);
    write_raw(path, "x", 1, 0600);
    json_object_set_new(f->opts, "dir", json_string(path));
    assert_err(f, open_store(f, &other), ISF_E_STORE, path);

    /* Trailing slashes are fine. */
    root_path(f, "data/orgs//", path);
    json_object_set_new(f->opts, "dir", json_string(path));
    assert_int_equal(open_store(f, &other), ISF_OK);
    g_ops->close(other);
}

#if defined(__SANITIZE_ADDRESS__)
#define STORE_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define STORE_TEST_ASAN 1
#endif
#endif

#ifndef STORE_TEST_ASAN
/* Bytes of address space in use now (VmSize, which RLIMIT_AS limits). */
static size_t address_space_used(void)
{
    unsigned long pages = 0;
    FILE *fp = fopen("/proc/self/statm", "r");
    if (!fp)
        return 0;
    if (fscanf(fp, "%lu", &pages) != 1)
        pages = 0;
    fclose(fp);
    return (size_t)pages * (size_t)sysconf(_SC_PAGESIZE);
}
#endif

/* Regression: when creating the folder ran out of memory, open's message printed an
 * uninitialised buffer instead of the folder. A child limits its address space so that the
 * store's own copy of a 32 MiB dir option fits but the copy made to create the folders does not,
 * and reports whether the message names the folder. */
static void test_open_out_of_memory_names_folder(void **state)
{
#ifdef STORE_TEST_ASAN
    (void)state;
    skip(); /* ASan reserves terabytes of shadow memory: an address-space limit cannot work */
#else
    struct fx *f = *state;
    const size_t big = (size_t)32 << 20;
    char want[PATH_CAP + 64];
    char *dir = malloc(big + 1);
    int status;

    assert_non_null(dir);
    int n = snprintf(dir, big + 1, "%s/", f->root);
    assert_true(n > 0 && (size_t)n < big);
    memset(dir + n, 'x', big - (size_t)n);
    dir[big] = '\0';
    json_object_set_new(f->opts, "dir", json_string(dir));
    free(dir);
    snprintf(want, sizeof(want), "store-file: cannot create folder %s/xxxx", f->root);

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        size_t used = address_space_used();
        struct rlimit rl = {used + big + big / 2, used + big + big / 2};
        void *other = NULL;
        if (used == 0 || setrlimit(RLIMIT_AS, &rl) != 0)
            _exit(2);
        int ok = open_store(f, &other) == ISF_E_STORE && !other &&
                 strncmp(f->err.message, want, strlen(want)) == 0;
        _exit(ok ? 0 : 1);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
#endif
}

static void test_record_mode_refused(void **state)
{
    struct fx *f = *state;
    char path[PATH_CAP], *s;

    assert_int_equal(put_str(f, "a", "x", 0, NULL), ISF_OK);
    path_in(f, "a.rec", path);
    assert_int_equal(chmod(path, 0644), 0);
    assert_err(f, get_str(f, f->store, "a", &s, NULL), ISF_E_STORE, "chmod 600");
    assert_non_null(strstr(f->err.message, "record a "));
    assert_non_null(strstr(f->err.message, path));
    assert_int_equal(chmod(path, 0600), 0);
    assert_record(f, "a", "x", 1);
}

static void test_invalid_names(void **state)
{
    struct fx *f = *state;
    char long_name[80], path[PATH_CAP], *s;
    const char *bad[] = {"",   ".hidden", "..",   "../evil", "a/b",     "-a",
                         "_a", "a b",     "a\nb", "é",       long_name, NULL};
    void *lk;

    memset(long_name, 'x', 65);
    long_name[65] = '\0';
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *n = bad[i];
        assert_err(f, get_str(f, f->store, n, &s, NULL), ISF_E_USAGE, "invalid record name");
        assert_err(f, g_ops->put(f->store, n, "x", 1, 0, NULL, &f->err), ISF_E_USAGE, NULL);
        assert_err(f, g_ops->remove(f->store, n, 1, &f->err), ISF_E_USAGE, NULL);
        lk = NULL;
        assert_err(f, g_ops->lock(f->store, n, 0, &lk, &f->err), ISF_E_USAGE, NULL);
        assert_null(lk);
    }
    root_path(f, "data/evil.rec", path);
    assert_false(exists(path));
    /* The longest valid name (64 characters) works. */
    long_name[64] = '\0';
    assert_int_equal(put_str(f, long_name, "x", 0, NULL), ISF_OK);
}

/* ---- locks -------------------------------------------------------------------------------- */

/* Child side of the lock tests: open a store, lock `name`, report 'L' on `ready`, then wait for
 * the parent to close `go` (or to kill us). Exits without unlocking: death must release. */
static void child_hold_lock(struct fx *f, const char *name, int ready, int go)
{
    void *store = NULL, *lk = NULL;
    char c = 'E';

    if (open_store(f, &store) == ISF_OK && g_ops->lock(store, name, 1000, &lk, &f->err) == ISF_OK)
        c = 'L';
    if (write(ready, &c, 1) != 1)
        _exit(2);
    while (read(go, &c, 1) > 0)
        ;
    _exit(0);
}

static pid_t fork_lock_holder(struct fx *f, const char *name, int *go_w)
{
    int ready[2], go[2];
    char c = 0;

    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(go), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(ready[0]);
        close(go[1]);
        child_hold_lock(f, name, ready[1], go[0]);
    }
    close(ready[1]);
    close(go[0]);
    assert_int_equal(read(ready[0], &c, 1), 1);
    close(ready[0]);
    assert_int_equal(c, 'L');
    *go_w = go[1];
    return pid;
}

static void assert_lock_times_out(struct fx *f, const char *name, int timeout_ms)
{
    void *lk = NULL;
    int64_t t0 = mono_ms();
    int rc = g_ops->lock(f->store, name, timeout_ms, &lk, &f->err);
    int64_t took = mono_ms() - t0;

    assert_err(f, rc, ISF_E_TIMEOUT, "another isyncsf process holds it");
    assert_null(lk);
    assert_non_null(strstr(f->err.message, "/.locks/"));
    assert_true(took >= timeout_ms - 5);
    assert_true(took < timeout_ms + 1000);
}

static void assert_lock_ok(struct fx *f, const char *name, int timeout_ms)
{
    void *lk = NULL;
    int64_t t0 = mono_ms();

    assert_int_equal(g_ops->lock(f->store, name, timeout_ms, &lk, &f->err), ISF_OK);
    assert_true(mono_ms() - t0 < timeout_ms);
    assert_non_null(lk);
    g_ops->unlock(f->store, lk);
}

static void test_lock_held_by_child(void **state)
{
    struct fx *f = *state;
    int go, status;
    char path[PATH_CAP];

    pid_t pid = fork_lock_holder(f, "acme", &go);
    assert_lock_times_out(f, "acme", 300);
    path_in(f, ".locks/acme.lock", path);
    assert_non_null(strstr(f->err.message, path));
    assert_non_null(strstr(f->err.message, "record acme"));
    /* A zero timeout is one try. */
    assert_lock_times_out(f, "acme", 0);
    /* Other records are not affected, and put works while another process holds the lock. */
    assert_lock_ok(f, "other", 100);
    assert_int_equal(put_str(f, "acme", "written under a foreign lock", 0, NULL), ISF_OK);

    close(go); /* the child exits without unlocking */
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_lock_ok(f, "acme", 2000);
}

static void test_lock_released_when_holder_killed(void **state)
{
    struct fx *f = *state;
    int go, status;

    pid_t pid = fork_lock_holder(f, "acme", &go);
    assert_lock_times_out(f, "acme", 100);
    assert_int_equal(kill(pid, SIGKILL), 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    close(go);
    assert_lock_ok(f, "acme", 2000);
}

static void test_lock_waits_for_release(void **state)
{
    struct fx *f = *state;
    int go, status;
    void *lk = NULL;

    /* The child lets go after ~150 ms; a lock with a 3 s budget gets it then. */
    pid_t pid = fork_lock_holder(f, "acme", &go);
    pid_t closer = fork();
    assert_true(closer >= 0);
    if (closer == 0) {
        struct timespec ts = {0, 150 * 1000000L};
        nanosleep(&ts, NULL);
        _exit(0); /* exiting closes this copy of `go`; the parent closes its own below */
    }
    close(go);
    assert_int_equal(waitpid(closer, &status, 0), closer);
    int64_t t0 = mono_ms();
    assert_int_equal(g_ops->lock(f->store, "acme", 3000, &lk, &f->err), ISF_OK);
    assert_true(mono_ms() - t0 < 3000);
    g_ops->unlock(f->store, lk);
    assert_int_equal(waitpid(pid, &status, 0), pid);
}

static void test_own_lock(void **state)
{
    struct fx *f = *state;
    void *lk = NULL;
    char path[PATH_CAP];
    uint64_t rev;

    /* The record need not exist; put and remove work while the caller holds the lock. */
    assert_int_equal(g_ops->lock(f->store, "a", 100, &lk, &f->err), ISF_OK);
    assert_int_equal(put_str(f, "a", "v1", 0, &rev), ISF_OK);
    assert_int_equal(put_str(f, "a", "v2", rev, &rev), ISF_OK);
    assert_record(f, "a", "v2", 2);

    /* A second lock from the same process (another context or thread) is excluded too. */
    assert_lock_times_out(f, "a", 50);
    void *other = NULL;
    assert_int_equal(open_store(f, &other), ISF_OK);
    void *lk2 = NULL;
    assert_int_equal(g_ops->lock(other, "a", 0, &lk2, &f->err), ISF_E_TIMEOUT);
    g_ops->close(other);

    /* Removing the record keeps the lock file the caller still holds. */
    assert_int_equal(g_ops->remove(f->store, "a", 2, &f->err), ISF_OK);
    path_in(f, ".locks/a.lock", path);
    assert_true(exists(path));
    assert_lock_times_out(f, "a", 20);
    g_ops->unlock(f->store, lk);
    g_ops->unlock(f->store, NULL); /* a no-op */
    assert_lock_ok(f, "a", 100);

    /* Nobody holds it now: a remove deletes it. */
    assert_int_equal(put_str(f, "a", "v1", 0, NULL), ISF_OK);
    assert_int_equal(g_ops->remove(f->store, "a", 1, &f->err), ISF_OK);
    assert_false(exists(path));
    assert_lock_ok(f, "a", 100);
}

/* Lockers and a remover race on one record: remove deletes the lock file whenever nobody holds
 * it, while lockers wait on it. A locker that wins the lock on a file deleted meanwhile must not
 * think it holds the record (it would share it with whoever locked the new file). Each locker
 * proves exclusivity by creating a marker file with O_EXCL while it holds the lock. */
#define LOCK_ROUNDS 300

static void locker(struct fx *f, const char *marker)
{
    void *store = NULL, *lk = NULL;
    if (open_store(f, &store) != ISF_OK)
        _exit(10);
    for (int i = 0; i < LOCK_ROUNDS; i++) {
        if (g_ops->lock(store, "a", 5000, &lk, &f->err) != ISF_OK)
            _exit(11);
        int fd = open(marker, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
            _exit(12); /* someone else holds the lock at the same time */
        close(fd);
        sched_yield();
        unlink(marker);
        g_ops->unlock(store, lk);
    }
    g_ops->close(store);
    _exit(0);
}

static void remover(struct fx *f, int stop)
{
    void *store = NULL;
    char c;
    if (open_store(f, &store) != ISF_OK)
        _exit(10);
    fcntl(stop, F_SETFL, O_NONBLOCK);
    while (read(stop, &c, 1) < 0 && errno == EAGAIN) {
        uint64_t rev = 0;
        if (g_ops->put(store, "a", "x", 1, 0, &rev, &f->err) == ISF_OK)
            g_ops->remove(store, "a", rev, &f->err);
    }
    g_ops->close(store);
    _exit(0);
}

/* Runs with fsync=false: durability plays no part here, and it exercises that setting. */
static void test_lock_file_deletion_race(void **state)
{
    struct fx *f = *state;
    char marker[PATH_CAP];
    int stop[2], status;
    pid_t lockers[3];

    root_path(f, "inside", marker);
    assert_int_equal(pipe(stop), 0);
    pid_t rm = fork();
    assert_true(rm >= 0);
    if (rm == 0) {
        close(stop[1]);
        remover(f, stop[0]);
    }
    close(stop[0]);
    for (int i = 0; i < 3; i++) {
        lockers[i] = fork();
        assert_true(lockers[i] >= 0);
        if (lockers[i] == 0)
            locker(f, marker);
    }
    for (int i = 0; i < 3; i++) {
        assert_int_equal(waitpid(lockers[i], &status, 0), lockers[i]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    close(stop[1]);
    assert_int_equal(waitpid(rm, &status, 0), rm);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* ---- concurrency -------------------------------------------------------------------------- */

#define WRITERS 4
#define CYCLES 50

/* One read-modify-write cycle with retry on conflict. 0 ok, else the failing status. */
static int increment(struct fx *f, void *store)
{
    for (;;) {
        char *s = NULL, buf[32];
        uint64_t rev = 0, new_rev = 0;
        int rc = get_str(f, store, "counter", &s, &rev);
        if (rc != ISF_OK)
            return rc;
        snprintf(buf, sizeof(buf), "%ld", strtol(s, NULL, 10) + 1);
        free(s);
        rc = g_ops->put(store, "counter", buf, strlen(buf), rev, &new_rev, &f->err);
        if (rc != ISF_E_CONFLICT)
            return rc;
    }
}

static void writer(struct fx *f)
{
    void *store = NULL;
    if (open_store(f, &store) != ISF_OK)
        _exit(10);
    for (int i = 0; i < CYCLES; i++)
        if (increment(f, store) != ISF_OK) {
            fprintf(stderr, "writer %ld: %s\n", (long)getpid(), f->err.message);
            _exit(11);
        }
    g_ops->close(store);
    _exit(0);
}

/* Four processes, fifty read-modify-write cycles each, retrying on conflict: no update may be
 * lost. Runs with fsync on (the default), which keeps it well under a second here. */
static void test_concurrent_counter(void **state)
{
    struct fx *f = *state;
    pid_t pids[WRITERS];
    int status;

    assert_int_equal(put_str(f, "counter", "0", 0, NULL), ISF_OK);
    for (int i = 0; i < WRITERS; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0)
            writer(f);
    }
    for (int i = 0; i < WRITERS; i++) {
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    assert_record(f, "counter", "200", 1 + WRITERS * CYCLES);
}

/* ---- leftover temp files ------------------------------------------------------------------ */

static pid_t dead_pid(void)
{
    int status;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return pid; /* reaped: kill(pid, 0) now fails with ESRCH (barring pid reuse) */
}

static void test_stale_temp_files(void **state)
{
    struct fx *f = *state;
    char dead[PATH_CAP], live[PATH_CAP], old[PATH_CAP], odd[PATH_CAP], outside[PATH_CAP];
    char name[128];
    char acc[256] = "";
    pid_t gone = dead_pid();

    assert_int_equal(put_str(f, "a", "1", 0, NULL), ISF_OK);
    snprintf(name, sizeof(name), ".tmp/.a.%ld.00112233445566ff.tmp", (long)gone);
    path_in(f, name, dead);
    write_raw(dead, "partial", 7, 0600);
    snprintf(name, sizeof(name), ".tmp/.b.x.%ld.aabbccddeeff0011.tmp", (long)getpid());
    path_in(f, name, live);
    write_raw(live, "in progress", 11, 0600);
    snprintf(name, sizeof(name), ".tmp/.c.%ld.0000000000000001.tmp", (long)getpid());
    path_in(f, name, old);
    write_raw(old, "ancient", 7, 0600);
    struct timeval tv[2] = {{time(NULL) - 7200, 0}, {time(NULL) - 7200, 0}};
    assert_int_equal(utimes(old, tv), 0);
    path_in(f, ".tmp/.not-ours.tmp", odd);
    write_raw(odd, "?", 1, 0600);
    /* A dead writer's file in the record folder itself: open no longer reads that folder (it
     * would cost time in proportion to the number of records), so this one stays. */
    snprintf(name, sizeof(name), ".a.%ld.00112233445566ee.tmp", (long)gone);
    path_in(f, name, outside);
    write_raw(outside, "partial", 7, 0600);

    assert_int_equal(g_ops->list(f->store, collect_cb, acc, &f->err), ISF_OK);
    assert_string_equal(acc, "[a]");

    /* open cleans .tmp: the dead writer's file and the two-hour-old one go; a live writer's
     * file and files not shaped like ours stay. */
    g_ops->close(f->store);
    f->store = NULL;
    assert_int_equal(open_store(f, &f->store), ISF_OK);
    assert_false(exists(dead));
    assert_false(exists(old));
    assert_true(exists(live));
    assert_true(exists(odd));
    assert_true(exists(outside));
    assert_true(mock_host_log_contains(f->m, "/.tmp/.a."));
    assert_true(mock_host_log_contains(f->m, "interrupted write"));
    acc[0] = '\0';
    assert_int_equal(g_ops->list(f->store, collect_cb, acc, &f->err), ISF_OK);
    assert_string_equal(acc, "[a]");
    assert_record(f, "a", "1", 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_descriptor),
        cmocka_unit_test_setup_teardown(test_create_get_put_revisions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crc32c, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_twice_exists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_revision_conflict, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_byte, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_header, setup, teardown),
        cmocka_unit_test(test_modes),
        cmocka_unit_test_setup_teardown(test_open_folder_mode_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_dir_option, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_out_of_memory_names_folder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_record_mode_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock_held_by_child, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock_released_when_holder_killed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock_waits_for_release, setup, teardown),
        cmocka_unit_test_setup_teardown(test_own_lock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock_file_deletion_race, setup_nosync, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_counter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_temp_files, setup, teardown),
    };
    return cmocka_run_group_tests_name("store-file", tests, group_setup, group_teardown);
}
