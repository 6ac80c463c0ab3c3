/* The daemon's schedule (core/src/daemon_sched.c): set, replace, remove, take what is due in
 * order, and a randomised run against a plain array as the reference. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "daemon_sched.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef char name_buf[ISF_SCHED_NAME_MAX + 1];

static void test_empty(void **state)
{
    (void)state;
    struct isf_sched *s = isf_sched_new();
    name_buf out[4];
    assert_non_null(s);
    assert_int_equal(isf_sched_count(s), 0);
    assert_true(isf_sched_next(s) == INT64_MAX);
    assert_true(isf_sched_due(s, "acme") == INT64_MAX);
    assert_int_equal(isf_sched_take_due(s, INT64_MAX - 1, INT64_MAX - 1, out, 4), 0);
    isf_sched_remove(s, "acme"); /* absent: nothing happens */
    isf_sched_free(s);
}

static void test_set_replace_remove(void **state)
{
    (void)state;
    struct isf_sched *s = isf_sched_new();
    assert_int_equal(isf_sched_set(s, "c", 300), 0);
    assert_int_equal(isf_sched_set(s, "a", 100), 0);
    assert_int_equal(isf_sched_set(s, "b", 200), 0);
    assert_int_equal(isf_sched_count(s), 3);
    assert_true(isf_sched_next(s) == 100);
    assert_int_equal(isf_sched_set(s, "a", 400), 0); /* replaced, not added */
    assert_int_equal(isf_sched_count(s), 3);
    assert_true(isf_sched_next(s) == 200);
    assert_true(isf_sched_due(s, "a") == 400);
    assert_int_equal(isf_sched_set(s, "b", INT64_MAX), 0); /* needs no work: removed */
    assert_int_equal(isf_sched_count(s), 2);
    assert_true(isf_sched_due(s, "b") == INT64_MAX);
    assert_true(isf_sched_next(s) == 300);
    isf_sched_remove(s, "c");
    assert_true(isf_sched_next(s) == 400);
    char long_name[ISF_SCHED_NAME_MAX + 2];
    memset(long_name, 'x', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    assert_int_equal(isf_sched_set(s, long_name, 1), -1); /* not an org name */
    assert_int_equal(isf_sched_count(s), 1);
    isf_sched_clear(s);
    assert_int_equal(isf_sched_count(s), 0);
    assert_true(isf_sched_due(s, "a") == INT64_MAX);
    assert_int_equal(isf_sched_set(s, "a", 5), 0); /* usable after clear */
    assert_true(isf_sched_next(s) == 5);
    isf_sched_free(s);
}

static void test_take_due(void **state)
{
    (void)state;
    struct isf_sched *s = isf_sched_new();
    name_buf out[8];
    isf_sched_set(s, "late", 5000);
    isf_sched_set(s, "second", 20);
    isf_sched_set(s, "first", 10);
    isf_sched_set(s, "third", 30);
    /* At 25: the two due, earliest first; each moved to the retry time given. */
    assert_int_equal(isf_sched_take_due(s, 25, 1000, out, 8), 2);
    assert_string_equal(out[0], "first");
    assert_string_equal(out[1], "second");
    assert_true(isf_sched_due(s, "first") == 1000);
    assert_true(isf_sched_due(s, "second") == 1000);
    assert_true(isf_sched_next(s) == 30);
    /* max is respected. */
    assert_int_equal(isf_sched_take_due(s, 2000, 3000, out, 1), 1);
    assert_string_equal(out[0], "third");
    assert_int_equal(isf_sched_count(s), 4);
    isf_sched_free(s);
}

/* 20,000 random operations on 3,000 names, checked against a plain array. */
static void test_random_against_reference(void **state)
{
    (void)state;
    enum { NAMES = 3000, OPS = 20000 };
    static int64_t ref[NAMES]; /* INT64_MAX = not scheduled */
    static name_buf out[NAMES];
    char name[32];
    struct isf_sched *s = isf_sched_new();
    srand(12345);
    for (int i = 0; i < NAMES; i++)
        ref[i] = INT64_MAX;
    for (int op = 0; op < OPS; op++) {
        int i = rand() % NAMES;
        snprintf(name, sizeof(name), "org-%d", i);
        int kind = rand() % 10;
        if (kind < 6) {
            int64_t due = rand() % 100000;
            assert_int_equal(isf_sched_set(s, name, due), 0);
            ref[i] = due;
        } else if (kind < 8) {
            isf_sched_remove(s, name);
            ref[i] = INT64_MAX;
        } else {
            assert_true(isf_sched_due(s, name) == ref[i]);
        }
        if (op % 1000 == 0) {
            int64_t min = INT64_MAX;
            size_t count = 0;
            for (int k = 0; k < NAMES; k++) {
                if (ref[k] != INT64_MAX)
                    count++;
                if (ref[k] < min)
                    min = ref[k];
            }
            assert_int_equal(isf_sched_count(s), count);
            assert_true(isf_sched_next(s) == min);
        }
    }
    /* Take everything due by 50,000: exactly the reference's, in due order. */
    size_t want = 0;
    for (int k = 0; k < NAMES; k++)
        want += ref[k] <= 50000;
    size_t got = isf_sched_take_due(s, 50000, 200000, out, NAMES);
    assert_int_equal(got, want);
    int64_t prev = -1;
    for (size_t k = 0; k < got; k++) {
        int idx = atoi(out[k] + 4);
        assert_true(ref[idx] <= 50000);
        assert_true(ref[idx] >= prev);
        prev = ref[idx];
        assert_true(isf_sched_due(s, out[k]) == 200000);
    }
    assert_true(isf_sched_next(s) > 50000);
    isf_sched_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_set_replace_remove),
        cmocka_unit_test(test_take_due),
        cmocka_unit_test(test_random_against_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
