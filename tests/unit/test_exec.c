/* The command runner (exec.c) on its own: capture, exit status, signals, time limit, output cap,
 * commands that cannot start, environment, stdin and descriptor hygiene. The shell appears only
 * here, as a handy way to make a child misbehave; the runner itself never uses one. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "exec.h"
#include "util.h"

#define CAP 4096

struct run {
    int rc;
    struct isf_exec_result res;
    struct isf_error err;
    char out[CAP + 1];
    size_t got;
    int64_t took_ms;
};

static void run_with(struct run *r, char *const argv[], long timeout_ms, char *const *envp,
                     size_t cap)
{
    const struct isf_exec_limits lim = {.timeout_ms = timeout_ms, .envp = envp};
    assert_true(cap <= CAP);
    memset(r, 0, sizeof(*r));
    memset(r->out, 'x', sizeof(r->out));
    isf_err_init(&r->err);
    int64_t t0 = isf_monotonic_ms();
    r->rc = isf_exec_capture(argv, &lim, r->out, cap, &r->got, &r->res, &r->err);
    r->took_ms = isf_monotonic_ms() - t0;
}

static void run(struct run *r, char *const argv[])
{
    run_with(r, argv, 5000, NULL, CAP);
}

/* The child is gone for good: reaped (no zombie left to wait for) and not running. */
static void assert_reaped(pid_t pid)
{
    assert_true(pid > 0);
    int w = waitpid(pid, NULL, WNOHANG), w_errno = errno;
    int k = kill(pid, 0), k_errno = errno;
    assert_int_equal(w, -1);
    assert_int_equal(w_errno, ECHILD);
    assert_int_equal(k, -1);
    assert_int_equal(k_errno, ESRCH);
}

static void assert_wiped(const struct run *r, size_t cap)
{
    assert_int_equal(r->got, 0);
    for (size_t i = 0; i <= cap; i++)
        assert_int_equal(r->out[i], 0);
}

/* ------------------------------------------------------------------------------------------ */

static void test_capture_exact(void **state)
{
    (void)state;
    struct run *r = malloc(sizeof(*r));
    assert_non_null(r);
    static const char want[] = "hello\nworld\0 and a NUL";
    char *argv[] = {(char *)"printf", (char *)"hello\\nworld\\000 and a NUL", NULL};
    run(r, argv);
    assert_int_equal(r->rc, ISF_OK);
    assert_int_equal(r->res.outcome, ISF_EXEC_EXITED);
    assert_int_equal(r->res.exit_code, 0);
    assert_int_equal(r->res.signal, 0);
    assert_int_equal(r->got, sizeof(want) - 1);
    assert_memory_equal(r->out, want, sizeof(want)); /* the output, then a NUL */
    assert_int_equal(r->out[r->got], '\0');
    assert_reaped(r->res.pid);

    /* Exactly cap bytes is still fine; one more is too many. */
    char *sixty_four[] = {(char *)"head", (char *)"-c", (char *)"64", (char *)"/dev/zero", NULL};
    run_with(r, sixty_four, 5000, NULL, 64);
    assert_int_equal(r->res.outcome, ISF_EXEC_EXITED);
    assert_int_equal(r->got, 64);
    run_with(r, sixty_four, 5000, NULL, 63);
    assert_int_equal(r->res.outcome, ISF_EXEC_TOO_BIG);
    free(r);
}

static void test_exit_status(void **state)
{
    (void)state;
    struct run *r = malloc(sizeof(*r));
    assert_non_null(r);
    char *argv[] = {(char *)"/bin/sh", (char *)"-c", (char *)"echo partial; exit 3", NULL};
    run(r, argv);
    assert_int_equal(r->rc, ISF_OK);
    assert_int_equal(r->res.outcome, ISF_EXEC_EXITED);
    assert_int_equal(r->res.exit_code, 3);
    assert_string_equal(r->out, "partial\n"); /* kept: the caller decides what to do with it */
    assert_reaped(r->res.pid);
    free(r);
}

