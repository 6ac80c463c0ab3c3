/* The OAuth token endpoint's answer (RFC 6749 §5.1/§5.2, salesforce-api.md §3):
 * isf_oauth_parse_token_response over any status and body. */
#include "oauth.h"
#include "util.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The first byte picks the HTTP status, so both the success and the error paths run. */
    static const long statuses[] = {200, 400, 401, 403, 404, 429, 500, 503};
    long status = size ? statuses[data[0] % (sizeof(statuses) / sizeof(statuses[0]))] : 200;
    const char *body = size ? (const char *)data + 1 : "";
    size_t len = size ? size - 1 : 0;
    struct isf_session s;
    struct isf_error err;
    isf_err_init(&err);
    int rc = isf_oauth_parse_token_response(status, body, len, 1700000000000LL, 7200000, &s, &err);
    if (rc == ISF_OK) {
        /* A session is only ever handed out whole: a token and an https instance URL. */
        if (!s.access_token || !*s.access_token || !s.instance_url ||
            strncmp(s.instance_url, "https://", 8) != 0)
            __builtin_trap();
        isf_session_clear(&s);
    } else if (!err.message[0]) {
        __builtin_trap(); /* every failure says what went wrong */
    }
    return 0;
}
