/* Integration tests: cli. */
#include "harness.h"
#include "suites.h"

Suite *cli_suite(void)
{
	Suite *s = suite_create("cli");
	return s;
}