static void test_killed_by_signal(void **state)
{
    (void)state;
    struct run *r = malloc(sizeof(*r));
    assert_non_null(r);
    char *argv[] = {(char *)"/bin/sh", (char *)"-c", (char *)"echo before; kill -TERM $$", NULL};
    run(r, argv);
    assert_int_equal(r->rc, ISF_OK);
    assert_int_equal(r->res.outcome, ISF_EXEC_SIGNALED);
    assert_int_equal(r->res.signal, SIGTERM);
    assert_int_equal(r->res.exit_code, 0);
    assert_string_equal(r->out, "before\n");
    assert_reaped(r->res.pid);
    free(r);
}

/* A caller that ignores or blocks signals must not hand that on: the child starts clean. */
static void test_clean_signal_state(void **state)
{
    (void)state;
    struct run *r = malloc(sizeof(*r));
    assert_non_null(r);
    struct sigaction ign = {.sa_handler = SIG_IGN}, old_term, old_pipe;
    sigset_t block, old_mask;
    sigemptyset(&ign.sa_mask);
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    assert_int_equal(sigaction(SIGTERM, &ign, &old_term), 0);
    assert_int_equal(sigaction(SIGPIPE, &ign, &old_pipe), 0);
    assert_int_equal(sigprocmask(SIG_BLOCK, &block, &old_mask), 0);

    char *term[] = {(char *)"/bin/sh", (char *)"-c", (char *)"kill -TERM $$; exit 7", NULL};
    run(r, term);
    assert_int_equal(r->res.outcome, ISF_EXEC_SIGNALED);
    assert_int_equal(r->res.signal, SIGTERM);
    /* The child's blocked and ignored signals, as /proc shows them (hex masks, bit n-1 for
     * signal n): nothing blocked; SIGTERM and SIGPIPE not ignored. */
    char *status[] = {(char *)"grep", (char *)"-E",
                      (char *)"^Sig(Blk|Ign):", (char *)"/proc/self/status", NULL};
    run(r, status);
    assert_int_equal(r->res.outcome, ISF_EXEC_EXITED);
    assert_int_equal(r->res.exit_code, 0);
    unsigned long long blk = ~0ULL, ignored = ~0ULL;
    assert_int_equal(sscanf(r->out, "SigBlk: %llx SigIgn: %llx", &blk, &ignored), 2);
    assert_int_equal(blk, 0);
    assert_int_equal(ignored & (1ULL << (SIGTERM - 1)), 0);
    assert_int_equal(ignored & (1ULL << (SIGPIPE - 1)), 0);

    assert_int_equal(sigprocmask(SIG_SETMASK, &old_mask, NULL), 0);
    assert_int_equal(sigaction(SIGPIPE, &old_pipe, NULL), 0);
    assert_int_equal(sigaction(SIGTERM, &old_term, NULL), 0);
    free(r);
}

static void test_time_limit(void **state)
{
    (void)state;
    struct run *r = malloc(sizeof(*r));
    assert_non_null(r);
    char *argv[] = {(char *)"sleep", (char *)"30", NULL};
    run_with(r, argv, 200, NULL, CAP);
    assert_int_equal(r->rc, ISF_OK);
    assert_int_equal(r->res.outcome, ISF_EXEC_TIMEOUT);
    assert_true(r->took_ms >= 190);
    assert_true(r->took_ms < 1000);
    assert_wiped(r, CAP);
    assert_reaped(r->res.pid);

    /* Closing stdout early does not buy more time: the limit covers the whole run. */
    char *closes[] = {(char *)"/bin/sh", (char *)"-c", (char *)"exec >&-; exec sleep 30", NULL};
    run_with(r, closes, 200, NULL, CAP);
    assert_int_equal(r->res.outcome, ISF_EXEC_TIMEOUT);
    assert_true(r->took_ms < 1000);
    assert_reaped(r->res.pid);
    free(r);
}

static void test_output_cap(void **state)
{
    (void)state;
    struct run *r = malloc(sizeof(*r));
    assert_non_null(r);
    char *argv[] = {(char *)"yes", (char *)"a secret line", NULL};
    run_with(r, argv, 5000, NULL, 100);
    assert_int_equal(r->rc, ISF_OK);
    assert_int_equal(r->res.outcome, ISF_EXEC_TOO_BIG);
    assert_true(r->took_ms < 1000); /* killed at once, not left running to the limit */
    assert_wiped(r, 100);
    assert_reaped(r->res.pid);
    free(r);
}

