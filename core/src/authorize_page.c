/* The loopback listener's answer page (authorize_page.h). */
#include "authorize_page.h"

#include "util.h"

#include <stdlib.h>
#include <string.h>

char *isf_html_escape(const char *s)
{
    size_t n = 1;
    for (const char *p = s; *p; p++)
        n += 6; /* the longest entity, "&quot;", is 6 bytes */
    char *out = malloc(n);
    if (!out)
        return NULL;
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        const char *ent = NULL;
        switch (*p) {
        case '&':
            ent = "&amp;";
            break;
        case '<':
            ent = "&lt;";
            break;
        case '>':
            ent = "&gt;";
            break;
        case '"':
            ent = "&quot;";
            break;
        case '\'':
            ent = "&#39;";
            break;
        default:
            break;
        }
        if (ent) {
            size_t el = strlen(ent);
            memcpy(out + o, ent, el);
            o += el;
        } else if (*p >= ' ' && *p != 0x7f) {
            out[o++] = (char)*p;
        }
    }
    out[o] = '\0';
    return out;
}

char *isf_authorize_page(int ok, const char *title, const char *detail)
{
    char *t = isf_html_escape(title), *d = isf_html_escape(detail);
    char *page = NULL;
    if (t && d)
        page = isf_aprintf(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "<title>isyncsf: %s</title><style>"
            "body{font-family:system-ui,sans-serif;background:#f4f6f9;color:#181818;margin:0;"
            "display:flex;min-height:100vh;align-items:center;justify-content:center}"
            "main{background:#fff;border-radius:8px;box-shadow:0 2px 8px rgba(0,0,0,.12);"
            "padding:2rem 2.5rem;max-width:36rem;border-top:6px solid %s}"
            "h1{font-size:1.4rem;margin:0 0 1rem;color:%s}p{line-height:1.5}"
            "</style></head><body><main><h1 id=\"result\" data-ok=\"%s\">%s</h1>"
            "<p id=\"detail\">%s</p><p>You can close this tab and return to the terminal.</p>"
            "</main></body></html>\n",
            t, ok ? "#2e844a" : "#ba0517", ok ? "#2e844a" : "#ba0517", ok ? "true" : "false", t, d);
    free(t);
    free(d);
    return page;
}
