/* The loopback redirect listener (loopback.h). */
#define _GNU_SOURCE /* pipe2 */
#include "loopback.h"

#include "authorize_page.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* How long the browser that brought the callback waits for the verdict (the code exchange has
 * its own, shorter, HTTP timeouts), and how long the caller waits for that page to go out. */
#define VERDICT_WAIT_S 120
#define PAGE_SENT_WAIT_MS 3000

enum door { DOOR_OPEN, DOOR_RECEIVED, DOOR_CLOSED };

struct isf_loopback {
    struct MHD_Daemon *daemon;
    int listen_fd;
    int pipe_rd, pipe_wr;
    char path[256];
    char org[80];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    enum door door;
    int have_callback; /* cb holds a callback not taken yet */
    struct isf_callback cb;
    int verdict_set, verdict_ok, page_sent, stopping;
    char verdict_title[128];
    char verdict_detail[ISF_ERROR_MESSAGE_MAX];
};

/* Marks the one connection that carries the callback (its req_cls). */
static char callback_marker;

static void deadline_in(struct timespec *ts, long ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static enum MHD_Result answer(struct MHD_Connection *conn, unsigned status, int ok,
                              const char *title, const char *detail)
{
    char *page = isf_authorize_page(ok, title, detail);
    if (!page)
        return MHD_NO;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(page), page, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(page);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "text/html; charset=utf-8");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Content-Security-Policy",
                            "default-src 'none'; style-src 'unsafe-inline'");
    MHD_add_response_header(resp, "Connection", "close");
    enum MHD_Result r = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return r;
}

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void)kind;
    struct isf_callback *cb = cls;
    return isf_callback_add(cb, key, value ? value : "") == 0 ? MHD_YES : MHD_NO;
}

/* The callback's connection: hand it over, then hold the browser until the verdict. Called and
 * returns with lb->mu held. */
static void receive_callback(struct isf_loopback *lb, struct MHD_Connection *conn, int *ok,
                             char *title, size_t tcap, char *detail, size_t dcap)
{
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_arg, &lb->cb);
    lb->have_callback = 1;
    lb->door = DOOR_RECEIVED;
    char one = 1;
    if (write(lb->pipe_wr, &one, 1) < 0) {
        /* The pipe cannot be full (one byte, once): nothing to do but let the caller time out. */
    }
    struct timespec until;
    deadline_in(&until, VERDICT_WAIT_S * 1000L);
    while (!lb->verdict_set && !lb->stopping)
        if (pthread_cond_timedwait(&lb->cv, &lb->mu, &until) == ETIMEDOUT)
            break;
    *ok = lb->verdict_set && lb->verdict_ok;
    snprintf(title, tcap, "%s", lb->verdict_set ? lb->verdict_title : "Login not completed");
    snprintf(detail, dcap, "%s",
             lb->verdict_set ? lb->verdict_detail
                             : "isyncsf stopped before it could finish this login; see the "
                               "terminal for what happened.");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    (void)version;
    (void)upload_data;
    struct isf_loopback *lb = cls;
    if (*upload_data_size) {
        *upload_data_size = 0; /* a body is never expected; drop it */
        return MHD_YES;
    }
    int ok = 0;
    unsigned status;
    char title[128], detail[ISF_ERROR_MESSAGE_MAX];
    pthread_mutex_lock(&lb->mu);
    if (strcmp(url, lb->path) != 0) {
        status = MHD_HTTP_NOT_FOUND;
        snprintf(title, sizeof(title), "Not the login redirect");
        snprintf(detail, sizeof(detail),
                 "This address is not where Salesforce sends the login of org %s. isyncsf is "
                 "still waiting: finish the login in the page it opened.",
                 lb->org);
    } else if (lb->door != DOOR_OPEN) {
        status = MHD_HTTP_GONE;
        snprintf(title, sizeof(title), "This login is over");
        snprintf(detail, sizeof(detail),
                 "isyncsf already received the answer for org %s and is not listening for "
                 "another one. To connect again, run isyncsf org connect %s.",
                 lb->org, lb->org);
    } else if (strcmp(method, MHD_HTTP_METHOD_GET) != 0) {
        status = MHD_HTTP_METHOD_NOT_ALLOWED;
        snprintf(title, sizeof(title), "Unexpected request");
        snprintf(detail, sizeof(detail),
                 "The login redirect is a GET request; isyncsf is still "
                 "waiting for it.");
    } else {
        *req_cls = &callback_marker;
        receive_callback(lb, conn, &ok, title, sizeof(title), detail, sizeof(detail));
        status = ok ? MHD_HTTP_OK : MHD_HTTP_BAD_REQUEST;
    }
    pthread_mutex_unlock(&lb->mu);
    return answer(conn, status, ok, title, detail);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    (void)toe;
    struct isf_loopback *lb = cls;
    if (*req_cls != &callback_marker)
        return;
    pthread_mutex_lock(&lb->mu);
    lb->page_sent = 1;
    pthread_cond_broadcast(&lb->cv);
    pthread_mutex_unlock(&lb->mu);
}

/* Our own listening socket: bind errors are precise (EADDRINUSE), and it is close-on-exec so the
 * browser we start never inherits it. */
