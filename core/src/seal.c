/* AES-256-GCM sealing of secret fields (format in keyring.h). The record and field names are
 * authenticated as associated data, so a sealed value copied into another record or field does
 * not open: a store cannot swap one org's refresh token for another's unnoticed. */
#include "keyring.h"

#include "b64.h"
#include "util.h"

#include <limits.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#define SEAL_VERSION 0x01
#define NONCE_LEN 12
#define TAG_LEN 16
#define OFF_ID 1
#define OFF_NONCE (OFF_ID + ISF_KEY_ID_LEN)
#define OFF_CT (OFF_NONCE + NONCE_LEN)
#define OVERHEAD (OFF_CT + TAG_LEN)
#define AAD_PREFIX "isyncsf/v1"
/* Secrets are tokens and client secrets; the cap keeps every length within OpenSSL's int. */
#define PLAINTEXT_MAX (16u * 1024 * 1024)

/* "isyncsf/v1" NUL record NUL field: NUL cannot occur in the names, so the split is unique. */
/* AAD = "isyncsf/v1" NUL record NUL field NUL version key-id: the header is authenticated too,
 * so a value cannot be relabelled as sealed under another key or format. */
static unsigned char *build_aad(const char *record, const char *field, const unsigned char *header,
                                size_t *len)
{
    size_t lp = sizeof(AAD_PREFIX), lr = strlen(record), lf = strlen(field);
    size_t lh = OFF_NONCE;
    if (lr > PLAINTEXT_MAX || lf > PLAINTEXT_MAX)
        return NULL;
    unsigned char *aad = malloc(lp + lr + 1 + lf + 1 + lh);
    if (!aad)
        return NULL;
    memcpy(aad, AAD_PREFIX, lp);
    memcpy(aad + lp, record, lr + 1);
    memcpy(aad + lp + lr + 1, field, lf + 1);
    memcpy(aad + lp + lr + 1 + lf + 1, header, lh);
    *len = lp + lr + 1 + lf + 1 + lh;
    return aad;
}

/* Encrypt len bytes of pt into ct (same length) and write the tag. 0 ok, -1 OpenSSL failure. */
static int gcm_encrypt(const unsigned char *key, const unsigned char *nonce,
                       const unsigned char *aad, size_t aad_len, const unsigned char *pt,
                       size_t len, unsigned char *ct, unsigned char *tag)
{
    int outl = 0, ok = 0;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (!ctx)
        return -1;
    if (EVP_EncryptInit_ex2(ctx, EVP_aes_256_gcm(), key, nonce, NULL) != 1 ||
        EVP_EncryptUpdate(ctx, NULL, &outl, aad, (int)aad_len) != 1)
        goto cleanup;
    if (len > 0 && EVP_EncryptUpdate(ctx, ct, &outl, pt, (int)len) != 1)
        goto cleanup;
    if (EVP_EncryptFinal_ex(ctx, ct + len, &outl) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) != 1)
        goto cleanup;
    ok = 1;
cleanup:
    EVP_CIPHER_CTX_free(ctx); /* cleanses the expanded key schedule */
    return ok ? 0 : -1;
}

/* Decrypt and verify. 0 ok, 1 authentication failed, -1 OpenSSL failure. */
static int gcm_decrypt(const unsigned char *key, const unsigned char *nonce,
                       const unsigned char *aad, size_t aad_len, const unsigned char *ct,
                       size_t len, const unsigned char *tag, unsigned char *pt)
{
    unsigned char tag_copy[TAG_LEN];
    int outl = 0, rc = -1;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (!ctx)
        return -1;
    memcpy(tag_copy, tag, TAG_LEN); /* the ctrl takes a non-const pointer */
    if (EVP_DecryptInit_ex2(ctx, EVP_aes_256_gcm(), key, nonce, NULL) != 1 ||
        EVP_DecryptUpdate(ctx, NULL, &outl, aad, (int)aad_len) != 1)
        goto cleanup;
    if (len > 0 && EVP_DecryptUpdate(ctx, pt, &outl, ct, (int)len) != 1)
        goto cleanup;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag_copy) != 1)
        goto cleanup;
    rc = EVP_DecryptFinal_ex(ctx, pt + len, &outl) > 0 ? 0 : 1;
