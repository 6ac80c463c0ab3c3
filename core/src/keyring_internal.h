/* Shared by the keyring's own files and no other: keyring.c (keys in memory, key ids, loading,
 * rotation), keyring_file.c (the key file on disk) and keyring_source.c (the environment variable
 * and command sources). Callers wipe the keys they are given once done with them. */
#ifndef ISF_KEYRING_INTERNAL_H
#define ISF_KEYRING_INTERNAL_H

#include "config.h"
#include "keyring.h"

#include <isyncsf/plugin.h>
#include <stddef.h>

/* isf_key_file_read's "no such file" outcome: not an error by itself, the caller decides. */
#define ISF_KEY_ABSENT 1

/* ---- keyring.c ---- */

/* Base64 text of a key, surrounding whitespace (a trailing newline) allowed, into key. 0, or -1
 * when it is not the base64 of ISF_KEY_LEN bytes (key wiped). */
int isf_key_parse_text(const char *text, size_t n, unsigned char key[ISF_KEY_LEN]);
/* A key's id: HMAC-SHA256(key, "isyncsf key id v1"), first ISF_KEY_ID_LEN bytes. 0, or -1. */
int isf_key_compute_id(const unsigned char key[ISF_KEY_LEN], unsigned char id[ISF_KEY_ID_LEN]);

/* ---- keyring_file.c ---- */

/* The key file's path (key: {file}, else <data dir>/master.key) and its rotation file
 * <path>.next, both malloc'd. On error either may be set; the caller frees them. */
int isf_key_file_paths(const struct isf_config *cfg, char **key_file, char **next_file,
                       struct isf_error *err);
/* Read a key file, refusing symbolic links, non-regular files and files not private to us.
 * ISF_OK with the key, ISF_KEY_ABSENT (err untouched) when there is no such file, or an
 * ISF_E_STORE error naming the file. */
int isf_key_file_read(const char *path, unsigned char key[ISF_KEY_LEN], struct isf_error *err);
/* Create the key file at `path` (mode 0600, missing folders 0700) with a new random key, or, when
 * another process creates it first, read that one: every racer ends up with the same key. */
int isf_key_file_create(const char *path, unsigned char key[ISF_KEY_LEN], struct isf_error *err);
/* The configured key file: read it; when absent, create it if `create`, else report it missing. */
int isf_key_file_load(const char *path, int create, unsigned char key[ISF_KEY_LEN],
                      struct isf_error *err);
/* Put next_file in place of key_file (fsync of the file, rename, fsync of the folder), after
 * checking it still holds the key with id `id` (hex `id_hex`, for messages). */
int isf_key_file_install(const char *next_file, const char *key_file,
                         const unsigned char id[ISF_KEY_ID_LEN], const char *id_hex,
                         struct isf_error *err);

/* ---- keyring_source.c ---- */

/* The key held by environment variable `var`. */
int isf_key_from_env(const char *var, unsigned char key[ISF_KEY_LEN], struct isf_error *err);
/* The key printed by a command (argv, run directly: no shell), within the time limit set by
 * isf_keyring_set_command_timeout_ms. */
int isf_key_from_command(char *const argv[], unsigned char key[ISF_KEY_LEN], struct isf_error *err);

#endif
