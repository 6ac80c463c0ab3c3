/*
 * store-file: the store instance shared by the plugin's parts, and what they all use to name
 * files and report errors. The folder layout and the design are described in store_file.c.
 */
#ifndef SF_STORE_H
#define SF_STORE_H

#include <isyncsf/plugin.h>

#include <stddef.h>
#include <stdio.h>

#define LOCKS_DIR ".locks"
#define TEMP_DIR ".tmp"

struct sf_store {
    const struct isf_host *host;
    char *dir;   /* the folder, as configured (for messages) */
    int dirfd;   /* the record folder; every file operation is relative to it or a subfolder */
    int locksfd; /* dir/.locks */
    int tmpfd;   /* dir/.tmp: temp files of writes in progress */
    int fsync;   /* fsync files and the folder on every write (option `fsync`) */
    int watchfd; /* inotify descriptor of ops->watch (sf_watch.c), or -1 */
};

#define SF_ERR(st, err, code, ...) (st)->host->error_set((st)->host, (err), (code), __VA_ARGS__)

/* ISF_OK, or ISF_E_USAGE with a message when `name` is not a valid record name. */
int sf_check_name(const struct sf_store *st, const char *name, struct isf_error *err);

/* "<name><suffix>" into buf; names are checked first, so this always fits. */
static inline void sf_file_name(char *buf, size_t cap, const char *name, const char *suffix)
{
    snprintf(buf, cap, "%s%s", name, suffix);
}

#endif
