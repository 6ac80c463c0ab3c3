/* The browser's side of the web server flow: GET /services/oauth2/authorize, and, with the
 * login_form knob, the login form and the consent page it leads to.
 *
 * As on Salesforce, the client and its redirect_uri are checked first and a failure there is an
 * HTML error page, never a redirect (an unchecked redirect_uri would send the user, or a code,
 * anywhere). Every later outcome goes back to redirect_uri: ?code=&state= or ?error=&state=. */
#include "fake_org.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_CODE_SCOPE "refresh_token api web"

/* 302 to redirect_uri with extra query parameters appended (values already encoded). */
static enum MHD_Result redirect(struct fo_request *req, const char *redirect_uri, const char *query)
{
    size_t len = strlen(redirect_uri) + strlen(query) + 2;
    char *location = malloc(len);
    enum MHD_Result rc;

    if (!location)
        return MHD_NO;
    snprintf(location, len, "%s%c%s", redirect_uri, strchr(redirect_uri, '?') ? '&' : '?', query);
    rc = fo_reply(req, 302, "text/plain", "", 0, MHD_HTTP_HEADER_LOCATION, location);
    free(location);
    return rc;
}

/* A query value as a browser's form would send it (and Salesforce does): spaces as '+'. */
static char *query_encode(const char *v)
{
    char *e = fo_url_encode(v);
    char *o = e;

    for (const char *p = e; p && *p; p++) {
        if (strncmp(p, "%20", 3) == 0) {
            *o++ = '+';
            p += 2;
        } else {
            *o++ = *p;
        }
    }
    if (o)
        *o = '\0';
    return e;
}

static enum MHD_Result redirect_with(struct fo_request *req, const char *redirect_uri,
                                     const char *k1, const char *v1, const char *k2, const char *v2,
                                     const char *state)
{
    char *e1 = query_encode(v1), *e2 = query_encode(v2);
    char *es = state ? fo_url_encode(state) : NULL;
    enum MHD_Result rc = MHD_NO;
    char *query = NULL;
    size_t len;

    if (!e1 || !e2 || (state && !es))
        goto out;
    len = strlen(k1) + strlen(e1) + strlen(k2) + strlen(e2) + (es ? strlen(es) : 0) + 16;
    query = malloc(len);
    if (!query)
        goto out;
    /* state is echoed only when the client sent one. */
    snprintf(query, len, "%s=%s&%s=%s%s%s", k1, e1, k2, e2, es ? "&state=" : "", es ? es : "");
    rc = redirect(req, redirect_uri, query);
out:
    free(e1);
    free(e2);
    free(es);
    free(query);
    return rc;
}

static enum MHD_Result redirect_code(struct fo_request *req, const char *redirect_uri,
                                     const char *code, const char *state)
{
    char *ec = fo_url_encode(code), *es = state ? fo_url_encode(state) : NULL;
    enum MHD_Result rc = MHD_NO;
    char *query = NULL;
    size_t len;

    if (!ec || (state && !es))
        goto out;
    len = strlen(ec) + (es ? strlen(es) : 0) + 16;
    query = malloc(len);
    if (!query)
        goto out;
    snprintf(query, len, "code=%s%s%s", ec, es ? "&state=" : "", es ? es : "");
    rc = redirect(req, redirect_uri, query);
out:
    free(ec);
    free(es);
    free(query);
    return rc;
}

static enum MHD_Result redirect_denied(struct fo_request *req, const struct fo_authz *a)
{
    return redirect_with(req, a->redirect_uri, "error", "access_denied", "error_description",
                         "end-user denied authorization", a->state);
}

/* Issues the code that carries the request (single use, code_ttl seconds) and sends it back. */
static enum MHD_Result issue_code(struct fo_server *srv, struct fo_request *req,
                                  const struct fo_authz *a)
{
    char code[FO_TOKEN_MAX];
    enum MHD_Result rc;

    if (fo_state_issue(srv, FO_TOKEN_CODE, a->client, 0, a->scope, a->redirect_uri,
                       a->code_challenge, code, sizeof(code), NULL) != 0)
        return fo_page_error(req, 500, "server_error", "could not issue a code");
    fo_state_count(srv, &srv->counters.codes_issued);
    rc = redirect_code(req, a->redirect_uri, code, a->state);
    OPENSSL_cleanse(code, sizeof(code));
    return rc;
}

static int find_client(const struct fo_server *srv, const char *client_id)
{
    for (int i = 0; client_id && i < srv->nclients; i++) {
        if (strcmp(srv->clients[i].id, client_id) == 0)
            return i;
    }
    return -1;
}

/* Shows the login form for a new pending request. */
static enum MHD_Result show_login(struct fo_server *srv, struct fo_request *req,
                                  const struct fo_authz *a, const char *username, bool failed)
{
    char id[FO_PENDING_ID_LEN + 1];

    if (fo_pending_add(srv, FO_PENDING_LOGIN, a, id) != 0)
        return fo_page_error(req, 503, "server_error",
                             "too many login pages are open; try again in a few minutes");
    return fo_page_login(req, id, srv->clients[a->client].id, username, failed ? "bad" : NULL);
}

