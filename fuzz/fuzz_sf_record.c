/* store-file's record header (plugins/store-file/sf_record.c): sf_record_parse over any file
 * contents; what it accepts must lie inside the buffer and match its header. */
#include "store-file/sf_record.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t revision = 0;
    size_t off = 0, len = 0;
    char why[128] = "";
    if (sf_record_parse(data, size, &revision, &off, &len, why, sizeof(why)) != 0) {
        if (!why[0])
            __builtin_trap(); /* damage is always explained */
        return 0;
    }
    if (off > size || len > size - off || len > SF_RECORD_MAX_PAYLOAD)
        __builtin_trap();
    /* The header the writer would produce for this payload is the one that was read. */
    char header[SF_RECORD_HEADER_MAX];
    int n = sf_record_header(header, sizeof(header), revision, data + off, len);
    if (n < 0 || (size_t)n != off || memcmp(header, data, off) != 0)
        __builtin_trap();
    return 0;
}
