/* A named-credential helper's stdout (plugins/auth-named-credential/nc_output.c): the plugin's
 * own shape and `sf org display --json`, through nc_parse_output with a host table. */
#include "auth-named-credential/nc.h"
#include "mock_host.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct mock_host *m;
    if (!m)
        m = mock_host_new();
    const struct isf_host *h = mock_host_table(m);
    char name[] = "fuzz", url[] = "https://fuzz.my.salesforce.com", helper[] = "fuzz-helper";
    char *argv[] = {helper, NULL}; /* a command credential always has its argv (nc_credentials.c) */
    struct nc_credential c = {.name = name, .url = url, .kind = NC_SRC_COMMAND, .argv = argv};
    struct nc_token t;
    memset(&t, 0, sizeof(t));
    struct isf_error err;
    memset(&err, 0, sizeof(err));
    long live = mock_host_live_allocs(m);
    int rc = nc_parse_output(h, &c, (const char *)data, size, &t, &err);
    if (rc == ISF_OK) {
        if (!nc_token_is_sane(t.access_token))
            __builtin_trap();
        if (t.instance_url && strncmp(t.instance_url, "https://", 8) != 0)
            __builtin_trap();
    } else if (!err.message[0]) {
        __builtin_trap();
    }
    nc_token_clear(h, &t);
    if (mock_host_live_allocs(m) != live)
        __builtin_trap(); /* everything taken from the host went back to it */
    return 0;
}
