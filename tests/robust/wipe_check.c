/*
 * Secrets are wiped before they are freed: free() is replaced here and every block freed by the
 * core (the caller lies in this executable, where the core is linked) or by jansson (json_decref
 * of a tree the core parsed a token into) is searched for a canary secret before it goes back
 * to glibc. Drives the wipe helpers and the paths that hold secrets in memory: isf_free_secret,
 * isf_session_clear, isf_token_clear, isf_http_response_clear, isf_org_view_clear (via sealing
 * and unsealing a record), and isf_oauth_parse_token_response (success and error answers).
 * Blocks freed by libcurl and OpenSSL are not searched: their buffers are theirs to manage
 * (docs/security.md).
 */
#define _GNU_SOURCE /* memmem, dl_iterate_phdr */
#include "conn.h"
#include "http.h"
#include "oauth.h"
#include "util.h"

#include <link.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern void __libc_free(void *p);

static const char canary[] = "CANARY-6f1d2e9c";
static int watching;
static long unwiped;
static const char *what = "";

struct range {
    uintptr_t lo, hi;
};
static struct range searched[8];
static int n_searched;

static int note_object(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    (void)arg;
    const char *name = info->dlpi_name;
    if (name[0] && !strstr(name, "libjansson"))
        return 0;
    for (int i = 0; i < info->dlpi_phnum && n_searched < 8; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
            searched[n_searched].lo = info->dlpi_addr + ph->p_vaddr;
            searched[n_searched].hi = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
            n_searched++;
        }
    }
    return 0;
}

void free(void *p)
{
    uintptr_t caller = (uintptr_t)__builtin_return_address(0);
    int ours = 0;
    for (int i = 0; i < n_searched; i++)
        ours |= caller >= searched[i].lo && caller < searched[i].hi;
    if (p && watching && ours && memmem(p, malloc_usable_size(p), canary, sizeof(canary) - 1)) {
        unwiped++;
        fprintf(stderr, "FAIL %s: a block holding the canary was freed without a wipe\n", what);
    }
    __libc_free(p);
}

static char *secret(const char *fmt)
{
    return isf_aprintf(fmt, canary);
}

int main(void)
{
    dl_iterate_phdr(note_object, NULL);
    watching = 1;
    long checks = 0;

    /* The detector itself: a plain free of a secret must be seen. */
    what = "control (a plain free, expected)";
    free(secret("%s"));
    if (unwiped != 1) {
        fprintf(stderr, "FAIL the free() check does not see an unwiped secret\n");
        return 1;
    }
    unwiped = 0;

    what = "isf_free_secret";
    isf_free_secret(secret("%s-secret"));
    checks++;

    what = "isf_session_clear";
    struct isf_session s = {secret("00D000000000001!%s"),
                            secret("5Aep%s"),
                            strdup("https://x.my.salesforce.com"),
                            NULL,
                            NULL,
                            0,
                            0};
    isf_session_clear(&s);
    checks++;

    what = "isf_token_clear";
    struct isf_token t = {secret("00D000000000001!%s"), strdup("https://x"), 0};
    isf_token_clear(&t);
    checks++;

    what = "isf_http_response_clear";
    struct isf_http_response r = {sizeof(r), 200, NULL, 0, NULL};
    r.body = secret("{\"access_token\":\"%s\"}");
    r.body_len = strlen(r.body);
    isf_http_response_clear(&r);
    checks++;

    what = "isf_oauth_parse_token_response (success, then clear)";
    char *body = secret("{\"access_token\":\"00D000000000001!%s\",\"refresh_token\":\"5Aep%s\","
                        "\"instance_url\":\"https://x.my.salesforce.com\",\"issued_at\":"
                        "\"1736530186928\",\"token_type\":\"Bearer\"}");
    struct isf_error err;
    isf_err_init(&err);
    if (isf_oauth_parse_token_response(200, body, strlen(body), 1, 1000, &s, &err) != ISF_OK) {
        fprintf(stderr, "FAIL parse: %s\n", err.message);
        return 1;
    }
    isf_session_clear(&s);
    isf_free_secret(body);
    checks++;

    what = "isf_oauth_parse_token_response (error answer)";
    body = secret("{\"error\":\"invalid_grant\",\"error_description\":\"bad\","
                  "\"access_token\":\"%s\"}");
    isf_oauth_parse_token_response(400, body, strlen(body), 1, 1000, &s, &err);
    isf_session_clear(&s);
    isf_free_secret(body);
    checks++;

    watching = 0;
    printf("%ld wipe paths checked, %ld unwiped block(s)\n", checks, unwiped);
    return unwiped ? 1 : 0;
}
