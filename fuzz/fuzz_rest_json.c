/* The org's REST answers (salesforce-api.md §6-§9): the versions list, the Organization query,
 * the InstalledSubscriberPackage tooling query, the PackageLicense query and REST error bodies,
 * each parsed the way conn.c / orgcheck.c parse a real answer. */
#include "restparse.h"
#include "util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Error bodies are read as C strings (the HTTP layer NUL-terminates every body). */
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char code[64], msg[256];
    isf_rest_error_parse(text, code, sizeof(code), msg, sizeof(msg));
    if (strlen(code) >= sizeof(code) || strlen(msg) >= sizeof(msg))
        __builtin_trap();
    free(text);

    json_error_t jerr;
    json_t *root =
        json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!root)
        return 0;
    (void)isf_rest_newest_api_version(root);
    char version[64];
    if (isf_rest_tooling_package_version(root, version, sizeof(version)) && !version[0])
        __builtin_trap();
    (void)isf_rest_license_installed(root);
    struct isf_org o;
    memset(&o, 0, sizeof(o));
    int rc = isf_rest_take_organization(&o, root);
    if (rc == ISF_OK && (!o.org_id || !o.environment))
        __builtin_trap();
    isf_org_free_fields(&o);
    json_decref(root);
    return 0;
}
