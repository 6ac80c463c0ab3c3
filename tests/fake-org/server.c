/* MHD glue: collects each request's body, counts it, applies injected faults and routes it. */
#include "fake_org.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NO_COUNTER ((size_t)-1)

typedef enum MHD_Result (*fo_handler)(struct fo_server *srv, struct fo_request *req);

struct route {
    const char *path;
    bool prefix;         /* path is a prefix rather than the whole path */
    const char *methods; /* space separated */
    fo_handler handler;
    size_t counter; /* offset in struct fo_counters, or NO_COUNTER */
};

#define COUNTER(field) offsetof(struct fo_counters, field)

static const struct route routes[] = {
    {"/services/oauth2/token", false, "POST", fo_oauth_token, COUNTER(token_requests)},
    {"/services/oauth2/authorize", false, "GET", fo_oauth_authorize, COUNTER(authorize_requests)},
    {"/services/oauth2/revoke", false, "POST", fo_oauth_revoke, COUNTER(revoke_requests)},
    {"/services/oauth2/introspect", false, "POST", fo_oauth_introspect, COUNTER(introspections)},
    {"/services/oauth2/userinfo", false, "GET POST", fo_oauth_userinfo, COUNTER(userinfo)},
    {"/services/data", false, "GET", fo_rest_versions, NO_COUNTER},
    {"/services/data/", false, "GET", fo_rest_versions, NO_COUNTER},
    {"/services/data/v", true, "GET", fo_rest, COUNTER(rest_calls)},
    {"/id/", true, "GET", fo_identity, COUNTER(userinfo)},
    /* The pages of the login_form knob (their counters are bumped by the handlers). */
    {"/login", false, "POST", fo_login_submit, NO_COUNTER},
    {"/setup/secur/RemoteAccessAuthorizationPage.apexp", false, "POST", fo_consent_submit,
     NO_COUNTER},
};

static const struct route *find_route(const char *url)
{
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        const struct route *r = &routes[i];
        if (r->prefix ? strncmp(url, r->path, strlen(r->path)) == 0 : strcmp(url, r->path) == 0)
            return r;
    }
    return NULL;
}

/* HEAD is answered like GET; MHD drops the body. */
bool fo_method_is(const struct fo_request *req, const char *method)
{
    if (strcmp(method, "GET") == 0 && strcmp(req->method, "HEAD") == 0)
        return true;
    return strcmp(req->method, method) == 0;
}

static bool method_allowed(const struct fo_request *req, const char *methods)
{
    char buf[32];

    snprintf(buf, sizeof(buf), "%s", methods);
    for (char *save = NULL, *m = strtok_r(buf, " ", &save); m; m = strtok_r(NULL, " ", &save)) {
        if (fo_method_is(req, m))
            return true;
    }
    return false;
}

