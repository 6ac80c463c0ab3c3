/* PLACEHOLDER — the loopback OAuth callback request parser (issue 3, web server modes).
 *
 * Issue 3 adds a loopback listener to the core (RFC 8252 §7.3) that reads one HTTP request
 * ("GET /callback?code=...&state=... HTTP/1.1" + headers) from the browser. When it lands, expose
 * its pure request parser (bytes in → method, path, code/state/error or a refusal) and call it
 * here; the seed corpus in fuzz/corpus/fuzz_callback_request/ already holds real request shapes.
 * Until then this target only checks that the harness builds and runs in scripts/fuzz.sh.
 *
 * TODO(issue 3): replace the body below with
 *     struct isf_callback_req r;
 *     if (isf_callback_parse((const char *)data, size, &r, &err) == ISF_OK) { ...checks...;
 *         isf_callback_req_clear(&r); }
 */
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)data;
    (void)size;
    return 0;
}
