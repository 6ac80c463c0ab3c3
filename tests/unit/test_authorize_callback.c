/* The redirect that ends the browser step (authorize_callback.h) and the page the loopback
 * listener answers with (authorize_page.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "authorize_callback.h"
#include "authorize_page.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATE "q2W8sR5tYb0kLm3NpXz1Aw"

static void assert_contains(const char *haystack, const char *needle)
{
    if (!haystack || !strstr(haystack, needle))
        fail_msg("expected \"%s\" in \"%s\"", needle, haystack ? haystack : "(null)");
}

static void assert_not_contains(const char *haystack, const char *needle)
{
    if (haystack && strstr(haystack, needle))
        fail_msg("\"%s\" must not appear in \"%s\"", needle, haystack);
}

/* Parse `text` and judge it against STATE; the message is left in *err. */
static int judge(const char *text, struct isf_callback *cb, struct isf_error *err)
{
    memset(cb, 0, sizeof(*cb));
    isf_err_init(err);
    assert_int_equal(isf_callback_parse_query(cb, text), 0);
    return isf_callback_check(cb, "acme", STATE, err);
}

static void test_good_callback(void **state)
{
    (void)state;
    struct isf_callback cb;
    struct isf_error err;
    assert_int_equal(judge("code=aPrx.abc%3D%3D&state=" STATE, &cb, &err), ISF_OK);
    assert_string_equal(cb.code, "aPrx.abc=="); /* percent-decoded */
    assert_string_equal(cb.state, STATE);
    assert_null(cb.error);
    isf_callback_clear(&cb);
    assert_null(cb.code);
}

static void test_pasted_full_url(void **state)
{
    (void)state;
    struct isf_callback cb;
    struct isf_error err;
    /* What a user copies from the address bar, with a trailing fragment and a CR. */
    assert_int_equal(judge("http://localhost:1717/OauthRedirect?state=" STATE
                           "&code=C0de&extra=ignored#frag\r",
                           &cb, &err),
                     ISF_OK);
    assert_string_equal(cb.code, "C0de");
    assert_true(isf_callback_present(&cb));
    isf_callback_clear(&cb);

    /* Not a redirect at all. */
    memset(&cb, 0, sizeof(cb));
    assert_int_equal(isf_callback_parse_query(&cb, "hello there"), 0);
    assert_false(isf_callback_present(&cb));
    isf_callback_clear(&cb);
}

static void test_wrong_or_missing_state(void **state)
{
    (void)state;
    struct isf_callback cb;
    struct isf_error err;
    assert_int_equal(judge("code=C&state=forged", &cb, &err), ISF_E_AUTH);
    assert_contains(err.message, "wrong state");
    assert_contains(err.message, "isyncsf org connect acme");
    isf_callback_clear(&cb);
    /* A prefix of the right state, or the right one plus more, is still wrong. */
    assert_int_equal(judge("code=C&state=q2W8sR5tYb0kLm3NpXz1A", &cb, &err), ISF_E_AUTH);
    isf_callback_clear(&cb);
    assert_int_equal(judge("code=C&state=" STATE "x", &cb, &err), ISF_E_AUTH);
    isf_callback_clear(&cb);
    assert_int_equal(judge("code=C", &cb, &err), ISF_E_AUTH);
    assert_contains(err.message, "no state");
    isf_callback_clear(&cb);
    /* Case matters. */
    assert_int_equal(judge("code=C&state=Q2W8sR5tYb0kLm3NpXz1Aw", &cb, &err), ISF_E_AUTH);
    isf_callback_clear(&cb);
}

static void test_missing_code(void **state)
{
    (void)state;
    struct isf_callback cb;
    struct isf_error err;
    assert_int_equal(judge("state=" STATE, &cb, &err), ISF_E_AUTH);
    assert_contains(err.message, "no authorization code");
    isf_callback_clear(&cb);
    assert_int_equal(judge("state=" STATE "&code=", &cb, &err), ISF_E_AUTH);
    isf_callback_clear(&cb);
}

