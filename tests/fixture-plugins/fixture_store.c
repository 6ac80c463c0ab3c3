/*
 * store-good: the smallest honest store plugin, records in memory, for loader tests that need a
 * store next to the auth fixtures. Every op of ABI 1.0 is implemented with its contract (revision
 * check, ISF_E_EXISTS / ISF_E_CONFLICT / ISF_E_NOT_FOUND, a per-record lock); it keeps nothing
 * across processes, which no loader test needs.
 */
#include <isyncsf/plugin.h>

#include <string.h>

struct mem_rec {
    struct mem_rec *next;
    char *name;
    void *data;
    size_t len;
    uint64_t revision;
};

#define MEM_MAX_LOCKS 64

struct mem_store {
    const struct isf_host *host;
    struct mem_rec *recs;
    /* Names of the records locked now; a lock need not have a record. The lock handle is the
     * slot, so unlock needs no search. */
    char *locked[MEM_MAX_LOCKS];
};

static struct mem_rec **find(struct mem_store *s, const char *name)
{
    struct mem_rec **r = &s->recs;
    while (*r && strcmp((*r)->name, name) != 0)
        r = &(*r)->next;
    return r;
}

static void rec_free(const struct isf_host *h, struct mem_rec *r)
{
    h->free_secret(h, r->data, r->len);
    h->free(h, r->name);
    h->free(h, r);
}

static int mem_open(const struct isf_host *host, const struct isf_opts *opts, void **store,
                    struct isf_error *err)
{
    (void)opts;
    struct mem_store *s = host->alloc(host, sizeof(*s));
    if (!s)
        return host->error_set(host, err, ISF_E_NOMEM, "out of memory");
    memset(s, 0, sizeof(*s));
    s->host = host;
    *store = s;
    return ISF_OK;
}

static void mem_close(void *store)
{
    struct mem_store *s = store;
    if (!s)
        return;
    while (s->recs) {
        struct mem_rec *r = s->recs;
        s->recs = r->next;
        rec_free(s->host, r);
    }
    for (size_t i = 0; i < MEM_MAX_LOCKS; i++)
        s->host->free(s->host, s->locked[i]);
    s->host->free(s->host, s);
}

static int mem_get(void *store, const char *name, struct isf_blob *out, uint64_t *revision,
                   struct isf_error *err)
{
    struct mem_store *s = store;
    const struct isf_host *h = s->host;
    struct mem_rec *r = *find(s, name);
    if (!r)
        return h->error_set(h, err, ISF_E_NOT_FOUND, "record %s not found", name);
    out->data = h->alloc(h, r->len ? r->len : 1);
    if (!out->data)
        return h->error_set(h, err, ISF_E_NOMEM, "out of memory");
    memcpy(out->data, r->data, r->len);
    out->len = r->len;
    *revision = r->revision;
    return ISF_OK;
}

static int mem_put(void *store, const char *name, const void *data, size_t len,
                   uint64_t expected_revision, uint64_t *new_revision, struct isf_error *err)
{
    struct mem_store *s = store;
    const struct isf_host *h = s->host;
    struct mem_rec *r = *find(s, name);
    if (!r && expected_revision != 0)
        return h->error_set(h, err, ISF_E_CONFLICT, "record %s was removed meanwhile", name);
    if (r && expected_revision == 0)
        return h->error_set(h, err, ISF_E_EXISTS, "record %s already exists", name);
    if (r && r->revision != expected_revision)
        return h->error_set(h, err, ISF_E_CONFLICT, "record %s changed meanwhile", name);
    void *copy = h->alloc(h, len ? len : 1);
    if (!copy)
        return h->error_set(h, err, ISF_E_NOMEM, "out of memory");
    memcpy(copy, data, len);
    if (!r) {
        r = h->alloc(h, sizeof(*r));
        char *n = h->strdup(h, name);
        if (!r || !n) {
            h->free(h, r);
            h->free(h, n);
            h->free_secret(h, copy, len);
            return h->error_set(h, err, ISF_E_NOMEM, "out of memory");
        }
        memset(r, 0, sizeof(*r));
        r->name = n;
        r->next = s->recs;
        s->recs = r;
    } else {
        h->free_secret(h, r->data, r->len);
    }
    r->data = copy;
    r->len = len;
    *new_revision = ++r->revision;
    return ISF_OK;
}

