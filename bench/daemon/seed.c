/*
 * isyncsf-daemon-seed: fills a store with client-credentials orgs for the daemon benchmark
 * (bench/daemon.sh), straight through the core (as bench.c does): `org add` + `org connect`
 * 10,000 times would take minutes and measure something else.
 *
 * usage: ISYNCSF_HOME=... ISF_SEED_SECRET=... isyncsf-daemon-seed COUNT LOGIN_URL CLIENT_ID
 * Orgs bench-000000 .. bench-<COUNT-1>, status connected, each with the client secret (sealed)
 * and a sealed placeholder token that expired a minute ago: every org is due at once, so the
 * daemon's first pass refreshes them all against LOGIN_URL. The secret comes from the
 * environment, never from argv.
 */
#include "orgstore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(const char *what, const struct isf_error *err)
{
    fprintf(stderr, "isyncsf-daemon-seed: %s: %s\n", what, err ? err->message : "out of memory");
    exit(1);
}

int main(int argc, char **argv)
{
    const char *secret = getenv("ISF_SEED_SECRET");
    if (argc != 4 || !secret || !*secret) {
        fprintf(stderr, "usage: ISF_SEED_SECRET=S isyncsf-daemon-seed COUNT LOGIN_URL CLIENT_ID\n");
        return 2;
    }
    int count = atoi(argv[1]);
    struct isf_open_options oo = {sizeof(oo), NULL, ISF_LOG_ERROR, NULL, NULL};
    struct isf_error err;
    isf_ctx *ctx;
    if (isf_open(&oo, &ctx, &err) != ISF_OK)
        die("open", &err);
    int64_t now = isf_now_ms();
    for (int i = 0; i < count; i++) {
        struct isf_org o;
        char name[32];
        memset(&o, 0, sizeof(o));
        snprintf(name, sizeof(name), "bench-%06d", i);
        o.pkg_installed = -1;
        o.created_at = o.connected_at = now - 3600000;
        o.token_issued_at = now - 3600000;
        o.token_expires_at = now - 60000;
        if (isf_org_set(&o.name, name) || isf_org_set(&o.mode, "client-credentials") ||
            isf_org_set(&o.status, "connected") || isf_org_set(&o.login_url, argv[2]) ||
            isf_org_set(&o.instance_url, argv[2]) || isf_org_set(&o.client_id, argv[3]))
            die(name, NULL);
        if (isf_org_seal(ctx, &o, "access_token", &o.sealed_access_token,
                         "00Dseed000000000!AQ.placeholder", &err) != ISF_OK ||
            isf_org_seal(ctx, &o, "client_secret", &o.sealed_client_secret, secret, &err) !=
                ISF_OK ||
            isf_orgstore_put(ctx, &o, &err) != ISF_OK)
            die(name, &err);
        isf_org_free_fields(&o);
    }
    isf_close(ctx);
    return 0;
}
