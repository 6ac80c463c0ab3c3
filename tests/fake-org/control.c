/* The control API under /__fake/ (plain JSON, no auth) that tests use to read counters, change the
 * org's knobs, inject faults and revoke every token; and the answers of injected faults. */
#include "fake_org.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#define DEFAULT_HUGE_BYTES ((size_t)16 * 1024 * 1024)
#define MAX_HUGE_BYTES ((size_t)1024 * 1024 * 1024)
#define MAX_DELAY_MS (10L * 60 * 1000)

static const char *env_names[] = {"production", "sandbox", "scratch"};
static const char *package_names[] = {"installed", "absent", "forbidden", "forbidden-all"};
static const char *fault_names[] = {"status", "delay",        "malformed",
                                    "huge",   "unauthorized", "close"};

static int name_index(const char *name, const char **names, int n)
{
    for (int i = 0; name && i < n; i++) {
        if (strcmp(name, names[i]) == 0)
            return i;
    }
    return -1;
}

int fo_parse_env(const char *s, enum fo_env *out)
{
    int i = name_index(s, env_names, 3);

    if (i < 0)
        return -1;
    *out = (enum fo_env)i;
    return 0;
}

int fo_parse_package(const char *s, enum fo_package *out)
{
    int i = name_index(s, package_names, 4);

    if (i < 0)
        return -1;
    *out = (enum fo_package)i;
    return 0;
}

/* A package version is four dot-separated numbers, e.g. 1.4.0.2. */
bool fo_package_version_valid(const char *s)
{
    unsigned a, b, c, d;
    char tail;

    return strlen(s) < 32 && sscanf(s, "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) == 4;
}

static enum MHD_Result control_error(struct fo_request *req, unsigned status, const char *msg)
{
    return fo_reply_json(req, status, json_pack("{s:s}", "error", msg));
}

static enum MHD_Result counters(struct fo_server *srv, struct fo_request *req)
{
    struct fo_counters c;
    long active;

    fo_state_counters(srv, &c, &active);
    return fo_reply_json(
        req, 200,
        json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
                  "s:I, s:I}",
                  "token_requests", (json_int_t)c.token_requests, "token_grants",
                  (json_int_t)c.token_grants, "revocations", (json_int_t)c.revocations,
                  "revoke_requests", (json_int_t)c.revoke_requests, "introspections",
                  (json_int_t)c.introspections, "userinfo", (json_int_t)c.userinfo,
                  "authorize_requests", (json_int_t)c.authorize_requests, "rest_calls",
                  (json_int_t)c.rest_calls, "requests", (json_int_t)c.requests, "faults_injected",
                  (json_int_t)c.faults_injected, "active_tokens", (json_int_t)active, "logins",
                  (json_int_t)c.logins, "login_failures", (json_int_t)c.login_failures,
                  "consents_allowed", (json_int_t)c.consents_allowed, "consents_denied",
                  (json_int_t)c.consents_denied, "codes_issued", (json_int_t)c.codes_issued,
                  "codes_redeemed", (json_int_t)c.codes_redeemed));
}

static json_t *knobs_json(const struct fo_knobs *k)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:b, s:b, s:b, s:b, s:b, s:I}", "env",
                     env_names[k->env], "package", package_names[k->package], "package_version",
                     k->package_version, "namespace", k->namespace_prefix, "org_name", k->org_name,
                     "username", k->username, "token_ttl", (json_int_t)k->token_ttl, "deny",
                     k->deny, "rotate_refresh", k->rotate_refresh, "issued_at_seconds",
                     k->issued_at_seconds, "require_secret", k->require_secret, "login_form",
                     k->login_form, "code_ttl", (json_int_t)k->code_ttl);
}

static int set_string(char *dst, size_t size, json_t *v)
{
    const char *s = json_string_value(v);

    if (!s || !*s || strlen(s) >= size)
        return -1;
    memcpy(dst, s, strlen(s) + 1);
    return 0;
}

