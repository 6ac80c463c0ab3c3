/*
 * mock_host: a complete `struct isf_host` for plugin unit tests.
 *
 * A plugin test dlopen()s the built plugin, calls its init function with mock_host_table(m), and
 * then drives its ops. The mock does what the core would do, in the simplest honest way, and lets
 * the test look at what the plugin did:
 *
 *  - memory:   alloc/free/strdup use malloc; free_secret and wipe really wipe. The number of live
 *              allocations is counted, so a test can assert that a plugin freed what it allocated
 *              (mock_host_live_allocs()).
 *  - logging:  every host->log line is appended to an in-memory buffer as "LEVEL message\n"
 *              (LEVEL is ERROR, WARN, INFO or DEBUG). Set MOCK_HOST_LOG=1 in the environment to
 *              also echo the lines to stderr while debugging a test.
 *  - errors:   error_set fills code and message (vsnprintf) and returns the code, like the core.
 *  - options:  `struct isf_opts` is a jansson object cast to the opaque type, holding the values
 *              the core would hand over after validation (strings, integers, booleans, arrays of
 *              strings, objects). mock_opts_apply_defaults() fills missing keys from a plugin's
 *              option table the way the core does.
 *  - JSON:     `struct isf_json` is a jansson json_t cast to the opaque type.
 *  - random:   OpenSSL RAND_bytes.  time: the real wall clock, or a fixed value set by the test.
 *  - HTTP and OAuth: stubs. Each call is recorded (mock_host_http_call(), ...) and answered from a
 *              FIFO of replies scripted by the test (mock_host_push_http(), ...). With no reply
 *              scripted, the call fails with ISF_E_TRANSIENT and a message saying so.
 *  - commands: exec_capture really runs the command through the core's runner (exec.c) and
 *              records the argv, environment, time limit and cap of each call.
 *  - sessions: `struct isf_session` is a `struct mock_session` cast to the opaque type
 *              (mock_session_ptr()); oauth_token and session_set fill it.
 *
 * Not thread-safe (neither is one plugin instance: the core serialises calls into it). After
 * fork() the child has its own copy of the mock; what it records is not seen by the parent.
 */
#ifndef ISF_TEST_MOCK_HOST_H
#define ISF_TEST_MOCK_HOST_H

#include <isyncsf/plugin.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct mock_host; /* opaque; one per test */

/* ---- life cycle --------------------------------------------------------------------------- */

/* A new mock host with empty logs and no scripted replies. Never returns NULL (aborts on OOM,
 * which is acceptable in a test). */
struct mock_host *mock_host_new(void);
/* Free the mock, its logs, recorded calls and unused scripted replies. NULL is fine. */
void mock_host_free(struct mock_host *m);
/* The host table to hand to the plugin; valid until mock_host_free(). */
const struct isf_host *mock_host_table(struct mock_host *m);

/* ---- memory ------------------------------------------------------------------------------- */

/* alloc/strdup calls minus free/free_secret calls since mock_host_new(). 0 when the plugin
 * released everything it allocated through the host. */
long mock_host_live_allocs(const struct mock_host *m);

/* ---- logging ------------------------------------------------------------------------------ */

/* Everything logged so far, one "LEVEL message\n" line per call ("" when nothing). */
const char *mock_host_log(const struct mock_host *m);
/* Non-zero when the log contains `needle` (a plain substring). */
int mock_host_log_contains(const struct mock_host *m, const char *needle);
/* Number of lines logged at `level`. */
int mock_host_log_count(const struct mock_host *m, enum isf_log_level level);
void mock_host_log_clear(struct mock_host *m);

/* ---- options ------------------------------------------------------------------------------ */

/* The opaque options handle for a jansson object (borrowed: keep `obj` alive while the plugin
 * instance lives, and json_decref it afterwards). opt_string/opt_int/opt_bool/... read its keys:
 * a missing key reads as NULL / 0 / 0 / empty list / NULL. */
const struct isf_opts *mock_opts_from_json(json_t *obj);
/* Fill the keys of `obj` that are missing from the defaults in `specs` (as the core does):
 * ISF_OPT_INT as an integer, ISF_OPT_BOOL as a boolean ("true"/"false"), ISF_OPT_STRING and
 * ISF_OPT_PATH as a string (no ~ expansion), ISF_OPT_STRING_LIST and ISF_OPT_MAP parsed as JSON.
 * Options without a default are left missing. Returns 0, or -1 when a default does not parse. */
int mock_opts_apply_defaults(json_t *obj, const struct isf_option_spec *specs);

