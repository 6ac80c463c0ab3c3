/*
 * store-file: the lock files in .locks — the caller-visible record lock (ops->lock, <name>.lock)
 * and the short internal write lock (<name>.wlock) that put and remove hold around their
 * read-compare-rename. The why and the life of these files are described in sf_lock.c.
 */
#ifndef SF_LOCK_H
#define SF_LOCK_H

#include "sf_store.h"

/* Take the write lock of record `name` (valid), waiting a bounded time for another process.
 * ISF_OK with *fd set (release it with close), ISF_E_TIMEOUT or ISF_E_STORE. */
int sf_write_lock(const struct sf_store *st, const char *name, int *fd, struct isf_error *err);

/* After a remove, with the record's write lock held: delete its lock files, except a .lock
 * someone holds (it stays, and is reused if the name comes back). Best effort. */
void sf_lock_files_delete(const struct sf_store *st, const char *name);

/* ops->lock and ops->unlock */
int sf_lock(void *store, const char *name, int timeout_ms, void **lock, struct isf_error *err);
void sf_unlock(void *store, void *lock);

#endif