cleanup:
    EVP_CIPHER_CTX_free(ctx);
    return rc;
}

int isf_seal(const struct isf_keyring *kr, const char *record, const char *field,
             const void *plaintext, size_t len, char **sealed_b64, struct isf_error *err)
{
    unsigned char *blob = NULL, *aad = NULL;
    size_t aad_len = 0;
    int rc = ISF_OK;
    if (!kr || !record || !field || (!plaintext && len > 0) || !sealed_b64)
        return isf_err_set(err, ISF_E_USAGE, "isf_seal: missing argument");
    *sealed_b64 = NULL;
    if (len > PLAINTEXT_MAX)
        return isf_err_set(err, ISF_E_USAGE,
                           "record %s field %s: secret of %zu bytes is too large to seal (max %u)",
                           record, field, len, PLAINTEXT_MAX);
    blob = malloc(OVERHEAD + len);
    if (!blob) {
        rc = isf_err_set(err, ISF_E_NOMEM, "out of memory sealing record %s field %s", record,
                         field);
        goto cleanup;
    }
    blob[0] = SEAL_VERSION;
    const unsigned char *key = isf_keyring_sealing_key(kr, blob + OFF_ID);
    aad = key ? build_aad(record, field, blob, &aad_len) : NULL;
    if (!aad) {
        rc = isf_err_set(err, ISF_E_NOMEM, "out of memory sealing record %s field %s", record,
                         field);
        goto cleanup;
    }
    /* A fresh random nonce per seal: 96 bits leave repeats negligible at any realistic count. */
    if (RAND_bytes(blob + OFF_NONCE, NONCE_LEN) != 1 ||
        gcm_encrypt(key, blob + OFF_NONCE, aad, aad_len, plaintext, len, blob + OFF_CT,
                    blob + OFF_CT + len) != 0) {
        rc = isf_err_set(err, ISF_E_FAILED, "cannot seal record %s field %s: OpenSSL failure",
                         record, field);
        goto cleanup;
    }
    *sealed_b64 = isf_b64_encode(blob, OVERHEAD + len);
    if (!*sealed_b64)
        rc = isf_err_set(err, ISF_E_NOMEM, "out of memory sealing record %s field %s", record,
                         field);
cleanup:
    if (blob)
        isf_wipe(blob, OVERHEAD + len);
    free(blob);
    free(aad);
    return rc;
}

/* Decode and check the envelope; on success *blob (wipe and free) holds at least OVERHEAD. */
static int decode_envelope(const char *record, const char *field, const char *sealed_b64,
                           unsigned char **blob, size_t *blob_len, struct isf_error *err)
{
    int r = isf_b64_decode(sealed_b64, strlen(sealed_b64), blob, blob_len);
    if (r == -2)
        return isf_err_set(err, ISF_E_NOMEM, "out of memory opening record %s field %s", record,
                           field);
    if (r != 0)
        return isf_err_set(err, ISF_E_STORE,
                           "record %s field %s: sealed value is not valid base64 (corrupt record)",
                           record, field);
    if (*blob_len < OVERHEAD)
        return isf_err_set(err, ISF_E_STORE,
                           "record %s field %s: sealed value is truncated (corrupt record)", record,
                           field);
    if ((*blob)[0] != SEAL_VERSION)
        return isf_err_set(err, ISF_E_STORE,
                           "record %s field %s: sealed value has format version %u, which this "
                           "isyncsf does not know (corrupt record, or written by a newer version)",
                           record, field, (unsigned)(*blob)[0]);
    return ISF_OK;
}

static int unknown_key(const struct isf_keyring *kr, const char *record, const char *field,
                       const unsigned char *id, struct isf_error *err)
{
    static const char digits[] = "0123456789abcdef";
    char hex[2 * ISF_KEY_ID_LEN + 1], loaded[64];
    for (size_t i = 0; i < ISF_KEY_ID_LEN; i++) {
        hex[2 * i] = digits[id[i] >> 4];
        hex[2 * i + 1] = digits[id[i] & 15];
    }
    hex[2 * ISF_KEY_ID_LEN] = '\0';
    isf_keyring_describe_ids(kr, loaded, sizeof(loaded));
    return isf_err_set(err, ISF_E_STORE,
                       "record %s field %s was sealed with master key id %s, but the loaded key "
                       "is %s: wrong master key? (check key: in the config / ISYNCSF_HOME)",
                       record, field, hex, loaded);
}