static int mem_remove(void *store, const char *name, uint64_t expected_revision,
                      struct isf_error *err)
{
    struct mem_store *s = store;
    const struct isf_host *h = s->host;
    struct mem_rec **slot = find(s, name);
    struct mem_rec *r = *slot;
    if (!r)
        return h->error_set(h, err, ISF_E_NOT_FOUND, "record %s not found", name);
    if (expected_revision != 0 && r->revision != expected_revision)
        return h->error_set(h, err, ISF_E_CONFLICT, "record %s changed meanwhile", name);
    *slot = r->next;
    rec_free(h, r);
    return ISF_OK;
}

static int mem_list(void *store, isf_store_list_cb cb, void *arg, struct isf_error *err)
{
    struct mem_store *s = store;
    (void)err;
    for (struct mem_rec *r = s->recs; r; r = r->next)
        if (cb(arg, r->name))
            break;
    return ISF_OK;
}

/* One process, one thread: a lock held by this store is never released while a second lock of
 * the same name waits, so that wait would always time out; say so at once. */
static int mem_lock(void *store, const char *name, int timeout_ms, void **lock,
                    struct isf_error *err)
{
    struct mem_store *s = store;
    const struct isf_host *h = s->host;
    (void)timeout_ms;
    char **slot = NULL;
    for (size_t i = 0; i < MEM_MAX_LOCKS; i++) {
        if (s->locked[i] && strcmp(s->locked[i], name) == 0)
            return h->error_set(h, err, ISF_E_TIMEOUT, "record %s is locked", name);
        if (!s->locked[i] && !slot)
            slot = &s->locked[i];
    }
    if (!slot)
        return h->error_set(h, err, ISF_E_TIMEOUT, "too many locks held");
    *slot = h->strdup(h, name);
    if (!*slot)
        return h->error_set(h, err, ISF_E_NOMEM, "out of memory");
    *lock = slot;
    return ISF_OK;
}

static void mem_unlock(void *store, void *lock)
{
    struct mem_store *s = store;
    char **slot = lock;
    if (!slot)
        return;
    s->host->free(s->host, *slot);
    *slot = NULL;
}

#ifdef FIX_HALF_WATCH
/* store-half-watch: offers the ABI 1.2 watch without changes, which the loader must refuse. */
static int mem_watch(void *store, int *fd, struct isf_error *err)
{
    (void)store;
    (void)err;
    *fd = -1;
    return ISF_OK;
}
#endif

#ifndef FIX_NAME
#define FIX_NAME "store-good"
#endif

static const struct isf_store_ops mem_ops = {
    .struct_size = sizeof(struct isf_store_ops),
    .open = mem_open,
    .close = mem_close,
    .get = mem_get,
    .put = mem_put,
    .remove = mem_remove,
    .list = mem_list,
    .lock = mem_lock,
    .unlock = mem_unlock,
#ifdef FIX_HALF_WATCH
    .watch = mem_watch,
#endif
};

static const struct isf_plugin_descriptor mem_descriptor = {
    .struct_size = sizeof(struct isf_plugin_descriptor),
    .kind = ISF_PLUGIN_STORE,
    .name = FIX_NAME,
    .version = "1.0.0",
    .description = "loader test fixture: records in memory",
    .capabilities = 0,
    .options = NULL,
    .ops = &mem_ops,
};

ISF_DEFINE_PLUGIN_ABI();

ISF_PLUGIN_EXPORT int isyncsf_plugin_init(const struct isf_host *host,
                                          const struct isf_plugin_descriptor **out,
                                          struct isf_error *err)
{
    (void)host;
    (void)err;
    *out = &mem_descriptor;
    return ISF_OK;
}
