/* Runs every integration suite. Each test starts and stops its own broker,
 * so the tests are independent; CK_FORK (the default) runs each in its own
 * process, and a test's brokers die with it (see harness.h). */
#include <stdlib.h>

#include "suites.h"

int main(void)
{
	SRunner *sr = srunner_create(smoke_suite());
	srunner_add_suite(sr, requests_suite());
	srunner_add_suite(sr, privacy_suite());
	srunner_add_suite(sr, sessions_suite());
	srunner_add_suite(sr, control_suite());
	srunner_add_suite(sr, cli_suite());
	srunner_add_suite(sr, persistence_suite());
	srunner_add_suite(sr, bad_input_suite());
	srunner_add_suite(sr, releases_suite());
	srunner_add_suite(sr, identity_suite());
	srunner_add_suite(sr, qos2_suite());
	srunner_add_suite(sr, transparency_suite());
	srunner_add_suite(sr, attacks_suite());
	srunner_add_suite(sr, bridges_suite());
	srunner_run_all(sr, CK_VERBOSE);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
