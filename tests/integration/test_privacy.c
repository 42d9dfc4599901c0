/* Integration tests: privacy. */
#include "harness.h"
#include "suites.h"

Suite *privacy_suite(void)
{
	Suite *s = suite_create("privacy");
	return s;
}
