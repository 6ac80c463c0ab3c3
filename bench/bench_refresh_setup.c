/*
 * Setup of the refresh and daemon benchmarks (bench/refresh.sh, bench/daemon.sh): writes N
 * client-credentials org records straight through the core, like bench.c does — connected, with
 * a sealed token that expired an hour ago (so every org is due), all pointing at one login URL
 * and sharing one client id and secret (the secret read from $ISF_BENCH_SECRET, never from
 * argv).
 *
 * usage: isyncsf-bench-refresh-setup N LOGIN_URL CLIENT_ID   (ISYNCSF_HOME chooses the store)
 */
#include "orgstore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(const char *what, const struct isf_error *err)
{
    fprintf(stderr, "bench-refresh-setup: %s%s%s\n", what, err ? ": " : "",
            err ? err->message : "");
    exit(1);
}

static int set_fields(struct isf_org *o, const char *name, const char *url, const char *client_id)
{
    return isf_org_set(&o->name, name) || isf_org_set(&o->mode, "client-credentials") ||
           isf_org_set(&o->status, "connected") || isf_org_set(&o->login_url, url) ||
           isf_org_set(&o->instance_url, url) || isf_org_set(&o->client_id, client_id) ||
           isf_org_set(&o->org_id, "00D000000000001") || isf_org_set(&o->org_name, "Bench Org") ||
           isf_org_set(&o->environment, "production");
}

int main(int argc, char **argv)
{
    const char *secret = getenv("ISF_BENCH_SECRET");
    if (argc != 4 || !secret)
        die("usage: ISF_BENCH_SECRET=... isyncsf-bench-refresh-setup N LOGIN_URL CLIENT_ID", NULL);
    int n = atoi(argv[1]);
    struct isf_open_options oo = {sizeof(oo), NULL, ISF_LOG_ERROR, NULL, NULL};
    struct isf_error err;
    isf_ctx *ctx;
    if (isf_open(&oo, &ctx, &err) != ISF_OK)
        die("open", &err);
    int64_t now = isf_now_ms();
    for (int i = 0; i < n; i++) {
        struct isf_org o = {0};
        char name[32];
        snprintf(name, sizeof(name), "org-%06d", i);
        o.pkg_installed = -1;
        o.created_at = o.connected_at = now;
        o.token_issued_at = now - 3 * 3600000LL;
        o.token_expires_at = now - 3600000LL;
        if (set_fields(&o, name, argv[2], argv[3]))
            die("out of memory", NULL);
        if (isf_org_seal(ctx, &o, "access_token", &o.sealed_access_token,
                         "00Dbench!AQ.bench-stale-access-token", &err) != ISF_OK ||
            isf_org_seal(ctx, &o, "client_secret", &o.sealed_client_secret, secret, &err) !=
                ISF_OK ||
            isf_orgstore_put(ctx, &o, &err) != ISF_OK)
            die(name, &err);
        isf_org_free_fields(&o);
    }
    isf_close(ctx);
    return 0;
}