static int set_bool(bool *dst, json_t *v)
{
    if (!json_is_boolean(v))
        return -1;
    *dst = json_is_true(v);
    return 0;
}

/* Applies one config key to k; returns -1 for a bad value, -2 for an unknown key. */
static int apply_knob(struct fo_knobs *k, const char *key, json_t *v)
{
    if (strcmp(key, "env") == 0)
        return fo_parse_env(json_string_value(v), &k->env);
    if (strcmp(key, "package") == 0)
        return fo_parse_package(json_string_value(v), &k->package);
    if (strcmp(key, "package_version") == 0)
        return json_is_string(v) && fo_package_version_valid(json_string_value(v))
                   ? set_string(k->package_version, sizeof(k->package_version), v)
                   : -1;
    if (strcmp(key, "namespace") == 0)
        return set_string(k->namespace_prefix, sizeof(k->namespace_prefix), v);
    if (strcmp(key, "org_name") == 0)
        return set_string(k->org_name, sizeof(k->org_name), v);
    if (strcmp(key, "username") == 0)
        return set_string(k->username, sizeof(k->username), v);
    if (strcmp(key, "token_ttl") == 0) {
        if (!json_is_integer(v) || json_integer_value(v) < 0)
            return -1;
        k->token_ttl = (long)json_integer_value(v);
        return 0;
    }
    if (strcmp(key, "code_ttl") == 0) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 24 * 3600)
            return -1;
        k->code_ttl = (long)json_integer_value(v);
        return 0;
    }
    if (strcmp(key, "deny") == 0)
        return set_bool(&k->deny, v);
    if (strcmp(key, "login_form") == 0)
        return set_bool(&k->login_form, v);
    if (strcmp(key, "rotate_refresh") == 0)
        return set_bool(&k->rotate_refresh, v);
    if (strcmp(key, "issued_at_seconds") == 0)
        return set_bool(&k->issued_at_seconds, v);
    if (strcmp(key, "require_secret") == 0)
        return set_bool(&k->require_secret, v);
    return -2;
}

static json_t *parse_body(const struct fo_request *req)
{
    json_t *body = json_loadb(req->body, req->body_len, 0, NULL);

    if (body && !json_is_object(body)) {
        json_decref(body);
        return NULL;
    }
    return body;
}

/* All keys are validated before any is applied, so a bad request changes nothing. */
static enum MHD_Result config(struct fo_server *srv, struct fo_request *req)
{
    struct fo_knobs k;
    const char *key;
    json_t *body, *v;
    char msg[160];

    fo_state_knobs(srv, &k);
    if (fo_method_is(req, "GET"))
        return fo_reply_json(req, 200, knobs_json(&k));
    body = parse_body(req);
    if (!body)
        return control_error(req, 400, "the body must be a JSON object");
    json_object_foreach(body, key, v)
    {
        int rc = apply_knob(&k, key, v);
        if (rc != 0) {
            snprintf(msg, sizeof(msg), "%s config key '%s'", rc == -2 ? "unknown" : "bad value for",
                     key);
            json_decref(body);
            return control_error(req, 400, msg);
        }
    }
    json_decref(body);
    fo_state_set_knobs(srv, &k);
    return fo_reply_json(req, 200, knobs_json(&k));
}

static int fault_string(char **dst, json_t *v)
{
    if (!json_is_string(v))
        return -1;
    free(*dst);
    *dst = strdup(json_string_value(v));
    return *dst ? 0 : -1;
}

static int fault_int(long *dst, json_t *v, long min, long max)
{
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return -1;
    *dst = (long)json_integer_value(v);
    return 0;
}

