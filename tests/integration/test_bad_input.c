/* Integration tests: bad input, one table. */
#include "harness.h"
#include "suites.h"

Suite *bad_input_suite(void)
{
	Suite *s = suite_create("bad_input");
	return s;
}
