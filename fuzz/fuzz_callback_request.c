/* The loopback OAuth callback (RFC 8252 §7.3, RFC 6749 §4.1.2): the redirect's query string as
 * it reaches the core, either from the listener (libmicrohttpd parses the HTTP request itself;
 * the core collects and judges the parameters) or pasted by the user as a whole redirect URL
 * (--no-browser). The input is taken as a request line ("GET /path?query HTTP/1.1 ...", the
 * seeds' shape) or else as a pasted line; its parameters are collected and judged against a
 * fixed state. Checks: a verdict of ISF_OK only ever comes with a code and the exact state, and
 * every failure carries a message. */
#include "authorize_callback.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define EXPECTED_STATE "St4te-expected-0123456789abcdef"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    /* A request line: the request target only (up to the next space or line end). */
    char *target = text;
    if (strncmp(text, "GET ", 4) == 0) {
        target = text + 4;
        target[strcspn(target, " \r\n")] = '\0';
    }
    struct isf_callback cb;
    memset(&cb, 0, sizeof(cb));
    if (isf_callback_parse_query(&cb, target) == 0) {
        struct isf_error err;
        memset(&err, 0, sizeof(err));
        err.struct_size = sizeof(err);
        (void)isf_callback_present(&cb);
        int rc = isf_callback_check(&cb, "fuzz", EXPECTED_STATE, &err);
        if (rc == ISF_OK &&
            (!cb.code || !cb.state || strcmp(cb.state, EXPECTED_STATE) != 0 || cb.duplicate))
            abort(); /* accepted a redirect that is not ours */
        if (rc != ISF_OK && err.message[0] == '\0')
            abort(); /* a refusal must say why */
    }
    isf_callback_clear(&cb);
    free(text);
    return 0;
}
