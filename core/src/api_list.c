/* org list: every record, filtered and sorted, from the store alone (never the network). */
#include "orgstore.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct name_list {
    char **names;
    size_t n, cap;
};

static int collect(void *arg, const char *name)
{
    struct name_list *l = arg;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        char **grown = realloc(l->names, cap * sizeof(*grown));
        if (!grown)
            return 1;
        l->names = grown;
        l->cap = cap;
    }
    if (!(l->names[l->n] = strdup(name)))
        return 1;
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

ISF_API int isf_org_list_json(isf_ctx *ctx, const struct isf_org_filter *f, char **json,
                              char **bad_json, struct isf_error *err)
{
    isf_err_init(err);
    *json = NULL;
    if (bad_json)
        *bad_json = NULL;
    int rc = isf_store_ready(ctx, err);
    if (rc != ISF_OK)
        return rc;
    struct name_list l = {0};
    json_t *arr = json_array();
    json_t *bad = json_array();
    rc = ctx->store->store.list(ctx->store->instance, collect, &l, err);
    if (rc != ISF_OK)
        goto done;
    if (l.n > 1)
        qsort(l.names, l.n, sizeof(*l.names), by_name);
    for (size_t i = 0; i < l.n; i++) {
        struct isf_org o;
        struct isf_error rerr;
        isf_err_init(&rerr);
        if (isf_orgstore_get(ctx, l.names[i], &o, &rerr) != ISF_OK) {
            /* One unreadable record fails alone; the others are still listed. */
            if (rerr.code != ISF_E_NOT_FOUND)
                json_array_append_new(bad, json_pack("{s:s, s:s, s:s}", "org", l.names[i], "code",
                                                     isf_status_name(rerr.code), "message",
                                                     rerr.message));
            continue;
        }
        if (matches(&o, f))
            json_array_append_new(arr, isf_org_public_json(&o));
        isf_org_free_fields(&o);
    }
    *json = json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (bad_json && json_array_size(bad))
        *bad_json = json_dumps(bad, JSON_COMPACT);
    if (!*json)
        rc = isf_err_set(err, ISF_E_NOMEM, "out of memory");
done:
    for (size_t i = 0; i < l.n; i++)
        free(l.names[i]);
    free(l.names);
    json_decref(arr);
    json_decref(bad);
    return rc;
}
