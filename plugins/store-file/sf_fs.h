/*
 * store-file: the file-system pieces — record names, private folders, whole-buffer I/O and temp
 * file names. Everything here reports plain errno values; the callers (store_file.c and the
 * sf_*.c parts) turn them into messages that name the record and say what to do.
 */
#ifndef SF_FS_H
#define SF_FS_H

#include <stddef.h>
#include <sys/types.h>

/* Longest record name (the core's ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$). */
#define SF_NAME_MAX 64
/* Longest file name this plugin makes: ".<name>.<pid>.<16 hex>.tmp" and friends. */
#define SF_FILE_NAME_MAX (SF_NAME_MAX + 48)

/* Non-zero when `name` is a valid record name; it can then never contain '/' or start with '.'. */
int sf_valid_name(const char *name);

/* mkdir -p with mode 0700 for every folder created (exactly 0700, whatever the umask). 0 or an
 * errno value; on failure *failed_at (optional) gets the path that could not be created (the
 * whole path when memory ran out), truncated to cap. */
int sf_mkdirs(const char *path, char *failed_at, size_t cap);

/* Write / read len bytes, retrying on EINTR and short transfers. 0 or an errno value.
 * sf_read_full stops early at end of file: *got then tells how much was read. */
int sf_write_full(int fd, const void *buf, size_t len);
int sf_read_full(int fd, void *buf, size_t len, size_t *got);

/* ".<name>.<pid>.<16 hex digits>.tmp" from 8 random bytes (the name of a temp file inside the
 * store's .tmp folder). 0 or -1 when it does not fit. */
int sf_temp_name(char *buf, size_t cap, const char *name, pid_t pid, const unsigned char rnd[8]);
/* Non-zero when `fname` has the temp-name shape; *pid gets the writer's pid. */
int sf_temp_parse(const char *fname, pid_t *pid);

#endif
