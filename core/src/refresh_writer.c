/* The refresh engine's writer threads (see refresh_writer.h). */
#include "refresh_writer.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define MAX_WRITERS 64

struct rf_writer {
    pthread_mutex_t mu;
    pthread_cond_t wake;
    struct rf_write *queue, *queue_tail, *done;
    int stopping;
    int efd;
    pthread_t threads[MAX_WRITERS];
    isf_ctx *ctxs[MAX_WRITERS];
    int nthreads;
};

static struct rf_write *next_job(struct rf_writer *w)
{
    pthread_mutex_lock(&w->mu);
    while (!w->queue && !w->stopping)
        pthread_cond_wait(&w->wake, &w->mu);
    struct rf_write *req = w->queue;
    if (req) {
        w->queue = req->next;
        if (!w->queue)
            w->queue_tail = NULL;
    }
    pthread_mutex_unlock(&w->mu);
    return req;
}

static void write_one(isf_ctx *ctx, struct rf_write *req)
{
    isf_err_init(&req->err);
    req->status = isf_store_ready(ctx, &req->err);
    if (req->status == ISF_OK) {
        struct isf_plugin *s = ctx->store;
        req->status = s->store.put(s->instance, req->name, req->data, req->len,
                                   req->expected_revision, &req->new_revision, &req->err);
    }
}

struct thread_arg {
    struct rf_writer *w;
    isf_ctx *ctx;
};

static void *writer_main(void *arg)
{
    struct rf_writer *w = ((struct thread_arg *)arg)->w;
    isf_ctx *ctx = ((struct thread_arg *)arg)->ctx;
    free(arg);
    struct rf_write *req;
    while ((req = next_job(w)) != NULL) {
        write_one(ctx, req);
        pthread_mutex_lock(&w->mu);
        /* Only the first completion since the engine last took them needs to wake it. */
        int wake = w->done == NULL;
        req->next = w->done;
        w->done = req;
        pthread_mutex_unlock(&w->mu);
        uint64_t one = 1;
        if (wake && write(w->efd, &one, sizeof(one)) < 0) {
            /* The counter cannot overflow here; nothing to do but let poll time out. */
        }
    }
    return NULL;
}

/* Writer contexts say nothing: what loading the config and plugins has to say, the engine's
 * own context said already, and a write's failure comes back in its rf_write. */
static void log_nothing(void *arg, int level, const char *msg)
{
    (void)arg;
    (void)level;
    (void)msg;
}

static isf_ctx *open_like(struct isf_ctx *ctx)
{
    struct isf_open_options o = {sizeof(o), ctx->cfg->file, ISF_LOG_ERROR, log_nothing, NULL};
    struct isf_error err;
    isf_ctx *c = NULL;
    if (isf_open(&o, &c, &err) != ISF_OK || isf_store_ready(c, &err) != ISF_OK) {
        isf_log(ctx, ISF_LOG_DEBUG, "refresh: no writer thread (%s); writing inline", err.message);
        isf_close(c);
        return NULL;
    }
    return c;
}

struct rf_writer *rf_writer_start(struct isf_ctx *ctx, int threads)
{
    struct rf_writer *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (w->efd < 0) {
        free(w);
        return NULL;
    }
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->wake, NULL);
    if (threads > MAX_WRITERS)
        threads = MAX_WRITERS;
    for (int i = 0; i < threads; i++) {
        isf_ctx *c = open_like(ctx);
        struct thread_arg *a = c ? malloc(sizeof(*a)) : NULL;
        if (!a) {
            isf_close(c);
            break;
        }
        a->w = w;
        a->ctx = c;
        if (pthread_create(&w->threads[w->nthreads], NULL, writer_main, a) != 0) {
            free(a);
            isf_close(c);
            break;
        }
        w->ctxs[w->nthreads++] = c;
    }
    if (w->nthreads == 0) {
        rf_writer_stop(w);
        return NULL;
    }
    return w;
}

void rf_writer_submit(struct rf_writer *w, struct rf_write *req)
{
    req->next = NULL;
    pthread_mutex_lock(&w->mu);
    if (w->queue_tail)
        w->queue_tail->next = req;
    else
        w->queue = req;
    w->queue_tail = req;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->mu);
}

int rf_writer_fd(const struct rf_writer *w)
{
    return w->efd;
}

struct rf_write *rf_writer_take_done(struct rf_writer *w)
{
    uint64_t n;
    if (read(w->efd, &n, sizeof(n)) < 0) {
        /* EAGAIN: nothing signalled yet; the list may still hold what raced in. */
    }
    pthread_mutex_lock(&w->mu);
    struct rf_write *done = w->done;
    w->done = NULL;
    pthread_mutex_unlock(&w->mu);
    return done;
}

void rf_writer_stop(struct rf_writer *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stopping = 1;
    pthread_cond_broadcast(&w->wake);
    pthread_mutex_unlock(&w->mu);
    for (int i = 0; i < w->nthreads; i++) {
        pthread_join(w->threads[i], NULL);
        isf_close(w->ctxs[i]);
    }
    close(w->efd);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
