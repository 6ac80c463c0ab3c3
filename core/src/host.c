/* The host service table handed to plugins: every service a plugin may use, nothing more. */
#include "authorize.h"
#include "exec.h"
#include "http.h"
#include "internal.h"
#include "oauth.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct isf_plugin *plugin_of(const struct isf_host *h)
{
    return h->host_data;
}

static void *h_alloc(const struct isf_host *h, size_t size)
{
    (void)h;
    return malloc(size ? size : 1);
}

static void h_free(const struct isf_host *h, void *p)
{
    (void)h;
    free(p);
}

static void h_free_secret(const struct isf_host *h, void *p, size_t len)
{
    (void)h;
    if (!p)
        return;
    isf_wipe(p, len ? len : strlen(p) + 1);
    free(p);
}

static char *h_strdup(const struct isf_host *h, const char *s)
{
    (void)h;
    return isf_strdup(s);
}

static void h_wipe(const struct isf_host *h, void *p, size_t len)
{
    (void)h;
    isf_wipe(p, len);
}

static void h_log(const struct isf_host *h, enum isf_log_level level, const char *fmt, ...)
{
    struct isf_plugin *p = plugin_of(h);
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    isf_log(p->ctx, (int)level, "%s: %s", p->name, msg);
}

static int h_error_set(const struct isf_host *h, struct isf_error *err, int code, const char *fmt,
                       ...)
{
    (void)h;
    va_list ap;
    va_start(ap, fmt);
    isf_err_vset(err, code, fmt, ap);
    va_end(ap);
    return code;
}

static const json_t *opt(const struct isf_opts *o, const char *key)
{
    return json_object_get((const json_t *)o, key);
}

static const char *h_opt_string(const struct isf_host *h, const struct isf_opts *o, const char *key)
{
    (void)h;
    return json_string_value(opt(o, key));
}

static int64_t h_opt_int(const struct isf_host *h, const struct isf_opts *o, const char *key)
{
    (void)h;
    return json_integer_value(opt(o, key));
}

static int h_opt_bool(const struct isf_host *h, const struct isf_opts *o, const char *key)
{
    (void)h;
    return json_is_true(opt(o, key));
}

static size_t h_opt_list_size(const struct isf_host *h, const struct isf_opts *o, const char *key)
{
    (void)h;
    return json_array_size(opt(o, key));
}

static const char *h_opt_list_get(const struct isf_host *h, const struct isf_opts *o,
                                  const char *key, size_t i)
{
    (void)h;
    return json_string_value(json_array_get(opt(o, key), i));
}

static const struct isf_json *h_opt_json(const struct isf_host *h, const struct isf_opts *o,
                                         const char *key)
{
    (void)h;
    return (const struct isf_json *)opt(o, key);
}

static struct isf_json *h_json_parse(const struct isf_host *h, const char *text, size_t len,
                                     struct isf_error *err)
{
    (void)h;
    json_error_t jerr;
    json_t *v = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!v)
        isf_err_set(err, ISF_E_TRANSIENT, "invalid JSON at line %d: %s", jerr.line, jerr.text);
    return (struct isf_json *)v;
}

static void h_json_free(const struct isf_host *h, struct isf_json *v)
{
    (void)h;
    json_decref((json_t *)v);
}

static const struct isf_json *h_json_get(const struct isf_host *h, const struct isf_json *obj,
                                         const char *key)
{
    (void)h;
    return (const struct isf_json *)json_object_get((const json_t *)obj, key);
}

static const char *h_json_string(const struct isf_host *h, const struct isf_json *v)
{
    (void)h;
    return json_string_value((const json_t *)v);
}

static int h_json_int(const struct isf_host *h, const struct isf_json *v, int64_t *out)
{
    (void)h;
    if (!json_is_integer((const json_t *)v))
        return -1;
    *out = json_integer_value((const json_t *)v);
    return 0;
}

static size_t h_json_array_size(const struct isf_host *h, const struct isf_json *v)
{
    (void)h;
    return json_array_size((const json_t *)v);
}

static const struct isf_json *h_json_array_get(const struct isf_host *h, const struct isf_json *v,
                                               size_t i)
{
    (void)h;
    return (const struct isf_json *)json_array_get((const json_t *)v, i);
}

