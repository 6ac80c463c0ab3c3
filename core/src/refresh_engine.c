/* The refresh engine's loop: `concurrency` token requests in flight on one libcurl multi handle
 * (one connection pool, kept alive across orgs), names taken in order, orgs locked by another
 * process retried a little later, a stop flag checked at least every 100 ms. A slow or dead org
 * holds one slot until its own time limit; every other org keeps moving through the others. */
#include "refresh_engine.h"

#include "curl_api.h"
#include <poll.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define POLL_MAX_MS 100
#define BUSY_RETRY_MS 50
#define JOBS_PER_TRANSFER 4 /* orgs held (locked) per transfer: the others wait on their write */
#define MAX_WRITERS 32

/* An org whose lock was busy, to be tried again at retry_mono. */
struct rf_wait {
    size_t name;
    int64_t first_mono, retry_mono;
};

struct rf_slot {
    struct rf_job job;
    int in_use;
};

struct rf_engine {
    struct rf_run *run;
    const struct isf_curl_api *curl;
    CURLM *multi;
    struct rf_slot *slots;
    /* Jobs outnumber transfers: a job whose record is being written (an fsync wait) holds its
     * lock but not a transfer, so the requests keep flowing meanwhile. */
    struct isf_http_xfer **xfers; /* `concurrency` of them, reused */
    struct isf_http_xfer **free_xfers;
    size_t nxfers, nfree;
    size_t nslots, in_flight;
    const char *const *names;
    size_t nnames, next;
    struct rf_wait *waits;
    size_t nwaits, capwaits;
    long transfers, new_connections; /* for the debug log: is the pool reused? */
    size_t writing;                  /* jobs whose record a writer thread is writing */
};

static int stopped(const struct rf_run *run)
{
    return run->opts->stop && *run->opts->stop;
}

static int push_wait(struct rf_engine *e, size_t name, int64_t first)
{
    if (e->nwaits == e->capwaits) {
        size_t cap = e->capwaits ? e->capwaits * 2 : 16;
        struct rf_wait *w = realloc(e->waits, cap * sizeof(*w));
        if (!w)
            return -1;
        e->waits = w;
        e->capwaits = cap;
    }
    struct rf_wait w = {name, first, isf_monotonic_ms() + BUSY_RETRY_MS};
    e->waits[e->nwaits++] = w;
    return 0;
}

/* The next org to start: a busy one whose retry time came, else the next name. */
static int take_next(struct rf_engine *e, int64_t now, size_t *name, int64_t *first)
{
    for (size_t i = 0; i < e->nwaits; i++) {
        if (e->waits[i].retry_mono <= now) {
            *name = e->waits[i].name;
            *first = e->waits[i].first_mono;
            e->waits[i] = e->waits[--e->nwaits];
            return 1;
        }
    }
    if (e->next < e->nnames) {
        *name = e->next++;
        *first = now;
        return 1;
    }
    return 0;
}

static int add_transfer(struct rf_engine *e, size_t slot, struct isf_error *err)
{
    struct rf_job *job = &e->slots[slot].job;
    if (e->nfree == 0)
        return isf_err_set(err, ISF_E_FAILED, "internal error: no free transfer");
    job->xfer = e->free_xfers[--e->nfree];
    int rc = isf_http_xfer_prepare(job->xfer, &job->req.req, e->run->timeout_ms, err);
    if (rc != ISF_OK)
        return rc;
    CURL *easy = isf_http_xfer_easy(job->xfer);
    e->curl->easy_setopt(easy, CURLOPT_PRIVATE, (void *)&e->slots[slot]);
    CURLMcode mc = e->curl->multi_add_handle(e->multi, easy);
    if (mc != CURLM_OK)
        return isf_err_set(err, ISF_E_FAILED, "libcurl refused a transfer: %s",
                           e->curl->multi_strerror(mc));
    e->in_flight++;
    return ISF_OK;
}

static void give_back_xfer(struct rf_engine *e, struct rf_job *job)
{
    if (!job->xfer)
        return;
    isf_http_xfer_release(job->xfer);
    e->free_xfers[e->nfree++] = job->xfer;
    job->xfer = NULL;
}

