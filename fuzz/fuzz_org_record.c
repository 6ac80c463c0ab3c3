/* The stored org record's JSON payload (record.c): isf_org_parse, then the public JSON form and
 * a serialize → parse round trip of whatever was accepted. */
#include "record.h"
#include "util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct isf_org o, again;
    struct isf_error err;
    isf_err_init(&err);
    if (isf_org_parse("fuzz", (const char *)data, size, &o, &err) != ISF_OK) {
        if (!err.message[0])
            __builtin_trap();
        isf_org_free_fields(&o);
        return 0;
    }
    json_t *pub = isf_org_public_json(&o);
    json_decref(pub);
    char *text = isf_org_serialize(&o);
    if (text) {
        /* What the store writes, it must read back. */
        if (isf_org_parse("fuzz", text, strlen(text), &again, &err) != ISF_OK)
            __builtin_trap();
        isf_org_free_fields(&again);
        free(text);
    }
    isf_org_free_fields(&o);
    return 0;
}
