/* HTTPS client of the core (libcurl). */
#include "http.h"

#include "curl_api.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct isf_http {
    const struct isf_curl_api *curl;
    CURL *easy; /* reused: keeps connections alive across calls to one org */
    const struct isf_config *cfg;
    char user_agent[96];
};

struct body_sink {
    char *data;
    size_t len, cap, limit;
    int too_large;
    int no_memory; /* the body could not be stored: report ISF_E_NOMEM, not a network error */
};

struct isf_http *isf_http_new(const struct isf_config *cfg, struct isf_ctx *ctx)
{
    const char *why = NULL;
    const struct isf_curl_api *curl = isf_curl_api(&why);
    if (!curl) {
        isf_log(ctx, ISF_LOG_ERROR, "cannot use libcurl: %s (install libcurl4)", why);
        return NULL;
    }
    struct isf_http *h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    h->curl = curl;
    h->easy = curl->easy_init();
    if (!h->easy) {
        free(h);
        return NULL;
    }
    h->cfg = cfg;
    const curl_version_info_data *vi = curl->version_info(CURLVERSION_NOW);
    snprintf(h->user_agent, sizeof(h->user_agent), "isyncsf/%s libcurl/%s", ISF_VERSION,
             vi ? vi->version : "?");
    return h;
}

void isf_http_free(struct isf_http *h)
{
    if (!h)
        return;
    h->curl->easy_cleanup(h->easy);
    free(h);
}

static size_t sink_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct body_sink *s = userdata;
    size_t n = size * nmemb;
    if (s->len + n > s->limit) {
        s->too_large = 1;
        return 0; /* makes libcurl abort the transfer with CURLE_WRITE_ERROR */
    }
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + n + 1)
            cap *= 2;
        char *grown = malloc(cap);
        if (!grown) {
            s->no_memory = 1;
            return 0;
        }
        if (s->data) {
            memcpy(grown, s->data, s->len);
            /* Bodies may hold tokens: wipe the old buffer rather than realloc it. */
            isf_wipe(s->data, s->len);
            free(s->data);
        }
        s->data = grown;
        s->cap = cap;
    }
    memcpy(s->data + s->len, ptr, n);
    s->len += n;
    s->data[s->len] = '\0';
    return n;
}

void isf_url_origin(const char *url, char *buf, size_t len)
{
    const char *start = strstr(url, "://");
    start = start ? start + 3 : url;
    size_t n = strcspn(start, "/?#");
    size_t scheme = (size_t)(start - url);
    snprintf(buf, len, "%.*s", (int)(scheme + n), url);
}

/* The URL without its query string, for logs (queries are SOQL: harmless, but long). */
static void url_for_log(const char *url, char *buf, size_t len)
{
    size_t n = strcspn(url, "?");
    snprintf(buf, len, "%.*s%s", (int)n, url, url[n] ? "?…" : "");
}

static int is_retryable(CURLcode rc, long status)
{
    if (rc == CURLE_OK)
        return status >= 500 || status == 429;
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
        return 1;
    default:
        return 0;
    }
}