/* Start one org in a free slot. */
static void start_one(struct rf_engine *e, size_t slot, size_t name, int64_t first)
{
    struct rf_run *run = e->run;
    struct rf_job *job = &e->slots[slot].job;
    memset(job, 0, sizeof(*job));
    snprintf(job->name, sizeof(job->name), "%s", e->names[name]);
    job->started_mono = first;
    if (!isf_valid_org_name(e->names[name])) {
        char msg[160];
        snprintf(msg, sizeof(msg), "invalid org name; see isyncsf org list for the known orgs");
        rf_job_report_error(run, job, ISF_E_USAGE, msg);
        return;
    }
    int st = rf_job_start(run, job);
    if (st == RF_BUSY) {
        if (isf_monotonic_ms() - first >= run->timeout_ms) {
            char msg[ISF_ERROR_MESSAGE_MAX];
            snprintf(msg, sizeof(msg),
                     "locked by another process for more than %ld ms; try again later",
                     run->timeout_ms);
            rf_job_report_error(run, job, ISF_E_TIMEOUT, msg);
        } else if (push_wait(e, name, first) != 0) {
            rf_job_report_error(run, job, ISF_E_NOMEM, "out of memory");
        }
        return;
    }
    if (st != RF_IN_FLIGHT)
        return;
    struct isf_error err;
    isf_err_init(&err);
    if (add_transfer(e, slot, &err) != ISF_OK) {
        give_back_xfer(e, job);
        rf_job_report_error(run, job, err.code, err.message);
        return;
    }
    e->slots[slot].in_use = 1;
}

static void fill_slots(struct rf_engine *e)
{
    int64_t now = isf_monotonic_ms();
    for (size_t s = 0; s < e->nslots && e->nfree > 0 && !stopped(e->run); s++) {
        if (e->slots[s].in_use)
            continue;
        size_t name;
        int64_t first;
        if (!take_next(e, now, &name, &first))
            return;
        start_one(e, s, name, first);
    }
}

static void on_done(struct rf_engine *e, CURL *easy, CURLcode cc)
{
    struct rf_slot *slot = NULL;
    e->curl->easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&slot);
    e->curl->multi_remove_handle(e->multi, easy);
    e->in_flight--;
    long connects = 0;
    e->curl->easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &connects);
    e->transfers++;
    e->new_connections += connects;
    struct rf_job *job = &slot->job;
    struct isf_error err;
    isf_err_init(&err);
    struct isf_http_response resp = {0};
    int st = isf_http_xfer_done(job->xfer, (int)cc, job->req.url, &resp, &err);
    int next = rf_job_complete(e->run, job, st, &resp, &err);
    isf_http_response_clear(&resp);
    give_back_xfer(e, job);
    slot->in_use = 0;
    if (next == RF_WRITING) {
        slot->in_use = 1; /* the job keeps its slot (and its lock) until the write is done */
        e->writing++;
    } else if (next == RF_IN_FLIGHT) {
        isf_err_init(&err);
        size_t idx = (size_t)(slot - e->slots);
        if (add_transfer(e, idx, &err) != ISF_OK) {
            give_back_xfer(e, job);
            rf_job_report_error(e->run, job, err.code, err.message);
        } else
            slot->in_use = 1;
    }
}

static void drain_done(struct rf_engine *e)
{
    CURLMsg *msg;
    int left;
    while ((msg = e->curl->multi_info_read(e->multi, &left)) != NULL)
        if (msg->msg == CURLMSG_DONE)
            on_done(e, msg->easy_handle, msg->data.result);
}

static void drain_written(struct rf_engine *e)
{
    if (!e->run->writer)
        return;
    struct rf_write *w = rf_writer_take_done(e->run->writer);
    while (w) {
        struct rf_write *next = w->next;
        struct rf_job *job = w->cookie;
        struct rf_slot *slot = (struct rf_slot *)((char *)job - offsetof(struct rf_slot, job));
        rf_job_written(e->run, job);
        slot->in_use = 0;
        e->writing--;
        w = next;
    }
}

