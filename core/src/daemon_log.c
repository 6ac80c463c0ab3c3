/* logfmt lines for the daemon (see daemon_log.h). */
#include "daemon_log.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void isf_kv_init(struct isf_kvline *l)
{
    l->len = 0;
    l->buf[0] = '\0';
}

static void put_char(struct isf_kvline *l, char c)
{
    if (l->len + 1 < sizeof(l->buf)) {
        l->buf[l->len++] = c;
        l->buf[l->len] = '\0';
    }
}

static void put_raw(struct isf_kvline *l, const char *s)
{
    while (*s)
        put_char(l, *s++);
}

static int needs_quotes(const char *v)
{
    if (!*v)
        return 1;
    for (const char *p = v; *p; p++)
        if (*p == ' ' || *p == '"' || *p == '=' || *p == '\\' || (unsigned char)*p < 0x20)
            return 1;
    return 0;
}

void isf_kv_str(struct isf_kvline *l, const char *key, const char *value)
{
    if (!value)
        return;
    if (l->len)
        put_char(l, ' ');
    put_raw(l, key);
    put_char(l, '=');
    if (!needs_quotes(value)) {
        put_raw(l, value);
        return;
    }
    put_char(l, '"');
    for (const char *p = value; *p; p++) {
        if (*p == '"' || *p == '\\')
            put_char(l, '\\');
        /* One event per line: a control character (a newline in a server's message) becomes a
         * space rather than a second, unparseable line. */
        put_char(l, (unsigned char)*p < 0x20 ? ' ' : *p);
    }
    put_char(l, '"');
}

void isf_kv_int(struct isf_kvline *l, const char *key, int64_t value)
{
    char num[32];
    snprintf(num, sizeof(num), "%" PRId64, value);
    isf_kv_str(l, key, num);
}

void isf_kv_time(struct isf_kvline *l, const char *key, int64_t ms)
{
    char when[40];
    if (ms == 0)
        return;
    if (ms == INT64_MAX) {
        isf_kv_str(l, key, "never");
        return;
    }
    isf_format_time(ms, when, sizeof(when));
    isf_kv_str(l, key, when);
}

void isf_kv_log(struct isf_ctx *ctx, int level, const struct isf_kvline *l)
{
    isf_log(ctx, level, "%s", l->buf);
}