static int transport_error(struct isf_http *h, CURLcode rc, const char *url,
                           const struct body_sink *sink, const char *curl_msg,
                           struct isf_error *err)
{
    char origin[256];
    isf_url_origin(url, origin, sizeof(origin));
    if (sink->no_memory)
        return isf_err_set(err, ISF_E_NOMEM, "out of memory reading the answer of %s", origin);
    if (sink->too_large)
        return isf_err_set(err, ISF_E_TRANSIENT,
                           "%s answered with more than %ld bytes; refusing it (raise "
                           "http.max_response_bytes if this is expected)",
                           origin, h->cfg->max_response_bytes);
    switch (rc) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
        return isf_err_set(err, ISF_E_TRANSIENT,
                           "TLS certificate of %s was not accepted (%s); if the org sits "
                           "behind a private CA, set http.ca_file in the config",
                           origin, curl_msg[0] ? curl_msg : h->curl->easy_strerror(rc));
    case CURLE_OPERATION_TIMEDOUT:
        return isf_err_set(err, ISF_E_TRANSIENT,
                           "%s did not answer in time (%s); check the network or raise "
                           "http.timeout_s",
                           origin, curl_msg[0] ? curl_msg : h->curl->easy_strerror(rc));
    case CURLE_UNSUPPORTED_PROTOCOL:
        return isf_err_set(err, ISF_E_USAGE, "%s: only https:// URLs are allowed", origin);
    default:
        return isf_err_set(err, ISF_E_TRANSIENT,
                           "could not reach %s: %s; check the URL, the network and http.proxy, "
                           "then try again",
                           origin, curl_msg[0] ? curl_msg : h->curl->easy_strerror(rc));
    }
}

static struct curl_slist *build_headers(const struct isf_curl_api *curl,
                                        const struct isf_http_request *req)
{
    struct curl_slist *list = NULL;
    for (const char *const *hdr = req->headers; hdr && *hdr; hdr++) {
        struct curl_slist *next = curl->slist_append(list, *hdr);
        if (!next) {
            curl->slist_free_all(list);
            return NULL;
        }
        list = next;
    }
    /* Salesforce answers 100-continue slowly; bodies here are small. */
    struct curl_slist *next = curl->slist_append(list, "Expect:");
    if (!next) {
        curl->slist_free_all(list);
        return NULL;
    }
    return next;
}

static void setup_easy(struct isf_http *h, CURL *e, long timeout_ms,
                       const struct isf_http_request *req, struct curl_slist *headers,
                       struct body_sink *sink, char *errbuf)
{
    const struct isf_config *cfg = h->cfg;
    CURLcode (*setopt)(CURL *, CURLoption, ...) = h->curl->easy_setopt;
    h->curl->easy_reset(e);
    setopt(e, CURLOPT_URL, req->url);
    setopt(e, CURLOPT_PROTOCOLS_STR, "https");
    setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    if (cfg->ca_file)
        setopt(e, CURLOPT_CAINFO, cfg->ca_file);
    if (cfg->proxy && cfg->proxy[0])
        setopt(e, CURLOPT_PROXY, cfg->proxy);
    setopt(e, CURLOPT_CONNECTTIMEOUT, cfg->connect_timeout_s);
    setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : cfg->timeout_s * 1000);
    setopt(e, CURLOPT_NOSIGNAL, 1L);
    setopt(e, CURLOPT_USERAGENT, h->user_agent);
    setopt(e, CURLOPT_HTTPHEADER, headers);
    setopt(e, CURLOPT_WRITEFUNCTION, sink_write);
    setopt(e, CURLOPT_WRITEDATA, sink);
    setopt(e, CURLOPT_ERRORBUFFER, errbuf);
    setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)cfg->max_response_bytes);
    if (strcmp(req->method, "GET") == 0) {
        setopt(e, CURLOPT_HTTPGET, 1L);
    } else {
        setopt(e, CURLOPT_POST, 1L);
        setopt(e, CURLOPT_POSTFIELDS, req->body ? req->body : "");
        setopt(e, CURLOPT_POSTFIELDSIZE, (long)(req->body ? req->body_len : 0));
        if (strcmp(req->method, "POST") != 0)
            setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
    }
}