/* Applies one fault key; returns -1 for a bad value, -2 for an unknown key. */
static int apply_fault_key(struct fo_fault *f, const char *key, json_t *v)
{
    long n = 0;
    int kind;

    if (strcmp(key, "kind") == 0) {
        kind = name_index(json_string_value(v), fault_names, 6);
        f->kind = (enum fo_fault_kind)kind;
        return kind < 0 ? -1 : 0;
    }
    if (strcmp(key, "path_prefix") == 0) {
        if (!json_is_string(v) || strlen(json_string_value(v)) >= sizeof(f->path_prefix))
            return -1;
        snprintf(f->path_prefix, sizeof(f->path_prefix), "%s", json_string_value(v));
        return 0;
    }
    if (strcmp(key, "client_id") == 0) {
        if (!json_is_string(v) || strlen(json_string_value(v)) >= sizeof(f->client_id))
            return -1;
        snprintf(f->client_id, sizeof(f->client_id), "%s", json_string_value(v));
        return 0;
    }
    if (strcmp(key, "status") == 0) {
        if (fault_int(&n, v, 100, 599) != 0)
            return -1;
        f->status = (unsigned)n;
        return 0;
    }
    if (strcmp(key, "delay_ms") == 0)
        return fault_int(&f->delay_ms, v, 0, MAX_DELAY_MS);
    if (strcmp(key, "count") == 0)
        return fault_int(&f->count, v, -1, 1000000000L) != 0 || f->count == 0 ? -1 : 0;
    if (strcmp(key, "bytes") == 0) {
        if (fault_int(&n, v, 16, (long)MAX_HUGE_BYTES) != 0)
            return -1;
        f->bytes = (size_t)n;
        return 0;
    }
    if (strcmp(key, "body") == 0)
        return fault_string(&f->body, v);
    if (strcmp(key, "content_type") == 0)
        return fault_string(&f->content_type, v);
    return -2;
}

static enum MHD_Result fault(struct fo_server *srv, struct fo_request *req)
{
    struct fo_fault f = {.status = 503, .delay_ms = 1000, .count = 1, .bytes = DEFAULT_HUGE_BYTES};
    json_t *body = parse_body(req), *v;
    const char *key;
    char msg[160];

    if (!body)
        return control_error(req, 400, "the body must be a JSON object");
    f.kind = (enum fo_fault_kind) - 1;
    json_object_foreach(body, key, v)
    {
        int rc = apply_fault_key(&f, key, v);
        if (rc != 0) {
            snprintf(msg, sizeof(msg), "%s fault key '%s'", rc == -2 ? "unknown" : "bad value for",
                     key);
            goto fail;
        }
    }
    if ((int)f.kind < 0) {
        snprintf(msg, sizeof(msg),
                 "a fault needs a kind: status, delay, malformed, huge, "
                 "unauthorized or close");
        goto fail;
    }
    if (fo_state_add_fault(srv, &f) != 0) {
        snprintf(msg, sizeof(msg), "too many faults armed (at most %d); POST /__fake/reset",
                 FO_MAX_FAULTS);
        goto fail;
    }
    json_decref(body);
    return fo_reply_json(
        req, 200,
        json_pack("{s:s, s:I}", "kind", fault_names[f.kind], "count", (json_int_t)f.count));
fail:
    json_decref(body);
    fo_fault_clear(&f);
    return control_error(req, 400, msg);
}

enum MHD_Result fo_control(struct fo_server *srv, struct fo_request *req)
{
    const char *what = req->url + strlen("/__fake/");
    bool get = fo_method_is(req, "GET"), post = fo_method_is(req, "POST");

    if (strcmp(what, "counters") == 0 && get)
        return counters(srv, req);
    if (strcmp(what, "config") == 0 && (get || post))
        return config(srv, req);
    if (strcmp(what, "fault") == 0 && post)
        return fault(srv, req);
    if (strcmp(what, "reset") == 0 && post) {
        fo_state_reset(srv);
        return fo_reply_json(req, 200, json_pack("{s:b}", "ok", 1));
    }
    if (strcmp(what, "revoke-all") == 0 && post) {
        fo_state_revoke_all(srv);
        return fo_reply_json(req, 200, json_pack("{s:b}", "ok", 1));
    }
    return control_error(req, 404,
                         "unknown control call; use GET counters|config, POST "
                         "reset|config|fault|revoke-all");
}