/* ---- time --------------------------------------------------------------------------------- */

/* Make host->now_ms return `ms`; 0 goes back to the real wall clock. */
void mock_host_set_now_ms(struct mock_host *m, int64_t ms);

/* ---- HTTP --------------------------------------------------------------------------------- */

/* What the plugin asked host->http for. Strings are copies owned by the mock. */
struct mock_http_call {
    char *method;
    char *url;
    char *headers; /* the header lines joined with "\n" ("" when none) */
    char *body;    /* NUL-terminated copy of the body ("" when none) */
    size_t body_len;
    int sensitive;
};

/* Script the next answer: a response with `status`, `body` (copied; NULL = empty) and
 * `content_type` (copied; NULL = none). host->http returns 0 with it. */
void mock_host_push_http(struct mock_host *m, long status, const char *body,
                         const char *content_type);
/* Script the next answer as a failure: host->http returns `code` with `message` in err. */
void mock_host_push_http_error(struct mock_host *m, int code, const char *message);
size_t mock_host_http_count(const struct mock_host *m);
/* The i-th recorded call (0-based), or NULL when out of range. */
const struct mock_http_call *mock_host_http_call(const struct mock_host *m, size_t i);
/* Live responses handed out by host->http and not yet released with host->http_free. */
long mock_host_http_live_responses(const struct mock_host *m);

/* ---- sessions and OAuth ------------------------------------------------------------------- */

/* What oauth_token / session_set recorded. Strings are malloc'd copies owned by the session. */
struct mock_session {
    char *access_token;
    char *instance_url;
    char *refresh_token;
    int64_t issued_at_ms;
    int64_t expires_at_ms;
    int set_count; /* how many times it was filled */
};

/* The opaque pointer to pass to a plugin's connect/refresh. */
struct isf_session *mock_session_ptr(struct mock_session *s);
/* Free the strings and zero the struct (safe on a zeroed struct). */
void mock_session_clear(struct mock_session *s);

/* What the plugin asked host->oauth_token for. */
struct mock_oauth_call {
    char *org_name;      /* org->name, or "" */
    char *client_id;     /* org->client_id, or NULL */
    char *client_secret; /* org->client_secret, or NULL */
    char *form;          /* the form pairs as "k=v&k=v" (not URL-encoded), for messages */
    char **pairs;        /* key, value, key, value, ... (copies) */
    size_t n_pairs;      /* number of key/value pairs */
};

/* Script the next host->oauth_token answer. With code 0 the session is filled with the given
 * values (copied; NULLs stay NULL) and issued_at = now; otherwise `code` and `message` are
 * returned as the error. */
void mock_host_push_oauth(struct mock_host *m, int code, const char *message,
                          const char *access_token, const char *instance_url,
                          const char *refresh_token, int64_t expires_at_ms);
size_t mock_host_oauth_count(const struct mock_host *m);
const struct mock_oauth_call *mock_host_oauth_call(const struct mock_host *m, size_t i);
/* The value of `key` in the i-th call's form, or NULL (borrowed from the recorded call). */
const char *mock_host_oauth_form_get(const struct mock_host *m, size_t i, const char *key);

/* What the plugin asked host->oauth_revoke for. */
struct mock_revoke_call {
    char *org_name;
    char *token;
};

/* Script the next host->oauth_revoke answer (0 = revoked). With nothing scripted, revoke
 * succeeds (an already invalid token counts as revoked). */
void mock_host_push_revoke(struct mock_host *m, int code, const char *message);
size_t mock_host_revoke_count(const struct mock_host *m);
const struct mock_revoke_call *mock_host_revoke_call(const struct mock_host *m, size_t i);

/* host->session_set calls are recorded straight into the session passed in; this counts them. */
size_t mock_host_session_set_count(const struct mock_host *m);

/* ---- running commands (ABI 1.1) ----------------------------------------------------------- */

/* What the plugin asked host->exec_capture for. Strings are copies owned by the mock. */
struct mock_exec_call {
    char *argv; /* the arguments joined with " " */
    char *envp; /* the environment joined with "\n" ("" when NULL or empty) */
    long timeout_ms;
    size_t out_cap;
};
size_t mock_host_exec_count(const struct mock_host *m);
const struct mock_exec_call *mock_host_exec_call(const struct mock_host *m, size_t i);

/* Pretend to be an older host: host->struct_size becomes `size` (e.g. the ABI 1.0 size). */
void mock_host_set_struct_size(struct mock_host *m, uint32_t size);

#endif
