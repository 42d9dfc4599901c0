/* Integration tests: control. */
#include "harness.h"
#include "suites.h"

Suite *control_suite(void)
{
	Suite *s = suite_create("control");
	return s;
}
