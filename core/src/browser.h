/* Opening the login page: $BROWSER, else xdg-open, run directly (no shell) with the URL as its
 * one argument, without waiting for it; the caller polls it so that a browser that could not
 * start is noticed (and the URL printed instead) while the login is awaited. */
#ifndef ISF_BROWSER_H
#define ISF_BROWSER_H

#include <stddef.h>
#include <sys/types.h>

struct isf_browser {
    pid_t pid;         /* -1 when not running (never started, or reaped) */
    char command[128]; /* what was run, for messages */
};

/* Start the browser on url. 0 when it started; -1 with a reason in why (e.g. "xdg-open was not
 * found") when it did not. */
int isf_browser_open(const char *url, struct isf_browser *b, char *why, size_t why_len);

/* Whether the browser command ended, without waiting: 0 still running or ended well (or never
 * started), 1 it ended with a failure (why says how). Reaps it. */
int isf_browser_poll(struct isf_browser *b, char *why, size_t why_len);

#endif
