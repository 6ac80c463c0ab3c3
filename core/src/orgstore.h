/* Reading and writing OrgMaster records through the store plugin, sealing secrets on the way. */
#ifndef ISF_ORGSTORE_H
#define ISF_ORGSTORE_H

#include "record.h"

/* Read a record's stored bytes (free with isf_orgstore_blob_free), without parsing them. */
int isf_orgstore_read(struct isf_ctx *ctx, const char *name, struct isf_blob *blob,
                      uint64_t *revision, struct isf_error *err);
void isf_orgstore_blob_free(struct isf_ctx *ctx, struct isf_blob *blob);
/* Read and parse a record. ISF_E_NOT_FOUND names the org and says how to list them. */
int isf_orgstore_get(struct isf_ctx *ctx, const char *name, struct isf_org *o,
                     struct isf_error *err);
/* Write a record at o->revision (0 = create); updates o->revision. Sets updated_at. */
int isf_orgstore_put(struct isf_ctx *ctx, struct isf_org *o, struct isf_error *err);
int isf_orgstore_remove(struct isf_ctx *ctx, const struct isf_org *o, struct isf_error *err);

/* The per-record lock that single-flights connect/refresh/test across processes. */
int isf_orgstore_lock(struct isf_ctx *ctx, const char *name, void **lock, struct isf_error *err);
void isf_orgstore_unlock(struct isf_ctx *ctx, void *lock);

/* Locked read-modify-write: take the record's lock, read it, call fn (which writes it with
 * isf_orgstore_put when it changes it), release the record and the lock. fn's status is
 * returned. Every change to an existing record goes through here, so none skips the lock. */
typedef int (*isf_org_fn)(struct isf_ctx *ctx, struct isf_org *o, void *arg, struct isf_error *err);
int isf_orgstore_update(struct isf_ctx *ctx, const char *name, isf_org_fn fn, void *arg,
                        struct isf_error *err);

/* Seal a secret into *field (replacing it); NULL/"" value clears the field. */
int isf_org_seal(struct isf_ctx *ctx, struct isf_org *o, const char *field_name, char **field,
                 const char *value, struct isf_error *err);
/* Unseal *field into *plain (NULL when the field is empty). */
int isf_org_unseal(struct isf_ctx *ctx, const struct isf_org *o, const char *field_name,
                   const char *field, char **plain, struct isf_error *err);

#endif
