/* Runs every unit suite of the receipts core in one runner. */
#include <stdlib.h>

#include "suites.h"

int main(void)
{
	SRunner *sr = srunner_create(config_suite());
	srunner_add_suite(sr, names_suite());
	srunner_add_suite(sr, hash_suite());
	srunner_add_suite(sr, deadlines_suite());
	srunner_add_suite(sr, requests_suite());
	srunner_add_suite(sr, receipts_suite());
	srunner_add_suite(sr, delivery_suite());
	srunner_add_suite(sr, access_suite());
	srunner_add_suite(sr, sessions_suite());
	srunner_add_suite(sr, control_suite());
	srunner_add_suite(sr, state_suite());
	srunner_add_suite(sr, props_suite());
	srunner_add_suite(sr, identity_suite());
	srunner_add_suite(sr, qos2_suite());
	srunner_add_suite(sr, others_suite());
	srunner_add_suite(sr, brokerconf_suite());
	srunner_add_suite(sr, trust_suite());
	srunner_add_suite(sr, network_suite());
	srunner_add_suite(sr, selfsym_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
