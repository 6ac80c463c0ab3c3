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

/* application/x-www-form-urlencoded body from NULL-terminated key/value pairs. */
char *isf_form_encode(const char *const *pairs);
/* Percent-encode one component (RFC 3986 unreserved kept). */
char *isf_url_escape(const char *s);
/* "https://host[:port]" part of a URL, for messages. */
void isf_url_origin(const char *url, char *buf, size_t len);

#endif
