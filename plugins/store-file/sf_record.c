/* store-file record format: see sf_record.h. */
#include "sf_record.h"

#include <openssl/evp.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define SHA256_HEX_LEN 64

/* Lowercase hex SHA-256 of data into hex (SHA256_HEX_LEN + 1 bytes). 0 ok, -1 on failure. */
static int sha256_hex(const void *data, size_t len, char *hex)
{
    static const char digits[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;

    if (EVP_Digest(data, len, md, &md_len, EVP_sha256(), NULL) != 1 || md_len * 2 != 64)
        return -1;
    for (unsigned int i = 0; i < md_len; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 0x0f];
    }
    hex[SHA256_HEX_LEN] = '\0';
    return 0;
}

int sf_record_header(char *buf, size_t cap, uint64_t revision, const void *payload, size_t len)
{
    char hex[SHA256_HEX_LEN + 1];

    if (sha256_hex(payload, len, hex) != 0)
        return -1;
    int n = snprintf(buf, cap, SF_RECORD_MAGIC " %" PRIu64 " %zu %s\n", revision, len, hex);
    return (n < 0 || (size_t)n >= cap) ? -1 : n;
}

/* Parse an unsigned decimal number (no sign, no leading zero unless it is "0") ending at `stop`.
 * Advances *pos past the number and the stop character. 0 ok, -1 bad. */
static int parse_u64(const unsigned char *buf, size_t size, size_t *pos, char stop, uint64_t *out)
{
    size_t i = *pos;
    uint64_t v = 0;

    if (i >= size || buf[i] < '0' || buf[i] > '9')
        return -1;
    if (buf[i] == '0' && i + 1 < size && buf[i + 1] != (unsigned char)stop)
        return -1; /* leading zeros would let two headers mean the same thing */
    for (; i < size && buf[i] >= '0' && buf[i] <= '9'; i++) {
        unsigned d = buf[i] - '0';
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    if (i >= size || buf[i] != (unsigned char)stop)
        return -1;
    *pos = i + 1;
    *out = v;
    return 0;
}

/* Parse the header line; on success *pos is the payload offset. */
static int parse_header(const unsigned char *buf, size_t size, size_t *pos, uint64_t *revision,
                        uint64_t *len, char *hex)
{
    const size_t magic_len = sizeof(SF_RECORD_MAGIC) - 1;

    if (size < magic_len + 1 || memcmp(buf, SF_RECORD_MAGIC " ", magic_len + 1) != 0)
        return -1;
    *pos = magic_len + 1;
    if (parse_u64(buf, size, pos, ' ', revision) != 0 || parse_u64(buf, size, pos, ' ', len) != 0)
        return -1;
    if (size - *pos < SHA256_HEX_LEN + 1)
        return -1;
    for (size_t i = 0; i < SHA256_HEX_LEN; i++) {
        unsigned char c = buf[*pos + i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return -1;
        hex[i] = (char)c;
    }
    hex[SHA256_HEX_LEN] = '\0';
    if (buf[*pos + SHA256_HEX_LEN] != '\n')
        return -1;
    *pos += SHA256_HEX_LEN + 1;
    return 0;
}

int sf_record_parse(const unsigned char *buf, size_t size, uint64_t *revision, size_t *payload_off,
                    size_t *payload_len, char *why, size_t why_cap)
{
    char want[SHA256_HEX_LEN + 1];
    char got[SHA256_HEX_LEN + 1];
    uint64_t rev = 0, len = 0;
    size_t pos = 0;

    if (parse_header(buf, size, &pos, &rev, &len, want) != 0) {
        snprintf(why, why_cap, "bad header: not an " SF_RECORD_MAGIC " record");
        return -1;
    }
    if (rev == 0) {
        snprintf(why, why_cap, "bad header: revision 0");
        return -1;
    }
    if (len != size - pos) {
        snprintf(why, why_cap, "%s: header says %" PRIu64 " payload bytes, file holds %zu",
                 len > size - pos ? "truncated" : "trailing bytes", len, size - pos);
        return -1;
    }
    if (sha256_hex(buf + pos, (size_t)len, got) != 0 || strcmp(got, want) != 0) {
        snprintf(why, why_cap, "checksum mismatch: the payload was altered");
        return -1;
    }
    *revision = rev;
    *payload_off = pos;
    *payload_len = (size_t)len;
    return 0;
}
