/*
 * isf_daemon_run: the background refresh scheduler behind `isyncsf daemon`.
 *
 * The schedule (daemon_sched.h) holds every org that needs work, with its next due time from
 * isf_refresh_due_ms on its record. The loop:
 *   1. take every org due now and refresh them together with isf_refresh (the same engine as
 *      `isyncsf refresh`), each rescheduled at its result's next_due_ms;
 *   2. sleep in one ppoll (daemon_wait.h) until the earliest due time, a change in the store
 *      (the store's ABI 1.2 watch descriptor) or a signal. A store without watch is re-listed
 *      every RELIST_INTERVAL_MS instead;
 *   3. on a change, re-read the records named (a removed one leaves the schedule; a lost track
 *      of changes means a full re-list).
 * Other processes (org add/connect/remove, another daemon, a refresh) are thereby picked up
 * without a restart. Stop and reload requests come as flags set by the caller's signal handlers
 * (the CLI owns the signals and the context); see isyncsf.h for the reload protocol.
 *
 * One line per event goes through the context's log function (daemon_log.h): start, stop,
 * reload, each refresh result, orgs entering or leaving the schedule, each pass's summary.
 */
#include "daemon_log.h"
#include "daemon_sched.h"
#include "daemon_wait.h"
#include "orgstore.h"
#include "refresh.h"

#include <stdlib.h>
#include <string.h>

#define RELIST_INTERVAL_MS 60000  /* a store without change watching is re-listed this often */
#define UNREPORTED_RETRY_MS 60000 /* an org in a pass the engine never reported on (stopped) */
/* Never reschedule an org sooner than this after an attempt: if the engine ever answered "due
 * now" again, the daemon would otherwise spin on it. */
#define MIN_RESCHEDULE_MS 1000
#define STOP_CHECK_EVERY 256 /* records read between two looks at the stop flag */

typedef char org_name_buf[ISF_SCHED_NAME_MAX + 1];

/* A growable list of org names (a pass's batch, a listing, a burst of changes). */
struct name_list {
    org_name_buf *v;
    size_t n, cap;
};

struct daemon {
    struct isf_ctx *ctx;
    struct isf_daemon_options o;
    struct isf_sched *sched;
    struct isf_dwait wait;
    int watch_fd;           /* the store's change descriptor, or -1 (re-list instead) */
    int64_t next_relist_ms; /* without watch: when to re-list */
    int relist;             /* a full re-list is needed before the next pass */
    struct name_list batch, found;
};

static int stopping(const struct daemon *d)
{
    return d->o.stop && *d->o.stop;
}

static int reload_asked(const struct daemon *d)
{
    return !d->o.once && d->o.reload && *d->o.reload;
}

static int names_add(struct name_list *l, const char *name)
{
    if (strlen(name) > ISF_SCHED_NAME_MAX)
        return 0; /* not an org name: nothing of ours */
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        org_name_buf *v = realloc(l->v, cap * sizeof(*v));
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    memcpy(l->v[l->n++], name, strlen(name) + 1);
    return 0;
}

/* Give back a big list's memory once it is done with (a 10,000-org listing is ~650 KiB). */
static void names_reset(struct name_list *l)
{
    if (l->cap > 4096) {
        free(l->v);
        l->v = NULL;
        l->cap = 0;
    }
    l->n = 0;
}

/* The schedule could not grow: the org is retried at the next re-list or change. */
static void log_oom(struct daemon *d, const char *name)
{
    struct isf_kvline l;
    isf_kv_init(&l);
    isf_kv_str(&l, "org", name);
    isf_kv_str(&l, "event", "schedule");
    isf_kv_str(&l, "outcome", "failed");
    isf_kv_str(&l, "message", "out of memory");
    isf_kv_log(d->ctx, ISF_LOG_ERROR, &l);
}

/* ---- reading the store -------------------------------------------------------------------- */

/* Re-read one record and put the org where it belongs: at its due time, or out of the schedule
 * when it needs no work or is gone. `quiet`: no line for an org that enters (initial load). */
