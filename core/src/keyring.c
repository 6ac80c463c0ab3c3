/* The master keyring: key bytes in locked memory, key ids, loading from the configured source,
 * and rotation. The sources are keyring_file.c (key file) and keyring_source.c (environment
 * variable, command); sealing with the keys lives in seal.c. */
#include "keyring_internal.h"

#include "b64.h"
#include "util.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define KEY_ID_LABEL "isyncsf key id v1"

enum { SLOT_MAIN = 0, SLOT_NEXT = 1, N_SLOTS = 2 };

struct key_slot {
    int loaded;
    int id_ready; /* the id is computed on first need: see ensure_ids */
    unsigned char id[ISF_KEY_ID_LEN];
    char hex[2 * ISF_KEY_ID_LEN + 1];
};

struct isf_keyring {
    /* The key bytes of every slot, in one page of their own: mlock()ed so they are never
     * swapped out, and excluded from core dumps. Slot i's key is at secure + i * ISF_KEY_LEN. */
    unsigned char *secure;
    size_t secure_len;
    struct key_slot slot[N_SLOTS]; /* MAIN: the configured key; NEXT: a pending rotation key */
    int sealing;                   /* the slot isf_seal uses */
    char *key_file;                /* file source only, else NULL */
    char *next_file;               /* <key_file>.next */
};

/* ---------------------------------------------------------------------------------------------
 * Keys in memory */

static unsigned char *slot_key(const struct isf_keyring *kr, int slot)
{
    return kr->secure + (size_t)slot * ISF_KEY_LEN;
}

static int keyring_new(struct isf_keyring **out, struct isf_error *err)
{
    struct isf_keyring *kr = calloc(1, sizeof(*kr));
    if (!kr)
        return isf_err_set(err, ISF_E_NOMEM, "out of memory loading the master key");
    long page = sysconf(_SC_PAGESIZE);
    kr->secure_len = page >= N_SLOTS * ISF_KEY_LEN ? (size_t)page : 4096;
    void *p =
        mmap(NULL, kr->secure_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        free(kr);
        return isf_err_set(err, ISF_E_NOMEM, "cannot map memory for the master key: %s",
                           strerror(errno));
    }
    kr->secure = p;
    /* Best effort: RLIMIT_MEMLOCK may be tiny (containers); the key still works unlocked. */
    (void)mlock(p, kr->secure_len);
#ifdef MADV_DONTDUMP
    (void)madvise(p, kr->secure_len, MADV_DONTDUMP);
#endif
    *out = kr;
    return ISF_OK;
}

void isf_keyring_free(struct isf_keyring *kr)
{
    if (!kr)
        return;
    if (kr->secure) {
        isf_wipe(kr->secure, kr->secure_len);
        (void)munlock(kr->secure, kr->secure_len);
        munmap(kr->secure, kr->secure_len);
    }
    free(kr->key_file);
    free(kr->next_file);
    free(kr);
}

int isf_key_compute_id(const unsigned char key[ISF_KEY_LEN], unsigned char id[ISF_KEY_ID_LEN])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    int ok = HMAC(EVP_sha256(), key, ISF_KEY_LEN, (const unsigned char *)KEY_ID_LABEL,
                  strlen(KEY_ID_LABEL), mac, &mac_len) != NULL &&
             mac_len >= ISF_KEY_ID_LEN;
    if (ok)
        memcpy(id, mac, ISF_KEY_ID_LEN);
    isf_wipe(mac, sizeof(mac));
    return ok ? 0 : -1;
}

static void id_to_hex(const unsigned char id[ISF_KEY_ID_LEN], char hex[2 * ISF_KEY_ID_LEN + 1])
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < ISF_KEY_ID_LEN; i++) {
        hex[2 * i] = digits[id[i] >> 4];
        hex[2 * i + 1] = digits[id[i] & 15];
    }
    hex[2 * ISF_KEY_ID_LEN] = '\0';
}

static int set_slot(struct isf_keyring *kr, int slot, const unsigned char key[ISF_KEY_LEN],
                    struct isf_error *err)
{
    (void)err;
    struct key_slot *s = &kr->slot[slot];
    memcpy(slot_key(kr, slot), key, ISF_KEY_LEN);
    s->id_ready = 0;
    s->loaded = 1;
    return ISF_OK;
}

/* Key ids are computed when first needed, not at load: the HMAC makes OpenSSL build its digest
 * tables (~3 M instructions), and the hot path (`org token` opening one sealed value under the
 * only key loaded) needs no id at all. The cached id is not part of the keyring's logical state,
 * hence the cast from const. */
static void ensure_ids(const struct isf_keyring *ckr)
{
    struct isf_keyring *kr = (struct isf_keyring *)ckr;
    for (int i = 0; i < N_SLOTS; i++) {
        struct key_slot *s = &kr->slot[i];
        if (!s->loaded || s->id_ready)
            continue;
        if (isf_key_compute_id(slot_key(kr, i), s->id) != 0) {
            /* HMAC-SHA256 cannot fail short of memory exhaustion; an all-zero id then simply
             * matches nothing, and unseal reports the key as unknown. The id stays not ready:
             * sealing refuses such a key (a secret sealed under a zero id could never be opened
             * again — found by tests/robust/alloc_fail.c) and the next call tries again. */
            memset(s->id, 0, sizeof(s->id));
            continue;
        }
        id_to_hex(s->id, s->hex);
        s->id_ready = 1;
    }
}

