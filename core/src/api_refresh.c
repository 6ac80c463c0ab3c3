/* isf_refresh: the public call in front of the refresh engine — which orgs, with what limits. */
#include "refresh_engine.h"

#include <stdlib.h>
#include <string.h>

struct name_list {
    char **v;
    size_t n, cap;
    int oom;
};

static int collect_name(void *arg, const char *name)
{
    struct name_list *l = arg;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        char **v = realloc(l->v, cap * sizeof(*v));
        if (!v) {
            l->oom = 1;
            return 1;
        }
        l->v = v;
        l->cap = cap;
    }
    if (!(l->v[l->n] = strdup(name))) {
        l->oom = 1;
        return 1;
    }
    l->n++;
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(struct name_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

ISF_API int isf_refresh(isf_ctx *ctx, const char *const *names, size_t n,
                        const struct isf_refresh_options *o, struct isf_refresh_summary *sum,
                        struct isf_error *err)
{
    isf_err_init(err);
    struct isf_refresh_summary local_sum;
    if (!sum)
        sum = &local_sum;
    memset(sum, 0, sizeof(*sum));
    struct isf_refresh_options opts = {0};
    if (!o || o->struct_size < offsetof(struct isf_refresh_options, stop))
        return isf_err_set(err, ISF_E_USAGE, "isf_refresh needs its options (struct_size set)");
    memcpy(&opts, o, o->struct_size < sizeof(opts) ? o->struct_size : sizeof(opts));
    if (!opts.all && (!names || n == 0))
        return isf_err_set(err, ISF_E_USAGE, "name the orgs to refresh, or ask for all");
    int rc = isf_store_ready(ctx, err);
    if (rc != ISF_OK)
        return rc;
    /* Only the names are listed up front (a few bytes each); records are read one at a time as
     * their turn comes, so memory stays small at any store size. */
    struct name_list all = {0};
    if (opts.all) {
        rc = ctx->store->store.list(ctx->store->instance, collect_name, &all, err);
        if (rc == ISF_OK && all.oom)
            rc = isf_err_set(err, ISF_E_NOMEM, "out of memory listing the orgs");
        if (rc != ISF_OK) {
            free_names(&all);
            return rc;
        }
        qsort(all.v, all.n, sizeof(*all.v), cmp_names);
        names = (const char *const *)all.v;
        n = all.n;
    }
    sum->total = n;
    struct isf_error first;
    isf_err_init(&first);
    struct rf_run run = {
        .ctx = ctx,
        .opts = &opts,
        .sum = sum,
        .first_err = &first,
        .start_wall = isf_now_ms(),
        .start_mono = isf_monotonic_ms(),
        .timeout_ms = (opts.timeout_s > 0 ? opts.timeout_s : ctx->cfg->timeout_s) * 1000L,
    };
    rc = n ? rf_engine_run(&run, names, n) : ISF_OK;
    free_names(&all);
    if (rc != ISF_OK) {
        *err = first;
        return rc;
    }
    if (sum->worst_status != ISF_OK) {
        *err = first;
        return sum->worst_status;
    }
    return ISF_OK;
}
