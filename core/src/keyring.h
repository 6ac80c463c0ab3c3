/* The master key and AES-256-GCM sealing of secret fields. */
#ifndef ISF_KEYRING_H
#define ISF_KEYRING_H

#include "config.h"
#include <isyncsf/plugin.h>
#include <stddef.h>

#define ISF_KEY_LEN 32
#define ISF_KEY_ID_LEN 8

struct isf_keyring;

/* Load the master key from the configured source (file, env, command). With a file source and
 * create != 0, a missing key file is created (32 random bytes, base64, mode 0600, parent 0700).
 * A key file readable or writable by group or others is refused (ISF_E_STORE), as ssh refuses a
 * loose private key. A pending rotation key (<key file>.next) is loaded too, so records sealed
 * under either key open. */
int isf_keyring_load(const struct isf_config *cfg, int create, struct isf_keyring **out,
                     struct isf_error *err);
/* For tests and the library: a keyring from raw key bytes. */
int isf_keyring_from_bytes(const unsigned char key[ISF_KEY_LEN], struct isf_keyring **out,
                           struct isf_error *err);
void isf_keyring_free(struct isf_keyring *kr); /* wipes the keys */

/* Seal plaintext for (record, field). Output: base64 text of
 *   version(1)=0x01 | key id(8) | nonce(12) | ciphertext | tag(16)
 * with associated data "isyncsf/v1\0<record>\0<field>\0" followed by the version byte and key
 * id (so the header is authenticated too). Fresh random nonce each call. */
int isf_seal(const struct isf_keyring *kr, const char *record, const char *field,
             const void *plaintext, size_t len, char **sealed_b64, struct isf_error *err);
/* Open a sealed value. *plaintext is NUL-terminated (free with isf_free_secret). A value moved
 * to another record or field, tampered with, or sealed under an unknown key fails with
 * ISF_E_STORE and a message naming record and field (never the value). */
int isf_unseal(const struct isf_keyring *kr, const char *record, const char *field,
               const char *sealed_b64, char **plaintext, size_t *len, struct isf_error *err);
/* Whether a sealed value is under the current sealing key (rotation progress). */
int isf_sealed_under_current(const struct isf_keyring *kr, const char *sealed_b64);

/* Rotation. begin: with a file source, create (or reuse, when an earlier rotation was cut short)
 * <key file>.next and make it the sealing key; with env/command sources the new key comes from
 * the environment variable `new_key_env` (base64). commit: with a file source, atomically
 * replace the key file by the .next file (fsync file and folder). */
int isf_keyring_begin_rotation(struct isf_keyring *kr, const char *new_key_env,
                               struct isf_error *err);
int isf_keyring_commit_rotation(struct isf_keyring *kr, struct isf_error *err);
/* Hex key id of the sealing key (for messages; not secret). */
const char *isf_keyring_current_id(const struct isf_keyring *kr);

/* ---- Core-internal (seal.c, tests); not part of the library's API. ---- */

/* The sealing key's bytes (ISF_KEY_LEN, borrowed) and id; NULL when its id cannot be computed
 * (out of memory in OpenSSL). */
const unsigned char *isf_keyring_sealing_key(const struct isf_keyring *kr,
                                             unsigned char id[ISF_KEY_ID_LEN]);
/* The key when exactly one is loaded (no rotation pending), else NULL. */
const unsigned char *isf_keyring_only_key(const struct isf_keyring *kr);
/* The loaded key (main or pending rotation key) whose id is `id`, or NULL. */
const unsigned char *isf_keyring_key_for_id(const struct isf_keyring *kr,
                                            const unsigned char id[ISF_KEY_ID_LEN]);
/* The hex ids of the loaded keys for messages: "<id>" or "<id> and <id>". */
void isf_keyring_describe_ids(const struct isf_keyring *kr, char *buf, size_t len);
/* Test hook: the time limit of a key: {command} in milliseconds; 0 restores the default 10 s.
 * Process-wide, not thread-safe: set it before loading. (keyring_source.c) */
void isf_keyring_set_command_timeout_ms(long ms);

#endif
