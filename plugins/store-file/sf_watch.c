/*
 * store-file: change watching for the refresh daemon (ABI 1.2 store ops watch and changes).
 *
 * One inotify instance per store, on the record folder only. Writers never write a record in
 * place: they write .tmp/<temp> and rename it onto <name>.rec, which the folder sees as
 * IN_MOVED_TO; a remove is IN_DELETE; a record moved away by hand is IN_MOVED_FROM. IN_CREATE and
 * IN_CLOSE_WRITE catch a record copied or edited in place by a person (cp, an editor), which the
 * store itself never does. Events of the .tmp and .locks subfolders never reach a watch on the
 * parent, so the daemon is not woken by lock files or by writes still in progress.
 *
 * When the kernel's event queue overflows (IN_Q_OVERFLOW), or the folder itself is deleted or
 * moved (IN_IGNORED, IN_DELETE_SELF, IN_MOVE_SELF), we cannot tell which records changed: the
 * caller is told with cb(arg, NULL) and re-lists everything.
 *
 * The descriptor is non-blocking and close-on-exec; it belongs to the store and is closed by
 * ops->close.
 */
#include "sf_watch.h"

#include "sf_fs.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#define WATCH_MASK                                                                                 \
    (IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE | IN_CLOSE_WRITE | IN_DELETE_SELF |       \
     IN_MOVE_SELF | IN_ONLYDIR)

/* What makes us lose track of individual records: the caller must re-list. */
#define LOST_TRACK (IN_Q_OVERFLOW | IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)

int sf_watch(void *store, int *fd, struct isf_error *err)
{
    struct sf_store *st = store;

    *fd = -1;
    if (st->watchfd >= 0) {
        *fd = st->watchfd;
        return ISF_OK;
    }
    int ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (ifd < 0)
        return SF_ERR(st, err, errno == EMFILE ? ISF_E_UNSUPPORTED : ISF_E_STORE,
                      "store-file: cannot watch %s for changes: inotify_init1: %s%s", st->dir,
                      strerror(errno),
                      errno == EMFILE ? "; raise fs.inotify.max_user_instances (sysctl)" : "");
    /* Watch through /proc/self/fd so the watch is on the folder we opened, even if its path was
     * replaced since open. */
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", st->dirfd);
    if (inotify_add_watch(ifd, path, WATCH_MASK) < 0 &&
        inotify_add_watch(ifd, st->dir, WATCH_MASK) < 0) {
        int e = errno;
        close(ifd);
        return SF_ERR(st, err, e == ENOSPC ? ISF_E_UNSUPPORTED : ISF_E_STORE,
                      "store-file: cannot watch %s for changes: %s%s", st->dir, strerror(e),
                      e == ENOSPC ? "; raise fs.inotify.max_user_watches (sysctl)" : "");
    }
    st->watchfd = ifd;
    *fd = ifd;
    return ISF_OK;
}

/* The record name of a folder entry "<name>.rec" into buf, or 0 for anything else. */
static int record_of(const char *fname, char *buf, size_t cap)
{
    size_t n = strlen(fname);

    if (fname[0] == '.' || n <= 4 || n - 4 >= cap || strcmp(fname + n - 4, ".rec") != 0)
        return 0;
    memcpy(buf, fname, n - 4);
    buf[n - 4] = '\0';
    return sf_valid_name(buf);
}

/* Report the events in buf[0..len); returns non-zero once cb asked to stop. */
static int report(const char *buf, ssize_t len, isf_store_list_cb cb, void *arg)
{
    char name[SF_NAME_MAX + 1];

    for (ssize_t off = 0; off < len;) {
        const struct inotify_event *ev = (const struct inotify_event *)(const void *)(buf + off);
        off += (ssize_t)(sizeof(*ev) + ev->len);
        if (ev->mask & LOST_TRACK) {
            if (cb(arg, NULL) != 0)
                return 1;
        } else if (ev->len > 0 && record_of(ev->name, name, sizeof(name))) {
            if (cb(arg, name) != 0)
                return 1;
        }
    }
    return 0;
}

/* Drains the descriptor without blocking. A callback that returns non-zero stops the
 * callbacks of this call; what was read but not yet reported is then dropped (the caller
 * stopped because it will look at everything anyway). */
int sf_changes(void *store, isf_store_list_cb cb, void *arg, struct isf_error *err)
{
    struct sf_store *st = store;
    /* Room for many events per read; aligned as the kernel's struct inotify_event needs. */
    char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));

    if (st->watchfd < 0)
        return SF_ERR(st, err, ISF_E_USAGE,
                      "store-file: changes called before watch; call watch first");
    for (;;) {
        ssize_t n = read(st->watchfd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return ISF_OK;
        if (n <= 0)
            return SF_ERR(st, err, ISF_E_STORE,
                          "store-file: cannot read the change events of %s: %s; restart the "
                          "daemon",
                          st->dir, n < 0 ? strerror(errno) : "end of file");
        if (report(buf, n, cb, arg))
            return ISF_OK;
    }
}
