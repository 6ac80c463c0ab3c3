/* Tokens of modes that keep none in the store (ISF_CAP_NO_TOKEN_STORE), held in this process's
 * memory only, so that a long-running caller (the sync engine, a daemon) does not run a helper
 * for every call. A held token is used until it is due (expires_at minus refresh.margin_s) and
 * replaced when the org refuses it; it is dropped when its org is edited, disconnected or removed
 * here, and wiped when the context closes. It is checked against the record's mode and named
 * credential, so a change made by another process is not answered with the old credential's
 * token. Contexts are single-threaded, and so is this list. */
#ifndef ISF_HELDTOKEN_H
#define ISF_HELDTOKEN_H

#include "record.h"

struct isf_ctx;

struct isf_heldtoken {
    struct isf_heldtoken *next;
    char *name, *mode, *named_credential; /* what the token was obtained for */
    char *access_token;                   /* secret; wiped when dropped */
    char *instance_url;
    int64_t expires_at_ms;
};

/* The held token of org `o` when it is still good for its current settings and not due; NULL
 * otherwise. Borrowed until the next call that changes the list. */
const struct isf_heldtoken *isf_heldtoken_get(struct isf_ctx *ctx, const struct isf_org *o);
/* Hold a token for org `o` (replacing any). Out of memory just means nothing is held. */
void isf_heldtoken_put(struct isf_ctx *ctx, const struct isf_org *o, const char *access_token,
                       int64_t expires_at_ms);
void isf_heldtoken_drop(struct isf_ctx *ctx, const char *name);
void isf_heldtoken_drop_all(struct isf_ctx *ctx);

#endif