static const char *h_json_object_key(const struct isf_host *h, const struct isf_json *obj, size_t i,
                                     const struct isf_json **value)
{
    (void)h;
    /* jansson iterates in insertion order, which is the document's order. */
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

static int h_random_bytes(const struct isf_host *h, void *buf, size_t len)
{
    (void)h;
    return RAND_bytes(buf, (int)len) == 1 ? ISF_OK : ISF_E_FAILED;
}

static int64_t h_now_ms(const struct isf_host *h)
{
    (void)h;
    return isf_now_ms();
}

static int h_http(const struct isf_host *h, const struct isf_http_request *req,
                  struct isf_http_response *resp, struct isf_error *err)
{
    return isf_http_request(plugin_of(h)->ctx, req, resp, err);
}

static void h_http_free(const struct isf_host *h, struct isf_http_response *resp)
{
    (void)h;
    isf_http_response_clear(resp);
}

static int h_oauth_token(const struct isf_host *h, const struct isf_org_view *org,
                         const char *const *form, struct isf_session *out, struct isf_error *err)
{
    isf_session_clear(out);
    return isf_oauth_token(plugin_of(h)->ctx, org, form, out, err);
}

static int h_oauth_revoke(const struct isf_host *h, const struct isf_org_view *org,
                          const char *token, struct isf_error *err)
{
    return isf_oauth_revoke(plugin_of(h)->ctx, org, token, err);
}

static int h_session_set(const struct isf_host *h, struct isf_session *out,
                         const char *access_token, const char *instance_url,
                         const char *refresh_token, int64_t issued_at_ms, int64_t expires_at_ms,
                         struct isf_error *err)
{
    struct isf_ctx *ctx = plugin_of(h)->ctx;
    if (!access_token || !*access_token || !instance_url ||
        strncmp(instance_url, "https://", 8) != 0)
        return isf_err_set(err, ISF_E_FAILED,
                           "session_set needs an access token and an https instance URL");
    isf_session_clear(out);
    out->access_token = strdup(access_token);
    out->instance_url = strdup(instance_url);
    out->refresh_token = isf_strdup(refresh_token);
    out->issued_at_ms = issued_at_ms > 0 ? issued_at_ms : isf_now_ms();
    out->expires_at_ms = expires_at_ms > 0
                             ? expires_at_ms
                             : out->issued_at_ms + ctx->cfg->refresh_session_ttl_s * 1000;
    if (!out->access_token || !out->instance_url || (refresh_token && !out->refresh_token)) {
        isf_session_clear(out);
        return isf_err_set(err, ISF_E_NOMEM, "out of memory");
    }
    return ISF_OK;
}

/* A helper's output is small (a token and a URL); the cap only bounds what a runaway prints. */
#define EXEC_CAP_MAX ((size_t)16 * 1024 * 1024)

static int h_exec_capture(const struct isf_host *h, char *const argv[], char *const envp[],
                          long timeout_ms, size_t out_cap, char **out, size_t *out_len,
                          struct isf_exec_status *st, struct isf_error *err)
{
    (void)h;
    if (!out || !out_len || !st || st->struct_size < sizeof(*st) || out_cap == 0 ||
        out_cap > EXEC_CAP_MAX)
        return isf_err_set(err, ISF_E_USAGE,
                           "exec_capture: missing output, status, or a cap outside 1..16 MiB");
    *out = NULL;
    *out_len = 0;
    char *buf = malloc(out_cap + 1);
    if (!buf)
        return isf_err_set(err, ISF_E_NOMEM, "out of memory");
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
    if (rc == ISF_OK && (res.outcome == ISF_EXEC_EXITED || res.outcome == ISF_EXEC_SIGNALED)) {
        *out = buf;
        *out_len = got;
        return ISF_OK;
    }
    isf_wipe(buf, out_cap + 1);
    free(buf);
    return rc;
}

/* The web server flow of the interactive modes, run by the core (authorize.c). */
static int h_oauth_authorize(const struct isf_host *h, const struct isf_org_view *org,
                             const struct isf_authorize_params *params, struct isf_session *out,
                             struct isf_error *err)
{
    return isf_authorize(plugin_of(h)->ctx, org, params, out, err);
}

void isf_host_init(struct isf_plugin *p)
{
    struct isf_host *h = &p->host;
    memset(h, 0, sizeof(*h));
    h->struct_size = sizeof(*h);
    h->abi.major = ISF_ABI_MAJOR;
    h->abi.minor = ISF_ABI_MINOR;
    h->core_version = ISF_VERSION;
    h->host_data = p;
    h->alloc = h_alloc;
    h->free = h_free;
    h->free_secret = h_free_secret;
    h->strdup = h_strdup;
    h->wipe = h_wipe;
    h->log = h_log;
    h->error_set = h_error_set;
    h->opt_string = h_opt_string;
    h->opt_int = h_opt_int;
    h->opt_bool = h_opt_bool;
    h->opt_list_size = h_opt_list_size;
    h->opt_list_get = h_opt_list_get;
    h->opt_json = h_opt_json;
    h->json_parse = h_json_parse;
    h->json_free = h_json_free;
    h->json_get = h_json_get;
    h->json_string = h_json_string;
    h->json_int = h_json_int;
    h->json_array_size = h_json_array_size;
    h->json_array_get = h_json_array_get;
    h->random_bytes = h_random_bytes;
    h->now_ms = h_now_ms;
    h->http = h_http;
    h->http_free = h_http_free;
    h->oauth_token = h_oauth_token;
    h->oauth_revoke = h_oauth_revoke;
    h->session_set = h_session_set;
    h->exec_capture = h_exec_capture;
    h->json_object_key = h_json_object_key;
    h->oauth_authorize = h_oauth_authorize;
}