const unsigned char *isf_keyring_only_key(const struct isf_keyring *kr)
{
    int n = 0, which = 0;
    for (int i = 0; i < N_SLOTS; i++)
        if (kr->slot[i].loaded) {
            n++;
            which = i;
        }
    return n == 1 ? slot_key(kr, which) : NULL;
}

static void clear_slot(struct isf_keyring *kr, int slot)
{
    isf_wipe(slot_key(kr, slot), ISF_KEY_LEN);
    memset(&kr->slot[slot], 0, sizeof(kr->slot[slot]));
}

int isf_keyring_from_bytes(const unsigned char key[ISF_KEY_LEN], struct isf_keyring **out,
                           struct isf_error *err)
{
    struct isf_keyring *kr = NULL;
    if (!out || !key)
        return isf_err_set(err, ISF_E_USAGE, "isf_keyring_from_bytes: missing argument");
    *out = NULL;
    int rc = keyring_new(&kr, err);
    if (rc == ISF_OK && kr)
        rc = set_slot(kr, SLOT_MAIN, key, err);
    if (rc != ISF_OK) {
        isf_keyring_free(kr);
        return rc;
    }
    *out = kr;
    return ISF_OK;
}

const unsigned char *isf_keyring_sealing_key(const struct isf_keyring *kr,
                                             unsigned char id[ISF_KEY_ID_LEN])
{
    ensure_ids(kr);
    if (!kr->slot[kr->sealing].id_ready)
        return NULL;
    memcpy(id, kr->slot[kr->sealing].id, ISF_KEY_ID_LEN);
    return slot_key(kr, kr->sealing);
}

const unsigned char *isf_keyring_key_for_id(const struct isf_keyring *kr,
                                            const unsigned char id[ISF_KEY_ID_LEN])
{
    ensure_ids(kr);
    for (int i = 0; i < N_SLOTS; i++) {
        if (kr->slot[i].loaded && memcmp(kr->slot[i].id, id, ISF_KEY_ID_LEN) == 0)
            return slot_key(kr, i);
    }
    return NULL;
}

void isf_keyring_describe_ids(const struct isf_keyring *kr, char *buf, size_t len)
{
    ensure_ids(kr);
    const struct key_slot *s = &kr->slot[kr->sealing];
    const struct key_slot *o = &kr->slot[kr->sealing == SLOT_MAIN ? SLOT_NEXT : SLOT_MAIN];
    if (o->loaded)
        snprintf(buf, len, "%s and %s", s->hex, o->hex);
    else
        snprintf(buf, len, "%s", s->hex);
}

const char *isf_keyring_current_id(const struct isf_keyring *kr)
{
    if (!kr)
        return "";
    ensure_ids(kr);
    return kr->slot[kr->sealing].hex;
}

/* Key text as every source holds it: base64, surrounding whitespace allowed. */
int isf_key_parse_text(const char *text, size_t n, unsigned char key[ISF_KEY_LEN])
{
    static const char ws[] = " \t\r\n";
    while (n > 0 && strchr(ws, text[0]) && text[0] != '\0') {
        text++;
        n--;
    }
    while (n > 0 && strchr(ws, text[n - 1]) && text[n - 1] != '\0')
        n--;
    size_t got = 0;
    int ok = isf_b64_decode_buf(text, n, key, ISF_KEY_LEN, &got) == 0 && got == ISF_KEY_LEN;
    if (!ok)
        isf_wipe(key, ISF_KEY_LEN);
    return ok ? 0 : -1;
}

/* ---------------------------------------------------------------------------------------------
 * Loading and rotation */

static int load_file_source(struct isf_keyring *kr, const struct isf_config *cfg, int create,
                            struct isf_error *err)
{
    unsigned char key[ISF_KEY_LEN];
    int rc = isf_key_file_paths(cfg, &kr->key_file, &kr->next_file, err);
    if (rc != ISF_OK)
        return rc;
    rc = isf_key_file_load(kr->key_file, create, key, err);
    if (rc == ISF_OK)
        rc = set_slot(kr, SLOT_MAIN, key, err);
    if (rc != ISF_OK)
        goto cleanup;
    /* A rotation cut short leaves records sealed under the .next key: load it for opening,
     * but keep sealing with the main key until a rotation is begun again. */
    rc = isf_key_file_read(kr->next_file, key, err);
    if (rc == ISF_KEY_ABSENT)
        rc = ISF_OK;
    else if (rc == ISF_OK)
        rc = set_slot(kr, SLOT_NEXT, key, err);
cleanup:
    isf_wipe(key, sizeof(key));
    return rc;
}

