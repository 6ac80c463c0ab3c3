/* The `org list` table (see table.h). Widths are counted in code points, which is the display
 * width of everything the table prints: ASCII, "●" and "…". */
#include "table.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define CELL_MAX 512 /* bytes of one cell's text, before fitting */
#define GAP 2        /* spaces between two columns */

size_t table_text_width(const char *s)
{
    size_t w = 0;
    for (; s && *s; s++)
        w += ((unsigned char)*s & 0xC0) != 0x80; /* continuation bytes take no column */
    return w;
}

size_t table_fit(const char *s, size_t width, char *out, size_t cap)
{
    static const char ellipsis[] = "\xE2\x80\xA6"; /* … */
    size_t at = 0, cols = 0;
    if (!cap)
        return 0;
    int cut = table_text_width(s) > width;
    size_t keep = cut ? (width ? width - 1 : 0) : width;
    while (s && *s) {
        unsigned char c = (unsigned char)*s;
        size_t len = 1;
        if (c >= 0xC0)
            while (len < 4 && ((unsigned char)s[len] & 0xC0) == 0x80)
                len++;
        if (cols == keep || at + len + sizeof(ellipsis) > cap)
            break;
        /* Never pass a control character (C0, DEL, C1 such as CSI) on to the terminal. */
        if (c < 0x20 || c == 0x7F || (c == 0xC2 && (unsigned char)s[1] < 0xA0)) {
            out[at++] = '?';
        } else {
            memcpy(out + at, s, len);
            at += len;
        }
        s += len;
        cols++;
    }
    if (cut && width && at + sizeof(ellipsis) <= cap) {
        memcpy(out + at, ellipsis, sizeof(ellipsis) - 1);
        at += sizeof(ellipsis) - 1;
        cols++;
    }
    out[at] = '\0';
    return cols;
}

void table_relative_time(int64_t at_ms, int64_t now_ms, char *out, size_t cap)
{
    if (at_ms <= 0) {
        snprintf(out, cap, "never");
        return;
    }
    int64_t s = (now_ms - at_ms) / 1000;
    if (s < 60)
        snprintf(out, cap, "just now"); /* also a time slightly ahead of this clock */
    else if (s < 3600)
        snprintf(out, cap, "%lldm ago", (long long)(s / 60));
    else if (s < 86400)
        snprintf(out, cap, "%lldh ago", (long long)(s / 3600));
    else
        snprintf(out, cap, "%lldd ago", (long long)(s / 86400));
}