/* How long the loop may sleep: until the next busy org's retry, at most POLL_MAX_MS. */
static int poll_timeout(const struct rf_engine *e)
{
    int64_t now = isf_monotonic_ms(), t = POLL_MAX_MS;
    for (size_t i = 0; i < e->nwaits; i++)
        if (e->waits[i].retry_mono - now < t)
            t = e->waits[i].retry_mono - now;
    return t < 0 ? 0 : (int)t;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Wait for the writes already handed to the writer threads (milliseconds each): a record is
 * never left half-done, and its lock is released only after its write. */
static void finish_writes(struct rf_engine *e)
{
    while (e->writing) {
        struct pollfd p = {rf_writer_fd(e->run->writer), POLLIN, 0};
        poll(&p, 1, POLL_MAX_MS);
        drain_written(e);
    }
}

static void abandon_all(struct rf_engine *e)
{
    finish_writes(e);
    for (size_t s = 0; s < e->nslots; s++) {
        if (!e->slots[s].in_use)
            continue;
        struct rf_job *job = &e->slots[s].job;
        if (job->xfer)
            e->curl->multi_remove_handle(e->multi, isf_http_xfer_easy(job->xfer));
        give_back_xfer(e, job);
        rf_job_release(e->run, job);
        e->slots[s].in_use = 0;
    }
    e->in_flight = 0;
}

static int loop(struct rf_engine *e, struct isf_error *err)
{
    for (;;) {
        if (stopped(e->run)) {
            abandon_all(e);
            return ISF_OK;
        }
        fill_slots(e);
        if (e->in_flight == 0 && e->writing == 0 && e->nwaits == 0 && e->next >= e->nnames)
            return ISF_OK;
        int running = 0;
        CURLMcode mc = e->curl->multi_perform(e->multi, &running);
        if (mc != CURLM_OK) {
            abandon_all(e);
            return isf_err_set(err, ISF_E_FAILED, "libcurl failed: %s; try again",
                               e->curl->multi_strerror(mc));
        }
        drain_done(e);
        drain_written(e);
        if (e->in_flight == 0 && e->writing == 0) {
            if (e->nwaits)
                sleep_ms(poll_timeout(e));
            continue;
        }
        struct curl_waitfd wfd = {0};
        unsigned nfd = 0;
        if (e->run->writer) {
            wfd.fd = rf_writer_fd(e->run->writer);
            wfd.events = CURL_WAIT_POLLIN;
            nfd = 1;
        }
        e->curl->multi_poll(e->multi, nfd ? &wfd : NULL, nfd, poll_timeout(e), NULL);
    }
}

static void engine_free(struct rf_engine *e)
{
    if (e->multi)
        e->curl->multi_cleanup(e->multi);
    for (size_t s = 0; e->xfers && s < e->nxfers; s++)
        isf_http_xfer_free(e->xfers[s]);
    free(e->xfers);
    free(e->free_xfers);
    free(e->slots);
    free(e->waits);
}

int rf_engine_run(struct rf_run *run, const char *const *names, size_t n)
{
    struct rf_engine e = {.run = run, .names = names, .nnames = n};
    struct isf_error *err = run->first_err;
    const char *why = NULL;
    int rc = ISF_OK;
    long conc =
        run->opts->concurrency > 0 ? run->opts->concurrency : run->ctx->cfg->refresh_concurrency;
    if (conc < 1)
        conc = 1;
    e.nxfers = (size_t)conc < n ? (size_t)conc : (n ? n : 1);
    e.nslots = e.nxfers * JOBS_PER_TRANSFER < n ? e.nxfers * JOBS_PER_TRANSFER : (n ? n : 1);
    if (!(e.curl = isf_curl_api(&why)))
        return isf_err_set(err, ISF_E_FAILED, "cannot use libcurl: %s (install libcurl4)", why);
    e.slots = calloc(e.nslots, sizeof(*e.slots));
    e.xfers = calloc(e.nxfers, sizeof(struct isf_http_xfer *));
    e.free_xfers = calloc(e.nxfers, sizeof(struct isf_http_xfer *));
    e.multi = e.curl->multi_init();
    if (!e.slots || !e.xfers || !e.free_xfers || !e.multi) {
        rc = isf_err_set(err, ISF_E_NOMEM, "out of memory setting up %zu transfers", e.nxfers);
        goto done;
    }
    for (size_t s = 0; s < e.nxfers; s++) {
        if (!(e.xfers[s] = isf_http_xfer_new(run->ctx, err))) {
            rc = err->code;
            goto done;
        }
        e.free_xfers[e.nfree++] = e.xfers[s];
    }
    /* One connection per slot to the same host is enough; keep them all open between orgs. */
    e.curl->multi_setopt(e.multi, CURLMOPT_MAXCONNECTS, (long)e.nxfers);
    e.curl->multi_setopt(e.multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)e.nxfers);
    /* Writer threads pay off when there is more than a handful of orgs. */
    if (n > 4)
        run->writer =
            rf_writer_start(run->ctx, (int)(e.nslots < MAX_WRITERS ? e.nslots : MAX_WRITERS));
    rc = loop(&e, err);
    finish_writes(&e);
    rf_writer_stop(run->writer);
    run->writer = NULL;
    isf_log(run->ctx, ISF_LOG_DEBUG, "refresh: %ld transfers on %ld connections", e.transfers,
            e.new_connections);
done:
    engine_free(&e);
    return rc;
}