int isf_unseal(const struct isf_keyring *kr, const char *record, const char *field,
               const char *sealed_b64, char **plaintext, size_t *len, struct isf_error *err)
{
    unsigned char *blob = NULL, *aad = NULL, *pt = NULL;
    size_t blob_len = 0, aad_len = 0, ct_len = 0;
    if (!kr || !record || !field || !sealed_b64 || !plaintext)
        return isf_err_set(err, ISF_E_USAGE, "isf_unseal: missing argument");
    *plaintext = NULL;
    int rc = decode_envelope(record, field, sealed_b64, &blob, &blob_len, err);
    if (rc != ISF_OK)
        goto cleanup;
    /* With one key loaded, try it straight away and look at key ids only if it fails: that keeps
     * the id's HMAC off the hot path. With a rotation pending, the id picks the key. */
    const unsigned char *key = isf_keyring_only_key(kr);
    if (!key)
        key = isf_keyring_key_for_id(kr, blob + OFF_ID);
    if (!key) {
        rc = unknown_key(kr, record, field, blob + OFF_ID, err);
        goto cleanup;
    }
    ct_len = blob_len - OVERHEAD;
    if (ct_len > PLAINTEXT_MAX) {
        rc = isf_err_set(err, ISF_E_STORE,
                         "record %s field %s: sealed value is larger than any secret isyncsf "
                         "seals (corrupt record)",
                         record, field);
        goto cleanup;
    }
    aad = build_aad(record, field, blob, &aad_len);
    pt = malloc(ct_len + 1);
    if (!aad || !pt) {
        rc = isf_err_set(err, ISF_E_NOMEM, "out of memory opening record %s field %s", record,
                         field);
        goto cleanup;
    }
    int r = gcm_decrypt(key, blob + OFF_NONCE, aad, aad_len, blob + OFF_CT, ct_len,
                        blob + OFF_CT + ct_len, pt);
    if (r > 0 && !isf_keyring_key_for_id(kr, blob + OFF_ID)) {
        rc = unknown_key(kr, record, field, blob + OFF_ID, err);
        goto cleanup;
    }
    if (r != 0) {
        rc = r > 0 ? isf_err_set(err, ISF_E_STORE,
                                 "record %s field %s failed authentication: tampered, or moved "
                                 "from another record/field",
                                 record, field)
                   : isf_err_set(err, ISF_E_FAILED,
                                 "cannot open record %s field %s: OpenSSL failure", record, field);
        goto cleanup;
    }
    pt[ct_len] = '\0';
    *plaintext = (char *)pt;
    pt = NULL;
    if (len)
        *len = ct_len;
cleanup:
    if (pt)
        isf_wipe(pt, ct_len + 1); /* GCM wrote unauthenticated plaintext before the tag check */
    free(pt);
    if (blob)
        isf_wipe(blob, blob_len);
    free(blob);
    free(aad);
    return rc;
}

int isf_sealed_under_current(const struct isf_keyring *kr, const char *sealed_b64)
{
    /* The first 12 base64 characters are exactly the version byte and the key id. */
    unsigned char head[1 + ISF_KEY_ID_LEN], id[ISF_KEY_ID_LEN];
    size_t got = 0;
    if (!kr || !sealed_b64 || strlen(sealed_b64) < isf_b64_encoded_len(OVERHEAD))
        return 0;
    if (isf_b64_decode_buf(sealed_b64, 12, head, sizeof(head), &got) != 0 || got != sizeof(head))
        return 0;
    if (!isf_keyring_sealing_key(kr, id))
        return 0;
    return head[0] == SEAL_VERSION && memcmp(head + 1, id, ISF_KEY_ID_LEN) == 0;
}
