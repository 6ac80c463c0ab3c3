/* Who may log in (--user NAME:PASSWORD) and where each client may be sent back
 * (--callback ID:URL), both fixed at start-up. Like Salesforce, a redirect_uri must equal one of
 * the client's registered callback URLs exactly; a client without any registered callback accepts
 * any loopback URL, so tests that pick a random loopback port need no set-up. */
#include "fake_org.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_PASSWORD "fake-org-password"

/* Splits "A:B" into two new strings; the part after the first ':' may hold more colons (URLs). */
static int split_pair(const char *arg, char **left, char **right)
{
    const char *colon = strchr(arg, ':');

    if (!colon || colon == arg || !colon[1])
        return -1;
    *left = strndup(arg, (size_t)(colon - arg));
    *right = strdup(colon + 1);
    if (!*left || !*right) {
        free(*left);
        free(*right);
        return -1;
    }
    return 0;
}

int fo_add_user(struct fo_server *srv, const char *arg)
{
    struct fo_user *u;

    if (srv->nusers >= FO_MAX_USERS) {
        fprintf(stderr, "fake-org: at most %d --user options\n", FO_MAX_USERS);
        return -1;
    }
    u = &srv->users[srv->nusers];
    if (split_pair(arg, &u->name, &u->password) != 0) {
        fprintf(stderr, "fake-org: --user wants NAME:PASSWORD\n"); /* arg holds a password */
        return -1;
    }
    srv->nusers++;
    return 0;
}

int fo_add_callback(struct fo_server *srv, const char *arg)
{
    struct fo_callback *c;

    if (srv->ncallbacks >= FO_MAX_CALLBACKS) {
        fprintf(stderr, "fake-org: at most %d --callback options\n", FO_MAX_CALLBACKS);
        return -1;
    }
    c = &srv->callbacks[srv->ncallbacks];
    if (split_pair(arg, &c->client_id, &c->url) != 0 ||
        (strncmp(c->url, "http://", 7) != 0 && strncmp(c->url, "https://", 8) != 0)) {
        fprintf(stderr,
                "fake-org: --callback wants CLIENT_ID:URL (http:// or https://), got '%s'\n", arg);
        free(c->client_id);
        free(c->url);
        c->client_id = c->url = NULL;
        return -1;
    }
    srv->ncallbacks++;
    return 0;
}

static bool client_known(const struct fo_server *srv, const char *id)
{
    for (int i = 0; i < srv->nclients; i++) {
        if (strcmp(srv->clients[i].id, id) == 0)
            return true;
    }
    return false;
}

/* After the command line: every callback names a known client, and there is a user to log in
 * with (the org's username with a fixed password, unless --user gave some). */
int fo_accounts_finish(struct fo_server *srv)
{
    for (int i = 0; i < srv->ncallbacks; i++) {
        if (!client_known(srv, srv->callbacks[i].client_id)) {
            fprintf(stderr,
                    "fake-org: --callback names the client '%s', which no --client or "
                    "--jwt-client registers\n",
                    srv->callbacks[i].client_id);
            return -1;
        }
    }
    if (srv->nusers == 0) {
        srv->users[0].name = strdup(srv->knobs.username);
        srv->users[0].password = strdup(DEFAULT_PASSWORD);
        if (!srv->users[0].name || !srv->users[0].password)
            return -1;
        srv->nusers = 1;
    }
    return 0;
}

void fo_accounts_free(struct fo_server *srv)
{
    for (int i = 0; i < srv->nusers; i++) {
        free(srv->users[i].name);
        fo_wipe_free(srv->users[i].password);
    }
    srv->nusers = 0;
    for (int i = 0; i < srv->ncallbacks; i++) {
        free(srv->callbacks[i].client_id);
        free(srv->callbacks[i].url);
    }
    srv->ncallbacks = 0;
}

bool fo_user_ok(const struct fo_server *srv, const char *name, const char *password)
{
    if (!name || !password)
        return false;
    for (int i = 0; i < srv->nusers; i++) {
        const char *want = srv->users[i].password;
        if (strcmp(srv->users[i].name, name) != 0)
            continue;
        return strlen(want) == strlen(password) && CRYPTO_memcmp(want, password, strlen(want)) == 0;
    }
    return false;
}

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
    }
    return true;
}

/* host[:port] of an authority without user info: localhost, 127.x.y.z or [::1]. */
static bool loopback_authority(const char *a, size_t n)
{
    const char *colon;
    size_t host_len = n;

    if (n > 5 && strncmp(a, "[::1]", 5) == 0)
        return a[5] == ':' && n > 6 && all_digits(a + 6, n - 6);
    if (n == 5 && strncmp(a, "[::1]", 5) == 0)
        return true;
    colon = memchr(a, ':', n);
    if (colon) {
        host_len = (size_t)(colon - a);
        if (host_len + 1 == n || !all_digits(colon + 1, n - host_len - 1))
            return false;
    }
    if (host_len == 9 && strncasecmp(a, "localhost", 9) == 0)
        return true;
    if (host_len < 9 || strncmp(a, "127.", 4) != 0)
        return false;
    for (size_t i = 4; i < host_len; i++) {
        if (a[i] != '.' && (a[i] < '0' || a[i] > '9'))
            return false;
    }
    return true;
}

/* http(s)://localhost, 127.0.0.0/8 or [::1], any port and path, no user info or fragment. */
bool fo_is_loopback_url(const char *uri)
{
    const char *a;
    size_t n;

    if (strncmp(uri, "http://", 7) == 0)
        a = uri + 7;
    else if (strncmp(uri, "https://", 8) == 0)
        a = uri + 8;
    else
        return false;
    if (strchr(uri, '#'))
        return false;
    n = strcspn(a, "/?");
    if (memchr(a, '@', n))
        return false;
    return loopback_authority(a, n);
}

bool fo_redirect_allowed(const struct fo_server *srv, int client, const char *uri)
{
    const char *id = srv->clients[client].id;
    bool registered = false;

    for (int i = 0; i < srv->ncallbacks; i++) {
        if (strcmp(srv->callbacks[i].client_id, id) != 0)
            continue;
        registered = true;
        if (strcmp(srv->callbacks[i].url, uri) == 0)
            return true;
    }
    return !registered && fo_is_loopback_url(uri);
}
