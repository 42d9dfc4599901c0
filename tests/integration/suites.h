/* The integration suites main.c runs, one per area. */
#ifndef SUITES_H
#define SUITES_H

#include <check.h>

Suite *smoke_suite(void);
Suite *requests_suite(void);
Suite *privacy_suite(void);
Suite *sessions_suite(void);
Suite *control_suite(void);
Suite *cli_suite(void);
Suite *persistence_suite(void);
Suite *bad_input_suite(void);
Suite *releases_suite(void);
Suite *identity_suite(void);
Suite *qos2_suite(void);
Suite *transparency_suite(void);
Suite *attacks_suite(void);
Suite *bridges_suite(void);

#endif