static int listen_on(const struct isf_redirect *r, int *fd_out, struct isf_error *err)
{
    struct sockaddr_storage ss;
    socklen_t len;
    memset(&ss, 0, sizeof(ss));
    if (r->ipv6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)r->port);
        a->sin6_addr = in6addr_loopback;
        len = sizeof(*a);
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)r->port);
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof(*a);
    }
    const char *addr = r->ipv6 ? "[::1]" : "127.0.0.1";
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return isf_err_set(err, ISF_E_FAILED, "cannot open a socket for the login redirect: %s",
                           strerror(errno));
    int one = 1;
    /* Lets a second connect reuse the port while the first one's connections are in
     * TIME_WAIT; a port someone still listens on stays refused. */
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 16) != 0) {
        int e = errno;
        close(fd);
        if (e == EADDRINUSE)
            return isf_err_set(err, ISF_E_USAGE,
                               "port %u on %s is already in use, so the login redirect cannot "
                               "be received; stop the program using it (another isyncsf org "
                               "connect or sf org login?) and try again, or register another "
                               "loopback callback URL on the app and set it with isyncsf org "
                               "edit NAME --redirect-uri",
                               r->port, addr);
        return isf_err_set(err, ISF_E_USAGE,
                           "cannot listen on %s port %u for the login redirect: %s; use another "
                           "loopback redirect URI",
                           addr, r->port, strerror(e));
    }
    *fd_out = fd;
    return ISF_OK;
}

int isf_loopback_start(const struct isf_redirect *r, const char *org, struct isf_loopback **out,
                       struct isf_error *err)
{
    *out = NULL;
    struct isf_loopback *lb = calloc(1, sizeof(*lb));
    if (!lb)
        return isf_err_set(err, ISF_E_NOMEM, "out of memory");
    lb->listen_fd = lb->pipe_rd = lb->pipe_wr = -1;
    snprintf(lb->path, sizeof(lb->path), "%s", r->path);
    snprintf(lb->org, sizeof(lb->org), "%s", org);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&lb->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&lb->mu, NULL);
    int fds[2];
    int rc = listen_on(r, &lb->listen_fd, err);
    if (rc != ISF_OK)
        goto fail;
    if (pipe2(fds, O_CLOEXEC) != 0) {
        rc = isf_err_set(err, ISF_E_FAILED, "cannot create a pipe: %s", strerror(errno));
        goto fail;
    }
    lb->pipe_rd = fds[0];
    lb->pipe_wr = fds[1];
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_POLL | (r->ipv6 ? MHD_USE_IPv6 : 0);
    lb->daemon =
        MHD_start_daemon(flags, 0, NULL, NULL, on_request, lb, MHD_OPTION_LISTEN_SOCKET,
                         lb->listen_fd, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                         (size_t)ISF_LOOPBACK_REQUEST_MAX, MHD_OPTION_CONNECTION_TIMEOUT,
                         (unsigned)ISF_LOOPBACK_IDLE_TIMEOUT_S, MHD_OPTION_CONNECTION_LIMIT, 16u,
                         MHD_OPTION_NOTIFY_COMPLETED, on_completed, lb, MHD_OPTION_END);
    if (!lb->daemon) {
        rc = isf_err_set(err, ISF_E_FAILED,
                         "cannot start the listener for the login redirect on port %u", r->port);
        goto fail;
    }
    lb->listen_fd = -1; /* the daemon owns it now and closes it on stop */
    *out = lb;
    return ISF_OK;
fail:
    isf_loopback_stop(lb);
    return rc;
}

int isf_loopback_fd(const struct isf_loopback *lb)
{
    return lb->pipe_rd;
}

int isf_loopback_take(struct isf_loopback *lb, struct isf_callback *out)
{
    pthread_mutex_lock(&lb->mu);
    int had = lb->have_callback;
    if (had) {
        *out = lb->cb;
        memset(&lb->cb, 0, sizeof(lb->cb));
        lb->have_callback = 0;
        char drain;
        if (read(lb->pipe_rd, &drain, 1) < 0) {
            /* Nothing to drain: fine. */
        }
    }
    pthread_mutex_unlock(&lb->mu);
    return had;
}

void isf_loopback_close_door(struct isf_loopback *lb)
{
    pthread_mutex_lock(&lb->mu);
    if (lb->door == DOOR_OPEN)
        lb->door = DOOR_CLOSED;
    pthread_mutex_unlock(&lb->mu);
}

void isf_loopback_finish(struct isf_loopback *lb, int ok, const char *title, const char *detail)
{
    pthread_mutex_lock(&lb->mu);
    if (lb->door == DOOR_RECEIVED && !lb->verdict_set) {
        lb->verdict_ok = ok;
        snprintf(lb->verdict_title, sizeof(lb->verdict_title), "%s", title);
        snprintf(lb->verdict_detail, sizeof(lb->verdict_detail), "%s", detail);
        lb->verdict_set = 1;
        pthread_cond_broadcast(&lb->cv);
        struct timespec until;
        deadline_in(&until, PAGE_SENT_WAIT_MS);
        while (!lb->page_sent)
            if (pthread_cond_timedwait(&lb->cv, &lb->mu, &until) == ETIMEDOUT)
                break;
    }
    pthread_mutex_unlock(&lb->mu);
}

void isf_loopback_stop(struct isf_loopback *lb)
{
    if (!lb)
        return;
    pthread_mutex_lock(&lb->mu);
    lb->stopping = 1;
    pthread_cond_broadcast(&lb->cv);
    pthread_mutex_unlock(&lb->mu);
    if (lb->daemon)
        MHD_stop_daemon(lb->daemon); /* ends every connection and joins its threads */
    if (lb->listen_fd >= 0)
        close(lb->listen_fd);
    if (lb->pipe_rd >= 0)
        close(lb->pipe_rd);
    if (lb->pipe_wr >= 0)
        close(lb->pipe_wr);
    isf_callback_clear(&lb->cb);
    isf_wipe(lb->verdict_detail, sizeof(lb->verdict_detail));
    pthread_cond_destroy(&lb->cv);
    pthread_mutex_destroy(&lb->mu);
    free(lb);
}
