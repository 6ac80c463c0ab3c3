/* org list: every record, filtered and sorted, from the store alone (never the network). */
#include "orgstore.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

struct name_list {
    char **names;
    size_t n, cap;
    int no_memory; /* collect stopped the listing: it is incomplete */
};

static int collect(void *arg, const char *name)
{
    struct name_list *l = arg;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        char **grown = realloc(l->names, cap * sizeof(*grown));
        if (!grown)
            return l->no_memory = 1;
        l->names = grown;
        l->cap = cap;
    }
    if (!(l->names[l->n] = strdup(name)))
        return l->no_memory = 1;
    l->n++;
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int contains_ci(const char *hay, const char *needle)
{
    if (!hay)
        return 0;
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return 1;
    return 0;
}

static int matches(const struct isf_org *o, const struct isf_org_filter *f)
{
    if (!f)
        return 1;
    if (f->status && strcmp(o->status, f->status) != 0)
        return 0;
    if (f->mode && strcmp(o->mode, f->mode) != 0)
        return 0;
    if (f->environment && (!o->environment || strcmp(o->environment, f->environment) != 0))
        return 0;
    if (f->text && *f->text &&
        !(contains_ci(o->name, f->text) || contains_ci(o->org_name, f->text) ||
          contains_ci(o->org_id, f->text) || contains_ci(o->instance_url, f->text) ||
          contains_ci(o->description, f->text)))
        return 0;
    return 1;
}

/* One record on its way through the listing. */
struct list_item {
    const char *name;
    struct isf_blob blob;   /* stored bytes, read by the main thread */
    char *text;             /* its public JSON, compact, when it matches (JSON listing) */
    struct isf_org_row row; /* its row, when it matches (row listing) */
    int matched;
    int code; /* ISF_OK, or why it could not be read */
    char message[ISF_ERROR_MESSAGE_MAX];
};

struct list_job {
    struct list_item *items;
    size_t from, to;
    const struct isf_org_filter *filter;
    int rows; /* 1: fill rows, 0: render JSON text */
};

/* Move the row's fields out of the parsed record (they are freed with the row, not with it). */
static void take_row(struct isf_org *o, struct isf_org_row *r)
{
#define TAKE(dst, src) (r->dst = o->src, o->src = NULL)
    TAKE(name, name);
    TAKE(status, status);
    TAKE(mode, mode);
    TAKE(environment, environment);
    TAKE(org_name, org_name);
    TAKE(org_id, org_id);
    TAKE(package_namespace, pkg_namespace);
    TAKE(package_version, pkg_version);
#undef TAKE
    r->package_installed = o->pkg_installed;
    r->last_checked_at_ms = o->last_tested_at > 0 ? o->last_tested_at : o->last_refreshed_at;
}

/* Parse, filter and render a slice of the records. jansson values are never shared between
 * workers, and the store is only touched by the main thread (plugins are not re-entrant). */
static void *render_slice(void *arg)
{
    struct list_job *job = arg;
    for (size_t i = job->from; i < job->to; i++) {
        struct list_item *it = &job->items[i];
        if (it->code != ISF_OK)
            continue;
        struct isf_org o;
        struct isf_error perr;
        isf_err_init(&perr);
        if (isf_org_parse(it->name, it->blob.data, it->blob.len, &o, &perr) != ISF_OK) {
            it->code = perr.code;
            snprintf(it->message, sizeof(it->message), "%s", perr.message);
            continue;
        }
        if (matches(&o, job->filter) && job->rows) {
            it->matched = 1;
            take_row(&o, &it->row);
        } else if (matches(&o, job->filter)) {
            it->matched = 1;
            json_t *pub = isf_org_public_json(&o);
            it->text = pub ? isf_json_dumps(pub, JSON_COMPACT) : NULL;
            json_decref(pub);
            if (!it->text) {
                it->code = ISF_E_NOMEM;
                snprintf(it->message, sizeof(it->message), "out of memory");
            }
        }
        isf_org_free_fields(&o);
    }
    return NULL;
}

/* Parsing dominates a large listing (jansson reads ~70 MB/s), so it is spread over the CPUs. */
static void render_all(struct list_item *items, size_t n, const struct isf_org_filter *f, int rows)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    size_t workers = n < 256 ? 1 : (size_t)(cpus < 1 ? 1 : cpus > 8 ? 8 : cpus);
    pthread_t tids[8];
    struct list_job jobs[8];
    size_t started = 0;
    json_object_seed(0); /* jansson's hash seed, set once before threads race to set it */
    for (size_t w = 0; w < workers; w++) {
        jobs[w] = (struct list_job){items, n * w / workers, n * (w + 1) / workers, f, rows};
        if (w + 1 < workers && pthread_create(&tids[w], NULL, render_slice, &jobs[w]) == 0)
            started++;
        else
            render_slice(&jobs[w]); /* the last slice, or any a thread could not take */
    }
    for (size_t w = 0; w < started; w++)
        pthread_join(tids[w], NULL);
}

/* "[\n{org},\n{org}\n]": one org per line, in name order. */
static char *join_items(const struct list_item *items, size_t n)
{
    size_t len = 4;
    for (size_t i = 0; i < n; i++)
        len += items[i].text ? strlen(items[i].text) + 2 : 0;
    char *out = malloc(len);
    if (!out)
        return NULL;
    size_t at = 0;
    out[at++] = '[';
    for (size_t i = 0; i < n; i++) {
        if (!items[i].text)
            continue;
        if (at > 1)
            out[at++] = ',';
        out[at++] = '\n';
        size_t l = strlen(items[i].text);
        memcpy(out + at, items[i].text, l);
        at += l;
    }
    out[at++] = '\n';
    out[at++] = ']';
    out[at] = '\0';
    return out;
}

