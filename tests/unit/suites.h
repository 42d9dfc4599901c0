/* The suites main.c collects, one per area of the core. */
#ifndef SUITES_H
#define SUITES_H

#include <check.h>

Suite *config_suite(void);
Suite *names_suite(void);
Suite *hash_suite(void);
Suite *deadlines_suite(void);
Suite *requests_suite(void);
Suite *receipts_suite(void);
Suite *delivery_suite(void);
Suite *access_suite(void);
Suite *sessions_suite(void);
Suite *control_suite(void);
Suite *state_suite(void);
Suite *props_suite(void);
Suite *identity_suite(void);
Suite *qos2_suite(void);
Suite *others_suite(void);
Suite *brokerconf_suite(void);
Suite *trust_suite(void);
Suite *network_suite(void);
Suite *selfsym_suite(void);

#endif
