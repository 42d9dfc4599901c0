/* Integration tests: requests. */
#include "harness.h"
#include "suites.h"

Suite *requests_suite(void)
{
	Suite *s = suite_create("requests");
	return s;
}
