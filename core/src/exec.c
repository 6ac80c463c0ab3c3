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
 * meant for isyncsf, such as --client-secret-stdin, nor wait on it), nothing else of ours. */
static int set_file_actions(posix_spawn_file_actions_t *fa, int out_fd)
{
    int e = posix_spawn_file_actions_adddup2(fa, out_fd, STDOUT_FILENO);
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

/* Start argv with stdout on out_fd (the pipe's write end). Returns 0, or the errno value of
 * what failed (then nothing was started). */
static int spawn_command(char *const argv[], char *const *envp, int out_fd, pid_t *pid)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    int e = posix_spawn_file_actions_init(&fa);
    if (e != 0)
        return e;
    e = posix_spawnattr_init(&attr);
    if (e == 0) {
        e = set_file_actions(&fa, out_fd);
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

/* Collect the command's stdout until EOF, the deadline, or more than `cap` bytes (buf holds
 * cap + 1). On OUT_ERROR, *read_errno says why. */
static int read_output(int fd, int64_t deadline, char *buf, size_t cap, size_t *got,
                       int *read_errno)
{
    *got = 0;
    for (;;) {
        int64_t left = deadline - isf_monotonic_ms();
        if (left <= 0)
            return OUT_TIMEOUT;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int r = poll(&pfd, 1, (int)(left > 1000 ? 1000 : left));
        if (r < 0 && errno != EINTR) {
            *read_errno = errno;
            return OUT_ERROR;
        }
        if (r <= 0)
            continue;
        ssize_t n = read(fd, buf + *got, cap + 1 - *got);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0) {
            *read_errno = errno;
            return OUT_ERROR;
        }
        if (n == 0)
            return OUT_DONE;
        *got += (size_t)n;
        if (*got > cap)
            return OUT_TOO_BIG;
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

int isf_exec_capture(char *const argv[], const struct isf_exec_limits *lim, char *out, size_t cap,
                     size_t *got, struct isf_exec_result *res, struct isf_error *err)
{
    struct isf_exec_result r = {.outcome = ISF_EXEC_NOT_STARTED, .pid = -1};
    size_t n = 0;
    int status = 0, read_errno = 0;
    if (got)
        *got = 0;
    if (res)
        *res = r;
    if (!argv || !argv[0] || !*argv[0] || !lim || !out || !got || !res)
        return isf_err_set(err, ISF_E_USAGE, "isf_exec_capture: missing argument");
    if (lim->timeout_ms <= 0)
        return isf_err_set(err, ISF_E_USAGE, "isf_exec_capture: the time limit must be positive");
    /* Close-on-exec from the start: other threads' children must not inherit either end. */
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) {
        int pipe_errno = errno;
        isf_wipe(out, cap + 1);
        return isf_err_set(err, ISF_E_FAILED, "cannot create a pipe: %s", strerror(pipe_errno));
    }
    int64_t deadline = isf_monotonic_ms() + lim->timeout_ms;
    int e = spawn_command(argv, lim->envp, p[1], &r.pid);
    close(p[1]);
    if (e != 0) {
        close(p[0]);
        r.pid = -1;
        r.sys_errno = e;
        isf_wipe(out, cap + 1);
        *res = r;
        return ISF_OK;
    }
    int outcome = read_output(p[0], deadline, out, cap, &n, &read_errno);
    close(p[0]);
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
    } else {
        isf_wipe(out, cap + 1);
    }
    *res = r;
    return ISF_OK;
}
