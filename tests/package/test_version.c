/*
 * The version in include/hashmap/version.h, and the one compiled into the
 * library, agree with the CMake project version (passed in as
 * HM_EXPECT_MAJOR, _MINOR, _PATCH and _STRING by tests/package/CMakeLists.txt).
 * The header is kept by hand; this test is what keeps it honest.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "hashmap.h"

static void test_version_macros_match_project(void **state)
{
    (void)state;
    assert_int_equal(HM_VERSION_MAJOR, HM_EXPECT_MAJOR);
    assert_int_equal(HM_VERSION_MINOR, HM_EXPECT_MINOR);
    assert_int_equal(HM_VERSION_PATCH, HM_EXPECT_PATCH);
    assert_string_equal(HM_VERSION_STRING, HM_EXPECT_STRING);
    assert_int_equal(HM_VERSION_NUMBER,
                     HM_EXPECT_MAJOR * 10000 + HM_EXPECT_MINOR * 100 + HM_EXPECT_PATCH);
}

/* The number packs minor and patch in two decimal digits each. */
static void test_version_parts_fit_the_number(void **state)
{
    (void)state;
    assert_in_range(HM_VERSION_MINOR, 0, 99);
    assert_in_range(HM_VERSION_PATCH, 0, 99);
}

static void test_version_runtime_matches_header(void **state)
{
    (void)state;
    assert_int_equal(hm_version(), HM_VERSION_NUMBER);
    assert_non_null(hm_version_string());
    assert_string_equal(hm_version_string(), HM_VERSION_STRING);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_macros_match_project),
        cmocka_unit_test(test_version_parts_fit_the_number),
        cmocka_unit_test(test_version_runtime_matches_header),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
