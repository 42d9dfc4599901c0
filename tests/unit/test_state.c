/* Unit tests: the state file format and loading. */
#include <check.h>

#include "suites.h"

Suite *state_suite(void)
{
	Suite *s = suite_create("state");
	return s;
}
