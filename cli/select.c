/* isyncsf org select: pick one org.
 *
 * On a terminal (/dev/tty opens, and stdin or stderr is a terminal, and ISYNCSF_NO_TTY is not
 * set): an inline picker drawn on /dev/tty below the cursor (no alternate screen). Typing
 * filters (the same fields as --filter), Up/Down or Ctrl-P/Ctrl-N move, Enter chooses, Esc,
 * Ctrl-C or Ctrl-D cancels (exit 1). Only connected orgs are offered unless --any; the others
 * are not shown, the footer says how many were left out. The terminal settings and the cursor
 * are restored and the picker's lines cleared on every way out: normal, atexit, and the
 * signals (SIGINT, SIGTERM, SIGHUP, SIGQUIT re-raised after the restore; SIGTSTP suspends and
 * the picker comes back on SIGCONT).
 *
 * Without a terminal: the single match is chosen; none → exit 3, several → exit 1 with the
 * candidates on stderr (or in the JSON error).
 *
 * stdout carries only the chosen name and a newline (its org object with --json), so
 * TARGET=$(isyncsf org select) works. */
#include "select.h"

#include "help.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

/* One org of the listing; the strings point into the parsed JSON array. */
struct cand {
    const char *name, *status, *mode, *env, *org_name, *org_id, *instance_url, *description;
};

