/* Integration tests: persistence. */
#include "harness.h"
#include "suites.h"

Suite *persistence_suite(void)
{
	Suite *s = suite_create("persistence");
	return s;
}