static void test_cannot_start(void **state)
{
    (void)state;
    struct run *r = malloc(sizeof(*r));
    assert_non_null(r);
    char *missing[] = {(char *)"/nonexistent/isf-exec-helper", NULL};
    char *not_in_path[] = {(char *)"isf-exec-no-such-command", NULL};
    char *not_executable[] = {(char *)"/etc/passwd", NULL};
    char *const *cases[] = {missing, not_in_path, not_executable};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        run(r, cases[i]);
        assert_int_equal(r->rc, ISF_OK);
        /* glibc reports a failed exec from posix_spawnp; a fork-based spawn (valgrind) exits
         * 127 (not found) or 126 (not executable). */
        if (r->res.outcome == ISF_EXEC_EXITED) {
            assert_true(r->res.exit_code == 127 || r->res.exit_code == 126);
            continue;
        }
        assert_int_equal(r->res.outcome, ISF_EXEC_NOT_STARTED);
        assert_true(r->res.sys_errno == ENOENT || r->res.sys_errno == EACCES);
        assert_int_equal(r->res.pid, -1);
        assert_wiped(r, CAP);
    }
    free(r);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    struct run *r = malloc(sizeof(*r));
    assert_non_null(r);
    char *empty[] = {NULL};
    char *blank[] = {(char *)"", NULL};
    char *ok[] = {(char *)"true", NULL};
    run(r, empty);
    assert_int_equal(r->rc, ISF_E_USAGE);
    assert_int_equal(r->res.outcome, ISF_EXEC_NOT_STARTED);
    run(r, blank);
    assert_int_equal(r->rc, ISF_E_USAGE);
    run_with(r, ok, 0, NULL, CAP);
    assert_int_equal(r->rc, ISF_E_USAGE);
    assert_int_equal(r->res.pid, -1);
    free(r);
}

static void test_environment(void **state)
{
    (void)state;
    struct run *r = malloc(sizeof(*r));
    assert_non_null(r);
    char *argv[] = {(char *)"/usr/bin/env", NULL};
    assert_int_equal(setenv("ISF_EXEC_TEST_PARENT", "parent value", 1), 0);

    /* Explicit: the child sees exactly these, nothing of ours. */
    char *envp[] = {(char *)"ISF_A=1", (char *)"ISF_B=two words", (char *)"LANG=C", NULL};
    run_with(r, argv, 5000, envp, CAP);
    assert_int_equal(r->res.outcome, ISF_EXEC_EXITED);
    assert_int_equal(r->res.exit_code, 0);
    assert_string_equal(r->out, "ISF_A=1\nISF_B=two words\nLANG=C\n");

    char *none[] = {NULL};
    run_with(r, argv, 5000, none, CAP);
    assert_int_equal(r->res.outcome, ISF_EXEC_EXITED);
    assert_string_equal(r->out, "");

    /* NULL: inherited. */
    run(r, argv);
    assert_int_equal(r->res.outcome, ISF_EXEC_EXITED);
    assert_non_null(strstr(r->out, "\nISF_EXEC_TEST_PARENT=parent value\n"));
    unsetenv("ISF_EXEC_TEST_PARENT");
    free(r);
}

/* stdin is /dev/null even when ours is a pipe nobody writes to (cat would wait on it forever). */
static void test_stdin_is_dev_null(void **state)
{
    (void)state;
    struct run *r = malloc(sizeof(*r));
    assert_non_null(r);
    int p[2];
    assert_int_equal(pipe(p), 0);
    int saved = dup(STDIN_FILENO);
    assert_true(saved >= 0);
    assert_int_equal(dup2(p[0], STDIN_FILENO), STDIN_FILENO);

    char *cat[] = {(char *)"cat", NULL};
    run_with(r, cat, 3000, NULL, CAP);

    assert_int_equal(dup2(saved, STDIN_FILENO), STDIN_FILENO);
    close(saved);
    close(p[0]);
    close(p[1]);
    assert_int_equal(r->res.outcome, ISF_EXEC_EXITED);
    assert_int_equal(r->res.exit_code, 0);
    assert_int_equal(r->got, 0);
    assert_true(r->took_ms < 1000);

    char *where[] = {(char *)"readlink", (char *)"/proc/self/fd/0", NULL};
    run(r, where);
    assert_string_equal(r->out, "/dev/null\n");
    free(r);
}

