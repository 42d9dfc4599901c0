/* Integration tests: sessions. */
#include "harness.h"
#include "suites.h"

Suite *sessions_suite(void)
{
	Suite *s = suite_create("sessions");
	return s;
}