static void schedule_from_record(struct daemon *d, const char *name, int quiet)
{
    struct isf_org o;
    struct isf_error err;
    struct isf_kvline l;
    int64_t before = isf_sched_due(d->sched, name);
    int rc = isf_orgstore_get(d->ctx, name, &o, &err);
    int64_t due = INT64_MAX;

    if (rc == ISF_OK) {
        due = isf_refresh_due_ms(d->ctx->cfg, &o);
        isf_org_free_fields(&o);
    } else if (rc != ISF_E_NOT_FOUND) {
        isf_kv_init(&l);
        isf_kv_str(&l, "org", name);
        isf_kv_str(&l, "event", "read");
        isf_kv_str(&l, "outcome", "failed");
        isf_kv_str(&l, "status", isf_status_name(rc));
        isf_kv_str(&l, "message", err.message);
        isf_kv_log(d->ctx, ISF_LOG_WARN, &l);
    }
    if (isf_sched_set(d->sched, name, due) != 0) {
        log_oom(d, name);
        return;
    }
    if (quiet || (before == INT64_MAX) == (due == INT64_MAX))
        return;
    isf_kv_init(&l);
    isf_kv_str(&l, "org", name);
    isf_kv_str(&l, "event", "schedule");
    isf_kv_str(&l, "outcome", due == INT64_MAX ? "removed" : "added");
    isf_kv_time(&l, "next_due", due == INT64_MAX ? 0 : due);
    isf_kv_log(d->ctx, ISF_LOG_INFO, &l);
}

static int collect_name(void *arg, const char *name)
{
    return names_add(arg, name) != 0;
}

/* Rebuild the schedule from every record in the store. */
static int load_all(struct daemon *d, int quiet, struct isf_error *err)
{
    struct isf_plugin *st = d->ctx->store;
    d->found.n = 0;
    int rc = st->store.list(st->instance, collect_name, &d->found, err);
    if (rc != ISF_OK)
        return rc;
    isf_sched_clear(d->sched);
    for (size_t i = 0; i < d->found.n; i++) {
        if (i % STOP_CHECK_EVERY == 0 && stopping(d))
            break;
        schedule_from_record(d, d->found.v[i], quiet);
    }
    names_reset(&d->found);
    d->relist = 0;
    d->next_relist_ms = isf_now_ms() + RELIST_INTERVAL_MS;
    return ISF_OK;
}

static int note_change(void *arg, const char *name)
{
    struct daemon *d = arg;
    if (!name) {
        d->relist = 1; /* the store lost track: look at everything */
        return 1;
    }
    /* Bursts repeat names (a write is several events): skip the same name twice in a row. */
    if (d->found.n && strcmp(d->found.v[d->found.n - 1], name) == 0)
        return 0;
    if (names_add(&d->found, name) != 0) {
        d->relist = 1;
        return 1;
    }
    return 0;
}

/* What other processes (or our own passes) changed: re-read those records. */
static void apply_changes(struct daemon *d)
{
    struct isf_plugin *st = d->ctx->store;
    struct isf_error err;
    isf_err_init(&err);
    d->found.n = 0;
    if (st->store.changes(st->instance, note_change, d, &err) != ISF_OK) {
        struct isf_kvline l;
        isf_kv_init(&l);
        isf_kv_str(&l, "event", "watch");
        isf_kv_str(&l, "outcome", "failed");
        isf_kv_str(&l, "message", err.message);
        isf_kv_str(&l, "fallback", "relist-60s");
        isf_kv_log(d->ctx, ISF_LOG_WARN, &l);
        d->watch_fd = -1;
        d->relist = 1;
    }
    for (size_t i = 0; !d->relist && i < d->found.n; i++)
        schedule_from_record(d, d->found.v[i], 0);
    names_reset(&d->found);
}

static void start_watch(struct daemon *d)
{
    struct isf_plugin *st = d->ctx->store;
    struct isf_error err;
    isf_err_init(&err);
    d->watch_fd = -1;
    if (!st->store.watch || !st->store.changes)
        return;
    int fd = -1;
    if (st->store.watch(st->instance, &fd, &err) == ISF_OK && fd >= 0) {
        d->watch_fd = fd;
        return;
    }
    struct isf_kvline l;
    isf_kv_init(&l);
    isf_kv_str(&l, "event", "watch");
    isf_kv_str(&l, "outcome", "unavailable");
    isf_kv_str(&l, "message", err.message);
    isf_kv_str(&l, "fallback", "relist-60s");
    isf_kv_log(d->ctx, ISF_LOG_WARN, &l);
}

