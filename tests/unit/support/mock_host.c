/* mock_host: see mock_host.h. Test-only code: allocation failures abort, because a test that ran
 * out of memory has nothing useful left to say. */
#include "mock_host.h"

#include "exec.h"

#include <openssl/rand.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One scripted answer, kept in a FIFO per kind of call. */
struct mock_reply {
    struct mock_reply *next;
    int code;
    char *message;
    long status;        /* http */
    char *body;         /* http */
    char *content_type; /* http */
    char *access_token; /* oauth */
    char *instance_url; /* oauth */
    char *refresh_token;
    int64_t expires_at_ms;
};

struct mock_fifo {
    struct mock_reply *head;
    struct mock_reply *tail;
};

struct mock_host {
    struct isf_host host; /* host.host_data points back here */

    long live_allocs;
    char *log;
    size_t log_len;
    size_t log_cap;
    int log_counts[4];
    int echo_log;
    int64_t now_ms;

    struct mock_fifo http_replies;
    struct mock_fifo oauth_replies;
    struct mock_fifo revoke_replies;

    struct mock_http_call *http_calls;
    size_t n_http_calls;
    long http_live;
    struct mock_oauth_call *oauth_calls;
    size_t n_oauth_calls;
    struct mock_revoke_call *revoke_calls;
    size_t n_revoke_calls;
    size_t n_session_sets;
    struct mock_exec_call *exec_calls;
    size_t n_exec_calls;
};

/* ---- small helpers ------------------------------------------------------------------------ */

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "mock_host: out of memory\n");
        abort();
    }
    return p;
}

static char *xstrdup(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = xmalloc(n);
    memcpy(d, s, n);
    return d;
}

static void *xgrow(void *p, size_t count, size_t size)
{
    void *q = realloc(p, (count ? count : 1) * size);
    if (!q) {
        fprintf(stderr, "mock_host: out of memory\n");
        abort();
    }
    return q;
}

static struct mock_host *self(const struct isf_host *h)
{
    return (struct mock_host *)h->host_data;
}

/* A wipe the compiler cannot drop: the mock must really wipe, or a test could not rely on it. */
static void wipe_bytes(void *p, size_t len)
{
    volatile unsigned char *v = p;
    while (len--)
        *v++ = 0;
}

static void fifo_push(struct mock_fifo *f, struct mock_reply *r)
{
    r->next = NULL;
    if (f->tail)
        f->tail->next = r;
    else
        f->head = r;
    f->tail = r;
}

static struct mock_reply *fifo_pop(struct mock_fifo *f)
{
    struct mock_reply *r = f->head;
    if (r) {
        f->head = r->next;
        if (!f->head)
            f->tail = NULL;
    }
    return r;
}

static void reply_free(struct mock_reply *r)
{
    if (!r)
        return;
    free(r->message);
    free(r->body);
    free(r->content_type);
    free(r->access_token);
    free(r->instance_url);
    free(r->refresh_token);
    free(r);
}

static void fifo_clear(struct mock_fifo *f)
{
    struct mock_reply *r;
    while ((r = fifo_pop(f)) != NULL)
        reply_free(r);
}

static struct mock_reply *reply_new(int code, const char *message)
{
    struct mock_reply *r = xmalloc(sizeof(*r));
    memset(r, 0, sizeof(*r));
    r->code = code;
    r->message = xstrdup(message);
    return r;
}

/* ---- memory ------------------------------------------------------------------------------- */

static void *host_alloc(const struct isf_host *h, size_t size)
{
    void *p = malloc(size ? size : 1);
    if (p)
        self(h)->live_allocs++;
    return p;
}

static void host_free(const struct isf_host *h, void *p)
{
    if (!p)
        return;
    self(h)->live_allocs--;
    free(p);
}

static void host_free_secret(const struct isf_host *h, void *p, size_t len)
{
    if (!p)
        return;
    wipe_bytes(p, len ? len : strlen(p) + 1);
    host_free(h, p);
}

