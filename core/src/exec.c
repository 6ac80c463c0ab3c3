/* Running a helper command and capturing its stdout (see exec.h): spawn without a shell, read
 * under a size cap and a deadline, kill and reap. Nothing of the output is logged or reported. */
#define _GNU_SOURCE /* pipe2, posix_spawn_file_actions_addclosefrom_np */
#include "exec.h"

#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* glibc 2.34 closes every descriptor from 3 up in the child; elsewhere we rely on every
 * descriptor of ours being close-on-exec. */
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
#define HAVE_ADDCLOSEFROM 1
#endif

/* stdout on the pipe's write end, stdin on /dev/null (so the command can neither consume input
 * meant for isyncsf, such as --client-secret-stdin, nor wait on it), stderr on its own pipe when
 * captured (err_fd >= 0), nothing else of ours. */
static int set_file_actions(posix_spawn_file_actions_t *fa, int out_fd, int err_fd)
{
    int e = posix_spawn_file_actions_adddup2(fa, out_fd, STDOUT_FILENO);
    if (e == 0 && err_fd >= 0)
        e = posix_spawn_file_actions_adddup2(fa, err_fd, STDERR_FILENO);
    if (e == 0)
        e = posix_spawn_file_actions_addopen(fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
#ifdef HAVE_ADDCLOSEFROM
    if (e == 0)
        e = posix_spawn_file_actions_addclosefrom_np(fa, STDERR_FILENO + 1);
#endif
    return e;
}

/* The daemon may block or ignore signals; the helper must start with the usual ones. */
static int set_signal_state(posix_spawnattr_t *attr)
{
    sigset_t none, reset;
    sigemptyset(&none);
    sigemptyset(&reset);
    sigaddset(&reset, SIGPIPE);
    sigaddset(&reset, SIGINT);
    sigaddset(&reset, SIGTERM);
    sigaddset(&reset, SIGHUP);
    sigaddset(&reset, SIGQUIT);
    sigaddset(&reset, SIGCHLD);
    int e = posix_spawnattr_setsigmask(attr, &none);
    if (e == 0)
        e = posix_spawnattr_setsigdefault(attr, &reset);
    if (e == 0)
        e = posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    return e;
}

/* Start argv with stdout on out_fd (the pipe's write end) and stderr on err_fd (or inherited
 * when -1). Returns 0, or the errno value of what failed (then nothing was started). */
int isf_exec_spawn(char *const argv[], char *const *envp, int out_fd, int err_fd, pid_t *pid)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    int e = posix_spawn_file_actions_init(&fa);
    if (e != 0)
        return e;
    e = posix_spawnattr_init(&attr);
    if (e == 0) {
        e = set_file_actions(&fa, out_fd, err_fd);
        if (e == 0)
            e = set_signal_state(&attr);
        if (e == 0)
            e = posix_spawnp(pid, argv[0], &fa, &attr, argv, envp ? envp : environ);
        posix_spawnattr_destroy(&attr);
    }
    posix_spawn_file_actions_destroy(&fa);
    return e;
}

enum { OUT_DONE = 0, OUT_TIMEOUT = 1, OUT_TOO_BIG = 2, OUT_ERROR = 3 };

/* Where the command's output goes while it is read. */
struct sink {
    int fd;      /* -1 once at EOF (or never opened) */
    char *buf;   /* stdout: holds cap + 1; stderr: holds cap + 1, the NUL added at the end */
    size_t cap;  /* stdout: more is TOO_BIG; stderr: more is read and dropped */
    size_t *got; /* bytes kept */
};

/* One read into a sink: 0 read or retry, 1 EOF, -1 error (errno set). */
static int drain(struct sink *s, int keep_all)
{
    char scratch[4096];
    size_t room = keep_all ? s->cap + 1 - *s->got : sizeof(scratch);
    ssize_t n = read(s->fd, keep_all ? s->buf + *s->got : scratch, room);
    if (n < 0)
        return errno == EINTR || errno == EAGAIN ? 0 : -1;
    if (n == 0)
        return 1;
    if (keep_all) {
        *s->got += (size_t)n;
    } else if (*s->got < s->cap) {
        size_t take = (size_t)n < s->cap - *s->got ? (size_t)n : s->cap - *s->got;
        memcpy(s->buf + *s->got, scratch, take);
        *s->got += take;
    }
    return 0;
}

/* Collect the command's stdout (sinks[0]) and, when captured, its stderr (sinks[1]) until both
 * reach EOF, the deadline, or stdout passes its cap. On OUT_ERROR, *read_errno says why. */
