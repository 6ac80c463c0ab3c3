/* Strict base64; see b64.h for why every mapping is branch-free. */
#include "b64.h"

#include "util.h"

#include <stdint.h>
#include <stdlib.h>

/* All ones when v >= k, else zero (v, k < 2^31), computed without a branch. */
static uint32_t mask_ge(uint32_t v, uint32_t k)
{
    return 0u - ((k - 1u - v) >> 31);
}

/* All ones when lo <= c <= hi, else zero. */
static uint32_t mask_in(uint32_t c, uint32_t lo, uint32_t hi)
{
    return 0u - (((lo - 1u - c) & (c - hi - 1u)) >> 31);
}

static char encode_6bits(uint32_t v)
{
    uint32_t c = v + 'A';
    c += mask_ge(v, 26) & 6u;  /* 26 -> 'a' */
    c -= mask_ge(v, 52) & 75u; /* 52 -> '0' */
    c -= mask_ge(v, 62) & 15u; /* 62 -> '+' */
    c += mask_ge(v, 63) & 3u;  /* 63 -> '/' */
    return (char)c;
}

/* The 6-bit value of c, or -1 when c is not in the alphabet ('=' included). */
static int decode_char(unsigned char uc)
{
    uint32_t c = uc;
    uint32_t upper = mask_in(c, 'A', 'Z'), lower = mask_in(c, 'a', 'z');
    uint32_t digit = mask_in(c, '0', '9'), plus = mask_in(c, '+', '+');
    uint32_t slash = mask_in(c, '/', '/');
    uint32_t v = (upper & (c - 'A')) | (lower & (c - 'a' + 26u)) | (digit & (c - '0' + 52u)) |
                 (plus & 62u) | (slash & 63u);
    uint32_t valid = upper | lower | digit | plus | slash;
    return valid ? (int)v : -1;
}

size_t isf_b64_encoded_len(size_t len)
{
    return (len + 2) / 3 * 4;
}

char *isf_b64_encode(const void *data, size_t len)
{
    const unsigned char *in = data;
    if (len > (SIZE_MAX - 1) / 4 * 3 - 2)
        return NULL;
    char *out = malloc(isf_b64_encoded_len(len) + 1);
    if (!out)
        return NULL;
    char *o = out;
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t w = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        *o++ = encode_6bits(w >> 18);
        *o++ = encode_6bits((w >> 12) & 63u);
        *o++ = encode_6bits((w >> 6) & 63u);
        *o++ = encode_6bits(w & 63u);
    }
    if (len - i == 1) {
        uint32_t w = (uint32_t)in[i] << 16;
        *o++ = encode_6bits(w >> 18);
        *o++ = encode_6bits((w >> 12) & 63u);
        *o++ = '=';
        *o++ = '=';
    } else if (len - i == 2) {
        uint32_t w = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        *o++ = encode_6bits(w >> 18);
        *o++ = encode_6bits((w >> 12) & 63u);
        *o++ = encode_6bits((w >> 6) & 63u);
        *o++ = '=';
    }
    *o = '\0';
    return out;
}

/* Decode one quartet into out, which has room for `room` bytes. Only the last quartet may end in
 * one or two '=' of padding. Returns the number of bytes written (1..3) or -1. */
static int decode_quartet(const char *q, int last, unsigned char *out, size_t room)
{
    int pad = 0;
    if (last && q[3] == '=')
        pad = q[2] == '=' ? 2 : 1;
    int a = decode_char((unsigned char)q[0]), b = decode_char((unsigned char)q[1]);
    int c = pad == 2 ? 0 : decode_char((unsigned char)q[2]);
    int d = pad >= 1 ? 0 : decode_char((unsigned char)q[3]);
    if ((a | b | c | d) < 0)
        return -1;
    /* Canonical form only: the bits a padded quartet leaves unused must be zero. */
    if ((pad == 2 && (b & 15)) || (pad == 1 && (c & 3)))
        return -1;
    int got = 3 - pad;
    if (room < (size_t)got)
        return -1;
    uint32_t w = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
    out[0] = (unsigned char)(w >> 16);
    if (got > 1)
        out[1] = (unsigned char)(w >> 8);
    if (got > 2)
        out[2] = (unsigned char)w;
    return got;
}

int isf_b64_decode_buf(const char *s, size_t n, unsigned char *out, size_t cap, size_t *out_len)
{
    if (!s || n % 4 != 0)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        int got = decode_quartet(s + i, i + 4 == n, out + o, cap - o);
        if (got < 0)
            return -1;
        o += (size_t)got;
    }
    *out_len = o;
    return 0;
}

int isf_b64_decode(const char *s, size_t n, unsigned char **out, size_t *out_len)
{
    *out = NULL;
    if (!s || n % 4 != 0)
        return -1;
    size_t cap = n / 4 * 3;
    unsigned char *buf = malloc(cap + 1);
    if (!buf)
        return -2;
    size_t len = 0;
    if (isf_b64_decode_buf(s, n, buf, cap, &len) != 0) {
        free(buf); /* holds at most a prefix of what the caller passed in: not ours to guard */
        return -1;
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return 0;
}

size_t isf_b64url_nopad(const unsigned char *data, size_t len, char *out, size_t cap)
{
    size_t need = len / 3 * 4 + (len % 3 ? len % 3 + 1 : 0);
    if (cap == 0)
        return 0;
    out[0] = '\0';
    if (need + 1 > cap)
        return 0;
    char *std = isf_b64_encode(data, len);
    if (!std)
        return 0;
    /* '+' → '-', '/' → '_' without a branch on the (possibly secret) character; the padding
     * ('=' at the end only, set by the length) is left out. */
    size_t n = 0;
    for (; n < need && std[n] && std[n] != '='; n++) {
        char c = std[n];
        out[n] = (char)(c + (c == '+') * ('-' - '+') + (c == '/') * ('_' - '/'));
    }
    out[n] = '\0';
    isf_free_secret(std); /* it may encode a secret */
    return n;
}
