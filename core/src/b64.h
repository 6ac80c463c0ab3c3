/* Strict standard base64 (RFC 4648 section 4, with padding), written to be safe for key material:
 * character mapping has no secret-dependent branches or table lookups, and decoding rejects
 * anything that is not the one canonical encoding (no whitespace, no missing or misplaced
 * padding, no stray bits), so a corrupt value can never be "repaired" silently. */
#ifndef ISF_B64_H
#define ISF_B64_H

#include <stddef.h>

/* Characters needed to encode len bytes, without the terminating NUL. */
size_t isf_b64_encoded_len(size_t len);
/* Encode into a new NUL-terminated string (malloc'd; free, or isf_free_secret when it encodes a
 * secret). NULL when out of memory. */
char *isf_b64_encode(const void *data, size_t len);
/* base64url (RFC 4648 section 5) of len bytes without '=' padding into out (capacity cap, which
 * must hold the unpadded length + 1). Returns the length written, or 0 when it does not fit (or
 * memory ran out). The same encoder as isf_b64_encode, so it is as safe for secrets (PKCE
 * verifiers). */
size_t isf_b64url_nopad(const unsigned char *data, size_t len, char *out, size_t cap);
/* Decode the n characters at s into out (capacity cap). Returns 0 and sets *out_len, or -1 when
 * the text is not canonical base64 or decodes to more than cap bytes. On failure out may hold
 * partial output: callers holding secrets wipe it either way. */
int isf_b64_decode_buf(const char *s, size_t n, unsigned char *out, size_t cap, size_t *out_len);
/* Decode into a new buffer (malloc'd, one spare NUL byte after the data). Returns 0, -1 for invalid
 * input, -2 when out of memory. */
int isf_b64_decode(const char *s, size_t n, unsigned char **out, size_t *out_len);

#endif