int table_width(int forced, int fd)
{
    if (forced > 0)
        return forced;
    struct winsize ws;
    if (isatty(fd) && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    const char *c = getenv("COLUMNS");
    if (c && *c) {
        char *end;
        long v = strtol(c, &end, 10);
        if (!*end && v > 0 && v <= 10000)
            return (int)v;
    }
    return 100;
}

enum { C_NAME, C_STATUS, C_MODE, C_ENV, C_ORG, C_PACKAGE, C_CHECKED, NCOLS };

struct col {
    const char *head;
    size_t min;     /* narrowest it is shrunk to before columns are dropped (0: never shrunk) */
    size_t natural; /* widest cell or heading */
    size_t w;       /* the width chosen */
    int drop;       /* order in which columns go when even the narrowest do not fit; 0: kept */
    int shown;
};

/* Shrunk first to last, down to their minimum, when the natural widths do not fit. */
static const int shrink_order[] = {C_ORG, C_NAME, C_MODE, C_PACKAGE};

static const char *env_badge(const char *e)
{
    if (!e)
        return "-";
    return strcmp(e, "production") == 0 ? "PRODUCTION"
           : strcmp(e, "sandbox") == 0  ? "SANDBOX"
           : strcmp(e, "scratch") == 0  ? "SCRATCH"
                                        : "-";
}

/* A cell's text (the status cell without its dot: it is drawn apart, in colour). */
static const char *cell(const struct isf_org_row *r, int c, int64_t now_ms, char *buf, size_t cap)
{
    switch (c) {
    case C_NAME:
        return r->name ? r->name : "-";
    case C_STATUS:
        return r->status ? r->status : "-";
    case C_MODE:
        return r->mode ? r->mode : "-";
    case C_ENV:
        return env_badge(r->environment);
    case C_ORG:
        if (r->org_name && r->org_id)
            snprintf(buf, cap, "%s (%s)", r->org_name, r->org_id);
        else
            snprintf(buf, cap, "%s", r->org_name ? r->org_name : r->org_id ? r->org_id : "-");
        return buf;
    case C_PACKAGE:
        if (r->package_installed > 0)
            return r->package_version ? r->package_version : "installed";
        return r->package_installed == 0 ? "missing" : "unknown";
    default:
        table_relative_time(r->last_checked_at_ms, now_ms, buf, cap);
        return buf;
    }
}

static size_t cell_width(const struct isf_org_row *r, int c, int64_t now_ms)
{
    char buf[CELL_MAX];
    size_t w = table_text_width(cell(r, c, now_ms, buf, sizeof(buf)));
    return c == C_STATUS ? w + 2 : w; /* "● " */
}

static size_t total(const struct col *cols, int use_min)
{
    size_t sum = 0, shown = 0;
    for (int c = 0; c < NCOLS; c++) {
        if (!cols[c].shown)
            continue;
        size_t m = cols[c].min && cols[c].min < cols[c].natural ? cols[c].min : cols[c].natural;
        sum += use_min ? m : cols[c].w;
        shown++;
    }
    return sum + (shown ? (shown - 1) * GAP : 0);
}

/* Choose which columns show and how wide: natural widths when they fit; else shrink (ORG, NAME,
 * MODE, PACKAGE) down to their minimum; else drop ORG, MODE, PACKAGE, ENV, LAST CHECKED in that
 * order until the minimums fit, then give the room left back. NAME and STATUS always show. */
static void layout(struct col *cols, size_t width)
{
    for (int c = 0; c < NCOLS; c++) {
        cols[c].shown = 1;
        cols[c].w = cols[c].natural;
    }
    for (int rank = 1; total(cols, 1) > width && rank < NCOLS; rank++)
        for (int c = 0; c < NCOLS; c++)
            if (cols[c].drop == rank)
                cols[c].shown = 0;
    for (size_t i = 0; i < sizeof(shrink_order) / sizeof(*shrink_order); i++) {
        struct col *k = &cols[shrink_order[i]];
        size_t t = total(cols, 0);
        if (t <= width)
            break;
        if (!k->shown || k->w <= k->min)
            continue;
        size_t cut = t - width < k->w - k->min ? t - width : k->w - k->min;
        k->w -= cut;
    }
    /* Still too wide (a very narrow terminal): the name gives up to all but 4 columns. */
    size_t t = total(cols, 0);
    if (t > width && cols[C_NAME].w > 4) {
        size_t cut = t - width < cols[C_NAME].w - 4 ? t - width : cols[C_NAME].w - 4;
        cols[C_NAME].w -= cut;
    }
}

static void pad(FILE *fp, size_t n)
{
    while (n--)
        putc(' ', fp);
}

const char *table_status_color(const char *status)
{
    if (!status)
        return "\033[90m";
    if (strcmp(status, "connected") == 0)
        return "\033[32m";
    if (strcmp(status, "failing") == 0)
        return "\033[33m";
    if (strcmp(status, "expired") == 0)
        return "\033[31m";
    return "\033[90m"; /* new, disconnected: grey */
}

/* One line: the shown columns, the last one unpadded. row NULL: the headings. */
static void print_line(FILE *fp, const struct col *cols, const struct isf_org_row *r, int color,
                       int64_t now_ms)
{
    int last = NCOLS - 1;
    while (last > 0 && !cols[last].shown)
        last--;
    int first = 1;
    for (int c = 0; c <= last; c++) {
        if (!cols[c].shown)
            continue;
        if (!first)
            pad(fp, GAP);
        first = 0;
        char buf[CELL_MAX], fit[CELL_MAX + 8];
        const char *text = r ? cell(r, c, now_ms, buf, sizeof(buf)) : cols[c].head;
        size_t w = cols[c].w, used;
        if (r && c == C_STATUS) {
            if (color)
                fprintf(fp, "%s\xE2\x97\x8F\033[0m ", table_status_color(r->status));
            else
                fputs("\xE2\x97\x8F ", fp);
            used = 2 + table_fit(text, w > 2 ? w - 2 : 0, fit, sizeof(fit));
        } else {
            used = table_fit(text, w, fit, sizeof(fit));
        }
        fputs(fit, fp);
        if (c != last)
            pad(fp, w > used ? w - used : 0);
    }
    putc('\n', fp);
}

void table_print_orgs(FILE *fp, const struct isf_org_row *rows, size_t n, int width, int color,
                      int64_t now_ms)
{
    struct col cols[NCOLS] = {
        [C_NAME] = {"NAME", 16, 0, 0, 0, 0},
        [C_STATUS] = {"STATUS", 0, 0, 0, 0, 0},
        [C_MODE] = {"MODE", 10, 0, 0, 2, 0},
        [C_ENV] = {"ENV", 0, 0, 0, 4, 0},
        [C_ORG] = {"ORG", 12, 0, 0, 1, 0},
        [C_PACKAGE] = {"PACKAGE", 7, 0, 0, 3, 0},
        [C_CHECKED] = {"LAST CHECKED", 0, 0, 0, 5, 0},
    };
    for (int c = 0; c < NCOLS; c++)
        cols[c].natural = table_text_width(cols[c].head);
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < NCOLS; c++) {
            size_t w = cell_width(&rows[i], c, now_ms);
            if (w > cols[c].natural)
                cols[c].natural = w;
        }
    layout(cols, width > 0 ? (size_t)width : 100);
    print_line(fp, cols, NULL, color, now_ms);
    for (size_t i = 0; i < n; i++)
        print_line(fp, cols, &rows[i], color, now_ms);
}