static void row_free_fields(struct isf_org_row *r)
{
    free(r->name);
    free(r->status);
    free(r->mode);
    free(r->environment);
    free(r->org_name);
    free(r->org_id);
    free(r->package_namespace);
    free(r->package_version);
}

ISF_API void isf_org_rows_free(struct isf_org_row *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++)
        row_free_fields(&rows[i]);
    free(rows);
}

/* The listing both forms share: every record read (by this thread: the store is not
 * re-entrant), then parsed, filtered and rendered (as JSON text or as a row) in parallel.
 * ls->items has one item per stored name, in name order; free with free_listing. */
struct listing {
    struct name_list names;
    struct list_item *items;
};

static void free_listing(isf_ctx *ctx, struct listing *ls)
{
    for (size_t i = 0; ls->items && i < ls->names.n; i++) {
        isf_orgstore_blob_free(ctx, &ls->items[i].blob);
        free(ls->items[i].text);
    }
    free(ls->items);
    for (size_t i = 0; i < ls->names.n; i++)
        free(ls->names.names[i]);
    free(ls->names.names);
}

static int list_records(isf_ctx *ctx, const struct isf_org_filter *f, int rows, struct listing *ls,
                        char **bad_json, struct isf_error *err)
{
    isf_err_init(err);
    memset(ls, 0, sizeof(*ls));
    if (bad_json)
        *bad_json = NULL;
    int rc = isf_store_ready(ctx, err);
    if (rc != ISF_OK)
        return rc;
    struct name_list *l = &ls->names;
    rc = ctx->store->store.list(ctx->store->instance, collect, l, err);
    if (rc != ISF_OK)
        return rc;
    /* A listing cut short must not look complete (found by tests/robust/alloc_fail.c). */
    if (l->no_memory)
        return isf_err_set(err, ISF_E_NOMEM, "out of memory listing the records");
    if (l->n > 1)
        qsort(l->names, l->n, sizeof(*l->names), by_name);
    struct list_item *items = ls->items = calloc(l->n ? l->n : 1, sizeof(*items));
    if (!items)
        return isf_err_set(err, ISF_E_NOMEM, "out of memory");
    for (size_t i = 0; i < l->n; i++) {
        struct isf_error rerr;
        uint64_t rev;
        isf_err_init(&rerr);
        items[i].name = l->names[i];
        items[i].code = isf_orgstore_read(ctx, l->names[i], &items[i].blob, &rev, &rerr);
        snprintf(items[i].message, sizeof(items[i].message), "%s", rerr.message);
    }
    render_all(items, l->n, f, rows);
    json_t *bad = json_array();
    for (size_t i = 0; i < l->n; i++) {
        /* One unreadable record fails alone; the others are still listed. A record removed
         * since the listing began is simply gone. */
        if (items[i].code == ISF_E_NOMEM)
            rc = isf_err_set(err, ISF_E_NOMEM, "out of memory reading record %s", items[i].name);
        else if (items[i].code != ISF_OK && items[i].code != ISF_E_NOT_FOUND &&
                 json_array_append_new(bad, json_pack("{s:s, s:s, s:s}", "org", items[i].name,
                                                      "code", isf_status_name(items[i].code),
                                                      "message", items[i].message)) != 0)
            rc = isf_err_set(err, ISF_E_NOMEM, "out of memory listing the unreadable records");
        else if (items[i].code == ISF_OK && items[i].matched && !rows && !items[i].text)
            rc = isf_err_set(err, ISF_E_NOMEM, "out of memory");
    }
    if (bad_json && json_array_size(bad) && !(*bad_json = isf_json_dumps(bad, JSON_COMPACT)))
        rc = isf_err_set(err, ISF_E_NOMEM, "out of memory");
    json_decref(bad);
    return rc;
}

ISF_API int isf_org_list_json(isf_ctx *ctx, const struct isf_org_filter *f, char **json,
                              char **bad_json, struct isf_error *err)
{
    *json = NULL;
    struct listing ls;
    int rc = list_records(ctx, f, 0, &ls, bad_json, err);
    if (rc == ISF_OK && !(*json = join_items(ls.items, ls.names.n)))
        rc = isf_err_set(err, ISF_E_NOMEM, "out of memory");
    free_listing(ctx, &ls);
    return rc;
}

ISF_API int isf_org_list_rows(isf_ctx *ctx, const struct isf_org_filter *f,
                              struct isf_org_row **rows, size_t *n, char **bad_json,
                              struct isf_error *err)
{
    *rows = NULL;
    *n = 0;
    struct listing ls;
    int rc = list_records(ctx, f, 1, &ls, bad_json, err);
    size_t count = 0;
    for (size_t i = 0; ls.items && i < ls.names.n; i++)
        count += ls.items[i].matched;
    struct isf_org_row *out = rc == ISF_OK ? calloc(count ? count : 1, sizeof(*out)) : NULL;
    if (rc == ISF_OK && !out)
        rc = isf_err_set(err, ISF_E_NOMEM, "out of memory");
    for (size_t i = 0; ls.items && i < ls.names.n; i++) {
        if (!ls.items[i].matched)
            continue;
        if (out)
            out[(*n)++] = ls.items[i].row;
        else
            row_free_fields(&ls.items[i].row);
    }
    *rows = out;
    free_listing(ctx, &ls);
    if (rc != ISF_OK && bad_json) {
        free(*bad_json);
        *bad_json = NULL;
    }
    return rc;
}
