/* The `org list` table: columns sized to the output's width, cells truncated with "…" (never
 * wrapped), columns shrunk and then dropped in a fixed priority when the width is short. */
#ifndef ISF_CLI_TABLE_H
#define ISF_CLI_TABLE_H

#include <isyncsf/isyncsf.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Display width of UTF-8 text, in columns: one per code point (the table's own glyphs, "●" and
 * "…", are one column each; names are ASCII). */
size_t table_text_width(const char *s);

/* Copy s into out (size cap) truncated to at most width columns: when it is longer, the last
 * column kept is "…". Control characters become '?'. Returns the columns written. */
size_t table_fit(const char *s, size_t width, char *out, size_t cap);

/* "just now", "5m ago", "3h ago", "2d ago", or "never" (at_ms <= 0); now_ms is the clock. */
void table_relative_time(int64_t at_ms, int64_t now_ms, char *out, size_t cap);

/* The width to render for: forced (> 0), else the terminal's when fd is one, else $COLUMNS
 * when set to a number, else 100. */
int table_width(int forced, int fd);

/* The ANSI colour of a status: green connected, yellow failing, red expired, grey otherwise. */
const char *table_status_color(const char *status);

/* Print the org table for rows (already filtered and sorted) to fp, at most width columns per
 * line; color: the status dot in its colour (ANSI), else no escape code at all. */
void table_print_orgs(FILE *fp, const struct isf_org_row *rows, size_t n, int width, int color,
                      int64_t now_ms);

/* output.c: whether to colour (the terminal test of main.c, ISYNCSF_COLOR=always|never to
 * override it, e.g. for tests; NO_COLOR wins over both), and the org table on stdout (width: a
 * forced width, or 0 for table_width's choice). */
struct cli;
int out_color(const struct cli *cli);
void out_org_table(struct cli *cli, const struct isf_org_row *rows, size_t n, int width);

#endif
