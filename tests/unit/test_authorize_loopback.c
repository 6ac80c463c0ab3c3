/* The loopback redirect listener (loopback.h) driven with raw HTTP over TCP, and the entry
 * checks of the flow (authorize.h): refused outside connect, bad settings, a busy port, the
 * timeout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "authorize.h"
#include "loopback.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void assert_contains(const char *haystack, const char *needle)
{
    if (!haystack || !strstr(haystack, needle))
        fail_msg("expected \"%s\" in \"%s\"", needle, haystack ? haystack : "(null)");
}

/* A port free on 127.0.0.1 right now. */
static unsigned free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

/* One HTTP exchange: send `request` (raw), read the whole answer into a malloc'd string. */
struct exchange {
    unsigned port;
    const char *request;
    char *answer;
};

static void *http_exchange(void *arg)
{
    struct exchange *x = arg;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)x->port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    size_t cap = 65536, got = 0;
    x->answer = calloc(1, cap + 1);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        write(fd, x->request, strlen(x->request)) == (ssize_t)strlen(x->request)) {
        ssize_t n;
        while (got < cap && (n = read(fd, x->answer + got, cap - got)) > 0)
            got += (size_t)n;
    }
    close(fd);
    return NULL;
}

static char *get(unsigned port, const char *request)
{
    struct exchange x = {port, request, NULL};
    http_exchange(&x);
    return x.answer;
}

static struct isf_loopback *start(unsigned port)
{
    struct isf_redirect r;
    struct isf_error err = {sizeof(err), 0, ""};
    char uri[64];
    snprintf(uri, sizeof(uri), "http://localhost:%u/OauthRedirect", port);
    assert_int_equal(isf_redirect_parse(uri, &r, &err), ISF_OK);
    struct isf_loopback *lb = NULL;
    assert_int_equal(isf_loopback_start(&r, "acme", &lb, &err), ISF_OK);
    return lb;
}

static int readable(int fd, int ms)
{
    struct pollfd p = {fd, POLLIN, 0};
    return poll(&p, 1, ms) == 1;
}

static void test_paths_callback_and_replay(void **state)
{
    (void)state;
    unsigned port = free_port();
    struct isf_loopback *lb = start(port);
    char *a = get(port, "GET /elsewhere HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assert_contains(a, "HTTP/1.1 404");
    assert_contains(a, "Not the login redirect");
    assert_contains(a, "Content-Security-Policy: default-src 'none'");
    free(a);
    a = get(port, "POST /OauthRedirect HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n");
    assert_contains(a, "HTTP/1.1 405");
    free(a);
    assert_false(readable(isf_loopback_fd(lb), 0)); /* none of that was a callback */

    /* The callback: its browser waits for the verdict. */
    struct exchange x = {port, "GET /OauthRedirect?code=C%3D1&state=S HTTP/1.1\r\nHost: x\r\n\r\n",
                         NULL};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, http_exchange, &x), 0);
    assert_true(readable(isf_loopback_fd(lb), 5000));
    struct isf_callback cb = {0};
    assert_int_equal(isf_loopback_take(lb, &cb), 1);
    assert_string_equal(cb.code, "C=1");
    assert_string_equal(cb.state, "S");
    isf_callback_clear(&cb);
    assert_int_equal(isf_loopback_take(lb, &cb), 0); /* taken once */

    /* A second request while the first is being worked on: the login is over. */
    a = get(port, "GET /OauthRedirect?code=D&state=S HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_contains(a, "HTTP/1.1 410");
    assert_contains(a, "This login is over");
    free(a);

    isf_loopback_finish(lb, 1, "Org <acme> is connected", "tokens stored");
    pthread_join(t, NULL);
    assert_contains(x.answer, "HTTP/1.1 200");
    assert_contains(x.answer, "Org &lt;acme&gt; is connected");
    assert_contains(x.answer, "Cache-Control: no-store");
    free(x.answer);
    isf_loopback_stop(lb);
}