/* ---- Fault answers ---- */

static const char *default_fault_body(const struct fo_request *req, unsigned status)
{
    if (status == 503)
        return "[{\"errorCode\":\"SERVER_UNAVAILABLE\",\"message\":\"Server temporarily "
               "unavailable; please retry later.\"}]";
    if (status == 403 || status == 429)
        return "[{\"errorCode\":\"REQUEST_LIMIT_EXCEEDED\",\"message\":\"TotalRequests Limit "
               "exceeded.\"}]";
    if (status == 500)
        return "[{\"errorCode\":\"UNKNOWN_EXCEPTION\",\"message\":\"An unexpected error "
               "occurred. Please include this ErrorId if you contact support: "
               "1234567890-12345 (-1234567890)\"}]";
    if (strncmp(req->url, "/services/oauth2/", 17) == 0)
        return status == 401 ? "{\"error\":\"invalid_client\",\"error_description\":\"invalid "
                               "client credentials\"}"
                             : "{\"error\":\"invalid_request\",\"error_description\":\"fault "
                               "injected by the fake org\"}";
    return "[{\"errorCode\":\"FAULT_INJECTED\",\"message\":\"fault injected by the fake org\"}]";
}

static const char *guess_content_type(const char *body)
{
    if (body[0] == '[' || body[0] == '{')
        return "application/json;charset=UTF-8";
    if (body[0] == '<')
        return "text/html;charset=UTF-8";
    return "text/plain;charset=UTF-8";
}

/* The huge body is generated on the fly: {"padding":"xxxx...x"} of exactly *size bytes. */
static ssize_t huge_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    static const char head[] = "{\"padding\":\"";
    static const char tail[] = "\"}";
    const size_t *size = cls;
    size_t n = 0;

    if (pos >= *size)
        return MHD_CONTENT_READER_END_OF_STREAM;
    for (; n < max && pos + n < *size; n++) {
        uint64_t i = pos + n;
        if (i < sizeof(head) - 1)
            buf[n] = head[i];
        else if (i >= *size - (sizeof(tail) - 1))
            buf[n] = tail[i - (*size - (sizeof(tail) - 1))];
        else
            buf[n] = 'x';
    }
    return (ssize_t)n;
}

static enum MHD_Result huge_answer(struct fo_request *req, size_t bytes)
{
    struct MHD_Response *resp;
    enum MHD_Result rc;
    size_t *size = malloc(sizeof(*size));

    if (!size)
        return MHD_NO;
    *size = bytes;
    resp = MHD_create_response_from_callback(bytes, 64 * 1024, huge_read, size, free);
    if (!resp) {
        free(size);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json;charset=UTF-8");
    rc = MHD_queue_response(req->conn, 200, resp);
    MHD_destroy_response(resp);
    req->status = 200;
    return rc;
}

enum MHD_Result fo_fault_answer(struct fo_server *srv, struct fo_request *req, struct fo_fault *f)
{
    static const char malformed[] = "{\"access_token\":\"00D000000000001!AQ4AQFakeTrunc";
    const char *body;

    (void)srv;
    switch (f->kind) {
    case FO_FAULT_STATUS:
        body = f->body ? f->body : default_fault_body(req, f->status);
        return fo_reply(req, f->status,
                        f->content_type ? f->content_type : guess_content_type(body), body,
                        strlen(body), NULL, NULL);
    case FO_FAULT_MALFORMED:
        return fo_reply(req, 200, "application/json;charset=UTF-8", malformed,
                        sizeof(malformed) - 1, NULL, NULL);
    case FO_FAULT_HUGE:
        return huge_answer(req, f->bytes);
    case FO_FAULT_UNAUTHORIZED:
        return fo_reply_invalid_session(req);
    case FO_FAULT_CLOSE:
    case FO_FAULT_DELAY:
        break;
    }
    /* MHD_NO makes MHD drop the connection without an answer. */
    return MHD_NO;
}
