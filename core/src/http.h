/* HTTPS client of the core (libcurl): verification always on, timeouts, size cap, retries for
 * idempotent GETs, logging that never shows a header or a body. */
#ifndef ISF_HTTP_H
#define ISF_HTTP_H

#include "internal.h"

struct isf_http *isf_http_new(const struct isf_config *cfg, struct isf_ctx *ctx);
void isf_http_free(struct isf_http *h);

/* Perform one request. A transport failure (DNS, connect, TLS, timeout, size cap) returns
 * ISF_E_TRANSIENT with a message naming the host; any HTTP status returns ISF_OK with
 * resp->status set — interpreting it is the caller's job. GETs are retried with backoff on
 * transport errors, 5xx and 429. Free resp with isf_http_response_clear. */
int isf_http_request(struct isf_ctx *ctx, const struct isf_http_request *req,
                     struct isf_http_response *resp, struct isf_error *err);
void isf_http_response_clear(struct isf_http_response *resp);

/* One transfer to run on a libcurl multi handle (the refresh engine): the same TLS, proxy, size
 * and header rules as isf_http_request, no retries, its own time limit. The easy handle is kept
 * across requests so that its multi handle's connections are reused. */
struct isf_http_xfer;
struct isf_http_xfer *isf_http_xfer_new(struct isf_ctx *ctx, struct isf_error *err);
/* The CURL * to add to a multi handle. */
void *isf_http_xfer_easy(struct isf_http_xfer *x);
/* Set up the next request. req's body must stay valid until the transfer ends (libcurl does not
 * copy it); timeout_ms bounds the whole transfer (0 = http.timeout_s). */
int isf_http_xfer_prepare(struct isf_http_xfer *x, const struct isf_http_request *req,
                          long timeout_ms, struct isf_error *err);
/* After the multi handle reported the transfer done with `curl_code`: the response (status and
 * body, like isf_http_request), or the transport error naming url's host. */
int isf_http_xfer_done(struct isf_http_xfer *x, int curl_code, const char *url,
                       struct isf_http_response *resp, struct isf_error *err);
/* Wipe and drop what the last request left (headers, body pointers, partial answer). */
void isf_http_xfer_release(struct isf_http_xfer *x);
void isf_http_xfer_free(struct isf_http_xfer *x);

/* application/x-www-form-urlencoded body from NULL-terminated key/value pairs. */
char *isf_form_encode(const char *const *pairs);
/* Percent-encode one component (RFC 3986 unreserved kept). */
char *isf_url_escape(const char *s);
/* "https://host[:port]" part of a URL, for messages. */
void isf_url_origin(const char *url, char *buf, size_t len);

#endif
