/* The small HTML page the loopback listener answers the browser with: self-contained (inline
 * CSS, no script, no external resource), every dynamic text HTML-escaped. */
#ifndef ISF_AUTHORIZE_PAGE_H
#define ISF_AUTHORIZE_PAGE_H

/* &, <, >, " and ' escaped; control characters dropped. malloc'd; NULL when out of memory. */
char *isf_html_escape(const char *s);

/* A whole page: a heading (`title`) and a paragraph (`detail`), both escaped, styled green when
 * ok and red otherwise, ending with "You can close this tab and return to the terminal."
 * malloc'd; NULL when out of memory. */
char *isf_authorize_page(int ok, const char *title, const char *detail);

#endif
