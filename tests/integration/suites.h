/* The integration suites main.c runs, one per area. */
#ifndef SUITES_H
#define SUITES_H

#include <check.h>

Suite *smoke_suite(void);

#endif
