/* The daemon's sleep (see daemon_wait.h). */
#define _GNU_SOURCE /* ppoll */
#include "daemon_wait.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

int isf_dwait_open(struct isf_dwait *w, struct isf_error *err)
{
    w->timerfd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
    if (w->timerfd < 0)
        return isf_err_set(err, ISF_E_FAILED,
                           "daemon: cannot create a timer (timerfd_create: %s); check the "
                           "process's limits (ulimit -n)",
                           strerror(errno));
    return ISF_OK;
}

void isf_dwait_close(struct isf_dwait *w)
{
    if (w->timerfd >= 0)
        close(w->timerfd);
    w->timerfd = -1;
}

/* Arm the timer at an absolute wall-clock time; disarm for INT64_MAX. TFD_TIMER_CANCEL_ON_SET
 * makes a clock change (NTP step, manual date) wake us so due times are looked at again. */
static void arm(struct isf_dwait *w, int64_t until_ms)
{
    struct itimerspec its;
    memset(&its, 0, sizeof(its));
    if (until_ms != INT64_MAX) {
        if (until_ms < 1)
            until_ms = 1; /* 0 would disarm */
        its.it_value.tv_sec = (time_t)(until_ms / 1000);
        its.it_value.tv_nsec = (long)(until_ms % 1000) * 1000000L;
    }
    timerfd_settime(w->timerfd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &its, NULL);
}

int isf_dwait(struct isf_dwait *w, int64_t until_ms, int fd, const volatile int *stop,
              const volatile int *reload)
{
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    int woke = 0;
    if ((stop && *stop) || (reload && *reload))
        goto out;
    arm(w, until_ms);
    struct pollfd p[2] = {{w->timerfd, POLLIN, 0}, {fd, POLLIN, 0}};
    /* ppoll unblocks the signals atomically for the sleep only: no lost wake-up. */
    int n = ppoll(p, fd >= 0 ? 2 : 1, NULL, &old);
    if (n < 0) {
        woke = errno == EINTR ? ISF_WOKE_SIGNAL : ISF_WOKE_TIME;
        goto out;
    }
    if (p[0].revents) {
        uint64_t expirations;
        /* Drain it. A failure is ECANCELED (the clock was set): a wake-up like any other. */
        if (read(w->timerfd, &expirations, sizeof(expirations)) < 0)
            expirations = 0;
        woke |= ISF_WOKE_TIME;
    }
    if (fd >= 0 && p[1].revents)
        woke |= ISF_WOKE_FD;
out:
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return woke;
}