static void test_denied_with_description(void **state)
{
    (void)state;
    struct isf_callback cb;
    struct isf_error err;
    assert_int_equal(judge("error=access_denied&error_description=end-user+denied+authorization"
                           "&state=" STATE,
                           &cb, &err),
                     ISF_E_AUTH);
    assert_contains(err.message, "denied");
    assert_contains(err.message, "end-user denied authorization"); /* '+' is a space */
    assert_contains(err.message, "Allow");
    isf_callback_clear(&cb);

    /* Other RFC 6749 4.1.2.1 errors: a person must act, except the two passing ones. */
    assert_int_equal(judge("error=invalid_scope&state=" STATE, &cb, &err), ISF_E_AUTH);
    assert_contains(err.message, "invalid_scope");
    assert_contains(err.message, "no description");
    isf_callback_clear(&cb);
    assert_int_equal(judge("error=server_error&state=" STATE, &cb, &err), ISF_E_TRANSIENT);
    assert_contains(err.message, "try again later");
    isf_callback_clear(&cb);
    assert_int_equal(judge("error=temporarily_unavailable&state=" STATE, &cb, &err),
                     ISF_E_TRANSIENT);
    isf_callback_clear(&cb);

    /* An error with a forged state is judged on the state first. */
    assert_int_equal(judge("error=access_denied&state=forged", &cb, &err), ISF_E_AUTH);
    assert_contains(err.message, "wrong state");
    isf_callback_clear(&cb);

    /* Control characters in a description never reach the terminal. */
    assert_int_equal(
        judge("error=access_denied&error_description=a%1B%5B31mred%0Aline&state=" STATE, &cb, &err),
        ISF_E_AUTH);
    assert_not_contains(err.message, "\x1b");
    assert_not_contains(err.message, "\n");
    isf_callback_clear(&cb);
}

static void test_duplicates_and_oversize(void **state)
{
    (void)state;
    struct isf_callback cb;
    struct isf_error err;
    assert_int_equal(judge("code=A&code=B&state=" STATE, &cb, &err), ISF_E_AUTH);
    assert_true(cb.duplicate);
    assert_contains(err.message, "repeated");
    isf_callback_clear(&cb);
    assert_int_equal(judge("code=A&state=" STATE "&state=" STATE, &cb, &err), ISF_E_AUTH);
    isf_callback_clear(&cb);

    size_t n = ISF_CALLBACK_VALUE_MAX + 10;
    char *text = malloc(n + 64);
    assert_non_null(text);
    int off = snprintf(text, 64, "state=" STATE "&code=");
    memset(text + off, 'x', n);
    text[off + (int)n] = '\0';
    assert_int_equal(judge(text, &cb, &err), ISF_E_AUTH);
    assert_true(cb.too_long);
    assert_contains(err.message, "oversized");
    isf_callback_clear(&cb);
    free(text);
}

static void test_decoding_edges(void **state)
{
    (void)state;
    struct isf_callback cb = {0};
    /* A malformed escape stays as it is; a key without '=' is an empty value; '&&' is skipped. */
    assert_int_equal(isf_callback_parse_query(&cb, "code=a%zzb%4&&error&state=%41%62"), 0);
    assert_string_equal(cb.code, "a%zzb%4");
    assert_string_equal(cb.error, "");
    assert_string_equal(cb.state, "Ab");
    isf_callback_clear(&cb);
}

static void test_html_escape(void **state)
{
    (void)state;
    char *e = isf_html_escape("<script>alert(\"x\")</script> & 'q'\x01\x7f");
    assert_non_null(e);
    assert_string_equal(e, "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;");
    free(e);
}

static void test_page(void **state)
{
    (void)state;
    char *ok = isf_authorize_page(1, "Org <acme> is connected", "done & dusted");
    assert_non_null(ok);
    assert_contains(ok, "<!DOCTYPE html>");
    assert_contains(ok, "Org &lt;acme&gt; is connected");
    assert_contains(ok, "done &amp; dusted");
    assert_contains(ok, "data-ok=\"true\"");
    assert_contains(ok, "return to the terminal");
    assert_not_contains(ok, "<acme>");
    /* Self-contained: no external resource, no script. */
    assert_not_contains(ok, "src=");
    assert_not_contains(ok, "href=");
    assert_not_contains(ok, "<script");
    assert_not_contains(ok, "http://");
    assert_not_contains(ok, "https://");
    free(ok);
    char *bad = isf_authorize_page(0, "Not connected", "<img src=x onerror=alert(1)>");
    assert_non_null(bad);
    assert_contains(bad, "data-ok=\"false\"");
    assert_not_contains(bad, "<img");
    free(bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_callback),
        cmocka_unit_test(test_pasted_full_url),
        cmocka_unit_test(test_wrong_or_missing_state),
        cmocka_unit_test(test_missing_code),
        cmocka_unit_test(test_denied_with_description),
        cmocka_unit_test(test_duplicates_and_oversize),
        cmocka_unit_test(test_decoding_edges),
        cmocka_unit_test(test_html_escape),
        cmocka_unit_test(test_page),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
