/*
 * store-file: reading and verifying one record file (<name>.rec), and the get operation.
 */
#ifndef SF_READ_H
#define SF_READ_H

#include "sf_store.h"

#include <stddef.h>
#include <stdint.h>

/* A record read from disk. buf is allocated with host->alloc and wiped on release. */
struct sf_rec {
    unsigned char *buf;
    size_t size;
    uint64_t revision;
    size_t off;
    size_t len;
    int damaged; /* ISF_E_STORE because of the file itself (content, type or mode) */
};

/* Read and verify <name>.rec. ISF_OK, ISF_E_NOT_FOUND, or an error with rec->damaged telling a
 * bad file from a failing system. check_mode refuses a record open to group or others. The
 * caller releases rec in every case. */
int sf_read_rec(const struct sf_store *st, const char *name, int check_mode, struct sf_rec *rec,
                struct isf_error *err);
void sf_rec_release(const struct sf_store *st, struct sf_rec *rec);

/* ops->get */
int sf_get(void *store, const char *name, struct isf_blob *out, uint64_t *revision,
           struct isf_error *err);

#endif
