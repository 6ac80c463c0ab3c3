/* Small helpers shared by every core file: errors, strings, secret wiping, time. */
#ifndef ISF_UTIL_H
#define ISF_UTIL_H

#include <isyncsf/plugin.h>
#include <jansson.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Initialise an error struct to "no error". */
void isf_err_init(struct isf_error *err);
/* Fill err (if non-NULL) with code and a formatted message; returns code. */
int isf_err_set(struct isf_error *err, int code, const char *fmt, ...) ISF_PRINTF(3, 4);
int isf_err_vset(struct isf_error *err, int code, const char *fmt, va_list ap);
/* Prefix an existing message with context: "<prefix>: <old message>". Keeps the code. */
int isf_err_prefix(struct isf_error *err, const char *fmt, ...) ISF_PRINTF(2, 3);

/* Overwrite memory in a way the compiler cannot elide. */
void isf_wipe(void *p, size_t len);
/* Wipe a NUL-terminated secret string and free it; NULL is fine. */
void isf_free_secret(char *s);
/* strdup that returns NULL for NULL. */
char *isf_strdup(const char *s);
/* asprintf-style; NULL on failure. */
char *isf_aprintf(const char *fmt, ...) ISF_PRINTF(1, 2);
/* json_dumps that never returns a partial text: jansson 2.14 ignores a failed append while it
 * writes an object key (out of memory gave `{"schema":1,":"acme",...}`), so the text is
 * collected here and any failed append fails the whole dump. NULL when out of memory. */
char *isf_json_dumps(const json_t *json, size_t flags);
/* json_loadb that fails (NULL, *nomem = 1) when jansson ran out of memory anywhere while parsing:
 * jansson 2.14's lexer ignores a failed append and silently drops that character of a string
 * (an org's description read as "allocation faiure"), which a later write would have stored. */
json_t *isf_json_loadb(const char *buf, size_t len, size_t flags, json_error_t *error, int *nomem);

/* Milliseconds since the epoch, wall clock / monotonic. */
int64_t isf_now_ms(void);
int64_t isf_monotonic_ms(void);
/* RFC 3339 UTC ("2026-12-04T20:21:28Z") into buf (>= 21 bytes); "" for 0. */
void isf_format_time(int64_t ms, char *buf, size_t len);
/* Parse RFC 3339 (Z or offset, optional fraction) into ms; 0 ok, -1 bad. */
int isf_parse_time(const char *s, int64_t *ms);

/* Org names: ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$ */
int isf_valid_org_name(const char *name);

/* Constant-time comparison of two strings (length leaks, content doesn't). */
int isf_consttime_streq(const char *a, const char *b);

#endif