int isf_keyring_load(const struct isf_config *cfg, int create, struct isf_keyring **out,
                     struct isf_error *err)
{
    struct isf_keyring *kr = NULL;
    unsigned char key[ISF_KEY_LEN];
    if (!cfg || !out)
        return isf_err_set(err, ISF_E_USAGE, "isf_keyring_load: missing argument");
    *out = NULL;
    int rc = keyring_new(&kr, err);
    if (rc != ISF_OK || !kr)
        return rc != ISF_OK ? rc : ISF_E_NOMEM;
    switch (cfg->key_source) {
    case ISF_KEY_FILE:
        rc = load_file_source(kr, cfg, create, err);
        break;
    case ISF_KEY_ENV:
        rc = isf_key_from_env(cfg->key_env, key, err);
        if (rc == ISF_OK)
            rc = set_slot(kr, SLOT_MAIN, key, err);
        break;
    case ISF_KEY_COMMAND:
        rc = isf_key_from_command(cfg->key_command, key, err);
        if (rc == ISF_OK)
            rc = set_slot(kr, SLOT_MAIN, key, err);
        break;
    default:
        rc = isf_err_set(err, ISF_E_CONFIG, "unknown master key source %d", (int)cfg->key_source);
    }
    isf_wipe(key, sizeof(key));
    if (rc != ISF_OK) {
        isf_keyring_free(kr);
        return rc;
    }
    *out = kr;
    return ISF_OK;
}

/* File source: the pending key loaded with the keyring, else <key file>.next as it is on disk
 * (left by an interrupted rotation, or made by a concurrent one), else a new one. */
static int next_key_from_file(struct isf_keyring *kr, unsigned char key[ISF_KEY_LEN],
                              struct isf_error *err)
{
    if (kr->slot[SLOT_NEXT].loaded) {
        memcpy(key, slot_key(kr, SLOT_NEXT), ISF_KEY_LEN);
        return ISF_OK;
    }
    int rc = isf_key_file_read(kr->next_file, key, err);
    if (rc == ISF_KEY_ABSENT)
        rc = isf_key_file_create(kr->next_file, key, err);
    return rc;
}

int isf_keyring_begin_rotation(struct isf_keyring *kr, const char *new_key_env,
                               struct isf_error *err)
{
    unsigned char key[ISF_KEY_LEN], id[ISF_KEY_ID_LEN];
    int rc;
    if (!kr)
        return isf_err_set(err, ISF_E_USAGE, "isf_keyring_begin_rotation: missing keyring");
    ensure_ids(kr);
    if (kr->key_file)
        rc = next_key_from_file(kr, key, err);
    else if (!new_key_env)
        return isf_err_set(err, ISF_E_USAGE,
                           "key rotate with an env/command key needs --new-key-env VAR");
    else
        rc = isf_key_from_env(new_key_env, key, err);
    if (rc != ISF_OK)
        goto cleanup;
    if (isf_key_compute_id(key, id) != 0) {
        rc = isf_err_set(err, ISF_E_FAILED, "cannot compute the master key id (OpenSSL error)");
        goto cleanup;
    }
    if (memcmp(id, kr->slot[SLOT_MAIN].id, ISF_KEY_ID_LEN) == 0) {
        rc = isf_err_set(err, ISF_E_USAGE,
                         "the new master key is the current one (key id %s); give a different key",
                         kr->slot[SLOT_MAIN].hex);
        goto cleanup;
    }
    /* Replacing a pending key would strand whatever was already sealed under it. */
    if (kr->slot[SLOT_NEXT].loaded && memcmp(id, kr->slot[SLOT_NEXT].id, ISF_KEY_ID_LEN) != 0) {
        rc = isf_err_set(err, ISF_E_USAGE,
                         "a rotation to master key id %s is already in progress; commit it first",
                         kr->slot[SLOT_NEXT].hex);
        goto cleanup;
    }
    rc = set_slot(kr, SLOT_NEXT, key, err);
    if (rc == ISF_OK)
        kr->sealing = SLOT_NEXT;
cleanup:
    isf_wipe(key, sizeof(key));
    return rc;
}

int isf_keyring_commit_rotation(struct isf_keyring *kr, struct isf_error *err)
{
    if (kr)
        ensure_ids(kr);
    if (!kr || kr->sealing != SLOT_NEXT)
        return isf_err_set(err, ISF_E_USAGE, "no master key rotation in progress; begin one first");
    if (kr->key_file) {
        /* Put <key file>.next in place of the key file, after checking it still holds the key
         * that everything was just re-sealed with. */
        int rc = isf_key_file_install(kr->next_file, kr->key_file, kr->slot[SLOT_NEXT].id,
                                      kr->slot[SLOT_NEXT].hex, err);
        if (rc != ISF_OK)
            return rc;
    }
    /* Env/command sources: the new key lives wherever the user keeps it, so only memory changes
     * here. The caller must tell the user to put the new key in their variable or command now:
     * the next run loads whatever that source gives, and only the new key opens the records. */
    memcpy(slot_key(kr, SLOT_MAIN), slot_key(kr, SLOT_NEXT), ISF_KEY_LEN);
    kr->slot[SLOT_MAIN] = kr->slot[SLOT_NEXT];
    clear_slot(kr, SLOT_NEXT);
    kr->sealing = SLOT_MAIN;
    return ISF_OK;
}
