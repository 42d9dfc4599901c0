/*
 * selfsym.c: a function of the main program found in its own symbol table,
 * here the test binary's (built with one: meson keeps it unstripped).
 */
#include <check.h>
#include <stddef.h>

#include "selfsym.h"
#include "suites.h"

/* Not exported (static): only the symbol table knows it. */
__attribute__((noinline, used)) static int selfsym_probe(int x)
{
	return x * 3 + 1;
}

START_TEST(test_static_function_found)
{
	int (*found)(int) = (int (*)(int))rcpt_selfsym__find("selfsym_probe");
	ck_assert_ptr_eq((void *)found, (void *)selfsym_probe);
	ck_assert_int_eq(found(4), 13);
}
END_TEST

START_TEST(test_unknown_name)
{
	ck_assert_ptr_null(rcpt_selfsym__find("no_such_function_here"));
	ck_assert_ptr_null(rcpt_selfsym__find(""));
}
END_TEST

Suite *selfsym_suite(void)
{
	Suite *s = suite_create("selfsym");
	TCase *tc = tcase_create("find");
	tcase_add_test(tc, test_static_function_found);
	tcase_add_test(tc, test_unknown_name);
	suite_add_tcase(s, tc);
	return s;
}