static void backoff_sleep(int attempt)
{
    /* 200 ms, 400 ms, 800 ms ... with up to 50% jitter, so parallel clients spread out. */
    long ms = 200L << (attempt < 6 ? attempt : 6);
    ms += rand() % (ms / 2 + 1);
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void sink_clear(struct body_sink *s)
{
    if (s->data) {
        isf_wipe(s->data, s->len);
        free(s->data);
    }
    memset(s, 0, sizeof(*s));
}

int isf_http_request(struct isf_ctx *ctx, const struct isf_http_request *req,
                     struct isf_http_response *resp, struct isf_error *err)
{
    memset(resp, 0, sizeof(*resp));
    resp->struct_size = sizeof(*resp);
    if (!ctx->http && !(ctx->http = isf_http_new(ctx->cfg, ctx)))
        return isf_err_set(err, ISF_E_NOMEM, "could not set up the HTTP client");
    struct isf_http *h = ctx->http;
    int idempotent = strcmp(req->method, "GET") == 0;
    int max_attempts = idempotent ? (int)h->cfg->retries + 1 : 1;
    struct curl_slist *headers = build_headers(h->curl, req);
    if (!headers)
        return isf_err_set(err, ISF_E_NOMEM, "out of memory building HTTP headers");
    char logurl[512];
    url_for_log(req->url, logurl, sizeof(logurl));
    int rc = ISF_OK;
    struct body_sink sink = {0};
    for (int attempt = 0; attempt < max_attempts; attempt++) {
        char errbuf[CURL_ERROR_SIZE] = "";
        sink_clear(&sink);
        sink.limit = (size_t)h->cfg->max_response_bytes;
        setup_easy(h, h->easy, 0, req, headers, &sink, errbuf);
        int64_t t0 = isf_monotonic_ms();
        CURLcode cc = h->curl->easy_perform(h->easy);
        long status = 0;
        h->curl->easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &status);
        isf_log(ctx, ISF_LOG_DEBUG, "http: %s %s -> %ld (%lld ms, %zu bytes)%s%s", req->method,
                logurl, status, (long long)(isf_monotonic_ms() - t0), sink.len,
                cc ? " error: " : "", cc ? h->curl->easy_strerror(cc) : "");
        if (cc == CURLE_FILESIZE_EXCEEDED)
            sink.too_large = 1;
        if (attempt + 1 < max_attempts && !sink.too_large && is_retryable(cc, status)) {
            backoff_sleep(attempt);
            continue;
        }
        if (cc != CURLE_OK) {
            rc = transport_error(h, cc, req->url, &sink, errbuf, err);
            break;
        }
        resp->status = status;
        char *ct = NULL;
        h->curl->easy_getinfo(h->easy, CURLINFO_CONTENT_TYPE, &ct);
        resp->content_type = isf_strdup(ct);
        if (!sink.data)
            sink.data = calloc(1, 1);
        resp->body = sink.data;
        resp->body_len = sink.len;
        sink.data = NULL;
        break;
    }
    sink_clear(&sink);
    /* The request may have carried a bearer token: do not leave it in libcurl's handle. */
    h->curl->easy_setopt(h->easy, CURLOPT_HTTPHEADER, NULL);
    h->curl->easy_setopt(h->easy, CURLOPT_POSTFIELDS, NULL);
    h->curl->slist_free_all(headers);
    return rc;
}

void isf_http_response_clear(struct isf_http_response *resp)
{
    if (!resp)
        return;
    if (resp->body) {
        isf_wipe(resp->body, resp->body_len);
        free(resp->body);
    }
    free(resp->content_type);
    memset(resp, 0, sizeof(*resp));
}

char *isf_url_escape(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    char *out = malloc(n * 3 + 1);
    if (!out)
        return NULL;
    char *o = out;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            *o++ = (char)*p;
        } else {
            *o++ = '%';
            *o++ = hex[*p >> 4];
            *o++ = hex[*p & 15];
        }
    }
    *o = '\0';
    return out;
}

