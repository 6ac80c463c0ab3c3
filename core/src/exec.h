/* Running a helper command and capturing what it prints: the master key command today, a
 * credential helper next. The command is run directly (posix_spawnp, never through a shell), with
 * stdin on /dev/null, stdout captured up to a cap, stderr inherited (what a helper says there is
 * for the user) or its start captured, no file descriptor of ours beyond 0-2, the usual signal
 * dispositions and an empty signal mask, and a time limit past which it is killed (SIGKILL) and
 * reaped.
 *
 * The output may be a secret: this module never logs it and never puts any of it in an error
 * message. It reports how the command ended (struct isf_exec_result) so that callers word their
 * own errors, naming the command but not what it printed. */
#ifndef ISF_EXEC_H
#define ISF_EXEC_H

#include <isyncsf/plugin.h>
#include <stddef.h>
#include <sys/types.h>

/* How a command ended: enum isf_exec_outcome, public in plugin.h (host->exec_capture). The
 * output is kept only for EXITED and SIGNALED; for every other outcome it has been wiped and
 * *got is 0. */

struct isf_exec_limits {
    /* The time limit of the whole run, start to reaping, in milliseconds; must be > 0. */
    long timeout_ms;
    /* The child's environment, a NULL-terminated "NAME=value" array (borrowed, only read during
     * the call); NULL = inherit the caller's environ. Pass an explicit, minimal list to keep the
     * caller's variables (which may hold secrets) from the command. Note that argv[0] without a
     * '/' is looked up in the caller's PATH, not in envp's. */
    char *const *envp;
    /* Optional: capture the command's stderr instead of letting it inherit ours. err_buf holds
     * err_cap + 1 bytes: the first err_cap bytes it prints are kept there, NUL-terminated, with
     * their count in *err_got; the rest is read and dropped (so the command never blocks on a
     * full pipe). Like the output, it is kept only for EXITED and SIGNALED, else wiped. NULL =
     * inherit stderr. */
    char *err_buf;
    size_t err_cap;
    size_t *err_got;
};

struct isf_exec_result {
    enum isf_exec_outcome outcome;
    int exit_code; /* EXITED: the exit status (0-255); else 0 */
    int signal;    /* SIGNALED: the signal number; else 0 */
    int sys_errno; /* NOT_STARTED, READ_ERROR: the errno value; else 0 */
    pid_t pid;     /* the child's process id (already reaped on return), -1 when not started */
};

/* Run argv[0] (looked up in PATH when it has no '/') with arguments argv (NULL-terminated,
 * borrowed) under the limits `lim`, and collect its stdout into `out`, which must hold cap + 1
 * bytes: up to cap bytes of output, followed by a NUL (*got excludes it). Printing more than cap
 * bytes ends the run as ISF_EXEC_TOO_BIG. Output ending (EOF) before the command exits is fine;
 * it must still exit within the time limit.
 *
 * Returns ISF_OK when *res describes how the command ended, whatever that was, including
 * ISF_EXEC_NOT_STARTED; the caller decides what is an error. Returns ISF_E_USAGE (missing or
 * empty argv, missing buffer, timeout <= 0) or ISF_E_FAILED (no pipe could be made) with err set,
 * *res then says NOT_STARTED. The caller owns `out` and should wipe it after use when the command
 * prints secrets.
 *
 * Threads: safe to call from several threads at once (no shared state; descriptors are opened
 * close-on-exec). The child is reaped with waitpid(pid), so the process must not reap children
 * behind our back (SIGCHLD set to SIG_IGN, waitpid(-1) in another thread): the status is lost
 * then and reported as an exit with status 0. Only the command itself is killed at the time
 * limit, not processes it started; the call returns once the command is reaped. */
int isf_exec_capture(char *const argv[], const struct isf_exec_limits *lim, char *out, size_t cap,
                     size_t *got, struct isf_exec_result *res, struct isf_error *err);

/* Start argv (looked up in PATH when it has no '/') without waiting for it: stdin on /dev/null,
 * stdout on out_fd, stderr on err_fd (or inherited when -1), no other descriptor of ours, the
 * usual signal dispositions; the caller reaps *pid. Returns 0, or the errno value of what failed
 * (then nothing was started). Used for the browser of the web server flow. */
int isf_exec_spawn(char *const argv[], char *const *envp, int out_fd, int err_fd, pid_t *pid);

#endif