static char *host_strdup(const struct isf_host *h, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = host_alloc(h, n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static void host_wipe(const struct isf_host *h, void *p, size_t len)
{
    (void)h;
    if (p)
        wipe_bytes(p, len);
}

/* ---- logging and errors ------------------------------------------------------------------- */

static const char *level_name(enum isf_log_level level)
{
    switch (level) {
    case ISF_LOG_ERROR:
        return "ERROR";
    case ISF_LOG_WARN:
        return "WARN";
    case ISF_LOG_INFO:
        return "INFO";
    case ISF_LOG_DEBUG:
        return "DEBUG";
    }
    return "?";
}

static void log_append(struct mock_host *m, const char *line)
{
    size_t n = strlen(line);
    if (m->log_len + n + 1 > m->log_cap) {
        m->log_cap = (m->log_len + n + 1) * 2;
        m->log = xgrow(m->log, m->log_cap, 1);
    }
    memcpy(m->log + m->log_len, line, n + 1);
    m->log_len += n;
}

static void host_log(const struct isf_host *h, enum isf_log_level level, const char *fmt, ...)
{
    struct mock_host *m = self(h);
    char msg[2048];
    char line[2100];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(line, sizeof(line), "%s %s\n", level_name(level), msg);
    log_append(m, line);
    if ((unsigned)level < 4)
        m->log_counts[level]++;
    if (m->echo_log)
        fprintf(stderr, "[mock_host] %s", line);
}

static int host_error_set(const struct isf_host *h, struct isf_error *err, int code,
                          const char *fmt, ...)
{
    (void)h;
    if (!err)
        return code;
    va_list ap;
    va_start(ap, fmt);
    err->code = code;
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return code;
}

/* ---- options ------------------------------------------------------------------------------ */

static json_t *opt(const struct isf_opts *o, const char *key)
{
    return o ? json_object_get((const json_t *)o, key) : NULL;
}

static const char *host_opt_string(const struct isf_host *h, const struct isf_opts *o,
                                   const char *key)
{
    (void)h;
    return json_string_value(opt(o, key));
}

static int64_t host_opt_int(const struct isf_host *h, const struct isf_opts *o, const char *key)
{
    (void)h;
    return (int64_t)json_integer_value(opt(o, key));
}

static int host_opt_bool(const struct isf_host *h, const struct isf_opts *o, const char *key)
{
    (void)h;
    return json_is_true(opt(o, key));
}

static size_t host_opt_list_size(const struct isf_host *h, const struct isf_opts *o,
                                 const char *key)
{
    (void)h;
    return json_array_size(opt(o, key));
}

static const char *host_opt_list_get(const struct isf_host *h, const struct isf_opts *o,
                                     const char *key, size_t i)
{
    (void)h;
    return json_string_value(json_array_get(opt(o, key), i));
}

static const struct isf_json *host_opt_json(const struct isf_host *h, const struct isf_opts *o,
                                            const char *key)
{
    (void)h;
    return (const struct isf_json *)opt(o, key);
}

const struct isf_opts *mock_opts_from_json(json_t *obj)
{
    return (const struct isf_opts *)obj;
}

static json_t *default_value(const struct isf_option_spec *s)
{
    switch (s->type) {
    case ISF_OPT_INT:
        return json_integer((json_int_t)strtoll(s->default_value, NULL, 10));
    case ISF_OPT_BOOL:
        if (strcmp(s->default_value, "true") == 0)
            return json_true();
        return strcmp(s->default_value, "false") == 0 ? json_false() : NULL;
    case ISF_OPT_STRING:
    case ISF_OPT_PATH:
        return json_string(s->default_value);
    case ISF_OPT_STRING_LIST:
    case ISF_OPT_MAP:
        return json_loads(s->default_value, JSON_DECODE_ANY, NULL);
    }
    return NULL;
}

int mock_opts_apply_defaults(json_t *obj, const struct isf_option_spec *specs)
{
    for (const struct isf_option_spec *s = specs; s && s->name; s++) {
        if (!s->default_value || json_object_get(obj, s->name))
            continue;
        json_t *v = default_value(s);
        if (!v)
            return -1;
        json_object_set_new(obj, s->name, v);
    }
    return 0;
}

/* ---- JSON --------------------------------------------------------------------------------- */

static struct isf_json *host_json_parse(const struct isf_host *h, const char *text, size_t len,
                                        struct isf_error *err)
{
    json_error_t jerr;
    json_t *v = json_loadb(text, len, JSON_DECODE_ANY, &jerr);
    if (!v) {
        /* The core treats an unparsable answer as a passing failure ("garbage answer"). */
        host_error_set(h, err, ISF_E_TRANSIENT, "invalid JSON at line %d: %s", jerr.line,
                       jerr.text);
        return NULL;
    }
    return (struct isf_json *)v;
}

static void host_json_free(const struct isf_host *h, struct isf_json *v)
{
    (void)h;
    json_decref((json_t *)v);
}

static const struct isf_json *host_json_get(const struct isf_host *h, const struct isf_json *obj,
                                            const char *key)
{
    (void)h;
    return (const struct isf_json *)json_object_get((const json_t *)obj, key);
}

static const char *host_json_string(const struct isf_host *h, const struct isf_json *v)
{
    (void)h;
    return json_string_value((const json_t *)v);
}

static int host_json_int(const struct isf_host *h, const struct isf_json *v, int64_t *out)
{
    (void)h;
    if (!json_is_integer((const json_t *)v))
        return -1;
    *out = (int64_t)json_integer_value((const json_t *)v);
    return 0;
}

static size_t host_json_array_size(const struct isf_host *h, const struct isf_json *v)
{
    (void)h;
    return json_array_size((const json_t *)v);
}

static const struct isf_json *host_json_array_get(const struct isf_host *h,
                                                  const struct isf_json *v, size_t i)
{
    (void)h;
    return (const struct isf_json *)json_array_get((const json_t *)v, i);
}

static const char *host_json_object_key(const struct isf_host *h, const struct isf_json *obj,
                                        size_t i, const struct isf_json **value)
{
    (void)h;
    const char *key;
    json_t *v;
    size_t n = 0;
    json_object_foreach((json_t *)obj, key, v)
    {
        if (n++ == i) {
            if (value)
                *value = (const struct isf_json *)v;
            return key;
        }
    }
    return NULL;
}

/* ---- randomness and time ------------------------------------------------------------------ */

static int host_random_bytes(const struct isf_host *h, void *buf, size_t len)
{
    (void)h;
    if (len > (size_t)INT32_MAX)
        return ISF_E_FAILED;
    return RAND_bytes(buf, (int)len) == 1 ? ISF_OK : ISF_E_FAILED;
}

static int64_t host_now_ms(const struct isf_host *h)
{
    struct mock_host *m = self(h);
    struct timespec ts;

    if (m->now_ms)
        return m->now_ms;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void mock_host_set_now_ms(struct mock_host *m, int64_t ms)
{
    m->now_ms = ms;
}

/* ---- HTTP --------------------------------------------------------------------------------- */

static char *join_headers(const char *const *headers)
{
    size_t n = 1;
    for (const char *const *p = headers; p && *p; p++)
        n += strlen(*p) + 1;
    char *s = xmalloc(n);
    s[0] = '\0';
    for (const char *const *p = headers; p && *p; p++) {
        if (p != headers)
            strcat(s, "\n");
        strcat(s, *p);
    }
    return s;
}

static void record_http(struct mock_host *m, const struct isf_http_request *req)
{
    m->http_calls = xgrow(m->http_calls, m->n_http_calls + 1, sizeof(*m->http_calls));
    struct mock_http_call *c = &m->http_calls[m->n_http_calls++];
    c->method = xstrdup(req->method ? req->method : "");
    c->url = xstrdup(req->url ? req->url : "");
    c->headers = join_headers(req->headers);
    c->body_len = req->body ? req->body_len : 0;
    c->body = xmalloc(c->body_len + 1);
    if (c->body_len)
        memcpy(c->body, req->body, c->body_len);
    c->body[c->body_len] = '\0';
    c->sensitive = req->sensitive;
}

static int host_http(const struct isf_host *h, const struct isf_http_request *req,
                     struct isf_http_response *resp, struct isf_error *err)
{
    struct mock_host *m = self(h);
    record_http(m, req);
    struct mock_reply *r = fifo_pop(&m->http_replies);
    if (!r)
        return host_error_set(h, err, ISF_E_TRANSIENT,
                              "mock_host: no HTTP reply scripted for %s %s", req->method, req->url);
    int code = r->code;
    if (code != ISF_OK) {
        host_error_set(h, err, code, "%s", r->message ? r->message : "scripted failure");
    } else {
        resp->status = r->status;
        resp->body = r->body ? r->body : xstrdup("");
        resp->body_len = strlen(resp->body);
        resp->content_type = r->content_type;
        r->body = NULL;
        r->content_type = NULL;
        m->http_live++;
    }
    reply_free(r);
    return code;
}

static void host_http_free(const struct isf_host *h, struct isf_http_response *resp)
{
    if (!resp)
        return;
    if (resp->body) {
        wipe_bytes(resp->body, resp->body_len);
        self(h)->http_live--;
    }
    free(resp->body);
    free(resp->content_type);
    resp->body = NULL;
    resp->content_type = NULL;
    resp->body_len = 0;
}

void mock_host_push_http(struct mock_host *m, long status, const char *body,
                         const char *content_type)
{
    struct mock_reply *r = reply_new(ISF_OK, NULL);
    r->status = status;
    r->body = xstrdup(body ? body : "");
    r->content_type = xstrdup(content_type);
    fifo_push(&m->http_replies, r);
}

void mock_host_push_http_error(struct mock_host *m, int code, const char *message)
{
    fifo_push(&m->http_replies, reply_new(code, message));
}

size_t mock_host_http_count(const struct mock_host *m)
{
    return m->n_http_calls;
}

const struct mock_http_call *mock_host_http_call(const struct mock_host *m, size_t i)
{
    return i < m->n_http_calls ? &m->http_calls[i] : NULL;
}

long mock_host_http_live_responses(const struct mock_host *m)
{
    return m->http_live;
}

/* ---- sessions and OAuth ------------------------------------------------------------------- */

struct isf_session *mock_session_ptr(struct mock_session *s)
{
    return (struct isf_session *)s;
}

void mock_session_clear(struct mock_session *s)
{
    free(s->access_token);
    free(s->instance_url);
    free(s->refresh_token);
    memset(s, 0, sizeof(*s));
}

static void session_fill(struct mock_session *s, const char *access_token, const char *instance_url,
                         const char *refresh_token, int64_t issued_at, int64_t expires_at)
{
    int count = s->set_count;
    mock_session_clear(s);
    s->access_token = xstrdup(access_token);
    s->instance_url = xstrdup(instance_url);
    s->refresh_token = xstrdup(refresh_token);
    s->issued_at_ms = issued_at;
    s->expires_at_ms = expires_at;
    s->set_count = count + 1;
}

static void record_oauth(struct mock_host *m, const struct isf_org_view *org,
                         const char *const *form)
{
    m->oauth_calls = xgrow(m->oauth_calls, m->n_oauth_calls + 1, sizeof(*m->oauth_calls));
    struct mock_oauth_call *c = &m->oauth_calls[m->n_oauth_calls++];
    size_t n = 0, text = 1;
    for (const char *const *p = form; p && p[0] && p[1]; p += 2, n++)
        text += strlen(p[0]) + strlen(p[1]) + 2;
    c->org_name = xstrdup(org && org->name ? org->name : "");
    c->client_id = xstrdup(org ? org->client_id : NULL);
    c->client_secret = xstrdup(org ? org->client_secret : NULL);
    c->n_pairs = n;
    c->pairs = xmalloc(2 * n * sizeof(char *));
    c->form = xmalloc(text);
    c->form[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        c->pairs[2 * i] = xstrdup(form[2 * i]);
        c->pairs[2 * i + 1] = xstrdup(form[2 * i + 1]);
        if (i)
            strcat(c->form, "&");
        strcat(c->form, form[2 * i]);
        strcat(c->form, "=");
        strcat(c->form, form[2 * i + 1]);
    }
}

static int host_oauth_token(const struct isf_host *h, const struct isf_org_view *org,
                            const char *const *form, struct isf_session *out, struct isf_error *err)
{
    struct mock_host *m = self(h);
    record_oauth(m, org, form);
    struct mock_reply *r = fifo_pop(&m->oauth_replies);
    if (!r)
        return host_error_set(h, err, ISF_E_TRANSIENT,
                              "mock_host: no OAuth token reply scripted for org %s",
                              org && org->name ? org->name : "?");
    int code = r->code;
    if (code != ISF_OK)
        host_error_set(h, err, code, "%s", r->message ? r->message : "scripted failure");
    else if (out)
        session_fill((struct mock_session *)out, r->access_token, r->instance_url, r->refresh_token,
                     host_now_ms(h), r->expires_at_ms);
    reply_free(r);
    return code;
}

void mock_host_push_oauth(struct mock_host *m, int code, const char *message,
                          const char *access_token, const char *instance_url,
                          const char *refresh_token, int64_t expires_at_ms)
{
    struct mock_reply *r = reply_new(code, message);
    r->access_token = xstrdup(access_token);
    r->instance_url = xstrdup(instance_url);
    r->refresh_token = xstrdup(refresh_token);
    r->expires_at_ms = expires_at_ms;
    fifo_push(&m->oauth_replies, r);
}

size_t mock_host_oauth_count(const struct mock_host *m)
{
    return m->n_oauth_calls;
}

const struct mock_oauth_call *mock_host_oauth_call(const struct mock_host *m, size_t i)
{
    return i < m->n_oauth_calls ? &m->oauth_calls[i] : NULL;
}

const char *mock_host_oauth_form_get(const struct mock_host *m, size_t i, const char *key)
{
    const struct mock_oauth_call *c = mock_host_oauth_call(m, i);
    for (size_t k = 0; c && k < c->n_pairs; k++)
        if (strcmp(c->pairs[2 * k], key) == 0)
            return c->pairs[2 * k + 1];
    return NULL;
}

static int host_oauth_revoke(const struct isf_host *h, const struct isf_org_view *org,
                             const char *token, struct isf_error *err)
{
    struct mock_host *m = self(h);
    m->revoke_calls = xgrow(m->revoke_calls, m->n_revoke_calls + 1, sizeof(*m->revoke_calls));
    struct mock_revoke_call *c = &m->revoke_calls[m->n_revoke_calls++];
    c->org_name = xstrdup(org && org->name ? org->name : "");
    c->token = xstrdup(token ? token : "");

    struct mock_reply *r = fifo_pop(&m->revoke_replies);
    int code = r ? r->code : ISF_OK;
    if (code != ISF_OK)
        host_error_set(h, err, code, "%s", r->message ? r->message : "scripted failure");
    reply_free(r);
    return code;
}

void mock_host_push_revoke(struct mock_host *m, int code, const char *message)
{
    fifo_push(&m->revoke_replies, reply_new(code, message));
}

size_t mock_host_revoke_count(const struct mock_host *m)
{
    return m->n_revoke_calls;
}

const struct mock_revoke_call *mock_host_revoke_call(const struct mock_host *m, size_t i)
{
    return i < m->n_revoke_calls ? &m->revoke_calls[i] : NULL;
}

static int host_session_set(const struct isf_host *h, struct isf_session *out,
                            const char *access_token, const char *instance_url,
                            const char *refresh_token, int64_t issued_at_ms, int64_t expires_at_ms,
                            struct isf_error *err)
{
    struct mock_host *m = self(h);
    if (!out || !access_token)
        return host_error_set(h, err, ISF_E_FAILED,
                              "mock_host: session_set needs a session and an access token");
    m->n_session_sets++;
    session_fill((struct mock_session *)out, access_token, instance_url, refresh_token,
                 issued_at_ms, expires_at_ms);
    return ISF_OK;
}

size_t mock_host_session_set_count(const struct mock_host *m)
{
    return m->n_session_sets;
}

/* ---- running commands --------------------------------------------------------------------- */

/* Joins a NULL-terminated list with `sep` ("" for NULL). */
static char *join_list(char *const list[], const char *sep)
{
    size_t n = 1;
    for (size_t i = 0; list && list[i]; i++)
        n += strlen(list[i]) + strlen(sep);
    char *out = xmalloc(n);
    out[0] = '\0';
    for (size_t i = 0; list && list[i]; i++) {
        if (i)
            strcat(out, sep);
        strcat(out, list[i]);
    }
    return out;
}

/* Records the call, then really runs the command with the core's runner (as the core does). */
static int host_exec_capture(const struct isf_host *h, char *const argv[], char *const envp[],
                             long timeout_ms, size_t out_cap, char **out, size_t *out_len,
                             struct isf_exec_status *st, struct isf_error *err)
{
    struct mock_host *m = self(h);
    m->exec_calls = xgrow(m->exec_calls, m->n_exec_calls + 1, sizeof(*m->exec_calls));
    struct mock_exec_call *c = &m->exec_calls[m->n_exec_calls++];
    c->argv = join_list(argv, " ");
    c->envp = join_list(envp, "\n");
    c->timeout_ms = timeout_ms;
    c->out_cap = out_cap;
    *out = NULL;
    *out_len = 0;
    char *buf = xmalloc(out_cap + 1);
    m->live_allocs++;
    size_t err_got = 0;
    struct isf_exec_limits lim = {timeout_ms, envp, st->stderr_head, sizeof(st->stderr_head) - 1,
                                  &err_got};
    struct isf_exec_result res;
    size_t got = 0;
    int rc = isf_exec_capture(argv, &lim, buf, out_cap, &got, &res, err);
    st->stderr_len = (uint32_t)err_got;
    st->outcome = res.outcome;
    st->exit_code = res.exit_code;
    st->signal = res.signal;
    st->sys_errno = res.sys_errno;
    if (rc == 0 && (res.outcome == ISF_EXEC_EXITED || res.outcome == ISF_EXEC_SIGNALED)) {
        *out = buf;
        *out_len = got;
        return 0;
    }
    host_free(h, buf);
    return rc;
}

size_t mock_host_exec_count(const struct mock_host *m)
{
    return m->n_exec_calls;
}

const struct mock_exec_call *mock_host_exec_call(const struct mock_host *m, size_t i)
{
    return i < m->n_exec_calls ? &m->exec_calls[i] : NULL;
}

void mock_host_set_struct_size(struct mock_host *m, uint32_t size)
{
    m->host.struct_size = size;
}

/* ---- life cycle --------------------------------------------------------------------------- */

static void fill_table(struct mock_host *m)
{
    struct isf_host *h = &m->host;
    h->struct_size = sizeof(*h);
    h->abi.major = ISF_ABI_MAJOR;
    h->abi.minor = ISF_ABI_MINOR;
    h->core_version = "0.0.0-mock";
    h->host_data = m;
    h->alloc = host_alloc;
    h->free = host_free;
    h->free_secret = host_free_secret;
    h->strdup = host_strdup;
    h->wipe = host_wipe;
    h->log = host_log;
    h->error_set = host_error_set;
    h->opt_string = host_opt_string;
    h->opt_int = host_opt_int;
    h->opt_bool = host_opt_bool;
    h->opt_list_size = host_opt_list_size;
    h->opt_list_get = host_opt_list_get;
    h->opt_json = host_opt_json;
    h->json_parse = host_json_parse;
    h->json_free = host_json_free;
    h->json_get = host_json_get;
    h->json_string = host_json_string;
    h->json_int = host_json_int;
    h->json_array_size = host_json_array_size;
    h->json_array_get = host_json_array_get;
    h->random_bytes = host_random_bytes;
    h->now_ms = host_now_ms;
    h->http = host_http;
    h->http_free = host_http_free;
    h->oauth_token = host_oauth_token;
    h->oauth_revoke = host_oauth_revoke;
    h->session_set = host_session_set;
    h->exec_capture = host_exec_capture;
    h->json_object_key = host_json_object_key;
}

struct mock_host *mock_host_new(void)
{
    struct mock_host *m = xmalloc(sizeof(*m));
    memset(m, 0, sizeof(*m));
    fill_table(m);
    m->log = xstrdup("");
    m->log_cap = 1;
    const char *echo = getenv("MOCK_HOST_LOG");
    m->echo_log = echo && *echo && strcmp(echo, "0") != 0;
    return m;
}

static void free_calls(struct mock_host *m)
{
    for (size_t i = 0; i < m->n_http_calls; i++) {
        free(m->http_calls[i].method);
        free(m->http_calls[i].url);
        free(m->http_calls[i].headers);
        free(m->http_calls[i].body);
    }
    free(m->http_calls);
    for (size_t i = 0; i < m->n_oauth_calls; i++) {
        struct mock_oauth_call *c = &m->oauth_calls[i];
        for (size_t k = 0; k < 2 * c->n_pairs; k++)
            free(c->pairs[k]);
        free(c->pairs);
        free(c->org_name);
        free(c->client_id);
        free(c->client_secret);
        free(c->form);
    }
    free(m->oauth_calls);
    for (size_t i = 0; i < m->n_revoke_calls; i++) {
        free(m->revoke_calls[i].org_name);
        free(m->revoke_calls[i].token);
    }
    free(m->revoke_calls);
    for (size_t i = 0; i < m->n_exec_calls; i++) {
        free(m->exec_calls[i].argv);
        free(m->exec_calls[i].envp);
    }
    free(m->exec_calls);
}

void mock_host_free(struct mock_host *m)
{
    if (!m)
        return;
    fifo_clear(&m->http_replies);
    fifo_clear(&m->oauth_replies);
    fifo_clear(&m->revoke_replies);
    free_calls(m);
    free(m->log);
    free(m);
}

const struct isf_host *mock_host_table(struct mock_host *m)
{
    return &m->host;
}

long mock_host_live_allocs(const struct mock_host *m)
{
    return m->live_allocs;
}

const char *mock_host_log(const struct mock_host *m)
{
    return m->log;
}

int mock_host_log_contains(const struct mock_host *m, const char *needle)
{
    return strstr(m->log, needle) != NULL;
}

int mock_host_log_count(const struct mock_host *m, enum isf_log_level level)
{
    return (unsigned)level < 4 ? m->log_counts[level] : 0;
}

void mock_host_log_clear(struct mock_host *m)
{
    m->log[0] = '\0';
    m->log_len = 0;
    memset(m->log_counts, 0, sizeof(m->log_counts));
}