/* Only 0-2 reach the child, even descriptors of ours that are not close-on-exec. `ls -l` shows
 * its own handle on the folder it lists too (a link to /proc/<pid>/fd), which is allowed. A test
 * that printed nothing would pass, hence the check that 0-2 are seen. */
static void test_no_descriptor_leaks(void **state)
{
    (void)state;
    struct run *r = malloc(sizeof(*r));
    assert_non_null(r);
    int leaky = open("/dev/null", O_RDONLY); /* deliberately without O_CLOEXEC */
    assert_true(leaky >= 0);
    assert_int_equal(dup2(leaky, 42), 42);
    int p[2];
    assert_int_equal(pipe(p), 0); /* without O_CLOEXEC too */

    char *argv[] = {(char *)"ls", (char *)"-l", (char *)"/proc/self/fd", NULL};
    run(r, argv);
    assert_int_equal(r->res.outcome, ISF_EXEC_EXITED);
    assert_int_equal(r->res.exit_code, 0);
    int seen[3] = {0, 0, 0};
    for (char *line = strtok(r->out, "\n"); line; line = strtok(NULL, "\n")) {
        char *arrow = strstr(line, " -> ");
        if (!arrow)
            continue; /* "total 0" */
        char *num = arrow;
        while (num > line && num[-1] != ' ')
            num--;
        int fd = atoi(num);
        if (fd >= 0 && fd <= 2) {
            seen[fd] = 1;
            continue;
        }
        if (strncmp(arrow + 4, "/proc/", 6) != 0)
            fail_msg("descriptor leaked into the child: %s", line);
    }
    assert_true(seen[0] && seen[1] && seen[2]);

    close(42);
    close(leaky);
    close(p[0]);
    close(p[1]);
    free(r);
}

/* stderr captured on request: its start kept apart from stdout, the rest drained so a chatty
 * command never blocks; wiped with the output when the run ends badly. */
static void test_stderr_captured(void **state)
{
    (void)state;
    char err_buf[17];
    size_t err_got = 99, got = 0;
    char out[64];
    struct isf_exec_result res;
    struct isf_error err;
    isf_err_init(&err);
    /* 200 KB on stderr, more than a pipe holds, then the answer on stdout. */
    char *argv[] = {(char *)"sh", (char *)"-c",
                    (char *)"echo 'to stderr first' >&2; head -c 200000 /dev/zero >&2; "
                            "printf answer",
                    NULL};
    struct isf_exec_limits lim = {5000, NULL, err_buf, sizeof(err_buf) - 1, &err_got};
    assert_int_equal(isf_exec_capture(argv, &lim, out, sizeof(out) - 1, &got, &res, &err), 0);
    assert_int_equal(res.outcome, ISF_EXEC_EXITED);
    assert_int_equal(res.exit_code, 0);
    assert_string_equal(out, "answer");
    assert_int_equal(err_got, 16);
    assert_string_equal(err_buf, "to stderr first\n");

    char *slow[] = {(char *)"sh", (char *)"-c", (char *)"echo secret >&2; exec sleep 5", NULL};
    lim.timeout_ms = 300;
    assert_int_equal(isf_exec_capture(slow, &lim, out, sizeof(out) - 1, &got, &res, &err), 0);
    assert_int_equal(res.outcome, ISF_EXEC_TIMEOUT);
    assert_int_equal(err_got, 0);
    for (size_t i = 0; i < sizeof(err_buf); i++)
        assert_int_equal(err_buf[i], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capture_exact),       cmocka_unit_test(test_exit_status),
        cmocka_unit_test(test_killed_by_signal),    cmocka_unit_test(test_clean_signal_state),
        cmocka_unit_test(test_time_limit),          cmocka_unit_test(test_output_cap),
        cmocka_unit_test(test_cannot_start),        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_environment),         cmocka_unit_test(test_stdin_is_dev_null),
        cmocka_unit_test(test_no_descriptor_leaks), cmocka_unit_test(test_stderr_captured),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