const char *fo_header(const struct fo_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *fo_query_arg(const struct fo_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

enum MHD_Result fo_reply(struct fo_request *req, unsigned status, const char *content_type,
                         const char *body, size_t len, const char *hdr_name, const char *hdr_value)
{
    struct MHD_Response *resp;
    enum MHD_Result rc;

    resp = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    if (content_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    if (hdr_name && hdr_value)
        MHD_add_response_header(resp, hdr_name, hdr_value);
    rc = MHD_queue_response(req->conn, status, resp);
    MHD_destroy_response(resp);
    req->status = status;
    return rc;
}

/* Answers with json (reference stolen); a NULL json means building it failed. */
enum MHD_Result fo_reply_json_hdr(struct fo_request *req, unsigned status, json_t *json,
                                  const char *hdr_name, const char *hdr_value)
{
    enum MHD_Result rc;
    char *text = json ? json_dumps(json, JSON_COMPACT) : NULL;

    json_decref(json);
    if (!text) {
        static const char oom[] = "fake-org: out of memory while building the answer";
        return fo_reply(req, 500, "text/plain", oom, sizeof(oom) - 1, NULL, NULL);
    }
    rc = fo_reply(req, status, "application/json;charset=UTF-8", text, strlen(text), hdr_name,
                  hdr_value);
    free(text);
    return rc;
}

enum MHD_Result fo_reply_json(struct fo_request *req, unsigned status, json_t *json)
{
    return fo_reply_json_hdr(req, status, json, NULL, NULL);
}

/* REST errors are an array of {message, errorCode}. */
enum MHD_Result fo_reply_rest_error(struct fo_request *req, unsigned status, const char *code,
                                    const char *message)
{
    return fo_reply_json(req, status,
                         json_pack("[{s:s, s:s}]", "message", message, "errorCode", code));
}

enum MHD_Result fo_reply_invalid_session(struct fo_request *req)
{
    return fo_reply_rest_error(req, 401, "INVALID_SESSION_ID", "Session expired or invalid");
}

static void count(struct fo_server *srv, size_t offset)
{
    if (offset != NO_COUNTER)
        fo_state_count(srv, (long *)((char *)&srv->counters + offset));
}

/* The OAuth client a request names (form body client_id, else Basic auth), for per-client
 * faults; NULL when none. */
static char *request_client_id(const struct fo_request *req)
{
    char *id = req->body ? fo_form_get(req->body, req->body_len, "client_id") : NULL;
    char *secret = NULL;

    if (!id && fo_basic_auth(fo_header(req, "Authorization"), &id, &secret))
        fo_wipe_free(secret);
    return id;
}

/* Returns true when the fault answered the request (rc set); delays answer normally afterwards. */
static bool apply_fault(struct fo_server *srv, struct fo_request *req, enum MHD_Result *rc)
{
    struct fo_fault fault;
    char *client_id = request_client_id(req);
    bool found = fo_state_take_fault(srv, req->url, client_id, &fault);

    free(client_id);
    if (!found)
        return false;
    if (fault.kind == FO_FAULT_DELAY) {
        fo_state_sleep_ms(srv, fault.delay_ms);
        fo_fault_clear(&fault);
        return false;
    }
    *rc = fo_fault_answer(srv, req, &fault);
    fo_fault_clear(&fault);
    return true;
}

enum MHD_Result fo_dispatch(struct fo_server *srv, struct fo_request *req)
{
    const struct route *r;
    enum MHD_Result rc;

    if (strncmp(req->url, "/__fake/", 8) == 0)
        return fo_control(srv, req);
    fo_state_count(srv, &srv->counters.requests);
    r = find_route(req->url);
    if (r)
        count(srv, r->counter);
    if (apply_fault(srv, req, &rc))
        return rc;
    if (req->body_too_large)
        return fo_reply_rest_error(req, 413, "REQUEST_ENTITY_TOO_LARGE",
                                   "The request body is larger than the fake org accepts (1 MiB).");
    if (!r)
        return fo_reply_rest_error(req, 404, "NOT_FOUND", "The requested resource does not exist");
    if (!method_allowed(req, r->methods)) {
        char msg[128];
        snprintf(msg, sizeof(msg), "HTTP Method '%s' not allowed. Allowed are %s", req->method,
                 r->methods);
        return fo_reply_rest_error(req, 405, "METHOD_NOT_ALLOWED", msg);
    }
    return r->handler(srv, req);
}

static int body_append(struct fo_request *req, const char *data, size_t len)
{
    if (req->body_len + len > FO_MAX_BODY) {
        req->body_too_large = true;
        return 0;
    }
    if (req->body_len + len + 1 > req->body_cap) {
        size_t cap = req->body_cap ? req->body_cap : 1024;
        char *p;
        while (cap < req->body_len + len + 1)
            cap *= 2;
        p = realloc(req->body, cap);
        if (!p)
            return -1;
        req->body = p;
        req->body_cap = cap;
    }
    memcpy(req->body + req->body_len, data, len);
    req->body_len += len;
    req->body[req->body_len] = '\0';
    return 0;
}

/* MHD calls this once with the headers, then once per body chunk, then once more with no data:
 * the request is only handled on that last call, with the whole body in hand. */
enum MHD_Result fo_access_handler(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct fo_request *req = *con_cls;

    (void)version;
    if (!req) {
        req = calloc(1, sizeof(*req));
        if (!req)
            return MHD_NO;
        req->conn = conn;
        req->method = method;
        req->url = url;
        *con_cls = req;
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (body_append(req, upload_data, *upload_data_size) != 0)
            return MHD_NO;
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (!req->body && body_append(req, "", 0) != 0)
        return MHD_NO;
    return fo_dispatch(cls, req);
}

void fo_request_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                          enum MHD_RequestTerminationCode toe)
{
    struct fo_server *srv = cls;
    struct fo_request *req = *con_cls;

    (void)conn;
    if (!req)
        return;
    if (srv->verbose)
        fprintf(stderr, "fake-org: %s %s -> %u%s\n", req->method, req->url, req->status,
                toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (connection dropped)");
    if (req->body)
        memset(req->body, 0, req->body_len); /* bodies carry client secrets */
    free(req->body);
    free(req);
    *con_cls = NULL;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Query strings are form-encoded: besides %XX, '+' means a space (SOQL in ?q= uses it a lot). */
size_t fo_unescape(void *cls, struct MHD_Connection *conn, char *s)
{
    char *o = s;

    (void)cls;
    (void)conn;
    for (char *p = s; *p; p++) {
        if (*p == '+') {
            *o++ = ' ';
        } else if (*p == '%' && hex_digit(p[1]) >= 0 && hex_digit(p[2]) >= 0) {
            *o++ = (char)(hex_digit(p[1]) * 16 + hex_digit(p[2]));
            p += 2;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return (size_t)(o - s);
}
