/* The web server flow, end to end (authorize.h): the pieces are authorize_url.c (PKCE, state,
 * URL), loopback.c (the redirect listener), browser.c (opening the page), authorize_callback.c
 * (judging the redirect); this file runs them in order and exchanges the code. */
#include "authorize.h"

#include "authorize_callback.h"
#include "authorize_url.h"
#include "browser.h"
#include "loopback.h"
#include "oauth.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A pasted line longer than this is not a redirect URL (Salesforce's are a few hundred bytes). */
#define PASTE_MAX 8192
/* While the browser command runs, wake up this often to notice it failing. */
#define BROWSER_POLL_MS 100

/* Everything one authorization holds; secrets are wiped in flow_clear. */
struct flow {
    struct isf_ctx *ctx;
    const struct isf_org_view *org;
    const char *redirect_uri;
    char verifier[ISF_PKCE_TEXT_MAX];
    char challenge[ISF_PKCE_TEXT_MAX];
    char state[ISF_PKCE_TEXT_MAX];
    char *url;
    struct isf_loopback *lb;
    struct isf_browser browser;
    int paste;     /* read a pasted redirect URL from stdin */
    int stdin_eof; /* stdin ended: only the listener is left */
    char line[PASTE_MAX + 1];
    size_t line_len;
    int line_overflow;
};

/* What the person at the terminal must see (the URL, how to paste): isyncsf's own stderr,
 * whatever the log level, since the login cannot go on without it. */
static void say(const char *fmt, ...) ISF_PRINTF(1, 2);
static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fflush(stderr);
}

static void show_url(struct flow *f)
{
    say("Open this URL in a browser to log in to org %s and allow access:\n\n  %s\n\n"
        "When the browser lands on %s, isyncsf continues by itself; if that page cannot load "
        "(e.g. the browser runs on another machine), copy the whole address from the browser's "
        "address bar and paste it here, then press Enter.\n",
        f->org->name, f->url, f->redirect_uri);
    f->paste = 1;
}

static int prepare(struct flow *f, const struct isf_authorize_params *params,
                   struct isf_redirect *r, struct isf_error *err)
{
    const struct isf_org_view *org = f->org;
    if (!org->login_url || !org->client_id || !*org->client_id)
        return isf_err_set(err, ISF_E_USAGE,
                           "org %s has no login URL or client id; set them with isyncsf org edit",
                           org->name);
    int rc = isf_redirect_parse(f->redirect_uri, r, err);
    if (rc != ISF_OK)
        return isf_err_prefix(err, "org %s", org->name);
    if (isf_random_b64url(ISF_PKCE_VERIFIER_BYTES, f->verifier, sizeof(f->verifier)) != 0 ||
        isf_random_b64url(ISF_STATE_BYTES, f->state, sizeof(f->state)) != 0 ||
        isf_pkce_challenge(f->verifier, f->challenge, sizeof(f->challenge)) != 0)
        return isf_err_set(err, ISF_E_FAILED, "no random numbers for the login (OpenSSL failed)");
    int has_params = params && params->struct_size >= sizeof(*params);
    struct isf_authorize_request req = {org->login_url,
                                        org->client_id,
                                        f->redirect_uri,
                                        org->scope,
                                        f->state,
                                        f->challenge,
                                        has_params ? params->prompt : NULL,
                                        has_params ? params->login_hint : NULL};
    f->url = isf_authorize_url(&req);
    return f->url ? ISF_OK : isf_err_set(err, ISF_E_NOMEM, "out of memory");
}

