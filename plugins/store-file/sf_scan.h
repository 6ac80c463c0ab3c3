/*
 * store-file: the two folder scans — cleaning leftover temp files out of .tmp at open, and
 * listing the records (the only operation that reads the record folder).
 */
#ifndef SF_SCAN_H
#define SF_SCAN_H

#include "sf_store.h"

/* Remove the temp files of writers that died (or are over an hour old) from .tmp. Best effort:
 * failures are logged, never reported. */
void sf_remove_stale_temps(const struct sf_store *st);

/* ops->list */
int sf_list(void *store, isf_store_list_cb cb, void *arg, struct isf_error *err);

#endif
