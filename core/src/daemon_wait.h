/* The daemon's one sleep: until a wall-clock time, a readable descriptor (the store's change
 * watch), or a stop/reload signal — whichever comes first, in one ppoll(2). No polling loop:
 * between events the process uses no CPU at all. */
#ifndef ISF_DAEMON_WAIT_H
#define ISF_DAEMON_WAIT_H

#include "internal.h"

struct isf_dwait {
    int timerfd; /* CLOCK_REALTIME, absolute: wakes at due times even across clock changes */
};

enum { ISF_WOKE_TIME = 1, ISF_WOKE_FD = 2, ISF_WOKE_SIGNAL = 4 };

int isf_dwait_open(struct isf_dwait *w, struct isf_error *err);
void isf_dwait_close(struct isf_dwait *w);

/* Sleep until until_ms (ms since the epoch; INT64_MAX: no time limit), until `fd` (>= 0) is
 * readable, or until a signal arrives. SIGTERM, SIGINT and SIGHUP are blocked while *stop and
 * *reload (either may be NULL) are checked and unblocked only inside the sleep, so a signal
 * whose handler sets a flag just before the sleep still ends it. Returns the ISF_WOKE_* bits of
 * what happened (0 when it returned at once because a flag was already set). */
int isf_dwait(struct isf_dwait *w, int64_t until_ms, int fd, const volatile int *stop,
              const volatile int *reload);

#endif
