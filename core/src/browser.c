/* Starting the browser (browser.h). */
#include "browser.h"

#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int isf_browser_open(const char *url, struct isf_browser *b, char *why, size_t why_len)
{
    /* One program name or path, no arguments: $BROWSER is never handed to a shell. */
    const char *cmd = getenv("BROWSER");
    if (!cmd || !*cmd)
        cmd = "xdg-open";
    b->pid = -1;
    snprintf(b->command, sizeof(b->command), "%s", cmd);
    /* The browser must not write into isyncsf's output (stdout may be JSON) nor inherit any
     * descriptor of ours (a store lock held by a long-lived browser would never be released):
     * isf_exec_spawn closes everything above stderr. */
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (devnull < 0) {
        snprintf(why, why_len, "cannot open /dev/null: %s", strerror(errno));
        return -1;
    }
    char *argv[] = {(char *)cmd, (char *)url, NULL};
    int e = isf_exec_spawn(argv, NULL, devnull, devnull, &b->pid);
    close(devnull);
    if (e != 0) {
        b->pid = -1;
        snprintf(why, why_len, "%s could not be started (%s)", b->command, strerror(e));
        return -1;
    }
    return 0;
}

int isf_browser_poll(struct isf_browser *b, char *why, size_t why_len)
{
    if (b->pid <= 0)
        return 0;
    int st = 0;
    pid_t r = waitpid(b->pid, &st, WNOHANG);
    if (r == 0)
        return 0;
    b->pid = -1;
    if (r < 0)
        return 0; /* reaped elsewhere: nothing to say */
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        return 0;
    if (WIFEXITED(st))
        snprintf(why, why_len, "%s exited with status %d", b->command, WEXITSTATUS(st));
    else
        snprintf(why, why_len, "%s was ended by signal %d", b->command,
                 WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    return 1;
}
