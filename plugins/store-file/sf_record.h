/*
 * store-file record format: one header line, then the payload bytes.
 *
 *   ISFREC1 <revision> <payload length> <sha256 of the payload, 64 lowercase hex>\n<payload>
 *
 * The length and the hash let a reader tell a whole record from a truncated or damaged one
 * (a torn write cannot happen — files are replaced by rename — but disks, backups and hand edits
 * can still damage them).
 */
#ifndef SF_RECORD_H
#define SF_RECORD_H

#include <stddef.h>
#include <stdint.h>

#define SF_RECORD_MAGIC "ISFREC1"
/* Largest payload accepted. Org records are a few KiB; the cap keeps a damaged size field or a
 * stray huge file from making a reader allocate without bound. */
#define SF_RECORD_MAX_PAYLOAD ((size_t)16 << 20)
/* Room for the longest header: magic, two 20-digit numbers, 64 hex digits, separators. */
#define SF_RECORD_HEADER_MAX 128

/* Write the header for `payload` into buf (NUL-terminated). Returns its length (without the NUL),
 * or -1 when the hash cannot be computed or buf is too small. */
int sf_record_header(char *buf, size_t cap, uint64_t revision, const void *payload, size_t len);

/* Check a whole record file held in buf. On success returns 0 and sets the revision and where the
 * payload lies in buf. On damage returns -1 and writes a short reason into `why`. */
int sf_record_parse(const unsigned char *buf, size_t size, uint64_t *revision, size_t *payload_off,
                    size_t *payload_len, char *why, size_t why_cap);

#endif
