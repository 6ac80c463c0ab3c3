/*
 * store-file: change watching (ABI 1.2 store ops watch and changes) with inotify on the record
 * folder. See sf_watch.c.
 */
#ifndef SF_WATCH_H
#define SF_WATCH_H

#include "sf_store.h"

/* ops->watch and ops->changes */
int sf_watch(void *store, int *fd, struct isf_error *err);
int sf_changes(void *store, isf_store_list_cb cb, void *arg, struct isf_error *err);

#endif