static void test_oversized_and_stalled(void **state)
{
    (void)state;
    unsigned port = free_port();
    struct isf_loopback *lb = start(port);
    /* A client that sends half a request and then nothing. */
    int stalled = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(stalled, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(write(stalled, "GET /Oauth", 10), 10);

    size_t n = 40000;
    char *big = malloc(n + 100);
    int off = snprintf(big, 100, "GET /OauthRedirect?x=");
    memset(big + off, 'A', n);
    strcpy(big + off + n, " HTTP/1.1\r\nHost: x\r\n\r\n");
    char *ans = get(port, big);
    free(big);
    /* Refused by the server (or the connection dropped), never taken as the callback. */
    assert_true(strstr(ans, " 414 ") || strstr(ans, " 431 ") || strstr(ans, " 413 ") || !*ans);
    free(ans);
    assert_false(readable(isf_loopback_fd(lb), 0));

    /* The real callback still gets through while the stalled client hangs on. */
    struct exchange x = {port, "GET /OauthRedirect?code=C&state=S HTTP/1.1\r\nHost: x\r\n\r\n",
                         NULL};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, http_exchange, &x), 0);
    assert_true(readable(isf_loopback_fd(lb), 5000));
    struct isf_callback cb = {0};
    assert_int_equal(isf_loopback_take(lb, &cb), 1);
    isf_callback_clear(&cb);
    /* Stopping without a verdict does not hang on the waiting browser (which gets the
     * "not completed" page or a closed connection, whichever the shutdown allows). */
    int64_t t0 = isf_monotonic_ms();
    isf_loopback_stop(lb);
    pthread_join(t, NULL);
    assert_true(isf_monotonic_ms() - t0 < 3000);
    assert_true(!*x.answer || strstr(x.answer, "Login not completed"));
    free(x.answer);
    close(stalled);
}

static void test_port_in_use(void **state)
{
    (void)state;
    unsigned port = free_port();
    struct isf_loopback *lb = start(port);
    struct isf_redirect r;
    struct isf_error err = {sizeof(err), 0, ""};
    char uri[64];
    snprintf(uri, sizeof(uri), "http://127.0.0.1:%u/cb", port);
    assert_int_equal(isf_redirect_parse(uri, &r, &err), ISF_OK);
    struct isf_loopback *second = NULL;
    assert_int_equal(isf_loopback_start(&r, "acme", &second, &err), ISF_E_USAGE);
    assert_null(second);
    char want[32];
    snprintf(want, sizeof(want), "port %u", port);
    assert_contains(err.message, want);
    assert_contains(err.message, "already in use");
    isf_loopback_stop(lb);
}

static void test_authorize_entry_checks(void **state)
{
    (void)state;
    struct isf_ctx ctx;
    memset(&ctx, 0, sizeof(ctx));
    struct isf_org_view org;
    memset(&org, 0, sizeof(org));
    org.struct_size = sizeof(org);
    org.name = "acme";
    org.login_url = "https://login.salesforce.com";
    org.client_id = "cid";
    struct isf_session s = {0};
    struct isf_error err = {sizeof(err), 0, ""};
    /* Outside org connect: nobody is there to log in. */
    assert_int_equal(isf_authorize(&ctx, &org, NULL, &s, &err), ISF_E_UNSUPPORTED);
    assert_contains(err.message, "org connect acme");

    struct isf_connect_options co = {sizeof(co), 1, 1};
    ctx.connecting = &co;
    org.client_id = NULL;
    assert_int_equal(isf_authorize(&ctx, &org, NULL, &s, &err), ISF_E_USAGE);
    assert_contains(err.message, "client id");
    org.client_id = "cid";
    org.redirect_uri = "https://example.com/cb";
    assert_int_equal(isf_authorize(&ctx, &org, NULL, &s, &err), ISF_E_USAGE);
    assert_contains(err.message, "loopback");

    /* Nobody logs in: the timeout (1 s here) ends it as a passing failure, naming the org. */
    char uri[64];
    snprintf(uri, sizeof(uri), "http://localhost:%u/cb", free_port());
    org.redirect_uri = uri;
    int saved_stdin = dup(STDIN_FILENO);
    FILE *devnull = freopen("/dev/null", "r", stdin); /* --no-browser reads stdin: give it EOF */
    assert_non_null(devnull);
    assert_int_equal(isf_authorize(&ctx, &org, NULL, &s, &err), ISF_E_TRANSIENT);
    assert_contains(err.message, "nobody completed the login within 1 s");
    dup2(saved_stdin, STDIN_FILENO);
    close(saved_stdin);
    assert_null(s.access_token);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths_callback_and_replay),
        cmocka_unit_test(test_oversized_and_stalled),
        cmocka_unit_test(test_port_in_use),
        cmocka_unit_test(test_authorize_entry_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