/* RFC 6749 4.1.3 with the PKCE verifier; client authentication comes from the org view. */
static int exchange(struct flow *f, const char *code, struct isf_session *out,
                    struct isf_error *err)
{
    const char *form[] = {"grant_type",    "authorization_code", "code",      code, "redirect_uri",
                          f->redirect_uri, "code_verifier",      f->verifier, NULL, NULL};
    isf_session_clear(out);
    int rc = isf_oauth_token(f->ctx, f->org, form, out, err);
    if (rc == ISF_E_AUTH) {
        /* invalid_grant here is about this code (expired, used, PKCE or redirect mismatch) or
         * the client: a new login is what helps, so say that first. */
        char why[ISF_ERROR_MESSAGE_MAX];
        snprintf(why, sizeof(why), "%s", err->message);
        isf_err_set(err, rc,
                    "org %s: the login could not be completed: run isyncsf org connect %s again, "
                    "and check the app's client id, secret and callback URL if it keeps failing "
                    "(%s)",
                    f->org->name, f->org->name, why);
    }
    return rc;
}

/* A redirect arrived (from the listener or pasted): judge it, exchange the code, tell the
 * browser. Returns the flow's outcome. */
static int conclude(struct flow *f, struct isf_callback *cb, struct isf_session *out,
                    struct isf_error *err)
{
    int rc = isf_callback_check(cb, f->org->name, f->state, err);
    if (rc == ISF_OK)
        rc = exchange(f, cb->code, out, err);
    char title[128];
    if (rc == ISF_OK) {
        snprintf(title, sizeof(title), "Org %s is connected", f->org->name);
        isf_loopback_finish(f->lb, 1, title,
                            "Access was granted and isyncsf obtained the org's tokens; it now "
                            "stores them encrypted and reads the org's details (the terminal "
                            "shows the result).");
    } else {
        snprintf(title, sizeof(title), "Org %s was not connected", f->org->name);
        isf_loopback_finish(f->lb, 0, title, err->message);
    }
    return rc;
}

/* Read what is available on stdin, a byte at a time so that nothing past the first complete line
 * is consumed (the next line stays for the next call; stdin is never made non-blocking, as the
 * terminal is shared). Returns 1 with a complete line in f->line, else 0. */
static int read_paste(struct flow *f)
{
    struct pollfd p = {STDIN_FILENO, POLLIN, 0};
    while (poll(&p, 1, 0) == 1) {
        char c;
        ssize_t n = read(STDIN_FILENO, &c, 1);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            return 0;
        if (n <= 0) {
            f->stdin_eof = 1;
            return f->line_len > 0 && !f->line_overflow; /* a last line without a newline */
        }
        if (c == '\n') {
            if (!f->line_overflow)
                return 1;
            say("That line is too long to be the redirect address; paste it again.\n");
            f->line_len = 0;
            f->line_overflow = 0;
        } else if (f->line_len < PASTE_MAX) {
            f->line[f->line_len++] = c;
        } else {
            f->line_overflow = 1;
        }
    }
    return 0;
}

static int handle_paste(struct flow *f, struct isf_session *out, struct isf_error *err, int *done)
{
    f->line[f->line_len] = '\0';
    struct isf_callback cb = {0};
    int rc = isf_callback_parse_query(&cb, f->line) == 0
                 ? ISF_OK
                 : isf_err_set(err, ISF_E_NOMEM, "out of memory");
    isf_wipe(f->line, sizeof(f->line));
    f->line_len = 0;
    if (rc == ISF_OK && !isf_callback_present(&cb)) {
        say("That is not the redirect address (it has no code, state or error); paste the "
            "whole address the browser shows, starting with %s\n",
            f->redirect_uri);
    } else if (rc == ISF_OK) {
        isf_loopback_close_door(f->lb);
        *done = 1;
        rc = conclude(f, &cb, out, err);
    }
    isf_callback_clear(&cb);
    return rc;
}

static void check_browser(struct flow *f)
{
    char why[256];
    if (isf_browser_poll(&f->browser, why, sizeof(why))) {
        say("Could not open a browser: %s.\n", why);
        show_url(f);
    }
}

