/* Tokens of modes that keep none in the store, held in memory (see heldtoken.h). */
#include "heldtoken.h"

#include "internal.h"

#include <stdlib.h>
#include <string.h>

static int same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void free_one(struct isf_heldtoken *t)
{
    free(t->name);
    free(t->mode);
    free(t->named_credential);
    isf_free_secret(t->access_token);
    free(t->instance_url);
    free(t);
}

const struct isf_heldtoken *isf_heldtoken_get(struct isf_ctx *ctx, const struct isf_org *o)
{
    int64_t margin = ctx->cfg->refresh_margin_s * 1000;
    for (const struct isf_heldtoken *t = ctx->held_tokens; t; t = t->next)
        if (strcmp(t->name, o->name) == 0)
            return same(t->mode, o->mode) && same(t->named_credential, o->named_credential) &&
                           same(t->instance_url, o->instance_url) &&
                           t->expires_at_ms - margin > isf_now_ms()
                       ? t
                       : NULL;
    return NULL;
}

void isf_heldtoken_put(struct isf_ctx *ctx, const struct isf_org *o, const char *access_token,
                       int64_t expires_at_ms)
{
    isf_heldtoken_drop(ctx, o->name);
    struct isf_heldtoken *t = calloc(1, sizeof(*t));
    if (!t)
        return;
    t->name = isf_strdup(o->name);
    t->mode = isf_strdup(o->mode);
    t->named_credential = isf_strdup(o->named_credential);
    t->access_token = isf_strdup(access_token);
    t->instance_url = isf_strdup(o->instance_url);
    t->expires_at_ms = expires_at_ms;
    if (!t->name || !t->mode || (o->named_credential && !t->named_credential) || !t->access_token ||
        (o->instance_url && !t->instance_url)) {
        free_one(t);
        return;
    }
    t->next = ctx->held_tokens;
    ctx->held_tokens = t;
}

void isf_heldtoken_drop(struct isf_ctx *ctx, const char *name)
{
    for (struct isf_heldtoken **p = &ctx->held_tokens; *p; p = &(*p)->next)
        if (strcmp((*p)->name, name) == 0) {
            struct isf_heldtoken *t = *p;
            *p = t->next;
            free_one(t);
            return;
        }
}

void isf_heldtoken_drop_all(struct isf_ctx *ctx)
{
    while (ctx->held_tokens) {
        struct isf_heldtoken *t = ctx->held_tokens;
        ctx->held_tokens = t->next;
        free_one(t);
    }
}
