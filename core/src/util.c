/* Small helpers shared by every core file. */
#include "util.h"

#include <ctype.h>
#include <pthread.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void isf_err_init(struct isf_error *err)
{
    if (!err)
        return;
    err->struct_size = sizeof(*err);
    err->code = ISF_OK;
    err->message[0] = '\0';
}

int isf_err_vset(struct isf_error *err, int code, const char *fmt, va_list ap)
{
    if (err) {
        err->code = code;
        vsnprintf(err->message, sizeof(err->message), fmt, ap);
    }
    return code;
}

int isf_err_set(struct isf_error *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    isf_err_vset(err, code, fmt, ap);
    va_end(ap);
    return code;
}

int isf_err_prefix(struct isf_error *err, const char *fmt, ...)
{
    if (!err)
        return ISF_E_FAILED;
    char prefix[ISF_ERROR_MESSAGE_MAX];
    char old[ISF_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    memcpy(old, err->message, sizeof(old));
    snprintf(err->message, sizeof(err->message), "%s: %s", prefix, old);
    return err->code;
}

void isf_wipe(void *p, size_t len)
{
    if (p && len)
        OPENSSL_cleanse(p, len);
}

void isf_free_secret(char *s)
{
    if (!s)
        return;
    isf_wipe(s, strlen(s));
    free(s);
}

char *isf_strdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

struct dump_buf {
    char *data;
    size_t len, cap;
    int failed;
};

static int dump_append(const char *buf, size_t size, void *arg)
{
    struct dump_buf *b = arg;
    if (b->failed)
        return -1;
    if (b->len + size + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + size + 1)
            cap *= 2;
        char *grown = realloc(b->data, cap);
        if (!grown) {
            b->failed = 1;
            return -1;
        }
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, buf, size);
    b->len += size;
    b->data[b->len] = '\0';
    return 0;
}

char *isf_json_dumps(const json_t *json, size_t flags)
{
    struct dump_buf b = {NULL, 0, 0, 0};
    if (json_dump_callback(json, dump_append, &b, flags) != 0 || b.failed || !b.data) {
        free(b.data);
        return NULL;
    }
    return b.data;
}

/* jansson's allocator, with a per-thread note of any failure (see isf_json_loadb). Installed
 * once; it forwards to malloc/free, so blocks from before and after mix freely. */
static _Thread_local int json_alloc_failed;

static void *json_alloc(size_t size)
{
    void *p = malloc(size);
    if (!p)
        json_alloc_failed = 1;
    return p;
}

static void install_json_alloc(void)
{
    json_set_alloc_funcs(json_alloc, free);
}

json_t *isf_json_loadb(const char *buf, size_t len, size_t flags, json_error_t *error, int *nomem)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, install_json_alloc);
    json_alloc_failed = 0;
    json_t *root = json_loadb(buf, len, flags, error);
    *nomem = json_alloc_failed;
    if (*nomem) {
        json_decref(root);
        return NULL;
    }
    return root;
}

char *isf_aprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *out = malloc((size_t)n + 1);
    if (!out)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(out, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return out;
}

int64_t isf_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t isf_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void isf_format_time(int64_t ms, char *buf, size_t len)
{
    if (ms <= 0) {
        if (len)
            buf[0] = '\0';
        return;
    }
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int parse_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)**p))
            return -1;
        v = v * 10 + (**p - '0');
        (*p)++;
    }
    *out = v;
    return 0;
}

int isf_parse_time(const char *s, int64_t *ms)
{
    if (!s)
        return -1;
    const char *p = s;
    int y, mo, d, h, mi, sec;
    if (parse_digits(&p, 4, &y) || *p++ != '-' || parse_digits(&p, 2, &mo) || *p++ != '-' ||
        parse_digits(&p, 2, &d) || (*p != 'T' && *p != 't' && *p != ' '))
        return -1;
    p++;
    if (parse_digits(&p, 2, &h) || *p++ != ':' || parse_digits(&p, 2, &mi) || *p++ != ':' ||
        parse_digits(&p, 2, &sec))
        return -1;
    int frac_ms = 0;
    if (*p == '.') {
        p++;
        int digits = 0;
        while (isdigit((unsigned char)*p)) {
            if (digits < 3)
                frac_ms = frac_ms * 10 + (*p - '0');
            digits++;
            p++;
        }
        if (digits == 0)
            return -1;
        for (; digits < 3; digits++)
            frac_ms *= 10;
    }
    long offset = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1;
        int oh, om;
        p++;
        if (parse_digits(&p, 2, &oh) || *p++ != ':' || parse_digits(&p, 2, &om))
            return -1;
        offset = sign * (oh * 3600L + om * 60L);
    } else {
        return -1;
    }
    if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return -1;
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    time_t t = timegm(&tm);
    *ms = ((int64_t)t - offset) * 1000 + frac_ms;
    return 0;
}

int isf_valid_org_name(const char *name)
{
    if (!name || !isalnum((unsigned char)name[0]))
        return 0;
    size_t n = 1;
    for (const char *p = name + 1; *p; p++, n++) {
        if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-')
            return 0;
    }
    return n <= 64;
}

int isf_consttime_streq(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb)
        return 0;
    return CRYPTO_memcmp(a, b, la) == 0;
}
