/* The daemon's logfmt lines (core/src/daemon_log.c): plain values bare, others quoted with \" and
 * \\ escaped, control characters flattened (one event per line), times in RFC 3339, absent
 * values left out, and a line that cannot overflow its buffer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "daemon_log.h"

#include <string.h>

static void test_plain_and_quoted(void **state)
{
    (void)state;
    struct isf_kvline l;
    isf_kv_init(&l);
    isf_kv_str(&l, "org", "acme-prod.eu_1");
    isf_kv_str(&l, "event", "refresh");
    isf_kv_str(&l, "message", "said \"no\" at C:\\path");
    isf_kv_str(&l, "empty", "");
    isf_kv_str(&l, "eq", "a=b");
    isf_kv_str(&l, "absent", NULL);
    assert_string_equal(l.buf, "org=acme-prod.eu_1 event=refresh message=\"said \\\"no\\\" at "
                               "C:\\\\path\" empty=\"\" eq=\"a=b\"");
}

static void test_one_line(void **state)
{
    (void)state;
    struct isf_kvline l;
    isf_kv_init(&l);
    isf_kv_str(&l, "message", "first\nsecond\r\tthird");
    assert_null(strchr(l.buf, '\n'));
    assert_string_equal(l.buf, "message=\"first second  third\"");
}

static void test_numbers_and_times(void **state)
{
    (void)state;
    struct isf_kvline l;
    isf_kv_init(&l);
    isf_kv_int(&l, "elapsed_ms", -42);
    isf_kv_time(&l, "expires_at", 1764886888000LL); /* 2025-12-04T22:21:28Z */
    isf_kv_time(&l, "unknown", 0);
    isf_kv_time(&l, "next_due", INT64_MAX);
    assert_string_equal(l.buf, "elapsed_ms=-42 expires_at=2025-12-04T22:21:28Z next_due=never");
}

static void test_never_overflows(void **state)
{
    (void)state;
    struct isf_kvline l;
    char big[3000];
    memset(big, '"', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    isf_kv_init(&l);
    isf_kv_str(&l, "message", big);
    isf_kv_str(&l, "after", "x");
    assert_true(l.len < sizeof(l.buf));
    assert_int_equal(strlen(l.buf), l.len);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_and_quoted),
        cmocka_unit_test(test_one_line),
        cmocka_unit_test(test_numbers_and_times),
        cmocka_unit_test(test_never_overflows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
