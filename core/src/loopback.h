/* The loopback listener of the web server flow (RFC 8252 7.3): libmicrohttpd on 127.0.0.1 (or
 * ::1) at the redirect URI's port, one thread per connection so a client that never finishes its
 * request cannot hold up the real callback. It accepts exactly one callback on the redirect path
 * and hands it to the caller, keeps the browser waiting until the caller says how the login ended
 * (so the page tells the truth), answers 404 on other paths and 410 to anything after the
 * callback. Requests are capped (headers and URI within ISF_LOOPBACK_REQUEST_MAX) and idle
 * connections time out; MHD answers those itself. */
#ifndef ISF_LOOPBACK_H
#define ISF_LOOPBACK_H

#include "authorize_callback.h"
#include "authorize_url.h"

#define ISF_LOOPBACK_REQUEST_MAX (16 * 1024)
#define ISF_LOOPBACK_IDLE_TIMEOUT_S 10

struct isf_loopback;

/* Listen on the redirect's address and port. ISF_E_USAGE naming the port when it is taken;
 * ISF_E_FAILED when the listener cannot start. `org` names the org on the pages. */
int isf_loopback_start(const struct isf_redirect *r, const char *org, struct isf_loopback **out,
                       struct isf_error *err);

/* A descriptor that becomes readable once a callback arrived (then call isf_loopback_take). */
int isf_loopback_fd(const struct isf_loopback *lb);

/* Move the callback received into *out (which must be zeroed). 1 when there was one, else 0. */
int isf_loopback_take(struct isf_loopback *lb, struct isf_callback *out);

/* No callback will be accepted any more (e.g. the redirect URL was pasted instead): later
 * requests on the redirect path get the "login is over" page. */
void isf_loopback_close_door(struct isf_loopback *lb);

/* Answer the browser that brought the callback: a page with `title` and `detail` (escaped),
 * green when ok. Waits (a few seconds at most) until the page was sent. No-op when the callback
 * did not come through the listener. */
void isf_loopback_finish(struct isf_loopback *lb, int ok, const char *title, const char *detail);

/* Stop listening, end every connection and free. NULL is fine. */
void isf_loopback_stop(struct isf_loopback *lb);

#endif
