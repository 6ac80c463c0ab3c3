/* isyncsf daemon [--once]: the background refresh scheduler (isf_daemon_run) under the CLI's
 * signal handling, logging and config reloads.
 *
 * Signals: SIGTERM and SIGINT set the stop flag, SIGHUP the reload flag; the library sleeps so
 * that either wakes it at once (see daemon_wait.h). On a reload the library returns with the
 * flag still set; we then open a new context with the same options (so the config file is read
 * again and the plugins reloaded), swap it in, and run again. A config that no longer loads is
 * reported and the daemon keeps running on the old one.
 *
 * Logging: one line per event on stderr, `level=LEVEL key=value ...` (logfmt). The library's
 * daemon lines already are key=value pairs; any other message (a plugin's, the core's) becomes
 * msg="...". When stderr is journald's stream (JOURNAL_STREAM names it) each line also starts
 * with the syslog priority prefix <N>, which journald turns into the entry's priority and strips.
 */
#include "cli.h"
#include "help.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static volatile sig_atomic_t stop_flag;
static volatile sig_atomic_t reload_flag;

static void on_stop(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void on_reload(int sig)
{
    (void)sig;
    reload_flag = 1;
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_reload;
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN); /* a closed log pipe must not kill the daemon mid-write */
}

/* Append `text` as one double-quoted logfmt value (\" and \\ escaped; control characters
 * become spaces so an event stays on one line). */
static size_t put_quoted(char *line, size_t n, size_t cap, const char *text)
{
    if (n + 3 >= cap)
        return n;
    line[n++] = '"';
    for (const char *p = text; *p && n + 4 < cap; p++) {
        if (*p == '"' || *p == '\\')
            line[n++] = '\\';
        line[n++] = (unsigned char)*p < 0x20 ? ' ' : *p;
    }
    line[n++] = '"';
    line[n] = '\0';
    return n;
}

/* Whether stderr is journald's stream: systemd sets JOURNAL_STREAM=DEV:INODE of the stream it
 * connected, and a child whose stderr was redirected elsewhere must not add prefixes (see
 * systemd.exec(5)). Decided once. */
static int stderr_is_journal(void)
{
    static int known = -1;
    if (known < 0) {
        const char *js = getenv("JOURNAL_STREAM");
        unsigned long long dev = 0, ino = 0;
        struct stat st;
        known = js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 && fstat(STDERR_FILENO, &st) == 0 &&
                (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
    }
    return known;
}

static void log_line(void *arg, int level, const char *msg)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    static const int syslog_prio[] = {3, 4, 6, 7};
    int lv = level < 0 ? 0 : level > 3 ? 3 : level;
    char line[2048];
    size_t n = 0;
    (void)arg;
    if (stderr_is_journal())
        n += (size_t)snprintf(line, sizeof(line), "<%d>", syslog_prio[lv]);
    n += (size_t)snprintf(line + n, sizeof(line) - n, "level=%s ", names[lv]);
    if (strncmp(msg, "event=", 6) == 0 || strncmp(msg, "org=", 4) == 0) {
        snprintf(line + n, sizeof(line) - n, "%s", msg);
    } else {
        /* Free text from elsewhere in the library: one quoted value. */
        n += (size_t)snprintf(line + n, sizeof(line) - n, "msg=");
        put_quoted(line, n, sizeof(line), msg);
    }
    fprintf(stderr, "%s\n", line);
}

/* The daemon's last word when it ends on an error (exit code per the contract). */
static int log_exit(struct cli *cli, const struct isf_error *err)
{
    if (cli->json)
        return cli_fail(cli, err, NULL);
    int code = isf_exit_code(err->code);
    char msg[ISF_ERROR_MESSAGE_MAX + 128];
    size_t n = (size_t)snprintf(msg, sizeof(msg), "event=exit status=%s exit_code=%d message=",
                                isf_status_name(err->code), code ? code : 1);
    put_quoted(msg, n, sizeof(msg), err->message);
    log_line(NULL, ISF_LOG_ERROR, msg);
    return code ? code : 1;
}

static int open_ctx(const struct cli *cli, isf_ctx **ctx, struct isf_error *err)
{
    struct isf_open_options o;
    cli_open_options(cli, &o);
    o.log_level = cli->verbose ? ISF_LOG_DEBUG : cli->quiet ? ISF_LOG_WARN : ISF_LOG_INFO;
    o.log_fn = log_line;
    return isf_open(&o, ctx, err);
}

/* Read the config again: a new context replaces the old one only when it opened. */
static void reload(struct cli *cli)
{
    isf_ctx *fresh = NULL;
    struct isf_error err;
    if (open_ctx(cli, &fresh, &err) != ISF_OK) {
        struct isf_error shown = err;
        char msg[ISF_ERROR_MESSAGE_MAX + 64];
        snprintf(msg, sizeof(msg), "config reload failed, still running on the previous one: %s",
                 shown.message);
        log_line(NULL, ISF_LOG_ERROR, msg);
        return;
    }
    isf_close(cli->ctx);
    cli->ctx = fresh;
    log_line(NULL, ISF_LOG_INFO, "event=reload outcome=done");
}

int cmd_daemon(struct cli *cli, int argc, char **argv)
{
    static const struct cli_flag flags[] = {{"once", 0}, {NULL, 0}};
    struct cli_args a;
    int rc = cli_parse(cli, argc, argv, flags, &a, help_text("daemon"));
    if (rc)
        return rc < 0 ? 0 : rc;
    if (a.npos > 0)
        return cli_usage_error(cli, help_text("daemon"),
                               "daemon takes no org names (it keeps every org fresh): '%s'",
                               a.pos[0]);
    struct isf_error err;
    install_signals();
    if (!cli->ctx && open_ctx(cli, &cli->ctx, &err) != ISF_OK)
        return cli_fail(cli, &err, NULL);
    struct isf_daemon_options o;
    memset(&o, 0, sizeof(o));
    o.struct_size = sizeof(o);
    o.once = cli_has(&a, "once");
    o.stop = &stop_flag;
    o.reload = &reload_flag;
    for (;;) {
        rc = isf_daemon_run(cli->ctx, &o, &err);
        if (rc != ISF_OK)
            return log_exit(cli, &err);
        if (o.once || stop_flag || !reload_flag)
            return 0;
        reload_flag = 0;
        reload(cli);
    }
}
