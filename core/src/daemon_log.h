/* The daemon's log lines: one event per line as key=value pairs (logfmt), e.g.
 *   org=acme event=refresh outcome=done expires_at=2026-12-04T22:00:00Z next_due=... elapsed_ms=84
 * so `grep org=acme`, `journalctl -g event=refresh` and logfmt parsers all read them. Values with
 * spaces, quotes or '=' are double-quoted with \" and \\ escaped. The front end adds the level
 * (level=info ...). Tokens and secrets never reach these lines: only names, outcomes, times,
 * counts and the library's own messages (which never hold a secret). */
#ifndef ISF_DAEMON_LOG_H
#define ISF_DAEMON_LOG_H

#include "internal.h"

struct isf_kvline {
    char buf[1024];
    size_t len;
};

void isf_kv_init(struct isf_kvline *l);
/* Append key=value (value NULL: nothing appended). */
void isf_kv_str(struct isf_kvline *l, const char *key, const char *value);
void isf_kv_int(struct isf_kvline *l, const char *key, int64_t value);
/* An RFC 3339 UTC time; 0 is left out, INT64_MAX is written as "never". */
void isf_kv_time(struct isf_kvline *l, const char *key, int64_t ms);
/* Send the line through the context's log function. */
void isf_kv_log(struct isf_ctx *ctx, int level, const struct isf_kvline *l);

#endif