/* ---- refreshing --------------------------------------------------------------------------- */

static const char *outcome_name(int outcome)
{
    switch (outcome) {
    case ISF_REFRESH_DONE:
        return "done";
    case ISF_REFRESH_NOT_DUE:
        return "not_due";
    case ISF_REFRESH_BY_OTHER:
        return "by_other";
    case ISF_REFRESH_SKIPPED:
        return "skipped";
    default:
        return "failed";
    }
}

static int outcome_level(const struct isf_refresh_result *r)
{
    if (r->outcome == ISF_REFRESH_NOT_DUE)
        return ISF_LOG_DEBUG;
    if (r->outcome != ISF_REFRESH_FAILED)
        return ISF_LOG_INFO;
    return r->status == ISF_E_TRANSIENT ? ISF_LOG_WARN : ISF_LOG_ERROR;
}

static void on_result(void *arg, const struct isf_refresh_result *r)
{
    struct daemon *d = arg;
    int64_t next = r->next_due_ms;
    int64_t soonest = isf_now_ms() + MIN_RESCHEDULE_MS;
    if (next < soonest)
        next = soonest;
    if (isf_sched_set(d->sched, r->name, next) != 0)
        log_oom(d, r->name);
    struct isf_kvline l;
    isf_kv_init(&l);
    isf_kv_str(&l, "org", r->name);
    isf_kv_str(&l, "event", "refresh");
    isf_kv_str(&l, "outcome", outcome_name(r->outcome));
    if (r->status != ISF_OK)
        isf_kv_str(&l, "status", isf_status_name(r->status));
    isf_kv_time(&l, "expires_at", r->expires_at_ms);
    isf_kv_time(&l, "next_due", next);
    isf_kv_int(&l, "elapsed_ms", r->elapsed_ms);
    isf_kv_str(&l, "message", r->message);
    isf_kv_log(d->ctx, outcome_level(r), &l);
}

/* One pass: refresh every org due now. Returns isf_refresh's status (ISF_OK with nothing due). */
static int run_due(struct daemon *d, struct isf_error *err)
{
    int64_t now = isf_now_ms();
    size_t want = isf_sched_count(d->sched);
    if (isf_sched_next(d->sched) > now)
        return ISF_OK;
    if (d->batch.cap < want) {
        org_name_buf *v = realloc(d->batch.v, want * sizeof(*v));
        if (!v)
            return isf_err_set(err, ISF_E_NOMEM, "daemon: out of memory for a pass of %zu orgs",
                               want);
        d->batch.v = v;
        d->batch.cap = want;
    }
    size_t n =
        isf_sched_take_due(d->sched, now, now + UNREPORTED_RETRY_MS, d->batch.v, d->batch.cap);
    const char **names = malloc(n * sizeof(*names));
    if (!names)
        return isf_err_set(err, ISF_E_NOMEM, "daemon: out of memory for a pass of %zu orgs", n);
    for (size_t i = 0; i < n; i++)
        names[i] = d->batch.v[i];
    struct isf_refresh_options ro;
    memset(&ro, 0, sizeof(ro));
    ro.struct_size = sizeof(ro);
    ro.on_result = on_result;
    ro.arg = d;
    ro.stop = d->o.stop;
    struct isf_refresh_summary sum;
    memset(&sum, 0, sizeof(sum));
    int64_t t0 = isf_monotonic_ms();
    int rc = isf_refresh(d->ctx, names, n, &ro, &sum, err);
    free(names);
    names_reset(&d->batch);

    struct isf_kvline l;
    isf_kv_init(&l);
    isf_kv_str(&l, "event", "pass");
    isf_kv_str(&l, "outcome", rc == ISF_OK ? "ok" : isf_status_name(rc));
    isf_kv_int(&l, "orgs", (int64_t)n);
    isf_kv_int(&l, "done", (int64_t)sum.done);
    isf_kv_int(&l, "not_due", (int64_t)sum.not_due);
    isf_kv_int(&l, "by_other", (int64_t)sum.by_other);
    isf_kv_int(&l, "skipped", (int64_t)sum.skipped);
    isf_kv_int(&l, "failed", (int64_t)sum.failed);
    isf_kv_int(&l, "elapsed_ms", isf_monotonic_ms() - t0);
    isf_kv_time(&l, "next_due", isf_sched_next(d->sched));
    isf_kv_log(d->ctx, rc == ISF_OK ? ISF_LOG_INFO : ISF_LOG_WARN, &l);
    return rc;
}