char *isf_form_encode(const char *const *pairs)
{
    size_t cap = 1;
    for (const char *const *p = pairs; p[0] && p[1]; p += 2)
        cap += strlen(p[0]) * 3 + strlen(p[1]) * 3 + 2;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    out[0] = '\0';
    size_t len = 0;
    for (const char *const *p = pairs; p[0] && p[1]; p += 2) {
        char *k = isf_url_escape(p[0]);
        char *v = isf_url_escape(p[1]);
        if (!k || !v) {
            free(k);
            isf_free_secret(v);
            isf_wipe(out, len);
            free(out);
            return NULL;
        }
        len += (size_t)snprintf(out + len, cap - len, "%s%s=%s", len ? "&" : "", k, v);
        free(k);
        isf_free_secret(v); /* values may be secrets */
    }
    return out;
}

/* ---- transfers for a multi handle (the refresh engine) ----------------------------------- */

struct isf_http_xfer {
    struct isf_http *h;
    CURL *easy; /* kept across requests: libcurl reuses the multi's connections through it */
    struct curl_slist *headers;
    struct body_sink sink;
    char errbuf[CURL_ERROR_SIZE];
};

struct isf_http_xfer *isf_http_xfer_new(struct isf_ctx *ctx, struct isf_error *err)
{
    if (!ctx->http && !(ctx->http = isf_http_new(ctx->cfg, ctx))) {
        isf_err_set(err, ISF_E_NOMEM, "could not set up the HTTP client (is libcurl4 installed?)");
        return NULL;
    }
    struct isf_http_xfer *x = calloc(1, sizeof(*x));
    if (x) {
        x->h = ctx->http;
        x->easy = x->h->curl->easy_init();
    }
    if (!x || !x->easy) {
        free(x);
        isf_err_set(err, ISF_E_NOMEM, "out of memory setting up an HTTP transfer");
        return NULL;
    }
    return x;
}

void *isf_http_xfer_easy(struct isf_http_xfer *x)
{
    return x->easy;
}

int isf_http_xfer_prepare(struct isf_http_xfer *x, const struct isf_http_request *req,
                          long timeout_ms, struct isf_error *err)
{
    isf_http_xfer_release(x);
    x->headers = build_headers(x->h->curl, req);
    if (!x->headers)
        return isf_err_set(err, ISF_E_NOMEM, "out of memory building HTTP headers");
    x->sink.limit = (size_t)x->h->cfg->max_response_bytes;
    x->errbuf[0] = '\0';
    setup_easy(x->h, x->easy, timeout_ms, req, x->headers, &x->sink, x->errbuf);
    return ISF_OK;
}

int isf_http_xfer_done(struct isf_http_xfer *x, int curl_code, const char *url,
                       struct isf_http_response *resp, struct isf_error *err)
{
    CURLcode cc = (CURLcode)curl_code;
    memset(resp, 0, sizeof(*resp));
    resp->struct_size = sizeof(*resp);
    if (cc == CURLE_FILESIZE_EXCEEDED)
        x->sink.too_large = 1;
    if (cc != CURLE_OK)
        return transport_error(x->h, cc, url, &x->sink, x->errbuf, err);
    x->h->curl->easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &resp->status);
    if (!x->sink.data && !(x->sink.data = calloc(1, 1)))
        return isf_err_set(err, ISF_E_NOMEM, "out of memory");
    resp->body = x->sink.data;
    resp->body_len = x->sink.len;
    memset(&x->sink, 0, sizeof(x->sink));
    return ISF_OK;
}

void isf_http_xfer_release(struct isf_http_xfer *x)
{
    if (!x)
        return;
    sink_clear(&x->sink);
    /* The request carried a client secret: do not leave a pointer to it in libcurl's handle. */
    x->h->curl->easy_setopt(x->easy, CURLOPT_HTTPHEADER, NULL);
    x->h->curl->easy_setopt(x->easy, CURLOPT_POSTFIELDS, NULL);
    x->h->curl->slist_free_all(x->headers);
    x->headers = NULL;
}

void isf_http_xfer_free(struct isf_http_xfer *x)
{
    if (!x)
        return;
    isf_http_xfer_release(x);
    x->h->curl->easy_cleanup(x->easy);
    free(x);
}
