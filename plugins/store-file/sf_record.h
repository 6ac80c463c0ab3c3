/*
 * store-file record format: one header line, then the payload bytes.
 *
 *   ISFREC2 <revision> <payload length> <crc32c of the payload, 8 lowercase hex>\n<payload>
 *
 * The length and the checksum let a reader tell a whole record from a truncated or damaged one
 * (a torn write cannot happen — files are replaced by rename — but disks, backups and hand edits
 * can still damage them). The checksum is CRC-32C (Castagnoli), not a cryptographic hash: it only
 * has to catch accidents, since the secrets inside a record are sealed and authenticated by the
 * core (AES-GCM), and someone able to rewrite the file could recompute any unkeyed hash anyway.
 * A CRC also costs nothing at start-up, where SHA-256 through OpenSSL 3 cost ~4 M instructions
 * per process to set up its digest tables — a third of a whole `isyncsf org token`.
 *
 * ISFREC1 (the same layout with a SHA-256) was never released; such files are reported as
 * damaged ("bad header"), like any other unknown format.
 */
#ifndef SF_RECORD_H
#define SF_RECORD_H

#include <stddef.h>
#include <stdint.h>

#define SF_RECORD_MAGIC "ISFREC2"
/* Largest payload accepted. Org records are a few KiB; the cap keeps a damaged size field or a
 * stray huge file from making a reader allocate without bound. */
#define SF_RECORD_MAX_PAYLOAD ((size_t)16 << 20)
/* Room for the longest header: magic, two 20-digit numbers, 8 hex digits, separators. */
#define SF_RECORD_HEADER_MAX 64

/* CRC-32C (Castagnoli, reflected polynomial 0x82F63B78, initial value and final xor 0xFFFFFFFF),
 * the variant of iSCSI, ext4 and SCTP. Check value: sf_crc32c("123456789", 9) == 0xE3069283. */
uint32_t sf_crc32c(const void *data, size_t len);

/* Write the header for `payload` into buf (NUL-terminated). Returns its length (without the NUL),
 * or -1 when buf is too small. */
int sf_record_header(char *buf, size_t cap, uint64_t revision, const void *payload, size_t len);

/* Check a whole record file held in buf. On success returns 0 and sets the revision and where the
 * payload lies in buf. On damage returns -1 and writes a short reason into `why`. */
int sf_record_parse(const unsigned char *buf, size_t size, uint64_t *revision, size_t *payload_off,
                    size_t *payload_len, char *why, size_t why_cap);

#endif