/* ---- the loop ----------------------------------------------------------------------------- */

static void log_event(struct daemon *d, const char *event, const char *key, const char *value)
{
    struct isf_kvline l;
    isf_kv_init(&l);
    isf_kv_str(&l, "event", event);
    isf_kv_str(&l, key, value);
    isf_kv_int(&l, "orgs", (int64_t)isf_sched_count(d->sched));
    isf_kv_time(&l, "next_due", isf_sched_next(d->sched));
    isf_kv_log(d->ctx, ISF_LOG_INFO, &l);
}

/* Sleep until the next due org, a change in the store, a re-list time or a signal. */
static void sleep_until_work(struct daemon *d)
{
    int64_t until = isf_sched_next(d->sched);
    if (d->watch_fd < 0 && d->next_relist_ms < until)
        until = d->next_relist_ms;
    if (until <= isf_now_ms())
        return;
    int woke = isf_dwait(&d->wait, until, d->watch_fd, d->o.stop, d->o.reload);
    if ((woke & ISF_WOKE_FD) && d->watch_fd >= 0)
        apply_changes(d);
    if (d->watch_fd < 0 && isf_now_ms() >= d->next_relist_ms)
        d->relist = 1;
}

static int loop(struct daemon *d, struct isf_error *err)
{
    for (;;) {
        if (stopping(d)) {
            log_event(d, "stop", "reason", "signal");
            return ISF_OK;
        }
        if (reload_asked(d)) {
            /* The caller reopens the context (new config) and calls us again. */
            log_event(d, "reload", "outcome", "requested");
            return ISF_OK;
        }
        int rc = d->relist ? load_all(d, 0, err) : ISF_OK;
        if (rc != ISF_OK) {
            /* The store may come back (a remounted disk): say so and try again later. */
            struct isf_kvline l;
            isf_kv_init(&l);
            isf_kv_str(&l, "event", "relist");
            isf_kv_str(&l, "outcome", "failed");
            isf_kv_str(&l, "message", err->message);
            isf_kv_log(d->ctx, ISF_LOG_ERROR, &l);
            isf_err_init(err);
            d->relist = 1;
            d->next_relist_ms = isf_now_ms() + RELIST_INTERVAL_MS;
        }
        /* Per-org failures are logged and rescheduled by the pass; the daemon goes on. */
        run_due(d, err);
        isf_err_init(err);
        if (!stopping(d))
            sleep_until_work(d);
    }
}

ISF_API int isf_daemon_run(isf_ctx *ctx, const struct isf_daemon_options *o, struct isf_error *err)
{
    struct daemon d;
    memset(&d, 0, sizeof(d));
    isf_err_init(err);
    d.ctx = ctx;
    d.o.struct_size = sizeof(d.o);
    if (o)
        memcpy(&d.o, o, o->struct_size < sizeof(d.o) ? o->struct_size : sizeof(d.o));
    d.watch_fd = -1;
    d.wait.timerfd = -1;
    int rc = isf_store_ready(ctx, err);
    if (rc != ISF_OK)
        return rc;
    d.sched = isf_sched_new();
    if (!d.sched)
        return isf_err_set(err, ISF_E_NOMEM, "daemon: out of memory");
    if ((rc = isf_dwait_open(&d.wait, err)) != ISF_OK)
        goto out;
    start_watch(&d);
    if ((rc = load_all(&d, 1, err)) != ISF_OK)
        goto out;
    log_event(&d, "start", "watch", d.watch_fd >= 0 ? "store" : "relist-60s");
    if (d.o.once) {
        rc = run_due(&d, err);
        log_event(&d, "stop", "reason", "once");
    } else {
        rc = loop(&d, err);
    }
out:
    isf_dwait_close(&d.wait);
    isf_sched_free(d.sched);
    free(d.batch.v);
    free(d.found.v);
    return rc;
}
