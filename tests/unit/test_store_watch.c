/*
 * store-file change watching (ABI 1.2 ops watch and changes), through the plugin's public
 * surface: the built store-file.so is dlopen()ed and driven with the mock host, on a fresh
 * temporary folder per test. Changes made by another process are made by a fork()ed child with
 * its own store instance.
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
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PLUGIN_PATH ISF_TEST_PLUGIN_DIR "/store-file.so"
#define PATH_CAP 1024
#define MAX_SEEN 64

static void *g_dl;
static const struct isf_plugin_descriptor *g_desc;
static const struct isf_store_ops *g_ops;

struct fx {
    struct mock_host *m;
    const struct isf_host *h;
    json_t *opts;
    char root[PATH_CAP];
    char dir[PATH_CAP];
    void *store;
    int fd;
    struct isf_error err;
};

/* What changes reported: names in order, and how many "re-list everything" (NULL) calls. */
struct seen {
    char names[MAX_SEEN][80];
    int n;
    int relist;
    int stop_after; /* > 0: return non-zero from the callback once this many calls were made */
    int calls;
};

static int collect(void *arg, const char *name)
{
    struct seen *s = arg;
    s->calls++;
    if (!name)
        s->relist++;
    else if (s->n < MAX_SEEN)
        snprintf(s->names[s->n++], sizeof(s->names[0]), "%s", name);
    return s->stop_after > 0 && s->calls >= s->stop_after;
}

static int seen_has(const struct seen *s, const char *name)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->names[i], name) == 0)
            return 1;
    return 0;
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