static int wait_for_redirect(struct flow *f, int timeout_s, struct isf_session *out,
                             struct isf_error *err)
{
    int64_t deadline = isf_monotonic_ms() + (int64_t)timeout_s * 1000;
    for (;;) {
        check_browser(f);
        int64_t left = deadline - isf_monotonic_ms();
        if (left <= 0)
            return isf_err_set(err, ISF_E_TRANSIENT,
                               "org %s: nobody completed the login within %d s; nothing was "
                               "stored; run isyncsf org connect %s again (--timeout SEC waits "
                               "longer, --no-browser prints the URL to open elsewhere)",
                               f->org->name, timeout_s, f->org->name);
        struct pollfd pfd[2] = {{isf_loopback_fd(f->lb), POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
        nfds_t n = f->paste && !f->stdin_eof ? 2 : 1;
        int wait_ms = left > 60000 ? 60000 : (int)left;
        if (f->browser.pid > 0 && wait_ms > BROWSER_POLL_MS)
            wait_ms = BROWSER_POLL_MS;
        int r = poll(pfd, n, wait_ms);
        if (r < 0 && errno != EINTR)
            return isf_err_set(err, ISF_E_FAILED, "waiting for the login redirect failed: %s",
                               strerror(errno));
        if (r <= 0)
            continue;
        if (pfd[0].revents & POLLIN) {
            struct isf_callback cb = {0};
            if (isf_loopback_take(f->lb, &cb)) {
                int rc = conclude(f, &cb, out, err);
                isf_callback_clear(&cb);
                return rc;
            }
        }
        if (n == 2 && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) && read_paste(f)) {
            int done = 0;
            int rc = handle_paste(f, out, err, &done);
            if (done || rc != ISF_OK)
                return rc;
        }
    }
}

static void flow_clear(struct flow *f)
{
    isf_loopback_stop(f->lb);
    free(f->url);
    isf_wipe(f, sizeof(*f));
}

int isf_authorize(struct isf_ctx *ctx, const struct isf_org_view *org,
                  const struct isf_authorize_params *params, struct isf_session *out,
                  struct isf_error *err)
{
    const struct isf_connect_options *co = ctx->connecting;
    if (!co)
        return isf_err_set(err, ISF_E_UNSUPPORTED,
                           "org %s: the browser login runs only in isyncsf org connect %s (a "
                           "person must be there)",
                           org->name, org->name);
    int no_browser = co->struct_size >= offsetof(struct isf_connect_options, no_browser) +
                                            sizeof(co->no_browser) &&
                     co->no_browser;
    int timeout_s = co->struct_size >= offsetof(struct isf_connect_options, timeout_s) +
                                           sizeof(co->timeout_s) &&
                            co->timeout_s > 0
                        ? co->timeout_s
                        : ISF_DEFAULT_AUTHORIZE_TIMEOUT_S;
    struct flow f;
    memset(&f, 0, sizeof(f));
    f.ctx = ctx;
    f.org = org;
    f.redirect_uri =
        org->redirect_uri && *org->redirect_uri ? org->redirect_uri : ISF_DEFAULT_REDIRECT_URI;
    f.browser.pid = -1;
    struct isf_redirect r = {0};
    int rc = prepare(&f, params, &r, err);
    if (rc == ISF_OK)
        rc = isf_loopback_start(&r, org->name, &f.lb, err);
    if (rc != ISF_OK)
        goto done;
    isf_log(ctx, ISF_LOG_INFO, "org %s: waiting up to %d s for the login redirect on %s port %u",
            org->name, timeout_s, r.ipv6 ? "[::1]" : "127.0.0.1", r.port);
    char why[256];
    if (no_browser) {
        show_url(&f);
    } else if (isf_browser_open(f.url, &f.browser, why, sizeof(why)) != 0) {
        say("Could not open a browser: %s.\n", why);
        show_url(&f);
    } else if (isatty(STDERR_FILENO)) {
        say("Opening the Salesforce login page for org %s in your browser; waiting up to %d s "
            "for the login...\n",
            org->name, timeout_s);
    }
    rc = wait_for_redirect(&f, timeout_s, out, err);
done:
    flow_clear(&f);
    return rc;
}
