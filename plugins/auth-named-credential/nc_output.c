/* Reading what a credential helper printed. Two shapes are accepted: the plugin's own versioned
 * object, and what `sf org display --json` prints, so that an org the Salesforce CLI already
 * holds can be used as it is. The output holds a token: no error quotes any of it. */
#include "nc.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define PROTOCOL_VERSION 1

int nc_token_is_sane(const char *token)
{
    if (!token || !*token)
        return 0;
    for (const unsigned char *p = (const unsigned char *)token; *p; p++)
        if (*p <= ' ' || *p >= 0x7f)
            return 0;
    return 1;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int nc_parse_rfc3339(const char *s, int64_t *ms)
{
    int y, mo, d, h, mi, sec, oh = 0, om = 0, frac_ms = 0;
    if (!s || strlen(s) < 20 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) ||
        s[7] != '-' || digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
        digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' ||
        digits(s + 17, 2, &sec))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return -1;
    const char *p = s + 19;
    if (*p == '.') {
        int scale = 100;
        if (!isdigit((unsigned char)*++p))
            return -1;
        for (; isdigit((unsigned char)*p); p++, scale /= 10)
            frac_ms += (*p - '0') * scale;
    }
    int sign = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        sign = *p == '-' ? -1 : 1;
        if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) || oh > 23 || om > 59)
            return -1;
        p += 6;
    } else {
        return -1;
    }
    if (*p)
        return -1;
    int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
    t -= (int64_t)sign * (oh * 3600 + om * 60);
    *ms = t * 1000 + frac_ms;
    return 0;
}

static int fail(const struct isf_host *h, struct isf_error *err, const struct nc_credential *c,
                const char *what)
{
    return h->error_set(h, err, ISF_E_FAILED,
                        "named credential %s: the helper %s printed %s; it must print one JSON "
                        "object {\"access_token\", \"instance_url\", \"expires_at\"} or what "
                        "`sf org display --json` prints",
                        c->name, c->argv[0], what);
}

/* Fill out from the two strings found (borrowed from the parsed JSON). */
static int take(const struct isf_host *h, const struct nc_credential *c, const char *token,
                const char *url, int64_t expires_at_ms, struct nc_token *out, struct isf_error *err)
{
    if (!nc_token_is_sane(token))
        return fail(h, err, c, "an empty or malformed access token");
    if (url && strncmp(url, "https://", 8) != 0)
        return fail(h, err, c, "an instance URL that is not https://");
    out->access_token = h->strdup(h, token);
    out->instance_url = url ? h->strdup(h, url) : NULL;
    out->expires_at_ms = expires_at_ms;
    if (!out->access_token || (url && !out->instance_url)) {
        nc_token_clear(h, out);
        return h->error_set(h, err, ISF_E_NOMEM, "out of memory");
    }
    return ISF_OK;
}

/* {"version": 1, "access_token": ..., "instance_url": ..., "expires_at": "RFC 3339" | null} */
static int read_own_shape(const struct isf_host *h, const struct nc_credential *c,
                          const struct isf_json *root, struct nc_token *out, struct isf_error *err)
{
    const struct isf_json *v = h->json_get(h, root, "version");
    int64_t version = PROTOCOL_VERSION;
    if (v && h->json_int(h, v, &version) != 0)
        return fail(h, err, c, "a version that is not a number");
    if (version != PROTOCOL_VERSION)
        return h->error_set(h, err, ISF_E_FAILED,
                            "named credential %s: the helper %s printed version %lld; this "
                            "plugin reads version %d",
                            c->name, c->argv[0], (long long)version, PROTOCOL_VERSION);
    int64_t expires_at_ms = 0;
    const struct isf_json *exp = h->json_get(h, root, "expires_at");
    const char *exp_text = exp ? h->json_string(h, exp) : NULL;
    if (exp_text && nc_parse_rfc3339(exp_text, &expires_at_ms) != 0)
        return fail(h, err, c, "an expires_at that is not an RFC 3339 time");
    const struct isf_json *url = h->json_get(h, root, "instance_url");
    if (url && !h->json_string(h, url))
        return fail(h, err, c, "an instance_url that is not a string");
    return take(h, c, h->json_string(h, h->json_get(h, root, "access_token")),
                url ? h->json_string(h, url) : NULL, expires_at_ms, out, err);
}

int nc_parse_output(const struct isf_host *h, const struct nc_credential *c, const char *text,
                    size_t len, struct nc_token *out, struct isf_error *err)
{
    memset(out, 0, sizeof(*out));
    struct isf_error perr = {sizeof(perr), 0, {0}};
    struct isf_json *root = h->json_parse(h, text, len, &perr);
    if (!root || !h->json_object_key(h, root, 0, NULL)) {
        if (root)
            h->json_free(h, root);
        /* perr may quote the text near the error: it is not passed on. */
        return fail(h, err, c, len ? "something that is not a JSON object" : "nothing");
    }
    int rc;
    const struct isf_json *result = h->json_get(h, root, "result");
    if (h->json_get(h, root, "access_token")) {
        rc = read_own_shape(h, c, root, out, err);
    } else if (result && h->json_get(h, result, "accessToken")) {
        const struct isf_json *url = h->json_get(h, result, "instanceUrl");
        rc = take(h, c, h->json_string(h, h->json_get(h, result, "accessToken")),
                  url ? h->json_string(h, url) : NULL, 0, out, err);
    } else {
        rc = fail(h, err, c, "JSON without access_token (or result.accessToken)");
    }
    h->json_free(h, root);
    return rc;
}