static int read_output(struct sink sinks[2], int64_t deadline, int *read_errno)
{
    for (;;) {
        if (sinks[0].fd < 0 && sinks[1].fd < 0)
            return OUT_DONE;
        int64_t left = deadline - isf_monotonic_ms();
        if (left <= 0)
            return OUT_TIMEOUT;
        struct pollfd pfd[2] = {{.fd = sinks[0].fd, .events = POLLIN},
                                {.fd = sinks[1].fd, .events = POLLIN}};
        int r = poll(pfd, 2, (int)(left > 1000 ? 1000 : left));
        if (r < 0 && errno != EINTR) {
            *read_errno = errno;
            return OUT_ERROR;
        }
        for (int i = 0; r > 0 && i < 2; i++) {
            if (sinks[i].fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            int d = drain(&sinks[i], i == 0);
            if (d < 0) {
                *read_errno = errno;
                return OUT_ERROR;
            }
            if (d > 0)
                sinks[i].fd = -1; /* the caller closes the descriptor */
            if (i == 0 && *sinks[0].got > sinks[0].cap)
                return OUT_TOO_BIG;
        }
    }
}

/* Reap pid, waiting no later than the deadline; past it the command is killed. Returns 0 with
 * *status, or 1 when it had to be killed. */
static int wait_child(pid_t pid, int64_t deadline, int *status)
{
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid || (r < 0 && errno != EINTR))
            return 0;
        if (isf_monotonic_ms() >= deadline)
            break;
        struct timespec nap = {0, 5 * 1000 * 1000};
        nanosleep(&nap, NULL);
    }
    kill(pid, SIGKILL);
    while (waitpid(pid, status, 0) < 0 && errno == EINTR)
        ;
    return 1;
}

static void close_pair(int p[2])
{
    for (int i = 0; i < 2; i++)
        if (p[i] >= 0)
            close(p[i]);
    p[0] = p[1] = -1;
}

static void wipe_all(const struct isf_exec_limits *lim, char *out, size_t cap)
{
    isf_wipe(out, cap + 1);
    if (lim->err_buf)
        isf_wipe(lim->err_buf, lim->err_cap + 1);
}

int isf_exec_capture(char *const argv[], const struct isf_exec_limits *lim, char *out, size_t cap,
                     size_t *got, struct isf_exec_result *res, struct isf_error *err)
{
    struct isf_exec_result r = {.outcome = ISF_EXEC_NOT_STARTED, .pid = -1};
    size_t n = 0, err_n = 0;
    int status = 0, read_errno = 0;
    if (got)
        *got = 0;
    if (res)
        *res = r;
    if (lim && lim->err_got)
        *lim->err_got = 0;
    if (!argv || !argv[0] || !*argv[0] || !lim || !out || !got || !res ||
        (lim->err_buf && !lim->err_got))
        return isf_err_set(err, ISF_E_USAGE, "isf_exec_capture: missing argument");
    if (lim->timeout_ms <= 0)
        return isf_err_set(err, ISF_E_USAGE, "isf_exec_capture: the time limit must be positive");
    /* Close-on-exec from the start: other threads' children must not inherit either end. */
    int p[2] = {-1, -1}, q[2] = {-1, -1};
    if (pipe2(p, O_CLOEXEC) != 0 || (lim->err_buf && pipe2(q, O_CLOEXEC) != 0)) {
        int pipe_errno = errno;
        close_pair(p);
        wipe_all(lim, out, cap);
        return isf_err_set(err, ISF_E_FAILED, "cannot create a pipe: %s", strerror(pipe_errno));
    }
    int64_t deadline = isf_monotonic_ms() + lim->timeout_ms;
    int e = isf_exec_spawn(argv, lim->envp, p[1], q[1], &r.pid);
    close(p[1]);
    if (q[1] >= 0)
        close(q[1]);
    p[1] = q[1] = -1;
    if (e != 0) {
        close_pair(p);
        close_pair(q);
        r.pid = -1;
        r.sys_errno = e;
        wipe_all(lim, out, cap);
        *res = r;
        return ISF_OK;
    }
    struct sink sinks[2] = {{p[0], out, cap, &n}, {q[0], lim->err_buf, lim->err_cap, &err_n}};
    int outcome = read_output(sinks, deadline, &read_errno);
    close_pair(p);
    close_pair(q);
    if (outcome != OUT_DONE)
        deadline = 0; /* no point letting it run on: kill it now */
    if (wait_child(r.pid, deadline, &status) && outcome == OUT_DONE)
        outcome = OUT_TIMEOUT;

    if (outcome == OUT_TIMEOUT) {
        r.outcome = ISF_EXEC_TIMEOUT;
    } else if (outcome == OUT_TOO_BIG) {
        r.outcome = ISF_EXEC_TOO_BIG;
    } else if (outcome == OUT_ERROR) {
        r.outcome = ISF_EXEC_READ_ERROR;
        r.sys_errno = read_errno;
    } else if (WIFSIGNALED(status)) {
        r.outcome = ISF_EXEC_SIGNALED;
        r.signal = WTERMSIG(status);
    } else {
        r.outcome = ISF_EXEC_EXITED;
        r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    if (r.outcome == ISF_EXEC_EXITED || r.outcome == ISF_EXEC_SIGNALED) {
        out[n] = '\0';
        *got = n;
        if (lim->err_buf) {
            lim->err_buf[err_n] = '\0';
            *lim->err_got = err_n;
        }
    } else {
        wipe_all(lim, out, cap);
    }
    *res = r;
    return ISF_OK;
}