/* Copies the query's request into a (owned strings); the scope defaults as on Salesforce. */
static int authz_from_query(const struct fo_request *req, struct fo_authz *a)
{
    const char *scope = fo_query_arg(req, "scope");
    const char *challenge = fo_query_arg(req, "code_challenge");
    const char *state = fo_query_arg(req, "state");

    a->redirect_uri = strdup(fo_query_arg(req, "redirect_uri"));
    a->scope = strdup(scope && *scope ? scope : DEFAULT_CODE_SCOPE);
    a->state = state ? strdup(state) : NULL;
    a->code_challenge = challenge && *challenge ? strdup(challenge) : NULL;
    if (!a->redirect_uri || !a->scope || (state && !a->state) ||
        (challenge && *challenge && !a->code_challenge))
        return -1;
    return 0;
}

/* After the checks that may not redirect: the answer that goes back to redirect_uri, or the
 * login form. */
static enum MHD_Result authorize_checked(struct fo_server *srv, struct fo_request *req,
                                         const struct fo_authz *a)
{
    const char *response_type = fo_query_arg(req, "response_type");
    struct fo_knobs knobs;

    if (!response_type || strcmp(response_type, "code") != 0)
        return redirect_with(req, a->redirect_uri, "error", "unsupported_response_type",
                             "error_description", "response type not supported", a->state);
    fo_state_knobs(srv, &knobs);
    if (knobs.deny)
        return redirect_denied(req, a);
    if (knobs.login_form)
        return show_login(srv, req, a, "", false);
    return issue_code(srv, req, a);
}

/* GET /services/oauth2/authorize. Without the login_form knob it approves at once (or denies,
 * per the deny knob), so a test can play the browser with one GET; with it, it shows the login
 * form. */
enum MHD_Result fo_oauth_authorize(struct fo_server *srv, struct fo_request *req)
{
    const char *client_id = fo_query_arg(req, "client_id");
    const char *redirect_uri = fo_query_arg(req, "redirect_uri");
    struct fo_authz a = {.client = find_client(srv, client_id)};
    enum MHD_Result rc;

    if (!client_id || !*client_id)
        return fo_page_error(req, 400, "invalid_request", "missing client_id");
    if (a.client < 0)
        return fo_page_error(req, 400, "invalid_client_id", "client identifier invalid");
    if (!redirect_uri || !*redirect_uri)
        return fo_page_error(req, 400, "invalid_request", "missing redirect_uri");
    if (!fo_redirect_allowed(srv, a.client, redirect_uri))
        return fo_page_error(req, 400, "redirect_uri_mismatch",
                             "redirect_uri must match configuration");
    if (authz_from_query(req, &a) != 0)
        rc = fo_page_error(req, 500, "server_error", "out of memory");
    else
        rc = authorize_checked(srv, req, &a);
    fo_authz_free(&a);
    return rc;
}

static enum MHD_Result page_gone(struct fo_request *req)
{
    return fo_page_error(req, 400, "invalid_request",
                         "this page expired or was already used; go back to the application and "
                         "start again");
}

/* POST /login (the login form): a wrong password shows the form again (on a new pending id, so
 * each posted page is used once); the right one leads to the consent page. */
enum MHD_Result fo_login_submit(struct fo_server *srv, struct fo_request *req)
{
    char *pending = fo_form_get(req->body, req->body_len, "pending");
    char *username = fo_form_get(req->body, req->body_len, "username");
    char *password = fo_form_get(req->body, req->body_len, "pw");
    char id[FO_PENDING_ID_LEN + 1];
    struct fo_authz a = {0};
    enum MHD_Result rc;

    if (!fo_pending_take(srv, pending, FO_PENDING_LOGIN, &a)) {
        rc = page_gone(req);
    } else if (!fo_user_ok(srv, username, password)) {
        fo_state_count(srv, &srv->counters.login_failures);
        rc = show_login(srv, req, &a, username ? username : "", true);
    } else if (fo_pending_add(srv, FO_PENDING_CONSENT, &a, id) != 0) {
        rc = fo_page_error(req, 503, "server_error",
                           "too many consent pages are open; try again in a few minutes");
    } else {
        fo_state_count(srv, &srv->counters.logins);
        rc = fo_page_consent(req, id, srv->clients[a.client].id, a.scope, username);
    }
    fo_authz_free(&a);
    free(pending);
    free(username);
    fo_wipe_free(password);
    return rc;
}

/* POST /setup/secur/RemoteAccessAuthorizationPage.apexp (the consent page): the button pressed
 * is the one form field named oaapprove or oadeny. */
enum MHD_Result fo_consent_submit(struct fo_server *srv, struct fo_request *req)
{
    char *pending = fo_form_get(req->body, req->body_len, "pending");
    char *allow = fo_form_get(req->body, req->body_len, "oaapprove");
    char *deny = fo_form_get(req->body, req->body_len, "oadeny");
    struct fo_authz a = {0};
    enum MHD_Result rc;

    if (!fo_pending_take(srv, pending, FO_PENDING_CONSENT, &a)) {
        rc = page_gone(req);
    } else if (allow && !deny) {
        fo_state_count(srv, &srv->counters.consents_allowed);
        rc = issue_code(srv, req, &a);
    } else if (deny && !allow) {
        fo_state_count(srv, &srv->counters.consents_denied);
        rc = redirect_denied(req, &a);
    } else {
        rc = fo_page_error(req, 400, "invalid_request",
                           "the consent form must carry exactly one of oaapprove and oadeny");
    }
    fo_authz_free(&a);
    free(pending);
    free(allow);
    free(deny);
    return rc;
}
