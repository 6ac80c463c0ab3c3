/* Shared state of the fake org: knobs, counters, injected faults and the token table. One mutex
 * guards it all; every critical section is a few hash probes or copies, so contention stays low
 * even at thousands of requests per second. */
#include "fake_org.h"

#include <errno.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._"
#define ALNUM_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
#define MIN_PURGE_AT 4096

static uint64_t hash_string(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */

    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static struct fo_token **table_slot(struct fo_token_table *t, const char *value)
{
    struct fo_token **slot = &t->buckets[hash_string(value) & (t->nbuckets - 1)];

    while (*slot && strcmp((*slot)->value, value) != 0)
        slot = &(*slot)->next;
    return slot;
}

static void token_free(struct fo_token *tok)
{
    fo_wipe_free(tok->value);
    free(tok->scope);
    free(tok->redirect_uri);
    free(tok->code_challenge);
    free(tok);
}

static void table_unlink(struct fo_token_table *t, struct fo_token **slot)
{
    struct fo_token *tok = *slot;

    *slot = tok->next;
    token_free(tok);
    t->count--;
}

/* Removes every token for which drop() says so; the one walk behind purges and mass revocations. */
static size_t table_remove_if(struct fo_token_table *t,
                              bool (*drop)(const struct fo_token *, const void *), const void *arg)
{
    size_t removed = 0;

    for (size_t b = 0; b < t->nbuckets; b++) {
        struct fo_token **slot = &t->buckets[b];
        while (*slot) {
            if (drop(*slot, arg)) {
                table_unlink(t, slot);
                removed++;
            } else {
                slot = &(*slot)->next;
            }
        }
    }
    return removed;
}

static bool is_expired(const struct fo_token *tok, const void *arg)
{
    const time_t *now = arg;

    return tok->expires_at != 0 && tok->expires_at <= *now;
}

static bool in_family(const struct fo_token *tok, const void *arg)
{
    const uint64_t *family = arg;

    return tok->family == *family;
}

static bool any_token(const struct fo_token *tok, const void *arg)
{
    (void)tok;
    (void)arg;
    return true;
}

static int table_grow(struct fo_token_table *t)
{
    size_t n = t->nbuckets * 2;
    struct fo_token **buckets = calloc(n, sizeof(*buckets));

    if (!buckets)
        return -1;
    for (size_t b = 0; b < t->nbuckets; b++) {
        struct fo_token *tok = t->buckets[b];
        while (tok) {
            struct fo_token *next = tok->next;
            size_t i = hash_string(tok->value) & (n - 1);
            tok->next = buckets[i];
            buckets[i] = tok;
            tok = next;
        }
    }
    free(t->buckets);
    t->buckets = buckets;
    t->nbuckets = n;
    return 0;
}

/* Expired tokens are dropped lazily when the table has doubled since the last purge, so a long
 * benchmark that grants millions of short-lived tokens keeps a bounded table. */
static void table_maybe_purge(struct fo_token_table *t)
{
    time_t now = time(NULL);

    if (t->count < t->purge_at)
        return;
    table_remove_if(t, is_expired, &now);
    t->purge_at = t->count * 2 > MIN_PURGE_AT ? t->count * 2 : MIN_PURGE_AT;
}

int fo_state_init(struct fo_server *srv)
{
    pthread_condattr_t attr;

    if (pthread_mutex_init(&srv->lock, NULL) != 0)
        return -1;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (pthread_cond_init(&srv->wake, &attr) != 0) {
        pthread_condattr_destroy(&attr);
        return -1;
    }
    pthread_condattr_destroy(&attr);
    srv->tokens.nbuckets = 4096;
    srv->tokens.buckets = calloc(srv->tokens.nbuckets, sizeof(*srv->tokens.buckets));
    srv->tokens.purge_at = MIN_PURGE_AT;
    srv->tokens.next_family = 1;
    if (!srv->tokens.buckets)
        return -1;
    if (RAND_bytes(srv->sign_key, sizeof(srv->sign_key)) != 1)
        return -1;
    return 0;
}

void fo_state_free(struct fo_server *srv)
{
    if (srv->tokens.buckets) {
        table_remove_if(&srv->tokens, any_token, NULL);
        free(srv->tokens.buckets);
        srv->tokens.buckets = NULL;
    }
    for (int i = 0; i < srv->nfaults; i++)
        fo_fault_clear(&srv->faults[i]);
    srv->nfaults = 0;
    fo_pending_free_all(srv);
    pthread_cond_destroy(&srv->wake);
    pthread_mutex_destroy(&srv->lock);
}

void fo_state_knobs(struct fo_server *srv, struct fo_knobs *out)
{
    pthread_mutex_lock(&srv->lock);
    *out = srv->knobs;
    pthread_mutex_unlock(&srv->lock);
}

void fo_state_set_knobs(struct fo_server *srv, const struct fo_knobs *knobs)
{
    pthread_mutex_lock(&srv->lock);
    srv->knobs = *knobs;
    pthread_mutex_unlock(&srv->lock);
}

/* Bumps one counter of srv->counters and returns its new value. */
long fo_state_count(struct fo_server *srv, long *counter)
{
    long v;

    pthread_mutex_lock(&srv->lock);
    v = ++*counter;
    pthread_mutex_unlock(&srv->lock);
    return v;
}

void fo_state_counters(struct fo_server *srv, struct fo_counters *out, long *active_tokens)
{
    time_t now = time(NULL);
    long active = 0;

    pthread_mutex_lock(&srv->lock);
    *out = srv->counters;
    for (size_t b = 0; b < srv->tokens.nbuckets; b++) {
        for (struct fo_token *tok = srv->tokens.buckets[b]; tok; tok = tok->next) {
            if (tok->kind == FO_TOKEN_ACCESS && !is_expired(tok, &now))
                active++;
        }
    }
    pthread_mutex_unlock(&srv->lock);
    *active_tokens = active;
}

void fo_state_reset(struct fo_server *srv)
{
    pthread_mutex_lock(&srv->lock);
    memset(&srv->counters, 0, sizeof(srv->counters));
    for (int i = 0; i < srv->nfaults; i++)
        fo_fault_clear(&srv->faults[i]);
    srv->nfaults = 0;
    pthread_mutex_unlock(&srv->lock);
}

void fo_fault_clear(struct fo_fault *fault)
{
    free(fault->body);
    free(fault->content_type);
    fault->body = NULL;
    fault->content_type = NULL;
}

/* Takes ownership of fault's strings on success. */
int fo_state_add_fault(struct fo_server *srv, struct fo_fault *fault)
{
    int rc = -1;

    pthread_mutex_lock(&srv->lock);
    if (srv->nfaults < FO_MAX_FAULTS) {
        srv->faults[srv->nfaults++] = *fault;
        rc = 0;
    }
    pthread_mutex_unlock(&srv->lock);
    return rc;
}

static int fault_copy(struct fo_fault *out, const struct fo_fault *in)
{
    *out = *in;
    out->body = in->body ? strdup(in->body) : NULL;
    out->content_type = in->content_type ? strdup(in->content_type) : NULL;
    if ((in->body && !out->body) || (in->content_type && !out->content_type)) {
        fo_fault_clear(out);
        return -1;
    }
    return 0;
}

/* The first armed fault whose prefix matches url, consumed once; faults fire in the order they
 * were added, so a test can script "503, then a delay, then normal". */
bool fo_state_take_fault(struct fo_server *srv, const char *url, const char *client_id,
                         struct fo_fault *out)
{
    bool found = false;

    pthread_mutex_lock(&srv->lock);
    for (int i = 0; i < srv->nfaults; i++) {
        struct fo_fault *f = &srv->faults[i];
        if (strncmp(url, f->path_prefix, strlen(f->path_prefix)) != 0)
            continue;
        if (f->client_id[0] && (!client_id || strcmp(client_id, f->client_id) != 0))
            continue;
        if (fault_copy(out, f) != 0)
            break;
        found = true;
        srv->counters.faults_injected++;
        if (f->count > 0 && --f->count == 0) {
            fo_fault_clear(f);
            memmove(f, f + 1, sizeof(*f) * (size_t)(srv->nfaults - i - 1));
            srv->nfaults--;
        }
        break;
    }
    pthread_mutex_unlock(&srv->lock);
    return found;
}

/* Sleeps without holding a connection's thread past shutdown. */
void fo_state_sleep_ms(struct fo_server *srv, long ms)
{
    struct timespec deadline;

    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += ms / 1000;
    deadline.tv_nsec += (ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&srv->lock);
    while (!srv->stopping) {
        if (pthread_cond_timedwait(&srv->wake, &srv->lock, &deadline) == ETIMEDOUT)
            break;
    }
    pthread_mutex_unlock(&srv->lock);
}

void fo_state_stop(struct fo_server *srv)
{
    pthread_mutex_lock(&srv->lock);
    srv->stopping = true;
    pthread_cond_broadcast(&srv->wake);
    pthread_mutex_unlock(&srv->lock);
}

/* Token values look like Salesforce's (access: "<orgid15>!AQ...", refresh: "5Aep861...") but
 * clients must treat them as opaque. */
static int make_token_value(const struct fo_server *srv, enum fo_token_kind kind, char *out,
                            size_t out_size)
{
    switch (kind) {
    case FO_TOKEN_ACCESS:
        snprintf(out, out_size, "%.15s!AQ", srv->org_id);
        return fo_random_string(out + 18, 94, TOKEN_CHARS);
    case FO_TOKEN_REFRESH:
        snprintf(out, out_size, "5Aep861");
        return fo_random_string(out + 7, 80, TOKEN_CHARS);
    case FO_TOKEN_CODE:
        snprintf(out, out_size, "aPrx");
        return fo_random_string(out + 4, 60, ALNUM_CHARS);
    }
    return -1;
}

static struct fo_token *token_new(enum fo_token_kind kind, const char *value, const char *scope,
                                  const char *redirect_uri, const char *code_challenge)
{
    struct fo_token *tok = calloc(1, sizeof(*tok));

    if (!tok)
        return NULL;
    tok->kind = kind;
    tok->value = strdup(value);
    tok->scope = strdup(scope ? scope : "");
    tok->redirect_uri = redirect_uri ? strdup(redirect_uri) : NULL;
    tok->code_challenge = code_challenge ? strdup(code_challenge) : NULL;
    if (!tok->value || !tok->scope || (redirect_uri && !tok->redirect_uri) ||
        (code_challenge && !tok->code_challenge)) {
        token_free(tok);
        return NULL;
    }
    return tok;
}

uint64_t fo_state_new_family(struct fo_server *srv)
{
    uint64_t family;

    pthread_mutex_lock(&srv->lock);
    family = srv->tokens.next_family++;
    pthread_mutex_unlock(&srv->lock);
    return family;
}

/* Creates and records a token; out (FO_TOKEN_MAX bytes) receives its value. */
int fo_state_issue(struct fo_server *srv, enum fo_token_kind kind, int client, uint64_t family,
                   const char *scope, const char *redirect_uri, const char *code_challenge,
                   char *out, size_t out_size, time_t *issued_at)
{
    struct fo_token *tok;
    struct fo_token **slot;
    time_t now = time(NULL);

    if (out_size < FO_TOKEN_MAX || make_token_value(srv, kind, out, out_size) != 0)
        return -1;
    tok = token_new(kind, out, scope, redirect_uri, code_challenge);
    if (!tok)
        return -1;
    tok->client = client;
    tok->family = family;
    tok->issued_at = now;
    pthread_mutex_lock(&srv->lock);
    if (kind == FO_TOKEN_ACCESS)
        tok->expires_at = now + srv->knobs.token_ttl;
    else if (kind == FO_TOKEN_CODE)
        tok->expires_at = now + srv->knobs.code_ttl; /* 0: expired at once */
    table_maybe_purge(&srv->tokens);
    if (srv->tokens.count >= srv->tokens.nbuckets * 2)
        table_grow(&srv->tokens); /* on failure the chains just get longer */
    slot = table_slot(&srv->tokens, out);
    if (*slot) {
        /* 94 random characters never collide in practice; refuse rather than alias two. */
        pthread_mutex_unlock(&srv->lock);
        token_free(tok);
        return -1;
    }
    *slot = tok;
    srv->tokens.count++;
    pthread_mutex_unlock(&srv->lock);
    if (issued_at)
        *issued_at = now;
    return 0;
}

static void info_copy(struct fo_token_info *out, const struct fo_token *tok)
{
    out->kind = tok->kind;
    out->client = tok->client;
    out->issued_at = tok->issued_at;
    out->expires_at = tok->expires_at;
    snprintf(out->scope, sizeof(out->scope), "%s", tok->scope);
}

/* True when value is a live token of that kind (not expired, revoked or rotated out). */
bool fo_state_lookup(struct fo_server *srv, const char *value, enum fo_token_kind kind,
                     struct fo_token_info *out)
{
    time_t now = time(NULL);
    struct fo_token *tok;
    bool ok = false;

    pthread_mutex_lock(&srv->lock);
    tok = *table_slot(&srv->tokens, value);
    if (tok && tok->kind == kind && !tok->rotated && !is_expired(tok, &now)) {
        if (out)
            info_copy(out, tok);
        ok = true;
    }
    pthread_mutex_unlock(&srv->lock);
    return ok;
}

/* Revoking an access token revokes it alone; a refresh token takes its whole family along. */
bool fo_state_revoke(struct fo_server *srv, const char *value)
{
    time_t now = time(NULL);
    struct fo_token **slot;
    struct fo_token *tok;
    bool ok = false;

    pthread_mutex_lock(&srv->lock);
    slot = table_slot(&srv->tokens, value);
    tok = *slot;
    if (tok && tok->kind != FO_TOKEN_CODE && !tok->rotated && !is_expired(tok, &now)) {
        if (tok->kind == FO_TOKEN_REFRESH) {
            uint64_t family = tok->family;
            table_remove_if(&srv->tokens, in_family, &family);
        } else {
            table_unlink(&srv->tokens, slot);
        }
        srv->counters.revocations++;
        ok = true;
    }
    pthread_mutex_unlock(&srv->lock);
    return ok;
}

void fo_state_revoke_all(struct fo_server *srv)
{
    pthread_mutex_lock(&srv->lock);
    table_remove_if(&srv->tokens, any_token, NULL);
    pthread_mutex_unlock(&srv->lock);
}

/* Validates a refresh token for a refresh grant. Under rotation the token is marked used; a later
 * reuse is treated as theft and revokes the whole family, as Salesforce does. */
enum fo_refresh_result fo_state_use_refresh(struct fo_server *srv, const char *value, int client,
                                            bool rotate, uint64_t *family, char *scope,
                                            size_t scope_size)
{
    enum fo_refresh_result rc = FO_REFRESH_INVALID;
    struct fo_token *tok;

    pthread_mutex_lock(&srv->lock);
    tok = *table_slot(&srv->tokens, value);
    if (!tok || tok->kind != FO_TOKEN_REFRESH)
        goto out;
    if (tok->rotated) {
        uint64_t fam = tok->family;
        table_remove_if(&srv->tokens, in_family, &fam);
        goto out;
    }
    if (tok->client != client) {
        rc = FO_REFRESH_WRONG_CLIENT;
        goto out;
    }
    *family = tok->family;
    snprintf(scope, scope_size, "%s", tok->scope);
    if (rotate)
        tok->rotated = true;
    rc = FO_REFRESH_OK;
out:
    pthread_mutex_unlock(&srv->lock);
    return rc;
}

static enum fo_code_result check_code(const struct fo_token *tok, int client,
                                      const char *redirect_uri, const char *verifier)
{
    time_t now = time(NULL);

    if (is_expired(tok, &now))
        return FO_CODE_EXPIRED;
    if (tok->client != client)
        return FO_CODE_WRONG_CLIENT;
    if (!redirect_uri || strcmp(redirect_uri, tok->redirect_uri) != 0)
        return FO_CODE_REDIRECT_MISMATCH;
    if (tok->code_challenge && !verifier)
        return FO_CODE_VERIFIER_MISSING;
    if (tok->code_challenge && !fo_pkce_matches(verifier, tok->code_challenge))
        return FO_CODE_VERIFIER_MISMATCH;
    return FO_CODE_OK;
}

/* Authorization codes are single use: any exchange attempt, good or bad, burns the code. */
enum fo_code_result fo_state_use_code(struct fo_server *srv, const char *code, int client,
                                      const char *redirect_uri, const char *verifier, char *scope,
                                      size_t scope_size)
{
    enum fo_code_result rc = FO_CODE_INVALID;
    struct fo_token **slot;

    pthread_mutex_lock(&srv->lock);
    slot = table_slot(&srv->tokens, code);
    if (*slot && (*slot)->kind == FO_TOKEN_CODE) {
        rc = check_code(*slot, client, redirect_uri, verifier);
        snprintf(scope, scope_size, "%s", (*slot)->scope);
        table_unlink(&srv->tokens, slot);
    }
    pthread_mutex_unlock(&srv->lock);
    return rc;
}
