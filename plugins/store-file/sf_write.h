/*
 * store-file: changing records — put (write a new revision atomically) and remove, both checking
 * the caller's expected revision under the record's write lock.
 */
#ifndef SF_WRITE_H
#define SF_WRITE_H

#include "sf_store.h"

#include <stddef.h>
#include <stdint.h>

/* ops->put and ops->remove */
int sf_put(void *store, const char *name, const void *data, size_t len, uint64_t expected_revision,
           uint64_t *new_revision, struct isf_error *err);
int sf_remove(void *store, const char *name, uint64_t expected_revision, struct isf_error *err);

#endif