static const char *str_of(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* The same test as the library's --filter: ASCII case-insensitive substring. */
static int contains_ci(const char *hay, const char *needle)
{
    if (!hay)
        return 0;
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return 1;
    return 0;
}

static int cand_matches(const struct cand *c, const char *text)
{
    if (!text || !*text)
        return 1;
    return contains_ci(c->name, text) || contains_ci(c->org_name, text) ||
           contains_ci(c->org_id, text) || contains_ci(c->instance_url, text) ||
           contains_ci(c->description, text);
}

static const char *env_badge(const char *e)
{
    if (!e)
        return "-";
    return strcmp(e, "production") == 0 ? "PRODUCTION"
           : strcmp(e, "sandbox") == 0  ? "SANDBOX"
           : strcmp(e, "scratch") == 0  ? "SCRATCH"
                                        : e;
}

static int print_choice(struct cli *cli, const char *name)
{
    if (cli->json) {
        char *json = NULL;
        struct isf_error err;
        if (isf_org_show_json(cli->ctx, name, &json, &err) != ISF_OK)
            return cli_fail(cli, &err, name);
        printf("%s\n", json);
        free(json);
    } else {
        printf("%s\n", name);
    }
    fflush(stdout);
    return 0;
}

/* ---- without a terminal --------------------------------------------------------------------- */

static int fail_code(struct cli *cli, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail_code(struct cli *cli, int status, const char *fmt, ...)
{
    struct isf_error err = {sizeof(err), status, ""};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err.message, sizeof(err.message), fmt, ap);
    va_end(ap);
    return cli_fail(cli, &err, NULL);
}

/* The orgs matching the filters: the one offered, or an error naming them. */
static int pick_matches(struct cli *cli, const struct cand *c, size_t n, int any)
{
    size_t nsel = 0, hidden = 0, one = 0;
    for (size_t i = 0; i < n; i++) {
        if (any || strcmp(c[i].status, "connected") == 0) {
            nsel++;
            one = i;
        } else {
            hidden++;
        }
    }
    if (nsel == 1)
        return print_choice(cli, c[one].name);
    if (nsel == 0) {
        if (!hidden)
            return fail_code(cli, ISF_E_NOT_FOUND, "no org matches");
        char names[512] = "";
        size_t len = 0;
        for (size_t i = 0; i < n && len < sizeof(names); i++) {
            int w = snprintf(names + len, sizeof(names) - len, "%s%s (%s)", len ? ", " : "",
                             c[i].name, c[i].status);
            if (w < 0)
                break;
            len += (size_t)w;
        }
        return fail_code(cli, ISF_E_NOT_FOUND,
                         "no connected org matches; %zu other%s match%s: %s (--any offers them)",
                         hidden, hidden == 1 ? "" : "s", hidden == 1 ? "es" : "", names);
    }
    /* Several: name them, so the caller can narrow the filter. */
    char msg[160];
    snprintf(msg, sizeof(msg),
             "%zu orgs match; narrow the choice with --filter, --status, --mode or --env", nsel);
    if (cli->json) {
        json_t *cands = json_array();
        for (size_t i = 0; i < n; i++)
            if (any || strcmp(c[i].status, "connected") == 0)
                json_array_append_new(
                    cands, json_pack("{s:s, s:s}", "name", c[i].name, "status", c[i].status));
        json_t *root = json_pack("{s:{s:s, s:s, s:n, s:o}}", "error", "code", "ambiguous",
                                 "message", msg, "org", "candidates", cands);
        char *text = root ? json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        if (text)
            printf("%s\n", text);
        free(text);
        json_decref(root);
    } else {
        fprintf(stderr, "isyncsf: error: %s:\n", msg);
        for (size_t i = 0; i < n; i++)
            if (any || strcmp(c[i].status, "connected") == 0)
                fprintf(stderr, "  %-32s %s\n", c[i].name, c[i].status);
    }
    return 1;
}

static int pick_alone(struct cli *cli, const struct cand *all, size_t n_all, int any,
                      const char *text)
{
    /* The library applied the text filter unless a terminal was found first: apply it here. */
    struct cand *c = calloc(n_all ? n_all : 1, sizeof(*c));
    if (!c)
        return fail_code(cli, ISF_E_NOMEM, "out of memory");
    size_t n = 0;
    for (size_t i = 0; i < n_all; i++)
        if (cand_matches(&all[i], text))
            c[n++] = all[i];
    int rc = pick_matches(cli, c, n, any);
    free(c);
    return rc;
}

/* ---- the terminal --------------------------------------------------------------------------- */

/* State the signal handlers need: only these, touched with async-signal-safe calls. */
static int tty_fd = -1;
static struct termios tty_saved;
static volatile sig_atomic_t tty_raw_on; /* raw mode set: restore on the way out */
static volatile sig_atomic_t tty_redraw; /* size changed or resumed: reserve and redraw */
static const char tty_clear[] = "\r\033[J\033[?25h"; /* clear the picker, show the cursor */

static void tty_restore(void)
{
    if (!tty_raw_on)
        return;
    tty_raw_on = 0;
    ssize_t w = write(tty_fd, tty_clear, sizeof(tty_clear) - 1);
    (void)w;
    tcsetattr(tty_fd, TCSADRAIN, &tty_saved);
}

static int tty_raw(void)
{
    struct termios t = tty_saved;
    t.c_lflag &= ~(tcflag_t)(ICANON | ECHO | ISIG | IEXTEN);
    t.c_iflag &= ~(tcflag_t)(IXON | ICRNL | INLCR | IGNCR);
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    tty_raw_on = 1;
    if (tcsetattr(tty_fd, TCSADRAIN, &t) != 0) {
        tty_raw_on = 0;
        return -1;
    }
    return 0;
}

static void on_fatal(int sig)
{
    tty_restore();
    signal(sig, SIG_DFL);
    raise(sig); /* delivered when the handler returns: the default action */
}

static void on_tstp(int sig)
{
    int saved = errno;
    int was = tty_raw_on;
    tty_restore();
    signal(sig, SIG_DFL);
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    sigprocmask(SIG_UNBLOCK, &s, NULL);
    raise(sig); /* stops here until SIGCONT */
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_tstp;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
    if (was) {
        tcgetattr(tty_fd, &tty_saved); /* the shell may have changed them meanwhile */
        tty_raw();
        tty_redraw = 1;
    }
    errno = saved;
}

static void on_winch(int sig)
{
    (void)sig;
    tty_redraw = 1;
}

static const int handled[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGWINCH};
#define NHANDLED (sizeof(handled) / sizeof(handled[0]))

static void install_handlers(struct sigaction *old)
{
    for (size_t i = 0; i < NHANDLED; i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = handled[i] == SIGTSTP    ? on_tstp
                        : handled[i] == SIGWINCH ? on_winch
                                                 : on_fatal;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = 0; /* no SA_RESTART: read() returns EINTR and the loop redraws */
        sigaction(handled[i], &sa, &old[i]);
    }
}

static void restore_handlers(const struct sigaction *old)
{
    for (size_t i = 0; i < NHANDLED; i++)
        sigaction(handled[i], &old[i], NULL);
}

/* A growing output buffer for one frame. */
struct buf {
    char *p;
    size_t len, cap;
};

static void put(struct buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->cap ? b->cap : 1024) * 2;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *grown = realloc(b->p, cap);
        if (!grown)
            return;
        b->p = grown;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void puts_(struct buf *b, const char *s)
{
    put(b, s, strlen(s));
}

static void putf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct buf *b, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n > 0)
        put(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* Display columns of UTF-8 text (one per character; control bytes shown as '?'). */
static int text_width(const char *s)
{
    int w = 0;
    for (; s && *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            w++;
    return w;
}

/* Appends s, padded with spaces to pad columns (0: none), never past column max; *col counts. */
static void put_text(struct buf *b, const char *s, int pad, int *col, int max)
{
    int start = *col;
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        int cont = (*p & 0xC0) == 0x80;
        if (!cont && *col >= max)
            break;
        if (*p < 0x20 || *p == 0x7f)
            put(b, "?", 1); /* never send a stored control byte to the terminal */
        else
            put(b, (const char *)p, 1);
        if (!cont)
            (*col)++;
    }
    while (*col - start < pad && *col < max) {
        put(b, " ", 1);
        (*col)++;
    }
}

struct picker {
    const struct cand *all;
    size_t n_all;
    size_t *vis; /* indexes into all: the rows that match the query */
    size_t n_vis, sel, top;
    size_t hidden; /* not connected, not offered (without --any) */
    char query[256];
    size_t qlen;
    int rows, cols, nrows;
    int name_w, mode_w, any;
    struct cli color; /* a copy of the cli whose colour flag says whether the picker colours */
};

static void refilter(struct picker *p)
{
    p->n_vis = 0;
    for (size_t i = 0; i < p->n_all; i++)
        if (cand_matches(&p->all[i], p->query))
            p->vis[p->n_vis++] = i;
    p->sel = 0;
    p->top = 0;
}

static void measure(struct picker *p)
{
    struct winsize ws;
    p->rows = 24;
    p->cols = 80;
    if (ioctl(tty_fd, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0) {
        p->rows = ws.ws_row;
        p->cols = ws.ws_col;
    }
    p->nrows = p->rows - 2 < 10 ? p->rows - 2 : 10;
    if (p->nrows < 1)
        p->nrows = 1;
}

static void tty_write(const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(tty_fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

/* Makes room below the prompt line (scrolling when the cursor is near the bottom). */
static void reserve(const struct picker *p)
{
    struct buf b = {0};
    puts_(&b, "\r\033[J");
    for (int i = 0; i < p->nrows + 1; i++)
        puts_(&b, "\n");
    putf(&b, "\033[%dA\r", p->nrows + 1);
    tty_write(b.p, b.len);
    free(b.p);
}

static void draw(struct picker *p)
{
    struct buf b = {0};
    int max = p->cols - 1; /* never the last column: no wrapping */
    const char *dim = p->color.color ? "\033[2m" : "";
    const char *bold = p->color.color ? "\033[1m" : "";
    const char *reset = color_reset(&p->color);
    int col = 0;
    puts_(&b, "\033[?25l\r\033[J");
    put_text(&b, "org> ", 0, &col, max);
    put_text(&b, p->query, 0, &col, max);
    int cursor = col;
    if (p->sel >= p->n_vis)
        p->sel = p->n_vis ? p->n_vis - 1 : 0;
    if (p->sel < p->top)
        p->top = p->sel;
    if (p->sel >= p->top + (size_t)p->nrows)
        p->top = p->sel - (size_t)p->nrows + 1;
    int lines = 0;
    for (size_t r = p->top; r < p->n_vis && r < p->top + (size_t)p->nrows; r++) {
        const struct cand *c = &p->all[p->vis[r]];
        int is_sel = r == p->sel;
        puts_(&b, "\r\n");
        lines++;
        col = 0;
        put_text(&b, is_sel ? "> " : "  ", 0, &col, max);
        if (col < max) {
            puts_(&b, status_color(&p->color, c->status));
            put_text(&b, "●", 0, &col, max);
            puts_(&b, reset);
        }
        put_text(&b, " ", 0, &col, max);
        if (is_sel)
            puts_(&b, bold);
        put_text(&b, c->name, p->name_w, &col, max);
        if (is_sel)
            puts_(&b, reset);
        put_text(&b, "  ", 0, &col, max);
        put_text(&b, c->mode, p->mode_w, &col, max);
        put_text(&b, "  ", 0, &col, max);
        const char *badge = env_badge(c->env);
        int prod = c->env && strcmp(c->env, "production") == 0 && p->color.color;
        if (prod)
            puts_(&b, "\033[1;31m");
        put_text(&b, badge, 10, &col, max);
        if (prod)
            puts_(&b, reset);
        if (p->any && strcmp(c->status, "connected") != 0) {
            put_text(&b, "  ", 0, &col, max);
            puts_(&b, status_color(&p->color, c->status));
            put_text(&b, c->status, 0, &col, max);
            puts_(&b, reset);
        }
        if (c->org_name) {
            put_text(&b, "  ", 0, &col, max);
            puts_(&b, dim);
            put_text(&b, c->org_name, 0, &col, max);
            puts_(&b, reset);
        }
    }
    /* The footer: how many match, and what is left out. */
    char foot[200];
    if (p->n_vis)
        snprintf(foot, sizeof(foot), "  %zu/%zu", p->n_vis, p->n_all);
    else
        snprintf(foot, sizeof(foot), "  no match (0/%zu)", p->n_all);
    if (p->hidden) {
        size_t len = strlen(foot);
        snprintf(foot + len, sizeof(foot) - len, " · %zu not connected hidden (--any shows them)",
                 p->hidden);
    }
    puts_(&b, "\r\n");
    lines++;
    col = 0;
    puts_(&b, dim);
    put_text(&b, foot, 0, &col, max);
    puts_(&b, reset);
    putf(&b, "\033[%dA\r", lines);
    if (cursor > 0)
        putf(&b, "\033[%dC", cursor);
    puts_(&b, "\033[?25h");
    tty_write(b.p, b.len);
    free(b.p);
}

enum { K_NONE = 0, K_UP = 1000, K_DOWN, K_INTR, K_EOF, K_ESC };

static int input_ready(int ms)
{
    struct pollfd pfd = {tty_fd, POLLIN, 0};
    return poll(&pfd, 1, ms) > 0;
}

static int read_byte(void)
{
    unsigned char c;
    ssize_t n = read(tty_fd, &c, 1);
    if (n == 1)
        return c;
    if (n < 0 && errno == EINTR)
        return K_INTR;
    return K_EOF;
}

/* One key: a byte, or an arrow, or K_ESC (a lone Escape), K_INTR (a signal), K_EOF. */
static int read_key(void)
{
    int c = read_byte();
    if (c != 27)
        return c;
    if (!input_ready(50))
        return K_ESC;
    int c2 = read_byte();
    if (c2 != '[' && c2 != 'O')
        return c2 == 27 ? K_ESC : K_NONE;
    int fin = K_NONE;
    for (int i = 0; i < 16; i++) { /* up to the final byte of the sequence */
        if (!input_ready(50))
            break;
        int c3 = read_byte();
        if (c3 < 0 || c3 >= 1000)
            break;
        if (c3 >= 0x40 && c3 <= 0x7e) {
            fin = c3;
            break;
        }
    }
    return fin == 'A' ? K_UP : fin == 'B' ? K_DOWN : K_NONE;
}

static void backspace(struct picker *p)
{
    while (p->qlen > 0) {
        unsigned char c = (unsigned char)p->query[--p->qlen];
        if ((c & 0xC0) != 0x80)
            break; /* removed a whole UTF-8 character */
    }
    p->query[p->qlen] = '\0';
}

/* Runs the picker; returns the chosen candidate's index, or -1 when cancelled. */
static long pick_loop(struct picker *p)
{
    measure(p);
    reserve(p);
    refilter(p);
    int dirty = 1;
    for (;;) {
        if (tty_redraw) {
            tty_redraw = 0;
            measure(p);
            reserve(p);
            dirty = 1;
        }
        if (dirty && !input_ready(0)) { /* a burst of typed keys: draw once at the end */
            draw(p);
            dirty = 0;
        }
        int k = read_key();
        switch (k) {
        case K_INTR:
        case K_NONE:
            break;
        case K_EOF:
        case K_ESC:
        case 3: /* Ctrl-C */
            return -1;
        case 4: /* Ctrl-D: cancel on an empty query */
            if (p->qlen == 0)
                return -1;
            break;
        case 26: /* Ctrl-Z: suspend as the terminal would (raw mode took ISIG away). Restore
                  * first: once the job is seen stopped the shell owns the terminal. */
            tty_restore();
            kill(0, SIGTSTP);
            tcgetattr(tty_fd, &tty_saved); /* resumed: the shell may have changed them */
            tty_raw();
            tty_redraw = 1;
            break;
        case '\r':
        case '\n':
            if (p->n_vis)
                return (long)p->vis[p->sel];
            break;
        case K_UP:
        case 16: /* Ctrl-P */
            if (p->sel > 0)
                p->sel--;
            dirty = 1;
            break;
        case K_DOWN:
        case 14: /* Ctrl-N */
            if (p->sel + 1 < p->n_vis)
                p->sel++;
            dirty = 1;
            break;
        case 127:
        case 8: /* Backspace */
            backspace(p);
            refilter(p);
            dirty = 1;
            break;
        case 21: /* Ctrl-U: clear the query */
            p->qlen = 0;
            p->query[0] = '\0';
            refilter(p);
            dirty = 1;
            break;
        default:
            if (k >= 0x20 && k < 0x100 && k != 0x7f && p->qlen + 1 < sizeof(p->query)) {
                p->query[p->qlen++] = (char)k;
                p->query[p->qlen] = '\0';
                refilter(p);
                dirty = 1;
            }
            break;
        }
    }
}

/* The terminal to draw on, or -1 (then the command works without one). */
static int open_tty(void)
{
    const char *no = getenv("ISYNCSF_NO_TTY");
    if (no && *no && strcmp(no, "0") != 0)
        return -1;
    if (!isatty(STDIN_FILENO) && !isatty(STDERR_FILENO))
        return -1;
    int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (tcgetattr(fd, &tty_saved) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int pick_on_tty(struct cli *cli, const struct cand *c, size_t n, int any, const char *text)
{
    struct picker p;
    memset(&p, 0, sizeof(p));
    struct cand *offered = calloc(n ? n : 1, sizeof(*offered));
    p.vis = calloc(n ? n : 1, sizeof(*p.vis));
    if (!offered || !p.vis) {
        free(offered);
        free(p.vis);
        return fail_code(cli, ISF_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        if (any || strcmp(c[i].status, "connected") == 0)
            offered[p.n_all++] = c[i];
        else
            p.hidden++;
    }
    p.all = offered;
    p.any = any;
    for (size_t i = 0; i < p.n_all; i++) {
        int w = text_width(offered[i].name), m = text_width(offered[i].mode);
        if (w > p.name_w)
            p.name_w = w < 32 ? w : 32;
        if (m > p.mode_w)
            p.mode_w = m < 24 ? m : 24;
    }
    if (text) {
        snprintf(p.query, sizeof(p.query), "%s", text);
        p.qlen = strlen(p.query);
    }
    /* The picker draws on the terminal, not stdout: colour unless --no-color, NO_COLOR or
     * ISYNCSF_COLOR=never (cli->no_color), or TERM=dumb; ISYNCSF_COLOR=always forces it. */
    const char *term = getenv("TERM");
    p.color = *cli;
    p.color.color = cli->force_color || (!cli->no_color && !(term && strcmp(term, "dumb") == 0));

    static int registered;
    if (!registered && atexit(tty_restore) == 0)
        registered = 1;
    struct sigaction old[NHANDLED];
    install_handlers(old);
    long chosen = -1;
    if (tty_raw() == 0)
        chosen = pick_loop(&p);
    tty_restore();
    restore_handlers(old);
    close(tty_fd);
    tty_fd = -1;
    int rc = chosen >= 0 ? print_choice(cli, offered[chosen].name) : 1;
    free(offered);
    free(p.vis);
    return rc;
}

/* ---- the command ---------------------------------------------------------------------------- */

int org_select(struct cli *cli, int argc, char **argv)
{
    static const struct cli_flag flags[] = {{"filter", 1}, {"status", 1}, {"mode", 1},
                                            {"env", 1},    {"any", 0},    {NULL, 0}};
    struct cli_args a;
    int rc = cli_parse(cli, argc, argv, flags, &a, help_text("org select"));
    if (rc)
        return rc < 0 ? 0 : rc;
    if (a.npos)
        return cli_usage_error(cli, help_text("org select"),
                               "org select takes no NAME (use --filter)");
    struct isf_org_filter f;
    if ((rc = cli_org_filter(cli, &a, help_text("org select"), &f)) != 0)
        return rc;
    if ((rc = cli_open(cli)) != 0)
        return rc;
    int any = cli_has(&a, "any");
    const char *text = f.text;
    tty_fd = open_tty();
    /* On the terminal the --filter text is the picker's first query (editable), so the listing
     * is not narrowed by it; without one the library applies it. */
    if (tty_fd >= 0)
        f.text = NULL;
    char *list = NULL, *bad = NULL;
    struct isf_error err;
    if (isf_org_list_json(cli->ctx, &f, &list, &bad, &err) != ISF_OK) {
        if (tty_fd >= 0)
            close(tty_fd);
        tty_fd = -1;
        return cli_fail(cli, &err, NULL);
    }
    if (bad && !cli->quiet) { /* unreadable records: named, never offered */
        json_t *barr = json_loads(bad, 0, NULL);
        size_t i;
        json_t *v;
        json_array_foreach(barr, i, v)
        {
            fprintf(stderr, "isyncsf: warning: %s\n",
                    str_of(v, "message") ? str_of(v, "message") : "unreadable record");
        }
        json_decref(barr);
    }
    json_t *arr = json_loads(list, 0, NULL);
    size_t n = json_array_size(arr);
    struct cand *c = calloc(n ? n : 1, sizeof(*c));
    if (!c) {
        json_decref(arr);
        free(list);
        free(bad);
        return fail_code(cli, ISF_E_NOMEM, "out of memory");
    }
    size_t i;
    json_t *o;
    size_t m = 0;
    json_array_foreach(arr, i, o)
    {
        struct cand *x = &c[m];
        x->name = str_of(o, "name");
        x->status = str_of(o, "status");
        if (!x->name || !x->status)
            continue;
        x->mode = str_of(o, "mode");
        x->env = str_of(o, "environment");
        x->org_name = str_of(o, "org_name");
        x->org_id = str_of(o, "org_id");
        x->instance_url = str_of(o, "instance_url");
        x->description = str_of(o, "description");
        m++;
    }
    size_t offered = 0;
    for (i = 0; i < m; i++)
        offered += any || strcmp(c[i].status, "connected") == 0;
    if (tty_fd >= 0 && offered > 0) {
        rc = pick_on_tty(cli, c, m, any, text);
    } else {
        if (tty_fd >= 0) { /* nothing to offer: say so as without a terminal */
            close(tty_fd);
            tty_fd = -1;
        }
        rc = pick_alone(cli, c, m, any, text);
    }
    free(c);
    json_decref(arr);
    free(list);
    free(bad);
    return rc;
}
