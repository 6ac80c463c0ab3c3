/*
 * isf_tokens: a thread-safe token source for the sync engine (isyncsf.h).
 *
 * A context is not thread-safe, so this is a pool of them: each isf_tokens_get borrows an idle
 * context for the one call (isf_org_token) and gives it back. Contexts are opened on demand, up
 * to TOKENS_MAX_CONTEXTS; a thread that finds none idle and the pool full waits for one. So N
 * threads calling at once use at most min(N, cap) contexts, each with its own HTTP connection
 * cache, and a burst of fast-path calls (a fresh token: no lock, no network) runs in parallel.
 *
 * Single flight: isf_org_token refreshes a due token under the record's store lock and re-reads
 * the record under it (isf_orgstore_update). store-file's lock is an flock(2) on a file opened
 * per lock call, and two opens exclude each other even within one process, so threads of one
 * process are serialised exactly like processes: the first refreshes, the others find the new
 * token on re-reading and return it without a request.
 *
 * Modes that keep no token in the store (named-credential) hold theirs in the memory of one
 * context (heldtoken.h): each pooled context then asks the helper once per token lifetime, so
 * with K contexts in use the helper may run up to K times where one context would run it once.
 *
 * Process-wide state is initialised once for all threads: libcurl's global init runs under
 * pthread_once (curl_api.c), and OpenSSL 3 initialises itself thread-safely (OPENSSL_init_crypto).
 * The caller's log function (isf_open_options.log_fn) is called from whichever thread is in
 * isf_tokens_get, possibly several at once.
 */
#include "internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define TOKENS_MAX_CONTEXTS 16

struct isf_tokens {
    struct isf_open_options opts; /* as given, with config_path owned below */
    char *config_path;
    pthread_mutex_t mu;
    pthread_cond_t idle_cv; /* signalled when a context is returned or a slot frees */
    isf_ctx *idle[TOKENS_MAX_CONTEXTS];
    size_t n_idle;
    size_t n_open; /* idle + borrowed */
};

static void tokens_free(struct isf_tokens *t)
{
    for (size_t i = 0; i < t->n_idle; i++)
        isf_close(t->idle[i]);
    pthread_cond_destroy(&t->idle_cv);
    pthread_mutex_destroy(&t->mu);
    free(t->config_path);
    free(t);
}

ISF_API int isf_tokens_open(const struct isf_open_options *opts, isf_tokens **out,
                            struct isf_error *err)
{
    isf_err_init(err);
    *out = NULL;
    struct isf_tokens *t = calloc(1, sizeof(*t));
    if (!t)
        return isf_err_set(err, ISF_E_NOMEM, "out of memory");
    t->opts.struct_size = sizeof(t->opts);
    t->opts.log_level = ISF_LOG_WARN;
    if (opts)
        memcpy(&t->opts, opts,
               opts->struct_size < sizeof(t->opts) ? opts->struct_size : sizeof(t->opts));
    if (t->opts.config_path && !(t->config_path = strdup(t->opts.config_path))) {
        free(t);
        return isf_err_set(err, ISF_E_NOMEM, "out of memory");
    }
    t->opts.config_path = t->config_path;
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->idle_cv, NULL);
    /* One context now, so a config that does not load is reported here, not at the first get. */
    int rc = isf_open(&t->opts, &t->idle[0], err);
    if (rc != ISF_OK) {
        tokens_free(t);
        return rc;
    }
    t->n_idle = t->n_open = 1;
    *out = t;
    return ISF_OK;
}

/* An idle context, or a new one while the pool has room; waits when it is full. */
static int borrow(struct isf_tokens *t, isf_ctx **ctx, struct isf_error *err)
{
    pthread_mutex_lock(&t->mu);
    while (t->n_idle == 0 && t->n_open >= TOKENS_MAX_CONTEXTS)
        pthread_cond_wait(&t->idle_cv, &t->mu);
    if (t->n_idle > 0) {
        *ctx = t->idle[--t->n_idle];
        pthread_mutex_unlock(&t->mu);
        return ISF_OK;
    }
    t->n_open++; /* reserve the slot, open outside the lock (it reads files) */
    pthread_mutex_unlock(&t->mu);
    int rc = isf_open(&t->opts, ctx, err);
    if (rc != ISF_OK) {
        pthread_mutex_lock(&t->mu);
        t->n_open--;
        pthread_cond_signal(&t->idle_cv);
        pthread_mutex_unlock(&t->mu);
    }
    return rc;
}

static void give_back(struct isf_tokens *t, isf_ctx *ctx)
{
    pthread_mutex_lock(&t->mu);
    t->idle[t->n_idle++] = ctx;
    pthread_cond_signal(&t->idle_cv);
    pthread_mutex_unlock(&t->mu);
}

ISF_API int isf_tokens_get(isf_tokens *t, const char *name, struct isf_token *out,
                           struct isf_error *err)
{
    isf_err_init(err);
    memset(out, 0, sizeof(*out));
    if (!t || !name)
        return isf_err_set(err, ISF_E_USAGE,
                           "isf_tokens_get needs a token source from isf_tokens_open and an org "
                           "name");
    isf_ctx *ctx = NULL;
    int rc = borrow(t, &ctx, err);
    if (rc != ISF_OK)
        return rc;
    rc = isf_org_token(ctx, name, out, err);
    give_back(t, ctx);
    return rc;
}

/* Every isf_tokens_get must have returned: the contexts are closed here. */
ISF_API void isf_tokens_close(isf_tokens *t)
{
    if (t)
        tokens_free(t);
}
