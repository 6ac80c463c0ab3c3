/* The HTML pages of the browser flow, shaped like Salesforce's: the login form (#username,
 * #password named pw, #Login), the "Allow Access?" consent page (#oaapprove, #oadeny) and the
 * OAuth error page that is shown instead of a redirect when the client or its redirect_uri cannot
 * be trusted. Every value is HTML-escaped; the pages load nothing from elsewhere. */
#include "fake_org.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOGIN_ACTION "/login"
#define CONSENT_ACTION "/setup/secur/RemoteAccessAuthorizationPage.apexp"
/* Salesforce's own wording for a failed login. */
#define BAD_LOGIN_TEXT                                                                             \
    "Please check your username and password. If you still can't log in, contact your "            \
    "Salesforce administrator."

static const char style[] =
    "body{font-family:sans-serif;background:#f3f3f3;margin:0}"
    "main{max-width:24rem;margin:3rem auto;background:#fff;padding:1.5rem;border-radius:4px}"
    "label{display:block;margin-top:.8rem}input[type=text],input[type=password]{width:100%;"
    "box-sizing:border-box;padding:.5rem}.btn{margin-top:1rem;padding:.5rem 1rem}"
    ".error{color:#c23934}";

/* Writes s with &, <, >, " and ' escaped. */
static void put_escaped(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&#39;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

static void page_head(FILE *f, const char *title)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>", f);
    put_escaped(f, title);
    fprintf(f,
            "</title><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "<style>%s</style></head>\n<body><main id=\"content\">\n",
            style);
}

/* A page is written to a memory stream; its buffer and length are final after fclose. */
struct page {
    FILE *f;
    char *buf;
    size_t len;
};

static int page_open(struct page *p, const char *title)
{
    p->buf = NULL;
    p->len = 0;
    p->f = open_memstream(&p->buf, &p->len);
    if (!p->f)
        return -1;
    page_head(p->f, title);
    return 0;
}

/* Sends the page (and frees it); pages are never cached and may only post back to this server. */
static enum MHD_Result page_send(struct fo_request *req, unsigned status, struct page *p)
{
    struct MHD_Response *resp;
    enum MHD_Result rc;

    fputs("</main></body></html>\n", p->f);
    if (fclose(p->f) != 0) {
        free(p->buf);
        return MHD_NO;
    }
    resp = MHD_create_response_from_buffer(p->len, p->buf, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(p->buf);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html;charset=UTF-8");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache,no-store,private");
    MHD_add_response_header(resp, "Content-Security-Policy",
                            "default-src 'none'; style-src 'unsafe-inline'; "
                            "frame-ancestors 'none'");
    rc = MHD_queue_response(req->conn, status, resp);
    MHD_destroy_response(resp);
    req->status = status;
    return rc;
}

enum MHD_Result fo_page_error(struct fo_request *req, unsigned status, const char *error,
                              const char *description)
{
    struct page p;

    if (page_open(&p, "OAuth Error") != 0)
        return MHD_NO;
    fputs("<h1>OAuth Error</h1>\n<p>We can't authorize you because of an OAuth error. For more "
          "information, contact your Salesforce administrator.</p>\n<p id=\"error\">error=",
          p.f);
    put_escaped(p.f, error);
    fputs("</p>\n<p id=\"error_description\">", p.f);
    put_escaped(p.f, description);
    fputs("</p>\n", p.f);
    return page_send(req, status, &p);
}

static void hidden_pending(FILE *f, const char *pending_id)
{
    fputs("<input type=\"hidden\" name=\"pending\" value=\"", f);
    put_escaped(f, pending_id);
    fputs("\">\n", f);
}

enum MHD_Result fo_page_login(struct fo_request *req, const char *pending_id, const char *client_id,
                              const char *username, const char *error)
{
    struct page p;

    if (page_open(&p, "Login | Salesforce") != 0)
        return MHD_NO;
    fputs("<h1>Log In</h1>\n<p>to authorize <b id=\"client\">", p.f);
    put_escaped(p.f, client_id);
    fputs("</b></p>\n", p.f);
    if (error)
        fprintf(p.f, "<div id=\"error\" class=\"error\" role=\"alert\">%s</div>\n", BAD_LOGIN_TEXT);
    fputs("<form id=\"login_form\" name=\"login\" method=\"post\" action=\"" LOGIN_ACTION
          "\" autocomplete=\"off\">\n",
          p.f);
    hidden_pending(p.f, pending_id);
    fputs("<label for=\"username\">Username</label>"
          "<input type=\"text\" id=\"username\" name=\"username\" value=\"",
          p.f);
    put_escaped(p.f, username);
    fputs("\">\n<label for=\"password\">Password</label>"
          "<input type=\"password\" id=\"password\" name=\"pw\" value=\"\">\n"
          "<input type=\"submit\" id=\"Login\" name=\"Login\" class=\"btn\" value=\"Log In\">\n"
          "</form>\n",
          p.f);
    return page_send(req, 200, &p);
}

enum MHD_Result fo_page_consent(struct fo_request *req, const char *pending_id,
                                const char *client_id, const char *scope, const char *username)
{
    char *words = strdup(scope ? scope : "");
    struct page p;

    if (!words || page_open(&p, "Allow Access?") != 0) {
        free(words);
        return MHD_NO;
    }
    fputs("<h1>Allow Access?</h1>\n<p><b id=\"client\">", p.f);
    put_escaped(p.f, client_id);
    fputs("</b> is asking to:</p>\n<ul id=\"scopes\">\n", p.f);
    for (char *save = NULL, *w = strtok_r(words, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        fputs("<li>", p.f);
        put_escaped(p.f, w);
        fputs("</li>\n", p.f);
    }
    free(words);
    fputs("</ul>\n<p>You are logged in as <span id=\"user\">", p.f);
    put_escaped(p.f, username);
    fputs("</span>.</p>\n<form id=\"frm\" method=\"post\" action=\"" CONSENT_ACTION "\">\n", p.f);
    hidden_pending(p.f, pending_id);
    fputs("<input type=\"submit\" id=\"oaapprove\" name=\"oaapprove\" class=\"btn\" "
          "value=\"Allow\">\n"
          "<input type=\"submit\" id=\"oadeny\" name=\"oadeny\" class=\"btn\" value=\"Deny\">\n"
          "</form>\n",
          p.f);
    return page_send(req, 200, &p);
}