static int readable_within(int fd, int ms)
{
    struct pollfd p = {fd, POLLIN, 0};
    return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

static void drain(struct fx *f, struct seen *s)
{
    memset(s, 0, sizeof(*s));
    assert_int_equal(g_ops->changes(f->store, collect, s, &f->err), ISF_OK);
}

static void put_str(struct fx *f, void *store, const char *name, const char *s, uint64_t expected)
{
    uint64_t rev = 0;
    int rc = g_ops->put(store, name, s, strlen(s), expected, &rev, &f->err);
    if (rc != ISF_OK)
        fail_msg("put %s: %s", name, f->err.message);
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
    isf_plugin_init_fn init;
    *(void **)&init = dlsym(g_dl, ISF_PLUGIN_INIT_SYMBOL);
    if (!init)
        return -1;
    struct mock_host *m = mock_host_new();
    struct isf_error err = {sizeof(err), 0, ""};
    int rc = init(mock_host_table(m), &g_desc, &err);
    mock_host_free(m);
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

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    const char *tmp = getenv("TMPDIR");
    snprintf(f->root, sizeof(f->root), "%s/isf-watch-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(f->root));
    snprintf(f->dir, sizeof(f->dir), "%s/orgs", f->root);
    f->m = mock_host_new();
    f->h = mock_host_table(f->m);
    f->err.struct_size = sizeof(f->err);
    f->opts = json_pack("{s:s, s:b}", "dir", f->dir, "fsync", 0);
    assert_int_equal(mock_opts_apply_defaults(f->opts, g_desc->options), 0);
    if (g_ops->open(f->h, mock_opts_from_json(f->opts), &f->store, &f->err) != ISF_OK) {
        fprintf(stderr, "open failed: %s\n", f->err.message);
        return -1;
    }
    f->fd = -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    if (f->store)
        g_ops->close(f->store);
    assert_int_equal(mock_host_live_allocs(f->m), 0);
    rm_rf_at(AT_FDCWD, f->root);
    json_decref(f->opts);
    mock_host_free(f->m);
    free(f);
    return 0;
}

static void start_watch(struct fx *f)
{
    assert_int_equal(g_ops->watch(f->store, &f->fd, &f->err), ISF_OK);
    assert_true(f->fd >= 0);
}

/* ---- tests -------------------------------------------------------------------------------- */

static void test_ops_offered_together(void **state)
{
    (void)state;
    assert_true(g_ops->struct_size >= offsetof(struct isf_store_ops, changes) + sizeof(void *));
    assert_non_null(g_ops->watch);
    assert_non_null(g_ops->changes);
}

static void test_descriptor_flags(void **state)
{
    struct fx *f = *state;
    start_watch(f);
    assert_true(fcntl(f->fd, F_GETFL) & O_NONBLOCK);
    assert_true(fcntl(f->fd, F_GETFD) & FD_CLOEXEC);
    int again = -1;
    assert_int_equal(g_ops->watch(f->store, &again, &f->err), ISF_OK);
    assert_int_equal(again, f->fd); /* one descriptor per store */
    struct seen s;
    drain(f, &s);
    assert_int_equal(s.calls, 0); /* nothing happened: nothing reported, and no blocking */
    assert_false(readable_within(f->fd, 0));
}

static void test_changes_before_watch(void **state)
{
    struct fx *f = *state;
    struct seen s = {0};
    assert_int_equal(g_ops->changes(f->store, collect, &s, &f->err), ISF_E_USAGE);
    assert_int_equal(f->err.code, ISF_E_USAGE);
    assert_non_null(strstr(f->err.message, "watch"));
    assert_int_equal(s.calls, 0);
}

static void test_create_update_remove(void **state)
{
    struct fx *f = *state;
    struct seen s;
    start_watch(f);
    put_str(f, f->store, "acme", "{\"v\":1}", 0);
    assert_true(readable_within(f->fd, 1000));
    drain(f, &s);
    assert_true(seen_has(&s, "acme"));
    assert_int_equal(s.relist, 0);
    assert_false(readable_within(f->fd, 0)); /* drained */

    put_str(f, f->store, "acme", "{\"v\":2}", 1);
    drain(f, &s);
    assert_true(seen_has(&s, "acme"));

    assert_int_equal(g_ops->remove(f->store, "acme", 2, &f->err), ISF_OK);
    drain(f, &s);
    assert_true(seen_has(&s, "acme"));
    for (int i = 0; i < s.n; i++)
        assert_string_equal(s.names[i], "acme"); /* only the record's own name */
}

static void test_locks_and_strays_are_quiet(void **state)
{
    struct fx *f = *state;
    struct seen s;
    char path[PATH_CAP + 32];
    void *lock = NULL;
    start_watch(f);
    /* Lock files live in .locks and temp files in .tmp: no event reaches the record folder. */
    assert_int_equal(g_ops->lock(f->store, "beta", 0, &lock, &f->err), ISF_OK);
    g_ops->unlock(f->store, lock);
    /* Files that are not records are not reported. */
    snprintf(path, sizeof(path), "%s/notes.txt", f->dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fclose(fp);
    snprintf(path, sizeof(path), "%s/.hidden.rec", f->dir);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fclose(fp);
    drain(f, &s);
    assert_int_equal(s.n, 0);
    assert_int_equal(s.relist, 0);
    /* A record copied in by hand (written in place) is reported. */
    snprintf(path, sizeof(path), "%s/manual.rec", f->dir);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("x", fp);
    fclose(fp);
    drain(f, &s);
    assert_true(seen_has(&s, "manual"));
}

static void test_other_process(void **state)
{
    struct fx *f = *state;
    struct seen s;
    start_watch(f);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        void *other = NULL;
        struct isf_error e = {sizeof(e), 0, ""};
        uint64_t rev;
        int ok = g_ops->open(f->h, mock_opts_from_json(f->opts), &other, &e) == ISF_OK &&
                 g_ops->put(other, "from-child", "{}", 2, 0, &rev, &e) == ISF_OK;
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_true(readable_within(f->fd, 2000));
    drain(f, &s);
    assert_true(seen_has(&s, "from-child"));
}

static void test_overflow_asks_for_relist(void **state)
{
    struct fx *f = *state;
    struct seen s;
    char a[PATH_CAP + 16], b[PATH_CAP + 16];
    long max_events = 16384;
    FILE *fp = fopen("/proc/sys/fs/inotify/max_queued_events", "r");
    if (fp) {
        if (fscanf(fp, "%ld", &max_events) != 1)
            max_events = 16384;
        fclose(fp);
    }
    start_watch(f);
    put_str(f, f->store, "ping", "{}", 0);
    snprintf(a, sizeof(a), "%s/ping.rec", f->dir);
    snprintf(b, sizeof(b), "%s/pong.rec", f->dir);
    /* Each rename queues two events (MOVED_FROM, MOVED_TO): enough to overflow the queue. */
    for (long i = 0; i <= max_events / 2 + 8; i++)
        assert_int_equal(rename(i % 2 ? b : a, i % 2 ? a : b), 0);
    drain(f, &s);
    assert_true(s.relist >= 1);
    assert_false(readable_within(f->fd, 0));
}

static void test_callback_can_stop(void **state)
{
    struct fx *f = *state;
    struct seen s = {0};
    start_watch(f);
    put_str(f, f->store, "one", "{}", 0);
    put_str(f, f->store, "two", "{}", 0);
    put_str(f, f->store, "three", "{}", 0);
    s.stop_after = 1;
    assert_int_equal(g_ops->changes(f->store, collect, &s, &f->err), ISF_OK);
    assert_int_equal(s.calls, 1);
}

static void test_close_releases_descriptor(void **state)
{
    struct fx *f = *state;
    start_watch(f);
    g_ops->close(f->store);
    f->store = NULL;
    assert_int_equal(fcntl(f->fd, F_GETFD), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ops_offered_together),
        cmocka_unit_test_setup_teardown(test_descriptor_flags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changes_before_watch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_update_remove, setup, teardown),
        cmocka_unit_test_setup_teardown(test_locks_and_strays_are_quiet, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_process, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overflow_asks_for_relist, setup, teardown),
        cmocka_unit_test_setup_teardown(test_callback_can_stop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_releases_descriptor, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
