/* The refresh engine: many orgs' token requests on one libcurl multi handle (refresh_engine.c),
 * and the per-org record work around each request (refresh_job.c). */
#ifndef ISF_REFRESH_ENGINE_H
#define ISF_REFRESH_ENGINE_H

#include "conn.h"
#include "http.h"
#include "oauth.h"
#include "refresh.h"
#include "refresh_writer.h"

/* One org being refreshed. While `lock` is held, `org` is the record read under it. */
struct rf_job {
    char name[80];
    int64_t started_mono; /* first lock attempt (monotonic ms) */
    void *lock;
    struct isf_org org;
    int have_org;
    struct isf_plugin *auth;
    struct isf_view_buf vb; /* the plugin's view: unsealed client secret and tokens */
    struct isf_oauth_request req;
    struct isf_http_xfer *xfer; /* while a request is in flight */
    int introspecting;          /* the second request (RFC 7662) is the one in flight */
    struct isf_session session; /* the new session, held while it is introspected */
    struct rf_write write;      /* the record's write, while a writer thread does it */
};

/* What the engine shares with the job steps. */
struct rf_run {
    struct isf_ctx *ctx;
    const struct isf_refresh_options *opts;
    struct isf_refresh_summary *sum;
    struct isf_error *first_err; /* the first failure of the worst kind */
    int64_t start_wall, start_mono;
    long timeout_ms;
    const char *cached_mode; /* the last mode looked up, and its plugin */
    struct isf_plugin *cached_auth;
    struct rf_writer *writer; /* writer threads for new sessions, or NULL (write inline) */
};

/* How starting a job ended. */
enum rf_start { RF_FINISHED = 0, RF_IN_FLIGHT = 1, RF_BUSY = 2, RF_WRITING = 3 };

/* Lock, read, decide, and either finish the org at once (reported), describe its request in
 * job->req (RF_IN_FLIGHT: the caller runs it), or find it locked (RF_BUSY: nothing held). */
int rf_job_start(struct rf_run *run, struct rf_job *job);
/* The job's request ended (resp or a transport error in st/err): store the outcome, report it,
 * release everything — unless a second request (introspection) was set up in job->req
 * (RF_IN_FLIGHT), or the new session's record went to a writer thread (RF_WRITING: the lock is
 * held until rf_job_written). */
int rf_job_complete(struct rf_run *run, struct rf_job *job, int st,
                    const struct isf_http_response *resp, struct isf_error *err);
/* The writer thread wrote (or failed to write) the job's record: report and release. */
void rf_job_written(struct rf_run *run, struct rf_job *job);
/* Report an org that could not be started or finished for a reason outside its record. */
void rf_job_report_error(struct rf_run *run, struct rf_job *job, int st, const char *message);
/* Abandon the job: record unchanged, lock released, secrets wiped. */
void rf_job_release(struct rf_run *run, struct rf_job *job);

/* Run the whole refresh over names[0..n). */
int rf_engine_run(struct rf_run *run, const char *const *names, size_t n);

#endif
