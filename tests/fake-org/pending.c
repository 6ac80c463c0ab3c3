/* The login and consent pages waiting for their form. Each page carries a random id in a hidden
 * field; posting the form takes (removes) the entry, so a page works once and a replayed or
 * forged post finds nothing. Entries expire after FO_PENDING_TTL and are bounded in number, so a
 * test that opens many pages and never posts them cannot grow the fake without limit. */
#include "fake_org.h"

#include <stdlib.h>
#include <string.h>

#define ID_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

void fo_authz_free(struct fo_authz *a)
{
    free(a->redirect_uri);
    free(a->state);
    free(a->scope);
    free(a->code_challenge);
    memset(a, 0, sizeof(*a));
}

static char *dup_or_null(const char *s, bool *failed)
{
    char *d;

    if (!s)
        return NULL;
    d = strdup(s);
    if (!d)
        *failed = true;
    return d;
}

static int authz_copy(struct fo_authz *dst, const struct fo_authz *src)
{
    bool failed = false;

    dst->client = src->client;
    dst->redirect_uri = dup_or_null(src->redirect_uri, &failed);
    dst->state = dup_or_null(src->state, &failed);
    dst->scope = dup_or_null(src->scope, &failed);
    dst->code_challenge = dup_or_null(src->code_challenge, &failed);
    if (failed) {
        fo_authz_free(dst);
        return -1;
    }
    return 0;
}

static void pending_free(struct fo_pending *p)
{
    fo_authz_free(&p->authz);
    free(p);
}

/* Caller holds srv->lock. */
static void drop_expired(struct fo_server *srv, time_t now)
{
    struct fo_pending **slot = &srv->pending;

    while (*slot) {
        struct fo_pending *p = *slot;
        if (p->expires_at <= now) {
            *slot = p->next;
            pending_free(p);
            srv->npending--;
        } else {
            slot = &p->next;
        }
    }
}

int fo_pending_add(struct fo_server *srv, enum fo_pending_stage stage, const struct fo_authz *authz,
                   char id[FO_PENDING_ID_LEN + 1])
{
    struct fo_pending *p = calloc(1, sizeof(*p));
    time_t now = time(NULL);
    int rc = -1;

    if (!p)
        return -1;
    if (fo_random_string(p->id, FO_PENDING_ID_LEN, ID_CHARS) != 0 ||
        authz_copy(&p->authz, authz) != 0) {
        free(p);
        return -1;
    }
    p->stage = stage;
    p->expires_at = now + FO_PENDING_TTL;
    pthread_mutex_lock(&srv->lock);
    drop_expired(srv, now);
    if (srv->npending < FO_MAX_PENDING) {
        p->next = srv->pending;
        srv->pending = p;
        srv->npending++;
        memcpy(id, p->id, sizeof(p->id));
        rc = 0;
    }
    pthread_mutex_unlock(&srv->lock);
    if (rc != 0)
        pending_free(p);
    return rc;
}

bool fo_pending_take(struct fo_server *srv, const char *id, enum fo_pending_stage stage,
                     struct fo_authz *out)
{
    struct fo_pending *found = NULL;
    time_t now = time(NULL);

    if (!id || strlen(id) != FO_PENDING_ID_LEN)
        return false;
    pthread_mutex_lock(&srv->lock);
    drop_expired(srv, now);
    for (struct fo_pending **slot = &srv->pending; *slot; slot = &(*slot)->next) {
        if ((*slot)->stage == stage && strcmp((*slot)->id, id) == 0) {
            found = *slot;
            *slot = found->next;
            srv->npending--;
            break;
        }
    }
    pthread_mutex_unlock(&srv->lock);
    if (!found)
        return false;
    *out = found->authz;
    memset(&found->authz, 0, sizeof(found->authz));
    pending_free(found);
    return true;
}

void fo_pending_free_all(struct fo_server *srv)
{
    while (srv->pending) {
        struct fo_pending *p = srv->pending;
        srv->pending = p->next;
        pending_free(p);
    }
    srv->npending = 0;
}
