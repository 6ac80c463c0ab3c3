/*
 * store-memory: a complete, minimal isyncsf store plugin that keeps records in memory.
 *
 * FOR TESTS AND DEMOS ONLY. Everything lives in the memory of one process and is gone when that
 * process exits: an `isyncsf org add` followed by another `isyncsf` command finds nothing. The
 * per-record lock is a per-process table, so it does NOT hold across processes (the contract in
 * isyncsf/plugin.h asks a real store for a lock that does: see plugins/store-file); two isyncsf
 * processes never share a store-memory anyway. Use it to see what a store plugin is made of, in
 * tests that drive libisyncsf from one process, and as a starting point for a real backend.
 *
 * What it does show, as the contract asks:
 *  - the two exported symbols (ISF_DEFINE_PLUGIN_ABI and isyncsf_plugin_init), everything else
 *    static, built with hidden visibility and -z defs (isyncsf_add_plugin does that);
 *  - a declared option (max_records), validated and defaulted by the core;
 *  - revisions: get returns one (>= 1); put with expected_revision 0 creates (ISF_E_EXISTS when
 *    present), otherwise compares and swaps (ISF_E_CONFLICT); remove the same, 0 = any;
 *  - memory crossing the boundary comes from host->alloc; record bytes are released with
 *    host->free_secret (they hold sealed secrets: wiping costs nothing);
 *  - errors through host->error_set, never printing; no record content in a message.
 *
 * Built only against the installed SDK: see CMakeLists.txt here, and docs/plugins.md.
 */
#include <isyncsf/plugin.h>

#include <string.h>

/* ---------------------------------------------------------------------------------------------
 * State: a linked list of records and a small table of held locks.
 */
struct mem_rec {
    struct mem_rec *next;
    char *name;
    void *data;
    size_t len;
    uint64_t revision; /* >= 1 while the record exists */
};

#define MEM_MAX_LOCKS 64

struct mem_store {
    const struct isf_host *host; /* lives until the plugin is unloaded */
    struct mem_rec *recs;
    size_t n_recs;
    int64_t max_records;
    /* Names of the records locked now (per process); the handle is the slot. */
    char *locked[MEM_MAX_LOCKS];
};

static const struct isf_option_spec mem_options[] = {
    {"max_records", ISF_OPT_INT, "1000", 0, "refuse to create more records than this"},
    {NULL, 0, NULL, 0, NULL},
};

static struct mem_rec **mem_find(struct mem_store *s, const char *name)
{
    struct mem_rec **r = &s->recs;
    while (*r && strcmp((*r)->name, name) != 0)
        r = &(*r)->next;
    return r;
}

static void mem_rec_free(const struct isf_host *h, struct mem_rec *r)
{
    h->free_secret(h, r->data, r->len);
    h->free(h, r->name);
    h->free(h, r);
}

/* ---------------------------------------------------------------------------------------------
 * Operations (struct isf_store_ops, ABI 1.0).
 */
static int mem_open(const struct isf_host *host, const struct isf_opts *opts, void **store,
                    struct isf_error *err)
{
    int64_t max = host->opt_int(host, opts, "max_records");
    if (max < 1)
        return host->error_set(host, err, ISF_E_USAGE,
                               "max_records must be at least 1 (it is %lld)", (long long)max);
    struct mem_store *s = host->alloc(host, sizeof(*s));
    if (!s)
        return host->error_set(host, err, ISF_E_NOMEM, "out of memory");
    memset(s, 0, sizeof(*s));
    s->host = host;
    s->max_records = max;
    host->log(host, ISF_LOG_DEBUG, "in-memory store opened (at most %lld records)", (long long)max);
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
        mem_rec_free(s->host, r);
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
    const struct mem_rec *r = *mem_find(s, name);
    if (!r)
        return h->error_set(h, err, ISF_E_NOT_FOUND, "record %s not found", name);
    out->data = h->alloc(h, r->len ? r->len : 1); /* the caller frees it with host->free */
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
    struct mem_rec *r = *mem_find(s, name);
    if (!r && expected_revision != 0)
        return h->error_set(h, err, ISF_E_CONFLICT, "record %s was removed meanwhile", name);
    if (r && expected_revision == 0)
        return h->error_set(h, err, ISF_E_EXISTS, "record %s already exists", name);
    if (r && r->revision != expected_revision)
        return h->error_set(h, err, ISF_E_CONFLICT,
                            "record %s changed meanwhile (revision %llu, expected %llu)", name,
                            (unsigned long long)r->revision, (unsigned long long)expected_revision);
    if (!r && (int64_t)s->n_recs >= s->max_records)
        return h->error_set(h, err, ISF_E_STORE,
                            "the in-memory store is full (%lld records); raise max_records",
                            (long long)s->max_records);
    void *copy = h->alloc(h, len ? len : 1); /* `data` is borrowed for this call only */
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
        s->n_recs++;
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
    struct mem_rec **slot = mem_find(s, name);
    struct mem_rec *r = *slot;
    if (!r)
        return h->error_set(h, err, ISF_E_NOT_FOUND, "record %s not found", name);
    if (expected_revision != 0 && r->revision != expected_revision)
        return h->error_set(h, err, ISF_E_CONFLICT, "record %s changed meanwhile", name);
    *slot = r->next;
    s->n_recs--;
    mem_rec_free(h, r);
    return ISF_OK;
}

static int mem_list(void *store, isf_store_list_cb cb, void *arg, struct isf_error *err)
{
    struct mem_store *s = store;
    (void)err;
    for (const struct mem_rec *r = s->recs; r; r = r->next)
        if (cb(arg, r->name))
            break;
    return ISF_OK;
}

/* Per process only (see the top of this file). The core serialises calls into one instance, so
 * a lock already held here cannot be released while we wait: report ISF_E_TIMEOUT at once. */
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
        return h->error_set(h, err, ISF_E_TIMEOUT, "too many locks held (%d)", MEM_MAX_LOCKS);
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

/* ---------------------------------------------------------------------------------------------
 * The ops table, the descriptor and the two exported symbols.
 */
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
};

static const struct isf_plugin_descriptor mem_descriptor = {
    .struct_size = sizeof(struct isf_plugin_descriptor),
    .kind = ISF_PLUGIN_STORE,
    .name = "store-memory", /* must equal the file name without .so */
    .version = "1.0.0",
    .description = "records in the memory of one process (tests and demos; nothing persists)",
    .capabilities = 0, /* capability bits are for auth plugins */
    .options = mem_options,
    .ops = &mem_ops,
};

ISF_DEFINE_PLUGIN_ABI();

ISF_PLUGIN_EXPORT int isyncsf_plugin_init(const struct isf_host *host,
                                          const struct isf_plugin_descriptor **out,
                                          struct isf_error *err)
{
    (void)err;
    if (host->struct_size < offsetof(struct isf_host, session_set) + sizeof(host->session_set))
        return host->error_set(host, err, ISF_E_CONFIG, "host table smaller than ABI 1.0");
    *out = &mem_descriptor;
    return ISF_OK;
}
